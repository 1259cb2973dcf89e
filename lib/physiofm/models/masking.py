"""Random token masking as MAE does it (He et al. 2022, ``models_mae.random_masking``).

Per sample, draw one uniform noise value per token, sort, keep the ``K`` tokens with the smallest noise (in
their sorted order) and remember how to undo the shuffle. hybrid_ecg (GL), multimae and dbeta (MEM) all mask
with this one idea: :func:`random_masking` on token tensors, :func:`multimodal_mask` (MultiMAE, with optional
input modality drop) as a boolean mask over the M x T tokens of M modalities. Both rank noise with
:func:`keep_lowest`.
"""

from __future__ import annotations

import torch


def keep_lowest(noise: torch.Tensor, keep: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rank ``noise`` (B, L) per row and keep the ``keep`` lowest.

    Returns:
        ids_shuffle: (B, L) long, token indices by increasing noise; the first ``keep`` are kept.
        ids_restore: (B, L) long, the inverse permutation.
        removed: (B, L) bool, True where a token is not kept, in the original token order.
    """
    if noise.ndim != 2:
        raise ValueError(f"keep_lowest expects noise of shape (B, L), got {tuple(noise.shape)}")
    if not 0 <= keep <= noise.shape[1]:
        raise ValueError(f"cannot keep {keep} of {noise.shape[1]} tokens")
    ids_shuffle = torch.argsort(noise, dim=1)  # ascending: small noise is kept
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    removed = ids_restore >= keep
    return ids_shuffle, ids_restore, removed


def random_masking(
    tokens: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep a random subset of tokens per sample.

    Args:
        tokens: (B, L, D).
        mask_ratio: share of tokens removed, in [0, 1).
        generator: optional torch generator for the noise (on ``tokens``' device).

    Returns:
        kept: (B, K, D) with K = int(L * (1 - mask_ratio)), in the order of increasing noise.
        mask: (B, L) float, 1 = removed, 0 = kept, in the original token order.
        ids_restore: (B, L) long; ``torch.gather`` of [kept; mask tokens] with it restores the order.
    """
    if tokens.ndim != 3:
        raise ValueError(f"random_masking expects tokens of shape (B, L, D), got {tuple(tokens.shape)}")
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    b, length, d = tokens.shape
    keep = int(length * (1 - mask_ratio))
    noise = torch.rand(b, length, device=tokens.device, generator=generator)
    ids_shuffle, ids_restore, removed = keep_lowest(noise, keep)
    kept = torch.gather(tokens, 1, ids_shuffle[:, :keep].unsqueeze(-1).expand(-1, -1, d))
    return kept, removed.to(tokens.dtype), ids_restore


def visible_count(n_tokens: int, mask_ratio: float) -> int:
    """Tokens left visible when ``mask_ratio`` of ``n_tokens`` are hidden: int(n * (1 - ratio)).

    A 1e-9 guard absorbs float error, so 120 tokens at ratio 0.9 keep 12, not 11 (120 * (1 - 0.9) is
    11.999...); MAE's plain int() would drop one token at some ratios of a mask-probability sweep.
    """
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    return int(n_tokens * (1 - mask_ratio) + 1e-9)


def overall_mask_ratio(drop_probability: float, n_modalities: int) -> float:
    """Overall share hidden when one of M modalities is dropped and the rest masked with probability p:
    1/M + (M-1)/M * p (MultiMAE App C; p = 0.6, M = 4 -> 0.7). The x-axis of Fig 3B is p."""
    if not 0.0 <= drop_probability < 1.0 or n_modalities < 2:
        raise ValueError(f"need p in [0, 1) and >= 2 modalities, got p={drop_probability}, M={n_modalities}")
    return 1.0 / n_modalities + (n_modalities - 1) / n_modalities * drop_probability


def modality_mask(
    batch_size: int,
    n_modalities: int,
    tokens: int,
    mask_ratio: float,
    dropped: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """:func:`multimodal_mask` with the dropped modality given (``None``: no drop), e.g. to show how a chosen
    modality is rebuilt from the others (MultiMAE Fig 4). Same noise draw as :func:`multimodal_mask`."""
    if batch_size < 1 or n_modalities < 1 or tokens < 1:
        raise ValueError(
            f"multimodal mask needs batch_size, n_modalities and tokens >= 1, "
            f"got {batch_size}, {n_modalities}, {tokens}"
        )
    n = n_modalities * tokens
    keep = visible_count(n, mask_ratio)
    if keep < 1:
        raise ValueError(f"mask_ratio {mask_ratio} leaves no visible token of {n}")
    noise = torch.rand(batch_size, n, generator=generator)
    if dropped is not None:
        if n_modalities < 2:
            raise ValueError("modality drop needs at least two modalities (one must stay visible)")
        if not 0 <= dropped < n_modalities:
            raise ValueError(f"dropped modality {dropped} is not in 0..{n_modalities - 1}")
        if keep > n - tokens:
            raise ValueError(
                f"mask_ratio {mask_ratio} keeps {keep} tokens, more than the {n - tokens} left after "
                f"dropping a modality; with drop it must be at least 1/{n_modalities}"
            )
        # noise is in [0, 1): +1 ranks every token of the dropped modality after all the others
        noise[:, dropped * tokens : (dropped + 1) * tokens] += 1.0
    return keep_lowest(noise, keep)[2]


def multimodal_mask(
    batch_size: int,
    n_modalities: int = 4,
    tokens: int = 30,
    mask_ratio: float = 0.7,
    modality_drop: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """MultiMAE's token mask (Fang et al. §3.3, App C) over M modalities x T tokens, modality-major.

    ``mask_ratio`` is the share of all M*T tokens hidden, in both variants, so int(M*T*(1 - ratio)) stay
    visible (4 x 30 at 0.7: 36). Without drop, the hidden tokens are drawn uniformly per sample. With
    ``modality_drop`` one modality, drawn uniformly once for the whole batch ("in every batch, one randomly
    chosen modality is completely dropped"), is hidden entirely and the visible tokens are drawn uniformly
    from the other modalities: they are masked with probability p = (M*ratio - 1)/(M - 1) (0.7 -> 0.6, App C;
    :func:`overall_mask_ratio` goes from p to the ratio), so ratio must be >= 1/M.

    Args:
        generator: a CPU torch generator for the draws (the mask is made on the CPU; move it with .to()).

    Returns:
        (B, M*T) bool, True = hidden from the encoder; token m*T + t is modality m, second t.
    """
    if n_modalities < 1:
        raise ValueError(f"multimodal mask needs n_modalities >= 1, got {n_modalities}")
    dropped = int(torch.randint(n_modalities, (1,), generator=generator)) if modality_drop else None
    return modality_mask(batch_size, n_modalities, tokens, mask_ratio, dropped, generator)
