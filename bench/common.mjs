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

/**
 * How much of the machine a benchmark has: `threads` worker threads, kept for repeated samples, each spin
 * on the clock for `ms` at once and count the time they did not run (gaps over 20 µs: the OS, or on a VM
 * the hypervisor, gave the core to someone else) and how fast their loop went. On a VM whose virtual
 * cores share physical cores with other guests both change from second to second (here: 3 % of the time
 * lost and equal rates when quiet; 7-15 % lost and one core at 70-80 % of the other's rate in busy
 * phases), and a multithreaded run feels that more than a single thread does, since each level waits for
 * its slowest thread. sample(ms) returns per thread { lostPct, rate } (rate: loop iterations per µs while
 * running); between samples the threads wait for a message and take no CPU.
 */
export async function machineProbe(threads = 2) {
  const { Worker } = await import('node:worker_threads');
  const src = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (ms) => {
      const t0 = performance.now();
      let prev = t0, lost = 0, n = 0;
      for (;;) {
        const t = performance.now();
        n++;
        if (t - prev > 0.02) lost += t - prev;
        prev = t;
        if (t - t0 > ms) break;
      }
      const total = prev - t0;
      parentPort.postMessage({ lostPct: (100 * lost) / total, rate: n / ((total - lost) * 1000) });
    });`;
  const workers = Array.from({ length: threads }, () => new Worker(src, { eval: true }));
  const ask = (w, ms) => new Promise((resolve, reject) => {
    const fail = (e) => reject(e);
    w.once('error', fail);
    w.once('message', (m) => (w.off('error', fail), resolve(m)));
    w.postMessage(ms);
  });
  return {
    sample: (ms) => Promise.all(workers.map((w) => ask(w, ms))),
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/** The slowest thread's loop rate as a percentage of the fastest's, in one sample. */
const slowestPct = (sample) => (100 * Math.min(...sample.map((c) => c.rate))) / Math.max(...sample.map((c) => c.rate));

/** One line for a sample of machineProbe. */
export function machineLine(sample) {
  return `cores lost ${sample.map((c) => c.lostPct.toFixed(1)).join(' / ')} % of their time; the slowest ran at ${slowestPct(sample).toFixed(0)} % of the fastest's rate`;
}

/** One line for short samples taken between rounds: medians over them, and the worst. */
export function machineSummary(samples) {
  const lost = samples.map((x) => Math.max(...x.map((c) => c.lostPct)));
  const slow = samples.map(slowestPct);
  return `the most a core lost: median ${stats(lost).median.toFixed(1)} % (worst ${Math.max(...lost).toFixed(1)} %); the slowest core's rate: median ${stats(slow).median.toFixed(0)} % of the fastest's (worst ${Math.min(...slow).toFixed(0)} %), over ${samples.length} samples`;
}
