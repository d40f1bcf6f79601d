"""``repflow eval``: clip- and video-level accuracy of a trained model (or an RGB + flow two-stream pair).

Writes summary.json, per_class.csv, confusion.csv, confusion.png and predictions.csv into --out-dir.
Under torchrun (``torchrun --nproc_per_node=N -m repflow eval ...``) the videos are shared among the processes
and rank 0 writes the report.
By default the data and clip settings are those the checkpoint was trained with (its validation /
test set); flags override them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from repflow.data.sources import DATASETS
from repflow.runtime import DEVICES
from repflow.video import BACKEND_NAMES

CLIP_FLAGS = {"frames": "num_frames", "stride": "stride", "short_side": "short_side", "size": "crop_size"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Flags of ``repflow eval``."""
    parser.add_argument("--checkpoint", required=True, help="model.pt or checkpoint_last.pt of a training run")
    parser.add_argument("--flow-checkpoint", help="flow-stream model (stream=flow, or arch=tvnet) to pair with "
                        "--checkpoint as a two-stream model; logits are averaged")
    data = parser.add_argument_group("data (default: what the checkpoint was trained with)")
    data.add_argument("--dataset", choices=DATASETS, help="dataset kind")
    data.add_argument("--data", help="folders: class-folder dir; list: list file")
    data.add_argument("--data-root", help="hmdb51 / kinetics400 root")
    data.add_argument("--split", type=int, help="hmdb51 split (its test set is evaluated)")
    data.add_argument("--splits-dir", help="hmdb51 split files folder")
    data.add_argument("--csv", help="kinetics400 csv of the val videos")
    data.add_argument("--backend", choices=BACKEND_NAMES, default="auto", help="video decoder (default: %(default)s)")
    views = parser.add_argument_group("views")
    views.add_argument(
        "--clips", type=int, default=10, help="uniformly spaced clips per video, K (default: %(default)s)"
    )
    views.add_argument(
        "--crops",
        type=int,
        choices=(1, 3),
        default=3,
        help="crops per clip; 3 = start, centre, end of the long side (default: %(default)s)",
    )
    for key, flag in CLIP_FLAGS.items():
        views.add_argument("--" + flag.replace("_", "-"), type=int, dest=flag,
                           help=f"clip {key} (default: the checkpoint's)")
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--batch-size", type=int, default=4, help="videos per batch (default: %(default)s)")
    run_group.add_argument("--workers", type=int, default=2, help="DataLoader workers (default: %(default)s)")
    run_group.add_argument("--device", choices=DEVICES, default="auto", help="where to run (default: %(default)s)")
    run_group.add_argument("--flow-cache", help="TV-L1 flow cache folder for a flow stream (default: the one it was "
                           "trained with: its flow_cache setting, else flow_cache/ beside the checkpoint)")
    run_group.add_argument("--out-dir", help="where the report goes (default: <checkpoint folder>/eval)")
    run_group.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the report; prints the summary's headline numbers."""
    from repflow import distributed
    from repflow.data.datasets import ClipDataset, plain_video_errors
    from repflow.data.flow_cache import FlowCache, run_flow_cache
    from repflow.eval import StreamModel, evaluate, write_report
    from repflow.runtime import pick_device

    payloads, models = _load_streams(args)
    out_dir = _check_out_dir(args)  # before any evaluation
    trained = payloads[0]  # --checkpoint's: its data and class list are the evaluation's
    spec = _clip_spec(args, payloads)
    videos, dataset = _videos(args, trained)
    model = StreamModel(models.get("rgb"), models.get("flow"))
    # The flow stream's TV-L1 cache, found as training placed it: the run's checkpoints lie in its out_dir.
    flow_run = Path(args.flow_checkpoint or args.checkpoint).parent
    cache = FlowCache(args.flow_cache) if args.flow_cache else run_flow_cache(
        payloads[-1].get("train_config", {}).get("flow_cache", ""), flow_run)
    data = ClipDataset(videos, spec, train=False, stream=model.stream, num_clips=args.clips, num_crops=args.crops,
                       flow_cache=cache, backend=args.backend)
    device = pick_device(args.device)
    with distributed.process_group(device) as info, plain_video_errors():  # under torchrun: each scores a share
        result = evaluate(model, data, batch_size=args.batch_size, workers=args.workers, device=device,
                          progress=args.progress)
    if not info.is_main:
        return 0  # rank 0 writes the report
    context: dict[str, Any] = {"checkpoint": str(args.checkpoint), "flow_checkpoint": args.flow_checkpoint,
                               "dataset": dataset, "clips": args.clips, "crops": args.crops,
                               "clip": {k: getattr(spec, v) for k, v in CLIP_FLAGS.items()}}
    report = write_report(result, out_dir, video_paths=[r.path for r in videos.records], **context)
    headline = {k: report[k] for k in ("num_videos", "clip_top1", "clip_top5", "video_top1", "video_top5",
                                       "mean_class_accuracy")}
    print(json.dumps({"out_dir": str(out_dir), **headline}))
    return 0


def _check_out_dir(args: argparse.Namespace) -> Path:
    """The report's folder, checked before any work: writable, and not a training run's folder (evaluating into it
    would replace the run's summary.json)."""
    from repflow.io import check_output_folder

    default = Path(args.checkpoint).parent / "eval"
    out_dir = Path(args.out_dir) if args.out_dir else default
    runs = [Path(c).parent for c in (args.checkpoint, args.flow_checkpoint) if c]
    if out_dir.is_dir() and (any(out_dir.resolve() == run.resolve() for run in runs) or any(out_dir.glob("*.pt"))):
        raise ValueError(f"--out-dir {out_dir} is a training run's folder (it holds checkpoints): the report would "
                         f"replace its summary.json; choose another --out-dir (default: {default})")
    return check_output_folder(out_dir, flag="--out-dir")


def _load_streams(args: argparse.Namespace) -> tuple[list[dict], dict[str, Any]]:
    """The checkpoint dicts ([--checkpoint] or [--checkpoint, --flow-checkpoint]) and their models by stream."""
    from repflow.checkpoint import load_checkpoint, model_from_payload

    trained = load_checkpoint(args.checkpoint)
    models = {_stream(trained, args.checkpoint): model_from_payload(trained, name=args.checkpoint)}
    if not args.flow_checkpoint:
        return [trained], models
    flow = load_checkpoint(args.flow_checkpoint)
    if _stream(flow, args.flow_checkpoint) != "flow" or "rgb" not in models:
        raise ValueError("--flow-checkpoint must be a flow-stream model and --checkpoint an RGB one")
    models["flow"] = model_from_payload(flow, name=args.flow_checkpoint)
    if flow.get("classes") != trained.get("classes"):
        raise ValueError("the RGB and flow checkpoints were trained on different class lists")
    return [trained, flow], models


def _videos(args: argparse.Namespace, trained: dict) -> tuple[Any, str]:
    """The videos to evaluate and the dataset kind: the checkpoint's validation data, flags override it."""
    from repflow.data.sources import DataSettings, video_list

    saved = trained.get("train_config", {})
    overrides = {"dataset": args.dataset, "val_data": args.data, "data_root": args.data_root, "split": args.split,
                 "splits_dir": args.splits_dir, "val_csv": args.csv}
    values = {**saved, **{key: value for key, value in overrides.items() if value}}
    if values.get("dataset") is None:
        raise ValueError(f"{args.checkpoint} does not say which data it was trained on: pass --dataset and --data")
    classes = trained.get("classes")
    videos = video_list(DataSettings.from_mapping(values), "val", classes=classes)
    if videos is None:
        raise ValueError(f"{args.checkpoint} was trained without validation data: pass --data")
    num_classes = trained["model_config"]["num_classes"]
    if len(videos.classes) != num_classes or (classes is not None and list(videos.classes) != list(classes)):
        raise ValueError(f"the data has {len(videos.classes)} classes but the model was trained on {num_classes}"
                         + (f" ({', '.join(classes[:5])}, ...)" if classes else ""))
    return videos, values["dataset"]


def _stream(payload: dict, name: str) -> str:
    """The model's role in a two-stream pair: "rgb", or "flow" for a network on TV-L1 flow or on its own (TVNet)."""
    config = payload["model_config"] if "model_config" in payload else {}
    in_channels = config.get("in_channels", 3)
    if in_channels not in (2, 3):
        raise ValueError(f"{name}: a model with {in_channels} input channels is neither RGB (3) nor flow (2)")
    return "rgb" if in_channels == 3 and config.get("arch") != "tvnet" else "flow"


def _clip_spec(args: argparse.Namespace, payloads: list[dict]):
    """How to cut the clips: flags, else the checkpoints' `TrainingClip` (which must agree for a pair)."""
    from repflow.checkpoint import TrainingClip
    from repflow.data.datasets import ClipSpec

    clips = [TrainingClip.from_payload(payload) for payload in payloads]
    sizes = [{key: getattr(clip, key) for key in CLIP_FLAGS} for clip in clips]
    if len(sizes) == 2 and sizes[0] != sizes[1]:
        raise ValueError("the RGB and flow checkpoints were trained on different clip settings "
                         f"({clips[0].to_dict()} vs {clips[1].to_dict()}); evaluate them separately")
    settings = {}
    for key, flag in CLIP_FLAGS.items():
        value = getattr(args, flag) if getattr(args, flag) is not None else sizes[0][key]
        if value is None:
            raise ValueError(f"{args.checkpoint} has no clip settings: pass --{flag.replace('_', '-')}")
        settings[flag] = int(value)
    return ClipSpec(**settings)
