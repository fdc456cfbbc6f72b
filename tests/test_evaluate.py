"""The evaluation report: every file written and sane, for a model_dir checkpoint, a .keras and a .tflite file.

The model_dir is the train CLI's (``exported_models.trained_model``): checkpoints at two steps, event files of
every kind, and the trainer's own test evaluation to compare with.
"""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from exported_models import (FIRST_CHECKPOINT, REAL_DATA, REPO, TRAIN_STEPS, TRAINER_TEST_EXAMPLES, needs_real_data,
                             table_value, trained_model)
from fmnist_tf.data import FASHION_MNIST, load_numpy
from fmnist_tf.reporting import ModelFileError, load_evaluated_model, write_report
from fmnist_tf.reporting.misclassified import most_confident_errors

CLASS_NAMES = FASHION_MNIST.class_names
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVERY_PNG = {"confusion_matrix.png", "confusion_matrix_normalized.png", "misclassified.png",
             "training_curves.png", "tsne.png", "gradcam.png"}


@pytest.fixture(scope="module")
def tiny_run():
    """The train CLI's model_dir, and the test accuracy and loss it printed for its first test images."""
    trained = trained_model()
    return {"data_dir": str(REAL_DATA), "model_dir": str(trained["model_dir"]),
            "accuracy": table_value(trained["stdout"], "test accuracy"),
            "loss": table_value(trained["stdout"], "test loss")}


def tiny_test_images(data_dir):
    """The test images the trainer's own test evaluation read."""
    images, labels = load_numpy(data_dir, "test", max_examples=TRAINER_TEST_EXAMPLES)
    return images[..., None], labels


def referenced_images(index_html):
    return set(re.findall(r"<img src='([^']+)'", index_html))


def evaluate_cli(*args):
    return subprocess.run([sys.executable, "-m", "fmnist_tf.evaluate", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@needs_real_data
def test_model_dir_report_has_every_file_and_the_estimators_accuracy(tiny_run, tmp_path):
    report_dir = tmp_path / "report"
    result = evaluate_cli(f"--model_dir={tiny_run['model_dir']}", f"--report_dir={report_dir}", "--tsne_size=20",
                          "--gradcam_per_class=2", f"--test_examples={TRAINER_TEST_EXAMPLES}")
    assert result.returncode == 0, result.stderr[-3000:]
    written = {path.name for path in report_dir.iterdir()}
    assert written == EVERY_PNG | {"metrics.json", "classification_report.txt", "index.html"}
    for name in EVERY_PNG:
        assert (report_dir / name).read_bytes()[:8] == PNG_SIGNATURE, name
    metrics = json.loads((report_dir / "metrics.json").read_text())

    assert f"{metrics['accuracy']:.4f}" == tiny_run["accuracy"]
    assert f"{metrics['loss']:.4f}" == tiny_run["loss"]
    assert metrics["global_step"] == TRAIN_STEPS
    assert metrics["num_examples"] == TRAINER_TEST_EXAMPLES
    assert np.sum(metrics["confusion_matrix"]) == TRAINER_TEST_EXAMPLES
    assert np.trace(metrics["confusion_matrix"]) == round(TRAINER_TEST_EXAMPLES * metrics["accuracy"])
    assert metrics["notes"] == []
    assert referenced_images((report_dir / "index.html").read_text()) == EVERY_PNG
    report_text = (report_dir / "classification_report.txt").read_text()
    assert all(name in report_text for name in CLASS_NAMES)
    assert f"accuracy {tiny_run['accuracy']}" in result.stdout


@needs_real_data
def test_checkpoint_flag_evaluates_that_checkpoint_not_the_latest(tiny_run):
    images, _ = tiny_test_images(tiny_run["data_dir"])
    earlier = load_evaluated_model(tiny_run["model_dir"],
                                   checkpoint=f"{tiny_run['model_dir']}/model.ckpt-{FIRST_CHECKPOINT}")
    earlier_logits = earlier.logits(images)
    latest = load_evaluated_model(tiny_run["model_dir"])
    assert (earlier.global_step, latest.global_step) == (FIRST_CHECKPOINT, TRAIN_STEPS)
    assert not np.allclose(earlier_logits, latest.logits(images))


@needs_real_data
def test_a_damaged_checkpoint_is_refused_by_file_and_no_report_is_written(tiny_run, tmp_path):
    """--checkpoint gets the read-back check training's restore does: a .data file cut short is named."""
    model_dir = tmp_path / "run"
    shutil.copytree(tiny_run["model_dir"], model_dir)
    data_file = next(model_dir.glob(f"model.ckpt-{FIRST_CHECKPOINT}.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:-100])
    report_dir = tmp_path / "report"
    result = evaluate_cli(f"--model_dir={model_dir}", f"--checkpoint={model_dir}/model.ckpt-{FIRST_CHECKPOINT}",
                          f"--report_dir={report_dir}")
    assert result.returncode == 1
    assert "evaluate failed:" in result.stderr
    assert f"{data_file}" in result.stderr and "nothing is restored from it" in result.stderr
    assert "Traceback" not in result.stderr
    assert not report_dir.exists()


@needs_real_data
def test_keras_file_report_has_tsne_and_gradcam_and_says_it_has_no_curves(tiny_run, tmp_path):
    images, labels = tiny_test_images(tiny_run["data_dir"])
    trained = load_evaluated_model(tiny_run["model_dir"])
    keras_path = tmp_path / "model.keras"
    trained.keras_model.save(keras_path)
    model = load_evaluated_model(str(keras_path))
    report = write_report(model, images, labels, CLASS_NAMES, tmp_path / "report", tsne_size=12,
                          gradcam_per_class=1)
    assert report["kind"] == "keras"
    assert report["accuracy"] == np.mean(np.argmax(trained.logits(images), axis=1) == labels)
    assert report["files"]["tsne"] and report["files"]["gradcam"] and report["files"]["training_curves"] is None
    assert report["notes"] == ["No training curves: a model file carries no event files."]
    assert referenced_images((tmp_path / "report" / "index.html").read_text()) == EVERY_PNG - {"training_curves.png"}


@needs_real_data
def test_tflite_file_report_matches_keras_and_explains_what_it_leaves_out(tiny_run, tmp_path):
    from fmnist_tf.exporting import convert_to_tflite

    images, labels = tiny_test_images(tiny_run["data_dir"])
    trained = load_evaluated_model(tiny_run["model_dir"])
    tflite_path = tmp_path / "model.tflite"
    tflite_path.write_bytes(convert_to_tflite(trained.keras_model, "float32"))
    report = write_report(load_evaluated_model(str(tflite_path)), images, labels, CLASS_NAMES,
                          tmp_path / "report")
    assert report["kind"] == "tflite"
    assert report["accuracy"] == np.mean(np.argmax(trained.logits(images), axis=1) == labels)
    assert report["files"]["tsne"] is None and report["files"]["gradcam"] is None
    assert any(".tflite" in note and "Grad-CAM" in note for note in report["notes"])
    index_html = (tmp_path / "report" / "index.html").read_text()
    assert referenced_images(index_html) == {"confusion_matrix.png", "confusion_matrix_normalized.png",
                                             "misclassified.png"}
    assert "LiteRT" in index_html


def test_a_file_of_another_kind_is_refused_by_name(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match=r"model\.h5 is neither a model_dir nor a file ending in \.keras"):
        load_evaluated_model(str(path))


def test_most_confident_errors_come_first_and_correct_predictions_never():
    labels = np.array([0, 1, 2, 0])
    probabilities = np.array([[0.9, 0.1, 0.0],   # right
                              [0.6, 0.4, 0.0],   # wrong, 0.6 sure
                              [0.05, 0.95, 0.0],  # wrong, 0.95 sure
                              [0.2, 0.8, 0.0]])  # wrong, 0.8 sure
    assert most_confident_errors(labels, probabilities, 2).tolist() == [2, 3]


def test_model_dir_and_model_file_together_are_refused(tmp_path):
    result = evaluate_cli(f"--model_dir={tmp_path}", f"--model_file={tmp_path}/m.keras", f"--report_dir={tmp_path}/r")
    assert result.returncode != 0
    assert "give exactly one of --model_dir and --model_file" in result.stderr
