"""What the Pi check classifies: the first test images as one .gz IDX file, and folders of "photos" of others.

``paths, labels = write_inputs("work", "data/fashion", num_images=300, num_photos=4)`` writes work/inputs/: the
paths (relative to work, where the predictor runs) by the ``--background`` it is to be given, and each input's label.
"""

import os

from PIL import Image

from fmnist_tf.data import load_numpy, write_idx

# A photo: the 28x28 item enlarged this many times, off-centre on a canvas of this size (width, height), so
# that the predictor has to trim, scale and centre it as it would a camera's picture.
PHOTO_SCALE = 6
PHOTO_CANVAS = (240, 200)
PHOTO_OFFSET = (48, 20)
JPEG_QUALITY = 90


def photo(pixels, dark_item_on_white):
    """An RGB photo of one uint8 [28, 28] image: enlarged, on a white sheet (the item inverted) or on black."""
    item = Image.fromarray(pixels).resize((28 * PHOTO_SCALE, 28 * PHOTO_SCALE), Image.LANCZOS)
    canvas = Image.new("L", PHOTO_CANVAS, 255 if dark_item_on_white else 0)
    canvas.paste(Image.eval(item, lambda value: 255 - value) if dark_item_on_white else item, PHOTO_OFFSET)
    return canvas.convert("RGB")


def write_photos(work_dir, folder, images, labels, first_index):
    """PNGs of light items on black and JPEGs of dark items on white, alternating, from ``images``, in the folders
    ``work_dir/folder/photos_on_black`` and ``photos_on_white``; returns {background: [the folders that have
    photos]} and {photo path as the predictor names it: label}."""
    folders, photo_labels = {}, {}
    for offset, (pixels, label) in enumerate(zip(images, labels)):
        on_white = offset % 2 == 1
        photos = os.path.join(folder, "photos_on_white" if on_white else "photos_on_black")
        os.makedirs(os.path.join(work_dir, photos), exist_ok=True)
        path = os.path.join(photos, f"photo_{first_index + offset:05d}.{'jpg' if on_white else 'png'}")
        photo(pixels, on_white).save(os.path.join(work_dir, path), **({"quality": JPEG_QUALITY} if on_white else {}))
        folders["light" if on_white else "dark"] = [photos]
        photo_labels[path] = int(label)
    return folders, photo_labels


def write_inputs(work_dir, data_dir, num_images, num_photos, folder="inputs"):
    """The first ``num_images`` test images as a .gz IDX file and ``num_photos`` photos of the test images that
    follow them, in ``work_dir/folder``; returns ({background: [paths]}, {input name: label}), the IDX file
    first under "dark"."""
    images, labels = load_numpy(data_dir, "test")
    if num_images + num_photos > len(images):
        raise ValueError(f"{num_images} images and {num_photos} photos: more than the {len(images)} test images")
    os.makedirs(os.path.join(work_dir, folder), exist_ok=True)
    idx_path = os.path.join(folder, f"test_first_{num_images}-images-idx3-ubyte.gz")
    write_idx(os.path.join(work_dir, idx_path), images[:num_images])
    paths, input_labels = write_photos(work_dir, folder, images[num_images:num_images + num_photos],
                                       labels[num_images:num_images + num_photos], num_images)
    paths["dark"] = [idx_path, *paths.get("dark", [])]
    input_labels.update({f"{idx_path}[{index}]": int(label) for index, label in enumerate(labels[:num_images])})
    return paths, input_labels
