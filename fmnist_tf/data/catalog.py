"""Facts about the datasets: file names, official URLs, payload sizes and digests, class names.

Everything the readers and the fetcher check a file against lives here, as data.
"""

import dataclasses

IMAGE_HEIGHT = 28
IMAGE_WIDTH = 28
NUM_CLASSES = 10
SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class FileSpec:
    """One ``.gz`` file of a dataset and what its contents must be."""

    name: str
    payload_size: int  # bytes of the decompressed IDX file
    payload_sha256: str | None  # None where no trusted digest of the payload is published
    gz_sha256: tuple[str, ...]  # every known compressed form (upstream, Debian's re-compression)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str
    base_urls: tuple[str, ...]
    debian_dir: str | None
    class_names: tuple[str, ...]
    files: dict  # (split, "images" | "labels") -> FileSpec
    num_examples: dict  # split -> count

    def file(self, split, kind):
        return self.files[(split, kind)]


FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    base_urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    debian_dir="/usr/share/datasets/fashion-mnist",
    class_names=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    files={
        ("train", "images"): FileSpec(
            "train-images-idx3-ubyte.gz", 47040016,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
             "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7")),
        ("train", "labels"): FileSpec(
            "train-labels-idx1-ubyte.gz", 60008,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
             "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056")),
        ("test", "images"): FileSpec(
            "t10k-images-idx3-ubyte.gz", 7840016,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
             "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa")),
        ("test", "labels"): FileSpec(
            "t10k-labels-idx1-ubyte.gz", 10008,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
             "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05")),
    },
    num_examples={"train": 60000, "test": 10000},
)

MNIST = DatasetSpec(
    name="mnist",
    base_urls=("https://storage.googleapis.com/cvdf-datasets/mnist/",),
    debian_dir=None,
    class_names=tuple(str(digit) for digit in range(10)),
    files={
        ("train", "images"): FileSpec(
            "train-images-idx3-ubyte.gz", 47040016, None,
            ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",)),
        ("train", "labels"): FileSpec(
            "train-labels-idx1-ubyte.gz", 60008, None,
            ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",)),
        ("test", "images"): FileSpec(
            "t10k-images-idx3-ubyte.gz", 7840016, None,
            ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",)),
        ("test", "labels"): FileSpec(
            "t10k-labels-idx1-ubyte.gz", 10008, None,
            ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",)),
    },
    num_examples={"train": 60000, "test": 10000},
)

DATASETS = {spec.name: spec for spec in (FASHION_MNIST, MNIST)}
# ILSVRC2012 has no files to fetch and check: fmnist_tf.data.imagenet reads a tree in place.
IMAGENET = "imagenet"


def get_dataset_spec(name):
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}") from None
