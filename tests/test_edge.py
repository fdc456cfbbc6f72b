"""The device side: photos framed like the training data, checked models, clear errors, no TensorFlow needed.

The predictor runs in subprocesses where importing tensorflow fails, as on a Raspberry Pi with only ``[pi]``.
"""

import json
import re
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from exported_models import REPO, exported_model, keras_classes, needs_real_data, run_edge_predict
from fmnist_tf.data import FASHION_MNIST
from fmnist_tf.edge import images as edge_images
from fmnist_tf.edge import model as edge_model
from fmnist_tf.edge import predict
from fmnist_tf.edge.class_names import FASHION_MNIST_CLASS_NAMES
from fmnist_tf.edge.errors import InterpreterMissingError, ManifestError
from idx_files import idx_bytes, tiny_examples, write_gz



SAMPLE_SIZE = 20  # test images shown to the predictor as PNGs and as an IDX file


@pytest.fixture(scope="module")
def exported():
    return exported_model()


@pytest.fixture(scope="module")
def tiny_test_pngs(exported, tmp_path_factory):
    """The first test images as 28x28 gray PNGs, and the Keras model's classes of them."""
    from fmnist_tf.data import load_numpy

    images, _ = load_numpy(str(exported["data_dir"]), "test", max_examples=SAMPLE_SIZE)
    folder = tmp_path_factory.mktemp("pngs")
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:05d}.png")
    return folder, keras_classes(exported["model_dir"], images[..., np.newaxis])


def predicted_classes(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line)["top_k"][0]["class_id"] for line in result.stdout.splitlines()]


def test_class_names_equal_the_catalogs():
    assert FASHION_MNIST_CLASS_NAMES == FASHION_MNIST.class_names


@needs_real_data
def test_float_model_predicts_a_folder_of_pngs_like_keras_without_tensorflow(exported, tiny_test_pngs):
    folder, keras_predicted = tiny_test_pngs
    result = run_edge_predict(exported["export_dir"] / "model_float32.tflite", folder, "--json", "--top_k=2")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert predicted_classes(result) == keras_predicted.tolist()
    assert [Path(line["input"]).name for line in lines] == [f"{index:05d}.png" for index in range(SAMPLE_SIZE)]
    assert lines[0]["top_k"][0]["class_name"] == FASHION_MNIST.class_names[keras_predicted[0]]
    assert len(lines[0]["top_k"]) == 2 and lines[0]["top_k"][0]["probability"] >= lines[0]["top_k"][1]["probability"]


@needs_real_data
def test_uint8_and_int8_input_models_classify_an_idx_file_alike(exported, tmp_path):
    from fmnist_tf.data import load_numpy

    images, _ = load_numpy(str(exported["data_dir"]), "test", max_examples=SAMPLE_SIZE)
    idx_file = tmp_path / "sample-images-idx3-ubyte.gz"
    write_gz(idx_file, idx_bytes(images))
    uint8 = predicted_classes(run_edge_predict(exported["export_dir"] / "model_int8.tflite", idx_file, "--json"))
    int8 = predicted_classes(run_edge_predict(exported["export_dir"] / "model_int8_signed.tflite", idx_file, "--json"))
    assert len(uint8) == SAMPLE_SIZE and uint8 == int8


@needs_real_data
def test_text_output_lists_the_top_k_with_percentages(exported, tiny_test_pngs):
    folder, _ = tiny_test_pngs
    result = run_edge_predict(exported["export_dir"] / "model_int8.tflite", folder / "00000.png", "--top_k=3")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].endswith("00000.png") and len(lines) == 4
    assert lines[1].startswith("  1. ") and lines[1].endswith("%")


@needs_real_data
def test_benchmark_reports_latency_percentiles(exported):
    args = predict.parse_args([str(exported["export_dir"] / "model_int8.tflite"), "--benchmark", "--runs=20",
                               "--num_threads=1"])
    stats = predict.run(args)["benchmark"]
    assert stats["runs"] == 20
    assert 0 < stats["min_ms"] <= stats["p50_ms"] <= stats["p90_ms"] <= stats["p99_ms"]


@needs_real_data
def test_a_changed_model_is_refused_by_its_manifest(exported, tmp_path):
    shutil.copy(exported["export_dir"] / "manifest.json", tmp_path)
    model_bytes = bytearray((exported["export_dir"] / "model_int8.tflite").read_bytes())
    model_bytes[-1] ^= 0xFF
    (tmp_path / "model_int8.tflite").write_bytes(model_bytes)
    with pytest.raises(ManifestError, match=r"model_int8\.tflite: SHA-256 is .* the file changed since export"):
        edge_model.load_edge_model(tmp_path / "model_int8.tflite")
    shutil.copy(exported["export_dir"] / "model_int8.tflite", tmp_path / "renamed.tflite")
    with pytest.raises(ManifestError, match="lists no artifact 'renamed.tflite'"):
        edge_model.load_edge_model(tmp_path / "renamed.tflite")
    assert edge_model.load_edge_model(tmp_path / "renamed.tflite", manifest_path=None).input_dtype == "uint8"


def wrong_shape_model_bytes():
    import tensorflow as tf

    function = tf.function(lambda x: tf.reduce_mean(x, axis=[1, 2]),
                           input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
    return tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()]).convert()


@needs_real_data
@pytest.mark.parametrize("damage, message", [
    ("truncated", r"refuses this \d+-byte model \(truncated or corrupt\?\): The model is not a valid Flatbuffer"),
    ("not_a_flatbuffer", r"bytes 4-7 are .*\(\d+-byte file\); expected b'TFL3', the identifier of a TFLite"),
    ("wrong_input_shape", r"input shape is \[1, 32, 32, 3\]; expected \[1, 28, 28, 1\]"),
    ("empty", r"bytes 4-7 are b''"),
])
def test_malformed_models_give_a_clear_error_not_a_crash(exported, tiny_test_pngs, tmp_path, damage, message):
    float32 = (exported["export_dir"] / "model_float32.tflite").read_bytes()
    model_bytes = {"truncated": lambda: float32[:len(float32) // 8],
                   "not_a_flatbuffer": lambda: (tiny_test_pngs[0] / "00000.png").read_bytes(),
                   "wrong_input_shape": wrong_shape_model_bytes,
                   "empty": lambda: b""}[damage]()
    (tmp_path / "model.tflite").write_bytes(model_bytes)
    result = run_edge_predict(tmp_path / "model.tflite", tiny_test_pngs[0] / "00000.png")
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert re.search(r"^error: ", result.stderr, re.MULTILINE) and "Traceback" not in result.stderr
    assert re.search(message, result.stderr), result.stderr


def test_a_28x28_gray_png_is_used_as_is(tmp_path):
    image = tiny_examples(1, seed=5)[0][0]
    Image.fromarray(image).save(tmp_path / "item.png")
    names, pixels = edge_images.load_inputs([str(tmp_path / "item.png")])
    assert names == [str(tmp_path / "item.png")]
    np.testing.assert_array_equal(pixels[0], image)


def photo_of_dark_item_on_white(mode="RGB"):
    """A 90x60 photo: a dark 50x30 item (height x width) on a white background, with some sensor noise."""
    photo = np.full((90, 60, 3), 235, np.uint8) + np.random.default_rng(0).integers(0, 20, (90, 60, 3), dtype=np.uint8)
    photo[20:70, 15:45] = (40, 30, 90)
    return Image.fromarray(photo).convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
@pytest.mark.parametrize("background", ["light", "auto"])
def test_a_photo_of_a_dark_item_is_framed_light_on_black_like_the_dataset(mode, background):
    pixels = edge_images.to_model_pixels(photo_of_dark_item_on_white(mode), background=background)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    rows, columns = np.nonzero(pixels > 128)
    # The item's longest edge (its height) fills the 28 rows; its width is scaled alike (30 * 28 / 50 = 17).
    assert (rows.min(), rows.max()) == (0, 27)
    assert 15 <= columns.max() - columns.min() + 1 <= 18
    assert pixels[:, :3].max() == 0 and pixels[:, -3:].max() == 0


def test_a_jpeg_folder_and_an_idx_file_form_one_batch_in_order(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo_of_dark_item_on_white().save(folder / "b.jpg")
    photo_of_dark_item_on_white().save(folder / "a.jpeg")
    (folder / "notes.txt").write_text("not an image")
    images = tiny_examples(3, seed=1)[0]
    from idx_files import idx_bytes, write_gz
    idx_path = write_gz(tmp_path / "images-idx3-ubyte.gz", idx_bytes(images))
    names, pixels = edge_images.load_inputs([str(folder), idx_path], background="light")
    assert [Path(name).name for name in names] == ["a.jpeg", "b.jpg"] + [f"images-idx3-ubyte.gz[{i}]" for i in range(3)]
    np.testing.assert_array_equal(pixels[2:], images)


def test_an_idx_labels_file_is_refused_with_its_header_bytes(tmp_path):
    from idx_files import idx_bytes
    (tmp_path / "labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(edge_images.ImageFileError, match="bytes 0-3 are 0x00000801; expected 0x00000803"):
        edge_images.load_inputs([str(tmp_path / "labels-idx1-ubyte")])


def test_a_corrupt_gzip_idx_file_is_refused_by_name(tmp_path):
    from idx_files import idx_bytes, write_gz
    path = Path(write_gz(tmp_path / "images-idx3-ubyte.gz", idx_bytes(tiny_examples(3, seed=1)[0])))
    damaged = bytearray(path.read_bytes())
    damaged[12:20] = b"\xff" * 8  # inside the deflate stream
    path.write_bytes(bytes(damaged))
    with pytest.raises(edge_images.ImageFileError, match=f"{re.escape(str(path))}: not a readable gzip stream"):
        edge_images.load_inputs([str(path)])


def test_an_idx_file_that_inflates_past_the_limit_is_refused(tmp_path, monkeypatch):
    from idx_files import idx_bytes, write_gz
    path = write_gz(tmp_path / "images-idx3-ubyte.gz", idx_bytes(tiny_examples(3, seed=1)[0]))
    monkeypatch.setattr(edge_images, "MAX_IDX_BYTES", 1000)  # the 3 images are 16 + 3 * 784 bytes
    with pytest.raises(edge_images.ImageFileError, match="over 1,000 bytes once decompressed"):
        edge_images.load_inputs([str(path)])


def test_falls_back_to_tflite_runtime_with_a_note(monkeypatch, capsys):
    from ai_edge_litert.interpreter import Interpreter

    runtime = types.ModuleType("tflite_runtime")
    runtime.interpreter = types.SimpleNamespace(Interpreter=Interpreter)
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", runtime)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", runtime.interpreter)
    assert edge_model.interpreter_class() is Interpreter
    assert "using tflite_runtime instead" in capsys.readouterr().err


def test_without_any_interpreter_the_error_says_what_to_install(monkeypatch):
    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InterpreterMissingError,
                       match=r"pip install ai-edge-litert.*pip install tflite-runtime.*"
                       r"32-bit Raspberry Pi OS is not supported.*"
                       r"install Raspberry Pi OS \(64-bit\) instead"):
        edge_model.interpreter_class()


@pytest.mark.real_data
@needs_real_data
def test_float_model_agrees_with_keras_on_real_test_pngs_without_tensorflow(exported, tmp_path):
    """The issue's check that accuracy is not lost on the way: a briefly trained convnet, real test images as PNG."""
    from fmnist_tf.data import load_numpy

    images, _ = load_numpy(str(exported["data_dir"]), "test", max_examples=REAL_PNG_COUNT)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:05d}.png")
    keras_predicted = keras_classes(exported["model_dir"], images[..., np.newaxis])
    edge_predicted = predicted_classes(run_edge_predict(exported["export_dir"] / "model_float32.tflite", folder,
                                                        "--json", "--top_k=1"))
    assert len(edge_predicted) == REAL_PNG_COUNT
    assert np.mean(np.asarray(edge_predicted) == keras_predicted) >= 0.99


REAL_PNG_COUNT = 2000


def test_edge_imports_nothing_from_the_rest_of_fmnist_tf():
    import ast

    for path in (REPO / "fmnist_tf" / "edge").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("fmnist_tf") or name.startswith("fmnist_tf.edge"), (path.name, name)


def test_the_pi_install_brings_no_training_stack():
    import configparser

    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    requirements = setup["options"]["install_requires"] + setup["options.extras_require"]["pi"]
    names = {re.split(r"[<>=!~\[ ]", line.strip())[0].lower() for line in requirements.splitlines() if line.strip()}
    assert names == {"numpy", "pillow", "ai-edge-litert"}
