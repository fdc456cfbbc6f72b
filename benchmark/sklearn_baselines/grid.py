"""The grid file: classifier name -> list of {parameter: [values]}, expanded into one job per combination.

``expand_grid(load_grid("benchmark/baselines.json"))`` -> [("SVC", {"C": 1.0, "kernel": "linear"}), ...].
"""

import ast
import itertools
import json
import os


class GridFormatError(ValueError):
    """A grid file that is not {"classifiers": {name: [{parameter: [values]}]}}."""


def _parse_value(value):
    # The original file writes tuples (hidden_layer_sizes) as strings such as "(100,10,)", since JSON has none.
    if isinstance(value, str) and value.startswith("("):
        return ast.literal_eval(value)
    return value


def _check_grid(path, grid):
    if not isinstance(grid, dict) or not isinstance(grid.get("classifiers"), dict):
        raise GridFormatError(f"{path}: top level needs a \"classifiers\" object; expected "
                              "{\"classifiers\": {name: [{parameter: [values]}]}}")
    for name, groups in grid["classifiers"].items():
        if not isinstance(groups, list) or not all(isinstance(group, dict) for group in groups):
            raise GridFormatError(f"{path}: classifiers.{name} is {type(groups).__name__}; "
                                  "expected a list of {parameter: [values]} objects")
        for group in groups:
            for parameter, values in group.items():
                if not isinstance(values, list) or not values:
                    raise GridFormatError(f"{path}: classifiers.{name}.{parameter} is {values!r}; "
                                          "expected a non-empty list of values")


def load_grid(path):
    """The grid file at ``path``, checked: {"common": {...}, "classifiers": {...}, other keys as written}."""
    with open(path, encoding="utf-8") as handle:
        try:
            grid = json.load(handle)
        except json.JSONDecodeError as error:
            raise GridFormatError(f"{path}: line {error.lineno} column {error.colno}: {error.msg}; "
                                  "expected JSON") from error
    _check_grid(path, grid)
    return grid


def expand_grid(grid):
    """Every combination of every classifier's values, in file order, each with the "common" values added.

    The groups of a classifier only arrange the file: all their parameters are crossed with one another.
    """
    jobs = []
    for name, groups in grid["classifiers"].items():
        names = [parameter for group in groups for parameter in group]
        value_lists = [[_parse_value(value) for value in group[parameter]] for group in groups for parameter in group]
        for values in itertools.product(*value_lists):
            jobs.append((name, {**dict(zip(names, values)), **grid.get("common", {})}))
    return jobs


PRESET_SETTINGS = ("features", "train_size", "repeats", "time_limit_s")


def load_preset(presets_path, name):
    """The settings of preset ``name`` and its grid: {"grid": {...}, "features": ..., "repeats": ..., ...}.

    An optional "repeats_by_classifier" gives some classifiers more repeats than "repeats" (cheap, noisy ones).

    A preset names a grid file (relative to the presets file) or holds its own "classifiers".
    """
    with open(presets_path, encoding="utf-8") as handle:
        presets = json.load(handle)
    if name not in presets:
        raise GridFormatError(f"{presets_path}: no preset {name!r}; expected one of {sorted(presets)}")
    preset = presets[name]
    missing = [setting for setting in PRESET_SETTINGS if setting not in preset]
    if missing:
        raise GridFormatError(f"{presets_path}: preset {name!r} lacks {missing}; expected all of {PRESET_SETTINGS}")
    if "grid" in preset:
        grid = load_grid(os.path.join(os.path.dirname(presets_path), preset["grid"]))
    else:
        grid = {"common": {}, "classifiers": preset.get("classifiers")}
        _check_grid(f"{presets_path} preset {name!r}", grid)
    repeats_by_classifier = preset.get("repeats_by_classifier", {})
    unknown = sorted(set(repeats_by_classifier) - set(grid["classifiers"]))
    if unknown:
        raise GridFormatError(f"{presets_path}: preset {name!r} sets repeats_by_classifier for {unknown}, "
                              f"which it does not run; expected some of {sorted(grid['classifiers'])}")
    return {**{setting: preset[setting] for setting in PRESET_SETTINGS}, "grid": grid,
            "repeats_by_classifier": repeats_by_classifier}
