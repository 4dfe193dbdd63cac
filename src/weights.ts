/**
 * Weights: which tensors each network needs, their validation, batch-norm folding and packing into the
 * GEMM micro-kernel's panel layout (see assembly/gemm.ts); the Winograd layers' transform runs in the
 * kernels (assembly/wpack.ts).
 *
 * inception_v1 takes TF-slim variable names: `<scope>/weights` HWIO [kh, kw, cin, cout] and
 * `<scope>/BatchNorm/{beta,moving_mean,moving_variance}` (no scale, epsilon 0.001), or `<scope>/biases`
 * for the logits. googlenet takes Caffe layer names: `<layer>/weight` OHWI [cout, kh, kw, cin] (the
 * classifier also [cout, cin]) and `<layer>/bias`.
 */
import { InputError, WeightsError } from './errors.js';
import { firstNonFinite, type Tensor } from './safetensors.js';
import type { ConvLayer, Network } from './topology.js';
import type { Kernels } from './wasm.js';

export const BN_EPSILON = 0.001;
/** Output channels per packed panel (the micro-kernel's NR). */
export const NR = 12;

/** Bytes rounded up to whole 64-byte lines (every packed block, tensor and scratch area starts on one). */
export const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

export interface WeightSpec {
  name: string;
  shape: number[];
}

/** The tensors a layer reads, with their expected shapes. */
export function layerWeightSpec(net: Network, l: ConvLayer): WeightSpec[] {
  if (net.model === 'inception_v1') {
    const w = { name: `${l.scope}/weights`, shape: [l.kh, l.kw, l.cin, l.cout] };
    if (!l.batchNorm) return [w, { name: `${l.scope}/biases`, shape: [l.cout] }];
    return [w, ...['beta', 'moving_mean', 'moving_variance'].map((v) => ({ name: `${l.scope}/BatchNorm/${v}`, shape: [l.cout] }))];
  }
  return [{ name: `${l.scope}/weight`, shape: [l.cout, l.kh, l.kw, l.cin] }, { name: `${l.scope}/bias`, shape: [l.cout] }];
}

/** Every tensor the network needs, in layer order. */
export function weightSpec(net: Network): WeightSpec[] {
  if (!Array.isArray(net?.layers)) throw new InputError('weightSpec takes a network made by buildNetwork');
  return net.layers.flatMap((l) => (l.kind === 'conv' ? layerWeightSpec(net, l) : []));
}

/**
 * Tensors a caller passed as a Map (loadModel's weights), checked as a safetensors file is when parsed:
 * each a Float32Array of finite values whose length is its shape's product, so that a bad entry is refused
 * by name instead of computing from the wrong numbers.
 */
export function checkTensorMap(tensors: Map<unknown, unknown>): Map<string, Tensor> {
  for (const [name, t] of tensors) {
    if (typeof name !== 'string') throw new WeightsError(`weights: tensor names must be strings, got ${typeof name}`);
    const { shape, data } = (t ?? {}) as Partial<Tensor>;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new WeightsError(`weights: tensor "${name}" needs a shape array of whole numbers, got ${JSON.stringify(shape) ?? String(shape)}`);
    }
    if (!(data instanceof Float32Array)) throw new WeightsError(`weights: tensor "${name}" needs its data as a Float32Array`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new WeightsError(`weights: tensor "${name}" has ${data.length} values, its shape [${shape}] needs ${size}`);
    const i = firstNonFinite(data);
    if (i >= 0) throw new WeightsError(`weights: tensor "${name}" holds a non-finite value (${data[i]}) at element ${i}`);
  }
  return tensors as Map<string, Tensor>;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

function take(tensors: Map<string, Tensor>, spec: WeightSpec, fcAlias: boolean): Float32Array {
  const t = tensors.get(spec.name);
  if (!t) throw new WeightsError(`weights: missing tensor "${spec.name}" (expected shape [${spec.shape}])`);
  if (!sameShape(t.shape, spec.shape)) {
    // A fully connected layer stored as [cout, cin] is the same data as [cout, 1, 1, cin].
    const fc = fcAlias && spec.shape.length === 4 && spec.shape[1] === 1 && spec.shape[2] === 1 && sameShape(t.shape, [spec.shape[0], spec.shape[3]]);
    if (!fc) throw new WeightsError(`weights: tensor "${spec.name}" has shape [${t.shape}], expected [${spec.shape}]`);
  }
  return t.data;
}

/**
 * Check that `tensors` holds exactly what the network needs: a missing or mis-shaped tensor is an error,
 * and so is one the model does not know (`allowed` lists the names of the full network, so weights for
 * layers past a finalEndpoint, or for the logits when numClasses is 0, are not "extra").
 */
export function checkWeights(tensors: Map<string, Tensor>, required: WeightSpec[], allowed: Set<string>): void {
  for (const s of required) take(tensors, s, true);
  for (const name of tensors.keys()) {
    if (!allowed.has(name)) throw new WeightsError(`weights: unexpected tensor "${name}": the model has no such variable`);
  }
}

/**
 * HWIO weights [K][cout] and a bias for one conv layer, batch norm folded in (computed in double). The
 * weights go into `into` (at least K x cout floats) when given: loadModel reuses one buffer for all layers.
 */
export function convWeights(net: Network, l: ConvLayer, tensors: Map<string, Tensor>, into?: Float32Array): { w: Float32Array; bias: Float32Array } {
  const spec = layerWeightSpec(net, l);
  const K = l.kh * l.kw * l.cin;
  const raw = take(tensors, spec[0], true);
  const w = into ? into.subarray(0, K * l.cout) : new Float32Array(K * l.cout);
  if (net.model === 'inception_v1') {
    w.set(raw);
  } else {
    // OHWI → HWIO.
    for (let o = 0; o < l.cout; o++) for (let k = 0; k < K; k++) w[k * l.cout + o] = raw[o * K + k];
  }
  let bias: Float32Array;
  if (l.batchNorm) {
    const [beta, mean, variance] = spec.slice(1).map((s) => take(tensors, s, false));
    bias = new Float32Array(l.cout);
    const scale = new Float64Array(l.cout);
    for (let o = 0; o < l.cout; o++) {
      if (!(variance[o] + BN_EPSILON > 0)) throw new WeightsError(`weights: "${spec[3].name}"[${o}] = ${variance[o]} makes the batch norm undefined`);
      scale[o] = 1 / Math.sqrt(variance[o] + BN_EPSILON);
      bias[o] = beta[o] - mean[o] * scale[o];
    }
    for (let k = 0; k < K; k++) for (let o = 0; o < l.cout; o++) w[k * l.cout + o] = w[k * l.cout + o] * scale[o];
  } else {
    bias = new Float32Array(take(tensors, spec[1], false));
  }
  return { w, bias };
}

/** Floats in the packed form of a K x cout weight matrix: per panel of NR channels, NR biases then K rows. */
export function packedLength(K: number, cout: number): number {
  return Math.ceil(cout / NR) * (K + 1) * NR;
}

/** Where packWeights puts row k, output channel co of a K x cout matrix (its panel, after the bias row). */
const packedIndex = (k: number, co: number, K: number): number => Math.floor(co / NR) * (K + 1) * NR + (k + 1) * NR + (co % NR);

/** Pack HWIO weights [K][cout] and bias into panels of NR output channels, bias first, zero padded. */
export function packWeights(w: Float32Array, bias: Float32Array, K: number, cout: number, out: Float32Array = new Float32Array(packedLength(K, cout))): Float32Array {
  const panels = Math.ceil(cout / NR);
  out.fill(0);
  for (let j = 0; j < panels; j++) {
    const base = j * (K + 1) * NR;
    const n = Math.min(NR, cout - j * NR);
    for (let c = 0; c < n; c++) out[base + c] = bias[j * NR + c];
    for (let k = 0; k < K; k++) {
      const row = base + (k + 1) * NR;
      for (let c = 0; c < n; c++) out[row + c] = w[k * cout + j * NR + c];
    }
  }
  return out;
}

/** A Winograd algorithm F(m x m, r x r): its kernel, output tile m, filter size r, alpha = m + r - 1 points. */
export interface Winograd {
  fn: 'winograd3x3' | 'winograd4x4' | 'winograd5x5';
  m: 2 | 4;
  r: 3 | 5;
  alpha: 4 | 6;
}
/** F(2x2, 3x3) (assembly/winograd.ts), F(4x4, 3x3) and F(2x2, 5x5) (assembly/winograd4.ts). */
export const F2_3: Winograd = { fn: 'winograd3x3', m: 2, r: 3, alpha: 4 };
export const F4_3: Winograd = { fn: 'winograd4x4', m: 4, r: 3, alpha: 6 };
export const F2_5: Winograd = { fn: 'winograd5x5', m: 2, r: 5, alpha: 6 };

/**
 * The Winograd algorithm a convolution runs as, for a layout's tile choice (4: F(4x4, 3x3), 2: F(2x2, 3x3),
 * 0: none), or undefined (im2col + GEMM). Stride-1 5x5 convolutions take F(2x2, 5x5) unless Winograd is off.
 */
export function winogradFor(l: { kh: number; kw: number; stride: number }, tile: 0 | WinogradTile): Winograd | undefined {
  if (!tile || l.stride !== 1 || l.kh !== l.kw) return undefined;
  if (l.kh === 3) return tile === 2 ? F2_3 : F4_3;
  return l.kh === 5 ? F2_5 : undefined;
}

/** Bytes of one of the alpha^2 packed Winograd matrices (K = cin), 64-byte aligned. */
export function winogradMatrixBytes(cin: number, cout: number): number {
  return align64(packedLength(cin, cout) * 4);
}

/** G row by row (alpha rows of r), for F(2x2, 3x3). */
const G2 = Float64Array.of(1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1);
/** G on the points 0, 1, -1, 2, -2 (rows c_p [1 p p^2 ...], c_p = 1/4, -1/6, -1/6, 1/24, 1/24) and inf. */
const g6 = (r: number) => Float64Array.from([
  ...[0, 1, -1, 2, -2].flatMap((p, i) => Array.from({ length: r }, (_, e) => [1 / 4, -1 / 6, -1 / 6, 1 / 24, 1 / 24][i] * p ** e)),
  ...Array.from({ length: r }, (_, e) => (e === r - 1 ? 1 : 0)),
]);
const G4 = g6(3);
const G5 = g6(5);

/** The layout's Winograd tile for 3x3 convolutions: F(2x2, 3x3) (16 matrices) or F(4x4, 3x3) (36 matrices). */
export type WinogradTile = 2 | 4;

/** Bytes of a Winograd layer's weights: alpha^2 packed matrices, then the bias. */
export function winogradBytes(cin: number, cout: number, v: Winograd): number {
  return v.alpha ** 2 * winogradMatrixBytes(cin, cout) + align64(cout * 4);
}

/** G of an algorithm, row by row (alpha rows of r). */
const gOf = (v: Winograd): Float64Array => (v.alpha === 4 ? G2 : v.r === 3 ? G4 : G5);

/**
 * U = G g G^T for every (cin, cout) of HWIO r x r weights, packed as alpha^2 GEMM matrices [cin][cout]
 * with zero bias, followed by the bias, into `out` (a Float32Array view of winogradBytes(cin, cout, v)
 * bytes). Computed in double. F(2x2, 3x3): G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; F(4x4, 3x3) and
 * F(2x2, 5x5): Lavin's points 0, 1, -1, 2, -2, inf. The JavaScript form of the winogradWeights kernel
 * (assembly/wpack.ts), which loadModel runs: the same floats (tested). The kernel took 0.64 ms where this
 * took 5.6 (`npm run bench:kernels`, 96 -> 208), and 2.4x less than this loop with its r = 3 sums written
 * out, which loadModel ran before.
 */
export function packWinograd(w: Float32Array, bias: Float32Array, cin: number, cout: number, out: Float32Array, v: Winograd): void {
  const G = gOf(v);
  const { alpha: a, r } = v;
  const mat = winogradMatrixBytes(cin, cout) / 4;
  // Each U[xi] goes straight to its packed place (packWeights' layout: panels of NR channels, a zero bias
  // row, then the cin rows), zero padded.
  out.fill(0, 0, a * a * mat);
  const g = new Float64Array(r * r);
  const tmp = new Float64Array(a * r);
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co++) {
      for (let k = 0; k < r * r; k++) g[k] = w[(k * cin + ci) * cout + co];
      // tmp = G g (a x r)
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < r; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += G[i * r + k] * g[k * r + j];
          tmp[i * r + j] = s;
        }
      }
      // U = tmp G^T (a x a)
      const at = packedIndex(ci, co, cin);
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < a; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += tmp[i * r + k] * G[j * r + k];
          out[(i * a + j) * mat + at] = s;
        }
      }
    }
  }
  out.set(bias, a * a * mat);
}

/**
 * What the winogradWeights kernel uses from the start of the f32 weights it reads: G at byte `g`, its
 * scratch at byte `tmp`, `bytes` in all.
 */
export function winogradStage(cin: number, cout: number, v: Winograd): { g: number; tmp: number; bytes: number } {
  const g = align64(v.r * v.r * cin * cout * 4);
  const tmp = g + align64(v.alpha * v.r * 8);
  return { g, tmp, bytes: tmp + align64((v.alpha * v.r + v.r * v.r) * 16) };
}

/**
 * packWinograd on the kernels (winogradWeights), into the Wasm memory that `heap` views, at float index
 * `at`. The kernel reads the weights where they are: `w` must be a view of that memory, 64-byte aligned,
 * with winogradStage(cin, cout, v).bytes free from its start (G and the kernel's scratch go right after them).
 */
export function packWinogradWith(k: Kernels, heap: Float32Array, w: Float32Array, bias: Float32Array, cin: number, cout: number, at: number, v: Winograd): void {
  const { alpha: a, r } = v;
  if (w.buffer !== heap.buffer || w.byteOffset % 64 !== 0) throw new Error('packWinogradWith: the weights must be a 64-byte aligned view of the Wasm memory');
  const mat = winogradMatrixBytes(cin, cout) / 4;
  const { g, tmp } = winogradStage(cin, cout, v);
  new Float64Array(heap.buffer, w.byteOffset + g, a * r).set(gOf(v));
  heap.fill(0, at, at + winogradBytes(cin, cout, v) / 4);
  k.winogradWeights(w.byteOffset, cin, cout, at * 4, w.byteOffset + g, a, r, mat, NR, w.byteOffset + tmp);
  heap.set(bias, at + a * a * mat);
}

/** Bytes of one convolution's weights as packed for its algorithm (Winograd tile 2 or 4, or 0 for GEMM), 64-aligned. */
export function convWeightBytes(l: ConvLayer, tile: 0 | WinogradTile): number {
  const v = winogradFor(l, tile);
  if (v) return winogradBytes(l.cin, l.cout, v);
  return align64(packedLength(l.kh * l.kw * l.cin, l.cout) * 4);
}

/**
 * Pack one convolution's HWIO weights `w` and bias for its algorithm into the Wasm memory `heap` views, at
 * float index `at` (convWeightBytes(l, tile) bytes): a Winograd layer on the kernels `k` (`w` then a view of
 * that memory: packWinogradWith), a GEMM layer here.
 */
export function packConvWeights(l: ConvLayer, w: Float32Array, bias: Float32Array, tile: 0 | WinogradTile, k: Kernels, heap: Float32Array, at: number): void {
  const v = winogradFor(l, tile);
  if (v) packWinogradWith(k, heap, w, bias, l.cin, l.cout, at, v);
  else packWeights(w, bias, l.kh * l.kw * l.cin, l.cout, heap.subarray(at, at + convWeightBytes(l, tile) / 4));
}

/**
 * Bytes of Wasm memory loadModel stages each layer's HWIO weights in (convWeights' `into`), the most any
 * layer of `convs` needs: its weights, and for a Winograd layer the kernel's G and scratch after them.
 */
export function packStageBytes(convs: ConvLayer[], tile: 0 | WinogradTile): number {
  let most = 0;
  for (const l of convs) {
    const v = winogradFor(l, tile);
    most = Math.max(most, v ? winogradStage(l.cin, l.cout, v).bytes : l.kh * l.kw * l.cin * l.cout * 4);
  }
  return most;
}
