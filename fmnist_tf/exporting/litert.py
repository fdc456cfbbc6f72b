"""The LiteRT interpreter on the export machine: what a flatbuffer's tensors are, and its outputs on
a batch.

``describe_tflite(model_bytes)`` -> inputs, outputs (dtype, shape, scale, zero point) and ops;
``tflite_logits(model_bytes, images)`` -> float32 [N, classes]. The same runtime as on the device.
"""

import numpy as np


def new_interpreter(model_bytes, num_threads=None):
    """An interpreter over ``model_bytes`` (verified) with the default delegates, XNNPACK among
    them."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError as error:
        raise ImportError("the TFLite report card and manifest need the LiteRT interpreter: "
                          "pip install -e '.[dev]' (or '.[pi]')") from error
    return Interpreter(model_content=model_bytes, num_threads=num_threads,
                       experimental_op_resolver_type=OpResolverType.AUTO)


def tensor_description(detail):
    """A tensor's name, dtype, shapes and quantization as JSON-ready values; scale 0 means not
    quantized."""
    scale, zero_point = detail["quantization"]
    return {"name": detail["name"], "dtype": np.dtype(detail["dtype"]).name,
            "shape": [int(size) for size in detail["shape"]],
            "shape_signature": [int(size) for size in detail["shape_signature"]],
            "scale": float(scale), "zero_point": int(zero_point)}


def describe_tflite(model_bytes):
    """``{"inputs": [...], "outputs": [...], "ops": [sorted op names]}`` of a flatbuffer."""
    interpreter = new_interpreter(model_bytes)
    return {"inputs": [tensor_description(detail) for detail in interpreter.get_input_details()],
            "outputs": [tensor_description(detail) for detail in interpreter.get_output_details()],
            "ops": sorted({op["op_name"] for op in interpreter._get_ops_details()})}


def quantize_input(pixels, detail):
    """Pixel values 0-255 as the input tensor takes them: quantized with its scale and zero point if
    it has one."""
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    if dtype.kind == "f":
        return pixels.astype(dtype)
    if scale:
        pixels = np.round(pixels.astype(np.float32) / scale) + zero_point
    limits = np.iinfo(dtype)
    return np.clip(pixels, limits.min, limits.max).astype(dtype)


def dequantize_output(values, detail):
    """float32 values of an output tensor, undoing its quantization if it has one."""
    scale, zero_point = detail["quantization"]
    if scale:
        return (values.astype(np.float32) - zero_point) * scale
    return values.astype(np.float32)


def tflite_logits(model_bytes, images, batch_size=500, num_threads=None):
    """float32 [N, classes] for uint8 ``images`` [N, 28, 28, 1], run ``batch_size`` at a time."""
    interpreter = new_interpreter(model_bytes, num_threads=num_threads)
    input_detail = interpreter.get_input_details()[0]
    outputs, allocated_batch_size = [], None
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        if len(batch) != allocated_batch_size:
            interpreter.resize_tensor_input(input_detail["index"], [len(batch), *batch.shape[1:]])
            interpreter.allocate_tensors()
            allocated_batch_size = len(batch)
        interpreter.set_tensor(input_detail["index"], quantize_input(batch, input_detail))
        interpreter.invoke()
        output_detail = interpreter.get_output_details()[0]
        outputs.append(dequantize_output(interpreter.get_tensor(output_detail["index"]),
                                         output_detail))
    return np.concatenate(outputs)
