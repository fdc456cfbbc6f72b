"""Time to accuracy: how long each recipe trains before the test accuracy first reaches a target.

``python benchmark/time_to_accuracy.py --recipes=fast92,convnet --target_accuracy=0.92 --seeds=1,2,3``:
each recipe (a flagfile of ``fmnist_tf/configs/``) runs through ``python -m fmnist_tf.train`` once per
seed, evaluating the 10,000 test images every ``--steps_per_eval`` steps and stopping at the target
(``--stop_at_accuracy``). The training seconds leave out the evaluations (they are the schedule's, not
the recipe's cost). Medians per recipe and their ratio to the last recipe go to ``--output``.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

from absl import app, flags

from fmnist_tf.atomic import atomic_write
from machine import describe_machine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_list("recipes", ["fast92", "convnet"], "Flagfiles of fmnist_tf/configs/ (without .cfg); the "
                  "last one is the baseline of the ratios.")
flags.DEFINE_float("target_accuracy", 0.92, "Test accuracy to reach.")
# Written as a comparison, not as bounds: nan passes absl's bounds, but no comparison with it is true.
flags.register_validator("target_accuracy", lambda value: 0 < value <= 1,
                         message="--target_accuracy must be in (0, 1]")
flags.DEFINE_list("seeds", ["1", "2", "3"], "One run per recipe and seed, taking turns.")
flags.register_validator("seeds", lambda seeds: bool(seeds) and all(re.fullmatch("[0-9]{1,10}", seed)
                                                                    and int(seed) < 2**32 for seed in seeds),
                         message="--seeds takes integers from 0 to 2**32 - 1, separated by commas")
flags.DEFINE_integer("steps_per_eval", None, "Evaluate this often (default: each recipe's own).", lower_bound=1)
flags.DEFINE_string("output", "benchmark/results/time_to_accuracy.md", "Markdown report.")
FLAGS = flags.FLAGS


def table_value(stdout, row):
    """A value of the results table the train CLI prints."""
    match = re.search(rf"^\| {re.escape(row)} \| ([^|]+) \|$", stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"the train CLI printed no '{row}' row:\n{stdout[-2000:]}")
    return match.group(1).strip()


def train_to_target(recipe, seed, target, steps_per_eval):
    """One run: ``{"reached", "step", "train_seconds", "test_accuracy"}``."""
    with tempfile.TemporaryDirectory() as model_dir:
        command = [sys.executable, "-m", "fmnist_tf.train", f"--flagfile=fmnist_tf/configs/{recipe}.cfg",
                   f"--model_dir={model_dir}/run", f"--seed={seed}", "--validation_size=0",
                   f"--stop_at_accuracy={target}", "--projector_examples=0"]
        if steps_per_eval:
            command.append(f"--steps_per_eval={steps_per_eval}")
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    accuracy = float(table_value(result.stdout, "test accuracy"))
    return {"reached": accuracy >= target, "step": int(table_value(result.stdout, "global step")),
            "train_seconds": float(table_value(result.stdout, "of which training").rstrip(" s")),
            "test_accuracy": accuracy}


def report(runs, command, load_at_start):
    baseline = FLAGS.recipes[-1]
    medians = {recipe: statistics.median(run["train_seconds"] for run in recipe_runs)
               for recipe, recipe_runs in runs.items()}
    lines = [f"# Time to {FLAGS.target_accuracy:.1%} test accuracy", "", f"Command: `{command}`  ",
             f"Machine: {describe_machine()}; 1-minute load average at the start: {load_at_start:.1f}  ",
             "Training seconds exclude the test evaluations of the schedule; a run that ends its `--train_steps` "
             "below the target is marked *not reached*.", "",
             f"| recipe | median training seconds | ratio to {baseline} | runs (seconds, step, accuracy) |",
             "| --- | ---: | ---: | --- |"]
    for recipe, recipe_runs in runs.items():
        details = "; ".join(f"{run['train_seconds']:.0f} s, step {run['step']}, {run['test_accuracy']:.4f}"
                            + ("" if run["reached"] else " *not reached*") for run in recipe_runs)
        lines.append(f"| `{recipe}` | {medians[recipe]:.0f} | {medians[recipe] / medians[baseline]:.2f} | "
                     f"{details} |")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    load_at_start = os.getloadavg()[0]
    command = (f"python benchmark/time_to_accuracy.py --recipes={','.join(FLAGS.recipes)} "
               f"--target_accuracy={FLAGS.target_accuracy} --seeds={','.join(FLAGS.seeds)}"
               + (f" --steps_per_eval={FLAGS.steps_per_eval}" if FLAGS.steps_per_eval else ""))
    runs = {recipe: [] for recipe in FLAGS.recipes}
    for seed in FLAGS.seeds:
        for recipe in FLAGS.recipes:
            runs[recipe].append(train_to_target(recipe, seed, FLAGS.target_accuracy, FLAGS.steps_per_eval))
            print(recipe, seed, runs[recipe][-1], flush=True)
    text = report(runs, command, load_at_start)
    print(text)
    os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    with atomic_write(FLAGS.output) as stream:
        stream.write(text.encode("utf-8"))


if __name__ == "__main__":
    app.run(main)
