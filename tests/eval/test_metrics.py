"""repflow.eval.metrics and EvalResult: top-k, confusion matrix, per-class accuracy, view averaging."""

from __future__ import annotations

import numpy as np

from repflow.eval.metrics import confusion_matrix, per_class_accuracy, top_k_correct
from repflow.eval.runner import EvalResult


def test_top_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    labels = np.array([2, 0, 0])
    assert top_k_correct(scores, labels, 1).tolist() == [False, True, False]
    assert top_k_correct(scores, labels, 2).tolist() == [True, True, False]
    assert top_k_correct(scores, labels, 5).all()  # k larger than the class count


def test_confusion_and_per_class():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 2]), 4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    accuracy = per_class_accuracy(matrix)
    assert accuracy[:3].tolist() == [0.5, 1.0, 0.5] and np.isnan(accuracy[3])


def test_result_video_level_numbers():
    result = EvalResult(classes=("a", "b"), labels=np.array([0, 1, 1]),
                        video_scores=np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]),
                        clip_top1=0.5, clip_top5=1.0, views_per_video=3)
    assert result.predictions.tolist() == [0, 0, 1]
    assert result.video_top1 == 2 / 3 and result.video_top5 == 1.0
    assert result.confusion.tolist() == [[1, 0], [1, 1]]
    assert result.per_class.tolist() == [1.0, 0.5]
