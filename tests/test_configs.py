"""The recipes of fmnist_tf/configs/: each says how to run it and what to expect, and its smoke variant trains."""

import re
from pathlib import Path

import pytest

from test_train import needs_real_data, table_value, train

CONFIGS = Path(__file__).resolve().parents[1] / "fmnist_tf" / "configs"
RECIPES = sorted(path.stem for path in CONFIGS.glob("*.cfg") if not path.stem.endswith("_smoke"))


def test_recipes_are_found():
    assert {"convnet", "convnet_tf1", "convnet_modern", "cpu_fast", "fast92"} <= set(RECIPES)


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_recipe_opens_with_its_command_hardware_and_expected_result(recipe):
    lines = (CONFIGS / f"{recipe}.cfg").read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert any(f"--flagfile=fmnist_tf/configs/{recipe}.cfg" in line for line in header if "Command:" in line)
    assert any(line.startswith("# Hardware:") for line in header)
    assert any(re.search(r"Expected:.*\d", line) for line in header), "no expected figure in the header"
    assert (CONFIGS / f"{recipe}_smoke.cfg").exists(), f"{recipe} has no smoke variant"


@pytest.mark.real_data
@needs_real_data
@pytest.mark.parametrize("recipe", [recipe for recipe in RECIPES if recipe not in ("convnet", "convnet_tf1")])
def test_smoke_variant_trains_end_to_end(tmp_path, recipe):
    result = train(f"--flagfile=fmnist_tf/configs/{recipe}_smoke.cfg", f"--model_dir={tmp_path}/m",
                   "--projector_examples=0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(table_value(result.stdout, "global step")) > 0
    assert 0.0 <= float(table_value(result.stdout, "test accuracy")) <= 1.0
