/**
 * Dev check of the oracle itself against the reference tensors in ../shared (skipped on a clean clone,
 * where ../shared does not exist):
 * - inception_v1: ../shared/reference/inception_v1_random_224 (seeded TF-slim weights + every end point);
 * - googlenet: the real BVLC weights (raw OHWI dumps in ../shared/models/bvlc_googlenet) on chelsea.png's
 *   preprocessed input, against ../shared/reference/bvlc/chelsea.io.safetensors.
 * Every end point must agree to 1e-4 relative (max |diff| / max |ref|).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { compare, readSafetensorsF32 } from './compare.js';
import { weightShapes, type Tensor } from './random-weights.js';
import { runOracle } from './tfjs-oracle.js';

const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const TF_REF = `${SHARED}reference/inception_v1_random_224/`;
const BVLC_RAW = `${SHARED}models/bvlc_googlenet/`;
const BVLC_REF = `${SHARED}reference/bvlc/chelsea.io.safetensors`;
const TOL = 1e-4;

function report(title: string, out: Record<string, { data: Float32Array; shape: number[] }>, ref: Map<string, Tensor>, names: string[], refShape: (s: number[]) => number[]) {
  const rows: string[] = [];
  let worst = { name: '', rel: 0 };
  for (const name of names) {
    const r = ref.get(name);
    const o = out[name];
    expect(o, `oracle end point ${name}`).toBeDefined();
    expect(r, `reference end point ${name}`).toBeDefined();
    expect(o.shape, `shape of ${name}`).toEqual(refShape(r!.shape));
    const c = compare(o.data, r!.data);
    rows.push(`  ${name.padEnd(22)} [${o.shape}] rel ${c.rel.toExponential(2)} (max|ref| ${c.maxAbsRef.toPrecision(4)})`);
    if (!(c.rel <= worst.rel)) worst = { name, rel: c.rel };
  }
  console.log(`${title}: worst ${worst.name} ${worst.rel.toExponential(2)}\n${rows.join('\n')}`);
  return worst;
}

describe.skipIf(!existsSync(`${TF_REF}weights.safetensors`))('oracle vs ../shared inception_v1_random_224', () => {
  it('matches every TF-slim end point', { timeout: 300_000 }, async () => {
    const weights = readSafetensorsF32(readFileSync(`${TF_REF}weights.safetensors`));
    const io = readSafetensorsF32(readFileSync(`${TF_REF}io.safetensors`));
    const input = io.get('input')!;
    const t0 = performance.now();
    const out = await runOracle('inception_v1', weights, { data: input.data, shape: input.shape });
    console.log(`inception_v1 oracle, 1x224x224x3: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const names = [...io.keys()].filter((n) => n !== 'input');
    expect(Object.keys(out).sort()).toEqual(names.sort());
    const worst = report('inception_v1 vs reference', out, io, names, (s) => s);
    expect(worst.rel).toBeLessThan(TOL);
  });
});

describe.skipIf(!existsSync(`${BVLC_RAW}manifest.json`) || !existsSync(BVLC_REF))('oracle vs ../shared BVLC GoogLeNet (chelsea)', () => {
  it('matches every Caffe end point with the real weights', { timeout: 300_000 }, async () => {
    const weights = new Map<string, Tensor>();
    for (const [name, shape] of weightShapes('googlenet')) {
      const file = `${BVLC_RAW}${name.replace(/\/(weight|bias)$/, (_, k: string) => (k === 'weight' ? '_filter' : '_bias'))}.bin`;
      const buf = readFileSync(file);
      const data = new Float32Array(buf.byteLength / 4);
      for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(4 * i);
      expect(data.length, file).toBe(shape.reduce((a, b) => a * b, 1));
      weights.set(name, { shape, data });
    }
    const manifest = JSON.parse(readFileSync(`${BVLC_RAW}manifest.json`, 'utf8')) as { files: unknown[] };
    expect(weights.size).toBe(manifest.files.length);
    const io = readSafetensorsF32(readFileSync(BVLC_REF));
    const input = io.get('input')!; // HWC, no batch axis
    const t0 = performance.now();
    const out = await runOracle('googlenet', weights, { data: input.data, shape: [1, ...input.shape] });
    console.log(`googlenet oracle, 1x224x224x3: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const names = [...io.keys()].filter((n) => n !== 'input');
    expect(Object.keys(out).sort()).toEqual(names.sort());
    const worst = report('googlenet vs reference', out, io, names, (s) => [1, ...s]);
    expect(worst.rel).toBeLessThan(TOL);
    // The reference's top-1 for chelsea.png is 285 (Egyptian cat), p ≈ 0.499.
    const prob = out.prob.data;
    const top = prob.indexOf(Math.max(...prob));
    console.log(`googlenet top-1 ${top} p=${prob[top].toFixed(4)}`);
    expect(top).toBe(285);
  });
});
