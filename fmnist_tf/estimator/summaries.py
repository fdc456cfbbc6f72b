"""What the Estimator writes for TensorBoard besides its scalars: image grids, confusion matrix,
histograms, HParams.

``write_evaluation_summaries(writer, step, dataset, logits_fn, class_names)`` at each evaluation;
``write_hparams(writer, hparams, trial_id)`` once per launch.
"""

import io
import math

import numpy as np
import tensorflow as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tensorboard.plugins.hparams import api as hparams_api

GRID_IMAGES = 25  # images in each grid: 5 x 5 stay readable at TensorBoard's default card size
_GRID_COLUMNS = 5


def write_scalars(writer, step, values):
    with writer.as_default(step=step):
        for tag, value in values.items():
            tf.summary.scalar(tag, value)


def write_histograms(writer, step, variables):
    """One histogram per variable, tagged by its path (``conv1/kernel``)."""
    with writer.as_default(step=step):
        for variable in variables:
            tf.summary.histogram(variable.path, variable)


def write_training_images(writer, step, features, labels, class_names):
    """A grid of the first images of a training batch, as the model receives them, titled by class.

    Mixed label rows (MixUp, CutMix) are titled by their largest class.
    """
    images = _as_images(features)
    if images is None:
        return
    labels = np.asarray(labels)[:GRID_IMAGES]
    if labels.ndim == 2:
        labels = labels.argmax(axis=-1)
    titles = [class_names[label] for label in labels]
    _write_figure(writer, step, "training_examples", _grid_figure(images[:GRID_IMAGES], titles))


def write_evaluation_summaries(writer, step, dataset, logits_fn, class_names):
    """Per-class accuracy, the confusion matrix and the worst misclassified images of one pass over
    ``dataset``.

    ``dataset`` yields ``(features, labels)`` batches; ``logits_fn(features)`` returns their logits.
    "Worst" means the highest loss among the misclassified examples.
    """
    confusion = np.zeros([len(class_names)] * 2, np.int64)
    worst = _WorstExamples(GRID_IMAGES)
    for features, labels in dataset:
        logits = logits_fn(features)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32),
                                                                logits).numpy()
        labels, predictions = labels.numpy().astype(np.int64), tf.argmax(logits, axis=-1).numpy()
        np.add.at(confusion, (labels, predictions), 1)
        worst.add(_as_images(features), labels, predictions, losses)
    per_class = np.diagonal(confusion) / np.maximum(confusion.sum(axis=1), 1)
    write_scalars(writer, step, {f"accuracy_per_class/{name}": value
                                 for name, value in zip(class_names, per_class)})
    _write_figure(writer, step, "confusion_matrix", _confusion_figure(confusion, class_names))
    if "images" in worst.kept and len(worst.kept["images"]):
        titles = [f"true: {class_names[label]}\npred: {class_names[prediction]}"
                  for label, prediction in zip(worst.kept["labels"], worst.kept["predictions"])]
        _write_figure(writer, step, "worst_misclassified",
                      _grid_figure(worst.kept["images"], titles))


def write_hparams(writer, hparams, trial_id):
    """Records a run's hyperparameters for the HParams dashboard.

    No experiment config is written: the dashboard then infers, over every run under the logdir,
    each hyperparameter's type and whether it differs, and takes the metrics from the runs' scalars
    (their last values). Lists are joined with commas and None values left out: it takes bool, int,
    float, str.
    """
    values = {name: ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
              for name, value in hparams.items() if value is not None}
    with writer.as_default():
        hparams_api.hparams(values, trial_id=trial_id)


class _WorstExamples:
    """The ``count`` misclassified examples of highest loss seen so far, merged batch by batch."""

    def __init__(self, count):
        self.count = count
        self.kept = {"labels": np.zeros([0], np.int64), "predictions": np.zeros([0], np.int64),
                     "losses": np.zeros([0], np.float32)}

    def add(self, images, labels, predictions, losses):
        """``images`` is None when the features are not images; then only the labels are kept."""
        wrong = labels != predictions
        batch = {"labels": labels[wrong], "predictions": predictions[wrong],
                 "losses": losses[wrong]}
        if images is not None:
            batch["images"] = images[wrong]
        candidates = {key: np.concatenate([self.kept[key], values]) if key in self.kept else values
                      for key, values in batch.items()}
        order = np.argsort(-candidates["losses"], kind="stable")[:self.count]
        self.kept = {key: values[order] for key, values in candidates.items()}


def _as_images(features):
    """Features as a uint8-able [N, H, W, 1 or 3] numpy array, or None when they are not images."""
    if not isinstance(features, (tf.Tensor, np.ndarray)) or len(features.shape) not in (3, 4):
        return None
    images = np.asarray(features)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    return images if images.shape[-1] in (1, 3) else None


def _grid_figure(images, titles):
    rows = max(1, math.ceil(len(images) / _GRID_COLUMNS))
    figure = Figure(figsize=(_GRID_COLUMNS * 1.6, rows * 1.9))
    for index, (image, title) in enumerate(zip(images, titles)):
        axes = figure.add_subplot(rows, _GRID_COLUMNS, index + 1)
        axes.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
        axes.set_title(title, fontsize=7)
        axes.axis("off")
    figure.tight_layout()
    return figure


def _confusion_figure(confusion, class_names):
    size = 1.0 + 0.6 * len(class_names)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.add_subplot()
    shown = axes.imshow(confusion, cmap="Blues")
    figure.colorbar(shown, ax=axes)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(ticks, class_names, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    # White text on the dark cells, black on the light ones, so every count stays legible.
    threshold = confusion.max() / 2
    for (row, column), count in np.ndenumerate(confusion):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=7,
                  color="white" if count > threshold else "black")
    figure.tight_layout()
    return figure


def _write_figure(writer, step, tag, figure):
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    image = tf.image.decode_png(buffer.getvalue(), channels=4)
    with writer.as_default(step=step):
        tf.summary.image(tag, image[tf.newaxis], max_outputs=1)
