"""The ILSVRC2012 folder layout: class index (sorted WordNet IDs), and the image files and labels of each split.

``index = read_class_index("/data/ILSVRC2012")``, then ``list_split_files("/data/ILSVRC2012", "validation", index)``.

    train/<wnid>/*.JPEG                   one folder per class
    val/<wnid>/*.JPEG                     class folders, or flat val/*.JPEG labelled by the first of:
      val_labels.txt                      "<file name> <wnid>" per line
      LOC_val_solution.csv                Kaggle's "ImageId,PredictionString"; the first token is the wnid
      ILSVRC2012_devkit_t12/data/         the devkit: ILSVRC2012_validation_ground_truth.txt holds one
                                          ILSVRC2012_ID per image in file-name order, meta.mat (or
                                          map_clsloc.txt) maps each ID to its wnid
    synset_words.txt | LOC_synset_mapping.txt    "n01440764 tench, Tinca tinca": the class names (optional)
"""

import csv
import dataclasses
import functools
import os
import re

import numpy as np

from fmnist_tf.data.errors import ImagenetLayoutError

SPLIT_FOLDERS = {"train": "train", "validation": "val"}
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png")  # compared lower-case; ILSVRC2012 names every file .JPEG
WNID_PATTERN = re.compile(r"n\d{8}")
SYNSET_WORDS_FILES = ("synset_words.txt", "LOC_synset_mapping.txt")
VAL_LABELS_FILE = "val_labels.txt"
LOC_VAL_SOLUTION_FILE = "LOC_val_solution.csv"
DEVKIT_DATA_DIRS = (os.path.join("ILSVRC2012_devkit_t12", "data"), "")
DEVKIT_GROUND_TRUTH_FILE = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_META_FILE = "meta.mat"
DEVKIT_MAP_CLSLOC_FILE = "map_clsloc.txt"  # "n02119789 1 kit_fox": the ILSVRC2015 devkit's form of the same IDs


@dataclasses.dataclass(frozen=True)
class ClassIndex:
    """Class ``i`` is ``wnids[i]``, named ``names[i]``; wnids are sorted, as keras.applications numbers them."""

    wnids: tuple
    names: tuple

    def __len__(self):
        return len(self.wnids)

    def label_of(self, wnid):
        return self._labels[wnid]

    @functools.cached_property  # frozen dataclasses allow it: it writes __dict__ directly
    def _labels(self):
        return {wnid: label for label, wnid in enumerate(self.wnids)}


def _class_folders(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder)
                  if WNID_PATTERN.fullmatch(name) and os.path.isdir(os.path.join(folder, name)))


def _image_files(folder):
    return sorted(name for name in os.listdir(folder)
                  if name.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, name)))


def read_synset_words(path):
    """``{wnid: name}`` from "n01440764 tench, Tinca tinca" lines."""
    names = {}
    with open(path, encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            wnid, _, name = line.strip().partition(" ")
            if not WNID_PATTERN.fullmatch(wnid):
                raise ImagenetLayoutError(f"{path}, line {line_number}: {line.strip()!r}; expected "
                                          f"'<wnid> <name>' with a wnid like n01440764")
            names[wnid] = name.strip() or wnid
    return names


def _find_synset_words(data_dir):
    for file_name in SYNSET_WORDS_FILES:
        path = os.path.join(data_dir, file_name)
        if os.path.isfile(path):
            return read_synset_words(path)
    return {}


def read_class_index(data_dir):
    """The sorted wnids of ``train/`` (else of ``val/`` class folders, else of the synset words file), with names.

    A name is the synset words file's text for that wnid, or the wnid itself when there is no such file.
    """
    synset_words = _find_synset_words(data_dir)
    wnids = (_class_folders(os.path.join(data_dir, "train")) or _class_folders(os.path.join(data_dir, "val"))
             or sorted(synset_words))
    if not wnids:
        raise ImagenetLayoutError(f"{data_dir}: no train/<wnid>/ or val/<wnid>/ folders and no "
                                  f"{' or '.join(SYNSET_WORDS_FILES)}; expected the ILSVRC2012 layout")
    return ClassIndex(tuple(wnids), tuple(synset_words.get(wnid, wnid) for wnid in wnids))


def _check_split(split):
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"unknown ImageNet split {split!r}; expected one of {tuple(SPLIT_FOLDERS)}")


def _label(class_index, wnid, where):
    try:
        return class_index.label_of(wnid)
    except KeyError:
        raise ImagenetLayoutError(f"{where}: wnid {wnid!r} is not one of the {len(class_index)} classes "
                                  f"(from {class_index.wnids[0]} to {class_index.wnids[-1]})") from None


def _files_of_class_folders(folder, class_index):
    paths, labels = [], []
    for label, wnid in enumerate(class_index.wnids):
        class_folder = os.path.join(folder, wnid)
        names = _image_files(class_folder) if os.path.isdir(class_folder) else []
        paths += [os.path.join(class_folder, name) for name in names]
        labels += [label] * len(names)
    return paths, labels


def _read_val_labels_txt(path):
    wnids = {}
    with open(path, encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise ImagenetLayoutError(f"{path}, line {line_number}: {line.strip()!r}; expected '<file> <wnid>'")
            wnids[fields[0]] = fields[1]
    return wnids


def _read_loc_val_solution(path):
    wnids = {}
    with open(path, encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream)
        header = next(rows, None)
        if header != ["ImageId", "PredictionString"]:
            raise ImagenetLayoutError(f"{path}, line 1: {header}; expected ['ImageId', 'PredictionString']")
        for line_number, row in enumerate(rows, start=2):
            if len(row) != 2 or not row[1].split():
                raise ImagenetLayoutError(f"{path}, line {line_number}: {row}; expected "
                                          f"'ILSVRC2012_val_00000001,n01751748 x y x y ...'")
            wnids[row[0]] = row[1].split()[0]
    return wnids


def _read_devkit_ids(data_dir):
    """``{ILSVRC2012_ID: wnid}`` from the devkit's meta.mat (its 1,000 leaf synsets) or map_clsloc.txt."""
    for devkit_dir in DEVKIT_DATA_DIRS:
        meta_path = os.path.join(data_dir, devkit_dir, DEVKIT_META_FILE)
        if os.path.isfile(meta_path):
            # scipy comes with scikit-learn; imported here because only this layout needs it.
            import scipy.io

            synsets = scipy.io.loadmat(meta_path, squeeze_me=True)["synsets"]
            return {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets if int(s["num_children"]) == 0}
        map_path = os.path.join(data_dir, devkit_dir, DEVKIT_MAP_CLSLOC_FILE)
        if os.path.isfile(map_path):
            with open(map_path, encoding="utf-8") as lines:
                return {int(fields[1]): fields[0] for fields in map(str.split, lines) if fields}
    return None


def _read_devkit_val_labels(data_dir, image_names):
    for devkit_dir in DEVKIT_DATA_DIRS:
        truth_path = os.path.join(data_dir, devkit_dir, DEVKIT_GROUND_TRUTH_FILE)
        if os.path.isfile(truth_path):
            break
    else:
        return None
    id_to_wnid = _read_devkit_ids(data_dir)
    if id_to_wnid is None:
        raise ImagenetLayoutError(f"{truth_path} holds ILSVRC2012_IDs, but there is no {DEVKIT_META_FILE} or "
                                  f"{DEVKIT_MAP_CLSLOC_FILE} beside it to map them to wnids")
    with open(truth_path, encoding="utf-8") as lines:
        ids = [line.strip() for line in lines if line.strip()]
    if len(ids) != len(image_names):
        raise ImagenetLayoutError(f"{truth_path}: {len(ids)} labels for {len(image_names)} images in val/; "
                                  f"expected one label per image, in file-name order")
    wnids = {}
    for line_number, (image_name, ilsvrc_id) in enumerate(zip(image_names, ids), start=1):
        if not ilsvrc_id.isdigit() or int(ilsvrc_id) not in id_to_wnid:
            raise ImagenetLayoutError(f"{truth_path}, line {line_number}: {ilsvrc_id!r}; expected an "
                                      f"ILSVRC2012_ID from 1 to {len(id_to_wnid)}")
        wnids[image_name] = id_to_wnid[int(ilsvrc_id)]
    return wnids


def _flat_val_wnids(data_dir, image_names):
    """``{file name or stem: wnid}`` from the first label file present, and that file's path."""
    labels_path = os.path.join(data_dir, VAL_LABELS_FILE)
    if os.path.isfile(labels_path):
        return _read_val_labels_txt(labels_path), labels_path
    solution_path = os.path.join(data_dir, LOC_VAL_SOLUTION_FILE)
    if os.path.isfile(solution_path):
        return _read_loc_val_solution(solution_path), solution_path
    devkit_wnids = _read_devkit_val_labels(data_dir, image_names)
    if devkit_wnids is not None:
        return devkit_wnids, os.path.join(data_dir, DEVKIT_DATA_DIRS[0], DEVKIT_GROUND_TRUTH_FILE)
    raise ImagenetLayoutError(f"{os.path.join(data_dir, 'val')} is flat but has no labels; expected "
                              f"val/<wnid>/ folders, {VAL_LABELS_FILE}, {LOC_VAL_SOLUTION_FILE} or "
                              f"{os.path.join(DEVKIT_DATA_DIRS[0], DEVKIT_GROUND_TRUTH_FILE)} in {data_dir}")


def _files_of_flat_val(data_dir, class_index):
    folder = os.path.join(data_dir, "val")
    names = _image_files(folder)
    wnids, labels_path = _flat_val_wnids(data_dir, names)
    labels = []
    for name in names:
        wnid = wnids.get(name, wnids.get(os.path.splitext(name)[0]))
        if wnid is None:
            raise ImagenetLayoutError(f"{labels_path}: no label for val/{name}; expected one for every image")
        labels.append(_label(class_index, wnid, f"{labels_path}, val/{name}"))
    return [os.path.join(folder, name) for name in names], labels


def list_split_files(data_dir, split, class_index):
    """(paths, int32 labels) of "train" or "validation": class by class for folders, file-name order for flat val/."""
    _check_split(split)
    folder = os.path.join(data_dir, SPLIT_FOLDERS[split])
    if not os.path.isdir(folder):
        raise ImagenetLayoutError(f"{folder} is missing; expected the {split} images there")
    if split == "train" or _class_folders(folder):
        paths, labels = _files_of_class_folders(folder, class_index)
    else:
        paths, labels = _files_of_flat_val(data_dir, class_index)
    if not paths:
        raise ImagenetLayoutError(f"{folder}: no {'/'.join(IMAGE_EXTENSIONS)} files; expected the {split} images")
    return paths, np.asarray(labels, dtype=np.int32)


def check_subset(num_classes, examples_per_class, total_classes):
    """Raises ValueError unless 1 <= num_classes <= total_classes and examples_per_class >= 1 (None: all)."""
    if num_classes is not None and not 1 <= num_classes <= total_classes:
        raise ValueError(f"num_classes is {num_classes}; expected 1 to {total_classes} (the classes found)")
    if examples_per_class is not None and examples_per_class < 1:
        raise ValueError(f"examples_per_class is {examples_per_class}; expected at least 1")


def select_subset(paths, labels, num_classes=None, examples_per_class=None, *, total_classes):
    """The examples of the first ``num_classes`` classes, at most ``examples_per_class`` each, in listing order."""
    check_subset(num_classes, examples_per_class, total_classes)
    labels = np.asarray(labels)
    keep = np.ones(len(labels), dtype=bool) if num_classes is None else labels < num_classes
    if examples_per_class is not None:
        rank_in_class = np.zeros(len(labels), dtype=np.int64)
        seen = {}
        for position, label in enumerate(labels):
            rank_in_class[position] = seen.get(label, 0)
            seen[label] = rank_in_class[position] + 1
        keep &= rank_in_class < examples_per_class
    return [path for path, kept in zip(paths, keep) if kept], labels[keep]


def list_imagenet_files(data_dir, split, num_classes=None, examples_per_class=None, class_index=None):
    """(paths, int32 labels) of a split of the JPEG tree, limited to the first ``num_classes`` wnids and
    ``examples_per_class`` files of each."""
    class_index = class_index or read_class_index(data_dir)
    paths, labels = list_split_files(data_dir, split, class_index)
    return select_subset(paths, labels, num_classes, examples_per_class, total_classes=len(class_index))
