"""ImageNet through the train and export CLIs: a tiny ILSVRC2012 tree, both backbones, top-5, resume, transfer."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from test_imagenet import _image_bytes, _write, _write_val_labels_txt, imagenet_dir  # noqa: F401 (a fixture)
from test_train import REPO, table_value, train

# Three more classes than the shared tree's three, so that top-5 differs from "always right".
EXTRA_WNIDS = ("n01491361", "n01494475", "n01496331")
NUM_CLASSES = 6
TINY_RUN = ["--dataset=imagenet", "--image_size=32", "--batch_size=4", "--steps_per_loop=1", "--steps_per_eval=100",
            "--save_checkpoints_steps=100", "--projector_examples=0", "--learning_rate=0.01"]


@pytest.fixture
def imagenet_tree(imagenet_dir):  # noqa: F811 (the fixture imported above)
    """The shared tree (one truncated JPEG, a PNG, a gray and a CMYK JPEG; flat val/ with val_labels.txt) and 3
    more classes of 2 RGB JPEGs each: 6 classes in all."""
    rng = np.random.default_rng(1)
    for wnid in EXTRA_WNIDS:
        for index in range(2):
            _write(str(imagenet_dir / "train" / wnid / f"{wnid}_{index + 1}.JPEG"), _image_bytes(rng, (40, 36)))
    _write_val_labels_txt(imagenet_dir)
    return imagenet_dir


def export(*args):
    return subprocess.run([sys.executable, "-m", "fmnist_tf.export", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def assert_top_1_and_top_5_of_6_images(stdout):
    top_1 = float(table_value(stdout, "test accuracy"))
    top_5 = float(table_value(stdout, "test top-5 accuracy"))
    # 6 validation images: both are sixths, and a right first guess is also among the top 5.
    assert [round(value * 6, 3) for value in (top_1, top_5)] == [round(value * 6) for value in (top_1, top_5)]
    assert top_1 <= top_5


def test_resnet50_trains_on_an_imagenet_tree_through_the_cli_and_resumes(imagenet_tree, tmp_path):
    model_dir = tmp_path / "resnet50"
    result = train(*TINY_RUN, f"--data_dir={imagenet_tree}", "--model=resnet50", f"--model_dir={model_dir}",
                   "--train_steps=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert table_value(result.stdout, "global step") == "2"
    assert_top_1_and_top_5_of_6_images(result.stdout)
    assert "--dataset=imagenet\n" in (model_dir / "flags.txt").read_text()

    resumed = train(f"--flagfile={model_dir}/flags.txt", "--train_steps=3", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert table_value(resumed.stdout, "global step") == "3"
    assert table_value(resumed.stdout, "steps this run") == "1"


def _trainable_counts(stderr):
    """``{phase: trainable weights}`` from the phase lines the transfer-learning run logs."""
    counts = {}
    for line in stderr.splitlines():
        for phase in ("training the head on a frozen backbone", "fine-tuning the top 2 backbone blocks"):
            if phase in line:
                counts[phase] = int(line.split("; ")[1].split(" of ")[0])
    return counts


def test_efficientnet_b0_transfer_learning_freezes_then_unfreezes_resumes_in_that_phase_and_exports(imagenet_tree,
                                                                                                    tmp_path):
    # Keras's ImageNet file is not downloaded: a freshly built backbone's weights stand in for it.
    weights_path = str(tmp_path / "efficientnetb0_notop.weights.h5")
    keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(
        weights_path)
    model_dir = tmp_path / "transfer"
    transfer = [*TINY_RUN, f"--data_dir={imagenet_tree}", "--model=efficientnet_b0", f"--weights_path={weights_path}",
                "--freeze_backbone_steps=2", "--unfreeze_blocks=2", "--fine_tune_learning_rate=0.001",
                f"--model_dir={model_dir}", "--save_checkpoints_steps=2"]
    result = train(*transfer, "--train_steps=3")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = _trainable_counts(result.stderr)
    # The head alone is the logits layer's kernel and bias; then also the top 2 blocks (block7a, top).
    assert counts["training the head on a frozen backbone"] == 2
    assert counts["fine-tuning the top 2 backbone blocks"] > 2
    assert table_value(result.stdout, "global step") == "3"
    assert_top_1_and_top_5_of_6_images(result.stdout)

    # Step 3's checkpoint holds the fine-tuning optimizer: the resumed run rebuilds that phase to restore it.
    resumed = train(*transfer, "--train_steps=4", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert table_value(resumed.stdout, "steps this run") == "1"
    assert set(_trainable_counts(resumed.stderr)) == {"fine-tuning the top 2 backbone blocks"}

    export_dir = tmp_path / "export"
    exported = export(f"--model_dir={model_dir}", f"--export_dir={export_dir}", "--formats=saved_model,keras")
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["global_step"] == 4 and len(manifest["class_names"]) == NUM_CLASSES
    assert manifest["class_names"][0] == "tench, Tinca tinca"
    assert (export_dir / "model.keras").is_file() and list((export_dir / "saved_model").iterdir())

    refused = export(f"--model_dir={model_dir}", f"--export_dir={tmp_path / 'int8'}", "--formats=int8")
    assert refused.returncode != 0
    assert "INT8 formats (int8) calibrate on Fashion-MNIST images and do not apply" in refused.stderr
