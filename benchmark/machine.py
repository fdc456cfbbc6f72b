"""The machine a benchmark ran on, in one line for its report: ``describe_machine()``."""

import os
import platform

import keras
import tensorflow as tf


def describe_machine():
    """The CPU, with the bfloat16 instructions it has, and the software versions."""
    cpu, features = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            first_cpu = handle.read().split("\n\n")[0]
        fields = {key.strip(): value.strip() for key, value in
                  (line.split(":", 1) for line in first_cpu.splitlines() if ":" in line)}
        cpu, features = fields["model name"], set(fields.get("flags", "").split())
    except (OSError, KeyError):
        pass
    bfloat16 = [name for name in ("avx512_bf16", "amx_bf16") if name in features]
    return (f"{cpu} ({', '.join(bfloat16) or 'no bfloat16 instructions'}), {os.cpu_count()} logical CPUs, "
            f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
