"""The device's wheels, fetched on the host.

``download_wheels(folder, pi_requirements("setup.cfg"))``: the aarch64 wheels of the ``pi`` extra;
``build_project_wheel(folder)``: fmnist_tf's own; ``armv7l_wheels()``: which interpreters, numpy
and Pillow wheels PyPI has for 32-bit Raspberry Pi OS's Pythons.
"""

import configparser
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Raspberry Pi OS 64-bit: bookworm's CPython 3.11 and glibc 2.36, so manylinux_2_27 wheels install.
WHEEL_PLATFORM = "manylinux_2_27_aarch64"
PYTHON_VERSION = "3.11"
# What setup.cfg's metadata and package discovery read.
WHEEL_SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "fmnist_tf")
# 32-bit Raspberry Pi OS: an armv7l userland; bullseye has CPython 3.9 (glibc 2.31), bookworm 3.11
# (glibc 2.36), and setup.cfg's python_requires is >=3.10.
ARMV7L_PLATFORMS = ("linux_armv7l", "manylinux2014_armv7l", "manylinux_2_31_armv7l",
                    "manylinux_2_36_armv7l")
ARMV7L_PYTHONS = ("3.9", "3.10", "3.11")
ARMV7L_PACKAGES = ("ai-edge-litert", "tflite-runtime", "numpy", "pillow")


def pi_requirements(setup_cfg):
    """The device's requirements: setup.cfg's ``install_requires`` and its ``pi`` extra."""
    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    lines = (config["options"]["install_requires"].splitlines()
             + config["options.extras_require"]["pi"].splitlines())
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def run_checked(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed with exit {result.returncode}:\n"
                           f"{result.stderr[-4000:]}")
    return result.stdout


def pip_download_command(folder, platforms, python_version, requirements):
    return [sys.executable, "-m", "pip", "download", "--quiet",
            *(f"--platform={name}" for name in platforms), f"--python-version={python_version}",
            "--only-binary=:all:", f"--dest={folder}", *requirements]


def download_wheels(folder, requirements):
    """The aarch64 CPython 3.11 wheels of ``requirements`` and of their dependencies."""
    run_checked(pip_download_command(folder, [WHEEL_PLATFORM], PYTHON_VERSION, requirements))


def copy_wheel_sources(destination):
    """The files the wheel is built from, without __pycache__: setuptools builds in the source
    tree, and would package what a build/lib of an earlier build still holds."""
    shutil.copytree(REPO, destination, ignore=lambda folder, names: [
        name for name in names
        if name == "__pycache__" or (folder == REPO and name not in WHEEL_SOURCES)])


def build_project_wheel(folder):
    """The project's wheel (pure Python: the host builds the device's) in ``folder``; its name."""
    before = set(os.listdir(folder))
    with tempfile.TemporaryDirectory(prefix="fmnist_wheel_") as scratch:
        source = os.path.join(scratch, "source")
        copy_wheel_sources(source)
        run_checked([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                     f"--wheel-dir={folder}", source])
    (name,) = set(os.listdir(folder)) - before
    return name


def armv7l_wheel(package, python_version):
    """The file name of the newest armv7l wheel of ``package`` for ``python_version``, or None."""
    with tempfile.TemporaryDirectory(prefix="fmnist_armv7l_") as folder:
        command = pip_download_command(folder, ARMV7L_PLATFORMS, python_version,
                                       ["--no-deps", package])
        if subprocess.run(command, capture_output=True, text=True).returncode != 0:
            return None
        (name,) = os.listdir(folder)
        return name


def armv7l_wheels():
    """{(package, python version): wheel file name or None} for 32-bit Raspberry Pi OS."""
    return {(package, python): armv7l_wheel(package, python)
            for package in ARMV7L_PACKAGES for python in ARMV7L_PYTHONS}
