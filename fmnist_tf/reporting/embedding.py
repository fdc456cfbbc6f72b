"""A t-SNE map of the penultimate-layer features of test images, colored by class.

``plot_tsne(model, images, labels, class_names, report_dir, sample_size=2000)``.
"""

import os

import keras
import numpy as np
from sklearn.manifold import TSNE

from fmnist_tf.reporting.figures import pyplot, save_figure

FILE = "tsne.png"


def penultimate_features(model, images, batch_size=500):
    """float32 [N, D]: the output of the layer before the logits (the dropout passes it through at
    inference)."""
    extractor = keras.Model(model.input, model.layers[-2].output)
    return np.concatenate([np.asarray(extractor(images[start:start + batch_size], training=False))
                           .reshape(len(images[start:start + batch_size]), -1)
                           for start in range(0, len(images), batch_size)])


def tsne_map(features, seed):
    """[N, 2] t-SNE coordinates; perplexity 30, or less for a small sample (it must stay below
    N)."""
    perplexity = min(30.0, (len(features) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca",
                random_state=seed).fit_transform(features)


def plot_tsne(model, images, labels, class_names, report_dir, sample_size, seed=0):
    """Writes the map of ``sample_size`` test images drawn at random (seeded); returns (path, images
    used)."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(images), size=min(sample_size, len(images)), replace=False))
    coordinates = tsne_map(penultimate_features(model, images[chosen]), seed)
    figure, axes = pyplot.subplots(figsize=(9, 8), layout="constrained")
    colors = pyplot.get_cmap("tab10")
    for class_id, name in enumerate(class_names):
        mine = labels[chosen] == class_id
        axes.scatter(coordinates[mine, 0], coordinates[mine, 1], s=8, color=colors(class_id % 10),
                     label=name)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=3, fontsize=11,
                frameon=False)
    axes.set_title(f"t-SNE of the penultimate layer's features ({model.layers[-2].name!r}), "
                   f"{len(chosen)} test images", fontsize=13)
    return save_figure(figure, os.path.join(report_dir, FILE)), len(chosen)
