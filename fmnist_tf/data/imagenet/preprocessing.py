"""ImageNet image preprocessing on encoded bytes: the field's training crop and evaluation crop, as
tf ops.

``random_resized_crop(encoded, 224, seed)`` for training, ``center_crop(encoded, 224)`` for
evaluation; both return float32 [224, 224, 3] on the 0-255 scale, and ``finish(image, preprocess)``
makes the dataset's output.
"""

import tensorflow as tf

# The Inception crop (Szegedy et al., 2015) as ResNet and EfficientNet training use it.
CROP_AREA_RANGE = (0.08, 1.0)
CROP_ASPECT_RATIO_RANGE = (3 / 4, 4 / 3)
CROP_MIN_OBJECT_COVERED = 0.1
CROP_MAX_ATTEMPTS = 10
# Evaluation resizes the short side to 256 px for a 224 px center crop (a crop of 87.5%).
EVAL_RESIZE_RATIO = 256 / 224
_WHOLE_IMAGE_BOX = ((0.0, 0.0, 1.0, 1.0),)


def decode_rgb(encoded):
    """uint8 [h, w, 3] from JPEG (RGB, grayscale or CMYK), PNG, GIF (first frame), BMP or WebP
    bytes."""
    return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def _image_shape(encoded):
    # A JPEG's shape is in its header; anything else is decoded to learn it (rare in ImageNet: a few
    # PNGs).
    return tf.cond(tf.io.is_jpeg(encoded),
                   lambda: tf.io.extract_jpeg_shape(encoded),
                   lambda: tf.shape(decode_rgb(encoded)))


def random_resized_crop(encoded, image_size, seed):
    """A random crop of 8-100% of the area and aspect 3/4-4/3, resized to ``image_size``, flipped
    half the time.

    ``seed`` is a stateless seed, int [2]: the same seed gives the same crop and flip. A JPEG
    decodes only its crop window (several times faster than decoding the whole image).
    """
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        _image_shape(encoded), bounding_boxes=tf.constant([_WHOLE_IMAGE_BOX]), seed=crop_seed,
        min_object_covered=CROP_MIN_OBJECT_COVERED, aspect_ratio_range=CROP_ASPECT_RATIO_RANGE,
        area_range=CROP_AREA_RANGE, max_attempts=CROP_MAX_ATTEMPTS,
        use_image_if_no_bounding_boxes=True)
    crop_window = tf.concat([begin[:2], size[:2]], axis=0)
    crop = tf.cond(tf.io.is_jpeg(encoded),
                   lambda: tf.io.decode_and_crop_jpeg(encoded, crop_window, channels=3),
                   lambda: tf.slice(decode_rgb(encoded), begin, size))
    image = tf.image.resize(crop, [image_size, image_size])
    return tf.image.stateless_random_flip_left_right(image, flip_seed)


def center_crop(encoded, image_size):
    """The short side resized to ``image_size * 256 / 224`` (aspect kept), then the central
    ``image_size`` square."""
    image = decode_rgb(encoded)
    height_width = tf.cast(tf.shape(image)[:2], tf.float32)
    resize_size = round(image_size * EVAL_RESIZE_RATIO)
    scale = resize_size / tf.reduce_min(height_width)
    new_size = tf.maximum(tf.cast(tf.round(height_width * scale), tf.int32), resize_size)
    image = tf.image.resize(image, new_size)
    offset = (new_size - image_size) // 2
    return tf.slice(image, tf.concat([offset, [0]], axis=0), [image_size, image_size, 3])


def finish(image, preprocess=None):
    """uint8 pixels (rounded) when ``preprocess`` is None (the models here scale inside); else
    ``preprocess(image)``."""
    if preprocess is None:
        return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    return preprocess(image)
