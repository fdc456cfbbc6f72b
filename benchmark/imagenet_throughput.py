"""ImageNet-style throughput: the JPEG and TFRecord input pipelines, and ResNet50 training and inference.

``benchmark/throughput.py --sections=imagenet [--imagenet_dir=/data/ILSVRC2012]`` times what these functions
return: ``pipeline_methods``, ``training_methods`` and ``inference_methods`` give zero-argument callables, each
returning the images/second of one call. Without a folder, ``write_synthetic_imagenet`` makes an ILSVRC-layout
tree of generated JPEGs to read.
"""

import dataclasses
import os
import tempfile
import time

import keras
import numpy as np
from PIL import Image

from fmnist_tf import estimator, models
from fmnist_tf.data import imagenet
from fmnist_tf.training.model_fn import dtype_policy, make_model_fn

IMAGENET_NUM_CLASSES = 1000  # ResNet50 keeps ImageNet's 1,000 logits whatever subset it reads
SYNTHETIC_IMAGE_SIZE = (500, 375)  # (width, height): the commonest ImageNet size
_SYNTHETIC_JPEG_QUALITY = 90
TFRECORD_SHARDS = 4


@dataclasses.dataclass(frozen=True)
class ImagenetBenchmark:
    """What the ImageNet section reads and runs; sizes are small because ResNet50 on a CPU is slow."""
    data_dir: str
    num_classes: int = 10  # the first N wnids of the tree
    examples_per_class: int = 50
    image_size: int = 224
    batch_size: int = 32
    steps: int = 5  # timed training steps per repeat
    warmup_steps: int = 2
    inference_batches: int = 2
    dtypes: tuple[str, ...] = ("float32", "bfloat16")

    @property
    def num_images(self):
        return imagenet.num_imagenet_examples(self.data_dir, "train", self.num_classes, self.examples_per_class)


def _synthetic_jpeg(rng, size):
    # Smooth colour fields with mild noise: they compress like photographs (tens of kB), where white noise
    # would make JPEGs several times larger and slower to decode than ImageNet's.
    width, height = size
    coarse = rng.integers(0, 256, size=(height // 25 + 1, width // 25 + 1, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize(size, Image.BICUBIC), dtype=np.float32)
    pixels = np.clip(smooth + rng.normal(0.0, 6.0, smooth.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def write_synthetic_imagenet(root, num_classes, examples_per_class, size=SYNTHETIC_IMAGE_SIZE, seed=0):
    """Writes ``root/train/<wnid>/<wnid>_<i>.JPEG``, seeded; returns the mean file size in bytes."""
    rng = np.random.default_rng(seed)
    sizes = []
    for label in range(num_classes):
        wnid = f"n{label:08d}"
        class_dir = os.path.join(root, "train", wnid)
        os.makedirs(class_dir, exist_ok=True)
        for index in range(examples_per_class):
            path = os.path.join(class_dir, f"{wnid}_{index + 1}.JPEG")
            _synthetic_jpeg(rng, size).save(path, "JPEG", quality=_SYNTHETIC_JPEG_QUALITY)
            sizes.append(os.path.getsize(path))
    return float(np.mean(sizes))


def _dataset(settings, data_dir, training, source="jpeg", repeat=False):
    return imagenet.make_imagenet_dataset(
        data_dir, "train", settings.batch_size, settings.image_size, settings.num_classes,
        settings.examples_per_class, shuffle=training, seed=0, training=training, source=source, repeat=repeat,
        drop_remainder=repeat)


def pipeline_methods(settings, tfrecord_dir):
    """Zero-argument callables reading the subset once, without a model: JPEG training crops, JPEG evaluation
    crops, and training crops from TFRecord shards written into ``tfrecord_dir`` first."""
    imagenet.write_imagenet_tfrecords(settings.data_dir, tfrecord_dir, "train", TFRECORD_SHARDS,
                                      settings.num_classes, settings.examples_per_class, progress=False)

    def read_once(dataset):
        return lambda: sum(1 for _ in dataset)

    return {
        "JPEG, training (decode + random resized crop + flip)": read_once(_dataset(settings, settings.data_dir, True)),
        "JPEG, evaluation (decode + resize + center crop)": read_once(_dataset(settings, settings.data_dir, False)),
        "TFRecord shards, training crops": read_once(_dataset(settings, tfrecord_dir, True, source="tfrecord")),
    }


def _resnet50_params(settings):
    return {"num_classes": IMAGENET_NUM_CLASSES, "input_shape": (settings.image_size, settings.image_size, 3)}


def _estimator_training_rate(settings, dtype, model_dir):
    """A callable timing ``Estimator.train(steps=settings.steps)`` of ResNet50 in ``dtype``, after a warm-up call."""
    config = estimator.RunConfig(model_dir=model_dir, save_checkpoints_steps=10**9, save_summary_steps=10**9,
                                 log_step_count_steps=10**9, steps_per_loop=max(settings.steps, settings.warmup_steps))
    runner = estimator.Estimator(make_model_fn("resnet50", "momentum", 0.1, seed=0, dtype=dtype), config=config,
                                 params=_resnet50_params(settings))
    dataset = _dataset(settings, settings.data_dir, training=True, repeat=True)
    runner.train(lambda: dataset, steps=settings.warmup_steps)

    def rate():
        started = time.perf_counter()
        runner.train(lambda: dataset, steps=settings.steps)
        return settings.steps * settings.batch_size / (time.perf_counter() - started)

    return rate


def training_methods(settings, scratch_dir):
    """{name: callable returning images/s}, one Estimator per dtype, built and warmed up here."""
    return {_dtype_name("ResNet50 training, Estimator loop", dtype):
            _estimator_training_rate(settings, dtype, tempfile.mkdtemp(prefix=f"{dtype}_", dir=scratch_dir))
            for dtype in settings.dtypes}


def evaluation_images(settings):
    """uint8 [N, S, S, 3]: the first ``inference_batches`` batches of evaluation crops."""
    batches = _dataset(settings, settings.data_dir, training=False).take(settings.inference_batches)
    return np.concatenate([images for images, _ in batches.as_numpy_iterator()])


def inference_methods(settings, images):
    """Zero-argument callables classifying ``images`` with ResNet50's ``model.predict`` per dtype, each warmed up."""
    methods = {}
    for dtype in settings.dtypes:
        keras.utils.set_random_seed(0)
        with dtype_policy(dtype):
            model = models.build("resnet50", **_resnet50_params(settings))
        predict = (lambda model: lambda: model.predict(images, batch_size=settings.batch_size, verbose=0))(model)
        predict()
        methods[_dtype_name("ResNet50 inference, model.predict", dtype)] = predict
    return methods


def _dtype_name(method, dtype):
    return f"{method}, {'float32' if dtype == 'float32' else f'{dtype} mixed precision'}"
