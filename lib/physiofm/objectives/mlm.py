"""Masked language modelling (BERT; D-BETA §3.1, Eq. 1) — the input corruption and the loss.

Corruption (BERT's, as HuggingFace's ``DataCollatorForLanguageModeling`` draws it): every non-special token is
selected with probability ``rate`` (0.25 in D-BETA's code); a selected token becomes the mask token with
probability 0.8, a random non-special token with probability 0.1, and stays unchanged otherwise. Labels are
the original ids at the selected positions and -100 elsewhere. T5 has no mask token: D-BETA's paper profile
masks with the sentinel ``<extra_id_0>``.

    L_MLM = mean over selected tokens of -log p(t_m | corrupted text, ECG)

Eq. 1 sums over the masked tokens and divides by B; the authors' code takes the mean over masked tokens
(``F.cross_entropy(..., ignore_index=-100)``), which :func:`mlm_loss` follows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE = -100


def mlm_mask(
    input_ids: torch.Tensor,
    special_tokens_mask: torch.Tensor,
    mask_token_id: int,
    random_token_ids: torch.Tensor,
    rate: float = 0.25,
    mask_share: float = 0.8,
    random_share: float = 0.1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT corruption of ``input_ids`` (B, L); special (and padding) positions, True in
    ``special_tokens_mask`` (B, L), are never selected.

    Returns:
        masked ids (B, L) long, labels (B, L) long (original id where selected, -100 elsewhere).
    """
    if input_ids.shape != special_tokens_mask.shape:
        shapes = f"{tuple(input_ids.shape)} and {tuple(special_tokens_mask.shape)}"
        raise ValueError(f"MLM ids and special-token mask differ in shape: {shapes}")
    if not (0 <= rate <= 1 and 0 <= mask_share and 0 <= random_share and mask_share + random_share <= 1):
        raise ValueError(f"bad MLM rates: rate={rate}, mask_share={mask_share}, random_share={random_share}")
    dev = input_ids.device

    def draw(p: float) -> torch.Tensor:
        return torch.rand(input_ids.shape, generator=generator, device=dev) < p

    selected = draw(rate) & ~special_tokens_mask.bool()
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE))
    to_mask = selected & draw(mask_share)
    # of the rest, random_share / (1 - mask_share) become a random token (0.1 / 0.2 = half, as BERT)
    rest = 1.0 - mask_share
    to_random = selected & ~to_mask & draw(random_share / rest if rest > 0 else 0.0)
    out = input_ids.clone()
    out[to_mask] = mask_token_id
    pool = random_token_ids.to(dev)
    pick = torch.randint(len(pool), input_ids.shape, generator=generator, device=dev)
    out[to_random] = pool[pick[to_random]]
    return out, labels


def mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of ``logits`` (B, L, V) at the positions where ``labels`` (B, L) != -100; 0 if none."""
    sel = labels != IGNORE
    if not sel.any():  # a batch without a selected token: a zero that keeps the graph
        return logits.sum() * 0.0
    return F.cross_entropy(logits[sel], labels[sel])
