"""Test-set figures from labels and logits: accuracy, loss, per-class scores, scikit-learn's
classification report.

``evaluation_metrics(labels, logits, class_names)`` -> a JSON-ready dict.
"""

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def evaluation_metrics(labels, logits, class_names):
    """Accuracy and mean cross-entropy as the Estimator's evaluate() computes them; scikit-learn's
    per-class scores."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = softmax(logits.astype(np.float64))
    predictions = np.argmax(logits, axis=1)
    classes = list(range(len(class_names)))
    report = classification_report(labels, predictions, labels=classes,
                                   target_names=list(class_names), output_dict=True,
                                   zero_division=0)
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "loss": float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels],
                                                 1e-12)))),
        "num_examples": int(len(labels)),
        "num_errors": int(np.sum(predictions != labels)),
        "per_class": {name: {key: float(value) for key, value in report[name].items()}
                      for name in class_names},
        "macro_avg": {key: float(value) for key, value in report["macro avg"].items()},
        "confusion_matrix": confusion_matrix(labels, predictions, labels=classes).tolist(),
    }


def classification_report_text(labels, logits, class_names):
    """scikit-learn's classification report, as text: precision, recall, F1 and support per
    class."""
    return classification_report(labels, np.argmax(logits, axis=1),
                                 labels=list(range(len(class_names))),
                                 target_names=list(class_names), digits=4, zero_division=0)
