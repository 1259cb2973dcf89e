"""TokenFusion's written-out window attention against torch's own attention with the mask spelled out."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from physiofm.models import TokenFusion


def _sdpa_layer(layer, x: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
    """The same block with ``F.scaled_dot_product_attention`` and the bias + padding mask expanded to every
    window: (B, N, L, D) -> (B, N, L, D)."""
    b, n, length, d = x.shape
    qkv = layer.qkv(layer.norm1(x)).reshape(b * n, length, 3, layer.heads, d // layer.heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    mask = layer.relative_bias().unsqueeze(0).expand(b * n, -1, -1, -1)
    if pad is not None:
        keys = pad[None].expand(b, n, length).reshape(b * n, 1, 1, length)
        mask = mask.masked_fill(keys, float("-inf"))
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    x = x + layer.proj(a.transpose(1, 2).reshape(b, n, length, d))
    return x + layer.mlp(layer.norm2(x))


@pytest.mark.parametrize("shift", [False, True])
def test_window_layer_equals_torch_attention_with_the_mask(shift: bool) -> None:
    torch.manual_seed(0)
    fusion = TokenFusion(dim=16, channels=3, window=5, depth=1, heads=4)
    layer = fusion.layers[0]
    x = torch.randn(2, 4, 3 * 5, 16, requires_grad=True)
    pad = None
    if shift:  # the first window's first two and the last window's last three time steps are padding
        time_pad = torch.zeros(4, 5, dtype=torch.bool)
        time_pad[0, :2], time_pad[-1, 2:] = True, True
        pad = time_pad[:, None, :].expand(4, 3, 5).reshape(4, 15)
    ours, theirs = layer(x, pad), _sdpa_layer(layer, x, pad)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    g_ours = torch.autograd.grad(ours.square().sum(), [x, layer.bias])
    g_theirs = torch.autograd.grad(theirs.square().sum(), [x, layer.bias])
    for a, b in zip(g_ours, g_theirs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)

