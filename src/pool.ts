/**
 * A persistent worker pool over the shared Wasm memory (threads > 1).
 *
 * Design:
 * - `threads` workers. Where the host lets the calling thread block (Node, a dedicated Web Worker), it
 *   takes thread 0's share of a run itself, with worker 0 sitting the run out, whenever the cores have just
 *   been busy (HOT_IDLE_MS, `callerJoins`): one worker less to wake, none to wake it at the end, and on this
 *   project's VM the OS then puts the woken worker on the other core at once. Otherwise (a page, after a pause) the
 *   workers compute and the calling thread only coordinates without blocking (Atomics.waitAsync), so that
 *   a worker dying is noticed through its exit event while a run is pending; a calling thread that takes
 *   part blocks at most CALLER_BLOCK_MS per barrier before it waits that way too.
 * - While other work holds the cores, runs the calling thread takes part in go without the workers
 *   (./threads/solo.ts decides from the runs' times and their barrier waits that outlast the spin).
 * - Each worker gets the compiled kernel module and the memory once ('init') and instantiates it there.
 * - A plan is compiled once into levels of independent steps (./threads/schedule.ts) and sent to each
 *   worker the first time it runs there (cached by id). A run is then one message per worker, or, for
 *   workers still parked after their previous run (up to PARK_MS), a store and a notify of each one's word
 *   in the control block (./threads/protocol.ts `ring`, `parkWait`); the levels are separated by a
 *   barrier in the control block, not by messages.
 * - Every step is cut deterministically into chunks (./threads/protocol.ts `chunks`: row chunks of
 *   decreasing size, 4 per thread, or a grid of rows and output panels for the small layers)
 *   that the workers claim from a counter in the control block (`claim`; two threads from the two ends
 *   of each level, so each mostly reads what it wrote: `levelChunks`): each output element is computed
 *   exactly once, by the same kernel with the same per-element order, so results are bit-identical for
 *   any thread count, and a descheduled thread holds a level up by one chunk only.
 * - Captures (`after`) run on the calling thread, only for the steps asked for, at a barrier between the
 *   level that completes the end point and the first that overwrites it, while the workers wait; as few
 *   such stops as those windows allow (./threads/schedule.ts `capturePlan`), and none for the end points
 *   that survive to the end of the run.
 * - Faults: a worker that exits or throws mid-run aborts the run (EPOCH bump wakes every waiter), the run
 *   rejects with a RuntimeError, and the worker is replaced before the next run starts.
 * - Lifecycle: workers are unref'd while idle (a Node process that never calls dispose still exits) and
 *   ref'd while a run is pending; dispose terminates them all.
 */
import type { Executor } from './model.js';
import { runSteps, type Plan } from './plan.js';
import { RuntimeError } from './errors.js';
import type { PoolStart } from './model.js';
import { isNode } from './context.js';
import type { ThreadHost, WorkerHandle } from './threads/host.js';
import {
  arrive, bump, CTL_ABORTED, CTL_ARRIVE, CTL_CLAIM, CTL_EPOCH, CTL_GEN, CTL_PARK, CTL_LEFT, CTL_SIGNAL, CTL_WORDS, levelCalls, LOOP,
  ring, runLevel, Spin,
  type Call, type FromWorker, type ToWorker, type WireProgram,
} from './threads/protocol.js';
import { capturePlan, compileProgram, type Program } from './threads/schedule.js';
import { heldUp, SoloPolicy } from './threads/solo.js';

/** Model's PoolStart (module, memory, threads, scratch and control block), plus where workers come from. */
export interface PoolOptions extends PoolStart {
  /** Where workers come from. Default: worker_threads on Node. */
  host?: ThreadHost;
  /** The worker script. Default: the host's (Node: ./worker.js next to this module; browsers: ./threads/web-worker.js). */
  workerUrl?: URL;
  /**
   * When the calling thread takes thread 0's share of a run itself (with `callerKernels`, where the host
   * lets it wait): 'auto' (default) when it has just been busy (see HOT_IDLE_MS), 'always', or 'never'.
   */
  callerMode?: 'auto' | 'always' | 'never';
}

/**
 * Microseconds a thread busy-waits at a barrier before sleeping in Atomics.wait, at most (see barrier;
 * ./threads/protocol.ts `Spin` shortens it while waits outlast it). Measured
 * interleaved here, 2 threads: against the former 4000 iterations (25-45 µs), 500 µs took inception_v1
 * from 21.72 to 21.28 and 21.74 to 21.31 ms (1000 µs: 21.17 / 21.15), googlenet 23.91 -> 23.67 and
 * 23.83 -> 23.40; against 500 µs, 1000 µs 20.90 -> 20.67 and 20.63 -> 20.52 (2000 µs: 20.63 / 20.49).
 */
const SPIN_US = 1000;
/** Programs a worker keeps compiled (the Model keeps at most 17 plans). */
const PROGRAM_CACHE = 32;
/** How long survivors of an aborted run may take to leave it before they are replaced too. */
const QUIESCE_MS = 5000;
/** Longest single Atomics.waitAsync on the calling thread (a fault also wakes it at once). */
const POLL_MS = 200;
/**
 * The calling thread takes part in a run only when the cores have been busy since the previous run ended:
 * it ended at most HOT_IDLE_MS ago, or the process has used half a core since, or HOT_CPU_MS of CPU time
 * (a batch of images, a photo decoded right before, another model's run). On this project's VM the OS puts a woken worker on
 * the waker's core when that core has been idle for a while, and keeps it there for 3-9 ms while the other
 * core stays halted, but on the other core when the waker has been busy: measured (2 threads,
 * inception_v1 224), after 10 ms idle 15.97 against 16.32 ms with two workers, after 30 ms 21.28 against
 * 16.63, after 1.5 s 24.03 against 18.38; after 60 ms of work 16.2-16.6 against 16.8-20.4. A browser tells
 * no CPU time, so in a dedicated Web Worker only the first condition counts (Chromium here, googlenet 224,
 * 2 threads: back to back 16.96-17.31 ms against 17.23-17.46 with the workers alone, medians of 100
 * interleaved runs in one worker; after a 100 ms pause 22.5-31.8 against 19.9-20.4).
 */
const HOT_IDLE_MS = 10;
const HOT_CPU_MS = 30;
/**
 * The calling thread takes part only in runs of at most this many input pixels (two 224x224 images): its
 * event loop waits for the run, ~16-35 ms here, where a larger batch would hold it up for its whole length
 * while it gains less (the wake-up it saves is one per run).
 */
const CALLER_MAX_PIXELS = 2 * 224 * 224;
/**
 * How long the calling thread blocks at one barrier of a run it takes part in before it waits
 * asynchronously instead (so that a worker's death, an event, can reach it): a level takes at most a few
 * ms here.
 */
const CALLER_BLOCK_MS = 20;

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** Resolve when ctl[i] may have changed from v (or after ms). Never blocks the thread. */
function waitChange(ctl: Int32Array, i: number, v: number, ms: number): Promise<unknown> {
  if (waitAsync) {
    const r = waitAsync(ctl, i, v, ms);
    return r.async ? (r.value as Promise<string>) : Promise.resolve(r.value);
  }
  return new Promise((resolve) => setTimeout(resolve, 1));
}

interface Slot {
  thread: number;
  handle: WorkerHandle;
  alive: boolean;
  /** Instantiated and answering (until then it stays ref'd so that loading keeps the process alive). */
  loaded: boolean;
  ready: Promise<void>;
  /** Program ids this worker has cached, oldest first. */
  programs: number[];
  /** Epoch of the run the worker is in, or -1 when idle. */
  busyEpoch: number;
  idle?: () => void;
  lastError?: string;
}

/** A kernel's exception on the calling thread, as the run's error. */
const kernelFailed = (e: unknown): RuntimeError =>
  new RuntimeError(`a kernel failed on the calling thread: ${(e as Error)?.message ?? e}`, { cause: e });

/** A program as a worker needs it (without the pool's capture levels). */
const wire = (p: Program): WireProgram => ({ id: p.id, steps: p.steps, levels: p.levels });

/** Whether this thread may block in Atomics.wait (not a page's main thread). */
function mayWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

async function defaultHost(): Promise<ThreadHost> {
  if (isNode()) return (await import(/* webpackIgnore: true */ './threads/node.js')).nodeHost;
  if (typeof (globalThis as { Worker?: unknown }).Worker === 'function') return (await import('./threads/browser.js')).browserHost;
  throw new RuntimeError('threads > 1 need a thread host: this runtime has neither worker_threads nor Web Workers');
}

export class WorkerPool implements Executor {
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly programs = new WeakMap<Plan, Program>();
  private nextProgramId = 1;
  private readonly ctl: Int32Array;
  /** The calling thread's spin at barriers, in the runs it takes part in. */
  private readonly spin: Spin;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** The pending run's fault, set by a worker's death; the run rejects with it. */
  private fault: RuntimeError | undefined;
  private running = false;
  /** Set after an aborted run: survivors must leave it before the control block is reused. */
  private dirty = false;
  private recovery: Promise<void> | undefined;
  /**
   * Workers started and whose exit was observed (for tests); runs the calling thread took part in, and of
   * those, the runs it computed alone (./threads/solo.ts).
   */
  readonly stats = { spawned: 0, exited: 0, callerRuns: 0, soloRuns: 0 };
  /** When runs the calling thread takes part in go without the workers (other work holds the cores). */
  private readonly soloPolicy = new SoloPolicy();
  /** The calling thread's barrier waits in the current run that outlasted its spin. */
  private stalls = 0;
  /** The calling thread's work items per program id (most recently used last), when it takes part. */
  private readonly callerPrograms = new Map<number, Call[][]>();
  /** When the last run ended, and the process's CPU time then (host.cpuMs). */
  private lastEnd: { at: number; cpu: number } | undefined;

  /** Runs may compute on the calling thread (see callerJoins). */
  get blocksCaller(): boolean {
    const mode = this.o.callerMode ?? 'auto';
    return this.mayBlock && (mode === 'always' || (mode === 'auto' && this.threads <= this.host.cores));
  }
  /**
   * The calling thread has kernels and a host that offers it runs (Node, a dedicated Web Worker), and may
   * block in Atomics.wait: not the main thread of a page under Node integration (Electron's renderer).
   * Tried only then: a page's main thread never calls Atomics.wait.
   */
  private readonly mayBlock: boolean;

  private constructor(private readonly o: PoolOptions, private readonly host: ThreadHost, private readonly url: URL | undefined) {
    this.threads = o.threads;
    this.ctl = new Int32Array(o.memory.buffer, o.controlBase, CTL_WORDS);
    this.spin = new Spin(o.threads <= host.cores ? SPIN_US : 0);
    this.mayBlock = !!o.callerKernels && host.callerMayBlock && mayWait();
  }

  static async create(o: PoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 64) throw new RuntimeError(`threads must be 1..64, got ${o.threads}`);
    if (!((o.memory.buffer as ArrayBufferLike) instanceof SharedArrayBuffer)) throw new RuntimeError('the worker pool needs a shared WebAssembly.Memory');
    if (o.controlBase % 64 !== 0 || o.controlBase + CTL_WORDS * 4 > o.memory.buffer.byteLength) throw new RuntimeError('bad control block offset');
    const host = o.host ?? (await defaultHost());
    const pool = new WorkerPool(o, host, o.workerUrl);
    for (const i of [CTL_ARRIVE, CTL_GEN, CTL_SIGNAL, CTL_EPOCH, CTL_CLAIM, CTL_ABORTED]) Atomics.store(pool.ctl, i, 0);
    for (let t = 0; t < o.threads; t++) pool.slots.push(pool.spawn(t));
    o.onSpawned?.();
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  private spawn(thread: number): Slot {
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined);
    const slot = {} as Slot;
    const gone = (why: string) => {
      // Also for a worker that dispose() (or recover) marked dead before ending it: a recovery waiting for it
      // to start or to leave its run must not wait on (a call queued behind the recovery never settled).
      settle.reject(new RuntimeError(this.disposed ? 'model is disposed' : `worker ${thread} could not start: ${why}`));
      slot.idle?.();
      if (!slot.alive) return;
      slot.alive = false;
      this.onWorkerGone(slot, why);
    };
    const handle = this.host.spawn(this.url, {
      message: (m: FromWorker) => {
        if (m.type === 'ready') {
          slot.loaded = true;
          if (!this.running) slot.handle.unref();
          settle.resolve();
        } else if (m.type === 'done') {
          if (m.epoch === slot.busyEpoch) {
            slot.busyEpoch = -1;
            slot.idle?.();
          }
        } else if (m.type === 'error') {
          slot.lastError = m.message;
          gone(`it threw: ${m.message}`);
          void slot.handle.terminate();
        }
      },
      error: (e) => {
        slot.lastError ??= (e as Error)?.message ?? String(e);
        gone(`it threw: ${slot.lastError}`);
        void slot.handle.terminate(); // a Web Worker outlives its uncaught exception
      },
      exit: (code) => {
        this.stats.exited++;
        gone(slot.lastError ? `it threw: ${slot.lastError}` : `it exited with code ${code}`);
      },
    });
    this.stats.spawned++;
    Atomics.store(this.ctl, CTL_PARK + thread, LOOP); // a dead predecessor may have left it parked
    Object.assign(slot, { thread, handle, alive: true, loaded: false, ready, programs: [], busyEpoch: -1 });
    handle.ref(); // until ready: loading must keep the process alive
    const init: ToWorker = {
      type: 'init', module: this.o.module, memory: this.o.memory, controlBase: this.o.controlBase, thread,
      threads: this.threads, scratchBase: this.o.scratchBase, scratchBytes: this.o.scratchBytes, spin: this.spin.max,
    };
    handle.postMessage(init);
    return slot;
  }

  /** A worker is gone: fail the pending run at once and replace the worker in the background. */
  private onWorkerGone(slot: Slot, why: string): void {
    slot.idle?.();
    if (this.disposed || this.slots[slot.thread] !== slot) return;
    if (this.running && !this.fault && slot.busyEpoch >= 0) {
      this.fault = new RuntimeError(`a worker died during the run (thread ${slot.thread}: ${why})`);
      this.abort();
    }
    this.dirty = true;
    this.scheduleRecovery();
  }

  /** Wake every waiter of the current run and make the workers leave it. */
  private abort(): void {
    Atomics.store(this.ctl, CTL_ABORTED, Atomics.load(this.ctl, CTL_EPOCH));
    Atomics.add(this.ctl, CTL_EPOCH, 1);
    bump(this.ctl, CTL_GEN);
    bump(this.ctl, CTL_SIGNAL);
    this.dirty = true;
  }

  private scheduleRecovery(): void {
    const prev = this.recovery ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.recover());
    this.recovery = next;
    const clear = () => {
      if (this.recovery === next) this.recovery = undefined;
    };
    // A failed recovery fails the run waiting for it; the next run tries again.
    void next.then(clear, clear);
  }

  /** Replace dead workers and wait for survivors of an aborted run to go idle. */
  private async recover(): Promise<void> {
    if (this.disposed) return;
    // Workers that have left the run (LEFT; the others answer 'done' when they leave it).
    for (const s of this.slots) if (s.busyEpoch >= 0 && Atomics.load(this.ctl, CTL_LEFT + s.thread) === s.busyEpoch) s.busyEpoch = -1;
    // Survivors leave an aborted run at their next barrier; one stuck in a long kernel gets replaced.
    const stragglers = this.slots.filter((s) => s.alive && s.busyEpoch >= 0);
    await Promise.all(stragglers.map((s) => this.idleOrTimeout(s, QUIESCE_MS)));
    for (const s of this.slots) {
      if (s.alive && s.busyEpoch >= 0) {
        s.alive = false;
        await s.handle.terminate();
      }
    }
    if (this.disposed) return;
    for (let t = 0; t < this.slots.length; t++) {
      if (!this.slots[t].alive) this.slots[t] = this.spawn(t);
    }
    await Promise.all(this.slots.map((s) => s.ready));
    if (this.slots.every((s) => s.alive && s.busyEpoch < 0)) {
      Atomics.store(this.ctl, CTL_ARRIVE, 0);
      Atomics.store(this.ctl, CTL_CLAIM, 0);
      this.dirty = false;
    }
  }

  private idleOrTimeout(s: Slot, ms: number): Promise<void> {
    if (!s.alive || s.busyEpoch < 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      s.idle = () => {
        clearTimeout(timer);
        s.idle = undefined;
        resolve();
      };
    });
  }

  /**
   * Compile `plan`'s program and send it to the workers ahead of its first run (loadModel: one image at
   * the model's input size; reserve()), with the calling thread's work items: that run then carries only
   * the program's id. Measured here (googlenet 224, 2 threads), a first run spent ~7 ms before the workers
   * computed (compiling, the program posted twice, each worker's work items), in code not yet optimized.
   * Not during a run, and not to a worker parked after one: it reads no message until it is rung (its
   * next run brings the program).
   */
  prepare(plan: Plan): void {
    if (this.disposed || this.running) return;
    const p = this.program(plan);
    for (const s of this.slots) {
      if (!s.alive || s.programs.includes(p.id) || Atomics.load(this.ctl, CTL_PARK + s.thread) !== LOOP) continue;
      s.handle.postMessage({ type: 'prepare', program: wire(p), drop: this.hold(s, p) });
    }
    if (this.mayBlock) this.callerCalls(p);
  }

  /** Note that worker `s` is sent program `p` to keep; returns the oldest it forgets past PROGRAM_CACHE. */
  private hold(s: Slot, p: Program): number | undefined {
    s.programs.push(p.id);
    return s.programs.length > PROGRAM_CACHE ? s.programs.shift() : undefined;
  }

  private program(plan: Plan): Program {
    let p = this.programs.get(plan);
    if (!p) {
      p = compileProgram(plan, this.nextProgramId++);
      this.programs.set(plan, p);
    }
    return p;
  }

  /**
   * Run a plan. `before()` writes the input once no worker is in a run any more; `after(i)` is called on
   * this thread once step i's output is complete and before anything overwrites it, for each i in `stops`
   * (default: every capture step of the plan).
   */
  execute(plan: Plan, before: () => void, after: (step: number) => void, stops?: ReadonlySet<number>): Promise<void> {
    const short = plan.n * plan.net.input.h * plan.net.input.w <= CALLER_MAX_PIXELS;
    const job = this.queue.then(() => this.runNow(this.program(plan), before, after, stops ?? new Set(plan.captures.map((c) => c.afterStep)), short));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private async ensureReady(): Promise<void> {
    if (this.disposed) throw new RuntimeError('model is disposed');
    for (let attempt = 0; ; attempt++) {
      // Every recovery scheduled meanwhile too (a second worker's death during the first): one left running
      // beside the run took its workers for stragglers, waited QUIESCE_MS and then ended them mid-run.
      while (this.recovery) await this.recovery;
      if (this.disposed) throw new RuntimeError('model is disposed');
      if (!this.dirty && this.slots.every((s) => s.alive)) return;
      if (attempt >= 2) throw new RuntimeError('the worker pool could not recover from a worker failure');
      this.scheduleRecovery();
    }
  }

  /** Whether the calling thread takes thread 0's share of this run, `short` or not (see HOT_IDLE_MS, CALLER_MAX_PIXELS). */
  private callerJoins(short: boolean): boolean {
    if (!this.blocksCaller) return false;
    if (this.o.callerMode === 'always') return true;
    if (!short || !this.lastEnd) return false;
    const wall = performance.now() - this.lastEnd.at;
    const cpuMs = this.host.cpuMs?.();
    return wall <= HOT_IDLE_MS || (cpuMs !== undefined && cpuMs - this.lastEnd.cpu >= Math.min(wall / 2, HOT_CPU_MS));
  }

  private async runNow(p: Program, before: () => void, after: (step: number) => void, stops: ReadonlySet<number>, short = true): Promise<void> {
    // After an aborted run, ensureReady waits until its survivors have left it: until then one may still
    // be writing its last level into the arena, where before() writes the input.
    await this.ensureReady();
    before();
    const last = p.levels.length - 1;
    // Steps whose captures happen at each level boundary (program order).
    const atLevel = capturePlan(p, stops);
    const stopLevels = [...atLevel.keys()].filter((lv) => lv < last).sort((a, b) => a - b);
    // With the calling thread as thread 0, worker 0 sits this run out (it stays parked, or in its loop).
    const caller = this.callerJoins(short);
    const adapt = caller && (this.o.callerMode ?? 'auto') === 'auto';
    const t0 = performance.now();
    if (adapt && this.soloPolicy.solo(p.id, t0)) {
      try {
        this.stats.callerRuns++;
        this.stats.soloRuns++;
        this.soloRun(p, after);
      } finally {
        const end = performance.now();
        this.lastEnd = { at: end, cpu: this.host.cpuMs?.() ?? 0 };
        this.soloPolicy.record(p.id, true, end - t0, false, end);
      }
      return;
    }
    const members = caller ? this.slots.slice(1) : this.slots;
    this.stalls = 0;
    try {
      await this.session(members, async (epoch, wait) => {
        // Parked workers that hold the program start at one ring; the others get the run as a message.
        const cached = this.slots.map((s) => (members.includes(s) ? s.programs.includes(p.id) : null));
        const rung = ring(this.ctl, cached, { epoch, program: p.id, stops: stopLevels });
        members.forEach((s) => {
          if (rung[s.thread]) return;
          const held = s.programs.includes(p.id);
          const drop = held ? undefined : this.hold(s, p);
          s.handle.postMessage({ type: 'run', epoch, program: held ? p.id : wire(p), drop, stops: stopLevels });
        });
        if (caller) {
          this.stats.callerRuns++;
          await this.callerRun(p, epoch, atLevel, after);
          return;
        }
        for (const lv of stopLevels) {
          await wait();
          for (const i of atLevel.get(lv)!) after(i);
          bump(this.ctl, CTL_GEN);
        }
        await wait();
        for (const i of atLevel.get(last) ?? []) after(i);
      });
      const end = performance.now();
      if (adapt) this.soloPolicy.record(p.id, false, end - t0, heldUp(this.stalls, p.levels.length), end);
    } finally {
      this.lastEnd = { at: performance.now(), cpu: this.host.cpuMs?.() ?? 0 };
    }
  }

  /**
   * A run on the calling thread alone, step by step as one thread runs the plan (the steps' scratch is
   * thread 0's, the calling thread's; the workers stay parked): while other work holds the cores
   * (./threads/solo.ts). `after(i)` right after every step i, which covers the ones asked for.
   */
  private soloRun(p: Program, after: (step: number) => void): void {
    runSteps(this.o.callerKernels!, p.steps, after, kernelFailed);
  }

  /** The calling thread's work items for a program (thread 0, its scratch), kept for PROGRAM_CACHE programs. */
  private callerCalls(p: Program): Call[][] {
    let calls = this.callerPrograms.get(p.id);
    if (calls) {
      this.callerPrograms.delete(p.id);
    } else {
      calls = levelCalls(p, this.o.callerKernels as unknown as Record<string, unknown>, this.threads, this.o.scratchBase);
      if (this.callerPrograms.size >= PROGRAM_CACHE) this.callerPrograms.delete(this.callerPrograms.keys().next().value!);
    }
    this.callerPrograms.set(p.id, calls);
    return calls;
  }

  /**
   * The calling thread's part of a run, as thread 0: it claims work like a worker and meets the workers at
   * the same barriers (./threads/protocol.ts `barrier`: GEN for a plain level; at a stop or the end, where
   * it has captures to make first, SIGNAL, then it releases them itself). It blocks (spin, then
   * Atomics.wait) for up to CALLER_BLOCK_MS per barrier, then waits asynchronously, which lets a worker's
   * death reach the pool (`fault`) and fail the run.
   */
  private async callerRun(p: Program, epoch: number, atLevel: Map<number, number[]>, after: (step: number) => void): Promise<void> {
    const ctl = this.ctl;
    const threads = this.threads;
    const calls = this.callerCalls(p);
    const last = calls.length - 1;
    for (let l = 0; l <= last; l++) {
      try {
        runLevel(ctl, calls[l], 0, threads);
      } catch (e) {
        throw kernelFailed(e);
      }
      const caps = atLevel.get(l);
      const stop = l === last || caps !== undefined;
      const word = stop ? CTL_SIGNAL : CTL_GEN;
      const seen = Atomics.load(ctl, word);
      if (arrive(ctl, threads)) {
        if (!stop) bump(ctl, CTL_GEN);
      } else if (!this.blockUntil(word, seen, epoch)) {
        await this.waitUntil(word, seen, epoch);
      }
      if (Atomics.load(ctl, CTL_EPOCH) !== epoch) throw this.fault ?? new RuntimeError('the run was aborted');
      for (const i of caps ?? []) after(i);
      if (stop && l < last) bump(ctl, CTL_GEN);
    }
  }

  /** Block until ctl[word] moves from `seen` or the run is aborted (true), or CALLER_BLOCK_MS pass (false). */
  private blockUntil(word: number, seen: number, epoch: number): boolean {
    const ctl = this.ctl;
    if (this.spin.wait(ctl, word, seen)) return true;
    this.stalls++;
    const until = performance.now() + CALLER_BLOCK_MS;
    for (;;) {
      if (Atomics.load(ctl, word) !== seen || Atomics.load(ctl, CTL_EPOCH) !== epoch) return true;
      const left = until - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ctl, word, seen, left);
    }
  }

  /** The same without blocking: events run meanwhile, and a worker's death rejects with its fault. */
  private async waitUntil(word: number, seen: number, epoch: number): Promise<void> {
    for (;;) {
      if (this.fault) throw this.fault;
      if (Atomics.load(this.ctl, word) !== seen || Atomics.load(this.ctl, CTL_EPOCH) !== epoch) return;
      await waitChange(this.ctl, word, seen, POLL_MS);
    }
  }

  /**
   * One run of the workers in `members`: new epoch, workers ref'd, `body` posts the messages and waits for
   * each signal with `wait()`, which rejects as soon as a worker dies. Any failure aborts the run.
   */
  private async session(members: Slot[], body: (epoch: number, wait: () => Promise<void>) => Promise<void>): Promise<void> {
    const ctl = this.ctl;
    const epoch = Atomics.add(ctl, CTL_EPOCH, 1) + 1;
    let expect = Atomics.load(ctl, CTL_SIGNAL);
    this.fault = undefined;
    this.running = true;
    for (const s of members) {
      s.busyEpoch = epoch;
      s.handle.ref();
    }
    const wait = async () => {
      expect++;
      for (;;) {
        if (this.fault) throw this.fault;
        const cur = Atomics.load(ctl, CTL_SIGNAL);
        if (cur - expect >= 0) return;
        await waitChange(ctl, CTL_SIGNAL, cur, POLL_MS);
      }
    };
    try {
      await body(epoch, wait);
      // Every worker has passed the run's last barrier, so none writes the memory any more (workers send
      // no message at the end of a run).
      for (const s of members) if (s.busyEpoch === epoch) s.busyEpoch = -1;
    } catch (e) {
      if (!this.fault) this.abort();
      throw e;
    } finally {
      this.running = false;
      for (const s of this.slots) if (s.alive && s.loaded) s.handle.unref();
      if (this.dirty && !this.disposed) this.scheduleRecovery();
    }
  }

  /** Time `rounds` empty barriers of all workers (ms for the whole batch, one message to start). */
  _barrierBench(rounds: number): Promise<number> {
    const job = this.queue.then(async () => {
      await this.ensureReady();
      let t0 = 0;
      await this.session(this.slots, async (epoch, wait) => {
        t0 = performance.now();
        ring(this.ctl, this.slots.map(() => false), { epoch, program: 0, stops: [] }); // parked workers: to the message loop
        for (const s of this.slots) s.handle.postMessage({ type: 'bench', epoch, rounds });
        await wait();
      });
      return performance.now() - t0;
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Test hook: kill worker `i` as if it crashed. */
  _terminateWorkerForTest(i: number): Promise<void> {
    return this.slots[i].handle.terminate();
  }

  /** Workers currently alive (bookkeeping of the pool). */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** A run is in progress. */
  get busy(): boolean {
    return this.running;
  }

  /** The compiled program of a plan (levels of independent steps), for inspection and benchmarks. */
  _programOf(plan: Plan): Program {
    return this.program(plan);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.running && !this.fault) {
      this.fault = new RuntimeError('model is disposed');
      this.abort();
    }
    const slots = this.slots.slice();
    for (const s of slots) s.alive = false;
    await Promise.all(slots.map((s) => s.handle.terminate()));
  }
}
