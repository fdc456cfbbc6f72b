"""Atomic artifacts: a file appears under its final name only complete, a kill or a failure mid-write leaves the
previous version intact, and a JSON-lines file a kill cut short still reads, record by record."""

import builtins
import errno
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from fmnist_tf import atomic
from fmnist_tf.atomic import JsonLinesError, append_json_line, atomic_write, read_json_lines
from fmnist_tf.data import write_csv
from fmnist_tf.exporting import artifacts, write_manifest
from fmnist_tf.reporting import figures, index_page

REPO = Path(__file__).resolve().parents[1]
PREVIOUS = b"the previous version, complete\n"

# Imports fmnist_tf.data's modules without running the package's __init__ (which imports TensorFlow), so a
# child process is ready to be killed within a second.
_WITHOUT_TENSORFLOW = f"""
import sys, types
for name, folder in (("fmnist_tf", "fmnist_tf"), ("fmnist_tf.data", "fmnist_tf/data")):
    package = types.ModuleType(name)
    package.__path__ = [{str(REPO)!r} + "/" + folder]
    sys.modules[name] = package
"""

_WRITE_HALF_THEN_WAIT = _WITHOUT_TENSORFLOW + """
import time
from fmnist_tf.atomic import atomic_write
with atomic_write(sys.argv[1]) as stream:
    stream.write(b"the new version, first half")
    stream.flush()
    print("half written", flush=True)
    time.sleep(600)
    stream.write(b", second half")
"""

_APPEND_THREE_THEN_DIE_MID_LINE = _WITHOUT_TENSORFLOW + """
import os, time
from fmnist_tf.atomic import append_json_line
for round_number in (1, 2, 3):
    append_json_line(sys.argv[1], {"round": round_number, "accuracy": 0.5 + round_number / 10})
real_write = os.write

def write_half_then_wait(descriptor, data):
    real_write(descriptor, bytes(data[:len(data) // 2]))
    print("half written", flush=True)
    time.sleep(600)

os.write = write_half_then_wait
append_json_line(sys.argv[1], {"round": 4, "accuracy": 0.9})
"""

_FETCH = _WITHOUT_TENSORFLOW + """
from fmnist_tf.data.fetch import fetch
fetch("fashion_mnist", sys.argv[1], base_url=sys.argv[2], debian_dir=sys.argv[3])
"""


def start_then_kill(script, *args, ready=None):
    """Runs ``script`` in a child, waits until it is half-way (its "half written" line, or the event ``ready``),
    then SIGKILLs it."""
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        if ready is None:
            assert child.stdout.readline().strip() == "half written", child.stderr.read()[-3000:]
        else:
            while not ready.wait(timeout=0.2):
                assert child.poll() is None, child.stderr.read()[-3000:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL


def temporaries(folder, final_name):
    return sorted(name for name in os.listdir(folder) if name != final_name)


def test_a_kill_mid_write_leaves_the_previous_file_and_never_a_partial_one_under_its_name(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_bytes(PREVIOUS)
    start_then_kill(_WRITE_HALF_THEN_WAIT, path)
    assert path.read_bytes() == PREVIOUS
    stray = temporaries(tmp_path, "metrics.json")
    assert len(stray) == 1 and stray[0].startswith(".metrics.json.") and stray[0].endswith(".part")
    assert (tmp_path / stray[0]).read_bytes() == b"the new version, first half"
    with atomic_write(path) as stream:  # the next write is not disturbed by the stray temporary
        stream.write(b"the new version")
    assert path.read_bytes() == b"the new version"


def test_a_kill_mid_append_leaves_every_earlier_record_readable(tmp_path):
    path = tmp_path / "rounds.jsonl"
    start_then_kill(_APPEND_THREE_THEN_DIE_MID_LINE, path)
    half_line = len(json.dumps({"round": 4, "accuracy": 0.9}) + "\n") // 2
    assert not path.read_bytes().endswith(b"\n")  # the kill left half a line
    messages = []
    assert [record["round"] for record in read_json_lines(path, log=messages.append)] == [1, 2, 3]
    assert messages == [f"{path}: skipping an incomplete last line of {half_line} bytes left by a killed writer"]

    append_json_line(path, {"round": 4, "accuracy": 0.9}, log=messages.append)
    assert messages[-1] == f"{path}: cutting off an incomplete last line of {half_line} bytes left by a killed writer"
    assert [record["round"] for record in read_json_lines(path, log=messages.append)] == [1, 2, 3, 4]
    assert len(messages) == 2 and path.read_bytes().endswith(b"\n")


def test_a_complete_line_that_is_not_json_is_an_error_naming_it(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"round": 1}\n{"round": 2, oops}\n{"round": 3}\n')
    with pytest.raises(JsonLinesError, match=r"results\.jsonl: line 2 is not a JSON record"):
        read_json_lines(path)


class _FailingHalfWay:
    """A file that takes half of the first write, then fails as a full disk does."""

    def __init__(self, path, mode):
        self._stream = builtins.open(path, mode)
        self.name = path

    def write(self, data):
        self._stream.write(bytes(data)[:len(data) // 2])
        self._stream.flush()
        raise OSError(errno.ENOSPC, "No space left on device (simulated half-way through)")

    def flush(self):
        self._stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._stream.close()


def _write_figure(folder):
    figure = figures.pyplot.figure()
    figure.gca().plot([0, 1], [1, 0])
    return figures.save_figure(figure, str(folder / "confusion_matrix.png"))


WRITERS = {
    "export manifest.json": lambda folder: write_manifest(
        str(folder), [], types.SimpleNamespace(training_flags={"model": "convnet"}, global_step=7), ["a", "b"]),
    "report figure": _write_figure,
    "report index.html": lambda folder: index_page.write_index(
        str(folder), "Evaluation", {"accuracy": 0.5, "loss": 1.0, "num_examples": 2, "num_errors": 1}, "", [], []),
    "CSV data": lambda folder: write_csv(np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8),
                                         str(folder / "train.csv")),
}
FINAL_NAMES = {"export manifest.json": "manifest.json", "report figure": "confusion_matrix.png",
               "report index.html": "index.html", "CSV data": "train.csv"}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_write_failing_half_way_keeps_the_previous_version_and_no_temporary(tmp_path, monkeypatch, writer):
    final_path = tmp_path / FINAL_NAMES[writer]
    final_path.write_bytes(PREVIOUS)
    monkeypatch.setattr(atomic, "open", _FailingHalfWay, raising=False)
    with pytest.raises(OSError, match="No space left on device"):
        WRITERS[writer](tmp_path)
    assert final_path.read_bytes() == PREVIOUS
    assert temporaries(tmp_path, final_path.name) == []


def test_an_export_of_model_keras_failing_half_way_keeps_the_previous_model(tmp_path):
    (tmp_path / "model.keras").write_bytes(PREVIOUS)

    def save_half_then_fail(path):
        Path(path).write_bytes(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, "No space left on device (simulated half-way through)")

    trained = types.SimpleNamespace(model=types.SimpleNamespace(save=save_half_then_fail))
    with pytest.raises(OSError, match="No space left on device"):
        artifacts._write_keras(trained, str(tmp_path))
    assert (tmp_path / "model.keras").read_bytes() == PREVIOUS
    assert temporaries(tmp_path, "model.keras") == []


class _HalfThenHang(http.server.BaseHTTPRequestHandler):
    """Promises a file, sends half of it, and holds the connection until the test ends."""

    half_sent = threading.Event()
    release = threading.Event()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "20000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + bytes(9998))
        self.wfile.flush()
        self.half_sent.set()
        self.release.wait(timeout=120)

    def log_message(self, format, *args):
        pass


def test_a_download_killed_half_way_leaves_no_file_under_the_final_name(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HalfThenHang)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _HalfThenHang.half_sent.clear()
    _HalfThenHang.release.clear()
    try:
        start_then_kill(_FETCH, tmp_path / "data", f"http://127.0.0.1:{server.server_port}/", tmp_path / "no_debian",
                        ready=_HalfThenHang.half_sent)
    finally:
        _HalfThenHang.release.set()
        server.shutdown()
        server.server_close()
    left = os.listdir(tmp_path / "data")
    # Only the temporary the download was going into; the final name appears after the bytes verify.
    assert len(left) == 1 and left[0].startswith(".train-images-idx3-ubyte.gz.") and left[0].endswith(".part"), left
