"""Training as the front ends run it: ``Recipe`` turns a run's flags into its input functions and Estimator."""

from fmnist_tf.training.recipe import Recipe, RecipeError

__all__ = ["Recipe", "RecipeError"]
