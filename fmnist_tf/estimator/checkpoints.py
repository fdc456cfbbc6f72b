"""The checkpoints of a model_dir, found, verified and restored without trusting any one file.

``restore_latest(checkpoint, model_dir)`` restores the newest intact checkpoint (refusing another architecture's),
``latest_global_step(model_dir)`` reads its step, and ``make_checkpoint_manager(...)`` saves new ones.

Why a kill cannot leave model_dir unrestorable: ``tf.train.CheckpointManager`` has TensorFlow write a checkpoint's
tensors and index into ``model.ckpt-N_temp/``, merge them into ``model.ckpt-N.index`` and ``.data-*``, and only then
rewrite the state file ``checkpoint`` (to a temporary name, renamed over the old one) to name it; old checkpoints
are deleted after that. The state file is therefore the commit record: the checkpoints it names are complete, and
they are tried first, newest first. Files it does not name (a save cut short, or a state file lost) are tried after
them, found by listing ``model.ckpt-*.index``, so training never starts over while checkpoint files exist.

Why reading every tensor is the integrity check: TensorFlow's tensor bundle stores a CRC32C of each tensor in the
index and one of each index block, and ``CheckpointReader.get_tensor`` verifies them, so a truncated or bit-flipped
``.index`` or ``.data`` file fails to read (tests/test_checkpoints.py flips bits at seeded positions of both). A
SHA-256 sidecar per checkpoint would repeat that check and be one more file to keep in step with the manager's
deletions, so there is none. A damaged checkpoint is logged by name and the previous one restored.
"""

import glob
import os
import re
import shutil
import typing

import keras
import tensorflow as tf
from absl import logging
from tensorflow.core.protobuf import trackable_object_graph_pb2

from fmnist_tf.atomic import atomic_write

CHECKPOINT_NAME = "model.ckpt"
STATE_FILE = "checkpoint"  # TensorFlow's CheckpointState text proto naming the complete checkpoints
_INDEX_FILE = re.compile(rf"^{re.escape(CHECKPOINT_NAME)}-(\d+)\.index$")
# What a killed save or clean-up can leave behind: a save's temporary folder, or a data file.
_LEFTOVER_FILE = re.compile(rf"{re.escape(CHECKPOINT_NAME)}-(\d+)(_temp|\.data-\d+-of-\d+)")
_OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"  # where every TF2 checkpoint keeps its object graph
_VARIABLE_ATTRIBUTE = "VARIABLE_VALUE"
# What reading a damaged bundle raises: OpError (DataLossError, a bad sstable, a missing file); IndexError for a
# .data file cut short ("Read less bytes than requested").
_READ_ERRORS = (tf.errors.OpError, IndexError, ValueError)
_MISMATCHES_SHOWN = 5


# The key of the Estimator's ``tf.train.Checkpoint(global_step=...)`` variable in a checkpoint.
_GLOBAL_STEP_KEY = "global_step/.ATTRIBUTES/VARIABLE_VALUE"


class CheckpointDamagedError(RuntimeError):
    """model_dir holds checkpoint files and none of them reads back whole."""

    def __init__(self, model_dir, failures, consequence="so training does not start over on top of them"):
        self.model_dir = model_dir
        self.failures = failures  # [(checkpoint prefix, what reading it raised)], newest first
        tried = "; ".join(f"{prefix}: {error}" for prefix, error in failures)
        super().__init__(
            f"{model_dir} holds {len(failures)} checkpoint(s) and none is restorable, {consequence}. "
            f"Tried, newest first: {tried}. Move the damaged files away to start afresh.")


class CheckpointMismatchError(ValueError):
    """model_dir's checkpoint was saved from another architecture than the model being restored."""

    def __init__(self, prefix, mismatches):
        self.prefix = prefix
        self.mismatches = mismatches  # one line per variable that differs
        shown = "; ".join(mismatches[:_MISMATCHES_SHOWN])
        more = f"; and {len(mismatches) - _MISMATCHES_SHOWN} more" if len(mismatches) > _MISMATCHES_SHOWN else ""
        super().__init__(
            f"{prefix} was saved from another model: {shown}{more}. Use another model_dir for this model, or "
            "restore it with the model that trained it.")


class _UnreadableCheckpoint(Exception):
    """A checkpoint file that TensorFlow could not read: ``str()`` is the file and TensorFlow's error."""

    def __init__(self, where, error):
        message = error.message if isinstance(error, tf.errors.OpError) else str(error)
        super().__init__(f"{where}: {type(error).__name__}: {message}")


def checkpoint_step(prefix):
    """The global step a checkpoint prefix is numbered with: ``.../model.ckpt-2000`` -> 2000."""
    return int(prefix.rsplit("-", 1)[1])


def listed_checkpoints(model_dir):
    """Prefixes of the checkpoints whose index file is in ``model_dir``, oldest first, whatever the state file says."""
    if not os.path.isdir(model_dir):
        return []
    steps = sorted(int(match.group(1)) for match in map(_INDEX_FILE.match, os.listdir(model_dir)) if match)
    return [os.path.join(model_dir, f"{CHECKPOINT_NAME}-{step}") for step in steps]


def candidate_checkpoints(model_dir):
    """The checkpoints to try, best first: those the state file names, newest first, then the others listed."""
    committed, others = _committed_and_other_checkpoints(model_dir)
    return committed + others


def latest_intact_checkpoint(model_dir):
    """``(prefix, reader)`` of the newest checkpoint that reads back whole, or None when model_dir has none.

    Each damaged one is logged by name, with the error. Raises CheckpointDamagedError when checkpoint files exist
    and none reads, unless each is a save cut short: not named by the state file, its ``model.ckpt-N_temp/`` folder
    still there (TensorFlow deletes it once the merged index is whole).
    """
    committed, others = _committed_and_other_checkpoints(model_dir)
    failures = []
    for prefix in committed + others:
        try:
            reader = _read_every_tensor(prefix)
        except _UnreadableCheckpoint as error:
            if prefix in others and os.path.isdir(f"{prefix}_temp"):
                logging.warning("Checkpoint %s was cut short while being written and is skipped: %s", prefix, error)
            else:
                logging.warning("Checkpoint %s is damaged and is skipped: %s", prefix, error)
                failures.append((prefix, error))
            continue
        if failures:
            logging.warning("Restoring the previous checkpoint, %s, instead.", prefix)
        return prefix, reader
    if failures:
        raise CheckpointDamagedError(model_dir, failures)
    return None


def _committed_and_other_checkpoints(model_dir):
    """The listed checkpoints the state file names, and the others, each newest first."""
    listed = listed_checkpoints(model_dir)
    named = _state_file_checkpoints(model_dir) or []
    committed = [prefix for prefix in reversed(listed) if prefix in named]
    return committed, [prefix for prefix in reversed(listed) if prefix not in named]


class VerifiedCheckpoint(typing.NamedTuple):
    """What ``verify_latest`` saw: the candidate checkpoints, and the ``latest_intact_checkpoint`` among them."""

    candidates: list
    found: tuple | None


def verify_latest(model_dir):
    """``VerifiedCheckpoint`` of ``model_dir`` now, for a ``restore_latest`` later that need not read it again."""
    return VerifiedCheckpoint(candidate_checkpoints(model_dir), latest_intact_checkpoint(model_dir))


def restore_latest(checkpoint, model_dir, verified=None):
    """Restores the newest intact checkpoint of ``model_dir`` into ``checkpoint`` (a ``tf.train.Checkpoint``).

    ``verified``: a ``verify_latest(model_dir)`` made earlier; its checkpoint is restored without being read again
    (nor a damaged newer one reported again) while the candidates are the same. Returns the restore's status (for
    ``assert_consumed``), or None when model_dir has no checkpoint. Raises CheckpointMismatchError, before changing
    any variable, when the checkpoint is another architecture's.
    """
    if verified is not None and candidate_checkpoints(model_dir) == verified.candidates:
        found = verified.found
    else:
        found = latest_intact_checkpoint(model_dir)
    if found is None:
        return None
    prefix, reader = found
    mismatches = architecture_mismatches(checkpoint, reader)
    if mismatches:
        raise CheckpointMismatchError(prefix, mismatches)
    status = checkpoint.restore(prefix)
    logging.info("Restored parameters from %s", prefix)
    return status


def restore_checkpoint(checkpoint, prefix):
    """Restores the checkpoint ``prefix`` into ``checkpoint`` once it reads back whole, as the latest one would be.

    Raises CheckpointDamagedError naming the file that does not read, CheckpointMismatchError for another
    architecture, before any variable changes.
    """
    try:
        reader = _read_every_tensor(prefix)
    except _UnreadableCheckpoint as error:
        raise CheckpointDamagedError(os.path.dirname(prefix), [(prefix, error)],
                                     consequence="so nothing is restored from it") from None
    mismatches = architecture_mismatches(checkpoint, reader)
    if mismatches:
        raise CheckpointMismatchError(prefix, mismatches)
    checkpoint.restore(prefix).assert_existing_objects_matched()
    logging.info("Restored parameters from %s", prefix)


def latest_global_step(model_dir):
    """The global step of the newest intact checkpoint in ``model_dir``, or 0 when it has none; reads only that
    variable into the caller's program."""
    return global_step_of(latest_intact_checkpoint(model_dir) if model_dir else None)


def global_step_of(found):
    """The global step of a ``latest_intact_checkpoint`` result, 0 for None; its reader, which has just verified
    every tensor, holds the step too: no second read of the checkpoint."""
    return 0 if found is None else int(found[1].get_tensor(_GLOBAL_STEP_KEY))


def make_checkpoint_manager(checkpoint, directory, max_to_keep, step_counter, maintain=False):
    """TF's CheckpointManager saving ``model.ckpt-<step>`` into ``directory``.

    With ``maintain`` (the process that saves into ``directory``), a missing or unreadable state file is first
    rewritten from the checkpoint files, so the manager goes on numbering and deleting them, and what killed saves
    left behind is deleted.
    """
    if maintain:
        _rewrite_state_file_if_damaged(directory)
        _delete_leftovers_of_killed_saves(directory)
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep, checkpoint_name=CHECKPOINT_NAME,
                                      step_counter=step_counter)


def architecture_mismatches(checkpoint, reader):
    """One line per variable that differs between ``checkpoint``'s objects and the checkpoint ``reader`` reads.

    Walks the checkpoint's object graph from the root alongside the Python objects, as a restore matches them, and
    names each variable by its Keras path: ``conv1/kernel: checkpoint has shape [5, 5, 1, 32], model has [3, 3, 1,
    32]``, a variable only the checkpoint has, or one only the model has.
    """
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(_OBJECT_GRAPH_KEY))
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    checkpoint.save_counter  # created lazily, and by any restore: made now, so it is matched like the others
    view = tf.train.TrackableView(checkpoint)
    mismatches, matched, visited = [], set(), set()
    # Depth first in the checkpoint's child order: the model's variables are met (and named) before the optimizer's.
    pending = [(0, checkpoint)]
    while pending:
        node_id, python_object = pending.pop()
        if node_id in visited:
            continue
        visited.add(node_id)
        node = graph.nodes[node_id]
        for attribute in node.attributes:
            if attribute.name == _VARIABLE_ATTRIBUTE:
                matched.add(id(python_object))
                mismatch = _variable_mismatch(python_object, attribute.checkpoint_key, shapes, dtypes)
                if mismatch:
                    mismatches.append(mismatch)
        python_children = view.children(python_object)
        pending.extend((child.node_id, python_children[child.local_name]) for child in reversed(node.children)
                       if child.local_name in python_children)
    for node_id, node in enumerate(graph.nodes):
        for attribute in node.attributes:
            if node_id not in visited and attribute.name == _VARIABLE_ATTRIBUTE:
                mismatches.append(f"{_key_path(attribute.checkpoint_key)}: checkpoint has shape "
                                  f"{shapes[attribute.checkpoint_key]}, the model has no such variable")
    mismatches.extend(f"{_variable_name(variable)}: model has shape {_shape(variable)}, the checkpoint has no such "
                      "variable" for variable in view.descendants()
                      if _is_variable(variable) and id(variable) not in matched)
    return mismatches


def _variable_mismatch(python_object, key, shapes, dtypes):
    """What differs between the checkpoint's variable ``key`` and the object found in its place, or None."""
    if not _is_variable(python_object):
        return (f"{_key_path(key)}: checkpoint has a variable of shape {shapes[key]}, the model has a "
                f"{type(python_object).__name__}")
    name = _variable_name(python_object)
    if _shape(python_object) != shapes[key]:
        return f"{name}: checkpoint has shape {shapes[key]}, model has {_shape(python_object)}"
    if tf.as_dtype(python_object.dtype) != dtypes[key]:
        return f"{name}: checkpoint has dtype {dtypes[key].name}, model has {tf.as_dtype(python_object.dtype).name}"
    return None


def _is_variable(python_object):
    return isinstance(python_object, (tf.Variable, keras.Variable))


def _variable_name(variable):
    """Keras's path (``conv1/kernel``), else TF's name without its output index (``global_step``)."""
    return getattr(variable, "path", None) or variable.name.split(":")[0]


def _shape(variable):
    return [int(size) for size in variable.shape]


def _key_path(key):
    """``optimizer/_variables/3/.ATTRIBUTES/VARIABLE_VALUE`` -> ``optimizer/_variables/3``."""
    return key.split("/.ATTRIBUTES/")[0]


def _read_every_tensor(prefix):
    """A reader of ``prefix``, once every tensor has been read through it (each read checks the tensor's CRC32C).

    Raises _UnreadableCheckpoint naming the file: the index when it does not open, the data files when a tensor
    does not read.
    """
    try:
        reader = tf.train.load_checkpoint(prefix)
    except _READ_ERRORS as error:
        raise _UnreadableCheckpoint(f"{prefix}.index", error) from error
    for key in reader.get_variable_to_shape_map():
        try:
            reader.get_tensor(key)
        except _READ_ERRORS as error:
            data_files = ", ".join(sorted(glob.glob(f"{glob.escape(prefix)}.data-*"))) or f"{prefix}.data-* (none)"
            raise _UnreadableCheckpoint(f"{data_files} (tensor {key})", error) from error
    return reader


def _reads_back_whole(prefix):
    try:
        _read_every_tensor(prefix)
    except _UnreadableCheckpoint:
        return False
    return True


def _state_file_checkpoints(model_dir):
    """The prefixes the state file names, or None when it is missing or unreadable (the latter logged)."""
    state_path = os.path.join(model_dir, STATE_FILE)
    if not os.path.exists(state_path):
        return None
    try:
        state = tf.train.get_checkpoint_state(model_dir)
    except (UnicodeDecodeError, ValueError) as error:  # binary garbage; a state naming no checkpoint
        state, reason = None, error
    else:
        reason = "it does not parse"  # TensorFlow logged why, and returned None
    if state is None:
        logging.warning("The checkpoint state file %s is damaged (%s); finding the checkpoints by listing "
                        "%s-*.index instead.", state_path, reason, CHECKPOINT_NAME)
        return None
    named = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
    return [os.path.join(model_dir, os.path.basename(prefix)) for prefix in named]


def _rewrite_state_file_if_damaged(model_dir):
    """When the state file is missing or unreadable, writes one naming the listed checkpoints that read back whole.

    Only whole ones: the state file says a checkpoint is complete. The timestamps are the index files' modification
    times, so the manager deletes the oldest first as usual.
    """
    listed = listed_checkpoints(model_dir)
    if not listed or _state_file_checkpoints(model_dir) is not None:
        return
    intact = [prefix for prefix in listed if _reads_back_whole(prefix)]
    if not intact:
        return  # restoring will report each one
    names = [os.path.basename(prefix) for prefix in intact]
    times = [os.path.getmtime(f"{prefix}.index") for prefix in intact]
    lines = [f'model_checkpoint_path: "{names[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{name}"' for name in names]
    lines += [f"all_model_checkpoint_timestamps: {modified!r}" for modified in times]
    lines.append(f"last_preserved_timestamp: {min(times) - 1.0!r}")
    with atomic_write(os.path.join(model_dir, STATE_FILE)) as stream:
        stream.write(("\n".join(lines) + "\n").encode("utf-8"))
    logging.warning("Rewrote the checkpoint state file of %s from its files: %s", model_dir, ", ".join(names))


def _delete_leftovers_of_killed_saves(model_dir):
    """Deletes what a kill left of saves that a newer checkpoint has since superseded.

    A save killed while writing leaves ``model.ckpt-N_temp/`` holding a partial ``.tempstate`` data file, as large as
    a checkpoint; one killed while deleting old checkpoints leaves a data file whose index is gone. Only steps up to
    the newest checkpoint the state file names are touched: a trainer (whose model_dir another process may be
    evaluating) writes only above it.
    """
    committed = _state_file_checkpoints(model_dir)
    if not committed:
        return
    newest = max(map(checkpoint_step, committed))
    names = os.listdir(model_dir)
    for name in names:
        match = _LEFTOVER_FILE.fullmatch(name)
        if not match or int(match.group(1)) > newest:
            continue
        path = os.path.join(model_dir, name)
        if match.group(2) == "_temp":
            shutil.rmtree(path, ignore_errors=True)
        elif f"{CHECKPOINT_NAME}-{match.group(1)}.index" not in names:
            os.unlink(path)
        else:
            continue
        logging.info("Deleted %s, left by a save or a deletion that a kill interrupted.", path)
