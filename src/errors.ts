/**
 * Typed errors. Every failure a caller can cause is one of these classes, so callers can
 * `catch (e) { if (e instanceof InputError) … }`. `code` is a stable string for logs and JSON.
 */
const NAMES: Record<string, string> = {
  ERR_INPUT: 'InputError', ERR_WEIGHTS: 'WeightsError', ERR_IMAGE_DECODE: 'ImageDecodeError', ERR_RUNTIME: 'RuntimeError',
};

/** The `code` of each error class: InputError, WeightsError, ImageDecodeError, RuntimeError. */
export type GoogLeNetErrorCode = 'ERR_INPUT' | 'ERR_WEIGHTS' | 'ERR_IMAGE_DECODE' | 'ERR_RUNTIME';

export class GoogLeNetError extends Error {
  /** Stable across versions, for logs and JSON: one of GoogLeNetErrorCode for every error this package throws. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Spelled out, not new.target.name: a minified bundle renames the classes (e.name was "f").
    this.name = NAMES[code] ?? 'GoogLeNetError';
    this.code = code;
  }
}

/** A tensor, option or argument the caller passed is not acceptable. */
export class InputError extends GoogLeNetError {
  declare readonly code: 'ERR_INPUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INPUT', message, options);
  }
}

/** A weights file (safetensors) is malformed or does not fit the model. */
export class WeightsError extends GoogLeNetError {
  declare readonly code: 'ERR_WEIGHTS';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WEIGHTS', message, options);
  }
}

/** Encoded image bytes could not be decoded (or exceed the configured limits). */
export class ImageDecodeError extends GoogLeNetError {
  declare readonly code: 'ERR_IMAGE_DECODE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMAGE_DECODE', message, options);
  }
}

/** The model was disposed, a worker died, or the Wasm memory could not grow. */
export class RuntimeError extends GoogLeNetError {
  declare readonly code: 'ERR_RUNTIME';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RUNTIME', message, options);
  }
}

/** What a failed system call says in a message: its code (ENOENT, EACCES…), else the error's message. */
export const errnoOf = (e: unknown): string => (e as { code?: string }).code ?? String((e as Error)?.message ?? e);

/** A value as an error message shows it: strings quoted, so that '2' and 2 read differently. */
export const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A path or URL as messages name it: a long one (a data: URL of a whole image) cut to its start and length. */
export const nameOf = (p: string): string => (p.length <= 200 ? p : `${p.slice(0, 60)}… (${p.length} characters)`);

/** What kind of value `v` is, for messages that must not print it (bytes, a whole object). */
export function kindOf(v: unknown): string {
  if (v === null || typeof v !== 'object') return shown(v).slice(0, 80);
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
