"""Keras model -> TFLite flatbuffer bytes, in each of the formats the edge can run.

``convert_to_tflite(model, "int8", calibration_images=images)``: float32, float16 (weights),
dynamic_range (int8 weights, float activations), int8 (integer-only, uint8 input of raw pixel bytes)
and int8_signed (integer-only, int8 input).
"""

import keras
import tensorflow as tf

from fmnist_tf.exporting.calibration import representative_dataset

TFLITE_FORMATS = ("float32", "float16", "dynamic_range", "int8", "int8_signed")
FORMATS = ("saved_model", "keras") + TFLITE_FORMATS
# Full-integer formats and the type of their input tensor.
INT8_FORMATS = {"int8": tf.uint8, "int8_signed": tf.int8}
OUTPUT_TYPES = {"uint8": tf.uint8, "int8": tf.int8, "float32": tf.float32}


def serving_function(model, dtype):
    """The model in inference mode as a ``tf.function`` over a batch of any size of ``dtype``
    inputs."""
    model_input = model.inputs[0]
    spec = tf.TensorSpec([None, *model_input.shape[1:]], dtype, name=model_input.name)
    return tf.function(lambda features: model(features, training=False), input_signature=[spec])


def float_input_twin(model):
    """The same layers and weights behind a float32 input taking pixel values 0-255.

    The model's own uint8 input starts with a Cast, which is not an integer op; behind a float input
    the quantizer calibrates the pixels like any activation and replaces the input by a quantized
    one.
    """
    pixels = keras.Input(shape=model.inputs[0].shape[1:], dtype="float32",
                         name=model.inputs[0].name)
    twin = keras.models.clone_model(model, input_tensors=pixels)
    twin.set_weights(model.get_weights())
    return twin


def _converter(model, dtype):
    # Without the model as trackable object the converter freezes the variables into constants;
    # with it, it keeps READ_VARIABLE ops that calibration cannot run.
    return tf.lite.TFLiteConverter.from_concrete_functions(
        [serving_function(model, dtype).get_concrete_function()])


def convert_to_tflite(model, tflite_format, calibration_images=None, int8_output_type="uint8"):
    """The flatbuffer bytes of ``model`` in ``tflite_format`` (one of ``TFLITE_FORMATS``).

    The int8 formats need ``calibration_images`` (uint8 [N, 28, 28, 1]) and give outputs of
    ``int8_output_type`` ("uint8", "int8" or "float32"); the others keep the model's uint8 input.
    """
    if tflite_format not in TFLITE_FORMATS:
        raise ValueError(f"unknown TFLite format {tflite_format!r}; expected one of "
                         f"{TFLITE_FORMATS}")
    if tflite_format in INT8_FORMATS:
        if calibration_images is None or not len(calibration_images):
            raise ValueError(f"the {tflite_format} format needs calibration images; "
                             "none were given")
        if int8_output_type not in OUTPUT_TYPES:
            raise ValueError(f"unknown INT8 output type {int8_output_type!r}; expected one of "
                             f"{sorted(OUTPUT_TYPES)}")
        converter = _converter(float_input_twin(model), tf.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset(calibration_images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = INT8_FORMATS[tflite_format]
        converter.inference_output_type = OUTPUT_TYPES[int8_output_type]
        return converter.convert()
    converter = _converter(model, model.inputs[0].dtype)
    if tflite_format == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif tflite_format == "dynamic_range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()
