"""Per-image latency of TFLite models on this machine's CPU with XNNPACK, and what the machine is.

``measure_latency({"float32": model_bytes, "int8": model_bytes}, image, thread_counts=(1, 2),
runs=300)`` -> ``{name: {"1": {"median_ms", "p90_ms", ...}, "2": {...}}}``.
"""

import importlib.metadata
import os
import platform
import time

import numpy as np

from fmnist_tf.exporting import litert

# Models take turns in chunks of this many calls, so a slow spell of a shared machine hits them all
# alike.
_CHUNK_RUNS = 10


def latency_summary(seconds):
    milliseconds = np.asarray(seconds) * 1e3
    return {"median_ms": float(np.median(milliseconds)),
            "p90_ms": float(np.percentile(milliseconds, 90)),
            "p99_ms": float(np.percentile(milliseconds, 99)), "runs": int(len(milliseconds))}


def _ready_interpreter(model_bytes, num_threads, image):
    interpreter = litert.new_interpreter(model_bytes, num_threads=num_threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], litert.quantize_input(image[np.newaxis], detail))
    return interpreter


def measure_latency(models, image, thread_counts=(1, 2), runs=300, warmup_runs=20):
    """Median and tail latency of one ``invoke`` on a batch of one ``image`` (uint8 [28, 28, 1]).

    Within each thread count the models run in turns of ``_CHUNK_RUNS`` calls, after ``warmup_runs``
    each.
    """
    latencies = {name: {} for name in models}
    for num_threads in thread_counts:
        interpreters = {name: _ready_interpreter(model_bytes, num_threads, image)
                        for name, model_bytes in models.items()}
        for interpreter in interpreters.values():
            for _ in range(warmup_runs):
                interpreter.invoke()
        seconds = {name: [] for name in models}
        for _ in range(0, runs, _CHUNK_RUNS):
            for name, interpreter in interpreters.items():
                for _ in range(_CHUNK_RUNS):
                    started = time.perf_counter()
                    interpreter.invoke()
                    seconds[name].append(time.perf_counter() - started)
        for name in models:
            latencies[name][str(num_threads)] = latency_summary(seconds[name])
    return latencies


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description():
    """The CPU, cores and software the timings were taken with."""
    versions = {}
    for package in ("tensorflow", "keras", "ai-edge-litert", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": _cpu_model(), "cores": cores, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions}
