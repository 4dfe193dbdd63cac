/**
 * Timing inference, for `googlenet bench` and the repository's benchmarks (bench/): seeded random tensors
 * (speed does not depend on the values, and inception_v1 has no bundled weights), order statistics, and
 * the timing loop itself. Platform-neutral apart from what loadModel needs.
 */
import type { LoadOptions, Model, TensorData } from './model.js';
import { buildNetwork, type ModelName } from './topology.js';
import { weightSpec } from './weights.js';

/** mulberry32: a small, fast, seeded 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded uniform numbers in [-1, 1). */
export function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r() * 2 - 1;
}

/** Seeded random TF-slim weights for inception_v1 (He-scaled, positive variances). */
export function randomInceptionWeights(seed = 1, numClasses = 1001): Map<string, { shape: number[]; data: Float32Array }> {
  const r = rng(seed);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { name, shape } of weightSpec(buildNetwork('inception_v1', 224, 224, { numClasses }))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : 1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (name.endsWith('moving_variance')) data[i] = 0.5 + 0.5 * Math.abs(r());
      else if (name.endsWith('/weights')) data[i] = r() * Math.sqrt(6 / fanIn);
      else data[i] = 0.1 * r();
    }
    weights.set(name, { shape: [...shape], data });
  }
  return weights;
}

/**
 * The scale of benchmark inputs per model, the range its preprocessing gives: googlenet's Caffe inputs are
 * mean-subtracted pixels (about +-128), inception_v1's lie in [-1, 1].
 */
export const INPUT_SCALE: Record<ModelName, number> = { googlenet: 100, inception_v1: 1 };

/** A seeded random NHWC batch of n images h x w x 3, uniform in [-scale, scale). */
export function randomInput(n: number, h: number, w: number, seed = 7, scale = 1): TensorData {
  const r = rng(seed);
  const data = new Float32Array(n * h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = r() * scale;
  return { data, shape: [n, h, w, 3] };
}

export interface Stats {
  median: number;
  p10: number;
  p90: number;
  runs: number;
}

/** Median, 10th and 90th percentiles (nearest rank) of a sample. */
export function stats(ms: readonly number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), runs: s.length };
}

export interface BenchConfig {
  /** What loadModel gets (weights default: the bundled ones for googlenet, seeded random ones for inception_v1). */
  load: LoadOptions;
  batch: number;
  size: number;
}

export interface BenchResult {
  model: string;
  threads: number;
  kernels: string;
  batch: number;
  size: number;
  /** ms per image: median, p10 and p90 over the timed runs (each timed run is one batch). */
  msPerImage: Stats;
  imagesPerSecond: number;
  /** Cold start: loadModel, then the first run (one sample each). */
  loadMs: number;
  firstRunMs: number;
  /**
   * Timed runs a worker pool ran on the calling thread alone, as it does while another process holds a
   * core (src/threads/solo.ts): their times are one thread's. 0 without a pool.
   */
  soloRuns: number;
}

/** Runs a model's worker pool has computed on the calling thread alone (0 without a pool). */
const soloRuns = (m: Model): number => (m as unknown as { executor?: { stats?: { soloRuns?: number } } }).executor?.stats?.soloRuns ?? 0;

/**
 * Time `runs` runs of each configuration after `warmup` untimed ones (V8 tiers the Wasm code up meanwhile),
 * round-robin over the configurations so that a machine that drifts weighs on all alike. With several
 * configurations, each timed run follows an untimed one of the same configuration (the previous
 * configuration's weights and activations leave the caches). Every model is disposed before returning,
 * also on failure.
 */
export async function benchmark(
  load: (o: LoadOptions) => Promise<Model>, configs: BenchConfig[], runs: number, warmup: number,
): Promise<BenchResult[]> {
  const live: Array<{ c: BenchConfig; m: Model; input: TensorData; ms: number[]; loadMs: number; firstRunMs: number; solo: number }> = [];
  try {
    for (const c of configs) {
      let t = performance.now();
      const m = await load(c.load);
      const loadMs = performance.now() - t;
      const x: (typeof live)[number] = { c, m, input: { data: new Float32Array(0), shape: [0] }, ms: [], loadMs, firstRunMs: 0, solo: 0 };
      live.push(x);
      // The first run's time includes planning and growing the memory (reserve), which run() would do; a
      // shape that the network or the memory limit refuses fails there, before its input is made.
      t = performance.now();
      await m.reserve(c.batch, c.size, c.size);
      const t1 = performance.now();
      x.input = randomInput(c.batch, c.size, c.size, 7, INPUT_SCALE[c.load.model ?? 'googlenet']);
      const t2 = performance.now();
      await m.run(x.input);
      x.firstRunMs = t1 - t + (performance.now() - t2);
      for (let i = 0; i < warmup; i++) await m.run(x.input);
    }
    for (let r = 0; r < runs; r++) {
      for (const x of live) {
        if (live.length > 1) await x.m.run(x.input);
        const solo = soloRuns(x.m);
        const t = performance.now();
        await x.m.run(x.input);
        x.ms.push(performance.now() - t);
        x.solo += soloRuns(x.m) - solo;
      }
    }
    return live.map(({ c, m, ms, loadMs, firstRunMs, solo }) => {
      const s = stats(ms.map((v) => v / c.batch));
      return {
        model: m.info.model, threads: m.info.threads, kernels: m.info.kernels, batch: c.batch, size: c.size,
        msPerImage: s, imagesPerSecond: 1000 / s.median, loadMs, firstRunMs, soloRuns: solo,
      };
    });
  } finally {
    await Promise.all(live.map((x) => x.m.dispose()));
  }
}
