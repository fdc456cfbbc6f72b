"""TensorFlow-free inference on the device: a TFLite model, photos or IDX files in, top-k classes
out.

``python -m fmnist_tf.edge.predict model_int8.tflite photo.jpg`` on a Raspberry Pi with only
``pip install fmnist_tf[pi]`` (ai-edge-litert, numpy, Pillow). Nothing here imports the rest of
fmnist_tf.
"""
