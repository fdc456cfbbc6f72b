"""ImageNet (ILSVRC2012) input: the folder layout, tf.data pipelines with the field's crops,
TFRecord shards.

``make_imagenet_dataset("/data/ILSVRC2012", "train", batch_size=256, shuffle=True, seed=1)`` yields
(uint8 [B, 224, 224, 3], int32 [B]); ``find_bad_images`` lists files that do not decode;
``write_imagenet_tfrecords`` converts a split once, read back with ``source="tfrecord"``.
"""

from fmnist_tf.data.imagenet.dataset import (find_bad_images, make_imagenet_dataset,
                                             num_imagenet_examples)
from fmnist_tf.data.imagenet.layout import (ClassIndex, list_imagenet_files, list_split_files,
                                            read_class_index, read_synset_words)
from fmnist_tf.data.imagenet.preprocessing import center_crop, decode_rgb, random_resized_crop
from fmnist_tf.data.imagenet.tfrecords import read_manifest, write_imagenet_tfrecords

__all__ = [
    "find_bad_images", "list_imagenet_files", "make_imagenet_dataset", "num_imagenet_examples",
    "ClassIndex", "list_split_files", "read_class_index", "read_synset_words",
    "center_crop", "decode_rgb", "random_resized_crop",
    "read_manifest", "write_imagenet_tfrecords",
]
