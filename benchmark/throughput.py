"""Training throughput of the Estimator loop against plain ``keras.Model.fit``, measured in one run.

``python benchmark/throughput.py``: the same convnet, batch, optimizer and in-memory data for both;
each repeat times one call that trains a fixed number of steps, after a warm-up call; medians and their ratio go to
``benchmark/results/throughput.md`` with the machine's description.
"""

import json
import os
import platform
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from fmnist_tf import data, estimator, models
from fmnist_tf.model_fn import make_model_fn

flags.DEFINE_string("data_dir", "data/fashion", "Folder with the Fashion-MNIST .gz files.")
flags.DEFINE_integer("batch_size", 400, "Global batch size.")
flags.DEFINE_integer("steps", 100, "Timed training steps per repeat.")
flags.DEFINE_integer("warmup_steps", 10, "Untimed steps first (tracing, compilation).")
flags.DEFINE_integer("repeats", 9, "Repeats of each method, alternating.")
flags.DEFINE_string("output", "benchmark/results/throughput.md", "Markdown report.")
FLAGS = flags.FLAGS


def make_training_dataset(data_dir, batch_size):
    """The training images in memory, repeated; unshuffled, so both loops start at once."""
    images, labels = data.load_numpy(data_dir, "train")
    dataset = tf.data.Dataset.from_tensor_slices((images[..., np.newaxis], labels.astype(np.int32)))
    return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def time_estimator(dataset, steps, warmup_steps, batch_size):
    """Images/second of one ``Estimator.train(steps=steps)`` call after a warm-up call; each call ends with
    the checkpoint the Estimator always saves, as ``fit`` pays for its own set-up in its timing."""
    with tempfile.TemporaryDirectory() as model_dir:
        config = estimator.RunConfig(model_dir=model_dir, save_checkpoints_steps=10**9,
                                     save_summary_steps=10**9, log_step_count_steps=10**9,
                                     steps_per_loop=100)
        runner = estimator.Estimator(make_model_fn("convnet", "adam", 0.001, seed=0), config=config)
        runner.train(lambda: dataset, steps=warmup_steps)
        started = time.perf_counter()
        runner.train(lambda: dataset, steps=steps)
        elapsed = time.perf_counter() - started
    return steps * batch_size / elapsed


def time_model_fit(dataset, steps, warmup_steps, batch_size):
    """Images/second of one ``model.fit`` call of ``steps`` steps with Keras's defaults, after a warm-up call."""
    keras.utils.set_random_seed(0)
    model = models.build("convnet")
    model.compile(optimizer=keras.optimizers.Adam(0.001),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset, epochs=1, steps_per_epoch=warmup_steps, verbose=0)
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * batch_size / (time.perf_counter() - started)


def describe_machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}")


def main(argv):
    del argv
    # Other processes on the machine slow both methods alike (they alternate), but the report says so.
    load_at_start = os.getloadavg()[0]
    dataset = make_training_dataset(FLAGS.data_dir, FLAGS.batch_size)
    methods = {"Estimator loop (fmnist_tf)": time_estimator, "keras Model.fit": time_model_fit}
    samples = {name: [] for name in methods}
    for repeat in range(FLAGS.repeats):
        for name, timer in methods.items():
            rate = timer(dataset, FLAGS.steps, FLAGS.warmup_steps, FLAGS.batch_size)
            samples[name].append(rate)
            print(f"repeat {repeat + 1}: {name}: {rate:.0f} images/s", flush=True)
    medians = {name: statistics.median(rates) for name, rates in samples.items()}
    baseline = medians["keras Model.fit"]
    command = ("python benchmark/throughput.py "
               f"--batch_size={FLAGS.batch_size} --steps={FLAGS.steps} --repeats={FLAGS.repeats}")
    lines = [
        "# Training throughput: Estimator loop vs keras Model.fit",
        "",
        f"Command: `{command}`  ",
        f"Machine: {describe_machine()}; 1-minute load average at the start: {load_at_start:.1f}  ",
        f"Model: convnet (3,274,634 parameters), Adam, batch {FLAGS.batch_size}, in-memory data; "
        f"{FLAGS.steps} timed steps after {FLAGS.warmup_steps} warm-up steps, {FLAGS.repeats} repeats.",
        "",
        "Each figure is one whole call, as a user waits for it: `Estimator.train(steps=...)` (with the "
        "checkpoint it saves at the end) against `model.fit(epochs=1, steps_per_epoch=...)`, each on a "
        "fresh model after its warm-up call; the methods alternate so that other load touches both.",
        "",
        "| training loop | median images/s | ratio to Model.fit | all repeats |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, rates in samples.items():
        lines.append(f"| {name} | {medians[name]:.0f} | {medians[name] / baseline:.2f} | "
                     f"{', '.join(f'{rate:.0f}' for rate in rates)} |")
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
    temporary = FLAGS.output + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(report)
    os.replace(temporary, FLAGS.output)
    print(json.dumps({name: round(value, 1) for name, value in medians.items()}))


if __name__ == "__main__":
    app.run(main)
