"""TensorBoard: every dashboard's data, read back with TensorBoard's own reader, and served to headless Chromium.

Two tiny runs of the train CLI (a sweep of two learning rates) share one logdir. Run as a script,
this file is that CLI with the file check skipped, since the tiny files are not the real dataset's.
"""

import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
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
SERVER_TIMEOUT = 60  # seconds for `tensorboard` to answer, and for Chromium to render a dashboard


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


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url, data=None):
    """GET, or POST of ``data`` (a JSON body) where given."""
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def tensorboard_url(sweep_logdir, tmp_path):
    port = free_port()
    log = open(tmp_path / "tensorboard.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", f"--logdir={sweep_logdir}",
                               "--host=127.0.0.1", f"--port={port}", "--load_fast=false"],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            try:
                # The first answer can come before the first pass over the logdir: wait for both runs.
                if len(get_json(f"{url}/data/runs")) >= 4:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "tensorboard.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"tensorboard did not serve within {SERVER_TIMEOUT} s"
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def chromium(url, user_data_dir, *outputs):
    """Runs headless Chromium (no sandbox: tests run as root) on ``url`` for a virtual 20 s of scripts."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    result = subprocess.run([executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             f"--user-data-dir={user_data_dir}", "--window-size=1400,1400",
                             "--virtual-time-budget=20000", *outputs, url],
                            capture_output=True, text=True, timeout=SERVER_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def pixels_near(screenshot, color, left=360):
    """Pixels right of the runs sidebar (whose checkboxes wear the run colors) within 40 of ``color``."""
    pixels = np.asarray(Image.open(screenshot).convert("RGB"), np.int32)[:, left:]
    return int((np.abs(pixels - np.array(color)).sum(axis=-1) < 40).sum())


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="Debian's chromium is not installed (`make chromium` installs it as root)")
def test_tensorboard_serves_scalars_and_images_dashboards_to_headless_chromium(tensorboard_url, tmp_path):
    runs = get_json(f"{tensorboard_url}/data/runs")
    assert {"lr0.001", "lr0.001/eval_test", "lr0.003", "lr0.003/eval_test"} <= set(runs)
    scalar_tags = get_json(f"{tensorboard_url}/data/plugin/scalars/tags")
    assert {"loss", "accuracy", "learning_rate", "examples/sec"} <= set(scalar_tags["lr0.001"])
    assert "accuracy_per_class/Ankle boot" in scalar_tags["lr0.003/eval_test"]
    image_tags = get_json(f"{tensorboard_url}/data/plugin/images/tags")
    assert set(image_tags["lr0.001/eval_test"]) == {"confusion_matrix", "worst_misclassified"}
    # The sweep: the HParams dashboard sees the learning rate differ between the two runs.
    experiment = get_json(f"{tensorboard_url}/data/plugin/hparams/experiment", data=b"{}")
    learning_rate = next(info for info in experiment["hparamInfos"] if info["name"] == "learning_rate")
    assert learning_rate["differs"] is True
    assert {"group": "eval_test", "tag": "accuracy"} in [info["name"] for info in experiment["metricInfos"]]

    # The projector finds its configs in a thread of its own: wait for both runs, then read the features.
    deadline = time.monotonic() + SERVER_TIMEOUT
    while not {"lr0.001", "lr0.003"} <= set(get_json(f"{tensorboard_url}/data/plugin/projector/runs")):
        assert time.monotonic() < deadline, f"the projector found no configs within {SERVER_TIMEOUT} s"
        time.sleep(0.5)
    query = "run=lr0.003&name=penultimate_features"
    with urllib.request.urlopen(f"{tensorboard_url}/data/plugin/projector/tensor?{query}", timeout=10) as response:
        assert len(response.read()) == 15 * 1024 * 4  # float32 features of 15 images
    with urllib.request.urlopen(f"{tensorboard_url}/data/plugin/projector/metadata?{query}", timeout=10) as response:
        assert response.read().decode().splitlines()[0] == "label\tclass"

    # The Time Series dashboard renders into the page's DOM: its run names, tag groups and the
    # accuracy card's table of last values (at step 4) show the browser loaded the scalars.
    page = chromium(f"{tensorboard_url}/#timeseries", tmp_path / "profile0", "--dump-dom")
    for text in ("lr0.003/eval_test", "learning_rate", "accuracy_per_class", "confusion_matrix",
                 "worst_misclassified", "training_examples"):
        assert text in page, text
    # The Scalars and Images dashboards render into shadow DOM, which --dump-dom leaves out:
    # their screenshots must show the first run's line color in a chart, and the darkest blue
    # of the confusion matrix's "Blues" color map.
    chromium(f"{tensorboard_url}/#scalars", tmp_path / "profile1", f"--screenshot={tmp_path / 'scalars.png'}")
    assert pixels_near(tmp_path / "scalars.png", (255, 112, 67)) > 100
    chromium(f"{tensorboard_url}/#images", tmp_path / "profile2", f"--screenshot={tmp_path / 'images.png'}")
    assert pixels_near(tmp_path / "images.png", (8, 48, 107)) > 1000


if __name__ == "__main__":
    from absl import app

    from fmnist_tf import data, train

    data.fetch = lambda dataset, data_dir: None
    app.run(train.main)
