"""Writing a file so that it appears under its final name complete, or not at all.

``with atomic_write(path) as stream: stream.write(...)``: a temporary file beside ``path``, renamed on success;
``with atomic_output_path(path) as temporary_path:`` the same for writers that open the file themselves;
``append_json_line(path, record)`` for results files that grow a line at a time.
"""

import contextlib
import json
import os
import uuid


@contextlib.contextmanager
def atomic_output_path(path):
    """Yields a temporary path in ``path``'s folder; renames it to ``path`` if the block succeeds, else deletes it.

    The temporary file is in the same folder because ``os.replace`` is atomic only within one filesystem.
    """
    directory, name = os.path.split(os.path.abspath(path))
    temporary_path = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part")
    try:
        yield temporary_path
        os.replace(temporary_path, path)
    except BaseException:
        if os.path.exists(temporary_path):
            os.unlink(temporary_path)
        raise


@contextlib.contextmanager
def atomic_write(path):
    """Yields a binary file in ``path``'s folder; renames it to ``path`` if the block succeeds, else deletes it.

    The file is made by ``open`` (mode 0o666 less the umask), not by tempfile, whose 0o600 the final file would keep.
    """
    with atomic_output_path(path) as temporary_path:
        with open(temporary_path, "xb") as stream:
            yield stream


def append_json_line(path, record, sort_keys=False):
    """Appends ``record`` as one line in a single write, then syncs: a kill leaves whole lines only."""
    line = (json.dumps(record, sort_keys=sort_keys) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
