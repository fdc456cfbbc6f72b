"""The evaluation report: a trained model on the test split, as metrics, plots and an
``index.html``.

``write_report(load_evaluated_model("runs/convnet"), images, labels, class_names, "report",
model_dir=...)``; ``python -m fmnist_tf.evaluate`` does it from flags.
"""

from fmnist_tf.reporting.errors import ModelFileError, ReportError
from fmnist_tf.reporting.metrics import classification_report_text, evaluation_metrics
from fmnist_tf.reporting.models import EvaluatedModel, load_evaluated_model
from fmnist_tf.reporting.report import write_report

__all__ = [
    "ModelFileError", "ReportError",
    "classification_report_text", "evaluation_metrics",
    "EvaluatedModel", "load_evaluated_model",
    "write_report",
]
