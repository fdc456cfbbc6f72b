"""The Estimator: TF1's model_dir, global_step, train / evaluate / predict / export on a TF2 custom loop.

``Estimator(model_fn, config=RunConfig(model_dir=...)).train(input_fn, max_steps=2000)``, then
``.evaluate(eval_input_fn)`` -> ``{"accuracy", "loss", "global_step"}``. Under a multi-worker strategy
every worker runs the same calls; only the chief writes into model_dir.
"""

import dataclasses
import functools
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from fmnist_tf.estimator import checkpoints, inputs, loops, progress, serving, sigterm, summaries
from fmnist_tf.estimator.config import RunConfig

# Batches per compiled evaluation call: a long evaluation logs its progress between calls, at most this often.
EVALUATION_BATCHES_PER_CALL = 50
PROGRESS_LOG_SECONDS = 10


class Estimator:
    """Trains, evaluates, predicts and exports one model, keeping its state in ``model_dir``.

    With several workers, ``model_dir`` is the chief's, on storage every worker reads (they all
    restore its latest checkpoint); the others write their share of each save into temporary
    folders that they delete, and their summaries nowhere.
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None):
        config = config or RunConfig()
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp(prefix="fmnist_tf_")
            logging.warning("Using temporary folder as model directory: %s", model_dir)
        self.config = dataclasses.replace(config, model_dir=model_dir)
        self.model_dir = model_dir
        self.params = params
        self._strategy = config.train_distribute or tf.distribute.get_strategy()
        if config.tf_random_seed is not None:
            keras.utils.set_random_seed(config.tf_random_seed)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        with self._strategy.scope():
            spec = model_fn(params)
            self._global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.model = spec.model
        self._optimizer = spec.optimizer
        self._label_smoothing = spec.label_smoothing
        self._checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self._optimizer,
                                               global_step=self._global_step)
        self._checkpoint_manager = self._make_checkpoint_manager(model_dir, config.keep_checkpoint_max)
        self._summary_writers = {}
        self.train_seconds = 0.0  # wall time spent in train() by this object: time-to-accuracy leaves out evaluations
        self.stopped_by_sigterm = False  # train() stopped early, checkpointed, on SIGTERM
        # The global step the training log counts down to (train_and_evaluate's max_steps); None: each train()'s.
        self.progress_goal = None
        self._evaluation_functions = {}  # compiled once per (kind, flip)
        if self.config.hparams:
            summaries.write_hparams(self._summary_writer(model_dir), self.config.hparams, trial_id=model_dir)
        self._features_spec = None
        self._ready = False
        # Verified once here, restored from later: every tensor of the checkpoint is read to verify it.
        self._verified_checkpoint = None
        if self.model.built:
            self._build_and_restore()
        else:  # the model's variables appear with its first input; the step is known before that
            self._verified_checkpoint = checkpoints.verify_latest(model_dir)
            self._global_step.assign(checkpoints.global_step_of(self._verified_checkpoint.found))
        # Every worker decides alike whether to save (saving can be collective), not from its own files.
        self._saved_step = self.global_step if self._checkpoint_manager.latest_checkpoint else None

    @property
    def global_step(self):
        return int(self._global_step.numpy())

    @property
    def learning_rate(self):
        """The optimizer's learning rate now (a schedule's value at the current step)."""
        return progress.current_learning_rate(self._optimizer)

    def set_learning_rate(self, value):
        """Sets a constant learning rate (the next checkpoint saves it); a schedule cannot be set."""
        if not isinstance(self._optimizer.learning_rate, keras.Variable):
            raise TypeError("the learning rate follows a schedule and cannot be set; use a constant rate")
        self._optimizer.learning_rate.assign(value)

    def replace_optimizer(self, optimizer_fn):
        """Trains on with ``optimizer_fn()``, a fresh optimizer made in the strategy's scope, over the model's
        trainable variables as they are now.

        For a model whose trainable set has changed (an unfrozen backbone): the compiled train loop is
        rebuilt, and checkpoints from now on save this optimizer, so a model_fn resuming from them must
        return the model in its new trainable state with an optimizer like this one.
        """
        self._build_and_restore()
        with self._strategy.scope():
            optimizer = optimizer_fn()
            optimizer.build(self.model.trainable_variables)
        self._optimizer = optimizer
        self._checkpoint = tf.train.Checkpoint(model=self.model, optimizer=optimizer, global_step=self._global_step)
        self._checkpoint_manager = self._make_checkpoint_manager(self.model_dir, self.config.keep_checkpoint_max)
        self.__dict__.pop("_train_loop", None)  # the cached_property's compiled loop traced the old variables

    def restore_checkpoint(self, prefix):
        """Replaces the weights and the step by those of the checkpoint ``prefix``, verified as the latest is."""
        self._build_and_restore()
        checkpoints.restore_checkpoint(self._checkpoint, prefix)
        return self.global_step

    def latest_checkpoint(self):
        """The newest checkpoint's path prefix in model_dir (``.../model.ckpt-2000``), or None."""
        return tf.train.latest_checkpoint(self.model_dir)

    def train(self, input_fn, steps=None, max_steps=None):
        """Trains ``steps`` more steps, or up to global step ``max_steps``, or (neither) to the input's end.

        ``input_fn(start_step=...)``, when it takes that parameter, is given the global step training starts from.
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        for name, value in (("steps", steps), ("max_steps", max_steps)):
            if value is not None and value <= 0:
                raise ValueError(f"Must specify {name} > 0, given: {value}")
        step = self.global_step
        if max_steps is not None and step >= max_steps:
            logging.info("Skipping training since max_steps has already saved.")
            return self
        last_step = step + steps if steps is not None else max_steps
        call_started = time.perf_counter()
        local_datasets = []
        iterator = iter(self._distribute(inputs.starting_at(input_fn, step), local_datasets))
        writer = self._summary_writer(self.model_dir)
        if self._writes_image_summaries():
            # A fresh iterator over the dataset, so the training iterator loses no batch to the picture.
            features, labels = next(iter(local_datasets[0]))
            summaries.write_training_images(writer, step, features, labels, self.config.class_names)
        with sigterm.sigterm_requests() as sigterm_received:
            loss, step = self._train_calls(iterator, writer, step, last_step, sigterm_received)
        self._save_checkpoint()
        writer.flush()
        self.train_seconds += time.perf_counter() - call_started
        logging.info("Loss for final step: %s.", loss)
        return self

    def _train_calls(self, iterator, writer, step, last_step, sigterm_received):
        """Runs compiled training calls to ``last_step`` (None: the input's end) or a SIGTERM; ``(loss, step)``."""
        loss = None
        while last_step is None or step < last_step:
            num_steps = self._steps_in_next_call(step, last_step)
            started = time.perf_counter()
            steps_run, loss_sum, correct, examples = self._train_loop(iterator,
                                                                      tf.constant(num_steps, tf.int64))
            seconds = time.perf_counter() - started
            previous_step, step, steps_run = step, self.global_step, int(steps_run)
            if steps_run:
                loss = float(loss_sum) / steps_run
                self._report_training(writer, previous_step, step, loss, int(correct) / int(examples),
                                      steps_run / seconds, int(examples) / seconds, last_step)
                if step % self.config.save_checkpoints_steps == 0:
                    self._save_checkpoint()
            if steps_run < num_steps:
                logging.info("The input ended at global step %d.", step)
                break
            if sigterm_received():
                logging.warning("SIGTERM received: stopping at global step %d, after a checkpoint.", step)
                self.stopped_by_sigterm = True
                break
        return loss, step

    def evaluate(self, input_fn, steps=None, name=None, flip=False):
        """Evaluates on the whole input (or ``steps`` batches): ``{"accuracy", "top_5_accuracy", "loss",
        "global_step"}``; top-5 is 1 for a model of 5 classes or fewer.

        Also writes the metrics as summaries to ``model_dir/eval`` (``eval_<name>`` when named).
        ``flip`` averages each prediction with that of the mirrored image (test-time augmentation).
        """
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        local_datasets = []
        iterator = iter(self._distribute(input_fn, local_datasets))
        loss_sum, correct, top_5_correct, examples = self._evaluate_in_calls(iterator, steps, flip)
        if int(examples) == 0:
            raise ValueError("The evaluation input_fn gave no examples.")
        metrics = {"accuracy": int(correct) / int(examples), "top_5_accuracy": int(top_5_correct) / int(examples),
                   "loss": float(loss_sum) / int(examples), "global_step": self.global_step}
        logging.info("Saving dict for global step %d: %s", metrics["global_step"],
                     ", ".join(f"{key} = {value}" for key, value in sorted(metrics.items())))
        eval_dir = os.path.join(self.model_dir, "eval" if name is None else f"eval_{name}")
        writer = self._summary_writer(eval_dir)
        summaries.write_scalars(writer, metrics["global_step"],
                                {name: value for name, value in metrics.items() if name != "global_step"})
        if self._writes_image_summaries():
            # A second, local pass: the compiled loop above keeps only sums, which keeps it fast.
            dataset = local_datasets[0] if steps is None else local_datasets[0].take(steps)
            summaries.write_evaluation_summaries(writer, metrics["global_step"], dataset, self._logits(flip),
                                                 self.config.class_names)
        writer.flush()
        return metrics

    def _evaluate_in_calls(self, iterator, steps, flip):
        """``(loss_sum, correct, top_5_correct, examples)`` over ``steps`` batches (None: all), a few batches per
        compiled call, so that a long evaluation logs its progress instead of running silent."""
        remaining = np.iinfo(np.int64).max if steps is None else steps
        totals = [0.0, 0, 0, 0]
        started = last_log = time.perf_counter()
        while remaining > 0:
            asked = min(remaining, EVALUATION_BATCHES_PER_CALL)
            batches, *sums = self._evaluate_loop(flip)(iterator, tf.constant(asked, tf.int64))
            totals = [total + value.numpy() for total, value in zip(totals, sums)]
            remaining -= int(batches)
            if int(batches) < asked:
                break
            now = time.perf_counter()
            if now - last_log >= PROGRESS_LOG_SECONDS:
                logging.info("Evaluated %d examples in %.0f s (%.0f examples/sec).", totals[3], now - started,
                             totals[3] / (now - started))
                last_log = now
        return totals

    def predict(self, input_fn):
        """Yields ``{"classes": int, "probabilities": array, "logits": array}`` for each example, in order."""
        iterator = iter(self._distribute(input_fn))
        while True:
            try:
                batch = self._predict_batch(iterator)
            except tf.errors.OutOfRangeError:
                return
            batch = {key: value.numpy() for key, value in batch.items()}
            for index, class_id in enumerate(batch["classes"]):
                yield {"classes": int(class_id), "probabilities": batch["probabilities"][index],
                       "logits": batch["logits"][index]}

    def export_saved_model(self, export_dir_base):
        """Writes a SavedModel (``serving_default``) to ``<base>/<timestamp>``; returns it, None off the chief."""
        return serving.write_saved_model(self.model, self._serving_input_spec(), export_dir_base,
                                         self._strategy.extended.should_checkpoint)

    def _distribute(self, input_fn, local_datasets=None):
        """The strategy's distributed dataset from ``input_fn()`` or ``input_fn(input_context)``.

        Builds the model (and restores model_dir) from the first dataset's element spec if needed.
        The datasets ``input_fn`` made on this worker are appended to ``local_datasets`` when given.
        """
        element_specs = []

        def dataset_fn(*input_context):
            dataset = input_fn(*input_context)
            element_specs.append(dataset.element_spec)
            if local_datasets is not None:
                local_datasets.append(dataset)
            return dataset

        if inputs.takes_input_context(input_fn):
            distributed = self._strategy.distribute_datasets_from_function(dataset_fn)
        else:
            distributed = self._strategy.experimental_distribute_dataset(dataset_fn())
        self._features_spec = loops.split_features_and_labels(element_specs[0])[0]
        self._build_and_restore()
        return distributed

    def _build_and_restore(self):
        """Creates every variable (model, optimizer slots), then restores the latest checkpoint exactly.

        Keras 3 creates optimizer slots lazily; a restore before they exist would silently drop them.
        """
        if self._ready:
            return
        with self._strategy.scope():
            if not self.model.built:
                self.model(tf.nest.map_structure(inputs.zeros_for_spec, self._features_spec))
            if not self._optimizer.built:
                self._optimizer.build(self.model.trainable_variables)
        status = checkpoints.restore_latest(self._checkpoint, self.model_dir, verified=self._verified_checkpoint)
        self._verified_checkpoint = None  # its reader is not needed again
        if status is not None:
            status.assert_consumed()
        self._ready = True

    def _steps_in_next_call(self, step, last_step):
        """Up to steps_per_loop, stopping at the next checkpoint step and at ``last_step``."""
        every = self.config.save_checkpoints_steps
        limit = min(self.config.steps_per_loop, (step // every + 1) * every - step)
        return limit if last_step is None else min(limit, last_step - step)

    def _report_training(self, writer, previous_step, step, loss, accuracy, steps_per_second,
                         examples_per_second, last_step):
        """Logs and summarizes at the loop calls that cross a log or summary step, like TF1's hooks.

        The loss and accuracy are means over the last compiled call's steps, the rates are that call's.
        """
        if progress.crossed_multiple(previous_step, step, self.config.log_step_count_steps):
            logging.info("loss = %s, step = %d", loss, step)
            logging.info("global_step/sec: %g", steps_per_second)
            logging.info("examples/sec: %.0f%s", examples_per_second,
                         progress.time_left(step, self.progress_goal or last_step, steps_per_second))
        if progress.crossed_multiple(previous_step, step, self.config.save_summary_steps):
            values = {"loss": loss, "accuracy": accuracy, "global_step/sec": steps_per_second,
                      "examples/sec": examples_per_second}
            learning_rate = progress.current_learning_rate(self._optimizer)
            if learning_rate is not None:
                values["learning_rate"] = learning_rate
            summaries.write_scalars(writer, step, values)
            if self.config.histogram_summaries:
                summaries.write_histograms(writer, step, self.model.trainable_variables)

    def _make_checkpoint_manager(self, directory, max_to_keep):
        return checkpoints.make_checkpoint_manager(
            self._checkpoint, directory, max_to_keep, self._global_step,
            maintain=directory == self.model_dir and self._strategy.extended.should_checkpoint)

    def _save_checkpoint(self):
        step = self.global_step
        if step == self._saved_step:
            return
        if self._strategy.extended.should_checkpoint:
            path = self._checkpoint_manager.save(checkpoint_number=step)
            logging.info("Saving checkpoints for %d into %s.", step, path)
        else:
            # Saving can be collective (reading on-read-synchronized variables), so every worker saves;
            # a non-chief one into a folder of its own, deleted at once.
            with tempfile.TemporaryDirectory(prefix="fmnist_tf_worker_checkpoint_") as scratch:
                self._make_checkpoint_manager(scratch, max_to_keep=1).save(checkpoint_number=step)
        self._saved_step = step

    def _serving_input_spec(self):
        if self.model.inputs:
            if len(self.model.inputs) != 1:
                raise ValueError("export_saved_model serves models with one input; "
                                 f"{self.model.name} has {len(self.model.inputs)}")
            model_input = self.model.inputs[0]
            return tf.TensorSpec(model_input.shape, model_input.dtype, name=model_input.name)
        if self._features_spec is None:
            raise ValueError(f"{self.model.name} has no declared inputs and has seen no data: "
                             "train, evaluate or predict before export_saved_model")
        return tf.TensorSpec([None, *self._features_spec.shape[1:]], self._features_spec.dtype)

    def _writes_image_summaries(self):
        return self.config.class_names is not None and self._strategy.extended.should_save_summary

    def _summary_writer(self, directory):
        if directory not in self._summary_writers:
            self._summary_writers[directory] = (tf.summary.create_file_writer(directory)
                                                if self._strategy.extended.should_save_summary
                                                else tf.summary.create_noop_writer())
        return self._summary_writers[directory]

    # Each compiled loop is made once per Estimator, so later calls reuse its trace.
    @functools.cached_property
    def _train_loop(self):
        return loops.make_train_loop(self.model, self._optimizer, self._strategy, self._global_step,
                                     self._label_smoothing, self.config.jit_compile)

    def _evaluate_loop(self, flip):
        key = ("evaluate_loop", flip)
        if key not in self._evaluation_functions:
            self._evaluation_functions[key] = loops.make_evaluate_loop(self.model, self._strategy, flip)
        return self._evaluation_functions[key]

    def _logits(self, flip):
        key = ("logits", flip)
        if key not in self._evaluation_functions:
            self._evaluation_functions[key] = tf.function(
                lambda features: loops.evaluation_logits(self.model, features, flip))
        return self._evaluation_functions[key]

    @functools.cached_property
    def _predict_batch(self):
        return loops.make_predict_batch(self.model, self._strategy)
