"""Accuracy metrics: top-k, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np


def top_k_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Boolean per row: is the label among the ``k`` highest scores (k is capped at the class count)?"""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return (top == labels[:, None]).any(axis=1)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts; row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each class (diagonal / row sum); NaN for classes with no videos."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)
