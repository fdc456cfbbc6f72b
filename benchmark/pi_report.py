"""benchmark/results/pi_arm64.md from the figures of pi_check.py: ``format_report(stats)``."""

EMULATED_NOTE = (
    "**Emulated, not a Raspberry Pi's speed.** qemu-user translates every arm64 instruction into x86-64 ones on "
    "this host, so these figures show that the predictor runs there, not how fast a Pi runs it (time a Pi with "
    "`fmnist-edge-predict MODEL --benchmark` on the Pi itself).")


def header(stats):
    root = stats["root"]
    reuse = ("built by this run" if root["built_now"] else f"reused from the cache "
             f"({stats['root_seconds']:.1f} s to find it)")
    return "\n".join([
        "# The Pi predictor on an emulated Raspberry Pi OS (64-bit)",
        "",
        f"Command: `{stats['command']}` (what `make pi-check` runs; as root)  ",
        f"Host: {stats['host']}  ",
        f"Device: Debian bookworm arm64 (Raspberry Pi OS 64-bit's base), Python {stats['device_python']}, run "
        f"under {stats['emulator']} (binfmt_misc), in a chroot with no network  ",
        f"Root: `{root['command']}`, {root['size_mb']} MB, built in {root['seconds']:.0f} s on {root['date']}; "
        f"{reuse}  ",
        f"Export: `{stats['export']}` (the export folder with its manifest.json, copied into the root)  ",
        f"Inputs: the first {stats['num_images']} test images as one .gz IDX file and {stats['num_photos']} photos "
        f"made from the next ones (a folder of PNGs of light items on black, given with the IDX file and "
        f"`--background=dark`, and a folder of JPEGs of dark items on white, with `--background=light`), "
        f"{stats['num_threads']} interpreter thread(s)",
    ])


def install_section(stats):
    lines = ["", "## Installed in the root's venv, offline", "",
             "On the host, `pip download --platform=manylinux_2_27_aarch64 --python-version=3.11 "
             "--only-binary=:all:` of setup.cfg's base and `pi` requirements fetched the wheels into wheels/ and "
             f"`pip wheel --no-deps .` built {stats['project_wheel']} ({stats['wheel_seconds']:.0f} s, with the "
             f"copy of the export folder); inside the root, in /root/pi-check ({stats['install_seconds']:.0f} s):",
             "", "```sh",
             *stats["install_commands"], "```", "", "| package | version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in sorted(stats["packages"].items())]
    lines += ["", "Wheels: " + ", ".join(f"`{name}`" for name in stats["wheels"]) + ".", "",
              "Importable in that venv: " + ", ".join(
                  f"{name} {'yes' if found else 'no'}" for name, found in stats["importable"].items()) + "."]
    return "\n".join(lines)


def agreement_section(stats):
    lines = ["", "## Agreement with the same predictor on the host (x86-64)", "",
             "Every class's probability of every input compared (`fmnist-edge-predict --json`, all classes).", "",
             "| model | inputs | same top-1 | same ranking of all classes | identical probabilities | "
             "largest probability difference | accuracy, host / device |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for model in stats["models"]:
        lines.append(f"| {model['model']} | {model['inputs']} | {model['same_top1']} "
                     f"({100 * model['same_top1'] / model['inputs']:.1f}%) | {model['same_ranking']} | "
                     f"{model['identical']} | {model['max_difference']:.2e} | "
                     f"{model['host_accuracy']:.4f} / {model['device_accuracy']:.4f} |")
    differences = [(model["model"], difference) for model in stats["models"] for difference in model["differences"]]
    lines.append("")
    if not differences:
        lines.append("No input's top-1 class differs.")
    else:
        lines += [f"Top-1 differences (a near tie is within {100 * stats['tie_margin']:.0f} points):", "",
                  "| model | input | host | device | why |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {model} | {d['input']} | {d['host']} | {d['device']} | {d['why']} |" for model, d in differences]
    return "\n".join(lines)


def commands_section(stats):
    lines = ["", "## The predictor's commands in the root", "", "```sh"]
    lines += [command for model in stats["models"] for command in model["device_commands"]]
    return "\n".join(lines + ["```"])


def latency_section(stats):
    lines = ["", "## Latency per image: EMULATED", "", EMULATED_NOTE, "",
             f"`fmnist-edge-predict MODEL --benchmark --runs=N --num_threads={stats['num_threads']}` on each side "
             "(one image: quantize, invoke, dequantize), and the device's whole classification calls (Python start-up, "
             "imports, model checks, reading the inputs).", "",
             "| model | host p50 | emulated arm64 p50 | emulated / host | emulated calls on all inputs |",
             "| --- | --- | --- | --- | --- |"]
    for model in stats["models"]:
        host, device = model["latency"]["host"], model["latency"]["device"]
        lines.append(f"| {model['model']} | {host['p50_ms']:.3f} ms | {device['p50_ms']:.3f} ms (emulated) | "
                     f"{device['p50_ms'] / host['p50_ms']:.1f}x | {model['device_call_seconds']:.1f} s "
                     f"for {model['inputs']} inputs (emulated) |")
    return "\n".join(lines)


def armv7l_section(wheels):
    """Which 32-bit ARM wheels PyPI has, for the Pythons of 32-bit Raspberry Pi OS (bullseye 3.9, bookworm 3.11)
    and the one between."""
    if wheels is None:
        return ""
    pythons = list(dict.fromkeys(python for _, python in wheels))
    lines = ["", "## 32-bit Raspberry Pi OS (armv7l): the wheels PyPI has", "",
             "`pip download --no-deps --only-binary=:all: --platform=linux_armv7l --platform=manylinux2014_armv7l "
             "--platform=manylinux_2_31_armv7l --platform=manylinux_2_36_armv7l --python-version=V PACKAGE`:", "",
             "| package | " + " | ".join(f"CPython {python}" for python in pythons) + " |",
             "| --- |" + " --- |" * len(pythons)]
    for package in dict.fromkeys(package for package, _ in wheels):
        lines.append(f"| {package} | " + " | ".join(f"`{wheels[package, python]}`" if wheels[package, python]
                                                     else "none" for python in pythons) + " |")
    return "\n".join(lines)


def format_report(stats):
    verdict = ("passed: no training stack in the device's venv, and no top-1 difference that is not a near tie"
               if stats["passed"] else "FAILED: the training stack is importable on the device, or a top-1 "
               "difference is not a near tie")
    return "\n".join([header(stats), install_section(stats), agreement_section(stats), commands_section(stats),
                      latency_section(stats),
                      armv7l_section(stats["armv7l_wheels"]), "", f"Result: {verdict}.", ""])
