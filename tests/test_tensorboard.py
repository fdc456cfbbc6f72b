"""TensorBoard: every dashboard's data, read back with TensorBoard's own reader.

Two tiny runs of the train CLI (a sweep of two learning rates) share one logdir; the newcomer's journey
(tests/journeys) serves a real sweep to headless Chromium. Run as a script,
this file is that CLI with the file check skipped, since the tiny files are not the real dataset's.
"""

import io
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from PIL import Image
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.plugins import projector
from tensorboard.plugins.hparams import plugin_data_pb2

from fmnist_tf import estimator
from fmnist_tf.data.catalog import FASHION_MNIST
from fmnist_tf.estimator import summaries
from idx_files import write_tiny_idx_dir
from test_estimator import linear_model, make_estimator, make_examples, make_input_fn

REPO = Path(__file__).resolve().parents[1]
LEARNING_RATES = ("0.001", "0.003")
TRAIN_STEPS = 4
CLASS_NAMES = FASHION_MNIST.class_names


@pytest.fixture(scope="module")
def sweep_logdir(tmp_path_factory):
    """A logdir holding two trained model_dirs, ``lr0.001`` and ``lr0.003``, with histograms on."""
    root = tmp_path_factory.mktemp("tensorboard")
    data_dir = write_tiny_idx_dir(root / "data")
    logdir = root / "logdir"
    for learning_rate in LEARNING_RATES:
        result = subprocess.run(
            [sys.executable, __file__, "--flagfile=fmnist_tf/configs/convnet_smoke.cfg", f"--data_dir={data_dir}",
             f"--model_dir={logdir / f'lr{learning_rate}'}", f"--learning_rate={learning_rate}",
             "--validation_size=0", f"--train_steps={TRAIN_STEPS}", "--save_summary_steps=1",
             "--steps_per_loop=1", "--batch_size=10", "--histogram_summaries", "--projector_examples=15"],
            cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    return logdir


def load_run(run_dir):
    """The run's events as TensorBoard's server reads them (TF2 summaries are tensors with a plugin name)."""
    accumulator = plugin_event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={plugin_event_accumulator.TENSORS: 0})
    return accumulator.Reload()


def tags_of(run, plugin_name):
    return {tag for tag in run.Tags()["tensors"] if run.SummaryMetadata(tag).plugin_data.plugin_name == plugin_name}


def tensor_values(run, tag):
    return {event.step: tf.make_ndarray(event.tensor_proto) for event in run.Tensors(tag)}


def scalar_values(run, tag):
    return {step: float(value) for step, value in tensor_values(run, tag).items()}


def last_png_size(run, tag):
    """An image summary's tensor is [width, height, PNG bytes]; the size of the PNG of its last step."""
    _, (*_, encoded) = max(tensor_values(run, tag).items())
    return Image.open(io.BytesIO(encoded)).size


def test_training_run_holds_scalars_per_step_example_grid_and_histograms(sweep_logdir):
    run = load_run(sweep_logdir / "lr0.001")
    assert {"loss", "accuracy", "learning_rate", "examples/sec", "global_step/sec"} <= tags_of(run, "scalars")
    steps = list(range(1, TRAIN_STEPS + 1))
    assert sorted(scalar_values(run, "loss")) == steps
    assert all(0.0 <= value <= 1.0 for value in scalar_values(run, "accuracy").values())
    assert all(value > 0 for value in scalar_values(run, "loss").values())
    assert scalar_values(run, "learning_rate") == pytest.approx({step: 0.001 for step in steps})
    assert all(value > 0 for value in scalar_values(run, "examples/sec").values())

    assert tags_of(run, "images") == {"training_examples"}
    assert last_png_size(run, "training_examples")[0] > 400
    assert {"conv1/kernel", "conv2/kernel", "dense/kernel", "logits/kernel", "logits/bias"} <= tags_of(run, "histograms")
    kernel = tensor_values(run, "logits/kernel")  # buckets of (left edge, right edge, count)
    assert sorted(kernel) == steps and kernel[TRAIN_STEPS][:, 2].sum() == 1024 * 10


def test_each_evaluation_writes_per_class_accuracy_confusion_matrix_and_worst_mistakes(sweep_logdir):
    run = load_run(sweep_logdir / "lr0.001" / "eval_test")
    assert tags_of(run, "images") == {"confusion_matrix", "worst_misclassified"}
    accuracy = scalar_values(run, "accuracy")[TRAIN_STEPS]
    per_class = [scalar_values(run, f"accuracy_per_class/{name}")[TRAIN_STEPS] for name in CLASS_NAMES]
    # The tiny test split has 2 examples of each class, so each class scores 0, 0.5 or 1, and their
    # mean is the overall accuracy.
    assert set(per_class) <= {0.0, 0.5, 1.0}
    assert np.mean(per_class) == pytest.approx(accuracy)
    width, height = last_png_size(run, "confusion_matrix")
    assert width > 400 and height > 400


def test_evaluation_summaries_count_a_model_that_always_says_t_shirt(tmp_path):
    images = np.arange(6 * 28 * 28, dtype=np.uint8).reshape(6, 28, 28, 1)
    labels = np.array([0, 0, 1, 2, 2, 2])
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    always_t_shirt = lambda features: tf.one_hot(tf.zeros(tf.shape(features)[0], tf.int32), 3)
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_evaluation_summaries(writer, 7, dataset, always_t_shirt, ("T-shirt/top", "Trouser", "Pullover"))
    writer.flush()

    run = load_run(tmp_path)
    assert {tag: scalar_values(run, tag) for tag in tags_of(run, "scalars")} == {
        "accuracy_per_class/T-shirt/top": {7: 1.0},
        "accuracy_per_class/Trouser": {7: 0.0},
        "accuracy_per_class/Pullover": {7: 0.0},
    }
    assert sorted(tensor_values(run, "worst_misclassified")) == [7]
    assert sorted(tensor_values(run, "confusion_matrix")) == [7]


def test_training_grid_takes_mixed_label_rows_as_mixup_makes_them(tmp_path):
    images = np.zeros((2, 28, 28, 1), np.uint8)
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_training_images(writer, 3, images, np.array([[0.7, 0.3], [0.2, 0.8]]), ("Bag", "Coat"))
    writer.flush()
    assert sorted(tensor_values(load_run(tmp_path), "training_examples")) == [3]


def test_training_accuracy_is_the_share_of_correct_predictions_in_the_last_compiled_call(tmp_path):
    images, labels = make_examples(32, seed=3)
    frozen = lambda params: estimator.EstimatorSpec(linear_model(), keras.optimizers.SGD(1e-30))
    runner = make_estimator(tmp_path, frozen, save_summary_steps=2, steps_per_loop=2)
    runner.train(make_input_fn(images, labels, batch_size=8), steps=4)

    # The weights barely move, so the predictions of the trained model are those seen in training.
    correct = np.argmax(runner.model.predict(images, verbose=0), axis=-1) == labels
    assert scalar_values(load_run(tmp_path), "accuracy") == pytest.approx(
        {2: correct[:16].mean(), 4: correct[16:].mean()})


def test_hparams_of_each_run_are_its_flags(sweep_logdir):
    for learning_rate in LEARNING_RATES:
        run = load_run(sweep_logdir / f"lr{learning_rate}")
        contents = run.PluginTagToContent("hparams")
        session = plugin_data_pb2.HParamsPluginData.FromString(contents["_hparams_/session_start_info"])
        hparams = session.session_start_info.hparams
        assert hparams["learning_rate"].number_value == pytest.approx(float(learning_rate))
        assert hparams["model"].string_value == "convnet"
        assert hparams["histogram_summaries"].bool_value is True
        assert hparams["train_steps"].number_value == TRAIN_STEPS


def test_projector_files_hold_penultimate_features_sprite_and_class_names(sweep_logdir):
    model_dir = sweep_logdir / "lr0.001"
    config = projector.ProjectorConfig()
    text_format.Parse((model_dir / "projector_config.pbtxt").read_text(), config)
    (embedding,) = config.embeddings
    assert embedding.tensor_name == "penultimate_features"
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    features = np.loadtxt(model_dir / embedding.tensor_path, delimiter="\t")
    assert features.shape == (15, 1024)  # the convnet's dense layer, before dropout and logits
    metadata = (model_dir / embedding.metadata_path).read_text().splitlines()
    assert metadata[0] == "label\tclass" and len(metadata) == 16
    label, class_name = metadata[1].split("\t")
    assert CLASS_NAMES[int(label)] == class_name
    assert Image.open(model_dir / embedding.sprite.image_path).size == (4 * 28, 4 * 28)


if __name__ == "__main__":
    from fmnist_tf import command_line, data, train

    data.fetch = lambda dataset, data_dir: None
    command_line.run(train.main)
