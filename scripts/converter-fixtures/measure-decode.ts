// Loads a converted folder on onnxruntime-node (cpu) or onnxruntime-web (wasm, the browser's CPU
// path, run in Node) and times a prompt and single-token decode steps through the KV cache:
//   node --import tsx scripts/converter-fixtures/measure-decode.ts <folder> <cpu|wasm> [prompt tokens] [steps]
// Prints JSON: load time, prefill time, ms per token, peak RSS. For real-shape random checkpoints.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [folder, backend = 'cpu', promptArg = '32', stepsArg = '8'] = process.argv.slice(2);
if (!folder || !['cpu', 'wasm'].includes(backend)) {
  console.error('usage: measure-decode.ts <folder> <cpu|wasm> [prompt tokens] [steps]');
  process.exit(2);
}
const onnx = join(folder, 'onnx');
const graph = readdirSync(onnx).find((f) => f.endsWith('.onnx'))!;
const dataFiles = readdirSync(onnx).filter((f) => f.startsWith(`${graph}_data`)).sort();
let peakRss = process.memoryUsage().rss;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const sampler = setInterval(sample, 50);

type Ort = typeof import('onnxruntime-node');
let ort: Ort;
const started = performance.now();
let session: import('onnxruntime-node').InferenceSession;
if (backend === 'cpu') {
  ort = await import('onnxruntime-node');
  session = await ort.InferenceSession.create(join(onnx, graph));
} else {
  const web = await import('onnxruntime-web');
  const require_ = createRequire(import.meta.url);
  web.env.wasm.wasmPaths = `${pathToFileURL(dirname(require_.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))).href}/`;
  web.env.wasm.numThreads = 1;
  ort = web as unknown as Ort;
  session = (await web.InferenceSession.create(readFileSync(join(onnx, graph)), {
    executionProviders: ['wasm'],
    externalData: dataFiles.map((path) => ({ path, data: readFileSync(join(onnx, path)) })),
  })) as unknown as import('onnxruntime-node').InferenceSession;
}
const loadMs = performance.now() - started;
sample();

const meta = (session as unknown as { inputMetadata: Array<{ name: string; type: string; shape: Array<number | string> }> }).inputMetadata;
const pasts = meta.filter((m) => m.name.startsWith('past_key_values.'));
const ids = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
let past: Record<string, import('onnxruntime-node').Tensor> = {};
for (const m of pasts) past[m.name] = new ort.Tensor(m.type as 'float32', m.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, Number(m.shape[1]), 0, Number(m.shape[3])]);
const step = async (tokens: number[], at: number) => {
  const out = await session.run({
    input_ids: ids(tokens),
    attention_mask: ids(new Array(at + tokens.length).fill(1)),
    position_ids: ids(tokens.map((_, i) => at + i)),
    ...past,
  });
  past = {};
  for (const m of pasts) past[m.name] = out[m.name.replace('past_key_values.', 'present.')]!;
  sample();
  return out.logits!;
};
const promptLength = Number(promptArg);
const prompt = Array.from({ length: promptLength }, (_, i) => 3 + ((i * 7919) % 1000));
let t = performance.now();
await step(prompt, 0);
const prefillMs = performance.now() - t;
t = performance.now();
const steps = Number(stepsArg);
for (let i = 0; i < steps; i++) await step([5 + i], promptLength + i);
const perToken = (performance.now() - t) / steps;
clearInterval(sampler);
console.log(JSON.stringify({ backend, graph, loadMs: Math.round(loadMs), prefillMs: Math.round(prefillMs), promptLength, msPerToken: Math.round(perToken), peakRssMB: Math.round(peakRss / 1e6) }));
process.exit(0);
