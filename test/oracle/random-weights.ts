/**
 * Seeded random weights and inputs for both topologies, plus the list of every tensor and end point
 * each model has. Used by the tests to compare our engine with the TensorFlow.js oracle
 * (./tfjs-oracle.ts) without any real weights, so the tests run on a fresh clone.
 *
 * Names and shapes:
 * - inception_v1: TF-slim `nets/inception_v1.py` variable names (HWIO conv weights, batch norm without
 *   scale: beta / moving_mean / moving_variance), including TF-slim's quirk that Mixed_5b's third branch
 *   3x3 is `Branch_2/Conv2d_0a_3x3`. Logits are a 1x1 conv with biases, 1001 classes by default.
 * - googlenet: BVLC GoogLeNet (Caffe `deploy.prototxt`) layer names with `/weight` (OHWI `[out,kh,kw,in]`;
 *   the classifier `[out,in]`) and `/bias`, 1000 classes by default.
 *
 * Scaling: conv weights are He-scaled (std sqrt(2/fan_in)), so the second moment of a ReLU network's
 * activations is preserved layer to layer. inception_v1 is meant for inputs in [-1, 1] (activations
 * O(1)). googlenet is meant for inputs in the Caffe range (±128, see INPUT_SCALE): activations are then
 * O(10..100) as with the real BVLC weights, which is what makes the two LRN layers actually change
 * the values (with O(1) activations LRN would be the identity to ~1e-5 and an engine that forgot it
 * would still pass). Classifiers are scaled so that logits are O(1): softmax stays well conditioned.
 */

import { mulberry32 } from '../helpers/rng.mjs';

export type ModelName = 'inception_v1' | 'googlenet';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Inception block widths, shared by both topologies: [1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj]. */
export const INCEPTION_BLOCKS: ReadonlyArray<{ slim: string; caffe: string; widths: readonly [number, number, number, number, number, number] }> = [
  { slim: 'Mixed_3b', caffe: 'inception_3a', widths: [64, 96, 128, 16, 32, 32] },
  { slim: 'Mixed_3c', caffe: 'inception_3b', widths: [128, 128, 192, 32, 96, 64] },
  { slim: 'Mixed_4b', caffe: 'inception_4a', widths: [192, 96, 208, 16, 48, 64] },
  { slim: 'Mixed_4c', caffe: 'inception_4b', widths: [160, 112, 224, 24, 64, 64] },
  { slim: 'Mixed_4d', caffe: 'inception_4c', widths: [128, 128, 256, 24, 64, 64] },
  { slim: 'Mixed_4e', caffe: 'inception_4d', widths: [112, 144, 288, 32, 64, 64] },
  { slim: 'Mixed_4f', caffe: 'inception_4e', widths: [256, 160, 320, 32, 128, 128] },
  { slim: 'Mixed_5b', caffe: 'inception_5a', widths: [256, 160, 320, 32, 128, 128] },
  { slim: 'Mixed_5c', caffe: 'inception_5b', widths: [384, 192, 384, 48, 128, 128] },
];

/** Base network end points of TF-slim inception_v1_base (final_endpoint 'Mixed_5c'), in order. */
export const INCEPTION_V1_BASE_ENDPOINTS: readonly string[] = [
  'Conv2d_1a_7x7',
  'MaxPool_2a_3x3',
  'Conv2d_2b_1x1',
  'Conv2d_2c_3x3',
  'MaxPool_3a_3x3',
  'Mixed_3b',
  'Mixed_3c',
  'MaxPool_4a_3x3',
  'Mixed_4b',
  'Mixed_4c',
  'Mixed_4d',
  'Mixed_4e',
  'Mixed_4f',
  'MaxPool_5a_2x2',
  'Mixed_5b',
  'Mixed_5c',
];

/** Every end point of BVLC GoogLeNet up to pool5, in order (Caffe top names). */
export const GOOGLENET_BASE_ENDPOINTS: readonly string[] = [
  'conv1/7x7_s2',
  'pool1/3x3_s2',
  'pool1/norm1',
  'conv2/3x3_reduce',
  'conv2/3x3',
  'conv2/norm2',
  'pool2/3x3_s2',
  'inception_3a/output',
  'inception_3b/output',
  'pool3/3x3_s2',
  'inception_4a/output',
  'inception_4b/output',
  'inception_4c/output',
  'inception_4d/output',
  'inception_4e/output',
  'pool4/3x3_s2',
  'inception_5a/output',
  'inception_5b/output',
  'pool5/7x7_s1',
];

export const DEFAULT_NUM_CLASSES: Record<ModelName, number> = { inception_v1: 1001, googlenet: 1000 };

/** Scale of the inputs each model's random weights are meant for (randomInput's `scale`). */
export const INPUT_SCALE: Record<ModelName, number> = { inception_v1: 1, googlenet: 128 };

/** Every end point the model produces with these options, in network order. */
export function endpointNames(model: ModelName, opts: { globalPool?: boolean; numClasses?: number } = {}): string[] {
  const numClasses = opts.numClasses ?? DEFAULT_NUM_CLASSES[model];
  if (model === 'inception_v1') {
    const names = [...INCEPTION_V1_BASE_ENDPOINTS, opts.globalPool ? 'global_pool' : 'AvgPool_0a_7x7'];
    if (numClasses) names.push('Logits', 'Predictions');
    return names;
  }
  const names = [...GOOGLENET_BASE_ENDPOINTS];
  if (numClasses) names.push('loss3/classifier', 'prob');
  return names;
}

export const INCEPTION_V1_ENDPOINTS: readonly string[] = endpointNames('inception_v1');
export const INCEPTION_V1_GLOBAL_POOL_ENDPOINTS: readonly string[] = endpointNames('inception_v1', { globalPool: true });
export const GOOGLENET_ENDPOINTS: readonly string[] = endpointNames('googlenet');

export type LayerKind = 'conv_bn' | 'conv_bias' | 'logits' | 'fc';

export interface LayerSpec {
  /** Variable prefix: `InceptionV1/Mixed_3b/Branch_1/Conv2d_0b_3x3` or `inception_3a/3x3`. */
  name: string;
  kind: LayerKind;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
}

/** Every parameterised layer of the model, in network order. */
export function layerSpecs(model: ModelName, numClasses = DEFAULT_NUM_CLASSES[model]): LayerSpec[] {
  const out: LayerSpec[] = [];
  if (model === 'inception_v1') {
    const add = (name: string, k: number, cin: number, cout: number) =>
      out.push({ name: `InceptionV1/${name}`, kind: 'conv_bn', kh: k, kw: k, cin, cout });
    add('Conv2d_1a_7x7', 7, 3, 64);
    add('Conv2d_2b_1x1', 1, 64, 64);
    add('Conv2d_2c_3x3', 3, 64, 192);
    let cin = 192;
    for (const b of INCEPTION_BLOCKS) {
      const [c0, c1r, c1, c2r, c2, c3] = b.widths;
      const s = b.slim;
      add(`${s}/Branch_0/Conv2d_0a_1x1`, 1, cin, c0);
      add(`${s}/Branch_1/Conv2d_0a_1x1`, 1, cin, c1r);
      add(`${s}/Branch_1/Conv2d_0b_3x3`, 3, c1r, c1);
      add(`${s}/Branch_2/Conv2d_0a_1x1`, 1, cin, c2r);
      // TF-slim names Mixed_5b's third-branch 3x3 `Conv2d_0a_3x3` (every other block: `Conv2d_0b_3x3`).
      add(`${s}/Branch_2/${s === 'Mixed_5b' ? 'Conv2d_0a_3x3' : 'Conv2d_0b_3x3'}`, 3, c2r, c2);
      add(`${s}/Branch_3/Conv2d_0b_1x1`, 1, cin, c3);
      cin = c0 + c1 + c2 + c3;
    }
    if (numClasses) out.push({ name: 'InceptionV1/Logits/Conv2d_0c_1x1', kind: 'logits', kh: 1, kw: 1, cin, cout: numClasses });
    return out;
  }
  const add = (name: string, k: number, cin: number, cout: number) => out.push({ name, kind: 'conv_bias', kh: k, kw: k, cin, cout });
  add('conv1/7x7_s2', 7, 3, 64);
  add('conv2/3x3_reduce', 1, 64, 64);
  add('conv2/3x3', 3, 64, 192);
  let cin = 192;
  for (const b of INCEPTION_BLOCKS) {
    const [c0, c1r, c1, c2r, c2, c3] = b.widths;
    const s = b.caffe;
    add(`${s}/1x1`, 1, cin, c0);
    add(`${s}/3x3_reduce`, 1, cin, c1r);
    add(`${s}/3x3`, 3, c1r, c1);
    add(`${s}/5x5_reduce`, 1, cin, c2r);
    add(`${s}/5x5`, 5, c2r, c2);
    add(`${s}/pool_proj`, 1, cin, c3);
    cin = c0 + c1 + c2 + c3;
  }
  if (numClasses) out.push({ name: 'loss3/classifier', kind: 'fc', kh: 1, kw: 1, cin, cout: numClasses });
  return out;
}

/** Name → shape of every tensor the model needs. */
export function weightShapes(model: ModelName, numClasses = DEFAULT_NUM_CLASSES[model]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const l of layerSpecs(model, numClasses)) {
    switch (l.kind) {
      case 'conv_bn':
        m.set(`${l.name}/weights`, [l.kh, l.kw, l.cin, l.cout]);
        for (const v of ['beta', 'moving_mean', 'moving_variance']) m.set(`${l.name}/BatchNorm/${v}`, [l.cout]);
        break;
      case 'logits':
        m.set(`${l.name}/weights`, [1, 1, l.cin, l.cout]);
        m.set(`${l.name}/biases`, [l.cout]);
        break;
      case 'conv_bias':
        m.set(`${l.name}/weight`, [l.cout, l.kh, l.kw, l.cin]);
        m.set(`${l.name}/bias`, [l.cout]);
        break;
      case 'fc':
        m.set(`${l.name}/weight`, [l.cout, l.cin]);
        m.set(`${l.name}/bias`, [l.cout]);
        break;
    }
  }
  return m;
}

export { mulberry32 } from '../helpers/rng.mjs';

function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Classifier gain for googlenet: the features reaching loss3/classifier have an RMS of roughly 20..40
 * with ±128 inputs, so scale the classifier down to get logits of O(1).
 */
const GOOGLENET_FC_GAIN = 1 / 30;

/** Seeded random values for every tensor the model needs (see the file comment for the scaling). */
export function randomWeights(model: ModelName, opts: { seed: number; numClasses?: number }): Map<string, Tensor> {
  const numClasses = opts.numClasses ?? DEFAULT_NUM_CLASSES[model];
  const rand = mulberry32(opts.seed);
  const normal = gaussian(rand);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const fill = (n: number, f: () => number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = f();
    return a;
  };
  const weights = new Map<string, Tensor>();
  for (const l of layerSpecs(model, numClasses)) {
    const fanIn = l.kh * l.kw * l.cin;
    const nW = fanIn * l.cout;
    switch (l.kind) {
      case 'conv_bn': {
        const std = Math.sqrt(2 / fanIn);
        weights.set(`${l.name}/weights`, { shape: [l.kh, l.kw, l.cin, l.cout], data: fill(nW, () => std * normal()) });
        weights.set(`${l.name}/BatchNorm/beta`, { shape: [l.cout], data: fill(l.cout, () => uniform(-0.2, 0.2)) });
        weights.set(`${l.name}/BatchNorm/moving_mean`, { shape: [l.cout], data: fill(l.cout, () => uniform(-0.2, 0.2)) });
        weights.set(`${l.name}/BatchNorm/moving_variance`, { shape: [l.cout], data: fill(l.cout, () => uniform(0.5, 1.5)) });
        break;
      }
      case 'logits': {
        const std = Math.sqrt(1 / fanIn);
        weights.set(`${l.name}/weights`, { shape: [1, 1, l.cin, l.cout], data: fill(nW, () => std * normal()) });
        weights.set(`${l.name}/biases`, { shape: [l.cout], data: fill(l.cout, () => uniform(-0.2, 0.2)) });
        break;
      }
      case 'conv_bias': {
        const std = Math.sqrt(2 / fanIn);
        weights.set(`${l.name}/weight`, { shape: [l.cout, l.kh, l.kw, l.cin], data: fill(nW, () => std * normal()) });
        weights.set(`${l.name}/bias`, { shape: [l.cout], data: fill(l.cout, () => uniform(-4, 4)) });
        break;
      }
      case 'fc': {
        const std = Math.sqrt(1 / fanIn) * GOOGLENET_FC_GAIN;
        weights.set(`${l.name}/weight`, { shape: [l.cout, l.cin], data: fill(nW, () => std * normal()) });
        weights.set(`${l.name}/bias`, { shape: [l.cout], data: fill(l.cout, () => uniform(-0.2, 0.2)) });
        break;
      }
    }
  }
  return weights;
}

/** Seeded uniform random input in [-scale, scale] (NHWC). */
export function randomInput(shape: number[], seed: number, scale = 1): { data: Float32Array; shape: [number, number, number, number] } {
  if (shape.length !== 4) throw new Error(`randomInput: expected an NHWC shape, got [${shape}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = scale * (2 * rand() - 1);
  return { data, shape: shape as [number, number, number, number] };
}
