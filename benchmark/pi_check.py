"""The TensorFlow-free predictor on an emulated Raspberry Pi OS (64-bit), against the host's.

``python benchmark/pi_check.py --export_dir=runs/convnet_export`` (as root, with qemu-user's binfmt
entry for arm64; what ``make pi-check`` runs): builds or reuses a Debian bookworm arm64 root
(pi_root.py), downloads the aarch64 wheels of the ``pi`` extra and builds the project's wheel here,
installs them offline into a venv inside the root, copies the export folder in, runs
``fmnist-edge-predict`` there on the first test images (a .gz IDX file) and on folders of photos
made from others, checks TensorFlow is absent there, compares every prediction with the same
predictor's on this host and writes benchmark/results/pi_arm64.md. Exits 1 on a difference that is
not a near tie or on TensorFlow present, 2 where arm64 programs cannot run.
"""

import json
import os
import platform
import shutil
import sys
import time

from absl import app, flags

from fmnist_tf.atomic import atomic_write
from machine import describe_cpu
from pi_agreement import accuracy, compare
from pi_inputs import write_inputs
from pi_report import format_report
from pi_root import check_run_in_root, emulation_problem, ensure_root
from pi_wheels import (REPO, armv7l_wheels, build_project_wheel, download_wheels, pi_requirements,
                       run_checked)

# Inside the root: a Pi user's folder after copying the export folder and the wheel across (and,
# since there is no network there, the dependencies' wheels in WHEELS).
WORK_IN_ROOT = "/root/pi-check"
VENV = "venv"
WHEELS = "wheels"
# Python modules that must not be importable in the device's venv: the predictor runs without them.
TRAINING_STACK = ("tensorflow", "keras", "tf_keras", "tensorboard")
INTERPRETERS = ("ai_edge_litert", "tflite_runtime")

FLAGS = flags.FLAGS
flags.DEFINE_string("export_dir", None, "Export folder of `python -m fmnist_tf.export`.")
flags.DEFINE_list("models", ["model_int8.tflite", "model_float32.tflite"],
                  "TFLite files of the export to run.")
flags.DEFINE_string("root_dir", "build/pi/bookworm-arm64",
                    "Where the arm64 root is kept (built when missing).")
flags.DEFINE_string("data_dir", "data/fashion", "Folder of the Fashion-MNIST IDX .gz files.")
flags.DEFINE_integer("num_images", 300, "First test images classified, as one IDX file.",
                     lower_bound=1)
flags.DEFINE_integer("num_photos", 6, "Photos made from the test images after those.",
                     lower_bound=0)
flags.DEFINE_integer("num_threads", 1, "Interpreter threads, on both sides.", lower_bound=1)
flags.DEFINE_integer("benchmark_runs", 200, "Timed runs of `fmnist-edge-predict --benchmark`.",
                     lower_bound=1)
flags.DEFINE_float("tie_margin", 0.01, "Top-two probability gap under which a differing top-1 is "
                   "a near tie.", lower_bound=0, upper_bound=1)
flags.DEFINE_bool("armv7l_wheels", True, "Also list the 32-bit ARM wheels PyPI has.")
flags.DEFINE_string("report", "benchmark/results/pi_arm64.md", "Markdown report (atomic write).")
flags.mark_flag_as_required("export_dir")


def install_commands(project_wheel):
    """The commands, run in WORK_IN_ROOT, that make the device's venv: the README's, offline."""
    return [["python3", "-m", "venv", VENV],
            [f"{VENV}/bin/pip", "install", "--no-index", f"--find-links={WHEELS}",
             f"./{project_wheel}[pi]"]]


def in_venv(root_dir, program, *args):
    """The stdout of the device venv's ``program`` run in WORK_IN_ROOT."""
    return check_run_in_root(root_dir, [f"{VENV}/bin/{program}", *args], WORK_IN_ROOT)


def installed_packages(root_dir):
    """{name: version} of the device's venv, from its pip."""
    listing = in_venv(root_dir, "pip", "list", "--format=json")
    return {package["name"]: package["version"] for package in json.loads(listing)}


def importable_modules(root_dir):
    """{module: whether the device's venv can find it}, for the training stack and interpreters."""
    probe = ("import importlib.util, json, sys; print(json.dumps("
             "{name: importlib.util.find_spec(name) is not None for name in sys.argv[1:]}))")
    return json.loads(in_venv(root_dir, "python", "-c", probe, *TRAINING_STACK, *INTERPRETERS))


def num_classes(export_dir):
    with open(os.path.join(export_dir, "manifest.json"), encoding="utf-8") as handle:
        return len(json.load(handle)["class_names"])


def run_on_host(arguments, work_dir):
    """``python -m fmnist_tf.edge.predict ARGUMENTS`` here, in ``work_dir`` (so that input names
    match the device's)."""
    path = os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])
    return run_checked([sys.executable, "-m", "fmnist_tf.edge.predict", *arguments], cwd=work_dir,
                       env={**os.environ, "PYTHONPATH": path})


def run_on_device(arguments, root_dir, commands):
    """``fmnist-edge-predict ARGUMENTS`` in the device's venv; the command, as typed, is appended
    to ``commands``."""
    commands.append(" ".join([f"{VENV}/bin/fmnist-edge-predict", *arguments]))
    return in_venv(root_dir, "fmnist-edge-predict", *arguments)


def json_rows(output):
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def timed(function, *args):
    started = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - started


def classify_both(model, inputs_by_background, num_threads, root_dir, work_dir, commands):
    """(host rows, device rows, device seconds) of every input, with every class's probability: one
    predictor call per background on each side."""
    top_k = num_classes(os.path.join(work_dir, os.path.dirname(model)))
    host, device, device_seconds = [], [], 0.0
    for background, inputs in inputs_by_background.items():
        arguments = [model, *inputs, f"--background={background}", f"--num_threads={num_threads}",
                     f"--top_k={top_k}", "--json"]
        host += json_rows(run_on_host(arguments, work_dir))
        output, seconds = timed(run_on_device, arguments, root_dir, commands)
        device += json_rows(output)
        device_seconds += seconds
    return host, device, device_seconds


def latency_both(model, num_threads, runs, root_dir, work_dir, commands):
    """``fmnist-edge-predict --benchmark`` statistics (milliseconds per image) on both sides."""
    arguments = [model, "--benchmark", f"--runs={runs}", f"--num_threads={num_threads}", "--json"]
    return {"host": json_rows(run_on_host(arguments, work_dir))[0],
            "device": json_rows(run_on_device(arguments, root_dir, commands))[0]}


def check_model(model, inputs, labels, root_dir, work_dir, flags_obj):
    """Agreement, accuracy and latency of one model of the export, host against device."""
    commands, threads = [], flags_obj.num_threads
    host, device, device_seconds = classify_both(model, inputs, threads, root_dir, work_dir,
                                                 commands)
    latency = latency_both(model, threads, flags_obj.benchmark_runs, root_dir, work_dir, commands)
    return {"model": model, **compare(host, device, flags_obj.tie_margin),
            "device_call_seconds": device_seconds, "host_accuracy": accuracy(host, labels),
            "device_accuracy": accuracy(device, labels), "latency": latency,
            "device_commands": commands}


def prepare_work_dir(root_dir, export_dir):
    """A fresh WORK_IN_ROOT holding what a Pi user copies across (the export folder and the
    project's wheel) and the dependencies' wheels; (its path here, export folder, project wheel)."""
    work_dir = os.path.join(root_dir, WORK_IN_ROOT.lstrip("/"))
    shutil.rmtree(work_dir, ignore_errors=True)
    wheel_dir = os.path.join(work_dir, WHEELS)
    os.makedirs(wheel_dir)
    export_name = os.path.basename(os.path.normpath(export_dir))
    shutil.copytree(export_dir, os.path.join(work_dir, export_name))
    download_wheels(wheel_dir, pi_requirements(os.path.join(REPO, "setup.cfg")))
    return work_dir, export_name, build_project_wheel(work_dir)


def install_in_root(root_dir, project_wheel):
    """Runs the install commands inside the root; the commands, as typed there."""
    commands = install_commands(project_wheel)
    for command in commands:
        check_run_in_root(root_dir, command, WORK_IN_ROOT)
    return [" ".join(command) for command in commands]


def emulator_version():
    """The first line of ``qemu-aarch64-static --version``, or binfmt's entry without it."""
    try:
        return run_checked(["qemu-aarch64-static", "--version"]).splitlines()[0]
    except (OSError, RuntimeError):
        return "qemu-user (binfmt_misc's qemu-aarch64 entry)"


def device_python(root_dir):
    probe = "import platform; print(platform.python_version(), platform.machine())"
    return check_run_in_root(root_dir, ["python3", "-c", probe]).strip()


def describe_install(root_dir, work_dir, project_wheel):
    """What the device's venv holds and what it can import, with the device's Python."""
    return {"project_wheel": project_wheel,
            "wheels": sorted([project_wheel, *os.listdir(os.path.join(work_dir, WHEELS))]),
            "packages": installed_packages(root_dir), "importable": importable_modules(root_dir),
            "device_python": device_python(root_dir), "emulator": emulator_version(),
            "host": f"{describe_cpu()}, {platform.machine()}, Python {platform.python_version()}"}


def passed(stats):
    """No training stack importable on the device, and every top-1 difference a near tie."""
    return (not any(stats["importable"][name] for name in TRAINING_STACK)
            and all(difference["explained"] for model in stats["models"]
                    for difference in model["differences"]))


def run(flags_obj, command):
    """The whole check; returns its figures (also written to ``flags_obj.report``)."""
    started, root_dir = time.monotonic(), flags_obj.root_dir
    root = ensure_root(root_dir, os.fspath(root_dir) + ".log")
    (work_dir, export_name, project_wheel), wheel_seconds = timed(prepare_work_dir, root_dir,
                                                                  flags_obj.export_dir)
    inputs, labels = write_inputs(work_dir, flags_obj.data_dir, flags_obj.num_images,
                                  flags_obj.num_photos)
    installs, install_seconds = timed(install_in_root, root_dir, project_wheel)
    stats = {"command": command, "date": time.strftime("%Y-%m-%d", time.gmtime()), "root": root,
             "wheel_seconds": wheel_seconds, "install_seconds": install_seconds,
             "install_commands": installs, **describe_install(root_dir, work_dir, project_wheel),
             "export": export_name, "num_images": flags_obj.num_images,
             "num_photos": flags_obj.num_photos, "num_threads": flags_obj.num_threads,
             "tie_margin": flags_obj.tie_margin}
    stats["models"] = [check_model(f"{export_name}/{model}", inputs, labels, root_dir, work_dir,
                                   flags_obj) for model in flags_obj.models]
    stats["armv7l_wheels"] = armv7l_wheels() if flags_obj.armv7l_wheels else None
    stats["passed"] = passed(stats)
    stats["check_seconds"] = time.monotonic() - started
    os.makedirs(os.path.dirname(os.path.abspath(flags_obj.report)), exist_ok=True)
    with atomic_write(flags_obj.report) as stream:
        stream.write(format_report(stats).encode("utf-8"))
    return stats


def main(argv):
    del argv
    problem = emulation_problem()
    if problem:
        print(f"error: cannot run arm64 programs in a chroot here: {problem}", file=sys.stderr)
        return 2
    stats = run(FLAGS, " ".join(["python", "benchmark/pi_check.py", *sys.argv[1:]]))
    for model in stats["models"]:
        print(f"{model['model']}: {model['same_top1']}/{model['inputs']} same top-1, "
              f"{model['identical']} identical probabilities; "
              f"{len(model['differences'])} differences")
    print(f"{'passed' if stats['passed'] else 'FAILED'}; report: {FLAGS.report}")
    return 0 if stats["passed"] else 1


if __name__ == "__main__":
    app.run(main)
