"""What a person sees: TensorBoard served on 127.0.0.1, and pages opened in headless Chromium.

``with serve_tensorboard(logdir, runs, log) as url: ...``; ``page_resources(folder, "index.html")`` loads a page
in Chromium and returns which of its images and links failed to load.
"""

import contextlib
import functools
import html
import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from readme import readme_command

SERVER_TIMEOUT = 60  # seconds for `tensorboard` to answer, and for Chromium to render a page
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM, reason="Debian's chromium is not installed (`make chromium` installs it as root)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url, data=None):
    """GET, or POST of ``data`` (a JSON body) where given."""
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def get_bytes(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def wait_until(condition, what, timeout=SERVER_TIMEOUT, while_alive=None):
    """Polls ``condition()`` until true; fails naming ``what`` after ``timeout`` s or when the process ends."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if while_alive is not None:
            assert while_alive.poll() is None, f"the server ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.5)


@contextlib.contextmanager
def serve_tensorboard(logdir, runs, log_path):
    """``tensorboard --logdir`` on a free port, yielded as its URL once it lists every run of ``runs``."""
    port = free_port()
    with open(log_path, "w") as log:
        command = readme_command("tensorboard --logdir runs/sweep", replace={"runs/sweep": logdir},
                                 append=["--host=127.0.0.1", f"--port={port}", "--load_fast=false"])
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            # The first answer can come before the first pass over the logdir: wait for every run.
            wait_until(lambda: set(runs) <= set(get_json(f"{url}/data/runs")), f"runs {sorted(runs)} served",
                       while_alive=server)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def chromium(url, user_data_dir, *outputs):
    """Runs headless Chromium (no sandbox: tests run as root) on ``url`` for a virtual 20 s of scripts."""
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--disable-background-networking", "--disable-component-update", "--no-first-run",
                             f"--user-data-dir={user_data_dir}", "--window-size=1400,1400",
                             "--virtual-time-budget=20000", *outputs, url],
                            capture_output=True, text=True, timeout=SERVER_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def pixels_near(screenshot, color, left=360):
    """Pixels right of the runs sidebar (whose checkboxes wear the run colors) within 40 of ``color``."""
    pixels = np.asarray(Image.open(screenshot).convert("RGB"), np.int32)[:, left:]
    return int((np.abs(pixels - np.array(color)).sum(axis=-1) < 40).sum())


# Loads the page in a same-origin frame, then writes into the DOM each image that did not decode and each link
# whose target the server does not return.
_CHECKER = """<!doctype html><html><body><pre id="result">pending</pre>
<iframe id="page" src="{page}" width="1200" height="900"></iframe>
<script>
document.getElementById("page").addEventListener("load", async () => {{
  const page = document.getElementById("page").contentDocument;
  const images = [...page.images].map(image => ({{src: image.getAttribute("src"),
                                                  ok: image.complete && image.naturalWidth > 0}}));
  const links = [];
  for (const link of page.querySelectorAll("a[href]")) {{
    const response = await fetch(link.href).catch(() => null);
    links.push({{href: link.getAttribute("href"), ok: !!response && response.ok}});
  }}
  document.getElementById("result").textContent =
    "RESULT" + JSON.stringify({{title: page.title, images, links}}) + "END";
}});
</script></body></html>"""


@contextlib.contextmanager
def _serve_folder(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page_resources(folder, page, scratch):
    """``{"title", "images": [{src, ok}], "links": [{href, ok}]}`` of ``folder/page`` as Chromium loads it.

    The page is served from a site that links to ``folder``, so nothing is written into it.
    """
    site = scratch / "site"
    site.mkdir()
    (site / "page").symlink_to(folder.resolve(), target_is_directory=True)
    (site / "check.html").write_text(_CHECKER.format(page=f"page/{page}"))
    with _serve_folder(site) as url:
        dom = chromium(f"{url}/check.html", scratch / "chromium-profile", "--dump-dom")
    assert "RESULT" in dom, f"the checker page did not finish:\n{dom[-2000:]}"
    return json.loads(html.unescape(dom.split("RESULT", 1)[1].split("END", 1)[0]))
