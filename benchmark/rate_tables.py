"""Rates measured in turns and set out as Markdown tables, for the benchmarks that compare ways of doing one thing.

``samples = measure({"a": rate_of_a, "b": rate_of_b}, repeats=3)`` calls each rate function in turn, ``repeats``
times, so drifts of a shared machine fall on every method alike; ``table(title, description, samples, "a")``
gives the medians and their ratios to "a".
"""

import statistics


def format_rate(rate):
    """Whole images/s, but three significant digits below 100 (ResNet50 on a CPU trains a few per second)."""
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.3g}"


def measure(rates, repeats):
    """{name: [images/s per repeat]} of zero-argument callables returning images/s, taking turns."""
    samples = {name: [] for name in rates}
    for repeat in range(repeats):
        for name, rate in rates.items():
            samples[name].append(rate())
            print(f"repeat {repeat + 1}: {name}: {format_rate(samples[name][-1])} images/s", flush=True)
    return samples


def table(title, description, samples, baseline):
    """A Markdown section: median images/s, ratio to ``baseline``'s median, and every repeat."""
    medians = {name: statistics.median(rates) for name, rates in samples.items()}
    lines = [f"## {title}", "", description, "",
             f"| method | median images/s | ratio to {baseline} | all repeats |", "| --- | ---: | ---: | --- |"]
    for name, rates in samples.items():
        lines.append(f"| {name} | {format_rate(medians[name])} | {medians[name] / medians[baseline]:.2f} | "
                     f"{', '.join(format_rate(rate) for rate in rates)} |")
    return lines + [""], medians
