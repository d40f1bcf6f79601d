"""The baselines of Piergiovanni & Ryoo (CVPR 2019, Table 6), beside repflow's (2+1)D ResNets.

One module per architecture, each chosen by ``ModelConfig.arch`` and built by :func:`repflow.models.build_model`:

* :mod:`~repflow.architectures.resnet2d`: 2D ResNets on video (per-frame RGB with averaged predictions, a flow
  stream on stacked TV-L1 flow, and a 2D ResNet with a representation-flow / flow-of-flow block);
* :mod:`~repflow.architectures.tvnet`: TVNet (Fan et al., CVPR 2018), a learnable TV-L1 layer on grayscale frames
  feeding the 2D flow ResNet;
* :mod:`~repflow.architectures.i3d`: I3D, the Inflated Inception-v1 (Carreira & Zisserman, CVPR 2017).

Each module has ``build(config)``, ``check_config(config)`` (ValueError naming what the architecture does not
support) and ``min_frames(config)`` / ``min_size(config)`` (the smallest input it accepts).
"""

from __future__ import annotations

from typing import Any, Mapping


def architecture_name(config: Mapping[str, Any]) -> str:
    """A short name of the network a ``model_config`` dict describes, e.g. "2D ResNet-50" or "I3D"."""
    arch, depth = config.get("arch", "r2plus1d"), config.get("depth", "?")
    names = {"r2plus1d": f"R(2+1)D-{depth}", "resnet2d": f"2D ResNet-{depth}",
             "tvnet": f"TVNet + 2D ResNet-{depth}", "i3d": "I3D (Inception-v1)"}
    return names.get(arch, str(arch))
