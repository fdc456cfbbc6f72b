"""The fetcher: files kept, copied from a Debian-style folder or downloaded from a local server, all verified."""

import dataclasses
import functools
import gzip
import hashlib
import http.server
import os
import subprocess
import threading
from pathlib import Path

import pytest

from fmnist_tf.data import FASHION_MNIST, MNIST, ChecksumError, FileSpec, MissingFilesError, fetch
from idx_files import write_gz, write_tiny_idx_dir
from readme import readme_command

FILE_NAMES = sorted(file_spec.name for file_spec in FASHION_MNIST.files.values())
REAL_DEBIAN_DIR = FASHION_MNIST.debian_dir


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def generated_spec(directory, catalog_spec, seed=0, base_url=None):
    """Writes a tiny dataset into ``directory`` and returns ``catalog_spec`` with its sizes and digests.

    The payload digest is kept only where the catalog publishes one (Fashion-MNIST, not MNIST).
    """
    write_tiny_idx_dir(directory, seed=seed)
    files = {}
    for key, catalog_file in catalog_spec.files.items():
        compressed = (Path(directory) / catalog_file.name).read_bytes()
        payload = gzip.decompress(compressed)
        payload_sha256 = sha256(payload) if catalog_file.payload_sha256 else None
        files[key] = FileSpec(catalog_file.name, len(payload), payload_sha256, (sha256(compressed),))
    return dataclasses.replace(catalog_spec, files=files, base_urls=(base_url,) if base_url else ())


def recompress(source_dir, target_dir):
    """Copies each file re-compressed at another level, as Debian's package does: new .gz bytes, same payload."""
    os.makedirs(target_dir)
    for name in FILE_NAMES:
        write_gz(Path(target_dir) / name, gzip.decompress((Path(source_dir) / name).read_bytes()), compresslevel=1)


def corrupt(source_dir, target_dir):
    """Copies each file with one payload bit flipped: still valid gzip, wrong content."""
    os.makedirs(target_dir)
    for name in FILE_NAMES:
        payload = bytearray(gzip.decompress((Path(source_dir) / name).read_bytes()))
        payload[-1] ^= 1
        write_gz(Path(target_dir) / name, bytes(payload))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class CutOffHandler(QuietHandler):
    """Promises 1,000 bytes and sends 10: a connection dropped mid-download."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"\x00" * 8)
        self.close_connection = True


@pytest.fixture
def serve():
    """``serve(directory)`` starts an HTTP server on a free 127.0.0.1 port and returns its base URL."""
    servers = []

    def start(directory, handler=QuietHandler):
        handler = functools.partial(handler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_debian_dir(tmp_path):
    return str(tmp_path / "no_debian")


def assert_same_files(data_dir, source_dir):
    assert sorted(os.listdir(data_dir)) == FILE_NAMES  # and no temporary file left behind
    for name in FILE_NAMES:
        assert (Path(data_dir) / name).read_bytes() == (Path(source_dir) / name).read_bytes()


def test_verified_files_in_data_dir_are_kept(tmp_path, no_debian_dir):
    data_dir = tmp_path / "data"
    spec = generated_spec(data_dir, FASHION_MNIST)
    modified = {name: (data_dir / name).stat().st_mtime_ns for name in FILE_NAMES}
    paths = fetch(spec, str(data_dir), debian_dir=no_debian_dir)
    assert sorted(paths) == sorted(str(data_dir / name) for name in FILE_NAMES)
    assert {name: (data_dir / name).stat().st_mtime_ns for name in FILE_NAMES} == modified


def test_files_are_copied_from_the_debian_folder(tmp_path):
    spec = generated_spec(tmp_path / "debian", FASHION_MNIST)
    fetch(spec, str(tmp_path / "data"), debian_dir=str(tmp_path / "debian"))
    assert_same_files(tmp_path / "data", tmp_path / "debian")


def test_recompressed_files_verify_by_their_payload(tmp_path):
    spec = generated_spec(tmp_path / "upstream", FASHION_MNIST)
    recompress(tmp_path / "upstream", tmp_path / "debian")
    fetch(spec, str(tmp_path / "data"), debian_dir=str(tmp_path / "debian"))
    assert_same_files(tmp_path / "data", tmp_path / "debian")


def test_files_are_downloaded_from_base_url(tmp_path, serve, no_debian_dir):
    spec = generated_spec(tmp_path / "server", FASHION_MNIST)
    fetch(spec, str(tmp_path / "data"), base_url=serve(tmp_path / "server"), debian_dir=no_debian_dir)
    assert_same_files(tmp_path / "data", tmp_path / "server")


def test_debian_file_that_fails_is_skipped_for_the_download(tmp_path, serve):
    spec = generated_spec(tmp_path / "server", FASHION_MNIST, base_url=serve(tmp_path / "server"))
    corrupt(tmp_path / "server", tmp_path / "debian")
    fetch(spec, str(tmp_path / "data"), debian_dir=str(tmp_path / "debian"))
    assert_same_files(tmp_path / "data", tmp_path / "server")


def test_digit_mnist_is_downloaded_and_verified_by_its_gz_digest(tmp_path, serve):
    spec = generated_spec(tmp_path / "server", MNIST, seed=7, base_url=serve(tmp_path / "server"))
    assert spec.debian_dir is None and all(f.payload_sha256 is None for f in spec.files.values())
    fetch(spec, str(tmp_path / "data"))
    assert_same_files(tmp_path / "data", tmp_path / "server")


def test_corrupted_download_raises_checksum_error_and_leaves_no_file(tmp_path, serve, no_debian_dir):
    spec = generated_spec(tmp_path / "good", FASHION_MNIST)
    corrupt(tmp_path / "good", tmp_path / "server")
    base_url = serve(tmp_path / "server")
    with pytest.raises(ChecksumError) as error:
        fetch(spec, str(tmp_path / "data"), base_url=base_url, debian_dir=no_debian_dir)
    expected = spec.file("train", "images")
    message = str(error.value)
    assert f"{base_url}train-images-idx3-ubyte.gz" in message
    assert f"expected one of {expected.gz_sha256[0]}" in message
    assert f"expected {expected.payload_size} bytes with SHA-256 {expected.payload_sha256}" in message
    assert os.listdir(tmp_path / "data") == []


def test_file_missing_on_the_server_names_the_url(tmp_path, serve, no_debian_dir):
    spec = generated_spec(tmp_path / "good", FASHION_MNIST)
    os.makedirs(tmp_path / "empty")
    base_url = serve(tmp_path / "empty")
    with pytest.raises(MissingFilesError, match=f"{base_url}train-images-idx3-ubyte.gz: HTTP Error 404"):
        fetch(spec, str(tmp_path / "data"), base_url=base_url, debian_dir=no_debian_dir)
    assert os.listdir(tmp_path / "data") == []


def test_download_cut_off_leaves_no_file(tmp_path, serve, no_debian_dir):
    spec = generated_spec(tmp_path / "good", FASHION_MNIST)
    base_url = serve(tmp_path / "good", handler=CutOffHandler)
    with pytest.raises(MissingFilesError, match=f"{base_url}train-images-idx3-ubyte.gz: cut off after 10 of 1000"):
        fetch(spec, str(tmp_path / "data"), base_url=base_url, debian_dir=no_debian_dir)
    assert os.listdir(tmp_path / "data") == []


def test_digit_mnist_files_in_the_fashion_folder_are_reported_and_kept(tmp_path):
    data_dir = tmp_path / "fashion"
    generated_spec(data_dir, MNIST)
    original = (data_dir / "train-images-idx3-ubyte.gz").read_bytes()
    with pytest.raises(ChecksumError) as error:
        fetch("fashion_mnist", str(data_dir))
    expected = FASHION_MNIST.file("train", "images")
    message = str(error.value)
    assert str(data_dir / "train-images-idx3-ubyte.gz") in message
    assert f"SHA-256 {sha256(original)}; expected one of {expected.gz_sha256[0]}" in message
    assert f"expected {expected.payload_size} bytes with SHA-256 {expected.payload_sha256}" in message
    assert (data_dir / "train-images-idx3-ubyte.gz").read_bytes() == original


@pytest.mark.real_data
@pytest.mark.skipif(not os.path.isdir(REAL_DEBIAN_DIR), reason=f"{REAL_DEBIAN_DIR} is absent")
def test_real_debian_files_verify_into_data_dir(tmp_path):
    paths = fetch("fashion_mnist", str(tmp_path))
    assert [os.path.getsize(path) for path in paths] == [
        os.path.getsize(os.path.join(REAL_DEBIAN_DIR, os.path.basename(path))) for path in paths]
    assert fetch("fashion_mnist", str(tmp_path)) == paths


@pytest.mark.real_data
@pytest.mark.skipif(not os.path.isdir(REAL_DEBIAN_DIR), reason=f"{REAL_DEBIAN_DIR} is absent")
def test_the_readmes_fetch_command_copies_and_verifies_debians_files(tmp_path):
    command = readme_command("python -m fmnist_tf.fetch --dataset=fashion_mnist --data_dir=data/fashion",
                             {"data/fashion": tmp_path / "fashion"})
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count(f"copied from {REAL_DEBIAN_DIR}") == 4
    assert sorted(os.listdir(tmp_path / "fashion")) == sorted(os.listdir(REAL_DEBIAN_DIR))


def test_cli_downloads_from_a_mirror_into_data_dir(tmp_path, serve, monkeypatch):
    """The README's ``python -m fmnist_tf.fetch --dataset=mnist ...``, with ``--base_url`` a mirror."""
    served = tmp_path / "served"
    spec = generated_spec(served, MNIST)
    base_url = serve(served)
    # The CLI checks against the real catalog: serve generated files under it by patching its digests
    # through a sitecustomize in the child, which is the one process that must see them.
    patch_dir = tmp_path / "patch"
    patch_dir.mkdir()
    digests = {file_spec.name: file_spec.gz_sha256 for file_spec in spec.files.values()}
    (patch_dir / "sitecustomize.py").write_text(
        "import dataclasses\n"
        "from fmnist_tf.data import catalog\n"
        f"digests = {digests!r}\n"
        "catalog.MNIST.files.update({key: dataclasses.replace(value, gz_sha256=digests[value.name])\n"
        "                            for key, value in catalog.MNIST.files.items()})\n")
    data_dir = tmp_path / "mnist"
    result = subprocess.run(
        readme_command("python -m fmnist_tf.fetch --dataset=mnist --data_dir=data/mnist",
                       {"data/mnist": data_dir}, [f"--base_url={base_url}"]),
        env={**os.environ, "PYTHONPATH": str(patch_dir)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "downloaded from" in result.stderr
    assert_same_files(data_dir, served)
