"""Matplotlib on the Agg backend, and saving a figure atomically: ``save_figure(figure,
"report/cm.png")``.

Every plot module imports ``pyplot`` from here, so the backend is chosen before pyplot first loads.
"""

import io

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI; PNGs only
from matplotlib import pyplot  # noqa: E402  (after the backend is chosen)

from fmnist_tf.atomic import atomic_write  # noqa: E402

DPI = 110


def save_figure(figure, path):
    """Writes ``figure`` as a PNG under ``path`` (complete or not at all), closes it, returns
    ``path``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    pyplot.close(figure)
    with atomic_write(path) as stream:
        stream.write(buffer.getvalue())
    return path
