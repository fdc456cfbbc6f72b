"""The machine a benchmark ran on, in one line for its report: ``describe_machine()`` (``describe_cpu()`` without
the TensorFlow versions, for the scikit-learn runner, which never loads TensorFlow)."""

import os
import platform


def describe_cpu():
    """The CPU model, the bfloat16 instructions it has, and how many cores this process may use."""
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
    return f"{cpu} ({', '.join(bfloat16) or 'no bfloat16 instructions'}), {len(os.sched_getaffinity(0))} cores"


def describe_machine():
    """``describe_cpu()`` and the software versions a TensorFlow benchmark depends on."""
    import keras  # here, not at the top: the scikit-learn runner imports this module without TensorFlow
    import tensorflow as tf

    return (f"{describe_cpu()}, Python {platform.python_version()}, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}")
