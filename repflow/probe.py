"""Flow probes: the motion of the features inside any video network, with no training and no change to it.

A TV-L1 flow layer with its initial parameters computes the optical flow of whatever feature maps it is given
(Piergiovanni & Ryoo, "Representation Flow for Action Recognition", CVPR 2019, Algorithm 1; Zach, Pock &
Bischof, 2007). A probe puts such a frozen layer on the output (B, C, T, H, W) of a named submodule through a
forward hook: it reduces the channels without training (the channels with the most motion energy, or the
clip's own principal components over channels), min-max normalises each sample to [0, 255] and runs
:class:`repflow.flow.TVL1Flow` between consecutive time steps. The hook reads a detached copy under
``torch.no_grad`` and returns ``None``, so the model's output is bit-for-bit unchanged.

Besides submodule names, two probe points are always available: ``"input"`` (the clip the model is called
with; its probe is classical single-scale TV-L1 of the frames) and ``"output"`` (the model's own output, when
it is a (B, C, T, H, W) feature map). These two names take precedence over submodules of the same name.

TorchScript: a ``torch.jit`` module runs its submodules inside the TorchScript interpreter, where Python
forward hooks cannot be attached (``register_forward_hook is not supported on ScriptModules``). Only
``"input"`` and ``"output"`` can be probed on a scripted model (script or trace the model up to the layer of
interest to probe that layer); asking for one of its submodules is a ``ValueError`` that says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from repflow.blocks import normalize_per_sample, pairwise_flow
from repflow.flow import TVL1Flow

INPUT = "input"
OUTPUT = "output"
REDUCTIONS = ("energy", "pca", "none")
FEATURE_NORMALISATIONS = ("channel", "sample")
# Single-scale TV-L1 converges slowly, so the input probe runs more iterations than probes on feature maps
# (which see smaller motion in their own pixels); the measurements behind these numbers: docs/benchmarks.md.
INPUT_N_ITER = 100
FEATURE_N_ITER = 50


@dataclass(frozen=True)
class ProbeOptions:
    """How a probe turns a feature map into flow.

    Attributes:
        channels: how many channels (or principal components) to compute flow on; ``None`` = all.
        reduce: "energy" keeps the ``channels`` channels with the largest motion energy (mean squared
            difference between consecutive time steps), per sample; "pca" projects every sample onto its
            own first ``channels`` principal components over channels; "none" keeps the first ``channels``.
        normalize: "channel" min-max normalises every (sample, channel) to [0, 255] on its own;
            "sample" normalises each sample's kept channels together, as repflow's flow layers do.
        n_iter: TV-L1 iterations; ``None`` = ``INPUT_N_ITER`` at "input", ``FEATURE_N_ITER`` elsewhere.
        theta, lam, tau: the TV-L1 parameters (the flow layer's initial values by default).
    """

    channels: int | None = 8
    reduce: str = "energy"
    normalize: str = "channel"
    n_iter: int | None = None
    theta: float = 0.3
    lam: float = 0.15
    tau: float = 0.25

    def __post_init__(self) -> None:
        if self.channels is not None and self.channels < 1:
            raise ValueError(f"channels must be >= 1 or None (all), got {self.channels}")
        if self.reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {self.reduce!r}")
        if self.normalize not in FEATURE_NORMALISATIONS:
            raise ValueError(f"normalize must be one of {FEATURE_NORMALISATIONS}, got {self.normalize!r}")
        if self.n_iter is not None and self.n_iter < 1:
            raise ValueError(f"n_iter must be >= 1 or None (default per probe point), got {self.n_iter}")
        for name in ("theta", "lam", "tau"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    def iterations(self, point: str) -> int:
        """TV-L1 iterations used at probe point ``point``."""
        if self.n_iter is not None:
            return self.n_iter
        return INPUT_N_ITER if point == INPUT else FEATURE_N_ITER


@dataclass(frozen=True)
class ProbePoint:
    """A place whose flow can be probed: its name, what produces it, and its shape (C, T, H, W) at batch 1."""

    name: str
    module_type: str
    shape: tuple[int, int, int, int]

    @property
    def label(self) -> str:
        channels, steps, height, width = self.shape
        return f"{self.name} ({self.module_type}, {channels} ch, {steps}x{height}x{width})"


class Probes(dict):
    """What :func:`attach_probes` records: ``probes[name]`` is a detached (B, K, T-1, 2, H, W) float32 flow
    (K kept channels, (x, y) flow in pixels of that feature map, positive = moves right / down), the layout of
    :func:`repflow.inspect.capture_flows`. ``probes.channels[name]`` is a (B, K) long tensor: which channels
    of the module's output were kept, most moving first ("energy") or in order ("none"); ``None`` for "pca",
    where flow channel k is the sample's k-th principal component.
    """

    def __init__(self) -> None:
        super().__init__()
        self.channels: dict[str, Tensor | None] = {}


def feature_change_energy(features: Tensor) -> Tensor:
    """(B, C, T, H, W) -> (B, C): mean squared change of each channel between consecutive time steps."""
    return features.diff(dim=2).square().mean(dim=(2, 3, 4))


def principal_components(features: Tensor, count: int) -> Tensor:
    """Project each sample of (B, C, T, H, W) onto its own first ``count`` principal components over channels.

    The covariance is taken over all T*H*W positions of the sample. Returns (B, count, T, H, W), strongest
    component first (a component's sign is arbitrary; TV-L1 flow does not depend on it).
    """
    batch, channels = features.shape[:2]
    flat = features.flatten(2).double()
    flat = flat - flat.mean(dim=2, keepdim=True)
    covariance = flat @ flat.transpose(1, 2) / flat.shape[2]
    _, vectors = torch.linalg.eigh(covariance)  # eigenvalues ascending
    top = vectors[..., -count:].flip(-1)  # (B, C, count)
    projected = top.transpose(1, 2) @ flat
    return projected.to(features.dtype).view(batch, count, *features.shape[2:])


def reduce_channels(features: Tensor, options: ProbeOptions) -> tuple[Tensor, Tensor | None]:
    """Keep ``options.channels`` channels of (B, C, T, H, W) as ``options.reduce`` says.

    Returns the reduced (B, K, T, H, W) features and the kept channel indices (B, K) (``None`` for "pca").
    """
    batch, channels = features.shape[:2]
    count = channels if options.channels is None else min(options.channels, channels)
    if options.reduce == "pca":
        return principal_components(features, count), None
    if options.reduce == "energy":
        indices = feature_change_energy(features).topk(count, dim=1).indices
    else:
        indices = torch.arange(count, device=features.device).expand(batch, count)
    rows = torch.arange(batch, device=features.device).unsqueeze(1)
    return features[rows, indices], indices


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _is_probeable(value: Any) -> bool:
    return isinstance(value, Tensor) and value.dim() == 5 and value.shape[2] >= 2 and min(value.shape[3:]) >= 2


def probe_flow(features: Tensor, options: ProbeOptions, *, n_iter: int) -> tuple[Tensor, Tensor | None]:
    """Flow of a feature map (B, C, T, H, W) as a probe sees it, without touching ``features``.

    Returns the (B, K, T-1, 2, H, W) float32 flow and the kept channel indices (see :func:`reduce_channels`).
    """
    if not _is_probeable(features):
        raise ValueError(f"expected features (B, C, T, H, W) with T >= 2 and H, W >= 2, got {_describe(features)}")
    with torch.no_grad():
        reduced, indices = reduce_channels(features.detach().float(), options)
        if options.normalize == "channel":
            normalised = normalize_per_sample(reduced.flatten(0, 1)).view(reduced.shape)
        else:
            normalised = normalize_per_sample(reduced)
        solver = TVL1Flow(reduced.shape[1], n_iter=n_iter, learn=False).to(features.device)
        for name in ("theta", "lam", "tau"):
            getattr(solver, name).fill_(getattr(options, name))
        return pairwise_flow(solver, normalised), indices


@contextmanager
def _around_forward(model: nn.Module, before: Callable[[tuple], None], after: Callable[[Any], None]) -> Iterator[None]:
    """Call ``before(args)`` and ``after(output)`` around every ``model(...)`` call inside the block.

    Done by shadowing the instance's ``forward`` (restored on exit), which, unlike forward hooks, also works
    on TorchScript modules: ``nn.Module.__call__`` looks ``forward`` up on the instance first.
    """
    original = model.__dict__.get("forward")
    bound = model.forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        before(args)
        output = bound(*args, **kwargs)
        after(output)
        return output

    object.__setattr__(model, "forward", forward)
    try:
        yield
    finally:
        if original is None:
            object.__delattr__(model, "forward")
        else:
            object.__setattr__(model, "forward", original)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode inside the block and give every module back its own mode on exit."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _hookable_modules(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Named submodules that accept Python forward hooks (not the root, nothing inside TorchScript)."""
    for name, module in model.named_modules():
        if name and not isinstance(module, torch.jit.ScriptModule):
            yield name, module


def _check_layers(model: nn.Module, layers: Sequence[str]) -> dict[str, nn.Module]:
    """The submodules named in ``layers`` (special points excluded); clear errors for unusable names."""
    if isinstance(layers, str) or not layers:
        raise ValueError(f"layers must be a non-empty list of probe point names, got {layers!r}")
    modules = dict(model.named_modules())
    chosen = {}
    for name in layers:
        if name in (INPUT, OUTPUT):
            continue
        if name not in modules or not name:
            known = [INPUT, OUTPUT] + [key for key in modules if key][:12]
            raise ValueError(f"{type(model).__name__} has no submodule {name!r}; probe points include {known}")
        if isinstance(modules[name], torch.jit.ScriptModule):
            raise ValueError(
                f"cannot probe {name!r}: it is a TorchScript submodule, and TorchScript runs submodules in its "
                f"own interpreter where Python forward hooks do not fire. Probe {INPUT!r} or {OUTPUT!r} instead, "
                "or script the model up to that layer, or load it as Python code (state dict + architecture)"
            )
        chosen[name] = modules[name]
    return chosen


@contextmanager
def attach_probes(model: nn.Module, layers: Sequence[str], *, options: ProbeOptions | None = None) -> Iterator[Probes]:
    """Put frozen TV-L1 flow probes on the outputs of ``layers`` of ``model`` for the ``with`` block.

    Args:
        model: any module called with a clip (B, C, T, H, W) as first positional argument (eager or TorchScript).
        layers: submodule names (as in ``model.named_modules()``), ``"input"`` and/or ``"output"``.
        options: channel reduction, normalisation and TV-L1 settings (:class:`ProbeOptions`).

    Yields :class:`Probes`, filled by every forward pass inside the block (a later pass overwrites an
    earlier one). The flow is computed inside the hook, so later in-place ops of the model (``ReLU(inplace=
    True)``) cannot alter it. A probed module whose output is not (B, C, T, H, W) with T >= 2, or that runs
    more than once in one forward pass (its output would be ambiguous), raises ``ValueError`` from the
    forward pass. Hooks are removed and ``forward`` restored on exit, also when the block raises.
    """
    options = options or ProbeOptions()
    modules = _check_layers(model, layers)
    probes = Probes()
    calls: dict[str, int] = {}

    def record(name: str, value: Any) -> None:
        calls[name] = calls.get(name, 0) + 1
        if calls[name] > 1:
            raise ValueError(f"probe {name!r}: the module ran {calls[name]} times in one forward pass, so its output "
                             "is ambiguous; probe a module that runs once (e.g. its parent)")
        if not _is_probeable(value):
            raise ValueError(f"probe {name!r}: expected a (B, C, T, H, W) tensor with T >= 2 and H, W >= 2, "
                             f"got {_describe(value)}")
        probes[name], probes.channels[name] = probe_flow(value, options, n_iter=options.iterations(name))

    def before(args: tuple) -> None:
        calls.clear()
        if INPUT in layers:
            record(INPUT, args[0] if args else None)

    def after(output: Any) -> None:
        if OUTPUT in layers:
            record(OUTPUT, output)

    def hook(name: str) -> Callable[[nn.Module, tuple, Any], None]:
        return lambda _module, _inputs, output: record(name, output)

    handles = []
    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(hook(name)))
        with _around_forward(model, before, after):
            yield probes
    finally:
        for handle in handles:
            handle.remove()


def _example_clip(model: nn.Module, frames: int, size: int, in_channels: int | None) -> Tensor:
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
    if in_channels is None:
        in_channels = getattr(getattr(model, "config", None), "in_channels", 3)
    return torch.zeros(1, in_channels, frames, size, size, device=device, dtype=dtype)


def list_probe_points(
    model: nn.Module, *, frames: int = 8, size: int = 112, in_channels: int | None = None
) -> list[ProbePoint]:
    """Every place of ``model`` whose flow can be probed, in the order the forward pass reaches them.

    Runs the model once, in eval mode and without gradients (every module's mode is restored), on a zero
    clip (1, ``in_channels``, ``frames``, ``size``, ``size``) (``in_channels``: ``model.config.in_channels``
    if it has one, else 3), and lists ``"input"``, every submodule whose output is (1, C, T, H, W) with
    T >= 2 and H, W >= 2 and that runs once per forward pass, and ``"output"`` if the model's own output is
    such a map. On a TorchScript model only ``"input"`` and ``"output"`` can be probed (see the module notes).
    """
    clip = _example_clip(model, frames, size, in_channels)
    seen: dict[str, tuple[str, tuple | None]] = {}  # name -> (what produced it, its shape if probeable)
    calls: dict[str, int] = {}

    def record(name: str, module_type: str, value: Any) -> None:
        calls[name] = calls.get(name, 0) + 1
        seen[name] = (module_type, tuple(value.shape) if _is_probeable(value) else None)

    def hook(name: str) -> Callable[[nn.Module, tuple, Any], None]:
        return lambda module, _inputs, output: record(name, type(module).__name__, output)

    handles = [module.register_forward_hook(hook(name)) for name, module in _hookable_modules(model)]
    around = _around_forward(
        model,
        lambda args: record(INPUT, "model input", args[0] if args else None),
        lambda output: record(OUTPUT, "model output", output),
    )
    try:
        with around, _eval_mode(model), torch.no_grad():
            model(clip)
    except Exception as error:
        shape = tuple(clip.shape)
        raise ValueError(f"running {type(model).__name__} on a zero clip of shape {shape} failed: {error}") from error
    finally:
        for handle in handles:
            handle.remove()
    return [
        ProbePoint(name, module_type, shape[1:])
        for name, (module_type, shape) in seen.items()
        if calls[name] == 1 and shape is not None
    ]


def default_probe_point(points: Sequence[ProbePoint], config: dict, size: int) -> str:
    """Where the app and ``repflow figure`` probe a model without flow layers by default: where its paired flow
    model has its flow layer (the ``model_config`` dict's ``flow_after``, e.g. ``layer1`` for the bundled RGB
    model), else the first top-level module with two or more steps whose map is at most a quarter of the input
    ``size`` (where the paper's flow layers sit), else the input (classical TV-L1 of the frames)."""
    names = [point.name for point in points]
    if config.get("flow_after") in names:
        return config["flow_after"]
    for point in points:
        _, steps, height, width = point.shape
        top_level = "." not in point.name and point.name not in (INPUT, OUTPUT)
        if top_level and steps > 1 and 2 <= min(height, width) <= size // 4:
            return point.name
    return INPUT
