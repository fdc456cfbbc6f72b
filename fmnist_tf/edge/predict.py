"""Classifies photos of clothes (or IDX files of images) with a TFLite model, without TensorFlow.

``python -m fmnist_tf.edge.predict model_int8.tflite shirt.jpg [IMAGE | FOLDER | IDX ...]`` prints the top-k
classes of each; ``--benchmark`` reports the model's latency percentiles. ``run(args)`` returns the results.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from fmnist_tf.edge.errors import EdgeError, InterpreterMissingError
from fmnist_tf.edge.images import BACKGROUNDS, IMAGE_SIZE, load_inputs
from fmnist_tf.edge.model import load_edge_model

LATENCY_PERCENTILES = (50, 90, 99)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fmnist_tf.edge.predict", description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a .tflite file written by `python -m fmnist_tf.export`")
    parser.add_argument("images", nargs="*", help="PNG/JPEG images (any size, color or gray), folders of them, "
                        "or IDX images files (.gz or raw)")
    parser.add_argument("--top_k", type=int, default=3, help="how many classes to print per image")
    parser.add_argument("--background", choices=BACKGROUNDS, default="auto",
                        help="auto: decided from each photo's border; dark: a light item on a dark "
                        "background, like the training data; light: a dark item on white (inverted)")
    parser.add_argument("--manifest", default="beside",
                        help="manifest.json to check the model against (default: the one beside the model, if "
                        "any; 'none': no check)")
    parser.add_argument("--num_threads", type=int, default=os.cpu_count(), help="interpreter threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image")
    parser.add_argument("--benchmark", action="store_true",
                        help="time the model on the first image (a blank one if none) instead of classifying")
    parser.add_argument("--runs", type=int, default=200, help="timed runs of --benchmark")
    parser.add_argument("--warmup_runs", type=int, default=20, help="untimed runs before --benchmark times")
    args = parser.parse_args(argv)
    if not args.images and not args.benchmark:
        parser.error("give at least one image, folder or IDX file (or --benchmark)")
    for name in ("top_k", "num_threads", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def top_k(probabilities, class_names, k):
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [{"class_id": int(index), "class_name": class_names[index], "probability": float(probabilities[index])}
            for index in order]


def benchmark(model, pixels, runs, warmup_runs):
    """Latency percentiles, in milliseconds, of classifying one image (quantize, invoke, dequantize)."""
    for _ in range(warmup_runs):
        model.logits_of_one(pixels)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        model.logits_of_one(pixels)
        seconds.append(time.perf_counter() - started)
    milliseconds = np.asarray(seconds) * 1e3
    stats = {f"p{percentile}_ms": float(np.percentile(milliseconds, percentile)) for percentile in LATENCY_PERCENTILES}
    stats.update(mean_ms=float(milliseconds.mean()), min_ms=float(milliseconds.min()), runs=runs)
    return stats


def run(args):
    """Loads and checks the model, then classifies every input or, with ``args.benchmark``, times it."""
    manifest = None if args.manifest == "none" else args.manifest
    model = load_edge_model(args.model, manifest_path=manifest, num_threads=args.num_threads)
    names, pixels = load_inputs(args.images, args.background)
    result = {"model": args.model, "input_dtype": model.input_dtype, "num_threads": args.num_threads}
    if args.benchmark:
        image = pixels[0] if len(pixels) else np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        result["benchmark"] = benchmark(model, image, args.runs, args.warmup_runs)
        return result
    probabilities = model.probabilities(pixels)
    result["predictions"] = [{"input": name, "top_k": top_k(row, model.class_names, args.top_k)}
                             for name, row in zip(names, probabilities)]
    return result


def format_text(result):
    if "benchmark" in result:
        stats = result["benchmark"]
        return (f"{result['model']} ({result['input_dtype']} input, {result['num_threads']} threads), "
                f"{stats['runs']} runs: " + ", ".join(f"p{p} {stats[f'p{p}_ms']:.3f} ms" for p in LATENCY_PERCENTILES)
                + f", mean {stats['mean_ms']:.3f} ms")
    lines = []
    for prediction in result["predictions"]:
        lines.append(prediction["input"])
        lines += [f"  {rank}. {entry['class_name']:<12} {100 * entry['probability']:6.2f}%"
                  for rank, entry in enumerate(prediction["top_k"], start=1)]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    try:
        result = run(args)
    except (EdgeError, InterpreterMissingError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        rows = [result["benchmark"]] if "benchmark" in result else result["predictions"]
        print("\n".join(json.dumps(row) for row in rows))
    else:
        print(format_text(result))
    return 0


def run_main():
    sys.exit(main())


if __name__ == "__main__":
    run_main()
