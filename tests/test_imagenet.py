"""The ImageNet input: class index, both val layouts, subsets, crops, bad files skipped and counted, TFRecords."""

import io
import logging
import os

import numpy as np
import pytest
import scipy.io
import tensorflow as tf
from PIL import Image

from fmnist_tf.data import imagenet
from fmnist_tf.data.errors import ImagenetLayoutError
from fmnist_tf.data.imagenet import preprocessing

WNIDS = ("n01440764", "n01443537", "n01484850")
NAMES = ("tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark, white shark")
# The devkit numbers classes in its own order, not by wnid: ID 1 is the third wnid here.
DEVKIT_IDS = {"n01484850": 1, "n01440764": 2, "n01443537": 3}
SIZES = ((40, 30), (64, 48), (33, 70), (50, 50))  # (width, height) of the 4 images of each class
VAL_LABELS = (2, 0, 1, 1, 0, 2)


def _image_bytes(rng, size, mode="RGB", image_format="JPEG"):
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    stream = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(stream, image_format)
    return stream.getvalue()


def _train_file_bytes(rng, label, index):
    """Mostly RGB JPEGs; class 0's last is truncated, class 1's last a PNG, class 2 has a gray and a CMYK JPEG."""
    size = SIZES[index]
    if (label, index) == (0, 3):
        return _image_bytes(rng, size)[:200]
    if (label, index) == (1, 3):
        return _image_bytes(rng, size, image_format="PNG")
    if (label, index) == (2, 2):
        return _image_bytes(rng, size, mode="L")
    if (label, index) == (2, 3):
        return _image_bytes(rng, size, mode="CMYK")
    return _image_bytes(rng, size)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as stream:
        stream.write(data)


def _val_name(index):
    return f"ILSVRC2012_val_{index + 1:08d}.JPEG"


@pytest.fixture
def imagenet_dir(tmp_path):
    """ILSVRC2012 in miniature: 3 classes of 4 training JPEGs (one truncated), 6 flat val JPEGs, synset_words.txt."""
    rng = np.random.default_rng(0)
    root = tmp_path / "ILSVRC2012"
    for label, wnid in enumerate(WNIDS):
        for index in range(4):
            _write(str(root / "train" / wnid / f"{wnid}_{index + 1}.JPEG"), _train_file_bytes(rng, label, index))
    for index in range(len(VAL_LABELS)):
        _write(str(root / "val" / _val_name(index)), _image_bytes(rng, SIZES[index % 4]))
    (root / "synset_words.txt").write_text("".join(f"{w} {n}\n" for w, n in zip(WNIDS, NAMES)))
    return root


def _write_val_labels_txt(root):
    (root / "val_labels.txt").write_text("".join(f"{_val_name(i)} {WNIDS[label]}\n"
                                                 for i, label in enumerate(VAL_LABELS)))


def _write_loc_val_solution(root):
    rows = [f"{_val_name(i)[:-5]},{WNIDS[label]} 1 2 30 40 {WNIDS[label]} 5 6 7 8\n"
            for i, label in enumerate(VAL_LABELS)]
    (root / "LOC_val_solution.csv").write_text("ImageId,PredictionString\n" + "".join(rows))


def _write_devkit_ground_truth(root):
    devkit = root / "ILSVRC2012_devkit_t12" / "data"
    devkit.mkdir(parents=True)
    (devkit / "ILSVRC2012_validation_ground_truth.txt").write_text(
        "".join(f"{DEVKIT_IDS[WNIDS[label]]}\n" for label in VAL_LABELS))
    return devkit


def _write_devkit_meta_mat(root):
    devkit = _write_devkit_ground_truth(root)
    fields = [("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("gloss", "O"), ("num_children", "O")]
    synsets = np.array([(DEVKIT_IDS[w], w, n, "", 0) for w, n in zip(WNIDS, NAMES)]
                       + [(1001, "n00001740", "entity", "", 2)], dtype=fields)  # a non-leaf synset: not a class
    scipy.io.savemat(str(devkit / "meta.mat"), {"synsets": synsets})


def _write_devkit_map_clsloc(root):
    devkit = _write_devkit_ground_truth(root)
    (devkit / "map_clsloc.txt").write_text("".join(f"{w} {i} name\n" for w, i in DEVKIT_IDS.items()))


def test_class_index_sorts_wnids_and_names_them_from_synset_words(imagenet_dir):
    index = imagenet.read_class_index(str(imagenet_dir))
    assert index.wnids == WNIDS
    assert index.names == NAMES
    assert index.label_of("n01484850") == 2


def test_class_index_without_synset_words_names_classes_by_wnid(imagenet_dir):
    os.remove(imagenet_dir / "synset_words.txt")
    assert imagenet.read_class_index(str(imagenet_dir)).names == WNIDS


def test_train_files_are_listed_class_by_class(imagenet_dir):
    paths, labels = imagenet.list_imagenet_files(str(imagenet_dir), "train")
    assert labels.dtype == np.int32
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert os.path.basename(paths[4]) == "n01443537_1.JPEG"


@pytest.mark.parametrize("write_labels", [_write_val_labels_txt, _write_loc_val_solution, _write_devkit_meta_mat,
                                          _write_devkit_map_clsloc])
def test_flat_val_is_labelled_by_each_label_file_form(imagenet_dir, write_labels):
    write_labels(imagenet_dir)
    paths, labels = imagenet.list_imagenet_files(str(imagenet_dir), "validation")
    assert [os.path.basename(p) for p in paths] == [_val_name(i) for i in range(6)]
    assert labels.tolist() == list(VAL_LABELS)


def test_val_class_folders_need_no_label_file(imagenet_dir):
    for index, label in enumerate(VAL_LABELS):
        os.renames(imagenet_dir / "val" / _val_name(index), imagenet_dir / "val" / WNIDS[label] / _val_name(index))
    _, labels = imagenet.list_imagenet_files(str(imagenet_dir), "validation")
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_flat_val_without_labels_names_the_files_it_looks_for(imagenet_dir):
    with pytest.raises(ImagenetLayoutError, match="val_labels.txt, LOC_val_solution.csv or .*ground_truth"):
        imagenet.list_imagenet_files(str(imagenet_dir), "validation")


def test_val_label_with_an_unknown_wnid_names_the_file_and_image(imagenet_dir):
    _write_val_labels_txt(imagenet_dir)
    text = (imagenet_dir / "val_labels.txt").read_text().replace(WNIDS[1], "n09999999")
    (imagenet_dir / "val_labels.txt").write_text(text)
    with pytest.raises(ImagenetLayoutError, match=r"val_labels.txt, val/ILSVRC2012_val_00000003.JPEG: wnid "
                                                  r"'n09999999' is not one of the 3 classes"):
        imagenet.list_imagenet_files(str(imagenet_dir), "validation")


def test_subset_keeps_the_first_classes_and_examples(imagenet_dir):
    paths, labels = imagenet.list_imagenet_files(str(imagenet_dir), "train", num_classes=2, examples_per_class=3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert [os.path.basename(p) for p in paths[:3]] == [f"n01440764_{i}.JPEG" for i in (1, 2, 3)]
    with pytest.raises(ValueError, match="num_classes is 4; expected 1 to 3"):
        imagenet.list_imagenet_files(str(imagenet_dir), "train", num_classes=4)


def test_find_bad_images_lists_only_the_truncated_file(imagenet_dir):
    paths, _ = imagenet.list_imagenet_files(str(imagenet_dir), "train")
    # The PNG named .JPEG, the grayscale and the CMYK JPEG all decode.
    assert imagenet.find_bad_images(paths) == [str(imagenet_dir / "train" / WNIDS[0] / f"{WNIDS[0]}_4.JPEG")]


def test_training_batches_skip_the_bad_file_and_have_the_crop_shape(imagenet_dir):
    dataset = imagenet.make_imagenet_dataset(str(imagenet_dir), "train", batch_size=4, image_size=32,
                                             shuffle=True, seed=1)
    batches = list(dataset.as_numpy_iterator())
    assert [images.shape for images, _ in batches] == [(4, 32, 32, 3), (4, 32, 32, 3), (3, 32, 32, 3)]
    assert batches[0][0].dtype == np.uint8 and batches[0][1].dtype == np.int32
    labels = np.concatenate([labels for _, labels in batches])
    assert np.bincount(labels).tolist() == [3, 4, 4]


def test_seeded_training_crops_repeat_across_runs_and_differ_across_epochs(imagenet_dir):
    def epochs(seed):
        dataset = imagenet.make_imagenet_dataset(str(imagenet_dir), "train", batch_size=11, image_size=16,
                                                 shuffle=True, seed=seed, repeat=True)
        return [images for images, _ in dataset.take(2).as_numpy_iterator()]

    first, second = epochs(7), epochs(7)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], first[1])


def test_skip_bad_files_logs_how_many_were_left_out(imagenet_dir, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = imagenet.make_imagenet_dataset(str(imagenet_dir), "train", batch_size=20, image_size=16,
                                                 skip_bad_files=True)
    assert "1 of 12 train images do not decode" in caplog.text
    assert sum(len(labels) for _, labels in dataset.as_numpy_iterator()) == 11


def test_evaluation_batches_are_center_crops_in_file_order_through_preprocess(imagenet_dir):
    _write_val_labels_txt(imagenet_dir)
    dataset = imagenet.make_imagenet_dataset(str(imagenet_dir), "validation", batch_size=6, image_size=24,
                                             preprocess=lambda images: images / 255.0)
    images, labels = next(dataset.as_numpy_iterator())
    assert images.shape == (6, 24, 24, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert labels.tolist() == list(VAL_LABELS)


def test_center_crop_keeps_the_middle_of_a_wide_image():
    pixels = np.zeros((100, 300, 3), dtype=np.uint8)
    pixels[:, 100:200] = 255  # a white middle third between black thirds
    encoded = tf.io.encode_png(pixels)
    # 100 px high -> 256/224 * 56 = 64 px high, 192 wide; the central 56 columns are all white.
    crop = preprocessing.center_crop(encoded, 56).numpy()
    assert crop.shape == (56, 56, 3)
    assert crop.min() > 250


def test_crops_are_the_same_eagerly_and_inside_dataset_map():
    encoded = tf.io.encode_jpeg(np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8))
    seed = tf.constant([4, 2], tf.int64)
    mapped = tf.data.Dataset.from_tensors(encoded).map(
        lambda image: (preprocessing.center_crop(image, 32), preprocessing.random_resized_crop(image, 32, seed)))
    center, random = next(iter(mapped))
    np.testing.assert_array_equal(preprocessing.center_crop(encoded, 32).numpy(), center.numpy())
    np.testing.assert_array_equal(preprocessing.random_resized_crop(encoded, 32, seed).numpy(), random.numpy())


def test_tfrecord_shards_round_trip_through_the_same_preprocessing(imagenet_dir, tmp_path):
    output_dir = str(tmp_path / "tfrecords")
    manifest = imagenet.write_imagenet_tfrecords(str(imagenet_dir), output_dir, "train", num_shards=3,
                                                 progress=False)
    assert sorted(os.listdir(output_dir)) == ["train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord",
                                              "train-00002-of-00003.tfrecord", "train-manifest.json"]
    assert manifest["skipped"] == [str(imagenet_dir / "train" / WNIDS[0] / f"{WNIDS[0]}_4.JPEG")]
    assert manifest["examples_per_label"] == [3, 4, 4]
    assert imagenet.num_imagenet_examples(output_dir, "train", source="tfrecord") == 11

    def evaluation_images(data_dir, source):
        dataset = imagenet.make_imagenet_dataset(data_dir, "train", batch_size=11, image_size=16, training=False,
                                                 source=source, skip_bad_files=source == "jpeg")
        images, labels = next(dataset.as_numpy_iterator())
        order = np.lexsort((images.reshape(len(images), -1).sum(axis=1), labels))
        return images[order], labels[order]

    jpeg_images, jpeg_labels = evaluation_images(str(imagenet_dir), "jpeg")
    tfrecord_images, tfrecord_labels = evaluation_images(output_dir, "tfrecord")
    np.testing.assert_array_equal(jpeg_labels, tfrecord_labels)
    np.testing.assert_array_equal(jpeg_images, tfrecord_images)


def test_tfrecord_subset_and_shuffled_training_read(imagenet_dir, tmp_path):
    output_dir = str(tmp_path / "tfrecords")
    imagenet.write_imagenet_tfrecords(str(imagenet_dir), output_dir, "train", num_shards=2, progress=False)
    assert imagenet.num_imagenet_examples(output_dir, "train", num_classes=2, examples_per_class=2,
                                          source="tfrecord") == 4
    subset = imagenet.make_imagenet_dataset(output_dir, "train", batch_size=8, image_size=16, num_classes=2,
                                            examples_per_class=2, source="tfrecord", shuffle=True, seed=3)
    images, labels = next(subset.as_numpy_iterator())
    assert images.shape == (4, 16, 16, 3)
    assert sorted(labels.tolist()) == [0, 0, 1, 1]


def test_missing_tfrecord_shard_is_named(imagenet_dir, tmp_path):
    output_dir = tmp_path / "tfrecords"
    imagenet.write_imagenet_tfrecords(str(imagenet_dir), str(output_dir), "train", num_shards=2, progress=False)
    os.remove(output_dir / "train-00001-of-00002.tfrecord")
    with pytest.raises(ImagenetLayoutError, match="1 of 2 train shards are missing, e.g. train-00001-of-00002"):
        imagenet.make_imagenet_dataset(str(output_dir), "train", batch_size=4, source="tfrecord")
