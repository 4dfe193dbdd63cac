/**
 * What the pool (main thread) and its workers share: the control block layout in the shared Wasm memory,
 * the messages, the barrier, and the deterministic work split. Platform-neutral: no Node or DOM APIs, so
 * a Web Worker variant reuses all of it.
 *
 * Control block (Int32 words at `controlBase`, each on its own 64-byte line to avoid false sharing):
 * - ARRIVE: workers that reached the current barrier;
 * - GEN: barrier generation, bumped to release the waiters (by the last arriver, or by the main thread
 *   after a stop);
 * - SIGNAL: bumped by the last arriver when the main thread has to act (a stop for captures, or the end
 *   of the run); the main thread waits on it asynchronously, or, in a run it computes in as thread 0
 *   (../pool.ts `callerRun`), blocks for a while first;
 * - ARRIVE, GEN and CLAIM are shared the same way by a calling thread that computes as thread 0;
 * - EPOCH: the current run; the main thread bumps it to abort a run (a worker died, dispose), and a worker
 *   whose run epoch no longer matches leaves the run at its next barrier;
 * - RUN, PARK: the doorbell (`parkBegin`, `parkWait`, `ring`). After a run a worker stays parked on its
 *   own PARK word for a while (PARK[thread] = PARKED) instead of returning to its message loop; a run of a
 *   program it already holds then starts with a store and a notify of that word (RUN: epoch, program,
 *   stops) instead of a message. A word per worker, not one bell for all: a run the calling thread takes
 *   part in wakes only the workers it needs and leaves the others asleep;
 * - LEFT: per worker, the epoch of the last run it has left. A run that ends needs no answer from the
 *   workers (the main thread sees its last barrier); after an abort, the pool knows from LEFT (or from a
 *   'done' message) which workers are out of the run;
 * - ABORTED: the epoch of the last run aborted (written before EPOCH moves on). A worker that has passed
 *   a run's last barrier and then written LEFT reads it to tell an abort (answer 'done', as the pool may
 *   have read LEFT too early) from the next run having started (no answer);
 * - CLAIM: the next work item of the current level. Each step is cut into a fixed, deterministic list of
 *   chunks (`chunks`); the workers claim them (`claim`: two threads from the two ends of the level's list,
 *   more threads from its front), so a thread that is descheduled (a loaded machine, more threads than
 *   cores) delays the level by one chunk, not by its whole share. Which thread computes a chunk does not
 *   change its values: every element is computed once, by the same kernel with the same per-element
 *   order. The last arriver at a barrier resets CLAIM before releasing the others.
 */

import type { Step } from '../plan.js';
import type { WasmMemory, WasmModule } from '../wasm.js';

export const CTL_ARRIVE = 0;
export const CTL_GEN = 16;
export const CTL_SIGNAL = 32;
export const CTL_EPOCH = 48;
export const CTL_CLAIM = 64;
/** The run a ring starts: epoch, program id, number of stops, then the stops (at most RUN_STOPS). */
export const CTL_RUN = 96;
export const RUN_STOPS = 61;
/** One word per thread (at most 64): LOOP, PARKED, CLAIMED or WAKE. */
export const CTL_PARK = 160;
/** One word per thread: the epoch of the last run the worker has left (it writes no memory of it any more). */
export const CTL_LEFT = 224;
/** The epoch of the last run the pool aborted. */
export const CTL_ABORTED = 288;
/** Int32 words of the control block the pool uses (1216 bytes of the 4096 reserved). */
export const CTL_WORDS = 304;

/** PARK states: in the message loop; parked on BELL; claimed for the run in RUN; sent to read a message. */
export const LOOP = 0;
export const PARKED = 1;
export const CLAIMED = 2;
export const WAKE = 3;
/**
 * How long a worker stays parked after a run before it returns to its message loop (blocked in
 * Atomics.wait meanwhile: no CPU). Here, posting a run to both workers took ~44 µs and a worker then
 * started 100-170 µs after its message; a ring is one store and one notify, and a parked thread wakes in
 * ~55 µs (measured alone).
 */
export const PARK_MS = 1000;
/**
 * Chunks per step and thread (fewer where the step is too small). Finer chunks balance better when a
 * thread is held up, but each chunk repeats its rows' packing (and a Winograd chunk its input transform):
 * measured interleaved here (2 threads, inception_v1 / googlenet 224), 1, 2, 4, 8 and 16 per thread gave
 * 53.5, 56-59, 60-63, 67 and 84 ms (inception_v1) and 59, 54, 58 ms for 1, 2, 4 (googlenet).
 */
export const CHUNKS_PER_THREAD = 2;

/** A step as the workers need it (the Plan's step without its layer index). */
export type WireStep = Omit<Step, 'layer'>;

/** A plan compiled for the pool: steps grouped into levels; the steps of a level are independent. */
export interface WireProgram {
  id: number;
  steps: WireStep[];
  /** Step indices per level, in program order within a level. */
  levels: number[][];
}

export interface InitMessage {
  type: 'init';
  module: WasmModule;
  memory: WasmMemory;
  controlBase: number;
  thread: number;
  threads: number;
  scratchBase: number;
  scratchBytes: number;
  /** Microseconds to busy-wait at a barrier before Atomics.wait, at most (0 when threads outnumber cores; see Spin). */
  spin: number;
}

export interface RunMessage {
  type: 'run';
  epoch: number;
  /** The program, when this worker has not cached it yet; else its id. */
  program: WireProgram | number;
  /** A cached program id the worker may forget. */
  drop?: number;
  /** Level indices after which the main thread stops the workers (captures), ascending. */
  stops: number[];
}

/** A program to cache ahead of its first run (the model's default shape, at load), so that run carries only its id. */
export interface PrepareMessage {
  type: 'prepare';
  program: WireProgram;
  /** A cached program id the worker may forget. */
  drop?: number | undefined;
}

/** Barrier rounds with no work, to measure the cost of a sync point. */
export interface BenchMessage {
  type: 'bench';
  epoch: number;
  rounds: number;
}

export type ToWorker = InitMessage | RunMessage | PrepareMessage | BenchMessage;

export type FromWorker =
  | { type: 'ready'; thread: number }
  /** The worker has left a run that was aborted (by itself: aborted, or by others after its end), or a bench. */
  | { type: 'done'; epoch: number; aborted: boolean }
  | { type: 'error'; message: string; stack?: string };

/** Barrier kinds: release everyone; stop for the main thread; end of the run (nobody waits). */
export const PLAIN = 0;
export const STOP = 1;
export const END = 2;

/** Timed waits so that an aborted run is noticed even without a notify. */
const WAIT_MS = 50;

/**
 * One barrier among the `threads` workers. Returns false if the run was aborted (EPOCH changed).
 * The generation is read before arriving: it can only move once every worker has arrived. A waiter spins
 * (`spin`: up to SPIN_US in ../pool.ts) before it sleeps in Atomics.wait (at a STOP, where the calling
 * thread has work to do first, it sleeps at once): a sleeping thread took 50-100 µs more to resume here
 * once released, and about 7 of the 28 barriers of a 2-thread inception_v1 run waited longer than the
 * 4000 iterations (25-45 µs) of the spin this replaced.
 */
export function barrier(ctl: Int32Array, threads: number, kind: number, epoch: number, spin: Spin): boolean {
  const gen = Atomics.load(ctl, CTL_GEN);
  if (arrive(ctl, threads)) {
    if (kind === PLAIN) {
      bump(ctl, CTL_GEN);
      return Atomics.load(ctl, CTL_EPOCH) === epoch;
    }
    bump(ctl, CTL_SIGNAL);
    if (kind === END) return true;
  } else if (kind === END) {
    return true;
  }
  if (kind === PLAIN && spin.wait(ctl, CTL_GEN, gen)) return Atomics.load(ctl, CTL_EPOCH) === epoch;
  while (Atomics.load(ctl, CTL_GEN) === gen) {
    if (Atomics.load(ctl, CTL_EPOCH) !== epoch) return false;
    Atomics.wait(ctl, CTL_GEN, gen, WAIT_MS);
  }
  return Atomics.load(ctl, CTL_EPOCH) === epoch;
}

/**
 * Arrive at the current barrier: true for the last of `threads` to arrive, which has reset CLAIM and
 * ARRIVE for the next level (everyone has finished claiming) and must then release the others or signal.
 */
export function arrive(ctl: Int32Array, threads: number): boolean {
  if (Atomics.add(ctl, CTL_ARRIVE, 1) !== threads - 1) return false;
  Atomics.store(ctl, CTL_CLAIM, 0);
  Atomics.store(ctl, CTL_ARRIVE, 0);
  return true;
}

/** Move ctl[word] on and wake its waiters: a barrier's release (GEN), a signal (SIGNAL). */
export function bump(ctl: Int32Array, word: number): void {
  Atomics.add(ctl, word, 1);
  Atomics.notify(ctl, word);
}

/**
 * The shortest spin a Spin falls to (µs). With one busy process beside a 2-thread inception_v1 run here
 * (1 thread: 30.5-31.2 ms): 32.8 ms with 10, 33.4-36.0 with 20, 34.0-34.5 with 50, 36.4 with 200.
 */
export const MIN_SPIN_US = 20;

/**
 * A thread's spin before it sleeps at a barrier: `max` µs as long as its waits end within that; a wait that
 * does not cuts the next spin to an eighth (not below MIN_SPIN_US), and each wait that ends in time
 * doubles it back. The thread it waits for may be sharing its core (another process busy on the other
 * one, more threads than cores): then a full spin only keeps that thread off the core, barrier after
 * barrier. With one busy process beside a 2-thread inception_v1 run here, a fixed 1000 µs spin took 52-57
 * ms (1 thread: 30-31 ms), this 33-36 ms (the calling thread computing; the workers alone: 33-35 against
 * 59). Without that load, the calling thread's spins ended in time in 2907 of 2932 waits over 200 runs, and
 * 300 interleaved rounds against the fixed spin gave 16.38 against 16.41 ms.
 */
export class Spin {
  us: number;
  constructor(readonly max: number) {
    this.us = max;
  }

  /** Busy-wait for ctl[word] to move from `seen` for the current spin, and adapt it; whether it moved. */
  wait(ctl: Int32Array, word: number, seen: number): boolean {
    if (this.max <= 0) return false;
    const moved = spinWhile(ctl, word, seen, this.us);
    this.us = moved ? Math.min(this.max, 2 * this.us) : Math.max(Math.min(this.max, MIN_SPIN_US), this.us / 8);
    return moved;
  }
}

/** Busy-wait up to `us` µs (by the clock, read every 256 loads) for ctl[word] to move from `seen`; whether it did. */
function spinWhile(ctl: Int32Array, word: number, seen: number, us: number): boolean {
  const until = performance.now() + us / 1000;
  for (let i = 1; ; i++) {
    if (Atomics.load(ctl, word) !== seen) return true;
    if ((i & 255) === 0 && performance.now() > until) return false;
  }
}

/**
 * A worker parks as it arrives at the last barrier of a run (so that it is PARKED before the pool sees the
 * run end and may ring for the next one).
 */
export function parkBegin(ctl: Int32Array, thread: number): void {
  Atomics.store(ctl, CTL_PARK + thread, PARKED);
}

/**
 * Most microseconds a worker spins on its PARK word after a run before it sleeps there (the runner passes
 * its barrier Spin's current length when that is shorter: nothing when threads outnumber cores, 20 µs
 * while another process holds a core). Back-to-back runs (a benchmark loop, a batch) ring again 150-300 µs
 * after the last barrier here (the calling thread captures, returns, writes the next input); a worker
 * asleep by then wakes ~55 µs after the ring, late for the first level. Interleaved A/B, 2 threads, 100-150
 * rounds: inception_v1 15.27 -> 15.14 ms (faster in 96 of 150 rounds), googlenet 16.03 -> 15.80.
 */
export const PARK_SPIN_US = 500;

/**
 * Then, after the run: wait on its PARK word until the pool claims it, and return the run it was claimed
 * for, or undefined when it is to go back to its message loop (WAKE, or `ms` without a ring). It spins
 * for `spinUs` first (PARK_SPIN_US), then sleeps. The pool writes RUN before it claims, so a worker that
 * sees CLAIMED has its run; a worker whose time is up leaves only if it takes its word from PARKED to LOOP
 * before the pool claims it.
 */
export function parkWait(ctl: Int32Array, thread: number, ms = PARK_MS, spinUs = 0): RunMessage | undefined {
  const word = CTL_PARK + thread;
  const until = performance.now() + ms;
  if (spinUs > 0) spinWhile(ctl, word, PARKED, Math.min(spinUs, ms * 1000));
  for (;;) {
    const state = Atomics.load(ctl, word);
    if (state === CLAIMED) {
      Atomics.store(ctl, word, LOOP);
      const n = Atomics.load(ctl, CTL_RUN + 2);
      const stops: number[] = [];
      for (let i = 0; i < n; i++) stops.push(Atomics.load(ctl, CTL_RUN + 3 + i));
      return { type: 'run', epoch: Atomics.load(ctl, CTL_RUN), program: Atomics.load(ctl, CTL_RUN + 1), stops };
    }
    if (state === WAKE) {
      Atomics.store(ctl, word, LOOP);
      return undefined;
    }
    const left = until - performance.now();
    if (left <= 0 && Atomics.compareExchange(ctl, word, PARKED, LOOP) === PARKED) return undefined;
    Atomics.wait(ctl, word, PARKED, Math.max(1, left));
  }
}

/**
 * The pool's side: claim each parked worker for the run in RUN (`cached[t]` true: it holds the program),
 * send it back to its message loop (false), or leave it parked (null: not in this run), and wake each one
 * claimed or sent back. Returns which workers were claimed; the others in the run need it as a message.
 * The RUN words are written before any claim.
 */
export function ring(ctl: Int32Array, cached: Array<boolean | null>, run: { epoch: number; program: number; stops: number[] }): boolean[] {
  const fits = run.stops.length <= RUN_STOPS;
  if (fits) {
    Atomics.store(ctl, CTL_RUN, run.epoch);
    Atomics.store(ctl, CTL_RUN + 1, run.program);
    Atomics.store(ctl, CTL_RUN + 2, run.stops.length);
    run.stops.forEach((v, i) => Atomics.store(ctl, CTL_RUN + 3 + i, v));
  }
  return cached.map((c, t) => {
    if (c === null) return false;
    const want = c && fits ? CLAIMED : WAKE;
    if (Atomics.compareExchange(ctl, CTL_PARK + t, PARKED, want) !== PARKED) return false;
    Atomics.notify(ctl, CTL_PARK + t);
    return want === CLAIMED;
  });
}

/** A chunk of a step: rows [lo, hi) and panels [lo2, hi2) (the whole second extent unless split). */
export interface Chunk {
  lo: number;
  hi: number;
  lo2: number;
  hi2: number;
}

/** Extra cost of a row repeated in another column of the grid (im2col of the row again), in panels. */
const ROW_OVERHEAD = 0.25;

/**
 * The grid (row parts x panel parts, at most `parts` cells) that minimises the largest cell.
 * Rows are cut at multiples of `align`; small layers (7x7 maps: 49 rows = 17 units of 3) also split
 * their output-channel panels.
 */
export function grid(step: Pick<WireStep, 'total' | 'align' | 'total2' | 'minRows'>, parts: number): [number, number] {
  const units = Math.ceil(step.total / step.align);
  const cols = step.total2 ?? 1;
  if (units === 0) return [1, 1];
  let best: [number, number] = [1, 1];
  let bestCost = Infinity;
  // Row parts of at least minRows rows where the second dimension can take the split instead.
  const maxRowParts = step.minRows && cols > 1 ? Math.max(1, Math.floor(step.total / step.minRows)) : parts;
  for (let pr = Math.min(parts, units, maxRowParts); pr >= 1; pr--) {
    const rows = Math.min(step.total, Math.ceil(units / pr) * step.align);
    for (let pc = 1; pc * pr <= parts && pc <= cols; pc++) {
      const cost = rows * (Math.ceil(cols / pc) + (pc > 1 ? ROW_OVERHEAD : 0));
      if (cost < bestCost - 1e-9) {
        bestCost = cost;
        best = [pr, pc];
      }
    }
  }
  return best;
}

/**
 * Relative sizes of the row chunks of a step split by rows only, `threads` chunks of each size, largest
 * first (on two threads: these sizes from the top of the step down to its middle, and mirrored from its
 * bottom up to the middle, the halves the two threads claim from the two ends of a level: `levelChunks`).
 * Rows split finer cost nothing extra (a row is packed once whichever chunk holds it), and small last
 * chunks mean a thread that falls behind (its core taken by someone else for a while) holds the
 * barrier up by a small chunk, not by a quarter of the step. Measured interleaved here (2 threads,
 * inception_v1 224, 100-200 rounds each): 4, 2, 1 took 0.960-0.989 of the time of two equal chunks per
 * thread; against 4, 2, 1, then: 6, 3, 2, 1 0.958-0.997 (0.974 over five runs), 8, 4, 2, 1 0.978,
 * 12, 6, 3, 2, 1 0.999, 4, 2, 1, 1 0.991.
 * A step with that many rows takes them even where the grid would cut its output panels too (the grid
 * prefers that only by the rounding of rows to the GEMM's 3): a grid's equal cells cannot rebalance when
 * one core runs slower than the other, as this VM's cores often do for seconds at a time (another guest
 * on the same physical core). Measured in such a phase (2 threads, 100 runs): on Mixed_4b-4d's 1x1
 * levels (196 rows, a 2x2 grid before) the faster thread waited 0.33-0.37 ms each (median), 0.01-0.02
 * with these chunks; in quiet phases 0.993-1.000 of the time (inception_v1), 0.992 (googlenet).
 * A Winograd step takes them too when even its smallest chunk gets minRows tiles (each chunk streams all
 * the transformed weights once): with minRows 8 (WINOGRAD_MIN_TILES), Conv2d_2c's 196 tiles do, which
 * measured 0.961 and 0.988 of the time of one chunk per thread on the first machine, and 1.001 and 0.985
 * later: no difference, so no exception for it.
 */
const GUIDED = [6, 3, 2, 1];

/**
 * The chunks of a step for `threads` threads: decreasing row chunks (GUIDED) when it has enough rows (a
 * Winograd step: minRows tiles in the smallest chunk, and only where its grid splits tiles alone), else a
 * grid of at most threads * CHUNKS_PER_THREAD cells (threads for a Winograd step), row part major. They
 * tile the step exactly (every element in exactly one chunk) and depend only on the step and the thread
 * count.
 */
export function chunks(step: WireStep, threads: number): Chunk[] {
  // A Winograd step (minRows) splits its tiles, or its panels where a thread would get fewer than minRows
  // tiles; every part repeats the weight streaming (tiles) or the input transform (panels): one chunk per
  // thread (measured: 2 threads, inception_v1, 49.8 -> 46.5 ms against CHUNKS_PER_THREAD of them).
  const [pr, pc] = grid(step, step.minRows ? threads : threads * CHUNKS_PER_THREAD);
  const units = Math.ceil(step.total / step.align);
  const cols = step.total2 ?? 1;
  const out: Chunk[] = [];
  const sizes = threads === 2 ? [...GUIDED, ...[...GUIDED].reverse()] : GUIDED.flatMap((g) => Array<number>(threads).fill(g));
  const sum = sizes.reduce((a, b) => a + b, 0);
  if ((pc === 1 || !step.minRows) && threads > 1 && units >= sum * (step.minRows ?? 1)) {
    let acc = 0;
    for (const g of sizes) {
      const lo = Math.min(step.total, Math.round((acc / sum) * units) * step.align);
      acc += g;
      const hi = Math.min(step.total, Math.round((acc / sum) * units) * step.align);
      if (hi > lo) out.push({ lo, hi, lo2: 0, hi2: cols });
    }
    return out;
  }
  for (let r = 0; r < pr; r++) {
    const lo = Math.min(step.total, Math.floor((r * units) / pr) * step.align);
    const hi = Math.min(step.total, Math.floor(((r + 1) * units) / pr) * step.align);
    for (let c = 0; c < pc; c++) {
      const lo2 = Math.floor((c * cols) / pc);
      const hi2 = Math.floor(((c + 1) * cols) / pc);
      if (hi > lo && hi2 > lo2) out.push({ lo, hi, lo2, hi2 });
    }
  }
  return out;
}

/**
 * A level's chunks in the order the threads claim them (`claim`). On two threads each step's chunks are
 * cut into halves (the first half of its list, which is its top rows or tiles, and the rest): the first
 * halves of all steps come first, in step order, then the second halves with the steps in reverse order,
 * so that thread 0, claiming from the front, and thread 1, from the back, each start at their own end of
 * every step (the bottom rows first for thread 1) and take the same half of the image in every level,
 * mostly the rows that they wrote themselves in the level before, until they meet in the middle, where
 * either takes what is left. Measured interleaved here against one list claimed from the front by both
 * (100 rounds, 2 threads): inception_v1 21.61 -> 21.13, 21.53 -> 21.20, 21.24 -> 20.95, 21.24 -> 21.00 ms;
 * googlenet 22.54 -> 22.00, 22.64 -> 22.11. (Each thread keeping only its own half, with no taking from
 * the other, was slower than one list: 23.18 / 22.59 against 22.20 / 22.23.) Other thread counts: the
 * steps' chunks in step order.
 */
export function levelChunks(steps: WireStep[], threads: number): Array<{ step: number; chunk: Chunk }> {
  const all = steps.map((s, step) => chunks(s, threads).map((chunk) => ({ step, chunk })));
  if (threads !== 2) return all.flat();
  const half = (list: unknown[]) => Math.ceil(list.length / 2);
  return [...all.flatMap((list) => list.slice(0, half(list))), ...[...all].reverse().flatMap((list) => list.slice(half(list)))];
}

/**
 * The next item of a level of n items for this thread, or -1 when none is left. Two threads share CLAIM as
 * two counts, items taken from the front (low 16 bits, thread 0) and from the back (high 16 bits, thread
 * 1), moved together by compare-and-swap so that they never take the same item (a level has far fewer
 * than 2^15 items); more threads all take from the front (Atomics.add).
 */
export function claim(ctl: Int32Array, n: number, thread: number, threads: number): number {
  if (threads !== 2) {
    const i = Atomics.add(ctl, CTL_CLAIM, 1);
    return i < n ? i : -1;
  }
  for (;;) {
    const w = Atomics.load(ctl, CTL_CLAIM);
    const front = w & 0xffff;
    const back = w >>> 16;
    if (front + back >= n) return -1;
    if (Atomics.compareExchange(ctl, CTL_CLAIM, w, thread === 0 ? w + 1 : w + 0x10000) === w) return thread === 0 ? front : n - 1 - back;
  }
}

/** A level's work items for one thread: kernel and arguments, in claim order. */
export type Call = [(...a: number[]) => void, number[]];

/** This thread's share of a level: the items it claims (`claim`) until none is left. */
export function runLevel(ctl: Int32Array, items: Call[], thread: number, threads: number): void {
  for (let i = claim(ctl, items.length, thread, threads); i >= 0; i = claim(ctl, items.length, thread, threads)) {
    const call = items[i]; // (indexed: destructuring took an array iterator per call in a micro-benchmark)
    call[0](...call[1]);
  }
}

/**
 * A program's work items, level by level, for a thread whose scratch starts at `scratch` (every thread of
 * a run holds the same lists, with its own scratch): the workers' and, when it takes part, the calling
 * thread's.
 */
export function levelCalls(p: Pick<WireProgram, 'steps' | 'levels'>, kernels: Record<string, unknown>, threads: number, scratch: number): Call[][] {
  return p.levels.map((lv) => {
    const steps = lv.map((i) => p.steps[i]);
    const fns = steps.map((s) => {
      const f = kernels[s.fn];
      if (typeof f !== 'function') throw new Error(`unknown kernel ${s.fn}`);
      return f as (...a: number[]) => void;
    });
    return levelChunks(steps, threads).map(({ step, chunk }) => [fns[step], chunkArgs(steps[step], chunk, scratch)] as Call);
  });
}

/**
 * A kernel's arguments with the whole numbers as small integers (V8's Smis). One whole number that came out
 * of arithmetic as a double makes V8 keep every number of its array as a double, and a call that spreads
 * the array then boxes each of them: ~0.5 KB per kernel call, ~60 KB per inception_v1 run on the calling
 * thread (a scavenge every ~45 runs, whose helper threads then take a core from the run: traced), 16
 * KB with this.
 */
export function smiArgs(args: readonly number[]): number[] {
  return args.map((v) => (Number.isInteger(v) && v >= -(2 ** 30) && v < 2 ** 30 ? v | 0 : v));
}

/** Kernel arguments for a chunk, with the calling thread's own scratch. */
export function chunkArgs(step: WireStep, ch: Chunk, scratch: number): number[] {
  const args = step.args.slice();
  args[step.lo] = ch.lo;
  args[step.hi] = ch.hi;
  if (step.lo2 !== undefined && step.hi2 !== undefined) {
    args[step.lo2] = ch.lo2;
    args[step.hi2] = ch.hi2;
  }
  if (step.scratch >= 0) args[step.scratch] = scratch;
  return smiArgs(args);
}
