"""SyneCo fusion block and §2.2 channel dropout (empirical rates against an exact enumeration)."""

from __future__ import annotations

import itertools

import pytest
import torch

from physiofm.models import ChannelDropout, FusionTransformer, channel_keep_mask


def exact_keep_pattern_probs(
    m: int = 3, p: float = 0.4, pair_p: float = 0.3
) -> dict[tuple[bool, ...], float]:
    """§2.2 enumerated: independent drops (p), a random pair dropped with pair_p, then, if nothing is left,
    one channel (uniform) is kept."""
    probs: dict[tuple[bool, ...], float] = {}

    def add(keep: tuple[bool, ...], w: float) -> None:
        probs[keep] = probs.get(keep, 0.0) + w

    pairs = list(itertools.combinations(range(m), 2))
    for drops in itertools.product([False, True], repeat=m):
        w_drop = 1.0
        for d in drops:
            w_drop *= p if d else 1 - p
        for pair, w_pair in [(None, 1 - pair_p)] + [(pr, pair_p / len(pairs)) for pr in pairs]:
            dropped = {i for i in range(m) if drops[i]} | set(pair or ())
            if len(dropped) == m:
                for rescued in range(m):
                    add(tuple(i == rescued for i in range(m)), w_drop * w_pair / m)
            else:
                add(tuple(i not in dropped for i in range(m)), w_drop * w_pair)
    return probs


def test_enumeration_matches_the_closed_form() -> None:
    probs = exact_keep_pattern_probs()
    assert sum(probs.values()) == pytest.approx(1.0)
    assert (False, False, False) not in probs
    drop_before = 1 - 0.6 * (1 - 0.3 * 2 / 3)  # 0.52
    all_dropped = 0.7 * 0.4**3 + 0.3 * 0.4  # 0.1648
    marginal_drop = sum(w for keep, w in probs.items() if not keep[0])
    assert marginal_drop == pytest.approx(drop_before - all_dropped / 3)


def test_empirical_rates_match_section_2_2() -> None:
    n = 200_000
    g = torch.Generator().manual_seed(0)
    keep = channel_keep_mask(n, 3, 0.4, 0.3, generator=g)
    assert keep.shape == (n, 3) and keep.dtype == torch.bool
    assert keep.any(dim=1).all(), "at least one channel must stay active"
    exact = exact_keep_pattern_probs()
    for pattern in itertools.product([False, True], repeat=3):
        freq = (keep == torch.tensor(pattern)).all(dim=1).float().mean().item()
        assert freq == pytest.approx(exact.get(pattern, 0.0), abs=0.005), pattern
    drop_rate = (~keep).float().mean(dim=0)
    torch.testing.assert_close(drop_rate, torch.full((3,), 0.52 - 0.1648 / 3), atol=0.005, rtol=0)
    # the two-channel event shows: one channel kept far more often than independent drops alone give
    one_kept = (keep.sum(dim=1) == 1).float().mean().item()
    assert one_kept == pytest.approx(sum(w for k, w in exact.items() if sum(k) == 1), abs=0.005)
    assert one_kept > 3 * 0.6 * 0.4**2 + 0.4**3 + 0.05


def test_two_channels_and_extremes() -> None:
    g = torch.Generator().manual_seed(1)
    keep = channel_keep_mask(50_000, 2, 0.4, 0.3, generator=g)
    assert keep.any(dim=1).all()
    exact = exact_keep_pattern_probs(m=2)
    both = keep.all(dim=1).float().mean().item()
    assert both == pytest.approx(exact[(True, True)], abs=0.01)
    assert channel_keep_mask(100, 3, 0.0, 0.0).all()
    assert (channel_keep_mask(1000, 3, 1.0, 1.0).sum(dim=1) == 1).all()
    with pytest.raises(ValueError):
        channel_keep_mask(4, 3, 1.5, 0.3)


def test_channel_dropout_module_zeroes_in_training_only() -> None:
    torch.manual_seed(0)
    drop = ChannelDropout(0.4, 0.3)
    x = torch.randn(4000, 3, 8)
    y = drop.train()(x)
    zeroed = (y == 0).all(dim=-1)
    kept = (y == x).all(dim=-1)
    assert (zeroed | kept).all(), "a channel is either zeroed or passed unchanged (no rescaling)"
    assert (~zeroed).any(dim=1).all()
    assert zeroed.float().mean().item() == pytest.approx(0.4651, abs=0.03)
    assert torch.equal(drop.eval()(x), x)


def test_fusion_shapes_layernorm_and_token_order_invariance() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    fusion = FusionTransformer(dim=32, heads=4, ff_mult=4).eval()
    assert fusion.layer.self_attn.num_heads == 4 and fusion.layer.linear1.out_features == 128
    tokens = torch.randn(5, 3, 32)
    with torch.no_grad():
        z = fusion(tokens)
        z_perm = fusion(tokens[:, [2, 0, 1]])
    assert z.shape == (5, 32)
    torch.testing.assert_close(z.mean(dim=-1), torch.zeros(5), atol=1e-5, rtol=0)  # fresh LayerNorm
    torch.testing.assert_close(z, z_perm, atol=1e-5, rtol=0)  # no positional code: mean over tokens
    paper = FusionTransformer()
    assert paper.layer.self_attn.embed_dim == 512 and paper.layer.linear1.out_features == 2048
    with pytest.raises(ValueError):
        fusion(torch.randn(5, 32))
