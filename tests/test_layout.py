"""The package's floor plan, read from its source with ``ast``: what may import what, and where flags end.

Data flows one way (files -> data -> models -> estimator -> training -> export -> edge, thin front ends); these
tests fail on an import cycle, a lower layer importing a higher one, a second place that turns training flags
into objects, and a module past the size where it should be split.
"""

import ast
import pathlib

from absl import flags

from fmnist_tf import flags as fmnist_flags

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = REPO / "fmnist_tf"
MAX_MODULE_LINES = 400
# The one module that turns training flags, or a model_dir's flags.txt, into library objects.
RECIPE = "fmnist_tf.training.recipe"
# What the data layer may import: itself and the ground floor.
DATA_MAY_IMPORT = ("fmnist_tf.data", "fmnist_tf.atomic")
# Names under which a parsed set of flags reaches a module.
FLAG_HOLDERS = ("FLAGS", "flags_obj", "flag_values")


def _module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_modules(name):
    """The package modules ``name`` imports anywhere in its body, lazy imports included, with their packages."""
    imported = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):  # the package imports absolutely: node.module is whole
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = set()
    for module in imported:
        if module not in MODULES:
            continue
        # Importing a module runs each package above it first, except the importer's own packages.
        parts = module.split(".")
        for depth in range(2, len(parts) + 1):
            ancestor = ".".join(parts[:depth])
            if ancestor in MODULES and not (name + ".").startswith(ancestor + "."):
                found.add(ancestor)
    found.discard(name)
    return found


IMPORTS = {name: _imported_modules(name) for name in MODULES}


def _cycles():
    """Each strongly connected group of more than one module in the import graph (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(IMPORTS[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(MODULES):
        if node not in index:
            visit(node)
    return groups


def test_the_package_has_no_import_cycle():
    assert _cycles() == []


def test_the_cycle_finder_sees_a_cycle_through_a_package_init():
    """atomic -> data.errors runs data/__init__, which imports data.csv, which imports atomic: a cycle."""
    original = IMPORTS["fmnist_tf.atomic"]
    try:
        IMPORTS["fmnist_tf.atomic"] = original | {"fmnist_tf.data"}
        assert any("fmnist_tf.atomic" in group and "fmnist_tf.data.csv" in group for group in _cycles())
    finally:
        IMPORTS["fmnist_tf.atomic"] = original


def test_the_data_layer_imports_nothing_above_it():
    above = {name: sorted(target for target in targets if not target.startswith(DATA_MAY_IMPORT))
             for name, targets in IMPORTS.items() if name.startswith("fmnist_tf.data")}
    assert {name: targets for name, targets in above.items() if targets} == {}


def test_the_edge_imports_nothing_of_the_rest():
    """The Pi predictor runs without TensorFlow: fmnist_tf.edge stands alone."""
    outside = {name: sorted(target for target in targets if not target.startswith("fmnist_tf.edge"))
               for name, targets in IMPORTS.items() if name.startswith("fmnist_tf.edge")}
    assert {name: targets for name, targets in outside.items() if targets} == {}


def test_flags_imports_only_registries_of_names():
    """flags.py defines flags; what their enums list comes from UPPER_CASE registries, never from behaviour."""
    tree = ast.parse(MODULES["fmnist_tf.flags"].read_text(encoding="utf-8"))
    library_imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            library_imports += [alias.name for alias in node.names if alias.name.startswith("fmnist_tf")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fmnist_tf"):
            library_imports += [f"{node.module}.{alias.name}" for alias in node.names
                                if not alias.name.isupper()]
    assert library_imports == []


def _train_only_flags():
    """Flags of the train CLI that no other front end defines: their values mean a run's recipe."""
    groups = {}
    for group in ("train", "evaluate", "export", "fetch"):
        flag_values = flags.FlagValues()
        getattr(fmnist_flags, f"define_{group}_flags")(flag_values=flag_values)
        groups[group] = set(flag_values)
    return groups["train"] - groups["evaluate"] - groups["export"] - groups["fetch"]


def _flag_reads(path):
    """``(line, flag name)`` of each ``FLAGS.x``, ``flags_obj.x`` or ``flag_values.x`` read in ``path``, but of
    the flags ``path`` defines itself (a benchmark's own ``--warmup_steps``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = {node.args[0].value for node in ast.walk(tree)
           if isinstance(node, ast.Call) and getattr(node.func, "attr", "").startswith("DEFINE_")
           and node.args and isinstance(node.args[0], ast.Constant)}
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr not in own:
            holder = node.value
            holder_name = holder.id if isinstance(holder, ast.Name) else getattr(holder, "attr", None)
            if holder_name in FLAG_HOLDERS:
                reads.append((node.lineno, node.attr))
    return reads


def test_only_the_recipe_turns_training_flags_into_objects():
    train_only = _train_only_flags()
    assert {"model", "optimizer", "learning_rate", "train_steps"} <= train_only
    sources = [*PACKAGE.rglob("*.py"), *(REPO / "benchmark").rglob("*.py")]
    readers = {f"{path.relative_to(REPO)}:{line}": name for path in sources
               if _module_name(path) != RECIPE
               for line, name in _flag_reads(path) if name in train_only}
    assert readers == {}


def test_the_flag_read_finder_sees_a_training_flag_read(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f(flags_obj):\n    return flags_obj.learning_rate * FLAGS.train_steps\n")
    assert sorted(name for _, name in _flag_reads(probe)) == ["learning_rate", "train_steps"]


def test_flags_txt_is_named_in_one_place():
    """The model_dir's record of its run: one constant, FLAGS_FILE, read through the recipe."""
    stating = sorted(str(path.relative_to(REPO)) for path in PACKAGE.rglob("*.py")
                     for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if isinstance(node, ast.Constant) and node.value == "flags.txt")
    assert stating == ["fmnist_tf/estimator/model_dir.py"]


def test_modules_stay_small():
    long_modules = {str(path.relative_to(REPO)): count for path in PACKAGE.rglob("*.py")
                    if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long_modules == {}
