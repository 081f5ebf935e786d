// Run an ONNX model with ONNX Runtime (npm onnxruntime-node) on raw float32 input.
// usage: node ort_run.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32
// Prints the output name and dims as JSON; writes the "heatmaps" output as raw float32.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, dims, output] = process.argv.slice(2);
  const shape = dims.split(',').map(Number);
  const buf = fs.readFileSync(input);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const res = await session.run({ frames: new ort.Tensor('float32', x, shape) });
  const y = res.heatmaps;
  fs.writeFileSync(output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames,
                               dims: y.dims, ort: ort.env.versions.node }));
}
main().catch((e) => { console.error(`ort_run: ${e.message || e}`); process.exit(1); });
