"""The data a run's workers read: features of the Fashion-MNIST files, computed once, saved as .npy files.

``paths = stage_features("data/fashion", "standard", folder, train_size=None)``: a dict of four .npy paths.
"""

import os

import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_baselines.features import make_features


def stratified_subsample(images, labels, size, seed):
    """``size`` examples with the class proportions of ``labels``; all of them when ``size`` is None."""
    if size is None or size >= len(labels):
        return images, labels
    images, _, labels, _ = train_test_split(images, labels, train_size=size, stratify=labels, random_state=seed)
    return images, labels


def stage_features(data_dir, features, folder, train_size=None, seed=0, pca_components=50, load=None):
    """Writes train/test features and labels of ``data_dir`` into ``folder``; returns their paths by part.

    ``load(data_dir, split)`` returns (uint8 images [N,28,28], labels [N]); it defaults to
    ``fmnist_tf.data.load_numpy``, imported only here because that package brings TensorFlow, which
    the worker processes (which re-import the runner) must not pay for.
    """
    if load is None:
        from fmnist_tf.data import load_numpy as load  # pylint: disable=import-outside-toplevel
    train_images, train_labels = stratified_subsample(*load(data_dir, "train"), train_size, seed)
    test_images, test_labels = load(data_dir, "test")
    train_x, test_x = make_features(features, train_images, test_images, pca_components)
    arrays = {"train_x": train_x, "train_y": train_labels.astype(np.int64),
              "test_x": test_x, "test_y": test_labels.astype(np.int64)}
    paths = {}
    for part, array in arrays.items():
        paths[part] = os.path.join(folder, f"{part}.npy")
        np.save(paths[part], array)
    return paths
