"""What the atheris targets share: a scratch file for each input, and the fuzzing loop itself.

A target calls ``run_fuzzer(TestOneInput, [modules to instrument])`` from its ``main``; atheris is imported only
there, so the test suite replays the corpus through ``TestOneInput`` without it (``make fuzz`` installs it).
"""

import inspect
import os
import sys
import tempfile

# The parsers read files, so each input is written to one file, overwritten by the next; the folder goes
# when the interpreter exits normally.
_SCRATCH_DIR = tempfile.TemporaryDirectory(prefix="fmnist_tf_fuzz_")


def write_scratch_file(data, name):
    """Writes ``data`` to the scratch file ``name``; returns its path."""
    path = os.path.join(_SCRATCH_DIR.name, name)
    with open(path, "wb") as stream:
        stream.write(data)
    return path


def _functions_of(module):
    """The Python functions a module defines, its classes' methods and property getters included."""
    for value in vars(module).values():
        if inspect.isclass(value) and value.__module__ == module.__name__:
            for member in vars(value).values():
                member = member.fget if isinstance(member, property) else member
                if inspect.isfunction(member):
                    yield member
        elif callable(value) and getattr(value, "__module__", None) == module.__name__:
            function = inspect.unwrap(value)  # the generator behind a @contextmanager, not its wrapper
            if inspect.isfunction(function):
                yield function


def run_fuzzer(test_one_input, modules):
    """Instruments the functions of ``modules`` for coverage, then fuzzes with libFuzzer's command-line flags.

    The modules are imported already (TensorFlow with them), so their functions are instrumented in place:
    instrumenting everything loaded would take minutes, and TensorFlow's Python is not what is fuzzed.
    """
    import atheris  # only `make fuzz` installs it (the `fuzz` extra)

    for module in modules:
        for function in _functions_of(module):
            atheris.instrument_func(function)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
