"""Training: the config dataclass, the loop (single process or torchrun + DDP), optimiser and schedule."""

from repflow.train.config import TrainConfig, config_from_dict
from repflow.train.loop import FINAL_MODEL, LAST_CHECKPOINT, train

__all__ = ["FINAL_MODEL", "LAST_CHECKPOINT", "TrainConfig", "config_from_dict", "train"]
