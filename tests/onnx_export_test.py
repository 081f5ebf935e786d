"""Reference test: `vbtrain export` against real ONNX tooling, for each architecture.

usage: VBP_PYTHON tests/onnx_export_test.py VBSAMPLE VBPACK VBTRAIN WINDOW_DUMP
1. Weights with non-trivial BatchNorm statistics: a few training steps on a
   small synthetic pack (VballNetFastV1, then VballNetV1 and its motion prompt).
2. `vbtrain export` (default 512x288) -> onnx.checker.check_model(full_check)
   (Debian python3-onnx), graph input/output shapes with a symbolic batch.
3. ONNX Runtime (npm onnxruntime-node, tests/onnx/ort_run.js) runs the model
   on real windows (the shared VballNet clip packed gray at 512x288) at batch 1
   and batch 2; max |ORT - C eval forward| <= 1e-4 (tests/window_dump.c).
4. Bad weights: one error line naming the file, exit 1, no file at the target.
Exit 77 (SKIPPED) when a runtime is missing only with VBP_SKIP_REFERENCE=1.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOL = 1e-4


from _reference import skip_or_fail  # noqa: E402


try:
    import numpy as np
    import onnx
except ImportError as e:
    skip_or_fail(f"numpy and onnx (python3-onnx) not importable in {sys.executable}: {e}")

NODE_MODULES = os.environ.get("VBP_NODE_MODULES",
                              os.path.expanduser("~/.cache/vbpack/npm/node_modules"))
node = shutil.which("node") or shutil.which("nodejs")
if not node:
    skip_or_fail("node (for onnxruntime-node) is not on PATH")
if not os.path.isdir(os.path.join(NODE_MODULES, "onnxruntime-node")):
    skip_or_fail(f"onnxruntime-node is not installed in {NODE_MODULES}")
ORT_RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx", "ort_run.js")


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def ort(model, x, out):
    """Run the model on x (N,C,H,W float32) with ONNX Runtime; returns the output."""
    x.astype(np.float32).tofile(out + ".in")
    r = run(node, ORT_RUN, model, out + ".in", ",".join(map(str, x.shape)), out,
            env=dict(os.environ, NODE_PATH=NODE_MODULES), capture_output=True, text=True)
    info = json.loads(r.stdout)
    return np.fromfile(out, np.float32).reshape(info["dims"]), info


OPS = {"VballNetFastV1": ["Concat", "Conv", "MaxPool", "Relu", "Resize", "Sigmoid"],
       "VballNetV1": ["Abs", "Add", "Concat", "Conv", "MaxPool", "Mul", "Relu", "Resize",
                      "Sigmoid", "Sub"]}


def widen(path, out, factor=8.0, threshold=None):
    """Copy the safetensors file path to out with every 4-D weight times factor, and the
    metadata threshold set when given."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    for name, info in header.items():
        if name != "__metadata__" and info["dtype"] == "F32" and len(info["shape"]) == 4:
            b, e = (8 + n + o for o in info["data_offsets"])
            data[b:e] = (np.frombuffer(bytes(data[b:e]), np.float32) * factor).tobytes()
    if threshold is not None:
        header.setdefault("__metadata__", {})["threshold"] = threshold
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(out, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + data[8 + n:])


def main():
    for model in OPS:
        check(model, [], *sys.argv[1:5])
    check("VballNetFastV1", ["--background", "median"], *sys.argv[1:5])  # (seq+1)*C inputs


def check(model_name, extra, vbsample, vbpack, vbtrain, dump):
    frames = 3 + ("median" in extra)  # input frames: the window's 3 and the background
    tmp = tempfile.mkdtemp()
    try:
        # 1. Weights: 4 steps on synthetic gray 128x72, seq 3.
        run(vbsample, "--out", f"{tmp}/s", "--layout", "vballnet", "--width", "128", "--height",
            "72", "--gray", "--seed", "3", "--matches", "1", "--clips", "2", "--frames", "12",
            stderr=subprocess.DEVNULL)
        run(vbpack, f"{tmp}/s/vballnet", "-o", f"{tmp}/s.vbp", "--grayscale", "--size", "128x72",
            "--quiet")
        run(vbtrain, "train", f"{tmp}/s.vbp", "--out", f"{tmp}/run", "--epochs", "1", "--batch", "4",
            "--lr", "0.01", "--seed", "5", "--threads", "1", "--stop-after", "4", "--quiet",
            "--model", model_name, *extra)
        weights = f"{tmp}/run/last.safetensors"
        if model_name == "VballNetV1":
            # Keras' 0.05 init leaves a nearly constant output after a few steps (a spread of
            # 6e-4): weights of Glorot's size make an output worth comparing.
            # It also carries a threshold in its metadata, which the export must pass on.
            widen(weights, f"{tmp}/wide.safetensors", threshold="0.35")
            weights = f"{tmp}/wide.safetensors"

        # 2. Export at the default size and check the model.
        model = f"{tmp}/model.onnx"
        run(vbtrain, "export", "--weights", weights, "-o", model)
        m = onnx.load(model)
        onnx.checker.check_model(m, full_check=True)

        def dims(vi):
            return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        assert [i.name for i in m.graph.input] == ["frames"], m.graph.input
        assert dims(m.graph.input[0]) == ["N", frames, 288, 512], dims(m.graph.input[0])
        assert dims(m.graph.output[0]) == ["N", 3, 288, 512], dims(m.graph.output[0])
        meta = {p.key: p.value for p in m.metadata_props}
        threshold = "0.35" if model_name == "VballNetV1" else "0.5"  # the weights' or the default
        want = {"seq": "3", "channels": "1", "model": model_name, "threshold": threshold}
        if frames == 4:
            want["background"] = "median"
        assert meta == want, meta
        assert m.opset_import[0].version == 13
        ops = sorted({n.op_type for n in m.graph.node})
        assert ops == OPS[model_name], ops

        # 3. Real windows at 512x288 (the shared clip), else the synthetic ones at 128x72.
        real = os.path.join(os.environ.get("VBP_REAL_DATA", ""), "vballnet")
        if os.path.isdir(real):
            pack, size = f"{tmp}/real.vbp", (288, 512)
            run(vbpack, real, "-o", pack, "--grayscale", "--quiet")
            source = "the shared VballNet clip"
        else:
            pack, size = f"{tmp}/s.vbp", (72, 128)
            model = f"{tmp}/small.onnx"
            run(vbtrain, "export", "--weights", weights, "-o", model, "--height", "72",
                "--width", "128")
            source = "synthetic windows (VBP_REAL_DATA not set)"
        os.makedirs(f"{tmp}/d")
        run(dump, pack, 3, 1, "all", f"{tmp}/d", weights, 0, 9)
        x = np.fromfile(f"{tmp}/d/x.f32", np.float32).reshape(2, frames, *size)
        c = np.fromfile(f"{tmp}/d/probs.f32", np.float32).reshape(2, 3, *size)
        assert x.std() > 0.05 and c.std() > 1e-3, (x.std(), c.std())  # a real input and output
        errs = []
        for n in (1, 2):
            got, info = ort(model, x[:n], f"{tmp}/ort{n}.f32")
            assert list(got.shape) == [n, 3, *size], got.shape
            errs.append(float(np.abs(got - c[:n]).max()))
        print(f"{model_name} {' '.join(extra)}: onnxruntime-node {info['ort']} on {source}, {size[1]}x{size[0]}: "
              f"max |ORT - C| batch 1 {errs[0]:.2e}, batch 2 {errs[1]:.2e} (tolerance {TOL:g})")
        assert max(errs) <= TOL, errs

        # 4. Bad weights: an error line naming the file, no output.
        bad = f"{tmp}/bad.safetensors"
        with open(weights, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        target = f"{tmp}/bad.onnx"
        r = subprocess.run([vbtrain, "export", "--weights", bad, "-o", target],
                           capture_output=True, text=True)
        assert r.returncode == 1 and bad in r.stderr and len(r.stderr.splitlines()) == 1, r
        assert not os.path.exists(target) and not any(n.startswith("bad.onnx") for n in
                                                      os.listdir(tmp)), os.listdir(tmp)
        r = subprocess.run([vbtrain, "export", "--weights", weights, "-o", target, "--height",
                            "100"], capture_output=True, text=True)
        assert r.returncode == 1 and "multiples of 8" in r.stderr and not os.path.exists(target), r
        print(f"{model_name} ok: checker, shapes, ORT parity, bad weights")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
