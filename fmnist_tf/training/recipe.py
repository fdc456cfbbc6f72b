"""A run's recipe: its flags, parsed or read back from ``model_dir/flags.txt``, and the objects they make.

``recipe = Recipe.from_flags(FLAGS)`` (the train CLI) or ``Recipe.from_model_dir("runs/convnet")`` (evaluate,
export); then ``recipe.input_fns()``, ``recipe.estimator(strategy)``, ``recipe.train_and_evaluate(...)``.
This is the only place where a flag value becomes a library object, so a run restored from its flags.txt is
built exactly as it was trained (same optimizer, schedule and loss scaling, hence the same checkpoint layout).
"""

import dataclasses
import os
import types

from absl import flags, logging

from fmnist_tf import augment, data, estimator
from fmnist_tf import flags as fmnist_flags
from fmnist_tf.estimator import distribute
from fmnist_tf.estimator.model_dir import FLAGS_FILE, format_flags
from fmnist_tf.training import fine_tuning
from fmnist_tf.training.model_fn import make_model_fn, make_training_optimizer, model_params
from fmnist_tf.training.schedules import make_schedule

# Fashion-MNIST and MNIST are fetched when missing; ImageNet is read in place.
_READ_IN_PLACE = (data.IMAGENET,)


class ModelDirError(ValueError):
    """A model_dir without the flags.txt or the checkpoint a trained run leaves."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Every flag of the train CLI, by name (``recipe.batch_size``); defaults from the flag definitions."""

    values: types.MappingProxyType

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"no training flag --{name}") from None

    @classmethod
    def from_flags(cls, flag_values):
        """The recipe of parsed flags that include the train CLI's (``define_train_flags``)."""
        names = [flag.name for flag in flag_values.get_flags_for_module(fmnist_flags)]
        return cls(types.MappingProxyType({name: flag_values[name].value for name in names}))

    @classmethod
    def from_lines(cls, lines, source="flags"):
        """The recipe of flagfile ``lines`` over the train CLI's defaults; lines naming no flag are logged."""
        flag_values = flags.FlagValues()
        fmnist_flags.define_train_flags(flag_values)
        unknown = flag_values(["recipe", *lines], known_only=True)[1:]
        if unknown:
            logging.warning("%s: ignored what names no flag of this version: %s", source, " ".join(unknown))
        return cls.from_flags(flag_values)

    @classmethod
    def defaults(cls):
        """The train CLI's defaults, unvalidated (no --model_dir): what a model file without flags.txt assumes."""
        flag_values = flags.FlagValues()
        fmnist_flags.define_train_flags(flag_values)
        return cls(types.MappingProxyType({flag.name: flag.default
                                           for flag in flag_values.get_flags_for_module(fmnist_flags)}))

    @classmethod
    def from_values(cls, **values):
        """The train CLI's defaults with ``values`` ({flag name: value}) in their place."""
        return cls.from_lines(format_flags(values).splitlines())

    @classmethod
    def of_classic_benchmark(cls, flag_values):
        """The recipe of ``benchmark/convnet.py``'s parsed flags: the convnet, trained for --rounds rounds of
        --steps_per_round steps, each ended by an evaluation of the test split."""
        values = {flag.name: flag.value for flag in flag_values.get_flags_for_module(fmnist_flags)
                  if flag.name not in fmnist_flags.CLASSIC_BENCHMARK_ONLY}
        values.update(model="convnet", projector_examples=0, steps_per_eval=flag_values.steps_per_round,
                      train_steps=flag_values.rounds * flag_values.steps_per_round)
        return cls.from_values(**values)

    @classmethod
    def from_model_dir(cls, model_dir, data_dir=None):
        """The recipe recorded in ``model_dir/flags.txt`` (flags added since take their defaults), at ``model_dir``.

        ``data_dir`` replaces the recorded one (the files moved, or another machine reads them).
        """
        path = os.path.join(model_dir, FLAGS_FILE)
        if not os.path.isfile(path):
            raise ModelDirError(f"{path} does not exist; expected the model_dir of a `python -m fmnist_tf.train` "
                                "or `benchmark/convnet.py` run")
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip().startswith("--")]
        overrides = [f"--model_dir={model_dir}"] + ([f"--data_dir={data_dir}"] if data_dir else [])
        return cls.from_lines(lines + overrides, source=path)

    def recorded_flags(self):
        """``{name: value}`` of what describes the run, in definition order: what flags.txt records."""
        return {name: value for name, value in self.values.items() if name not in fmnist_flags.NOT_RECORDED}

    # What the data is.
    def class_names(self):
        """The dataset's class names (for ImageNet, of its --num_classes subset of the tree in --data_dir)."""
        return tuple(data.dataset_class_names(self.dataset, self.data_dir, self.num_classes, self.imagenet_source))

    def model_params(self):
        """The model builder's keywords: classes, image shape, and --weights_path when given."""
        return model_params(self.dataset, len(self.class_names()), self.image_size, self.weights_path)

    def augmenter(self):
        """The training batches' augmentation, or None."""
        options = augment.AugmentOptions(**{field.name: self.values[field.name]
                                            for field in dataclasses.fields(augment.AugmentOptions)})
        if not options.enabled:
            return None
        return augment.make_batch_augmenter(options, len(self.class_names()), seed=self.seed)

    def input_fns(self):
        """Input functions keyed by split ("train", "test", and "validation" when one is held out)."""
        if self.dataset in _READ_IN_PLACE:
            return data.make_imagenet_input_fns(
                self.data_dir, self.batch_size, image_size=self.image_size, num_classes=self.num_classes,
                examples_per_class=self.examples_per_class, source=self.imagenet_source, seed=self.seed,
                augment=self.augmenter(), prefetch_batches=self.prefetch_batches)
        data.fetch(self.dataset, self.data_dir)
        return data.make_input_fns(self.data_dir, self.batch_size, source=self.data_source,
                                   validation_size=self.validation_size, seed=self.seed, augment=self.augmenter(),
                                   prefetch_batches=self.prefetch_batches)

    # How it trains.
    def strategy(self):
        """The ``tf.distribute.Strategy`` of the distribution flags; make it before any other TensorFlow op."""
        cluster = None
        if self.distribution_strategy == "multi_worker_mirrored":
            cluster = distribute.make_cluster_resolver(self.worker_hosts, self.task_index)
        return distribute.get_strategy(self.distribution_strategy, self.num_gpus, cluster=cluster,
                                       collective_timeout=self.collective_timeout)

    def learning_rate_schedule(self):
        """The learning rate, or its schedule over --train_steps."""
        return make_schedule(self.lr_schedule, self.learning_rate, self.train_steps, warmup_steps=self.warmup_steps)

    def optimizer_options(self):
        """``make_training_optimizer``'s keywords."""
        return dict(weight_decay=self.weight_decay, clip_norm=self.clip_norm, ema_momentum=self.ema_momentum,
                    gradient_accumulation_steps=self.gradient_accumulation_steps,
                    loss_scale=self.dtype == "float16")

    def fine_tuning(self):
        """The transfer-learning phases, or None without --freeze_backbone_steps."""
        if not self.freeze_backbone_steps:
            return None
        return fine_tuning.FineTuning(self.freeze_backbone_steps, self.unfreeze_blocks, self.fine_tune_learning_rate)

    def model_fn(self, dtype=None):
        """The Estimator's model_fn; ``dtype`` replaces the compute dtype (a restored model computes in float32)."""
        schedule = self.fine_tuning()
        return make_model_fn(
            self.model, self.optimizer, self.learning_rate_schedule(), self.seed, label_smoothing=self.label_smoothing,
            dtype=dtype or self.dtype, fine_tuning=schedule,
            # A transfer-learning run rebuilds the phase its checkpoint was saved in (reading the step verifies the
            # checkpoint: only a fine-tuning schedule needs it this early).
            initial_step=estimator.latest_global_step(self.model_dir) if schedule else 0,
            **self.optimizer_options())

    def run_config(self, strategy=None):
        """The Estimator's RunConfig: where and how often it saves, summarizes and logs."""
        return estimator.RunConfig(
            model_dir=self.model_dir, save_checkpoints_steps=self.save_checkpoints_steps,
            keep_checkpoint_max=self.keep_checkpoint_max, save_summary_steps=self.save_summary_steps,
            steps_per_loop=self.steps_per_loop, jit_compile=self.jit_compile, train_distribute=strategy,
            tf_random_seed=self.seed, deterministic=self.deterministic,
            # No image summaries for ImageNet: each evaluation would take a second pass and a 1000-class confusion.
            class_names=None if self.dataset in _READ_IN_PLACE else self.class_names(),
            histogram_summaries=self.histogram_summaries, hparams=self.recorded_flags())

    def estimator(self, strategy=None):
        """The Estimator that trains the recipe in --model_dir, on ``strategy`` (default: TensorFlow's)."""
        return estimator.Estimator(self.model_fn(), config=self.run_config(strategy), params=self.model_params())

    def restored_estimator(self):
        """The Estimator of --model_dir's latest checkpoint, for evaluation and export: float32, and writing
        nothing into model_dir."""
        return estimator.Estimator(self.model_fn(dtype="float32"), model_dir=self.model_dir,
                                   params=self.model_params())

    def monitors(self):
        """What is checked after each evaluation: plateau, early stopping, a target accuracy."""
        chosen = []
        if self.plateau_patience:
            chosen.append(estimator.ReduceLearningRateOnPlateau(patience=self.plateau_patience))
        if self.early_stopping_patience:
            chosen.append(estimator.EarlyStopping(patience=self.early_stopping_patience))
        if self.stop_at_accuracy:
            chosen.append(estimator.StopAtAccuracy(self.stop_at_accuracy))
        return chosen

    def train_and_evaluate(self, classifier, input_fns):
        """Trains to --train_steps, evaluating every --steps_per_eval on the validation split (else the test
        split); returns every evaluation's metrics, in order."""
        eval_split = "validation" if "validation" in input_fns else "test"
        train_spec = estimator.TrainSpec(input_fns["train"], max_steps=self.train_steps)
        eval_spec = estimator.EvalSpec(input_fns[eval_split], steps=self.eval_steps or None,
                                       every_n_steps=self.steps_per_eval, name=eval_split)
        schedule = self.fine_tuning()
        if schedule is None:
            _, evaluations = estimator.train_and_evaluate(classifier, train_spec, eval_spec, self.monitors())
        else:
            _, evaluations = fine_tuning.train_and_evaluate(
                classifier, train_spec, eval_spec, schedule,
                lambda: make_training_optimizer(self.optimizer, schedule.learning_rate, **self.optimizer_options()),
                monitors=self.monitors())
        return evaluations

