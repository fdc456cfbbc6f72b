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
    """{row: [images/s per repeat]} of zero-argument callables taking turns. Each returns images/s for the row of
    its own name, or {row: images/s} when one call measures several (a reader's first and later epochs)."""
    samples = {}
    for repeat in range(repeats):
        for name, rate in rates.items():
            measured = rate()
            for row, value in (measured.items() if isinstance(measured, dict) else [(name, measured)]):
                samples.setdefault(row, []).append(value)
                print(f"repeat {repeat + 1}: {row}: {format_rate(value)} images/s", flush=True)
    return samples


def table(title, description, samples, baseline, row_heading="method"):
    """A Markdown section: median images/s, ratio to ``baseline``'s median, and every repeat."""
    medians = {name: statistics.median(rates) for name, rates in samples.items()}
    lines = [f"## {title}", "", description, "",
             f"| {row_heading} | median images/s | ratio to {baseline} | all repeats |", "| --- | ---: | ---: | --- |"]
    for name, rates in samples.items():
        lines.append(f"| {name} | {format_rate(medians[name])} | {medians[name] / medians[baseline]:.2f} | "
                     f"{', '.join(format_rate(rate) for rate in rates)} |")
    return lines + [""], medians
