/**
 * A browser's drawable image sources (ImageBitmap, <img>, <canvas>, OffscreenCanvas, <video>, VideoFrame)
 * as pixels: drawn at their natural size into a canvas and read back with getImageData, then handed to
 * fromPixels like any `{ data, width, height }`. Recognised only by `instanceof` against constructors that
 * exist on globalThis, so Node and edge runtimes (which have none of them) never reach any DOM API here.
 * No Node imports: this module is part of every entry.
 */
import { checkPixelLimits, fromPixels, type DecodeOptions, type RGBImage } from './image.js';
import { InputError } from './errors.js';

/**
 * The global class `K`'s instance type where the consumer's lib declares it (lib "dom", "webworker"),
 * `never` where it does not: the package's types need no DOM lib, and with one they are the exact DOM types.
 */
type GlobalInstance<K extends string> = typeof globalThis extends { [P in K]: { prototype: infer T } } ? T : never;

/**
 * A browser's drawable image: ImageBitmap, HTMLImageElement (<img>, SVG included), HTMLCanvasElement,
 * OffscreenCanvas, HTMLVideoElement or VideoFrame. Each is `never` where the TypeScript lib does not
 * declare it (Node without lib "dom"), so this adds nothing there.
 */
export type DrawableImage =
  | GlobalInstance<'ImageBitmap'>
  | GlobalInstance<'HTMLImageElement'>
  | GlobalInstance<'HTMLCanvasElement'>
  | GlobalInstance<'OffscreenCanvas'>
  | GlobalInstance<'HTMLVideoElement'>
  | GlobalInstance<'VideoFrame'>;

const KINDS = ['ImageBitmap', 'HTMLImageElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'HTMLVideoElement', 'VideoFrame'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Is `x` an instance of the global class `name` (a drawable kind, Blob, File)? False where the runtime has no
 * such class (Node and workerd have no DOM classes).
 */
export function instanceOfGlobal<T>(x: unknown, name: string): x is T {
  const C = (globalThis as unknown as Record<string, unknown>)[name];
  return typeof C === 'function' && x instanceof C;
}

/** Which drawable kind `x` is, or undefined (always, where none of the constructors exist). */
export function drawableKind(x: unknown): Kind | undefined {
  return KINDS.find((k) => instanceOfGlobal(x, k));
}

interface Sized {
  width: number; height: number; naturalWidth: number; naturalHeight: number; complete: boolean;
  videoWidth: number; videoHeight: number; readyState: number; displayWidth: number; displayHeight: number;
}

/** The source's natural size, or an InputError saying why it has no pixels to read yet. */
function sizeOf(kind: Kind, s: Sized): [number, number] {
  switch (kind) {
    case 'HTMLImageElement':
      if (!s.complete) throw new InputError('an <img> that has not finished loading: await img.decode() (or its load event) first');
      if (!s.naturalWidth || !s.naturalHeight) {
        throw new InputError('an <img> with no pixels: it failed to load (broken or unsupported image), has no src, or (an SVG) has no intrinsic size');
      }
      return [s.naturalWidth, s.naturalHeight];
    case 'HTMLVideoElement':
      if (s.readyState < 2 || !s.videoWidth || !s.videoHeight) {
        throw new InputError(`a <video> with no frame yet (readyState ${s.readyState}): wait for its loadeddata event (readyState >= 2, HAVE_CURRENT_DATA)`);
      }
      return [s.videoWidth, s.videoHeight];
    case 'VideoFrame':
      if (!s.displayWidth || !s.displayHeight) throw new InputError('a VideoFrame with no pixels: it is closed (close() was called) or empty');
      return [s.displayWidth, s.displayHeight];
    case 'ImageBitmap':
      if (!s.width || !s.height) throw new InputError('an ImageBitmap with no pixels: it is closed (close() was called, or it was transferred) or zero-size');
      return [s.width, s.height];
    default: {
      const what = kind === 'OffscreenCanvas' ? 'an OffscreenCanvas' : 'a <canvas>';
      if (!s.width || !s.height) throw new InputError(`${what} of zero size (${s.width}×${s.height})`);
      return [s.width, s.height];
    }
  }
}

type Ctx = {
  drawImage(s: unknown, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray; width: number; height: number };
};

/** A 2D context on a fresh canvas: an OffscreenCanvas, else a document's <canvas> (older browsers). */
function context(w: number, h: number, what: string): Ctx {
  const g = globalThis as unknown as {
    OffscreenCanvas?: new (w: number, h: number) => { getContext(t: '2d', o: object): unknown };
    document?: { createElement(t: 'canvas'): { width: number; height: number; getContext(t: '2d', o: object): unknown } };
  };
  const opts = { willReadFrequently: true, colorSpace: 'srgb', alpha: true };
  let ctx: unknown;
  if (typeof g.OffscreenCanvas === 'function') {
    ctx = new g.OffscreenCanvas(w, h).getContext('2d', opts);
  } else if (g.document && typeof g.document.createElement === 'function') {
    const c = g.document.createElement('canvas');
    c.width = w;
    c.height = h;
    ctx = c.getContext('2d', opts);
  } else {
    throw new InputError(`${what}: this runtime has no canvas (OffscreenCanvas or document) to read its pixels with; pass the encoded bytes or { data, width, height }`);
  }
  if (!ctx) throw new InputError(`${what}: the browser could not make a ${w}×${h} canvas to read it (too large for its canvas limits?)`);
  return ctx as Ctx;
}

const NAMES: Record<Kind, string> = {
  ImageBitmap: 'an ImageBitmap', HTMLImageElement: 'an <img>', HTMLCanvasElement: 'a <canvas>', OffscreenCanvas: 'an OffscreenCanvas',
  HTMLVideoElement: 'a <video>', VideoFrame: 'a VideoFrame',
};

/**
 * A drawable source's pixels as RGB, at its natural size (no scaling, so no resampling by the browser):
 * limits (maxPixels, maxDecodeBytes) checked on that size before any canvas is made.
 */
export function fromDrawable(src: object, kind: Kind, limits: DecodeOptions = {}): RGBImage {
  const what = NAMES[kind];
  const [w, h] = sizeOf(kind, src as Sized);
  checkPixelLimits(what, w, h, limits);
  const ctx = context(w, h, what);
  let data: { data: Uint8ClampedArray; width: number; height: number };
  try {
    ctx.drawImage(src, 0, 0, w, h);
    data = ctx.getImageData(0, 0, w, h);
  } catch (e) {
    const name = (e as { name?: string })?.name;
    if (name === 'SecurityError') {
      throw new InputError(
        `${what} whose pixels the page may not read: it is cross-origin (a tainted canvas). Serve it with CORS and set crossOrigin = 'anonymous' before its src, or fetch it and pass the Blob or bytes`,
        { cause: e },
      );
    }
    if (name === 'InvalidStateError') throw new InputError(`${what} that cannot be drawn (closed, detached or not decoded): ${(e as Error).message}`, { cause: e });
    throw new InputError(`${what} could not be read through a canvas: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  return fromPixels(data);
}
