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
from repflow.video import BACKEND_NAMES, VideoError

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
    views.add_argument("--clips", type=int, default=10, help="uniformly spaced clips per video, K (default: %(default)s)")
    views.add_argument("--crops", type=int, choices=(1, 3), default=3, help="crops per clip; 3 = start, centre, end of the long side (default: %(default)s)")
    for key, flag in CLIP_FLAGS.items():
        views.add_argument("--" + flag.replace("_", "-"), type=int, dest=flag,
                           help=f"clip {key} (default: the checkpoint's)")
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--batch-size", type=int, default=4, help="videos per batch (default: %(default)s)")
    run_group.add_argument("--workers", type=int, default=2, help="DataLoader workers (default: %(default)s)")
    run_group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to run (default: %(default)s)")
    run_group.add_argument("--flow-cache", help="TV-L1 flow cache folder for a flow stream "
                           "(default: the one it was trained with)")
    run_group.add_argument("--out-dir", help="where the report goes (default: <checkpoint folder>/eval)")
    run_group.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the report; prints the summary's headline numbers."""
    from repflow.checkpoint import load_checkpoint, model_from_payload
    from repflow.data.datasets import ClipDataset, ClipSpec, original_message
    from repflow.data.flow_cache import FlowCache
    from repflow.data.sources import load_videos
    from repflow.eval import StreamModel, evaluate, write_report
    from repflow.train import distributed
    from repflow.train.loop import pick_device

    main = load_checkpoint(args.checkpoint)
    models = {_stream(main, args.checkpoint): model_from_payload(main, name=args.checkpoint)}
    second = None
    if args.flow_checkpoint:
        second = load_checkpoint(args.flow_checkpoint)
        if _stream(second, args.flow_checkpoint) != "flow" or "rgb" not in models:
            raise ValueError("--flow-checkpoint must be a flow-stream model and --checkpoint an RGB one")
        models["flow"] = model_from_payload(second, name=args.flow_checkpoint)
    spec = ClipSpec(**_clip_settings(args, main, second))
    saved = main.get("train_config", {})
    classes = main.get("classes")
    if second is not None and second.get("classes") != classes:
        raise ValueError("the RGB and flow checkpoints were trained on different class lists")
    dataset = args.dataset or saved.get("dataset")
    if dataset is None:
        raise ValueError(f"{args.checkpoint} does not say which data it was trained on: pass --dataset and --data")
    videos = load_videos(
        dataset, "val", location=args.data or saved.get("val_data"), data_root=args.data_root or saved.get("data_root"),
        split=args.split or saved.get("split", 1), splits_dir=args.splits_dir or saved.get("splits_dir") or None,
        csv_file=args.csv or saved.get("val_csv") or None, classes=classes)
    num_classes = main["model_config"]["num_classes"]
    if len(videos.classes) != num_classes or (classes is not None and list(videos.classes) != list(classes)):
        raise ValueError(f"the data has {len(videos.classes)} classes but the model was trained on {num_classes}"
                         + (f" ({', '.join(classes[:5])}, ...)" if classes else ""))
    model = StreamModel(models.get("rgb"), models.get("flow"))
    flow_saved = (second or main).get("train_config", {})
    cache_dir = args.flow_cache or flow_saved.get("flow_cache") or None
    data = ClipDataset(videos, spec, train=False, stream=model.stream, num_clips=args.clips, num_crops=args.crops,
                       flow_cache=FlowCache(cache_dir), backend=args.backend)
    device = pick_device(args.device)
    with distributed.process_group(device) as info:  # under torchrun: every process scores its share
        try:
            result = evaluate(model, data, batch_size=args.batch_size, workers=args.workers, device=device,
                              progress=args.progress)
        except VideoError as error:  # from a DataLoader worker: drop the worker's traceback from the message
            raise VideoError(original_message(error)) from None
    if not info.is_main:
        return 0  # rank 0 writes the report
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.checkpoint).parent / "eval"
    context: dict[str, Any] = {"checkpoint": str(args.checkpoint), "flow_checkpoint": args.flow_checkpoint,
                               "dataset": dataset, "clips": args.clips, "crops": args.crops,
                               "clip": {k: getattr(spec, v) for k, v in CLIP_FLAGS.items()}}
    report = write_report(result, out_dir, video_paths=[r.path for r in videos.records], **context)
    headline = {k: report[k] for k in ("num_videos", "clip_top1", "clip_top5", "video_top1", "video_top5",
                                       "mean_class_accuracy")}
    print(json.dumps({"out_dir": str(out_dir), **headline}))
    return 0


def _stream(payload: dict, name: str) -> str:
    """The model's role in a two-stream pair: "rgb", or "flow" for a network on TV-L1 flow or on its own (TVNet)."""
    config = payload["model_config"] if "model_config" in payload else {}
    in_channels = config.get("in_channels", 3)
    if in_channels not in (2, 3):
        raise ValueError(f"{name}: a model with {in_channels} input channels is neither RGB (3) nor flow (2)")
    return "rgb" if in_channels == 3 and config.get("arch") != "tvnet" else "flow"


def _clip_settings(args: argparse.Namespace, main: dict, second: dict | None) -> dict[str, int]:
    """num_frames, stride, short_side, crop_size: flags, else the checkpoint's "clip" entry."""
    saved = main.get("clip", {})
    if second is not None and any(second.get("clip", {}).get(k) != saved.get(k) for k in CLIP_FLAGS):
        raise ValueError("the RGB and flow checkpoints were trained on different clip settings "
                         f"({saved} vs {second.get('clip')}); evaluate them separately")
    settings = {}
    for key, flag in CLIP_FLAGS.items():
        value = getattr(args, flag) if getattr(args, flag) is not None else saved.get(key)
        if value is None:
            raise ValueError(f"{args.checkpoint} has no clip settings: pass --{flag.replace('_', '-')}")
        settings[flag] = int(value)
    return settings
