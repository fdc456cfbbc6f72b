"""Running the front ends as a user does: subprocesses of `python -m ...` or of the console scripts.

``run_ok([...], cwd=...)`` runs a command and fails the test with its output when it exits non-zero.
"""

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from readme import readme_command

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO / "data" / "fashion"
needs_real_data = pytest.mark.skipif(not (REAL_DATA / "t10k-images-idx3-ubyte.gz").exists(),
                                     reason="run `make data` first")
COMMAND_TIMEOUT = 900
# convnet_smoke.cfg: 4 steps of 32 images; each evaluation, the final test one included, reads 5 batches.
SMOKE_STEPS = 4
SMOKE_TEST_EXAMPLES = 5 * 32
RECIPE, SMOKE_RECIPE = "fmnist_tf/configs/convnet.cfg", "fmnist_tf/configs/convnet_smoke.cfg"


def run(command, cwd=REPO, env=None, timeout=COMMAND_TIMEOUT):
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def run_ok(command, cwd=REPO, env=None, timeout=COMMAND_TIMEOUT):
    """Runs ``command``; a non-zero exit fails the test with the command and the end of its output."""
    result = run(command, cwd=cwd, env=env, timeout=timeout)
    assert result.returncode == 0, (f"`{' '.join(map(str, command))}` exited {result.returncode}:\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-5000:]}")
    return result


def run_readme(text, replace=None, append=(), python=sys.executable, **options):
    """Runs the README command ``text`` with the test's paths (``readme.readme_command``); fails as ``run_ok``."""
    return run_ok(readme_command(text, replace, append, python), **options)


def python_m(module, *args, **options):
    """``python -m MODULE ARGS`` from the repository root, as the README runs it."""
    return run_ok([sys.executable, "-m", module, *args], **options)


def table_value(stdout, row):
    """A row of the results table the train CLI prints."""
    match = re.search(rf"^\| {re.escape(row)} \| ([^|]+) \|$", stdout, re.MULTILINE)
    assert match, f"no '{row}' row in:\n{stdout}"
    return match.group(1).strip()


def evaluate_summary(stdout):
    """(accuracy, loss, number of test images) of the line ``evaluate`` prints."""
    match = re.search(r"^accuracy (\d\.\d+), loss (\d+\.\d+) on (\d+) test images$", stdout, re.MULTILINE)
    assert match, f"no accuracy line in:\n{stdout}"
    return float(match.group(1)), float(match.group(2)), int(match.group(3))


def real_test_split():
    """(uint8 images [10000, 28, 28], labels [10000]) of the real test files, read as bytes: the IDX headers are
    16 and 8 bytes."""
    with gzip.open(REAL_DATA / "t10k-images-idx3-ubyte.gz") as images, \
            gzip.open(REAL_DATA / "t10k-labels-idx1-ubyte.gz") as labels:
        return (np.frombuffer(images.read()[16:], np.uint8).reshape(-1, 28, 28),
                np.frombuffer(labels.read()[8:], np.uint8))


def read_json(path):
    return json.loads(Path(path).read_text())
