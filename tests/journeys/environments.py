"""Fresh environments holding the package as a user installs it: the wheel, and one extra's dependencies.

``build_wheel(folder)`` builds the project's wheel; ``closure_environment(root, wheel, "train")`` is a venv with
exactly the distributions ``fmnist_tf[train]`` requires, linked from this interpreter's environment (no
download); ``pip_environment(root, wheel, "pi")`` is a venv made by ``pip install WHEEL[pi]``, as on a device.
"""

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cli import REPO, run_ok

PROJECT = "fmnist_tf"
INSTALL_TIMEOUT = 900


def build_wheel(folder):
    """The project's wheel, built from the working tree (pure Python: one file for every platform)."""
    run_ok([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
            f"--wheel-dir={folder}", str(REPO)], timeout=INSTALL_TIMEOUT)
    (wheel,) = Path(folder).glob(f"{PROJECT}-*.whl")
    return wheel


def _wheel_requirements(wheel):
    """The Requires-Dist lines of the wheel's metadata: what setup.cfg declares, as pip reads it."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    return [line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]


def _applies(requirement, extras):
    return requirement.marker is None or any(requirement.marker.evaluate({"extra": extra})
                                             for extra in ("", *extras))


def requirement_closure(wheel, extra):
    """The installed distributions that ``fmnist_tf[extra]`` needs, by canonical name, extras followed."""
    needed, pending = set(), []
    project_extras, project_pending = set(), [extra]
    while project_pending:  # the project's extras may name its other extras ("dev" names "train")
        current = project_pending.pop()
        project_extras.add(current)
        for text in _wheel_requirements(wheel):
            requirement = Requirement(text)
            if not _applies(requirement, (current,)):
                continue
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT):
                project_pending += [name for name in requirement.extras if name not in project_extras]
            else:
                pending.append(requirement)
    while pending:
        requirement = pending.pop()
        key = canonicalize_name(requirement.name)
        if key in needed:
            continue
        needed.add(key)
        for text in importlib.metadata.distribution(requirement.name).requires or ():
            dependency = Requirement(text)
            if _applies(dependency, tuple(requirement.extras)):
                pending.append(dependency)
    return needed


def _site_packages(root):
    return Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))


def _new_venv(root):
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    return root / "bin" / "python"


def install_wheel(python, wheel):
    """Installs the wheel into the environment of ``python`` (console scripts included), nothing else."""
    run_ok([sys.executable, "-m", "pip", f"--python={python}", "install", "--no-deps", "--no-index", "--quiet",
            str(wheel)], timeout=INSTALL_TIMEOUT)


def closure_environment(root, wheel, extra):
    """A venv whose site-packages links the files of exactly the distributions ``fmnist_tf[extra]`` needs."""
    python = _new_venv(root)
    source_site, target_site = Path(sysconfig.get_path("purelib")), _site_packages(root)
    for name in sorted(requirement_closure(wheel, extra)):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or ():
            source = Path(distribution.locate_file(file)).resolve()
            try:
                relative = source.relative_to(source_site)
            except ValueError:
                continue  # a console script or a data file outside site-packages
            target = target_site / relative
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(source, target)
    install_wheel(python, wheel)
    return root


def pip_environment(root, wheel, extra):
    """A venv made as a device makes it: ``pip install WHEEL[extra]`` (from the package index)."""
    venv.EnvBuilder(with_pip=True, symlinks=True).create(root)
    run_ok([root / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheel}[{extra}]"],
           timeout=INSTALL_TIMEOUT)
    return root


def environment_variables(root):
    """The variables of a shell in which ``root`` is activated, and nothing of this test's own set-up."""
    variables = {name: value for name, value in os.environ.items()
                 if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    variables["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    variables["VIRTUAL_ENV"] = str(root)
    return variables


def in_env(root, script, *args, cwd):
    """Runs one of the environment's console scripts from ``cwd``, that environment activated."""
    return run_ok([root / "bin" / script, *args], cwd=cwd, env=environment_variables(root))


def can_import(root, module):
    """Whether ``module`` imports in the environment at ``root``."""
    result = subprocess.run([root / "bin" / "python", "-c", f"import {module}"], capture_output=True,
                            env=environment_variables(root), cwd=root)
    return result.returncode == 0
