"""A newcomer's first hour: train the smoke recipe, evaluate it, open the report, watch it in TensorBoard.

Every step is a front end run as the README prints it, on what the step before made.
"""

import re

from browser import (get_bytes, get_json, needs_chromium, page_resources, pixels_near, chromium,
                     serve_tensorboard, wait_until)
from cli import (RECIPE, REPO, SMOKE_RECIPE, SMOKE_STEPS, SMOKE_TEST_EXAMPLES, evaluate_summary,
                 needs_real_data, python_m, read_json, run_readme, table_value)

pytestmark = needs_real_data



def readme_report_files():
    """The files the README's evaluate section lists, in its table's first column."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Evaluate: a report with plots", 1)[1].split("\n## ", 1)[0]
    return {name for row in re.findall(r"^\| (`[^|]+`) \|", section, re.MULTILINE)
            for name in re.findall(r"`([^`]+)`", row)}


def test_training_prints_the_results_table_and_leaves_a_rerunnable_model_dir(newcomer_model_dir):
    flags_txt = (newcomer_model_dir / "flags.txt").read_text()
    assert "--model=convnet\n" in flags_txt and "--histogram_summaries\n" in flags_txt
    assert (newcomer_model_dir / "checkpoint").exists()
    # The same command again finds the checkpoint at the last step: it trains nothing and evaluates again.
    again = python_m("fmnist_tf.train", f"--flagfile={newcomer_model_dir}/flags.txt",
                     f"--model_dir={newcomer_model_dir}")
    assert table_value(again.stdout, "global step") == str(SMOKE_STEPS)
    assert table_value(again.stdout, "steps this run") == "0"


def test_make_run_trains_prints_the_table_and_the_same_command_again_trains_nothing(tmp_path):
    run_dir = tmp_path / "convnet"
    made = run_readme("make run", append=[f"RUN_CONFIG={SMOKE_RECIPE}", f"RUN_DIR={run_dir}"])
    assert table_value(made.stdout, "global step") == table_value(made.stdout, "steps this run") == str(SMOKE_STEPS)
    assert 0.0 < float(table_value(made.stdout, "test accuracy")) <= 1.0
    again = run_readme("python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg --model_dir=runs/convnet",
                       {RECIPE: SMOKE_RECIPE, "runs/convnet": run_dir})
    assert table_value(again.stdout, "steps this run") == "0"
    assert table_value(again.stdout, "test accuracy") == table_value(made.stdout, "test accuracy")


def test_a_flag_after_the_flagfile_overrides_it(tmp_path):
    run_readme("python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg --model_dir=runs/convnet_sgd "
               "--optimizer=momentum --learning_rate=0.01", {RECIPE: SMOKE_RECIPE, "runs/convnet_sgd": tmp_path / "sgd"})
    recorded = (tmp_path / "sgd" / "flags.txt").read_text().splitlines()
    assert {"--optimizer=momentum", "--learning_rate=0.01", "--batch_size=32"} <= set(recorded)


def test_evaluate_writes_every_file_the_readme_lists(newcomer_report):
    report_dir, result = newcomer_report
    listed = readme_report_files()
    assert {"index.html", "metrics.json", "training_curves.png", "tsne.png", "gradcam.png"} <= listed
    written = {path.name for path in report_dir.iterdir()}
    assert listed <= written, f"listed in the README but not written: {sorted(listed - written)}"
    assert f"report: {report_dir / 'index.html'}" in result.stdout
    assert "note:" not in result.stdout  # nothing left out: curves, t-SNE and Grad-CAM all apply here
    index = (report_dir / "index.html").read_text()
    shown = set(re.findall(r"<img src='([^']+)'", index))
    assert shown == {name for name in listed if name.endswith(".png")}


def test_the_report_measures_what_the_trainer_measured(sweep, newcomer_report):
    report_dir, result = newcomer_report
    _, trained = sweep
    accuracy, loss, examples = evaluate_summary(result.stdout)
    assert examples == SMOKE_TEST_EXAMPLES  # the trainer's test evaluation: the first 5 batches
    assert f"{accuracy:.4f}" == table_value(trained.stdout, "test accuracy")
    assert f"{loss:.4f}" == table_value(trained.stdout, "test loss")
    metrics = read_json(report_dir / "metrics.json")
    assert metrics["global_step"] == SMOKE_STEPS and metrics["kind"] == "checkpoint"


def test_the_training_curves_come_from_the_model_dirs_scalars_only(newcomer_model_dir):
    from fmnist_tf.reporting.curves import read_runs

    runs = read_runs(str(newcomer_model_dir))
    assert set(runs) == {"train", "validation", "test"}
    assert sorted(set(runs["train"]["loss"][0])) == [2, 4]
    assert sorted(set(runs["validation"]["accuracy"][0])) == [2, 4]
    # Images, histograms and HParams are in the same event files; none of them is a curve.
    tags = set(runs["train"]) | set(runs["validation"])
    assert not {"confusion_matrix", "worst_misclassified", "training_examples", "conv1/kernel"} & tags


def test_an_older_checkpoint_is_evaluated_at_its_own_step(newcomer_model_dir, tmp_path):
    result = run_readme("python -m fmnist_tf.evaluate --model_dir=runs/convnet "
                        "--checkpoint=runs/convnet/model.ckpt-600 --report_dir=runs/report_600",
                        {"runs/convnet": newcomer_model_dir, "model.ckpt-600": "model.ckpt-2",
                         "runs/report_600": tmp_path / "report_2"},
                        ["--tsne_size=100", f"--test_examples={SMOKE_TEST_EXAMPLES}"])
    assert read_json(tmp_path / "report_2" / "metrics.json")["global_step"] == 2
    assert "checkpoint at global step 2" in (tmp_path / "report_2" / "index.html").read_text()
    assert evaluate_summary(result.stdout)[2] == SMOKE_TEST_EXAMPLES


@needs_chromium
def test_the_report_opens_in_a_browser_with_every_image_and_link_loading(newcomer_report, tmp_path):
    report_dir, _ = newcomer_report
    page = page_resources(report_dir, "index.html", tmp_path)
    assert page["title"].startswith("Evaluation of ")
    assert len(page["images"]) == 6
    assert [image["src"] for image in page["images"] if not image["ok"]] == []
    assert [link["href"] for link in page["links"] if not link["ok"]] == []
    assert {link["href"] for link in page["links"]} == {"metrics.json", "classification_report.txt"}


@needs_chromium
def test_tensorboard_shows_the_sweeps_scalars_images_hparams_and_projector(sweep, tmp_path):
    logdir, _ = sweep
    runs = {"lr0.001", "lr0.001/eval_validation", "lr0.001/eval_test", "lr0.003", "lr0.003/eval_test"}
    with serve_tensorboard(logdir, runs, tmp_path / "tensorboard.log") as url:
        scalar_tags = get_json(f"{url}/data/plugin/scalars/tags")
        assert {"loss", "accuracy", "learning_rate", "examples/sec", "global_step/sec"} <= set(
            scalar_tags["lr0.001"])
        assert "accuracy_per_class/Ankle boot" in scalar_tags["lr0.003/eval_test"]
        image_tags = get_json(f"{url}/data/plugin/images/tags")
        assert set(image_tags["lr0.001"]) == {"training_examples"}
        assert set(image_tags["lr0.001/eval_validation"]) == {"confusion_matrix", "worst_misclassified"}
        # The sweep: the HParams dashboard sees the learning rate differ between the two runs.
        experiment = get_json(f"{url}/data/plugin/hparams/experiment", data=b"{}")
        rate = next(info for info in experiment["hparamInfos"] if info["name"] == "learning_rate")
        assert rate["differs"] is True
        assert {"group": "eval_test", "tag": "accuracy"} in [info["name"] for info in experiment["metricInfos"]]

        # The projector finds its configs in a thread of its own: wait for both runs, then read the features.
        wait_until(lambda: {"lr0.001", "lr0.003"} <= set(get_json(f"{url}/data/plugin/projector/runs")),
                   "projector configs")
        query = "run=lr0.003&name=penultimate_features"
        assert len(get_bytes(f"{url}/data/plugin/projector/tensor?{query}")) == 1000 * 1024 * 4
        metadata = get_bytes(f"{url}/data/plugin/projector/metadata?{query}").decode()
        assert metadata.splitlines()[0] == "label\tclass"

        # The Time Series dashboard renders into the page's DOM: its run names and tag groups show the
        # browser loaded the scalars and images.
        page = chromium(f"{url}/#timeseries", tmp_path / "profile0", "--dump-dom")
        for text in ("lr0.003/eval_test", "learning_rate", "accuracy_per_class", "confusion_matrix",
                     "worst_misclassified", "training_examples"):
            assert text in page, text
        # The Scalars and Images dashboards render into shadow DOM, which --dump-dom leaves out: their
        # screenshots must show the first run's line color in a chart, and the darkest blue of the
        # confusion matrix's "Blues" color map.
        chromium(f"{url}/#scalars", tmp_path / "profile1", f"--screenshot={tmp_path / 'scalars.png'}")
        assert pixels_near(tmp_path / "scalars.png", (255, 112, 67)) > 100
        chromium(f"{url}/#images", tmp_path / "profile2", f"--screenshot={tmp_path / 'images.png'}")
        assert pixels_near(tmp_path / "images.png", (8, 48, 107)) > 1000
