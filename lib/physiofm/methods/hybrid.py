"""``hybrid``: hybrid_ecg's contrastive (CL) and hybrid (HL) objectives on one shared ViT1D (§3.2, Eqs. 1-3).

    L = w_recon L_recon + w_patient L_cont_patient + w_sample L_cont_sample            (Eq. 3, HL: 1 : 1 : 1)

* L_recon: the GL term of :mod:`physiofm.methods.mae` on a masked pass over the raw input x.
* L_cont_sample: SimCLR NT-Xent (Eq. 2, :func:`physiofm.objectives.info_nce`) between two augmented views
  v1, v2 of x (:func:`physiofm.augment.ecg_view`), through a projector D -> D -> 128, tau = 0.1 [D].
* L_cont_patient (PCLR-style, Diamant et al. 2022): the positive of v1 is an augmented view of another
  record of the same patient, ``<key>_pair``; records of the same patient other than the positive are kept
  out of the negatives (:func:`physiofm.objectives.masked_info_nce`, groups = ``subject``) [D]. It has its own
  projector D -> D -> 128 [D]. For a patient with one record the batch builder puts that record in
  ``<key>_pair``, so the pair is a second augmented view of it.

CL of the paper = ``hybrid`` with ``w_recon = 0`` (no decoder is built, §5.3 / spec: "CL trains on
L_cont_patient + L_cont_sample"); HL = weights 1 : 1 : 1; ``w_patient = w_sample = 0`` is GL. The masked pass
and the contrastive pass are separate forward passes through the shared encoder; the views v1, v2 and the
pair view go through it as one batch of 3B (ViT1D has no batch-coupled layer, so this equals three passes).

Batch keys read (documented contract for the batch builder):
    ``<key>``       (B, C, T) float, mV: the records (default key ``"ecg"``, 12 x 2,500 at 250 Hz);
    ``<key>_pair``  (B, C, T) float, mV: another record of the same patient (the record itself if it is the
                    patient's only one); read when ``w_patient > 0``;
    ``subject``     (B,) int64 patient ids; read when ``w_patient > 0``.
``embeddings`` gives ``{"embedding": ViT1D(x)}`` (B, D) of the unaugmented, unmasked ``<key>``.

With ``encoder`` given, ``hybrid`` is the SimMIM configuration of :mod:`physiofm.methods.masked` with the
sample-level term (one encoder per channel; ``w_patient`` must be 0 there).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from physiofm.augment import (
    ECG_LEAD_DROP,
    ECG_NOISE_MV,
    ECG_SCALE,
    ECG_TIME_MASK,
    ECG_WANDER_HZ,
    ECG_WANDER_MV,
    ecg_view,
)
from physiofm.methods.base import Batch, Method, register
from physiofm.methods.mae import MAE, MAEConfig, signal
from physiofm.methods.masked import MaskedChannels
from physiofm.models import Projector
from physiofm.objectives.infonce import info_nce, masked_info_nce


@dataclass
class HybridConfig(MAEConfig):
    # the encoder default is HL's selection (§4.1: 60 / 2 / 512); CL selects 250 / 2 / 1024
    w_recon: float = 1.0  # Eq. 3 / §5.3: 1 : 1 : 1; 0 gives CL
    w_patient: float = 1.0
    w_sample: float = 1.0
    temperature: float = 0.1  # [D] SimCLR's tau
    proj_dim: int = 128  # [D] projector D -> D -> 128
    fs: float = 250.0  # §3.1: sampling rate of the input, for the baseline wander
    subject_key: str = "subject"  # (B,) int64 patient ids
    aug_scale: tuple[float, float] = ECG_SCALE  # [D] augmentations, see physiofm.augment
    aug_noise_mv: float = ECG_NOISE_MV
    aug_wander_mv: float = ECG_WANDER_MV
    aug_wander_hz: tuple[float, float] = ECG_WANDER_HZ
    aug_time_mask: float = ECG_TIME_MASK
    aug_lead_drop: float = ECG_LEAD_DROP

    def __post_init__(self) -> None:
        super().__post_init__()
        self.aug_scale, self.aug_wander_hz = tuple(self.aug_scale), tuple(self.aug_wander_hz)
        weights = {"w_recon": self.w_recon, "w_patient": self.w_patient, "w_sample": self.w_sample}
        if min(weights.values()) < 0 or max(weights.values()) == 0:
            raise ValueError(f"HybridConfig weights must be >= 0 with at least one > 0, got {weights}")
        if self.temperature <= 0:
            raise ValueError(f"HybridConfig.temperature must be > 0, got {self.temperature}")

    @property
    def pair_key(self) -> str:
        return f"{self.key}_pair"


class Hybrid(MAE):
    """Shared ViT1D with an MAE decoder (when ``w_recon > 0``) and sample / patient projectors."""

    def __init__(self, cfg: HybridConfig) -> None:
        super().__init__(cfg, with_decoder=cfg.w_recon > 0)
        self.cfg: HybridConfig = cfg
        self.inputs = (cfg.key, cfg.pair_key, cfg.subject_key) if cfg.w_patient > 0 else (cfg.key,)
        d = self.encoder.width
        self.proj_sample = Projector(d, d, cfg.proj_dim) if cfg.w_sample > 0 else None
        self.proj_patient = Projector(d, d, cfg.proj_dim) if cfg.w_patient > 0 else None
        self._contrastive = cfg.w_patient > 0 or cfg.w_sample > 0

    def view(self, x: torch.Tensor) -> torch.Tensor:
        """One augmented view of (B, C, T) mV ``x`` with this config's settings."""
        c = self.cfg
        return ecg_view(
            x,
            c.fs,
            scale=c.aug_scale,
            noise_mv=c.aug_noise_mv,
            wander_mv=c.aug_wander_mv,
            wander_hz=c.aug_wander_hz,
            max_mask=c.aug_time_mask,
            lead_drop=c.aug_lead_drop,
        )

    def _subjects(self, batch: Batch, n: int) -> torch.Tensor:
        key = self.cfg.subject_key
        if key not in batch:
            raise KeyError(f"batch has no {key!r} patient ids for the patient-level loss ({sorted(batch)})")
        subjects = torch.as_tensor(batch[key])
        if subjects.shape != (n,) or subjects.is_floating_point():
            raise ValueError(f"batch[{key!r}] must be ({n},) integer patient ids, got {subjects.shape}")
        return subjects

    def loss(self, batch: Batch) -> torch.Tensor:
        c = self.cfg
        x = signal(batch, c.key, self.in_channels)
        n = x.shape[0]
        terms: dict[str, torch.Tensor] = {}
        if c.w_recon > 0:
            terms["recon"] = self.reconstruction_loss(x)
        if self._contrastive:
            views = [self.view(x)]
            if c.w_sample > 0:
                views.append(self.view(x))
            if c.w_patient > 0:
                pair = signal(batch, c.pair_key, self.in_channels)
                if pair.shape != x.shape:
                    raise ValueError(f"batch[{c.pair_key!r}] {tuple(pair.shape)} must match {tuple(x.shape)}")
                views.append(self.view(pair))
            h = self.encoder(torch.cat(views)).split(n)
            if c.w_sample > 0:
                terms["sample"] = info_nce(self.proj_sample(h[0]), self.proj_sample(h[1]), c.temperature)
            if c.w_patient > 0:
                subjects = self._subjects(batch, n)
                terms["patient"] = masked_info_nce(
                    self.proj_patient(h[0]), self.proj_patient(h[-1]), subjects, c.temperature
                )
        weights = {"recon": c.w_recon, "patient": c.w_patient, "sample": c.w_sample}
        loss = sum(weights[k] * v for k, v in terms.items())
        self.logs = {k: float(v.detach()) for k, v in terms.items()}
        return loss


@register("hybrid", HybridConfig)
def build_hybrid(cfg: HybridConfig) -> Method:
    if cfg.simmim:
        return MaskedChannels(cfg)
    return Hybrid(cfg)
