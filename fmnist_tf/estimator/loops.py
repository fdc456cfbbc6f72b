"""The compiled loops the Estimator runs: many training steps per call, an evaluation pass, a predict batch.

``make_train_loop(model, optimizer, strategy, global_step)(iterator, num_steps)``; each maker returns
one ``tf.function``, traced once per input signature, that runs ``strategy.run`` on every replica.
"""

import tensorflow as tf

from fmnist_tf.estimator import step_seeds

_SUM = tf.distribute.ReduceOp.SUM


def split_features_and_labels(element):
    """A ``(features, labels)`` pair is returned as is; anything else is features without labels."""
    if isinstance(element, tuple) and len(element) == 2:
        return element
    return element, None


def per_example_loss(labels, logits, label_smoothing=0.0):
    """Softmax cross-entropy from logits, one value per example, in float32.

    Class-id labels without smoothing take TF1's sparse op; label rows (one-hot or mixed by MixUp or
    CutMix) and smoothed labels take the dense one, smoothing spreading that share over all classes.
    """
    logits = tf.cast(logits, tf.float32)
    if labels.shape.rank != logits.shape.rank:
        if not label_smoothing:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=logits)
        labels = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1])
    labels = tf.cast(labels, tf.float32)
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + label_smoothing / tf.cast(tf.shape(logits)[-1], tf.float32)
    return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def predictions_from_logits(logits):
    """The Estimator's prediction dict: ``classes``, ``probabilities`` and ``logits`` per example."""
    logits = tf.cast(logits, tf.float32)
    return {"classes": tf.argmax(logits, axis=-1), "probabilities": tf.nn.softmax(logits),
            "logits": logits}


def _count_correct(labels, logits):
    """Against class ids, or against the largest entry of one-hot or mixed (MixUp, CutMix) label rows."""
    if labels.shape.rank == logits.shape.rank:
        labels = tf.argmax(labels, axis=-1)
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=-1), tf.cast(labels, tf.int64)), tf.int64))


def _count_top_k_correct(labels, logits, k=5):
    """Examples whose label is among the ``k`` largest logits; with ``k`` or fewer classes, every example."""
    if labels.shape.rank == logits.shape.rank:
        labels = tf.argmax(labels, axis=-1)
    k = min(k, logits.shape[-1])
    return tf.reduce_sum(tf.cast(tf.math.in_top_k(tf.cast(labels, tf.int32), logits, k), tf.int64))


def _sum_over_batches(strategy, iterator, max_batches, replica_fn, total_dtypes, after_each_batch):
    """Runs ``replica_fn(features, labels)`` on up to ``max_batches`` batches and sums its outputs.

    Returns ``(batches_run, totals)``; fewer batches than asked means the input has ended. Uses
    ``get_next_as_optional`` so the end of the input stops the loop instead of raising mid-graph.
    """
    batches_run = tf.constant(0, tf.int64)
    totals = tuple(tf.zeros([], dtype) for dtype in total_dtypes)
    for _ in tf.range(max_batches):
        element = iterator.get_next_as_optional()
        if not element.has_value():
            break
        replica_outputs = strategy.run(replica_fn, args=split_features_and_labels(element.get_value()))
        totals = tuple(total + strategy.reduce(_SUM, output, axis=None)
                       for total, output in zip(totals, replica_outputs))
        after_each_batch()
        batches_run += 1
    return batches_run, totals


def make_train_loop(model, optimizer, strategy, global_step, label_smoothing=0.0, jit_compile=False):
    """Returns ``train_loop(iterator, num_steps) -> (steps_run, loss_sum, correct, examples)``.

    Each step averages the loss over the global batch, adds the model's regularization losses,
    applies the gradients and increments ``global_step``. ``label_smoothing`` applies to training only.
    ``jit_compile`` compiles each step (not the loop, whose input iterator XLA cannot hold) with XLA.
    The model's random draws (dropout) in a step depend on its layers' seeds and ``global_step`` alone, so
    neither a resumed run nor the number of steps per call changes them.
    """
    seed_states = step_seeds.seed_generator_states(model)

    def train_step(features, labels):
        step_seeds.key_seed_generator_states(seed_states, global_step)
        # The global batch is summed across replicas rather than computed from the per-replica
        # shape, so a partial last batch (split unevenly by the strategy) is averaged exactly.
        examples = tf.shape(labels)[0]
        global_batch_size = tf.distribute.get_replica_context().all_reduce(_SUM, examples)
        with tf.GradientTape() as tape:
            logits = model(features, training=True)
            loss = tf.nn.compute_average_loss(per_example_loss(labels, logits, label_smoothing),
                                              global_batch_size=global_batch_size)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            # A LossScaleOptimizer (float16) scales the loss up here and the gradients back down in apply.
            scaled_loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss, _count_correct(labels, logits), tf.cast(examples, tf.int64)

    replica_step = tf.function(train_step, jit_compile=True) if jit_compile else train_step

    @tf.function
    def train_loop(iterator, num_steps):
        steps_run, (loss_sum, correct, examples) = _sum_over_batches(
            strategy, iterator, num_steps, replica_step, (tf.float32, tf.int64, tf.int64),
            after_each_batch=lambda: global_step.assign_add(1))
        return steps_run, loss_sum, correct, examples

    return train_loop


def evaluation_logits(model, features, flip=False):
    """The model's float32 logits; with ``flip``, the log of its mean probabilities over the images and
    their mirror images (test-time augmentation), which are the logits of that averaged prediction."""
    logits = tf.cast(model(features, training=False), tf.float32)
    if not flip:
        return logits
    mirrored = tf.cast(model(tf.reverse(features, axis=[2]), training=False), tf.float32)  # NHWC: axis 2 is x
    return tf.math.log((tf.nn.softmax(logits) + tf.nn.softmax(mirrored)) / 2)


def make_evaluate_loop(model, strategy, flip=False):
    """Returns ``evaluate_loop(iterator, max_batches) -> (batches, loss_sum, correct, top_5_correct, examples)``.

    Sums, not per-batch means, so a partial last batch weighs exactly its number of examples.
    ``flip`` averages each prediction with that of the mirrored image (``evaluation_logits``).
    """

    def evaluate_step(features, labels):
        logits = evaluation_logits(model, features, flip)
        return (tf.reduce_sum(tf.cast(per_example_loss(labels, logits), tf.float64)),
                _count_correct(labels, logits),
                _count_top_k_correct(labels, logits, k=5),
                tf.size(labels, out_type=tf.int64))

    @tf.function
    def evaluate_loop(iterator, max_batches):
        batches, (loss_sum, correct, top_5_correct, examples) = _sum_over_batches(
            strategy, iterator, max_batches, evaluate_step, (tf.float64, tf.int64, tf.int64, tf.int64),
            after_each_batch=tf.no_op)
        return batches, loss_sum, correct, top_5_correct, examples

    return evaluate_loop


def make_predict_batch(model, strategy):
    """Returns ``predict_batch(iterator) -> predictions`` for the next global batch, in input order.

    Raises ``tf.errors.OutOfRangeError`` when the input has ended.
    """

    def predict_step(features):
        return predictions_from_logits(model(features, training=False))

    @tf.function
    def predict_batch(iterator):
        features, _ = split_features_and_labels(next(iterator))
        return strategy.gather(strategy.run(predict_step, args=(features,)), axis=0)

    return predict_batch
