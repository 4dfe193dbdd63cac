/**
 * The two networks as data: a list of layers over named tensors (NHWC), with shape inference.
 *
 * `inception_v1` mirrors TF-slim's nets/inception_v1.py line by line (end point names, variable scopes,
 * 'SAME' padding, batch norm folded into the convolutions). `googlenet` is BVLC GoogLeNet as its Caffe
 * deploy.prototxt defines it (Caffe layer names, explicit padding, ceil-mode pooling, LRN, 5x5 branch).
 *
 * Inception concat is free: the last layer of each branch writes into its slice (channel offset) of the
 * block's output tensor.
 */
import { InputError, shown } from './errors.js';

export type ModelName = 'inception_v1' | 'googlenet';

export interface TensorInfo {
  name: string;
  h: number;
  w: number;
  c: number;
}

export interface ConvLayer {
  kind: 'conv';
  /** Weight scope: TF-slim variable scope (`InceptionV1/Mixed_3b/Branch_0/Conv2d_0a_1x1`) or Caffe layer name. */
  scope: string;
  input: string;
  output: string;
  outOffset: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  padT: number;
  padL: number;
  relu: boolean;
  /** TF-slim: batch norm (beta, moving mean/variance) folded in; otherwise a bias vector. */
  batchNorm: boolean;
}

export interface PoolLayer {
  kind: 'maxpool' | 'avgpool';
  input: string;
  output: string;
  outOffset: number;
  kh: number;
  kw: number;
  stride: number;
  padT: number;
  padL: number;
}

export interface LrnLayer {
  kind: 'lrn';
  input: string;
  output: string;
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

export interface SoftmaxLayer {
  kind: 'softmax';
  input: string;
  output: string;
}

export type Layer = ConvLayer | PoolLayer | LrnLayer | SoftmaxLayer;

/**
 * The network's shape (loadModel's options of the same names). Every option may also be given as undefined
 * (the default), so that `{ numClasses: args.numClasses }` compiles under exactOptionalPropertyTypes.
 */
export interface NetworkOptions {
  /** Stop at this end point (endpointNames lists them); default: the whole network. */
  finalEndpoint?: string | undefined;
  /** false: the input (192 channels) enters at Mixed_3b / inception_3a. Default true. */
  includeRootBlock?: boolean | undefined;
  /** Classes of the classifier; 0: the output is the pooled 1024 features. Default 1000 (googlenet) / 1001 (inception_v1). */
  numClasses?: number | undefined;
  /** Global mean instead of the 7x7 average pool: any input size. Default false. */
  globalPool?: boolean | undefined;
  /** false: logits and probabilities keep their 1x1 spatial axes ([N, 1, 1, C]). Default true. */
  spatialSqueeze?: boolean | undefined;
}

export interface Network {
  model: ModelName;
  input: TensorInfo;
  layers: Layer[];
  tensors: Map<string, TensorInfo>;
  /** End point name → tensor name, in network order. */
  endpoints: Map<string, string>;
  /** The end point the network stops at (its output). */
  output: string;
  /** Shape of each end point as returned (spatialSqueeze drops H and W of Logits/Predictions). */
  squeezed: Set<string>;
  numClasses: number;
}

export const DEFAULT_NUM_CLASSES: Record<ModelName, number> = { inception_v1: 1001, googlenet: 1000 };

/**
 * End points of each network in order, for the default options (AvgPool_0a_7x7 / pool5 head). Frozen: endpointNames
 * and every finalEndpoint check read these lists, so a caller's sort() or push() must not reach them.
 */
export const ENDPOINTS: Readonly<Record<ModelName, readonly string[]>> = Object.freeze({
  inception_v1: Object.freeze([
    'Conv2d_1a_7x7', 'MaxPool_2a_3x3', 'Conv2d_2b_1x1', 'Conv2d_2c_3x3', 'MaxPool_3a_3x3',
    'Mixed_3b', 'Mixed_3c', 'MaxPool_4a_3x3', 'Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e', 'Mixed_4f',
    'MaxPool_5a_2x2', 'Mixed_5b', 'Mixed_5c', 'AvgPool_0a_7x7', 'Logits', 'Predictions',
  ]),
  googlenet: Object.freeze([
    'conv1/7x7_s2', 'pool1/3x3_s2', 'pool1/norm1', 'conv2/3x3_reduce', 'conv2/3x3', 'conv2/norm2',
    'pool2/3x3_s2', 'inception_3a/output', 'inception_3b/output', 'pool3/3x3_s2', 'inception_4a/output',
    'inception_4b/output', 'inception_4c/output', 'inception_4d/output', 'inception_4e/output',
    'pool4/3x3_s2', 'inception_5a/output', 'inception_5b/output', 'pool5/7x7_s1', 'loss3/classifier', 'prob',
  ]),
});

class StopBuilding extends Error {}

/** TF 'SAME': output ceil(in / stride); total pad split with the smaller half before. */
function samePad(inSize: number, k: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Caffe convolution: floor((in + 2p - k) / s) + 1. */
function caffeConvOut(inSize: number, k: number, s: number, p: number): number {
  return Math.floor((inSize + 2 * p - k) / s) + 1;
}

/** Caffe pooling: ceil((in + 2p - k) / s) + 1, minus one if the last window would start in the padding. */
function caffePoolOut(inSize: number, k: number, s: number, p: number): number {
  let out = Math.ceil((inSize + 2 * p - k) / s) + 1;
  if (p > 0 && (out - 1) * s >= inSize + p) out--;
  return out;
}

class Builder {
  readonly layers: Layer[] = [];
  readonly tensors = new Map<string, TensorInfo>();
  readonly endpoints = new Map<string, string>();
  constructor(
    readonly model: ModelName,
    readonly finalEndpoint: string | undefined,
  ) {}

  tensor(name: string, h: number, w: number, c: number): string {
    if (h < 1 || w < 1) {
      throw new InputError(`${this.model}: input is too small: ${name} would be ${h}x${w}`);
    }
    this.tensors.set(name, { name, h, w, c });
    return name;
  }

  get(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`internal: unknown tensor ${name}`);
    return t;
  }

  /** Record an end point; stop building after the final one. */
  endpoint(name: string, tensor: string): string {
    this.endpoints.set(name, tensor);
    if (name === this.finalEndpoint) throw new StopBuilding();
    return tensor;
  }

  conv(o: {
    scope: string; input: string; output: string; cout: number; k: number | [number, number]; stride?: number;
    pad: 'same' | number; relu?: boolean; batchNorm: boolean; into?: { tensor: string; offset: number };
  }): string {
    const x = this.get(o.input);
    const [kh, kw] = typeof o.k === 'number' ? [o.k, o.k] : o.k;
    const s = o.stride ?? 1;
    let oh: number, ow: number, padT: number, padL: number;
    if (o.pad === 'same') {
      const a = samePad(x.h, kh, s);
      const b = samePad(x.w, kw, s);
      [oh, ow, padT, padL] = [a.out, b.out, a.before, b.before];
    } else {
      [oh, ow, padT, padL] = [caffeConvOut(x.h, kh, s, o.pad), caffeConvOut(x.w, kw, s, o.pad), o.pad, o.pad];
    }
    let output = o.output;
    let offset = 0;
    if (o.into) {
      output = o.into.tensor;
      offset = o.into.offset;
      const t = this.get(output);
      if (t.h !== oh || t.w !== ow) throw new Error(`internal: branch ${o.scope} is ${oh}x${ow}, concat is ${t.h}x${t.w}`);
    } else {
      this.tensor(output, oh, ow, o.cout);
    }
    this.layers.push({
      kind: 'conv', scope: o.scope, input: o.input, output, outOffset: offset, cin: x.c, cout: o.cout,
      kh, kw, stride: s, padT, padL, relu: o.relu ?? true, batchNorm: o.batchNorm,
    });
    return output;
  }

  pool(o: {
    kind: 'maxpool' | 'avgpool'; input: string; output: string; k: number | [number, number]; stride: number;
    pad: 'same' | 'valid' | { caffe: number };
  }): string {
    const x = this.get(o.input);
    const [kh, kw] = typeof o.k === 'number' ? [o.k, o.k] : o.k;
    let oh: number, ow: number, padT = 0, padL = 0;
    if (o.pad === 'same') {
      const a = samePad(x.h, kh, o.stride);
      const b = samePad(x.w, kw, o.stride);
      [oh, ow, padT, padL] = [a.out, b.out, a.before, b.before];
    } else if (o.pad === 'valid') {
      oh = Math.floor((x.h - kh) / o.stride) + 1;
      ow = Math.floor((x.w - kw) / o.stride) + 1;
    } else {
      const p = o.pad.caffe;
      [oh, ow, padT, padL] = [caffePoolOut(x.h, kh, o.stride, p), caffePoolOut(x.w, kw, o.stride, p), p, p];
    }
    this.tensor(o.output, oh, ow, x.c);
    this.layers.push({ kind: o.kind, input: o.input, output: o.output, outOffset: 0, kh, kw, stride: o.stride, padT, padL });
    return o.output;
  }

  lrn(input: string, output: string): string {
    const x = this.get(input);
    this.tensor(output, x.h, x.w, x.c);
    this.layers.push({ kind: 'lrn', input, output, size: 5, alpha: 1e-4, beta: 0.75, k: 1 });
    return output;
  }

  softmax(input: string, output: string): string {
    const x = this.get(input);
    this.tensor(output, x.h, x.w, x.c);
    this.layers.push({ kind: 'softmax', input, output });
    return output;
  }
}

type Branch = (b: Builder, input: string, into: { tensor: string; offset: number }) => void;

/** An inception block: four branches writing into slices of one output tensor. */
function inceptionBlock(b: Builder, input: string, output: string, widths: number[], branches: Branch[]): string {
  const x = b.get(input);
  b.tensor(output, x.h, x.w, widths.reduce((s, c) => s + c, 0));
  let offset = 0;
  branches.forEach((branch, i) => {
    branch(b, input, { tensor: output, offset });
    offset += widths[i];
  });
  return output;
}

function buildInceptionV1(b: Builder, input: string, opts: Required<Omit<NetworkOptions, 'finalEndpoint'>>): string {
  const S = 'InceptionV1';
  const conv = (scope: string, inp: string, out: string, cout: number, k: number, stride = 1, into?: { tensor: string; offset: number }) =>
    b.conv({ scope: `${S}/${scope}`, input: inp, output: out, cout, k, stride, pad: 'same', batchNorm: true, into });
  let net = input;
  if (opts.includeRootBlock) {
    net = b.endpoint('Conv2d_1a_7x7', conv('Conv2d_1a_7x7', net, 'Conv2d_1a_7x7', 64, 7, 2));
    net = b.endpoint('MaxPool_2a_3x3', b.pool({ kind: 'maxpool', input: net, output: 'MaxPool_2a_3x3', k: 3, stride: 2, pad: 'same' }));
    net = b.endpoint('Conv2d_2b_1x1', conv('Conv2d_2b_1x1', net, 'Conv2d_2b_1x1', 64, 1));
    net = b.endpoint('Conv2d_2c_3x3', conv('Conv2d_2c_3x3', net, 'Conv2d_2c_3x3', 192, 3));
    net = b.endpoint('MaxPool_3a_3x3', b.pool({ kind: 'maxpool', input: net, output: 'MaxPool_3a_3x3', k: 3, stride: 2, pad: 'same' }));
  }
  // [branch0 1x1, branch1 1x1 reduce, branch1 3x3, branch2 1x1 reduce, branch2 3x3, branch3 pool proj]
  const mixed = (name: string, inp: string, c: number[]): string => {
    const p = `${name}/Branch_`;
    // TF-slim's quirk: Mixed_5b's third branch names its 3x3 'Conv2d_0a_3x3'.
    const b2 = name === 'Mixed_5b' ? 'Conv2d_0a_3x3' : 'Conv2d_0b_3x3';
    return inceptionBlock(b, inp, name, [c[0], c[2], c[4], c[5]], [
      (_, x, into) => conv(`${p}0/Conv2d_0a_1x1`, x, `${p}0/Conv2d_0a_1x1`, c[0], 1, 1, into),
      (_, x, into) => conv(`${p}1/Conv2d_0b_3x3`, conv(`${p}1/Conv2d_0a_1x1`, x, `${p}1/Conv2d_0a_1x1`, c[1], 1), `${p}1/Conv2d_0b_3x3`, c[2], 3, 1, into),
      (_, x, into) => conv(`${p}2/${b2}`, conv(`${p}2/Conv2d_0a_1x1`, x, `${p}2/Conv2d_0a_1x1`, c[3], 1), `${p}2/${b2}`, c[4], 3, 1, into),
      (_, x, into) => {
        const pooled = b.pool({ kind: 'maxpool', input: x, output: `${p}3/MaxPool_0a_3x3`, k: 3, stride: 1, pad: 'same' });
        conv(`${p}3/Conv2d_0b_1x1`, pooled, `${p}3/Conv2d_0b_1x1`, c[5], 1, 1, into);
      },
    ]);
  };
  net = b.endpoint('Mixed_3b', mixed('Mixed_3b', net, [64, 96, 128, 16, 32, 32]));
  net = b.endpoint('Mixed_3c', mixed('Mixed_3c', net, [128, 128, 192, 32, 96, 64]));
  net = b.endpoint('MaxPool_4a_3x3', b.pool({ kind: 'maxpool', input: net, output: 'MaxPool_4a_3x3', k: 3, stride: 2, pad: 'same' }));
  net = b.endpoint('Mixed_4b', mixed('Mixed_4b', net, [192, 96, 208, 16, 48, 64]));
  net = b.endpoint('Mixed_4c', mixed('Mixed_4c', net, [160, 112, 224, 24, 64, 64]));
  net = b.endpoint('Mixed_4d', mixed('Mixed_4d', net, [128, 128, 256, 24, 64, 64]));
  net = b.endpoint('Mixed_4e', mixed('Mixed_4e', net, [112, 144, 288, 32, 64, 64]));
  net = b.endpoint('Mixed_4f', mixed('Mixed_4f', net, [256, 160, 320, 32, 128, 128]));
  net = b.endpoint('MaxPool_5a_2x2', b.pool({ kind: 'maxpool', input: net, output: 'MaxPool_5a_2x2', k: 2, stride: 2, pad: 'same' }));
  net = b.endpoint('Mixed_5b', mixed('Mixed_5b', net, [256, 160, 320, 32, 128, 128]));
  net = b.endpoint('Mixed_5c', mixed('Mixed_5c', net, [384, 192, 384, 48, 128, 128]));
  // Logits scope.
  const x = b.get(net);
  if (opts.globalPool) {
    net = b.endpoint('global_pool', b.pool({ kind: 'avgpool', input: net, output: 'global_pool', k: [x.h, x.w], stride: 1, pad: 'valid' }));
  } else {
    if (x.h < 7 || x.w < 7) throw new InputError(`inception_v1: AvgPool_0a_7x7 needs at least 7x7 at Mixed_5c, the input gives ${x.h}x${x.w}; use a larger input or globalPool`);
    net = b.endpoint('AvgPool_0a_7x7', b.pool({ kind: 'avgpool', input: net, output: 'AvgPool_0a_7x7', k: 7, stride: 1, pad: 'valid' }));
  }
  if (!opts.numClasses) return net;
  // Dropout is the identity at inference.
  net = b.endpoint('Logits', b.conv({
    scope: `${S}/Logits/Conv2d_0c_1x1`, input: net, output: 'Logits', cout: opts.numClasses, k: 1, pad: 'same', relu: false, batchNorm: false,
  }));
  return b.endpoint('Predictions', b.softmax(net, 'Predictions'));
}

function buildGoogLeNet(b: Builder, input: string, opts: Required<Omit<NetworkOptions, 'finalEndpoint'>>): string {
  const conv = (name: string, inp: string, cout: number, k: number, stride: number, pad: number, into?: { tensor: string; offset: number }) =>
    b.conv({ scope: name, input: inp, output: name, cout, k, stride, pad, batchNorm: false, into });
  const maxpool = (name: string, inp: string, k: number, s: number, p: number) =>
    b.pool({ kind: 'maxpool', input: inp, output: name, k, stride: s, pad: { caffe: p } });
  let net = input;
  if (opts.includeRootBlock) {
    net = b.endpoint('conv1/7x7_s2', conv('conv1/7x7_s2', net, 64, 7, 2, 3));
    net = b.endpoint('pool1/3x3_s2', maxpool('pool1/3x3_s2', net, 3, 2, 0));
    net = b.endpoint('pool1/norm1', b.lrn(net, 'pool1/norm1'));
    net = b.endpoint('conv2/3x3_reduce', conv('conv2/3x3_reduce', net, 64, 1, 1, 0));
    net = b.endpoint('conv2/3x3', conv('conv2/3x3', net, 192, 3, 1, 1));
    net = b.endpoint('conv2/norm2', b.lrn(net, 'conv2/norm2'));
    net = b.endpoint('pool2/3x3_s2', maxpool('pool2/3x3_s2', net, 3, 2, 0));
  }
  // [1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj]; concat order 1x1, 3x3, 5x5, pool_proj.
  const inception = (name: string, inp: string, c: number[]): string =>
    inceptionBlock(b, inp, `${name}/output`, [c[0], c[2], c[4], c[5]], [
      (_, x, into) => conv(`${name}/1x1`, x, c[0], 1, 1, 0, into),
      (_, x, into) => conv(`${name}/3x3`, conv(`${name}/3x3_reduce`, x, c[1], 1, 1, 0), c[2], 3, 1, 1, into),
      (_, x, into) => conv(`${name}/5x5`, conv(`${name}/5x5_reduce`, x, c[3], 1, 1, 0), c[4], 5, 1, 2, into),
      (_, x, into) => conv(`${name}/pool_proj`, maxpool(`${name}/pool`, x, 3, 1, 1), c[5], 1, 1, 0, into),
    ]);
  const block = (name: string, inp: string, c: number[]) => b.endpoint(`${name}/output`, inception(name, inp, c));
  net = block('inception_3a', net, [64, 96, 128, 16, 32, 32]);
  net = block('inception_3b', net, [128, 128, 192, 32, 96, 64]);
  net = b.endpoint('pool3/3x3_s2', maxpool('pool3/3x3_s2', net, 3, 2, 0));
  net = block('inception_4a', net, [192, 96, 208, 16, 48, 64]);
  net = block('inception_4b', net, [160, 112, 224, 24, 64, 64]);
  net = block('inception_4c', net, [128, 128, 256, 24, 64, 64]);
  net = block('inception_4d', net, [112, 144, 288, 32, 64, 64]);
  net = block('inception_4e', net, [256, 160, 320, 32, 128, 128]);
  net = b.endpoint('pool4/3x3_s2', maxpool('pool4/3x3_s2', net, 3, 2, 0));
  net = block('inception_5a', net, [256, 160, 320, 32, 128, 128]);
  net = block('inception_5b', net, [384, 192, 384, 48, 128, 128]);
  const x = b.get(net);
  if (opts.globalPool) {
    net = b.endpoint('pool5/7x7_s1', b.pool({ kind: 'avgpool', input: net, output: 'pool5/7x7_s1', k: [x.h, x.w], stride: 1, pad: 'valid' }));
  } else {
    if (x.h < 7 || x.w < 7) throw new InputError(`googlenet: pool5/7x7_s1 needs at least 7x7 at inception_5b, the input gives ${x.h}x${x.w}; use a larger input or globalPool`);
    net = b.endpoint('pool5/7x7_s1', b.pool({ kind: 'avgpool', input: net, output: 'pool5/7x7_s1', k: 7, stride: 1, pad: 'valid' }));
  }
  if (!opts.numClasses) return net;
  net = b.endpoint('loss3/classifier', b.conv({
    scope: 'loss3/classifier', input: net, output: 'loss3/classifier', cout: opts.numClasses, k: 1, pad: 0, relu: false, batchNorm: false,
  }));
  return b.endpoint('prob', b.softmax(net, 'prob'));
}

/** The names a finalEndpoint may take, in order. */
export function endpointNames(model: ModelName, opts: NetworkOptions | null = {}): string[] {
  checkModelName(model);
  opts ??= {};
  const names = ENDPOINTS[model].slice();
  if (opts.globalPool && model === 'inception_v1') names[names.indexOf('AvgPool_0a_7x7')] = 'global_pool';
  if (opts.includeRootBlock === false) names.splice(0, model === 'inception_v1' ? 5 : 7);
  return names;
}

function checkModelName(model: unknown): asserts model is ModelName {
  if (model !== 'inception_v1' && model !== 'googlenet') {
    throw new InputError(`unknown model ${shown(model)}; expected 'inception_v1' or 'googlenet'`);
  }
}

/** Build the network for an input of h x w x c (the batch size does not change the graph). */
export function buildNetwork(model: ModelName, h: number, w: number, opts: NetworkOptions | null = {}): Network {
  checkModelName(model);
  for (const [name, v] of [['height', h], ['width', w]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`buildNetwork: ${name} must be a whole number >= 1, got ${shown(v)}`);
  }
  opts ??= {};
  const full = {
    includeRootBlock: opts.includeRootBlock ?? true,
    numClasses: opts.numClasses ?? DEFAULT_NUM_CLASSES[model],
    globalPool: opts.globalPool ?? false,
    spatialSqueeze: opts.spatialSqueeze ?? true,
  };
  if (!Number.isInteger(full.numClasses) || full.numClasses < 0) {
    throw new InputError(`numClasses must be a whole number >= 0, got ${shown(opts.numClasses)}`);
  }
  const valid = endpointNames(model, full);
  if (!full.numClasses) valid.splice(valid.length - 2, 2);
  if (opts.finalEndpoint !== undefined && !valid.includes(opts.finalEndpoint)) {
    throw new InputError(`unknown end point ${JSON.stringify(opts.finalEndpoint)} for ${model}; valid end points: ${valid.join(', ')}`);
  }
  const b = new Builder(model, opts.finalEndpoint);
  const inC = full.includeRootBlock ? 3 : model === 'inception_v1' ? 192 : 192;
  const input = b.tensor('input', h, w, inC);
  let output: string;
  try {
    output = model === 'inception_v1' ? buildInceptionV1(b, input, full) : buildGoogLeNet(b, input, full);
  } catch (e) {
    if (!(e instanceof StopBuilding)) throw e;
    output = b.endpoints.get(opts.finalEndpoint!)!;
  }
  const squeezed = new Set<string>();
  if (full.spatialSqueeze) {
    for (const n of model === 'inception_v1' ? ['Logits', 'Predictions'] : ['loss3/classifier', 'prob']) squeezed.add(n);
  }
  const outputName = [...b.endpoints.entries()].find(([, t]) => t === output)?.[0] ?? output;
  return {
    model, input: b.get(input), layers: b.layers, tensors: b.tensors, endpoints: b.endpoints,
    output: outputName, squeezed, numClasses: full.numClasses,
  };
}

/** Parameters (counting batch-norm beta, moving mean and moving variance) and multiply-adds per image. */
export function accounting(net: Network): { parameters: number; macs: number } {
  let parameters = 0;
  let macs = 0;
  for (const l of net.layers) {
    if (l.kind !== 'conv') continue;
    const k = l.kh * l.kw * l.cin;
    parameters += k * l.cout + (l.batchNorm ? 3 : 1) * l.cout;
    const o = net.tensors.get(l.output)!;
    macs += o.h * o.w * l.cout * k;
  }
  return { parameters, macs };
}
