"""The train CLI's fast paths, each measured: a recipe's training images/second with one flag changed at a time.

``python benchmark/fast_paths.py [--recipes=fmnist_tf/configs/convnet.cfg,fmnist_tf/configs/cpu_fast.cfg]
[--repeats=3] [--timed_steps=300]``: each recipe (a flagfile) is timed under its own flags and under each setting
of SETTINGS that changes them, every run in a fresh process of benchmark/train_rate.py (TensorFlow fixes its
thread pools per process), the settings taking turns; medians and ratios to the recipe's own flags go to
benchmark/results/fast_paths.md with the machine's description.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from fmnist_tf.atomic import atomic_write
from fmnist_tf.estimator.model_dir import parse_flags
from machine import describe_machine
from rate_tables import measure, table

RECIPE_FLAGS = "the recipe's flags"
# One flag changed at a time. Threads: 1 (one core left idle), and 4 (two per core on this machine).
SETTINGS = (
    "--steps_per_loop=1", "--steps_per_loop=10", "--steps_per_loop=1000",
    "--inter_op_threads=1", "--intra_op_threads=1", "--intra_op_threads=4",
    "--prefetch_batches=0", "--prefetch_batches=1",
    "--data_source=idx",
    "--dtype=float32", "--dtype=bfloat16", "--jit_compile",
)
TRAIN_RATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_rate.py")

FLAGS = flags.FLAGS


def define_flags():
    """The flags of the command line; defined only when run as a script, so tests can import this module."""
    flags.DEFINE_list("recipes", ["fmnist_tf/configs/convnet.cfg", "fmnist_tf/configs/cpu_fast.cfg"],
                      "Flagfiles of the recipes to time.")
    flags.DEFINE_integer("repeats", 3, "Runs of each setting, taking turns.", lower_bound=1)
    flags.DEFINE_integer("timed_steps", 300, "Training steps timed per run.", lower_bound=1)
    flags.DEFINE_integer("untimed_steps", 20, "Steps run first in each run (tracing, compilation).",
                         lower_bound=1)
    flags.DEFINE_string("output", "benchmark/results/fast_paths.md", "Markdown report.")


def settings_of(flagfile):
    """The recipe's own flags first, then each setting that changes them."""
    with open(flagfile, encoding="utf-8") as handle:
        own = parse_flags(handle.read())
    return [RECIPE_FLAGS] + [setting for setting in SETTINGS if _changes(setting, own)]


def _changes(setting, own):
    """Whether ``--name=value`` differs from the recipe's ``own`` flags (``{name: value}``)."""
    name, _, value = setting.removeprefix("--").partition("=")
    return own.get(name) != value


def train_rate(flagfile, setting, timed_steps, untimed_steps):
    """The JSON result of one benchmark/train_rate.py run of ``flagfile`` with ``setting``, in a fresh process:
    {"images_per_second": ..., "thread_pools": ..., ...}."""
    with tempfile.TemporaryDirectory(prefix="fmnist_tf_fast_paths_") as scratch:
        command = [sys.executable, TRAIN_RATE, f"--flagfile={flagfile}", f"--model_dir={scratch}/model",
                   f"--timed_steps={timed_steps}", f"--untimed_steps={untimed_steps}"]
        if setting != RECIPE_FLAGS:
            command.append(setting)
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def faster_settings(samples):
    """Settings whose slowest run beat the recipe's fastest: faster beyond the spread of the runs."""
    fastest_own = max(samples[RECIPE_FLAGS])
    return [name for name, rates in samples.items() if name != RECIPE_FLAGS and min(rates) > fastest_own]


def recipe_section(flagfile, repeats, timed_steps, untimed_steps):
    """The Markdown lines of one recipe's tables: images/s, then the cores each run kept busy."""
    cores_busy = {}

    def rate_of(setting):
        def rate():
            result = train_rate(flagfile, setting, timed_steps, untimed_steps)
            cores_busy.setdefault(setting, []).append(result["cores_busy"])
            return result["images_per_second"]
        return rate

    samples = measure({setting: rate_of(setting) for setting in settings_of(flagfile)}, repeats)
    description = (
        f"`python -m fmnist_tf.train --flagfile={flagfile}` as built by benchmark/train_rate.py: "
        f"{timed_steps} timed steps (one `train` call, with the checkpoint that ends it) after {untimed_steps} "
        "untimed ones, in a fresh process per run. Each row changes one flag.")
    lines, _ = table(flagfile, description, samples, RECIPE_FLAGS, row_heading="setting")
    faster = faster_settings(samples)
    verdict = ("Faster than the recipe's flags in every run: " + ", ".join(f"`{name}`" for name in faster)
               if faster else "No setting was faster than the recipe's flags in every run.")
    cores_lines = ["Cores busy (CPU seconds per second) in each run, in the order of the repeats above:", "",
                   "| setting | cores busy |", "| --- | --- |"]
    cores_lines += [f"| {setting} | {', '.join(f'{cores:.2f}' for cores in cores_busy[setting])} |"
                    for setting in samples]
    return lines + [verdict, ""] + cores_lines + [""]


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    started = time.monotonic()
    command = (f"python benchmark/fast_paths.py --recipes={','.join(FLAGS.recipes)} --repeats={FLAGS.repeats} "
               f"--timed_steps={FLAGS.timed_steps} --untimed_steps={FLAGS.untimed_steps}")
    lines = ["# Fast paths of the train CLI", "", f"Command: `{command}`  ", f"Machine: {describe_machine()}  ",
             f"1-minute load average at the start: {os.getloadavg()[0]:.1f}", ""]
    for flagfile in FLAGS.recipes:
        lines += recipe_section(flagfile, FLAGS.repeats, FLAGS.timed_steps, FLAGS.untimed_steps)
    lines.append(f"Whole run: {(time.monotonic() - started) / 60:.1f} min.")
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    with atomic_write(FLAGS.output) as stream:
        stream.write(report.encode("utf-8"))


if __name__ == "__main__":
    define_flags()
    app.run(main)
