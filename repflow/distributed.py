"""Process-group helpers for torchrun + DistributedDataParallel (gloo on CPU, nccl on CUDA).

Started plainly (``repflow train``, ``repflow eval``) everything runs as a single process of rank 0; started by
torchrun (``torchrun --nproc_per_node=N -m repflow train ...``, multi-node with the usual torchrun flags), the
environment variables RANK / WORLD_SIZE / LOCAL_RANK say who this process is.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """Who this process is among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the process that logs and writes files (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process trains."""
        return self.world_size > 1


def _joined() -> bool:
    return dist.is_available() and dist.is_initialized()


def current() -> DistInfo:
    """This process among the processes of the joined group (rank 0 of 1 when none was joined)."""
    if not _joined():
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


@contextmanager
def process_group(device: torch.device) -> Iterator[DistInfo]:
    """Join the process group torchrun describes for the ``with`` block (nothing for a single process).

    Pins this process's GPU on CUDA. When the block ends normally the processes leave together: a gloo process
    that tore its group down while rank 0 was still writing files sometimes aborted ("terminate called without
    an active exception"), failing a finished run. After an error the group is left at once.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not info.distributed:
        yield info
        return
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        yield info
        dist.barrier()
    finally:
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all processes (identity for a single process)."""
    if not _joined():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def broadcast_buffers(model: torch.nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every process.

    DDP syncs buffers at the start of each forward pass, so after the last step each rank holds its own
    running statistics; this makes the final models identical everywhere.
    """
    if not _joined():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


def all_gather(value: T) -> list[T]:
    """``value`` (any picklable object) from every process, in rank order."""
    if not _joined():
        return [value]
    gathered: list[T] = [value] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered
