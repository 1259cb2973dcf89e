"""SyneCo (Chen & Kim) and its baselines: a registry of pretraining methods over ECG-II, ECG-V and PPG."""

from physiofm.syneco.config import CHANNELS, ECG_CHANNELS, ECG_PAIR, PPG_PAIR, SyneCoConfig
from physiofm.syneco.methods import METHODS, Method, build_method, method_names

__all__ = [
    "CHANNELS",
    "ECG_CHANNELS",
    "ECG_PAIR",
    "METHODS",
    "PPG_PAIR",
    "Method",
    "SyneCoConfig",
    "build_method",
    "method_names",
]
