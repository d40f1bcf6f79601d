"""Evaluation: clip- and video-level top-1/top-5, per-class accuracy, confusion matrix, reports."""

from repflow.eval.report import write_report
from repflow.eval.runner import EvalResult, StreamModel, evaluate

__all__ = ["EvalResult", "StreamModel", "evaluate", "write_report"]
