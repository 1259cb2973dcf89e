"""Loading a checkpoint or released weights never runs code from the file (issue 18)."""

from __future__ import annotations

import dataclasses
import os
import random
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from physiofm.models import Net1D, read_state_dict
from physiofm.sampler import CycleSampler
from physiofm.training import TrainConfig, Trainer, load_checkpoint, load_model_weights, save_checkpoint
from physiofm.training.checkpoint import rng_state, set_rng_state


class _Payload:
    """Unpickling this object runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def _hostile_file(path: Path, marker: Path) -> Path:
    torch.save({"model": nn.Linear(2, 1).state_dict(), "step": 3, "extra": _Payload(marker)}, path)
    return path


def test_hostile_checkpoint_is_refused_and_its_command_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = _hostile_file(tmp_path / "last.pt", marker)
    with pytest.raises(RuntimeError, match="refused") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "posix.system" in str(err.value)
    with pytest.raises(RuntimeError, match="refused"):
        load_model_weights(path, nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="refused") as err:
        read_state_dict(path)
    assert str(path) in str(err.value)
    assert not marker.exists()
    # the payload is real: the unsafe loader the project no longer uses would have run it
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_save_refuses_what_a_weights_only_load_would_refuse(tmp_path):
    @dataclasses.dataclass
    class Cfg:
        lr: float = 1e-3

    for bad, entry in [
        ({"rng": {"numpy": np.zeros(3, np.uint32)}}, "state['rng']['numpy']"),
        ({"best_val": np.float64(0.5)}, "state['best_val']"),  # a float subclass that pickles as numpy
        ({"config": Cfg()}, "state['config']"),
        ({"rows": [{"step": 1}, {"loss": np.int64(2)}]}, "state['rows'][1]['loss']"),
    ]:
        with pytest.raises(TypeError) as err:
            save_checkpoint(tmp_path / "c.pt", bad)
        assert str(tmp_path / "c.pt") in str(err.value) and entry in str(err.value), str(err.value)
    assert not (tmp_path / "c.pt").exists()


def test_a_checkpoint_of_the_old_format_is_refused_by_name(tmp_path):
    old = tmp_path / "old.pt"
    torch.save({"rng": {"numpy": np.random.get_state()}, "step": 1}, old)  # what last.pt held before
    with pytest.raises(RuntimeError, match="numpy") as err:
        load_checkpoint(old)
    assert str(old) in str(err.value)


def test_rng_states_survive_a_weights_only_round_trip(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    random.gauss(0, 1)
    np.random.randn(1)  # odd count of normals: both Python and NumPy now hold a cached Gaussian
    saved = rng_state()
    assert saved["numpy"][3] == 1
    expected = (random.gauss(0, 1), random.random(), np.random.randn(3), torch.randn(3))
    path = save_checkpoint(tmp_path / "rng.pt", {"rng": saved})
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    set_rng_state(load_checkpoint(path)["rng"])
    got = (random.gauss(0, 1), random.random(), np.random.randn(3), torch.randn(3))
    assert got[:2] == expected[:2]
    np.testing.assert_array_equal(got[2], expected[2])
    assert torch.equal(got[3], expected[3])


class _Data(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 24

    def __getitem__(self, i):
        return {"x": torch.full((3,), float(i)) + torch.randn(3)}


def test_trainer_checkpoints_hold_only_tensors_and_plain_values(tmp_path):
    sampler = CycleSampler(["a"] * 12 + ["b"] * 12, fraction=0.5, seed=1)
    train = torch.utils.data.DataLoader(_Data(), batch_size=4, sampler=sampler)

    def objective(model, batch):
        return (model(batch["x"]) ** 2).mean() * (1 + 0.01 * float(np.random.rand())), {"w": 1.0}

    cfg = TrainConfig(lr=1e-2, max_steps=5, val_every=2, ckpt_every=2, log_every=1, progress=False)
    res = Trainer(nn.Linear(3, 1), objective, train, cfg, tmp_path, val_data=[{"x": torch.ones(2, 3)}]).fit()
    for path in (res.last_checkpoint, res.best_checkpoint):
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [], path
        torch.load(path, weights_only=True)
    last = load_checkpoint(res.last_checkpoint)
    numpy_state = last["per_rank"][0]["rng"]["numpy"]
    assert numpy_state[0] == "MT19937" and len(numpy_state[1]) == 624
    # 12 positions per cycle, 3 batches: step 5 is in epoch 1, which began after 12 positions
    assert last["epoch"] == 1
    assert last["per_rank"][0]["epoch_start"]["samplers"][1] == {
        "position": 12, "seed": 1, "fraction": 0.5, "cycle_len": 12
    }
    assert last["config"] == dataclasses.asdict(cfg)


def test_released_weights_read_from_safetensors_or_weights_only_pickles(tmp_path):
    net = Net1D(in_channels=1, base_filters=8, filters=(8, 16), blocks=(1, 1), kernel_size=3, groups_width=4)
    sd = {k: v.clone() for k, v in net.state_dict().items()}
    save_file(sd, tmp_path / "w.safetensors")
    torch.save({"state_dict": sd, "epoch": 7, "lr": 1e-3}, tmp_path / "checkpoint.pth")  # ECGFounder-style
    torch.save(sd, tmp_path / "flat.pt")
    for name in ("w.safetensors", "checkpoint.pth", "flat.pt"):
        got = read_state_dict(tmp_path / name)
        assert got.keys() == sd.keys() and all(torch.equal(got[k], sd[k]) for k in sd), name
        fresh = Net1D(in_channels=1, base_filters=8, filters=(8, 16), blocks=(1, 1), kernel_size=3,
                      groups_width=4)
        fresh.load_state_dict(got)
    torch.save({"state_dict": sd, "epoch": 7}, tmp_path / "other_key.pth")
    with pytest.raises(RuntimeError, match="name -> tensor mapping") as err:
        read_state_dict(tmp_path / "other_key.pth", key="model")
    assert str(tmp_path / "other_key.pth") in str(err.value)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        read_state_dict(tmp_path / "missing.pth")
