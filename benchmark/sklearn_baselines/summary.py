"""Tables and a plot of baseline results: best accuracy per classifier beside the published figure.

``write_summary(records, published, "benchmark/results/baselines.md")`` also writes baselines.png beside it.
"""

import collections
import json
import os

import matplotlib

matplotlib.use("Agg")  # files only: no display where the benchmark runs
import matplotlib.pyplot as plt  # noqa: E402

from fmnist_tf.atomic import atomic_write  # noqa: E402


def load_published(path):
    """The published figures: a list of {"name", "parameter" (null: any), "features", "accuracy", "source"}."""
    with open(path, encoding="utf-8") as handle:
        published = json.load(handle)
    return published["results"], published["sources"]


def published_accuracy(record, published):
    """The published figure for ``record``'s classifier, parameters and features, or None."""
    for entry in published:
        if (entry["name"] == record["name"] and entry["features"] == record["features"]
                and entry["parameter"] in (None, record["parameter"])):
            return entry
    return None


def best_per_classifier(records):
    """The completed record of highest mean accuracy for each (classifier, features), best first."""
    best = {}
    for record in records:
        if record["status"] != "ok":
            continue
        key = (record["name"], record["features"])
        if key not in best or record["mean_accuracy"] > best[key]["mean_accuracy"]:
            best[key] = record
    return sorted(best.values(), key=lambda record: -record["mean_accuracy"])


def _parameters(parameter):
    return " ".join(f"{name}={json.dumps(value)}" for name, value in sorted(parameter.items())) or "(defaults)"


def _cpu_per_repeat(record):
    cpu_seconds = record.get("cpu_seconds")
    return f" ({sum(cpu_seconds) / len(cpu_seconds):.1f})" if cpu_seconds else ""


def best_table(records, published):
    lines = ["| Classifier | Features | Parameters | Accuracy (mean +- 2 std) | Repeats | s / repeat (CPU s) | "
             "Published (same parameters) | Difference |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for record in best_per_classifier(records):
        entry = published_accuracy(record, published)
        figure = f"{entry['accuracy']:.3f} [{entry['source']}]" if entry else "-"
        difference = f"{100 * (record['mean_accuracy'] - entry['accuracy']):+.2f} pt" if entry else "-"
        lines.append(f"| {record['name']} | {record['features']} | {_parameters(record['parameter'])} | "
                     f"{record['mean_accuracy']:.4f} +- {record['std_accuracy']:.4f} | {record['num_repeat']} | "
                     f"{record['time_per_repeat']:.1f}{_cpu_per_repeat(record)} | {figure} | {difference} |")
    return lines


def unfinished_table(records):
    """The jobs that did not complete (rejected, timeout, memory, error, crashed) with the reason."""
    unfinished = [record for record in records if record["status"] != "ok"]
    if not unfinished:
        return ["Every job completed."]
    lines = ["| Status | Classifier | Parameters | Reason |", "| --- | --- | --- | --- |"]
    for record in sorted(unfinished, key=lambda record: (record["status"], record["name"])):
        reason = record.get("reason", "").replace("|", "/").replace("\n", " ")[:160]
        lines.append(f"| {record['status']} | {record['name']} | {_parameters(record['parameter'])} | {reason} |")
    return lines


def busy_seconds(intervals):
    """Seconds covered by the (start, end) ``intervals``: a run resumed days later counts its sessions, not the gap."""
    total, covered_until = 0, None
    for start, end in sorted(intervals):
        if covered_until is None or start > covered_until:
            total, covered_until = total + end - start, end
        elif end > covered_until:
            total, covered_until = total + end - covered_until, end
    return total


def runs_table(records):
    """One row per command: machine, jobs, wall time while any of its jobs ran, CPU time of its jobs."""
    runs = collections.defaultdict(list)
    for record in records:
        runs[(record["command"], record["machine"], record["sklearn_version"])].append(record)
    lines = ["| Command | Machine | scikit-learn | Jobs | Wall time (while a job ran) | CPU time of the jobs |",
             "| --- | --- | --- | --- | --- | --- |"]
    for (command, machine, version), run in runs.items():
        wall_s = busy_seconds((record["start_time"], record["done_time"]) for record in run)
        cpu_s = sum(sum(record.get("cpu_seconds", [])) for record in run)
        measured = sum(1 for record in run if record.get("cpu_seconds"))
        lines.append(f"| `{command}` | {machine} | {version} | {len(run)} | {wall_s / 60:.1f} min | "
                     f"{cpu_s / 60:.1f} min ({measured} of {len(run)} jobs measured) |")
    return lines


def plot_accuracy_against_time(records, path):
    """Accuracy (mean, 2-std error bars) against seconds per repeat (log scale); a colour per classifier+features."""
    completed = [record for record in records if record["status"] == "ok"]
    figure, axes = plt.subplots(figsize=(9, 6))
    for name, features in sorted({(record["name"], record["features"]) for record in completed}):
        mine = [record for record in completed if (record["name"], record["features"]) == (name, features)]
        axes.errorbar([record["time_per_repeat"] for record in mine], [record["mean_accuracy"] for record in mine],
                      yerr=[record["std_accuracy"] for record in mine], fmt="o", capsize=3,
                      label=name if features == "standard" else f"{name} ({features} features)")
    axes.set_xscale("log")
    axes.set_xlabel("training + test time per repeat (s, log scale)")
    axes.set_ylabel("test accuracy")
    axes.set_title("Fashion-MNIST scikit-learn baselines")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", dpi=100)
    plt.close(figure)


def write_summary(records, published, sources, path):
    """Writes the markdown summary at ``path`` and the plot beside it (same name, .png), both atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    plot_path = os.path.splitext(path)[0] + ".png"
    plot_accuracy_against_time(records, plot_path)
    lines = ["# Fashion-MNIST scikit-learn baselines", "",
             "Written by `python benchmark/summarize.py` from the JSON lines of `python benchmark/runner.py`.", "",
             "## Runs", "", *runs_table(records), "",
             "## Best accuracy per classifier", "", *best_table(records, published), "",
             "Sources of the published figures:", "",
             *[f"- [{name}] {text}" for name, text in sources.items()], "",
             f"![accuracy against time]({os.path.basename(plot_path)})", "",
             "## Jobs that did not complete", "", *unfinished_table(records), ""]
    with atomic_write(path) as stream:
        stream.write("\n".join(lines).encode("utf-8"))
