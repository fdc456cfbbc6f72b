"""Every command-line flag of the front ends, defined once, in groups, with their validators.

A front end calls the ``define_*_flags()`` groups it needs; ``fmnist_tf.training.recipe`` alone turns the
values into objects. Each group takes ``flag_values``, so a model_dir's flags.txt is parsed by the same
definitions in a set of its own.
"""

import functools
import math

from absl import flags

from fmnist_tf.data.catalog import DATASETS, IMAGENET
from fmnist_tf.data.imagenet.dataset import SOURCES as IMAGENET_SOURCES
from fmnist_tf.data.pipeline import PREFETCH_AUTOTUNE, SOURCES
from fmnist_tf.estimator.distribute import STRATEGIES
from fmnist_tf.exporting.converters import FORMATS, OUTPUT_TYPES
from fmnist_tf.models.applications import APPLICATIONS, MIN_IMAGE_SIZE
from fmnist_tf.training.optimizers import OPTIMIZERS
from fmnist_tf.training.schedules import SCHEDULES

# Seeds reach numpy's and scikit-learn's generators, which take 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
# How to treat an existing model_dir, where this launch's processes are and how this machine runs them, not what
# the run is: flags.txt leaves them out, so a cluster restarted on other ports, or a run continued with other
# threads, continues its model_dir.
NOT_RECORDED = ("resume", "overwrite", "worker_hosts", "task_index", "collective_timeout",
                 "inter_op_threads", "intra_op_threads", "prefetch_batches",
                 "input",  # --input is another name of --data_source, which flags.txt records
                 "config")  # replaced by the recipe's own flags before absl parses them


class _Definitions:
    """absl's ``DEFINE_*`` and ``register_*`` functions, bound to one ``FlagValues``."""

    def __init__(self, flag_values):
        self.flag_values = flag_values

    def __getattr__(self, name):
        return functools.partial(getattr(flags, name), flag_values=self.flag_values)


def _finite_float_flag(fv, name, default, help_text, lower_bound=None, upper_bound=None):
    """DEFINE_float, also refusing nan and infinities: nan passes absl's bounds (every comparison with it is false)."""
    fv.DEFINE_float(name, default, help_text, lower_bound=lower_bound, upper_bound=upper_bound)
    fv.register_validator(name, lambda value: value is None or math.isfinite(value),
                          message=f"--{name} must be a finite number")


def define_dataset_location_flags(datasets=tuple(sorted(DATASETS)), flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_enum("dataset", "fashion_mnist", datasets, "Which dataset.")
    fv.DEFINE_string("data_dir", "data/fashion", "Folder holding the four IDX .gz files (fetched if absent)"
                     + (", or ImageNet's ILSVRC2012 tree or TFRecord shards." if IMAGENET in datasets else "."))


def define_fetch_flags(flag_values=flags.FLAGS):
    """The flags of ``python -m fmnist_tf.fetch``."""
    fv = _Definitions(flag_values)
    define_dataset_location_flags(flag_values=flag_values)
    fv.DEFINE_string("base_url", None, "Download from this mirror instead of the official URLs.")


def define_data_flags(validation_size=5000, datasets=tuple(sorted(DATASETS)), flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    define_dataset_location_flags(datasets, flag_values=flag_values)
    fv.DEFINE_enum("data_source", "memory", SOURCES,
                   "How to read the files: streaming IDX .gz, streaming CSV, decoded into memory, or "
                   "tensorflow-datasets' fashion_mnist prepared from the .gz files.")
    fv.DEFINE_alias("input", "data_source")
    fv.DEFINE_integer("validation_size", validation_size,
                      "Training examples held out, stratified and seeded, to evaluate on during training; "
                      "0 evaluates on the test split instead (always, for imagenet).", lower_bound=0)
    fv.DEFINE_integer("seed", 42, "Seed of the validation split, the shuffle and the weights.", lower_bound=0,
                      upper_bound=MAX_SEED)
    fv.DEFINE_integer("prefetch_batches", PREFETCH_AUTOTUNE, "Batches the input pipeline prepares while the "
                      f"model trains: {PREFETCH_AUTOTUNE} lets tf.data size it, 0 prepares none; changes speed "
                      "only, never the batches (benchmark/results/fast_paths.md).", lower_bound=PREFETCH_AUTOTUNE)


def define_model_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_string("model", "convnet", "Name of the model in fmnist_tf.models.")


def define_optimizer_flags(optimizer="adam", batch_size=400, flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_enum("optimizer", optimizer, OPTIMIZERS, "Optimizer.")
    _finite_float_flag(fv, "learning_rate", 0.001, "Learning rate of the optimizer (the peak, with a schedule).")
    fv.DEFINE_integer("batch_size", batch_size, "Global batch size.", lower_bound=1)
    fv.register_validator("learning_rate", lambda value: value > 0, message="--learning_rate must be > 0")


def define_training_option_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_enum("lr_schedule", "constant", SCHEDULES, "Learning rate over the --train_steps: "
                   "constant, cosine decay to 0, or step (divided by 10 at 50% and 75%).")
    fv.DEFINE_integer("warmup_steps", 0, "Steps of linear learning-rate warm-up from 0 first.", lower_bound=0)
    _finite_float_flag(fv, "weight_decay", 0.0, "Decoupled weight decay per step, times the learning rate "
                       "(0: none; adamw's own default when 0 and --optimizer=adamw).", lower_bound=0.0)
    _finite_float_flag(fv, "clip_norm", 0.0, "Clip the gradients' global norm to this (0: no clipping).",
                       lower_bound=0.0)
    _finite_float_flag(fv, "ema_momentum", 0.0, "Keep an exponential moving average of the weights with this "
                       "momentum, e.g. 0.999 (0: none).", lower_bound=0.0, upper_bound=0.99999)
    fv.DEFINE_integer("gradient_accumulation_steps", 1, "Apply the mean gradient of this many batches.",
                      lower_bound=1)
    fv.DEFINE_enum("dtype", "float32", ["float32", "bfloat16", "float16"], "Compute dtype: float32, or "
                   "mixed precision with float32 variables (bfloat16 for CPUs with AVX512-BF16/AMX, float16 "
                   "for GPUs, with loss scaling).")
    fv.DEFINE_integer("plateau_patience", 0, "Divide a constant learning rate by 10 after this many "
                      "evaluations without a lower evaluation loss (0: never).", lower_bound=0)
    fv.DEFINE_integer("early_stopping_patience", 0, "Stop training after this many evaluations without a "
                      "lower evaluation loss (0: never).", lower_bound=0)
    _finite_float_flag(fv, "stop_at_accuracy", 0.0, "Stop training at the first evaluation with at least this "
                       "accuracy, e.g. 0.92 (0: never).", lower_bound=0.0, upper_bound=1.0)
    fv.DEFINE_bool("tta_flip", False, "Also report the test accuracy of predictions averaged with those of "
                   "the mirrored images (test-time augmentation).")
    _finite_float_flag(fv, "label_smoothing", 0.0, "Share of each one-hot label spread over all classes in the "
                       "training loss.", lower_bound=0.0, upper_bound=0.5)


def define_augment_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("crop_padding", 0, "Pad training images by this many pixels, then crop back at random.",
                      lower_bound=0, upper_bound=14)
    fv.DEFINE_bool("horizontal_flip", False, "Mirror half of the training images.")
    _finite_float_flag(fv, "translation", 0.0, "Largest random shift, as a fraction of the image size.",
                       lower_bound=0.0, upper_bound=0.5)
    _finite_float_flag(fv, "rotation", 0.0, "Largest random rotation, as a fraction of a full turn.",
                       lower_bound=0.0, upper_bound=0.5)
    _finite_float_flag(fv, "random_erasing", 0.0, "Probability of erasing a random rectangle of an image.",
                       lower_bound=0.0, upper_bound=1.0)
    fv.DEFINE_bool("rand_augment", False, "RandAugment: 2 random operations per image at magnitude 0.5.")
    _finite_float_flag(fv, "mixup", 0.0, "MixUp's alpha (0: off), e.g. 0.2.", lower_bound=0.0)
    _finite_float_flag(fv, "cutmix", 0.0, "CutMix's alpha (0: off), e.g. 1.0.", lower_bound=0.0)


def define_run_config_flags(model_dir=None, flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_string("model_dir", model_dir, "Where checkpoints, summaries and flags.txt go.")
    fv.DEFINE_integer("steps_per_loop", 100, "Training steps run by one compiled call.", lower_bound=1)
    fv.DEFINE_integer("save_checkpoints_steps", 1000, "Checkpoint every this many steps.", lower_bound=1)
    fv.DEFINE_integer("keep_checkpoint_max", 5, "How many recent checkpoints to keep.", lower_bound=1)
    fv.DEFINE_integer("save_summary_steps", 100, "Write training summaries every this many steps.",
                      lower_bound=1)
    fv.DEFINE_integer("inter_op_threads", 0, "Threads running independent ops at once (0: TensorFlow's "
                      "choice, one per core; benchmark/results/fast_paths.md).", lower_bound=0)
    fv.DEFINE_integer("intra_op_threads", 0, "Threads one op, a convolution or a matrix product, is split "
                      "over (0: TensorFlow's choice, one per core).", lower_bound=0)
    fv.DEFINE_bool("jit_compile", False, "Compile each training step with XLA (measure first: on CPUs it can "
                   "be slower; see benchmark/results/throughput.md).")
    fv.DEFINE_bool("histogram_summaries", False, "Also write a histogram of every trainable weight at each "
                   "summary step (bigger event files).")
    fv.DEFINE_bool("deterministic", False, "Seed everything with --seed and make every op deterministic, so a "
                   "run stopped (SIGTERM, or killed) and rerun ends with the weights of an uninterrupted run, "
                   "bit for bit, on the same machine. Checkpoints grow by nothing: the position in the data and "
                   "the random draws follow from the global step (a saved tf.data iterator would add its "
                   "shuffle buffer, 42 MB for the default split). Costs speed on GPUs, where deterministic "
                   "kernels are slower; see README.guarantees_resume.md. Not for --dataset=imagenet.")
    fv.register_validator("model_dir", bool, message="--model_dir is required")


def define_schedule_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("train_steps", 2000, "Global step to train to.", lower_bound=1)
    fv.DEFINE_integer("steps_per_eval", 1000, "Evaluate every this many steps.", lower_bound=1)
    fv.DEFINE_integer("eval_steps", 0, "Batches per evaluation, the final test one included (0: the whole "
                      "split); the smoke recipes use a few, so big models run end to end in seconds.",
                      lower_bound=0)
    fv.DEFINE_bool("resume", False, "Continue a model_dir whose flags.txt differs, with the new flags.")
    fv.DEFINE_bool("overwrite", False, "Delete the model_dir's checkpoints and summaries, and start afresh.")
    fv.register_multi_flags_validator(
     ["resume", "overwrite"], lambda values: not (values["resume"] and values["overwrite"]),
     message="--resume and --overwrite exclude each other")


def define_imagenet_flags(flag_values=flags.FLAGS):
    """ImageNet input and subsets, local ImageNet weights, and two-phase transfer learning."""
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("image_size", 224, "imagenet: side of the square crops (random resized for training, "
                      "central for evaluation).", lower_bound=MIN_IMAGE_SIZE)
    fv.DEFINE_integer("num_classes", None, "imagenet: keep the first N classes (sorted wnids); default all.",
                      lower_bound=1)
    fv.DEFINE_integer("examples_per_class", None, "imagenet: keep the first K images of each class in each "
                      "split; default all.", lower_bound=1)
    fv.DEFINE_enum("imagenet_source", "jpeg", list(IMAGENET_SOURCES), "imagenet: read --data_dir as the "
                   "ILSVRC2012 JPEG tree, or as the TFRecord shards of write_imagenet_tfrecords.")
    fv.DEFINE_string("weights_path", None, "A local copy of Keras's ImageNet weights file (\"notop\") for a "
                     "keras.applications --model (never downloaded); default: random weights.")
    fv.DEFINE_integer("freeze_backbone_steps", 0, "Transfer learning: train only the new head for this many "
                      "steps, then unfreeze the backbone with a fresh optimizer (0: no freezing).", lower_bound=0)
    fv.DEFINE_integer("unfreeze_blocks", 0, "Transfer learning: after --freeze_backbone_steps, unfreeze the "
                      "top K blocks of the backbone (0: all of it).", lower_bound=0)
    _finite_float_flag(fv, "fine_tune_learning_rate", 1e-5, "Transfer learning: the constant learning rate after "
                       "--freeze_backbone_steps.")
    fv.register_validator("fine_tune_learning_rate", lambda value: value > 0,
                          message="--fine_tune_learning_rate must be > 0")
    fv.register_multi_flags_validator(
     ["model", "weights_path", "freeze_backbone_steps"],
     lambda values: values["model"] in APPLICATIONS or not (values["weights_path"]
                                                            or values["freeze_backbone_steps"]),
     message=f"--weights_path and --freeze_backbone_steps need a keras.applications --model: "
             f"{', '.join(sorted(APPLICATIONS))}")
    fv.register_multi_flags_validator(
     ["dataset", "num_classes", "examples_per_class"],
     lambda values: values["dataset"] == IMAGENET or (values["num_classes"] is None
                                                      and values["examples_per_class"] is None),
     message="--num_classes and --examples_per_class take a subset of --dataset=imagenet")


def define_tensorboard_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("projector_examples", 1000, "Test images whose penultimate-layer features the "
                      "Embedding Projector shows, written at the end of training; 0: none.", lower_bound=0)


CLASSIC_BENCHMARK_ONLY = ("rounds", "steps_per_round", "results_file")


def define_classic_benchmark_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("rounds", 100, "Rounds of train(steps=steps_per_round) then evaluate().", lower_bound=1)
    fv.DEFINE_integer("steps_per_round", 2000, "Training steps per round.", lower_bound=1)
    fv.DEFINE_string("results_file", None, "JSON lines, one per round (default: model_dir/rounds.jsonl).")


def define_distribution_flags(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_enum("distribution_strategy", "default", STRATEGIES,
                   "tf.distribute strategy: the default one, one device, mirrored over local devices, "
                   "or multi_worker_mirrored over the machines of --worker_hosts or TF_CONFIG.")
    fv.DEFINE_integer("num_gpus", 0, "GPUs to use (per worker with multi_worker_mirrored; 0: the CPU).",
                      lower_bound=0)
    fv.DEFINE_list("worker_hosts", [], "multi_worker_mirrored: host:port of every worker, the same list "
                   "on each, the chief first (default: the cluster of TF_CONFIG).")
    fv.DEFINE_integer("task_index", None, "multi_worker_mirrored: this worker's position in --worker_hosts.",
                      lower_bound=0)
    fv.DEFINE_integer("collective_timeout", 300, "multi_worker_mirrored: seconds a worker waits for the "
                      "others in one collective op before it fails (a peer died) and exits non-zero.",
                      lower_bound=1)


def define_recipe_flag(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_string("config", None, "A packaged recipe by name, from any folder: fmnist_tf/configs/NAME.cfg "
                     "(convnet, fast92, cpu_fast_smoke, ...); later flags override it.")


def define_train_flags(flag_values=flags.FLAGS):
    """All the flags of ``python -m fmnist_tf.train``."""
    fv = _Definitions(flag_values)
    define_recipe_flag(flag_values=flag_values)
    define_data_flags(datasets=(*sorted(DATASETS), IMAGENET), flag_values=flag_values)
    define_model_flags(flag_values=flag_values)
    define_imagenet_flags(flag_values=flag_values)
    define_optimizer_flags(flag_values=flag_values)
    define_training_option_flags(flag_values=flag_values)
    define_augment_flags(flag_values=flag_values)
    define_run_config_flags(flag_values=flag_values)
    define_schedule_flags(flag_values=flag_values)
    define_distribution_flags(flag_values=flag_values)
    define_tensorboard_flags(flag_values=flag_values)
    fv.register_multi_flags_validator(
     ["plateau_patience", "lr_schedule", "warmup_steps"],
     lambda values: not values["plateau_patience"] or (values["lr_schedule"] == "constant"
                                                       and not values["warmup_steps"]),
     message="--plateau_patience lowers a constant rate: it needs --lr_schedule=constant and no --warmup_steps")
    fv.register_multi_flags_validator(
     ["warmup_steps", "train_steps"], lambda values: values["warmup_steps"] < values["train_steps"],
     message="--warmup_steps must be smaller than --train_steps")
    fv.register_multi_flags_validator(
     ["deterministic", "dataset"], lambda values: not (values["deterministic"] and values["dataset"] == IMAGENET),
     message="--deterministic needs an input that resumes where it stopped; ImageNet's restarts at each "
             "train() call: not with --dataset=imagenet")


def define_test_examples_flag(flag_values=flags.FLAGS):
    fv = _Definitions(flag_values)
    fv.DEFINE_integer("test_examples", 0, "Measure on the first N test images only, for a quick look "
                      "(0: all of them).", lower_bound=0)


def define_export_flags(flag_values=flags.FLAGS):
    """All the flags of ``python -m fmnist_tf.export``; the model and its data come from model_dir/flags.txt."""
    fv = _Definitions(flag_values)
    fv.DEFINE_string("model_dir", None, "A trained model_dir: its flags.txt names the model, its checkpoint "
                     "holds the weights.")
    fv.DEFINE_string("export_dir", None, "Folder the artifacts and manifest.json are written into.")
    fv.DEFINE_list("formats", list(FORMATS),
                   f"Artifacts to write, some of: {', '.join(FORMATS)}.")
    fv.DEFINE_string("data_dir", None, "Folder of the IDX .gz files for calibration and the report card "
                     "(default: the --data_dir of flags.txt).")
    fv.DEFINE_integer("calibration_size", 1000, "Training images the INT8 quantizer calibrates on.",
                      lower_bound=1)
    fv.DEFINE_integer("calibration_seed", 0, "Seed of the calibration sample.", lower_bound=0, upper_bound=MAX_SEED)
    fv.DEFINE_enum("int8_output_type", "uint8", sorted(OUTPUT_TYPES),
                   "Output type of the INT8 models (their logits).")
    fv.DEFINE_bool("report_card", True, "Evaluate every TFLite artifact on the test set and time it.")
    define_test_examples_flag(flag_values=flag_values)
    fv.DEFINE_string("report_dir", None, "Where the report card's JSON and Markdown go (default: --export_dir).")
    fv.DEFINE_string("report_name", "edge_report", "File name, without suffix, of the report card.")
    fv.DEFINE_integer("latency_runs", 300, "Timed runs per model and thread count.", lower_bound=10)
    _finite_float_flag(fv, "max_accuracy_drop", 0.5, "Fail when an INT8 model's test top-1 accuracy is more than "
                       "this many points below the Keras model's.", lower_bound=0)
    fv.register_validator("model_dir", bool, message="--model_dir is required")
    fv.register_validator("export_dir", bool, message="--export_dir is required")
    fv.register_validator("formats", lambda names: bool(names) and set(names) <= set(FORMATS),
                          message=f"--formats takes some of: {', '.join(FORMATS)}")


def define_evaluate_flags(flag_values=flags.FLAGS):
    """All the flags of ``python -m fmnist_tf.evaluate``; a model_dir's data come from its flags.txt."""
    fv = _Definitions(flag_values)
    fv.DEFINE_string("model_dir", None, "A trained model_dir: its flags.txt names the model and data; its "
                     "event files give the training curves.")
    fv.DEFINE_string("checkpoint", None, "A checkpoint prefix of --model_dir to evaluate (default: the latest).")
    fv.DEFINE_string("model_file", None, "A .keras or .tflite file to evaluate instead of --model_dir.")
    fv.DEFINE_string("report_dir", None, "Folder the report (index.html, PNGs, metrics.json) is written into.")
    fv.DEFINE_enum("dataset", None, sorted(DATASETS), "Dataset of the class names (default: flags.txt's, "
                   "else fashion_mnist).")
    fv.DEFINE_string("data_dir", None, "Folder of the test IDX .gz files (default: flags.txt's, else data/fashion).")
    fv.DEFINE_integer("batch_size", 500, "Test images per prediction call.", lower_bound=1)
    define_test_examples_flag(flag_values=flag_values)
    fv.DEFINE_integer("tsne_size", 2000, "Test images drawn (seeded) for the t-SNE map; t-SNE's time grows "
                      "faster than linearly with it.", lower_bound=5)
    fv.DEFINE_integer("gradcam_per_class", 3, "Images per class shown with their Grad-CAM heat map.",
                      lower_bound=1)
    fv.DEFINE_integer("misclassified_count", 30, "Mistakes shown in the misclassified grid.", lower_bound=1)
    fv.DEFINE_integer("seed", 0, "Seed of the t-SNE sample and map.", lower_bound=0, upper_bound=MAX_SEED)
    fv.register_validator("report_dir", bool, message="--report_dir is required")
    fv.register_multi_flags_validator(
     ["model_dir", "model_file"], lambda values: bool(values["model_dir"]) != bool(values["model_file"]),
     message="give exactly one of --model_dir and --model_file")
    fv.register_multi_flags_validator(
     ["checkpoint", "model_dir"], lambda values: not values["checkpoint"] or bool(values["model_dir"]),
     message="--checkpoint needs --model_dir")


