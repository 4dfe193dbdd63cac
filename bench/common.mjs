// Helpers shared by the benchmarks. The seeded random tensors and the order statistics are the package's
// own (src/bench.ts, also behind `googlenet bench`), so that both time the same thing.
export { INPUT_SCALE, randomInceptionWeights, randomInput, rng, stats } from '../dist/bench.js';
import { stats } from '../dist/bench.js';
import { parseArgs } from 'node:util';
import { joinNegativeValues } from '../dist/cli.js';

/**
 * A benchmark's command line: parseArgs (strict, no positionals) with `--help` (prints `usage`, exit 0).
 * A mistake (an unknown flag, a value missing, not a number or out of range, a name not in the list) is
 * one line on stderr naming the flag and what it got, and exit code 2, before anything starts (no model,
 * no worker): a benchmark run with NaN rounds or 0 threads printed NaN or "error" rows and exited 0.
 * A negative number after a flag is its value (`--runs -1` gets the range message).
 * Returns the values and checkers: int(name, default, min, max), ints(name, default list, min, max) for
 * "1,2" (duplicates dropped), oneOf(name, default, allowed), someOf(name, default list, allowed) for
 * "a,b", and fail(message).
 */
export function benchArgs(script, usage, options) {
  const fail = (message) => {
    process.stderr.write(`${script}: ${message} (--help lists the options)\n`);
    process.exit(2);
  };
  options = { ...options, help: { type: 'boolean', short: 'h' } };
  const args = joinNegativeValues(process.argv.slice(2), options);
  let values;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    fail(String(e.message).split('\n')[0]);
  }
  if (values.help) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    process.exit(0);
  }
  const whole = (name, text, min, max) => {
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) fail(`--${name} must be a whole number in decimal digits, got ${JSON.stringify(text)}`);
    const n = Number(text);
    if (n < min || n > max) fail(`--${name} must be from ${min} to ${max}, got ${n}`);
    return n;
  };
  const list = (name) => {
    const items = values[name].split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) fail(`--${name} takes a list separated by commas, got ${JSON.stringify(values[name])}`);
    return [...new Set(items)];
  };
  return {
    values,
    fail,
    int: (name, def, min, max) => (values[name] === undefined ? def : whole(name, values[name], min, max)),
    ints: (name, def, min, max) => (values[name] === undefined ? def : list(name).map((s) => whole(name, s, min, max))),
    oneOf(name, def, allowed) {
      const v = values[name] ?? def;
      if (!allowed.includes(v)) fail(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
      return v;
    },
    someOf(name, def, allowed) {
      if (values[name] === undefined) return def;
      const items = list(name);
      const bad = items.filter((s) => !allowed.includes(s));
      if (bad.length) fail(`--${name}: unknown ${bad.map((s) => JSON.stringify(s)).join(', ')} (one or more of ${allowed.join(', ')})`);
      return items;
    },
  };
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
 *
 * roundTrip() (two threads or more): the nanoseconds a cache line takes to go from one thread to another
 * and back (the first two threads: one writes a word, the other answers in another line), the median of
 * up to 20 batches of 50 round trips in at most 20 ms; undefined with one thread, or if they did not both run at once.
 * It tells where the host put the two virtual cores: measured here 80-140 ns most of the time, and
 * 480-540 ns in phases of seconds to minutes, in which two threads ran inception_v1 ~10 % slower
 * (16.7 against 15.3 ms) and one thread no slower (a 5-minute log of 6-round windows: the 69 windows
 * under 1.8x had a median round trip of 524 ns, the 378 at 1.85x or more 109 ns). Every line that one
 * thread writes and the other reads then crosses that distance (the rows where the threads' shares of a
 * level meet, an inception block's concatenated output). Probes of bulk traffic ran within ~10 % of
 * their near times there (both threads reading the same 24 MB, each its own, 2 MB the other had just
 * written), and in the slow windows of other logs a loop of arithmetic on each core, or each streaming
 * its own 48 MB, ran as fast on both at once as alone: see README, Performance.
 */
export async function machineProbe(threads = 2) {
  const { Worker } = await import('node:worker_threads');
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const line = new Int32Array(workerData);
    parentPort.on('message', (m) => {
      if (typeof m === 'object') {
        parentPort.postMessage(m.ping ? ping(m.n) : pong());
        return;
      }
      const ms = m;
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
    });
    // Word 0 (the ping) and word 16 (the answer) are a cache line apart; -1 ends the answering thread.
    const LIMIT_MS = 20;
    function ping(n) {
      const times = [];
      const end = performance.now() + LIMIT_MS;
      for (let i = 1; i <= n && performance.now() < end; ) {
        // Timed in batches of 50 (a timer read costs about half a near round trip).
        const t = performance.now();
        const last = i + 50;
        for (; i < last; i++) {
          Atomics.store(line, 0, i);
          while (Atomics.load(line, 16) !== i && performance.now() < end) {}
        }
        if (Atomics.load(line, 16) === last - 1) times.push((performance.now() - t) / 50);
      }
      Atomics.store(line, 0, -1);
      return times;
    }
    function pong() {
      const end = performance.now() + 5 * LIMIT_MS;
      let seen = 0;
      while (performance.now() < end) {
        const v = Atomics.load(line, 0);
        if (v === -1) break;
        if (v !== seen) Atomics.store(line, 16, (seen = v));
      }
      return [];
    }`;
  const line = new Int32Array(new SharedArrayBuffer(128));
  const workers = Array.from({ length: threads }, () => new Worker(src, { eval: true, workerData: line.buffer }));
  const ask = (w, m) => new Promise((resolve, reject) => {
    const fail = (e) => reject(e);
    w.once('error', fail);
    w.once('message', (r) => (w.off('error', fail), resolve(r)));
    w.postMessage(m);
  });
  return {
    sample: (ms) => Promise.all(workers.map((w) => ask(w, ms))),
    roundTrip: async () => {
      if (threads < 2) return undefined;
      Atomics.store(line, 0, 0);
      Atomics.store(line, 16, 0);
      // The answering thread first, so that it is running when the pings start.
      const answered = ask(workers[1], { ping: false });
      const [times] = await Promise.all([ask(workers[0], { ping: true, n: 1000 }), answered]);
      return times.length >= 3 ? stats(times).median * 1e6 : undefined;
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/** Round trips (ns) over this are the host's far placement of the two cores (see machineProbe). */
export const FAR_NS = 250;

/** The slowest thread's loop rate as a percentage of the fastest's, in one sample. */
const slowestPct = (sample) => (100 * Math.min(...sample.map((c) => c.rate))) / Math.max(...sample.map((c) => c.rate));

/** One line for a sample of machineProbe. */
export function machineLine(sample) {
  return `cores lost ${sample.map((c) => c.lostPct.toFixed(1)).join(' / ')} % of their time; the slowest ran at ${slowestPct(sample).toFixed(0)} % of the fastest's rate`;
}

/** The slowest core's rate as a percentage of the fastest's: the median over samples taken between rounds. */
export const slowestRateMedian = (samples) => stats(samples.map(slowestPct)).median;

/** One line for short samples taken between rounds: medians over them, and the worst. */
export function machineSummary(samples) {
  const lost = samples.map((x) => Math.max(...x.map((c) => c.lostPct)));
  const slow = samples.map(slowestPct);
  return `the most a core lost: median ${stats(lost).median.toFixed(1)} % (worst ${Math.max(...lost).toFixed(1)} %); the slowest core's rate: median ${slowestRateMedian(samples).toFixed(0)} % of the fastest's (worst ${Math.min(...slow).toFixed(0)} %), over ${samples.length} samples`;
}
