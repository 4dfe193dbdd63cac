/**
 * The worker's loop, platform-neutral: instantiate the kernels once on the shared memory, cache programs
 * by id, and run a program as levels separated by barriers in the control block (no message per step).
 * One 'run' message (or one ring of the doorbell) starts a whole run; the worker answers 'done' only when
 * it has left an aborted run (the pool learns of a completed one from its last barrier).
 */
import { instantiateKernels } from '../wasm.js';
import type { Port } from './host.js';
import {
  barrier, CTL_ABORTED, CTL_EPOCH, CTL_LEFT, CTL_WORDS, END, levelCalls, PARK_MS, PARK_SPIN_US, parkBegin, parkWait, PLAIN,
  runLevel, Spin, STOP,
  type Call, type InitMessage, type RunMessage, type ToWorker, type WireProgram,
} from './protocol.js';

interface State {
  init: InitMessage;
  ctl: Int32Array;
  kernels: Record<string, (...a: number[]) => void>;
  /** This worker's spin at barriers, kept from run to run. */
  spin: Spin;
}

export function startRunner(port: Port): void {
  let st: State | undefined;
  /** Per program id: the work items of each level (every thread holds the same list, with its own scratch). */
  const programs = new Map<number, Call[][]>();

  /** Take a program the pool sent (a run's or a 'prepare'), forgetting `drop` as the pool's cache does. */
  const hold = (p: WireProgram, drop: number | undefined): Call[][] => {
    if (drop !== undefined) programs.delete(drop);
    const { thread, threads, scratchBase, scratchBytes } = st!.init;
    const calls = levelCalls(p, st!.kernels, threads, scratchBase + thread * scratchBytes);
    programs.set(p.id, calls);
    return calls;
  };

  const handle = (m: ToWorker): void => {
    if (m.type === 'init') {
      // The control block lies inside the memory's initial size: this view survives memory.grow.
      st = {
        init: m,
        ctl: new Int32Array(m.memory.buffer, m.controlBase, CTL_WORDS),
        kernels: instantiateKernels(m.module, m.memory) as unknown as Record<string, (...a: number[]) => void>,
        spin: new Spin(m.spin),
      };
      port.postMessage({ type: 'ready', thread: m.thread });
      return;
    }
    if (!st) throw new Error('worker used before init');
    const { ctl, spin } = st;
    const { threads } = st.init;
    if (m.type === 'prepare') {
      hold(m.program, m.drop);
      return;
    }
    if (m.type === 'bench') {
      let ok = true;
      for (let r = 0; r < m.rounds && ok; r++) ok = barrier(ctl, threads, PLAIN, m.epoch, spin);
      if (ok) barrier(ctl, threads, END, m.epoch, spin);
      port.postMessage({ type: 'done', epoch: m.epoch, aborted: !ok });
      return;
    }
    // A run, then the runs the pool rings for while this worker is parked (parkWait in protocol.ts).
    let run: RunMessage | undefined = m;
    while (run) {
      run = execute(run) ? parkWait(ctl, st.init.thread, PARK_MS, Math.min(PARK_SPIN_US, spin.us)) : undefined;
    }
  };

  /** One run; returns whether the worker parked at its last barrier (not if it was aborted). */
  const execute = (m: RunMessage): boolean => {
    const { ctl, spin } = st!;
    const { threads, thread } = st!.init;
    let calls: Call[][] | undefined;
    if (typeof m.program === 'number') {
      calls = programs.get(m.program);
      if (!calls) throw new Error(`program ${m.program} is not cached in this worker`);
    } else {
      calls = hold(m.program, m.drop);
    }
    const stops = new Set(m.stops);
    let ok = true;
    let parked = false;
    for (let l = 0; l < calls.length && ok; l++) {
      if (Atomics.load(ctl, CTL_EPOCH) !== m.epoch) {
        ok = false;
        break;
      }
      runLevel(ctl, calls[l], thread, threads);
      const lastLevel = l === calls.length - 1;
      if (lastLevel) {
        parkBegin(ctl, thread);
        parked = true;
      }
      ok = barrier(ctl, threads, lastLevel ? END : stops.has(l) ? STOP : PLAIN, m.epoch, spin);
    }
    // A run that ends needs no answer: the pool sees its last barrier, and after an abort it reads LEFT. The
    // worker reads ABORTED after writing LEFT (the pool writes ABORTED before it reads LEFT), so a pool that
    // read LEFT too early gets a message instead. Not EPOCH: the next run may have moved it on already
    // (this worker descheduled after the last barrier), which needs no message.
    Atomics.store(ctl, CTL_LEFT + thread, m.epoch);
    if (ok && Atomics.load(ctl, CTL_ABORTED) !== m.epoch) return parked;
    port.postMessage({ type: 'done', epoch: m.epoch, aborted: !ok });
    return ok && parked;
  };

  port.onMessage((m) => {
    try {
      handle(m);
    } catch (e) {
      // Report, then die: the pool aborts the run and replaces this worker.
      const err = e as Error;
      port.postMessage({ type: 'error', message: String(err?.message ?? e), stack: err?.stack });
      throw e;
    }
  });
}
