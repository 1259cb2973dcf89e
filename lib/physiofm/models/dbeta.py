"""D-BETA's network (Pham et al., ICML 2025; Fig. 1): two encoders, co-attention fusion and three heads.

    ECG (B, 12, T) -> ECGConvTransformer (MEM: 75 % of tokens hidden) -> Linear(768 -> H)  h_x (B, 1 + K, H)
    text ids (B, Lt) -> text encoder (Flan-T5-base / scratch) -> Linear(768 -> H)             h_t (B, Lt, H)
    unimodal poolers (first token -> Linear -> tanh): x' = pool(h_x), t' = pool(h_t)           ETS, probes
    CoAttentionFusion(h_t, h_x), 6 layers -> text stream, ECG stream (+ ECG stream after 3 layers)
      MLM head:  dense + GELU + LN -> vocabulary, on the final text stream                  (B, Lt, V)
      MEM head:  MEMDecoder on the ECG stream after ``mem_layer`` fusion layers             (B, L, 12 x 16)
      ETM head:  Linear(2H -> 2) on [pool_text(fused text); pool_ecg(fused ECG)]            (B, 2)

H = 768 in the paper. Linear layers and embeddings of the projections, fusion, poolers and heads are
initialised N(0, 0.02) with zero biases (the authors' ``init_weights``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from physiofm.models.coattention import LN_EPS, CoAttentionFusion, FirstTokenPooler
from physiofm.models.ecg_conv_transformer import ECGConvTransformer
from physiofm.models.mem_decoder import MEMDecoder
from physiofm.models.text_encoder import TextEncoder


class MLMHead(nn.Module):
    """BERT's LM head: (B, L, H) -> (B, L, V) = W_v LN(GELU(W h)) + b."""

    def __init__(self, width: int, vocab_size: int) -> None:
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.LayerNorm(width, eps=LN_EPS))
        self.decoder = nn.Linear(width, vocab_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(h))


@dataclass
class DBetaOutput:
    """Every output of one forward pass (shapes with H the fusion width)."""

    ecg_pooled: torch.Tensor  # (B, H) x', unimodal ECG pooler on CLS
    text_pooled: torch.Tensor  # (B, H) t', unimodal text pooler on the first token
    mlm_logits: torch.Tensor  # (B, Lt, V)
    etm_logits: torch.Tensor  # (B, 2), class 1 = matching pair
    mem_pred: torch.Tensor | None  # (B, L, leads x patch), None without ECG masking
    mem_mask: torch.Tensor | None  # (B, L) 1 = hidden token


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
        nn.init.normal_(module.in_proj_weight, std=0.02)
        nn.init.zeros_(module.in_proj_bias)


class DBetaModel(nn.Module):
    """The network of the module docstring, built around a given ECG encoder and text encoder."""

    def __init__(
        self,
        ecg_encoder: ECGConvTransformer,
        text_encoder: TextEncoder,
        hidden: int = 768,
        fusion_layers: int = 6,
        fusion_heads: int = 12,
        fusion_ffn: int = 3072,
        dropout: float = 0.1,
        mem_layer: int = 3,
        mem_decoder_dim: int = 384,
        mem_decoder_layers: int = 4,
        mem_decoder_heads: int = 6,
    ) -> None:
        super().__init__()
        if not 0 <= mem_layer <= fusion_layers:
            raise ValueError(f"mem_layer {mem_layer} must lie in [0, fusion_layers = {fusion_layers}]")
        self.ecg_encoder, self.text_encoder, self.mem_layer = ecg_encoder, text_encoder, mem_layer
        self.ecg_proj = nn.Linear(ecg_encoder.width, hidden)
        self.text_proj = nn.Linear(text_encoder.width, hidden)
        self.ecg_pooler = FirstTokenPooler(hidden)
        self.text_pooler = FirstTokenPooler(hidden)
        self.fusion = CoAttentionFusion(hidden, fusion_layers, fusion_heads, fusion_ffn, dropout)
        self.fused_ecg_pooler = FirstTokenPooler(hidden)
        self.fused_text_pooler = FirstTokenPooler(hidden)
        self.mlm_head = MLMHead(hidden, text_encoder.vocab_size)
        cfg = ecg_encoder.cfg
        self.mem_decoder = MEMDecoder(hidden, mem_decoder_dim, mem_decoder_layers, mem_decoder_heads,
                                      cfg.leads, cfg.patch)
        self.etm_head = nn.Linear(2 * hidden, 2)
        for part in (self.ecg_proj, self.text_proj, self.ecg_pooler, self.text_pooler, self.fusion,
                     self.fused_ecg_pooler, self.fused_text_pooler, self.mlm_head, self.etm_head):
            part.apply(_init)

    def encode_ecg(
        self, ecg: torch.Tensor, mask_ratio: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(B, 12, T) -> projected tokens (B, 1 + K, H), x' (B, H), MEM mask (B, L), ids_restore (B, L);
        the last two are None without masking."""
        h, mask, ids_restore = self.ecg_encoder(ecg, mask_ratio, generator)
        h = self.ecg_proj(h)
        return h, self.ecg_pooler(h), mask, ids_restore

    def encode_text(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Lt) ids and mask -> projected tokens (B, Lt, H), t' (B, H)."""
        h = self.text_proj(self.text_encoder(input_ids, attention_mask))
        return h, self.text_pooler(h)

    def forward(
        self,
        ecg: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        mask_ratio: float = 0.75,
        generator: torch.Generator | None = None,
    ) -> DBetaOutput:
        hx, x_pooled, mask, ids_restore = self.encode_ecg(ecg, mask_ratio, generator)
        ht, t_pooled = self.encode_text(input_ids, attention_mask)
        tap = self.mem_layer if mask is not None else None
        ft, fx, tapped = self.fusion(ht, hx, attention_mask == 0, tap=tap)
        etm = self.etm_head(torch.cat([self.fused_text_pooler(ft), self.fused_ecg_pooler(fx)], dim=-1))
        mem = self.mem_decoder(tapped, ids_restore) if mask is not None else None
        return DBetaOutput(x_pooled, t_pooled, self.mlm_head(ft), etm, mem, mask)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part; ``ecg_path`` is what a probe uses (encoder, projection, unimodal pooler)."""

        def n(*mods: nn.Module) -> int:
            return sum(p.numel() for m in mods for p in m.parameters())

        counts = {
            "ecg_encoder": n(self.ecg_encoder),
            "ecg_path": n(self.ecg_encoder, self.ecg_proj, self.ecg_pooler),
            "text_encoder": n(self.text_encoder),
            "projections_and_poolers": n(self.ecg_proj, self.text_proj, self.ecg_pooler, self.text_pooler,
                                         self.fused_ecg_pooler, self.fused_text_pooler),
            "fusion": n(self.fusion),
            "mlm_head": n(self.mlm_head),
            "mem_decoder": n(self.mem_decoder),
            "etm_head": n(self.etm_head),
        }
        counts["total"] = n(self)
        return counts
