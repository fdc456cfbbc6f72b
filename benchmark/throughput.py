"""Throughput in one run: the convnet's training, inference by export format and input pipelines; ImageNet's.

``python benchmark/throughput.py [--sections=training,inference,pipeline,imagenet]``: training images/second of
the Estimator loop against plain ``keras.Model.fit`` and, when installed (``pip install .[bench]``), a PyTorch
eager loop of the same convnet; inference images/second of the Keras model, its
SavedModel and its TFLite float32 and INT8 models on the 10,000 test images; tf.data images/second of
one training epoch from the .gz files, from CSV and from memory; for ImageNet-style work
(``imagenet_throughput``), the JPEG and TFRecord pipelines and ResNet50 training and inference in float32 and
bfloat16. Each method is repeated, alternating with the others of its section; medians and ratios go to
``benchmark/results/throughput.md``.
"""

import functools
import json
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from fmnist_tf import data, estimator, exporting, models
from fmnist_tf.atomic import atomic_write
from fmnist_tf.data.pipeline import make_training_dataset
from machine import describe_machine
from rate_tables import format_rate, measure, table
from fmnist_tf.exporting.litert import tflite_logits
from fmnist_tf.training.model_fn import dtype_policy, make_model_fn
from fmnist_tf.safe_loading import load_keras_file

import imagenet_throughput  # beside this file: on sys.path when it runs as a script

try:
    import torch_convnet  # PyTorch's baseline, with `pip install .[bench]`
except ImportError:
    torch_convnet = None

SECTIONS = ("training", "inference", "pipeline", "imagenet")


def define_flags():
    """The flags of the command line; defined only when run as a script, so tests can import this module."""
    flags.DEFINE_string("data_dir", "data/fashion", "Folder with the Fashion-MNIST .gz files.")
    flags.DEFINE_integer("batch_size", 400, "Global batch size.", lower_bound=1)
    flags.DEFINE_integer("steps", 100, "Timed training steps per repeat.", lower_bound=1)
    flags.DEFINE_integer("warmup_steps", 10, "Untimed steps first (tracing, compilation).", lower_bound=0)
    flags.DEFINE_integer("repeats", 9, "Repeats of each method, alternating.", lower_bound=1)
    flags.DEFINE_list("sections", list(SECTIONS), f"Which measurements to run, some of: {', '.join(SECTIONS)}.")
    flags.DEFINE_list("training_dtypes", ["float32", "bfloat16"], "Compute dtypes of the training section "
                      "(bfloat16 pays off on CPUs with AVX512-BF16 or AMX).")
    flags.DEFINE_integer("pipeline_epochs", 3, "Epochs timed after the first in the pipeline section.",
                         lower_bound=1)
    flags.DEFINE_bool("training_xla", True, "Also time the Estimator loop with each step compiled by XLA.")
    flags.DEFINE_integer("inference_batch_size", 500, "Images per call in the inference section.",
                         lower_bound=1)
    flags.DEFINE_string("imagenet_dir", None, "ILSVRC2012 tree for the imagenet section; without it, a synthetic "
                        "tree of generated JPEGs is written to a temporary folder.")
    flags.DEFINE_integer("imagenet_classes", 10, "The imagenet section reads the first N classes ...",
                         lower_bound=1, upper_bound=1000)
    flags.DEFINE_integer("imagenet_examples_per_class", 50, "... and the first K training images of each.",
                         lower_bound=1)
    flags.DEFINE_integer("imagenet_batch_size", 32, "ResNet50's batch in the imagenet section.", lower_bound=1)
    flags.DEFINE_integer("imagenet_steps", 5, "Timed ResNet50 training steps per repeat.", lower_bound=1)
    flags.DEFINE_integer("imagenet_warmup_steps", 2, "Untimed ResNet50 training steps first.", lower_bound=0)
    flags.DEFINE_string("output", None, "Markdown report; default benchmark/results/throughput.md, or "
                        "throughput_imagenet.md beside it when --sections=imagenet alone.")
    flags.register_validator("sections", lambda names: bool(names) and set(names) <= set(SECTIONS),
                             message=f"--sections takes some of: {', '.join(SECTIONS)}")


FLAGS = flags.FLAGS


def in_memory_training_batches(images, labels, batch_size):
    """The training images in memory, repeated; unshuffled, so both loops start at once."""
    dataset = tf.data.Dataset.from_tensor_slices((images[..., np.newaxis], labels.astype(np.int32)))
    return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def time_estimator(dataset, steps, warmup_steps, batch_size, dtype="float32", jit_compile=False):
    """Images/second of one ``Estimator.train(steps=steps)`` call after a warm-up call; each call ends with
    the checkpoint the Estimator always saves, as ``fit`` pays for its own set-up in its timing."""
    with tempfile.TemporaryDirectory() as model_dir:
        config = estimator.RunConfig(model_dir=model_dir, save_checkpoints_steps=10**9,
                                     save_summary_steps=10**9, log_step_count_steps=10**9,
                                     steps_per_loop=100, jit_compile=jit_compile)
        runner = estimator.Estimator(make_model_fn("convnet", "adam", 0.001, seed=0, dtype=dtype),
                                     config=config)
        runner.train(lambda: dataset, steps=warmup_steps)
        started = time.perf_counter()
        runner.train(lambda: dataset, steps=steps)
        elapsed = time.perf_counter() - started
    return steps * batch_size / elapsed


def time_model_fit(dataset, steps, warmup_steps, batch_size, dtype="float32"):
    """Images/second of one ``model.fit`` call of ``steps`` steps with Keras's defaults, after a warm-up call."""
    keras.utils.set_random_seed(0)
    with dtype_policy(dtype):
        model = models.build("convnet")
    model.compile(optimizer=keras.optimizers.Adam(0.001),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset, epochs=1, steps_per_epoch=warmup_steps, verbose=0)
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * batch_size / (time.perf_counter() - started)


def timed(methods, num_images):
    """Each zero-argument method turned into one returning the images/second of a call of it."""

    def rate_of(method):
        def rate():
            started = time.perf_counter()
            method()
            return num_images / (time.perf_counter() - started)
        return rate

    return {name: rate_of(method) for name, method in methods.items()}


def inference_methods(images, batch_size, calibration):
    """Zero-argument callables classifying all ``images``, one per format, each warmed up once."""
    keras.utils.set_random_seed(0)
    model = models.build("convnet")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
    scratch = tempfile.mkdtemp(prefix="fmnist_tf_throughput_")
    keras_path = os.path.join(scratch, "model.keras")
    model.save(keras_path)
    # The loader a user's .keras file goes through (the checks cost nothing next to the timed runs).
    loaded = load_keras_file(keras_path)
    loaded.export(os.path.join(scratch, "saved_model"), verbose=False)
    saved_model = tf.saved_model.load(os.path.join(scratch, "saved_model"))
    tflite = {name: exporting.convert_to_tflite(model, name, calibration_images=calibration)
              for name in ("float32", "int8")}
    methods = {
        "Keras model (.keras), model.predict": lambda: loaded.predict(dataset, verbose=0),
        "SavedModel (tf.saved_model.load, serve)": lambda: [saved_model.serve(batch) for batch in dataset],
        "TFLite float32 (LiteRT, XNNPACK)": lambda: tflite_logits(tflite["float32"], images, batch_size),
        "TFLite INT8 (LiteRT, XNNPACK)": lambda: tflite_logits(tflite["int8"], images, batch_size),
    }
    for method in methods.values():
        method()
    return methods


def pipeline_methods(data_dir, batch_size, later_epochs):
    """{reader: zero-argument callable returning {"READER, first epoch": images/s, "READER, later epochs": ...}}.

    Each call builds the training stream afresh (``make_training_dataset``, as the train CLI reads it) and
    consumes it in a compiled loop, as training does: the first epoch includes validating and reading the
    files, the later ones are what the reader sustains.
    """
    csv_dir = tempfile.mkdtemp(prefix="fmnist_tf_throughput_csv_")
    for split in ("train", "test"):
        data.write_csv(*data.load_numpy(data_dir, split), os.path.join(csv_dir, f"fashion-mnist_{split}.csv"))
    batches_per_epoch = data.num_examples(data_dir, "train") // batch_size

    # Batch counts go in as tensors: a Python int would trace anew, inside the timed first run.
    @tf.function
    def consume(iterator, batches):
        for _ in tf.range(batches):
            next(iterator)

    def rates_of_one_run(reader, source, folder):
        started = time.perf_counter()
        iterator = iter(make_training_dataset(folder, batch_size=batch_size, seed=0, source=source))
        consume(iterator, tf.constant(batches_per_epoch))
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        consume(iterator, tf.constant(later_epochs * batches_per_epoch))
        later_seconds = time.perf_counter() - started
        images = batches_per_epoch * batch_size
        return {f"{reader}, first epoch": images / first_seconds,
                f"{reader}, later epochs": later_epochs * images / later_seconds}

    readers = {"memory (decoded .gz files)": ("memory", data_dir), "IDX .gz streaming": ("idx", data_dir),
               "CSV streaming": ("csv", csv_dir)}
    return {reader: functools.partial(rates_of_one_run, reader, *source) for reader, source in readers.items()}


def training_section(data_dir):
    images, labels = data.load_numpy(data_dir, "train")
    dataset = in_memory_training_batches(images, labels, FLAGS.batch_size)
    num_images = FLAGS.steps * FLAGS.batch_size
    methods = {}
    for dtype in FLAGS.training_dtypes:
        suffix = "" if dtype == "float32" else f", {dtype} mixed precision"
        methods[f"Estimator loop (fmnist_tf){suffix}"] = functools.partial(
            time_estimator, dataset, FLAGS.steps, FLAGS.warmup_steps, FLAGS.batch_size, dtype)
        methods[f"keras Model.fit{suffix}"] = functools.partial(
            time_model_fit, dataset, FLAGS.steps, FLAGS.warmup_steps, FLAGS.batch_size, dtype)
        if FLAGS.training_xla:
            methods[f"Estimator loop (fmnist_tf){suffix}, XLA"] = functools.partial(
                time_estimator, dataset, FLAGS.steps, FLAGS.warmup_steps, FLAGS.batch_size, dtype, True)
        if torch_convnet is not None:
            methods[f"PyTorch {torch_convnet.torch.__version__} eager loop{suffix}"] = functools.partial(
                torch_convnet.time_torch_training, images, labels, FLAGS.steps, FLAGS.warmup_steps,
                FLAGS.batch_size, dtype)
    samples = measure(methods, FLAGS.repeats)
    description = (
        f"Convnet (3,274,634 parameters), Adam, batch {FLAGS.batch_size}, in-memory data; {FLAGS.steps} timed "
        f"steps ({num_images:,} images) after {FLAGS.warmup_steps} warm-up steps. Each figure is one whole call, "
        "as a user waits for it: `Estimator.train(steps=...)` (with the checkpoint it saves at the end) against "
        "`model.fit(epochs=1, steps_per_epoch=...)`, each on a fresh model after its warm-up call.")
    # model.fit in the first of --training_dtypes (float32 unless left out).
    baseline = next(name for name in samples if name.startswith("keras Model.fit"))
    return table("Training", description, samples, baseline)


def inference_section(data_dir):
    images = data.load_numpy(data_dir, "test")[0][..., np.newaxis]
    calibration = exporting.calibration_images(data_dir, 200, seed=0)
    methods = inference_methods(images, FLAGS.inference_batch_size, calibration)
    samples = measure(timed(methods, len(images)), FLAGS.repeats)
    description = (f"The convnet classifying the {len(images):,} test images, {FLAGS.inference_batch_size} per "
                   "call, in each export format (TFLite through `tflite_logits`, with the interpreter's default "
                   "threads).")
    return table("Inference", description, samples, "Keras model (.keras), model.predict")


def pipeline_section(data_dir):
    samples = measure(pipeline_methods(data_dir, FLAGS.batch_size, FLAGS.pipeline_epochs), FLAGS.repeats)
    description = (f"The training stream of `fmnist_tf.data.make_training_dataset` (batch {FLAGS.batch_size}, "
                   "reshuffled every epoch), built afresh per repeat and consumed in a compiled loop without a "
                   "model: its first epoch (validating and reading the files, then the first shuffle) and the "
                   f"{FLAGS.pipeline_epochs} epochs after it (the split stays in memory once read: the full "
                   "shuffle needs it there anyway).")
    return table("Input pipeline", description, samples, "memory (decoded .gz files), later epochs")


def readers_against_training(medians):
    """A paragraph: each reader's sustained rate over the fastest training rate of the same run."""
    fastest_name = max(medians["training"], key=medians["training"].get)
    fastest = medians["training"][fastest_name]
    ratios = ", ".join(f"{name.removesuffix(', later epochs')} {rate / fastest:.0f}x"
                       for name, rate in medians["pipeline"].items() if name.endswith("later epochs"))
    return ["## Readers against training", "",
            f"Sustained reader rate over the fastest training rate of this run ({fastest_name}, "
            f"{format_rate(fastest)} images/s): {ratios}.", ""]


def imagenet_section(imagenet_dir, repeats, **settings):
    """Tables of the ImageNet input pipelines, ResNet50 training and ResNet50 inference, and their medians;
    ``settings`` are ``ImagenetBenchmark``'s fields. Without ``imagenet_dir``, a synthetic tree is written first."""
    with tempfile.TemporaryDirectory(prefix="fmnist_tf_imagenet_throughput_") as scratch:
        settings = imagenet_throughput.ImagenetBenchmark(imagenet_dir or os.path.join(scratch, "ILSVRC2012"),
                                                         **settings)
        if imagenet_dir is None:
            mean_bytes = imagenet_throughput.write_synthetic_imagenet(
                settings.data_dir, settings.num_classes, settings.examples_per_class)
            width, height = imagenet_throughput.SYNTHETIC_IMAGE_SIZE
            source = (f"No `--imagenet_dir`: a synthetic ILSVRC-layout tree written for this run, "
                      f"{settings.num_classes} classes x {settings.examples_per_class} generated JPEGs of "
                      f"{width}x{height} px (smooth colour fields with noise, mean {mean_bytes / 1000:.0f} kB, seed 0)")
        else:
            source = (f"`{imagenet_dir}`: the training images of its first {settings.num_classes} classes, "
                      f"at most {settings.examples_per_class} of each")
        num_images = settings.num_images
        gpus = tf.config.list_physical_devices("GPU")
        device = f"{len(gpus)} GPU(s) visible" if gpus else "CPU only; GPU: not measured (this machine has none)"
        pipeline = measure(timed(imagenet_throughput.pipeline_methods(settings, os.path.join(scratch, "tfrecords")),
                                 num_images), repeats)
        training = measure(imagenet_throughput.training_methods(settings, scratch), repeats)
        images = imagenet_throughput.evaluation_images(settings)
        inference = measure(timed(imagenet_throughput.inference_methods(settings, images), len(images)), repeats)
    size = settings.image_size
    pipeline_lines, pipeline_medians = table(
        "ImageNet input pipeline",
        f"{source}; {device}. One pass over its {num_images:,} images through `make_imagenet_dataset` ({size} px, "
        f"batch {settings.batch_size}, shuffled for training), iterated without a model; the TFRecord shards "
        f"({imagenet_throughput.TFRECORD_SHARDS}) are written from the same images before timing.",
        pipeline, next(iter(pipeline)))
    training_lines, training_medians = table(
        "ResNet50 training",
        f"ResNet50 (`weights=None`, {imagenet_throughput.IMAGENET_NUM_CLASSES} logits, {size} px), SGD with momentum, "
        f"batch {settings.batch_size}, fed by the JPEG training pipeline: one `Estimator.train(steps="
        f"{settings.steps})` call per repeat ({settings.steps * settings.batch_size} images, with the checkpoint it "
        f"saves at the end), on one Estimator per dtype warmed up by {settings.warmup_steps} steps.",
        training, next(iter(training)))
    inference_lines, inference_medians = table(
        "ResNet50 inference",
        f"ResNet50 as above, `model.predict` of {len(images)} evaluation crops held in memory, batch "
        f"{settings.batch_size}, after a warm-up call.",
        inference, next(iter(inference)))
    return (pipeline_lines + training_lines + inference_lines,
            {**pipeline_medians, **training_medians, **inference_medians})


def report_title(sections):
    subjects = (["the convnet"] if set(sections) - {"imagenet"} else []) + (
        ["ImageNet-style work (ResNet50)"] if "imagenet" in sections else [])
    return "# Throughput of " + " and of ".join(subjects)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Other processes slow every method of a section alike (they take turns), but the report says so.
    load_at_start = os.getloadavg()[0]
    imagenet_settings = dict(
        num_classes=FLAGS.imagenet_classes, examples_per_class=FLAGS.imagenet_examples_per_class,
        batch_size=FLAGS.imagenet_batch_size, steps=FLAGS.imagenet_steps, warmup_steps=FLAGS.imagenet_warmup_steps,
        dtypes=tuple(FLAGS.training_dtypes))
    builders = {"training": training_section, "inference": inference_section, "pipeline": pipeline_section,
                "imagenet": lambda _: imagenet_section(FLAGS.imagenet_dir, FLAGS.repeats, **imagenet_settings)}
    command = ("python benchmark/throughput.py "
               f"--sections={','.join(FLAGS.sections)} --training_dtypes={','.join(FLAGS.training_dtypes)} "
               f"--{'' if FLAGS.training_xla else 'no'}training_xla "
               f"--batch_size={FLAGS.batch_size} --steps={FLAGS.steps} --pipeline_epochs={FLAGS.pipeline_epochs} "
               f"--repeats={FLAGS.repeats}")
    if "imagenet" in FLAGS.sections:
        command += (f"{f' --imagenet_dir={FLAGS.imagenet_dir}' if FLAGS.imagenet_dir else ''} "
                    f"--imagenet_classes={FLAGS.imagenet_classes} "
                    f"--imagenet_examples_per_class={FLAGS.imagenet_examples_per_class} "
                    f"--imagenet_batch_size={FLAGS.imagenet_batch_size} --imagenet_steps={FLAGS.imagenet_steps} "
                    f"--imagenet_warmup_steps={FLAGS.imagenet_warmup_steps}")
    lines = [report_title(FLAGS.sections), "", f"Command: `{command}`  ",
             f"Machine: {describe_machine()}; 1-minute load average at the start: {load_at_start:.1f}  ",
             f"{FLAGS.repeats} repeats of each method, taking turns within its section; medians.", ""]
    all_medians = {}
    for section in FLAGS.sections:
        section_lines, medians = builders[section](FLAGS.data_dir)
        lines += section_lines
        all_medians[section] = {name: round(value, 1) for name, value in medians.items()}
    if {"training", "pipeline"} <= set(all_medians):
        lines += readers_against_training(all_medians)
    report = "\n".join(lines)
    print(report)
    # The ImageNet report has a file of its own, so that measuring it leaves the convnet's report in place.
    output = FLAGS.output or ("benchmark/results/throughput_imagenet.md" if FLAGS.sections == ["imagenet"]
                              else "benchmark/results/throughput.md")
    os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    with atomic_write(output) as stream:
        stream.write(report.encode("utf-8"))
    print(json.dumps(all_medians))


if __name__ == "__main__":
    define_flags()
    app.run(main)
