/**
 * An independent oracle of both topologies on TensorFlow.js's pure-JS CPU backend. It shares no code
 * with the engine under test: every op is a tfjs op, and the topology is written out here from the
 * primary sources.
 *
 * - 'inception_v1': TF-slim `nets/inception_v1.py` (inception_v1_base + inception_v1 head). Conv + batch
 *   norm (no scale, epsilon 0.001, applied un-folded as (x - mean) / sqrt(var + eps) + beta) + ReLU,
 *   TensorFlow 'SAME' padding everywhere (tfjs's own 'same', which splits like TF: smaller half before),
 *   max pools 3x3/2 SAME, MaxPool_5a_2x2 2x2/2 SAME, inception pool branch 3x3/1 SAME; head
 *   AvgPool_0a_7x7 (7x7/1 VALID) or `global_pool` (mean over H, W), Logits (1x1 conv + biases, squeezed
 *   by default), Predictions (softmax).
 * - 'googlenet': BVLC GoogLeNet `deploy.prototxt` with Caffe semantics: explicit symmetric conv padding,
 *   pooling output size rounded UP (ceil mode) with Caffe's clip (the last window must start inside
 *   the padded input), windows clipped to the input (max: -Infinity padding; average: divisor counts the
 *   symmetric padding but not the ceil-mode overhang), LRN across channels (local_size 5, alpha 1e-4,
 *   beta 0.75, k 1; Caffe divides alpha by local_size), concat 1x1, 3x3, 5x5, pool_proj, pool5 7x7/1
 *   average (or with globalPool a global mean), loss3/classifier fully connected, prob softmax.
 *
 * Every end point is returned NHWC with the batch axis (loss3/classifier, prob and squeezed Logits /
 * Predictions are [N, classes]).
 *
 * `inceptionPreprocess` is TF-slim's eval preprocessing in tfjs ops (central crop, TF1 legacy bilinear
 * resize), the independent check of `preprocess(img, 'inception_v1')`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import type { ModelName, Tensor } from './random-weights.js';

export interface OracleOptions {
  /** Replace the fixed 7x7 average pool with a global mean over H, W (TF-slim `global_pool`). */
  globalPool?: boolean;
  /** 0: stop after the pool. Default: the classifier size found in the weights (none: stop). */
  numClasses?: number;
  /** inception_v1 only: squeeze Logits / Predictions to [N, classes] (default true, as TF-slim). */
  spatialSqueeze?: boolean;
  /** inception_v1 only: false feeds the input straight into Mixed_3b (TF-slim include_root_block). */
  includeRootBlock?: boolean;
}

export type OracleResult = Record<string, { data: Float32Array; shape: number[] }>;

const BN_EPSILON = 0.001;

let backendReady: Promise<void> | null = null;
function ensureBackend(): Promise<void> {
  backendReady ??= (async () => {
    const ok = await tf.setBackend('cpu');
    if (!ok) throw new Error('tfjs-oracle: could not select the tfjs cpu backend');
    await tf.ready();
  })();
  return backendReady;
}

type Getter = (name: string) => tf.Tensor;

function makeGetter(weights: Map<string, Tensor>): Getter {
  return (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`tfjs-oracle: weight "${name}" is missing`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tfjs-oracle: weight "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    return tf.tensor(t.data, t.shape, 'float32');
  };
}

// ---------------------------------------------------------------------------------------------------
// TF-slim inception_v1

function inceptionV1(x: tf.Tensor4D, get: Getter, weights: Map<string, Tensor>, opts: OracleOptions, ep: (n: string, t: tf.Tensor) => void): void {
  const S = 'InceptionV1';
  // slim.conv2d(..., normalizer_fn=slim.batch_norm) with padding 'SAME', then ReLU.
  const conv = (inp: tf.Tensor4D, name: string, stride = 1): tf.Tensor4D => {
    const w = get(`${S}/${name}/weights`) as tf.Tensor4D; // HWIO
    const y = tf.conv2d(inp, w, stride, 'same');
    const mean = get(`${S}/${name}/BatchNorm/moving_mean`);
    const variance = get(`${S}/${name}/BatchNorm/moving_variance`);
    const beta = get(`${S}/${name}/BatchNorm/beta`);
    const bn = tf.add(tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, tf.scalar(BN_EPSILON)))), beta);
    return tf.relu(bn) as tf.Tensor4D;
  };
  const maxPool = (inp: tf.Tensor4D, k: number, s: number) => tf.maxPool(inp, k, s, 'same');
  const mixed = (inp: tf.Tensor4D, s: string): tf.Tensor4D => {
    const b0 = conv(inp, `${s}/Branch_0/Conv2d_0a_1x1`);
    const b1 = conv(conv(inp, `${s}/Branch_1/Conv2d_0a_1x1`), `${s}/Branch_1/Conv2d_0b_3x3`);
    const b2name = s === 'Mixed_5b' ? 'Conv2d_0a_3x3' : 'Conv2d_0b_3x3'; // TF-slim's naming quirk
    const b2 = conv(conv(inp, `${s}/Branch_2/Conv2d_0a_1x1`), `${s}/Branch_2/${b2name}`);
    const b3 = conv(maxPool(inp, 3, 1), `${s}/Branch_3/Conv2d_0b_1x1`);
    return tf.concat([b0, b1, b2, b3], 3);
  };

  let net = x;
  const step = (name: string, t: tf.Tensor4D) => {
    net = t;
    ep(name, t);
  };
  if (opts.includeRootBlock ?? true) {
    step('Conv2d_1a_7x7', conv(net, 'Conv2d_1a_7x7', 2));
    step('MaxPool_2a_3x3', maxPool(net, 3, 2));
    step('Conv2d_2b_1x1', conv(net, 'Conv2d_2b_1x1'));
    step('Conv2d_2c_3x3', conv(net, 'Conv2d_2c_3x3'));
    step('MaxPool_3a_3x3', maxPool(net, 3, 2));
  }
  step('Mixed_3b', mixed(net, 'Mixed_3b'));
  step('Mixed_3c', mixed(net, 'Mixed_3c'));
  step('MaxPool_4a_3x3', maxPool(net, 3, 2));
  for (const s of ['Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e', 'Mixed_4f']) step(s, mixed(net, s));
  step('MaxPool_5a_2x2', maxPool(net, 2, 2));
  step('Mixed_5b', mixed(net, 'Mixed_5b'));
  step('Mixed_5c', mixed(net, 'Mixed_5c'));

  if (opts.globalPool) step('global_pool', tf.mean(net, [1, 2], true));
  else step('AvgPool_0a_7x7', tf.avgPool(net, 7, 1, 'valid'));

  const lw = weights.get(`${S}/Logits/Conv2d_0c_1x1/weights`);
  const numClasses = opts.numClasses ?? (lw ? lw.shape[3] : 0);
  if (!numClasses) return;
  if (!lw || lw.shape[3] !== numClasses) {
    throw new Error(`tfjs-oracle: numClasses ${numClasses} but Logits weights are [${lw?.shape ?? 'missing'}]`);
  }
  // Dropout is the identity at inference.
  let logits: tf.Tensor = tf.add(tf.conv2d(net, get(`${S}/Logits/Conv2d_0c_1x1/weights`) as tf.Tensor4D, 1, 'same'), get(`${S}/Logits/Conv2d_0c_1x1/biases`));
  if (opts.spatialSqueeze ?? true) {
    if (logits.shape[1] !== 1 || logits.shape[2] !== 1) {
      throw new Error(`tfjs-oracle: cannot squeeze logits of shape [${logits.shape}] (TF-slim would fail too)`);
    }
    logits = tf.reshape(logits, [logits.shape[0], numClasses]);
  }
  ep('Logits', logits);
  ep('Predictions', tf.softmax(logits));
}

// ---------------------------------------------------------------------------------------------------
// BVLC GoogLeNet (Caffe)

/** Caffe's pooled output size: ceil mode, then the clip that keeps the last window starting inside. */
export function caffePoolOutSize(size: number, k: number, s: number, pad: number): number {
  let out = Math.ceil((size + 2 * pad - k) / s) + 1;
  if (pad > 0 && (out - 1) * s >= size + pad) out--;
  return out;
}

/** Pad rows / cols [before, after] so that a VALID pool gives Caffe's output size (then crop). */
function caffePoolPads(size: number, k: number, s: number, pad: number): { out: number; after: number } {
  const out = caffePoolOutSize(size, k, s, pad);
  const extent = (out - 1) * s + k; // rows the windows span, counted from the top of the padded input
  return { out, after: Math.max(extent - size - pad, 0) };
}

export function caffeMaxPool(x: tf.Tensor4D, k: number, s: number, pad: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const ph = caffePoolPads(h, k, s, pad);
  const pw = caffePoolPads(w, k, s, pad);
  // -Infinity padding: the padded cells never win, i.e. windows are clipped to the input.
  const padded = tf.pad(x, [[0, 0], [pad, ph.after], [pad, pw.after], [0, 0]], -Infinity);
  const y = tf.maxPool(padded, k, s, 'valid');
  return tf.slice(y, [0, 0, 0, 0], [-1, ph.out, pw.out, -1]);
}

export function caffeAvgPool(x: tf.Tensor4D, k: number, s: number, pad: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const ph = caffePoolPads(h, k, s, pad);
  const pw = caffePoolPads(w, k, s, pad);
  if (pad === 0 && ph.after === 0 && pw.after === 0) {
    const y = tf.avgPool(x, k, s, 'valid');
    return tf.slice(y, [0, 0, 0, 0], [-1, ph.out, pw.out, -1]);
  }
  // Caffe: the sum over the window clipped to the input, divided by the size of the window clipped to
  // [-pad, size + pad) (the symmetric padding counts, the ceil-mode overhang does not).
  const totalH = pad + h + ph.after;
  const totalW = pad + w + pw.after;
  const sum = tf.mul(tf.avgPool(tf.pad(x, [[0, 0], [pad, ph.after], [pad, pw.after], [0, 0]], 0), k, s, 'valid'), k * k);
  const inH = Math.min(h + 2 * pad, totalH);
  const inW = Math.min(w + 2 * pad, totalW);
  const mask = tf.pad(tf.ones([1, inH, inW, 1]), [[0, 0], [0, totalH - inH], [0, totalW - inW], [0, 0]], 0) as tf.Tensor4D;
  const count = tf.mul(tf.avgPool(mask, k, s, 'valid'), k * k);
  return tf.slice(tf.div(sum, count), [0, 0, 0, 0], [-1, ph.out, pw.out, -1]) as tf.Tensor4D;
}

function googlenet(x: tf.Tensor4D, get: Getter, weights: Map<string, Tensor>, opts: OracleOptions, ep: (n: string, t: tf.Tensor) => void): void {
  // Convolution (+ in-place ReLU, as every conv in deploy.prototxt): symmetric zero padding, VALID conv.
  const conv = (inp: tf.Tensor4D, name: string, pad: number, stride = 1): tf.Tensor4D => {
    const wOHWI = get(`${name}/weight`) as tf.Tensor4D;
    const w = tf.transpose(wOHWI, [1, 2, 3, 0]) as tf.Tensor4D; // → HWIO
    const padded = pad ? tf.pad(inp, [[0, 0], [pad, pad], [pad, pad], [0, 0]], 0) : inp;
    return tf.relu(tf.add(tf.conv2d(padded, w, stride, 'valid'), get(`${name}/bias`))) as tf.Tensor4D;
  };
  // Caffe LRN (ACROSS_CHANNELS): x * (k + alpha/n * sum_{|c'-c| <= n/2} x_c'^2)^-beta, zero outside.
  // tfjs: x * (bias + alpha * sum_{|c'-c| <= depthRadius} x_c'^2)^-beta → depthRadius n/2, alpha/n.
  const lrn = (inp: tf.Tensor4D) => tf.localResponseNormalization(inp, 2, 1, 1e-4 / 5, 0.75);
  const inception = (inp: tf.Tensor4D, s: string): tf.Tensor4D => {
    const b0 = conv(inp, `${s}/1x1`, 0);
    const b1 = conv(conv(inp, `${s}/3x3_reduce`, 0), `${s}/3x3`, 1);
    const b2 = conv(conv(inp, `${s}/5x5_reduce`, 0), `${s}/5x5`, 2);
    const b3 = conv(caffeMaxPool(inp, 3, 1, 1), `${s}/pool_proj`, 0);
    return tf.concat([b0, b1, b2, b3], 3);
  };

  let net = x;
  const step = (name: string, t: tf.Tensor4D) => {
    net = t;
    ep(name, t);
  };
  step('conv1/7x7_s2', conv(net, 'conv1/7x7_s2', 3, 2));
  step('pool1/3x3_s2', caffeMaxPool(net, 3, 2, 0));
  step('pool1/norm1', lrn(net));
  step('conv2/3x3_reduce', conv(net, 'conv2/3x3_reduce', 0));
  step('conv2/3x3', conv(net, 'conv2/3x3', 1));
  step('conv2/norm2', lrn(net));
  step('pool2/3x3_s2', caffeMaxPool(net, 3, 2, 0));
  step('inception_3a/output', inception(net, 'inception_3a'));
  step('inception_3b/output', inception(net, 'inception_3b'));
  step('pool3/3x3_s2', caffeMaxPool(net, 3, 2, 0));
  for (const s of ['inception_4a', 'inception_4b', 'inception_4c', 'inception_4d', 'inception_4e']) step(`${s}/output`, inception(net, s));
  step('pool4/3x3_s2', caffeMaxPool(net, 3, 2, 0));
  step('inception_5a/output', inception(net, 'inception_5a'));
  step('inception_5b/output', inception(net, 'inception_5b'));
  step('pool5/7x7_s1', opts.globalPool ? tf.mean(net, [1, 2], true) : caffeAvgPool(net, 7, 1, 0));

  const fw = weights.get('loss3/classifier/weight');
  const numClasses = opts.numClasses ?? (fw ? fw.shape[0] : 0);
  if (!numClasses) return;
  if (!fw || fw.shape[0] !== numClasses) {
    throw new Error(`tfjs-oracle: numClasses ${numClasses} but loss3/classifier/weight is [${fw?.shape ?? 'missing'}]`);
  }
  // InnerProduct flattens C*H*W of the NCHW blob; pool5 is 1x1 spatially at 224 or with globalPool.
  const [n, ph, pw, c] = net.shape;
  if (ph !== 1 || pw !== 1) throw new Error(`tfjs-oracle: pool5 is ${ph}x${pw}; the classifier expects 1x1 (use globalPool)`);
  const flat = tf.reshape(net, [n, c]) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(flat, get('loss3/classifier/weight') as tf.Tensor2D, false, true), get('loss3/classifier/bias'));
  ep('loss3/classifier', logits);
  ep('prob', tf.softmax(logits));
}

// ---------------------------------------------------------------------------------------------------

/** Run the oracle; returns every end point (NHWC with batch axis) as plain Float32Arrays. */
export async function runOracle(
  model: ModelName,
  weights: Map<string, Tensor>,
  input: { data: Float32Array; shape: [number, number, number, number] | number[] },
  opts: OracleOptions = {},
): Promise<OracleResult> {
  await ensureBackend();
  if (input.shape.length !== 4) throw new Error(`tfjs-oracle: input must be NHWC, got [${input.shape}]`);
  const result: OracleResult = {};
  const get = makeGetter(weights);
  // Everything is created inside tidy and read out synchronously; tidy then frees all of it.
  tf.tidy(() => {
    const x = tf.tensor4d(input.data, input.shape as [number, number, number, number], 'float32');
    const ep = (name: string, t: tf.Tensor) => {
      result[name] = { data: new Float32Array(t.dataSync() as Float32Array), shape: [...t.shape] };
    };
    if (model === 'inception_v1') inceptionV1(x, get, weights, opts, ep);
    else if (model === 'googlenet') googlenet(x, get, weights, opts, ep);
    else throw new Error(`tfjs-oracle: unknown model ${String(model)}`);
  });
  return result;
}

// ---------------------------------------------------------------------------------------------------
// TF-slim eval preprocessing (inception_preprocessing.preprocess_for_eval)

/**
 * `tf.image.central_crop(image, fraction)` then TF1 `resize_bilinear(align_corners=False)` (tfjs's
 * `resizeBilinear` with alignCorners and halfPixelCenters false, its legacy mode), then the [-1, 1]
 * scaling (x/255 − 0.5)·2, on an HWC uint8 RGB image; returns the size×size×3 float32 tensor.
 * The crop is TF 1.x's: fraction_offset = int(1 / ((1 − fraction) / 2)), start = H div fraction_offset,
 * size = H − 2·start (for 0.875 the same as TF 2's trunc((H − H·fraction) / 2)).
 */
export async function inceptionPreprocess(
  img: { data: Uint8Array; width: number; height: number },
  size: number,
  fraction = 0.875,
): Promise<Float32Array> {
  await ensureBackend();
  const { data, width: w, height: h } = img;
  const offset = Math.trunc(1 / ((1 - fraction) / 2));
  const top = Math.floor(h / offset), left = Math.floor(w / offset);
  return tf.tidy(() => {
    const x = tf.tensor3d(Float32Array.from(data), [h, w, 3], 'float32');
    const crop = tf.slice(x, [top, left, 0], [h - 2 * top, w - 2 * left, 3]);
    const resized = tf.image.resizeBilinear(crop, [size, size], false, false);
    const scaled = tf.mul(tf.sub(tf.div(resized, 255), 0.5), 2);
    return new Float32Array(scaled.dataSync() as Float32Array);
  });
}
