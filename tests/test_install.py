"""Every extra of setup.cfg resolves from the default package index alone, as on a machine that reaches only PyPI.

pip's configuration files and local wheel folders are switched off; pip resolves without installing
(``--dry-run``), reading the wheels' metadata from the index.
"""

import concurrent.futures
import configparser
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INDEX_HOST = "pypi.org"
RESOLVE_TIMEOUT = 900


def extras():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return sorted(config["options.extras_require"])


def index_reachable():
    try:
        socket.create_connection((INDEX_HOST, 443), timeout=10).close()
        return True
    except OSError:
        return False


def resolve(extra, report):
    """pip's resolution of ``.[extra]`` with only the default index, as ``{name: version}``."""
    environment = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             f"--report={report}", f"{REPO}[{extra}]"],
                            env=environment, capture_output=True, text=True, timeout=RESOLVE_TIMEOUT)
    assert result.returncode == 0, f"[{extra}] does not resolve from {INDEX_HOST}:\n{result.stderr[-3000:]}"
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in json.loads(Path(report).read_text())["install"]}


@pytest.mark.skipif(not index_reachable(), reason=f"{INDEX_HOST} cannot be reached from this machine")
def test_every_extra_resolves_from_the_default_index_alone(tmp_path):
    assert {"train", "pi", "bench", "dev"} <= set(extras())
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(extras())) as pool:
        futures = {extra: pool.submit(resolve, extra, tmp_path / f"{extra}.json") for extra in extras()}
        resolved = {extra: future.result() for extra, future in futures.items()}
    assert "tensorflow" in resolved["train"] and "ai-edge-litert" in resolved["train"]
    # The device side: no training stack.
    assert "ai-edge-litert" in resolved["pi"]
    assert not {"tensorflow", "keras", "absl-py"} & set(resolved["pi"])
    assert "torch" in resolved["bench"] and "torch" in resolved["dev"]
