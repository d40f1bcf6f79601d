"""Tests of the TV-L1 representation flow layer (repflow.flow)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from matplotlib import cbook
from torch.func import functional_call

from repflow.flow import LEARNABLE_GROUPS, TVL1Flow

GROUP_PARAMETERS = {
    "img_grad": ("img_grad_x", "img_grad_y"),
    "flow_grad": ("flow_grad_x", "flow_grad_y", "div_x", "div_y"),
    "theta": ("theta",),
    "lam": ("lam",),
    "tau": ("tau",),
}


def _random_pair(n=1, c=2, h=5, w=6, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    f1 = torch.rand(n, c, h, w, generator=generator, dtype=dtype) * 20
    f2 = f1 + torch.randn(n, c, h, w, generator=generator, dtype=dtype) * 3
    return f1, f2


def _real_image(size=128) -> np.ndarray:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)


def _shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Move the content by (dx, dy) pixels with bilinear interpolation."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, image.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_gradcheck_inputs():
    layer = TVL1Flow(2, n_iter=3).double()
    f1, f2 = _random_pair()
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: layer(a, b), (f1, f2))


@pytest.mark.parametrize("group", LEARNABLE_GROUPS)
def test_gradcheck_each_parameter_group(group):
    layer = TVL1Flow(2, n_iter=3).double()
    names = GROUP_PARAMETERS[group]
    f1, f2 = _random_pair(seed=1)
    start = tuple(getattr(layer, name).detach().clone().requires_grad_(True) for name in names)

    def run(*values):
        return functional_call(layer, dict(zip(names, values)), (f1, f2))

    assert torch.autograd.gradcheck(run, start)


def test_learn_selects_parameters_and_keeps_state_dict():
    full = TVL1Flow(3, learn=True)
    partial = TVL1Flow(3, learn=["theta", "flow_grad"])
    frozen = TVL1Flow(3, learn=False)
    assert {name for name, _ in partial.named_parameters()} == {"theta", "flow_grad_x", "flow_grad_y", "div_x", "div_y"}
    assert list(frozen.parameters()) == []
    assert full.state_dict().keys() == partial.state_dict().keys() == frozen.state_dict().keys()
    frozen.load_state_dict(full.state_dict())
    with pytest.raises(ValueError, match="unknown learnable group"):
        TVL1Flow(3, learn=["thetaa"])


def test_initial_values_and_kernel_shapes():
    layer = TVL1Flow(4)
    assert layer.theta.item() == pytest.approx(0.3)
    assert layer.lam.item() == pytest.approx(0.15)
    assert layer.tau.item() == pytest.approx(0.25)
    assert layer.img_grad_x.shape == (4, 1, 1, 3) and layer.img_grad_y.shape == (4, 1, 3, 1)
    assert layer.flow_grad_x.shape == (4, 1, 1, 2) and layer.flow_grad_y.shape == (4, 1, 2, 1)
    assert layer.div_x.shape == (4, 1, 1, 2) and layer.div_y.shape == (4, 1, 2, 1)
    assert layer.img_grad_x[0].flatten().tolist() == [-0.5, 0.0, 0.5]


def test_image_gradient_is_central_inside_and_one_sided_at_border():
    layer = TVL1Flow(1)
    image = torch.tensor([[1.0, 4.0, 9.0, 16.0, 25.0]]).view(1, 1, 1, 5).expand(1, 1, 3, 5).contiguous()
    gx, gy = layer.image_gradients(image)
    assert gx[0, 0, 1].tolist() == [3.0, 4.0, 6.0, 8.0, 9.0]
    assert torch.count_nonzero(gy) == 0


def test_divergence_is_negative_adjoint_of_flow_gradient():
    """<grad u, p> = -<u, div p> for the initial kernels, with p zero where grad u is (last column/row)."""
    layer = TVL1Flow(2).double()
    generator = torch.Generator().manual_seed(3)
    u = torch.randn(1, 2, 6, 7, generator=generator, dtype=torch.float64)
    a_x, b_x = layer._taps(layer.flow_grad_x)
    a_y, b_y = layer._taps(layer.flow_grad_y)
    p_x = layer._forward_diff(torch.randn_like(u), a_x, b_x, -1)  # zero in the last column, like real p
    p_y = layer._forward_diff(torch.randn_like(u), a_y, b_y, -2)
    u_x = layer._forward_diff(u, a_x, b_x, -1)
    u_y = layer._forward_diff(u, a_y, b_y, -2)
    div = torch.zeros_like(u)
    layer._add_backward_diff_(div, p_x, *layer._taps(layer.div_x), -1)
    layer._add_backward_diff_(div, p_y, *layer._taps(layer.div_y), -2)
    assert torch.allclose((u_x * p_x + u_y * p_y).sum(), -(u * div).sum())


def test_zero_motion_gives_zero_flow():
    image = torch.from_numpy(_real_image(32))[None, None]
    u1, u2 = TVL1Flow(1, n_iter=20)(image, image.clone())
    assert torch.count_nonzero(u1) == 0 and torch.count_nonzero(u2) == 0


def test_constant_input_gives_finite_zero_flow():
    f1 = torch.full((2, 3, 8, 8), 7.0)
    u1, u2 = TVL1Flow(3)(f1, f1.clone())
    assert torch.isfinite(u1).all() and torch.isfinite(u2).all()
    assert u1.abs().max() == 0 and u2.abs().max() == 0


def test_samples_of_a_batch_are_independent():
    layer = TVL1Flow(2, n_iter=5)
    f1, f2 = _random_pair(n=3, h=9, w=9, dtype=torch.float32)
    batch_u1, batch_u2 = layer(f1, f2)
    for index in range(3):
        u1, u2 = layer(f1[index : index + 1], f2[index : index + 1])
        assert torch.allclose(u1[0], batch_u1[index], atol=1e-5)
        assert torch.allclose(u2[0], batch_u2[index], atol=1e-5)


def test_channels_are_independent_images():
    layer = TVL1Flow(2, n_iter=5)
    f1, f2 = _random_pair(n=1, c=2, h=9, w=9, dtype=torch.float32)
    u1, _ = layer(f1, f2)
    f2_changed = f2.clone()
    f2_changed[:, 1] += torch.randn_like(f2_changed[:, 1])
    u1_changed, _ = layer(f1, f2_changed)
    assert torch.equal(u1[:, 0], u1_changed[:, 0])
    assert not torch.equal(u1[:, 1], u1_changed[:, 1])


@pytest.mark.parametrize("dx, dy", [(0.5, -0.3), (-0.8, 0.6), (1.0, 0.0), (0.0, -1.0)])
def test_subpixel_translation_of_a_real_image(dx, dy):
    """With the initial parameters, a known sub-pixel shift is recovered in sign and size.

    Stated bounds: the mean flow is within 0.15 px of the shift, the error is under 0.25 px and within 0.2 px of
    OpenCV's Dual TV-L1 (nscales=1) on the same pair; OpenCV warps the image 5 times, which Algorithm 1 (one
    linearisation) does not.
    """
    image = _real_image(128)
    moved = _shift(image, dx, dy)
    with torch.no_grad():
        u1, u2 = TVL1Flow(1, n_iter=100)(torch.from_numpy(image)[None, None], torch.from_numpy(moved)[None, None])
    inner = (slice(8, -8), slice(8, -8))
    flow = np.stack([u1[0, 0].numpy(), u2[0, 0].numpy()], axis=-1)[inner]
    truth = np.array([dx, dy], dtype=np.float32)
    epe = np.linalg.norm(flow - truth, axis=-1).mean()
    mean_flow = flow.reshape(-1, 2).mean(axis=0)
    for component in range(2):
        if truth[component] != 0:
            assert np.sign(mean_flow[component]) == np.sign(truth[component])
            assert abs(mean_flow[component] - truth[component]) < 0.15  # pixels
    solver = cv2.optflow.DualTVL1OpticalFlow_create(nscales=1)
    opencv_flow = solver.calc(image.astype(np.uint8), np.clip(moved, 0, 255).astype(np.uint8), None)[inner]
    opencv_epe = np.linalg.norm(opencv_flow - truth, axis=-1).mean()
    assert epe < 0.25
    assert epe < opencv_epe + 0.2, (epe, opencv_epe)
    assert epe < 0.3 * np.linalg.norm(truth)  # far better than the zero-flow guess


def test_shape_errors_are_explicit():
    layer = TVL1Flow(3)
    with pytest.raises(ValueError, match=r"expected \(N, 3, H, W\)"):
        layer(torch.zeros(1, 2, 5, 5), torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match="same shape"):
        layer(torch.zeros(1, 3, 5, 5), torch.zeros(1, 3, 5, 6))
    with pytest.raises(ValueError, match="at least 2x2"):
        layer(torch.zeros(1, 3, 1, 5), torch.zeros(1, 3, 1, 5))
    with pytest.raises(ValueError, match="n_iter"):
        TVL1Flow(3, n_iter=0)
