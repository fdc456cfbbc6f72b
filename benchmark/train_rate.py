"""Training images/second of what ``python -m fmnist_tf.train`` builds from its flags; one JSON line.

``python benchmark/train_rate.py --flagfile=fmnist_tf/configs/convnet.cfg --model_dir=/tmp/rate
--intra_op_threads=1 --timed_steps=300``: the thread pools, strategy, input pipeline, model and Estimator of the
train CLI under the same flags, timed over one ``train(steps=--timed_steps)`` call (with the checkpoint that
ends it) after an untimed call that traces and compiles. ``--model_dir`` must be empty or new. Thread pools
are fixed per process, so benchmark/fast_paths.py starts this once per setting.
"""

import json
import time

from absl import app, flags

from fmnist_tf import command_line
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.estimator.thread_pools import describe_thread_pools, size_thread_pools
from fmnist_tf.training.recipe import Recipe

fmnist_flags.define_train_flags()

flags.DEFINE_integer("timed_steps", 300, "Training steps timed.", lower_bound=1)
flags.DEFINE_integer("untimed_steps", 20, "Training steps run first, untimed (tracing, compilation).",
                     lower_bound=1)
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    recipe = Recipe.from_flags(FLAGS)
    size_thread_pools(recipe.inter_op_threads, recipe.intra_op_threads)
    strategy = recipe.strategy()
    train_input_fn = recipe.input_fns()["train"]
    classifier = recipe.estimator(strategy)
    if classifier.global_step:
        raise app.UsageError(f"--model_dir={FLAGS.model_dir} holds a checkpoint at step {classifier.global_step}; "
                             "give an empty folder")
    classifier.train(train_input_fn, steps=FLAGS.untimed_steps)
    started, cpu_started = time.perf_counter(), time.process_time()
    classifier.train(train_input_fn, steps=FLAGS.timed_steps)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    # Cores busy: CPU seconds per second. A run that got fewer cores than the others shows here, not only as slow.
    print(json.dumps({"images_per_second": FLAGS.timed_steps * FLAGS.batch_size / seconds, "seconds": seconds,
                      "cores_busy": cpu_seconds / seconds, "timed_steps": FLAGS.timed_steps,
                      "thread_pools": describe_thread_pools()}))


if __name__ == "__main__":
    command_line.run(main)
