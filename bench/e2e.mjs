// End-to-end benchmark: ms per image, both topologies, 224x224, batch 1 and 8, threads 1 and 2.
// Median and p10-p90 over >= 20 timed runs after warm-up. `--json` prints JSON; `--quick` only
// inception_v1 batch 1; `--runs N` sets the number of timed runs.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/index.js';
import { randomInceptionWeights, randomInput, time } from './common.mjs';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, runs: { type: 'string' }, threads: { type: 'string' } } });
const runs = Number(values.runs ?? 20);
const threadList = values.threads ? values.threads.split(',').map(Number) : [1, 2];
const rows = [];
const configs = [];
for (const model of values.quick ? ['inception_v1'] : ['inception_v1', 'googlenet']) {
  for (const batch of values.quick ? [1] : [1, 8]) for (const threads of threadList) configs.push({ model, batch, threads });
}
const inceptionWeights = randomInceptionWeights(1);
for (const c of configs) {
  let m;
  try {
    m = await loadModel({ model: c.model, threads: c.threads, weights: c.model === 'inception_v1' ? inceptionWeights : undefined });
  } catch (e) {
    rows.push({ ...c, error: e.message });
    continue;
  }
  const input = randomInput(c.batch, 224, 224, 7, c.model === 'googlenet' ? 100 : 1);
  const s = await time(() => m.run(input), { warmup: 3, runs: c.batch > 1 ? Math.max(5, Math.round(runs / 4)) : runs });
  rows.push({ ...c, kernels: m.info.kernels, msPerImage: s.median / c.batch, p10: s.p10 / c.batch, p90: s.p90 / c.batch, runs: s.runs });
  await m.dispose();
}
const meta = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.availableParallelism() };
if (values.json) {
  console.log(JSON.stringify({ meta, results: rows }, null, 2));
} else {
  console.log(`googlenet-wasm end to end, 224x224 — ${meta.cpu}, ${meta.cores} cores, Node ${meta.node}`);
  console.log('model          batch threads kernels   ms/image (median)  p10-p90');
  for (const r of rows) {
    if (r.error) console.log(`${r.model.padEnd(14)} ${String(r.batch).padStart(5)} ${String(r.threads).padStart(7)}  error: ${r.error}`);
    else console.log(`${r.model.padEnd(14)} ${String(r.batch).padStart(5)} ${String(r.threads).padStart(7)} ${r.kernels.padEnd(9)} ${r.msPerImage.toFixed(1).padStart(17)}  ${r.p10.toFixed(1)}-${r.p90.toFixed(1)}`);
  }
}
