"""Token masking: random_masking (MAE) and multimodal_mask (MultiMAE, with input modality drop)."""

from __future__ import annotations

import pytest
import torch

from physiofm.models import modality_mask, multimodal_mask, overall_mask_ratio, random_masking, visible_count


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_random_masking_keeps_k_tokens_and_restores_order():
    tokens = torch.arange(2 * 10, dtype=torch.float32).reshape(2, 10, 1).expand(-1, -1, 3)
    kept, mask, ids_restore = random_masking(tokens, 0.7, generator=gen())
    assert kept.shape == (2, 3, 3) and mask.shape == (2, 10) and mask.sum(1).tolist() == [7.0, 7.0]
    # [kept; zeros] gathered with ids_restore puts the kept tokens back where the mask says 0
    full = torch.cat([kept, torch.zeros(2, 7, 3)], 1)
    restored = torch.gather(full, 1, ids_restore[..., None].expand(-1, -1, 3))
    assert torch.equal(restored[mask == 0], tokens[mask == 0])


def test_visible_count_matches_the_paper_and_guards_float_error():
    assert visible_count(120, 0.7) == 36 and visible_count(90, 0.6) == 36 and visible_count(30, 0.7) == 9
    assert visible_count(120, 0.9) == 12  # 120 * (1 - 0.9) = 11.999...
    assert [visible_count(120, r / 10) for r in range(10)] == [120, 108, 96, 84, 72, 60, 48, 36, 24, 12]
    with pytest.raises(ValueError, match="mask_ratio"):
        visible_count(120, 1.0)


def test_multimodal_mask_hides_70_percent_uniformly_per_sample():
    hidden = multimodal_mask(256, generator=gen())
    assert hidden.dtype == torch.bool and hidden.shape == (256, 120)
    assert ((~hidden).sum(1) == 36).all()
    # per-sample draws: rows differ; every token hidden about 70 % of the time
    assert len({tuple(r.tolist()) for r in hidden}) == 256
    rate = hidden.float().mean(0)
    assert rate.min() > 0.55 and rate.max() < 0.85
    # no modality is singled out without drop
    per_modality = hidden.reshape(256, 4, 30).float().mean((0, 2))
    assert torch.allclose(per_modality, torch.full((4,), 0.7), atol=0.02)


def test_modality_drop_hides_one_modality_for_the_whole_batch():
    hidden = multimodal_mask(64, modality_drop=True, generator=gen(3)).reshape(64, 4, 30)
    full = hidden.all(dim=2)  # (B, M): modality entirely hidden
    dropped = full[0].nonzero().flatten().tolist()
    assert len(dropped) == 1 and full.all(0)[dropped[0]] and full.sum(1).eq(1).all()  # same one in every row
    assert ((~hidden).sum((1, 2)) == 36).all()  # 0.6 of the remaining 90 hidden
    rest = [m for m in range(4) if m != dropped[0]]
    assert hidden[:, rest].float().mean().item() == pytest.approx(0.6, abs=1e-6)


def test_modality_drop_choice_is_uniform_over_modalities():
    g = gen(11)
    counts = torch.zeros(4)
    n = 800
    for _ in range(n):
        hidden = multimodal_mask(2, modality_drop=True, generator=g).reshape(2, 4, 30)
        counts[hidden[0].all(dim=1).nonzero().item()] += 1
    chi2 = (((counts - n / 4) ** 2) / (n / 4)).sum().item()
    assert chi2 < 16.27, counts.tolist()  # chi-square, 3 dof, p = 0.001


def test_mask_is_deterministic_with_a_generator_and_works_for_other_shapes():
    a = multimodal_mask(8, 3, 10, 0.5, True, generator=gen(5))
    b = multimodal_mask(8, 3, 10, 0.5, True, generator=gen(5))
    assert torch.equal(a, b) and a.shape == (8, 30)
    assert not torch.equal(a, multimodal_mask(8, 3, 10, 0.5, True, generator=gen(6)))
    assert ((~a).sum(1) == visible_count(30, 0.5)).all()
    unimodal = multimodal_mask(4, 1, 30, 0.7, generator=gen())
    assert ((~unimodal).sum(1) == 9).all()
    for ratio in (0.0, 0.1, 0.5, 0.9):  # the Fig-3 mask-probability sweep
        hidden = multimodal_mask(4, mask_ratio=ratio, generator=gen())
        assert ((~hidden).sum(1) == visible_count(120, ratio)).all()
    for p in (0.0, 0.3, 0.6, 0.9):  # Fig 3B's x-axis is the probability p for the modalities left
        ratio = overall_mask_ratio(p, 4)
        drop = multimodal_mask(4, mask_ratio=ratio, modality_drop=True, generator=gen()).reshape(4, 4, 30)
        assert ((~drop).sum((1, 2)) == visible_count(120, ratio)).all()
        assert (~drop).sum((1, 2))[0] == pytest.approx(90 * (1 - p), abs=1)


def test_modality_mask_drops_the_chosen_modality_and_rejects_bad_input():
    assert overall_mask_ratio(0.6, 4) == pytest.approx(0.7)
    hidden = modality_mask(5, 4, 30, 0.7, dropped=2, generator=gen()).reshape(5, 4, 30)
    assert hidden[:, 2].all() and not hidden[:, [0, 1, 3]].all()
    with pytest.raises(ValueError, match="at least two modalities"):
        multimodal_mask(4, 1, 30, 0.7, modality_drop=True)
    with pytest.raises(ValueError, match="not in 0..3"):
        modality_mask(2, 4, 30, 0.6, dropped=4)
    with pytest.raises(ValueError, match="at least 1/4"):
        multimodal_mask(2, mask_ratio=0.2, modality_drop=True)
    with pytest.raises(ValueError, match="no visible token"):
        multimodal_mask(2, 1, 2, 0.6)
