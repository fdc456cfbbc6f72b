"""benchmark/runner.py and benchmark/summarize.py: the scikit-learn baselines, on tiny generated data."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))

import runner  # noqa: E402
import summarize  # noqa: E402
from sklearn_baselines import features, grid, migration, scheduler, summary  # noqa: E402
from sklearn_baselines.jobs import Job, rejection_reason  # noqa: E402
from sklearn_baselines.staging import stage_features, stratified_subsample  # noqa: E402

from fmnist_tf.atomic import read_json_lines  # noqa: E402

NUM_CLASSES = 10


def band_images(num_per_class, seed):
    """uint8 [10 * num_per_class, 28, 28]: class k has a bright band at rows 2k-2k+3, plus seeded noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(NUM_CLASSES), num_per_class).astype(np.uint8)
    images = rng.integers(0, 60, size=(len(labels), 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label:2 * label + 4, 4:24] = 250
    return images, labels


def load_band_images(data_dir, split):
    return band_images(12 if split == "train" else 4, seed=0 if split == "train" else 1)


@pytest.fixture
def staged(tmp_path):
    folder = tmp_path / "features"
    folder.mkdir()
    return stage_features("unused", "standard", str(folder), load=load_band_images)


def lines_of(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_original_grid_expands_to_its_143_combinations_with_tuples_parsed():
    jobs = grid.expand_grid(grid.load_grid(REPO / "benchmark" / "baselines.json"))
    assert len(jobs) == 143
    assert jobs[0] == ("PassiveAggressiveClassifier", {"C": 1.0})
    assert ("MLPClassifier", {"activation": "relu", "hidden_layer_sizes": (100, 10)}) in jobs
    assert sum(name == "SVC" for name, _ in jobs) == 12


def test_grid_file_without_value_list_names_the_parameter(tmp_path):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"classifiers": {"SVC": [{"C": 10.0}]}}))
    with pytest.raises(grid.GridFormatError, match=r"classifiers\.SVC\.C is 10\.0; expected a non-empty list"):
        grid.load_grid(path)


def test_migration_renames_removed_values_and_pins_changed_defaults():
    assert migration.migrate("SGDClassifier", {"loss": "log", "penalty": "l1"}) == (
        {"loss": "log_loss", "penalty": "l1", "max_iter": 5, "tol": None}, None)
    assert migration.migrate("GradientBoostingClassifier", {"loss": "deviance"}) == ({"loss": "log_loss"}, None)
    assert migration.migrate("LogisticRegression", {"penalty": "l1", "C": 1.0, "multi_class": "ovr"}) == (
        {"l1_ratio": 1.0, "solver": "saga", "C": 1.0}, "OneVsRestClassifier")
    assert migration.migrate("LogisticRegression", {"penalty": "l2", "multi_class": "multinomial"}) == (
        {"l1_ratio": 0.0}, None)
    assert migration.migrate("SVC", {"C": 10.0}) == ({"C": 10.0, "gamma": "auto"}, None)
    # The original's scikit-learn ran the SGD-family linear models for 5 epochs unless told otherwise.
    assert migration.migrate("SGDClassifier", {"loss": "hinge"}) == (
        {"loss": "hinge", "max_iter": 5, "tol": None}, None)
    assert migration.migrate("Perceptron", {"max_iter": 50}) == ({"max_iter": 50}, None)
    estimator = migration.make_estimator("LogisticRegression", {"penalty": "l1", "multi_class": "ovr"}, 3)
    assert type(estimator).__name__ == "OneVsRestClassifier"
    assert estimator.estimator.get_params()["random_state"] == 3


def test_installed_sklearn_refuses_only_the_combinations_the_original_refused_too(staged):
    train_x, train_y = (np.load(staged[part], allow_pickle=False) for part in ("train_x", "train_y"))
    jobs = [Job(name, parameter, "standard") for name, parameter in
            grid.expand_grid(grid.load_grid(REPO / "benchmark" / "baselines.json"))]
    refused = [(job.name, job.parameter) for job in jobs if rejection_reason(job, train_x, train_y)]
    # LinearSVC has no hinge loss with an L1 penalty (one-vs-rest); crammer_singer ignores both.
    assert refused == [("LinearSVC", {"loss": "hinge", "penalty": "l1", "C": c, "multi_class": "ovr"})
                       for c in (1.0, 10.0, 100.0)]


def test_stratified_subsample_keeps_every_class_in_proportion():
    images, labels = band_images(12, seed=0)
    _, sub_labels = stratified_subsample(images, labels, 60, seed=0)
    assert np.bincount(sub_labels, minlength=NUM_CLASSES).tolist() == [6] * NUM_CLASSES


def test_hog_has_one_histogram_per_block_and_ignores_contrast():
    images, _ = band_images(1, seed=0)
    hog = features.hog_features(images)
    assert hog.shape == (10, 6 * 6 * 2 * 2 * 9)  # 7x7 cells of 4 pixels -> 6x6 blocks of 2x2 cells
    assert np.allclose(features.hog_features(images // 2 * 2), features.hog_features(images // 2), atol=1e-4)
    edge = np.zeros((1, 28, 28), np.uint8)
    edge[:, :, 14:] = 200  # a vertical edge: horizontal gradients, orientation bin 0
    cells = features.hog_features(edge).reshape(6, 6, 4, 9)
    assert cells[:, 3, 0].argmax(axis=-1).tolist() == [0] * 6


def test_features_are_scaled_on_the_training_set(staged):
    train, test = features.make_features("pca", *(load_band_images(None, split)[0] for split in ("train", "test")),
                                         pca_components=5)
    assert train.shape == (120, 5) and test.shape == (40, 5)
    assert np.allclose(np.load(staged["train_x"], allow_pickle=False).mean(axis=0), 0, atol=1e-5)


def test_killed_run_resumes_without_redoing_finished_jobs(staged, tmp_path):
    results = tmp_path / "results.jsonl"
    jobs = [Job("KNeighborsClassifier", {"n_neighbors": k}, "standard", repeats=2) for k in (1, 3, 5)]
    scheduler.run_jobs(jobs[:1], staged, str(results), workers=1, time_limit_s=120)
    # A kill while writing: the first job's line is complete, a second one was cut short.
    with open(results, "a", encoding="utf-8") as handle:
        handle.write('{"name": "KNeighborsClassifier", "parameter": {"n_neig')
    new = scheduler.run_jobs(jobs, staged, str(results), workers=2, time_limit_s=120)
    assert sorted(record["parameter"]["n_neighbors"] for record in new) == [3, 5]
    records = read_json_lines(results)
    assert sorted(record["parameter"]["n_neighbors"] for record in records) == [1, 3, 5]
    first = records[0]
    assert first["status"] == "ok" and first["mean_accuracy"] == 1.0
    assert set(first) >= {"name", "parameter", "score", "start_time", "done_time", "num_repeat",
                          "mean_accuracy", "std_accuracy", "time_per_repeat"}


def test_job_over_the_time_limit_is_killed_and_recorded(staged, tmp_path):
    results = tmp_path / "results.jsonl"
    endless = Job("MLPClassifier", {"max_iter": 10 ** 9, "tol": 0.0, "n_iter_no_change": 10 ** 9}, "standard")
    quick = Job("GaussianNB", {}, "standard")
    scheduler.run_jobs([endless, quick], staged, str(results), workers=2, time_limit_s=20)
    by_name = {record["name"]: record for record in lines_of(results)}
    assert by_name["MLPClassifier"]["status"] == "timeout"
    assert by_name["MLPClassifier"]["time_limit_s"] == 20
    assert by_name["GaussianNB"]["status"] == "ok"


def test_job_over_the_memory_cap_is_recorded_as_memory(staged, tmp_path):
    results = tmp_path / "results.jsonl"
    # 50 MB of address space is less than the loaded numpy and scikit-learn already map: any allocation fails.
    scheduler.run_jobs([Job("GaussianNB", {}, "standard")], staged, str(results), workers=1, time_limit_s=120,
                       memory_limit_gb=0.05)
    record = lines_of(results)[0]
    assert record["status"] == "memory"
    assert record["reason"].startswith("MemoryError over 0.05 GiB")


def test_repeats_for_a_classifier_the_preset_does_not_run_is_refused(tmp_path):
    presets = {"quick": {"features": "standard", "train_size": None, "repeats": 1, "time_limit_s": 60,
                         "classifiers": {"SVC": [{"C": [1.0]}]}, "repeats_by_classifier": {"SVX": 3}}}
    presets_file = tmp_path / "presets.json"
    presets_file.write_text(json.dumps(presets))
    with pytest.raises(grid.GridFormatError, match=r"repeats_by_classifier for \['SVX'\].*expected some of \['SVC'\]"):
        grid.load_preset(str(presets_file), "quick")


def test_runner_quick_preset_and_summarize_write_table_and_plot(tmp_path):
    results = tmp_path / "baselines_quick.jsonl"
    overrides = {"time_limit_s": 120}
    presets = json.loads((REPO / "benchmark" / "baselines_presets.json").read_text())
    presets["quick"]["classifiers"] = {name: presets["quick"]["classifiers"][name]
                                       for name in ("SVC", "KNeighborsClassifier", "RandomForestClassifier")}
    presets["quick"]["repeats_by_classifier"] = {"RandomForestClassifier": 3, "KNeighborsClassifier": 3}
    presets_file = tmp_path / "presets.json"
    presets_file.write_text(json.dumps(presets))
    records = runner.run("quick", "unused", str(results), workers=2, memory_limit_gb=8, seed=0, pca_components=5,
                         overrides=overrides, load=load_band_images, presets_file=str(presets_file))
    assert [record["status"] for record in records] == ["ok"] * 3
    repeats = {record["name"]: record["num_repeat"] for record in records}
    # Both get more than the preset's one repeat and score 1.0 every time on these images. k-NN has no
    # randomness of its own: two equal scores show it ignores the training order, and the original's rule stops
    # it after two. The forest draws anew each repeat, so agreeing scores are chance: it runs all three.
    assert repeats == {"SVC": 1, "KNeighborsClassifier": 2, "RandomForestClassifier": 3}

    output = tmp_path / "summary" / "baselines.md"
    assert summarize.summarize([str(results)], REPO / "benchmark" / "published_baselines.json", output) == 3
    text = output.read_text()
    assert "| SVC | standard | C=10.0 kernel=\"rbf\" | 1.0000 +- 0.0000 | 1 |" in text
    assert "0.897 [table3] | +10.30 pt |" in text
    assert (tmp_path / "summary" / "baselines.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_resumed_run_is_timed_while_its_jobs_ran_not_across_the_gap():
    day = 86_400
    # Two overlapping jobs (0-100 s, 50-160 s), then the run killed and resumed a day later for 40 s.
    records = [{"command": "python benchmark/runner.py --preset=quick", "machine": "m", "sklearn_version": "1.9.1",
                "start_time": start, "done_time": end, "cpu_seconds": [1.0]}
               for start, end in ((0, 100), (50, 160), (day, day + 40))]
    assert summary.busy_seconds((record["start_time"], record["done_time"]) for record in records) == 200
    assert "| 3 | 3.3 min | 0.1 min (3 of 3 jobs measured) |" in summary.runs_table(records)[-1]
