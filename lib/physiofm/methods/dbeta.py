"""D-BETA (Pham, Saeed & Ma, ICML 2025): ECG–text pretraining with MLM + MEM + ETM + ETS and N3S negatives.

One training step (:meth:`DBeta.loss`) on a batch of B records:

1. random lead masking of the ECG (each lead zeroed with p = 0.5; §3.1), in training mode only;
2. N3S: int(0.5 B + U[0, 1)) rows get a negative report instead of their own — one of the 64 training reports
   least similar to it in the frozen report space (:mod:`physiofm.objectives.n3s`); those rows are ETM
   non-matches and negatives on ETS's diagonal;
3. the *substituted* texts are tokenised and MLM-corrupted (25 %, 80/10/10); the authors' collator masks the
   original texts instead, which loses the negatives;
4. one forward pass with 75 % of the ECG tokens hidden (MEM), through the co-attention fusion and the heads;
5. loss = w_mlm MLM + w_mem MEM + w_etm ETM + w_ets ETS, weights 1 (§3.1-3.2). ETS reads the unimodal pooled
   features x', t' of this same (masked) pass, as the authors' code does.

Batch keys (``inputs``):
    ``ecg12``: (B, 12, T) float ECG in mV, 500 Hz, standard lead order (I, II, III, aVR, aVL, aVF, V1-V6),
        T = 5000 in the paper; no filter, no normalisation.
    ``report``: list of B cleaned report texts (:func:`physiofm.text.clean_report`), each one of the N3S
        bank's texts during training. Texts, not token ids: negatives must be substituted before tokenising.

The N3S bank (the unique training reports, their frozen embeddings and corpus counts,
:class:`physiofm.text.ReportBank`) is given after building with :meth:`DBeta.set_report_bank`, or named in the
config (``report_bank``: the file the data step wrote, ``asset:report_bank.npz`` in params) and then read the
first time a training batch needs it; training with ETM or ETS needs it. Embeddings never need it.

Text encoder: ``text_encoder = "t5"`` (paper) reads Flan-T5-base from the local directory ``text_model_dir``;
``"scratch"`` (demo) trains :class:`~physiofm.models.ScratchTextEncoder` with the WordPiece tokenizer JSON
``tokenizer_file`` fitted on the training reports.

Logged per step (``self.logs``): the four loss terms, ``etm_acc`` (claim C7's curve), ``etm_acc_neg``,
``mlm_acc``, ``negatives`` (share of rows replaced). The numpy generator of the negative rows and picks is
saved in ``state_dict`` (``get_extra_state``); the bank is not, and is set again after loading.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from physiofm.methods.base import Batch, Method, register
from physiofm.models.dbeta import DBetaModel
from physiofm.models.ecg_conv_transformer import ECGConvTransformer, ECGEncoderConfig
from physiofm.models.lead_masking import random_lead_masking
from physiofm.models.text_encoder import ScratchTextEncoder, T5TextEncoder, TextEncoder
from physiofm.objectives.ets import SigLipETS, ets_loss, ets_targets
from physiofm.objectives.mem import mem_targets
from physiofm.objectives.mlm import IGNORE, mlm_loss, mlm_mask
from physiofm.objectives.n3s import FarthestNegativeSampler, draw_negatives
from physiofm.objectives.reconstruction import masked_reconstruction_loss
from physiofm.text.reports import ReportBank


@dataclass
class DBetaConfig:
    """D-BETA settings; defaults are the paper's (§3, §4.1.1) or the authors' config.json ([code])."""

    # ECG encoder (§3.1; [code] sizes)
    leads: int = 12
    conv_channels: int = 256  # [code] conv_feature_layers [(256, 2, 2)] * 4
    conv_layers: int = 4
    ecg_width: int = 768
    ecg_layers: int = 8  # §3.1 "eight transformer encoder layers"; Table 8 ablates 1 / 4 / 8
    ecg_heads: int = 12  # [code]
    ecg_ffn: int = 3072  # [code]
    pos_kernel: int = 128  # [code] conv_pos
    pos_groups: int = 16  # [code] conv_pos_groups
    dropout: float = 0.1  # [code] dropout, attention_dropout, fusion drop_rate
    dropout_input: float = 0.1  # §3.1 "dropout layer on the input with p = 0.1"
    # Text encoder (§3.1)
    text_encoder: str = "t5"  # "t5": Flan-T5-base encoder, fine-tuned (paper); "scratch": demo substitute
    text_model_dir: str = ""  # local Flan-T5-base directory (t5); nothing is downloaded
    tokenizer_file: str = ""  # WordPiece tokenizer JSON fitted on the training reports (scratch)
    text_width: int = 256  # scratch encoder sizes [D]
    text_layers: int = 4  # [D]
    text_heads: int = 4  # [D]
    text_ffn: int = 1024  # [D]
    max_text_tokens: int = 256  # [code] max_text_size
    # Fusion (§3.1 "Fusion Module"; [code] sizes)
    hidden: int = 768  # §3.1 projections to a 768-dimensional space
    fusion_layers: int = 6  # [code] num_top_layer
    fusion_heads: int = 12  # [code]
    fusion_ffn: int = 3072  # [code] hidden_dim * 4
    # MEM (§3.1; [code])
    mem_ratio: float = 0.75  # [code] mem_prob
    mem_layer: int = 3  # [code] the decoder reads the ECG stream after 3 of 6 fusion layers
    mem_decoder_dim: int = 384  # §3.1 "lower-dimensional space (384)"
    mem_decoder_layers: int = 4  # [code]
    mem_decoder_heads: int = 6  # [code]
    mem_norm_targets: bool = True  # [code] norm_pix_loss: per-lead normalised targets
    mem_norm_eps: float = 1e-6  # [code]
    # MLM ([code] mlm_prob 0.25; HuggingFace collator's 80/10/10)
    mlm_rate: float = 0.25
    mlm_mask_share: float = 0.8
    mlm_random_share: float = 0.1
    # ETM negatives and N3S (§3.2)
    negative_share: float = 0.5  # "in half of the training batch": int(0.5 B + U[0, 1)) rows [code]
    n3s: bool = True  # False: random training reports as negatives (Table 6 "w/o N3S")
    n3s_k: int = 64  # "one of the top 64 largest cosine distance reports"
    report_bank: str = ""  # the N3S bank file (ReportBank.save); read when training needs it [D]
    # ETS (§3.2, Eq. 4)
    ets: bool = True  # False: Table 6 "w/o ETS"
    ets_form: str = "paper"  # "paper": Eq. 4 (no scale, no bias); "siglip": normalised, learnable scale/bias
    # Augmentation (§3.1)
    lead_mask_p: float = 0.5  # random lead masking, each lead zeroed with p = 0.5
    # Loss weights ([code] plain sum)
    w_mlm: float = 1.0
    w_mem: float = 1.0
    w_etm: float = 1.0
    w_ets: float = 1.0
    seed: int = 0  # [D] numpy generator of the negative rows and N3S picks

    def __post_init__(self) -> None:
        if self.text_encoder not in ("t5", "scratch"):
            raise ValueError(f"dbeta text_encoder must be 't5' or 'scratch', got {self.text_encoder!r}")
        if self.ets_form not in ("paper", "siglip"):
            raise ValueError(f"dbeta ets_form must be 'paper' or 'siglip', got {self.ets_form!r}")
        if not 0.0 <= self.mem_ratio < 1.0:
            raise ValueError(f"dbeta mem_ratio must be in [0, 1), got {self.mem_ratio}")

    def ecg_encoder_config(self) -> ECGEncoderConfig:
        return ECGEncoderConfig(
            leads=self.leads, conv_channels=self.conv_channels, conv_layers=self.conv_layers,
            width=self.ecg_width, layers=self.ecg_layers, heads=self.ecg_heads, ffn=self.ecg_ffn,
            pos_kernel=self.pos_kernel, pos_groups=self.pos_groups, dropout=self.dropout,
            dropout_input=self.dropout_input,
        )


def build_text_encoder(cfg: DBetaConfig) -> TextEncoder:
    """The configured text encoder: local Flan-T5 (paper) or the scratch encoder with its fitted tokenizer."""
    if cfg.text_encoder == "t5":
        if not cfg.text_model_dir:
            raise ValueError("dbeta text_encoder 't5' needs text_model_dir (a local Flan-T5 checkpoint)")
        return T5TextEncoder.from_dir(cfg.text_model_dir, cfg.max_text_tokens)
    if not cfg.tokenizer_file:
        raise ValueError("dbeta text_encoder 'scratch' needs tokenizer_file (fit_report_tokenizer's JSON)")
    return ScratchTextEncoder(cfg.tokenizer_file, cfg.text_width, cfg.text_layers, cfg.text_heads,
                              cfg.text_ffn, cfg.max_text_tokens, cfg.dropout)


@register("dbeta", DBetaConfig)
class DBeta(Method):
    """D-BETA as a registry method (see the module docstring for the step, batch keys and the bank)."""

    inputs = ("ecg12", "report")
    probe_key = "embedding"

    def __init__(self, config: DBetaConfig) -> None:
        super().__init__()
        self.config = config
        self.net = DBetaModel(
            ECGConvTransformer(config.ecg_encoder_config()), build_text_encoder(config), config.hidden,
            config.fusion_layers, config.fusion_heads, config.fusion_ffn, config.dropout, config.mem_layer,
            config.mem_decoder_dim, config.mem_decoder_layers, config.mem_decoder_heads,
        )
        self.siglip = SigLipETS() if config.ets and config.ets_form == "siglip" else None
        self.bank: ReportBank | None = None
        self.sampler: FarthestNegativeSampler | None = None
        self.rng = np.random.default_rng(config.seed)

    # -- the N3S bank -------------------------------------------------------------------------------------
    def set_report_bank(self, bank: ReportBank) -> None:
        """Give the unique training reports and their frozen embeddings; builds the faiss index (N3S) once."""
        if not isinstance(bank, ReportBank):
            raise TypeError(f"set_report_bank expects a physiofm.text.ReportBank, got {type(bank).__name__}")
        self.bank = bank
        n3s = self.config.n3s
        self.sampler = FarthestNegativeSampler(bank.embeddings, self.config.n3s_k) if n3s else None

    def get_extra_state(self) -> dict:
        """The negative-sampling generator's state travels in ``state_dict``, so a resumed run draws on."""
        return {"rng": self.rng.bit_generator.state}

    def set_extra_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]

    # -- batches --------------------------------------------------------------------------------------------
    def _ecg(self, batch: Batch) -> torch.Tensor:
        if "ecg12" not in batch:
            raise KeyError(f"dbeta batch lacks 'ecg12' (keys: {sorted(batch)})")
        x = torch.as_tensor(batch["ecg12"], dtype=torch.float32, device=self.device)
        if x.ndim != 3 or x.shape[1] != self.config.leads:
            raise ValueError(f"dbeta 'ecg12' must be (B, {self.config.leads}, T), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("dbeta 'ecg12' contains NaN or inf")
        return x

    def _texts(self, batch: Batch, b: int) -> list[str]:
        if "report" not in batch:
            raise KeyError(f"dbeta batch lacks 'report' (keys: {sorted(batch)})")
        texts = batch["report"]
        if isinstance(texts, str) or len(texts) != b or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"dbeta 'report' must be a list of {b} str (one cleaned report per ECG)")
        return list(texts)

    def _tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.device) for k, v in self.net.text_encoder.tokenize(texts).items()}

    def prepare(self, batch: Batch) -> dict[str, Any]:
        """Steps 1-3 of the module docstring: lead masking, N3S substitution, then tokenising and MLM masking.

        Returns ``ecg`` (B, 12, T), ``texts`` (after substitution), ``aligned`` (B,) bool, ``input_ids``,
        ``attention_mask``, ``mlm_labels`` (B, Lt).
        """
        cfg = self.config
        ecg = self._ecg(batch)
        texts = self._texts(batch, ecg.shape[0])
        if self.training and cfg.lead_mask_p > 0:
            ecg, _ = random_lead_masking(ecg, cfg.lead_mask_p)
        aligned = np.ones(len(texts), dtype=bool)
        if cfg.negative_share > 0 and (cfg.w_etm > 0 or cfg.ets):
            if self.bank is None and cfg.report_bank:
                self.set_report_bank(ReportBank.load(cfg.report_bank))
            if self.bank is None:
                raise RuntimeError("dbeta needs its N3S report bank: set report_bank in the config or call "
                                   "set_report_bank(bank) first")
            # Evaluation draws from a fresh generator of the config's seed: every validation pass sees the
            # same negatives (a comparable validation loss), and training's stream is not advanced by it.
            rng = self.rng if self.training else np.random.default_rng(cfg.seed)
            texts, aligned = draw_negatives(texts, self.bank, rng, self.sampler, cfg.negative_share)
        tok = self._tokens(texts)
        enc = self.net.text_encoder
        ids, labels = mlm_mask(tok["input_ids"], tok["special_tokens_mask"], enc.mask_token_id,
                               enc.random_token_ids, cfg.mlm_rate, cfg.mlm_mask_share, cfg.mlm_random_share)
        return {"ecg": ecg, "texts": texts, "aligned": torch.as_tensor(aligned, device=self.device),
                "input_ids": ids, "attention_mask": tok["attention_mask"], "mlm_labels": labels}

    # -- the objective --------------------------------------------------------------------------------
    def loss(self, batch: Batch) -> torch.Tensor:
        cfg = self.config
        p = self.prepare(batch)
        out = self.net(p["ecg"], p["input_ids"], p["attention_mask"], cfg.mem_ratio)
        aligned = p["aligned"]
        terms = {"mlm": mlm_loss(out.mlm_logits, p["mlm_labels"]),
                 "etm": F.cross_entropy(out.etm_logits, aligned.long())}
        if out.mem_pred is not None:
            target = mem_targets(p["ecg"], out.mem_pred.shape[1], self.net.ecg_encoder.cfg.patch,
                                 cfg.mem_norm_targets, cfg.mem_norm_eps)
            terms["mem"] = masked_reconstruction_loss(out.mem_pred, target, out.mem_mask, "l2")
        if cfg.ets:
            y = ets_targets(aligned)
            ets = self.siglip if self.siglip is not None else ets_loss
            terms["ets"] = ets(out.ecg_pooled, out.text_pooled, y)
        weights = {"mlm": cfg.w_mlm, "mem": cfg.w_mem, "etm": cfg.w_etm, "ets": cfg.w_ets}
        total = sum(weights[k] * v for k, v in terms.items())
        with torch.no_grad():
            pred = out.etm_logits.argmax(-1)
            sel = p["mlm_labels"] != IGNORE
            self.logs = {f"loss_{k}": v.item() for k, v in terms.items()}
            self.logs["etm_acc"] = float((pred == aligned.long()).float().mean())
            if (~aligned).any():
                self.logs["etm_acc_neg"] = float((pred[~aligned] == 0).float().mean())
            if sel.any():
                hit = out.mlm_logits.argmax(-1)[sel] == p["mlm_labels"][sel]
                self.logs["mlm_acc"] = float(hit.float().mean())
            self.logs["negatives"] = float((~aligned).float().mean())
        return total

    def after_step(self, step: int, max_steps: int) -> None:
        if self.siglip is not None:
            self.siglip.clamp_()

    # -- representations ------------------------------------------------------------------------------
    def embeddings(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Frozen, unmasked unimodal paths of what the batch holds: ``embedding`` = x' = tanh pooler of the
        projected CLS (B, hidden), the linear-probe and zero-shot representation, and ``cls`` = the ECG
        encoder's raw CLS (B, ecg_width) when it has ``ecg12``; ``text`` = t' (B, hidden) of its ``report``
        texts when it has them (a batch of class descriptions only: zero-shot)."""
        if "ecg12" not in batch and "report" in batch:
            return {"text": self.text_embeddings(list(batch["report"]))}
        with self.evaluating():
            x = self._ecg(batch)
            h, _, _ = self.net.ecg_encoder(x)
            out = {"embedding": self.net.ecg_pooler(self.net.ecg_proj(h)), "cls": h[:, 0]}
        if "report" in batch:
            out["text"] = self.text_embeddings(self._texts(batch, x.shape[0]))
        return out

    def text_embeddings(self, texts: list[str], batch_size: int = 256) -> torch.Tensor:
        """(N, hidden) t' of ``texts`` (unmasked): the zero-shot class-description embeddings."""
        if isinstance(texts, str) or not texts:
            raise ValueError("text_embeddings expects a non-empty list of str")
        out = []
        with self.evaluating():
            for i in range(0, len(texts), batch_size):
                tok = self._tokens(list(texts[i : i + batch_size]))
                out.append(self.net.encode_text(tok["input_ids"], tok["attention_mask"])[1])
        return torch.cat(out)

    def extra_repr(self) -> str:
        cfg = asdict(self.config)
        return f"text_encoder={cfg['text_encoder']}, n3s={cfg['n3s']}, ets={cfg['ets']}/{cfg['ets_form']}"
