"""Every shipped recipe, by name, from a folder outside the repository, with the package installed from its wheel.

Each smoke twin goes train -> export -> evaluate through the console scripts of an environment that holds the
``train`` extra only; the exported .keras model scores what its checkpoint scores.
"""

import pytest

from cli import REAL_DATA, REPO, evaluate_summary, needs_real_data, read_json, run, table_value
from environments import in_env

pytestmark = needs_real_data

CONFIGS = REPO / "fmnist_tf" / "configs"
RECIPES = sorted(path.stem for path in CONFIGS.glob("*.cfg") if not path.stem.endswith("_smoke"))
TEST_EXAMPLES = 300  # of the test split, for each evaluation of a smoke model


def test_every_recipe_has_a_smoke_twin():
    assert {"convnet", "convnet_tf1", "convnet_modern", "cpu_fast", "fast92"} <= set(RECIPES)
    assert all((CONFIGS / f"{recipe}_smoke.cfg").exists() for recipe in RECIPES)


def test_a_packaged_recipe_is_found_by_its_installed_path_too(train_env, outside):
    (installed,) = (train_env / "lib").glob("python*/site-packages/fmnist_tf/configs/convnet_smoke.cfg")
    result = in_env(train_env, "fmnist-train", f"--flagfile={installed}", f"--model_dir={outside}/by_path",
                    f"--data_dir={REAL_DATA}", "--train_steps=2", "--projector_examples=0", "--eval_steps=2",
                    cwd=outside)
    assert table_value(result.stdout, "global step") == "2"


def test_an_unknown_recipe_name_is_refused_with_the_known_ones(train_env, outside):
    result = run([train_env / "bin" / "fmnist-train", "--config=convnet_smok", f"--model_dir={outside}/typo"],
                 cwd=outside)
    assert result.returncode == 1
    assert "--config=convnet_smok: no such packaged recipe; expected one of" in result.stderr
    assert "convnet_smoke" in result.stderr
    assert not (outside / "typo").exists()


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_recipe_trains_exports_and_evaluates_from_anywhere(recipe, train_env, outside):
    model_dir, export_dir = outside / f"{recipe}_model", outside / f"{recipe}_export"
    trained = in_env(train_env, "fmnist-train", f"--config={recipe}_smoke", f"--model_dir={model_dir}",
                     f"--data_dir={REAL_DATA}", "--projector_examples=0", cwd=outside)
    steps = int(table_value(trained.stdout, "global step"))
    assert steps > 0

    in_env(train_env, "fmnist-export", f"--model_dir={model_dir}", f"--export_dir={export_dir}",
           "--noreport_card", cwd=outside)
    manifest = read_json(export_dir / "manifest.json")
    assert manifest["global_step"] == steps
    assert {artifact["format"] for artifact in manifest["artifacts"]} == {
        "saved_model", "keras", "float32", "float16", "dynamic_range", "int8", "int8_signed"}

    from_checkpoint = in_env(train_env, "fmnist-evaluate", f"--model_dir={model_dir}",
                             f"--report_dir={outside}/{recipe}_report", f"--test_examples={TEST_EXAMPLES}",
                             "--tsne_size=50", cwd=outside)
    from_keras_file = in_env(train_env, "fmnist-evaluate", f"--model_file={export_dir}/model.keras",
                             f"--report_dir={outside}/{recipe}_keras_report", f"--data_dir={REAL_DATA}",
                             f"--test_examples={TEST_EXAMPLES}", "--tsne_size=50", cwd=outside)
    accuracy, loss, examples = evaluate_summary(from_checkpoint.stdout)
    assert examples == TEST_EXAMPLES
    assert evaluate_summary(from_keras_file.stdout) == pytest.approx((accuracy, loss, examples), abs=2e-4)
