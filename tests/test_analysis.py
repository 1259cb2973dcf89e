"""Attention rollout, raw-attention summaries and relative source variance (physiofm.analysis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physiofm.analysis import (
    attention_rollout,
    lag_profile,
    layer_attention,
    modality_blocks,
    relative_source_variance,
)


def random_attention(b: int, h: int, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, h, n, n, generator=g).softmax(-1)


def test_identity_attention_rolls_out_to_identity():
    eye = torch.eye(5).expand(2, 3, 5, 5)
    assert torch.allclose(attention_rollout([eye, eye, eye]), torch.eye(5).expand(2, 5, 5))


def test_two_layer_rollout_by_hand():
    w1 = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    w2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # layer 1 has two heads whose mean is w1; A_l = 0.5 W_l + 0.5 I
    spread = torch.tensor([[0.1, -0.1], [0.0, 0.0]])
    heads1 = torch.stack([w1 + spread, w1 - spread])
    a1 = torch.tensor([[0.75, 0.25], [0.0, 1.0]])
    a2 = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    out = attention_rollout([heads1[None], w2[None, None]])
    assert torch.allclose(out[0], a2 @ a1)
    assert torch.allclose(out[0], torch.tensor([[0.75, 0.25], [0.375, 0.625]]))
    # residual weight is a parameter: 0 is the plain product of attentions, 1 the identity
    assert torch.allclose(attention_rollout([w1[None, None], w2[None, None]], residual=0.0)[0], w2 @ w1)
    assert torch.allclose(attention_rollout([w1[None, None]], residual=1.0)[0], torch.eye(2))


def test_rollout_rows_sum_to_one_and_bad_input_is_rejected():
    layers = [random_attention(3, 4, 12, seed) for seed in range(5)]
    out = attention_rollout(layers)
    assert out.shape == (3, 12, 12) and torch.allclose(out.sum(-1), torch.ones(3, 12), atol=1e-5)
    with pytest.raises(ValueError, match="at least one layer"):
        attention_rollout([])
    with pytest.raises(ValueError, match=r"layer 1: attention must be \(B, H, N, N\)"):
        attention_rollout([layers[0], layers[1][:, :, :5]])


def test_modality_blocks_and_lag_profile():
    m, t = 2, 3
    n = m * t
    # every query attends only to the token of the other modality at the same time
    same_time_other = torch.zeros(n, n)
    for i in range(m):
        for s in range(t):
            same_time_other[i * t + s, (1 - i) * t + s] = 1.0
    blocks = modality_blocks(same_time_other, m)
    assert torch.allclose(blocks, torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    lag = lag_profile(same_time_other, m)
    assert lag.shape == (2 * t - 1,) and torch.allclose(lag, torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]))
    assert torch.allclose(lag_profile(same_time_other, m, cross_modal=True), lag)
    # a uniform matrix puts mass (T - |lag|) / T^2 at each lag
    uniform = torch.full((2, n, n), 1.0 / n)
    expected = torch.tensor([1.0, 2.0, 3.0, 2.0, 1.0]) / 9
    assert torch.allclose(lag_profile(uniform, m), expected.expand(2, -1))
    assert torch.allclose(modality_blocks(uniform, m), torch.full((2, 2, 2), 0.5))
    stacked = layer_attention([random_attention(2, 4, n, 0), random_attention(2, 4, n, 1)])
    assert stacked.shape == (2, 2, n, n) and torch.allclose(stacked.sum(-1), torch.ones(2, 2, n))
    with pytest.raises(ValueError, match="multiple of 4"):
        modality_blocks(uniform, 4)


def test_rsv_of_a_function_of_one_modality_is_all_that_modality():
    g = torch.Generator().manual_seed(0)
    pool = torch.randn(50, 4, 10, generator=g)
    w = torch.randn(10, 6, generator=g)

    def f(x):  # two "layers", both read modality 0 only
        h = x[:, 0] @ w
        return [h, torch.tanh(h)]

    res = relative_source_variance(f, pool, n_contexts=8, n_samples=16, generator=g, progress=False,
                                   modalities=("eeg", "eog", "emg", "ecg"))
    assert res.sv.shape == (2, 4, 6) and (res.sv[:, 0] > 0).all() and (res.sv[:, 1:] < 1e-9).all()
    assert np.allclose(res.share[:, 0], 1.0) and np.allclose(res.share[:, 1:], 0.0)
    softmax = np.exp(res.sv) / np.exp(res.sv).sum(axis=1, keepdims=True)
    assert np.allclose(res.rsv, softmax) and np.allclose(res.rsv.sum(axis=1), 1.0)
    table = res.table()
    row = table[(table.layer == 1) & (table.modality == "eeg") & (table.measure == "share")].iloc[0]
    assert row["mean"] == pytest.approx(1.0) and row["units"] == 6
    assert set(table.measure) == {"rsv", "share"} and len(table) == 2 * 2 * 4


def test_rsv_of_a_symmetric_function_is_a_quarter_each():
    g = torch.Generator().manual_seed(1)
    pool = torch.randn(400, 4, 8, generator=g)
    w = torch.randn(8, 32, generator=g)

    def f(x):  # additive in the modalities, the same map for each
        return torch.tanh(x @ w).sum(dim=1)

    res = relative_source_variance(f, pool, n_contexts=32, n_samples=64, generator=g, progress=False)
    share = res.share.mean(axis=2)[0]
    assert np.allclose(share, 0.25, atol=0.03), share
    # identical copies of one signal in every modality give exactly equal source variances
    same = pool[:, :1].expand(-1, 4, -1).contiguous()
    res = relative_source_variance(f, same, n_contexts=4, n_samples=8, generator=g, progress=False)
    assert np.allclose(res.share, 0.25) and np.allclose(res.rsv, 0.25)


def test_rsv_reads_layer_means_of_a_model_and_checks_input():
    from physiofm.models import MultiMAE, MultiMAEConfig

    torch.manual_seed(0)
    model = MultiMAE(MultiMAEConfig(tokens=3, samples_per_token=10, width=16, depth=2, heads=2,
                                    decoder_heads=2, conv_channels=4, conv_kernel=3)).eval()
    pool = torch.randn(20, 4, 30)
    res = relative_source_variance(model, pool, n_contexts=2, n_samples=4, batch_size=8, progress=False)
    assert res.sv.shape == (2, 4, 16) and (res.sv > 0).all()
    with pytest.raises(ValueError, match=r"windows must be \(N >= 2, M, T\*S\)"):
        relative_source_variance(model, pool[0], progress=False)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        relative_source_variance(model, pool, n_samples=1, progress=False)
