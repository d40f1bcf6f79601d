"""Run the motion-only study (docs/studies/motion_only.md) through the public CLI, resuming a partly done grid.

    OMP_NUM_THREADS=1 nohup python tools/motion_study.py > runs/motion_only/study.log 2>&1 &

Makes the training set and the reserved test set with ``repflow synth --motion-only`` (once), then trains
each run of the grid in order with ``repflow train ... --resume`` (a killed run continues from its last
checkpoint), evaluates it once on the reserved test seed with ``repflow eval`` and appends one row to
docs/studies/motion_only.csv. Runs that have a row are skipped; a finished evaluation is never repeated.
``--list`` prints the grid's commands and exits; ``--table`` prints the CSV's results as Markdown (mean ± std
over seeds, every run, and each run's accuracy on the three factors of the class names: which limb, which
direction, which speed, chance 50 % each, and how often a clip and its time reverse get the same class);
``--only-first N`` stops after N runs of the grid.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = Path("runs/motion_only")
CSV_PATH = Path("docs/studies/motion_only.csv")
TRAIN_SET, TEST_SET = Path("data/motion_only"), Path("data/motion_only_test")
SYNTH = {  # the training set (its own test split is unused) and the reserved test seed, evaluated once per run
    TRAIN_SET: "--clips-per-class 96 --test-clips-per-class 16 --seed 0 --size 64 --frames 16",
    TEST_SET: "--clips-per-class 1 --test-clips-per-class 32 --seed 1 --size 64 --frames 16",
}
EPOCHS = 12  # the fixed budget of every run but the long ones
LONG_EPOCHS = 48
BUDGET = ("--batch-size 16 --width 16 --num-frames 8 --stride 2 --short-side 64 --crop-size 56 "
          "--workers 0")
CONFIGS = {"rgb": "configs/synthetic_rgb.yaml", "rep_flow": "configs/synthetic_rep_flow.yaml",
           "flow_of_flow": "configs/synthetic_flow_of_flow.yaml"}  # fmt: skip
# The flow layers' own parameters at the full learning rate: with AdamW the paper's 0.01x (set for SGD) leaves them
# at their initial values (models/README.md); the paper's scale is one of the ablations.
FLOW_LR = "--flow-lr-scale 1.0"
EVAL = "--clips 1 --crops 1 --workers 0 --no-progress"
SEEDS = (0, 1, 2)
COLUMNS = ["model", "variant", "seed", "top1", "top5", "mean_class_accuracy", "steps", "train_minutes",
           "eval_views", "checkpoint_sha256", "out_dir"]  # fmt: skip


def grid() -> list[dict]:
    """The runs in the order they are done: the frame baseline, the comparison, then the Rep-Flow ablations."""
    runs = [
        dict(model="resnet2d_frames", variant="8_frames", seed=0, config="rgb", flags="--arch resnet2d --flow none"),
        dict(model="resnet2d_frames", variant="2_adjacent_frames", seed=0, config="rgb",
             flags="--arch resnet2d --flow none", eval_flags="--num-frames 2 --stride 1", train_as="8_frames"),
    ]  # fmt: skip
    for seed in SEEDS:
        runs += [dict(model=model, variant="default", seed=seed, config=model, flags=FLOW_LR if model != "rgb" else "")
                 for model in CONFIGS]  # fmt: skip
    ablations = {"after_layer2": "--flow-after layer2", "after_layer3": "--flow-after layer3",
                 "fixed_flow": "--no-learn-flow", "flow_lr_0.01": "--flow-lr-scale 0.01",
                 "n_iter_5": "--n-iter 5", "n_iter_20": "--n-iter 20"}  # fmt: skip
    for seed in SEEDS:
        for name, flags in ablations.items():
            flags = flags if "--flow-lr-scale" in flags else f"{FLOW_LR} {flags}"
            runs.append(dict(model="rep_flow", variant=name, seed=seed, config="rep_flow", flags=flags))
    for seed in SEEDS[1:]:
        runs += [dict(model="resnet2d_frames", variant="8_frames", seed=seed, config="rgb",
                      flags="--arch resnet2d --flow none")]  # fmt: skip
    # A longer run for one seed: does a 4x budget keep Rep-Flow's lead, and does anything learn direction?
    runs += [dict(model=model, variant=f"{LONG_EPOCHS}_epochs", seed=0, config=model, epochs=LONG_EPOCHS,
                  flags=FLOW_LR if model != "rgb" else "") for model in ("rgb", "rep_flow")]  # fmt: skip
    return runs


def out_dir(run: dict) -> Path:
    return RUNS / f"{run['model']}_{run.get('train_as', run['variant'])}_seed{run['seed']}"


def train_command(run: dict) -> str:
    return (f"repflow train --config {CONFIGS[run['config']]} --train-data {TRAIN_SET}/train.txt "
            f"--epochs {run.get('epochs', EPOCHS)} {BUDGET} "
            f"{run['flags']} --seed {run['seed']} --out-dir {out_dir(run)} --resume --no-progress").replace("  ", " ")


def eval_dir(run: dict) -> Path:
    return out_dir(run) / f"eval_{run['variant']}"


def eval_command(run: dict) -> str:
    return (f"repflow eval --checkpoint {out_dir(run)}/model.pt --dataset list --data {TEST_SET}/test.txt "
            f"{EVAL} {run.get('eval_flags', '')} --out-dir {eval_dir(run)}").replace("  ", " ")


def sh(command: str, log: Path) -> None:
    """Run ``command`` from the repository root, appending its output to ``log``; stop the study if it fails."""
    print(f"$ {command}", flush=True)
    with log.open("a") as handle:
        handle.write(f"$ {command}\n")
        handle.flush()
        argv = [sys.executable, "-m", "repflow", *shlex.split(command)[1:]]  # this interpreter's repflow
        code = subprocess.call(argv, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    if code:
        sys.exit(f"failed ({code}): {command}; see {log}")


def done_keys() -> set[tuple[str, str, str]]:
    return {(row["model"], row["variant"], row["seed"]) for row in read_rows()}


def append_row(row: dict) -> None:
    path = ROOT / CSV_PATH
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def claim(folder: Path) -> bool:
    """Mark ``folder`` as this process's run; False while another live runner holds it (two runners share a grid)."""
    lock = folder / "runner.pid"
    if lock.exists():
        try:
            os.kill(int(lock.read_text()), 0)
            return False
        except (ProcessLookupError, ValueError):
            pass  # a killed runner's mark
    lock.write_text(str(os.getpid()))
    return True


def do_run(run: dict) -> None:
    folder = ROOT / out_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    if not claim(folder):
        print(f"skipped {out_dir(run)}: another runner is on it", flush=True)
        return
    log = folder / "study.log"
    timing = folder / "train_seconds.json"  # wall seconds of each training invocation (a resumed run has several)
    seconds = json.loads(timing.read_text()) if timing.exists() else []
    summary = folder / "summary.json"
    finished = summary.exists() and json.loads(summary.read_text()).get("epochs_done") == run.get("epochs", EPOCHS)
    if not finished:
        start = time.perf_counter()
        sh(train_command(run), log)
        seconds.append(time.perf_counter() - start)
        timing.write_text(json.dumps(seconds))
    report = ROOT / eval_dir(run) / "summary.json"
    if not report.exists():
        sh(eval_command(run), log)
    result = json.loads(report.read_text())
    steps = json.loads(summary.read_text())["global_step"]
    append_row(dict(
        model=run["model"], variant=run["variant"], seed=run["seed"], top1=f"{100 * result['video_top1']:.2f}",
        top5=f"{100 * result['video_top5']:.2f}", mean_class_accuracy=f"{100 * result['mean_class_accuracy']:.2f}",
        steps=steps, train_minutes=f"{sum(seconds) / 60:.2f}", eval_views=run.get("eval_flags", "") or "as trained",
        checkpoint_sha256=sha256(folder / "model.pt"), out_dir=out_dir(run).as_posix(),
    ))  # fmt: skip
    print(f"done {run['model']} {run['variant']} seed {run['seed']}: top-1 {100 * result['video_top1']:.2f} %",
          flush=True)


def read_rows() -> list[dict]:
    if not (ROOT / CSV_PATH).exists():
        return []
    with (ROOT / CSV_PATH).open() as handle:
        return list(csv.DictReader(handle))


def markdown_table() -> str:
    """Mean ± sample standard deviation of top-1 per (model, variant) over its seeds, then every run."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in read_rows():
        groups.setdefault((row["model"], row["variant"]), []).append(row)
    lines = ["| model | variant | seeds | top-1 % mean ± std | top-5 % mean | train min (mean) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for (model, variant), rows in groups.items():
        top1 = [float(row["top1"]) for row in rows]
        spread = f" ± {statistics.stdev(top1):.1f}" if len(top1) > 1 else ""
        top5 = statistics.mean(float(row["top5"]) for row in rows)
        minutes = statistics.mean(float(row["train_minutes"]) for row in rows)
        seeds = ", ".join(row["seed"] for row in rows)
        mean = f"{statistics.mean(top1):.1f}{spread}"
        lines.append(f"| {model} | {variant} | {seeds} | {mean} | {top5:.1f} | {minutes:.1f} |")
    lines += ["", "| model | variant | seed | top-1 % | top-5 % | mean class acc. % | steps | train min | "
              "checkpoint sha256 |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in read_rows():
        lines.append(f"| {row['model']} | {row['variant']} | {row['seed']} | {row['top1']} | {row['top5']} | "
                     f"{row['mean_class_accuracy']} | {row['steps']} | {row['train_minutes']} | "
                     f"`{row['checkpoint_sha256'][:12]}…` |")  # fmt: skip
    lines += ["", "| model | variant | seed | training accuracy % at 1/6, 2/6, ..., 6/6 of the run's epochs |",
              "|---|---|---|---|"]  # fmt: skip
    for row in read_rows():
        with (ROOT / row["out_dir"] / "metrics.csv").open() as handle:
            by_epoch = {int(item["epoch"]): float(item["train_acc"]) for item in csv.DictReader(handle)}
        epochs = max(by_epoch)
        curve = " / ".join(f"{100 * by_epoch[epoch]:.0f}" for epoch in range(epochs // 6, epochs + 1, epochs // 6))
        lines.append(f"| {row['model']} | {row['variant']} | {row['seed']} | {curve} |")
    lines += ["", "| model | variant | seed | limb % | direction % | speed % | same class as its reverse % |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in read_rows():
        predictions = ROOT / row["out_dir"] / f"eval_{row['variant']}" / "predictions.csv"
        factors = factor_accuracy(predictions)
        lines.append(f"| {row['model']} | {row['variant']} | {row['seed']} | "
                     + " | ".join(f"{100 * factors[name]:.1f}" for name in FACTORS)
                     + f" | {100 * reversal_agreement(predictions):.1f} |")  # fmt: skip
    return "\n".join(lines)


FACTORS = ("limb", "direction", "speed")  # the parts of a class name, e.g. arm_forward_slow


def reversal_agreement(predictions: Path) -> float:
    """Share of test pairs (forward clip i, backward clip i of the same limb and speed) predicted as the same class.

    Clip i of every class has the same seed, so the backward clip shows the forward clip's poses in reverse order
    (camera shake and noise are not reversed): a network blind to the arrow of time predicts both alike.
    """
    with predictions.open() as handle:
        predicted = {Path(row["video"]).name: row["predicted"] for row in csv.DictReader(handle)}
    pairs = [(name, name.replace("_forward_", "_backward_")) for name in predicted if "_forward_" in name]
    return sum(predicted[a] == predicted[b] for a, b in pairs if b in predicted) / len(pairs)


def factor_accuracy(predictions: Path) -> dict[str, float]:
    """Share of test clips whose predicted class has the right limb, direction and speed (each chance 1/2)."""
    with predictions.open() as handle:
        pairs = [(row["label"].split("_"), row["predicted"].split("_")) for row in csv.DictReader(handle)]
    return {name: sum(true[i] == guess[i] for true, guess in pairs) / len(pairs) for i, name in enumerate(FACTORS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the commands of the grid and exit")
    parser.add_argument("--table", action="store_true", help="print the results so far as Markdown and exit")
    parser.add_argument("--only-first", type=int, default=0, help="stop after the first N runs of the grid")
    parser.add_argument("--variant", help="only the runs of this variant (e.g. 48_epochs), say for a second runner")
    args = parser.parse_args()
    runs = [run for run in grid()[: args.only_first or None] if args.variant in (None, run["variant"])]
    if args.table:
        print(markdown_table())
        return 0
    if args.list:
        for target, flags in SYNTH.items():
            print(f"repflow synth --motion-only --out {target} {flags}")
        for run in runs:
            print(train_command(run), eval_command(run), sep="\n")
        return 0
    (ROOT / RUNS).mkdir(parents=True, exist_ok=True)
    for target, flags in SYNTH.items():
        if not (ROOT / target / "train.txt").exists():  # train.txt is written last: a set with it is complete
            partial = " --overwrite" if (ROOT / target).exists() else ""  # a killed synth's files are replaced
            sh(f"repflow synth --motion-only --out {target} {flags}{partial}", ROOT / RUNS / "synth.log")
    done = done_keys()
    for run in runs:
        if (run["model"], run["variant"], str(run["seed"])) not in done:
            do_run(run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
