"""MultiMAE pretraining (Fang et al. §3.3, App C): ``multimae`` and ``multimae_drop`` (input modality drop).

Batch: one tensor per modality under its name, each (B, 1, T*S) or (B, T*S) - by default ``eeg``, ``eog``,
``emg``, ``ecg`` of (B, 1, 3000) at 100 Hz, the groups :func:`physiofm.preprocess.multimae_segments` writes.
``inputs`` lists the keys in the configured order (that order is the token order, modality-major).

* ``multimae``: 70 % of the M*T tokens hidden uniformly per sample.
* ``multimae_drop``: one modality hidden entirely, drawn once per batch, the rest masked at 0.6 (App C:
  overall 1/4 + 3/4 * 0.6 = 0.7). Same model, loss and ``mask_ratio`` (the overall share, 0.7: 36 of 120
  tokens visible in both); only where the hidden tokens fall differs
  (:func:`physiofm.models.multimodal_mask`).
* A unimodal MAE baseline (Table 1 "Pretrained EEG" ...) is ``multimae`` with ``modalities: [eeg]``.

Loss: :func:`physiofm.objectives.masked_modality_mse` (MSE over hidden chunks, mean per modality, summed).
Probe representation (§3.4): frozen encoder on unmasked input -> its final LayerNorm -> mean over tokens,
(B, 512) under ``embedding``; also per-modality token means ``embedding_<modality>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from physiofm.methods.base import Method, register
from physiofm.models.masking import modality_mask, multimodal_mask
from physiofm.models.multimae import MultiMAE, MultiMAEConfig
from physiofm.objectives.reconstruction import masked_modality_mse

ARCHITECTURE = ("tokens", "samples_per_token", "width", "depth", "heads", "mlp_ratio", "dropout",
                "attn_dropout", "conv_channels", "conv_kernel")


@dataclass
class MultiMAEMethodConfig(MultiMAEConfig):
    """Model (see :class:`physiofm.models.MultiMAEConfig`) plus the masking of ``multimae``.

    ``encoder``: a study's shared encoder section of kind ``multimae``
    (:class:`physiofm.sections.MultiMAEEncoderSection` as a dict); when given, its architecture fields
    (tokens, width, depth, heads, ...) replace this config's, so the MultiMAE models and the late-fusion
    baselines built from the same section share one architecture.
    """

    mask_ratio: float = 0.7  # share of all M*T tokens hidden, with or without drop (§3.3, App C) [P]
    encoder: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.encoder is not None:
            kind = self.encoder.get("kind", "multimae")
            if kind != "multimae":
                raise ValueError(f"MultiMAE config: encoder must be of kind 'multimae', got {kind!r}")
            for key in ARCHITECTURE:
                if key in self.encoder:
                    setattr(self, key, self.encoder[key])
        super().__post_init__()
        if not 0.0 <= self.mask_ratio < 1.0:
            raise ValueError(f"MultiMAE config: mask_ratio must be in [0, 1), got {self.mask_ratio}")


@dataclass
class MultiMAEDropConfig(MultiMAEMethodConfig):
    """``multimae_drop``: the same overall ``mask_ratio`` (0.7 = drop one of 4 + mask the rest with p = 0.6,
    "a masking probability of 0.6 is best", App C; :func:`physiofm.models.overall_mask_ratio`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        m = len(self.modalities)
        if m < 2:
            raise ValueError("multimae_drop needs at least two modalities (one is dropped per batch)")
        if self.mask_ratio < 1.0 / m:
            raise ValueError(
                f"multimae_drop: mask_ratio {self.mask_ratio} is below 1/{m}, the dropped modality alone"
            )


class MultiMAEMethod(Method):
    """MultiMAE with or without input modality drop (see the module docstring)."""

    probe_key = "embedding"

    def __init__(self, config: MultiMAEMethodConfig, modality_drop: bool = False) -> None:
        super().__init__()
        self.config = config
        self.modality_drop = modality_drop
        self.inputs = tuple(config.modalities)
        self.model = MultiMAE(config)

    # ------------------------------------------------------------------------------------------ inputs
    def stack(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The batch's modalities as one (B, M, T*S) float tensor on the model's device."""
        missing = [k for k in self.inputs if k not in batch]
        if missing:
            raise KeyError(f"MultiMAE batch lacks modality key(s) {missing}; it has {sorted(batch)}")
        length = self.config.window
        parts = []
        for key in self.inputs:
            x = torch.as_tensor(batch[key])
            if x.ndim == 3 and x.shape[1] == 1:
                x = x[:, 0]
            if x.ndim != 2 or x.shape[1] != length:
                raise ValueError(
                    f"MultiMAE batch[{key!r}] must be (B, 1, {length}) or (B, {length}), got {tuple(x.shape)}"
                )
            parts.append(x)
        return torch.stack(parts, dim=1).to(self.device, torch.float32)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        return x.reshape(x.shape[0], len(c.modalities), c.tokens, c.samples_per_token)

    # ----------------------------------------------------------------------------------- pretraining
    def loss(self, batch: Mapping[str, Any]) -> torch.Tensor:
        x = self.stack(batch)
        c = self.config
        hidden = multimodal_mask(x.shape[0], len(c.modalities), c.tokens, c.mask_ratio, self.modality_drop)
        hidden = hidden.to(x.device)
        pred = self.model(x, hidden)
        loss, per_modality = masked_modality_mse(
            self._split(pred), self._split(x), hidden.reshape(x.shape[0], len(c.modalities), c.tokens)
        )
        self.logs = {f"mse_{m}": float(v) for m, v in zip(c.modalities, per_modality.detach())}
        return loss

    # -------------------------------------------------------------------------------- representations
    def encode(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """(B, M*T, D) encoder tokens on unmasked input, with gradients (scratch / full fine-tuning)."""
        return self.model.encode(self.stack(batch))

    def features(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """(B, D) final LayerNorm -> mean over tokens, with gradients: the probe representation a supervised
        head is trained on from scratch or in full fine-tuning (§3.4, App E), and a supervised reference."""
        return self.encode(batch).mean(dim=1)

    @property
    def feature_dim(self) -> int:
        return self.config.width

    def embeddings(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        with self.evaluating():
            tokens = self.encode(batch)
        t = self.config.tokens
        out = {"embedding": tokens.mean(dim=1)}
        for i, m in enumerate(self.config.modalities):
            out[f"embedding_{m}"] = tokens[:, i * t : (i + 1) * t].mean(dim=1)
        return out

    def embed_inputs(self, batch: Mapping[str, Any], inputs: Mapping[str, Sequence[str]],
                     stand_in: Mapping[str, tuple[str, int]] | None = None) -> dict[str, torch.Tensor]:
        """The probe representation from each named subset of the modalities, ``{name: (B, D)}``: the tokens
        of the modalities a set lacks are hidden from the encoder (as input modality drop trains it) and the
        mean is taken over the visible tokens. Sets holding none of the modalities are left out."""
        out = {}
        with self.evaluating():
            for name, keys in inputs.items():
                present = [k for k in self.inputs if k in keys and k in batch]
                if present:
                    out[name] = self._visible_mean(batch, present)
        return out

    def _visible_mean(self, batch: Mapping[str, Any], present: Sequence[str]) -> torch.Tensor:
        c = self.config
        b = len(batch[present[0]])
        x = self.stack({k: batch[k] if k in present else torch.zeros(b, c.window) for k in self.inputs})
        if len(present) == len(self.inputs):
            return self.model.encode(x).mean(dim=1)
        absent = torch.tensor([k not in present for k in self.inputs]).repeat_interleave(c.tokens)
        return self.model.encode(x, absent.expand(b, -1).to(x.device)).mean(dim=1)

    def attentions(self, batch: Mapping[str, Any]) -> list[torch.Tensor]:
        """Attention probabilities of every encoder layer on unmasked input, first to last, (B, H, N, N)."""
        with self.evaluating():
            return self.model.encode(self.stack(batch), return_attention=True)[1]

    def layer_means(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Token-mean output of every encoder layer, (B, D) each, for stacked input (B, M, T*S)
        (eval mode, no grad) - the f of relative source variance."""
        with self.evaluating():
            return self.model.layer_means(x.to(self.device, torch.float32))

    def reconstruct(
        self,
        batch: Mapping[str, Any],
        mask_ratio: float | None = None,
        dropped: str | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Reconstructions for figures (MultiMAE Fig 4), in eval mode.

        Args:
            mask_ratio: default the method's own.
            dropped: a modality hidden entirely and rebuilt from the others (None: no drop); the ratio then
                applies to the other modalities.
            generator: CPU generator for the mask.

        Returns:
            ``target`` and ``prediction`` (B, M, T*S) float, ``hidden`` (B, M, T*S) bool (per sample).
        """
        c = self.config
        if dropped is not None and dropped not in c.modalities:
            raise ValueError(f"dropped modality {dropped!r} is not one of {list(c.modalities)}")
        x = self.stack(batch)
        index = None if dropped is None else c.modalities.index(dropped)
        ratio = c.mask_ratio if mask_ratio is None else mask_ratio
        hidden = modality_mask(x.shape[0], len(c.modalities), c.tokens, ratio, index, generator).to(x.device)
        with self.evaluating():
            pred = self.model(x, hidden)
        per_sample = hidden.reshape(x.shape[0], len(c.modalities), c.tokens, 1)
        per_sample = per_sample.expand(-1, -1, -1, c.samples_per_token).flatten(2)
        return {"target": x, "prediction": pred, "hidden": per_sample}


@register("multimae", MultiMAEMethodConfig)
def build_multimae(config: MultiMAEMethodConfig) -> MultiMAEMethod:
    return MultiMAEMethod(config, modality_drop=False)


@register("multimae_drop", MultiMAEDropConfig)
def build_multimae_drop(config: MultiMAEDropConfig) -> MultiMAEMethod:
    return MultiMAEMethod(config, modality_drop=True)
