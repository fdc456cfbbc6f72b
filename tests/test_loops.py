"""The training loss on class ids, one-hot and mixed label rows, with and without label smoothing."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fmnist_tf.estimator import loops

LOGITS = tf.constant([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
CLASS_IDS = tf.constant([0, 1])


def test_one_hot_rows_give_the_same_loss_as_class_ids():
    one_hot = tf.one_hot(CLASS_IDS, 3)
    np.testing.assert_allclose(loops.per_example_loss(one_hot, LOGITS), loops.per_example_loss(CLASS_IDS, LOGITS),
                               rtol=1e-6)


@pytest.mark.parametrize("labels", [CLASS_IDS, tf.one_hot(CLASS_IDS, 3)], ids=["class_ids", "one_hot"])
def test_label_smoothing_matches_keras_categorical_crossentropy(labels):
    expected = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, reduction=None)(
        tf.one_hot(CLASS_IDS, 3), LOGITS)
    np.testing.assert_allclose(loops.per_example_loss(labels, LOGITS, label_smoothing=0.2), expected, rtol=1e-5)


def test_mixed_label_rows_weigh_both_classes():
    mixed = tf.constant([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6]])
    log_softmax = tf.nn.log_softmax(LOGITS).numpy()
    expected = [-(0.7 * log_softmax[0, 0] + 0.3 * log_softmax[0, 1]),
                -(0.4 * log_softmax[1, 1] + 0.6 * log_softmax[1, 2])]
    np.testing.assert_allclose(loops.per_example_loss(mixed, LOGITS), expected, rtol=1e-5)


def test_training_on_mixed_labels_counts_the_largest_share_as_the_class():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, kernel_initializer="identity",
                                                                    use_bias=False)])
    optimizer = keras.optimizers.SGD(0.0)
    global_step = tf.Variable(0, dtype=tf.int64)
    features = tf.constant([[5.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    labels = tf.constant([[0.7, 0.3, 0.0], [0.6, 0.4, 0.0]])  # argmax 0 and 0: one right, one wrong
    dataset = tf.data.Dataset.from_tensors((features, labels)).repeat()
    train_loop = loops.make_train_loop(model, optimizer, tf.distribute.get_strategy(), global_step,
                                       label_smoothing=0.1)
    steps_run, loss_sum, correct, examples = train_loop(iter(dataset), tf.constant(3, tf.int64))
    assert (int(steps_run), int(correct), int(examples), int(global_step)) == (3, 3, 6, 3)
    expected_loss = np.mean(loops.per_example_loss(labels, features, label_smoothing=0.1))
    assert float(loss_sum) / 3 == pytest.approx(expected_loss, rel=1e-5)
