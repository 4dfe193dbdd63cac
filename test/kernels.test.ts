// Each kernel family against its plain scalar reference (assembly/*_ref), on random shapes: odd sizes,
// channel counts that are not multiples of 4 or 8, every kernel size / stride / padding both networks
// use, batch > 1, outputs written at a channel offset inside a wider tensor, and work ranges split at
// random points (as threads split them).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileKernels, instantiateKernels, tieringLeftToUs, withEagerCompile, type Kernels } from '../dist/wasm.js';
import { F2_3, F2_5, F4_3, NR, packWeights, packedLength, packWinograd, packWinogradWith, winogradBytes, winogradMatrixBytes, winogradStage } from '../dist/weights.js';
import { winogradTiles } from '../dist/plan.js';
import { mulberry32 as rng } from './helpers/rng.mjs';


class Heap {
  top = 1024;
  constructor(readonly mem: WebAssembly.Memory) {}
  reset() { this.top = 1024; }
  alloc(floats: number): number {
    const p = this.top;
    this.top += Math.ceil((floats * 4 + 64) / 64) * 64;
    if (this.top > this.mem.buffer.byteLength) this.mem.grow(Math.ceil((this.top - this.mem.buffer.byteLength) / 65536));
    return p;
  }
  f32(p: number, n: number) { return new Float32Array(this.mem.buffer, p, n); }
  put(data: Float32Array): number {
    const p = this.alloc(data.length);
    this.f32(p, data.length).set(data);
    return p;
  }
}

const random = (r: () => number, n: number, scale = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);

/** Random partition of [0, total) into ranges whose inner bounds are multiples of `align`. */
function splits(r: () => number, total: number, align: number): Array<[number, number]> {
  const cuts = new Set<number>([0, total]);
  const k = Math.floor(r() * 3);
  for (let i = 0; i < k; i++) cuts.add(Math.min(total, Math.floor((r() * total) / align) * align));
  const c = [...cuts].sort((a, b) => a - b);
  return c.slice(1).map((e, i) => [c[i], e] as [number, number]).filter(([a, b]) => b > a);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 1e-30;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const samePad = (n: number, k: number, s: number) => {
  const out = Math.ceil(n / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + k - n, 0) / 2) };
};
const caffePool = (n: number, k: number, s: number, p: number) => {
  let out = Math.ceil((n + 2 * p - k) / s) + 1;
  if (p > 0 && (out - 1) * s >= n + p) out--;
  return out;
};

interface Flavor { name: string; k: Kernels; heap: Heap; exact: boolean }
const flavors: Flavor[] = [];
for (const flavor of ['simd', 'relaxed'] as const) {
  const km = await compileKernels({ shared: false, flavor: flavor === 'relaxed' ? 'auto' : 'simd' });
  if (km.flavor !== flavor) continue; // relaxed SIMD not available on this engine
  const mem = new WebAssembly.Memory({ initial: 64 });
  // The plain build sums in the reference's order with separate multiply and add: bit-identical.
  // The relaxed build fuses multiply-add (one rounding less): close, not identical.
  flavors.push({ name: flavor, k: instantiateKernels(km.module, mem), heap: new Heap(mem), exact: flavor === 'simd' });
}

describe.each(flavors)('$name kernels', ({ k, heap, exact }) => {
  const close = (got: Float32Array, want: Float32Array, tol: number) => {
    if (exact) expect(Array.from(got)).toEqual(Array.from(want));
    else expect(maxRelDiff(got, want)).toBeLessThan(tol);
  };

  /**
   * pool_ref against maxpool / avgpool run over random row ranges, both writing into outputs filled with 7
   * (elements neither may write stay 7): max pooling exactly equal, average within 1e-6 relative.
   * `g`: oh, ow, the output's pixel stride and channel offset, window, strides and top / left padding.
   */
  const expectPoolAsRef = (
    r: () => number, inp: number, [n, h, w, c]: number[], isMax: number,
    g: { oh: number; ow: number; stride: number; off: number; kh: number; kw: number; sh: number; sw: number; pt: number; pl: number },
  ) => {
    const { oh, ow, stride, off, kh, kw, sh, sw, pt, pl } = g;
    const size = n * oh * ow * stride;
    const outRef = heap.put(new Float32Array(size).fill(7)), out = heap.put(new Float32Array(size).fill(7));
    k.pool_ref(inp, n, h, w, c, outRef, oh, ow, stride, off, kh, kw, sh, sw, pt, pl, isMax);
    for (const [r0, r1] of splits(r, n * oh, 1)) (isMax ? k.maxpool : k.avgpool)(inp, h, w, c, out, oh, ow, stride, off, kh, kw, sh, sw, pt, pl, r0, r1);
    const got = heap.f32(out, size), want = heap.f32(outRef, size);
    if (isMax) expect(Array.from(got)).toEqual(Array.from(want));
    else expect(maxRelDiff(got, want)).toBeLessThan(1e-6);
  };

  it('conv2d (im2col + packed GEMM) equals the direct convolution on random shapes', () => {
    const r = rng(1);
    const shapes: Array<[number, number, number]> = [
      [7, 7, 2], [3, 3, 1], [3, 3, 2], [1, 1, 1], [5, 5, 1], [1, 1, 2], [3, 3, 1], [7, 7, 1], [5, 5, 2],
    ];
    for (let t = 0; t < 60; t++) {
      heap.reset();
      const [kh, kw, s] = shapes[t % shapes.length];
      const n = 1 + Math.floor(r() * 2);
      const h = 1 + 2 * Math.floor(r() * 7) + (t % 2);
      const w = 1 + 2 * Math.floor(r() * 7);
      const c = [1, 3, 5, 8, 13, 16, 19][Math.floor(r() * 7)];
      // Every tail of the 12-channel panels: 1, 4, 5, 8, 9, 11 lanes, none, and more than one panel.
      const couts = [1, 4, 5, 8, 11, 12, 17, 24, 28, 33];
      const cout = couts[Math.floor(r() * couts.length)];
      const caffe = r() < 0.5;
      let oh: number, ow: number, pt: number, pl: number;
      if (caffe) {
        const p = Math.floor(kh / 2) * Math.floor(r() * 2);
        pt = pl = p;
        oh = Math.floor((h + 2 * p - kh) / s) + 1;
        ow = Math.floor((w + 2 * p - kw) / s) + 1;
        if (oh < 1 || ow < 1) continue;
      } else {
        ({ out: oh, pad: pt } = samePad(h, kh, s));
        ({ out: ow, pad: pl } = samePad(w, kw, s));
      }
      const extra = Math.floor(r() * 3) * 4; // concat slice: wider output tensor, channel offset
      const stride = cout + extra + (extra ? 3 : 0);
      const off = extra ? 3 : 0;
      const K = kh * kw * c;
      const x = random(r, n * h * w * c);
      const wt = random(r, K * cout, 0.5);
      const b = random(r, cout);
      const relu = r() < 0.5 ? 1 : 0;
      const inp = heap.put(x);
      const wp = heap.put(wt);
      const bp = heap.put(b);
      const pk = heap.put(packWeights(wt, b, K, cout));
      const outSize = n * oh * ow * stride;
      const outRef = heap.put(new Float32Array(outSize).fill(7));
      const out = heap.put(new Float32Array(outSize).fill(7));
      const scratch = heap.alloc(6 * K);
      k.conv2d_ref(inp, h, w, c, outRef, oh, ow, stride, off, wp, bp, cout, kh, kw, s, s, pt, pl, relu, n);
      const M = n * oh * ow;
      const panels = Math.ceil(cout / NR);
      for (const [m0, m1] of splits(r, M, 4)) {
        for (const [j0, j1] of splits(r, panels, 1)) {
          k.conv2d(inp, h, w, c, out, oh, ow, stride, off, pk, cout, kh, kw, s, s, pt, pl, relu, scratch, m0, m1, j0, j1);
        }
      }
      const got = heap.f32(out, outSize).slice();
      const want = heap.f32(outRef, outSize).slice();
      // Channels outside [off, off + cout) keep the sentinel: the slice write touches nothing else.
      for (let p = 0; p < M; p++) for (let q = 0; q < stride; q++) if (q < off || q >= off + cout) expect(got[p * stride + q]).toBe(7);
      close(got, want, 1e-5);
    }
  });

  it('conv1x1multi (up to three 1x1 convolutions of one input as one GEMM) equals each direct convolution', () => {
    const r = rng(5);
    const couts = [1, 4, 5, 8, 11, 12, 17, 24, 33];
    for (let t = 0; t < 40; t++) {
      heap.reset();
      const n = 1 + Math.floor(r() * 2);
      const h = 1 + Math.floor(r() * 9), w = 1 + Math.floor(r() * 9);
      const c = [1, 3, 5, 8, 13, 16, 19][Math.floor(r() * 7)];
      const M = n * h * w;
      const relu = t % 2;
      const inp = heap.put(random(r, M * c));
      // Two or three convolutions, each into its own tensor (some wider, written at a channel offset).
      const convs = Array.from({ length: 2 + (t % 2) }, () => {
        const cout = couts[Math.floor(r() * couts.length)];
        const off = r() < 0.5 ? 3 : 0;
        const stride = cout + off + Math.floor(r() * 2) * 4;
        const wt = random(r, c * cout, 0.5), b = random(r, cout);
        const wp = heap.put(wt), bp = heap.put(b), pk = heap.put(packWeights(wt, b, c, cout));
        const outRef = heap.put(new Float32Array(M * stride).fill(7));
        const out = heap.put(new Float32Array(M * stride).fill(7));
        k.conv2d_ref(inp, h, w, c, outRef, h, w, stride, off, wp, bp, cout, 1, 1, 1, 1, 0, 0, relu, n);
        return { cout, off, stride, pk, outRef, out };
      });
      const args: number[] = [];
      for (let s = 0; s < 3; s++) {
        const v = convs[s];
        args.push(...(v ? [v.pk, v.cout, v.out + 4 * v.off, v.stride] : [0, 0, 0, 0]));
      }
      const panels = convs.reduce((a, v) => a + Math.ceil(v.cout / NR), 0);
      const scratch = heap.alloc(6 * c);
      for (const [m0, m1] of splits(r, M, 3)) {
        for (const [j0, j1] of splits(r, panels, 1)) k.conv1x1multi(inp, c, relu, scratch, m0, m1, j0, j1, ...args);
      }
      for (const v of convs) {
        const got = heap.f32(v.out, M * v.stride).slice(), want = heap.f32(v.outRef, M * v.stride).slice();
        for (let p = 0; p < M; p++) for (let q = 0; q < v.stride; q++) if (q < v.off || q >= v.off + v.cout) expect(got[p * v.stride + q]).toBe(7);
        close(got, want, 1e-5);
      }
    }
  });

  // F(2x2, 3x3), F(4x4, 3x3) and F(2x2, 5x5) against the direct r x r stride-1 convolution: odd sizes,
  // Caffe pad 0 and TF SAME / Caffe pad (r-1)/2 (the same at stride 1), channel tails, concat slices, random
  // splits of tiles and output panels. The 6-point transforms round more: their bound is 2e-5.
  it.each([
    { v: F2_3, seed: 11, tol: 1e-5 },
    { v: F4_3, seed: 12, tol: 2e-5 },
    { v: F2_5, seed: 13, tol: 2e-5 },
  ] as const)('$v.fn F($v.m x $v.m, $v.r x $v.r) equals the direct stride-1 convolution', ({ v, seed, tol }) => {
    const r = rng(seed);
    const { fn, r: kr, m: tile } = v;
    const a = v.alpha ** 2;
    let worst = 0;
    for (let t = 0; t < 40; t++) {
      heap.reset();
      const n = 1 + Math.floor(r() * 2);
      const h = 1 + Math.floor(r() * 14), w = 1 + Math.floor(r() * 14);
      const c = [1, 3, 4, 5, 8, 13, 16, 32][Math.floor(r() * 8)];
      const cout = [1, 4, 5, 8, 12, 17, 32, 41][Math.floor(r() * 8)];
      const p = t % 3 === 0 ? 0 : (kr - 1) / 2;
      const oh = h + 2 * p - (kr - 1), ow = w + 2 * p - (kr - 1);
      if (oh < 1 || ow < 1) continue;
      const extra = (t % 2) * 5;
      const stride = cout + extra, off = extra ? 2 : 0;
      const x = random(r, n * h * w * c);
      const wt = random(r, kr * kr * c * cout, 0.5);
      const b = random(r, cout);
      const relu = t % 4 < 2 ? 1 : 0;
      const inp = heap.put(x), wp = heap.put(wt), bp = heap.put(b);
      const bytes = winogradBytes(c, cout, v);
      const pk = heap.alloc(bytes / 4);
      packWinograd(wt, b, c, cout, heap.f32(pk, bytes / 4), v);
      const size = n * oh * ow * stride;
      // A guard of `tile` output rows after the tensor, filled with 7 like the output: a tile on the bottom
      // (or right) edge computes pixels past OH x OW and must not store them (they would land in the next
      // tensor of the arena).
      const guard = tile * ow * stride;
      const outRef = heap.put(new Float32Array(size).fill(7));
      const out = heap.put(new Float32Array(size + guard).fill(7));
      const tb = Math.max(1, Math.min(winogradTiles(c, cout, v), 1 + Math.floor(r() * 5)));
      const scratch = heap.alloc(288 + a * tb * (c + cout) + 6 * c + 2 * 36 * 16);
      k.conv2d_ref(inp, h, w, c, outRef, oh, ow, stride, off, wp, bp, cout, kr, kr, 1, 1, p, p, relu, n);
      const tiles = n * Math.ceil(oh / tile) * Math.ceil(ow / tile);
      const mat = winogradMatrixBytes(c, cout);
      // Tile ranges run last first (threads finish them in any order): a stray store into the next
      // image's first rows is not overwritten afterwards by that image's own tiles.
      for (const [t0, t1] of splits(r, tiles, 1).reverse()) {
        for (const [j0, j1] of splits(r, Math.ceil(cout / NR), 1)) {
          k[fn](inp, h, w, c, out, oh, ow, stride, off, pk, mat, pk + a * mat, cout, p, p, relu, scratch, tb, t0, t1, j0, j1);
        }
      }
      const got = heap.f32(out, size).slice(), want = heap.f32(outRef, size).slice();
      expect(Array.from(heap.f32(out + 4 * size, guard)).every((x) => x === 7), 'nothing written past the output tensor').toBe(true);
      for (let q = 0; q < n * oh * ow; q++) for (let j = 0; j < stride; j++) if (j < off || j >= off + cout) expect(got[q * stride + j]).toBe(7);
      const e = maxRelDiff(got, want);
      worst = Math.max(worst, e);
      expect(e).toBeLessThan(tol);
    }
    expect(worst).toBeGreaterThan(0); // really a different algorithm from the reference
  });

  it('packWeights lays out panels of 12 channels, bias first, zero padded', () => {
    const K = 3, cout = 14;
    // w[k][c] = 100 k + c + 1, bias[c] = -(c + 1)
    const w = Float32Array.from({ length: K * cout }, (_, i) => 100 * Math.floor(i / cout) + (i % cout) + 1);
    const b = Float32Array.from({ length: cout }, (_, i) => -(i + 1));
    const p = packWeights(w, b, K, cout);
    expect(NR).toBe(12);
    expect(p.length).toBe(2 * (K + 1) * 12);
    expect(p.length).toBe(packedLength(K, cout));
    expect(Array.from(p.subarray(0, 12))).toEqual([-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12]);
    expect(Array.from(p.subarray(12, 24))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // k = 0, channels 0..11
    expect(Array.from(p.subarray(36, 48))).toEqual([201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212]); // k = 2
    const second = (K + 1) * 12;
    expect(Array.from(p.subarray(second, second + 12))).toEqual([-13, -14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(p.subarray(second + 12, second + 24))).toEqual([13, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('maxpool and avgpool equal the reference for TF SAME, Caffe ceil mode and VALID windows', () => {
    const r = rng(2);
    const cases: Array<[number, number, string]> = [[3, 2, 'same'], [3, 1, 'same'], [2, 2, 'same'], [3, 2, 'caffe0'], [3, 1, 'caffe1'], [7, 1, 'valid'], [3, 2, 'valid'], [2, 1, 'caffe1']];
    for (let t = 0; t < 64; t++) {
      heap.reset();
      const [kk, s, mode] = cases[t % cases.length];
      const n = 1 + Math.floor(r() * 3);
      const h = kk + Math.floor(r() * 12), w = kk + Math.floor(r() * 12);
      const c = [1, 3, 4, 5, 7, 9, 16, 33][Math.floor(r() * 8)];
      let oh: number, ow: number, pt = 0, pl = 0;
      if (mode === 'same') {
        ({ out: oh, pad: pt } = samePad(h, kk, s));
        ({ out: ow, pad: pl } = samePad(w, kk, s));
      } else if (mode === 'valid') {
        oh = Math.floor((h - kk) / s) + 1;
        ow = Math.floor((w - kk) / s) + 1;
      } else {
        const p = Number(mode.slice(5));
        pt = pl = p;
        oh = caffePool(h, kk, s, p);
        ow = caffePool(w, kk, s, p);
      }
      const isMax = mode !== 'valid' || t % 2 === 0 ? 1 : 0;
      const inp = heap.put(random(r, n * h * w * c));
      expectPoolAsRef(r, inp, [n, h, w, c], isMax, { oh, ow, stride: c, off: 0, kh: kk, kw: kk, sh: s, sw: s, pt, pl });
    }
  });

  it('global average pooling (window = whole image) equals the reference', () => {
    const r = rng(3);
    heap.reset();
    const [n, h, w, c] = [2, 5, 9, 1030];
    const inp = heap.put(random(r, n * h * w * c));
    const a = heap.alloc(n * c), b = heap.alloc(n * c);
    k.pool_ref(inp, n, h, w, c, a, 1, 1, c, 0, h, w, 1, 1, 0, 0, 0);
    k.avgpool(inp, h, w, c, b, 1, 1, c, 0, h, w, 1, 1, 0, 0, 0, n);
    expect(maxRelDiff(heap.f32(b, n * c), heap.f32(a, n * c))).toBeLessThan(1e-6);
  });

  it('LRN across channels equals the formula (Caffe: alpha / size, window from c - (size-1)/2; size 5 with beta 0.75, other sizes, even ones too, and betas)', () => {
    const r = rng(4);
    for (const c of [1, 2, 3, 4, 5, 7, 8, 13, 64, 67, 192]) {
      for (const [size, beta, scale] of [[5, 0.75, 30], [5, 0.5, 3], [5, 0.75, 0.1], [3, 0.75, 30], [1, 0.75, 3], [7, 0.6, 30], [2, 0.75, 30], [4, 0.6, 30], [6, 0.75, 3]]) {
        heap.reset();
        const P = 2 * 3 * 5;
        const inp = heap.put(random(r, P * c, scale));
        const a = heap.alloc(P * c), b = heap.alloc(P * c);
        const scratch = heap.alloc(c + size + 4);
        k.lrn_ref(inp, a, c, size, 1e-4, beta, 1, P);
        for (const [p0, p1] of splits(r, P, 1)) k.lrn(inp, b, c, size, 1e-4, beta, 1, p0, p1, scratch);
        expect(maxRelDiff(heap.f32(b, P * c), heap.f32(a, P * c)), `C ${c} size ${size} beta ${beta}`).toBeLessThan(2e-6);
      }
    }
  });

  it('softmax equals the double-precision reference, also for large logits', () => {
    const r = rng(5);
    for (const [L, R, scale] of [[1000, 3, 10], [1001, 2, 100], [1, 4, 5], [7, 5, 1000]]) {
      heap.reset();
      const inp = heap.put(random(r, L * R, scale));
      const a = heap.alloc(L * R), b = heap.alloc(L * R);
      k.softmax_ref(inp, a, L, R);
      k.softmax(inp, b, L, 0, R);
      const got = heap.f32(b, L * R);
      expect(maxRelDiff(got, heap.f32(a, L * R))).toBeLessThan(1e-5);
      for (let i = 0; i < R; i++) expect(got.subarray(i * L, (i + 1) * L).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
  });

  // Beyond what the two networks use (a fourth audit found these combinations untested; they held): kernels
  // of any height and width, unequal strides up to 4, padding chosen per side, row ranges cut anywhere.
  it('conv2d on non-square kernels, unequal strides and padding per side, split at any row', () => {
    const r = rng(21);
    for (let t = 0; t < 80; t++) {
      heap.reset();
      const kh = 1 + Math.floor(r() * 7), kw = 1 + Math.floor(r() * 7);
      const sh = 1 + Math.floor(r() * 4), sw = 1 + Math.floor(r() * 4);
      const pt = Math.floor(r() * kh), pb = Math.floor(r() * kh), pl = Math.floor(r() * kw), pr = Math.floor(r() * kw);
      const n = 1 + Math.floor(r() * 2);
      const h = kh + Math.floor(r() * 11), w = kw + Math.floor(r() * 11);
      const oh = Math.floor((h + pt + pb - kh) / sh) + 1, ow = Math.floor((w + pl + pr - kw) / sw) + 1;
      const c = [1, 2, 3, 5, 9, 16][Math.floor(r() * 6)];
      const cout = [1, 5, 12, 13, 26][Math.floor(r() * 5)];
      const off = t % 2 ? 2 : 0, stride = cout + 2 * off;
      const K = kh * kw * c;
      const wt = random(r, K * cout, 0.5), b = random(r, cout);
      const inp = heap.put(random(r, n * h * w * c)), wp = heap.put(wt), bp = heap.put(b), pk = heap.put(packWeights(wt, b, K, cout));
      const size = n * oh * ow * stride;
      const outRef = heap.put(new Float32Array(size).fill(7)), out = heap.put(new Float32Array(size).fill(7));
      const scratch = heap.alloc(6 * K);
      const relu = t % 3 === 0 ? 1 : 0;
      k.conv2d_ref(inp, h, w, c, outRef, oh, ow, stride, off, wp, bp, cout, kh, kw, sh, sw, pt, pl, relu, n);
      for (const [m0, m1] of splits(r, n * oh * ow, 1)) {
        for (const [j0, j1] of splits(r, Math.ceil(cout / NR), 1)) k.conv2d(inp, h, w, c, out, oh, ow, stride, off, pk, cout, kh, kw, sh, sw, pt, pl, relu, scratch, m0, m1, j0, j1);
      }
      close(heap.f32(out, size).slice(), heap.f32(outRef, size).slice(), 1e-5);
    }
  });

  // A GEMM block of 3 rows may start at the last output pixel of one image and take the first two of the
  // next. With padding only after (top and left 0, bottom 1 or more), the first row's window then reaches
  // past its image's bottom while the other two sit inside theirs: im2col must zero that row, not read the
  // next image's top. Every start row is tried (splits at each row).
  it('conv2d blocks that straddle two images, with padding below only, started at every row', () => {
    const r = rng(28);
    for (const [h, w, kh, kw, s, pb, c, cout] of [[4, 4, 2, 2, 1, 1, 3, 5], [5, 6, 3, 3, 1, 2, 2, 13], [6, 5, 3, 2, 2, 1, 4, 12], [3, 7, 2, 3, 1, 1, 1, 4]]) {
      const n = 2;
      const oh = Math.floor((h + pb - kh) / s) + 1, ow = Math.floor((w - kw) / s) + 1;
      const K = kh * kw * c, M = n * oh * ow;
      heap.reset();
      const wt = random(r, K * cout, 0.5), b = random(r, cout);
      const inp = heap.put(random(r, n * h * w * c)), wp = heap.put(wt), bp = heap.put(b), pk = heap.put(packWeights(wt, b, K, cout));
      const outRef = heap.alloc(M * cout), out = heap.alloc(M * cout), scratch = heap.alloc(6 * K);
      k.conv2d_ref(inp, h, w, c, outRef, oh, ow, cout, 0, wp, bp, cout, kh, kw, s, s, 0, 0, 0, n);
      const want = heap.f32(outRef, M * cout).slice();
      for (let m0 = 1; m0 < M; m0++) {
        heap.f32(out, M * cout).fill(7);
        k.conv2d(inp, h, w, c, out, oh, ow, cout, 0, pk, cout, kh, kw, s, s, 0, 0, 0, scratch, 0, m0, 0, Math.ceil(cout / NR));
        k.conv2d(inp, h, w, c, out, oh, ow, cout, 0, pk, cout, kh, kw, s, s, 0, 0, 0, scratch, m0, M, 0, Math.ceil(cout / NR));
        close(heap.f32(out, M * cout).slice(), want, 1e-5);
      }
    }
  });

  it('conv1x1multi with one convolution, in the first or a later slot', () => {
    const r = rng(22);
    for (let t = 0; t < 12; t++) {
      heap.reset();
      const h = 1 + Math.floor(r() * 7), w = 1 + Math.floor(r() * 7), c = [3, 8, 13][t % 3], cout = [5, 12, 17][Math.floor(r() * 3)];
      const M = h * w;
      const wt = random(r, c * cout, 0.5), b = random(r, cout);
      const inp = heap.put(random(r, M * c)), wp = heap.put(wt), bp = heap.put(b), pk = heap.put(packWeights(wt, b, c, cout));
      const outRef = heap.put(new Float32Array(M * cout)), out = heap.put(new Float32Array(M * cout));
      k.conv2d_ref(inp, h, w, c, outRef, h, w, cout, 0, wp, bp, cout, 1, 1, 1, 1, 0, 0, 1, 1);
      const slot = t % 3;
      const args = Array<number>(12).fill(0);
      args.splice(4 * slot, 4, pk, cout, out, cout);
      const scratch = heap.alloc(6 * c);
      for (const [m0, m1] of splits(r, M, 1)) k.conv1x1multi(inp, c, 1, scratch, m0, m1, 0, Math.ceil(cout / NR), ...args);
      close(heap.f32(out, M * cout).slice(), heap.f32(outRef, M * cout).slice(), 1e-5);
    }
  });

  it.each([
    { v: F2_3, seed: 23, tol: 1e-5 },
    { v: F4_3, seed: 24, tol: 2e-5 },
    { v: F2_5, seed: 25, tol: 2e-5 },
  ] as const)('$v.fn with the blocks the planner picks, padding per side and sizes up to 30', ({ v, seed, tol }) => {
    const r = rng(seed);
    const { fn, r: kr, m: tile } = v;
    const a = v.alpha ** 2;
    for (let t = 0; t < 16; t++) {
      heap.reset();
      const h = 1 + Math.floor(r() * 30), w = 1 + Math.floor(r() * 30);
      const pt = Math.floor(r() * kr), pb = Math.floor(r() * kr), pl = Math.floor(r() * kr), pr = Math.floor(r() * kr);
      const oh = h + pt + pb - (kr - 1), ow = w + pl + pr - (kr - 1);
      if (oh < 1 || ow < 1) continue;
      const c = [3, 16, 32, 48][Math.floor(r() * 4)], cout = [5, 24, 64][Math.floor(r() * 3)];
      const wt = random(r, kr * kr * c * cout, 0.5), b = random(r, cout);
      const inp = heap.put(random(r, h * w * c)), wp = heap.put(wt), bp = heap.put(b);
      const bytes = winogradBytes(c, cout, v);
      const pk = heap.alloc(bytes / 4);
      packWinograd(wt, b, c, cout, heap.f32(pk, bytes / 4), v);
      const size = oh * ow * cout;
      const outRef = heap.alloc(size), out = heap.alloc(size);
      const tb = winogradTiles(c, cout, v);
      const scratch = heap.alloc(288 + a * tb * (c + cout) + 6 * c + 2 * 36 * 16);
      k.conv2d_ref(inp, h, w, c, outRef, oh, ow, cout, 0, wp, bp, cout, kr, kr, 1, 1, pt, pl, 1, 1);
      const tiles = Math.ceil(oh / tile) * Math.ceil(ow / tile), mat = winogradMatrixBytes(c, cout);
      for (const [t0, t1] of splits(r, tiles, 1)) k[fn](inp, h, w, c, out, oh, ow, cout, 0, pk, mat, pk + a * mat, cout, pt, pl, 1, scratch, tb, t0, t1, 0, Math.ceil(cout / NR));
      expect(maxRelDiff(heap.f32(out, size), heap.f32(outRef, size))).toBeLessThan(tol);
    }
  });

  it('maxpool and avgpool on non-square windows, unequal strides up to 3, padding per side, written at a channel offset', () => {
    const r = rng(26);
    for (let t = 0; t < 80; t++) {
      heap.reset();
      const kh = 1 + Math.floor(r() * 4), kw = 1 + Math.floor(r() * 4), sh = 1 + Math.floor(r() * 3), sw = 1 + Math.floor(r() * 3);
      const pt = Math.floor(r() * kh), pb = Math.floor(r() * kh), pl = Math.floor(r() * kw), pr = Math.floor(r() * kw);
      const n = 1 + Math.floor(r() * 2), h = kh + Math.floor(r() * 9), w = kw + Math.floor(r() * 9), c = [1, 4, 5, 9, 16][Math.floor(r() * 5)];
      const oh = Math.floor((h + pt + pb - kh) / sh) + 1, ow = Math.floor((w + pl + pr - kw) / sw) + 1;
      const off = t % 2 ? 3 : 0, stride = c + 2 * off;
      const isMax = t % 2 === 0 ? 1 : 0;
      const inp = heap.put(random(r, n * h * w * c));
      expectPoolAsRef(r, inp, [n, h, w, c], isMax, { oh, ow, stride, off, kh, kw, sh, sw, pt, pl });
    }
  });

  it('softmax over part of the rows, and LRN with other alpha and k, equal their references', () => {
    const r = rng(27);
    heap.reset();
    const [L, R] = [37, 9];
    const inp = heap.put(random(r, L * R, 20));
    const a = heap.alloc(L * R), b = heap.put(new Float32Array(L * R).fill(7));
    k.softmax_ref(inp, a, L, R);
    for (const [r0, r1] of splits(r, R, 1)) k.softmax(inp, b, L, r0, r1);
    expect(maxRelDiff(heap.f32(b, L * R), heap.f32(a, L * R))).toBeLessThan(1e-5);
    for (const [alpha, kk] of [[1e-3, 2], [0.5, 1], [1e-4, 0.5]]) {
      heap.reset();
      const c = 19, P = 11;
      const x = heap.put(random(r, P * c, 5));
      const ref = heap.alloc(P * c), got = heap.alloc(P * c), scratch = heap.alloc(c + 5 + 4);
      k.lrn_ref(x, ref, c, 5, alpha, 0.75, kk, P);
      for (const [p0, p1] of splits(r, P, 1)) k.lrn(x, got, c, 5, alpha, 0.75, kk, p0, p1, scratch);
      expect(maxRelDiff(heap.f32(got, P * c), heap.f32(ref, P * c)), `alpha ${alpha} k ${kk}`).toBeLessThan(2e-6);
    }
  });

  it.each([F2_3, F4_3, F2_5])('winogradWeights ($fn weights, at load) equals its scalar reference and packWinograd bit for bit, and writes nothing else', (v) => {
    const r = rng(90 + v.alpha + v.r);
    const a = v.alpha ** 2;
    for (let t = 0; t < 24; t++) {
      heap.reset();
      const cin = [1, 2, 3, 7, 16, 33][t % 6];
      // Odd counts (the last channel alone in its f64x2), every tail of the 12-channel panels, several panels.
      const cout = [1, 2, 5, 11, 12, 13, 24, 41][Math.floor(r() * 8)];
      const w = random(r, v.r * v.r * cin * cout, t % 3 ? 0.5 : 300);
      const bias = random(r, cout);
      const bytes = winogradBytes(cin, cout, v), mat = winogradMatrixBytes(cin, cout) / 4;
      const want = new Float32Array(bytes / 4);
      packWinograd(w, bias, cin, cout, want, v);
      // The packed weights, a guard after them (stays 7), then the staging area, the weights at its start.
      const out = heap.alloc(bytes / 4 + 16);
      heap.f32(out, bytes / 4 + 16).fill(7);
      const st = winogradStage(cin, cout, v);
      const stage = heap.alloc(st.bytes / 4);
      const staged = heap.f32(stage, w.length);
      staged.set(w);
      packWinogradWith(k, new Float32Array(heap.mem.buffer), staged, bias, cin, cout, out / 4, v);
      expect(Array.from(heap.f32(out, bytes / 4))).toEqual(Array.from(want));
      expect(Array.from(heap.f32(out + bytes, 16))).toEqual(Array.from({ length: 16 }, () => 7));
      // The scalar reference, from the weights and G the kernel was given (where packWinogradWith left them).
      const ref = heap.alloc(bytes / 4);
      heap.f32(ref, bytes / 4).fill(0); // (the kernels leave the bias rows as they find them)
      k.winogradWeights_ref(stage, cin, cout, ref, stage + st.g, v.alpha, v.r, mat, NR, stage + st.tmp);
      expect(Array.from(heap.f32(ref, a * mat))).toEqual(Array.from(want.subarray(0, a * mat)));
    }
  });

  it('allFinite equals the per-value reference: a NaN or infinity anywhere (vector body or tail) is caught', () => {
    const r = rng(6);
    const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1.4e-45, -0, 0];
    const bad = [NaN, Infinity, -Infinity];
    for (let trial = 0; trial < 200; trial++) {
      heap.reset();
      // Lengths around the 8-value vector step and longer, at 4-byte (not 16-byte) aligned starts.
      const n = trial < 20 ? trial : 1 + Math.floor(r() * 300);
      const data = random(r, n, 1e30);
      for (let i = 0; i < n; i++) if (r() < 0.05) data[i] = extremes[Math.floor(r() * extremes.length)];
      const nBad = trial % 3 === 0 ? 0 : 1 + Math.floor(r() * 2);
      for (let j = 0; j < nBad && n > 0; j++) data[Math.floor(r() * n)] = bad[Math.floor(r() * bad.length)];
      const p = heap.alloc(n + 1) + 4 * Math.floor(r() * 4);
      heap.f32(p, n).set(data);
      const want = data.every((x) => Number.isFinite(x)) ? 1 : 0;
      expect(k.allFinite_ref(p, n)).toBe(want);
      expect(k.allFinite(p, n)).toBe(want);
    }
    // Each position of a 37-value run: the vector body's lanes and the scalar tail.
    for (let at = 0; at < 37; at++) {
      heap.reset();
      const p = heap.put(new Float32Array(37).fill(1));
      heap.f32(p, 37)[at] = at % 2 ? Infinity : NaN;
      expect(k.allFinite(p, 37)).toBe(0);
    }
  });
});

describe('kernel modules', () => {
  it('hold no data segments and no globals, so workers can share one memory', () => {
    for (const f of ['kernels', 'kernels.shared', 'kernels.relaxed', 'kernels.relaxed.shared']) {
      const bytes = readFileSync(new URL(`../build/${f}.wasm`, import.meta.url));
      const sections: number[] = [];
      let p = 8;
      while (p < bytes.length) {
        const id = bytes[p++];
        let size = 0, shift = 0, b: number;
        do { b = bytes[p++]; size |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
        sections.push(id);
        p += size;
      }
      expect(sections).not.toContain(11); // data
      expect(sections).not.toContain(6); // global
      expect(sections).not.toContain(5); // own memory: it is imported
    }
  });

  it("compile with V8's lazy compilation and dynamic tiering off, and set them back once no compile is running (also after a failure)", async () => {
    const set: string[] = [];
    const flag = (f: string) => set.push(f);
    const OFF = ['--no-wasm-lazy-compilation', '--no-wasm-dynamic-tiering'];
    const ON = ['--wasm-lazy-compilation', '--wasm-dynamic-tiering'];
    let release!: () => void;
    const first = withEagerCompile(flag, () => new Promise<string>((r) => (release = () => r('a'))));
    expect(set).toEqual(OFF);
    // A second compile meanwhile shares the switch: the flags go back only after the last one.
    const second = withEagerCompile(flag, async () => 'b');
    expect(await second).toBe('b');
    expect(set).toEqual(OFF);
    release();
    expect(await first).toBe('a');
    expect(set).toEqual([...OFF, ...ON]);
    await expect(withEagerCompile(flag, async () => { throw new Error('bad module'); })).rejects.toThrow('bad module');
    expect(set).toEqual([...OFF, ...ON, ...OFF, ...ON]);
    // No setter (not Node, or the process chose its own tiering): the compile just runs.
    expect(await withEagerCompile(undefined, async () => 'c')).toBe('c');
    // A setter that throws (a V8 refusing flags at run time) does not fail the compile.
    expect(await withEagerCompile(() => { throw new Error('frozen'); }, async () => 'd')).toBe('d');
    expect(set).toHaveLength(8);
  });

  it('leave the tiering flags alone when the process was started with one of them (command line or NODE_OPTIONS, - or _)', () => {
    expect(tieringLeftToUs({ execArgv: [], env: {} })).toBe(true);
    expect(tieringLeftToUs({ execArgv: ['--expose-gc'], env: { NODE_OPTIONS: '--max-old-space-size=4096' } })).toBe(true);
    expect(tieringLeftToUs({ execArgv: ['--no-liftoff'], env: {} })).toBe(false);
    expect(tieringLeftToUs({ execArgv: ['--wasm-dynamic-tiering'], env: {} })).toBe(false);
    expect(tieringLeftToUs({ execArgv: [], env: { NODE_OPTIONS: '--no-wasm_lazy_compilation' } })).toBe(false);
    expect(tieringLeftToUs({ execArgv: ['--wasm_tier_up'] })).toBe(false);
  });
});
