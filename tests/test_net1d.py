"""Net1D: ECGFounder and AnyPPG parameter counts, SAME-padding lengths, forward shapes."""

from __future__ import annotations

import pytest
import torch

from physiofm.models import Encoder, Net1D


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_ecgfounder_backbone_has_exactly_30_654_000_parameters() -> None:
    model = Net1D.ecgfounder()  # counted only, never run forward here (too slow for CI)
    assert n_params(model) == 30_654_000
    assert model.out_features == 1024
    assert model.filters == (64, 160, 160, 400, 400, 1024, 1024) and model.blocks == (2, 2, 2, 3, 3, 4, 4)
    # the 512-d projection of SyneCo's encoder comes on top
    assert n_params(Encoder(model, 512)) == 30_654_000 + 1024 * 512 + 512


def test_ecgfounder_keywords_are_the_contract() -> None:
    model = Net1D(
        in_channels=1,
        base_filters=64,
        filters=[64, 160, 160, 400, 400, 1024, 1024],
        blocks=[2, 2, 2, 3, 3, 4, 4],
        kernel_size=16,
        stride=2,
        groups_width=16,
        stem_stride=2,
        use_bn=True,
        dropout=0.5,
    )
    assert n_params(model) == 30_654_000
    no_bn = Net1D.ecgfounder(use_bn=False)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in no_bn.modules())
    assert n_params(no_bn) < 30_654_000


def test_anyppg_matches_table_5() -> None:
    model = Net1D.anyppg()
    stem = n_params(model.first_conv) + n_params(model.first_bn)
    stages = [n_params(s) for s in model.stage_list]
    assert stem == 384
    assert stages == [32_064, 156_768, 172_320, 1_413_720, 1_510_200, 2_565_408]
    assert n_params(model) == 5_850_864


def test_anyppg_lengths_for_1250_samples() -> None:
    torch.set_num_threads(1)
    model = Net1D.anyppg().eval()
    with torch.no_grad():
        outs = model.forward_stages(torch.randn(2, 1, 1250))
        pooled = model(torch.randn(2, 1, 1250))
    assert [o.shape[-1] for o in outs] == [1250, 625, 313, 157, 79, 40, 20]
    assert [o.shape[1] for o in outs] == [64, 64, 160, 160, 400, 400, 1024]
    assert pooled.shape == (2, 1024)


@pytest.mark.parametrize("length", [1, 7, 16, 33, 100, 101])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_padding_gives_ceil_lengths(length: int, stride: int) -> None:
    model = Net1D(
        base_filters=16,
        filters=(16, 32, 32),
        blocks=(1, 2, 1),
        kernel_size=5,
        stride=stride,
        stem_stride=2,
        dropout=0.0,
    ).eval()
    with torch.no_grad():
        outs = model.forward_stages(torch.randn(1, 1, length))
    expected = [-(-length // 2)]
    for _ in range(3):
        expected.append(-(-expected[-1] // stride))
    assert [o.shape[-1] for o in outs] == expected


def test_forward_shapes_and_encoder_normalisation() -> None:
    torch.set_num_threads(1)
    backbone = Net1D(in_channels=2, base_filters=16, filters=(16, 32), blocks=(2, 1), kernel_size=7)
    assert backbone(torch.randn(3, 2, 500)).shape == (3, 32)
    enc = Encoder(backbone, embed_dim=24)
    z = enc(torch.randn(3, 2, 500))
    assert z.shape == (3, 24)
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(3))
    with pytest.raises(ValueError, match=r"\(B, 2, T\)"):
        backbone(torch.randn(3, 1, 500))


def test_block_structure_shortcut_and_grouping() -> None:
    model = Net1D(base_filters=16, filters=(16, 48), blocks=(1, 2), kernel_size=5, groups_width=16)
    first, widen = model.stage_list[0].block_list[0], model.stage_list[1].block_list[0]
    assert first.is_first_block and not widen.is_first_block
    assert widen.conv2.conv.groups == 48 // 16 and widen.conv2.conv.stride == (2,)
    assert widen.conv1.conv.kernel_size == (1,) and widen.conv3.conv.kernel_size == (1,)
    assert widen.se_fc1.out_features == 24  # SE reduction 2
    assert model.stage_list[1].block_list[1].max_pool is None
    # with the residual branch silenced, the block is its shortcut: max-pooled, channel-padded input
    torch.nn.init.zeros_(widen.se_fc2.weight)
    torch.nn.init.constant_(widen.se_fc2.bias, -1e4)
    widen.eval()
    x = torch.randn(2, 16, 9)
    with torch.no_grad():
        y = widen(x)
    pooled = torch.nn.functional.max_pool1d(torch.nn.functional.pad(x, (0, 1)), 2)
    torch.testing.assert_close(y[:, 16:32], pooled)
    assert torch.all(y[:, :16] == 0) and torch.all(y[:, 32:] == 0)
    with pytest.raises(ValueError, match="groups_width"):
        Net1D(filters=(24,), blocks=(1,))
