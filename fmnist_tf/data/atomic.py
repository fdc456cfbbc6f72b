"""Writing a file so that it appears under its final name complete, or not at all.

``with atomic_write(path) as stream: stream.write(...)``: a temporary file beside ``path``, renamed on success.
"""

import contextlib
import os
import uuid


@contextlib.contextmanager
def atomic_write(path):
    """Yields a binary file in ``path``'s folder; renames it to ``path`` if the block succeeds, else deletes it.

    The temporary file is in the same folder because ``os.replace`` is atomic only within one filesystem;
    it is made by ``open`` (mode 0o666 less the umask), not by tempfile, whose 0o600 the final file would keep.
    """
    directory, name = os.path.split(os.path.abspath(path))
    temporary_path = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part")
    stream = open(temporary_path, "xb")
    try:
        with stream:
            yield stream
        os.replace(temporary_path, path)
    except BaseException:
        os.unlink(temporary_path)
        raise
