"""Exports a trained model_dir for serving and for the edge, with a report card of every TFLite model.

``python -m fmnist_tf.export --model_dir=runs/convnet --export_dir=export``; ``run(flags_obj)`` does the
work and returns the stats, so tests drive it in-process.
"""

import shlex
import sys

from absl import app, flags, logging

from fmnist_tf import command_line, exporting
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.data import IMAGENET, load_numpy
from fmnist_tf.training.recipe import ModelDirError, Recipe
from fmnist_tf.training.trained_model import load_trained_model

fmnist_flags.define_export_flags()


def run(flags_obj, command=None):
    """Writes the artifacts, the report card (then checks the INT8 accuracy drop), and manifest.json last.

    An export that fails the accuracy check keeps its report card but gets no manifest.
    """
    if Recipe.from_model_dir(flags_obj.model_dir).dataset == IMAGENET:
        _check_imagenet_formats(flags_obj)
    trained = load_trained_model(flags_obj.model_dir, flags_obj.data_dir)
    data_dir = trained.recipe.data_dir
    class_names = trained.class_names
    artifacts = exporting.export_artifacts(
        trained, flags_obj.export_dir, flags_obj.formats, data_dir=data_dir,
        calibration_size=flags_obj.calibration_size, calibration_seed=flags_obj.calibration_seed,
        int8_output_type=flags_obj.int8_output_type)
    stats = {"export_dir": flags_obj.export_dir, "global_step": trained.global_step,
             "artifacts": {artifact.format: artifact.path for artifact in artifacts}}
    if flags_obj.report_card and any(artifact.tflite_bytes for artifact in artifacts):
        test_images, test_labels = load_numpy(data_dir, "test", max_examples=flags_obj.test_examples)
        report = exporting.make_report_card(trained.model, artifacts, test_images[..., None], test_labels,
                                            class_names, latency_runs=flags_obj.latency_runs, command=command)
        stats["report_card"] = exporting.write_report_card(report, flags_obj.report_dir or flags_obj.export_dir,
                                                           flags_obj.report_name)
        stats["report"] = report
        exporting.check_int8_accuracy_drop(report, flags_obj.max_accuracy_drop)
    stats["manifest"] = exporting.write_manifest(flags_obj.export_dir, artifacts, trained, class_names)
    return stats


def _check_imagenet_formats(flags_obj):
    """INT8 calibration and the report card read Fashion-MNIST's IDX files: an ImageNet model gets neither."""
    int8 = [name for name in flags_obj.formats if name in exporting.INT8_FORMATS]
    tflite = [name for name in flags_obj.formats if name in exporting.TFLITE_FORMATS]
    if int8:
        applicable = [name for name in exporting.FORMATS if name not in exporting.INT8_FORMATS]
        raise exporting.ExportError(f"{flags_obj.model_dir} is an imagenet model: INT8 formats ({', '.join(int8)}) "
                                    "calibrate on Fashion-MNIST images and do not apply; expected --formats from "
                                    f"{', '.join(applicable)}")
    if tflite and flags_obj.report_card:
        raise exporting.ExportError(f"{flags_obj.model_dir} is an imagenet model: the report card evaluates on the "
                                    f"Fashion-MNIST test set; pass --noreport_card to export {', '.join(tflite)}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    command = shlex.join(["python", "-m", "fmnist_tf.export", *sys.argv[1:]])
    try:
        stats = run(flags.FLAGS, command=command)
    except (exporting.ExportError, ModelDirError) as error:
        sys.exit(f"export failed: {error}")
    for export_format, path in stats["artifacts"].items():
        print(f"{export_format}: {path}")
    print(f"manifest: {stats['manifest']}")
    if "report_card" in stats:
        print(f"report card: {', '.join(stats['report_card'])}")
        logging.info("INT8 figures: %s", stats["report"]["int8_figures"])


def run_main():
    command_line.run(main)


if __name__ == "__main__":
    run_main()
