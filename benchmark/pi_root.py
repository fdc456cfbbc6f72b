"""An emulated Raspberry Pi OS userland: a Debian root built by mmdebstrap, run by qemu-user.

``record = ensure_root("build/pi/bookworm-arm64", log_path)`` builds the root when it is missing
(into a temporary name, renamed when complete) and says how long its build took;
``check_run_in_root(root, ["python3", "-V"])`` runs a command inside it, with no network and none
of the host's environment. ``emulation_problem()`` says why this machine cannot, or None.
"""

import json
import os
import shutil
import subprocess
import time

# Raspberry Pi OS (64-bit) is Debian bookworm for arm64 with Python 3.11; --variant=apt is Debian's
# essential packages and apt, python3-venv gives the venv a Pi OS user makes.
SUITE = "bookworm"
ARCH = "arm64"
PACKAGES = ("python3", "python3-venv")
# binfmt_misc's entry for arm64 ELF binaries (Debian's qemu-user-static registers it).
BINFMT_ENTRY = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
# Inside the root, written before the rename: only a complete root has it.
BUILD_RECORD = ".fmnist_root_build.json"
PARTIAL_SUFFIX = ".partial"
# The commands inside see a login's PATH and nothing of the host's environment (PYTHONPATH, PIP_*).
ROOT_ENVIRONMENT = ("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root",
                    "LANG=C.UTF-8")


def emulation_problem():
    """Why arm64 programs cannot run in a chroot here, or None: chroot needs root, qemu binfmt."""
    if os.geteuid() != 0:
        return "chroot and mmdebstrap need root"
    for program in ("chroot", "unshare"):
        if shutil.which(program) is None:
            return f"no {program} on PATH"
    try:
        with open(BINFMT_ENTRY, encoding="utf-8") as handle:
            enabled = handle.readline().strip() == "enabled"
    except OSError:
        return (f"{BINFMT_ENTRY} does not exist: install qemu-user-static and binfmt-support, "
                "mount binfmt_misc and run `update-binfmts --enable qemu-aarch64` (make pi-tools)")
    if not enabled:
        return f"{BINFMT_ENTRY} is disabled: run `update-binfmts --enable qemu-aarch64`"
    return None


def build_problem(root_dir):
    """Why the root at ``root_dir`` is neither there nor buildable, or None."""
    if read_build_record(root_dir) is None and shutil.which("mmdebstrap") is None:
        return f"no root at {root_dir} and no mmdebstrap to build one (apt-get install mmdebstrap)"
    return None


def read_build_record(root_dir):
    """What ``build_root`` recorded in a complete root (command, seconds, date, size), or None."""
    try:
        with open(os.path.join(root_dir, BUILD_RECORD), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def mmdebstrap_command(target):
    return ["mmdebstrap", f"--arch={ARCH}", "--variant=apt", f"--include={','.join(PACKAGES)}",
            SUITE, os.fspath(target)]


def folder_megabytes(folder):
    output = subprocess.run(["du", "-sm", folder], capture_output=True, text=True, check=True)
    return int(output.stdout.split()[0])


def build_root(root_dir, log_path):
    """Runs mmdebstrap into ``root_dir.partial`` (removing a stale one an interrupted build left),
    records the build in it and renames it to ``root_dir``; mmdebstrap's log goes to
    ``log_path``."""
    partial = os.fspath(root_dir) + PARTIAL_SUFFIX
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(partial)), exist_ok=True)
    command = mmdebstrap_command(partial)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed (exit {result.returncode}); its log: "
                           f"{log_path}")
    record = {"command": " ".join(mmdebstrap_command(root_dir)), "seconds": round(seconds, 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "size_mb": folder_megabytes(partial)}
    with open(os.path.join(partial, BUILD_RECORD), "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.rename(partial, root_dir)
    return record


def ensure_root(root_dir, log_path):
    """The build record of the root at ``root_dir``, built first when missing (``built_now``)."""
    record = read_build_record(root_dir)
    if record is not None:
        return {**record, "built_now": False}
    if os.path.exists(root_dir):
        raise RuntimeError(f"{root_dir} exists but holds no {BUILD_RECORD}, so it may be "
                           "incomplete: remove it and run again to build the root")
    return {**build_root(root_dir, log_path), "built_now": True}


def run_in_root(root_dir, argv, cwd="/root", timeout=1800):
    """``argv`` run inside the root at ``cwd``, in new mount, PID and network namespaces (so: no
    network, and a /proc for the root alone that goes when the command ends), with an environment
    of ROOT_ENVIRONMENT only."""
    command = ["unshare", "--mount", "--net", "--pid", "--fork",
               f"--mount-proc={os.path.join(root_dir, 'proc')}", "chroot", os.fspath(root_dir),
               "/usr/bin/env", "-i", *ROOT_ENVIRONMENT, "/bin/sh", "-c", 'cd "$0" && exec "$@"',
               cwd, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def check_run_in_root(root_dir, argv, cwd="/root", timeout=1800):
    """``run_in_root``'s stdout; RuntimeError with the command and its stderr if it fails."""
    result = run_in_root(root_dir, argv, cwd, timeout)
    if result.returncode != 0:
        raise RuntimeError(f"in {root_dir}, `{' '.join(argv)}` (in {cwd}) failed with exit "
                           f"{result.returncode}:\n{result.stderr[-4000:]}")
    return result.stdout
