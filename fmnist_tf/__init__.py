"""fmnist_tf: the TF1-era Fashion-MNIST reference, rebuilt on TensorFlow 2 and Keras 3.

Data flows one way: ``fmnist_tf.data`` -> ``fmnist_tf.models`` -> ``fmnist_tf.estimator``.
"""

__version__ = "0.1.0"
