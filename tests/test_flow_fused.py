"""The fused Triton TV-L1 solver equals the plain PyTorch one: flows, input gradients, every parameter's gradient.

On a CUDA machine the kernels run on the GPU; elsewhere Triton's interpreter runs them on CPU tensors
(``TRITON_INTERPRET=1``, set here before the kernels are first imported).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ON_GPU = torch.cuda.is_available()
if not ON_GPU:
    os.environ["TRITON_INTERPRET"] = "1"

triton = pytest.importorskip("triton")

from repflow import flow_fused  # noqa: E402 (after TRITON_INTERPRET is set)
from repflow.flow import LEARNABLE_GROUPS, TVL1Flow  # noqa: E402

DEVICE = torch.device("cuda" if ON_GPU else "cpu")
RTOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def exact_float32():
    """On CPU: the kernels must have been imported after TRITON_INTERPRET was set (at this module's import). On
    CUDA: no TF32 in the plain path's image-gradient convolution (cuDNN's default would round its inputs to 10 bits,
    an error of ~1e-3 that the fused solver does not make)."""
    if not ON_GPU and not flow_fused._interpreted(flow_fused._kernels()):
        pytest.fail("repflow.flow_triton was imported before TRITON_INTERPRET=1 was set; run this file on its own")
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = tf32


def _inputs(n, c, h, w, seed=0):
    """Feature maps in [0, 20]; each channel's F2 differs from F1 by noise of its own scale (0.02 to 3), so that
    the thresholding step is inside its clamp for some pixels and at either bound for others."""
    generator = torch.Generator().manual_seed(seed)
    f1 = torch.rand(n, c, h, w, generator=generator) * 20
    scale = torch.logspace(-1.7, 0.5, c).view(1, c, 1, 1)
    f2 = f1 + torch.randn(n, c, h, w, generator=generator) * scale
    return f1, f2


def _layer(c, n_iter, learn, seed=0):
    """A layer whose parameters are moved away from their symmetric initial values (catches swapped taps)."""
    layer = TVL1Flow(c, n_iter=n_iter, learn=learn)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for tensor in list(layer.parameters()) + list(layer.buffers()):
            tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.1 * tensor.abs().mean())
    return layer


def _run(layer, f1, f2, impl, dtype=torch.float32):
    """Flows and the gradients of a weighted sum of them w.r.t. F1, F2 and every learnable parameter."""
    layer = layer.to(DEVICE, dtype)
    layer.impl = impl
    f1 = f1.to(DEVICE, dtype).clone().requires_grad_(True)
    f2 = f2.to(DEVICE, dtype).clone().requires_grad_(True)
    u1, u2 = layer(f1, f2)
    generator = torch.Generator().manual_seed(7)
    weights = torch.randn((2,) + u1.shape, generator=generator).to(DEVICE, dtype)
    (u1 * weights[0] + u2 * weights[1]).sum().backward()
    results = {"u1": u1, "u2": u2, "f1.grad": f1.grad, "f2.grad": f2.grad}
    for name, param in layer.named_parameters():
        # A parameter the flow does not depend on (the dual step's, after one iteration) has no gradient: zero.
        results[f"{name}.grad"] = torch.zeros_like(param) if param.grad is None else param.grad
        param.grad = None
    return {name: value.detach().double().cpu() for name, value in results.items()}


def _relative_error(value, reference):
    return ((value - reference).norm() / reference.norm().clamp_min(1e-30)).item()


CASES = [  # (N, C, H, W, iterations, learn)
    (2, 3, 5, 7, 1, True),
    (2, 3, 12, 9, 3, ["img_grad", "theta"]),
    (1, 3, 16, 16, 10, True),
    (1, 2, 2, 5, 3, True),
    (1, 2, 3, 2, 3, ["flow_grad", "lam", "tau"]),
]


@pytest.mark.parametrize("n, c, h, w, n_iter, learn", CASES)
def test_fused_equals_plain(n, c, h, w, n_iter, learn):
    layer = _layer(c, n_iter, learn)
    f1, f2 = _inputs(n, c, h, w)
    fused = _run(layer, f1, f2, "triton")
    plain = _run(layer, f1, f2, "plain")
    expected = {"u1", "u2", "f1.grad", "f2.grad"} | {f"{name}.grad" for name, _ in layer.named_parameters()}
    assert fused.keys() == plain.keys() == expected
    for name in expected:
        scale = plain[name].abs().max().item()
        torch.testing.assert_close(fused[name], plain[name], rtol=RTOL, atol=RTOL * scale, msg=name)
    if n_iter < 10:
        return
    # Both float32 solvers carry rounding error of the same size relative to a float64 plain solve.
    exact = _run(layer, f1, f2, "plain", dtype=torch.float64)
    for name in expected:
        fused_error, plain_error = _relative_error(fused[name], exact[name]), _relative_error(plain[name], exact[name])
        assert fused_error < max(10 * plain_error, 1e-6), (name, fused_error, plain_error)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs_compute_in_float32(dtype):
    """float16/bfloat16 maps (as under autocast) are widened on load: the flow equals the float32 solve of the
    same values, rounded to the inputs' dtype, and gradients come back in that dtype."""
    layer = _layer(2, 3, True).to(DEVICE)
    f1, f2 = (x.to(dtype) for x in _inputs(1, 2, 6, 8))
    f1, f2 = f1.to(DEVICE), f2.to(DEVICE).requires_grad_(True)
    layer.impl = "triton"
    u1, u2 = layer(f1, f2)
    assert u1.dtype == u2.dtype == dtype
    (u1.float().sum() + u2.float().sum()).backward()
    assert f2.grad.dtype == dtype
    layer.impl = "plain"
    v1, v2 = layer(f1.float(), f2.detach().float())
    tolerance = {"rtol": 1e-2, "atol": 1e-2 * v1.abs().max().item()}
    torch.testing.assert_close(u1.float(), v1.to(dtype).float(), **tolerance)
    torch.testing.assert_close(u2.float(), v2.to(dtype).float(), **tolerance)


def test_auto_uses_the_plain_path_on_cpu_and_impl_is_checked(monkeypatch):
    f1, f2 = _inputs(1, 2, 4, 4)
    assert not flow_fused.use_fused("auto", f1, f2)
    assert flow_fused.use_fused("triton", f1.to(DEVICE), f2.to(DEVICE))
    assert not flow_fused.use_fused("plain", f1.to(DEVICE), f2.to(DEVICE))
    monkeypatch.setenv(flow_fused.IMPL_ENV, "plain")
    assert not flow_fused.use_fused("auto", f1.to(DEVICE), f2.to(DEVICE))
    monkeypatch.setenv(flow_fused.IMPL_ENV, "fast")
    with pytest.raises(ValueError, match="REPFLOW_FLOW_IMPL='fast'"):
        flow_fused.use_fused("auto", f1, f2)
    with pytest.raises(ValueError, match="impl must be one of"):
        TVL1Flow(2, impl="cuda")


@pytest.mark.skipif(not ON_GPU, reason="the interpreter runs 4 programs, so the small cases above loop over planes")
def test_programs_that_loop_over_many_planes_on_cuda():
    """At 28x28 a GPU grid holds a few hundred programs: 576 planes make every program solve several. The scalar
    parameters' gradients sum 10^6 terms here, so the float64 solve judges: the fused solver must be within 1e-5 of
    it or no farther from it than twice the plain float32 solver."""
    layer = _layer(16, 3, True)
    f1, f2 = _inputs(36, 16, 28, 28)
    fused, plain = _run(layer, f1, f2, "triton"), _run(layer, f1, f2, "plain")
    exact = _run(layer, f1, f2, "plain", dtype=torch.float64)
    for name in exact:
        fused_error, plain_error = _relative_error(fused[name], exact[name]), _relative_error(plain[name], exact[name])
        assert fused_error < max(2 * plain_error, RTOL), (name, fused_error, plain_error)


@pytest.mark.skipif(not ON_GPU, reason="the automatic choice of the fused solver is for CUDA tensors")
def test_auto_uses_the_fused_solver_on_cuda():
    f1, f2 = (x.to(DEVICE) for x in _inputs(1, 2, 28, 28))
    assert flow_fused.use_fused("auto", f1, f2)


def test_what_the_fused_solver_cannot_take_is_said_or_left_to_the_plain_path():
    big = torch.zeros(1, 1, 65, 65, device=DEVICE)
    assert not flow_fused.use_fused("auto", big, big)
    with pytest.raises(ValueError, match="larger than one program holds"):
        flow_fused.use_fused("triton", big, big)
    double = torch.zeros(1, 1, 4, 4, dtype=torch.float64, device=DEVICE)
    with pytest.raises(ValueError, match="float64"):
        flow_fused.use_fused("triton", double, double)


def test_every_learnable_group_gets_a_gradient_through_the_fused_solver():
    layer = _layer(2, 2, True)
    f1, f2 = _inputs(1, 2, 5, 5)
    fused = _run(layer, f1, f2, "triton")
    for group in LEARNABLE_GROUPS:
        names = [name for name in fused if name.startswith(group)]
        assert names and all(fused[name].abs().sum() > 0 for name in names), group


# Compiles both kernels to an sm_90 cubin (Triton's frontend, its GPU passes and ptxas; no GPU needed), catching
# what the interpreter lets through. Runs in a fresh process: this one imported the kernels for the interpreter.
_COMPILE_FOR_H100 = """
import triton
from triton.backends.compiler import GPUTarget
from repflow import flow_triton

pointers = {"taps_ptr": "*fp32", "scalars_ptr": "*fp32", "partials_ptr": "*fp32", "scratch_ptr": "*fp32"}
for kernel in (flow_triton.tvl1_forward_kernel, flow_triton.tvl1_backward_kernel):
    constants = {"BH": 16, "BW": 16}
    signature = {name: "constexpr" if name in constants else "fp32" if name == "eps"
                 else pointers.get(name, "*bf16") if name.endswith("_ptr") else "i32" for name in kernel.arg_names}
    source = triton.compiler.ASTSource(kernel, signature, constexprs=constants)
    compiled = triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"num_warps": 4})
    assert compiled.asm["cubin"], kernel.__name__
    print(kernel.__name__, "compiled")
"""


@pytest.mark.skipif(ON_GPU, reason="on a GPU the other tests compile and run the kernels")
def test_kernels_compile_for_a_gpu():
    root = Path(__file__).resolve().parents[1]
    env = {name: value for name, value in os.environ.items() if name != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    env.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    done = subprocess.run([sys.executable, "-c", _COMPILE_FOR_H100], env=env, cwd=root, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:2] == ["tvl1_forward_kernel compiled", "tvl1_backward_kernel compiled"]
