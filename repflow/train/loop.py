"""The training loop: one process, or one of many under torchrun with DistributedDataParallel.

Rank 0 shows the progress bar, writes ``metrics.csv`` (one row per epoch), ``summary.json``, optional
TensorBoard logs and the checkpoints: ``checkpoint_last.pt`` after every epoch (and every
``checkpoint_every`` steps), ``model.pt`` (model + classes + clip settings) at the end. ``resume``
restores model, optimiser, schedule, scaler, RNG states and the position in the epoch, so a killed run
ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from repflow import distributed
from repflow.checkpoint import TrainingClip, load_checkpoint, model_payload, save_checkpoint
from repflow.data.datasets import ClipDataset
from repflow.data.transforms import FLOW_CLIP
from repflow.io import atomic_write, check_output_folder
from repflow.models import ModelConfig, build_model, to_channels_last_3d
from repflow.runtime import pick_device
from repflow.train.config import TrainConfig, config_to_dict
from repflow.train.data import build_datasets, clip_spec
from repflow.train.optim import build_optimizer, build_scheduler
from repflow.train.sampler import ShardedEpochSampler
from repflow.train.state import rng_state, seed_everything, set_rng_state, weights_digest

LAST_CHECKPOINT = "checkpoint_last.pt"
FINAL_MODEL = "model.pt"
# Settings that may change between a run and its resumption without changing the result.
# Settings a resumed run may change: how it runs, not what it computes (memory layout changes only rounding).
RUN_CONTROL = {"resume", "max_steps", "progress", "workers", "checkpoint_every", "tensorboard", "out_dir",
               "channels_last"}


@dataclass
class EpochSums:
    """Running sums of the epoch on this process: loss x clips, correct predictions, clips."""

    loss: float = 0.0
    correct: float = 0.0
    clips: float = 0.0

    def add(self, mean_loss: float, correct: int, clips: int) -> None:
        """Count a batch of ``clips`` clips with loss ``mean_loss`` and ``correct`` right predictions."""
        self.loss += mean_loss * clips
        self.correct += correct
        self.clips += clips

    def as_list(self) -> list[float]:
        """[loss, correct, clips], the form checkpoints store and processes sum."""
        return [self.loss, self.correct, self.clips]


@dataclass
class Progress:
    """Where the run is: the next epoch to finish, steps done in it and in total, and its running sums."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    sums: EpochSums = field(default_factory=EpochSums)
    history: list[dict[str, float]] = field(default_factory=list)


def model_config(config: TrainConfig, num_classes: int) -> ModelConfig:
    """The architecture a training config describes."""
    return ModelConfig(depth=config.depth, num_classes=num_classes, flow=config.flow, flow_after=config.flow_after,
                       width=config.width, in_channels=3 if config.stream == "rgb" else 2,
                       flow_channels=config.flow_channels, n_iter=config.n_iter, learn_flow=config.learn_flow,
                       arch=config.arch, stacked_flows=config.stacked_flows)


def training_clip(config: TrainConfig) -> TrainingClip:
    """How the model's input clips are made (stored in checkpoints for evaluation, figures and the app)."""
    return TrainingClip.of(clip_spec(config), stream=config.stream,
                           flow_clip=FLOW_CLIP if config.stream == "flow" else None)


def _epoch_line(row: dict[str, float], epochs: int) -> str:
    """One human-readable line per epoch (also readable in non-interactive logs)."""
    parts = [f"epoch {row['epoch']}/{epochs}"]
    parts += [f"{key} {row[key]:.4f}" for key in ("train_loss", "train_acc", "val_loss", "val_acc") if key in row]
    parts += [f"lr {row['lr']:.3g}", f"{row['clips_per_s']:.1f} clips/s"]
    return "  ".join(parts)


def train(config: TrainConfig) -> dict[str, Any]:
    """Run (or resume) the training ``config`` describes; returns the summary rank 0 writes to summary.json."""
    config.validate()
    device = pick_device(config.device)
    with distributed.process_group(device) as info:
        return Trainer(config, device, info).run()


class Trainer:
    """Holds the model, data and optimiser of one run; `run` trains it to the end."""

    def __init__(self, config: TrainConfig, device: torch.device, info: distributed.DistInfo) -> None:
        self.config, self.device, self.info = config, device, info
        self.out_dir = Path(config.out_dir)
        summary_writer = _summary_writer_class() if config.tensorboard else None  # fail early on every rank
        if info.is_main:
            check_output_folder(self.out_dir, flag="out_dir")  # before any training, not at the first checkpoint
        seed_everything(config.seed)
        self.train_set, self.val_set = build_datasets(config)
        self.classes = list(self.train_set.classes)
        self.model = build_model(model_config(config, len(self.classes))).to(device)
        self.cuda = device.type == "cuda"
        torch.backends.cudnn.benchmark = self.cuda  # fastest convolution algorithms for the fixed clip size
        if config.sync_bn and info.distributed:
            if not self.cuda:
                raise ValueError("sync_bn needs CUDA devices (PyTorch's SyncBatchNorm does not run on CPU)")
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        self.channels_last = self.cuda if config.channels_last is None else config.channels_last
        if self.channels_last:
            to_channels_last_3d(self.model)
        self.amp_dtype = None
        if config.amp and self.cuda:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.sampler = ShardedEpochSampler(len(self.train_set), rank=info.rank, world_size=info.world_size,
                                           seed=config.seed)
        self.sampler.set_epoch(0)
        self.steps_per_epoch = math.ceil(len(self.sampler) / config.batch_size)
        self.optimizer = build_optimizer(self.model, config)
        self.scheduler = build_scheduler(self.optimizer, config, self.steps_per_epoch)
        self.progress = Progress()
        self.clips_per_second = 0.0
        last = self.out_dir / LAST_CHECKPOINT
        if last.is_file() and not config.resume:
            raise ValueError(f"{self.out_dir} already holds a training run ({LAST_CHECKPOINT}); pass --resume to "
                             f"continue it, or choose another --out-dir")
        if last.is_file():
            self._restore(last)
            self._say(f"resuming {last}: epoch {self.progress.epoch + 1}, step {self.progress.global_step}")
        elif config.resume:
            self._say(f"nothing to resume in {self.out_dir}: starting a new run")
        steps = distributed.all_gather(str(self.progress.global_step))
        if len(set(steps)) > 1:
            raise ValueError(f"the processes found different checkpoints to resume from (steps {', '.join(steps)}): "
                             f"out_dir must be on a filesystem that every node sees")
        self.ddp = self.model
        if info.distributed:
            self.ddp = DistributedDataParallel(self.model, device_ids=[device.index] if self.cuda else None)
        self.writer = None
        if summary_writer is not None and info.is_main:
            self.writer = summary_writer(str(self.out_dir / "tensorboard"))

    # ---- the loop -------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train from the current progress to the last epoch (or ``max_steps``); returns the summary."""
        config, progress = self.config, self.progress
        if self.info.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        stopped = False
        while progress.epoch < config.epochs and not stopped:
            stopped = self._train_epoch()
            if stopped:
                break
            row = self._epoch_row()
            progress.history.append(row)
            progress.epoch += 1
            progress.step_in_epoch, progress.sums = 0, EpochSums()
            self._save_checkpoint()
            if self.info.is_main:
                self._write_metrics(row)
            self._say(_epoch_line(row, config.epochs))
        return self._finish()

    def _train_epoch(self) -> bool:
        """Train the rest of the current epoch; True when ``max_steps`` stopped it early."""
        config, progress = self.config, self.progress
        self.train_set.set_epoch(progress.epoch)
        self.sampler.set_epoch(progress.epoch, skip=progress.step_in_epoch * config.batch_size)
        loader = self._loader(self.train_set, self.sampler)
        self.ddp.train()
        bar = tqdm(total=self.steps_per_epoch, initial=progress.step_in_epoch, unit="step", dynamic_ncols=True,
                   desc=f"epoch {progress.epoch + 1}/{config.epochs}",
                   disable=not (config.progress and self.info.is_main))
        started, clips_seen = time.perf_counter(), 0
        with bar:
            for batch in loader:
                clips, labels = self._inputs(batch)
                loss, correct = self._step(clips, labels)
                sums = progress.sums
                sums.add(loss, correct, len(labels))
                progress.step_in_epoch += 1
                progress.global_step += 1
                clips_seen += len(labels) * self.info.world_size
                rate = clips_seen / max(time.perf_counter() - started, 1e-9)
                bar.set_postfix(loss=f"{sums.loss / sums.clips:.3f}", acc=f"{sums.correct / sums.clips:.3f}",
                                clips_s=f"{rate:.1f}")
                bar.update()
                if self.writer is not None:
                    self.writer.add_scalar("train/loss_step", loss, progress.global_step)
                if config.max_steps and progress.global_step >= config.max_steps:
                    self._save_checkpoint()
                    return True
                if (config.checkpoint_every and progress.global_step % config.checkpoint_every == 0
                        and progress.step_in_epoch < self.steps_per_epoch):
                    self._save_checkpoint()
        if clips_seen:
            self.clips_per_second = rate
        return False

    def _step(self, clips: torch.Tensor, labels: torch.Tensor) -> tuple[float, int]:
        """One optimiser step; returns this process's batch loss and number of correct predictions."""
        with self._autocast():
            logits = self.ddp(clips)
            loss = F.cross_entropy(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach()), int((logits.argmax(1) == labels).sum())

    @torch.no_grad()
    def _validate(self) -> tuple[float, float]:
        """Clip-level loss and accuracy on the validation set, summed over all processes."""
        sampler = ShardedEpochSampler(len(self.val_set), rank=self.info.rank, world_size=self.info.world_size,
                                      shuffle=False, pad=False)
        distributed.broadcast_buffers(self.model)  # every rank validates with rank 0's BatchNorm statistics
        self.model.eval()
        sums = EpochSums()
        for batch in self._loader(self.val_set, sampler):
            clips, labels = self._inputs(batch)
            clips = clips.flatten(0, 1)  # one view per video
            with self._autocast():
                logits = self.model(clips).float()
            sums.loss += float(F.cross_entropy(logits, labels, reduction="sum"))
            sums.correct += int((logits.argmax(1) == labels).sum())
            sums.clips += len(labels)
        loss_sum, correct, count = distributed.all_reduce_sum(sums.as_list(), self.device)
        return loss_sum / max(count, 1), correct / max(count, 1)

    # ---- helpers ---------------------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        if self.info.is_main:
            tqdm.write(message)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision on CUDA when enabled; a no-op otherwise."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def _loader(self, dataset: ClipDataset, sampler: ShardedEpochSampler) -> DataLoader:
        # A private generator keeps worker seeding from consuming the global RNG (resume determinism).
        return DataLoader(dataset, batch_size=self.config.batch_size, sampler=sampler,
                          num_workers=self.config.workers, pin_memory=self.cuda,
                          generator=torch.Generator().manual_seed(self.config.seed))

    def _inputs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        clips = batch[self.config.stream].to(self.device, non_blocking=True)
        if self.channels_last and clips.dim() == 5:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        return clips, batch["label"].to(self.device, non_blocking=True)

    def _epoch_row(self) -> dict[str, float]:
        loss_sum, correct, count = distributed.all_reduce_sum(self.progress.sums.as_list(), self.device)
        row = {"epoch": self.progress.epoch + 1, "step": self.progress.global_step,
               "train_loss": loss_sum / max(count, 1), "train_acc": correct / max(count, 1),
               "lr": self.optimizer.param_groups[0]["lr"],
               "clips_per_s": round(self.clips_per_second, 2)}
        if self.val_set is not None:
            row["val_loss"], row["val_acc"] = self._validate()
        if self.writer is not None:
            for key, value in row.items():
                if key not in ("epoch", "step"):
                    self.writer.add_scalar(f"epoch/{key}", value, row["epoch"])
        return row

    def _write_metrics(self, row: dict[str, float]) -> None:
        """Rewrite metrics.csv from the full history (so a resumed run never duplicates rows)."""
        keys = list(dict.fromkeys(k for r in self.progress.history for k in r))
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=keys)
        writer.writeheader()
        writer.writerows(self.progress.history)
        atomic_write(self.out_dir / "metrics.csv", text.getvalue())

    def _payload(self) -> dict[str, Any]:
        return {**model_payload(self.model if not hasattr(self.model, "module") else self.model.module),
                "classes": self.classes, "clip": training_clip(self.config).to_dict(),
                "train_config": config_to_dict(self.config)}

    def _save_checkpoint(self) -> None:
        if not self.info.is_main:
            return
        progress = self.progress
        payload = {**self._payload(), "optimizer": self.optimizer.state_dict(),
                   "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                   "epoch": progress.epoch, "step_in_epoch": progress.step_in_epoch,
                   "global_step": progress.global_step, "sums": progress.sums.as_list(), "history": progress.history,
                   "world_size": self.info.world_size, "rng": rng_state()}
        save_checkpoint(self.out_dir / LAST_CHECKPOINT, payload)

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(path)  # on CPU: RNG states must stay there; weights are copied into place
        # A setting newer than the checkpoint had its default's behaviour when the checkpoint was written.
        saved = {**{item.name: item.default for item in fields(TrainConfig)}, **state.get("train_config", {})}
        changed = sorted(k for k, v in config_to_dict(self.config).items()
                         if k not in RUN_CONTROL and saved.get(k) != v)
        if changed:
            raise ValueError(f"cannot resume from {path}: these settings differ from the checkpoint's: "
                             + ", ".join(f"{k} ({saved.get(k)!r} -> {getattr(self.config, k)!r})" for k in changed))
        if state["step_in_epoch"] and state["world_size"] != self.info.world_size:
            raise ValueError(f"cannot resume mid-epoch from {path} with {self.info.world_size} processes: "
                             f"it was written by {state['world_size']}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.progress = Progress(state["epoch"], state["step_in_epoch"], state["global_step"],
                                 EpochSums(*state["sums"]), list(state["history"]))
        set_rng_state(state["rng"])

    def _finish(self) -> dict[str, Any]:
        distributed.broadcast_buffers(self.model)
        digests = distributed.all_gather(weights_digest(self.model))
        summary = {"epochs_done": self.progress.epoch, "global_step": self.progress.global_step,
                   "world_size": self.info.world_size, "classes": self.classes,
                   "history": self.progress.history, "rank_weight_digests": digests,
                   "ranks_identical": len(set(digests)) == 1}
        if self.info.is_main:
            save_checkpoint(self.out_dir / FINAL_MODEL, self._payload())
            atomic_write(self.out_dir / "summary.json", json.dumps(summary, indent=2))
            if self.writer is not None:
                self.writer.close()
        return summary


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ValueError("tensorboard=true needs the tensorboard package (pip install tensorboard)") from error
    return SummaryWriter
