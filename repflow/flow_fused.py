"""The fused TV-L1 solver behind ``TVL1Flow`` on CUDA: two Triton kernels (forward, backward) in an autograd function.

Design. The flow layer sits on small feature maps (14x14 to 56x56), so one Triton program holds a whole (H, W)
plane, padded to powers of two up to :data:`MAX_PLANE` elements (64x64), for all iterations: it reads F1 and F2
once and writes u1 and u2 once, and the per-iteration state never leaves the chip (neighbours are exchanged
through the program's slice of a scratch buffer that stays in L1/L2; see :mod:`repflow.flow_triton`). Programs
loop over the N*C planes, so scratch memory scales with the grid, not the batch.

The backward kernel keeps nothing from the forward pass: per plane it recomputes the iterations, keeping every
iteration's state (u, p: 6 maps) in its scratch, then runs reverse mode from the last iteration to the first.
Training memory is therefore the inputs, the outputs, their gradients and a scratch capped at
:data:`SCRATCH_BUDGET` bytes, independent of the batch. Parameters get per-plane partial gradients, summed over
the batch here.

All arithmetic is float32 (float16/bfloat16 inputs, e.g. under autocast, are widened on load); the flow has the
inputs' promoted dtype, as on the plain path. Planes larger than :data:`MAX_PLANE` and float64 inputs always take
the plain path (``impl="triton"`` says why it cannot run); CPU tensors take it unless ``impl="triton"`` forces this
one, which on CPU needs Triton's interpreter (``TRITON_INTERPRET=1`` set before the first use: the tests run so).
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

import torch
from torch import Tensor

IMPLS = ("auto", "plain", "triton")
# Overrides impl="auto" of every TVL1Flow, e.g. REPFLOW_FLOW_IMPL=plain to compare with the eager solver.
IMPL_ENV = "REPFLOW_FLOW_IMPL"
MAX_PLANE = 64 * 64
SCRATCH_BUDGET = 256 * 2**20
_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_SLOT_MAPS = 6  # maps in one iteration state: u1, u2, p1x, p2x, p1y, p2y


@functools.cache
def _kernels() -> ModuleType | None:
    """The Triton kernels, or None where Triton is not installed (imported on first use only)."""
    try:
        from repflow import flow_triton
    except ImportError:
        return None
    return flow_triton


def _interpreted(kernels: ModuleType) -> bool:
    from triton.runtime.interpreter import InterpretedFunction

    return isinstance(kernels.tvl1_forward_kernel, InterpretedFunction)


def _block(height: int, width: int) -> tuple[int, int]:
    return 1 << (height - 1).bit_length(), 1 << (width - 1).bit_length()


def unsupported_reason(f1: Tensor, f2: Tensor) -> str | None:
    """Why the fused solver cannot take these inputs, or None if it can."""
    kernels = _kernels()
    if kernels is None:
        return "Triton is not installed"
    if f1.dtype not in _DTYPES or f2.dtype not in _DTYPES:
        return f"it computes float32/float16/bfloat16 inputs, got {f1.dtype} and {f2.dtype}"
    block_h, block_w = _block(*f1.shape[-2:])
    if block_h * block_w > MAX_PLANE:
        return f"a {f1.shape[-2]}x{f1.shape[-1]} map is larger than one program holds ({MAX_PLANE} padded elements)"
    if f1.device.type == "cpu" and not _interpreted(kernels):
        return "CPU tensors need Triton's interpreter (TRITON_INTERPRET=1 set before the first fused call)"
    if f1.device.type not in ("cpu", "cuda"):
        return f"it runs on CUDA (or CPU under Triton's interpreter), not {f1.device.type}"
    return None


def use_fused(impl: str, f1: Tensor, f2: Tensor) -> bool:
    """Whether a ``TVL1Flow`` with this ``impl`` runs on the fused solver for these inputs.

    "plain": never; "triton": always (a ValueError says why it cannot); "auto" (or the value of the
    ``REPFLOW_FLOW_IMPL`` environment variable): on CUDA tensors the fused solver supports.
    """
    if impl == "auto":
        impl = os.environ.get(IMPL_ENV, "auto")
        if impl not in IMPLS:
            raise ValueError(f"{IMPL_ENV}={impl!r}: choose one of {IMPLS}")
    if impl == "plain" or (impl == "auto" and not f1.is_cuda):
        return False
    reason = unsupported_reason(f1, f2)
    if impl == "triton" and reason is not None:
        raise ValueError(f"impl='triton' cannot run here: {reason}")
    return reason is None


def solve(layer: torch.nn.Module, f1: Tensor, f2: Tensor, theta: Tensor, l_t: Tensor, taut: Tensor,
          eps: float) -> tuple[Tensor, Tensor]:
    """``layer``'s flow (u1, u2) on the fused solver, with ``theta``, ``l_t`` and ``taut`` already made positive.

    Differentiable w.r.t. F1, F2 and every learnable parameter of the layer.
    """
    channels = layer.channels
    taps = torch.cat([
        layer.img_grad_x.reshape(channels, 3), layer.img_grad_y.reshape(channels, 3),
        layer.flow_grad_x.reshape(channels, 2), layer.flow_grad_y.reshape(channels, 2),
        theta * layer.div_x.reshape(channels, 2), theta * layer.div_y.reshape(channels, 2),
    ], dim=1).float().contiguous()
    scalars = torch.stack([l_t, taut]).float()
    return _FusedTVL1.apply(f1, f2, taps, scalars, layer.n_iter, eps)


def _launch(f1: Tensor, maps_per_program: int, warps_per_sm: int) -> tuple[int, int, int, int, Tensor]:
    """(block_h, block_w, num_warps, programs, scratch) for a kernel keeping ``maps_per_program`` maps of scratch.

    The grid is about what the GPU runs at once, ``warps_per_sm`` resident warps per SM (a bigger grid would only
    queue programs and add scratch), and its scratch stays within SCRATCH_BUDGET.
    """
    height, width = f1.shape[-2:]
    block_h, block_w = _block(height, width)
    block = block_h * block_w
    # Two elements of each map per thread. ptxas (sm_90) gives the forward kernel 64 registers per thread at 32x32
    # (16 warps: 2 programs fill an SM's 64K registers, 32 warps) and the backward 128 (1 program, 16 warps);
    # 64x64 maps spill to local memory (the 1024-thread limit).
    num_warps = max(1, min(32, block // 64))
    planes = f1.shape[0] * f1.shape[1]
    if f1.is_cuda:
        resident = torch.cuda.get_device_properties(f1.device).multi_processor_count * max(1, warps_per_sm // num_warps)
    else:
        resident = 4  # the interpreter runs programs one after another; several planes per program get tested
    programs = max(1, min(planes, resident, SCRATCH_BUDGET // (maps_per_program * block * 4)))
    scratch = torch.empty(programs * maps_per_program * block, dtype=torch.float32, device=f1.device)
    return block_h, block_w, num_warps, programs, scratch


class _FusedTVL1(torch.autograd.Function):
    @staticmethod
    def forward(ctx, f1: Tensor, f2: Tensor, taps: Tensor, scalars: Tensor, n_iter: int, eps: float):
        kernels = _kernels()
        f1, f2 = f1.contiguous(), f2.contiguous()
        batch, channels, height, width = f1.shape
        u1 = torch.empty(f1.shape, dtype=torch.promote_types(f1.dtype, f2.dtype), device=f1.device)
        u2 = torch.empty_like(u1)
        block_h, block_w, num_warps, programs, scratch = _launch(f1, _SLOT_MAPS, warps_per_sm=32)
        kernels.tvl1_forward_kernel[(programs,)](
            f1, f2, taps, scalars, u1, u2, scratch, batch * channels, channels, height, width, n_iter, eps,
            BH=block_h, BW=block_w, num_warps=num_warps)
        ctx.save_for_backward(f1, f2, taps, scalars)
        ctx.n_iter, ctx.eps = n_iter, eps
        return u1, u2

    @staticmethod
    def backward(ctx, grad_u1: Tensor, grad_u2: Tensor):
        kernels = _kernels()
        f1, f2, taps, scalars = ctx.saved_tensors
        batch, channels, height, width = f1.shape
        grad_f1, grad_f2 = torch.empty_like(f1), torch.empty_like(f2)
        partials = torch.empty(batch * channels, kernels.N_PARTIALS.value, dtype=torch.float32, device=f1.device)
        maps = (ctx.n_iter + 2) * _SLOT_MAPS  # every iteration's state, and the exchange areas
        block_h, block_w, num_warps, programs, scratch = _launch(f1, maps, warps_per_sm=16)
        kernels.tvl1_backward_kernel[(programs,)](
            f1, f2, taps, scalars, grad_u1.contiguous(), grad_u2.contiguous(), grad_f1, grad_f2, partials, scratch,
            batch * channels, channels, height, width, ctx.n_iter, ctx.eps,
            BH=block_h, BW=block_w, num_warps=num_warps)
        partials = partials.view(batch, channels, -1).sum(dim=0)
        n_taps = kernels.N_TAPS.value
        return grad_f1, grad_f2, partials[:, :n_taps], partials[:, n_taps:].sum(dim=0), None, None
