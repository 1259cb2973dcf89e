"""MultiMAE for overnight PSG (Fang et al., "Promoting cross-modal representations ...", §3.2-3.3).

    x (B, M, T*S)   M modalities, one channel each, T = 30 one-second chunks of S = 100 samples (100 Hz)
      -> per modality, shared over its chunks:                                        ChunkTokenizer
         chunk (1, S) -> Conv1d(1->64, k=21, pad 10) -> GELU -> max over time -> Linear(64->512) -> LayerNorm
      -> + fixed 1-D sin-cos time embedding (t = 0..T-1, shared by modalities) + learnable modality embedding
      -> M*T tokens x 512, modality-major (token m*T + t), no CLS token
      -> drop the hidden tokens (a bool mask from physiofm.models.multimodal_mask)
      -> 8 pre-LN transformer layers (8 heads, MLP x4, GELU, dropout 0.1) -> LayerNorm          encoder
      -> per modality m, one decoder:                                                    ModalityDecoder
         restore all M*T positions with a learnable mask token, + sin-cos time + decoder modality embedding;
         queries = modality m's T tokens, context = the visible tokens of every modality;
         x = XAttn(LN(q), LN(ctx)); x = x + MLP(LN(x)); one transformer layer; Linear(512 -> S) per token

[P] = stated in the paper: one conv + one linear + LayerNorm per tokenizer, 64 channels, kernel 21, D = 512,
sin-cos positions + learnable modality embedding, 8 pre-LN layers x 8 heads, dropout 0.1 on attention
and projections, mask token ~ N(0, 0.02) truncated at [-2, 2], one decoder per modality with one
cross-attention layer over the whole encoder output, one transformer layer, linear to 100 samples.
[D] ours: padding 10, GELU, global max-pool, MLP ratio 4, final encoder LayerNorm, decoder width = encoder
width (so MultiMAE's context projection is left out), decoder heads 8. [R] MultiMAE's output adapter
(Bachmann et al. 2022): no residual around the cross-attention, per-decoder mask token and modality
embeddings added to queries and context; LayerNorm eps 1e-6; xavier-uniform linear layers (MAE).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from physiofm.models.transformer import Block, CrossAttentionAdapter, layer_norm

MODALITIES = ("eeg", "eog", "emg", "ecg")


@dataclass
class MultiMAEConfig:
    """Architecture of :class:`MultiMAE`; defaults are the paper's model (see the module docstring)."""

    modalities: tuple[str, ...] = MODALITIES  # one tokenizer and one decoder each [P]
    tokens: int = 30  # tokens per modality: 30 one-second chunks of a 30-s window [P]
    samples_per_token: int = 100  # 1 s at 100 Hz [P]
    width: int = 512  # D [P]
    depth: int = 8  # encoder layers [P]
    heads: int = 8  # [P]
    mlp_ratio: float = 4.0  # [D]
    dropout: float = 0.1  # on projections [P]
    attn_dropout: float = 0.1  # on attention probabilities [P]
    conv_channels: int = 64  # [P]
    conv_kernel: int = 21  # [P]
    decoder_depth: int = 1  # transformer layers after the cross-attention [P]
    decoder_heads: int = 8  # [D]

    def __post_init__(self) -> None:
        self.modalities = tuple(self.modalities)
        problems = []
        if not self.modalities or len(set(self.modalities)) != len(self.modalities):
            problems.append(f"modalities must be distinct and non-empty, got {list(self.modalities)}")
        for name in ("tokens", "samples_per_token", "width", "depth", "heads", "conv_channels"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.decoder_heads < 1:
            problems.append(f"decoder_heads must be >= 1, got {self.decoder_heads}")
        elif self.width % 2 or self.width % max(self.heads, 1) or self.width % self.decoder_heads:
            problems.append(f"width {self.width} must be even and divisible by heads and decoder_heads")
        if self.conv_kernel < 1 or self.conv_kernel % 2 == 0:
            problems.append(f"conv_kernel must be odd (same-length padding), got {self.conv_kernel}")
        for name in ("dropout", "attn_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                problems.append(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.decoder_depth < 0:
            problems.append(f"decoder_depth must be >= 0, got {self.decoder_depth}")
        if problems:
            raise ValueError("MultiMAE config: " + "; ".join(problems))

    @property
    def window(self) -> int:
        """Samples per modality in one input window (T * S; 3,000 = 30 s at 100 Hz)."""
        return self.tokens * self.samples_per_token


def sincos_embedding(positions: int, dim: int) -> torch.Tensor:
    """(positions, dim) fixed 1-D sin-cos embedding, MAE's ``get_1d_sincos_pos_embed_from_grid``:
    [sin(t * w_i), cos(t * w_i)] with w_i = 10000^(-2i/dim), i < dim/2."""
    if dim % 2:
        raise ValueError(f"sin-cos embedding needs an even width, got {dim}")
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    angle = torch.arange(positions, dtype=torch.float64)[:, None] * omega[None, :]
    return torch.cat([angle.sin(), angle.cos()], dim=1).float()


class ChunkTokenizer(nn.Module):
    """(B, T*S) one channel -> (B, T, D): each S-sample chunk becomes one token."""

    def __init__(self, samples: int, width: int, channels: int = 64, kernel: int = 21) -> None:
        super().__init__()
        self.samples = samples
        self.conv = nn.Conv1d(1, channels, kernel, padding=kernel // 2)
        self.act = nn.GELU()
        self.proj = nn.Linear(channels, width)
        self.norm = layer_norm(width)  # "so signals from all modalities have comparable scales" [P]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n = x.shape
        return self.tokens(x.reshape(b * (n // self.samples), self.samples)).reshape(b, n // self.samples, -1)

    def tokens(self, chunks: torch.Tensor) -> torch.Tensor:
        """(n, S) chunks -> (n, D) tokens, each chunk on its own."""
        h = self.act(self.conv(chunks[:, None, :])).amax(dim=-1)  # global max-pool over the chunk
        return self.norm(self.proj(h))


class ModalityDecoder(nn.Module):
    """Rebuilds one modality's T chunks (B, T, S) from the visible encoder tokens of all modalities."""

    def __init__(self, index: int, cfg: MultiMAEConfig) -> None:
        super().__init__()
        m, d = len(cfg.modalities), cfg.width
        self.index, self.tokens = index, cfg.tokens
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        self.modality_embed = nn.Parameter(torch.zeros(m, d))
        self.adapter = CrossAttentionAdapter(
            d, cfg.decoder_heads, cfg.mlp_ratio, cfg.dropout, cfg.attn_dropout
        )
        self.blocks = nn.ModuleList(
            Block(d, cfg.decoder_heads, cfg.mlp_ratio, cfg.dropout, cfg.attn_dropout)
            for _ in range(cfg.decoder_depth)
        )
        self.head = nn.Linear(d, cfg.samples_per_token)

    def forward(
        self, latent: torch.Tensor, ids_keep: torch.Tensor, ids_restore: torch.Tensor, pos: torch.Tensor
    ) -> torch.Tensor:
        """latent (B, K, D) visible tokens in ``ids_keep`` (B, K) order; ids_restore (B, M*T); pos (T, D)."""
        b, k, d = latent.shape
        n = ids_restore.shape[1]
        full = torch.cat([latent, self.mask_token.expand(b, n - k, d)], dim=1)
        full = torch.gather(full, 1, ids_restore[..., None].expand(-1, -1, d))
        full = full + (self.modality_embed[:, None, :] + pos[None, :, :]).reshape(1, n, d)
        t = self.tokens
        queries = full[:, self.index * t : (self.index + 1) * t]
        context = torch.gather(full, 1, ids_keep[..., None].expand(-1, -1, d))
        x = self.adapter(queries, context)
        for blk in self.blocks:
            x, _ = blk(x)
        return self.head(x)


def visible_ids(hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From a (B, N) bool mask (True = hidden, the same count per row) to ids_keep (B, K) - the visible tokens
    in their original order - and ids_restore (B, N) that puts [visible; hidden] back in place."""
    n_visible = (~hidden).sum(dim=1)
    if n_visible.numel() and not (n_visible == n_visible[0]).all():
        raise ValueError(f"every sample must keep the same number of tokens, got {n_visible.tolist()}")
    k = int(n_visible[0]) if n_visible.numel() else 0
    if k == 0:
        raise ValueError("the mask hides every token; the encoder needs at least one")
    ids_shuffle = torch.argsort(hidden.to(torch.int8), dim=1, stable=True)
    return ids_shuffle[:, :k], torch.argsort(ids_shuffle, dim=1)


class TokenEncoder(nn.Module):
    """One channel (B, 1, T*S) -> (B, D): MultiMAE's tokenizer, the sin-cos time embedding, the pre-LN
    encoder layers, the final LayerNorm and a mean over the T tokens.

    The per-modality encoder of MultiMAE's late-fusion contrastive baselines (App F: "the same architecture"
    as MultiMAE, one encoder per modality, 512-d mean-pooled outputs). ``cfg.modalities`` is ignored (one
    channel, so no modality embedding) and so are the decoder fields.
    """

    def __init__(self, cfg: MultiMAEConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or MultiMAEConfig()
        self.out_features = cfg.width
        self.tokenizer = ChunkTokenizer(cfg.samples_per_token, cfg.width, cfg.conv_channels, cfg.conv_kernel)
        self.register_buffer("pos_embed", sincos_embedding(cfg.tokens, cfg.width), persistent=False)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads, cfg.mlp_ratio, cfg.dropout, cfg.attn_dropout)
                                    for _ in range(cfg.depth))
        self.norm = layer_norm(cfg.width)
        for mod in self.modules():
            if isinstance(mod, nn.Linear):
                nn.init.xavier_uniform_(mod.weight)
                nn.init.zeros_(mod.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 2 or x.shape[1] != self.cfg.window:
            raise ValueError(f"TokenEncoder expects (B, 1, {self.cfg.window}) or (B, {self.cfg.window}), "
                             f"got {tuple(x.shape)}")
        z = self.tokenizer(x) + self.pos_embed[None]
        for blk in self.blocks:
            z, _ = blk(z)
        return self.norm(z).mean(dim=1)


class MultiMAE(nn.Module):
    """Multimodal masked autoencoder over (B, M, T*S) windows; see the module docstring."""

    def __init__(self, cfg: MultiMAEConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or MultiMAEConfig()
        m, d = len(cfg.modalities), cfg.width
        self.tokenizers = nn.ModuleList(
            ChunkTokenizer(cfg.samples_per_token, d, cfg.conv_channels, cfg.conv_kernel) for _ in range(m)
        )
        self.register_buffer("pos_embed", sincos_embedding(cfg.tokens, d), persistent=False)
        self.modality_embed = nn.Parameter(torch.zeros(m, d))
        self.blocks = nn.ModuleList(
            Block(d, cfg.heads, cfg.mlp_ratio, cfg.dropout, cfg.attn_dropout) for _ in range(cfg.depth)
        )
        self.norm = layer_norm(d)
        self.decoders = nn.ModuleList(ModalityDecoder(i, cfg) for i in range(m))
        self._init_weights()

    def _init_weights(self) -> None:
        for mod in self.modules():
            if isinstance(mod, nn.Linear):
                nn.init.xavier_uniform_(mod.weight)
                nn.init.zeros_(mod.bias)
            elif isinstance(mod, nn.LayerNorm):
                nn.init.ones_(mod.weight)
                nn.init.zeros_(mod.bias)
        # N(0, 0.02) truncated at [-2, 2] (the paper's mask token; MultiMAE's task embeddings)
        nn.init.trunc_normal_(self.modality_embed, std=0.02, a=-2.0, b=2.0)
        for dec in self.decoders:
            nn.init.trunc_normal_(dec.mask_token, std=0.02, a=-2.0, b=2.0)
            nn.init.trunc_normal_(dec.modality_embed, std=0.02, a=-2.0, b=2.0)

    @property
    def n_tokens(self) -> int:
        return len(self.cfg.modalities) * self.cfg.tokens

    def _check(self, x: torch.Tensor, hidden: torch.Tensor | None) -> None:
        m, length = len(self.cfg.modalities), self.cfg.window
        if x.ndim != 3 or x.shape[1:] != (m, length):
            raise ValueError(f"MultiMAE expects x of shape (B, {m}, {length}), got {tuple(x.shape)}")
        if hidden is not None and (hidden.dtype != torch.bool or hidden.shape != (x.shape[0], self.n_tokens)):
            raise ValueError(
                f"hidden must be a bool mask of shape ({x.shape[0]}, {self.n_tokens}), "
                f"got {hidden.dtype} {tuple(hidden.shape)}"
            )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, T*S) -> (B, M*T, D) tokens with time and modality embeddings, modality-major."""
        self._check(x, None)
        tokens = torch.stack([tok(x[:, i]) for i, tok in enumerate(self.tokenizers)], dim=1)  # (B, M, T, D)
        tokens = tokens + self.pos_embed[None, None] + self.modality_embed[None, :, None]
        return tokens.flatten(1, 2)

    def embed_visible(self, x: torch.Tensor, ids_keep: torch.Tensor) -> torch.Tensor:
        """(B, M, T*S), visible token ids (B, K) -> (B, K, D): :meth:`embed` of the visible tokens only. Each
        chunk is tokenised on its own, so the hidden chunks need not be tokenised at all (MAE's saving)."""
        c = self.cfg
        chunks = x.reshape(x.shape[0], -1, c.samples_per_token)  # (B, M*T, S), modality-major like tokens
        kept = torch.gather(chunks, 1, ids_keep[..., None].expand(-1, -1, c.samples_per_token))
        modality = ids_keep // c.tokens
        z = kept.new_empty(*ids_keep.shape, c.width)
        for i, tok in enumerate(self.tokenizers):
            sel = modality == i
            if sel.any():
                z[sel] = tok.tokens(kept[sel])
        table = (self.pos_embed[None] + self.modality_embed[:, None]).reshape(-1, c.width)  # (M*T, D)
        return z + table[ids_keep]

    def _encode(self, x: torch.Tensor, hidden: torch.Tensor | None):
        self._check(x, hidden)
        ids = None
        if hidden is not None:
            ids = visible_ids(hidden)
            z = self.embed_visible(x, ids[0])
        else:
            z = self.embed(x)
        attentions, layers = [], []
        for blk in self.blocks:
            z, probs = blk(z)
            attentions.append(probs)
            layers.append(z)
        return self.norm(z), attentions, layers, ids

    def encode(
        self, x: torch.Tensor, hidden: torch.Tensor | None = None, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Encoder output (B, K, D) of the visible tokens (all M*T when ``hidden`` is None), in token order.

        With ``return_attention`` also the attention probabilities of every layer, first to last, each
        (B, H, K, K) - the same forward pass, so the output is unchanged.
        """
        z, attentions, _, _ = self._encode(x, hidden)
        return (z, attentions) if return_attention else z

    def layer_means(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Token-mean output of every encoder layer on unmasked input, first to last: L tensors (B, D).
        Residual-stream outputs of the blocks (the last before the final LayerNorm)."""
        return [z.mean(dim=1) for z in self._encode(x, None)[2]]

    def forward(self, x: torch.Tensor, hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction (B, M, T*S) of every chunk of every modality from the visible tokens
        (``hidden`` (B, M*T) bool, True = hidden; None: nothing hidden)."""
        if hidden is None:
            hidden = torch.zeros(x.shape[0], self.n_tokens, dtype=torch.bool, device=x.device)
        z, _, _, (ids_keep, ids_restore) = self._encode(x, hidden)
        pred = torch.stack([dec(z, ids_keep, ids_restore, self.pos_embed) for dec in self.decoders], dim=1)
        return pred.flatten(2)
