"""Photos and IDX files turned into what the model saw in training: uint8 [N, 28, 28], the item light on black.

``names, pixels = load_inputs(["shirt.jpg", "photos/", "t10k-images-idx3-ubyte.gz"], background="light")``.
"""

import gzip
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fmnist_tf.edge.errors import ImageFileError

IMAGE_SIZE = 28
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
BACKGROUNDS = ("dark", "light", "auto")
# A photo's pixels this bright above the background, as a share of the brightest, belong to the item.
TRIM_THRESHOLD = 0.1
GZIP_MAGIC = b"\x1f\x8b"
# A decompression bomb stops here: 1.3 million images of 28x28, far more than a device classifies at once.
MAX_IDX_BYTES = 1 << 30
# IDX: two zero bytes, the element type (0x08: uint8), the number of dimensions, then each size (big-endian).
IDX_MAGIC_ZERO_BYTES = b"\x00\x00"
IDX_DTYPE_UINT8 = 0x08
IDX_IMAGE_DIMS = 3
IDX_HEADER_BYTES = 4 + 4 * IDX_IMAGE_DIMS


def _border_median(gray):
    return float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))


def frame_like_fashion_mnist(gray):
    """Fashion-MNIST's own steps for a product photo (light item on dark): push the background to 0, trim it,
    fit the longest edge to 28 pixels and centre the item on a 28x28 black canvas."""
    lifted = np.clip(gray.astype(np.float32) - _border_median(gray), 0, None)
    peak = lifted.max()
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    if peak == 0:
        return canvas
    lifted *= 255.0 / peak
    rows, columns = np.nonzero(lifted > TRIM_THRESHOLD * 255)
    item = lifted[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    height, width = item.shape
    scale = IMAGE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(Image.fromarray(item.round().astype(np.uint8)).resize(size, Image.LANCZOS))
    top, left = (IMAGE_SIZE - size[1]) // 2, (IMAGE_SIZE - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = resized
    return canvas


def to_model_pixels(image, background="dark"):
    """uint8 [28, 28] from a Pillow image of any size and mode.

    ``background``: "dark" (the dataset's look: light item on black), "light" (a photo of a dark item on a
    light background: inverted) or "auto" (light when the border is mostly bright). A 28x28 image is taken to
    be framed like the dataset already and is only converted to gray (and inverted if asked).
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background is {background!r}; expected one of {BACKGROUNDS}")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent parts become background, of the shade the photo's background is said to have.
        fill = (255, 255, 255, 255) if background == "light" else (0, 0, 0, 255)
        image = Image.alpha_composite(Image.new("RGBA", image.size, fill), image.convert("RGBA"))
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    if background == "auto":
        background = "light" if _border_median(gray) > 127 else "dark"
    if background == "light":
        gray = 255 - gray
    if gray.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return gray
    return frame_like_fashion_mnist(gray)


def read_idx_images(path, raw):
    """uint8 [N, 28, 28] from the bytes of an IDX images file (``raw``, already decompressed)."""
    expected_start = IDX_MAGIC_ZERO_BYTES + bytes([IDX_DTYPE_UINT8, IDX_IMAGE_DIMS])
    if raw[:4] != expected_start:
        raise ImageFileError(f"{path}: bytes 0-3 are 0x{raw[:4].hex()}; expected 0x{expected_start.hex()} "
                             "(IDX, uint8, 3 dimensions: an images file)")
    if len(raw) < IDX_HEADER_BYTES:
        raise ImageFileError(f"{path}: {len(raw)} bytes; expected an IDX header of {IDX_HEADER_BYTES}")
    count, height, width = struct.unpack(">3I", raw[4:IDX_HEADER_BYTES])
    if (height, width) != (IMAGE_SIZE, IMAGE_SIZE):
        raise ImageFileError(f"{path}: bytes 8-15 give images of {height}x{width}; expected {IMAGE_SIZE}x{IMAGE_SIZE}")
    expected = IDX_HEADER_BYTES + count * height * width
    if len(raw) != expected:
        raise ImageFileError(f"{path}: {len(raw)} bytes; expected {expected} for {count} images of {height}x{width}")
    return np.frombuffer(raw, np.uint8, offset=IDX_HEADER_BYTES).reshape(count, height, width)


def _read_file(path, background):
    """(names, uint8 [N, 28, 28]) of one file: an IDX file (raw or .gz) or an image Pillow reads."""
    with open(path, "rb") as stream:
        start = stream.read(4)
    if start[:2] == GZIP_MAGIC or start[:3] == IDX_MAGIC_ZERO_BYTES + bytes([IDX_DTYPE_UINT8]):
        try:
            with (gzip.open if start[:2] == GZIP_MAGIC else open)(path, "rb") as stream:
                raw = stream.read(MAX_IDX_BYTES + 1)
        except (OSError, EOFError, zlib.error) as error:
            raise ImageFileError(f"{path}: not a readable gzip stream: {error}") from None
        if len(raw) > MAX_IDX_BYTES:
            raise ImageFileError(f"{path}: over {MAX_IDX_BYTES:,} bytes once decompressed; expected an IDX file of "
                                 "28x28 images (a few MB per 10,000)")
        pixels = read_idx_images(path, raw)
        return [f"{path}[{index}]" for index in range(len(pixels))], pixels
    try:
        with Image.open(path) as image:
            return [os.fspath(path)], to_model_pixels(image, background)[np.newaxis]
    except (UnidentifiedImageError, OSError) as error:
        raise ImageFileError(f"{path}: neither an image Pillow reads (PNG, JPEG, ...) nor an IDX file: {error}") from None


def image_files_in(folder):
    """The image files of a folder (by suffix), sorted by name."""
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_SUFFIXES))
    if not names:
        raise ImageFileError(f"{folder}: no image files; expected some of {', '.join(IMAGE_SUFFIXES)}")
    return [os.path.join(folder, name) for name in names]


def load_inputs(paths, background="auto"):
    """(names, uint8 [N, 28, 28]) of every image: files, folders of images and IDX files, in the order given."""
    names, batches = [], []
    for path in paths:
        for file_path in image_files_in(path) if os.path.isdir(path) else [path]:
            file_names, pixels = _read_file(file_path, background)
            names += file_names
            batches.append(pixels)
    pixels = np.concatenate(batches) if batches else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    return names, pixels
