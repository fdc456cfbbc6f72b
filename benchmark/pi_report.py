"""benchmark/results/pi_arm64.md from the figures of pi_check.py: ``format_report(stats)``."""

from pi_wheels import ARMV7L_PLATFORMS, PYTHON_VERSION, WHEEL_PLATFORM

EMULATED_NOTE = (
    "**Emulated, not a Raspberry Pi's speed.** qemu-user translates every arm64 instruction into "
    "x86-64 ones on this host, so these figures show that the predictor runs there, not how fast a "
    "Pi runs it (time a Pi with `fmnist-edge-predict MODEL --benchmark` on the Pi itself).")
PASSED = "no training stack in the device's venv, and no top-1 difference that is not a near tie"
FAILED = "the training stack is importable on the device, or a top-1 difference is not a near tie"


def header(stats):
    root = stats["root"]
    reuse = "built by this run" if root["built_now"] else "reused from the cache"
    return "\n".join([
        "# The Pi predictor on an emulated Raspberry Pi OS (64-bit)",
        "",
        f"Command: `{stats['command']}` (what `make pi-check` runs; as root)  ",
        f"Date: {stats['date']}  ",
        f"Host: {stats['host']}  ",
        f"Device: Debian bookworm arm64 (Raspberry Pi OS 64-bit's base), Python "
        f"{stats['device_python']}, run under {stats['emulator']} (binfmt_misc), in a chroot with "
        "no network  ",
        f"Root: `{root['command']}`, {root['size_mb']} MB, built in {root['seconds']:.0f} s on "
        f"{root['date']}; {reuse}; the whole check took {stats['check_seconds']:.0f} s  ",
        f"Export: `{stats['export']}` (the export folder with its manifest.json, copied into the "
        "root)  ",
        f"Inputs: the first {stats['num_images']} test images as one .gz IDX file and "
        f"{stats['num_photos']} photos made from the next ones (a folder of PNGs of light items "
        "on black, given with the IDX file and `--background=dark`, and a folder of JPEGs of dark "
        f"items on white, with `--background=light`); {stats['num_threads']} interpreter "
        "thread(s)",
    ])


def install_section(stats):
    lines = ["", "## Installed in the root's venv, offline", "",
             f"On the host, `pip download --platform={WHEEL_PLATFORM} "
             f"--python-version={PYTHON_VERSION} --only-binary=:all:` of setup.cfg's base and `pi` "
             "requirements fetched the wheels into wheels/, and `pip wheel --no-deps .` built "
             f"{stats['project_wheel']} ({stats['wheel_seconds']:.0f} s with the copy of the "
             "export folder); inside the root, in /root/pi-check "
             f"({stats['install_seconds']:.0f} s):", "",
             "```sh", *stats["install_commands"], "```", "",
             "| package | version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in sorted(stats["packages"].items())]
    importable = ", ".join(f"{name} {'yes' if found else 'no'}"
                           for name, found in stats["importable"].items())
    lines += ["", "Wheels: " + ", ".join(f"`{name}`" for name in stats["wheels"]) + ".", "",
              f"Importable in that venv: {importable}."]
    return "\n".join(lines)


def agreement_row(model):
    share = 100 * model["same_top1"] / model["inputs"]
    return (f"| {model['model']} | {model['inputs']} | {model['same_top1']} ({share:.1f}%) | "
            f"{model['same_ranking']} | {model['identical']} | {model['max_difference']:.2e} | "
            f"{model['host_accuracy']:.4f} / {model['device_accuracy']:.4f} |")


def agreement_section(stats):
    lines = ["", "## Agreement with the same predictor on the host (x86-64)", "",
             "Every class's probability of every input compared (`fmnist-edge-predict --json`).",
             "", "| model | inputs | same top-1 | same ranking of all classes | identical "
             "probabilities | largest probability difference | accuracy, host / device |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [agreement_row(model) for model in stats["models"]]
    differences = [(model["model"], difference) for model in stats["models"]
                   for difference in model["differences"]]
    lines.append("")
    if not differences:
        lines.append("No input's top-1 class differs.")
        return "\n".join(lines)
    lines += [f"Top-1 differences (a near tie: within {100 * stats['tie_margin']:.0f} points):", "",
              "| model | input | host | device | why |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {model} | {entry['input']} | {entry['host']} | {entry['device']} | "
              f"{entry['why']} |" for model, entry in differences]
    return "\n".join(lines)


def commands_section(stats):
    lines = ["", "## The predictor's commands in the root", "", "```sh"]
    lines += [command for model in stats["models"] for command in model["device_commands"]]
    return "\n".join(lines + ["```"])


def latency_row(model):
    host, device = model["latency"]["host"], model["latency"]["device"]
    return (f"| {model['model']} | {host['p50_ms']:.3f} ms | {device['p50_ms']:.3f} ms "
            f"(emulated) | {device['p50_ms'] / host['p50_ms']:.1f}x | "
            f"{model['device_call_seconds']:.1f} s for {model['inputs']} inputs (emulated) |")


def latency_section(stats):
    lines = ["", "## Latency per image: EMULATED", "", EMULATED_NOTE, "",
             "`fmnist-edge-predict MODEL --benchmark "
             f"--num_threads={stats['num_threads']}` on each side (one image: quantize, invoke, "
             "dequantize; the median of its runs), and the device's whole classification calls "
             "(Python start-up, imports, model checks, reading the inputs).", "",
             "| model | host p50 | emulated arm64 p50 | emulated / host | emulated calls on all "
             "inputs |", "| --- | --- | --- | --- | --- |"]
    return "\n".join(lines + [latency_row(model) for model in stats["models"]])


def armv7l_section(wheels):
    """Which 32-bit ARM wheels PyPI has, for the Pythons of 32-bit Raspberry Pi OS (bullseye 3.9,
    bookworm 3.11) and the one between."""
    if wheels is None:
        return ""
    pythons = list(dict.fromkeys(python for _, python in wheels))
    platforms = " ".join(f"--platform={name}" for name in ARMV7L_PLATFORMS)
    lines = ["", "## 32-bit Raspberry Pi OS (armv7l): the wheels PyPI has", "",
             f"`pip download --no-deps --only-binary=:all: {platforms} --python-version=V "
             "PACKAGE`:",
             "", "| package | " + " | ".join(f"CPython {python}" for python in pythons) + " |",
             "| --- |" + " --- |" * len(pythons)]
    for package in dict.fromkeys(package for package, _ in wheels):
        cells = [f"`{wheels[package, python]}`" if wheels[package, python] else "none"
                 for python in pythons]
        lines.append(f"| {package} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_report(stats):
    verdict = f"passed: {PASSED}" if stats["passed"] else f"FAILED: {FAILED}"
    return "\n".join([header(stats), install_section(stats), agreement_section(stats),
                      commands_section(stats), latency_section(stats),
                      armv7l_section(stats["armv7l_wheels"]), "", f"Result: {verdict}.", ""])
