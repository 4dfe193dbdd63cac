/**
 * From pictures to answers: turn any accepted image input into the model's input tensor, and logits or
 * probabilities into labelled predictions. Runs in Node, browsers and edge runtimes (a file path is the
 * only Node-only input, read lazily through node:fs).
 */
import { decodeImage, fromPixels, preprocess, type RGBImage } from './image.js';
import { InputError, kindOf, shown } from './errors.js';
import { MAX_ASSET_BYTES, readAsset, readPathOrUrl } from './assets.js';
import { drawableKind, fromDrawable, instanceOfGlobal, type DrawableImage } from './drawable.js';
export type { DrawableImage } from './drawable.js';
import { DEFAULT_NUM_CLASSES, type ModelName } from './topology.js';

/** Pixels: RGBA (a canvas's ImageData) or RGB, 4 or 3 bytes per pixel, row-major. */
export interface ImagePixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Encoded PNG / JPEG bytes (Uint8Array, ArrayBuffer, or a Blob / File, read and decoded as those bytes), a
 * path (Node) or URL (string or URL object; `https:` ones are fetched), pixels `{ data, width, height }`
 * (RGBA ImageData or RGB), or in browsers a drawable image (ImageBitmap, <img>, <canvas>, OffscreenCanvas,
 * <video>, VideoFrame), read at its natural size through a canvas. DrawableImage is `never` without the
 * DOM lib, so Node consumers need no lib "dom".
 */
export type ImageInput = Uint8Array | ArrayBuffer | Blob | string | URL | ImagePixels | DrawableImage;

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Limits on decoding an encoded image (classify, embed and their batch forms). */
export interface DecodeLimits {
  /** Refuse images whose declared width x height exceeds this (default 50 megapixels). */
  maxPixels?: number | undefined;
  /**
   * Refuse images whose decoding would take more memory than this many bytes, estimated from the header
   * before anything is allocated (decodeImage's option; default 1 GiB on Node and in browsers, 32 MiB on
   * the edge entry).
   */
  maxDecodeBytes?: number | undefined;
}

export interface ClassifyOptions extends DecodeLimits {
  /** How many classes to return, most probable first (default 5). */
  top?: number | undefined;
}

/** embed's and embedBatch's options. */
export type EmbedOptions = DecodeLimits;

/**
 * Shorter side the preprocessing needs before it resizes (googlenet: 256; inception_v1: a 224 crop of
 * 87.5 %, 256 too): a JPEG 2, 4 or 8 times that size decodes at 1/2, 1/4 or 1/8 scale (decodeImage's minSize).
 */
export const DECODE_MIN_SIZE = 256;

/** A File's name for messages (a plain Blob has none). */
function blobName(b: Blob): string {
  const name = (b as { name?: unknown }).name;
  return typeof name === 'string' && name ? `the File ${JSON.stringify(name)}` : 'the Blob';
}

/** An image input's File name for messages, or '' for anything that is not a File. */
export function fileName(x: unknown): string {
  return instanceOfGlobal<Blob>(x, 'File') ? blobName(x) : '';
}

/**
 * A Blob's or File's bytes. Refused above MAX_ASSET_BYTES before reading, as a path or URL is (the bytes
 * a caller already holds have no such limit: they are in memory already; a File may not be).
 */
async function readBlob(b: Blob): Promise<Uint8Array> {
  const name = blobName(b);
  if (b.size > MAX_ASSET_BYTES) throw new InputError(`cannot read ${name}: ${b.size} bytes, above the limit of ${MAX_ASSET_BYTES}`);
  try {
    return new Uint8Array(await b.arrayBuffer());
  } catch (e) {
    // A File changed or removed on disk since it was chosen: NotReadableError.
    throw new InputError(`cannot read ${name}: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

/** Decode an image input to RGB (validated, pixel limit applied before decoding). */
export async function toRGB(input: ImageInput, limits: DecodeLimits = {}): Promise<RGBImage> {
  const opts = { maxPixels: limits.maxPixels, maxDecodeBytes: limits.maxDecodeBytes, minSize: DECODE_MIN_SIZE };
  if (input instanceof ArrayBuffer) input = new Uint8Array(input);
  if (input instanceof Uint8Array) return decodeImage(input, opts);
  if (typeof input === 'string' || input instanceof URL) return decodeImage(await readPathOrUrl(input), opts);
  if (instanceOfGlobal<Blob>(input, 'Blob')) return decodeImage(await readBlob(input), opts);
  // Browsers only: where the constructors do not exist (Node, edge runtimes) this is always undefined.
  const drawable = drawableKind(input);
  if (drawable) return fromDrawable(input as object, drawable, opts);
  if (input && typeof input === 'object' && 'data' in input) return fromPixels(input);
  throw new InputError(`image input must be encoded bytes (Uint8Array, ArrayBuffer, Blob or File), a path or URL (string or URL), { data, width, height } pixels, or in browsers an ImageBitmap, <img>, <canvas>, OffscreenCanvas, <video> or VideoFrame; got ${kindOf(input)}`);
}

/** The model's 224x224 input tensor (HWC float32) for one image. */
export function imageTensor(img: RGBImage, model: ModelName, size = 224): Float32Array {
  return preprocess(img, model, size);
}

let synsets: Promise<readonly string[]> | undefined;

/** The names read once and shared by every model's classify (never handed out: see imagenetLabels). */
function synsetNames(): Promise<readonly string[]> {
  synsets ??= readAsset(new URL('../labels/synset_words.txt', import.meta.url)).then((b) => Object.freeze(parseLabels(new TextDecoder().decode(b))));
  return synsets;
}

/**
 * The 1000 ILSVRC-2012 class names (line k = BVLC output k), from the package's labels/synset_words.txt: a new
 * array each call (the file is read once), so that changing it changes no model's predictions.
 */
export async function imagenetLabels(): Promise<string[]> {
  return (await synsetNames()).slice();
}

/** One label per non-empty line; a leading WordNet id (`n01440764 tench, Tinca tinca`) is dropped. */
export function parseLabels(text: string | Uint8Array): string[] {
  if (text instanceof Uint8Array) text = new TextDecoder().decode(text);
  if (typeof text !== 'string') throw new InputError('parseLabels takes the text of a labels file (a string or its UTF-8 bytes)');
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/^n\d{8}\s+/, ''));
}

/**
 * Names for a model's classes: the 1000 ImageNet names (labels/synset_words.txt) serve TF-slim's
 * inception_v1, whose 1001 classes have "background" first, with that name put in front; any other list
 * as it is.
 */
export function withBackground(model: ModelName, numClasses: number, names: readonly string[]): readonly string[] {
  return model === 'inception_v1' && numClasses === 1001 && names.length === 1000 ? ['background', ...names] : names;
}

/** Labels for a model's outputs: BVLC has the 1000 classes, TF-slim 1001 with "background" first. */
export async function labelsFor(model: ModelName, numClasses: number, custom?: readonly string[]): Promise<readonly string[]> {
  if (custom) {
    if (custom.length !== numClasses) throw new InputError(`labels: ${custom.length} labels for a model with ${numClasses} classes`);
    return custom;
  }
  // The ImageNet names are read only for the ImageNet classifiers.
  if (numClasses !== DEFAULT_NUM_CLASSES[model]) return Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  return withBackground(model, numClasses, await synsetNames());
}

/** The top `k` entries of a probability vector, most probable first (ties: lower index first). */
export function topK(probs: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`top must be a whole number >= 1, got ${shown(k)}`);
  const idx = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b).slice(0, Math.min(k, probs.length));
  return idx.map((index) => ({ index, label: labels[index] ?? `class ${index}`, probability: probs[index] }));
}
