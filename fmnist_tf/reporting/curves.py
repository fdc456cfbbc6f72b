"""Training curves read back from a model_dir's event files with TensorBoard's reader:
``plot_training_curves(...)``.

The training loop writes scalars to model_dir and each evaluation to model_dir/eval*; one panel per
metric, one line per folder.
"""

import os

import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from fmnist_tf.reporting.figures import pyplot, save_figure

FILE = "training_curves.png"
METRICS = ("loss", "accuracy")  # the tags the Estimator writes for training and for evaluation
SCALARS_PLUGIN = "scalars"  # the plugin name tf.summary.scalar gives its tensors


def read_scalars(run_dir):
    """``{tag: ([steps], [values])}`` of the scalar summaries (tf.summary v2 tensors) in one
    folder's event files.

    Image, histogram and HParams summaries are tensors too: only the scalars plugin's tags are
    curves.
    """
    accumulator = event_accumulator.EventAccumulator(run_dir,
                                                     size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["tensors"]:
        if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != SCALARS_PLUGIN:
            continue
        events = accumulator.Tensors(tag)
        scalars[tag] = ([event.step for event in events],
                        [float(tf.make_ndarray(event.tensor_proto)) for event in events])
    return scalars


def read_runs(model_dir):
    """``{run name: scalars}`` for model_dir ("train") and each eval* subfolder holding event
    files."""
    folders = {"train": model_dir}
    for name in sorted(os.listdir(model_dir)):
        if name.startswith("eval") and os.path.isdir(os.path.join(model_dir, name)):
            folders[name.removeprefix("eval_") if name != "eval" else "eval"] = os.path.join(
                model_dir, name)
    runs = {}
    for run_name, folder in folders.items():
        if any(name.startswith("events.out.tfevents") for name in os.listdir(folder)):
            runs[run_name] = read_scalars(folder)
    return runs


def plot_training_curves(model_dir, report_dir):
    """Writes loss and accuracy against the global step; returns the path, or None when there are no
    events."""
    runs = read_runs(model_dir) if model_dir else {}
    metrics = [metric for metric in METRICS if any(metric in scalars for scalars in runs.values())]
    if not metrics:
        return None
    figure, axes = pyplot.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 4.5),
                                   squeeze=False, layout="constrained")
    colors = pyplot.get_cmap("tab10")
    for axis, metric in zip(axes.flat, metrics):
        # A run keeps its color in every panel.
        for color_index, (run_name, scalars) in enumerate(runs.items()):
            if metric in scalars:
                steps, values = scalars[metric]
                axis.plot(steps, values, marker="o" if len(steps) < 20 else None, label=run_name,
                          color=colors(color_index % 10))
        axis.set_title(metric, fontsize=13)
        axis.set_xlabel("global step", fontsize=11)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(f"Training curves of {model_dir}", fontsize=14)
    return save_figure(figure, os.path.join(report_dir, FILE))
