// Soak: many inferences on one model, reporting RSS and Wasm memory at the start (after warm-up),
// middle and end. Growth after warm-up must stay under 5 %. `--n N` (default 10,000), `--threads T`,
// `--model M`, `--batch B` (images per inference; default 1), `--size S` (input size; default 224).
import { loadModel } from '../dist/index.js';
import { benchArgs, INPUT_SCALE, randomInceptionWeights, randomInput } from './common.mjs';

const USAGE = `usage: node --expose-gc bench/soak.mjs [--n N] [--threads T] [--model M] [--batch B] [--size S]   (npm run soak -- ...)
  --n N         inferences after warm-up, 1 to 100000000 (default 10000)
  --threads T   1 to 64 (default 2)
  --model M     googlenet (default) or inception_v1
  --batch B     images per inference, 1 to 256 (default 1)
  --size S      input size, 1 to 4096 (default 224)`;
const args = benchArgs('bench/soak.mjs', USAGE, { n: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, batch: { type: 'string' }, size: { type: 'string' } });
const n = args.int('n', 10000, 1, 100000000);
const threads = args.int('threads', 2, 1, 64);
const model = args.oneOf('model', 'googlenet', ['googlenet', 'inception_v1']);
const batch = args.int('batch', 1, 1, 256);
const size = args.int('size', 224, 1, 4096);
const m = await loadModel({ model, threads, weights: model === 'inception_v1' ? randomInceptionWeights(1) : undefined });
try {
  await m.reserve(batch, size, size); // a size the network or the memory refuses: one line, not a stack
} catch (e) {
  await m.dispose();
  args.fail(e.message);
}
const inputs = [0, 1, 2, 3].map((s) => randomInput(batch, size, size, s, INPUT_SCALE[model]));
const mib = (b) => (b / 2 ** 20).toFixed(1);
const sample = (label, i, t0) => {
  global.gc?.();
  const mem = process.memoryUsage();
  const row = { label, inferences: i, rssMiB: mib(mem.rss), heapMiB: mib(mem.heapUsed), externalMiB: mib(mem.external), wasmMiB: mib(m.memoryBytes ?? 0), sec: ((performance.now() - t0) / 1000).toFixed(1) };
  console.log(JSON.stringify(row));
  return mem.rss;
};
const warm = Math.min(200, Math.max(10, Math.floor(n / 50)));
for (let i = 0; i < warm; i++) await m.run(inputs[i % 4]);
const t0 = performance.now();
const start = sample('start (after warm-up)', 0, t0);
let middle = start;
// The model's output (prob for googlenet, Predictions for inception_v1): the same input, the same answer.
const output = m.info.output;
const first = (await m.run(inputs[0]))[output].data;
for (let i = 1; i <= n; i++) {
  const out = await m.run(inputs[i % 4]);
  if (i % 4 === 0 && out[output].data[0] !== first[0]) throw new Error(`inference ${i} gave a different answer for the same input`);
  if (i === Math.floor(n / 2)) middle = sample('middle', i, t0);
}
const end = sample('end', n, t0);
await m.dispose();
const growth = (end - start) / start;
console.log(`RSS growth after warm-up: ${(100 * growth).toFixed(2)} % (start→middle ${(100 * (middle - start) / start).toFixed(2)} %), ${n} inferences, ${(n / ((performance.now() - t0) / 1000)).toFixed(1)} inferences/s`);
process.exitCode = growth < 0.05 ? 0 : 1;
