// Dev check against ../shared/reference (an independent implementation): every end point of
// inception_v1_random_224 and of bvlc/chelsea and bvlc/coffee, max |diff| / max |ref| <= 1e-4.
// Skips (exit 0) when ../shared is absent, as on a fresh clone elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import { loadModel, parseSafetensors } from '../dist/index.js';

const root = new URL('../../shared/reference/', import.meta.url);
if (!existsSync(root)) {
  console.log('verify:reference: ../shared/reference not found, skipping');
  process.exit(0);
}
const threads = Number(process.env.THREADS ?? 1);
const read = (p) => parseSafetensors(readFileSync(new URL(p, root))).tensors;
const rel = (a, b) => {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
};
let worst = 0, failed = 0;
async function check(label, model, weights, io, withBatch) {
  const m = await loadModel({ model, weights, threads });
  const input = io.get('input');
  const out = await m.run({ data: input.data, shape: withBatch ? input.shape : [1, ...input.shape] }, { endpoints: 'all' });
  // Every end point of the reference is compared (a dropped or renamed one fails), shapes first.
  for (const name of io.keys()) {
    if (name === 'input') continue;
    if (!out[name]) {
      failed++;
      console.log(`${label.padEnd(28)} ${name.padEnd(22)} missing from the engine's end points  FAIL`);
    }
  }
  for (const [name, t] of Object.entries(out)) {
    const ref = io.get(name);
    if (!ref) continue;
    const shape = withBatch ? ref.shape : [1, ...ref.shape];
    if (t.data.length !== ref.data.length || t.shape.join() !== shape.join()) {
      failed++;
      console.log(`${label.padEnd(28)} ${name.padEnd(22)} shape [${t.shape}] against the reference's [${shape}]  FAIL`);
      continue;
    }
    const e = rel(t.data, ref.data);
    worst = Math.max(worst, e);
    if (!(e <= 1e-4)) failed++;
    console.log(`${label.padEnd(28)} ${name.padEnd(22)} ${e.toExponential(2)}${e <= 1e-4 ? '' : '  FAIL'}`);
  }
  await m.dispose();
}
await check('inception_v1_random_224', 'inception_v1', readFileSync(new URL('inception_v1_random_224/weights.safetensors', root)), read('inception_v1_random_224/io.safetensors'), true);
for (const img of ['chelsea', 'coffee']) await check(`bvlc/${img}`, 'googlenet', undefined, read(`bvlc/${img}.io.safetensors`), false);
console.log(`worst relative difference ${worst.toExponential(2)} (threads ${threads}); ${failed} end points over 1e-4`);
process.exit(failed ? 1 : 0);
