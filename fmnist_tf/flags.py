"""Every command-line flag of the front ends, defined once, in groups, with the getters that use them.

A front end calls the ``define_*_flags()`` groups it needs; library code never reads flags.
"""

from absl import flags

from fmnist_tf import distribute, estimator, exporting
from fmnist_tf.data.catalog import DATASETS

_DATA_SOURCES = ["idx", "csv", "memory"]
_OPTIMIZERS = ["sgd", "momentum", "adam", "adamw", "rmsprop"]
# How to treat an existing model_dir, and where this launch's processes are, not what the run is:
# flags.txt leaves them out, so a cluster restarted on other ports continues its model_dir.
_NOT_RECORDED = ("resume", "overwrite", "worker_hosts", "task_index", "collective_timeout")


def define_dataset_location_flags():
    flags.DEFINE_enum("dataset", "fashion_mnist", sorted(DATASETS), "Which dataset.")
    flags.DEFINE_string("data_dir", "data/fashion", "Folder holding the four IDX .gz files (fetched if absent).")


def define_fetch_flags():
    """The flags of ``python -m fmnist_tf.data.fetch``."""
    define_dataset_location_flags()
    flags.DEFINE_string("base_url", None, "Download from this mirror instead of the official URLs.")


def define_data_flags(validation_size=5000):
    define_dataset_location_flags()
    flags.DEFINE_enum("data_source", "memory", _DATA_SOURCES,
                      "How to read the files: streaming IDX .gz, streaming CSV, or decoded into memory.")
    flags.DEFINE_integer("validation_size", validation_size,
                         "Training examples held out, stratified and seeded, to evaluate on during training; "
                         "0 evaluates on the test split instead.", lower_bound=0)
    flags.DEFINE_integer("seed", 42, "Seed of the validation split, the shuffle and the weights.")


def define_model_flags():
    flags.DEFINE_string("model", "convnet", "Name of the model in fmnist_tf.models.")


def define_optimizer_flags(optimizer="adam", batch_size=400):
    flags.DEFINE_enum("optimizer", optimizer, _OPTIMIZERS, "Optimizer.")
    flags.DEFINE_float("learning_rate", 0.001, "Learning rate of the optimizer.")
    flags.DEFINE_integer("batch_size", batch_size, "Global batch size.", lower_bound=1)
    flags.register_validator("learning_rate", lambda value: value > 0, message="--learning_rate must be > 0")


def define_run_config_flags(model_dir=None):
    flags.DEFINE_string("model_dir", model_dir, "Where checkpoints, summaries and flags.txt go.")
    flags.DEFINE_integer("steps_per_loop", 100, "Training steps run by one compiled call.", lower_bound=1)
    flags.DEFINE_integer("save_checkpoints_steps", 1000, "Checkpoint every this many steps.", lower_bound=1)
    flags.DEFINE_integer("keep_checkpoint_max", 5, "How many recent checkpoints to keep.", lower_bound=1)
    flags.DEFINE_integer("save_summary_steps", 100, "Write training summaries every this many steps.",
                         lower_bound=1)
    flags.register_validator("model_dir", bool, message="--model_dir is required")


def define_schedule_flags():
    flags.DEFINE_integer("train_steps", 2000, "Global step to train to.", lower_bound=1)
    flags.DEFINE_integer("steps_per_eval", 1000, "Evaluate every this many steps.", lower_bound=1)
    flags.DEFINE_bool("resume", False, "Continue a model_dir whose flags.txt differs, with the new flags.")
    flags.DEFINE_bool("overwrite", False, "Delete the model_dir's checkpoints and summaries, and start afresh.")
    flags.register_multi_flags_validator(
        ["resume", "overwrite"], lambda values: not (values["resume"] and values["overwrite"]),
        message="--resume and --overwrite exclude each other")


def define_classic_benchmark_flags():
    flags.DEFINE_integer("rounds", 100, "Rounds of train(steps=steps_per_round) then evaluate().", lower_bound=1)
    flags.DEFINE_integer("steps_per_round", 2000, "Training steps per round.", lower_bound=1)
    flags.DEFINE_string("results_file", None, "JSON lines, one per round (default: model_dir/rounds.jsonl).")


def define_distribution_flags():
    flags.DEFINE_enum("distribution_strategy", "default", distribute.STRATEGIES,
                      "tf.distribute strategy: the default one, one device, mirrored over local devices, "
                      "or multi_worker_mirrored over the machines of --worker_hosts or TF_CONFIG.")
    flags.DEFINE_integer("num_gpus", 0, "GPUs to use (per worker with multi_worker_mirrored; 0: the CPU).",
                         lower_bound=0)
    flags.DEFINE_list("worker_hosts", [], "multi_worker_mirrored: host:port of every worker, the same list "
                      "on each, the chief first (default: the cluster of TF_CONFIG).")
    flags.DEFINE_integer("task_index", None, "multi_worker_mirrored: this worker's position in --worker_hosts.",
                         lower_bound=0)
    flags.DEFINE_integer("collective_timeout", 300, "multi_worker_mirrored: seconds a worker waits for the "
                         "others in one collective op before it fails (a peer died) and exits non-zero.",
                         lower_bound=1)


def define_train_flags():
    """All the flags of ``python -m fmnist_tf.train``."""
    define_data_flags()
    define_model_flags()
    define_optimizer_flags()
    define_run_config_flags()
    define_schedule_flags()
    define_distribution_flags()


def define_export_flags():
    """All the flags of ``python -m fmnist_tf.export``; the model and its data come from model_dir/flags.txt."""
    flags.DEFINE_string("model_dir", None, "A trained model_dir: its flags.txt names the model, its checkpoint "
                        "holds the weights.")
    flags.DEFINE_string("export_dir", None, "Folder the artifacts and manifest.json are written into.")
    flags.DEFINE_list("formats", list(exporting.FORMATS),
                      f"Artifacts to write, some of: {', '.join(exporting.FORMATS)}.")
    flags.DEFINE_string("data_dir", None, "Folder of the IDX .gz files for calibration and the report card "
                        "(default: the --data_dir of flags.txt).")
    flags.DEFINE_integer("calibration_size", 1000, "Training images the INT8 quantizer calibrates on.",
                         lower_bound=1)
    flags.DEFINE_integer("calibration_seed", 0, "Seed of the calibration sample.")
    flags.DEFINE_enum("int8_output_type", "uint8", sorted(exporting.OUTPUT_TYPES),
                      "Output type of the INT8 models (their logits).")
    flags.DEFINE_bool("report_card", True, "Evaluate every TFLite artifact on the test set and time it.")
    flags.DEFINE_string("report_dir", "benchmark/results", "Where the report card's JSON and Markdown go.")
    flags.DEFINE_string("report_name", "edge_report", "File name, without suffix, of the report card.")
    flags.DEFINE_integer("latency_runs", 300, "Timed runs per model and thread count.", lower_bound=10)
    flags.DEFINE_float("max_accuracy_drop", 0.5, "Fail when an INT8 model's test top-1 accuracy is more than "
                       "this many points below the Keras model's.", lower_bound=0)
    flags.register_validator("model_dir", bool, message="--model_dir is required")
    flags.register_validator("export_dir", bool, message="--export_dir is required")
    flags.register_validator("formats", lambda names: bool(names) and set(names) <= set(exporting.FORMATS),
                             message=f"--formats takes some of: {', '.join(exporting.FORMATS)}")


def run_flag_values(flag_values=flags.FLAGS):
    """``{name: value}`` of the flags that describe a run, in definition order: what flags.txt records."""
    return {flag.name: flag.value for flag in flag_values.get_flags_for_module(__name__)
            if flag.name not in _NOT_RECORDED}


def get_strategy(flag_values):
    """The ``tf.distribute.Strategy`` the distribution flags name; call it before any other TF op."""
    cluster = None
    if flag_values.distribution_strategy == "multi_worker_mirrored":
        cluster = distribute.make_cluster_resolver(flag_values.worker_hosts, flag_values.task_index)
    return distribute.get_strategy(flag_values.distribution_strategy, flag_values.num_gpus, cluster=cluster,
                                   collective_timeout=flag_values.collective_timeout)


def run_config(flag_values, strategy=None):
    """The Estimator's RunConfig from the run-config flags."""
    return estimator.RunConfig(
        model_dir=flag_values.model_dir,
        save_checkpoints_steps=flag_values.save_checkpoints_steps,
        keep_checkpoint_max=flag_values.keep_checkpoint_max,
        save_summary_steps=flag_values.save_summary_steps,
        steps_per_loop=flag_values.steps_per_loop,
        train_distribute=strategy,
        tf_random_seed=flag_values.seed)
