"""Evaluation: clip- and video-level top-1/top-5, per-class accuracy, confusion matrix, reports."""

from repflow.eval.runner import EvalResult, StreamModel, evaluate
from repflow.eval.report import write_report

__all__ = ["EvalResult", "StreamModel", "evaluate", "write_report"]
