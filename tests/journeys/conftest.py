"""The artifacts of each journey, made once per session by the front ends themselves, in the order a user goes.

Each fixture is a step: train (the train CLI), evaluate, export, install; later steps take what earlier ones made.
"""

import shutil

import pytest

from cli import RECIPE, REAL_DATA, SMOKE_RECIPE, SMOKE_TEST_EXAMPLES, run_readme
from environments import build_wheel, closure_environment, environment_variables, in_env, pip_environment

SWEEP_RATES = ("0.001", "0.003")
# The edge journey's model: long enough to classify photos (about 0.85 test accuracy), short enough for CI.
EDGE_TRAIN_FLAGS = ("--train_steps=200", "--batch_size=128", "--steps_per_eval=100", "--steps_per_loop=50",
                    "--save_checkpoints_steps=100", "--save_summary_steps=50", "--projector_examples=0")


@pytest.fixture(scope="session")
def sweep(tmp_path_factory):
    """The README's TensorBoard sweep on the smoke recipe: two learning rates under one logdir.

    Returns the logdir and the first run's output (the results table).
    """
    logdir = tmp_path_factory.mktemp("runs") / "sweep"
    on_smoke = {RECIPE: SMOKE_RECIPE, "runs/sweep": logdir}
    first = run_readme("python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg "
                       "--model_dir=runs/sweep/lr0.001 --histogram_summaries", on_smoke)
    run_readme("python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg "
               "--model_dir=runs/sweep/lr0.003 --learning_rate=0.003", on_smoke)
    return logdir, first


@pytest.fixture(scope="session")
def newcomer_model_dir(sweep):
    return sweep[0] / "lr0.001"


@pytest.fixture(scope="session")
def newcomer_report(newcomer_model_dir, tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports") / "convnet_report"
    result = run_readme("python -m fmnist_tf.evaluate --model_dir=runs/convnet --report_dir=runs/convnet_report",
                        {"runs/convnet_report": report_dir, "runs/convnet": newcomer_model_dir},
                        ["--tsne_size=100", f"--test_examples={SMOKE_TEST_EXAMPLES}"])
    return report_dir, result


@pytest.fixture(scope="session")
def classic_model_dir(tmp_path_factory):
    """One short round of the classic benchmark, as its README line runs it."""
    model_dir = tmp_path_factory.mktemp("classic") / "convnet_short"
    result = run_readme("python benchmark/convnet.py --rounds=3 --steps_per_round=500 --model_dir=/tmp/convnet_short",
                        {"--rounds=3": "--rounds=1", "--steps_per_round=500": "--steps_per_round=20",
                         "/tmp/convnet_short": model_dir})
    return model_dir, result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def train_env(wheel, tmp_path_factory):
    """A venv holding the wheel and exactly what the ``train`` extra declares, nothing of ``dev`` or ``pi``."""
    return closure_environment(tmp_path_factory.mktemp("envs") / "train", wheel, "train")


@pytest.fixture(scope="session")
def pi_env(wheel, tmp_path_factory):
    """A venv made as on the device: ``pip install fmnist_tf-*.whl[pi]``."""
    return pip_environment(tmp_path_factory.mktemp("envs") / "pi", wheel, "pi")


@pytest.fixture(scope="session")
def outside(tmp_path_factory):
    """A working folder outside the repository: packaged recipes must not need the checkout."""
    return tmp_path_factory.mktemp("elsewhere")


@pytest.fixture(scope="session")
def edge_export(train_env, outside):
    """train -> export (every format, report card on) with the ``train`` extra only; returns the two folders."""
    model_dir, export_dir = outside / "edge_model", outside / "edge_export"
    in_env(train_env, "fmnist-train", "--config=convnet_smoke", f"--model_dir={model_dir}",
           f"--data_dir={REAL_DATA}", *EDGE_TRAIN_FLAGS, cwd=outside)
    run_readme("python -m fmnist_tf.export --model_dir=runs/convnet --export_dir=runs/convnet_export",
               {"runs/convnet_export": export_dir, "runs/convnet": model_dir}, ["--latency_runs=20"],
               python=train_env / "bin" / "python", env=environment_variables(train_env), cwd=outside)
    return model_dir, export_dir


@pytest.fixture(scope="session")
def device_copy(edge_export, tmp_path_factory):
    """The export folder as copied onto the device."""
    device = tmp_path_factory.mktemp("device")
    shutil.copytree(edge_export[1], device / "export")
    return device / "export"


