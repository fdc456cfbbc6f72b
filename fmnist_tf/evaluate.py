"""Evaluates a trained model_dir (or a .keras / .tflite file) on the test split and writes a report
with plots.

``python -m fmnist_tf.evaluate --model_dir=runs/convnet --report_dir=runs/convnet_report``;
``run(flags_obj)`` does the work and returns the metrics, so tests drive it in-process.
"""

import sys

from absl import app, flags

from fmnist_tf import flags as fmnist_flags
from fmnist_tf import command_line, estimator, reporting
from fmnist_tf.data import get_dataset_spec, load_numpy
from fmnist_tf.edge.errors import EdgeError
from fmnist_tf.safe_loading import ModelLoadError
from fmnist_tf.training.recipe import ModelDirError, Recipe

fmnist_flags.define_evaluate_flags()


def run(flags_obj):
    """Loads the model, reads the test split its flags.txt (or the flags) names, writes the report;
    returns it."""
    model = reporting.load_evaluated_model(flags_obj.model_dir or flags_obj.model_file,
                                           flags_obj.checkpoint)
    recipe = model.recipe or Recipe.defaults()  # a model file: the train CLI's defaults
    data_dir = flags_obj.data_dir or recipe.data_dir
    dataset = flags_obj.dataset or recipe.dataset
    images, labels = load_numpy(data_dir, "test", max_examples=flags_obj.test_examples)
    return reporting.write_report(
        model, images[..., None], labels, get_dataset_spec(dataset).class_names,
        flags_obj.report_dir, model_dir=flags_obj.model_dir, tsne_size=flags_obj.tsne_size,
        gradcam_per_class=flags_obj.gradcam_per_class,
        misclassified_count=flags_obj.misclassified_count,
        batch_size=flags_obj.batch_size, seed=flags_obj.seed)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        report = run(flags.FLAGS)
    except (reporting.ReportError, ModelLoadError, EdgeError, ModelDirError,
            estimator.CheckpointDamagedError, estimator.CheckpointMismatchError) as error:
        sys.exit(f"evaluate failed: {error}")
    print(f"accuracy {report['accuracy']:.4f}, loss {report['loss']:.4f} on "
          f"{report['num_examples']} test images")
    for note in report["notes"]:
        print(f"note: {note}")
    print(f"report: {report['files']['index']}")


def run_main():
    command_line.run(main)


if __name__ == "__main__":
    run_main()
