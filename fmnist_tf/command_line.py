"""Starts an absl front end: packaged recipes by name, nested flagfiles found beside their file, a
real --help.

``command_line.run(main)`` instead of ``app.run(main)``. ``--config=fast92`` names the packaged
``fmnist_tf/configs/fast92.cfg`` from any folder; a ``--flagfile=`` line inside a flagfile is looked
up beside that file first, then in the current folder (absl's own rule), so recipes work outside the
repository.
"""

import os
import sys

from absl import app, flags

from fmnist_tf import flags as fmnist_flags

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")
CONFIG_SUFFIX = ".cfg"
_FLAGFILE = "--flagfile="
_CONFIG = "--config="


class UnknownConfigError(ValueError):
    """``--config`` names no packaged recipe."""


def packaged_configs():
    """The names ``--config`` takes: the flagfiles shipped in fmnist_tf/configs."""
    return sorted(name.removesuffix(CONFIG_SUFFIX) for name in os.listdir(CONFIGS_DIR)
                  if name.endswith(CONFIG_SUFFIX))


def config_path(name):
    """The packaged flagfile of recipe ``name``."""
    if name not in packaged_configs():
        raise UnknownConfigError(f"--config={name}: no such packaged recipe; expected one of "
                                 f"{', '.join(packaged_configs())}")
    return os.path.join(CONFIGS_DIR, name + CONFIG_SUFFIX)


def _flagfile_lines(path, including_stack):
    """The argument lines of flagfile ``path``, its nested flagfiles expanded in place."""
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith(("#", "//")):
                continue
            if line.startswith(_FLAGFILE):
                lines += _expand_flagfile(line.removeprefix(_FLAGFILE), os.path.dirname(path),
                                          including_stack + [path])
            else:
                lines.append(line)
    return lines


def _expand_flagfile(path, including_dir, including_stack):
    """The lines of a nested flagfile: beside the including file, else as absl finds it (the current
    folder)."""
    beside = os.path.join(including_dir, path)
    if including_dir and not os.path.isabs(path) and os.path.isfile(beside):
        path = beside
    if not os.path.isfile(path) or os.path.abspath(path) in map(os.path.abspath, including_stack):
        return [_FLAGFILE + path]  # absl reports the missing or circular file itself, naming it
    return _flagfile_lines(path, including_stack)


def expand_argv(argv):
    """``argv`` with ``--config=NAME`` and every ``--flagfile=PATH`` replaced by the flags they
    hold."""
    expanded, arguments = [argv[0]], iter(argv[1:])
    for argument in arguments:
        if argument == _CONFIG.rstrip("="):  # --config NAME
            argument = _CONFIG + next(arguments, "")
        if argument.startswith(_CONFIG):
            expanded += _flagfile_lines(config_path(argument.removeprefix(_CONFIG)), [])
        elif argument.startswith(_FLAGFILE):
            expanded += _expand_flagfile(argument.removeprefix(_FLAGFILE), "", [])
        else:
            expanded.append(argument)
    return expanded


def _show_flags_in_help(flags_module):
    """absl's --help lists the main module's key flags: make the front end's flags key to it."""
    for flag in flags.FLAGS.get_key_flags_for_module(flags_module):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def run(main):
    """``app.run(main)`` on the expanded command line; a bad ``--config`` exits 1 with one line."""
    _show_flags_in_help(fmnist_flags)
    try:
        argv = expand_argv(sys.argv)
    except UnknownConfigError as error:
        sys.exit(f"FATAL Flags parsing error: {error}")
    app.run(main, argv=argv)
