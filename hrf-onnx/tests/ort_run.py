"""ONNX export, the ONNX Runtime side of the parity test (run by tests/ort_parity.rs).

argv[1]: a file of cases, one per line: `model input batch frames features output`.
Each model is checked with onnx.checker (full_check) once, then run on the CPU EP;
the (batch, frames, features) little-endian f32 input gives (batch, classes) logits,
written as little-endian f32.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort

sessions = {}
for line in open(sys.argv[1]):
    model, inp, batch, frames, features, out = line.split()
    if model not in sessions:
        onnx.checker.check_model(onnx.load(model), full_check=True)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sessions[model] = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    x = np.fromfile(inp, dtype="<f4").reshape(int(batch), int(frames), int(features))
    (logits,) = sessions[model].run(["logits"], {"features": x})
    np.asarray(logits, dtype="<f4").tofile(out)
print("onnxruntime", ort.__version__, "onnx", onnx.__version__, file=sys.stderr)
