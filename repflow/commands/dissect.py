"""``repflow dissect``: per-clip, per-channel motion statistics of a model's flow layers over a labelled clip set.

Writes into --out-dir: clips.parquet (clips.csv without pyarrow), one row per clip, layer and channel; channels.csv,
per layer, channel and class; summary.json (model, data, settings, date, clips done, wall time). Each video gives
the one centre clip and centre crop ``repflow eval --clips 1 --crops 1`` scores, cut with the checkpoint's
training clip settings. Under torchrun (``torchrun --nproc_per_node=N -m repflow dissect ...``) the clips are
shared among the processes and rank 0 merges the tables. A killed run continues with --resume.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from repflow.commands.eval import CLIP_FLAGS, add_data_arguments
from repflow.runtime import DEVICES

RESULT_FILES = ("summary.json", "channels.csv", "clips.parquet", "clips.csv", "clips.parts")


def configure(parser: argparse.ArgumentParser) -> None:
    """Flags of ``repflow dissect``."""
    parser.add_argument("--checkpoint", required=True, help="model.pt or checkpoint_last.pt of a training run")
    add_data_arguments(parser)
    parser.add_argument("--probes", nargs="+", default=[], metavar="MODULE",
                        help="also dissect frozen TV-L1 probes (every channel) on these modules' outputs, e.g. "
                        "layer1 (as `repflow bench alignment --probes`); needed for a model without flow layers")
    parser.add_argument("--tvl1", action="store_true",
                        help="also score each channel's agreement with OpenCV TV-L1 (costs a TV-L1 pass per clip)")
    parser.add_argument("--tvl1-cache", metavar="DIR",
                        help="keep each clip window's TV-L1 flow here (float16), so that dissecting another model "
                        "with the same clip settings on the same clips skips the TV-L1 pass")
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--out-dir", required=True, help="folder of the dissection's tables")
    run_group.add_argument("--resume", action="store_true",
                           help="continue the dissection in --out-dir (same model, data and settings) without "
                           "recomputing finished clips")
    run_group.add_argument("--skip-unreadable", action="store_true",
                           help="list unreadable videos in summary.json and go on, instead of stopping")
    run_group.add_argument("--part-clips", type=int, default=32,
                           help="clips per part written to disk; a killed run loses at most this many "
                           "(default: %(default)s)")
    run_group.add_argument("--batch-size", type=int, default=4, help="videos per batch (default: %(default)s)")
    run_group.add_argument("--workers", type=int, default=2, help="DataLoader workers (default: %(default)s)")
    run_group.add_argument("--device", choices=DEVICES, default="auto", help="where to run (default: %(default)s)")
    run_group.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Dissect, merge and summarise; prints where the tables are and how many clips they hold."""
    from repflow import distributed
    from repflow.checkpoint import load_checkpoint, model_from_payload
    from repflow.commands.eval import clip_spec, test_videos
    from repflow.data.datasets import ClipDataset
    from repflow.data.flow_cache import FlowCache
    from repflow.dissect import dissect, finish, layer_names, with_summary
    from repflow.dissect.tables import done_clips, file_sha1, have_pyarrow
    from repflow.io import check_output_folder
    from repflow.runtime import pick_device

    payload = load_checkpoint(args.checkpoint)
    model = model_from_payload(payload, name=args.checkpoint)
    if getattr(getattr(model, "config", None), "in_channels", 3) != 3:
        raise ValueError(f"{args.checkpoint} is a flow-stream model; repflow dissect needs a model of RGB clips")
    layers = layer_names(model, args.probes)
    if not layers:
        raise ValueError(f"{args.checkpoint} has no flow layers: name modules to probe with --probes (e.g. --probes "
                         "layer1)")
    spec = clip_spec(args, [payload])
    videos, dataset_kind = test_videos(args, payload)
    if len(videos) == 0:
        raise ValueError(f"the test list of {args.data or dataset_kind} holds no videos")
    out_dir = Path(args.out_dir)
    settings = {
        "model": str(args.checkpoint), "model_sha1": file_sha1(Path(args.checkpoint)), "dataset": dataset_kind,
        "data": args.data or args.data_root, "videos": len(videos), "videos_sha1": _list_sha1(videos),
        "clip": {key: getattr(spec, flag) for key, flag in CLIP_FLAGS.items()}, "probes": list(args.probes),
        "tvl1": bool(args.tvl1),
    }
    previous = _check_out_dir(out_dir, settings, resume=args.resume)
    check_output_folder(out_dir)  # a folder that cannot be written is said before any clip is read
    fmt = previous.get("format") or ("parquet" if have_pyarrow() else "csv")
    data = ClipDataset(videos, spec, train=False, num_clips=1, num_crops=1, backend=args.backend)
    device = pick_device(args.device)
    with distributed.process_group(device) as info:
        distributed.all_gather(None)  # every process has checked the folder before rank 0 writes to it
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if info.is_main:
            _write_summary(out_dir, {**previous, "settings": settings, "format": fmt, "complete": False,
                                     "started": previous.get("started", started)})
        done = done_clips(out_dir)
        began = time.perf_counter()
        shard = dissect(model, data, out_dir, done=done, probes=args.probes, tvl1=args.tvl1, fmt=fmt,
                        batch_size=args.batch_size, workers=args.workers, device=device,
                        skip_unreadable=args.skip_unreadable, progress=args.progress,
                        flush_every=args.part_clips, tvl1_cache=FlowCache(args.tvl1_cache) if args.tvl1_cache
                        else None)
        shards = distributed.all_gather(shard)  # also waits until every process has written its parts
        if not info.is_main:
            return 0
        unreadable = [entry for part in shards for entry in part.unreadable]
        table = finish(out_dir, fmt=fmt, columns_tvl1=args.tvl1, classes=list(data.classes), layers=layers)
        summary = {
            "model": settings["model"], "dataset": settings["dataset"], "data": settings["data"],
            "settings": settings, "format": fmt, "complete": True, "started": previous.get("started", started),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "classes": list(data.classes),
            "layers": layers, "clips_done": table["clips"], "clips_this_run": sum(part.clips for part in shards),
            "unreadable": [{"clip": path, "error": error} for path, error in unreadable],
            "processes": info.world_size,
            "wall_time_s": round(previous.get("wall_time_s", 0.0) + time.perf_counter() - began, 2),
        }
        # stored, so the explorer opens a layer on its default channel without reading the tables
        summary["default_channels"] = with_summary(out_dir, summary).default_channels()
        _write_summary(out_dir, summary)
    print(json.dumps({"out_dir": str(out_dir), "clips_done": summary["clips_done"], "rows": table["rows"],
                      "unreadable": len(unreadable), "wall_time_s": summary["wall_time_s"]}))
    return 0


def _check_out_dir(out_dir: Path, settings: dict[str, Any], *, resume: bool) -> dict[str, Any]:
    """The summary of the dissection already in ``out_dir`` to continue (``{}`` for a new one); refuses a folder
    holding a dissection unless --resume names the same settings."""
    found = [name for name in RESULT_FILES if (out_dir / name).exists()]
    if not found:
        return {}
    summary_path = out_dir / "summary.json"
    try:
        previous = json.loads(summary_path.read_text())
    except (OSError, ValueError):
        previous = None
    if not isinstance(previous, dict) or not isinstance(previous.get("settings"), dict):
        raise ValueError(f"{out_dir} already holds dissection files ({', '.join(found)}) without a readable "
                         "summary.json: choose another --out-dir")
    if not resume:
        raise ValueError(f"{out_dir} already holds a dissection of {previous['settings'].get('model')}: pass --resume "
                         "to continue it, or choose another --out-dir")
    differ = [key for key in settings if previous["settings"].get(key) != settings[key]]
    if differ:
        details = "; ".join(f"{key}: {previous['settings'].get(key)!r} there, {settings[key]!r} now" for key in differ)
        raise ValueError(f"{out_dir} holds a dissection with other settings ({details}): --resume continues only the "
                         "same model, data and settings; choose another --out-dir")
    return previous


def _write_summary(out_dir: Path, summary: dict[str, Any]) -> None:
    from repflow.io import atomic_write

    atomic_write(out_dir / "summary.json", json.dumps(summary, indent=2))


def _list_sha1(videos) -> str:
    """A fingerprint of the labelled list: same videos, labels and order."""
    text = "\n".join(f"{record.path}\t{record.label}" for record in videos.records)
    return hashlib.sha1(text.encode()).hexdigest()
