"""Datasets, clip sampling and transforms."""

from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.sources import VideoList, VideoRecord, from_folders, from_list_file, hmdb51, kinetics400
from repflow.data.transforms import MEAN, STD, to_model_input

__all__ = [
    "MEAN",
    "STD",
    "ClipDataset",
    "ClipSpec",
    "VideoList",
    "VideoRecord",
    "from_folders",
    "from_list_file",
    "hmdb51",
    "kinetics400",
    "to_model_input",
]
