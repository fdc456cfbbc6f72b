"""A grid of the test images the model got wrong most confidently.

``plot_misclassified(images, labels, probabilities, class_names, report_dir, count=30)``.
"""

import os

import numpy as np

from fmnist_tf.reporting.figures import pyplot, save_figure

FILE = "misclassified.png"
COLUMNS = 6


def most_confident_errors(labels, probabilities, count):
    """Indices of up to ``count`` wrong predictions, the most confident first."""
    predictions = np.argmax(probabilities, axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[wrong, predictions[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def plot_misclassified(images, labels, probabilities, class_names, report_dir, count=30):
    """Writes the grid (true and predicted class, and the predicted probability, above each image).

    Returns ``(path, number shown)``; with no errors the figure says so instead.
    """
    chosen = most_confident_errors(labels, probabilities, count)
    rows = max(1, -(-len(chosen) // COLUMNS))
    figure, axes = pyplot.subplots(rows, COLUMNS, figsize=(2.3 * COLUMNS, 2.7 * rows),
                                   squeeze=False, layout="constrained")
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, chosen):
        predicted = int(np.argmax(probabilities[index]))
        axis.imshow(images[index].squeeze(), cmap="gray_r", vmin=0, vmax=255)
        axis.set_title(f"true: {class_names[labels[index]]}\npredicted: {class_names[predicted]}\n"
                       f"({probabilities[index, predicted]:.0%} sure)", fontsize=9, color="darkred")
    if not len(chosen):
        axes[0, 0].text(0, 0.5, "No test image is misclassified.", fontsize=14)
    figure.suptitle(f"The {len(chosen)} most confident mistakes on the test images", fontsize=14)
    return save_figure(figure, os.path.join(report_dir, FILE)), len(chosen)
