"""The data layer: verified dataset files on disk in, tf.data.Datasets of (uint8 images, int32
labels) out.

``fetch("fashion_mnist", "data/fashion")``, then ``make_dataset("data/fashion", "train",
batch_size=400)``.
"""

from fmnist_tf.data.catalog import (FASHION_MNIST, IMAGENET, MNIST, DatasetSpec, FileSpec,
                                    get_dataset_spec)
from fmnist_tf.data.csv import csv_dataset, write_csv
from fmnist_tf.data.errors import (ChecksumError, CsvFormatError, DataError, IdxFormatError,
                                   MissingFilesError)
from fmnist_tf.data.fetch import fetch
from fmnist_tf.data.idx import (load_numpy, read_idx_array, read_idx_header, read_idx_images,
                                read_idx_labels, write_idx)
from fmnist_tf.data.input_fns import (dataset_class_names, dataset_image_shape,
                                      make_imagenet_input_fns, make_input_fns)
from fmnist_tf.data.pipeline import idx_dataset, make_dataset, num_examples, stratified_split

__all__ = [
    "FASHION_MNIST", "MNIST", "DatasetSpec", "FileSpec", "get_dataset_spec",
    "csv_dataset", "write_csv",
    "ChecksumError", "CsvFormatError", "DataError", "IdxFormatError", "MissingFilesError",
    "fetch",
    "load_numpy", "read_idx_array", "read_idx_header", "read_idx_images", "read_idx_labels",
    "write_idx",
    "IMAGENET", "dataset_class_names", "dataset_image_shape", "make_imagenet_input_fns",
    "make_input_fns",
    "idx_dataset", "make_dataset", "num_examples", "stratified_split",
]
