"""The report's ``index.html``: the figures with a short explanation each, the metrics and the
notes.

``write_index(report_dir, title, metrics, report_text, sections, notes)``; each section is
(heading, image file or None, text).
"""

import html
import os

from fmnist_tf.atomic import atomic_write

FILE = "index.html"
_STYLE = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.5}"
          "img{max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:1em}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:0.3em 0.8em}")


def _metrics_table(metrics):
    rows = [("accuracy", f"{metrics['accuracy']:.4f}"),
            ("loss (mean cross-entropy)", f"{metrics['loss']:.4f}"),
            ("test images", str(metrics["num_examples"])),
            ("misclassified", str(metrics["num_errors"]))]
    return "<table>" + "".join(f"<tr><th>{name}</th><td>{value}</td></tr>"
                               for name, value in rows) + "</table>"


def render_index(title, metrics, report_text, sections, notes):
    """The page as text; every figure is an ``<img>`` of its file name, relative to the report
    folder."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             _metrics_table(metrics),
             "<h2>Classification report</h2><p>Precision: of the images predicted as a class, "
             "the share that is it; recall: of the images of a class, the share found; F1: their "
             "harmonic mean.</p>",
             f"<pre>{html.escape(report_text)}</pre>"]
    for heading, image, text in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(text)}</p>")
        if image:
            parts.append(f"<img src='{html.escape(image)}' alt='{html.escape(heading)}'>")
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(note)}</li>"
                                                    for note in notes) + "</ul>")
    parts.append("<p>Files: <a href='metrics.json'>metrics.json</a>, "
                 "<a href='classification_report.txt'>classification_report.txt</a>."
                 "</p></body></html>")
    return "\n".join(parts)


def write_index(report_dir, title, metrics, report_text, sections, notes):
    path = os.path.join(report_dir, FILE)
    with atomic_write(path) as stream:
        stream.write(render_index(title, metrics, report_text, sections, notes).encode("utf-8"))
    return path
