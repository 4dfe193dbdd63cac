// Per-layer profile, one thread: each step of the inception_v1 (or --model googlenet) 224 batch 1 plan
// timed on its own (median of --runs calls, after 2 untimed), with its GFLOP/s (2 x the direct
// convolution's multiply-adds / time: "effective" for the Winograd steps), slowest first.
import { loadModel } from '../dist/index.js';
import { benchArgs, INPUT_SCALE, randomInceptionWeights, randomInput, stats } from './common.mjs';

const USAGE = `usage: node bench/layers.mjs [--model M] [--runs N] [--top N] [--winograd W]   (npm run bench:layers -- ...)
  --model M      inception_v1 (default; seeded random weights) or googlenet (the bundled weights)
  --runs N       timed calls of each step, 1 to 100000 (default 15)
  --top N        the N slowest steps, 1 to 1000 (default 25)
  --winograd W   loadModel's winograd: true (default), false (im2col + GEMM only), 2 or 4 (the tile)`;
const args = benchArgs('bench/layers.mjs', USAGE, { model: { type: 'string' }, runs: { type: 'string' }, winograd: { type: 'string' }, top: { type: 'string' } });
const model = args.oneOf('model', 'inception_v1', ['inception_v1', 'googlenet']);
const runs = args.int('runs', 15, 1, 100000);
const top = args.int('top', 25, 1, 1000);
const winograd = { true: true, false: false, 2: 2, 4: 4 }[args.oneOf('winograd', 'true', ['true', 'false', '2', '4'])];
const m = await loadModel({ model, threads: 1, winograd, weights: model === 'inception_v1' ? randomInceptionWeights(1) : undefined });
const input = randomInput(1, 224, 224, 7, INPUT_SCALE[model]);
await m.run(input);
// The model's own plan and kernels (internals: this is a development tool).
const plan = m.plan(1, 224, 224);
const k = m.executor.k;
const rows = plan.steps.map((s) => {
  const ls = (s.fused ?? [s.layer]).map((i) => plan.net.layers[i]);
  const l = ls[0];
  const y = plan.net.tensors.get(l.output);
  const macs = ls.reduce((a, c) => a + (c.kind === 'conv' ? y.h * y.w * c.cout * c.kh * c.kw * c.cin : 0), 0);
  const ms = [];
  for (let r = 0; r < runs + 2; r++) {
    const t = performance.now();
    k[s.fn](...s.args);
    if (r >= 2) ms.push(performance.now() - t);
  }
  const med = stats(ms).median;
  const cout = ls.map((c) => c.cout).join('+');
  // A fused step: the path its layers' scopes share (InceptionV1/Mixed_3b, inception_3a), then "heads".
  const parts = ls.map((c) => (c.scope ?? c.output).split('/'));
  let common = 0;
  while (common < parts[0].length - 1 && parts.every((q) => q[common] === parts[0][common])) common++;
  const name = ls.length > 1 ? `${parts[0].slice(0, common).join('/')} heads (fused)` : l.scope ?? l.output;
  return { name, fn: s.fn, shape: l.kind === 'conv' ? `${l.kh}x${l.kw}/${l.stride} ${l.cin}->${cout} @${y.h}x${y.w}` : `${l.kind} @${y.h}x${y.w}x${y.c}`, ms: med, gflops: macs ? (2 * macs) / med / 1e6 : 0 };
});
const total = rows.reduce((a, r) => a + r.ms, 0);
const byFn = {};
for (const r of rows) byFn[r.fn] = (byFn[r.fn] ?? 0) + r.ms;
console.log(`${model} 224 batch 1, one thread, ${m.info.kernels} kernels: sum of step medians ${total.toFixed(1)} ms`);
console.log(Object.entries(byFn).map(([f, t]) => `${f} ${t.toFixed(1)} ms (${((100 * t) / total).toFixed(0)} %)`).join(', '));
console.log(`the ${Math.min(top, rows.length)} slowest steps: median ms of ${runs} calls; GFLOP/s of the direct convolution's work ("effective" for Winograd); kernel; shape; layer`);
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, top)) {
  console.log(`${r.ms.toFixed(2).padStart(7)} ms ${r.gflops ? r.gflops.toFixed(1).padStart(5) + ' GF/s' : '          '}  ${r.fn.padEnd(11)} ${r.shape.padEnd(28)} ${r.name}`);
}
await m.dispose();
