// Per-kernel benchmarks (benny): GFLOP/s of the GEMM micro-kernel, im2col, convolution by layer shape
// (im2col + GEMM and Winograd), pooling and LRN, against the machine's measured Wasm SIMD peak
// (bench/peak.ts: independent multiply-add chains), for the kernels build in use ('relaxed' where the
// engine runs relaxed SIMD, else 'simd'; `--kernels simd` forces the plain build). GFLOP/s and ms per call
// are benny's mean over its samples.
import b from 'benny';
import asc from 'assemblyscript/asc';
import { compileKernels, instantiateKernels } from '../dist/wasm.js';
import { F2_3, F4_3, NR, packWeights, packWinograd, packWinogradWith, winogradBytes, winogradMatrixBytes, winogradStage } from '../dist/weights.js';
import { WINOGRAD_FLOATS, winogradTiles } from '../dist/plan.js';
import { benchArgs, stats } from './common.mjs';

const USAGE = `usage: node bench/kernels.mjs [--kernels auto|simd|relaxed] [--quick]   (npm run bench:kernels -- ...)
  --kernels K   the kernels build: auto (default: relaxed where the engine runs relaxed SIMD), simd or relaxed
  --quick       0.2-0.5 s per case instead of 1-2 s`;
const args = benchArgs('bench/kernels.mjs', USAGE, { kernels: { type: 'string' }, quick: { type: 'boolean' } });
const { values } = args;
const km = await compileKernels({ shared: false, flavor: args.oneOf('kernels', 'auto', ['auto', 'simd', 'relaxed']) });
const relaxed = km.flavor === 'relaxed';
const mem = new WebAssembly.Memory({ initial: 2048 });
const k = instantiateKernels(km.module, mem);
const heap = new Float32Array(mem.buffer);
for (let i = 0; i < heap.length; i++) heap[i] = Math.random() - 0.5;
let top = 4096;
const alloc = (floats) => { const p = top; top += Math.ceil((floats * 4 + 64) / 64) * 64; return p; };

// The peak kernel, compiled like the kernels.
const { binary, error, stderr } = await asc.compileString({ 'peak.ts': (await import('node:fs')).readFileSync(new URL('./peak.ts', import.meta.url), 'utf8') },
  { optimizeLevel: 3, runtime: 'stub', noAssert: true, initialMemory: 1, enable: relaxed ? ['simd', 'relaxed-simd'] : ['simd'], use: ['abort='] });
if (error) throw new Error(`asc: ${stderr}`);
const peakMod = (await WebAssembly.instantiate(binary, {})).instance.exports;
const peakIters = 200000;
let best = 0;
for (let r = 0; r < 30; r++) {
  const t = performance.now();
  peakMod.peak(peakIters, 1024);
  best = Math.max(best, (peakIters * 96) / (performance.now() - t) / 1e6);
}
const PEAK = best;
console.log(`kernels: ${km.flavor}; measured Wasm SIMD peak: ${PEAK.toFixed(1)} GFLOP/s per core (best of 30)`);

const results = [];
const suite = (name, cases) => b.suite(
  name,
  ...cases.map(([label, fn]) => b.add(label, fn)),
  b.cycle((res) => {
    const c = cases.find(([label]) => label === res.name);
    const gflops = (res.ops * c[2]) / 1e9;
    results.push({ suite: name, case: res.name, gflops, ofPeak: gflops / PEAK, ms: 1000 / res.ops });
  }),
  b.configure({ minSamples: 5, cases: { minTime: values.quick ? 0.2 : 1, maxTime: values.quick ? 0.5 : 2 } }),
);

// GEMM micro-kernel on the shapes of Mixed_4b (14x14 = 196 rows): its 1x1 convolutions and the
// Winograd GEMMs of its 3x3 branch (tiles 49 per block, K = 96).
const gemmCase = (label, rows, K, cout) => {
  const A = alloc(rows * K), P = alloc(Math.ceil(cout / NR) * (K + 1) * NR), O = alloc(rows * cout), pack = alloc(6 * K);
  return [label, () => k.gemm(A, K, rows, K, P, cout, 0, Math.ceil(cout / NR), O, cout, 1, pack), 2 * rows * K * cout];
};
const gemmCases = [
  gemmCase('1x1 480->192 (Branch_0)', 196, 480, 192),
  gemmCase('1x1 480->96 (Branch_1 reduce)', 196, 480, 96),
  gemmCase('1x1 480->64 (Branch_3)', 196, 480, 64),
  gemmCase('Winograd GEMM 49x96 -> 208', 49, 96, 208),
];
await suite('GEMM micro-kernel, Mixed_4b shapes', gemmCases);

// The same GEMMs against the peak measured just before each call: this machine's speed drifts by 20-40 %
// over minutes, so a ratio to a peak taken at another moment mixes two speeds. Median of 61 pairs.
const paired = gemmCases.map(([label, fn, flops]) => {
  const ratios = [];
  for (let r = 0; r < 63; r++) {
    let t = performance.now();
    peakMod.peak(peakIters, 1024);
    const p = (peakIters * 96) / (performance.now() - t);
    t = performance.now();
    fn();
    const g = flops / (performance.now() - t);
    if (r >= 2) ratios.push(g / p);
  }
  return { label, ...stats(ratios) };
});

// Convolution by layer shape: [label, H, W, C, Cout, k, stride].
const convShapes = [
  ['Conv2d_1a_7x7 224 7x7/2 3->64', 224, 224, 3, 64, 7, 2],
  ['Conv2d_2c_3x3 56 3x3 64->192', 56, 56, 64, 192, 3, 1],
  ['Mixed_3c 3x3 28 128->192', 28, 28, 128, 192, 3, 1],
  ['Mixed_4f 3x3 14 160->320', 14, 14, 160, 320, 3, 1],
  ['Mixed_5c 3x3 7 192->384', 7, 7, 192, 384, 3, 1],
  ['Mixed_4b 1x1 14 480->192', 14, 14, 480, 192, 1, 1],
];
const convCases = [];
for (const [label, H, W, C, Cout, kk, s] of convShapes) {
  const OH = Math.ceil(H / s), OW = Math.ceil(W / s);
  const pad = Math.floor(Math.max((OH - 1) * s + kk - H, 0) / 2);
  const K = kk * kk * C;
  const inp = alloc(H * W * C), out = alloc(OH * OW * Cout);
  const w = new Float32Array(K * Cout).map(() => Math.random() - 0.5), bias = new Float32Array(Cout);
  const pk = alloc(Math.ceil(Cout / NR) * (K + 1) * NR);
  packWeights(w, bias, K, Cout, heap.subarray(pk / 4));
  const scratch = alloc(Math.max(6 * K, 288 + WINOGRAD_FLOATS + 6 * C));
  const flops = 2 * OH * OW * Cout * K;
  convCases.push([`${label} im2col+GEMM`, () => k.conv2d(inp, H, W, C, out, OH, OW, Cout, 0, pk, Cout, kk, kk, s, s, pad, pad, 1, scratch, 0, OH * OW, 0, Math.ceil(Cout / NR)), flops]);
  if (kk === 3 && s === 1) {
    const wp = alloc(winogradBytes(C, Cout, F2_3) / 4);
    packWinograd(w, bias, C, Cout, heap.subarray(wp / 4, wp / 4 + winogradBytes(C, Cout, F2_3) / 4), F2_3);
    const mat = winogradMatrixBytes(C, Cout), tiles = Math.ceil(OH / 2) * Math.ceil(OW / 2);
    // Counted as the direct convolution's flops: "effective" GFLOP/s.
    convCases.push([`${label} Winograd F2 (effective)`, () => k.winograd3x3(inp, H, W, C, out, OH, OW, Cout, 0, wp, mat, wp + 16 * mat, Cout, 1, 1, 1, scratch, winogradTiles(C, Cout, F2_3), 0, tiles, 0, Math.ceil(Cout / NR)), flops]);
    const wp4 = alloc(winogradBytes(C, Cout, F4_3) / 4);
    packWinograd(w, bias, C, Cout, heap.subarray(wp4 / 4, wp4 / 4 + winogradBytes(C, Cout, F4_3) / 4), F4_3);
    const tiles4 = Math.ceil(OH / 4) * Math.ceil(OW / 4);
    convCases.push([`${label} Winograd F4 (effective)`, () => k.winograd4x4(inp, H, W, C, out, OH, OW, Cout, 0, wp4, mat, wp4 + 36 * mat, Cout, 1, 1, 1, scratch, winogradTiles(C, Cout, F4_3), 0, tiles4, 0, Math.ceil(Cout / NR)), flops]);
  }
  if (kk > 1) {
    const dst = alloc(3 * K), M = OH * OW;
    convCases.push([`${label} im2col only (into packed rows)`, () => {
      for (let m = 0; m < M; m += 3) k.im2colPacked(inp, H, W, C, OH, OW, kk, kk, s, s, pad, pad, m, Math.min(3, M - m), dst);
    }, 0]);
  }
}
await suite('Convolution by layer shape', convCases);

const poolCases = [];
{
  const [H, W, C] = [112, 112, 64];
  const inp = alloc(H * W * C), out = alloc(56 * 56 * C);
  poolCases.push(['maxpool 3x3/2 112x112x64', () => k.maxpool(inp, H, W, C, out, 56, 56, C, 0, 3, 3, 2, 2, 0, 0, 0, 56), 56 * 56 * C * 9]);
  const i2 = alloc(28 * 28 * 256), o2 = alloc(28 * 28 * 256);
  poolCases.push(['maxpool 3x3/1 28x28x256 (inception)', () => k.maxpool(i2, 28, 28, 256, o2, 28, 28, 256, 0, 3, 3, 1, 1, 1, 1, 0, 28), 28 * 28 * 256 * 9]);
  const i3 = alloc(7 * 7 * 1024), o3 = alloc(1024);
  poolCases.push(['avgpool 7x7 7x7x1024', () => k.avgpool(i3, 7, 7, 1024, o3, 1, 1, 1024, 0, 7, 7, 1, 1, 0, 0, 0, 1), 49 * 1024]);
  const i4 = alloc(56 * 56 * 192), o4 = alloc(56 * 56 * 192), sc = alloc(1024);
  poolCases.push(['LRN 56x56x192', () => k.lrn(i4, o4, 192, 5, 1e-4, 0.75, 1, 0, 56 * 56, sc), 56 * 56 * 192 * 12]);
}
await suite('Pooling and LRN (flops: one per window element; LRN ~12 per value)', poolCases);

// The Winograd weight transform at load (F(4x4, 3x3), Mixed_4b's 3x3 branch 96 -> 208): the kernel against
// its JavaScript form. Flops: two multiply-adds per term of G g (alpha x 3 x 3) and of tmp G^T (alpha^2 x 3).
const packCases = [];
{
  const [C, Cout] = [96, 208];
  const w = Float32Array.from({ length: 9 * C * Cout }, () => Math.random() - 0.5), bias = new Float32Array(Cout);
  const bytes = winogradBytes(C, Cout, F4_3);
  const out = alloc(bytes / 4), stage = alloc(winogradStage(C, Cout, F4_3).bytes / 4);
  const staged = heap.subarray(stage / 4, stage / 4 + w.length);
  staged.set(w);
  const js = new Float32Array(bytes / 4);
  const flops = 2 * C * Cout * (6 * 3 * 3 + 36 * 3);
  packCases.push(['winogradWeights 96 -> 208 (kernel)', () => packWinogradWith(k, heap, staged, bias, C, Cout, out / 4, F4_3), flops]);
  packCases.push(['packWinograd 96 -> 208 (JavaScript)', () => packWinograd(w, bias, C, Cout, js, F4_3), flops]);
}
await suite('Winograd weights at load (f64)', packCases);

let last = '';
const width = Math.max(...results.map((r) => r.case.length));
console.log(`\n${''.padEnd(width + 2)}  GFLOP/s  % of peak  ms/call   (benny's mean)`);
for (const r of results) {
  if (r.suite !== last) console.log((last = r.suite));
  const g = r.gflops ? r.gflops.toFixed(1).padStart(7) : '      -';
  const p = r.gflops ? `${(100 * r.ofPeak).toFixed(0).padStart(7)} %` : '         ';
  console.log(`  ${r.case.padEnd(width)}  ${g}  ${p}  ${r.ms.toFixed(3).padStart(7)}`);
}
console.log('GEMM against the peak measured right before each call (median of 61 pairs, p10-p90)');
for (const r of paired) console.log(`  ${r.label.padEnd(width)}  ${(100 * r.median).toFixed(0).padStart(7)} %  (${(100 * r.p10).toFixed(0)}-${(100 * r.p90).toFixed(0)} %)`);
