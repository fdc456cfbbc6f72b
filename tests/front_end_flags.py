"""Run as a script: each front end's numeric flags, their checks, and how out-of-range values fare, as JSON.

``python tests/front_end_flags.py`` (from the repository root) imports every front end in turn into one process,
defining its flags, and tries on each numeric flag the values its checks exist to refuse: one below its lower
bound, one above its upper bound, and nan for a float (which passes absl's bounds: no comparison with it is
true). Then it deletes that front end's flags, so the next one can define flags of the same names.
"""

import importlib
import json
import math
import os
import sys

from absl import flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmark"))  # the benchmarks import their sibling modules

# Each front end's module, and the flags its own validators require, so only the tried value can fail.
FRONT_ENDS = {
    "fmnist_tf.train": ["--model_dir=unused"],
    "fmnist_tf.evaluate": ["--model_dir=unused", "--report_dir=unused"],
    "fmnist_tf.export": ["--model_dir=unused", "--export_dir=unused"],
    "fmnist_tf.fetch": [],
    "convnet": [],
    "runner": [],
    "summarize": [],
    "throughput": [],
    "time_to_accuracy": [],
}
NUMERIC_PARSERS = (flags.IntegerParser, flags.FloatParser)


def _define(module_name):
    """Imports the front end; those that define their flags only when run as scripts are asked to here."""
    module = importlib.import_module(module_name)
    if hasattr(module, "define_flags"):
        module.define_flags()


def _out_of_range_values(flag):
    parser = flag.parser
    values = []
    if parser.lower_bound is not None:
        values.append(parser.lower_bound - 1)
    if parser.upper_bound is not None:
        values.append(parser.upper_bound + 1)
    if isinstance(parser, flags.FloatParser):
        values.append(math.nan)
    return values


def _refusal(flag_values, required, name, value):
    """The message a parse with ``--name=value`` fails with, or None if the value is accepted."""
    try:
        flag_values(["front_end", *required, f"--{name}={value}"])
        return None
    except flags.IllegalFlagValueError as error:
        return str(error)
    finally:
        flag_values.unparse_flags()


def inventory(module_name, required, flag_values=flags.FLAGS):
    """{flag name: {"checks": how many, "refusals": {tried value: message or None}}} of one front end."""
    _define(module_name)
    # The project's flags, not those of absl, TensorFlow or absltest, which importing them defines.
    own = [name for name in flag_values
           if flag_values.find_module_defining_flag(name).split(".")[0] in ("fmnist_tf", module_name)]
    report = {}
    for name in own:
        flag = flag_values[name]
        if isinstance(flag.parser, NUMERIC_PARSERS):
            bounds = [bound for bound in (flag.parser.lower_bound, flag.parser.upper_bound) if bound is not None]
            report[name] = {"checks": len(bounds) + len(flag.validators),
                            "refusals": {str(value): _refusal(flag_values, required, name, value)
                                         for value in _out_of_range_values(flag)}}
    for name in own:
        if name in flag_values:  # an alias goes with its flag
            delattr(flag_values, name)
    return report


if __name__ == "__main__":
    print(json.dumps({module_name: inventory(module_name, required) for module_name, required in FRONT_ENDS.items()}))
