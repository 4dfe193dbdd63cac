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

/** The slowest core's rate as a percentage of the fastest's: the median over samples taken between rounds. */
export const slowestRateMedian = (samples) => stats(samples.map(slowestPct)).median;

/** One line for short samples taken between rounds: medians over them, and the worst. */
export function machineSummary(samples) {
  const lost = samples.map((x) => Math.max(...x.map((c) => c.lostPct)));
  const slow = samples.map(slowestPct);
  return `the most a core lost: median ${stats(lost).median.toFixed(1)} % (worst ${Math.max(...lost).toFixed(1)} %); the slowest core's rate: median ${slowestRateMedian(samples).toFixed(0)} % of the fastest's (worst ${Math.min(...slow).toFixed(0)} %), over ${samples.length} samples`;
}
