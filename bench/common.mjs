// Helpers shared by the benchmarks.
import { buildNetwork, weightSpec } from '../dist/index.js';
import { mulberry32 } from '../test/helpers/rng.mjs';

/** Seeded (mulberry32) uniform numbers in [-1, 1). */
export function rng(seed) {
  const r = mulberry32(seed);
  return () => r() * 2 - 1;
}

/** Seeded random TF-slim weights for inception_v1 (He-scaled, positive variances). */
export function randomInceptionWeights(seed = 1, numClasses = 1001) {
  const r = rng(seed);
  const weights = new Map();
  for (const { name, shape } of weightSpec(buildNetwork('inception_v1', 224, 224, { numClasses }))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : 1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (name.endsWith('moving_variance')) data[i] = 0.5 + 0.5 * Math.abs(r());
      else if (name.endsWith('/weights')) data[i] = r() * Math.sqrt(6 / fanIn);
      else data[i] = 0.1 * r();
    }
    weights.set(name, { shape, data });
  }
  return weights;
}

export function randomInput(n, h, w, seed = 7, scale = 1) {
  const r = rng(seed);
  const data = new Float32Array(n * h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = r() * scale;
  return { data, shape: [n, h, w, 3] };
}

export function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), runs: s.length };
}
