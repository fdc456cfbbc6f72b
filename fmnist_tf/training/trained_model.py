"""Rebuilds a trained model from its model_dir: the model flags.txt names, restored from the latest
checkpoint.

``trained = load_trained_model("runs/convnet")``; ``trained.model`` is the Keras model,
``trained.recipe`` the flags of flags.txt, ``trained.class_names`` what its logits stand for.
"""

import dataclasses

import tensorflow as tf

from fmnist_tf.estimator import Estimator
from fmnist_tf.estimator.model_dir import FLAGS_FILE
from fmnist_tf.training.recipe import ModelDirError, Recipe


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    model_dir: str
    estimator: Estimator
    recipe: Recipe  # the flags of flags.txt, defaults filled in
    class_names: tuple = ()

    @property
    def model(self):
        return self.estimator.model

    @property
    def global_step(self):
        return self.estimator.global_step

    @property
    def training_flags(self):
        """What flags.txt records, as ``{name: value}``."""
        return self.recipe.recorded_flags()


def load_trained_model(model_dir, data_dir=None):
    """The model of ``model_dir``, built as its flags.txt says it was trained, with its latest
    checkpoint's weights.

    An ImageNet model counts its classes in the tree (or TFRecord manifest) in ``data_dir``, by
    default the --data_dir of flags.txt; a model trained from ImageNet weights rebuilds from its
    --weights_path file.
    """
    recipe = Recipe.from_model_dir(model_dir, data_dir)
    if tf.train.latest_checkpoint(model_dir) is None:
        raise ModelDirError(f"{model_dir} holds no checkpoint; train first (python -m "
                            f"fmnist_tf.train --flagfile={model_dir}/{FLAGS_FILE})")
    classifier = recipe.restored_estimator()
    if not classifier.model.built:
        raise ModelDirError(f"model {recipe.model!r} declares no input, so its checkpoint cannot "
                            "be restored without data; expected a builder that starts with "
                            "keras.Input")
    return TrainedModel(model_dir, classifier, recipe, recipe.class_names())
