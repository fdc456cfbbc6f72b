"""What a .keras archive may hold, checked from its zip directory and config.json before Keras reads any of it.

``config = check_keras_archive(path, archive_bytes)`` raises DecompressionBombError, ArchiveFormatError or
DisallowedObjectError (naming the offending member or layer), else returns the parsed config.json.
"""

import io
import json
import posixpath
import stat
import zipfile

from fmnist_tf.safe_loading.errors import ArchiveFormatError, DecompressionBombError, DisallowedObjectError

# The layout Keras 3 writes: metadata.json, config.json, one weights file, and assets/ for layers that keep files.
CONFIG_MEMBER = "config.json"
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBERS = ("model.weights.h5", "model.weights.npz")
ASSETS_FOLDER = "assets/"

# Limits far above any model of fmnist_tf (WRN-28-10: 3 members, about 150 MB, a config of a few hundred KB).
MAX_MEMBERS = 64
MAX_UNCOMPRESSED_BYTES = 1 << 30
MAX_CONFIG_BYTES = 16 << 20
# Keras stores members uncompressed (ratio 1) and a re-zipped config deflates some tens of times; DEFLATE can
# reach about 1000. A member past this ratio is a bomb, once it declares more than a floor small files stay under.
MAX_COMPRESSION_RATIO = 100
COMPRESSION_RATIO_FLOOR_BYTES = 1 << 20
ALLOWED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# Deeper than any fmnist_tf config (a backbone inside a model: about 20 levels); bounds the recursion of the check.
MAX_CONFIG_DEPTH = 200

# The Keras classes fmnist_tf's models are built from (fmnist_tf.models), by the module config.json names them with.
KERAS_LAYERS = (
    "Activation", "Add", "AveragePooling2D", "BatchNormalization", "Concatenate", "Conv2D", "Dense",
    "DepthwiseConv2D", "Dropout", "Flatten", "GlobalAveragePooling2D", "InputLayer", "MaxPooling2D", "Multiply",
    "Normalization", "ReLU", "Rescaling", "Reshape", "Resizing", "ZeroPadding2D",
)
KERAS_INITIALIZERS = ("GlorotUniform", "HeNormal", "Ones", "VarianceScaling", "Zeros")
# (module, class name) -> the registered names config.json may give it: none (null) or its own for Keras's
# classes; for fmnist_tf's own layer, the name it is registered under (which Keras looks up first).
ALLOWED_CLASSES = {
    **{("keras.layers", name): {None, name} for name in KERAS_LAYERS},
    **{("keras.initializers", name): {None, name} for name in KERAS_INITIALIZERS},
    ("keras", "DTypePolicy"): {None, "DTypePolicy"},
    ("keras.src.models.functional", "Functional"): {None, "Functional"},
    ("fmnist_tf.models.applications", "ApplicationPreprocessing"): {"fmnist_tf>ApplicationPreprocessing"},
}
# Plain values Keras rebuilds without looking anything up (symbolic tensors, arrays, bytes, slices).
# "__lambda__" (Python bytecode) and "__typespec__" (a class looked up by module) are not among them.
DATA_MARKERS = ("__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__")


def _open_archive(path, archive_bytes):
    try:
        return zipfile.ZipFile(io.BytesIO(archive_bytes))
    except zipfile.BadZipFile as error:
        raise ArchiveFormatError(f"{path}: not a zip archive ({error}); expected a .keras file saved by "
                                 "Keras 3") from None


def _check_member_name(path, name):
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ".." in parts or posixpath.normpath(name) != name.rstrip("/"):
        raise ArchiveFormatError(f"{path}: member {name!r} is not a plain relative path; refused (it could be "
                                 "extracted outside its folder)")
    if name not in (CONFIG_MEMBER, METADATA_MEMBER, *WEIGHTS_MEMBERS) and not name.startswith(ASSETS_FOLDER):
        raise ArchiveFormatError(f"{path}: unexpected member {name!r}; expected {CONFIG_MEMBER}, {METADATA_MEMBER}, "
                                 f"one of {', '.join(WEIGHTS_MEMBERS)} and files under {ASSETS_FOLDER}")


def _check_member(path, info):
    """One member's name, kind and declared sizes, from the zip directory: nothing is decompressed yet."""
    _check_member_name(path, info.filename)
    if info.flag_bits & 0x1:
        raise ArchiveFormatError(f"{path}: member {info.filename!r} is encrypted; Keras writes none")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveFormatError(f"{path}: member {info.filename!r} is a symbolic link; Keras writes none")
    if info.compress_type not in ALLOWED_COMPRESSION:
        raise ArchiveFormatError(f"{path}: member {info.filename!r} uses compression method {info.compress_type}; "
                                 f"expected {' or '.join(ALLOWED_COMPRESSION.values())}")
    if (info.file_size > COMPRESSION_RATIO_FLOOR_BYTES
            and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
        raise DecompressionBombError(
            f"{path}: member {info.filename!r} declares {info.file_size} bytes stored in {info.compress_size}, "
            f"a compression ratio over {MAX_COMPRESSION_RATIO}; refused as a decompression bomb")


def check_archive_members(path, archive):
    """The zip directory of ``archive`` (a ZipFile) against the limits and the layout Keras writes."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise DecompressionBombError(f"{path}: {len(members)} members; expected at most {MAX_MEMBERS}")
    names = [info.filename for info in members]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ArchiveFormatError(f"{path}: members {duplicated} appear more than once; a reader could pick "
                                 "either copy")
    for info in members:
        _check_member(path, info)
    total = sum(info.file_size for info in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DecompressionBombError(f"{path}: members declare {total} bytes uncompressed; expected at most "
                                     f"{MAX_UNCOMPRESSED_BYTES}")
    weights = [name for name in names if name in WEIGHTS_MEMBERS]
    if CONFIG_MEMBER not in names or len(weights) != 1:
        raise ArchiveFormatError(f"{path}: members are {names}; expected {CONFIG_MEMBER} and one of "
                                 f"{', '.join(WEIGHTS_MEMBERS)}")


def read_config(path, archive):
    """config.json, read no further than its limit and parsed."""
    info = archive.getinfo(CONFIG_MEMBER)
    if info.file_size > MAX_CONFIG_BYTES:
        raise DecompressionBombError(f"{path}: {CONFIG_MEMBER} declares {info.file_size} bytes; expected at most "
                                     f"{MAX_CONFIG_BYTES}")
    with archive.open(info) as stream:
        text = stream.read(MAX_CONFIG_BYTES + 1)
    try:
        config = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise ArchiveFormatError(f"{path}: {CONFIG_MEMBER} is not valid JSON ({type(error).__name__}: "
                                 f"{str(error)[:200]})") from None
    if not isinstance(config, dict):
        raise ArchiveFormatError(f"{path}: {CONFIG_MEMBER} holds a {type(config).__name__}; expected an object")
    return config


def _name(node):
    inner = node.get("config")
    name = node.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
    return name if isinstance(name, str) else None


def _container(node):
    """``Functional 'convnet'``: the object a problem found inside ``node`` is reported in."""
    return f"{node['class_name']} {_name(node)!r}" if _name(node) else node["class_name"]


def _subject(node):
    """``layer 'conv1'``: the object a problem is about, by the name it has in the model."""
    return f"layer {_name(node)!r}" if _name(node) else "an object"


def _check_class(path, node, where):
    class_name, module = node["class_name"], node.get("module")
    if class_name == "__lambda__":
        raise DisallowedObjectError(f"{path}: {where} holds a serialized Python lambda (bytecode); refused, "
                                    "loading it would run its code")
    if class_name == "function":
        raise DisallowedObjectError(f"{path}: {where} names the function {module}.{node.get('config')}; "
                                    "serialized functions are refused (fmnist_tf's models name none)")
    if module is None and class_name in DATA_MARKERS:
        return
    allowed_registered_names = ALLOWED_CLASSES.get((module, class_name))
    if allowed_registered_names is None:
        raise DisallowedObjectError(
            f"{path}: {_subject(node)} (in {where}) is a {module}.{class_name}, which is not among the "
            f"{len(ALLOWED_CLASSES)} classes fmnist_tf's models are made of; refused before deserialization "
            "(see fmnist_tf.safe_loading.keras_archive.ALLOWED_CLASSES)")
    registered_name = node.get("registered_name")
    if registered_name not in allowed_registered_names:
        raise DisallowedObjectError(
            f"{path}: {_subject(node)} (in {where}) is a {module}.{class_name} registered as {registered_name!r}; "
            f"expected {' or '.join(map(repr, sorted(allowed_registered_names, key=str)))} (Keras would look the "
            "registered name up first)")


def check_config(path, node, where="the model", depth=0):
    """Every object of ``node`` (config.json or part of it) against the allowlist, recursively."""
    if depth > MAX_CONFIG_DEPTH:
        raise ArchiveFormatError(f"{path}: {CONFIG_MEMBER} nests deeper than {MAX_CONFIG_DEPTH} levels (in {where})")
    if isinstance(node, list):
        for item in node:
            check_config(path, item, where, depth + 1)
    elif isinstance(node, dict):
        if "class_name" in node:
            if not isinstance(node["class_name"], str):
                raise ArchiveFormatError(f"{path}: a class_name in {where} is {node['class_name']!r}; "
                                         "expected a string")
            _check_class(path, node, where)
            where = _container(node)
        for value in node.values():
            check_config(path, value, where, depth + 1)


def check_keras_archive(path, archive_bytes):
    """The checked config.json of the .keras ``archive_bytes``, or a typed error naming ``path`` and the problem.

    The compile_config is left out of the check: the loaders rebuild models uncompiled, so Keras never reads it.
    """
    with _open_archive(path, archive_bytes) as archive:
        check_archive_members(path, archive)
        config = read_config(path, archive)
    check_config(path, {key: value for key, value in config.items() if key != "compile_config"})
    return config
