/**
 * Image layer: decode PNG / JPEG bytes to 8-bit RGB, accept canvas-style pixels, and turn an RGB image
 * into the float32 HWC input tensor each model expects.
 *
 * Runs unchanged in Node, browsers and Cloudflare workerd: no Node APIs, only Uint8Array / typed arrays
 * and two pure-JS decoders (jpeg-js, fast-png; fast-png's inflater, fflate, also says what is wrong with
 * image data fast-png refuses).
 *
 * Untrusted input: the declared width × height is read from the header (PNG IHDR, JPEG SOFn) and checked
 * against `maxPixels` BEFORE any decoder runs or any pixel buffer is allocated; a JPEG's, also against
 * the number of bytes its first scan has (checkScanFits), so a small file cannot claim a large frame.
 * Every failure, including exceptions thrown inside the decoders, is an ImageDecodeError naming the reason.
 *
 * Decisions (kept in one place so they can be cited):
 * - Alpha (PNG alpha channels, tRNS colour keys, palette alpha) is composited over white:
 *   out = round(255 · (c·a + max·(max − a)) / max²) in the image's own bit depth.
 * - 16-bit samples become the nearest 8-bit value, round(v / 257) (libpng's png_set_scale_16; PIL and
 *   libpng's png_set_strip_16 take the high byte v >> 8 instead, at most one level lower).
 * - 1/2/4-bit greyscale is scaled exactly (v · 255 / (2^depth − 1)).
 * - JPEG EXIF orientation is NOT applied (neither Caffe, PIL's plain open nor djpeg apply it).
 * - PNG: like libpng, a CRC error in a critical chunk (IHDR, PLTE, IDAT, IEND) is fatal and a damaged
 *   ancillary chunk is ignored; ancillary chunks (text, ICC, APNG frames…) are never parsed. Known
 *   limit: fast-png inflates IDAT without an output cap; the compressed size is bounded by what the
 *   declared size can need (≤ 2× raw + 64 KiB), so a bomb yields at most ~1032× that.
 * - JPEG: baseline and progressive files go to jpeg-baseline.ts (libjpeg's IDCTs), what it does not take
 *   to jpeg-js; 3-component images are then upsampled and colour-converted exactly as libjpeg-turbo does
 *   by default (fancy upsampling, rounded fixed-point YCbCr→RGB), so results are djpeg's bit for bit
 *   (jpeg-js's within its IDCT's ±1 rounding).
 */
import jpeg from 'jpeg-js';
import { decode as decodePngPixels } from 'fast-png';
import { Unzlib } from 'fflate';
import { ImageDecodeError, InputError, shown } from './errors.js';
import { decodeBaselineJpeg, forEachLaterSegment, frameLayout, layoutBytes, tableBytes, type JpegScale } from './jpeg-baseline.js';

/** Default refusal threshold for declared image sizes (width × height). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Default refusal threshold for the memory one decode takes (estimated from the header): 1 GiB. Under
 * DEFAULT_MAX_PIXELS an 8-bit PNG takes at most ~1 GB, a baseline JPEG ~0.3 GB (CMYK ~0.55) and a
 * progressive one 7-12 bytes per pixel (CMYK 19, its coefficients 2 bytes a sample): ~0.6 GB (CMYK
 * ~0.95), but a 16-bit PNG 27-35 bytes per pixel: a file of ~100 KB can declare 7000×7000 and ask for
 * 1.3-1.7 GB. jpeg-js (the JPEGs the own decoder does not take) would take ~768 bytes an 8×8 block.
 */
export const DEFAULT_MAX_DECODE_BYTES = 2 ** 30;

/** 8-bit RGB, 3 bytes per pixel, row-major, no padding (a Uint8ClampedArray is taken too). */
export interface RGBImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** Refuse images whose declared width × height exceeds this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number | undefined;
  /**
   * The caller needs only this many pixels on the shorter side (it will shrink the image anyway): a
   * JPEG at least 2, 4 or 8 times that size may then be decoded at 1/2, 1/4 or 1/8 scale, each 8×8 block
   * reduced as `djpeg -scale 1/2` / `1/4` / `1/8` does, two to several times faster than in full.
   * Default: full size.
   */
  minSize?: number | undefined;
  /**
   * Refuse images whose decoding would take more than this many bytes of memory, as estimated from the
   * header before anything is allocated (the decoder's buffers at the scale it decodes: a large baseline
   * JPEG decoded at 1/8 takes little, an 8-bit RGB PNG about 15 bytes per pixel, a progressive JPEG 7 to
   * 12 in full, 2 to 6 at 1/8). Default DEFAULT_MAX_DECODE_BYTES: 1 GiB; 32 MiB on the edge entry.
   */
  maxDecodeBytes?: number | undefined;
}

export type PreprocessModel = 'googlenet' | 'inception_v1';

// ---------------------------------------------------------------------------------------------------
// decodeImage
// ---------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** A short guess at what the bytes are, for the "not a PNG or JPEG" message. */
function sniffOther(b: Uint8Array): string {
  if (ascii(b, 0, 4) === 'GIF8') return '; looks like GIF';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return '; looks like WebP';
  if (ascii(b, 0, 2) === 'BM') return '; looks like BMP';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return '; looks like TIFF';
  if (ascii(b, 4, 8) === 'ftyp') return `; looks like an ISO media file (${ascii(b, 8, 12)}: HEIC/AVIF?)`;
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xd8) return '; a JPEG start marker with nothing usable after it';
  let printable = 0;
  const n = Math.min(b.length, 64);
  for (let i = 0; i < n; i++) if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] === 9 || b[i] === 10 || b[i] === 13) printable++;
  if (n > 0 && printable === n) return '; looks like text';
  return '';
}

function checkMaxPixels(opts: DecodeOptions | undefined): number {
  const maxPixels = opts?.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !(maxPixels >= 1) || !Number.isFinite(maxPixels)) {
    throw new InputError(`decodeImage: maxPixels must be a finite number >= 1, got ${shown(maxPixels)}`);
  }
  return Math.floor(maxPixels);
}

function checkMaxDecodeBytes(opts: DecodeOptions | undefined): number {
  const limit = opts?.maxDecodeBytes ?? DEFAULT_MAX_DECODE_BYTES;
  if (typeof limit !== 'number' || !(limit >= 1)) {
    throw new InputError(`decodeImage: maxDecodeBytes must be a number >= 1 (or Infinity), got ${shown(limit)}`);
  }
  return limit;
}

/** Refuse a decode whose buffers (`bytes`, estimated from the header) exceed the caller's limit. */
function checkDecodeBytes(kind: string, width: number, height: number, bytes: number, limit: number, how = ''): void {
  if (bytes > limit) {
    const mib = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`;
    throw new ImageDecodeError(
      `${kind}: decoding this ${width}×${height} image${how} would take about ${mib(bytes)} of memory, more than the limit of ${mib(limit)} (maxDecodeBytes)`,
    );
  }
}

function checkDeclaredSize(kind: string, width: number, height: number, maxPixels: number): void {
  if (width === 0 || height === 0) {
    throw new ImageDecodeError(`${kind}: image has a zero size (${width}×${height})`);
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new ImageDecodeError(
      `${kind}: image is ${width}×${height} = ${pixels} pixels, more than the limit of ${maxPixels} (maxPixels)`,
    );
  }
}

/**
 * The limits applied to pixels that come from elsewhere than encoded bytes (a browser's drawable source,
 * read through a canvas), before anything is allocated: maxPixels as for a decode, and maxDecodeBytes
 * against the canvas's RGBA readback plus the RGB copy (7 bytes per pixel).
 */
export function checkPixelLimits(kind: string, width: number, height: number, opts?: DecodeOptions): void {
  const maxPixels = checkMaxPixels(opts);
  const maxBytes = checkMaxDecodeBytes(opts);
  checkDeclaredSize(kind, width, height, maxPixels);
  checkDecodeBytes(kind, width, height, width * height * 7, maxBytes, ' (read through a canvas)');
}

function reason(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/**
 * Decode PNG or JPEG bytes (Uint8Array or ArrayBuffer) to 8-bit RGB. The format is sniffed from the magic bytes, never from a name
 * or MIME type. Throws ImageDecodeError for anything that is not a decodable PNG/JPEG within the limits.
 */
export function decodeImage(bytes: Uint8Array | ArrayBuffer, opts?: DecodeOptions): PlainRGBImage {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError('decodeImage: expected the encoded image as a Uint8Array or ArrayBuffer');
  }
  const maxPixels = checkMaxPixels(opts);
  const maxBytes = checkMaxDecodeBytes(opts);
  const minSize = opts?.minSize;
  if (minSize !== undefined && !(Number.isSafeInteger(minSize) && minSize >= 1)) {
    throw new InputError(`minSize must be a whole number >= 1, got ${shown(minSize)}`);
  }
  if (bytes.length === 0) throw new ImageDecodeError('image is empty (0 bytes)');

  let isPng = bytes.length >= 8;
  for (let i = 0; i < 8 && i < bytes.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) isPng = false;
  if (!isPng && bytes.length < 8 && bytes.length >= 4 && PNG_SIGNATURE.every((v, i) => i >= bytes.length || bytes[i] === v)) {
    throw new ImageDecodeError(`PNG: truncated (only ${bytes.length} bytes, not even the 8-byte signature)`);
  }
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

  if (isPng) return decodePng(bytes, maxPixels, maxBytes);
  if (isJpeg) return decodeJpeg(bytes, maxPixels, maxBytes, minSize);
  throw new ImageDecodeError(`not a PNG or JPEG image (starts with ${hex(bytes, 8)}${sniffOther(bytes)})`);
}

// ----------------------------------------------- PNG -----------------------------------------------

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 as used by PNG chunks (ISO 3309 / ITU-T V.42). */
function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** Valid bit depths per PNG colour type (PNG spec table 11.1). */
const PNG_DEPTHS: Record<number, { channels: number; depths: number[]; name: string }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], name: 'greyscale' },
  2: { channels: 3, depths: [8, 16], name: 'truecolour' },
  3: { channels: 1, depths: [1, 2, 4, 8], name: 'indexed' },
  4: { channels: 2, depths: [8, 16], name: 'greyscale+alpha' },
  6: { channels: 4, depths: [8, 16], name: 'truecolour+alpha' },
};

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function decodePng(b: Uint8Array, maxPixels: number, maxBytes: number): PlainRGBImage {
  const n = b.length;
  // ---- walk the chunks: IHDR first, critical chunks CRC-checked, everything but IHDR/IDAT/IEND is
  // consumed here (PLTE, tRNS) or dropped (text, ICC, APNG…), so fast-png only inflates and unfilters.
  if (n < 8 + 8 + 13 + 4) throw new ImageDecodeError(`PNG: truncated (${n} bytes, shorter than signature + IHDR)`);
  if (u32(b, 8) !== 13 || ascii(b, 12, 16) !== 'IHDR') {
    throw new ImageDecodeError('PNG: the first chunk is not a 13-byte IHDR');
  }
  if (crc32(b, 12, 12 + 4 + 13) !== u32(b, 12 + 4 + 13)) {
    throw new ImageDecodeError('PNG: IHDR CRC mismatch (corrupt header)');
  }
  const width = u32(b, 16);
  const height = u32(b, 20);
  const depth = b[24];
  const colorType = b[25];
  if (width > 0x7fffffff || height > 0x7fffffff) {
    throw new ImageDecodeError(`PNG: IHDR size ${width}×${height} exceeds the PNG maximum of 2^31-1`);
  }
  // Size check first: it is what a caller relies on, and it needs nothing but IHDR.
  checkDeclaredSize('PNG', width, height, maxPixels);
  const ct = PNG_DEPTHS[colorType];
  if (!ct) throw new ImageDecodeError(`PNG: invalid colour type ${colorType}`);
  if (!ct.depths.includes(depth)) {
    throw new ImageDecodeError(`PNG: bit depth ${depth} is not valid for ${ct.name} (colour type ${colorType})`);
  }
  if (b[26] !== 0) throw new ImageDecodeError(`PNG: unknown compression method ${b[26]}`);
  if (b[27] !== 0) throw new ImageDecodeError(`PNG: unknown filter method ${b[27]}`);
  const interlace = b[28];
  if (interlace !== 0 && interlace !== 1) throw new ImageDecodeError(`PNG: unknown interlace method ${interlace}`);
  if (interlace === 1 && depth < 8) {
    // fast-png 8.0.0 mis-computes Adam7 pass strides below 8 bits per sample (silently wrong pixels).
    throw new ImageDecodeError(`PNG: Adam7-interlaced images with ${depth}-bit samples are not supported`);
  }
  const channels = ct.channels;

  let palette: Uint8Array | null = null; // RGBA entries
  let paletteLen = 0;
  let trns: Uint8Array | null = null;
  const idat: Array<[number, number]> = [];
  let idatBytes = 0;
  let sawIend = false;
  let p = 8 + 12 + 13;
  while (p < n) {
    if (p + 8 > n) throw new ImageDecodeError(`PNG: truncated (chunk header at offset ${p} runs past the end)`);
    const len = u32(b, p);
    const type = ascii(b, p + 4, p + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new ImageDecodeError(`PNG: corrupt chunk type at offset ${p} (${hex(b.subarray(p + 4), 4)})`);
    if (len > 0x7fffffff || p + 12 + len > n) {
      throw new ImageDecodeError(`PNG: truncated (${type} chunk at offset ${p} declares ${len} bytes, the file ends first)`);
    }
    const dataStart = p + 8;
    const critical = (b[p + 4] & 0x20) === 0;
    const crcOk = crc32(b, p + 4, dataStart + len) === u32(b, dataStart + len);
    if (critical && !crcOk) throw new ImageDecodeError(`PNG: CRC mismatch in ${type} chunk at offset ${p} (corrupt data)`);
    if (type === 'IHDR') {
      throw new ImageDecodeError('PNG: more than one IHDR chunk');
    } else if (type === 'PLTE') {
      if (len % 3 !== 0 || len === 0 || len > 768) throw new ImageDecodeError(`PNG: PLTE length ${len} is not 3..768 and a multiple of 3`);
      if (idat.length) throw new ImageDecodeError('PNG: PLTE after IDAT');
      paletteLen = len / 3;
      palette = new Uint8Array(paletteLen * 4).fill(255);
      for (let i = 0; i < paletteLen; i++) {
        palette[4 * i] = b[dataStart + 3 * i];
        palette[4 * i + 1] = b[dataStart + 3 * i + 1];
        palette[4 * i + 2] = b[dataStart + 3 * i + 2];
      }
    } else if (type === 'tRNS') {
      // Ancillary: like libpng, a damaged or misplaced tRNS is ignored rather than fatal.
      if (crcOk && idat.length === 0) trns = b.slice(dataStart, dataStart + len);
    } else if (type === 'IDAT') {
      idat.push([dataStart, len]);
      idatBytes += len;
    } else if (type === 'IEND') {
      sawIend = true;
      break;
    } else if (critical) {
      throw new ImageDecodeError(`PNG: unknown critical chunk ${type}`);
    }
    p = dataStart + len + 4;
  }
  if (!idat.length) throw new ImageDecodeError('PNG: no image data (IDAT chunk)');
  if (!sawIend) throw new ImageDecodeError('PNG: truncated (no IEND chunk)');
  if (colorType === 3 && !palette) throw new ImageDecodeError('PNG: indexed-colour image without a PLTE chunk');

  // Bound the compressed data by what this size can legitimately need (zlib expands by at most 1032×,
  // so this caps a decompression bomb hiding behind a small declared size).
  const rowBytes = (w: number) => Math.ceil((w * channels * depth) / 8);
  let rawBytes = 0;
  let rows = 0;
  if (interlace === 0) {
    rawBytes = height * (1 + rowBytes(width));
    rows = height;
  } else {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((width - x0) / dx);
      const ph = Math.ceil((height - y0) / dy);
      if (pw > 0 && ph > 0) {
        rawBytes += ph * (1 + rowBytes(pw));
        rows += ph;
      }
    }
  }
  const idatLimit = 2 * rawBytes + 16 * rows + 65536;
  if (idatBytes > idatLimit) {
    throw new ImageDecodeError(`PNG: ${idatBytes} bytes of compressed image data is far more than a ${width}×${height} image needs (limit ${idatLimit})`);
  }

  // What decoding takes: this minimal copy of the compressed data, the inflated rows three times (fflate's
  // streaming output buffer, grown by doubling from 32 KB so up to twice their size, is copied into the
  // chunk fast-png keeps, which it then joins into a third copy; measured: a 2000×1500 8-bit RGBA PNG peaks
  // ~66 MiB above the file, grey ~22 MiB, and twice the rows counted 54 and 20), the unfiltered samples and the RGB image.
  const sampleBytes = depth < 8 ? height * rowBytes(width) : width * height * channels * (depth / 8);
  checkDecodeBytes('PNG', width, height, idatBytes + 3 * rawBytes + sampleBytes + width * height * 3, maxBytes);

  // ---- minimal PNG for fast-png: signature, IHDR, one IDAT, IEND (CRCs already verified above).
  const mini = new Uint8Array(8 + 25 + 12 + idatBytes + 12);
  mini.set(b.subarray(0, 8 + 25), 0);
  let q = 33;
  mini[q] = idatBytes >>> 24;
  mini[q + 1] = (idatBytes >>> 16) & 255;
  mini[q + 2] = (idatBytes >>> 8) & 255;
  mini[q + 3] = idatBytes & 255;
  mini.set([0x49, 0x44, 0x41, 0x54], q + 4); // 'IDAT'
  q += 8;
  for (const [s, l] of idat) {
    mini.set(b.subarray(s, s + l), q);
    q += l;
  }
  q += 4; // CRC not checked by fast-png (checkCrc: false)
  mini.set([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44], q); // IEND

  let decoded: { data: Uint8Array | Uint8ClampedArray | Uint16Array; width: number; height: number; channels: number; depth: number };
  try {
    decoded = decodePngPixels(mini, { checkCrc: false });
  } catch (e) {
    const rowsOf = (w: number, h: number) => ({ rows: h, bytes: 1 + rowBytes(w) });
    const passes = interlace === 0
      ? [rowsOf(width, height)]
      : ADAM7.map(([x0, y0, dx, dy]) => rowsOf(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)));
    const what = `a ${width}×${height} ${depth}-bit ${ct.name}${interlace ? ' interlaced' : ''} image`;
    const why = pngFailure(e, mini.subarray(41, 41 + idatBytes), passes, rawBytes, what) ?? reason(e);
    throw new ImageDecodeError(`PNG: ${why}`, { cause: e });
  }
  if (decoded.width !== width || decoded.height !== height || decoded.channels !== channels || decoded.depth !== depth) {
    throw new ImageDecodeError('PNG: decoder returned a different geometry than IHDR declares');
  }
  const expected = depth < 8 ? height * rowBytes(width) : width * height * channels;
  if (decoded.data.length !== expected) {
    throw new ImageDecodeError(`PNG: decoder returned ${decoded.data.length} samples, expected ${expected}`);
  }
  return pngToRgb(decoded.data, width, height, colorType, depth, palette, paletteLen, trns);
}

/** The code of an inflate error from fflate (fast-png's inflater), which it throws bare or as a cause. */
function zlibCode(e: unknown): { code: number; message: string } | undefined {
  for (let x = e; x instanceof Error; x = x.cause) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'number') return { code, message: x.message };
  }
  return undefined;
}

/**
 * What is wrong, in words, when fast-png throws (undefined: its own message stands). Its inflater (fflate)
 * fails with a coded error, bare or under an empty "Error while decompressing the data:", and says
 * "invalid zlib data" for a stream cut short too; its unfiltering fails with "Unsupported filter: <byte>",
 * "undefined" past the end of a short stream. So on those error paths only, the stream is inflated again
 * in one piece (and not kept): its error, if any, is the zlib stream's; otherwise the rows' filter bytes
 * are checked in order and its length is compared with `rawBytes` (what the declared size and bit depth
 * need, filter bytes included). `passes` lists the rows (one pass, or Adam7's seven) with their length,
 * filter byte included.
 */
function pngFailure(
  e: unknown, zlib: Uint8Array, passes: { rows: number; bytes: number }[], rawBytes: number, what: string,
): string | undefined {
  const inflateFailed = zlibCode(e) !== undefined || (e instanceof Error && e.message.startsWith('Error while decompressing'));
  if (!inflateFailed && !(e instanceof Error && e.message.startsWith('Unsupported filter'))) return undefined;
  const corrupt = (z: { code: number; message: string } | undefined) =>
    z?.code === 0
      ? `the compressed image data ends early (truncated zlib stream: ${z.message})`
      : `the compressed image data (zlib stream) is corrupt${z ? `: ${z.message} (inflate error code ${z.code})` : ''}`;
  // Walk the rows' filter bytes as the chunks come, without keeping the data: pass p, its row r at `at`.
  let p = 0, r = 0, at = 0, total = 0;
  let bad = -1;
  const skipEmpty = () => {
    while (p < passes.length && (passes[p].rows <= 0 || passes[p].bytes <= 1)) p++; // an empty Adam7 pass
  };
  skipEmpty();
  try {
    new Unzlib((chunk) => {
      const end = total + chunk.length;
      while (bad < 0 && p < passes.length && at < end) {
        if (chunk[at - total] > 4) {
          bad = chunk[at - total];
          break;
        }
        at += passes[p].bytes;
        if (++r === passes[p].rows) {
          p++;
          r = 0;
          skipEmpty();
        }
      }
      total = end;
    }).push(zlib, true);
  } catch (x) {
    return corrupt(zlibCode(x) ?? zlibCode(e));
  }
  if (inflateFailed) return corrupt(zlibCode(e));
  if (bad >= 0) {
    const row = passes.length > 1 ? `row ${r + 1} of ${passes[p].rows} in Adam7 pass ${p + 1}` : `row ${r + 1} of ${passes[p].rows}`;
    const more = total > rawBytes ? `; the data decompresses to more than the ${rawBytes} bytes ${what} needs` : '';
    return `bad filter type ${bad} at the start of ${row} (valid types are 0-4)${more}`;
  }
  if (total < rawBytes) return `the image data ends early (truncated): it decompresses to ${total} bytes, ${what} needs ${rawBytes}`;
  return undefined;
}

function pngToRgb(
  src: Uint8Array | Uint8ClampedArray | Uint16Array,
  width: number,
  height: number,
  colorType: number,
  depth: number,
  palette: Uint8Array | null,
  paletteLen: number,
  trns: Uint8Array | null,
): PlainRGBImage {
  const px = width * height;
  const out = new Uint8Array(px * 3);
  const maxv = depth === 16 ? 65535 : (1 << depth) - 1;
  const maxv2 = maxv * maxv;
  // Nearest 8-bit value of a sample: exact for 8 bits, round(v/257) for 16, v·255/max for 1/2/4.
  const to8 = depth === 8 ? (v: number) => v : depth === 16 ? (v: number) => ((v + 128) / 257) | 0 : (v: number) => (v * 255) / maxv;
  // Composite over white: round(255·(c·a + max·(max−a)) / max²).
  const over = (c: number, a: number) => Math.round((255 * (c * a + maxv * (maxv - a))) / maxv2);

  if (depth < 8) {
    // Packed greyscale or palette indices, rows padded to whole bytes.
    const stride = Math.ceil((width * depth) / 8);
    const mask = maxv;
    const key = colorType === 0 && trns && trns.length >= 2 ? ((trns[0] << 8) | trns[1]) & mask : -1;
    for (let y = 0; y < height; y++) {
      const row = y * stride;
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        const v = (src[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
        const o = 3 * (y * width + x);
        if (colorType === 3) {
          writePalette(out, o, v, palette!, paletteLen, trns);
        } else {
          const g = v === key ? 255 : to8(v);
          out[o] = out[o + 1] = out[o + 2] = g;
        }
      }
    }
    return { data: out, width, height };
  }

  switch (colorType) {
    case 0: {
      const key = trns && trns.length >= 2 ? (trns[0] << 8) | trns[1] : -1;
      for (let i = 0; i < px; i++) {
        const v = src[i];
        const g = v === key ? 255 : to8(v);
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g;
      }
      break;
    }
    case 2: {
      const has = trns && trns.length >= 6;
      const kr = has ? (trns![0] << 8) | trns![1] : -1;
      const kg = has ? (trns![2] << 8) | trns![3] : -1;
      const kb = has ? (trns![4] << 8) | trns![5] : -1;
      for (let i = 0; i < px; i++) {
        const r = src[3 * i], g = src[3 * i + 1], bl = src[3 * i + 2];
        if (r === kr && g === kg && bl === kb) {
          out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = 255;
        } else {
          out[3 * i] = to8(r);
          out[3 * i + 1] = to8(g);
          out[3 * i + 2] = to8(bl);
        }
      }
      break;
    }
    case 3:
      for (let i = 0; i < px; i++) writePalette(out, 3 * i, src[i], palette!, paletteLen, trns);
      break;
    case 4:
      for (let i = 0; i < px; i++) {
        const g = over(src[2 * i], src[2 * i + 1]);
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g;
      }
      break;
    case 6:
      for (let i = 0; i < px; i++) {
        const a = src[4 * i + 3];
        if (a === maxv) {
          out[3 * i] = to8(src[4 * i]);
          out[3 * i + 1] = to8(src[4 * i + 1]);
          out[3 * i + 2] = to8(src[4 * i + 2]);
        } else {
          out[3 * i] = over(src[4 * i], a);
          out[3 * i + 1] = over(src[4 * i + 1], a);
          out[3 * i + 2] = over(src[4 * i + 2], a);
        }
      }
      break;
  }
  return { data: out, width, height };
}

function writePalette(out: Uint8Array, o: number, idx: number, palette: Uint8Array, paletteLen: number, trns: Uint8Array | null): void {
  if (idx >= paletteLen) throw new ImageDecodeError(`PNG: palette index ${idx} is out of range (PLTE has ${paletteLen} entries)`);
  const a = trns && idx < trns.length ? trns[idx] : 255;
  const r = palette[4 * idx], g = palette[4 * idx + 1], bl = palette[4 * idx + 2];
  if (a === 255) {
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = bl;
  } else {
    out[o] = Math.round((r * a + 255 * (255 - a)) / 255);
    out[o + 1] = Math.round((g * a + 255 * (255 - a)) / 255);
    out[o + 2] = Math.round((bl * a + 255 * (255 - a)) / 255);
  }
}

// ----------------------------------------------- JPEG ----------------------------------------------

interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** component ids and sampling factors, in frame order */
  ids: number[];
  h: number[];
  v: number[];
  jfif: boolean;
  /** offset of the Adobe APP14 transform byte, or -1 without an Adobe marker */
  adobeTransformAt: number;
  /** offset of the first scan's entropy-coded data (just after its SOS segment) */
  dataAt: number;
  /**
   * what the baseline decoder allocates for the tables defined before the first scan (tableBytes), and
   * for a progressive JPEG also for those between its scans
   */
  tableBytes: number;
  /** SOF2: progressive (Huffman) */
  progressive: boolean;
}

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless (SOF3)',
  0xc5: 'differential sequential (SOF5)',
  0xc6: 'differential progressive (SOF6)',
  0xc7: 'differential lossless (SOF7)',
  0xc9: 'arithmetic-coded sequential (SOF9)',
  0xca: 'arithmetic-coded progressive (SOF10)',
  0xcb: 'arithmetic-coded lossless (SOF11)',
  0xcd: 'arithmetic-coded differential sequential (SOF13)',
  0xce: 'arithmetic-coded differential progressive (SOF14)',
  0xcf: 'arithmetic-coded differential lossless (SOF15)',
};

/**
 * Walk the JPEG marker segments up to the first SOS: find the frame header (SOF0/1/2), JFIF and Adobe
 * APP segments, without decoding anything. Like libjpeg, stray bytes between segments are skipped.
 */
function scanJpeg(b: Uint8Array, maxPixels: number): JpegHeader {
  const n = b.length;
  let p = 2;
  let header: JpegHeader | null = null;
  let jfif = false;
  let adobeTransformAt = -1;
  let tables = 0;
  for (;;) {
    while (p < n && b[p] !== 0xff) p++; // extraneous bytes before a marker (libjpeg warns and skips)
    while (p < n && b[p] === 0xff) p++; // fill bytes
    if (p >= n) throw new ImageDecodeError('JPEG: truncated (the file ends before the image data)');
    const m = b[p++];
    if (m === 0x00 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // no length
    if (m === 0xd8) throw new ImageDecodeError(`JPEG: unexpected second start-of-image marker at offset ${p - 2}`);
    if (m === 0xd9) throw new ImageDecodeError('JPEG: end-of-image marker before any image data');
    if (p + 2 > n) throw new ImageDecodeError('JPEG: truncated (inside a marker segment header)');
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2) throw new ImageDecodeError(`JPEG: marker ff${m.toString(16)} at offset ${p - 2} has an invalid length ${len}`);
    if (p + len > n) throw new ImageDecodeError(`JPEG: truncated (marker ff${m.toString(16)} segment runs past the end)`);
    const s = p + 2;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (header) throw new ImageDecodeError('JPEG: more than one frame header (only single-frame JPEGs are supported)');
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) throw new ImageDecodeError(`JPEG: unsupported coding process: ${SOF_NAMES[m]}`);
      if (len < 8) throw new ImageDecodeError('JPEG: frame header too short');
      const precision = b[s];
      const height = (b[s + 1] << 8) | b[s + 2];
      const width = (b[s + 3] << 8) | b[s + 4];
      const components = b[s + 5];
      checkDeclaredSize('JPEG', width, height, maxPixels);
      if (precision !== 8) throw new ImageDecodeError(`JPEG: ${precision}-bit samples are not supported (8-bit only)`);
      if (components !== 1 && components !== 3 && components !== 4) {
        throw new ImageDecodeError(`JPEG: ${components} colour components are not supported (1, 3 or 4)`);
      }
      if (len < 8 + 3 * components) throw new ImageDecodeError('JPEG: frame header too short for its components');
      const ids: number[] = [], hs: number[] = [], vs: number[] = [];
      for (let i = 0; i < components; i++) {
        const hv = b[s + 6 + 3 * i + 1];
        const h = hv >> 4, v = hv & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) throw new ImageDecodeError(`JPEG: invalid sampling factors ${h}×${v}`);
        ids.push(b[s + 6 + 3 * i]);
        hs.push(h);
        vs.push(v);
      }
      header = { width, height, components, ids, h: hs, v: vs, jfif: false, adobeTransformAt: -1, dataAt: 0, tableBytes: 0, progressive: m === 0xc2 };
    } else if (m === 0xe0 && len >= 7 && ascii(b, s, s + 5) === 'JFIF\0') {
      jfif = true;
    } else if (m === 0xee && len >= 14 && ascii(b, s, s + 5) === 'Adobe') {
      adobeTransformAt = s + 11;
    } else if (m === 0xdb || m === 0xc4) {
      tables += tableBytes(b, s, p + len, m === 0xc4);
    } else if (m === 0xda) {
      if (!header) throw new ImageDecodeError('JPEG: image data (SOS) before the frame header (SOF)');
      checkScanFits(b, s, p + len, header);
      header.jfif = jfif;
      header.adobeTransformAt = adobeTransformAt;
      header.dataAt = p + len;
      header.tableBytes = tables;
      if (header.progressive) header.tableBytes += laterTableBytes(b, p + len);
      return header;
    }
    p += len;
  }
}

/**
 * What the baseline decoder allocates for the tables a progressive JPEG defines between its scans, from
 * `p` (the first scan's data) on, its segments found as the decoder finds them (forEachLaterSegment).
 */
function laterTableBytes(b: Uint8Array, p: number): number {
  let bytes = 0;
  forEachLaterSegment(b, p, (m, s, e) => {
    if (m === 0xdb || m === 0xc4) bytes += tableBytes(b, s, e, m === 0xc4);
  });
  return bytes;
}

/**
 * Refuse a first scan (SOS header at `s`, entropy-coded data from `dataStart`) that the rest of the bytes
 * cannot hold, before any decoder allocates buffers for the declared frame: a few KB claiming 7071×7071
 * otherwise cost seconds and over a GB. A lower bound, so no valid JPEG is refused: every block of each
 * component the scan covers codes its DC coefficient as a Huffman symbol of at least 1 bit, and a
 * sequential scan also its AC coefficients (an EOB at least), so at least 2 bits; a progressive DC scan
 * (first or refinement) at least 1; a progressive AC scan, whose EOB runs cover many blocks in a few bits,
 * bounds nothing. Blocks are counted without MCU padding (a component's own ceil(w/8) × ceil(h/8)), which
 * an interleaved scan only adds to, and everything up to the end of the bytes is counted as scan data.
 */
function checkScanFits(b: Uint8Array, s: number, dataStart: number, f: JpegHeader): void {
  const ns = b[s];
  if (dataStart - s < 4 + 2 * ns) return; // a malformed scan header: left to the decoder's own error
  const ss = b[s + 1 + 2 * ns];
  const bitsPerBlock = !f.progressive ? 2 : ss === 0 ? 1 : 0;
  const hmax = Math.max(...f.h), vmax = Math.max(...f.v);
  let blocks = 0;
  for (let c = 0; c < f.components; c++) {
    let inScan = false;
    for (let i = 0; i < ns; i++) if (b[s + 1 + 2 * i] === f.ids[c]) inScan = true;
    if (!inScan) continue;
    const cw = Math.ceil((f.width * f.h[c]) / hmax), ch = Math.ceil((f.height * f.v[c]) / vmax);
    blocks += Math.ceil(cw / 8) * Math.ceil(ch / 8);
  }
  const need = Math.ceil((blocks * bitsPerBlock) / 8);
  const have = b.length - dataStart;
  if (have < need) {
    throw new ImageDecodeError(
      `JPEG: the data is too short for the declared ${f.width}×${f.height} image (truncated, or a false size): ` +
        `its first scan codes ${blocks} blocks, at least ${need} bytes, and only ${have} bytes follow the scan header`,
    );
  }
}

/**
 * Bytes one jpeg-js coefficient block takes (a separate Int32Array(64)): 766 measured in Node 20, for
 * 200000 of them as jpeg-js keeps them (rows of arrays).
 */
const JPEG_JS_BLOCK_BYTES = 768;

/** The scale a JPEG is decoded at when the caller needs `minSize` pixels on the shorter side (DecodeOptions). */
function jpegDenom(h: JpegHeader, minSize: number | undefined): JpegScale {
  const short = Math.min(h.width, h.height);
  return minSize === undefined ? 1 : short >= 8 * minSize ? 8 : short >= 4 * minSize ? 4 : short >= 2 * minSize ? 2 : 1;
}

/**
 * What decoding takes in the baseline decoder, from the header: every typed array that jpeg-baseline.ts
 * and the conversion in decodeJpeg allocate, i.e. its tables (tableBytes), each component's plane in
 * whole MCUs, its interleaved output (layoutBytes), the subsampled plane each fancy upsampling recovers
 * (fancyPlane), and the 3-byte RGB image a greyscale or 4-component one is converted into: exactly
 * (the tests count them). That is all that grows with the image. What the JavaScript engine takes besides
 * the first time a process decodes a JPEG of some size does not, and is not counted (nor for PNGs): in
 * Node 20, up to 9 MiB of peak RSS above these buffers, ~2.2 MiB of it the young generation growing from
 * 1 to 2 MiB semi-spaces while the decoder runs unoptimized, 0.3-1.9 MiB the optimizing compiler's
 * working memory, the rest its thread and code. A progressive JPEG also takes every block's coefficients
 * (layoutBytes) and the tables it defines between scans (JpegHeader.tableBytes). Undefined where the
 * decoder does not take the sampling factors (jpeg-js decodes those).
 */
function baselineDecodeBytes(h: JpegHeader, denom: JpegScale): number | undefined {
  const l = frameLayout(h.width, h.height, h.h, h.v, denom);
  if (!l) return undefined;
  let bytes = h.tableBytes + layoutBytes(l, h.progressive);
  if (h.components > 1 && denom !== 8) for (const c of l.components) bytes += fancyPlane(l.width, l.height, c.fx, c.fy)?.bytes ?? 0;
  if (h.components !== 3) bytes += l.width * l.height * 3;
  return bytes;
}

/**
 * The bytes decodeImage counts for decoding JPEG `b` in the baseline decoder at the scale `minSize` asks
 * for (the figure it checks against maxDecodeBytes first), or undefined where that decoder does not take
 * the sampling factors. For tests: an ImageDecodeError for what is no JPEG or refused from the header.
 */
export function baselineJpegDecodeBytes(b: Uint8Array, minSize?: number): number | undefined {
  const h = scanJpeg(b, Infinity);
  return baselineDecodeBytes(h, jpegDenom(h, minSize));
}

/**
 * Decode a JPEG the way libjpeg-turbo (djpeg, browsers, PIL) does. A baseline or progressive JPEG of 1, 3
 * or 4 components goes to jpeg-baseline.ts (libjpeg's IDCTs: bit-identical to djpeg, or to `djpeg -scale
 * 1/2` / `1/4` / `1/8` when minSize allows; a progressive one's faults are its ImageDecodeErrors); anything else
 * it does not take goes to jpeg-js. For 3 components both return the raw
 * components (jpeg-js with colorTransform: false), then this code applies libjpeg's "fancy" triangle
 * upsampling to 2:1-subsampled components (jdsample.c) and libjpeg's fixed-point YCbCr→RGB (jdcolor.c,
 * rounded; jpeg-js truncates). Greyscale needs neither. 4 components (Adobe CMYK or YCCK, stored inverted)
 * from the baseline decoder get the same upsampling, libjpeg's YCCK→CMYK where the Adobe transform says
 * YCCK, then djpeg's CMYK→RGB (R = C·K/255 rounded); jpeg-js (the 4-component JPEGs the decoder does not take) converts them itself, with
 * its nearest-neighbour upsampling and truncating the same formula.
 */
function decodeJpeg(b: Uint8Array, maxPixels: number, maxBytes: number, minSize?: number): PlainRGBImage {
  const h = scanJpeg(b, maxPixels);
  const { width, height, components } = h;
  if (components === 4 && h.adobeTransformAt < 0) {
    throw new ImageDecodeError('JPEG: 4-component (CMYK/YCCK) image without an Adobe APP14 marker is not supported');
  }
  // Colour space of a 3-component image, decided as libjpeg's default_decompress_parms does.
  let ycc = true;
  if (components === 3) {
    if (h.jfif) ycc = true;
    else if (h.adobeTransformAt >= 0) ycc = b[h.adobeTransformAt] !== 0;
    else if (h.ids[0] === 0x52 && h.ids[1] === 0x47 && h.ids[2] === 0x42) ycc = false; // 'R','G','B'
  }
  const denom = jpegDenom(h, minSize);
  const baselineBytes = baselineDecodeBytes(h, denom);
  if (baselineBytes !== undefined) checkDecodeBytes('JPEG', width, height, baselineBytes, maxBytes, denom > 1 ? ` at 1/${denom} scale` : '');
  const small = decodeBaselineJpeg(b, denom, h.progressive);
  if (small) {
    if (components === 3) {
      // libjpeg upsamples with its fancy filters unless a block gives a single sample (1/8).
      if (denom !== 8) small.expand.forEach(([fx, fy], c) => fancyUpsample(small.data, small.width, small.height, c, fx, fy));
      if (ycc) yccToRgb(small.data);
      return { data: small.data, width: small.width, height: small.height };
    }
    if (components === 4) {
      if (denom !== 8) small.expand.forEach(([fx, fy], c) => fancyUpsample(small.data, small.width, small.height, c, fx, fy, 4));
      return { data: adobeCmykToRgb(small.data, b[h.adobeTransformAt] !== 0), width: small.width, height: small.height };
    }
    const rgb = new Uint8Array(small.data.length * 3);
    for (let i = 0; i < small.data.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = small.data[i];
    return { data: rgb, width: small.width, height: small.height };
  }
  let input = b;
  if (components === 3 && h.adobeTransformAt >= 0 && b[h.adobeTransformAt] !== 0) {
    // jpeg-js always converts when the Adobe transform flag is set; clear it (in a copy) to get the raw
    // components, converted below.
    input = b.slice();
    input[h.adobeTransformAt] = 0;
  }
  // What jpeg-js allocates, from the validated header, per component at its own sampling: its coefficient
  // blocks, each a separate Int32Array(64) for every block of whole MCUs (~768 bytes in V8, not the 256 of
  // its coefficients: each is its own typed array, ArrayBuffer and backing store; 4:4:4 has twice the
  // blocks of 4:2:0), and its sample lines (1 B/sample); plus its component and RGB output buffers and a
  // little for tables. Also jpeg-js's own memory guard, which counts the blocks at 256 bytes.
  const maxH = Math.max(...h.h), maxV = Math.max(...h.v);
  const mcusX = Math.ceil(width / (8 * maxH)), mcusY = Math.ceil(height / (8 * maxV));
  let componentBytes = 0;
  for (let c = 0; c < components; c++) {
    const blocks = mcusX * h.h[c] * mcusY * h.v[c];
    const lines = Math.ceil((Math.ceil(width / 8) * h.h[c]) / maxH) * 8 * Math.ceil((Math.ceil(height / 8) * h.v[c]) / maxV) * 8;
    componentBytes += blocks * JPEG_JS_BLOCK_BYTES + lines;
  }
  const estimate = componentBytes + width * height * (components + 3) + 8 * 1024 * 1024;
  checkDecodeBytes('JPEG', width, height, estimate, maxBytes, ' in full (jpeg-js)');
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(input, {
      useTArray: true,
      formatAsRGBA: false,
      colorTransform: components === 3 ? false : undefined,
      tolerantDecoding: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil(estimate / (1024 * 1024)),
    });
  } catch (e) {
    throw new ImageDecodeError(`JPEG: ${endsEarly(b, h.dataAt, reason(e)) ?? reason(e)}`, { cause: e });
  }
  if (img.width !== width || img.height !== height || img.data.length !== width * height * 3) {
    throw new ImageDecodeError('JPEG: decoder returned a different geometry than the frame header declares');
  }
  // jpeg-js types its output as any Uint8Array; with useTArray it is a `new Uint8Array(width·height·3)`.
  const data = img.data as PlainUint8Array;
  if (components === 3) {
    for (let c = 0; c < 3; c++) fancyUpsample(data, width, height, c, maxH / h.h[c], maxV / h.v[c]);
    if (ycc) yccToRgb(data);
  }
  return { data, width, height };
}

/**
 * jpeg-js's error when the data ends inside a scan, said as such (or undefined). jpeg-js reads zeros past
 * the end of the bytes and fails once it looks for the next marker: "marker was not found", or "unknown
 * JPEG marker 0" between scans; or it meets the end-of-image marker among the entropy-coded bytes,
 * "unexpected marker: ffd9". The first two are a truncation only when no end-of-image marker follows the
 * first scan's data (`from`); otherwise the data is corrupt and jpeg-js's message stands.
 */
function endsEarly(b: Uint8Array, from: number, jpegJsMessage: string): string | undefined {
  if (jpegJsMessage === 'unexpected marker: ffd9') {
    return 'the data ends early (truncated): the end-of-image marker comes before the last block of a scan';
  }
  if (jpegJsMessage !== 'marker was not found' && jpegJsMessage !== 'unknown JPEG marker 0') return undefined;
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xd9) return undefined;
  return 'the data ends early (truncated): it stops inside the image data, without an end-of-image marker';
}

/**
 * The size of the downsampled plane fancyUpsample recovers for a component replicated `rh` × `rv` times in
 * a W × H image, or undefined where libjpeg has no fancy filter for those factors (it replicates) or, for
 * 2:1 horizontally, a row has 2 samples or fewer (it falls back to replication).
 */
function fancyPlane(W: number, H: number, rh: number, rv: number): { cw: number; ch: number; bytes: number } | undefined {
  const fancyH = rh === 2 && (rv === 1 || rv === 2);
  const fancyV = rh === 1 && rv === 2;
  if (!fancyH && !fancyV) return undefined;
  const cw = Math.ceil(W / rh), ch = Math.ceil(H / rv);
  if (fancyH && cw <= 2) return undefined;
  return { cw, ch, bytes: cw * ch };
}

/**
 * libjpeg-turbo's fancy upsampling (jdsample.c h2v1 / h1v2 / h2v2_fancy_upsample) of channel `c` of
 * interleaved 3-channel data in which jpeg-js has replicated each subsampled sample (nearest
 * neighbour). Other factors (1:1, 4:1, 3:1…) are left as replicated, which is what libjpeg's box
 * upsampling does too; like libjpeg, 2:1 horizontal fancy upsampling needs more than 2 samples a row.
 */
function fancyUpsample(data: Uint8Array, W: number, H: number, c: number, rh: number, rv: number, nc = 3): void {
  const size = fancyPlane(W, H, rh, rv);
  if (!size) return;
  const { cw, ch } = size;
  const fancyV = rh === 1;
  // the downsampled plane, recovered from the replicated samples
  const plane = new Uint8Array(size.bytes);
  for (let i = 0; i < ch; i++) for (let k = 0; k < cw; k++) plane[i * cw + k] = data[nc * (i * rv * W + k * rh) + c];
  const set = (y: number, x: number, v: number) => {
    if (y < H && x < W) data[nc * (y * W + x) + c] = v;
  };
  if (fancyV) {
    // h1v2: (3·nearer + further + bias) >> 2, bias 1 for the upper and 2 for the lower output row (as
    // libjpeg-turbo's h1v2_fancy_upsample), edge rows duplicated
    for (let i = 0; i < ch; i++) {
      for (let v = 0; v < 2; v++) {
        const j = v === 0 ? Math.max(i - 1, 0) : Math.min(i + 1, ch - 1);
        const y = 2 * i + v;
        for (let k = 0; k < cw; k++) set(y, k, (plane[i * cw + k] * 3 + plane[j * cw + k] + 1 + v) >> 2);
      }
    }
    return;
  }
  if (rv === 1) {
    // h2v1
    for (let i = 0; i < ch; i++) {
      const r = i * cw;
      let x = 0;
      let inv = plane[r];
      set(i, x++, inv);
      set(i, x++, (inv * 3 + plane[r + 1] + 2) >> 2);
      for (let k = 1; k < cw - 1; k++) {
        inv = plane[r + k] * 3;
        set(i, x++, (inv + plane[r + k - 1] + 1) >> 2);
        set(i, x++, (inv + plane[r + k + 1] + 2) >> 2);
      }
      inv = plane[r + cw - 1];
      set(i, x++, (inv * 3 + plane[r + cw - 2] + 1) >> 2);
      set(i, x, inv);
    }
    return;
  }
  // h2v2
  for (let i = 0; i < ch; i++) {
    for (let v = 0; v < 2; v++) {
      const r0 = i * cw;
      const r1 = (v === 0 ? Math.max(i - 1, 0) : Math.min(i + 1, ch - 1)) * cw;
      const y = 2 * i + v;
      let x = 0;
      let thiscol = plane[r0] * 3 + plane[r1];
      let nextcol = plane[r0 + 1] * 3 + plane[r1 + 1];
      set(y, x++, (thiscol * 4 + 8) >> 4);
      set(y, x++, (thiscol * 3 + nextcol + 7) >> 4);
      let lastcol = thiscol;
      thiscol = nextcol;
      for (let k = 2; k < cw; k++) {
        nextcol = plane[r0 + k] * 3 + plane[r1 + k];
        set(y, x++, (thiscol * 3 + lastcol + 8) >> 4);
        set(y, x++, (thiscol * 3 + nextcol + 7) >> 4);
        lastcol = thiscol;
        thiscol = nextcol;
      }
      set(y, x++, (thiscol * 3 + lastcol + 8) >> 4);
      set(y, x, (thiscol * 4 + 7) >> 4);
    }
  }
}

// libjpeg jdcolor.c: 16-bit fixed point, tables rounded, results clamped.
const FIX = (x: number) => Math.round(x * 65536);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256), CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}

function yccToRgb(d: Uint8Array): void {
  for (let i = 0; i < d.length; i += 3) {
    const y = d[i], cb = d[i + 1], cr = d[i + 2];
    const r = y + CR_R[cr], g = y + ((CB_G[cb] + CR_G[cr]) >> 16), bl = y + CB_B[cb];
    d[i] = r < 0 ? 0 : r > 255 ? 255 : r;
    d[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
    d[i + 2] = bl < 0 ? 0 : bl > 255 ? 255 : bl;
  }
}

/**
 * Interleaved Adobe CMYK samples (4 a pixel, stored inverted: 255 is no ink) to a new RGB image. YCCK
 * (`ycck`, Adobe transform 2, or any but 0 as libjpeg assumes) first goes to CMYK as libjpeg's
 * ycck_cmyk_convert does: C = 255 − R of the YCbCr→RGB above (clamped), M from G, Y from B, K kept. Then
 * djpeg's CMYK→RGB (libjpeg-turbo cmyk.h, used by wrppm.c): R = C·K/255 + 0.5, truncated (never a tie).
 */
function adobeCmykToRgb(d: Uint8Array, ycck: boolean): PlainUint8Array {
  const n = d.length >> 2;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let c = d[4 * i], m = d[4 * i + 1], y = d[4 * i + 2];
    const k = d[4 * i + 3];
    if (ycck) {
      const r = c + CR_R[y], g = c + ((CB_G[m] + CR_G[y]) >> 16), bl = c + CB_B[m]; // luma c, Cb m, Cr y
      c = 255 - (r < 0 ? 0 : r > 255 ? 255 : r);
      m = 255 - (g < 0 ? 0 : g > 255 ? 255 : g);
      y = 255 - (bl < 0 ? 0 : bl > 255 ? 255 : bl);
    }
    out[3 * i] = ((c * k) / 255 + 0.5) | 0;
    out[3 * i + 1] = ((m * k) / 255 + 0.5) | 0;
    out[3 * i + 2] = ((y * k) / 255 + 0.5) | 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// fromPixels
// ---------------------------------------------------------------------------------------------------

function checkDims(fn: string, width: unknown, height: unknown): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || (width as number) < 1 || (height as number) < 1) {
    throw new InputError(`${fn}: width and height must be positive integers, got ${shown(width)}×${shown(height)}`);
  }
}

/**
 * Accept canvas-style pixels (ImageData, or anything with { data, width, height }): RGBA when
 * data.length == width·height·4 (alpha composited over white, like decodeImage), RGB when
 * data.length == width·height·3. Always returns a fresh RGBImage (never aliases the input).
 */
export function fromPixels(img: { data: Uint8Array | Uint8ClampedArray; width: number; height: number }): PlainRGBImage {
  if (!img || typeof img !== 'object') throw new InputError('fromPixels: expected { data, width, height }');
  const { data, width, height } = img;
  checkDims('fromPixels', width, height);
  if (!(data instanceof Uint8Array) && !(data instanceof Uint8ClampedArray)) {
    throw new InputError('fromPixels: data must be a Uint8Array or Uint8ClampedArray');
  }
  // The size check comes before the allocation: a huge width × height with a few bytes of data is an
  // InputError, never an attempt to allocate width × height × 3 bytes.
  const px = width * height;
  const rgba = data.length === px * 4;
  if (!rgba && data.length !== px * 3) {
    throw new InputError(
      `fromPixels: data has ${data.length} bytes; a ${width}×${height} image needs ${px * 4} (RGBA) or ${px * 3} (RGB)`,
    );
  }
  const out = new Uint8Array(px * 3);
  if (rgba) {
    for (let i = 0; i < px; i++) {
      const a = data[4 * i + 3];
      if (a === 255) {
        out[3 * i] = data[4 * i];
        out[3 * i + 1] = data[4 * i + 1];
        out[3 * i + 2] = data[4 * i + 2];
      } else {
        const w = 255 * (255 - a);
        out[3 * i] = Math.round((data[4 * i] * a + w) / 255);
        out[3 * i + 1] = Math.round((data[4 * i + 1] * a + w) / 255);
        out[3 * i + 2] = Math.round((data[4 * i + 2] * a + w) / 255);
      }
    }
  } else {
    out.set(data);
  }
  return { data: out, width, height };
}

// ---------------------------------------------------------------------------------------------------
// preprocess
// ---------------------------------------------------------------------------------------------------

/**
 * The Float32Arrays the package returns (`preprocess`, `embed`, `run`'s tensors): each over a plain,
 * non-shared ArrayBuffer of its own (copied out of the Wasm memory, which is shared with threads). On
 * TypeScript 5.7+ this is `Float32Array<ArrayBuffer>`, so an output goes where only such an array is taken
 * (a `Blob` part, a `BufferSource`); before 5.7, where typed arrays are not generic, plain `Float32Array`.
 * Written as what `slice` returns, because a .d.ts that names `Float32Array<ArrayBuffer>` does not compile
 * on TypeScript < 5.7 ("Type 'Float32Array' is not generic").
 */
export type PlainFloat32Array = ReturnType<Float32Array['slice']>;

/**
 * The Uint8Arrays the package returns (`decodeImage`'s and `fromPixels`'s pixels, `encodeSafetensors`'s
 * bytes): each over a plain, non-shared ArrayBuffer of its own, allocated for it. As PlainFloat32Array:
 * `Uint8Array<ArrayBuffer>` on TypeScript 5.7+, plain `Uint8Array` before 5.7.
 */
export type PlainUint8Array = ReturnType<Uint8Array['slice']>;

/**
 * The RGBImage `decodeImage` and `fromPixels` return: its data a PlainUint8Array of its own. It goes wherever
 * an RGBImage goes; RGBImage, what the package takes, stays any Uint8Array (a shared one too).
 */
export interface PlainRGBImage extends RGBImage {
  data: PlainUint8Array;
}

/** BVLC GoogLeNet mean, in the network's BGR order. */
export const BVLC_MEAN_BGR = [104, 117, 123] as const;
/** TF-slim eval preprocessing: fraction of the image kept by the central crop. */
export const INCEPTION_CENTRAL_FRACTION = 0.875;

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w: Float64Array; // weight of i1
}

/**
 * Bilinear taps for `count` output samples starting at output index `first`, from an axis of length
 * `inSize` resampled to `outSize`.
 * - 'half_pixel': src = (d + 0.5)·in/out − 0.5, clamped to the edges (OpenCV INTER_LINEAR, PIL without
 *   antialias, TF half_pixel_centers=True).
 * - 'legacy': src = d·in/out (TF1 resize_bilinear, align_corners=False, half_pixel_centers=False).
 */
function taps(inSize: number, outSize: number, first: number, count: number, mode: 'half_pixel' | 'legacy'): Taps {
  const scale = inSize / outSize;
  const i0 = new Int32Array(count), i1 = new Int32Array(count), w = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const d = first + k;
    let src = mode === 'half_pixel' ? (d + 0.5) * scale - 0.5 : d * scale;
    if (src < 0) src = 0;
    let lo = Math.floor(src);
    if (lo > inSize - 1) lo = inSize - 1;
    const hi = Math.min(lo + 1, inSize - 1);
    i0[k] = lo;
    i1[k] = hi;
    w[k] = hi === lo ? 0 : src - lo;
  }
  return { i0, i1, w };
}

/**
 * Sample a size×size window of the (virtually) resized image; `emit(o, r, g, b)` receives the output
 * pixel index and the interpolated 0..255 RGB values (float).
 */
function resample(
  img: RGBImage,
  ys: Taps,
  xs: Taps,
  outW: number,
  outH: number,
  emit: (o: number, r: number, g: number, b: number) => void,
): void {
  const { data, width } = img;
  const stride = width * 3;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.i0[y] * stride, r1 = ys.i1[y] * stride, wy = ys.w[y];
    for (let x = 0; x < outW; x++) {
      const c0 = xs.i0[x] * 3, c1 = xs.i1[x] * 3, wx = xs.w[x];
      const a = r0 + c0, b = r0 + c1, c = r1 + c0, d = r1 + c1;
      const rt = data[a] + (data[b] - data[a]) * wx, rb = data[c] + (data[d] - data[c]) * wx;
      const gt = data[a + 1] + (data[b + 1] - data[a + 1]) * wx, gb = data[c + 1] + (data[d + 1] - data[c + 1]) * wx;
      const bt = data[a + 2] + (data[b + 2] - data[a + 2]) * wx, bb = data[c + 2] + (data[d + 2] - data[c + 2]) * wx;
      emit(y * outW + x, rt + (rb - rt) * wy, gt + (gb - gt) * wy, bt + (bb - bt) * wy);
    }
  }
}

function checkRGBImage(fn: string, img: RGBImage): void {
  if (!img || typeof img !== 'object') throw new InputError(`${fn}: expected an RGBImage { data, width, height }`);
  checkDims(fn, img.width, img.height);
  if (!(img.data instanceof Uint8Array) && !(img.data instanceof Uint8ClampedArray)) {
    throw new InputError(`${fn}: image data must be a Uint8Array or Uint8ClampedArray`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new InputError(`${fn}: image data has ${img.data.length} bytes, a ${img.width}×${img.height} RGB image needs ${img.width * img.height * 3}`);
  }
}

/**
 * The model's input tensor, float32 HWC size×size×3.
 *
 * - 'googlenet' (BVLC Caffe): resize so the shorter side is round(size·256/224) (256 for 224), the other
 *   side Math.round(long·S/short); bilinear, half-pixel centres, edge clamp, no antialiasing; centre
 *   crop size×size at floor((W−size)/2), floor((H−size)/2); BGR order; minus the mean B 104, G 117,
 *   R 123; no scaling. Only the cropped window is computed, never the whole resized image.
 * - 'inception_v1' (TF-slim eval): tf.image.central_crop(0.875) (start = trunc((H − 0.875·H)/2), size =
 *   H − 2·start, same for W), then TF1 resize_bilinear to size×size with align_corners=False and
 *   half_pixel_centers=False (what slim's inception_preprocessing.preprocess_for_eval calls), RGB order,
 *   scaled to [−1, 1] as (x/255 − 0.5)·2.
 */
export function preprocess(img: RGBImage, model: PreprocessModel, size = 224): PlainFloat32Array {
  checkRGBImage('preprocess', img);
  if (!Number.isSafeInteger(size) || size < 1 || size > 4096) {
    throw new InputError(`preprocess: size must be an integer in 1..4096, got ${shown(size)}`);
  }
  const { width: W, height: H } = img;
  const out = new Float32Array(size * size * 3);
  if (model === 'googlenet') {
    const S = Math.round((size * 256) / 224);
    let rw: number, rh: number;
    if (W <= H) {
      rw = S;
      rh = Math.round((H * S) / W);
    } else {
      rh = S;
      rw = Math.round((W * S) / H);
    }
    const ox = Math.floor((rw - size) / 2), oy = Math.floor((rh - size) / 2);
    const xs = taps(W, rw, ox, size, 'half_pixel');
    const ys = taps(H, rh, oy, size, 'half_pixel');
    const [mb, mg, mr] = BVLC_MEAN_BGR;
    resample(img, ys, xs, size, size, (o, r, g, b) => {
      out[3 * o] = b - mb;
      out[3 * o + 1] = g - mg;
      out[3 * o + 2] = r - mr;
    });
  } else if (model === 'inception_v1') {
    const f = INCEPTION_CENTRAL_FRACTION;
    const sy = Math.trunc((H - H * f) / 2), sx = Math.trunc((W - W * f) / 2);
    const ch = H - 2 * sy, cw = W - 2 * sx;
    const xs = taps(cw, size, 0, size, 'legacy');
    const ys = taps(ch, size, 0, size, 'legacy');
    for (let k = 0; k < size; k++) {
      xs.i0[k] += sx;
      xs.i1[k] += sx;
      ys.i0[k] += sy;
      ys.i1[k] += sy;
    }
    resample(img, ys, xs, size, size, (o, r, g, b) => {
      out[3 * o] = (r / 255 - 0.5) * 2;
      out[3 * o + 1] = (g / 255 - 0.5) * 2;
      out[3 * o + 2] = (b / 255 - 0.5) * 2;
    });
  } else {
    throw new InputError(`preprocess: unknown model ${JSON.stringify(model)} (expected 'googlenet' or 'inception_v1')`);
  }
  return out;
}
