"""The small MAE decoder of hybrid_ecg's GL path (§3.2, Fig. 2): visible-patch embeddings -> every patch.

    latent (B, K, D_enc) of the kept tokens, ids_restore (B, L)
      -> Linear(D_enc -> W)                                            (B, K, W)
      -> append L - K copies of a learned mask token, unshuffle        (B, L, W)
      -> + fixed sin-cos positions, depth x pre-LN block, LayerNorm
      -> Linear(W -> C * P)                                            (B, L, C * P) patches in mV

The paper only says that "the decoder uses these embeddings to reconstruct the original ECG signal". Its
size is [D] our choice: width 256, 2 blocks, 4 heads, MLP ratio 4, a lightweight decoder in the spirit of MAE
(facebookresearch/mae ``forward_decoder``, read for faithfulness; MAE's class token is absent here as in
:class:`~physiofm.models.vit1d.ViT1D`). The output layout matches :meth:`ViT1D.patchify`.
"""

from __future__ import annotations

import torch
from torch import nn

from physiofm.models.vit1d import LN_EPS, init_weights, sincos_positions, transformer_block


class MAEDecoder(nn.Module):
    """``forward(latent (B, K, in_width), ids_restore (B, L)) -> (B, L, patch_dim)``.

    Args:
        in_width: encoder width D_enc.
        n_tokens: L, the most tokens a sequence has (the positional table's length).
        patch_dim: values per reconstructed patch, C * P.
        width, depth, heads, mlp_ratio: decoder transformer sizes ([D] 256, 2, 4, 4).
    """

    def __init__(
        self,
        in_width: int,
        n_tokens: int,
        patch_dim: int,
        *,
        width: int = 256,
        depth: int = 2,
        heads: int = 4,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        self.in_width, self.n_tokens, self.patch_dim, self.width = in_width, n_tokens, patch_dim, width
        self.embed = nn.Linear(in_width, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        self.register_buffer("pos_embed", sincos_positions(n_tokens, width), persistent=False)
        self.blocks = nn.ModuleList(transformer_block(width, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(width, eps=LN_EPS)
        self.pred = nn.Linear(width, patch_dim)
        self.apply(init_weights)
        nn.init.normal_(self.mask_token, std=0.02)  # MAE: timm's trunc_normal_(std=.02) in effect

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        b, k, _ = latent.shape
        n = ids_restore.shape[1]
        if latent.shape[-1] != self.in_width or ids_restore.shape[0] != b or not k <= n <= self.n_tokens:
            raise ValueError(
                f"MAEDecoder expects latent (B, K, {self.in_width}) and ids_restore (B, L) with K <= L <= "
                f"{self.n_tokens}; got {tuple(latent.shape)} and {tuple(ids_restore.shape)}"
            )
        x = self.embed(latent)
        x = torch.cat([x, self.mask_token.expand(b, n - k, -1).to(x.dtype)], dim=1)
        x = torch.gather(x, 1, ids_restore.unsqueeze(-1).expand(-1, -1, self.width))
        x = x + self.pos_embed[:n].to(x.dtype)
        for block in self.blocks:
            x = block(x)
        return self.pred(self.norm(x))
