"""benchmark/fast_paths.py: which settings a recipe is timed under, what counts as faster, and one real run."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))

import fast_paths  # noqa: E402

SMOKE = str(REPO / "fmnist_tf" / "configs" / "convnet_smoke.cfg")
needs_real_data = pytest.mark.skipif(
    not (REPO / "data" / "fashion" / "t10k-images-idx3-ubyte.gz").exists(), reason="run `make data` first")


def test_a_setting_the_recipe_already_has_is_not_timed_again():
    settings = fast_paths.settings_of(str(REPO / "fmnist_tf" / "configs" / "cpu_fast.cfg"))
    assert settings[0] == fast_paths.RECIPE_FLAGS
    assert "--dtype=bfloat16" not in settings  # cpu_fast trains in bfloat16 already
    assert "--dtype=float32" in settings and "--intra_op_threads=1" in settings


@pytest.mark.parametrize("rates, faster", [
    ({"--prefetch_batches=0": [11.0, 12.0]}, ["--prefetch_batches=0"]),
    ({"--prefetch_batches=0": [9.0, 12.0]}, []),  # overlaps the recipe's own runs: not faster
])
def test_faster_means_every_run_beat_every_run_of_the_recipe(rates, faster):
    assert fast_paths.faster_settings({fast_paths.RECIPE_FLAGS: [9.5, 10.5], **rates}) == faster


@pytest.mark.real_data
@needs_real_data
def test_a_thread_setting_reaches_the_trainer_it_times():
    result = fast_paths.train_rate(SMOKE, "--intra_op_threads=1", timed_steps=2, untimed_steps=1)
    assert result["thread_pools"] == "inter-op 0, intra-op 1"
    assert result["images_per_second"] > 0 and result["timed_steps"] == 2
    assert 0 < result["cores_busy"] < 64


@pytest.mark.real_data
@needs_real_data
def test_a_failed_run_is_reported_with_its_error():
    with pytest.raises(RuntimeError, match="--intra_op_threads"):
        fast_paths.train_rate(SMOKE, "--intra_op_threads=-1", timed_steps=2, untimed_steps=1)
