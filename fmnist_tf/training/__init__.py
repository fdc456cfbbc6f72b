"""Training as the front ends run it, above the Estimator: what a run's flags make, and how a run is
rebuilt.

``recipe.Recipe`` is the only place flags become objects; ``trained_model.load_trained_model``
rebuilds a finished run; model_fn, optimizers (Ranger among them), schedules and fine_tuning are
what the recipe assembles. Nothing is imported here: ``fmnist_tf.flags`` reads the optimizers' and
schedules' names without the recipe.
"""
