/**
 * Weights: which tensors each network needs, their validation, batch-norm folding and packing into the
 * GEMM micro-kernel's panel layout (see assembly/gemm.ts).
 *
 * inception_v1 takes TF-slim variable names: `<scope>/weights` HWIO [kh, kw, cin, cout] and
 * `<scope>/BatchNorm/{beta,moving_mean,moving_variance}` (no scale, epsilon 0.001), or `<scope>/biases`
 * for the logits. googlenet takes Caffe layer names: `<layer>/weight` OHWI [cout, kh, kw, cin] (the
 * classifier also [cout, cin]) and `<layer>/bias`.
 */
import { WeightsError } from './errors.js';
import type { Tensor } from './safetensors.js';
import type { ConvLayer, Network } from './topology.js';

export const BN_EPSILON = 0.001;
/** Output channels per packed panel (the micro-kernel's NR). */
export const NR = 12;

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
  return net.layers.flatMap((l) => (l.kind === 'conv' ? layerWeightSpec(net, l) : []));
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

/** HWIO weights [K][cout] and a bias for one conv layer, batch norm folded in (computed in double). */
export function convWeights(net: Network, l: ConvLayer, tensors: Map<string, Tensor>): { w: Float32Array; bias: Float32Array } {
  const spec = layerWeightSpec(net, l);
  const K = l.kh * l.kw * l.cin;
  const raw = take(tensors, spec[0], true);
  let w: Float32Array;
  if (net.model === 'inception_v1') {
    w = new Float32Array(raw);
  } else {
    // OHWI → HWIO.
    w = new Float32Array(K * l.cout);
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

/** Stride-1 3x3 convolutions run as Winograd F(2x2, 3x3) (see assembly/winograd.ts). */
export function usesWinograd(l: { kh: number; kw: number; stride: number }, enabled = true): boolean {
  return enabled && l.kh === 3 && l.kw === 3 && l.stride === 1;
}

/** Bytes of one of the 16 packed Winograd matrices (K = cin), 64-byte aligned. */
export function winogradMatrixBytes(cin: number, cout: number): number {
  return Math.ceil((packedLength(cin, cout) * 4) / 64) * 64;
}

const G2 = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
const G4 = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]];

/** Winograd tile variants: F(2x2, 3x3) (16 matrices) and F(4x4, 3x3) (36 matrices). */
export type WinogradTile = 2 | 4;

/** Bytes of a Winograd layer's weights: (tile+2)^2 packed matrices, then the bias. */
export function winogradBytes(cin: number, cout: number, tile: WinogradTile = 2): number {
  return (tile + 2) ** 2 * winogradMatrixBytes(cin, cout) + Math.ceil((cout * 4) / 64) * 64;
}

/**
 * U = G g G^T for every (cin, cout) of HWIO 3x3 weights, packed as (tile+2)^2 GEMM matrices [cin][cout]
 * with zero bias, followed by the bias, into `out` (a Float32Array view of winogradBytes(cin, cout, tile)
 * bytes). Computed in double. F(2x2): G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; F(4x4): Lavin's
 * points 0, -1, 1, -2, 2, inf.
 */
export function packWinograd(w: Float32Array, bias: Float32Array, cin: number, cout: number, out: Float32Array, tile: WinogradTile = 2): void {
  const G = tile === 2 ? G2 : G4;
  const a = tile + 2;
  const U = Array.from({ length: a * a }, () => new Float32Array(cin * cout));
  const g = new Float64Array(9);
  const tmp = new Float64Array(a * 3);
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co++) {
      for (let k = 0; k < 9; k++) g[k] = w[(k * cin + ci) * cout + co];
      // tmp = G g (a x 3)
      for (let i = 0; i < a; i++) for (let j = 0; j < 3; j++) tmp[i * 3 + j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
      // U = tmp G^T (a x a)
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < a; j++) {
          U[i * a + j][ci * cout + co] = tmp[i * 3] * G[j][0] + tmp[i * 3 + 1] * G[j][1] + tmp[i * 3 + 2] * G[j][2];
        }
      }
    }
  }
  const mat = winogradMatrixBytes(cin, cout) / 4;
  const zero = new Float32Array(cout);
  for (let xi = 0; xi < a * a; xi++) packWeights(U[xi], zero, cin, cout, out.subarray(xi * mat, xi * mat + packedLength(cin, cout)));
  out.set(bias, a * a * mat);
}

/** Bytes of one convolution's weights as packed for its algorithm (Winograd tile 2 or 4, or 0 for GEMM), 64-aligned. */
export function convWeightBytes(l: ConvLayer, tile: 0 | WinogradTile): number {
  if (tile && usesWinograd(l)) return winogradBytes(l.cin, l.cout, tile);
  return Math.ceil((packedLength(l.kh * l.kw * l.cin, l.cout) * 4) / 64) * 64;
}

/** Pack one convolution's HWIO weights and bias for its algorithm into `out` (convWeightBytes(l, tile) bytes). */
export function packConvWeights(l: ConvLayer, w: Float32Array, bias: Float32Array, tile: 0 | WinogradTile, out: Float32Array): void {
  if (tile && usesWinograd(l)) packWinograd(w, bias, l.cin, l.cout, out, tile);
  else packWeights(w, bias, l.kh * l.kw * l.cin, l.cout, out);
}
