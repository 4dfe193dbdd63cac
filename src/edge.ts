/**
 * The edge entry (package.json `exports` conditions "workerd", "edge-light", "worker"): Cloudflare Workers
 * and similar runtimes, where code cannot be generated at run time, there is no file system and no
 * shared-memory threads.
 *
 * - `wasm` is a compiled WebAssembly.Module: what workerd gives a Worker that imports a .wasm file
 *   (`import wasm from 'googlenet-wasm/build/kernels.wasm'`). Bytes are refused: compiling them is dynamic
 *   code generation, which these runtimes forbid.
 * - `weights` are safetensors bytes (a Data module's ArrayBuffer, an R2 object, a fetch body) or tensors.
 * - `labels`: the class names, as an array or as the text of labels/synset_words.txt (one per line; a Text
 *   module). Without them predictions are labelled `class <index>`.
 * - One thread, inline. Nothing reachable from this module imports the worker pool or any Node module.
 * - Stride-1 3x3 convolutions default to Winograd F(2x2, 3x3) here (`winograd: 2`), for memory.
 */
import { browserContext } from './context.js';
import { InputError } from './errors.js';
import { createModel, type LoadOptions, type Model, type Platform } from './model.js';
import { parseLabels } from './classify.js';
import { decodeImage as decodeAny, type DecodeOptions, type PlainRGBImage } from './image.js';
import type { Tensor } from './safetensors.js';
import type { WasmModule } from './wasm.js';

export { Model, type ModelInfo, type RunOptions, type TensorData, type TensorInput } from './model.js';
export { GoogLeNetError, InputError, WeightsError, ImageDecodeError, RuntimeError, type GoogLeNetErrorCode } from './errors.js';
export { parseSafetensors, encodeSafetensors, type Tensor, type ParseOptions, type SafetensorsFile } from './safetensors.js';
export { buildNetwork, accounting, endpointNames, ENDPOINTS, type ModelName, type NetworkOptions, type Network } from './topology.js';
export { weightSpec, type WeightSpec } from './weights.js';
export type { KernelFlavor, WasmMemory, WasmModule, WasmSource } from './wasm.js';
export { fromPixels, preprocess, DEFAULT_MAX_PIXELS, type RGBImage, type DecodeOptions, type PreprocessModel, type PlainFloat32Array, type PlainUint8Array, type PlainRGBImage } from './image.js';
export { parseLabels, type ImageInput, type ImagePixels, type DrawableImage, type Prediction, type ClassifyOptions, type DecodeLimits, type EmbedOptions } from './classify.js';

/** The edge entry's default maxDecodeBytes: decodeImage's, classify's and embed's (the Node entry's is 1 GiB). */
export const EDGE_MAX_DECODE_BYTES = 32 * 2 ** 20;
/** This entry's default maxDecodeBytes, under the name the other entries give theirs. */
export { EDGE_MAX_DECODE_BYTES as DEFAULT_MAX_DECODE_BYTES };

/**
 * Decode PNG or JPEG bytes to 8-bit RGB (see the Node entry's decodeImage), refusing by default any image
 * whose decoding would take more than EDGE_MAX_DECODE_BYTES (32 MiB) here, as classify and embed do.
 */
export function decodeImage(bytes: Uint8Array | ArrayBuffer, opts?: DecodeOptions): PlainRGBImage {
  return decodeAny(bytes, { ...opts, maxDecodeBytes: opts?.maxDecodeBytes ?? EDGE_MAX_DECODE_BYTES });
}

export const edgePlatform: Platform = {
  defaultThreads: () => 1,
  singleThreadReason: () => 'edge runtimes run one thread (no shared-memory workers)',
  startPool: () => Promise.reject(new InputError('edge runtimes run one thread')),
  // Isolates are often capped at 128 MB, and the model takes about 75 MB of it (45 MiB of Wasm memory with
  // winograd: 2, and the weights' bytes): a 100 KB PNG declaring 5000×5000 would take ~250 MB to decode.
  maxDecodeBytes: EDGE_MAX_DECODE_BYTES,
  // A copy of the weights' bytes (28 MB) would sit beside them and the Wasm memory while loading: ~105 MB
  // at the peak of an isolate capped at 128 MB. The Worker's weights (a Data module, an R2 object) are its
  // own and stay unchanged.
  weightsInPlace: true,
};

export interface EdgeLoadOptions extends Omit<LoadOptions, 'wasm' | 'weights' | 'labels'> {
  /** The kernel module, compiled by the runtime: build/kernels.wasm, or kernels.relaxed.wasm where relaxed SIMD runs (info.kernels says which it is). */
  wasm: WasmModule;
  /** safetensors bytes, or tensors by name. */
  weights: Uint8Array | ArrayBuffer | Map<string, Tensor>;
  /** Class names: an array, or the text of a labels file (one per line, WordNet ids dropped). */
  labels?: readonly string[] | string | undefined;
}

/**
 * Bundlers that build for a worker target pass the `worker` condition (webpack's target 'webworker' does),
 * which names edge runtimes in this package's `exports`: a browser Web Worker gets this entry, and a
 * `loadModel()` or `loadModel({})` that works with the browser entry failed here saying that `wasm` must
 * be a WebAssembly.Module, with no word of why.
 */
const BROWSER_WORKER =
  "this is googlenet-wasm's edge entry (dist/edge.js), which needs `wasm` (a WebAssembly.Module) and `weights`; the bundler " +
  "picked it for the `worker` export condition (as webpack's target 'webworker' does), which this package gives edge runtimes. " +
  "In a browser Web Worker import from 'googlenet-wasm/browser' instead: its loadModel() finds the kernels and weights by itself";

export async function loadModel(options: EdgeLoadOptions): Promise<Model> {
  if ((options === undefined || (options !== null && typeof options === 'object' && options.wasm === undefined)) && browserContext() !== undefined) {
    throw new InputError(BROWSER_WORKER);
  }
  if (options === null || typeof options !== 'object') throw new InputError('loadModel options must be an object');
  if (!(options.wasm instanceof WebAssembly.Module)) {
    throw new InputError(
      'on edge runtimes `wasm` must be a WebAssembly.Module: import the kernels (`import wasm from ' +
        "'googlenet-wasm/build/kernels.wasm'`) so the runtime compiles them; compiling bytes at run time is not allowed here",
    );
  }
  const w = options.weights;
  if (!(w instanceof Uint8Array || w instanceof ArrayBuffer || w instanceof Map)) {
    throw new InputError('on edge runtimes `weights` must be safetensors bytes (Uint8Array or ArrayBuffer) or a Map of tensors; fetch them first (there is no file system)');
  }
  const labels = typeof options.labels === 'string' ? parseLabels(options.labels) : options.labels;
  // F(2x2, 3x3) by default: the F(4x4) weights take 72 MiB of Wasm memory for googlenet against 45 MiB, and
  // isolates here are often capped at 128 MB (README, "Edge runtimes").
  const winograd = options.winograd ?? 2;
  const m = await createModel({ ...options, labels, winograd, kernels: options.kernels ?? 'simd' }, edgePlatform);
  // Without labels, classes are named by number (there is no labels file to read here); made once the
  // model, and so numClasses, has been checked against the weights.
  m.labels ??= Array.from({ length: m.info.numClasses }, (_, i) => `class ${i}`);
  return m;
}
