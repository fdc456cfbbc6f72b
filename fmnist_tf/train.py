"""Trains a registered model from flags and evaluates it on the test split.

``python -m fmnist_tf.train --flagfile=fmnist_tf/configs/convnet.cfg --model_dir=runs/convnet``, or
``--dataset=imagenet --data_dir=/data/ILSVRC2012 --model=resnet50``; ``run(flags_obj)`` does the work and
returns the metrics, so tests drive it in-process.
"""

import time

from absl import app, flags, logging

from fmnist_tf import augment, data, estimator, fine_tuning, projector
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.model_dir import prepare_model_dir
from fmnist_tf.model_dir_lock import hold_model_dir
from fmnist_tf.model_fn import make_model_fn, make_training_optimizer
from fmnist_tf.thread_pools import describe_thread_pools, size_thread_pools

fmnist_flags.define_train_flags()


def run(flags_obj, datasets_override=None, strategy_override=None):
    """Trains to ``--train_steps`` (resuming model_dir), evaluates on the test split, returns the stats.

    ``datasets_override`` maps "train", "validation" or "test" to batched datasets, replacing the
    files; ``strategy_override`` replaces the strategy the flags name.
    """
    # First: thread pools and a multi-worker strategy can only be made before any other TensorFlow op has run.
    size_thread_pools(flags_obj.inter_op_threads, flags_obj.intra_op_threads)
    strategy = strategy_override or fmnist_flags.get_strategy(flags_obj)
    logging.info("thread pools: %s", describe_thread_pools())
    if not strategy.extended.should_checkpoint:  # the chief alone owns model_dir
        return _train_and_test(flags_obj, strategy, datasets_override)
    # Locked before prepare_model_dir, whose --overwrite would otherwise empty a running trainer's model_dir.
    with hold_model_dir(flags_obj.model_dir):
        state = prepare_model_dir(flags_obj.model_dir, fmnist_flags.run_flag_values(flags_obj),
                                  resume=flags_obj.resume, overwrite=flags_obj.overwrite)
        logging.info("model_dir %s: %s", flags_obj.model_dir, state)
        return _train_and_test(flags_obj, strategy, datasets_override)


def _train_and_test(flags_obj, strategy, datasets_override):
    """run()'s work once model_dir is this trainer's: train, evaluate, and the stats."""
    class_names = fmnist_flags.class_names(flags_obj)
    if datasets_override is not None:
        input_fns = {split: (lambda dataset=dataset: dataset) for split, dataset in datasets_override.items()}
    else:
        input_fns = input_fns_from_flags(flags_obj, class_names)
    eval_split = "validation" if "validation" in input_fns else "test"

    schedule = fmnist_flags.fine_tuning_schedule(flags_obj)
    classifier = estimator_from_flags(flags_obj, strategy, schedule)

    started = time.monotonic()
    steps_before = classifier.global_step
    train_spec = estimator.TrainSpec(input_fns["train"], max_steps=flags_obj.train_steps)
    eval_steps = flags_obj.eval_steps or None
    eval_spec = estimator.EvalSpec(input_fns[eval_split], steps=eval_steps, every_n_steps=flags_obj.steps_per_eval,
                                   name=eval_split)
    if schedule is None:
        _, evaluations = estimator.train_and_evaluate(classifier, train_spec, eval_spec,
                                                      monitors=fmnist_flags.monitors(flags_obj))
    else:
        _, evaluations = fine_tuning.train_and_evaluate(
            classifier, train_spec, eval_spec, schedule,
            lambda: make_training_optimizer(flags_obj.optimizer, schedule.learning_rate,
                                            **_optimizer_options(flags_obj)),
            monitors=fmnist_flags.monitors(flags_obj))
    train_seconds = time.monotonic() - started
    if classifier.stopped_by_sigterm:  # checkpointed: a rerun with the same flags continues from here
        return {"stopped_by_sigterm": True, "global_step": classifier.global_step,
                "steps_this_run": classifier.global_step - steps_before, "evaluations": evaluations}
    test_metrics = classifier.evaluate(input_fns["test"], steps=eval_steps, name="test")
    flip_metrics = (classifier.evaluate(input_fns["test"], steps=eval_steps, name="test_flip", flip=True)
                    if flags_obj.tta_flip else None)
    if strategy.extended.should_checkpoint and flags_obj.projector_examples:
        projector.write_projector(flags_obj.model_dir, classifier.model, input_fns["test"](), class_names,
                                  flags_obj.projector_examples)

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
    if eval_split == "validation":
        stats["validation_accuracy"] = evaluations[-1]["accuracy"]
    return stats


def input_fns_from_flags(flags_obj, class_names):
    """The input functions of the dataset the flags name (Fashion-MNIST and MNIST fetched when missing)."""
    augment = _augmenter(flags_obj, len(class_names))
    if flags_obj.dataset == data.IMAGENET:  # read in place: ImageNet is never downloaded
        return data.make_imagenet_input_fns(
            flags_obj.data_dir, flags_obj.batch_size, image_size=flags_obj.image_size,
            num_classes=flags_obj.num_classes, examples_per_class=flags_obj.examples_per_class,
            source=flags_obj.imagenet_source, seed=flags_obj.seed, augment=augment,
            prefetch_batches=flags_obj.prefetch_batches)
    data.fetch(flags_obj.dataset, flags_obj.data_dir)
    return data.make_input_fns(flags_obj.data_dir, flags_obj.batch_size, source=flags_obj.data_source,
                               validation_size=flags_obj.validation_size, seed=flags_obj.seed, augment=augment,
                               prefetch_batches=flags_obj.prefetch_batches)


def estimator_from_flags(flags_obj, strategy, schedule=None):
    """The Estimator the flags describe, on ``strategy``; ``schedule``: the fine-tuning phases, if any."""
    return estimator.Estimator(
        make_model_fn(flags_obj.model, flags_obj.optimizer, fmnist_flags.learning_rate(flags_obj), flags_obj.seed,
                      label_smoothing=flags_obj.label_smoothing, fine_tuning=schedule,
                      # A resumed transfer-learning run rebuilds the phase its checkpoint was saved in (reading
                      # the step verifies the checkpoint: only a fine-tuning schedule needs it this early).
                      initial_step=estimator.latest_global_step(flags_obj.model_dir) if schedule else 0,
                      **_optimizer_options(flags_obj)),
        config=fmnist_flags.run_config(flags_obj, strategy), params=fmnist_flags.model_builder_params(flags_obj))


def _optimizer_options(flags_obj):
    return dict(dtype=flags_obj.dtype, **fmnist_flags.optimizer_options(flags_obj))


def _augmenter(flags_obj, num_classes):
    """The training batches' augmentation the flags ask for, or None."""
    options = fmnist_flags.augment_options(flags_obj)
    if not options.enabled:
        return None
    return augment.make_batch_augmenter(options, num_classes, seed=flags_obj.seed)


def format_results_table(stats):
    """A short Markdown table of what a user checks first after training."""
    rows = [("test accuracy", f"{stats['test_accuracy']:.4f}"),
            ("test top-5 accuracy", f"{stats['test_top_5_accuracy']:.4f}"),
            ("test loss", f"{stats['test_loss']:.4f}")]
    if "test_accuracy_flip_tta" in stats:
        rows.append(("test accuracy, flip test-time augmentation", f"{stats['test_accuracy_flip_tta']:.4f}"))
    if "validation_accuracy" in stats:
        rows.append(("validation accuracy", f"{stats['validation_accuracy']:.4f}"))
    rows += [("global step", str(stats["global_step"])),
             ("steps this run", str(stats["steps_this_run"])),
             ("wall time of training and evaluations", f"{stats['train_seconds']:.0f} s"),
             ("of which training", f"{stats['train_seconds_without_evaluations']:.0f} s")]
    lines = ["| result | value |", "| --- | --- |"] + [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    stats = run(flags.FLAGS)
    if stats.get("stopped_by_sigterm"):
        print(f"Stopped by SIGTERM at global step {stats['global_step']}, checkpointed; rerun the same command "
              "to continue.")
    else:
        print(format_results_table(stats))


def run_main():
    app.run(main)


if __name__ == "__main__":
    run_main()
