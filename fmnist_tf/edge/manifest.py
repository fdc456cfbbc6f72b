"""Checks a model's bytes and tensors against the ``manifest.json`` the export wrote beside it.

``manifest = read_manifest(path)``; ``entry = find_artifact(manifest, path, model_path)``; then
``check_digest`` before the bytes reach the interpreter and ``check_tensors`` once it has them.
"""

import hashlib
import json
import os

from fmnist_tf.edge.errors import ManifestError

MANIFEST_FILE = "manifest.json"


def manifest_beside(model_path):
    """The path of ``manifest.json`` in the model's folder, or None when there is none."""
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), MANIFEST_FILE)
    return path if os.path.isfile(path) else None


def read_manifest(path):
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    for key in ("artifacts", "class_names"):
        if key not in manifest:
            raise ManifestError(f"{path}: no {key!r} field; expected the manifest.json of `python -m fmnist_tf.export`")
    return manifest


def find_artifact(manifest, manifest_path, model_path):
    """The manifest's entry for ``model_path``, matched by its path relative to the manifest's folder."""
    relative = os.path.relpath(os.path.abspath(model_path), os.path.dirname(os.path.abspath(manifest_path)))
    for entry in manifest["artifacts"]:
        if os.path.normpath(entry.get("path", "")) == os.path.normpath(relative):
            return entry
    listed = ", ".join(entry.get("path", "?") for entry in manifest["artifacts"])
    raise ManifestError(f"{manifest_path} lists no artifact {relative!r} (it lists {listed}); "
                        "pass --manifest=none to run a model without checking it")


def check_digest(entry, model_bytes, model_path, manifest_path):
    digest = hashlib.sha256(model_bytes).hexdigest()
    if digest != entry["sha256"]:
        raise ManifestError(f"{model_path}: SHA-256 is {digest} ({len(model_bytes)} bytes); {manifest_path} expects "
                            f"{entry['sha256']} ({entry.get('num_bytes', '?')} bytes): the file changed since export")


def check_tensors(entry, input_description, output_description, model_path, manifest_path):
    """Compares the interpreter's view of the input and output with what the export recorded."""
    for role, found, recorded in (("input", input_description, entry["inputs"][0]),
                                  ("output", output_description, entry["outputs"][0])):
        for field in ("dtype", "shape_signature", "scale", "zero_point"):
            if field in recorded and recorded[field] != found[field]:
                raise ManifestError(f"{model_path}: {role} {field} is {found[field]}; {manifest_path} expects "
                                    f"{recorded[field]}")
