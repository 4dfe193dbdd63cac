/**
 * Levels: a plan's steps grouped so that the steps of one level are independent (they can run between
 * the same two barriers), found from the memory each step reads and writes. An inception block's four
 * branch heads (three 1x1 convolutions and the 3x3 max pool) form one level and its three branch tails
 * the next, so a block costs 2 sync points instead of 7.
 *
 * Hazards are on byte ranges of the arena (the planner reuses dead slots, so two tensors can share bytes
 * at different times): a step depends on every earlier step that writes what it reads or writes, or reads
 * what it writes. Two writes into different channel slices of one concatenated tensor do not conflict.
 * Weights are read-only and scratch is per thread (the steps of a level run one after another on each
 * thread), so neither creates a hazard.
 *
 * Captures: the main thread reads step i's output tensor at the barrier after level captureLevel[i], the
 * last level holding a step (up to i) that writes those bytes. For the plan's capture steps (the last
 * writer of each end point), any later step that overwrites those bytes is pushed past that level, so the
 * main thread sees exactly what it would see after step i run inline. (A stop at any other step still
 * sees every write up to it, but possibly also later writes into the same tensor.)
 */
import type { Plan } from '../plan.js';
import type { Layer } from '../topology.js';
import { tensorBytes } from '../plan.js';
import type { WireProgram, WireStep } from './protocol.js';

interface Access {
  tensor: string;
  start: number;
  end: number;
  /** Channel range touched (a concat slice, or all channels). */
  c0: number;
  c1: number;
}

interface StepAccess {
  reads: Access[];
  /** One per layer the step computes (a fused step writes several tensors). */
  writes: Access[];
}

export interface Program extends WireProgram {
  /** Level after which step i's output may be read by the main thread. */
  captureLevel: number[];
  /** Last level after which it still may: the level before the first later step that overwrites its bytes. */
  captureBy: number[];
}

/**
 * Whether an access of `xs` and one of `ys` share bytes, other than two channel slices of one tensor that
 * do not share channels (`whole`: even those). Plain loops: this runs for every pair of steps (~1700 for
 * googlenet), and the nested closures it was written with before made V8 spend ~50 ms of background
 * compiling on it during a pool's first run, on the cores that run needed.
 */
function touches(xs: Access[], ys: Access[], whole = false): boolean {
  for (let i = 0; i < xs.length; i++) {
    const a = xs[i];
    for (let j = 0; j < ys.length; j++) {
      const b = ys[j];
      if (a.start < b.end && b.start < a.end && (whole || a.tensor !== b.tensor || (a.c0 < b.c1 && b.c0 < a.c1))) return true;
    }
  }
  return false;
}

/** Step x writes bytes of any tensor step y writes (whole tensors, every channel). */
const writesInto = (x: StepAccess, y: StepAccess) => touches(x.writes, y.writes, true);

function accesses(plan: Plan): StepAccess[] {
  const { net, n, offsets } = plan;
  const whole = (name: string): Access => {
    const t = net.tensors.get(name)!;
    const start = offsets.get(name)!;
    return { tensor: name, start, end: start + tensorBytes(t, n), c0: 0, c1: t.c };
  };
  const write = (l: Layer): Access => {
    const out = whole(l.output);
    if (l.kind === 'conv') return { ...out, c0: l.outOffset, c1: l.outOffset + l.cout };
    if (l.kind === 'maxpool' || l.kind === 'avgpool') return { ...out, c0: l.outOffset, c1: l.outOffset + net.tensors.get(l.input)!.c };
    return out;
  };
  return plan.steps.map((s) => {
    const layers = (s.fused ?? [s.layer]).map((i) => net.layers[i]);
    return { reads: layers.map((l) => whole(l.input)), writes: layers.map(write) };
  });
}

export function compileProgram(plan: Plan, id: number): Program {
  const acc = accesses(plan);
  const captured = new Set(plan.captures.map((c) => c.afterStep));
  const level: number[] = [];
  const captureLevel: number[] = [];
  acc.forEach((a, i) => {
    let lv = 0;
    for (let j = 0; j < i; j++) {
      const b = acc[j];
      // Read after write, write after read, write after write.
      if (touches(a.reads, b.writes) || touches(b.reads, a.writes) || touches(a.writes, b.writes)) lv = Math.max(lv, level[j] + 1);
      // The main thread reads the tensors of capture step j after level captureLevel[j]: nothing may
      // overwrite their bytes before that.
      if (captured.has(j) && writesInto(a, b)) lv = Math.max(lv, captureLevel[j] + 1);
    }
    level.push(lv);
    // Step i's tensors are complete once every writer of their bytes up to i has run.
    let cap = lv;
    for (let j = 0; j < i; j++) if (writesInto(acc[j], a)) cap = Math.max(cap, level[j]);
    captureLevel.push(cap);
  });
  const levels: number[][] = [];
  level.forEach((lv, i) => (levels[lv] ??= []).push(i));
  const captureBy = acc.map((a, i) => {
    let by = levels.length - 1;
    for (let k = i + 1; k < acc.length; k++) if (writesInto(acc[k], a)) by = Math.min(by, level[k] - 1);
    return Math.max(by, captureLevel[i]);
  });
  const steps: WireStep[] = plan.steps.map((s) => ({
    fn: s.fn, args: s.args, lo: s.lo, hi: s.hi, total: s.total, align: s.align, scratch: s.scratch,
    lo2: s.lo2, hi2: s.hi2, total2: s.total2, minRows: s.minRows,
  }));
  return { id, steps, levels, captureLevel, captureBy };
}

/**
 * Where the main thread captures the outputs of `wanted` steps: level -> steps, in program order. Each
 * capture may happen after any level from captureLevel (its tensors are complete) to captureBy (nothing
 * has overwritten them yet), so captures share stops: the window that closes first gets a stop as late as
 * it can be, which also serves every other window open then (the fewest stops; the last level's captures
 * need none, they happen at the end of the run). With every end point asked for, inception_v1 stops its
 * workers 7 times instead of 18, googlenet 7 instead of 20.
 */
export function capturePlan(p: Program, wanted: Iterable<number>): Map<number, number[]> {
  const plan = new Map<number, number[]>();
  let stop = -1;
  for (const i of [...wanted].filter((i) => p.captureLevel[i] !== undefined).sort((a, b) => p.captureBy[a] - p.captureBy[b] || a - b)) {
    if (p.captureLevel[i] > stop) stop = p.captureBy[i];
    plan.set(stop, [...(plan.get(stop) ?? []), i]);
  }
  for (const list of plan.values()) list.sort((a, b) => a - b);
  return plan;
}
