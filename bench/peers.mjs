// Side-by-side benchmark: the same TF-slim inception_v1 graph with the same seeded random weights,
// 224x224 batch 1, on
//   googlenet-wasm (this package)            threads 1, 2
//   @tensorflow/tfjs-backend-wasm (XNNPACK)  threads 1, 2   (worker thread per configuration)
//   onnxruntime-web, wasm EP                 numThreads 1, 2 (worker thread per configuration)
//   onnxruntime-node, native CPU EP          intraOpNumThreads 1, 2
// The ONNX model is built here (bench/peers/onnx.mjs); the tfjs graph is bench/peers/tfjs.mjs.
//
// The runners are interleaved: each round times one inference of every runner (the starting runner
// rotates from round to round), so load changes on the machine hit all of them alike. Before timing,
// every peer's outputs are checked once against googlenet-wasm's (top-1 and max |diff| of the
// probabilities and logits).
//
//   node bench/peers.mjs [--json] [--rounds 25] [--warmup 3] [--gap 100 (ms between inferences)]
//                        [--only ours,tfjs-wasm,ort-web,ort-node] [--threads 1,2]
// Progress goes to stderr; with --json, stdout holds the JSON object alone. A runner that cannot be set
// up is reported as not run, and makes the exit code 1, as does a runner that disagrees with googlenet-wasm.
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { loadModel } from '../dist/index.js';
import { benchArgs, randomInceptionWeights, randomInput, stats } from './common.mjs';
import { inceptionV1Onnx } from './peers/onnx.mjs';
import { createOrtNode } from './peers/ort-node.mjs';
import { packageVersion } from './peers/version.mjs';

const require = createRequire(import.meta.url);
const RUNNERS = ['ours', 'tfjs-wasm', 'ort-web', 'ort-node'];
const USAGE = `usage: node bench/peers.mjs [--rounds N] [--warmup N] [--gap MS] [--only L] [--threads L] [--json]   (npm run bench:peers -- ...)
  --rounds N    timed rounds, each one inference of every runner, 1 to 100000 (default 25)
  --warmup N    untimed rounds first, 0 to 100000 (default 3)
  --gap MS      pause before each inference in ms, 0 to 60000 (default 100)
  --only L      runners separated by commas, of ${RUNNERS.join(', ')} (default all)
  --threads L   thread counts separated by commas, each 1 to 64 (default 1,2)
  --json        one JSON object on stdout: { meta, rounds, warmup, gapMs, relTolerance, reference, agreement, results }`;
const args = benchArgs('bench/peers.mjs', USAGE, {
  json: { type: 'boolean' },
  rounds: { type: 'string' },
  warmup: { type: 'string' },
  only: { type: 'string' },
  threads: { type: 'string' },
  gap: { type: 'string' },
});
const { values } = args;
const rounds = args.int('rounds', 25, 1, 100000);
const warmup = args.int('warmup', 3, 0, 100000);
const kinds = args.someOf('only', RUNNERS, RUNNERS);
const gap = args.int('gap', 100, 0, 60000);
const threadList = args.ints('threads', [1, 2], 1, 64);
const log = (...a) => console.error(...a);

const REL_TOL = 1e-4;

// ---------------------------------------------------------------------------------------------------
// Runners: { name, kind, threads, info, run() → ms, outputs() → { logits, predictions }, dispose() }

async function oursRunner(threads, { weights, input }) {
  const m = await loadModel({ model: 'inception_v1', weights, threads });
  return {
    info: { threads: m.info.threads, kernels: m.info.kernels, version: require('../package.json').version },
    async run() {
      const t = performance.now();
      await m.run(input);
      return performance.now() - t;
    },
    async outputs() {
      const o = await m.run(input, { endpoints: ['Logits', 'Predictions'] });
      return { logits: o.Logits.data, predictions: o.Predictions.data };
    },
    dispose: () => m.dispose(),
  };
}

async function ortNodeRunner(threads, shared) {
  const r = await createOrtNode({ ...shared, threads });
  return {
    info: r.info,
    async run() {
      const t = performance.now();
      await r.run();
      return performance.now() - t;
    },
    outputs: () => r.outputs(),
    dispose: () => r.dispose(),
  };
}

/** A peer in its own worker thread; it times its inferences itself. */
function workerRunner(kind) {
  return (threads, { weights, onnx, input }) =>
    new Promise((resolveInit, rejectInit) => {
      const worker = new Worker(new URL('./peers/worker.mjs', import.meta.url), {
        workerData: { kind, threads, input, weights: kind === 'tfjs-wasm' ? weights : undefined, onnx: kind === 'ort-web' ? onnx : undefined },
      });
      let pending = null;
      const request = (type, expect) =>
        new Promise((resolve, reject) => {
          pending = { expect, resolve, reject };
          worker.postMessage({ type });
        });
      const fail = (err) => {
        if (pending) pending.reject(err);
        else rejectInit(err);
        pending = null;
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`${kind} worker exited (${code})`)));
      worker.on('message', (m) => {
        if (m.type === 'error') return fail(new Error(m.message));
        if (m.type === 'ready') {
          return resolveInit({
            info: m.info,
            run: () => request('run', 'ran').then((r) => r.ms),
            outputs: () => request('outputs', 'outputs').then((r) => r.outputs),
            async dispose() {
              await request('dispose', 'disposed').catch(() => {});
              worker.removeAllListeners('exit');
              await worker.terminate();
            },
          });
        }
        if (pending && m.type === pending.expect) {
          const p = pending;
          pending = null;
          p.resolve(m);
        }
      });
    });
}

const ENGINES = {
  ours: { label: 'googlenet-wasm', version: () => require('../package.json').version, create: oursRunner },
  'tfjs-wasm': { label: 'tfjs-backend-wasm', version: () => packageVersion('@tensorflow/tfjs-backend-wasm'), create: workerRunner('tfjs-wasm') },
  'ort-web': { label: 'onnxruntime-web wasm', version: () => packageVersion('onnxruntime-web'), create: workerRunner('ort-web') },
  'ort-node': { label: 'onnxruntime-node cpu', version: () => packageVersion('onnxruntime-node'), create: ortNodeRunner },
};

// ---------------------------------------------------------------------------------------------------

function compare(ref, out) {
  const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);
  const diff = (a, b) => {
    if (!a || !b || a.length !== b.length) return null;
    let d = 0;
    let m = 0;
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      m = Math.max(m, Math.abs(a[i]));
    }
    return { maxAbs: d, rel: d / m };
  };
  const top1 = argmax(out.predictions);
  return { top1, top1Equal: top1 === argmax(ref.predictions), probs: diff(ref.predictions, out.predictions), logits: diff(ref.logits, out.logits) };
}

const CLK_TCK = 100; // USER_HZ: /proc/<pid>/task/<tid>/stat counts CPU time in 1/100 s

/** CPU ms per OS thread of this process (Linux /proc; null elsewhere). */
function threadCpu() {
  try {
    const out = new Map();
    for (const t of fs.readdirSync('/proc/self/task')) {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(t, ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    }
    return out;
  } catch {
    return null;
  }
}

/** How many OS threads each did at least 20% of the wall time of CPU work during `n` inferences. */
async function busyThreads(runner, n = 3) {
  const before = threadCpu();
  if (!before) return null;
  const t = performance.now();
  for (let i = 0; i < n; i++) await runner.run();
  const wall = performance.now() - t;
  let busy = 0;
  for (const [tid, ms] of threadCpu()) if (ms - (before.get(tid) ?? 0) >= 0.2 * wall) busy++;
  return busy;
}

async function idleCores(ms = 500) {
  await new Promise((r) => setTimeout(r, 200));
  const c = process.cpuUsage();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000 / (performance.now() - t);
}

const meta = {
  date: new Date().toISOString(),
  cpu: os.cpus()[0]?.model,
  cores: os.availableParallelism(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  loadavgStart: os.loadavg().map((x) => +x.toFixed(2)),
};
log(`inception_v1 224x224 batch 1 — googlenet-wasm and peers, interleaved`);
log(`${meta.cpu}, ${meta.cores} cores, Node ${meta.node}, ${meta.platform}, ${meta.date}`);

const weights = randomInceptionWeights(1);
const input = randomInput(1, 224, 224, 7);
const onnx = kinds.includes('ort-web') || kinds.includes('ort-node') ? inceptionV1Onnx(weights) : undefined;
const shared = { weights, input, onnx };
if (onnx) log(`ONNX model: ${(onnx.length / 1e6).toFixed(1)} MB, opset 13, built by bench/peers/onnx.mjs`);

const runners = [];
for (const kind of kinds) {
  const engine = ENGINES[kind];
  for (const threads of threadList) {
    const r = { kind, name: `${engine.label} ${engine.version()}`, threads };
    const t = performance.now();
    try {
      Object.assign(r, await engine.create(threads, shared));
      r.setupMs = performance.now() - t;
      log(`  ready: ${r.name}, ${threads} thread(s) (${(r.setupMs / 1000).toFixed(1)} s) ${JSON.stringify(r.info)}`);
    } catch (e) {
      r.error = String(e?.message ?? e).split('\n')[0];
      log(`  FAILED: ${r.name}, ${threads} thread(s): ${r.error}`);
    }
    runners.push(r);
  }
}
const live = runners.filter((r) => !r.error);

// Agreement, once, against googlenet-wasm with the fewest threads.
const ref = live.find((r) => r.kind === 'ours');
let refOut = null;
const agreement = [];
if (ref) {
  refOut = await ref.outputs();
  for (const r of live) {
    if (r === ref) continue;
    try {
      const c = compare(refOut, await r.outputs());
      // Logits: REL_TOL relative to the largest |logit|. Probabilities: REL_TOL relative to the largest
      // probability, plus what the logit difference explains through the softmax (|dp_i| <= 2 p_i max|dz|
      // to first order; these random weights give logits of a few hundred, so float32 rounding of the
      // logits alone moves the probabilities by ~1e-5).
      const pmax = Math.max(...refOut.predictions);
      c.probTolerance = REL_TOL * pmax + 2 * pmax * (c.logits?.maxAbs ?? 0);
      c.ok = c.top1Equal && c.probs.maxAbs <= c.probTolerance && (!c.logits || c.logits.rel <= REL_TOL);
      agreement.push({ name: r.name, threads: r.threads, ...c });
    } catch (e) {
      agreement.push({ name: r.name, threads: r.threads, error: String(e?.message ?? e) });
    }
  }
}
meta.idleCoresBusy = +(await idleCores()).toFixed(3);

// Interleaved timing: warm-up rounds (V8 tiers the Wasm code up in background threads meanwhile), then
// timed rounds; the starting runner rotates each round. A short pause before each inference lets the
// previous runner's thread pool stop spinning (ORT's pools spin for ~50 ms after a 2-thread run).
const pause = () => new Promise((r) => setTimeout(r, gap));
const samples = live.map(() => []);
for (let round = -warmup; round < rounds; round++) {
  if (round === 0) {
    // Once warm: which threads really work (2-thread configurations must show 2).
    for (const r of live) {
      await pause();
      r.busyThreads = await busyThreads(r);
    }
  }
  for (let k = 0; k < live.length; k++) {
    const i = (k + Math.max(round, 0)) % live.length;
    await pause();
    const ms = await live[i].run();
    if (round >= 0) samples[i].push(ms);
  }
}
meta.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));

const results = runners.map((r) => {
  const i = live.indexOf(r);
  return { kind: r.kind, name: r.name, threads: r.threads, info: r.info, busyThreads: r.busyThreads, setupMs: r.setupMs, error: r.error, ...(i >= 0 ? { ms: stats(samples[i]), samples: samples[i].map((x) => +x.toFixed(2)) } : {}) };
});
const oursMedian = (threads) => results.find((r) => r.kind === 'ours' && r.threads === threads && r.ms)?.ms.median;
// Per-round (paired) ratio: robust to load changes that hit both runners of a round.
const oursSamples = (threads) => results.find((r) => r.kind === 'ours' && r.threads === threads && r.ms)?.samples;
for (const r of results) {
  if (!r.ms) continue;
  r.ratio = {};
  r.pairedRatio = {};
  for (const t of threadList) {
    const m = oursMedian(t);
    if (m) r.ratio[`ours${t}`] = r.ms.median / m;
    const o = oursSamples(t);
    if (o) r.pairedRatio[`ours${t}`] = stats(r.samples.map((x, j) => x / o[j])).median;
  }
}

// Tear down.
for (const r of live) await r.dispose().catch(() => {});

const flagged = agreement.filter((a) => !a.ok);
if (values.json) {
  console.log(JSON.stringify({ meta, rounds, warmup, gapMs: gap, relTolerance: REL_TOL, reference: ref ? { name: ref.name, threads: ref.threads } : null, agreement, results }, null, 2));
} else {
  const f = (x, d = 1) => (x == null ? '—' : x.toFixed(d));
  const e = (x) => (x == null ? '—' : x.toExponential(1));
  console.log(`\ninception_v1 224x224 batch 1 — ${meta.cpu}, ${meta.cores} cores, Node ${meta.node}, ${meta.platform}`);
  console.log(`${meta.date}; ${rounds} interleaved rounds after ${warmup} warm-up, ${gap} ms pause before each inference; load average (1/5/15 min) ${meta.loadavgStart.join('/')} at start, ${meta.loadavgEnd.join('/')} at end; idle runners use ${f(meta.idleCoresBusy, 2)} cores`);
  console.log('busy = OS threads that each did >= 20% of the wall time in CPU work over 3 inferences (threads really used)');
  console.log(`ratio = runner median / googlenet-wasm median (> 1: slower than googlenet-wasm); paired ratios (median of per-round ratios) in --json\n`);
  console.log('ms/image = the median over the rounds, in ms; p10-p90 in ms');
  const head = `${'runner'.padEnd(30)} ${'threads'.padStart(7)} ${'busy'.padStart(4)} ${'ms/image'.padStart(9)} ${'p10-p90'.padStart(13)}  ${threadList.map((t) => `vs ours ${t}t`.padStart(10)).join(' ')}`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const r of results) {
    const name = r.name.padEnd(30);
    if (r.error) {
      console.log(`${name} ${String(r.threads).padStart(7)}  not run: ${r.error}`);
      continue;
    }
    const ratios = threadList.map((t) => (r.ratio[`ours${t}`] == null ? '—' : `${f(r.ratio[`ours${t}`], 2)}x`).padStart(10)).join(' ');
    console.log(`${name} ${String(r.threads).padStart(7)} ${String(r.busyThreads ?? '?').padStart(4)} ${f(r.ms.median).padStart(9)} ${`${f(r.ms.p10)}-${f(r.ms.p90)}`.padStart(13)}  ${ratios}`);
  }
  if (ref) {
    const rtop = compare(refOut, refOut).top1;
    console.log(`\nagreement with ${ref.name}, ${ref.threads} thread(s) (top-1 class ${rtop}, p = ${f(refOut.predictions[rtop], 4)}; tolerance ${REL_TOL} relative to the largest |value|, for probabilities plus 2·p·max|Δlogit|):`);
    console.log(`${'runner'.padEnd(30)} ${'threads'.padStart(7)}  top-1  ${'max|Δp|'.padStart(8)} ${'rel'.padStart(8)}  ${'max|Δlogit|'.padStart(11)} ${'rel'.padStart(8)}`);
    for (const a of agreement) {
      if (a.error) {
        console.log(`${a.name.padEnd(30)} ${String(a.threads).padStart(7)}  error: ${a.error}`);
        continue;
      }
      console.log(
        `${a.name.padEnd(30)} ${String(a.threads).padStart(7)}  ${(a.top1Equal ? 'same' : `DIFF ${a.top1}`).padEnd(5)}  ${e(a.probs.maxAbs).padStart(8)} ${e(a.probs.rel).padStart(8)}  ${e(a.logits?.maxAbs).padStart(11)} ${e(a.logits?.rel).padStart(8)}${a.ok ? '' : '   <-- MISMATCH'}`,
      );
    }
  }
}
if (flagged.length) {
  console.error(`\n!!! ${flagged.length} runner(s) DISAGREE with googlenet-wasm beyond ${REL_TOL} relative or on top-1: ${flagged.map((a) => `${a.name} ${a.threads}t`).join(', ')}.`);
  console.error('!!! That means the graphs differ (a porting mistake), not a speed issue: the timings above are not comparable.');
  process.exitCode = 1;
}
if (runners.some((r) => r.error)) process.exitCode = 1;
// Emscripten pthread pools and native thread pools may keep handles alive; the work is done.
setTimeout(() => process.exit(process.exitCode ?? 0), 50);
