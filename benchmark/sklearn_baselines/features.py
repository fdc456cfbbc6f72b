"""Features for the classical baselines: raw pixels standard-scaled (the original), PCA of those, or HOG.

``train, test = make_features("hog", train_images, test_images)``: float32 [N, D], scaled on the training set.
"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

FEATURES = ("standard", "pca", "hog")
HOG_CELL_SIZE = 4  # pixels per side of a cell: 7x7 cells on a 28x28 image
HOG_ORIENTATIONS = 9  # unsigned gradient directions over 0-180 degrees
HOG_BLOCK_CELLS = 2  # cells per side of a normalization block, blocks overlapping by one cell
HOG_CLIP = 0.2  # L2-Hys: clip the L2-normalized block at this value, then normalize again
_EPSILON = 1e-6


def _normalize(blocks):
    return blocks / np.sqrt(np.sum(blocks ** 2, axis=-1, keepdims=True) + _EPSILON ** 2)


def hog_features(images, cell_size=HOG_CELL_SIZE, orientations=HOG_ORIENTATIONS, block_cells=HOG_BLOCK_CELLS):
    """Histograms of oriented gradients of uint8 images [N, H, W]: float32 [N, blocks * block_cells**2 * orientations].

    Centered differences give each pixel a gradient; its magnitude is added to the orientation bin of its
    direction in its cell; each overlapping block of cells is L2-Hys normalized, which makes it contrast-free.
    """
    pixels = images.astype(np.float32)
    gradient_x, gradient_y = np.zeros_like(pixels), np.zeros_like(pixels)
    gradient_x[:, :, 1:-1] = pixels[:, :, 2:] - pixels[:, :, :-2]
    gradient_y[:, 1:-1, :] = pixels[:, 2:, :] - pixels[:, :-2, :]
    magnitude = np.hypot(gradient_x, gradient_y)
    angle = np.rad2deg(np.arctan2(gradient_y, gradient_x)) % 180.0
    bins = np.minimum((angle / (180.0 / orientations)).astype(np.int64), orientations - 1)

    num_images, height, width = images.shape
    cells_y, cells_x = height // cell_size, width // cell_size
    crop = (slice(None), slice(0, cells_y * cell_size), slice(0, cells_x * cell_size))
    one_hot = (bins[crop][..., None] == np.arange(orientations)) * magnitude[crop][..., None]
    cells = one_hot.reshape(num_images, cells_y, cell_size, cells_x, cell_size, orientations).sum(axis=(2, 4))

    blocks_y, blocks_x = cells_y - block_cells + 1, cells_x - block_cells + 1
    blocks = np.stack([cells[:, dy:dy + blocks_y, dx:dx + blocks_x]
                       for dy in range(block_cells) for dx in range(block_cells)], axis=3)
    blocks = blocks.reshape(num_images, blocks_y, blocks_x, -1)
    blocks = _normalize(np.minimum(_normalize(blocks), HOG_CLIP))
    return blocks.reshape(num_images, -1).astype(np.float32)


def make_features(kind, train_images, test_images, pca_components=50):
    """(train, test) float32 features of uint8 images [N, 28, 28]: every kind ends standard-scaled on train.

    "standard" is what the original benchmark fed every classifier; "pca" keeps ``pca_components`` of it.
    """
    if kind not in FEATURES:
        raise ValueError(f"unknown features {kind!r}; expected one of {FEATURES}")
    if kind == "hog":
        train, test = hog_features(train_images), hog_features(test_images)
    else:
        train = train_images.reshape(len(train_images), -1).astype(np.float32)
        test = test_images.reshape(len(test_images), -1).astype(np.float32)
    scaler = StandardScaler().fit(train)
    train, test = scaler.transform(train), scaler.transform(test)
    if kind == "pca":
        pca = PCA(n_components=pca_components, random_state=0).fit(train)
        train, test = pca.transform(train), pca.transform(test)
    return train.astype(np.float32), test.astype(np.float32)
