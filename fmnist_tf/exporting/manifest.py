"""``manifest.json`` of an export folder: every artifact with its SHA-256 and tensors, the classes,
the training flags.

``write_manifest(export_dir, artifacts, trained, class_names)``; the edge predictor checks a model
against it.
"""

import json
import os

from fmnist_tf.atomic import atomic_write

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


def make_manifest(artifacts, trained, class_names):
    """The manifest as a dict: what each artifact is, and what made it."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "model": trained.training_flags["model"],
        "global_step": trained.global_step,
        "class_names": list(class_names),
        # Logits: the device applies the softmax, so every format's output means the same.
        "output": "logits",
        "training_flags": trained.training_flags,
        "artifacts": [artifact.manifest_entry() for artifact in artifacts],
    }


def write_manifest(export_dir, artifacts, trained, class_names):
    """Writes ``export_dir/manifest.json`` atomically; returns its path."""
    path = os.path.join(export_dir, MANIFEST_FILE)
    text = json.dumps(make_manifest(artifacts, trained, class_names), indent=2) + "\n"
    with atomic_write(path) as stream:
        stream.write(text.encode("utf-8"))
    return path
