"""The representation flow layer: a differentiable TV-L1 optical-flow solver for feature maps.

Implements Algorithm 1 of Piergiovanni & Ryoo, "Representation Flow for Action Recognition" (CVPR 2019),
itself the TV-L1 scheme of Zach, Pock & Bischof (2007) unrolled for a fixed number of iterations, with the
solver's scalars (theta, lambda, tau) and its difference kernels made learnable.

Every channel is treated as its own image: all kernels are depthwise (one per channel), and the whole
solver is written with broadcasting and slicing (no loops over channels or time, no masked in-place writes;
the only in-place ops accumulate into tensors the solver has just made, whole or a slice of them).
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from repflow import flow_fused

LEARNABLE_GROUPS = ("img_grad", "flow_grad", "theta", "lam", "tau")
_EPS = 1e-12


def _resolve_learn(learn: bool | Iterable[str]) -> frozenset[str]:
    if learn is True:
        return frozenset(LEARNABLE_GROUPS)
    if learn is False:
        return frozenset()
    groups = frozenset(learn)
    unknown = groups - set(LEARNABLE_GROUPS)
    if unknown:
        raise ValueError(f"unknown learnable group(s) {sorted(unknown)}; choose from {LEARNABLE_GROUPS}")
    return groups


def _pad_linear_x(image: Tensor) -> Tensor:
    """Pad one column on each side by linear extrapolation (2*edge - neighbour).

    A central difference over this padding equals the one-sided difference at the border.
    """
    left = 2 * image[..., :1] - image[..., 1:2]
    right = 2 * image[..., -1:] - image[..., -2:-1]
    return torch.cat([left, image, right], dim=-1)


def _pad_linear_y(image: Tensor) -> Tensor:
    top = 2 * image[..., :1, :] - image[..., 1:2, :]
    bottom = 2 * image[..., -1:, :] - image[..., -2:-1, :]
    return torch.cat([top, image, bottom], dim=-2)


class TVL1Flow(nn.Module):
    """Representation flow: ``n_iter`` TV-L1 iterations between two feature maps, per channel.

    Args:
        channels: number of channels C of the feature maps; each gets its own kernels.
        n_iter: number of solver iterations (the paper uses 10 to 50).
        learn: which parameter groups are trained: ``True`` (all), ``False`` (none), or any of
            ``"img_grad"`` (image-gradient kernels), ``"flow_grad"`` (flow-gradient and divergence kernels),
            ``"theta"``, ``"lam"``, ``"tau"``. Frozen groups are buffers, so the state dict is the same.
        impl: ``"auto"`` (the fused Triton solver of :mod:`repflow.flow_fused` on CUDA tensors it supports, this
            module's plain PyTorch solver elsewhere), ``"plain"`` or ``"triton"`` (forced). The attribute
            ``impl`` can be changed at any time; the environment variable ``REPFLOW_FLOW_IMPL`` overrides "auto".

    ``forward(f1, f2)`` takes two (N, C, H, W) feature maps of consecutive time steps (already normalised,
    the paper scales them to [0, 255]) and returns ``(u1, u2)``, each (N, C, H, W): the x-flow (positive =
    content moves right) and the y-flow (positive = content moves down), in pixels of the feature map.
    """

    def __init__(self, channels: int, n_iter: int = 10, learn: bool | Iterable[str] = True,
                 impl: str = "auto") -> None:
        super().__init__()
        if impl not in flow_fused.IMPLS:
            raise ValueError(f"impl must be one of {flow_fused.IMPLS}, got {impl!r}")
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        if n_iter < 1:
            raise ValueError(f"n_iter must be >= 1, got {n_iter}")
        self.channels = channels
        self.n_iter = n_iter
        self.learn = _resolve_learn(learn)
        self.impl = impl

        def central(shape: tuple[int, ...]) -> Tensor:
            return torch.tensor([-0.5, 0.0, 0.5]).reshape(shape).repeat(channels, 1, 1, 1)

        def forward_diff(shape: tuple[int, ...]) -> Tensor:
            return torch.tensor([-1.0, 1.0]).reshape(shape).repeat(channels, 1, 1, 1)

        self._register("img_grad_x", central((1, 1, 1, 3)), "img_grad")
        self._register("img_grad_y", central((1, 1, 3, 1)), "img_grad")
        self._register("flow_grad_x", forward_diff((1, 1, 1, 2)), "flow_grad")
        self._register("flow_grad_y", forward_diff((1, 1, 2, 1)), "flow_grad")
        self._register("div_x", forward_diff((1, 1, 1, 2)), "flow_grad")
        self._register("div_y", forward_diff((1, 1, 2, 1)), "flow_grad")
        self._register("theta", torch.tensor(0.3), "theta")
        self._register("lam", torch.tensor(0.15), "lam")
        self._register("tau", torch.tensor(0.25), "tau")

    def _register(self, name: str, value: Tensor, group: str) -> None:
        if group in self.learn:
            self.register_parameter(name, nn.Parameter(value))
        else:
            self.register_buffer(name, value)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, n_iter={self.n_iter}, learn={sorted(self.learn)}"

    def _taps(self, kernel: Tensor) -> list[Tensor]:
        """A (C, 1, kh, kw) kernel as a list of per-channel (1, C, 1, 1) taps, for broadcasting."""
        return [tap.reshape(1, -1, 1, 1) for tap in kernel.reshape(self.channels, -1).unbind(dim=1)]

    def image_gradients(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """Central-difference gradients (x, y) of ``image`` with one-sided differences at the border."""
        gx = F.conv2d(_pad_linear_x(image), self.img_grad_x, groups=self.channels)
        gy = F.conv2d(_pad_linear_y(image), self.img_grad_y, groups=self.channels)
        return gx, gy

    @staticmethod
    def _forward_diff(u: Tensor, a: Tensor, b: Tensor, dim: int) -> Tensor:
        """``a*u[j] + b*u[j+1]`` along ``dim`` (-1 = x, -2 = y), zero at the last index (accumulated in place
        into one zeroed tensor: no temporary, no padding copy)."""
        size = u.shape[dim]
        diff = torch.zeros_like(u)
        head = diff.narrow(dim, 0, size - 1)
        head.addcmul_(a, u.narrow(dim, 0, size - 1))
        head.addcmul_(b, u.narrow(dim, 1, size - 1))
        return diff

    @staticmethod
    def _add_backward_diff_(out: Tensor, p: Tensor, a: Tensor, b: Tensor, dim: int) -> Tensor:
        """Adds ``a*p[j-1] + b*p[j]`` along ``dim`` (with p[-1] = 0) to ``out`` in place: the divergence term of ``p``.

        ``a*p[j-1] + b*p[j]`` is the negative adjoint of the forward difference. With the initial kernel
        [-1, 1] it is div[0] = p[0], div[j] = p[j] - p[j-1] and, because the flow gradient (hence p) is
        zero at the last index, div[last] = -p[last-1]. ``out`` must be a fresh tensor that no earlier
        operation saved for its backward pass.
        """
        size = p.shape[dim]
        out.addcmul_(b, p)
        out.narrow(dim, 1, size - 1).addcmul_(a, p.narrow(dim, 0, size - 1))
        return out

    def forward(self, f1: Tensor, f2: Tensor) -> tuple[Tensor, Tensor]:
        if f1.shape != f2.shape:
            raise ValueError(f"f1 and f2 must have the same shape, got {tuple(f1.shape)} and {tuple(f2.shape)}")
        if f1.dim() != 4 or f1.shape[1] != self.channels:
            raise ValueError(f"expected (N, {self.channels}, H, W) feature maps, got {tuple(f1.shape)}")
        if f1.shape[-1] < 2 or f1.shape[-2] < 2:
            raise ValueError(f"feature maps must be at least 2x2, got {tuple(f1.shape[-2:])}")

        theta = self.theta.abs() + _EPS
        l_t = (self.lam.abs() + _EPS) * theta
        taut = (self.tau.abs() + _EPS) / theta
        if flow_fused.use_fused(self.impl, f1, f2):
            return flow_fused.solve(self, f1, f2, theta, l_t, taut, _EPS)
        eps, one = f1.new_tensor(_EPS), f1.new_tensor(1.0)

        gx, gy = self.image_gradients(f2)
        grad = torch.stack([gx, gy])  # (2, N, C, H, W)
        neg_inv_grad_sq = -1.0 / torch.addcmul(torch.addcmul(eps, gx, gx), gy, gy)
        rho_c = f2 - f1
        gx_a, gx_b = self._taps(self.flow_grad_x)
        gy_a, gy_b = self._taps(self.flow_grad_y)
        # theta * div(p) is accumulated with theta folded into the divergence taps.
        dx_a, dx_b = (theta * tap for tap in self._taps(self.div_x))
        dy_a, dy_b = (theta * tap for tap in self._taps(self.div_y))

        # The flow components u = (u1, u2) are stacked on a leading axis, and so are the dual variables
        # p_x = (p1x, p2x), p_y = (p1y, p2y): one tensor op updates both components.
        u = torch.zeros_like(grad)
        p_x = torch.zeros_like(grad)
        p_y = torch.zeros_like(grad)
        for _ in range(self.n_iter):
            # Fresh intermediates are updated in place where no backward pass needs their old values: on large
            # maps the solver is memory-bound, and every temporary it does not allocate saves a pass over memory.
            rho = torch.addcmul(rho_c, gx, u[0]).addcmul_(gy, u[1])
            # The three cases of the thresholding step (v = u + l_t*grad, u - l_t*grad, u - rho*grad/|grad|^2)
            # are exactly step = clamp(-rho/|grad|^2, -l_t, l_t); each case stays differentiable.
            step = torch.clamp(rho * neg_inv_grad_sq, -l_t, l_t)
            u = torch.addcmul(u, step, grad)  # v
            self._add_backward_diff_(u, p_x, dx_a, dx_b, -1)  # u = v + theta * div(p)
            self._add_backward_diff_(u, p_y, dy_a, dy_b, -2)

            u_x = self._forward_diff(u, gx_a, gx_b, -1)
            u_y = self._forward_diff(u, gy_a, gy_b, -2)
            norm = torch.addcmul(one, taut, torch.sqrt(torch.addcmul(eps, u_x, u_x).addcmul_(u_y, u_y)))
            p_x = torch.addcmul(p_x, taut, u_x) / norm
            p_y = torch.addcmul(p_y, taut, u_y) / norm
        return u[0], u[1]
