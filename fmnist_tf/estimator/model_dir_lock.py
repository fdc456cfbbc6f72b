"""One trainer per model_dir: ``with hold_model_dir(model_dir):`` around everything that writes into it.

The lock is ``model_dir/trainer.lock``, a line of JSON naming its owner: PID, host and the process's start time
(which tells a PID reused by another program from the owner). It appears whole or not at all: it is written to a
temporary file and hard-linked to its name, which fails when the name exists, like ``O_CREAT | O_EXCL``. It is
removed when the block ends. A lock whose owner no longer runs on this host (killed, say) is stale: it is reported,
and taken over. A live owner's lock, or another host's, refuses the second trainer with ModelDirLockedError.
"""

import contextlib
import json
import os
import socket
import uuid

from absl import logging

LOCK_FILE = "trainer.lock"
_held_by_this_process = set()  # lock paths: a lock naming this PID and not in here is a previous life's


class ModelDirLockedError(RuntimeError):
    """Another trainer holds the model_dir (or its lock cannot be read)."""


@contextlib.contextmanager
def hold_model_dir(model_dir):
    """Holds ``model_dir``'s lock for the block (creating the folder); raises ModelDirLockedError if it is taken."""
    path = acquire_model_dir(model_dir)
    try:
        yield path
    finally:
        release_model_dir(path)


def acquire_model_dir(model_dir):
    """Creates ``model_dir/trainer.lock`` for this process, taking over a stale one; returns its path."""
    os.makedirs(model_dir, exist_ok=True)
    path = os.path.join(model_dir, LOCK_FILE)
    mine = _owner_record()
    # A few rounds: between reading a stale lock and removing it, another starting trainer may take it first.
    for _ in range(3):
        if _create_exclusively(path, mine):
            _held_by_this_process.add(path)
            return path
        held = _read_bytes(path)
        if held is None:  # removed since the create failed
            continue
        owner = _parse_owner(path, held)
        reason = _stale_reason(path, owner)
        if reason is None:
            raise ModelDirLockedError(_refusal(model_dir, path, owner))
        logging.warning("Taking over the stale lock %s of PID %s on %s: %s.", path, owner["pid"], owner["host"],
                        reason)
        _remove_if_unchanged(path, held)
    raise ModelDirLockedError(f"{model_dir}: could not take {path}, other trainers keep taking it; start one "
                              "trainer per model_dir")


def release_model_dir(path):
    """Removes the lock if this process still owns it (a trainer that judged it stale may have taken it over)."""
    _held_by_this_process.discard(path)
    held = _read_bytes(path)
    if held == _owner_record():
        os.unlink(path)
    else:
        logging.warning("%s no longer names this process (PID %d) and is left as it is.", path, os.getpid())


def _owner_record():
    """This process's lock content: the same bytes each time it is asked."""
    record = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid())}
    return (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")


def _create_exclusively(path, content):
    """Writes ``content`` to ``path`` unless it exists; True if this call created it."""
    temporary_path = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    with open(temporary_path, "xb") as stream:
        stream.write(content)
    try:
        os.link(temporary_path, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary_path)


def _read_bytes(path):
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def _parse_owner(path, held):
    try:
        owner = json.loads(held)
        if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int) or "host" not in owner:
            raise ValueError("expected an object with an integer 'pid' and a 'host'")
    except ValueError as error:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelDirLockedError(
            f"{path} is not a lock this project wrote ({error}); if no trainer uses {os.path.dirname(path)}, "
            "delete it and start again") from error
    return owner


def _stale_reason(path, owner):
    """Why the lock's owner is known not to run any more, or None when it may still run."""
    if owner["host"] != socket.gethostname():
        return None  # another host's PIDs cannot be checked from here
    pid = owner["pid"]
    if pid == os.getpid():
        return None if path in _held_by_this_process else "it names this PID, which an earlier process had"
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return f"no process {pid} runs"
    except PermissionError:
        pass  # it exists, under another user
    if _process_state(pid) == "Z":
        return f"process {pid} has exited"
    started = _process_start(pid)
    if owner.get("process_start") is not None and started is not None and started != owner["process_start"]:
        return f"PID {pid} now belongs to a process started later"
    return None


def _refusal(model_dir, path, owner):
    where = f"PID {owner['pid']} on host {owner['host']}"
    if owner["host"] != socket.gethostname():
        advice = (f"wait for it to finish, or, if no trainer runs there any more, delete {path}; a lock of another "
                  "host cannot be checked from here")
    elif owner["pid"] == os.getpid():
        advice = "this process already trains there; train one model per model_dir"
    else:
        advice = (f"wait for it to finish, stop it (kill -TERM {owner['pid']} checkpoints and exits), or train in "
                  "another --model_dir")
    return f"{model_dir} is in use by another trainer, {where} (lock file {path}): {advice}"


def _proc_stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stream:
            return stream.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _process_state(pid):
    fields = _proc_stat_fields(pid)
    return fields[0] if fields else None


def _process_start(pid):
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    fields = _proc_stat_fields(pid)
    return int(fields[19]) if fields else None


def _remove_if_unchanged(path, held):
    """Removes the lock ``path`` if it still holds ``held``: moved aside first, so a newer lock is put back."""
    aside = f"{path}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if _read_bytes(aside) != held:  # another trainer replaced it between our read and the rename
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    os.unlink(aside)
