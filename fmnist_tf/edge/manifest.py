"""Checks a model's bytes and tensors against the ``manifest.json`` the export wrote beside it.

``match = match_manifest(path, model_bytes)`` finds the manifest (the one beside the model by default) and the
model's entry in it, and raises DigestMismatchError unless the bytes have the recorded SHA-256; then
``check_tensors(match, ...)`` once an interpreter has the model.
"""

import dataclasses
import hashlib
import json
import os

from fmnist_tf.edge.errors import DigestMismatchError, ManifestError

MANIFEST_FILE = "manifest.json"
# What the edge predictor's user does to run a model its manifest does not list.
SKIP_CHECK_HINT = "pass --manifest=none to run a model without checking it"


@dataclasses.dataclass(frozen=True)
class ManifestMatch:
    manifest_path: str
    manifest: dict
    entry: dict  # the artifact's entry: path, sha256, num_bytes, inputs, outputs


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


def find_artifact(manifest, manifest_path, model_path, skip_check_hint=SKIP_CHECK_HINT):
    """The manifest's entry for ``model_path``, matched by its path relative to the manifest's folder."""
    relative = os.path.relpath(os.path.abspath(model_path), os.path.dirname(os.path.abspath(manifest_path)))
    for entry in manifest["artifacts"]:
        if os.path.normpath(entry.get("path", "")) == os.path.normpath(relative):
            if "sha256" not in entry:
                raise ManifestError(f"{manifest_path}: the entry of {relative!r} has no 'sha256' field")
            return entry
    listed = ", ".join(entry.get("path", "?") for entry in manifest["artifacts"])
    raise ManifestError(f"{manifest_path} lists no artifact {relative!r} (it lists {listed}); {skip_check_hint}")


def check_digest(entry, model_bytes, model_path, manifest_path):
    digest = hashlib.sha256(model_bytes).hexdigest()
    if digest != entry["sha256"]:
        raise DigestMismatchError(
            f"{model_path}: SHA-256 is {digest} ({len(model_bytes)} bytes); {manifest_path} expects "
            f"{entry['sha256']} ({entry.get('num_bytes', '?')} bytes): the file changed since export")


def match_manifest(model_path, model_bytes, manifest_path="beside", skip_check_hint=SKIP_CHECK_HINT):
    """The manifest and ``model_path``'s entry, its digest checked against ``model_bytes``; None with no manifest.

    ``manifest_path``: a path, "beside" (``manifest.json`` in the model's folder, if one is there) or None (no check).
    """
    if manifest_path == "beside":
        manifest_path = manifest_beside(model_path)
    if manifest_path is None:
        return None
    manifest = read_manifest(manifest_path)
    entry = find_artifact(manifest, manifest_path, model_path, skip_check_hint)
    check_digest(entry, model_bytes, model_path, manifest_path)
    return ManifestMatch(os.fspath(manifest_path), manifest, entry)


def check_tensors(match, input_description, output_description, model_path):
    """Compares the interpreter's view of the input and output with what the export recorded."""
    for role, found, recorded in (("input", input_description, match.entry["inputs"][0]),
                                  ("output", output_description, match.entry["outputs"][0])):
        for field in ("dtype", "shape_signature", "scale", "zero_point"):
            if field in recorded and recorded[field] != found[field]:
                raise ManifestError(f"{model_path}: {role} {field} is {found[field]}; {match.manifest_path} expects "
                                    f"{recorded[field]}")
