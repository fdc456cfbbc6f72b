"""The Embedding Projector's files for a model_dir: penultimate-layer features of test images, a
sprite, class names.

``write_projector(model_dir, model, test_dataset, class_names, max_examples=1000)`` after training;
then ``tensorboard --logdir=model_dir`` shows the features in its Projector tab, as thumbnails
colored by class.
"""

import math
import os

import keras
import numpy as np
from PIL import Image
from tensorboard.plugins import projector

from fmnist_tf.atomic import atomic_write

PROJECTOR_DIR = "projector"  # inside model_dir, beside projector_config.pbtxt that points into it
TENSOR_NAME = "penultimate_features"


def penultimate_features(model, images, batch_size=500):
    """The input of the model's last layer (the logits layer) for each image, in inference mode."""
    if not model.inputs:
        raise ValueError(f"{model.name} declares no inputs; the projector needs a functional model "
                         "to read its penultimate layer")
    extractor = keras.Model(model.input, model.layers[-1].input)
    return np.concatenate([np.asarray(extractor(images[start:start + batch_size], training=False))
                           for start in range(0, len(images), batch_size)])


def write_projector(model_dir, model, dataset, class_names, max_examples):
    """Writes features, metadata and sprite under ``model_dir/projector`` and the config beside
    them.

    ``dataset`` yields ``(images, labels)`` batches; its first ``max_examples`` examples are used.
    Returns the number of examples written.
    """
    images, labels = _first_examples(dataset, max_examples)
    features = penultimate_features(model, images)
    folder = os.path.join(model_dir, PROJECTOR_DIR)
    os.makedirs(folder, exist_ok=True)
    with atomic_write(os.path.join(folder, "features.tsv")) as stream:
        np.savetxt(stream, features.reshape(len(features), -1), fmt="%.6g", delimiter="\t")
    # Two columns need a header row; the projector then offers both for labels and colors.
    rows = ["label\tclass"] + [f"{label}\t{class_names[label]}" for label in labels]
    with atomic_write(os.path.join(folder, "metadata.tsv")) as stream:
        stream.write(("\n".join(rows) + "\n").encode())
    sprite = _sprite(images)
    with atomic_write(os.path.join(folder, "sprite.png")) as stream:
        Image.fromarray(sprite).save(stream, format="PNG")

    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = TENSOR_NAME
    # Paths relative to model_dir, so a copied or moved model_dir still shows its projector.
    embedding.tensor_path = f"{PROJECTOR_DIR}/features.tsv"
    embedding.metadata_path = f"{PROJECTOR_DIR}/metadata.tsv"
    embedding.sprite.image_path = f"{PROJECTOR_DIR}/sprite.png"
    embedding.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])  # width, height
    with atomic_write(os.path.join(model_dir, "projector_config.pbtxt")) as stream:
        stream.write(str(config).encode())
    return len(labels)


def _first_examples(dataset, max_examples):
    images, labels, count = [], [], 0
    for batch_images, batch_labels in dataset:
        images.append(np.asarray(batch_images)[:max_examples - count])
        labels.append(np.asarray(batch_labels)[:max_examples - count])
        count += len(labels[-1])
        if count >= max_examples:
            break
    if not count:
        raise ValueError("the projector's dataset gave no examples")
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def _sprite(images):
    """The images tiled row by row into the square the projector expects, blank cells at the end."""
    images = images[..., 0] if images.ndim == 4 and images.shape[-1] == 1 else images
    side = math.ceil(math.sqrt(len(images)))
    height, width = images.shape[1:3]
    sprite = np.zeros((side * height, side * width, *images.shape[3:]), np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, side)
        sprite[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    return sprite
