"""The scikit-learn baselines of the Fashion-MNIST dataset repository, on the installed scikit-learn.

``python benchmark/runner.py --preset=quick --workers=2``: every accepted combination of the preset's
grid (``--preset=full``: benchmark/baselines.json), each job in its own process with a time limit and a
memory cap, repeated on shuffled training data; one JSON line per job in ``--results_file``. Rerunning
with the same file skips the jobs already recorded. ``python benchmark/summarize.py`` tables the lines.
"""

import os
import signal
import sys
import tempfile

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sklearn_baselines package beside this file
from sklearn_baselines.features import FEATURES  # noqa: E402
from sklearn_baselines.grid import expand_grid, load_preset  # noqa: E402
from sklearn_baselines.jobs import Job  # noqa: E402
from sklearn_baselines.scheduler import run_jobs  # noqa: E402
from sklearn_baselines.staging import stage_features  # noqa: E402

BENCHMARK_DIR = os.path.dirname(os.path.abspath(__file__))
PRESETS_FILE = os.path.join(BENCHMARK_DIR, "baselines_presets.json")


def define_flags():
    """The flags of the command line; defined only when run as a script, so tests can import this module."""
    flags.DEFINE_string("preset", "full", f"A preset of {PRESETS_FILE}: full (benchmark/baselines.json), quick, hog_svm.")
    flags.DEFINE_string("data_dir", "data/fashion", "Folder of the four Fashion-MNIST .gz files.")
    flags.DEFINE_string("results_file", None, "JSON lines file to append to (and resume from); "
                        "default benchmark/results/baselines_PRESET.jsonl.")
    flags.DEFINE_integer("workers", 2, "Jobs run at the same time, each in its own process.", lower_bound=1)
    flags.DEFINE_enum("features", None, FEATURES, "Features instead of the preset's: standard-scaled pixels (the "
                      "original), PCA of them, or HOG.")
    flags.DEFINE_integer("pca_components", 50, "Components kept by --features=pca.", lower_bound=1)
    flags.DEFINE_integer("train_size", None, "Stratified subsample of the training set instead of the preset's "
                         "(0: all 60000).", lower_bound=0)
    flags.DEFINE_integer("repeats", None, "Fits per job on reshuffled training data instead of the preset's.",
                         lower_bound=1)
    flags.DEFINE_float("time_limit_s", None, "Seconds a job may run (all its repeats) instead of the preset's; "
                       "a job over it is killed and recorded as \"timeout\".")
    flags.DEFINE_float("memory_limit_gb", 8.0, "Address space of each job; a job over it is recorded as \"memory\".")
    flags.DEFINE_integer("seed", 0, "Seed of the subsample, the shuffles (seed + repeat) and the classifiers.",
                         lower_bound=0, upper_bound=2**32 - 1)  # what numpy and scikit-learn take
    # Comparisons, not bounds: nan passes absl's bounds, but no comparison with it is true.
    flags.register_validator("time_limit_s", lambda value: value is None or value > 0,
                             message="--time_limit_s must be > 0")
    flags.register_validator("memory_limit_gb", lambda value: value > 0, message="--memory_limit_gb must be > 0")


FLAGS = flags.FLAGS


def run(preset, data_dir, results_file, workers, memory_limit_gb, seed, pca_components, overrides=None,
        load=None, presets_file=PRESETS_FILE):
    """Runs ``preset`` (settings replaced by ``overrides``) and returns the new records."""
    settings = {**load_preset(presets_file, preset), **(overrides or {})}
    train_size = settings["train_size"] or None
    # --repeats replaces the preset's repeats for every classifier.
    repeats_by_classifier = {} if "repeats" in (overrides or {}) else settings["repeats_by_classifier"]
    jobs = [Job(name, parameter, settings["features"], train_size, repeats_by_classifier.get(name, settings["repeats"]),
                seed)
            for name, parameter in expand_grid(settings["grid"])]
    os.makedirs(os.path.dirname(os.path.abspath(results_file)), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="baselines_features_") as folder:
        data_paths = stage_features(data_dir, settings["features"], folder, train_size, seed, pca_components, load)
        return run_jobs(jobs, data_paths, results_file, workers, settings["time_limit_s"], memory_limit_gb)


def _exit_on_sigterm(signum, _frame):
    sys.exit(128 + signum)  # unwinds through run_jobs, which stops its workers


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    overrides = {name: FLAGS[name].value for name in ("features", "train_size", "repeats", "time_limit_s")
                 if FLAGS[name].value is not None}
    results_file = FLAGS.results_file or os.path.join(BENCHMARK_DIR, "results", f"baselines_{FLAGS.preset}.jsonl")
    run(FLAGS.preset, FLAGS.data_dir, results_file, FLAGS.workers, FLAGS.memory_limit_gb, FLAGS.seed,
        FLAGS.pca_components, overrides)


if __name__ == "__main__":
    define_flags()
    app.run(main)
