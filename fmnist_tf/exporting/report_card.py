"""The report card of an export: each TFLite model against the Keras model it came from, on the full test set.

``report = make_report_card(model, artifacts, test_images, test_labels, class_names)``, then
``write_report_card(report, "benchmark/results", "edge_report")`` (JSON and Markdown) and
``check_int8_accuracy_drop(report, max_drop_points=0.5)``.
"""

import json
import os

import numpy as np

from fmnist_tf.atomic import atomic_write
from fmnist_tf.exporting import latency, litert
from fmnist_tf.exporting.converters import INT8_FORMATS
from fmnist_tf.exporting.errors import AccuracyDropError

_BATCH_SIZE = 500
# The figures for an INT8 model of the reference convnet, as limits on the measured ratios.
INT8_TARGETS = {"size_ratio_to_float32_max": 0.26, "accuracy_change_points_min": -0.3,
                "latency_ratio_to_float32_1_thread_max": 1.0}


def per_class_accuracy(predicted, labels, num_classes):
    return [float(np.mean(predicted[labels == class_id] == class_id)) if np.any(labels == class_id) else None
            for class_id in range(num_classes)]


def _points(change):
    return None if change is None else 100.0 * change


def _tflite_entry(artifact, predicted, keras_predicted, labels, keras_per_class, class_names):
    accuracy = float(np.mean(predicted == labels))
    per_class = per_class_accuracy(predicted, labels, len(class_names))
    return {
        "file": artifact.path,
        "bytes": artifact.num_bytes,
        "input": {key: artifact.inputs[0][key] for key in ("dtype", "shape", "scale", "zero_point")},
        "output": {key: artifact.outputs[0][key] for key in ("dtype", "shape", "scale", "zero_point")},
        "accuracy": accuracy,
        "agreement_with_keras": float(np.mean(predicted == keras_predicted)),
        "per_class": [{"class": name, "keras_accuracy": before, "accuracy": after,
                       "change_points": _points(None if before is None else after - before)}
                      for name, before, after in zip(class_names, keras_per_class, per_class)],
    }


def _int8_figures(tflite, keras_accuracy):
    """For each INT8 model: size, accuracy and 1-thread latency against float32's, with the issue's limits."""
    if "float32" not in tflite:
        return {}
    float32 = tflite["float32"]
    figures = {}
    for name in INT8_FORMATS:
        if name not in tflite:
            continue
        entry = tflite[name]
        measured = {
            "size_ratio_to_float32": entry["bytes"] / float32["bytes"],
            "accuracy_change_points": 100.0 * (entry["accuracy"] - keras_accuracy),
            "latency_ratio_to_float32_1_thread": (entry["latency"]["1"]["median_ms"]
                                                  / float32["latency"]["1"]["median_ms"]),
        }
        measured["meets_targets"] = (
            measured["size_ratio_to_float32"] <= INT8_TARGETS["size_ratio_to_float32_max"]
            and measured["accuracy_change_points"] >= INT8_TARGETS["accuracy_change_points_min"]
            and measured["latency_ratio_to_float32_1_thread"] < INT8_TARGETS["latency_ratio_to_float32_1_thread_max"])
        figures[name] = measured
    return figures


def make_report_card(keras_model, artifacts, test_images, test_labels, class_names, latency_runs=300,
                     thread_counts=(1, 2), command=None):
    """Accuracy, agreement with Keras, per-class change, size and latency of every TFLite artifact."""
    labels = np.asarray(test_labels)
    keras_predicted = np.argmax(keras_model.predict(test_images, batch_size=_BATCH_SIZE, verbose=0), axis=1)
    keras_accuracy = float(np.mean(keras_predicted == labels))
    keras_per_class = per_class_accuracy(keras_predicted, labels, len(class_names))
    tflite_artifacts = [artifact for artifact in artifacts if artifact.tflite_bytes is not None]
    tflite = {}
    for artifact in tflite_artifacts:
        predicted = np.argmax(litert.tflite_logits(artifact.tflite_bytes, test_images, _BATCH_SIZE), axis=1)
        tflite[artifact.format] = _tflite_entry(artifact, predicted, keras_predicted, labels, keras_per_class,
                                                class_names)
    latencies = latency.measure_latency({artifact.format: artifact.tflite_bytes for artifact in tflite_artifacts},
                                        test_images[0], thread_counts, latency_runs)
    for name, entry in tflite.items():
        entry["latency"] = latencies[name]
    return {
        "command": command,
        "machine": latency.machine_description(),
        "latency_method": "one image per invoke, LiteRT interpreter with its default XNNPACK delegate, "
                          "models taking turns; median of the runs",
        "test_examples": int(len(labels)),
        "keras": {"accuracy": keras_accuracy, "per_class_accuracy": dict(zip(class_names, keras_per_class))},
        "tflite": tflite,
        "int8_figures": _int8_figures(tflite, keras_accuracy),
        "int8_targets": INT8_TARGETS,
    }


def check_int8_accuracy_drop(report, max_drop_points):
    """Raises AccuracyDropError if an INT8 model's top-1 accuracy is more than ``max_drop_points`` below Keras's."""
    keras_accuracy = report["keras"]["accuracy"]
    too_low = [f"{name}: {100 * entry['accuracy']:.2f}% ({100 * (entry['accuracy'] - keras_accuracy):+.2f} points)"
               for name, entry in report["tflite"].items()
               if name in INT8_FORMATS and 100 * (keras_accuracy - entry["accuracy"]) > max_drop_points]
    if too_low:
        raise AccuracyDropError(
            f"INT8 top-1 accuracy on the {report['test_examples']} test images fell more than {max_drop_points} "
            f"points below the Keras model's {100 * keras_accuracy:.2f}%: {'; '.join(too_low)} "
            "(raise --max_accuracy_drop, or calibrate on more images with --calibration_size)")


def format_markdown(report):
    """The report card as Markdown: the command and machine, one row per TFLite model, the INT8 figures."""
    machine = report["machine"]
    keras_accuracy = report["keras"]["accuracy"]
    float32_bytes = report["tflite"].get("float32", {}).get("bytes")
    lines = [
        "# Edge report card", "",
        f"Command: `{report['command']}`  ",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['platform']}; "
        + ", ".join(f"{name} {version}" for name, version in machine["versions"].items() if version) + "  ",
        f"Test set: {report['test_examples']} images; Keras model top-1 accuracy {100 * keras_accuracy:.2f}%.  ",
        f"Latency: {report['latency_method']}.", "",
        "| format | input | output | size | size / float32 | top-1 accuracy | change vs Keras | agreement with Keras "
        "| latency 1 thread | latency 2 threads |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, entry in report["tflite"].items():
        ratio = f"{entry['bytes'] / float32_bytes:.3f}" if float32_bytes else "-"
        lines.append(
            f"| {name} | {entry['input']['dtype']} | {entry['output']['dtype']} | {entry['bytes'] / 1e6:.2f} MB "
            f"| {ratio} | {100 * entry['accuracy']:.2f}% | {100 * (entry['accuracy'] - keras_accuracy):+.2f} pts "
            f"| {100 * entry['agreement_with_keras']:.2f}% | {entry['latency']['1']['median_ms']:.3f} ms "
            f"| {entry['latency'].get('2', {}).get('median_ms', float('nan')):.3f} ms |")
    lines += ["", "## Per-class accuracy change vs Keras (points)", "",
              "| class | Keras | " + " | ".join(report["tflite"]) + " |",
              "| --- | ---: | " + " | ".join("---:" for _ in report["tflite"]) + " |"]
    for class_index, (class_name, before) in enumerate(report["keras"]["per_class_accuracy"].items()):
        changes = [entry["per_class"][class_index]["change_points"] for entry in report["tflite"].values()]
        lines.append(f"| {class_name} | {'-' if before is None else f'{100 * before:.1f}%'} | "
                     + " | ".join("-" if change is None else f"{change:+.1f}" for change in changes) + " |")
    if report["int8_figures"]:
        targets = report["int8_targets"]
        lines += ["", "## INT8 against the targets (same run)", "",
                  "| model | size / float32 (target <= {:.2f}) | accuracy change vs Keras (target >= {:+.1f} pts) "
                  "| latency / float32, 1 thread (target < {:.1f}) | meets all |".format(
                      targets["size_ratio_to_float32_max"], targets["accuracy_change_points_min"],
                      targets["latency_ratio_to_float32_1_thread_max"]),
                  "| --- | ---: | ---: | ---: | --- |"]
        for name, figures in report["int8_figures"].items():
            lines.append(f"| {name} | {figures['size_ratio_to_float32']:.3f} | "
                         f"{figures['accuracy_change_points']:+.2f} pts | "
                         f"{figures['latency_ratio_to_float32_1_thread']:.3f} | "
                         f"{'yes' if figures['meets_targets'] else 'no'} |")
    return "\n".join(lines) + "\n"


def write_report_card(report, report_dir, name):
    """Writes ``report_dir/<name>.json`` and ``<name>.md``, each atomically; returns both paths."""
    os.makedirs(report_dir, exist_ok=True)
    paths = (os.path.join(report_dir, f"{name}.json"), os.path.join(report_dir, f"{name}.md"))
    for path, text in zip(paths, (json.dumps(report, indent=2) + "\n", format_markdown(report))):
        with atomic_write(path) as stream:
            stream.write(text.encode("utf-8"))
    return paths
