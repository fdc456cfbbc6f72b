"""Grad-CAM heat maps on the last convolution: where in an image the evidence for the predicted
class lies.

``plot_gradcam(model, images, labels, class_names, report_dir, per_class=3)``; Selvaraju et al.,
2017.
"""

import os

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from fmnist_tf.reporting.figures import pyplot, save_figure

FILE = "gradcam.png"


def last_conv_layer(model):
    """The last Conv2D layer of ``model``, or None when it has none at its top level."""
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return convolutions[-1] if convolutions else None


def gradcam_heatmaps(model, images, conv_layer):
    """float32 [N, H, W] in [0, 1], image-sized: the predicted class's gradient-weighted conv
    activations."""
    mapper = keras.Model(model.input, [conv_layer.output, model.output])
    heatmaps = []
    for image in tqdm(images, desc="Grad-CAM", unit="image"):
        with tf.GradientTape() as tape:
            activations, logits = mapper(image[np.newaxis], training=False)
            score = logits[0, tf.argmax(logits[0])]
        gradients = tape.gradient(score, activations)
        # One weight per channel: its gradient averaged over the positions.
        weights = tf.reduce_mean(gradients, axis=(1, 2))
        heatmap = tf.nn.relu(tf.reduce_sum(activations * weights[:, tf.newaxis, tf.newaxis, :],
                                           axis=-1))[0]
        heatmap = heatmap / (tf.reduce_max(heatmap) + 1e-8)
        heatmaps.append(tf.image.resize(heatmap[..., tf.newaxis], image.shape[:2])[..., 0].numpy())
    return np.stack(heatmaps)


def pick_per_class(labels, per_class, num_classes):
    """Indices of the first ``per_class`` test images of each class, class by class."""
    return np.concatenate([np.flatnonzero(labels == class_id)[:per_class]
                           for class_id in range(num_classes)])


def plot_gradcam(model, images, labels, probabilities, class_names, report_dir, per_class=3):
    """Writes one row per class: each image with its heat map over it; returns the path, or None
    without a conv."""
    conv_layer = last_conv_layer(model)
    if conv_layer is None:
        return None
    chosen = pick_per_class(labels, per_class, len(class_names))
    heatmaps = gradcam_heatmaps(model, images[chosen], conv_layer)
    rows = len(class_names)
    figure, axes = pyplot.subplots(rows, per_class, figsize=(2.6 * per_class, 2.3 * rows),
                                   squeeze=False, layout="constrained")
    for axis in axes.flat:
        axis.axis("off")
    for position, (index, heatmap) in enumerate(zip(chosen, heatmaps)):
        label = int(labels[index])
        axis = axes[label, int(np.sum(labels[chosen][:position] == label))]
        predicted = int(np.argmax(probabilities[index]))
        axis.imshow(images[index].squeeze(), cmap="gray", vmin=0, vmax=255)
        axis.imshow(heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        color = "black" if predicted == label else "darkred"
        axis.set_title(f"{class_names[label]} -> {class_names[predicted]}", fontsize=9, color=color)
    figure.suptitle(f"Grad-CAM on {conv_layer.name!r}: red is where the predicted class's "
                    "evidence lies\n"
                    "(title: true -> predicted class, red when wrong)", fontsize=12)
    return save_figure(figure, os.path.join(report_dir, FILE))
