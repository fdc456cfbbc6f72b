"""Turns the baselines' JSON lines into benchmark/results/baselines.md and baselines.png.

``python benchmark/summarize.py`` reads benchmark/results/baselines_*.jsonl (or ``--results_files``) and
writes, per classifier, the best mean accuracy beside the published figure for the same parameters.
"""

import glob
import os
import sys

from absl import app, flags

from fmnist_tf.atomic import read_json_lines

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sklearn_baselines package beside this file
from sklearn_baselines.summary import load_published, write_summary  # noqa: E402

BENCHMARK_DIR = os.path.dirname(os.path.abspath(__file__))


def define_flags():
    """The flags of the command line; defined only when run as a script, so tests can import this module."""
    flags.DEFINE_list("results_files", None, "JSON lines files of benchmark/runner.py; "
                      "default benchmark/results/baselines_*.jsonl.")
    flags.DEFINE_string("published_file", os.path.join(BENCHMARK_DIR, "published_baselines.json"),
                        "Published accuracies to compare with.")
    flags.DEFINE_string("output", os.path.join(BENCHMARK_DIR, "results", "baselines.md"),
                        "Markdown file to write; the plot goes beside it as .png.")


FLAGS = flags.FLAGS


def summarize(results_files, published_file, output):
    """Writes the summary of the records in ``results_files``; returns how many records it read."""
    records = [record for path in results_files for record in read_json_lines(path)]
    if not records:
        raise ValueError(f"no records in {results_files}; expected the JSON lines of benchmark/runner.py")
    write_summary(records, *load_published(published_file), output)
    return len(records)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    default_files = sorted(glob.glob(os.path.join(BENCHMARK_DIR, "results", "baselines_*.jsonl")))
    results_files = FLAGS.results_files or default_files
    count = summarize(results_files, FLAGS.published_file, FLAGS.output)
    print(f"{count} records from {len(results_files)} file(s) -> {FLAGS.output}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
