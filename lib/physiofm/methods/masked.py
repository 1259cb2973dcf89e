"""SimMIM-style masked reconstruction on any encoder with time tokens: the configuration of ``mae`` and
``hybrid`` with an ``encoder`` spec (e.g. one Net1D per channel), used by the benchmark (ours).

MAE (He et al. 2022), the paper's GL path (:mod:`physiofm.methods.mae`), drops the masked patches before a
ViT and decodes with a transformer. A convolutional encoder cannot drop parts of its input, so this follows
SimMIM (Xie et al. 2022, "SimMIM: a simple framework for masked image modeling"): the masked samples are
replaced by a learnable value, the encoder reads the whole signal, and a light linear head predicts each
time token's span of raw samples from the encoder's time-resolved feature map
(:meth:`physiofm.models.Encoder.tokens`); the loss counts only masked samples. One encoder per channel, each
with its own head and mask value; the losses are averaged over the channels:

    x (B, 1, T);  M (B, T): patches of ``mask_patch_tokens`` tokens masked with probability ``mask_ratio``
    x~ = x (1 - M) + m_ch M                    (m_ch learnable, 0 at init: a z-scored signal's mean)
    t  = Encoder.tokens(x~)   (B, T', F)  ->  Linear(F, s) per token, s = ceil(T / T')  ->  x^ (B, T)
                              (T: ``signal_lengths[ch]``, the segment length the head is sized for)
    L_recon = mean over masked samples of |x^ - x|   (``loss`` "l1", hybrid_ecg Eq. 1; "l2": squared)

``hybrid``'s configuration adds its sample-level term (``w_sample`` > 0): SimCLR's NT-Xent between two
augmented views of each channel (SyneCo's noise-then-scale operator), pooled embeddings through a projector
D -> D -> ``proj_dim``: L = w_recon L_recon + w_sample L_sample. Its patient-level term needs batches of two
records per patient, which segment stores of co-recorded channels do not give: ``w_patient`` must be 0.
Probes read the concatenation of the channels' pooled embeddings (unmasked input).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from physiofm.augment import noise_then_scale
from physiofm.methods.base import Batch
from physiofm.methods.channels import ChannelMethod
from physiofm.models import Projector
from physiofm.objectives import info_nce


def patch_mask(b: int, n_tokens: int, patch_tokens: int, ratio: float, device) -> torch.Tensor:
    """(B, n_tokens) float mask, 1 = masked: patches of ``patch_tokens`` tokens, each masked with probability
    ``ratio`` (at least one patch masked per row)."""
    n_patch = math.ceil(n_tokens / patch_tokens)
    m = torch.rand(b, n_patch, device=device) < ratio
    m[torch.arange(b, device=device), torch.randint(n_patch, (b,), device=device)] = True
    return m.repeat_interleave(patch_tokens, dim=1)[:, :n_tokens].float()


class MaskedChannels(ChannelMethod):
    """SimMIM per channel (+ the optional sample-level contrastive term); ``cfg`` is a ``MAEConfig`` or a
    ``HybridConfig`` with ``encoder`` set (``channels`` empty: the single channel ``key``)."""

    def __init__(self, cfg: Any) -> None:
        channels = tuple(cfg.channels) or (cfg.key,)
        super().__init__(channels, cfg.encoder, cfg.encoders)
        self.cfg = cfg
        self.w_recon = float(getattr(cfg, "w_recon", 1.0))
        self.w_sample = float(getattr(cfg, "w_sample", 0.0))
        if float(getattr(cfg, "w_patient", 0.0)) > 0:
            raise ValueError("the patient-level term needs pairs of records per patient; with an encoder per "
                             "channel set w_patient to 0")
        lengths = dict(cfg.signal_lengths)
        missing = [ch for ch in self.inputs if ch not in lengths]
        if missing:
            raise ValueError("masked reconstruction with an encoder other than vit1d (the SimMIM "
                             f"configuration) needs signal_lengths (samples per segment) for channel(s) "
                             f"{missing}, to size each reconstruction head")
        self.mask_value = nn.ParameterDict({ch: nn.Parameter(torch.zeros(1)) for ch in self.inputs})
        # Linear(F, samples per token) per channel; samples per token from a dummy pass of the segment length.
        self.token_samples = {ch: self._samples_per_token(ch, lengths[ch]) for ch in self.inputs}
        self.heads = nn.ModuleDict({ch: nn.Linear(self.encoders[ch].token_features, self.token_samples[ch])
                                    for ch in self.inputs})
        self.projectors = nn.ModuleDict({
            ch: Projector(self.encoders[ch].out_features, self.encoders[ch].out_features, cfg.proj_dim)
            for ch in self.inputs}) if self.w_sample > 0 else None
        self.probe_key = "concat"

    def _samples_per_token(self, ch: str, n: int) -> int:
        enc = self.encoders[ch]
        was = enc.training
        enc.eval()
        with torch.no_grad():
            t = enc.tokens(torch.zeros(1, 1, n)).shape[1]
        enc.train(was)
        return math.ceil(n / t)

    def reconstruction_loss(self, ch: str, x: torch.Tensor) -> torch.Tensor:
        b, _, n = x.shape
        enc = self.encoders[ch]
        s = self.token_samples[ch]
        n_tok = math.ceil(n / s)
        tok_mask = patch_mask(b, n_tok, self.cfg.mask_patch_tokens, self.cfg.mask_ratio, x.device)
        m = tok_mask.repeat_interleave(s, dim=1)[:, :n].unsqueeze(1)  # (B, 1, T)
        tokens = enc.tokens(x * (1 - m) + self.mask_value[ch] * m)
        pred = self.heads[ch](tokens).reshape(b, 1, -1)[..., :n]
        if pred.shape[-1] < n:
            raise ValueError(f"{ch}: {tokens.shape[1]} tokens x {s} samples cover fewer than {n} samples")
        err = (pred - x).abs() if self.cfg.loss == "l1" else (pred - x) ** 2
        return (err * m).sum() / m.sum().clamp(min=1.0)

    def loss(self, batch: Batch) -> torch.Tensor:
        inputs = self.channel_inputs(batch)
        terms: dict[str, torch.Tensor] = {}
        if self.w_recon > 0:
            terms["recon"] = torch.stack([self.reconstruction_loss(ch, x) for ch, x in inputs.items()]).mean()
        if self.w_sample > 0:
            c = self.cfg
            sample = []
            for ch, x in inputs.items():
                v = torch.cat([noise_then_scale(x, 0.05, 0.9), noise_then_scale(x, 0.05, 0.9)])
                z = self.projectors[ch](self.encoders[ch](v))
                sample.append(info_nce(z[: x.shape[0]], z[x.shape[0]:], c.temperature))
            terms["sample"] = torch.stack(sample).mean()
        self.logs = {k: float(v.detach()) for k, v in terms.items()}
        return self.w_recon * terms.get("recon", 0.0) + self.w_sample * terms.get("sample", 0.0)

