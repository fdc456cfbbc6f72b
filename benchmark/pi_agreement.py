"""The emulated Pi's predictions against the host's, one by one: ``compare(host, device, 0.01)``.

Each side is the list of ``fmnist-edge-predict --json --top_k=CLASSES`` rows (input name, every
class with its probability). A top-1 class that differs is explained when the host's two best
classes are within the margin of each other (a near tie that rounding in another CPU's kernels can
tip), and unexplained otherwise.
"""


def probabilities_by_class(row):
    return {entry["class_id"]: entry["probability"] for entry in row["top_k"]}


def top_two_margin(row):
    """How far the best class's probability is above the second's."""
    ranked = row["top_k"]
    return ranked[0]["probability"] - (ranked[1]["probability"] if len(ranked) > 1 else 0.0)


def difference(host_row, device_row, tie_margin):
    """The record of one input whose top-1 class differs, with why."""
    host_best, device_best = host_row["top_k"][0], device_row["top_k"][0]
    margin = top_two_margin(host_row)
    why = (f"near tie: the host's top two classes are {100 * margin:.2f} points apart"
           if margin <= tie_margin else
           f"UNEXPLAINED: the host's top class leads by {100 * margin:.2f} points")
    return {"input": host_row["input"],
            "host": f"{host_best['class_name']} ({host_best['probability']:.4f})",
            "device": f"{device_best['class_name']} ({device_best['probability']:.4f})",
            "why": why, "explained": margin <= tie_margin}


def largest_difference(host_row, device_row):
    """The largest difference between the two sides' probabilities of one class."""
    host, device = probabilities_by_class(host_row), probabilities_by_class(device_row)
    return max(abs(probability - device[class_id]) for class_id, probability in host.items())


def compare(host, device, tie_margin):
    """Counts of inputs with the same top-1 class, the same ranking of every class and identical
    probabilities; the largest probability difference; and each differing top-1 with why."""
    host_inputs, device_inputs = [row["input"] for row in host], [row["input"] for row in device]
    if host_inputs != device_inputs:
        raise ValueError(f"the host classified {len(host_inputs)} inputs and the device "
                         f"{len(device_inputs)}, or in another order; expected the same inputs in "
                         "the same order")
    stats = {"inputs": len(host), "same_top1": 0, "same_ranking": 0, "identical": 0,
             "max_difference": 0.0, "differences": []}
    for host_row, device_row in zip(host, device):
        gap = largest_difference(host_row, device_row)
        stats["max_difference"] = max(stats["max_difference"], gap)
        stats["identical"] += gap == 0
        host_ranking = [entry["class_id"] for entry in host_row["top_k"]]
        device_ranking = [entry["class_id"] for entry in device_row["top_k"]]
        stats["same_ranking"] += host_ranking == device_ranking
        if host_ranking[0] == device_ranking[0]:
            stats["same_top1"] += 1
        else:
            stats["differences"].append(difference(host_row, device_row, tie_margin))
    return stats


def accuracy(rows, labels):
    """The share of ``rows`` whose top-1 class is the input's label."""
    return sum(row["top_k"][0]["class_id"] == labels[row["input"]] for row in rows) / len(rows)
