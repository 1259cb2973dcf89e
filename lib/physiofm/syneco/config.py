"""Settings shared by every SyneCo-study pretraining method (the paper's values as defaults).

Profiles (params/<profile>/...) shrink ``net1d`` for ci/demo; everything else defaults to the paper.
Values the paper does not state are marked "not in the paper" and were chosen as documented below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

CHANNELS: tuple[str, ...] = ("ecg_ii", "ecg_v", "ppg")  # batch keys: (B, 1, 5000), (B, 1, 5000), (B, 1, 1250)
ECG_CHANNELS: tuple[str, ...] = ("ecg_ii", "ecg_v")
ECG_PAIR: tuple[str, str] = ("ecg_ii", "ecg_v")  # BYOL / SimCLR for ECG tasks (Appendix D)
PPG_PAIR: tuple[str, str] = ("ecg_ii", "ppg")  # BYOL / SimCLR for PPG tasks (Appendix D)


@dataclass
class SyneCoConfig:
    # Net1D keyword arguments for every channel encoder; None = Net1D.ecgfounder() (App. C.1).
    net1d: dict[str, Any] | None = None
    embed_dim: int = 512  # §2.1
    # Not in the paper: SimCLR's usual NT-Xent temperature for batch sizes of ~128-256.
    temperature: float = 0.1
    alpha: float = 0.5  # weight of the per-channel term, eq. (2)
    channel_dropout_p: float = 0.4  # §2.2
    channel_pair_p: float = 0.3  # §2.2
    noise_sigma: float = 0.05  # §2.3
    amplitude_scale: float = 0.9  # §2.3
    fusion_heads: int = 4  # §2.1
    fusion_ff_mult: int = 4  # §2.1
    fusion_dropout: float = 0.1  # not in the paper: nn.TransformerEncoderLayer's default
    sleepfm_init_log_scale: float = (
        0.0  # SleepFM code: temperature = Parameter(0.), logits * exp(temperature)
    )
    byol_hidden: int = 4096  # BYOL paper's projector / predictor MLP
    byol_dim: int = 256
    byol_tau: float = 0.996
    # Channel pair of the two-view baselines "simclr" and "byol" (simclr_ppg / byol_ppg use PPG_PAIR).
    pair: tuple[str, str] = field(default_factory=lambda: ECG_PAIR)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> SyneCoConfig:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown SyneCo method setting(s) {unknown}; known: {sorted(known)}")
        if "pair" in values:
            values["pair"] = tuple(values["pair"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
