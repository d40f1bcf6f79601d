"""Optimiser and learning-rate schedule.

As in the paper (Piergiovanni & Ryoo, CVPR 2019, Sec. 4), the flow layers' own parameters (theta, lambda,
tau and the gradient/divergence kernels of every `repflow.flow.TVL1Flow`) form a separate parameter
group trained at ``flow_lr_scale`` (0.01) times the learning rate. Schedules are per optimiser step:
linear warm-up, then cosine decay to zero or step decay.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repflow.flow import TVL1Flow
from repflow.train.config import TrainConfig


def flow_layer_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Trainable parameters that belong to TV-L1 flow layers."""
    return [p for m in model.modules() if isinstance(m, TVL1Flow) for p in m.parameters() if p.requires_grad]


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW, with group 0 = network weights and group 1 = flow-layer parameters."""
    flow_ids = {id(p) for p in flow_layer_parameters(model)}
    network = [p for p in model.parameters() if p.requires_grad and id(p) not in flow_ids]
    flow = [p for p in model.parameters() if id(p) in flow_ids]
    groups = [{"params": network, "lr": config.lr, "name": "network"},
              {"params": flow, "lr": config.lr * config.flow_lr_scale, "name": "flow"}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)


def lr_factor(step: int, *, total_steps: int, warmup_steps: int, schedule: str, step_every: int,
              gamma: float) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` (0-based)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "cosine":
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return gamma ** ((step - warmup_steps) // max(1, step_every))


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig,
                    steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step schedule: warm-up for ``warmup_epochs``, then cosine over the rest or step decay."""
    total = config.epochs * steps_per_epoch
    warmup = round(config.warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        return lr_factor(step, total_steps=total, warmup_steps=warmup, schedule=config.schedule,
                         step_every=config.step_epochs * steps_per_epoch, gamma=config.gamma)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
