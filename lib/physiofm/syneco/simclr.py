"""SimCLR baseline (Chen et al. 2020) as SyneCo's Appendix D instantiates it: a two-view objective whose two
views are two co-recorded channels -- ECG-II and ECG-V for ECG tasks, ECG-II and PPG for PPG tasks.

    e_a = Encoder_a(aug(x_a)), e_b = Encoder_b(aug(x_b))      (B, 512), one augmented view, same operator
    L   = NT-Xent(e_a, e_b)  with in-batch negatives from both channels (physiofm.objectives.info_nce)

Interpretation: the paper gives no projection head beyond the shared encoder (whose output already passes a
linear map to 512), so NT-Xent is applied to the 512-d embeddings, as SyneCo's own per-channel term is.
"""

from __future__ import annotations

import torch

from physiofm.augment import SyneCoAugment
from physiofm.objectives import info_nce
from physiofm.syneco.common import channel_inputs, device_of
from physiofm.syneco.config import SyneCoConfig
from physiofm.syneco.sleepfm import ChannelEncoders


class SimCLRObjective:
    def __init__(self, config: SyneCoConfig) -> None:
        self.temperature = config.temperature
        self.augment = SyneCoAugment(config.noise_sigma, config.amplitude_scale)

    def __call__(
        self, model: ChannelEncoders, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        a, b = model.channels
        view = self.augment(channel_inputs(batch, model.channels, device_of(model)), model.channels)
        e = model.encode(view)
        loss = info_nce(e[a], e[b], self.temperature)
        return loss, {"loss": float(loss.detach())}
