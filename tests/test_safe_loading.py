"""Safe loading: a .keras file is checked (digest, zip directory, allowlist) before Keras deserializes any of it,
a .tflite file is read as checked bytes and a damaged one never crashes the process, and nothing loads pickles."""

import ast
import configparser
import hashlib
import json
import os
import re
import subprocess
import sys
import types
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from packaging.requirements import Requirement

from fmnist_tf import models
from fmnist_tf.edge.errors import DigestMismatchError, FileSizeError, ManifestError, ModelFileError
from fmnist_tf.edge.model import read_bounded, read_model_bytes
from fmnist_tf.exporting import Artifact, convert_to_tflite, write_manifest
from fmnist_tf.reporting import load_evaluated_model
from fmnist_tf.safe_loading import (ALLOWED_CLASSES, ArchiveFormatError, DecompressionBombError,
                                    DisallowedObjectError, keras_archive, load_keras_file, read_tflite_file)

REPO = Path(__file__).resolve().parents[1]
PIXELS = np.random.default_rng(3).integers(0, 256, size=(4, 28, 28, 1), dtype=np.uint8)


def tiny_model():
    """uint8 pixels -> Rescaling -> Conv2D 'conv' -> Flatten -> Dense 'logits': allowed layers only, seeded."""
    keras.utils.set_random_seed(0)
    pixels = keras.Input((28, 28, 1), dtype="uint8", name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(pixels)
    x = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(pixels, keras.layers.Dense(10, name="logits")(x), name="tiny")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The tiny model, its .keras file and its float32 .tflite file, in a folder of their own."""
    folder = tmp_path_factory.mktemp("saved")
    model = tiny_model()
    model.save(folder / "model.keras")
    (folder / "model_float32.tflite").write_bytes(convert_to_tflite(model, "float32"))
    return {"model": model, "keras": folder / "model.keras", "tflite": folder / "model_float32.tflite"}


@pytest.fixture
def keras_never_deserializes(monkeypatch):
    """Fails the test if Keras is asked to load anything: a refused file must stop before it."""
    def refuse(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was called on a file that should have been refused")
    monkeypatch.setattr(keras.saving, "load_model", refuse)


def rewrite_archive(source, target, edit_config=None, replace=None, add=()):
    """Copies the .keras ``source`` to ``target`` with config.json edited, members replaced or added.

    ``replace``: {name: (bytes, compression)}; ``add``: [(name, bytes)].
    """
    replace = replace or {}
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "config.json" and edit_config:
                config = json.loads(data)
                edit_config(config)
                data = json.dumps(config).encode()
            if info.filename in replace:
                data, compression = replace[info.filename]
                copy.writestr(info.filename, data, compress_type=compression)
            else:
                copy.writestr(info, data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a duplicate name, which one test crafts
            for name, data in add:
                copy.writestr(name, data)
    return target


def layer_config(config, name):
    return next(layer for layer in config["config"]["layers"] if layer["name"] == name)


def test_a_model_of_allowed_layers_loads_with_its_weights(saved):
    loaded = load_keras_file(str(saved["keras"]))
    np.testing.assert_allclose(np.asarray(loaded(PIXELS)), np.asarray(saved["model"](PIXELS)), atol=1e-6)


@pytest.mark.parametrize("name, params", [
    ("convnet", {}), ("lenet5", {}), ("small_cnn", {}), ("fast_cnn", {}), ("wrn16_4", {}), ("resnet18", {}),
    ("efficientnet_b0", {"image_size": 40}),
])
def test_the_models_of_fmnist_tf_pass_the_allowlist(name, params):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(models.build(name, **params))))
    keras_archive.check_config(f"{name}.keras", config)


def test_the_allowlisted_project_layer_is_registered_under_the_name_the_allowlist_expects():
    from fmnist_tf.models.applications import ApplicationPreprocessing

    registered = keras.saving.get_registered_name(ApplicationPreprocessing)
    assert ALLOWED_CLASSES[(ApplicationPreprocessing.__module__, "ApplicationPreprocessing")] == {registered}


def test_a_lambda_layer_is_refused_by_name_before_keras_sees_the_file(tmp_path, keras_never_deserializes):
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2, name="doubling")(inputs), name="with_lambda")
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(DisallowedObjectError, match=r"lambda\.keras: layer 'doubling' \(in Functional 'with_lambda'\) "
                                                    r"is a keras\.layers\.Lambda, which is not among"):
        load_keras_file(str(tmp_path / "lambda.keras"))


def _function_activation(config):
    layer_config(config, "logits")["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"}


def _lambda_activation(config):
    layer_config(config, "logits")["config"]["activation"] = {
        "class_name": "__lambda__", "config": {"value": ["4wEAAAAAAAAA", None, None]}}


def _foreign_module(config):
    layer = layer_config(config, "conv")
    layer["module"], layer["class_name"] = "subprocess", "Popen"


def _registered_name_swap(config):
    layer_config(config, "logits")["registered_name"] = "fmnist_tf>Ranger"


def _tfsm_layer(config):
    layer = layer_config(config, "conv")
    layer["class_name"], layer["config"]["filepath"] = "TFSMLayer", "/tmp/attacker_saved_model"


@pytest.mark.parametrize("edit, message", [
    (_function_activation, r"Dense 'logits' names the function builtins\.exec; serialized functions are refused"),
    (_lambda_activation, r"Dense 'logits' holds a serialized Python lambda \(bytecode\); refused"),
    (_foreign_module, r"layer 'conv' \(in Functional 'tiny'\) is a subprocess\.Popen, which is not among"),
    (_registered_name_swap, r"layer 'logits' \(in Functional 'tiny'\) is a keras\.layers\.Dense registered as "
                            r"'fmnist_tf>Ranger'"),
    (_tfsm_layer, r"layer 'conv' \(in Functional 'tiny'\) is a keras\.layers\.TFSMLayer"),
], ids=["function", "lambda", "foreign_module", "registered_name", "tfsm_layer"])
def test_code_smuggled_into_config_json_is_refused_naming_file_and_layer(saved, tmp_path, keras_never_deserializes,
                                                                           edit, message):
    crafted = rewrite_archive(saved["keras"], tmp_path / "crafted.keras", edit_config=edit)
    with pytest.raises(DisallowedObjectError, match=rf"^{re.escape(str(crafted))}: .*{message}"):
        load_keras_file(str(crafted))


def test_a_decompression_bomb_is_refused_before_anything_is_extracted(saved, tmp_path, keras_never_deserializes):
    bomb = rewrite_archive(saved["keras"], tmp_path / "bomb.keras",
                           replace={"model.weights.h5": (bytes(64 << 20), zipfile.ZIP_DEFLATED)})
    with pytest.raises(DecompressionBombError, match=r"bomb\.keras: member 'model\.weights\.h5' declares 67108864 "
                                                     r"bytes stored in \d+, a compression ratio over 100"):
        load_keras_file(str(bomb))


def test_too_many_members_or_bytes_are_refused(saved, tmp_path, monkeypatch, keras_never_deserializes):
    crowded = rewrite_archive(saved["keras"], tmp_path / "crowded.keras",
                              add=[(f"assets/{index}.txt", b"x") for index in range(keras_archive.MAX_MEMBERS)])
    with pytest.raises(DecompressionBombError, match=rf"crowded\.keras: {keras_archive.MAX_MEMBERS + 3} members; "
                                                     rf"expected at most {keras_archive.MAX_MEMBERS}"):
        load_keras_file(str(crowded))
    # The byte limits, lowered below this small file's sizes, are enforced from the declared sizes.
    monkeypatch.setattr(keras_archive, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(DecompressionBombError, match=r"model\.keras: members declare \d+ bytes uncompressed; "
                                                     r"expected at most 1000"):
        load_keras_file(str(saved["keras"]))
    monkeypatch.setattr(keras_archive, "MAX_UNCOMPRESSED_BYTES", 1 << 30)
    monkeypatch.setattr(keras_archive, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(DecompressionBombError, match=r"config\.json declares \d+ bytes; expected at most 100"):
        load_keras_file(str(saved["keras"]))


@pytest.mark.parametrize("extra, message", [
    ("../outside.py", r"member '\.\./outside\.py' is not a plain relative path"),
    ("/etc/cron.d/job", r"member '/etc/cron\.d/job' is not a plain relative path"),
    ("startup.py", r"unexpected member 'startup\.py'; expected config\.json"),
    ("config.json", r"members \['config\.json'\] appear more than once"),
])
def test_stray_members_are_refused(saved, tmp_path, keras_never_deserializes, extra, message):
    crafted = rewrite_archive(saved["keras"], tmp_path / "stray.keras", add=[(extra, b"print('hello')")])
    with pytest.raises(ArchiveFormatError, match=message):
        load_keras_file(str(crafted))


def test_a_file_that_is_no_zip_is_refused(tmp_path, keras_never_deserializes):
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveFormatError, match=r"model\.keras: not a zip archive"):
        load_keras_file(str(tmp_path / "model.keras"))


def exported_folder(saved, folder):
    """``folder`` with copies of the saved files and the manifest.json the export writes for them."""
    folder.mkdir()
    artifacts = []
    for export_format, name in (("keras", "model.keras"), ("float32", "model_float32.tflite")):
        data = saved["tflite" if name.endswith(".tflite") else "keras"].read_bytes()
        (folder / name).write_bytes(data)
        artifacts.append(Artifact(export_format, name, hashlib.sha256(data).hexdigest(), len(data), [], []))
    trained = types.SimpleNamespace(training_flags={"model": "tiny"}, global_step=1)
    write_manifest(str(folder), artifacts, trained, [f"class {index}" for index in range(10)])
    return folder


@pytest.mark.parametrize("name", ["model.keras", "model_float32.tflite"])
def test_a_file_changed_since_export_is_refused_with_both_digests(saved, tmp_path, name):
    folder = exported_folder(saved, tmp_path / "export")
    assert load_evaluated_model(str(folder / name)).kind in ("keras", "tflite")  # unchanged: it loads
    expected = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    changed = bytearray((folder / name).read_bytes())
    changed[len(changed) // 2] ^= 0x01
    (folder / name).write_bytes(changed)
    actual = hashlib.sha256(changed).hexdigest()
    with pytest.raises(DigestMismatchError, match=rf"{re.escape(name)}: SHA-256 is {actual} \({len(changed)} bytes\); "
                                                  rf".*manifest\.json expects {expected}"):
        load_evaluated_model(str(folder / name))


def test_a_file_its_manifest_does_not_list_is_refused_with_a_way_out(saved, tmp_path):
    folder = exported_folder(saved, tmp_path / "export")
    (folder / "other.keras").write_bytes(saved["keras"].read_bytes())
    with pytest.raises(ManifestError, match=r"lists no artifact 'other\.keras' .* copy the file to a folder without"):
        load_keras_file(str(folder / "other.keras"))
    assert read_tflite_file(str(folder / "model_float32.tflite"), manifest_path=None)[4:8] == b"TFL3"


def test_tflite_bytes_are_checked_before_any_native_code(tmp_path):
    (tmp_path / "fifo.tflite").unlink(missing_ok=True)
    os.mkfifo(tmp_path / "fifo.tflite")
    with pytest.raises(FileSizeError, match=r"fifo\.tflite: not a regular file"):
        read_model_bytes(tmp_path / "fifo.tflite")
    (tmp_path / "big.tflite").write_bytes(b"\x10\x00\x00\x00TFL3" + bytes(200))
    with pytest.raises(FileSizeError, match=r"big\.tflite: 208 bytes; expected at most 100"):
        read_bounded(tmp_path / "big.tflite", max_bytes=100)
    (tmp_path / "root.tflite").write_bytes(b"\xff\xff\x00\x00TFL3" + bytes(8))
    with pytest.raises(ModelFileError, match=r"root\.tflite: bytes 0-3 put the root table at offset 65535; "
                                             r"expected 8 to 15, inside the 16-byte file"):
        read_model_bytes(tmp_path / "root.tflite")


# In a fresh interpreter without TensorFlow, each damaged model is loaded and run in a forked child, so a crash
# of the native interpreter shows as a signal in the results instead of taking pytest down.
_LOAD_EACH_IN_A_CHILD = """
import json, os, sys
import numpy as np
from fmnist_tf.edge.errors import EdgeError
from fmnist_tf.edge.model import load_edge_model
for path in sys.argv[1:]:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        try:
            load_edge_model(path, manifest_path=None, num_threads=1).probabilities(np.zeros((1, 28, 28), np.uint8))
            outcome = "ran"
        except EdgeError as error:
            outcome = f"refused: {type(error).__name__}: {error}"
        except BaseException as error:
            outcome = f"untyped: {type(error).__name__}: {error}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    print(json.dumps({"file": os.path.basename(path), "status": status, "outcome": outcome}), flush=True)
"""


def damaged_models(model_bytes, seed=0):
    """{name: bytes}: truncations, a broken header, and seeded bit flips and overwritten words anywhere."""
    rng = np.random.default_rng(seed)
    damaged = {f"truncated_to_{fraction}": model_bytes[:int(len(model_bytes) * fraction)]
               for fraction in (0.01, 0.25, 0.5, 0.9, 0.999)}
    damaged["header_only"] = model_bytes[:8]
    damaged["root_past_the_end"] = (len(model_bytes) + 4).to_bytes(4, "little") + model_bytes[4:]
    for index in range(20):
        flipped = bytearray(model_bytes)
        for offset in rng.integers(8, len(model_bytes), size=4):
            flipped[offset] ^= 1 << int(rng.integers(8))
        damaged[f"bits_flipped_{index}"] = bytes(flipped)
    for index in range(10):
        overwritten = bytearray(model_bytes)
        offset = int(rng.integers(8, len(model_bytes) - 4))
        overwritten[offset:offset + 4] = rng.integers(0, 256, size=4, dtype=np.uint8).tobytes()
        damaged[f"word_overwritten_{index}"] = bytes(overwritten)
    return damaged


def test_damaged_tflite_models_are_refused_or_run_but_never_crash(saved, tmp_path):
    paths = []
    for name, model_bytes in damaged_models(saved["tflite"].read_bytes()).items():
        paths.append(tmp_path / f"{name}.tflite")
        paths[-1].write_bytes(model_bytes)
    result = subprocess.run([sys.executable, "-c", _LOAD_EACH_IN_A_CHILD, *map(str, paths)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = {line["file"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert len(outcomes) == len(paths)
    crashed = {name: line["status"] for name, line in outcomes.items() if line["status"] != 0}
    assert not crashed, f"the interpreter crashed (negative: the signal) on {crashed}"
    untyped = {name: line["outcome"] for name, line in outcomes.items() if line["outcome"].startswith("untyped")}
    assert not untyped, untyped
    for name in ("truncated_to_0.01", "truncated_to_0.5", "truncated_to_0.999", "header_only", "root_past_the_end"):
        assert outcomes[f"{name}.tflite"]["outcome"].startswith("refused: ModelFileError"), outcomes[f"{name}.tflite"]


def _python_sources():
    """(path, source) of every module, test and notebook code cell of the project."""
    for folder in ("fmnist_tf", "benchmark", "tests"):
        for path in sorted((REPO / folder).rglob("*.py")):
            yield path, path.read_text(encoding="utf-8")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        yield path, "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


def _keyword(call, name):
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def test_nothing_loads_a_pickle_or_a_model_around_the_checks():
    loaders = REPO / "fmnist_tf" / "safe_loading" / "loaders.py"
    problems = []
    for path, source in _python_sources():
        where = path.relative_to(REPO)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                problems += [f"{where}: imports {name}" for name in names
                             if name.split(".")[0] in ("pickle", "cPickle", "dill", "joblib", "cloudpickle")]
            if not isinstance(node, ast.Call):
                continue
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function == "load" and isinstance(node.func, ast.Attribute) and \
                    getattr(node.func.value, "id", "") in ("np", "numpy"):
                allow_pickle = _keyword(node, "allow_pickle")
                if not (isinstance(allow_pickle, ast.Constant) and allow_pickle.value is False):
                    problems.append(f"{where}:{node.lineno}: np.load without allow_pickle=False")
            if function == "load_model" and path != loaders:
                problems.append(f"{where}:{node.lineno}: load_model outside fmnist_tf.safe_loading")
            if function.endswith("Interpreter") and _keyword(node, "model_path") is not None:
                problems.append(f"{where}:{node.lineno}: an interpreter from a path (unverified); use model_content")
    assert problems == []


def test_the_minimum_keras_is_past_the_safe_mode_bypasses():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    lines = [line for line in setup["options.extras_require"]["train"].splitlines() if line.startswith("keras")]
    requirement = Requirement(lines[0])
    # 3.15.0 lacks the .keras decompression-bomb and unpickling fixes of 3.15.1.
    assert not requirement.specifier.contains("3.15.0") and not requirement.specifier.contains("3.13.1")
    assert requirement.specifier.contains(keras.__version__)
