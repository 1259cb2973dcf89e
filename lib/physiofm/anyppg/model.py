"""AnyPPG: two Net1D encoders (PPG, ECG) aligned by a CLIP loss in a shared 256-d space (Nie et al., Methods).

    x_p (B, 1, 1250) --Net1D f_p--> z_p (B, 1024) --Projector g_p--> h_p (B, 256) --L2--> ĥ_p
    x_e (B, 1, 1250) --Net1D f_e--> z_e (B, 1024) --Projector g_e--> h_e (B, 256) --L2--> ĥ_e
    loss = clip_loss(ĥ_p, ĥ_e, exp(log_scale)),   log_scale learnable, init log(1/0.07), exp capped at 100

Inputs are 10-s segments at 125 Hz, z-scored per segment. Both encoders are randomly initialised and trained
jointly. The learnable temperature lives inside the model so the optimiser sees it; the objective's
``after_step`` clamps it in place after each optimiser step, as open_clip's training loop does.

Downstream use (Results/Methods): retrieval queries with the PPG embedding ĥ_p against a gallery of ECG
embeddings ĥ_e (256-d shared space); linear probing uses "the embedding produced by the frozen encoder",
i.e. the 1024-d PPG encoder output z_p before the projector.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from physiofm.models import Net1D
from physiofm.models.projector import Projector
from physiofm.objectives.clip import INIT_TEMPERATURE, MAX_LOGIT_SCALE, LogitScale, clip_loss

SAMPLING_RATE_HZ = 125.0
SEGMENT_SECONDS = 10.0
SEGMENT_SAMPLES = 1250

Batch = dict[str, torch.Tensor]
Segments = np.ndarray | torch.Tensor | Iterable[dict[str, Any]]


def build_encoder(encoder_config: dict[str, Any] | None = None) -> Net1D:
    """The AnyPPG encoder, ``Net1D.anyppg()``, with ``encoder_config`` overriding its keywords (tiny nets)."""
    return Net1D.anyppg(**(encoder_config or {}))


class AnyPPG(nn.Module):
    """PPG and ECG encoders, their projectors and the learnable CLIP logit scale.

    Args:
        encoder_config: overrides of the paper's encoder, ``Net1D.anyppg(**encoder_config)`` (both encoders
            share them); ``None`` is the paper's encoder itself (5,850,864 parameters, 1024-d output).
        proj_hidden: projector hidden width (paper: 512).
        embed_dim: shared embedding width (paper: 256).
        init_temperature: initial tau (paper: 0.07).
        max_logit_scale: cap on exp(log_scale) = 1/tau (open_clip: 100).
    """

    def __init__(
        self,
        encoder_config: dict[str, Any] | None = None,
        proj_hidden: int = 512,
        embed_dim: int = 256,
        init_temperature: float = INIT_TEMPERATURE,
        max_logit_scale: float = MAX_LOGIT_SCALE,
    ) -> None:
        super().__init__()
        self.encoder_config = None if encoder_config is None else dict(encoder_config)
        self.ppg_encoder = build_encoder(encoder_config)
        self.ecg_encoder = build_encoder(encoder_config)
        self.feature_dim = self.ppg_encoder.out_features
        self.embed_dim = embed_dim
        self.ppg_projector = Projector(self.feature_dim, proj_hidden, embed_dim)
        self.ecg_projector = Projector(self.feature_dim, proj_hidden, embed_dim)
        self.logit_scale = LogitScale(init_temperature, max_logit_scale)

    # --- encoder features (B, feature_dim): what linear probing uses -------------------------------------
    def encode_ppg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) z-scored PPG at 125 Hz -> (B, feature_dim) frozen-encoder features z_p."""
        return self.ppg_encoder(_check_input(x, "ppg"))

    def encode_ecg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) z-scored ECG at 125 Hz -> (B, feature_dim) encoder features z_e."""
        return self.ecg_encoder(_check_input(x, "ecg"))

    # --- shared-space embeddings (B, embed_dim), unit L2 norm: what retrieval uses ---------------------
    def embed_ppg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) PPG -> (B, embed_dim) L2-normalised shared-space embedding ĥ_p (retrieval query)."""
        return F.normalize(self.ppg_projector(self.encode_ppg(x)), dim=-1)

    def embed_ecg(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) ECG -> (B, embed_dim) L2-normalised shared-space embedding ĥ_e (retrieval gallery)."""
        return F.normalize(self.ecg_projector(self.encode_ecg(x)), dim=-1)

    def forward(self, ppg: torch.Tensor, ecg: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 1, T) PPG and ECG -> (ĥ_p (B, D), ĥ_e (B, D), logit scale 1/tau (scalar))."""
        return self.embed_ppg(ppg), self.embed_ecg(ecg), self.logit_scale()


def _check_input(x: torch.Tensor, name: str) -> torch.Tensor:
    if x.ndim != 3 or x.shape[1] != 1:
        raise ValueError(f"AnyPPG expects {name} of shape (B, 1, T), got {tuple(x.shape)}")
    return x


class ClipObjective:
    """The AnyPPG pretraining objective for the Trainer: ``(model, batch) -> (loss, logs)``.

    ``batch`` is a dict with ``ppg_key`` and ``ecg_key`` tensors of shape (B, 1, 1250) (10 s at 125 Hz),
    row i of both from the same time window. Logs hold the loss, the current scale 1/tau and tau, and the
    in-batch PPG->ECG top-1 accuracy (a cheap running view of retrieval R@1 at batch size B).
    """

    def __init__(self, ppg_key: str = "ppg", ecg_key: str = "ecg") -> None:
        self.ppg_key, self.ecg_key = ppg_key, ecg_key

    def __call__(self, model: AnyPPG, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        for key in (self.ppg_key, self.ecg_key):
            if key not in batch:
                raise KeyError(f"AnyPPG batch has no {key!r} entry (keys: {sorted(batch)})")
        h_p, h_e, scale = model(batch[self.ppg_key], batch[self.ecg_key])
        loss = clip_loss(h_p, h_e, scale)
        with torch.no_grad():
            top1 = (h_p @ h_e.T).argmax(dim=1).eq(torch.arange(len(h_p), device=h_p.device)).float().mean()
        logs = {
            "clip_loss": float(loss.detach()),
            "logit_scale": float(scale.detach()),
            "temperature": float(1.0 / scale.detach()),
            "batch_top1": float(top1),
        }
        return loss, logs

    def after_step(self, model: AnyPPG, step: int, max_steps: int) -> None:
        """open_clip's in-place clamp of the log-scale to [0, log 100] after each optimiser step."""
        getattr(model, "module", model).logit_scale.clamp_()  # unwrap DistributedDataParallel


def param_groups(model: nn.Module, lr: float, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups in open_clip's way: weight decay on matrices and kernels only; biases, BatchNorm and
    the logit scale (all < 2-D) are not decayed. The paper gives only "weight decay 1e-2", so the Trainer's
    default (decay on every parameter) is the literal reading and this the common CLIP practice."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [
        {"params": decay, "lr": lr, "weight_decay": weight_decay},
        {"params": no_decay, "lr": lr, "weight_decay": 0.0},
    ]


# --- batched embedding for evaluation ------------------------------------------------------------------


def _chunks(x: Segments, key: str, batch_size: int) -> Iterator[torch.Tensor]:
    """Yield (b, 1, T) float tensors from an array/tensor (N, T) or (N, 1, T), or from batch dicts."""
    if isinstance(x, np.ndarray | torch.Tensor):
        t = torch.as_tensor(x, dtype=torch.float32)
        if t.ndim == 2:
            t = t[:, None, :]
        if t.ndim != 3 or t.shape[1] != 1:
            raise ValueError(f"{key}: expected (N, T) or (N, 1, T) segments, got {tuple(t.shape)}")
        for i in range(0, len(t), batch_size):
            yield t[i : i + batch_size]
    else:
        for batch in x:
            if key not in batch:
                raise KeyError(f"batch has no {key!r} entry (keys: {sorted(batch)})")
            yield torch.as_tensor(batch[key], dtype=torch.float32)


@torch.no_grad()
def _embed(fn, x, key: str, batch_size: int, device: str | torch.device | None, progress: bool) -> np.ndarray:
    chunks = tqdm(_chunks(x, key, batch_size), desc=key, disable=not progress)
    out = [fn(b.to(device)).float().cpu().numpy() for b in chunks]
    if not out:
        raise ValueError(f"{key}: no segments to embed")
    return np.concatenate(out)


def retrieval_embeddings(
    model: AnyPPG,
    ppg: Segments,
    ecg: Segments | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """PPG queries and ECG gallery in the shared space, row i of both from the same window.

    ``ppg``/``ecg``: (N, T) or (N, 1, T) arrays of 125-Hz segments, or one iterable of batch dicts with
    "ppg" and "ecg" entries (then leave ``ecg`` as None). Returns (N, embed_dim) float32 arrays, unit norm.
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval().to(device)
    try:
        if ecg is None:
            if isinstance(ppg, np.ndarray | torch.Tensor):
                raise ValueError("retrieval_embeddings: pass ecg segments, or batches with 'ppg' and 'ecg'")
            q, g = [], []
            with torch.no_grad():
                for batch in tqdm(ppg, desc="retrieval embeddings", disable=not progress):
                    ppg_b, ecg_b = (torch.as_tensor(batch[k], dtype=torch.float32).to(device)
                                    for k in ("ppg", "ecg"))
                    q.append(model.embed_ppg(ppg_b).cpu())
                    g.append(model.embed_ecg(ecg_b).cpu())
            query, gallery = torch.cat(q).numpy(), torch.cat(g).numpy()
        else:
            query = _embed(model.embed_ppg, ppg, "ppg", batch_size, device, progress)
            gallery = _embed(model.embed_ecg, ecg, "ecg", batch_size, device, progress)
    finally:
        model.train(was_training)
    if query.shape != gallery.shape:
        raise ValueError(f"retrieval_embeddings: {len(query)} PPG queries, {len(gallery)} ECG gallery items")
    return query, gallery


def probe_features(
    model: nn.Module,
    ppg: Segments,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """(N, feature_dim) float32 frozen PPG-encoder features z_p (1024-d for the paper encoder), for probes.

    ``model``: anything with ``encode_ppg`` -- :class:`AnyPPG` or the SimCLR / BYOL baselines.

    ``ppg``: (N, T) or (N, 1, T) array of z-scored 125-Hz segments, or an iterable of batch dicts with "ppg".
    """
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval().to(device)
    try:
        return _embed(model.encode_ppg, ppg, "ppg", batch_size, device, progress)
    finally:
        model.train(was_training)
