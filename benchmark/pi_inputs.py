"""What the Pi check classifies: the first test images as a .gz IDX file, and folders of "photos".

``paths, labels = write_inputs("work", "data/fashion", num_images=300, num_photos=4)`` writes
work/inputs/ and returns the paths (relative to work, where the predictor runs) by the
``--background`` they are to be given, and each input's label by the name the predictor gives it.
"""

import os

from PIL import Image

from fmnist_tf.data import load_numpy, write_idx

# A photo: the 28x28 item enlarged this many times, off-centre on a canvas of this size (width,
# height), so that the predictor has to trim, scale and centre it as it would a camera's picture.
PHOTO_SCALE = 6
PHOTO_CANVAS = (240, 200)
PHOTO_OFFSET = (48, 20)
JPEG_QUALITY = 90


def photo(pixels, dark_item_on_white):
    """An RGB photo of a uint8 [28, 28] image, enlarged, on white (the item inverted) or black."""
    item = Image.fromarray(pixels).resize((28 * PHOTO_SCALE, 28 * PHOTO_SCALE), Image.LANCZOS)
    if dark_item_on_white:
        item = Image.eval(item, lambda value: 255 - value)
    canvas = Image.new("L", PHOTO_CANVAS, 255 if dark_item_on_white else 0)
    canvas.paste(item, PHOTO_OFFSET)
    return canvas.convert("RGB")


def write_photos(work_dir, folder, images, labels, first_index):
    """PNGs of light items on black and JPEGs of dark items on white, alternating, in the folders
    photos_on_black and photos_on_white of ``work_dir/folder``; returns {background: [the folder]}
    for each folder written, and {photo path as the predictor names it: label}."""
    folders, photo_labels = {}, {}
    for offset, (pixels, label) in enumerate(zip(images, labels)):
        on_white = offset % 2 == 1
        photos = os.path.join(folder, "photos_on_white" if on_white else "photos_on_black")
        os.makedirs(os.path.join(work_dir, photos), exist_ok=True)
        name = f"photo_{first_index + offset:05d}.{'jpg' if on_white else 'png'}"
        path = os.path.join(photos, name)
        options = {"quality": JPEG_QUALITY} if on_white else {}
        photo(pixels, on_white).save(os.path.join(work_dir, path), **options)
        folders["light" if on_white else "dark"] = [photos]
        photo_labels[path] = int(label)
    return folders, photo_labels


def write_inputs(work_dir, data_dir, num_images, num_photos, folder="inputs"):
    """The first ``num_images`` test images as a .gz IDX file and ``num_photos`` photos of the test
    images after them, in ``work_dir/folder``; returns ({background: [paths]}, {input: label}), the
    IDX file first under "dark"."""
    images, labels = load_numpy(data_dir, "test")
    if num_images + num_photos > len(images):
        raise ValueError(f"{num_images} images and {num_photos} photos: more than the "
                         f"{len(images)} test images")
    os.makedirs(os.path.join(work_dir, folder), exist_ok=True)
    idx_path = os.path.join(folder, f"test_first_{num_images}-images-idx3-ubyte.gz")
    write_idx(os.path.join(work_dir, idx_path), images[:num_images])
    photo_range = slice(num_images, num_images + num_photos)
    paths, input_labels = write_photos(work_dir, folder, images[photo_range], labels[photo_range],
                                       num_images)
    paths["dark"] = [idx_path, *paths.get("dark", [])]
    input_labels.update({f"{idx_path}[{index}]": int(label)
                         for index, label in enumerate(labels[:num_images])})
    return paths, input_labels
