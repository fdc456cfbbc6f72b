"""Trains a registered model from flags and evaluates it on the test split.

``python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg --model_dir=runs/convnet``, or
``--dataset=imagenet --data_dir=/data/ILSVRC2012 --model=resnet50``; ``run(flags_obj)`` does the
work and returns the metrics, so tests drive it in-process.
"""

import time

from absl import app, flags, logging

from fmnist_tf import command_line
from fmnist_tf.estimator import projector
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.estimator.model_dir import prepare_model_dir
from fmnist_tf.estimator.model_dir_lock import hold_model_dir
from fmnist_tf.estimator.thread_pools import describe_thread_pools, size_thread_pools
from fmnist_tf.training.recipe import Recipe

fmnist_flags.define_train_flags()


def run(flags_obj, datasets_override=None, strategy_override=None):
    """Trains to ``--train_steps`` (resuming model_dir), evaluates on the test split, returns the
    stats.

    ``datasets_override`` maps "train", "validation" or "test" to batched datasets, replacing the
    files; ``strategy_override`` replaces the strategy the flags name.
    """
    recipe = Recipe.from_flags(flags_obj)
    # First: thread pools and a multi-worker strategy can only be made before any other TensorFlow
    # op has run.
    size_thread_pools(recipe.inter_op_threads, recipe.intra_op_threads)
    strategy = strategy_override or recipe.strategy()
    logging.info("thread pools: %s", describe_thread_pools())
    if not strategy.extended.should_checkpoint:  # the chief alone owns model_dir
        return _train_and_test(recipe, strategy, datasets_override)
    # Locked before prepare_model_dir, whose --overwrite would otherwise empty a running trainer's
    # model_dir.
    with hold_model_dir(recipe.model_dir):
        state = prepare_model_dir(recipe.model_dir, recipe.recorded_flags(), resume=recipe.resume,
                                  overwrite=recipe.overwrite)
        logging.info("model_dir %s: %s", recipe.model_dir, state)
        return _train_and_test(recipe, strategy, datasets_override)


def _train_and_test(recipe, strategy, datasets_override):
    """run()'s work once model_dir is this trainer's: train, evaluate, and the stats."""
    if datasets_override is not None:
        input_fns = {split: (lambda dataset=dataset: dataset)
                     for split, dataset in datasets_override.items()}
    else:
        input_fns = recipe.input_fns()
    classifier = recipe.estimator(strategy)

    started = time.monotonic()
    steps_before = classifier.global_step
    evaluations = recipe.train_and_evaluate(classifier, input_fns)
    train_seconds = time.monotonic() - started
    if classifier.stopped_by_sigterm:
        # checkpointed: a rerun with the same flags continues from here
        return {"stopped_by_sigterm": True, "global_step": classifier.global_step,
                "steps_this_run": classifier.global_step - steps_before, "evaluations": evaluations}
    eval_steps = recipe.eval_steps or None
    test_metrics = classifier.evaluate(input_fns["test"], steps=eval_steps, name="test")
    flip_metrics = (classifier.evaluate(input_fns["test"], steps=eval_steps, name="test_flip",
                                        flip=True)
                    if recipe.tta_flip else None)
    if strategy.extended.should_checkpoint and recipe.projector_examples:
        projector.write_projector(recipe.model_dir, classifier.model, input_fns["test"](),
                                  recipe.class_names(), recipe.projector_examples)

    stats = {
        "test_accuracy": test_metrics["accuracy"],
        "test_top_5_accuracy": test_metrics["top_5_accuracy"],
        "test_loss": test_metrics["loss"],
        "global_step": test_metrics["global_step"],
        "steps_this_run": test_metrics["global_step"] - steps_before,
        "train_seconds": train_seconds,
        "train_seconds_without_evaluations": classifier.train_seconds,
        "evaluations": evaluations,
    }
    if flip_metrics:
        stats["test_accuracy_flip_tta"] = flip_metrics["accuracy"]
    if "validation" in input_fns:
        stats["validation_accuracy"] = evaluations[-1]["accuracy"]
    return stats


def format_results_table(stats):
    """A short Markdown table of what a user checks first after training."""
    rows = [("test accuracy", f"{stats['test_accuracy']:.4f}"),
            ("test top-5 accuracy", f"{stats['test_top_5_accuracy']:.4f}"),
            ("test loss", f"{stats['test_loss']:.4f}")]
    if "test_accuracy_flip_tta" in stats:
        rows.append(("test accuracy, flip test-time augmentation",
                     f"{stats['test_accuracy_flip_tta']:.4f}"))
    if "validation_accuracy" in stats:
        rows.append(("validation accuracy", f"{stats['validation_accuracy']:.4f}"))
    rows += [("global step", str(stats["global_step"])),
             ("steps this run", str(stats["steps_this_run"])),
             ("wall time of training and evaluations", f"{stats['train_seconds']:.0f} s"),
             ("of which training", f"{stats['train_seconds_without_evaluations']:.0f} s")]
    lines = ["| result | value |", "| --- | --- |"] + [f"| {name} | {value} |"
                                                       for name, value in rows]
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    stats = run(flags.FLAGS)
    if stats.get("stopped_by_sigterm"):
        print(f"Stopped by SIGTERM at global step {stats['global_step']}, checkpointed; rerun the "
              "same command to continue.")
    else:
        print(format_results_table(stats))


def run_main():
    command_line.run(main)


if __name__ == "__main__":
    run_main()
