"""Keras random draws keyed by the training step, so a resumed run draws exactly what an
uninterrupted one would.

``states = seed_generator_states(model)`` once, then ``key_seed_generator_states(states, step)``
before a step's (or a batch's) draws: dropout masks and augmentations then depend on (layer seed,
step) alone, not on how many draws came before in this process; nothing random needs to be saved in
a checkpoint.
"""

import tensorflow as tf

# Step ``s`` starts each generator's counter at ``s * DRAWS_PER_STEP_LIMIT``: a layer may draw that
# many times in one step before its stream would run into the next step's, and steps stay below
# 2**63 / this (2**39).
DRAWS_PER_STEP_LIMIT = 2**24


def seed_generator_states(*layers):
    """The state variables of every ``keras.random.SeedGenerator`` in ``layers`` (and their
    sublayers).

    Keras's ``Layer.variables`` is the weights plus those states (metrics apart), so they are what
    ``weights`` lacks. ``tf.train.Checkpoint(model=...)`` does not save them either: a restored
    model would draw from its initial state.
    """
    states = []
    for layer in layers:
        weights = {id(weight) for weight in layer.weights}
        states += [variable for variable in layer.variables if id(variable) not in weights]
    return states


def key_seed_generator_states(states, step):
    """Sets each state to ``[its seed, step * DRAWS_PER_STEP_LIMIT]``; Keras counts draws in the
    second entry."""
    counter = tf.cast(step, tf.int64) * DRAWS_PER_STEP_LIMIT
    for state in states:
        seed = tf.convert_to_tensor(state)[0]
        state.assign(tf.stack([seed, tf.cast(counter, seed.dtype)]))
