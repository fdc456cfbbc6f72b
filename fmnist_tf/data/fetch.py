"""Puts a dataset's four verified ``.gz`` files in a folder: kept, else copied from Debian's, else
downloaded.

``fetch("fashion_mnist", "data/fashion")``; the command line: ``python -m fmnist_tf.fetch
--data_dir=data/fashion``.
"""

import gzip
import hashlib
import http.client
import os
import shutil
import urllib.request
import zlib

from absl import logging

from fmnist_tf.atomic import atomic_write
from fmnist_tf.data.catalog import DatasetSpec, get_dataset_spec
from fmnist_tf.data.errors import ChecksumError, MissingFilesError

_CHUNK_BYTES = 1 << 20
DOWNLOAD_TIMEOUT_SECONDS = 60
# What a failed download raises: network, HTTP and cut-off errors (URLError and ConnectionError are
# OSErrors), or a malformed HTTP response.
_DOWNLOAD_ERRORS = (OSError, http.client.HTTPException)


def _size_and_sha256(chunks):
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _chunks(stream):
    return iter(lambda: stream.read(_CHUNK_BYTES), b"")


def checksum_problems(path, file_spec):
    """Why ``path`` is not ``file_spec``'s file, as phrases; empty if it verifies.

    It verifies if its .gz SHA-256 is a known one, or (where the payload's digest is published)
    if it decompresses, in chunks, to exactly the payload's size and SHA-256.
    """
    with open(path, "rb") as stream:
        gz_size, gz_digest = _size_and_sha256(_chunks(stream))
    if gz_digest in file_spec.gz_sha256:
        return []
    problems = [f"the {gz_size}-byte .gz file has SHA-256 {gz_digest}; "
                f"expected one of {', '.join(file_spec.gz_sha256)}"]
    if file_spec.payload_sha256 is not None:
        try:
            with gzip.open(path, "rb") as stream:
                size, digest = _size_and_sha256(_chunks(stream))
        except (EOFError, zlib.error, OSError) as error:
            problems.append(f"it does not decompress ({type(error).__name__}: {error})")
        else:
            if (size, digest) == (file_spec.payload_size, file_spec.payload_sha256):
                return []
            problems.append(f"its payload is {size} bytes with SHA-256 {digest}; expected "
                            f"{file_spec.payload_size} bytes with SHA-256 "
                            f"{file_spec.payload_sha256}")
    return problems


def verify_file(path, file_spec, source=None):
    """Raises ChecksumError naming ``source`` (default ``path``) and every mismatch, unless the file
    verifies."""
    problems = checksum_problems(path, file_spec)
    if problems:
        raise ChecksumError(f"{source or path}: {'; '.join(problems)}")


def _install(path, file_spec, source, write_into):
    """Writes ``source`` to a temporary name beside ``path``, verifies it, and only then renames
    it."""
    with atomic_write(path) as stream:
        write_into(stream)
        stream.flush()
        verify_file(stream.name, file_spec, source=f"{source} (not installed as {path})")


def _copy_local(source_path):
    def write_into(stream):
        with open(source_path, "rb") as source:
            shutil.copyfileobj(source, stream, _CHUNK_BYTES)
    return write_into


def _copy_url(url):
    def write_into(stream):
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            shutil.copyfileobj(response, stream, _CHUNK_BYTES)
            # A dropped connection ends a chunked read quietly; the promised length tells it from
            # the end.
            promised = response.headers.get("Content-Length")
            if promised is not None and stream.tell() != int(promised):
                raise ConnectionError(f"cut off after {stream.tell()} of {promised} bytes")
    return write_into


def _fetch_file(file_spec, data_dir, debian_dir, base_urls):
    path = os.path.join(data_dir, file_spec.name)
    if os.path.exists(path):
        # Never overwritten: a file that fails may be the user's own (digit MNIST in the Fashion
        # folder).
        verify_file(path, file_spec)
        logging.info("%s: already there, verified", path)
        return path
    looked_in = [data_dir]
    if debian_dir:
        looked_in.append(debian_dir)
        debian_path = os.path.join(debian_dir, file_spec.name)
        if os.path.isfile(debian_path):
            try:
                _install(path, file_spec, debian_path, _copy_local(debian_path))
            except ChecksumError as error:
                logging.warning("%s does not verify, downloading instead: %s", debian_path, error)
            else:
                logging.info("%s: copied from %s, verified", path, debian_path)
                return path
    failures = []
    for base_url in base_urls:
        url = f"{base_url.rstrip('/')}/{file_spec.name}"
        try:
            _install(path, file_spec, url, _copy_url(url))
        except _DOWNLOAD_ERRORS as error:
            failures.append(f"{url}: {error}")
            continue
        logging.info("%s: downloaded from %s, verified", path, url)
        return path
    raise MissingFilesError(f"{file_spec.name} is not in {' nor in '.join(looked_in)}, and its "
                            f"download failed: {'; '.join(failures)}")


def fetch(dataset, data_dir, base_url=None, debian_dir=None):
    """Makes sure ``data_dir`` holds the dataset's four verified files; returns their paths.

    ``dataset`` is a catalog name or a DatasetSpec; ``base_url`` replaces the official URLs (a
    mirror); ``debian_dir`` replaces the catalog's Debian folder.
    """
    spec = dataset if isinstance(dataset, DatasetSpec) else get_dataset_spec(dataset)
    debian_dir = spec.debian_dir if debian_dir is None else debian_dir
    base_urls = (base_url,) if base_url else spec.base_urls
    os.makedirs(data_dir, exist_ok=True)
    return [_fetch_file(file_spec, data_dir, debian_dir, base_urls)
            for file_spec in spec.files.values()]

