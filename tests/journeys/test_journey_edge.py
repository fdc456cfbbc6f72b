"""From a trained model to a device without TensorFlow: export with the ``train`` extra, predict with ``pi``.

The export folder is copied to a fresh environment made by ``pip install WHEEL[pi]``; what the predictor says
there is what the export's report card measured here.
"""

import json

import numpy as np
import pytest
from PIL import Image

from cli import REAL_DATA, needs_real_data, read_json, real_test_split, run
from environments import can_import, environment_variables, in_env

pytestmark = needs_real_data

ANKLE_BOOT = 9


def predictions(pi_env, model, *inputs, cwd):
    result = in_env(pi_env, "fmnist-edge-predict", model, *inputs, "--json", "--top_k=1", cwd=cwd)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_export_writes_its_report_card_into_its_own_folder(edge_export):
    _, export_dir = edge_export
    card = read_json(export_dir / "edge_report.json")
    assert card["test_examples"] == 10000
    assert set(card["tflite"]) == {"float32", "float16", "dynamic_range", "int8", "int8_signed"}
    # The default gate held: no INT8 model lost more than 0.5 points against Keras.
    assert card["keras"]["accuracy"] > 0.8
    assert card["keras"]["accuracy"] - card["tflite"]["int8"]["accuracy"] <= 0.005
    assert (export_dir / "edge_report.md").exists() and (export_dir / "manifest.json").exists()


def test_the_device_environment_has_no_tensorflow_and_no_absl(pi_env):
    assert can_import(pi_env, "fmnist_tf.edge.predict")
    assert not can_import(pi_env, "tensorflow")
    assert not can_import(pi_env, "absl")


@pytest.mark.parametrize("script", ["fmnist-train", "fmnist-evaluate", "fmnist-export", "fmnist-fetch"])
def test_the_training_commands_on_the_device_say_which_extra_they_need(pi_env, script, tmp_path):
    result = run([pi_env / "bin" / script, "--help"], cwd=tmp_path, env=environment_variables(pi_env))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"{script} needs the train extra, which this environment lacks: pip install 'fmnist_tf[train]'"]


@pytest.mark.parametrize("model_format", ["int8", "float32"])
def test_the_device_scores_the_test_file_as_the_report_card_did(model_format, pi_env, edge_export, device_copy):
    card = read_json(edge_export[1] / "edge_report.json")
    rows = predictions(pi_env, device_copy / f"model_{model_format}.tflite",
                       REAL_DATA / "t10k-images-idx3-ubyte.gz", cwd=device_copy)
    _, labels = real_test_split()
    predicted = np.array([row["top_k"][0]["class_id"] for row in rows])
    assert len(predicted) == 10000
    assert np.mean(predicted == labels) == card["tflite"][model_format]["accuracy"]


def confident_ankle_boot(pi_env, device_copy):
    """The first test image the device calls an ankle boot, rightly, with at least 90% probability."""
    rows = predictions(pi_env, device_copy / "model_int8.tflite", REAL_DATA / "t10k-images-idx3-ubyte.gz",
                       cwd=device_copy)
    _, labels = real_test_split()
    for index, row in enumerate(rows):
        best = row["top_k"][0]
        if labels[index] == ANKLE_BOOT and best["class_id"] == ANKLE_BOOT and best["probability"] > 0.9:
            return index
    pytest.fail("the device calls no ankle boot of the test set one with 90% probability")


def test_photos_and_a_folder_of_them_are_classified_like_the_item_they_show(pi_env, device_copy, tmp_path):
    index = confident_ankle_boot(pi_env, device_copy)
    images, _ = real_test_split()
    item = Image.fromarray(images[index]).resize((336, 336), Image.LANCZOS)
    photos = tmp_path / "photos"
    photos.mkdir()
    # A dark boot photographed on a white sheet, and a light one on black, on larger canvases, as JPEG and PNG.
    on_white = Image.new("L", (480, 400), 255)
    on_white.paste(Image.eval(item, lambda value: 255 - value), (70, 30))
    on_white.convert("RGB").save(photos / "boot_on_white.jpg", quality=90)
    on_black = Image.new("L", (400, 480), 0)
    on_black.paste(item, (30, 70))
    on_black.save(photos / "boot_on_black.png")

    singles = predictions(pi_env, device_copy / "model_int8.tflite", photos / "boot_on_white.jpg",
                          photos / "boot_on_black.png", cwd=device_copy)
    folder = predictions(pi_env, device_copy / "model_int8.tflite", photos, cwd=device_copy)
    assert [row["top_k"][0]["class_name"] for row in singles] == ["Ankle boot", "Ankle boot"]
    assert sorted(row["input"] for row in folder) == sorted(str(photos / name)
                                                            for name in ("boot_on_white.jpg", "boot_on_black.png"))
    assert [row["top_k"][0]["class_name"] for row in folder] == ["Ankle boot", "Ankle boot"]
