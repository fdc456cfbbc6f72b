"""The confusion matrix as two PNGs, counts and row-normalized: ``plot_confusion_matrices(matrix,
names, folder)``."""

import os

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from fmnist_tf.reporting.figures import pyplot, save_figure

COUNTS_FILE = "confusion_matrix.png"
NORMALIZED_FILE = "confusion_matrix_normalized.png"


def _plot(matrix, class_names, title, values_format, path):
    figure, axes = pyplot.subplots(figsize=(9, 8), layout="constrained")
    ConfusionMatrixDisplay(matrix, display_labels=list(class_names)).plot(
        ax=axes, cmap="Blues", values_format=values_format, xticks_rotation=45, colorbar=True)
    axes.set_title(title, fontsize=14)
    axes.set_xlabel("predicted class", fontsize=12)
    axes.set_ylabel("true class", fontsize=12)
    return save_figure(figure, path)


def plot_confusion_matrices(matrix, class_names, report_dir):
    """Writes the counts and the per-true-class fractions (each row sums to 1); returns both
    paths."""
    matrix = np.asarray(matrix)
    totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return (_plot(matrix, class_names, "Confusion matrix (test images)", "d",
                  os.path.join(report_dir, COUNTS_FILE)),
            _plot(matrix / totals, class_names,
                  "Confusion matrix, each row divided by its class's count", ".2f",
                  os.path.join(report_dir, NORMALIZED_FILE)))
