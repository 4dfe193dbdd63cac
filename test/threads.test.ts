/**
 * The worker pool (threads > 1): results bit-identical to one thread, concurrent calls, a worker killed
 * mid-run, dispose, and a process that never disposes still exiting.
 *
 * Bit-identity is exact (`toEqual` on Float32Array): every output element is computed by exactly one
 * thread with the same kernel, whatever the thread count. googlenet uses the bundled weights;
 * inception_v1 seeded random He-scaled weights built from weightSpec.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildNetwork, loadModel, RuntimeError, weightSpec, type Model } from '../dist/index.js';
import type { WorkerPool } from '../dist/pool.js';
import type { Plan } from '../dist/plan.js';
import { createModel } from '../dist/model.js';
import { hostPlatform } from '../dist/platform.js';
import { capturePlan, compileProgram } from '../dist/threads/schedule.js';
import { heldUp, PROBE_BACKOFF_MS, SOLO_HOLD_MS, SOLO_STALLS, SoloPolicy } from '../dist/threads/solo.js';
import { chunks, claim, CLAIMED, grid, levelChunks, CTL_EPOCH, CTL_GEN, CTL_PARK, CTL_WORDS, LOOP, MIN_SPIN_US, PARK_MS, parkBegin, parkWait, PARKED, ring, RUN_STOPS, Spin, WAKE } from '../dist/threads/protocol.js';
import { mulberry32 } from './helpers/rng.mjs';

type ModelName = 'googlenet' | 'inception_v1';
type Tensor = { shape: number[]; data: Float32Array };
type Outputs = Record<string, { data: Float32Array; shape: number[] }>;


/** Seeded inception_v1 weights: conv weights uniform with variance 2/fan_in, positive variances. */
function inceptionWeights(seed: number): Map<string, Tensor> {
  const rand = mulberry32(seed);
  const m = new Map<string, Tensor>();
  for (const s of weightSpec(buildNetwork('inception_v1', 224, 224, {}))) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.shape.length === 4) {
      const fanIn = s.shape[0] * s.shape[1] * s.shape[2];
      const r = Math.sqrt(6 / fanIn);
      for (let i = 0; i < n; i++) data[i] = (2 * rand() - 1) * r;
    } else if (s.name.endsWith('moving_variance')) {
      for (let i = 0; i < n; i++) data[i] = 0.5 + rand();
    } else {
      for (let i = 0; i < n; i++) data[i] = 0.4 * rand() - 0.2;
    }
    m.set(s.name, { shape: s.shape, data });
  }
  return m;
}

function randomInput(shape: [number, number, number, number], seed: number, scale: number) {
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * (2 * rand() - 1);
  return { data, shape };
}

const SCALE: Record<ModelName, number> = { googlenet: 128, inception_v1: 1 };
const WEIGHTS = { inception_v1: inceptionWeights(11) };
type CallerMode = 'auto' | 'always' | 'never';
/** A model whose pool takes the calling thread into its runs as `callerMode` says (default: as loadModel does). */
const load = (model: ModelName, threads: number, globalPool = false, callerMode?: CallerMode) => {
  const options = { model, threads, globalPool, weights: model === 'inception_v1' ? WEIGHTS.inception_v1 : undefined };
  if (!callerMode) return loadModel(options);
  return createModel(options, { ...hostPlatform, startPool: (o) => hostPlatform.startPool({ ...o, callerMode } as typeof o) });
};
const poolOf = (m: Model) => (m as unknown as { executor: WorkerPool }).executor;
/** The pool's private runNow (a program of its own, an input writer, captures, stops), bound to it. */
const runNowOf = (pool: WorkerPool) =>
  (pool as unknown as { runNow(p: unknown, before: () => void, after: () => void, stops: Set<number>): Promise<void> }).runNow.bind(pool);
/** The process's OS thread ids (Linux), or null elsewhere. */
const osThreads = () => (process.platform === 'linux' ? new Set(readdirSync('/proc/self/task')) : null);

/** First index where the bit patterns differ, or -1 (stricter than toEqual: -0 vs 0 and NaN payloads count). */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Same end points, shapes and bits. (vitest's toEqual walks a typed array element by element through
 * its generic equality, ~100x slower than this on the millions of floats of 'all' end points.) */
function expectSame(a: Outputs, b: Outputs) {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    expect(b[k].shape, k).toEqual(a[k].shape);
    const i = firstBitDifference(a[k].data, b[k].data);
    if (i >= 0) expect(`${k}[${i}] = ${b[k].data[i]}`).toBe(`${k}[${i}] = ${a[k].data[i]}`);
  }
}

const CASES: Array<{ shape: [number, number, number, number]; globalPool: boolean }> = [
  { shape: [1, 224, 224, 3], globalPool: false },
  { shape: [3, 224, 224, 3], globalPool: false },
  { shape: [1, 201, 233, 3], globalPool: true },
  { shape: [3, 201, 233, 3], globalPool: true },
];

describe.each(['googlenet', 'inception_v1'] as const)('%s: every end point bit-identical for threads 1, 2, 3', (model) => {
  const ref = new Map<string, Outputs>();
  beforeAll(async () => {
    for (const globalPool of [false, true]) {
      const m = await load(model, 1, globalPool);
      for (const [i, c] of CASES.entries()) {
        if (c.globalPool === globalPool) ref.set(c.shape.join('x'), await m.run(randomInput(c.shape, 100 + i, SCALE[model]), { endpoints: 'all' }));
      }
      await m.dispose();
    }
  });

  it.each([[2, 'never'], [3, 'never'], [2, 'always'], [3, 'always']] as const)('threads %i, calling thread in runs: %s', async (threads, callerMode) => {
    for (const globalPool of [false, true]) {
      const m = await load(model, threads, globalPool, callerMode);
      try {
        expect(m.info.threads).toBe(threads);
        for (const [i, c] of CASES.entries()) {
          if (c.globalPool !== globalPool) continue;
          const input = randomInput(c.shape, 100 + i, SCALE[model]);
          const all = await m.run(input, { endpoints: 'all' });
          expectSame(ref.get(c.shape.join('x'))!, all);
          if (c.shape[0] !== 1) continue;
          // Only the output (no stops for captures mid-run).
          const out = await m.run(input);
          expect(Object.keys(out)).toEqual([m.info.output]);
          expect(firstBitDifference(out[m.info.output].data, all[m.info.output].data)).toBe(-1);
        }
        expect(poolOf(m).stats.callerRuns > 0).toBe(callerMode === 'always');
      } finally {
        await m.dispose();
      }
    }
  });
});

describe('work split', () => {
  /** How many chunks cover each (row, panel) cell of a step. */
  function coverage(step: Parameters<typeof chunks>[0], threads: number): number[] {
    const cols = step.total2 ?? 1;
    const hits = new Array<number>(step.total * cols).fill(0);
    for (const c of chunks(step, threads)) {
      expect(c.lo).toBeLessThan(c.hi);
      expect(c.lo2).toBeLessThan(c.hi2);
      // Rows are cut at multiples of align (or at the end).
      expect(c.lo % step.align).toBe(0);
      expect(c.hi % step.align === 0 || c.hi === step.total).toBe(true);
      for (let r = c.lo; r < c.hi; r++) for (let j = c.lo2; j < c.hi2; j++) hits[r * cols + j]++;
    }
    return hits;
  }

  it('chunks cover every row and panel of a step exactly once, for random steps and thread counts', () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 400; i++) {
      const total = 1 + Math.floor(rand() * (rand() < 0.5 ? 60 : 3000));
      const step = {
        fn: 'conv2d', args: [], lo: 0, hi: 1, scratch: -1, total,
        align: rand() < 0.5 ? 1 : 3,
        total2: rand() < 0.3 ? undefined : 1 + Math.floor(rand() * 40),
        minRows: rand() < 0.3 ? 1 + Math.floor(rand() * 30) : undefined,
      };
      const threads = 1 + Math.floor(rand() * 4);
      expect(coverage(step, threads).every((h) => h === 1)).toBe(true);
    }
  });

  it('a step split by rows gets decreasing chunks, so the last ones are small', () => {
    const step = { fn: 'conv2d', args: [], lo: 0, hi: 1, scratch: -1, total: 12544, align: 3, total2: 6 };
    const sizes = chunks(step, 3).map((c) => c.hi - c.lo);
    expect(sizes.length).toBeGreaterThan(4);
    expect(sizes[0]).toBeGreaterThan(3 * sizes[sizes.length - 1]);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1] + 3);
    // A Winograd step (minRows tiles) only when its smallest chunk keeps minRows tiles: 196 tiles yes, 49 no.
    const big = chunks({ ...step, fn: 'winograd4x4', total: 196, align: 1, total2: 16, minRows: 8 }, 2);
    expect(big.length).toBeGreaterThan(4);
    expect(Math.min(...big.map((c) => c.hi - c.lo))).toBeGreaterThanOrEqual(8);
    expect(chunks({ ...step, fn: 'winograd4x4', total: 49, align: 1, total2: 16, minRows: 8 }, 2).map((c) => c.hi - c.lo)).toEqual([24, 25]);
  });

  it('a step with enough rows gets row chunks even where the grid would cut its panels (Mixed_4b 1x1: 196 rows, 26 panels)', () => {
    const step = { fn: 'conv1x1multi', args: [], lo: 0, hi: 1, scratch: -1, total: 196, align: 3, total2: 26 };
    expect(grid(step, 4)).toEqual([2, 2]);
    const cs = chunks(step, 2);
    expect(cs.length).toBe(8);
    for (const c of cs) expect([c.lo2, c.hi2]).toEqual([0, 26]);
    // Too few rows for them (a 7x7 layer: 49 rows): the grid, here by panels.
    expect(chunks({ ...step, total: 49 }, 2).every((c) => c.lo === 0 && c.hi === 49)).toBe(true);
  });

  it('on two threads, row chunks shrink from both ends of a step towards its middle', () => {
    const step = { fn: 'conv2d', args: [], lo: 0, hi: 1, scratch: -1, total: 12544, align: 3, total2: 6 };
    const sizes = chunks(step, 2).map((c) => c.hi - c.lo);
    const top = sizes.slice(0, sizes.length / 2), bottom = sizes.slice(sizes.length / 2).reverse();
    for (const half of [top, bottom]) {
      expect(half.length).toBe(4);
      expect(half[0]).toBeGreaterThan(3 * half[3]);
      for (let i = 1; i < 4; i++) expect(half[i]).toBeLessThan(half[i - 1]);
    }
  });

  it('two threads claim a level from its two ends: thread 0 the top halves, thread 1 the bottom halves, bottom first', () => {
    const conv = { fn: 'conv2d', args: [], lo: 0, hi: 1, scratch: -1, total: 196, align: 3, total2: 6 };
    const wino = { fn: 'winograd4x4', args: [], lo: 0, hi: 1, scratch: -1, total: 16, align: 1, total2: 20, minRows: 8 };
    const order = levelChunks([conv, wino], 2);
    const ctl = new Int32Array(CTL_WORDS);
    const taken: number[][] = [[], []];
    // Thread 0 takes three items, then thread 1 everything it can, then thread 0 the rest.
    for (const [t, k] of [[0, 3], [1, 100], [0, 100]]) {
      for (let j = 0; j < k; j++) {
        const i = claim(ctl, order.length, t, 2);
        if (i < 0) break;
        taken[t].push(i);
      }
    }
    expect([...taken[0], ...taken[1]].sort((a, b) => a - b)).toEqual(order.map((_, i) => i));
    const item = (i: number) => order[i];
    // Thread 0 began at the top of the first step, thread 1 at the bottom of the first step.
    expect(item(taken[0][0])).toMatchObject({ step: 0, chunk: { lo: 0 } });
    expect(item(taken[1][0]).step).toBe(0);
    expect(item(taken[1][0]).chunk.hi).toBe(196);
    // The Winograd step's two tile halves: the top one on thread 0's side, the bottom one on thread 1's.
    const w = order.map((o, i) => [o, i] as const).filter(([o]) => o.step === 1);
    expect(w.map(([o]) => o.chunk.lo)).toEqual([0, 8]);
    expect(w[0][1]).toBeLessThan(w[1][1]);
    // Other thread counts: every chunk of every step, in step order, claimed from the front.
    expect(levelChunks([conv, wino], 3).map((o) => o.step)).toEqual([...chunks(conv, 3).map(() => 0), ...chunks(wino, 3).map(() => 1)]);
    const ctl3 = new Int32Array(CTL_WORDS);
    expect([claim(ctl3, 2, 2, 3), claim(ctl3, 2, 0, 3), claim(ctl3, 2, 1, 3)]).toEqual([0, 1, -1]);
  });
});

describe('captures', () => {
  it.each(['googlenet', 'inception_v1'] as const)('%s: every end point captured once, after it is complete and before it is overwritten, in few stops', async (model) => {
    const m = await load(model, 2);
    try {
      const plan = (m as unknown as { plan(n: number, h: number, w: number): Parameters<typeof compileProgram>[0] }).plan(1, 224, 224);
      const p = compileProgram(plan, 0);
      const wanted = [...new Set(plan.captures.map((c) => c.afterStep))];
      const at = capturePlan(p, wanted);
      expect([...at.values()].flat().sort((a, b) => a - b)).toEqual([...wanted].sort((a, b) => a - b));
      for (const [lv, steps] of at) for (const i of steps) {
        expect(lv).toBeGreaterThanOrEqual(p.captureLevel[i]);
        expect(lv).toBeLessThanOrEqual(p.captureBy[i]);
      }
      const last = p.levels.length - 1;
      const stopsBefore = new Set(wanted.map((i) => p.captureLevel[i]).filter((l) => l < last)).size;
      const stops = [...at.keys()].filter((l) => l < last).length;
      expect(stops).toBeLessThanOrEqual(8);
      expect(stops).toBeLessThan(stopsBefore / 2);
    } finally {
      await m.dispose();
    }
  });
});

describe('the spin at a barrier (Spin)', () => {
  it('falls to an eighth after a wait it did not see end, down to MIN_SPIN_US, and doubles back after each one it did', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
    const spin = new Spin(1000);
    // Nobody moves GEN: each wait spins its budget out, and the next one is shorter.
    const budgets: number[] = [];
    for (let i = 0; i < 4; i++) {
      budgets.push(spin.us);
      expect(spin.wait(ctl, CTL_GEN, 0)).toBe(false);
    }
    expect(MIN_SPIN_US).toBeLessThan(125);
    expect(budgets).toEqual([1000, 125, Math.max(MIN_SPIN_US, 125 / 8), MIN_SPIN_US]);
    // GEN has moved: the wait ends at once, and the budget grows back to its maximum.
    ctl[CTL_GEN] = 1;
    const grown: number[] = [];
    for (let i = 0; i < 12; i++) {
      expect(spin.wait(ctl, CTL_GEN, 0)).toBe(true);
      grown.push(spin.us);
    }
    expect(grown[0]).toBe(2 * MIN_SPIN_US);
    expect(grown.at(-1)).toBe(1000);
    expect(grown.every((v, i) => i === 0 || v === Math.min(1000, 2 * grown[i - 1]))).toBe(true);
  });

  it('does not spin at all with no budget (more threads than cores)', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
    const spin = new Spin(0);
    expect(spin.wait(ctl, CTL_GEN, 0)).toBe(false);
    ctl[CTL_GEN] = 1;
    expect(spin.wait(ctl, CTL_GEN, 0)).toBe(false);
    expect(spin.us).toBe(0);
  });
});

describe('solo runs (the calling thread alone while other work holds the cores)', () => {
  const HELD = true;
  /** A policy whose program 1 had two held-up pool runs, the last at `t` (31 ms): its next run is a try. */
  const aboutToTry = (t: number) => {
    const p = new SoloPolicy();
    p.record(1, false, 32, HELD, t - 30);
    p.record(1, false, 31, HELD, t);
    expect(p.solo(1, t + 1)).toBe(true);
    return p;
  };

  it('a pool run is held up when a sixth of its levels or more, and at least SOLO_STALLS, waited past the spin', () => {
    expect(heldUp(SOLO_STALLS, 6)).toBe(true);
    expect(heldUp(SOLO_STALLS - 1, 6)).toBe(false);
    // inception_v1 (28 levels) and googlenet (30): 5 or more.
    expect(heldUp(4, 28)).toBe(false);
    expect(heldUp(5, 28)).toBe(true);
    expect(heldUp(4, 30)).toBe(false);
    expect(heldUp(5, 30)).toBe(true);
  });

  it('two held-up pool runs in a row lead to a solo try; one, or one between clean runs, does not', () => {
    const p = new SoloPolicy();
    expect(p.solo(1, 0)).toBe(false);
    p.record(1, false, 30, HELD, 0);
    expect(p.solo(1, 1)).toBe(false);
    p.record(1, false, 30, false, 1);
    expect(p.solo(1, 2)).toBe(false);
    p.record(1, false, 30, HELD, 2);
    expect(p.solo(1, 3)).toBe(false);
    p.record(1, false, 31, HELD, 3);
    expect(p.solo(1, 4)).toBe(true);
    // Another program's runs are its own.
    expect(p.solo(2, 4)).toBe(false);
  });

  it('a try faster than the pool run before it keeps the runs solo for SOLO_HOLD_MS, then the workers are tried again', () => {
    const p = aboutToTry(10);
    p.record(1, true, 29, false, 50);
    expect(p.solo(1, 51)).toBe(true);
    p.record(1, true, 29, false, 80);
    expect(p.solo(1, 50 + SOLO_HOLD_MS - 1)).toBe(true);
    expect(p.solo(1, 50 + SOLO_HOLD_MS)).toBe(false);
    // Back to the workers: the first pool run (its worker had slept) alone does not lead back.
    let t = 50 + SOLO_HOLD_MS;
    p.record(1, false, 40, HELD, t);
    expect(p.solo(1, t + 1)).toBe(false);
    p.record(1, false, 16, false, t + 40);
    p.record(1, false, 16, false, t + 60);
    expect(p.solo(1, t + 61)).toBe(false);
    // Held up again, twice: another try.
    t += 100;
    p.record(1, false, 33, HELD, t);
    p.record(1, false, 33, HELD, t + 33);
    expect(p.solo(1, t + 34)).toBe(true);
  });

  it('a try that loses is not repeated for PROBE_BACKOFF_MS', () => {
    const p = aboutToTry(30);
    p.record(1, true, 35, false, 70);
    expect(p.solo(1, 71)).toBe(false);
    for (let t = 100; t < 70 + PROBE_BACKOFF_MS; t += 30) {
      p.record(1, false, 30, HELD, t);
      expect(p.solo(1, t + 1)).toBe(false);
    }
    p.record(1, false, 30, HELD, 70 + PROBE_BACKOFF_MS);
    expect(p.solo(1, 71 + PROBE_BACKOFF_MS)).toBe(true);
  });

  it('a solo run gives the pool run\'s bits, without the workers; only a pool that takes the calling thread in by default (auto) runs solo', async () => {
    if (availableParallelism() < 2) return; // the calling thread never blocks for the workers there
    for (const mode of [undefined, 'always'] as const) {
      const m = await load('googlenet', 2, true, mode);
      try {
        const pool = poolOf(m);
        const input = randomInput([1, 97, 95, 3], 41, 128);
        await m.run(input);
        const pooled = await m.run(input, { endpoints: 'all' });
        // Other work holding the cores is not something a test can arrange here: the policy says solo.
        (pool as unknown as { soloPolicy: unknown }).soloPolicy = { solo: () => true, record: () => undefined };
        const ctl = (pool as unknown as { ctl: Int32Array }).ctl;
        const epoch = Atomics.load(ctl, CTL_EPOCH);
        const runs = pool.stats.callerRuns;
        const alone = await m.run(input, { endpoints: 'all' });
        if (mode === 'always') {
          expect(pool.stats.soloRuns).toBe(0);
          expect(Atomics.load(ctl, CTL_EPOCH)).toBe(epoch + 1);
        } else {
          expect(pool.stats.soloRuns).toBe(1);
          expect(pool.stats.callerRuns).toBe(runs + 1);
          // No run was started for the workers (each pool run moves the epoch on).
          expect(Atomics.load(ctl, CTL_EPOCH)).toBe(epoch);
        }
        expect(Object.keys(alone)).toEqual(Object.keys(pooled));
        expectSame(alone, pooled);
      } finally {
        await m.dispose();
      }
    }
  });
});

describe('doorbell (a worker parked after a run)', () => {
  const ctlOf = () => new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));

  it('a parked worker claimed by ring gets the run: epoch, program and stops', () => {
    const ctl = ctlOf();
    parkBegin(ctl, 1);
    parkBegin(ctl, 2);
    expect(ctl[CTL_PARK + 1]).toBe(PARKED);
    const claimed = ring(ctl, [false, true, null], { epoch: 7, program: 3, stops: [2, 5, 11] });
    // Thread 0 is not parked (it reads messages): not claimed, and its word is untouched. Thread 2 is not in
    // this run (the calling thread takes its place): it stays parked.
    expect(claimed).toEqual([false, true, false]);
    expect(ctl[CTL_PARK]).toBe(LOOP);
    expect(ctl[CTL_PARK + 2]).toBe(PARKED);
    expect(parkWait(ctl, 1)).toEqual({ type: 'run', epoch: 7, program: 3, stops: [2, 5, 11] });
    expect(ctl[CTL_PARK + 1]).toBe(LOOP);
  });

  it('a worker without the program, or a run with more stops than RUN holds, is sent back to its messages', () => {
    for (const [cached, stops] of [[false, [1]], [true, Array.from({ length: RUN_STOPS + 1 }, (_, i) => i)]] as const) {
      const ctl = ctlOf();
      parkBegin(ctl, 0);
      expect(ring(ctl, [cached], { epoch: 1, program: 1, stops: [...stops] })).toEqual([false]);
      expect(ctl[CTL_PARK]).toBe(WAKE);
      expect(parkWait(ctl, 0)).toBeUndefined();
      expect(ctl[CTL_PARK]).toBe(LOOP);
    }
  });

  it('a worker left parked leaves after its time, and then a ring no longer claims it', async () => {
    const ctl = ctlOf();
    parkBegin(ctl, 0);
    const t0 = performance.now();
    expect(parkWait(ctl, 0, 30)).toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(ctl[CTL_PARK]).toBe(LOOP);
    expect(ring(ctl, [true], { epoch: 1, program: 1, stops: [] })).toEqual([false]);
    // A worker asleep on its word is woken by a ring from another thread (60 ms later), which claims it.
    parkBegin(ctl, 0);
    const ringer = new Worker(
      `const { workerData } = require('node:worker_threads'); const c = new Int32Array(workerData.buf);
       setTimeout(() => { Atomics.store(c, workerData.word, workerData.claimed); Atomics.notify(c, workerData.word); }, 60);`,
      { eval: true, workerData: { buf: ctl.buffer, word: CTL_PARK, claimed: CLAIMED } },
    );
    try {
      const t1 = performance.now();
      expect(parkWait(ctl, 0, 5000)?.type).toBe('run');
      expect(performance.now() - t1).toBeLessThan(2000);
    } finally {
      await ringer.terminate();
    }
  });

  it('a worker spinning on its word sees a claim that comes without a notify', async () => {
    const ctl = ctlOf();
    parkBegin(ctl, 0);
    // The ringer stores CLAIMED and never notifies: asleep in Atomics.wait, the worker would only see it
    // when its 5 s are up; spinning (here for up to 5 s, PARK_SPIN_US in a pool) it sees it at once.
    const ringer = new Worker(
      `const { workerData } = require('node:worker_threads'); const c = new Int32Array(workerData.buf);
       setTimeout(() => Atomics.store(c, workerData.word, workerData.claimed), 60);`,
      { eval: true, workerData: { buf: ctl.buffer, word: CTL_PARK, claimed: CLAIMED } },
    );
    try {
      const t1 = performance.now();
      expect(parkWait(ctl, 0, 5000, 5e6)?.type).toBe('run');
      expect(performance.now() - t1).toBeLessThan(2000);
      expect(ctl[CTL_PARK]).toBe(LOOP);
    } finally {
      await ringer.terminate();
    }
  });

  it('a spin longer than the park ends with it', () => {
    const ctl = ctlOf();
    parkBegin(ctl, 0);
    const t0 = performance.now();
    expect(parkWait(ctl, 0, 30, 5e6)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(ctl[CTL_PARK]).toBe(LOOP);
  });
});

/** A one-step program whose kernel reads far out of bounds: every thread that claims a chunk of it traps. */
const trapProgram = (id: number) => ({
  id, levels: [[0]], captureLevel: [0],
  steps: [{ fn: 'softmax', args: [0x7fffff00, 0x7fffff00, 1000, 0, 1000], lo: 3, hi: 4, total: 1000, align: 1, scratch: -1 }],
});

/** The trap program fails its run within 1 s with a RuntimeError matching `message`; the next call is correct. */
async function expectTrapFails(m: Model, id: number, message: RegExp) {
  const pool = poolOf(m);
  const input = randomInput([1, 96, 96, 3], 12, 128);
  const expected = await m.run(input);
  const t0 = performance.now();
  const error = await runNowOf(pool)(trapProgram(id), () => undefined, () => undefined, new Set()).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RuntimeError);
  expect((error as Error).message).toMatch(message);
  expect(performance.now() - t0).toBeLessThan(1000);
  expectSame(expected, await m.run(input));
  expect(pool.liveWorkers).toBe(2);
}

/**
 * A step of conv2d_ref (the scalar reference convolution) on garbage in model `m`'s arena, `at` bytes past
 * its start: `size` square, 64 channels in and out, a k x k kernel, its tensors `step` bytes apart.
 */
function refConv(m: Model, at: number, step: number, size: number, k: number) {
  const base = (m as unknown as { layout: { arenaBase: number } }).layout.arenaBase + at;
  // conv2d_ref(inp, H, W, C, out, OH, OW, outStride, outOff, w, b, Cout, KH, KW, SH, SW, padT, padL, relu, N)
  return { fn: 'conv2d_ref', lo: 17, hi: 19, total: 1, align: 1, scratch: -1,
    args: [base, size, size, 64, base + step, size, size, 64, 0, base + 2 * step, base + 3 * step, 64, k, k, 1, 1, (k - 1) / 2, 0, 0, 1] };
}

/**
 * One level of two reference convolutions: ~30 ms at the front (thread 0 claims it: the calling thread
 * when it takes part) and ~0.4-2 s at the back (thread 1, a worker), in the arena's first 5 MiB.
 */
function frontAndSlowBack(m: Model, id: number) {
  const MB = 1 << 20;
  return { id, levels: [[0, 1]], captureLevel: [0, 0], steps: [refConv(m, 4 * MB, MB / 4, 28, 3), refConv(m, 0, MB, 56, 7)] };
}

describe('the program of one image at the input size, sent to the workers at load', () => {
  /** googlenet on two workers (the calling thread out of its runs), and every message its pool posts them. */
  const recordingPool = async () => {
    const m = await load('googlenet', 2, false, 'never');
    const pool = poolOf(m);
    const posted: Array<{ type: string; program?: unknown }> = [];
    for (const s of (pool as unknown as { slots: Array<{ handle: { postMessage(x: unknown): void } }> }).slots) {
      const post = s.handle.postMessage.bind(s.handle);
      s.handle.postMessage = (x) => (posted.push(x as { type: string }), post(x));
    }
    return { m, pool, posted };
  };
  /** `out`, a 2-thread run of `x`, is what one thread gives, bit for bit. */
  const expectAsOneThread = async (x: { data: Float32Array; shape: [number, number, number, number] }, out: Outputs) => {
    const ref = await load('googlenet', 1);
    expectSame(await ref.run(x), out);
    await ref.dispose();
  };

  it('the first 224x224 run posts only its id, another shape its whole program, and prepare() after a run posts nothing', async () => {
    const { m, pool, posted } = await recordingPool();
    const x = randomInput([1, 224, 224, 3], 41, 128);
    const out = await m.run(x);
    expect(posted.map((p) => [p.type, typeof p.program])).toEqual([['run', 'number'], ['run', 'number']]);
    await expectAsOneThread(x, out);
    posted.length = 0;
    await m.run(randomInput([1, 227, 229, 3], 42, 128));
    expect(posted.filter((p) => p.type === 'run').map((p) => typeof p.program)).toEqual(['object', 'object']);
    posted.length = 0;
    // Right after a run the workers are parked: they read no message until rung, so none is sent them.
    pool.prepare((m as unknown as { plan(n: number, h: number, w: number): Plan }).plan(1, 231, 231));
    expect(posted).toEqual([]);
    await m.dispose();
  });

  it('reserve() readies the workers for its shape too: once they are back in their message loop, its first run posts only its id', async () => {
    const { m, posted } = await recordingPool();
    await m.reserve(2, 227, 229);
    expect(posted.map((p) => [p.type, typeof p.program])).toEqual([['prepare', 'object'], ['prepare', 'object']]);
    posted.length = 0;
    const x = randomInput([2, 227, 229, 3], 43, 128);
    const out = await m.run(x);
    expect(posted.map((p) => [p.type, typeof p.program])).toEqual([['run', 'number'], ['run', 'number']]);
    await expectAsOneThread(x, out);
    await m.dispose();
  });
});

describe('pool behaviour (googlenet, threads 2, two workers)', () => {
  let m: Model;
  beforeAll(async () => {
    m = await load('googlenet', 2, true, 'never');
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('16 concurrent run() calls with different inputs each return what the input gives alone', async () => {
    const sizes: Array<[number, number]> = [[96, 96], [113, 97], [128, 160]];
    const inputs = Array.from({ length: 16 }, (_, i) => {
      const [h, w] = sizes[i % sizes.length];
      return randomInput([1 + (i % 2), h, w, 3], 500 + i, 128);
    });
    const together = await Promise.all(inputs.map((x, i) => m.run(x, { endpoints: i % 3 === 0 ? 'all' : undefined })));
    for (const [i, x] of inputs.entries()) {
      const alone = await m.run(x, { endpoints: i % 3 === 0 ? 'all' : undefined });
      expectSame(alone, together[i]);
    }
  });

  it('a worker killed mid-run fails that call within 1 s with a RuntimeError; the pool recovers', async () => {
    const pool = poolOf(m);
    const input = randomInput([3, 224, 224, 3], 7, 128);
    const expected = await m.run(input);
    const spawned = pool.stats.spawned;

    const pending = m.run(input);
    const outcome = pending.then(
      () => ({ error: undefined as unknown, at: performance.now() }),
      (error: unknown) => ({ error, at: performance.now() }),
    );
    while (!pool.busy) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(pool.busy).toBe(true);
    const killedAt = performance.now();
    void pool._terminateWorkerForTest(1);
    const { error, at } = await outcome;
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/worker died/);
    expect(at - killedAt).toBeLessThan(1000);

    // The next call succeeds, on a replaced worker, with the same result.
    expectSame(expected, await m.run(input));
    expect(pool.stats.spawned).toBe(spawned + 1);
    expect(pool.liveWorkers).toBe(2);
  });

  /**
   * A run whose last level holds a slow step (a scalar reference convolution, ~0.1-0.2 s) and a tiny one:
   * one worker takes the tiny one and parks at the end of the run (its word in the control block; it sends
   * nothing), the other is still in the slow step. Returns the pending run (its error), which worker is
   * parked, and a rerun of the same program.
   */
  async function slowRun(pool: WorkerPool, model = m) {
    type Slot = { busyEpoch: number };
    const slots = (pool as unknown as { slots: Slot[] }).slots;
    const arena = (model as unknown as { layout: { arenaBase: number } }).layout.arenaBase;
    const MB = 1 << 20;
    const slow = refConv(model, 0, MB, 56, 3);
    const tiny = { fn: 'softmax', args: [arena + 4 * MB, arena + 4 * MB, 10, 0, 1], lo: 3, hi: 4, total: 1, align: 1, scratch: -1 };
    const program = { id: 2e9, levels: [[0, 1]], captureLevel: [0, 0], steps: [slow, tiny] };
    const runNow = runNowOf(pool);
    // Polled only once the run has started (before() runs just before the ring).
    const ctl = (pool as unknown as { ctl: Int32Array }).ctl;
    let started = false;
    const pending = runNow(program, () => (started = true), () => undefined, new Set()).then(() => undefined, (e: unknown) => e);
    let parked = -1;
    for (const t0 = performance.now(); parked < 0 && performance.now() - t0 < 2000; await new Promise((r) => setTimeout(r, 1))) {
      const at = slots.map((_, t) => started && Atomics.load(ctl, CTL_PARK + t) === PARKED);
      if (at.filter(Boolean).length === 1) parked = at.indexOf(true);
    }
    expect(parked).toBeGreaterThanOrEqual(0);
    return { pending, parked, slots, rerun: (before: () => void) => runNow(program, before, () => undefined, new Set()) };
  }

  it('after a failed run, the next call writes its input only once the survivor has left the run', async () => {
    // The parked worker is killed; the other learns of the abort only at the end of its slow step. The next
    // call must wait for it before writing its input into the arena it may still be writing.
    const pool = poolOf(m);
    const { pending, parked, slots, rerun } = await slowRun(pool);
    void pool._terminateWorkerForTest(parked);
    expect(await pending).toBeInstanceOf(RuntimeError);
    let busyAtWrite: boolean[] = [];
    await rerun(() => (busyAtWrite = slots.map((s) => s.busyEpoch >= 0)));
    expect(busyAtWrite).toEqual([false, false]);
    const input = randomInput([1, 96, 96, 3], 22, 128);
    expectSame(await m.run(input), await m.run(input));
    expect(pool.liveWorkers).toBe(2);
  });

  it('after a failed run, a worker that had finished its share is kept: it left the run (LEFT), no message needed', async () => {
    const pool = poolOf(m);
    const { pending, parked, rerun } = await slowRun(pool);
    const spawned = pool.stats.spawned;
    void pool._terminateWorkerForTest(1 - parked);
    expect(await pending).toBeInstanceOf(RuntimeError);
    // Recovery replaces only the dead worker, at once (a worker it took for a straggler would hold it up
    // to QUIESCE_MS, 5 s, and then be replaced too).
    const t0 = performance.now();
    await rerun(() => undefined);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(pool.stats.spawned).toBe(spawned + 1);
    const input = randomInput([1, 96, 96, 3], 23, 128);
    expectSame(await m.run(input), await m.run(input));
    expect(pool.liveWorkers).toBe(2);
  });

  it('a worker that throws mid-run (a kernel trap) fails that call with a RuntimeError; the next call is correct', async () => {
    await expectTrapFails(m, 1e9, /worker died.*out of bounds/);
  });

  it('runs back to back start at a ring of the parked workers; after PARK_MS idle, by message again', async () => {
    const pool = poolOf(m);
    const slots = (pool as unknown as { slots: Array<{ handle: { postMessage(x: { type: string }): void } }> }).slots;
    const posted: string[] = [];
    const originals = slots.map((s) => s.handle.postMessage);
    slots.forEach((s, i) => (s.handle.postMessage = (x) => (posted.push(x.type), originals[i](x))));
    try {
      const input = randomInput([1, 96, 96, 3], 13, 128);
      const first = await m.run(input);
      posted.length = 0;
      expectSame(first, await m.run(input));
      expect(posted).toEqual([]);
      await new Promise((r) => setTimeout(r, PARK_MS + 200));
      expectSame(first, await m.run(input));
      expect(posted).toEqual(['run', 'run']);
    } finally {
      slots.forEach((s, i) => (s.handle.postMessage = originals[i]));
    }
  });

  it('a run that reaches its end gets no message back: the pool marks its workers idle from the last barrier', async () => {
    const pool = poolOf(m);
    type Host = { spawn(url: URL, ev: { message(x: { type: string }): void }): unknown };
    const inner = pool as unknown as { host: Host; slots: Array<{ busyEpoch: number }> };
    const host = inner.host;
    const received: string[] = [];
    // The worker that replaces the killed one is spawned through this host: its messages are counted.
    inner.host = { ...host, spawn: (url, ev) => host.spawn.call(host, url, { ...ev, message: (x) => (received.push(x.type), ev.message(x)) }) };
    try {
      await pool._terminateWorkerForTest(1);
      const input = randomInput([1, 96, 96, 3], 21, 128);
      const first = await m.run(input);
      for (let i = 0; i < 5; i++) {
        expectSame(first, await m.run(input));
        expect(inner.slots.map((s) => s.busyEpoch)).toEqual([-1, -1]);
      }
      await new Promise((r) => setTimeout(r, 50));
      // Also when the worker was descheduled after the last barrier and the next run had started before it
      // looked (a loaded machine; it then found EPOCH moved on, and used to answer 'done' as if aborted).
      expect(received).toEqual(['ready']);
    } finally {
      inner.host = host;
    }
  });

  it('a call queued behind a recovery starts only once every recovery is over, also one scheduled by a second death meanwhile', async () => {
    // The parked worker is killed: the run fails and the recovery waits for the other, in its slow step. The
    // next call waits for that recovery; then the other dies too, which schedules one more. The first
    // recovery replaces both; the next call must also wait for the second, which used to run beside it,
    // take its workers for stragglers of the failed run, wait QUIESCE_MS (5 s) and, if the run was still
    // going, end them without failing it (the run then never settled).
    const pool = poolOf(m);
    const recovering = () => (pool as unknown as { recovery?: Promise<void> }).recovery !== undefined;
    const { pending, parked, rerun } = await slowRun(pool);
    const spawned = pool.stats.spawned;
    void pool._terminateWorkerForTest(parked);
    expect(await pending).toBeInstanceOf(RuntimeError);
    let recoveringAtWrite: boolean | undefined;
    const next = rerun(() => (recoveringAtWrite = recovering()));
    void pool._terminateWorkerForTest(1 - parked);
    await next;
    expect(recoveringAtWrite).toBe(false);
    expect(recovering()).toBe(false);
    expect(pool.stats.spawned).toBe(spawned + 2);
    const input = randomInput([1, 96, 96, 3], 26, 128);
    expectSame(await m.run(input), await m.run(input));
    expect(pool.liveWorkers).toBe(2);
  });

  it('dispose() while the pool waits for a survivor of a failed run settles the call queued behind it at once', async () => {
    // The parked worker is killed; the other is in its slow step, and the recovery waits for it to leave the
    // run. dispose() ends it: the queued call rejects then, not after QUIESCE_MS (5 s, a timer that also
    // kept the process alive).
    const m2 = await load('googlenet', 2, true, 'never');
    const pool = poolOf(m2);
    const { pending, parked, rerun } = await slowRun(pool, m2);
    void pool._terminateWorkerForTest(parked);
    expect(await pending).toBeInstanceOf(RuntimeError);
    const queued = rerun(() => undefined).then(() => undefined, (e: unknown) => e);
    const t0 = performance.now();
    await m2.dispose();
    const error = await queued;
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/model is disposed/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(pool.stats.exited).toBe(pool.stats.spawned);
  });

  it('dispose() while the pool starts a replacement worker rejects the call waiting for it (it never settled)', async () => {
    const m2 = await load('googlenet', 2, true, 'never');
    const pool = poolOf(m2);
    const input = randomInput([1, 96, 96, 3], 24, 128);
    await m2.run(input);
    const pending = m2.run(randomInput([3, 224, 224, 3], 25, 128)).then(() => undefined, (e: unknown) => e);
    const queued = m2.run(input).then(() => 'resolved', (e: unknown) => e);
    while (!pool.busy) await new Promise((r) => setTimeout(r, 1));
    const spawned = pool.stats.spawned;
    void pool._terminateWorkerForTest(1);
    expect(await pending).toBeInstanceOf(RuntimeError);
    // The replacement is spawned (once the survivor has left the run) and is loading: dispose() now.
    while (pool.stats.spawned === spawned) await new Promise((r) => setTimeout(r, 1));
    await m2.dispose();
    const never = new Promise((r) => setTimeout(() => r('still pending 10 s after dispose'), 10_000));
    const error = await Promise.race([queued, never]);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/model is disposed/);
    expect(pool.stats.exited).toBe(pool.stats.spawned);
  });

  it('a worker that dies while idle is replaced before the next call', async () => {
    const pool = poolOf(m);
    const input = randomInput([1, 96, 96, 3], 8, 128);
    const expected = await m.run(input);
    await pool._terminateWorkerForTest(0);
    expectSame(expected, await m.run(input));
    expect(pool.liveWorkers).toBe(2);
  });
});

describe('the calling thread as thread 0 (googlenet, threads 2)', () => {
  let m: Model;
  beforeAll(async () => {
    m = await load('googlenet', 2, true, 'always');
  });
  afterAll(async () => {
    await m?.dispose();
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('it takes part only when the cores have just been busy (by default): back to back, after work; not after a pause, nor in a large batch', async () => {
    const m2 = await load('googlenet', 2, true);
    try {
      const pool = poolOf(m2);
      const input = randomInput([1, 96, 96, 3], 31, 128);
      if (availableParallelism() < 2) {
        // More threads than cores: the calling thread never blocks for the workers.
        expect(pool.blocksCaller).toBe(false);
        expectSame(await m2.run(input), await m2.run(input));
        expect(pool.stats.callerRuns).toBe(0);
        return;
      }
      expect(pool.blocksCaller).toBe(true);
      const first = await m2.run(input); // the first run: no run before it
      expect(pool.stats.callerRuns).toBe(0);
      expectSame(first, await m2.run(input)); // right after it
      expect(pool.stats.callerRuns).toBe(1);
      await sleep(300); // idle cores
      expectSame(first, await m2.run(input));
      expect(pool.stats.callerRuns).toBe(1);
      await sleep(300);
      for (const until = performance.now() + 100; performance.now() < until;); // work on this thread
      expectSame(first, await m2.run(input));
      expect(pool.stats.callerRuns).toBe(2);
      // A run of more than two 224x224 images' pixels: never (its event loop would wait for all of it).
      const batch = randomInput([3, 224, 224, 3], 36, 128);
      await m2.run(batch);
      await m2.run(batch);
      expect(pool.stats.callerRuns).toBe(2);
      expectSame(first, await m2.run(input));
      expect(pool.stats.callerRuns).toBe(3);
    } finally {
      await m2.dispose();
    }
  });

  it('a thread that may not block in Atomics.wait (a page, Electron\'s renderer with Node integration) never takes part', async () => {
    const wait = Atomics.wait;
    Atomics.wait = () => {
      throw new TypeError('Atomics.wait cannot be called in this context');
    };
    let m2: Model;
    try {
      m2 = await load('googlenet', 2, true, 'always');
    } finally {
      Atomics.wait = wait;
    }
    try {
      const pool = poolOf(m2);
      expect(pool.blocksCaller).toBe(false);
      const input = randomInput([1, 96, 96, 3], 35, 128);
      expectSame(await m2.run(input), await m2.run(input));
      expect(pool.stats.callerRuns).toBe(0);
    } finally {
      await m2.dispose();
    }
  });

  it('callerComputes: false keeps the calling thread out of every run', async () => {
    const m2 = await loadModel({ model: 'googlenet', threads: 2, globalPool: true, callerComputes: false });
    try {
      const pool = poolOf(m2);
      expect(pool.blocksCaller).toBe(false);
      const input = randomInput([1, 96, 96, 3], 34, 128);
      const first = await m2.run(input);
      for (let i = 0; i < 3; i++) expectSame(first, await m2.run(input));
      expect(pool.stats.callerRuns).toBe(0);
    } finally {
      await m2.dispose();
    }
  });

  it('16 concurrent run() calls with different inputs each return what the input gives alone', async () => {
    const pool = poolOf(m);
    const before = pool.stats.callerRuns;
    const inputs = Array.from({ length: 16 }, (_, i) => randomInput([1 + (i % 2), 97 + i, 96, 3], 600 + i, 128));
    const together = await Promise.all(inputs.map((x, i) => m.run(x, { endpoints: i % 3 === 0 ? 'all' : undefined })));
    for (const [i, x] of inputs.entries()) expectSame(await m.run(x, { endpoints: i % 3 === 0 ? 'all' : undefined }), together[i]);
    expect(pool.stats.callerRuns - before).toBe(32);
  });

  it('two models whose runs the calling thread takes part in, called at once: each call returns what it gives alone', async () => {
    const m2 = await load('inception_v1', 2, true, 'always');
    try {
      const inputs = Array.from({ length: 6 }, (_, i) => randomInput([1, 96 + i, 96, 3], 700 + i, i % 2 ? 1 : 128));
      const together = await Promise.all(inputs.map((x, i) => (i % 2 ? m2 : m).run(x)));
      for (const [i, x] of inputs.entries()) expectSame(await (i % 2 ? m2 : m).run(x), together[i]);
      expect(poolOf(m2).stats.callerRuns).toBe(6);
    } finally {
      await m2.dispose();
    }
  });

  it('a worker killed while the calling thread waits for it fails that call within 1 s with a RuntimeError; the next call is correct', async () => {
    const pool = poolOf(m);
    const input = randomInput([1, 96, 96, 3], 32, 128);
    const expected = await m.run(input);
    const spawned = pool.stats.spawned;
    // The calling thread blocks at the run's end for CALLER_BLOCK_MS, then waits asynchronously: this
    // test's timer runs then and kills the worker in its slow step.
    const program = frontAndSlowBack(m, 3e9);
    const pending = runNowOf(pool)(program, () => undefined, () => undefined, new Set()).then(() => undefined, (e: unknown) => e);
    await sleep(100);
    expect(pool.busy).toBe(true);
    const killedAt = performance.now();
    void pool._terminateWorkerForTest(1);
    const error = await pending;
    expect(performance.now() - killedAt).toBeLessThan(1000);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/worker died during the run \(thread 1/);
    expectSame(expected, await m.run(input));
    expect(pool.stats.spawned).toBe(spawned + 1);
    expect(pool.liveWorkers).toBe(2);
  });

  it('a kernel that traps on the calling thread fails that call with a RuntimeError; the next call is correct', async () => {
    await expectTrapFails(m, 3e9 + 1, /(calling thread|worker died).*out of bounds/);
  });

  it('dispose() while the calling thread waits for a worker rejects the run and leaves no worker', async () => {
    const m2 = await load('googlenet', 2, true, 'always');
    const pool = poolOf(m2);
    const pending = runNowOf(pool)(frontAndSlowBack(m2, 3e9 + 2), () => undefined, () => undefined, new Set()).then(() => undefined, (e: unknown) => e);
    await sleep(100);
    expect(pool.busy).toBe(true);
    await m2.dispose();
    const error = await pending;
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/model is disposed/);
    expect(pool.stats.exited).toBe(pool.stats.spawned);
  });
});

describe('lifecycle', () => {
  it('weights refused while the workers start (they start as the weights are packed) leave no worker', async () => {
    const bad = new Map(WEIGHTS.inception_v1);
    const v = 'InceptionV1/Mixed_4c/Branch_1/Conv2d_0b_3x3/BatchNorm/moving_variance';
    const data = bad.get(v)!.data.slice();
    data[5] = -1;
    bad.set(v, { shape: bad.get(v)!.shape, data });
    const pools: WorkerPool[] = [];
    const platform = { ...hostPlatform, startPool: async (o: Parameters<typeof hostPlatform.startPool>[0]) => {
      const p = (await hostPlatform.startPool(o)) as WorkerPool;
      pools.push(p);
      return p;
    } };
    await expect(createModel({ model: 'inception_v1', threads: 2, weights: bad }, platform)).rejects.toThrow(
      new RegExp(`weights: "${v}"\\[5\\] = -1 makes the batch norm undefined`),
    );
    expect(pools).toHaveLength(1);
    expect(pools[0].liveWorkers).toBe(0);
    expect(pools[0].stats.spawned).toBe(2);
    expect(pools[0].stats.exited).toBe(2);
  });

  it('dispose() ends every worker; calls after it reject', async () => {
    const before = osThreads();
    const m = await load('googlenet', 3, true);
    const pool = poolOf(m);
    expect(pool.liveWorkers).toBe(3);
    // Threads that appeared with the pool: its 3 workers, and possibly a thread Node or V8 starts lazily
    // (libuv, compilers) that outlives the pool, so the check below counts disappearances, not totals.
    const appeared = before && [...osThreads()!].filter((t) => !before.has(t));
    if (appeared) expect(appeared.length).toBeGreaterThanOrEqual(3);
    await m.run(randomInput([1, 96, 96, 3], 9, 128));
    await m.dispose();
    expect(pool.liveWorkers).toBe(0);
    // Every worker's exit event fired (dispose waits for them).
    expect(pool.stats.exited).toBe(pool.stats.spawned);
    if (appeared) {
      const after = osThreads()!;
      expect(appeared.filter((t) => !after.has(t)).length).toBeGreaterThanOrEqual(pool.stats.spawned);
    }
    await expect(m.run(randomInput([1, 96, 96, 3], 9, 128))).rejects.toThrow(/model is disposed/);
  });

  it('dispose() during a run rejects that run and leaves no worker', async () => {
    const m = await load('googlenet', 2);
    const pool = poolOf(m);
    const pending = m.run(randomInput([2, 224, 224, 3], 10, 128));
    pending.catch(() => undefined);
    while (!pool.busy) await new Promise((r) => setTimeout(r, 1));
    await m.dispose();
    await expect(pending).rejects.toBeInstanceOf(RuntimeError);
    expect(pool.stats.exited).toBe(pool.stats.spawned);
  });

  it('a process that never disposes its model still exits (and node options a worker rejects do not reach it)', async () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { loadModel } = await import(${JSON.stringify(index)});
      const m = await loadModel({ model: 'googlenet', threads: 2, globalPool: true });
      const out = await m.run({ data: new Float32Array(96 * 96 * 3).fill(1), shape: [1, 96, 96, 3] });
      console.log('ok', out[m.info.output].data.length);
    `;
    // Options a worker would reject (--expose-gc, --input-type, -e) must not reach the workers.
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=512', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('timeout');
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^ok 1000/);
  }, 30_000);
});
