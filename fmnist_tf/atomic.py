"""Writing a file so that it appears under its final name complete, or not at all.

``with atomic_write(path) as stream: stream.write(...)``: a temporary file beside ``path``, synced and renamed on
success; ``with atomic_output_path(path) as temporary_path:`` the same for writers that open the file themselves;
``append_json_line(path, record)`` and ``read_json_lines(path)`` for results files that grow a line at a time.
"""

import contextlib
import fcntl
import json
import logging
import os
import uuid

_TAIL_CHUNK_BYTES = 1 << 16


class JsonLinesError(ValueError):
    """A results file whose complete line is not a JSON record: damaged by something other than a killed writer."""


def _sync(path):
    """Flushes ``path`` (a file or a folder) to the disk, so a power cut cannot undo what a rename published."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_output_path(path, suffix=""):
    """Yields a temporary path in ``path``'s folder; renames it to ``path`` if the block succeeds, else deletes it.

    The temporary file is in the same folder because ``os.replace`` is atomic only within one filesystem; its
    name starts with a dot and never is ``path``, so a kill leaves at most a stray ``.NAME.*.part`` and the
    previous ``path`` intact. ``suffix`` ends the temporary name, for writers that insist on one (Keras: .keras).
    """
    directory, name = os.path.split(os.path.abspath(path))
    temporary_path = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part{suffix}")
    try:
        yield temporary_path
        _sync(temporary_path)
        os.replace(temporary_path, path)
    except BaseException:
        if os.path.exists(temporary_path):
            os.unlink(temporary_path)
        raise
    _sync(directory)


@contextlib.contextmanager
def atomic_write(path):
    """Yields a binary file in ``path``'s folder; renames it to ``path`` if the block succeeds, else deletes it.

    The file is made by ``open`` (mode 0o666 less the umask), not by tempfile, whose 0o600 the final file would keep.
    """
    with atomic_output_path(path) as temporary_path:
        with open(temporary_path, "xb") as stream:
            yield stream


def _cut_partial_last_line(descriptor, path, log):
    """Truncates the bytes after the last newline, which only a writer killed mid-append leaves."""
    size = os.fstat(descriptor).st_size
    if size == 0 or os.pread(descriptor, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK_BYTES)
        newline = os.pread(descriptor, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    log(f"{path}: cutting off an incomplete last line of {size - end} bytes left by a killed writer")
    os.ftruncate(descriptor, end)


def append_json_line(path, record, sort_keys=False, log=logging.warning):
    """Appends ``record`` as one whole line and syncs it; a kill mid-append leaves at most a partial last line,
    which ``read_json_lines`` skips and the next append cuts off first.

    An exclusive lock keeps concurrent appenders (and their repairs) from interleaving.
    """
    line = (json.dumps(record, sort_keys=sort_keys) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        _cut_partial_last_line(descriptor, path, log)
        written = 0
        while written < len(line):  # a write may be partial (a signal, a full disk): send the rest
            written += os.write(descriptor, line[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_json_lines(path, log=logging.warning):
    """The records of a JSON-lines file, in order ([] if it does not exist).

    A last line without its newline (a writer killed mid-append) is reported with ``log`` and skipped; a complete
    line that is not JSON raises JsonLinesError with its number.
    """
    if not os.path.exists(path):
        return []
    with open(path, "rb") as handle:
        lines = handle.read().split(b"\n")
    partial = lines.pop()  # what follows the last newline: nothing in a file whose writers all finished
    if partial:
        log(f"{path}: skipping an incomplete last line of {len(partial)} bytes left by a killed writer")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as error:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
            raise JsonLinesError(f"{path}: line {number} is not a JSON record ({error}); expected one JSON "
                                 "object per line") from None
    return records
