"""Evaluates a model on the test images and writes the whole report folder: ``write_report(model, images, ...)``.

metrics.json, classification_report.txt, the confusion matrices, the misclassified grid, the training curves,
the t-SNE map, the Grad-CAM heat maps, and index.html, which shows them all; every file written atomically.
"""

import json
import os

from fmnist_tf.atomic import atomic_write
from fmnist_tf.reporting import confusion, curves, embedding, gradcam, index_page, misclassified
from fmnist_tf.reporting.metrics import classification_report_text, evaluation_metrics, softmax

METRICS_FILE = "metrics.json"
REPORT_FILE = "classification_report.txt"


def _write_text(path, text):
    with atomic_write(path) as stream:
        stream.write(text.encode("utf-8"))
    return path


def write_report(model, images, labels, class_names, report_dir, *, model_dir=None, tsne_size=2000,
                 gradcam_per_class=3, misclassified_count=30, batch_size=500, seed=0):
    """Writes the report of ``model`` (an ``EvaluatedModel``) on uint8 ``images`` [N,28,28,1] into ``report_dir``.

    ``model_dir``: where the training curves' event files are (None: no curves). Returns the metrics dict,
    with ``files`` (name -> path) and ``notes`` (what was skipped, and why) added.
    """
    os.makedirs(report_dir, exist_ok=True)
    logits = model.logits(images, batch_size=batch_size)
    probabilities = softmax(logits.astype("float64"))
    metrics = evaluation_metrics(labels, logits, class_names)
    metrics.update(model=model.description, kind=model.kind, global_step=model.global_step)
    report_text = classification_report_text(labels, logits, class_names)
    files, notes, sections = {}, [], []

    files["confusion_matrix"], files["confusion_matrix_normalized"] = confusion.plot_confusion_matrices(
        metrics["confusion_matrix"], class_names, report_dir)
    sections += [("Confusion matrix", confusion.COUNTS_FILE,
                  "Row: the true class; column: the predicted one. The diagonal holds the correct predictions; "
                  "a bright cell off it is a pair of classes the model confuses."),
                 ("Confusion matrix, normalized", confusion.NORMALIZED_FILE,
                  "The same, each row divided by its class's number of images: the diagonal is each class's "
                  "recall, so classes can be compared whatever their size.")]

    files["misclassified"], shown = misclassified.plot_misclassified(
        images, labels, probabilities, class_names, report_dir, count=misclassified_count)
    sections.append(("Most confident mistakes", misclassified.FILE,
                     f"The {shown} test images the model got wrong with the highest predicted probability. "
                     "Some are label noise, many are genuinely ambiguous (shirt or T-shirt, pullover or coat)."))

    files["training_curves"] = curves.plot_training_curves(model_dir, report_dir)
    if files["training_curves"]:
        sections.append(("Training curves", curves.FILE,
                         "Loss and accuracy against the global step, read from the model_dir's event files: "
                         "training, and each evaluation during training. Where the evaluation curve flattens "
                         "while the training loss still falls, more steps buy little."))
    else:
        notes.append("No training curves: " + ("a model file carries no event files." if model_dir is None
                                               else f"{model_dir} holds no loss or accuracy summaries."))

    if model.keras_model is None:
        notes.append("No t-SNE map and no Grad-CAM: the LiteRT interpreter of a .tflite model exposes neither "
                     "the penultimate-layer features nor gradients; evaluate the model_dir or the .keras file.")
        files["tsne"] = files["gradcam"] = None
    else:
        files["tsne"], tsne_count = embedding.plot_tsne(model.keras_model, images, labels, class_names,
                                                        report_dir, tsne_size, seed=seed)
        sections.append(("t-SNE map of the learned features", embedding.FILE,
                         f"{tsne_count} test images placed so that images with similar penultimate-layer "
                         "features lie close together, colored by their true class. Well-separated clusters "
                         "are classes the model finds easy; mixed clusters are the ones it confuses."))
        files["gradcam"] = gradcam.plot_gradcam(model.keras_model, images, labels, probabilities, class_names,
                                                report_dir, per_class=gradcam_per_class)
        if files["gradcam"]:
            sections.append(("Grad-CAM heat maps", gradcam.FILE,
                             "Where the model looked: the last convolution's activations weighted by the "
                             "gradient of the predicted class's logit. Red areas raised that logit most."))
        else:
            notes.append("No Grad-CAM: the model has no Conv2D layer at its top level.")

    files["classification_report"] = _write_text(os.path.join(report_dir, REPORT_FILE), report_text)
    metrics["notes"] = notes
    metrics["files"] = {name: os.path.basename(path) for name, path in files.items() if path}
    files["metrics"] = _write_text(os.path.join(report_dir, METRICS_FILE), json.dumps(metrics, indent=2) + "\n")
    files["index"] = index_page.write_index(report_dir, f"Evaluation of {model.description}", metrics,
                                            report_text, sections, notes)
    return {**metrics, "files": files}
