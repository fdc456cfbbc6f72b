"""Keeps a model_dir tied to the flags that made it, through ``model_dir/flags.txt``.

``prepare_model_dir(path, flag_values, resume=..., overwrite=...)`` refuses to mix two runs' flags.
"""

import os
import shutil
import tempfile

from fmnist_tf.estimator.model_dir_lock import LOCK_FILE

FLAGS_FILE = "flags.txt"


class ModelDirConflictError(ValueError):
    """The model_dir holds a run made with other flags, and neither resume nor overwrite was
    asked."""


def format_flags(flag_values):
    """Renders ``{name: value}`` as flagfile lines, so ``--flagfile=model_dir/flags.txt`` reruns."""
    lines = []
    for name, value in flag_values.items():
        if isinstance(value, bool):
            lines.append(f"--{name}" if value else f"--no{name}")
        elif value is not None:
            lines.append(f"--{name}={value}")
    return "\n".join(lines) + "\n"


def parse_flags(text):
    """Parses flagfile lines written by ``format_flags`` back into ``{name: text}``."""
    flag_values = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("--"):
            name, _, value = line[2:].partition("=")
            flag_values[name] = value
    return flag_values


def write_flags_file(model_dir, flag_values):
    """Writes flags.txt atomically: a reader never sees half of it."""
    os.makedirs(model_dir, exist_ok=True)
    descriptor, temporary_path = tempfile.mkstemp(dir=model_dir, prefix=".flags-", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(format_flags(flag_values))
    os.replace(temporary_path, os.path.join(model_dir, FLAGS_FILE))


def prepare_model_dir(model_dir, flag_values, resume=False, overwrite=False):
    """Checks ``model_dir`` against ``flag_values``, clears it if asked, and records the flags.

    ``flag_values`` describe the run: the resume/overwrite switches themselves are not among them.

    Returns "new", "continue" (same flags), "resume" or "overwrite".
    """
    flags_path = os.path.join(model_dir, FLAGS_FILE)
    if not os.path.exists(flags_path):
        if os.path.isdir(model_dir) and set(os.listdir(model_dir)) - {LOCK_FILE}:
            raise ModelDirConflictError(
                f"{model_dir} is not empty and has no {FLAGS_FILE}, so it is no model_dir of "
                "fmnist_tf and is left alone; choose another --model_dir")
        write_flags_file(model_dir, flag_values)
        return "new"
    if overwrite:
        _delete_contents_but_the_lock(model_dir)
        write_flags_file(model_dir, flag_values)
        return "overwrite"
    with open(flags_path, encoding="utf-8") as handle:
        recorded = parse_flags(handle.read())
    wanted = parse_flags(format_flags(flag_values))
    if recorded == wanted:
        return "continue"
    if resume:
        write_flags_file(model_dir, flag_values)
        return "resume"
    differences = ", ".join(
        f"--{name}: {recorded.get(name, '(unset)')} -> {wanted.get(name, '(unset)')}"
        for name in sorted(set(recorded) | set(wanted)) if recorded.get(name) != wanted.get(name))
    raise ModelDirConflictError(
        f"{model_dir} was trained with other flags ({differences}); pass --resume to continue "
        "its checkpoints with the new flags, or --overwrite to delete it and start afresh")


def _delete_contents_but_the_lock(model_dir):
    """Empties ``model_dir`` for --overwrite, keeping the lock of the trainer that asked
    (fmnist_tf.estimator.model_dir_lock)."""
    for entry in os.scandir(model_dir):
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
