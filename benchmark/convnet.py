"""The classic Fashion-MNIST convnet benchmark, as the TF1 original ran it, on today's TensorFlow.

``python benchmark/convnet.py``: GradientDescent lr 0.001, batch 400, 100 rounds of
``train(steps=2000)`` then ``evaluate()`` on the test split, each round's eval dict printed and
appended to ``--results_file``. Rerunning on the same ``--model_dir`` resumes where it stopped; its
``flags.txt`` lets ``fmnist_tf.evaluate`` and ``fmnist_tf.export`` take the model like any other.
"""

import os

from absl import app, flags

from fmnist_tf import command_line
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.atomic import append_json_line, read_json_lines
from fmnist_tf.estimator.model_dir import prepare_model_dir
from fmnist_tf.estimator.model_dir_lock import hold_model_dir
from fmnist_tf.estimator.thread_pools import size_thread_pools
from fmnist_tf.training.recipe import Recipe

fmnist_flags.define_data_flags(validation_size=0)
fmnist_flags.define_optimizer_flags(optimizer="sgd", batch_size=400)
fmnist_flags.define_run_config_flags(model_dir="/tmp/fashion_convnet_model")
fmnist_flags.define_classic_benchmark_flags()
FLAGS = flags.FLAGS


def recorded_rounds(results_file):
    """Global steps already evaluated and written to ``results_file``: their rounds are not rerun (a round whose
    line a kill cut short is)."""
    return {record["global_step"] for record in read_json_lines(results_file)}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    recipe = Recipe.of_classic_benchmark(FLAGS)
    size_thread_pools(recipe.inter_op_threads, recipe.intra_op_threads)  # before TensorFlow's first op
    with hold_model_dir(recipe.model_dir):  # a second benchmark on the same --model_dir is refused
        # Always resumed, as the original's model_dir was: more --rounds go on from the last one.
        prepare_model_dir(recipe.model_dir, recipe.recorded_flags(), resume=True)
        run_rounds(recipe, FLAGS.rounds, FLAGS.steps_per_round,
                   FLAGS.results_file or os.path.join(recipe.model_dir, "rounds.jsonl"))


def run_rounds(recipe, rounds, steps_per_round, results_file):
    """Trains and evaluates the rounds not yet in the results file."""
    input_fns = recipe.input_fns()
    train_input_fn, eval_input_fn = input_fns["train"], input_fns["test"]

    # Create the Estimator
    mnist_classifier = recipe.estimator()
    os.makedirs(os.path.dirname(os.path.abspath(results_file)), exist_ok=True)
    done = recorded_rounds(results_file)

    for round_index in range(rounds):
        round_end = (round_index + 1) * steps_per_round
        if round_end in done:
            continue
        # max_steps, not steps: a round cut short by a kill is finished, not restarted.
        mnist_classifier.train(input_fn=train_input_fn, max_steps=round_end)
        eval_results = mnist_classifier.evaluate(input_fn=eval_input_fn)
        print(eval_results)
        append_json_line(results_file, {"round": round_index + 1, **eval_results})


if __name__ == "__main__":
    command_line.run(main)
