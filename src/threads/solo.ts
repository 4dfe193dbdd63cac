/**
 * When the calling thread should run a program alone instead of with the workers: while other work holds
 * the cores. A pool run is a chain of barriers, and a thread that the OS deschedules (another process
 * wants the core) holds every level it is in up until it runs again; measured here with one busy process
 * beside it, inception_v1 224 took 32 ms on two threads (2-20 barrier waits per run outlasted the spin,
 * median 12) against 29.5 ms on one. With nothing else running, 0 or 1 such wait in most runs.
 *
 * Per program (its runs compare by time): two pool runs in a row held up (`heldUp`: a sixth of the levels'
 * waits or more outlasted the spin, at least SOLO_STALLS) make the next run a solo try. One such run is not
 * enough, nor are 3 waits in 28: with nothing else running but the VM's host in a noisy phase, 5 of 300
 * googlenet runs had 3 or 4, twice in a row once (and a bench run went solo once with the first rule, 3 in
 * two runs in a row); beside a busy process 36 of 40 runs had 5 or more. The first pool run after solo
 * ones also wakes a worker that has slept, which this VM's scheduler first puts on the calling thread's
 * core. If that try is faster than the pool run before it, the program's runs stay solo for SOLO_HOLD_MS,
 * then pool runs try the workers again (and, still held up, lead to another try). A try that loses is not
 * repeated for PROBE_BACKOFF_MS. Which thread computes what never changes a value: solo runs give the
 * same bits as pool runs.
 */

/** Fewest barrier waits of one pool run that outlast the calling thread's spin to count it held up. */
export const SOLO_STALLS = 3;
/** Pool runs in a row held up that lead to a solo try. */
export const STALLED_RUNS = 2;
/** How long a program's runs stay solo after a solo try beat the pool. */
export const SOLO_HOLD_MS = 1000;
/** After a solo try that lost, how long before another. */
export const PROBE_BACKOFF_MS = 2000;
/** Programs tracked (the least recently run are forgotten). */
const TRACKED = 32;

/**
 * Whether a pool run of a program of `levels` levels was held up: `stalls` of its barrier waits outlasted
 * the spin (the other thread was late), a sixth of the levels or more and at least SOLO_STALLS (28 levels:
 * 5).
 */
export function heldUp(stalls: number, levels: number): boolean {
  return stalls >= Math.max(SOLO_STALLS, Math.ceil(levels / 6));
}

interface Track {
  /** Pool runs in a row held up (heldUp). */
  stalled: number;
  /** The next run is a solo try. */
  probe: boolean;
  /** The last pool run's time (ms). */
  poolMs: number;
  /** Runs are solo until then. */
  soloUntil: number;
  /** No solo try before then. */
  noProbeUntil: number;
}

export class SoloPolicy {
  private readonly tracks = new Map<number, Track>();

  /** Whether program `id`'s next run (at time `now`, ms) should be solo. */
  solo(id: number, now: number): boolean {
    const t = this.tracks.get(id);
    return !!t && (t.probe || now < t.soloUntil);
  }

  /** Note a run of program `id` that took `ms`: solo or not, and for a pool run whether it was held up (heldUp). */
  record(id: number, solo: boolean, ms: number, held: boolean, now: number): void {
    let t = this.tracks.get(id);
    if (t) {
      this.tracks.delete(id);
    } else {
      t = { stalled: 0, probe: false, poolMs: Infinity, soloUntil: -Infinity, noProbeUntil: -Infinity };
      if (this.tracks.size >= TRACKED) this.tracks.delete(this.tracks.keys().next().value!);
    }
    this.tracks.set(id, t);
    if (solo) {
      t.stalled = 0;
      if (!t.probe) return;
      t.probe = false;
      if (ms < t.poolMs) t.soloUntil = now + SOLO_HOLD_MS;
      else t.noProbeUntil = now + PROBE_BACKOFF_MS;
      return;
    }
    t.poolMs = ms;
    t.stalled = held ? t.stalled + 1 : 0;
    t.probe = t.stalled >= STALLED_RUNS && now >= t.noProbeUntil;
  }
}
