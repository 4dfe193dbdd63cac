/**
 * loadModel and the Model: weights into one Wasm memory, a plan per input shape, the executor.
 *
 * Memory layout (bytes): [0, CONTROL_BYTES) control block for the thread pool; packed weights;
 * `threads` scratch areas; the activation arena, grown on demand up to `maxMemoryBytes`.
 */
import { ImageDecodeError, InputError, kindOf, nameOf, RuntimeError, shown, WeightsError } from './errors.js';
import { parseSafetensors, type Tensor } from './safetensors.js';
import { accounting, buildNetwork, DEFAULT_NUM_CLASSES, type ModelName, type NetworkOptions } from './topology.js';
import { checkTensorMap, checkWeights, convWeightBytes, convWeights, packConvWeights, packStageBytes, weightSpec } from './weights.js';
import { builtFlavor, compileKernels, instantiateKernels, type KernelFlavor, type Kernels, type WasmMemory, type WasmModule, type WasmSource } from './wasm.js';
import { makePlan, runSteps, type Layout, type Plan, scratchBytesFor, tensorBytes, winogradTile } from './plan.js';
import { readAsset, readPathOrUrl } from './assets.js';
import type { PlainFloat32Array } from './image.js';
import { fileName, imageTensor, labelsFor, toRGB, topK, withBackground, type ClassifyOptions, type DecodeLimits, type EmbedOptions, type ImageInput, type Prediction } from './classify.js';

export const CONTROL_BYTES = 4096;
const PAGE = 65536;
export const DEFAULT_MAX_MEMORY_BYTES = 2 ** 31;

export interface LoadOptions extends NetworkOptions {
  /** 'googlenet' (BVLC, Caffe names; default) or 'inception_v1' (TF-slim names). */
  model?: ModelName | undefined;
  /** safetensors bytes, a path or URL to them, or tensors by name. Default: the bundled BVLC weights (googlenet). */
  weights?: string | URL | Uint8Array | ArrayBuffer | Map<string, Tensor> | undefined;
  /** Threads (1 runs inline). Default: os.availableParallelism() on Node; navigator.hardwareConcurrency in a cross-origin isolated
   * page or worker, else 1. Where threads cannot run (no SharedArrayBuffer, edge runtimes) the model runs one and
   * says why in `info.threadsNote`. */
  threads?: number | undefined;
  /**
   * With threads > 1 on Node or in a dedicated Web Worker: whether the calling thread may take thread 0's
   * share of a run of up to two 224x224 images' pixels, which it does when the cores have just been busy
   * (runs back to back; on Node also a photo decoded right before); its event loop then waits for the run
   * (~16 ms here), as with one thread. Default true; false leaves it free (`threads` workers compute). A
   * page's own thread is never blocked.
   */
  callerComputes?: boolean | undefined;
  /** Kernel build: 'auto' (default) takes relaxed SIMD where the engine validates it. */
  kernels?: KernelFlavor | 'auto' | undefined;
  /** Kernel module bytes, URL or compiled module, when the default location does not work (bundlers, edge). */
  wasm?: WasmSource | undefined;
  /** Upper bound of the Wasm memory (weights + activations). Default 2 GiB. */
  maxMemoryBytes?: number | undefined;
  /**
   * Winograd convolutions: stride-1 3x3 ones as F(4x4, 3x3) (true or 4, the default) or F(2x2, 3x3) (2), and
   * stride-1 5x5 ones (GoogLeNet) as F(2x2, 5x5) with either; false: everything im2col + GEMM.
   */
  winograd?: boolean | 2 | 4 | undefined;
  /** Class names for classify(), one per output (default: ImageNet, with "background" first for inception_v1). */
  labels?: readonly string[] | undefined;
}

/** A tensor run() returns: NHWC float32 with the batch axis ([N, C] for squeezed logits / probabilities). */
export interface TensorData {
  data: PlainFloat32Array;
  shape: number[];
}

/** A tensor run() takes: NHWC float32, `[N, H, W, C]` or `[H, W, C]` for one image (a TensorData, or a readonly shape). */
export interface TensorInput {
  data: Float32Array;
  shape: readonly number[];
}

export interface RunOptions {
  /** End points to return (default: the network's output). 'all' returns every end point. */
  endpoints?: readonly string[] | 'all' | undefined;
}

export interface ModelInfo {
  model: ModelName;
  /** Threads actually running (see threadsNote when fewer than asked). */
  threads: number;
  /** Why this runtime runs one thread (not cross-origin isolated, no workers); absent otherwise. */
  threadsNote?: string;
  kernels: KernelFlavor;
  parameters: number;
  /** Multiply-adds per image at the default input: 224x224x3 (28x28x192, what a 224 image gives there, with includeRootBlock: false). */
  macs: number;
  inputShape: [number, number, number];
  output: string;
  numClasses: number;
  endpoints: Array<{ name: string; shape: number[] }>;
  /** Peak bytes of activations for one image at the default input (the arena, dead buffers reused). */
  peakActivationBytes: number;
  /** Bytes of packed weights in the Wasm memory. */
  weightBytes: number;
}

export const bundledWeightsUrl = (): URL => new URL('../models/googlenet.safetensors', import.meta.url);

async function resolveWeights(model: ModelName, w: LoadOptions['weights'], inPlace = false): Promise<Map<string, Tensor>> {
  if (w instanceof Map) return checkTensorMap(w);
  let bytes: Uint8Array;
  // Bytes read here belong to nobody else: their tensors can be views of them, not copies.
  let own = true;
  if (w === undefined) {
    if (model !== 'googlenet') {
      throw new InputError(`${model} has no bundled weights: pass weights (a safetensors file with TF-slim variable names)`);
    }
    bytes = await readAsset(bundledWeightsUrl());
  } else if (w instanceof Uint8Array) {
    bytes = w;
    own = inPlace;
  } else if (w instanceof ArrayBuffer) {
    bytes = new Uint8Array(w);
    own = inPlace;
  } else if (typeof w === 'string' || w instanceof URL) {
    bytes = await readPathOrUrl(w);
  } else {
    throw new InputError('weights must be safetensors bytes, a path or URL, or a Map of tensors');
  }
  try {
    return parseSafetensors(bytes, { copy: !own }).tensors;
  } catch (e) {
    // A file read by path or URL: say which one is not what it should be.
    if (e instanceof WeightsError && (typeof w === 'string' || w instanceof URL)) throw new WeightsError(`weights ${String(w)}: ${e.message}`, { cause: e });
    throw e;
  }
}

function checkThreads(t: unknown): number {
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 64) {
    throw new InputError(`threads must be a whole number from 1 to 64, got ${shown(t)}`);
  }
  return t;
}

/** What starts a worker pool over the shared memory (threads > 1). */
export interface PoolStart {
  module: WasmModule;
  memory: WasmMemory;
  threads: number;
  /** Thread t's scratch starts at scratchBase + t * scratchBytes. */
  scratchBase: number;
  scratchBytes: number;
  /** Byte offset of the control block (CTL_WORDS * 4 bytes, inside the memory's initial size). */
  controlBase: number;
  /** Called once every worker has been created (they then start on their own while the caller works). */
  onSpawned?: () => void;
  /** The kernels on the calling thread (on the same memory), for the runs it takes part in. */
  callerKernels?: Kernels;
}

/**
 * What the runtime offers, given by each entry point: ./index.ts and ./browser.ts (workers through
 * ./pool.ts), ./edge.ts (one thread, nothing else). Kept out of this module so that an edge bundle never
 * reaches the pool or its Node code.
 */
export interface Platform {
  /** Threads when loadModel is not told. */
  defaultThreads(): number | Promise<number>;
  /** Why more than one thread cannot run here, or undefined when they can. */
  singleThreadReason(): string | undefined;
  /** Start the worker pool. */
  startPool(o: PoolStart): Promise<Executor>;
  /** classify's and embed's maxDecodeBytes when a call does not give one (default: decodeImage's). */
  maxDecodeBytes?: number;
  /**
   * Read weights given as bytes in place until they are packed, instead of copying them first (which
   * guards against a caller that changes or transfers its buffer while loadModel runs).
   */
  weightsInPlace?: boolean;
}

/** A Model's plans are kept by batch and input size. */
const planKey = (n: number, h: number, w: number) => `${n}x${h}x${w}`;

/** Runs plans on one thread, inline. The worker pool (threads > 1) implements the same interface. */
export interface Executor {
  readonly threads: number;
  /** Whether a run may compute on the calling thread (one thread; the pool where the host lets it block). */
  readonly blocksCaller: boolean;
  /** Run the plan: first `before()` (which writes the input into the memory; if it throws, nothing runs),
   * once no thread writes the memory any more (a worker of an aborted run may still be finishing it); then
   * the steps, calling after(i) once step i is done and before anything overwrites its output, at least
   * for each i in `stops` (the steps whose end points the caller reads; default: every capture step). */
  execute(plan: Plan, before: () => void, after: (step: number) => void, stops?: ReadonlySet<number>): Promise<void>;
  /** Get ready to run `plan` (the pool: its program, compiled and in every worker), ahead of its first run. */
  prepare?(plan: Plan): void;
  dispose(): Promise<void>;
}

class InlineExecutor implements Executor {
  readonly threads = 1;
  readonly blocksCaller = true;
  constructor(private readonly k: Kernels) {}
  async execute(plan: Plan, before: () => void, after: (step: number) => void): Promise<void> {
    before();
    runSteps(this.k, plan.steps, after);
  }
  async dispose(): Promise<void> {}
}

/** A batch call's arguments: an array of images (a lone string would be read letter by letter) and options (null: none). */
function checkBatchArgs<O extends object>(fn: string, inputs: unknown, opts: O | null): O {
  if (!Array.isArray(inputs)) throw new InputError(`${fn} takes an array of images; for one image use ${fn.replace('Batch', '')}`);
  if (opts !== null && typeof opts !== 'object') throw new InputError(`options must be an object, got ${shown(opts)}`);
  return opts ?? ({} as O);
}

/**
 * An image's error, saying which image it is: its path or URL, and its place in a batch of several (the
 * decoder's message alone did not say which of a batch's files was not an image).
 */
function whichImage(e: unknown, inputs: readonly ImageInput[], i: number): unknown {
  if (!(e instanceof ImageDecodeError || e instanceof InputError)) return e;
  const input = inputs[i];
  const path = fileName(input) || nameOf(typeof input === 'string' ? input : input instanceof URL ? input.href : '');
  const name = path && !e.message.includes(path) ? path : '';
  const place = inputs.length > 1 ? `image ${i + 1} of ${inputs.length}` : '';
  if (!name && !place) return e;
  const Err = e instanceof ImageDecodeError ? ImageDecodeError : InputError;
  return new Err(`${[place, name].filter(Boolean).join(', ')}: ${e.message}`, { cause: e });
}

/** A promise that settles after the event loop has run once (other tasks, a page's input events). */
function nextTask(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void; MessageChannel?: typeof MessageChannel };
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  if (g.MessageChannel) {
    return new Promise((resolve) => {
      const c = new g.MessageChannel!();
      c.port1.onmessage = () => {
        c.port1.close();
        resolve();
      };
      c.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export class Model {
  /** The first dispose() (a second call waits for it too). */
  private disposing: Promise<void> | undefined;
  /**
   * The Wasm memory, its kernels and the executor: dropped by dispose(), so that a disposed Model its
   * caller still holds (a field of an app's state) does not keep the memory (~75 MiB) alive.
   */
  private held: { memory: WebAssembly.Memory; executor: Executor; kernels: Kernels } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly plans = new Map<string, Plan>();

  constructor(
    readonly info: ModelInfo,
    private readonly options: NetworkOptions & { model: ModelName },
    memory: WasmMemory,
    private readonly layout: Layout,
    private readonly maxBytes: number,
    executor: Executor,
    /** The kernels on this thread (the input check; with threads: 1 the executor's own instance). */
    kernels: Kernels,
    /** classify's and embed's maxDecodeBytes when the call does not say (the platform's). */
    private readonly defaultMaxDecodeBytes?: number,
    /** The plan of one image at the model's input size, made at load: kept, and prepared in the executor. */
    first?: Plan,
  ) {
    this.held = { memory, executor, kernels };
    if (first) {
      this.plans.set(planKey(first.n, first.net.input.h, first.net.input.w), first);
      executor.prepare?.(first);
    }
  }

  /** The executor, as tests and benchmarks reach it (m.executor); undefined once disposed. */
  protected get executor(): Executor | undefined {
    return this.held?.executor;
  }

  /** Once dispose() has been called (it drops what the model holds). */
  private get disposed(): boolean {
    return this.held === undefined;
  }

  private get live(): { memory: WebAssembly.Memory; executor: Executor; kernels: Kernels } {
    if (!this.held) throw new RuntimeError('model is disposed');
    return this.held;
  }

  private plan(n: number, h: number, w: number): Plan {
    const key = planKey(n, h, w);
    let p = this.plans.get(key);
    if (!p) {
      const net = buildNetwork(this.options.model, h, w, this.options);
      p = makePlan(net, n, this.layout);
      if (this.plans.size > 16) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(key, p);
    }
    return p;
  }

  private ensureMemory(bytes: number): void {
    if (bytes > this.maxBytes) {
      throw new RuntimeError(`out of memory: this input needs ${(bytes / 2 ** 20).toFixed(1)} MiB of Wasm memory, above the limit of ${(this.maxBytes / 2 ** 20).toFixed(0)} MiB (maxMemoryBytes); use a smaller batch or input`);
    }
    const { memory } = this.live;
    const have = memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new RuntimeError(`out of memory: could not grow the Wasm memory to ${(bytes / 2 ** 20).toFixed(1)} MiB`, { cause: e });
    }
  }

  /** Validate the input tensor; returns N, H, W. */
  private checkInput(input: TensorInput): [number, number, number] {
    if (!input || typeof input !== 'object') throw new InputError('input must be { data: Float32Array, shape: [N, H, W, C] }');
    const { data, shape } = input;
    if (!(data instanceof Float32Array)) throw new InputError('input.data must be a Float32Array');
    if (!Array.isArray(shape) || (shape.length !== 4 && shape.length !== 3)) {
      throw new InputError(`input.shape must be [N, H, W, C] (or [H, W, C]), got ${JSON.stringify(shape)}`);
    }
    const s = shape.length === 3 ? [1, ...shape] : shape;
    if (!s.every((d) => Number.isInteger(d) && d >= 0)) throw new InputError(`input.shape must hold whole numbers, got ${JSON.stringify(shape)}`);
    const [n, h, w, c] = s;
    if (n === 0) throw new InputError('input batch size is 0');
    const expectC = this.options.includeRootBlock === false ? 192 : 3;
    if (c !== expectC) throw new InputError(`input has ${c} channels, ${this.options.model} expects ${expectC}`);
    if (h === 0 || w === 0) throw new InputError(`input size ${h}x${w} is empty`);
    if (data.length !== n * h * w * c) {
      throw new InputError(`input.data has ${data.length} values, shape [${s}] needs ${n * h * w * c}`);
    }
    return [n, h, w];
  }

  /**
   * Plan the network for n images of h x w and grow the memory for them, as the first run of that shape
   * would, before any input exists: it rejects as that run would (a size too small for the network:
   * InputError; more memory than maxMemoryBytes: RuntimeError), and later runs of that shape start at once
   * (with threads, the workers already hold its program). Queued with the runs.
   */
  reserve(n: number, h: number, w: number): Promise<void> {
    return this.enqueue(() => {
      if (this.disposed) throw new RuntimeError('model is disposed');
      for (const [name, v] of [['batch', n], ['height', h], ['width', w]] as const) {
        if (!Number.isInteger(v) || v < 1) throw new InputError(`${name} must be a whole number >= 1, got ${shown(v)}`);
      }
      const plan = this.plan(n, h, w);
      this.ensureMemory(this.layout.arenaBase + plan.arenaBytes);
      this.live.executor.prepare?.(plan);
    });
  }

  /** Calls queued or running. */
  private pending = 0;

  /**
   * Run `job` after every call queued before it; a failure rejects this call only. On one thread (and in a
   * pool whose runs the calling thread may take part in) the network runs on the calling thread, so a call
   * queued behind another first lets the event loop run once (a page handles its input between two images,
   * a server its requests, not only after the whole queue).
   */
  private enqueue<T>(job: () => T | Promise<T>): Promise<T> {
    const behind = this.pending++ > 0 && this.held?.executor.blocksCaller === true;
    const p = this.queue.then(behind ? () => nextTask().then(job) : job);
    const done = () => void this.pending--;
    p.then(done, done);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Run the network; returns the requested end points (NHWC with the batch axis). Queued behind the calls
   * before it: the input is read when this run starts, so it must not change until the promise settles.
   */
  run<E extends string>(input: TensorInput, opts: { endpoints: readonly E[] }): Promise<Record<E, TensorData>>;
  run(input: TensorInput, opts?: RunOptions | null): Promise<Record<string, TensorData>>;
  run(input: TensorInput, opts: RunOptions | null = {}): Promise<Record<string, TensorData>> {
    return this.enqueue(() => this.runNow(input, opts ?? {}));
  }

  private async runNow(input: TensorInput, opts: RunOptions): Promise<Record<string, TensorData>> {
    const { memory, kernels, executor } = this.live; // (disposed: 'model is disposed')
    const [n, h, w] = this.checkInput(input);
    const plan = this.plan(n, h, w);
    const net = plan.net;
    if (typeof opts !== 'object') throw new InputError('run options must be an object, e.g. { endpoints: [...] }');
    const wanted = opts.endpoints === 'all' ? [...net.endpoints.keys()] : opts.endpoints ?? [net.output];
    if (!Array.isArray(wanted)) throw new InputError("endpoints must be an array of names or 'all'");
    for (const e of wanted) {
      if (!net.endpoints.has(e)) {
        throw new InputError(`unknown end point ${JSON.stringify(e)}; this model computes: ${[...net.endpoints.keys()].join(', ')}`);
      }
    }
    this.ensureMemory(this.layout.arenaBase + plan.arenaBytes);
    const at = plan.offsets.get(net.input.name)!;
    const writeInput = () => {
      new Float32Array(memory.buffer, at, input.data.length).set(input.data);
      // Finite values only (checked in the Wasm memory, SIMD: ~20x faster than a loop over the Float32Array).
      if (!kernels.allFinite(at, input.data.length)) {
        const i = input.data.findIndex((x) => !Number.isFinite(x));
        throw new InputError(`input holds a non-finite value (${input.data[i]}) at index ${i}`);
      }
    };
    const captured = new Map<string, TensorData>();
    const want = new Set(wanted);
    const byStep = new Map<number, string[]>();
    for (const c of plan.captures) if (want.has(c.endpoint)) byStep.set(c.afterStep, [...(byStep.get(c.afterStep) ?? []), c.endpoint]);
    // Finite input and weights can still overflow float32 inside the network (values near 1e38, or huge
    // weights); the kernels' ReLU keeps a NaN a NaN, so it reaches the end points, which are checked.
    let overflow: string | undefined;
    await executor.execute(plan, writeInput, (i) => {
      for (const e of byStep.get(i) ?? []) {
        const t = net.tensors.get(net.endpoints.get(e)!)!;
        const at = plan.offsets.get(t.name)!;
        const count = tensorBytes(t, n) / 4;
        if (overflow === undefined && !kernels.allFinite(at, count)) overflow = e;
        const data = new Float32Array(memory.buffer, at, count).slice();
        captured.set(e, { data, shape: net.squeezed.has(e) ? [n, t.c] : [n, t.h, t.w, t.c] });
      }
    }, new Set(byStep.keys()));
    if (this.disposed) throw new RuntimeError('model was disposed during the run');
    if (overflow !== undefined) {
      const largest = input.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const expects = this.options.includeRootBlock === false ? ''
        : this.options.model === 'googlenet' ? ' (this model expects pixels less their mean, about ±150)' : ' (this model expects values in [-1, 1])';
      throw new InputError(`end point ${overflow} came out non-finite (NaN or ±Infinity): float32 overflowed inside the network. `
        + `The input's largest magnitude is ${largest.toPrecision(3)}${expects}, or the weights are too large`);
    }
    // In network order, whenever each was captured (a thread pool groups captures into few stops).
    const result: Record<string, TensorData> = {};
    for (const i of [...byStep.keys()].sort((a, b) => a - b)) for (const e of byStep.get(i)!) result[e] = captured.get(e)!;
    return result;
  }

  /** The end point holding the probabilities and the pooled features of this network. */
  private heads(): { probs: string; features: string } {
    return this.options.model === 'googlenet'
      ? { probs: 'prob', features: 'pool5/7x7_s1' }
      : { probs: 'Predictions', features: this.options.globalPool ? 'global_pool' : 'AvgPool_0a_7x7' };
  }

  /** Decode and preprocess images into one batch tensor. */
  private async batch(inputs: readonly ImageInput[], limits: DecodeLimits): Promise<TensorData> {
    const decode = { maxPixels: limits.maxPixels, maxDecodeBytes: limits.maxDecodeBytes ?? this.defaultMaxDecodeBytes };
    if (this.options.includeRootBlock === false) throw new InputError('this model starts at Mixed_3b (includeRootBlock: false) and cannot take images');
    if (inputs.length === 0) throw new InputError('no images given');
    const data = new Float32Array(inputs.length * 224 * 224 * 3);
    for (let i = 0; i < inputs.length; i++) {
      let img;
      try {
        img = await toRGB(inputs[i], decode);
      } catch (e) {
        throw whichImage(e, inputs, i);
      }
      data.set(imageTensor(img, this.options.model), i * 224 * 224 * 3);
    }
    return { data, shape: [inputs.length, 224, 224, 3] };
  }

  /** Classify one image: the `top` most probable classes with labels. */
  async classify(input: ImageInput, opts: ClassifyOptions | null = {}): Promise<Prediction[]> {
    return (await this.classifyBatch([input], opts))[0];
  }

  /** Classify several images as one batch (faster per image than one by one). */
  async classifyBatch(inputs: readonly ImageInput[], opts: ClassifyOptions | null = {}): Promise<Prediction[][]> {
    if (this.disposed) throw new RuntimeError('model is disposed');
    opts = checkBatchArgs('classifyBatch', inputs, opts);
    const { probs } = this.heads();
    if (this.info.numClasses === 0 || (this.options.finalEndpoint && this.options.finalEndpoint !== probs)) {
      throw new InputError(`classify needs the full network up to ${probs}; this model stops at ${this.info.output}`);
    }
    const top = opts.top ?? 5;
    if (!Number.isInteger(top) || top < 1) throw new InputError(`top must be a whole number >= 1, got ${shown(top)}`);
    const labels = await labelsFor(this.options.model, this.info.numClasses, this.labels);
    const out = (await this.run(await this.batch(inputs, opts), { endpoints: [probs] }))[probs];
    const c = this.info.numClasses;
    return inputs.map((_, i) => topK(out.data.subarray(i * c, (i + 1) * c), top, labels));
  }

  /** The 1024 pooled features of one image (the input of the classifier). */
  async embed(input: ImageInput, opts: EmbedOptions | null = {}): Promise<PlainFloat32Array> {
    return (await this.embedBatch([input], opts))[0];
  }

  async embedBatch(inputs: readonly ImageInput[], opts: EmbedOptions | null = {}): Promise<PlainFloat32Array[]> {
    if (this.disposed) throw new RuntimeError('model is disposed');
    opts = checkBatchArgs('embedBatch', inputs, opts);
    const { features } = this.heads();
    if (!this.info.endpoints.some((e) => e.name === features)) {
      throw new InputError(`embed needs the network up to ${features}; this model stops at ${this.info.output}`);
    }
    const out = (await this.run(await this.batch(inputs, opts), { endpoints: [features] }))[features];
    const c = out.shape[out.shape.length - 1];
    return inputs.map((_, i) => out.data.slice(i * c, (i + 1) * c));
  }

  /**
   * loadModel's `labels` (inception_v1: with "background" put first when 1000 were given); undefined without
   * them on Node and in browsers (classify then names the classes from labels/synset_words.txt, or `class <index>`
   * for another number of classes); on the edge entry `class <index>` names without them.
   */
  labels?: string[];

  /** Bytes of Wasm memory (weights, scratch, activations) in use now; 0 once disposed. */
  get memoryBytes(): number {
    return this.held?.memory.buffer.byteLength ?? 0;
  }

  /**
   * End every worker and release the memory: the model lets go of it at once (a run in flight keeps it
   * until it has rejected). Calls after this are an error; a second dispose() resolves with the first.
   */
  dispose(): Promise<void> {
    if (!this.disposing) {
      const { executor } = this.held!;
      this.held = undefined;
      this.disposing = executor.dispose();
    }
    return this.disposing;
  }
}

/** loadModel on a given platform (the entry points export loadModel with theirs). */
export async function createModel(options: LoadOptions, platform: Platform): Promise<Model> {
  if (options === null || typeof options !== 'object') throw new InputError('loadModel options must be an object');
  const model = options.model ?? 'googlenet';
  if (model !== 'googlenet' && model !== 'inception_v1') {
    throw new InputError(`unknown model ${JSON.stringify(model)}; expected 'googlenet' or 'inception_v1'`);
  }
  const asked = options.threads === undefined ? undefined : checkThreads(options.threads);
  let threads = asked ?? checkThreads(await platform.defaultThreads());
  let threadsNote: string | undefined;
  if (threads > 1 || asked === undefined) {
    // Also when not asked: a runtime that can run only one thread (edge) says why, as README promises.
    const why = platform.singleThreadReason();
    if (why !== undefined) {
      threadsNote = `1 thread: ${why}`;
      // Asked for explicitly: say so where a developer looks, besides info.threadsNote.
      if (asked !== undefined) console.warn(`googlenet-wasm: threads: ${asked} asked, ${threadsNote}`);
      threads = 1;
    }
  }
  const netOpts: NetworkOptions & { model: ModelName } = {
    model,
    finalEndpoint: options.finalEndpoint,
    includeRootBlock: options.includeRootBlock,
    numClasses: options.numClasses,
    globalPool: options.globalPool,
    spatialSqueeze: options.spatialSqueeze,
  };
  // The network at the default size decides which weights are needed and gives the info.
  // A 224x224 image: 28x28x192 where the network starts at Mixed_3b / inception_3a (includeRootBlock:
  // false; a 224x224x192 input there would plan 4x the memory that input needs).
  const size = netOpts.includeRootBlock === false ? 28 : 224;
  const net = buildNetwork(model, size, size, netOpts);
  const shared = threads > 1;
  // The kernels compile while the weights are read (a weights error still comes first).
  const compiling = compileKernels({ shared, flavor: options.kernels, source: options.wasm });
  compiling.catch(() => undefined);
  const tensors = await resolveWeights(model, options.weights, platform.weightsInPlace);
  const numClasses = options.numClasses ?? DEFAULT_NUM_CLASSES[model];
  // Weights of the whole network (root block, logits) are never "extra", whatever part of it runs.
  const full = buildNetwork(model, 224, 224, { numClasses: numClasses || DEFAULT_NUM_CLASSES[model] });
  checkWeights(tensors, weightSpec(net), new Set(weightSpec(full).map((s) => s.name)));
  // Checked before any memory or worker exists, so a refusal leaves nothing behind.
  let labels = options.labels;
  if (labels !== undefined) {
    if (!Array.isArray(labels)) throw new InputError(`labels must be an array of ${numClasses} names, one per class; got ${kindOf(labels)}`);
    labels = withBackground(model, numClasses, labels);
    if (labels.length !== numClasses) throw new InputError(`labels must be an array of ${numClasses} names, one per class; got ${labels.length}`);
  }

  // Layout: control block, packed weights, scratch per thread, arena.
  const convs = net.layers.filter((l) => l.kind === 'conv');
  const packed = new Map<string, number>();
  let off = CONTROL_BYTES;
  const callerComputes = options.callerComputes ?? true;
  if (typeof callerComputes !== 'boolean') throw new InputError(`callerComputes must be true or false, got ${shown(callerComputes)}`);
  const winograd = options.winograd ?? true;
  if (![true, false, 2, 4].includes(winograd)) throw new InputError(`winograd must be true, false, 2 or 4, got ${shown(winograd)}`);
  const tile = winogradTile(winograd);
  for (const l of convs) {
    packed.set(l.scope, off);
    off += convWeightBytes(l, tile);
  }
  const weightBytes = off - CONTROL_BYTES;
  const scratchBase = off;
  const scratchBytes = scratchBytesFor(net);
  const arenaBase = scratchBase + threads * scratchBytes;
  const layout = { arenaBase, scratchBase, packed, winograd };
  const planDefault = makePlan(net, 1, layout);
  const maxBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0) || maxBytes > 2 ** 32) throw new InputError(`maxMemoryBytes must be between 1 and 2^32, got ${shown(maxBytes)}`);
  // Each layer's weights are staged past the packed weights (scratch and arena are unused until the first run).
  const stageBytes = packStageBytes(convs, tile);
  const initialBytes = Math.max(arenaBase + planDefault.arenaBytes, scratchBase + stageBytes);
  // In whole 64 KiB pages, as the memory is made: a limit a few bytes above the need still has fewer pages.
  const initial = Math.ceil(initialBytes / PAGE), maximum = Math.floor(maxBytes / PAGE);
  if (initial > maximum) {
    throw new RuntimeError(`out of memory: the model needs ${initialBytes} bytes (${initial} pages of 64 KiB), above maxMemoryBytes ${maxBytes}`);
  }
  const memory = new WebAssembly.Memory({
    initial,
    maximum,
    shared,
  } as WebAssembly.MemoryDescriptor);
  const km = await compiling;
  let kernels: Kernels;
  try {
    kernels = instantiateKernels(km.module, memory);
  } catch (e) {
    // Only a module given as the wasm option can fail here (the bundled builds link by construction).
    if (options.wasm === undefined) throw e;
    throw new InputError(`the wasm option's module does not link with this model's memory: ${(e as Error).message}. With threads > 1 it `
      + 'must be a shared-memory build (build/kernels.shared.wasm or build/kernels.relaxed.shared.wasm), with threads: 1 a non-shared one', { cause: e });
  }
  // The workers start (and instantiate the kernels: no data segments, nothing written) while this thread
  // packs the weights.
  let spawned!: () => void;
  const created = new Promise<void>((resolve) => (spawned = resolve));
  const starting = threads === 1 ? undefined : platform.startPool({ module: km.module, memory, threads, scratchBase, scratchBytes, controlBase: 0, onSpawned: spawned, ...(callerComputes ? { callerKernels: kernels } : {}) });
  // Until the pool has created its workers (it loads its modules first), or failed to.
  if (starting) await Promise.race([created, starting.then(() => undefined, () => undefined)]);
  try {
    const heap = new Float32Array(memory.buffer);
    // Every layer's unpacked weights, staged in the memory where the Winograd kernel reads them.
    const into = heap.subarray(scratchBase / 4, (scratchBase + stageBytes) / 4);
    for (const l of convs) {
      const { w, bias } = convWeights(net, l, tensors, into);
      packConvWeights(l, w, bias, tile, kernels, heap, packed.get(l.scope)! / 4);
    }
  } catch (e) {
    // (A bad batch norm variance is found only here.) The workers end before the call rejects.
    await starting?.then((p) => p.dispose(), () => undefined);
    throw e;
  }
  const executor: Executor = starting ? await starting : new InlineExecutor(kernels);
  const { parameters, macs } = accounting(net);
  const info: ModelInfo = {
    model,
    threads,
    ...(threadsNote ? { threadsNote } : {}),
    kernels: builtFlavor(kernels, km.flavor),
    parameters,
    macs,
    inputShape: [size, size, netOpts.includeRootBlock === false ? 192 : 3],
    output: net.output,
    numClasses,
    endpoints: [...net.endpoints].map(([name, t]) => {
      const x = net.tensors.get(t)!;
      return { name, shape: net.squeezed.has(name) ? [1, x.c] : [1, x.h, x.w, x.c] };
    }),
    peakActivationBytes: planDefault.arenaBytes,
    weightBytes,
  };
  const model_ = new Model(info, netOpts, memory, layout, maxBytes, executor, kernels, platform.maxDecodeBytes, planDefault);
  if (labels !== undefined) model_.labels = labels.map(String);
  return model_;
}
