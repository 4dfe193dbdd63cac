import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { baselineJpegDecodeBytes, decodeImage, fromPixels, preprocess, DEFAULT_MAX_PIXELS, type RGBImage } from '../dist/image.js';
import { parseSafetensors } from '../dist/safetensors.js';
import { ImageDecodeError, InputError } from '../dist/errors.js';
import { entropyWriter, hostileProgressiveJpeg } from './helpers/hostile-jpeg.mjs';
import { toRGB } from '../dist/classify.js';
import { mulberry32 as rng } from './helpers/rng.mjs';
import { inceptionPreprocess as tfjsInceptionPreprocess } from './oracle/tfjs-oracle.js';
import { be32, blackPng, crc32, ihdr, PNG_SIG, pngChunk } from './helpers/png.mjs';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));

// ---------------------------------------------------------------------------------------------------
// helpers written independently of src/ (a tiny JPEG encoder; CRC and PNG chunks in helpers/png.mjs)
// ---------------------------------------------------------------------------------------------------

/**
 * A minimal baseline JPEG whose blocks carry only a DC coefficient (flat 8×8 blocks), written from the
 * standard (ITU T.81): DQT all 8 (so a DC level c decodes to 128 + c), DC Huffman table with categories
 * 0..11 as 4-bit codes, AC table with only EOB = '0'. `levels[comp][block]` in the order the blocks are
 * coded (raster block order with 1×1 sampling; missing levels are 0); `sampling` gives each component's
 * factors as the frame header's byte (0x22: 2×2), 1×1 for all by default; interleaved when there are
 * several components. `progressive`: the same image as a progressive JPEG (SOF2), its DC coefficients in
 * one interleaved DC-first scan, then the AC table and, for each component, an AC-first scan of its own
 * blocks whose every block is an EOB ('0', a run of one block).
 */
function dcOnlyJpeg(width: number, height: number, levels: number[][], app14Transform?: number, sampling?: number[], progressive = false): Uint8Array {
  const nc = levels.length;
  const hv = sampling ?? levels.map(() => 0x11);
  const out: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]) => out.push(0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body);
  if (app14Transform !== undefined) {
    // 'Adobe', version (2 bytes), flags0, flags1, transform
    seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, app14Transform]);
  }
  seg(0xdb, [0x00, ...new Array(64).fill(8)]);
  const comps: number[] = [];
  for (let c = 0; c < nc; c++) comps.push(c + 1, hv[c], 0);
  seg(progressive ? 0xc2 : 0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, nc, ...comps]);
  const dcCounts = new Array(16).fill(0);
  dcCounts[3] = 12;
  seg(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i)]);
  const acCounts = new Array(16).fill(0);
  acCounts[0] = 1;
  const acTable = () => seg(0xc4, [0x10, ...acCounts, 0x00]);
  if (!progressive) acTable();
  const sel: number[] = [];
  for (let c = 0; c < nc; c++) sel.push(c + 1, 0x00);
  seg(0xda, [nc, ...sel, 0, progressive ? 0 : 63, 0]);
  // entropy-coded data
  const { put, flush } = entropyWriter(out);
  const pred = new Array(nc).fill(0);
  // MCU by MCU, each component's h × v blocks (one block an MCU for a single component)
  const hs = hv.map((x) => (nc === 1 ? 1 : x >> 4)), vs = hv.map((x) => (nc === 1 ? 1 : x & 15));
  const mcus = Math.ceil(width / (8 * Math.max(...hs))) * Math.ceil(height / (8 * Math.max(...vs)));
  const coded = new Array(nc).fill(0);
  for (let m = 0; m < mcus; m++) {
    for (let c = 0; c < nc; c++) for (let k = 0; k < hs[c] * vs[c]; k++) {
      const level = levels[c][coded[c]++] ?? 0;
      const diff = level - pred[c];
      pred[c] = level;
      const mag = Math.abs(diff);
      const cat = mag === 0 ? 0 : 32 - Math.clz32(mag);
      put(cat, 4);
      if (cat) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
      if (!progressive) put(0, 1); // EOB
    }
  }
  flush(); // pad with 1-bits
  if (progressive) {
    acTable();
    const hmax = Math.max(...hs), vmax = Math.max(...vs);
    for (let c = 0; c < nc; c++) {
      seg(0xda, [1, c + 1, 0x00, 1, 63, 0]);
      const blocks = Math.ceil(Math.ceil((width * hs[c]) / hmax) / 8) * Math.ceil(Math.ceil((height * vs[c]) / vmax) / 8);
      for (let k = 0; k < blocks; k++) put(0, 1);
      flush();
    }
  }
  out.push(0xff, 0xd9);
  return new Uint8Array(out);
}

/**
 * A flat grey JPEG whose blocks take the fewest bits the standard allows: 1-bit Huffman codes for DC
 * difference 0 and (sequential) for EOB, so 2 bits a block in a baseline scan, 1 bit in a progressive
 * DC-first scan (the only scan here: the AC coefficients stay 0). Greyscale, quantizers 1, `dataBytes`
 * bytes of entropy-coded data (zero bits, then 1-bit padding), then EOI unless `eoi` is false.
 */
function fewestBitsJpeg(width: number, height: number, progressive: boolean, dataBytes?: number, eoi = true): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const seg = (marker: number, body: number[]) => out.push(0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body);
  seg(0xdb, [0x00, ...new Array(64).fill(1)]);
  seg(progressive ? 0xc2 : 0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const oneCode = (tableClass: number) => seg(0xc4, [tableClass << 4, 1, ...new Array(15).fill(0), 0x00]);
  oneCode(0);
  if (!progressive) oneCode(1);
  seg(0xda, progressive ? [1, 1, 0x00, 0, 0, 0] : [1, 1, 0x00, 0, 63, 0]);
  const bits = Math.ceil(width / 8) * Math.ceil(height / 8) * (progressive ? 1 : 2);
  const n = dataBytes ?? Math.ceil(bits / 8);
  for (let i = 0; i < n; i++) out.push(i < bits >> 3 ? 0x00 : 0xff >> (bits & 7));
  if (eoi) out.push(0xff, 0xd9);
  return new Uint8Array(out);
}

/** `jpg` with its frame header (SOF0/SOF2) patched to claim width × height. */
function withFrameSize(jpg: Uint8Array, width: number, height: number): Uint8Array {
  const b = jpg.slice();
  let p = -1;
  for (let i = 2; i < b.length - 9; i++) if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) { p = i; break; }
  expect(p).toBeGreaterThan(0);
  b.set([height >> 8, height & 255, width >> 8, width & 255], p + 5);
  return b;
}

/** Binary PPM (P6) / PGM (P5) as djpeg writes them. */
function readPnm(b: Uint8Array): { width: number; height: number; channels: number; data: Uint8Array } {
  const fields: string[] = [];
  let p = 0;
  while (fields.length < 4) {
    while (b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09) p++;
    const s = p;
    while (!(b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09)) p++;
    fields.push(String.fromCharCode(...b.subarray(s, p)));
  }
  const channels = fields[0] === 'P6' ? 3 : 1;
  const width = +fields[1], height = +fields[2];
  const data = b.subarray(p + 1, p + 1 + width * height * channels);
  expect(data.length).toBe(width * height * channels);
  return { width, height, channels, data };
}

function expectDecodeError(fn: () => unknown, re?: RegExp): ImageDecodeError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an ImageDecodeError').toBeInstanceOf(ImageDecodeError);
  if (re) expect((err as Error).message).toMatch(re);
  return err as ImageDecodeError;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

function expectValidImage(img: RGBImage) {
  expect(img.width).toBeGreaterThan(0);
  expect(img.height).toBeGreaterThan(0);
  expect(img.data).toBeInstanceOf(Uint8Array);
  expect(img.data.length).toBe(img.width * img.height * 3);
}

// ---------------------------------------------------------------------------------------------------

describe('googlenet preprocessing matches the BVLC reference input', () => {
  for (const name of ['chelsea', 'coffee']) {
    it(`${name}.png`, () => {
      const img = decodeImage(fixture(`${name}.png`));
      const x = preprocess(img, 'googlenet');
      expect(x).toBeInstanceOf(Float32Array);
      expect(x.length).toBe(224 * 224 * 3);
      const ref = parseSafetensors(fixture(`${name}.ref.safetensors`)).tensors.get('input')!;
      expect(ref.shape).toEqual([224, 224, 3]);
      // The README says "reproduces the reference input tensors exactly": every value equal, not close.
      expect(maxAbsDiff(x, ref.data)).toBe(0);
    });
  }

  it('chelsea is 451×300 (shorter side 256 → 385×256, crop at x=80)', () => {
    const img = decodeImage(fixture('chelsea.png'));
    expect([img.width, img.height]).toEqual([451, 300]);
  });
});

describe('decodeImage: PNG variants (encoded with fast-png in the test)', () => {
  it('1×1 RGB', () => {
    const img = decodeImage(encodePng({ width: 1, height: 1, data: new Uint8Array([10, 20, 30]), channels: 3, depth: 8 }));
    expect(img).toEqual({ width: 1, height: 1, data: new Uint8Array([10, 20, 30]) });
  });

  it('8-bit greyscale', () => {
    const g = new Uint8Array([0, 50, 100, 150, 200, 255]);
    const img = decodeImage(encodePng({ width: 3, height: 2, data: g, channels: 1, depth: 8 }));
    expect(img.width).toBe(3);
    expect(Array.from(img.data)).toEqual(Array.from(g).flatMap((v) => [v, v, v]));
  });

  it('16-bit greyscale and RGB: nearest 8-bit value, round(v/257)', () => {
    const g16 = new Uint16Array([0, 128, 129, 257, 32896, 65535]);
    const expected8 = [0, 0, 1, 1, 128, 255];
    const img = decodeImage(encodePng({ width: 6, height: 1, data: g16, channels: 1, depth: 16 }));
    expect(Array.from(img.data)).toEqual(expected8.flatMap((v) => [v, v, v]));
    const rgb16 = new Uint16Array([65535, 0, 257 * 100, 1000, 2000, 3000]);
    const img2 = decodeImage(encodePng({ width: 2, height: 1, data: rgb16, channels: 3, depth: 16 }));
    expect(Array.from(img2.data)).toEqual(Array.from(rgb16, (v) => Math.round(v / 257)));
  });

  it('1-, 2- and 4-bit greyscale', () => {
    for (const depth of [1, 2, 4] as const) {
      const max = (1 << depth) - 1;
      const width = 11; // not a multiple of 8/depth: exercises row padding
      const height = 3;
      const vals: number[] = [];
      for (let i = 0; i < width * height; i++) vals.push((i * 7) % (max + 1));
      const stride = Math.ceil((width * depth) / 8);
      const packed = new Uint8Array(stride * height);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) packed[y * stride + ((x * depth) >> 3)] |= vals[y * width + x] << (8 - depth - ((x * depth) & 7));
      const img = decodeImage(encodePng({ width, height, data: packed, channels: 1, depth }));
      expect(Array.from(img.data)).toEqual(vals.flatMap((v) => Array(3).fill(Math.round((v * 255) / max))));
    }
  });

  it('palette, with and without palette alpha (tRNS)', () => {
    const palette = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ];
    const idx = new Uint8Array([0, 1, 2, 2, 1, 0]);
    const img = decodeImage(encodePng({ width: 3, height: 2, data: idx, channels: 1, depth: 8, palette }));
    expect(Array.from(img.data)).toEqual(Array.from(idx).flatMap((i) => palette[i]));

    // fast-png 8.0.0's encoder writes tRNS with only the non-opaque entries (not index-aligned), so
    // the translucent entries come first here.
    const paletteA = [
      [0, 0, 0, 0],
      [0, 0, 200, 128],
      [255, 0, 0, 255],
    ];
    const img2 = decodeImage(encodePng({ width: 3, height: 2, data: idx, channels: 1, depth: 8, palette: paletteA }));
    const over = (c: number, a: number) => Math.round((c * a + 255 * (255 - a)) / 255);
    expect(Array.from(img2.data)).toEqual(Array.from(idx).flatMap((i) => paletteA[i].slice(0, 3).map((c) => over(c, paletteA[i][3]))));
  });

  it('4-bit palette', () => {
    const palette = Array.from({ length: 16 }, (_, i) => [i * 16, 255 - i * 16, i]);
    const width = 5, height = 2;
    const idx = [0, 3, 15, 7, 9, 1, 2, 4, 8, 14];
    const stride = Math.ceil(width / 2);
    const packed = new Uint8Array(stride * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) packed[y * stride + (x >> 1)] |= idx[y * width + x] << (x & 1 ? 0 : 4);
    const img = decodeImage(encodePng({ width, height, data: packed, channels: 1, depth: 4, palette }));
    expect(Array.from(img.data)).toEqual(idx.flatMap((i) => palette[i]));
  });

  it('RGBA and grey+alpha are composited over white (8 and 16 bit)', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128, 100, 200, 50, 64]);
    const img = decodeImage(encodePng({ width: 2, height: 2, data: rgba, channels: 4, depth: 8 }));
    const over8 = (c: number, a: number) => Math.round((c * a + 255 * (255 - a)) / 255);
    const exp: number[] = [];
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) exp.push(over8(rgba[4 * i + c], rgba[4 * i + 3]));
    expect(Array.from(img.data)).toEqual(exp);
    expect(Array.from(img.data.subarray(3, 6))).toEqual([255, 255, 255]); // fully transparent → white
    expect(Array.from(img.data.subarray(6, 9))).toEqual([127, 127, 127]); // black at alpha 128

    const ga = new Uint8Array([0, 255, 0, 0, 200, 51]);
    const img2 = decodeImage(encodePng({ width: 3, height: 1, data: ga, channels: 2, depth: 8 }));
    expect(Array.from(img2.data)).toEqual([0, 0, 0, 255, 255, 255].concat(Array(3).fill(over8(200, 51))));

    const rgba16 = new Uint16Array([65535, 0, 0, 65535, 0, 0, 0, 32768]);
    const img3 = decodeImage(encodePng({ width: 2, height: 1, data: rgba16, channels: 4, depth: 16 }));
    const over16 = (c: number, a: number) => Math.round((255 * (c * a + 65535 * (65535 - a))) / 65535 ** 2);
    expect(Array.from(img3.data)).toEqual([255, 0, 0, over16(0, 32768), over16(0, 32768), over16(0, 32768)]);

    const ga16 = new Uint16Array([65535, 0, 0, 65535]);
    const img4 = decodeImage(encodePng({ width: 2, height: 1, data: ga16, channels: 2, depth: 16 }));
    expect(Array.from(img4.data)).toEqual([255, 255, 255, 0, 0, 0]);
  });

  it('greyscale and truecolour tRNS colour keys become white', () => {
    // Build by hand: fast-png's encoder does not write tRNS for non-palette images.
    const raw = [0, 10, 20, 30]; // filter 0, three 8-bit grey samples
    const zlib = deflateStored(new Uint8Array(raw));
    const grey = new Uint8Array([...PNG_SIG, ...ihdr(3, 1, 8, 0), ...pngChunk('tRNS', [0, 20]), ...pngChunk('IDAT', zlib), ...pngChunk('IEND', [])]);
    expect(Array.from(decodeImage(grey).data)).toEqual([10, 10, 10, 255, 255, 255, 30, 30, 30]);
    const rawRgb = [0, 1, 2, 3, 4, 5, 6];
    const rgb = new Uint8Array([...PNG_SIG, ...ihdr(2, 1, 8, 2), ...pngChunk('tRNS', [0, 4, 0, 5, 0, 6]), ...pngChunk('IDAT', deflateStored(new Uint8Array(rawRgb))), ...pngChunk('IEND', [])]);
    expect(Array.from(decodeImage(rgb).data)).toEqual([1, 2, 3, 255, 255, 255]);
  });

  it('Adam7-interlaced 8- and 16-bit images decode like non-interlaced ones', () => {
    const r = rng(7);
    const w = 13, h = 9;
    const rgb = new Uint8Array(w * h * 3).map(() => Math.floor(r() * 256));
    const a = decodeImage(encodePng({ width: w, height: h, data: rgb, channels: 3, depth: 8 }));
    const b = decodeImage(encodePng({ width: w, height: h, data: rgb, channels: 3, depth: 8 }, { interlace: 'Adam7' }));
    expect(b).toEqual(a);
    expect(Array.from(a.data)).toEqual(Array.from(rgb));
    const g16 = new Uint16Array(w * h).map(() => Math.floor(r() * 65536));
    const c = decodeImage(encodePng({ width: w, height: h, data: g16, channels: 1, depth: 16 }, { interlace: 'Adam7' }));
    expect(Array.from(c.data)).toEqual(Array.from(g16).flatMap((v) => Array(3).fill(Math.round(v / 257))));
  });

  it('refuses Adam7 with sub-byte samples (the decoder mis-handles it) instead of returning garbage', () => {
    const png = new Uint8Array([...PNG_SIG, ...ihdr(8, 8, 1, 0, 1), ...pngChunk('IDAT', deflateStored(new Uint8Array(16))), ...pngChunk('IEND', [])]);
    expectDecodeError(() => decodeImage(png), /interlaced.*1-bit.*not supported/);
  });

  it('ancillary chunks (text, unknown) are ignored; unknown critical chunks are refused', () => {
    const idat = pngChunk('IDAT', deflateStored(new Uint8Array([0, 1, 2, 3])));
    const text = pngChunk('tEXt', [...new TextEncoder().encode('Comment'), 0, 104, 105]);
    const ok = new Uint8Array([...PNG_SIG, ...ihdr(1, 1), ...text, ...pngChunk('zzZz', [1, 2]), ...idat, ...pngChunk('IEND', [])]);
    expect(Array.from(decodeImage(ok).data)).toEqual([1, 2, 3]);
    const bad = new Uint8Array([...PNG_SIG, ...ihdr(1, 1), ...pngChunk('ZZZZ', [1]), ...idat, ...pngChunk('IEND', [])]);
    expectDecodeError(() => decodeImage(bad), /unknown critical chunk ZZZZ/);
  });
});

/** zlib stream with one stored (uncompressed) deflate block; adler32 computed here. */
function deflateStored(raw: Uint8Array): number[] {
  let a = 1, b = 0;
  for (const v of raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  const len = raw.length;
  return [0x78, 0x01, 0x01, len & 255, len >> 8, ~len & 255, (~len >> 8) & 255, ...raw, ...be32(((b << 16) | a) >>> 0)];
}

describe('decodeImage: JPEG', () => {
  it('baseline colour JPEG (rocket.jpg)', () => {
    const img = decodeImage(fixture('rocket.jpg'));
    expectValidImage(img);
    expect([img.width, img.height]).toEqual([640, 427]);
  });

  // Yardsticks made with libjpeg-turbo 2.1.5 (see test/fixtures/README.md). Baseline and progressive JPEGs
  // decode through libjpeg's own IDCT (jpeg-baseline.ts), progressive ones from the coefficients all their
  // scans leave (successive approximation included): bit-identical, upsampling and colour conversion too.
  // cmyk and ycck are Adobe 4-component JPEGs (PIL's CMYK, ImageMagick's YCCK with 4:2:0 chroma), whose
  // reference is djpeg's RGB, R = C·K/255 rounded (ImageMagick's own decode agrees within 1).
  const PROGRESSIVE = ['420-progressive', '422-progressive', '444-progressive', 'grey-progressive', '420-progressive-restart', 'cmyk-progressive', 'ycck-progressive', 'ycck-1x1-progressive'];
  const YARDSTICKS = ['420', '422', '440', '444', 'rgb', 'grey', 'cmyk', 'ycck', ...PROGRESSIVE];
  const pnmExt = (v: string) => (v.startsWith('grey') ? 'pgm' : 'ppm');
  for (const v of YARDSTICKS) {
    it(`matches djpeg on rocket-crop-${v}.jpg (bit for bit)`, () => {
      const img = decodeImage(fixture(`jpeg/rocket-crop-${v}.jpg`));
      const ref = readPnm(fixture(`jpeg/rocket-crop-${v}.${pnmExt(v)}`));
      expect([img.width, img.height]).toEqual([ref.width, ref.height]);
      const rgb = ref.channels === 3 ? ref.data : Uint8Array.from({ length: ref.data.length * 3 }, (_, i) => ref.data[(i / 3) | 0]);
      expect(img.data).toEqual(rgb);
    });
  }

  // A progressive JPEG that ends after some of its scans: djpeg shows what the scans so far gave, with the
  // coefficients they leave unsent or unrefined estimated from the DC values around (libjpeg's block
  // smoothing). Bit for bit: the 4:2:0 crop after its DC scan alone (the DC re-estimated too: in full and at
  // 1/2, 1/4 and 1/8), after 3 of its 10 scans, a crop two blocks wide (libjpeg's window there is not the
  // nearest columns), and a crop whose scan script refines the AC bands by successive approximation (the
  // estimates capped by the bits still missing). Without the smoothing they are up to 55 levels off.
  for (const [name, scales] of [['rocket-crop-420-progressive-cut1', [1, 2, 4, 8]], ['rocket-crop-420-progressive-cut3', [1]],
    ['narrow-16x24-progressive-cut1', [1]], ['sa-33x41-420-cut8', [1]]] as const) {
    for (const d of scales) {
      it(`matches djpeg${d > 1 ? ` -scale 1/${d}` : ''} on ${name}.jpg, a progressive file that ends after some of its scans (block smoothing)`, () => {
        const ref = readPnm(fixture(`jpeg/${name}${d > 1 ? `.s${d}` : ''}.ppm`));
        const jpg = fixture(`jpeg/${name}.jpg`);
        const full = decodeImage(jpg);
        const img = d > 1 ? decodeImage(jpg, { minSize: Math.floor(Math.min(full.width, full.height) / d) }) : full;
        expect([img.width, img.height]).toEqual([ref.width, ref.height]);
        expect(img.data).toEqual(ref.data);
      });
    }
  }

  it('progressive files whose coefficients are those of a baseline one decode to its very pixels', () => {
    // jpegtran -progressive and ImageMagick's progressive YCCK keep the coefficients: djpeg gives the same
    // bytes, and so does this decoder (where jpeg-js, which decoded progressive files before, replicated
    // YCCK's 4:2:0 chroma: up to 36 levels off).
    for (const [prog, base] of [['grey-progressive', 'grey'], ['ycck-progressive', 'ycck']]) {
      const ext = pnmExt(prog);
      expect(readPnm(fixture(`jpeg/rocket-crop-${prog}.${ext}`)).data).toEqual(readPnm(fixture(`jpeg/rocket-crop-${base}.${ext}`)).data);
      expect(decodeImage(fixture(`jpeg/rocket-crop-${prog}.jpg`))).toEqual(decodeImage(fixture(`jpeg/rocket-crop-${base}.jpg`)));
    }
  });

  // Scaled decoding (decodeImage's minSize): bit for bit what `djpeg -scale 1/2`, `1/4` and `1/8` give,
  // including the reduced IDCTs of subsampled chroma (4:2:0 chroma at 1/2 takes the full 8x8 IDCT and
  // needs no upsampling), fancy upsampling at 1/2 and 1/4 and restart markers; yardsticks from
  // libjpeg-turbo 2.1.5.
  const pnmRgb = (ref: { channels: number; data: Uint8Array }) =>
    ref.channels === 3 ? ref.data : Uint8Array.from({ length: ref.data.length * 3 }, (_, i) => ref.data[(i / 3) | 0]);
  for (const d of [2, 4, 8]) {
    for (const v of YARDSTICKS) {
      it(`at 1/${d} scale equals djpeg -scale 1/${d} on rocket-crop-${v}.jpg`, () => {
        const ref = readPnm(fixture(`jpeg/rocket-crop-${v}.s${d}.${pnmExt(v)}`));
        const img = decodeImage(fixture(`jpeg/rocket-crop-${v}.jpg`), { minSize: Math.floor(45 / d) }); // 61x45
        expect([img.width, img.height]).toEqual([Math.ceil(61 / d), Math.ceil(45 / d)]);
        expect([ref.width, ref.height]).toEqual([img.width, img.height]);
        expect(img.data).toEqual(pnmRgb(ref));
      });
    }
    for (const name of ['rocket-420-restart', 'rocket-422-restart', 'rocket-440', 'rocket-422-restart-progressive']) {
      it(`at 1/${d} scale equals djpeg -scale 1/${d} on ${name}.jpg${name.includes('restart') ? ' (restart markers)' : ''}`, () => {
        const jpg = fixture(`jpeg/${name}.jpg`);
        const ref = readPnm(fixture(`jpeg/${name}.s${d}.ppm`));
        const img = decodeImage(jpg, { minSize: Math.floor(427 / d) }); // 640x427
        expect([img.width, img.height, ref.width, ref.height]).toEqual([640 / d, Math.ceil(427 / d), 640 / d, Math.ceil(427 / d)]);
        expect(img.data).toEqual(ref.data);
      });
    }
  }

  it('a flat block is its DC term over 8, rounded half up, in full and at 1/8 scale', () => {
    // DC quantizer 1 (patched into the DC-only image), levels c = -12..11: every residue of c mod 8.
    const levels = Array.from({ length: 24 }, (_, i) => i - 12);
    const bytes = dcOnlyJpeg(192, 8, [levels]);
    const dqt = bytes.findIndex((x, i) => x === 0xff && bytes[i + 1] === 0xdb);
    bytes[dqt + 5] = 1;
    const want = levels.map((c) => 128 + Math.floor((c + 4) / 8));
    const full = decodeImage(bytes);
    expect(Array.from({ length: 24 }, (_, b) => full.data[3 * (5 * 192 + 8 * b + 2)])).toEqual(want);
    const eighth = decodeImage(bytes, { minSize: 1 });
    expect([eighth.width, eighth.height]).toEqual([24, 1]);
    expect(Array.from({ length: 24 }, (_, b) => eighth.data[3 * b])).toEqual(want);
  });

  it('the scale is the smallest that leaves minSize on the shorter side (640x427)', () => {
    const jpg = fixture('jpeg/rocket-420-restart.jpg');
    const size = (minSize: number) => {
      const img = decodeImage(jpg, { minSize });
      return [img.width, img.height];
    };
    expect(size(53)).toEqual([80, 54]);
    expect(size(54)).toEqual([160, 107]);
    expect(size(106)).toEqual([160, 107]);
    expect(size(107)).toEqual([320, 214]);
    expect(size(213)).toEqual([320, 214]);
    expect(size(214)).toEqual([640, 427]);
  });

  it('at 1/8 scale, every block of a DC-only image is its level; the full decode agrees', async () => {
    // 2048x2056 (256x257 blocks), greyscale: large enough for the classifier's minSize of 256.
    const r = rng(11);
    const levels = Array.from({ length: 256 * 257 }, () => Math.floor(r() * 255) - 127);
    const bytes = dcOnlyJpeg(2048, 2056, [levels]);
    const small = decodeImage(bytes, { minSize: 256 });
    expect([small.width, small.height]).toEqual([256, 257]);
    const full = decodeImage(bytes);
    expect([full.width, full.height]).toEqual([2048, 2056]);
    const want = Uint8Array.from({ length: levels.length * 3 }, (_, i) => 128 + levels[(i / 3) | 0]);
    expect(small.data).toEqual(want);
    // the full decode's pixel (3, 7) of every block
    const sampled = Uint8Array.from({ length: levels.length * 3 }, (_, i) => {
      const b = (i / 3) | 0, bx = b % 256, by = (b / 256) | 0;
      return full.data[3 * ((by * 8 + 7) * 2048 + bx * 8 + 3) + (i % 3)];
    });
    expect(sampled).toEqual(want);
    // the classifier's decoding takes the 1/8 scale for it (a shorter side of 8 x 256 or more)
    const viaClassify = await toRGB(bytes);
    expect([viaClassify.width, viaClassify.height]).toEqual([256, 257]);
  });

  it('at 1/8 scale, what the fast path does not take decodes in full, as without minSize', () => {
    // data that ends early, or a restart marker out of sequence: same result (or error) as the full decoder
    const jpg = fixture('jpeg/rocket-420-restart.jpg');
    const cut = jpg.slice(0, jpg.length >> 1);
    const outcome = (f: () => RGBImage) => {
      try {
        const img = f();
        return [img.width, img.height, img.data];
      } catch (e) {
        expect(e).toBeInstanceOf(ImageDecodeError);
        return (e as Error).message;
      }
    };
    expect(outcome(() => decodeImage(cut, { minSize: 1 }))).toEqual(outcome(() => decodeImage(cut)));
    const plain = fixture('rocket.jpg'); // no restart markers: the data just stops
    const plainCut = plain.slice(0, plain.length >> 1);
    expect(outcome(() => decodeImage(plainCut, { minSize: 1 }))).toEqual(outcome(() => decodeImage(plainCut)));
    const rst = jpg.slice();
    let at = -1;
    for (let i = jpg.length >> 1; i < jpg.length - 1; i++) if (rst[i] === 0xff && rst[i + 1] >= 0xd0 && rst[i + 1] <= 0xd7) { at = i; break; }
    expect(at).toBeGreaterThan(0);
    rst[at + 1] = 0xd0 + ((rst[at + 1] - 0xd0 + 3) & 7);
    expect(outcome(() => decodeImage(rst, { minSize: 1 }))).toEqual(outcome(() => decodeImage(rst)));
  });

  it('minSize must be a whole number >= 1', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => decodeImage(fixture('rocket.jpg'), { minSize: bad })).toThrow(InputError);
    }
  });

  it('Adobe APP14 with transform 1 (YCbCr, no JFIF) decodes like the JFIF original', () => {
    const jfif = fixture('jpeg/rocket-crop-420.jpg');
    expect(String.fromCharCode(...jfif.subarray(6, 10))).toBe('JFIF');
    const app0Len = (jfif[4] << 8) | jfif[5];
    const adobe = [0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x01];
    const patched = new Uint8Array([0xff, 0xd8, ...adobe, ...jfif.subarray(4 + app0Len)]);
    expect(decodeImage(patched)).toEqual(decodeImage(jfif));
  });

  it("3 components with ids 'R','G','B' and no JFIF/Adobe marker are RGB (libjpeg's rule)", () => {
    const rgbJpeg = fixture('jpeg/rocket-crop-rgb.jpg');
    expect(String.fromCharCode(...rgbJpeg.subarray(6, 11))).toBe('Adobe');
    const adobeLen = (rgbJpeg[4] << 8) | rgbJpeg[5];
    const b = new Uint8Array([0xff, 0xd8, ...rgbJpeg.subarray(4 + adobeLen)]);
    // rename component ids 1,2,3 → 'R','G','B' in SOF0 and SOS
    const ids = [0x52, 0x47, 0x42];
    for (let p = 2; p < b.length; ) {
      const m = b[p + 1];
      const len = (b[p + 2] << 8) | b[p + 3];
      if (m === 0xc0) for (let c = 0; c < 3; c++) b[p + 10 + 3 * c] = ids[c];
      if (m === 0xda) {
        for (let c = 0; c < 3; c++) b[p + 5 + 2 * c] = ids[c];
        break;
      }
      p += 2 + len;
    }
    expect(decodeImage(b)).toEqual(decodeImage(rgbJpeg));
  });

  it('jpeg-js round trip of a smooth RGB image', () => {
    const w = 32, h = 24;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rgba.set([x * 8, y * 10, 128, 255], 4 * (y * w + x));
    const enc = jpeg.encode({ width: w, height: h, data: rgba }, 95).data;
    const img = decodeImage(new Uint8Array(enc));
    expect([img.width, img.height]).toEqual([w, h]);
    let max = 0;
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(img.data[3 * i + c] - rgba[4 * i + c]));
    expect(max).toBeLessThan(24);
  });

  it('greyscale (1-component) JPEG built from the standard', () => {
    const levels = [-100, -37, 0, 50, 110, 127];
    const bytes = dcOnlyJpeg(24, 16, [levels]); // 3×2 blocks
    const img = decodeImage(bytes);
    expect([img.width, img.height]).toEqual([24, 16]);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 24; x++) {
        const v = 128 + levels[(y >> 3) * 3 + (x >> 3)];
        const o = 3 * (y * 24 + x);
        expect(Math.abs(img.data[o] - v)).toBeLessThanOrEqual(1);
        expect(img.data[o + 1]).toBe(img.data[o]);
        expect(img.data[o + 2]).toBe(img.data[o]);
      }
  });

  it('Adobe CMYK (4-component, transform 0) JPEG: stored inverted, R = C·K/255', () => {
    // one 8×8 block per component, stored (Adobe-inverted) levels C=228, M=128, Y=28, K=200
    const stored = [228, 128, 28, 200];
    const bytes = dcOnlyJpeg(8, 8, stored.map((s) => [s - 128]), 0);
    const img = decodeImage(bytes);
    const exp = [0, 1, 2].map((c) => (stored[c] * stored[3]) / 255);
    for (let c = 0; c < 3; c++) expect(Math.abs(img.data[c] - exp[c])).toBeLessThanOrEqual(2);
    const noAdobe = dcOnlyJpeg(8, 8, stored.map((s) => [s - 128]));
    expectDecodeError(() => decodeImage(noAdobe), /4-component.*Adobe/);
  });
});

describe('decodeImage: bad input is an ImageDecodeError', () => {
  it('empty input', () => {
    expectDecodeError(() => decodeImage(new Uint8Array(0)), /empty/);
  });

  it('a text file', () => {
    const e = expectDecodeError(() => decodeImage(new TextEncoder().encode('<!DOCTYPE html><html>hello</html>\n')), /not a PNG or JPEG image \(starts with 3c 21 44 4f/);
    expect(e.message).toMatch(/text/);
    expect(e.code).toBe('ERR_IMAGE_DECODE');
  });

  it('other formats are named', () => {
    expectDecodeError(() => decodeImage(new TextEncoder().encode('GIF89a\x01\x00\x01\x00')), /not a PNG or JPEG.*GIF/);
    expectDecodeError(() => decodeImage(new Uint8Array([0xff, 0xd8])), /not a PNG or JPEG/);
  });

  it('the truncated JPEG fixture', () => {
    expectDecodeError(() => decodeImage(fixture('truncated.jpg')), /JPEG/);
  });

  it('non-bytes argument and bad maxPixels are InputErrors', () => {
    expect(() => decodeImage('abc' as unknown as Uint8Array)).toThrow(InputError);
    expect(() => decodeImage(fixture('truncated.jpg'), { maxPixels: 0 })).toThrow(InputError);
    expect(() => decodeImage(fixture('truncated.jpg'), { maxPixels: NaN })).toThrow(InputError);
  });

  it('maxDecodeBytes refuses, from the header, what would take more memory to decode at the scale it decodes', () => {
    // A black 1000×1000 PNG: a few KB of compressed rows; its decoder holds the rows three times (the
    // inflater's buffer, fast-png's chunk of it and their join), the samples and the RGB image (about 15 MB).
    const w = 1000, h = 1000;
    const png = blackPng(w, h);
    expectDecodeError(() => decodeImage(png, { maxDecodeBytes: 3 * w * h }), /^PNG: decoding this 1000×1000 image would take about 14\.\d MiB of memory, more than the limit of 2\.9 MiB \(maxDecodeBytes\)$/);
    expect(decodeImage(png, { maxDecodeBytes: 16 * w * h }).width).toBe(w);
    expect(decodeImage(png, { maxDecodeBytes: Infinity }).width).toBe(w);
    // A baseline JPEG decoded at 1/4 (minSize) takes a sixteenth of its full-size decode: rocket.jpg,
    // 640×427, takes ~1.7 MB in full.
    const jpg = fixture('rocket.jpg');
    expect(decodeImage(jpg, { maxDecodeBytes: 500_000, minSize: 100 }).width).toBe(160);
    expectDecodeError(() => decodeImage(jpg, { maxDecodeBytes: 500_000 }), /^JPEG: decoding this 640×427 image would take about 1\.\d MiB/);
    expectDecodeError(() => decodeImage(jpg, { maxDecodeBytes: 50_000, minSize: 100 }), /^JPEG: decoding this 640×427 image at 1\/4 scale would take about 0\.1 MiB/);
    // A progressive JPEG: the same decoder, with every block's coefficients besides (2 bytes a sample),
    // at whatever scale; the tables defined between its scans counted too.
    const prog = fixture('jpeg/rocket-crop-420-progressive.jpg');
    const progBytes = baselineJpegDecodeBytes(prog)!;
    expect(progBytes).toBeGreaterThan(2 * (61 * 45 * 3) / 2); // the coefficients of 8×6 Y blocks, 4×3 Cb, Cr
    expectDecodeError(() => decodeImage(prog, { maxDecodeBytes: progBytes - 1 }), /^JPEG: decoding this 61×45 image would take about 0\.0 MiB/);
    expect(decodeImage(prog, { maxDecodeBytes: progBytes }).width).toBe(61);
    expectDecodeError(() => decodeImage(prog, { maxDecodeBytes: 5000, minSize: 1 }), /^JPEG: decoding this 61×45 image at 1\/8 scale would take about/);
    for (const bad of [0, -1, NaN, '5']) {
      expect(() => decodeImage(png, { maxDecodeBytes: bad as unknown as number }), String(bad)).toThrow(/maxDecodeBytes must be a number >= 1/);
    }
  });

  /**
   * The header of a JPEG (SOF0 baseline, or SOF2 progressive; an Adobe APP14 marker with `adobe` as its
   * transform when given), then a first scan of zero bytes (no Huffman tables: as much data as the
   * progressive DC scan needs at the least, half what a baseline one does): enough to be refused from
   * the header by the memory check, and nothing a decoder could decode. A baseline one the baseline
   * decoder gives up on (no tables), and goes to jpeg-js.
   */
  const header = (w: number, ht: number, sampling: number[], adobe?: number, sofMarker = 0xc0) => {
    const n = sampling.length;
    const app14 = adobe === undefined ? [] : [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, adobe];
    const sof = [0xff, sofMarker, 0, 8 + 3 * n, 8, ht >> 8, ht & 255, w >> 8, w & 255, n, ...sampling.flatMap((hv, i) => [i + 1, hv, 0])];
    const sos = [0xff, 0xda, 0, 6 + 2 * n, n, ...sampling.flatMap((_, i) => [i + 1, 0]), 0, sofMarker === 0xc2 ? 0 : 63, 0];
    const head = [0xff, 0xd8, ...app14, ...sof, ...sos];
    const b = new Uint8Array(head.length + n * Math.ceil(w / 8) * Math.ceil(ht / 8));
    b.set(head);
    return b;
  };
  /** An estimate is within -5 % / +30 % of the measured peak. */
  const near = (est: number, measured: number) => {
    expect(est).toBeGreaterThanOrEqual(0.95 * measured);
    expect(est).toBeLessThan(1.3 * measured);
  };

  it('maxDecodeBytes: jpeg-js estimates count each component at its own sampling and V8-sized blocks', () => {
    // The headers of JPEGs the baseline decoder gives up on (header() above), refused from the header before
    // jpeg-js allocates. jpeg-js keeps every block of a baseline JPEG as of a progressive one; the peaks are
    // Node 20 decoding real 2000×1500 progressive JPEGs with jpeg-js, as it did them before this package had
    // its own progressive decoder (cjpeg -progressive, less the same script without decoding):
    // 4:2:0 ~79 MiB, 4:4:4 ~138 MiB, greyscale ~44 MiB. The estimate was 69.8 MiB for both colour ones
    // (every component counted at full size, 5 B/sample), half of what 4:4:4 takes.
    const estimate = (b: Uint8Array): number => {
      try {
        decodeImage(b, { maxDecodeBytes: 2 * 2 ** 20, minSize: 256 }); // (the baseline decoder's check, at 1/4, passes)
      } catch (e) {
        const m = /in full \(jpeg-js\) would take about ([\d.]+) MiB/.exec((e as Error).message);
        if (m) return Number(m[1]);
        throw e;
      }
      return 0; // (not reached: the bytes are no image)
    };
    // Each estimate within -5 % / +30 % of the measured peak.
    near(estimate(header(2000, 1500, [0x22, 0x11, 0x11])), 79);
    near(estimate(header(2000, 1500, [0x11, 0x11, 0x11])), 138);
    near(estimate(header(2000, 1500, [0x11])), 44);
    // By default a decode may take 1 GiB: a 6000×6000 4:4:4 JPEG (36 MP, under maxPixels) jpeg-js would
    // decode would ask it for ~2 GB, and is refused before it allocates.
    expectDecodeError(() => decodeImage(header(6000, 6000, [0x11, 0x11, 0x11])), /^JPEG: decoding this 6000×6000 image in full \(jpeg-js\) would take about \d+\.\d MiB of memory, more than the limit of 1024\.0 MiB \(maxDecodeBytes\)$/);
    // A progressive one now takes the baseline decoder's planes and 2 bytes a sample of coefficients (12
    // bytes a pixel at 4:4:4, 19 for CMYK with its RGB copy): 7000×7000 (49 MP) fits the default limit, and the header's empty
    // scan is what is wrong with it.
    const big = header(7000, 7000, [0x11, 0x11, 0x11], undefined, 0xc2);
    expect(baselineJpegDecodeBytes(big)! / (7000 * 7000)).toBeCloseTo(12, 1);
    expect(baselineJpegDecodeBytes(header(7000, 7000, [0x11, 0x11, 0x11, 0x11], 0, 0xc2))! / (7000 * 7000)).toBeCloseTo(19, 1);
    expectDecodeError(() => decodeImage(big), /^JPEG: component 1 uses quantization table 0, which is not defined$/);
  });

  it('maxDecodeBytes: the baseline decoder\'s estimate is what it allocates, from 1×1 to 50 megapixels', () => {
    // Counted, not sampled: every typed array constructed while decodeImage runs (the decoder's tables,
    // planes and output, the fancy upsampling's planes, the RGB conversion), by replacing the global
    // typed-array classes for the call with functions that construct the real ones (so the decoder runs
    // on the arrays it always gets) and count them. Views on an existing buffer (subarray) allocate
    // nothing and are not counted. The input's class counts too, so that its slices (the decoder's copies
    // of Huffman symbols) do.
    const KINDS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'] as const;
    const allocatedBy = (jpg: Uint8Array, run: (input: Uint8Array) => void): number => {
      type Ctor = new (...a: unknown[]) => ArrayBufferView;
      const g = globalThis as unknown as Record<string, Ctor>;
      const saved = KINDS.map((k) => g[k]);
      let bytes = 0;
      const count = <T extends ArrayBufferView>(x: T, a: unknown[]): T => {
        if (!(a[0] instanceof ArrayBuffer)) bytes += x.byteLength;
        return x;
      };
      class Input extends Uint8Array {
        constructor(...a: unknown[]) {
          super(...(a as [number]));
          count(this, a);
        }
      }
      KINDS.forEach((k, i) => {
        const counting = function (...a: unknown[]) {
          return count(new saved[i](...a), a);
        };
        counting.prototype = saved[i].prototype; // instanceof Uint8Array holds for what it returns
        g[k] = Object.setPrototypeOf(counting, saved[i]); // and the statics are there
      });
      try {
        const input = new Input(jpg);
        bytes = 0;
        run(input);
      } finally {
        KINDS.forEach((k, i) => (g[k] = saved[i]));
      }
      return bytes;
    };
    const CMYK = 0, YCCK = 2;
    // [width, height, sampling, Adobe transform, minSize]: greyscale, 4:2:0, 4:2:2, 4:4:0, 4:4:4, CMYK and
    // ImageMagick's YCCK (Y and K 2×2), in full, at 1/2, 1/4 and 1/8, from a single block up.
    const cases: [number, number, number[], number | undefined, number | undefined][] = [
      [1, 1, [0x11], undefined, undefined],
      [1, 1, [0x22, 0x11, 0x11], undefined, undefined],
      [61, 45, [0x11], undefined, undefined],
      [61, 45, [0x22, 0x11, 0x11], undefined, undefined],
      [61, 45, [0x21, 0x11, 0x11], undefined, undefined],
      [61, 45, [0x12, 0x11, 0x11], undefined, undefined],
      [61, 45, [0x11, 0x11, 0x11, 0x11], CMYK, undefined],
      [61, 45, [0x22, 0x11, 0x11, 0x22], YCCK, undefined],
      [640, 427, [0x22, 0x11, 0x11], undefined, undefined],
      [640, 427, [0x11, 0x11, 0x11], undefined, 100],
      [640, 427, [0x22, 0x11, 0x11, 0x22], YCCK, 100],
      [61, 45, [0x12, 0x11, 0x11], undefined, 20],
      [640, 427, [0x22, 0x11, 0x11], undefined, 200],
      [640, 427, [0x22, 0x11, 0x11, 0x22], YCCK, 200],
      [2000, 1500, [0x21, 0x11, 0x11], undefined, 700],
      [2000, 1500, [0x11], undefined, undefined],
      [2000, 1500, [0x22, 0x11, 0x11], undefined, undefined],
      [2000, 1500, [0x11, 0x11, 0x11], undefined, undefined],
      [2000, 1500, [0x11, 0x11, 0x11, 0x11], CMYK, undefined],
      [2000, 1500, [0x22, 0x11, 0x11, 0x22], YCCK, undefined],
      [2000, 1500, [0x22, 0x11, 0x11, 0x22], YCCK, 375],
      [4000, 3000, [0x11, 0x11, 0x11, 0x11], CMYK, undefined], // 126 MiB
      [7071, 7071, [0x22, 0x11, 0x11, 0x22], YCCK, 884], // 50 MP (maxPixels) at 1/8
    ];
    // Each as a baseline JPEG and as a progressive one (its coefficient buffers, and an AC table defined
    // between its scans, counted too).
    for (const [w, ht, sampling, adobe, minSize] of cases) for (const progressive of [false, true]) {
      const what = `${w}×${ht} ${sampling.map((x) => x.toString(16)).join(',')}${adobe === undefined ? '' : ` Adobe ${adobe}`}, minSize ${minSize}${progressive ? ', progressive' : ''}`;
      const jpg = dcOnlyJpeg(w, ht, sampling.map(() => []), adobe, sampling, progressive);
      const estimate = baselineJpegDecodeBytes(jpg, minSize)!;
      // the figure decodeImage checks: refused a byte below it, decoded at it
      expectDecodeError(() => decodeImage(jpg, { minSize, maxDecodeBytes: estimate - 1 }), /would take about/);
      const allocated = allocatedBy(jpg, (input) => decodeImage(input, { minSize, maxDecodeBytes: estimate }));
      expect(allocated, what).toBeLessThanOrEqual(estimate);
      expect(estimate, what).toBeLessThanOrEqual(1.1 * allocated); // (equal today)
    }
  });

  it('maxDecodeBytes: 4-component (CMYK, YCCK) estimates against measured peaks', () => {
    // Peak RSS of Node 20 decoding real Adobe JPEGs (PIL's CMYK, ImageMagick's YCCK; less the same script
    // reading the file without decoding; median of 3-5 runs), progressive ones with jpeg-js, which decoded
    // them before this package had its own progressive decoder; the headers are baseline ones the baseline
    // decoder gives up on (header() above), which go to jpeg-js (its blocks as many as for progressive).
    const message = (b: Uint8Array, limit: number) => {
      try {
        decodeImage(b, { maxDecodeBytes: limit });
      } catch (e) {
        return (e as Error).message;
      }
      return ''; // (not reached: the bytes are no image)
    };
    const baselineEstimate = (b: Uint8Array) => Number(/^JPEG: decoding this \d+×\d+ image would take about ([\d.]+) MiB/.exec(message(b, 1))![1]);
    const jpegJsEstimate = (b: Uint8Array) => {
      // past the baseline decoder's check (which counts less), to jpeg-js's
      const m = /in full \(jpeg-js\) would take about ([\d.]+) MiB/.exec(message(b, (baselineEstimate(b) + 0.1) * 2 ** 20));
      return Number(m![1]);
    };
    const CMYK = 0, YCCK = 2;
    // Each estimate at least the measured peak at 4000×3000 (where a limit bites), and at most 1.4 times it:
    // the estimate counts every buffer as alive at once, and V8 frees jpeg-js's blocks and lines (YCCK with
    // 2×2 Y and K: 1.34x) earlier when they are large.
    const covers = (est: number, measured: number) => {
      expect(est).toBeGreaterThanOrEqual(measured);
      expect(est).toBeLessThan(1.4 * measured);
    };
    // jpeg-js, 4000×3000: CMYK 533.5 MiB, YCCK 4:4:4 531.5, YCCK with Y, K 2×2 344.0; and at
    // 2000×1500, as the 3-component ones above (-5 % / +30 %): 170.3, 171.4 and 108.2 (107-129 in 5 runs).
    covers(jpegJsEstimate(header(4000, 3000, [0x11, 0x11, 0x11, 0x11], CMYK)), 533.5);
    covers(jpegJsEstimate(header(4000, 3000, [0x11, 0x11, 0x11, 0x11], YCCK)), 531.5);
    covers(jpegJsEstimate(header(4000, 3000, [0x22, 0x11, 0x11, 0x22], YCCK)), 344.0);
    near(jpegJsEstimate(header(2000, 1500, [0x11, 0x11, 0x11, 0x11], CMYK)), 170.3);
    near(jpegJsEstimate(header(2000, 1500, [0x11, 0x11, 0x11, 0x11], YCCK)), 171.4);
    near(jpegJsEstimate(header(2000, 1500, [0x22, 0x11, 0x11, 0x22], YCCK)), 108.2);
  });

  it('a PNG whose IHDR claims 100000×100000 is refused from the header alone', () => {
    // Valid signature and IHDR (correct CRC) followed by garbage and no IEND: the size error (rather
    // than a decode error about the garbage) shows the check runs before any decoding or allocation.
    const png = new Uint8Array([...PNG_SIG, ...ihdr(100000, 100000), 0xde, 0xad, 0xbe, 0xef]);
    const e = expectDecodeError(() => decodeImage(png), /100000×100000/);
    expect(e.message).toContain(String(DEFAULT_MAX_PIXELS));
    // and with a caller-chosen limit
    const small = new Uint8Array([...PNG_SIG, ...ihdr(100, 100), 0xde]);
    expectDecodeError(() => decodeImage(small, { maxPixels: 9999 }), /100×100 = 10000 pixels.*9999/);
  });

  it('a JPEG whose SOF claims a huge size is refused before decoding', () => {
    const b = fixture('rocket.jpg');
    let p = -1;
    for (let i = 2; i < b.length - 9; i++) if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) { p = i; break; }
    expect(p).toBeGreaterThan(0);
    const huge = b.slice();
    huge.set([0xff, 0xff, 0xff, 0xff], p + 5); // height, width = 65535
    // (The size error, not one about the data, shows the refusal comes before decoding.)
    const e = expectDecodeError(() => decodeImage(huge), /65535×65535/);
    expect(e.message).toContain(String(DEFAULT_MAX_PIXELS));
    // the real size against a small limit
    expectDecodeError(() => decodeImage(b, { maxPixels: 640 * 427 - 1 }), /640×427/);
    expect(decodeImage(b, { maxPixels: 640 * 427 }).width).toBe(640);
  });

  it('a JPEG whose frame header claims more blocks than its data can hold is refused before decoding', () => {
    // 7071×7071 is under the default pixel limit; the data of these files holds a 640×427 or 61×45 image.
    for (const name of ['rocket.jpg', 'jpeg/rocket-420-restart.jpg', 'jpeg/rocket-crop-420-progressive.jpg', 'jpeg/rocket-crop-grey.jpg']) {
      const faked = withFrameSize(fixture(name), 7071, 7071);
      for (const opts of [undefined, { minSize: 256 }]) {
        const e = expectDecodeError(() => decodeImage(faked, opts), /^JPEG: the data is too short for the declared 7071×7071 image \(truncated/);
        expect(e.message).toMatch(/first scan codes \d+ blocks, at least \d+ bytes, and only \d+ bytes follow the scan header/);
      }
    }
    // 4:4:4 rocket.jpg: 884 × 884 blocks in each of 3 components, 2 bits each
    const e = expectDecodeError(() => decodeImage(withFrameSize(fixture('rocket.jpg'), 7071, 7071)));
    expect(e.message).toContain(`codes ${3 * 884 * 884} blocks, at least ${(3 * 884 * 884 * 2) / 8} bytes`);
  });

  it('JPEG data that ends inside a scan is said to end early (truncated), not named by a marker', () => {
    for (const name of ['rocket.jpg', 'jpeg/rocket-420-restart.jpg', 'jpeg/rocket-crop-420-progressive.jpg']) {
      const jpg = fixture(name);
      const cut = jpg.subarray(0, Math.floor(jpg.length * 0.6));
      const withEoi = new Uint8Array([...cut, 0xff, 0xd9]);
      for (const opts of [undefined, { minSize: 1 }]) {
        const e = expectDecodeError(() => decodeImage(cut, opts), /^JPEG: the data ends early \(truncated\)/);
        expect(e.message).toContain('without an end-of-image marker');
        // Progressive at 1/8: a cut in an AC scan of the luma (decoded from its DC alone: its AC scans are
        // skipped, not decoded) followed by an end-of-image marker is a complete scan: the image of the
        // scans so far, as for a file cut between two scans.
        if (opts && name.includes('progressive')) {
          const [part, whole] = [decodeImage(withEoi, opts), decodeImage(jpg, opts)];
          expect([part.width, part.height]).toEqual([whole.width, whole.height]);
          expect(meanAbsDiff(part.data, whole.data)).toBeLessThan(10);
          continue;
        }
        const f = expectDecodeError(() => decodeImage(withEoi, opts), /^JPEG: the data ends early \(truncated\)/);
        expect(f.message).toContain('the end-of-image marker comes before the last block');
        expect(f.message).not.toMatch(/ff[0-9a-f]{2}/);
      }
    }
    // cut inside a marker segment before the image data: as before
    expectDecodeError(() => decodeImage(fixture('truncated.jpg')), /^JPEG: truncated \(marker ffc4 segment runs past the end\)$/);
  });

  it('malformed progressive JPEGs are ImageDecodeErrors naming the problem', () => {
    const src = fixture('jpeg/rocket-crop-420-progressive.jpg');
    // the SOS segments (0xffda cannot occur inside entropy-coded data: a data 0xff is followed by 0x00)
    const sos: number[] = [];
    for (let i = 0; i + 1 < src.length; i++) if (src[i] === 0xff && src[i + 1] === 0xda) sos.push(i);
    expect(sos.length).toBe(10); // libjpeg's default script for 3 components
    /** `src` with scan `k`'s header bytes patched: `at` counts from the component count byte. */
    const patched = (k: number, at: number, value: number) => {
      const b = src.slice();
      b[sos[k] + 4 + at] = value;
      return b;
    };
    const ns = (k: number) => src[sos[k] + 4];
    const params = (k: number) => 1 + 2 * ns(k); // Ss, then Se, then Ah << 4 | Al
    expect([ns(0), src[sos[0] + 4 + params(0)], src[sos[0] + 5 + params(0)]]).toEqual([3, 0, 0]); // DC first, interleaved
    expect(ns(1)).toBe(1);
    const ac = src[sos[1] + 4 + params(1)];
    expect(ac).toBeGreaterThan(0); // an AC scan
    const invalid = /^JPEG: scan \d+: invalid progressive parameters Ss=\d+ Se=\d+ Ah=\d+ Al=\d+ \(/;
    expectDecodeError(() => decodeImage(patched(0, params(0) + 1, 5)), invalid); // a DC scan with AC coefficients
    expectDecodeError(() => decodeImage(patched(1, params(1) + 1, 64)), invalid); // Se past 63
    expectDecodeError(() => decodeImage(patched(1, params(1), 0)), invalid); // an AC scan becomes DC with Se > 0
    expectDecodeError(() => decodeImage(patched(1, params(1) + 2, 0x20)), invalid); // Ah 2, Al 0: not Ah - 1
    expectDecodeError(() => decodeImage(patched(1, params(1) + 2, 0x0e)), invalid); // Al 14
    expectDecodeError(() => decodeImage(patched(0, params(0), 1)), invalid); // an AC band in a 3-component scan
    // tables and components the frame or the file does not have
    expectDecodeError(() => decodeImage(patched(1, 2, 0x03)), /^JPEG: scan 2 uses AC Huffman table 3, which is not defined$/);
    expectDecodeError(() => decodeImage(patched(0, 2, 0x30)), /^JPEG: scan 1 uses DC Huffman table 3, which is not defined$/);
    expectDecodeError(() => decodeImage(patched(1, 1, 9)), /^JPEG: scan 2 names component 9, which the frame does not have$/);
    expectDecodeError(() => decodeImage(patched(0, 3, src[sos[0] + 5])), /^JPEG: scan 1 names component \d+ twice$/);
    // a restart marker out of sequence (cjpeg -restart 1B: after every MCU of every scan)
    const rst = fixture('jpeg/rocket-crop-420-progressive-restart.jpg');
    const at = rst.findIndex((x, i) => i > rst.length / 2 && x === 0xff && rst[i + 1] >= 0xd0 && rst[i + 1] <= 0xd7);
    const badRst = rst.slice();
    badRst[at + 1] = 0xd0 + ((rst[at + 1] - 0xd0 + 3) & 7);
    for (const opts of [undefined, { minSize: 1 }]) {
      expectDecodeError(() => decodeImage(badRst, opts), /^JPEG: scan \d+: a restart marker is missing or out of sequence$/);
    }
    // More than MAX_SCANS (1000) scans: each could visit every block, so a small file could take minutes;
    // and scans that go through the coefficients more than MAX_PASSES (8) times over (a DC scan: 1/64 of them)
    const one = fewestBitsJpeg(64, 48, true).subarray(0, -2);
    const refine = [0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]; // DC refinement: 1 bit a block
    const many = (scans: number) => new Uint8Array([...one, ...Array.from({ length: scans - 1 }, () => refine).flat(), 0xff, 0xd9]);
    expect(decodeImage(many(512)).width).toBe(64);
    expectDecodeError(() => decodeImage(many(513)), /^JPEG: 513 scans that go through the image's coefficients 8\.0 times over, more than the 8 allowed/);
    expectDecodeError(() => decodeImage(many(1001)), /^JPEG: 1001 scans, more than the 1000 allowed/);
  });

  it('hostile progressive JPEGs: scans of a few bytes each that go through every block are refused before any is decoded', () => {
    // 7000×7000 greyscale, 765,625 blocks: an AC refinement scan of 1..63 made of EOB runs (32767 blocks a
    // code, 15 bits) is 45 bytes, and still refines every coefficient of every block. 1000 of them, 172 KB,
    // took 96 s to decode (2-core VM, Node 20), in full as at 1/8; now refused from the scan headers.
    const acr = (n: number, components = 1) => hostileProgressiveJpeg(7000, 7000, ['dc', ...Array.from({ length: n - 1 }, () => 'acr')], components);
    const passes = /^JPEG: \d+ scans that go through the image's coefficients [\d.]+ times over, more than the 8 allowed/;
    for (const opts of [undefined, { minSize: 256 }, { minSize: 256, maxDecodeBytes: 2 ** 30 }]) {
      expectDecodeError(() => decodeImage(acr(1000), opts), passes);
      expectDecodeError(() => decodeImage(acr(1001), opts), /^JPEG: 1001 scans, more than the 1000 allowed/);
    }
    // AC first scans of EOB runs likewise (each block visited, nothing sent)
    const ac = hostileProgressiveJpeg(7000, 7000, ['dc', ...Array.from({ length: 999 }, () => 'ac')]);
    expectDecodeError(() => decodeImage(ac), passes);
    // Refused before the first scan is decoded: with its data corrupt, the budget is still what is named.
    const corrupt = acr(20);
    const sos = corrupt.findIndex((x, i) => x === 0xff && corrupt[i + 1] === 0xda);
    corrupt.fill(0xfe, sos + 12, sos + 40); // DC-first data: codes of 1-bits, which the 1-code table lacks
    expectDecodeError(() => decodeImage(corrupt), passes);
    expectDecodeError(() => decodeImage(acr(9).map((x, i) => (i >= sos + 12 && i < sos + 40 ? 0xfe : x))), /^JPEG: scan 1: a Huffman code/);
    // Within the budget (1/64 for the DC scan, 63/64 for each refinement: 7.9 times over) they decode.
    const img = decodeImage(hostileProgressiveJpeg(512, 256, ['dc', ...Array.from({ length: 8 }, () => 'acr')]));
    expect([img.width, img.height, img.data.every((x) => x === 128)]).toEqual([512, 256, true]);
    expectDecodeError(() => decodeImage(hostileProgressiveJpeg(512, 256, ['dc', ...Array.from({ length: 9 }, () => 'acr')])), passes);
  });

  it('at 1/8 scale the AC scans of a component decoded from its DC alone are skipped, not decoded', () => {
    // greyscale: a DC scan, then an AC scan whose data is codes its table does not have
    const jpg = hostileProgressiveJpeg(512, 256, ['dc', 'ac', 'acr']);
    const sos = jpg.reduce((a: number[], x, i) => (x === 0xff && jpg[i + 1] === 0xda ? [...a, i] : a), []);
    const bad = jpg.slice();
    bad.fill(0xfe, sos[1] + 10, sos[2] - 1);
    expectDecodeError(() => decodeImage(bad), /^JPEG: scan 2: a Huffman code its table does not have/);
    expect(decodeImage(bad, { minSize: 32 }).data).toEqual(decodeImage(jpg, { minSize: 32 }).data);
    // data cut inside it is still a truncation
    expectDecodeError(() => decodeImage(bad.subarray(0, sos[1] + 11), { minSize: 32 }), /^JPEG: the data ends early \(truncated\): it stops inside the image data/);
  });

  it('a progressive JPEG whose bytes end between two scans decodes from the scans it has, as libjpeg does', () => {
    // cut just before a scan (its tables included), with and without the end-of-image marker: the
    // coefficients so far (a coarser image), not an error; cut anywhere inside a scan: an error (above)
    const src = fixture('jpeg/rocket-crop-420-progressive.jpg');
    const full = decodeImage(src);
    let cut = -1;
    for (let i = src.length >> 1; i + 1 < src.length; i++) if (src[i] === 0xff && (src[i + 1] === 0xda || src[i + 1] === 0xc4)) { cut = i; break; }
    expect(cut).toBeGreaterThan(0);
    for (const b of [src.subarray(0, cut), new Uint8Array([...src.subarray(0, cut), 0xff, 0xd9])]) {
      const img = decodeImage(b);
      expect([img.width, img.height]).toEqual([61, 45]);
      expect(img.data).not.toEqual(full.data);
      expect(meanAbsDiff(img.data, full.data)).toBeLessThan(10);
    }
  });

  it('the data-size bound is a lower bound: JPEGs whose blocks take the fewest bits possible still decode', () => {
    // 64×48: 48 blocks. Baseline, 2 bits a block: 12 bytes, here without even an EOI after them.
    const grey = new Uint8Array(64 * 48 * 3).fill(128);
    const baseline = fewestBitsJpeg(64, 48, false, 12, false);
    for (const opts of [undefined, { minSize: 1 }]) {
      const img = decodeImage(baseline, opts);
      expect(img.data).toEqual(opts ? new Uint8Array(8 * 6 * 3).fill(128) : grey);
    }
    expectDecodeError(() => decodeImage(fewestBitsJpeg(64, 48, false, 11, false)), /too short for the declared 64×48 image/);
    // Progressive DC-first scan, 1 bit a block: 6 bytes (+ EOI) decode; a 2-bit bound would refuse them.
    expect(decodeImage(fewestBitsJpeg(64, 48, true)).data).toEqual(grey);
    expectDecodeError(() => decodeImage(fewestBitsJpeg(64, 48, true, 5, false)), /too short for the declared 64×48 image/);
  });

  it('every fixture image still decodes, in full and scaled', () => {
    const names = [
      ...readdirSync(FIX).filter((f) => /\.(png|jpg)$/.test(f) && f !== 'truncated.jpg'),
      ...readdirSync(join(FIX, 'jpeg')).filter((f) => f.endsWith('.jpg')).map((f) => `jpeg/${f}`),
    ];
    expect(names.length).toBe(27); // chelsea, coffee, rocket and the 24 under jpeg/
    for (const name of names) {
      for (const opts of [undefined, { minSize: 1 }, { minSize: 256 }]) {
        expectValidImage(decodeImage(fixture(name), opts));
      }
    }
  });

  it('0×0 and N×0 sizes', () => {
    for (const [w, h] of [[0, 0], [5, 0], [0, 5]]) {
      const png = new Uint8Array([...PNG_SIG, ...ihdr(w, h), ...pngChunk('IEND', [])]);
      expectDecodeError(() => decodeImage(png), /zero size/);
    }
    const j = dcOnlyJpeg(8, 8, [[0]]);
    const p = j.indexOf(0xc0) - 1;
    const zero = j.slice();
    zero.set([0, 0, 0, 0], p + 5);
    expectDecodeError(() => decodeImage(zero), /zero size \(0×0\)/);
  });

  it('PNG CRC damage, missing IEND, missing IDAT', () => {
    const good = encodePng({ width: 4, height: 4, data: new Uint8Array(48).fill(7), channels: 3, depth: 8 });
    expect(decodeImage(good).width).toBe(4);
    const badIhdr = good.slice();
    badIhdr[20] ^= 1;
    expectDecodeError(() => decodeImage(badIhdr), /CRC/);
    expectDecodeError(() => decodeImage(good.subarray(0, good.length - 12)), /truncated|IEND/);
    const noIdat = new Uint8Array([...PNG_SIG, ...ihdr(4, 4), ...pngChunk('IEND', [])]);
    expectDecodeError(() => decodeImage(noIdat), /IDAT/);
  });

  it('a decompression bomb behind a small declared size is refused', () => {
    const idat = new Uint8Array(300_000); // a 1×1 image needs a few bytes
    const png = new Uint8Array([...PNG_SIG, ...ihdr(1, 1), ...pngChunk('IDAT', idat), ...pngChunk('IEND', [])]);
    expectDecodeError(() => decodeImage(png), /far more than a 1×1 image needs/);
  });

  /** chelsea.png's filtered rows (inflated here with node:zlib): 300 rows of a filter byte + 451 × 3 bytes. */
  function chelseaRaw(): Uint8Array {
    const src = fixture('chelsea.png');
    const parts: Uint8Array[] = [];
    for (let p = 8; p + 8 <= src.length; ) {
      const len = ((src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3]) >>> 0;
      if (String.fromCharCode(...src.subarray(p + 4, p + 8)) === 'IDAT') parts.push(src.subarray(p + 8, p + 8 + len));
      p += 12 + len;
    }
    const raw = new Uint8Array(inflateSync(Buffer.concat(parts)));
    expect(raw.length).toBe(300 * (1 + 451 * 3));
    return raw;
  }
  /** A PNG of chelsea's kind (8-bit truecolour) declaring width × height, with `zlib` as its image data. */
  const rgbPng = (width: number, height: number, zlib: Uint8Array) =>
    new Uint8Array([...PNG_SIG, ...ihdr(width, height), ...pngChunk('IDAT', zlib), ...pngChunk('IEND', [])]);

  it('PNG image data shorter than the declared size and depth need is said to end early (truncated)', () => {
    const raw = chelseaRaw();
    const needs = 'a 451×300 8-bit truecolour image needs 406200';
    // whole rows missing, and a row cut short (fast-png stumbled on the next row's missing filter byte)
    for (const n of [100 * 1354, 100 * 1354 + 700, 7]) {
      const e = expectDecodeError(() => decodeImage(rgbPng(451, 300, deflateSync(raw.subarray(0, n)))));
      expect(e.message).toBe(`PNG: the image data ends early (truncated): it decompresses to ${n} bytes, ${needs}`);
    }
    // the same data under a taller declared size
    expectDecodeError(
      () => decodeImage(rgbPng(451, 400, deflateSync(raw))),
      /^PNG: the image data ends early \(truncated\): it decompresses to 406200 bytes, a 451×400 8-bit truecolour image needs 541600$/,
    );
  });

  it('PNG image data cut inside its last row decodes with zeros for the missing bytes (as the README says)', () => {
    const raw = chelseaRaw();
    const full = decodeImage(rgbPng(451, 300, deflateSync(raw)));
    const cut = decodeImage(rgbPng(451, 300, deflateSync(raw.subarray(0, raw.length - 10))));
    const n = 451 * 300 * 3;
    // Every byte before the cut is the same, and the 10 missing ones are zeros (the last row's filter is
    // Paeth: they are not unfiltered, or they would take their neighbours' values).
    expect(maxAbsDiff(cut.data.subarray(0, n - 10), full.data.subarray(0, n - 10))).toBe(0);
    expect([...cut.data.subarray(n - 10)]).toEqual(new Array(10).fill(0));
    expect(maxAbsDiff(cut.data.subarray(n - 10), full.data.subarray(n - 10))).toBeGreaterThan(0);
  });

  it('a bad PNG filter type byte is named with its row and value', () => {
    const raw = chelseaRaw().slice();
    raw[7 * 1354] = 9; // row 8's filter byte
    expectDecodeError(
      () => decodeImage(rgbPng(451, 300, deflateSync(raw))),
      /^PNG: bad filter type 9 at the start of row 8 of 300 \(valid types are 0-4\)$/,
    );
    // a narrower declared size: row 2 starts inside row 1's pixels, and there is data to spare
    const e = expectDecodeError(() => decodeImage(rgbPng(450, 300, deflateSync(chelseaRaw()))), /^PNG: bad filter type (\d+) at the start of row (\d+) of 300/);
    expect(e.message).toContain('; the data decompresses to more than the 405300 bytes a 450×300 8-bit truecolour image needs');
    const [, value, row] = e.message.match(/type (\d+) at the start of row (\d+)/)!;
    expect(chelseaRaw()[(+row - 1) * (1 + 450 * 3)]).toBe(+value);
    // Adam7, 16×16 greyscale: passes of 2, 2, 2, 4, 4, 8 and 8 rows of 3, 3, 5, 5, 9, 9 and 17 bytes
    const adam7 = new Uint8Array(2 * 3 + 2 * 3 + 2 * 5 + 4 * 5 + 4 * 9 + 8 * 9 + 8 * 17);
    adam7[2 * 3 + 2 * 3] = 7; // pass 3, row 1
    const grey16 = () => new Uint8Array([...PNG_SIG, ...ihdr(16, 16, 8, 0, 1), ...pngChunk('IDAT', deflateSync(adam7)), ...pngChunk('IEND', [])]);
    expectDecodeError(() => decodeImage(grey16()), /^PNG: bad filter type 7 at the start of row 1 of 2 in Adam7 pass 3 \(valid types are 0-4\)$/);
    adam7[2 * 3 + 2 * 3] = 0;
    expect(decodeImage(grey16()).data).toEqual(new Uint8Array(16 * 16 * 3));
  });

  it('a corrupt or cut zlib stream in a PNG is said to be so, with the inflater\'s reason', () => {
    const zlib = deflateSync(chelseaRaw());
    const bad = (z: Uint8Array | number[]) => () => decodeImage(rgbPng(451, 300, new Uint8Array(z)));
    expectDecodeError(bad([1, 2, 3, 4, 5, 6, 7, 8]), /^PNG: the compressed image data \(zlib stream\) is corrupt: invalid zlib data \(inflate error code 6\)$/);
    expectDecodeError(bad([0x78, 0x9c, 0xff, 0xff, 0xff, 0, 0, 0, 0]), /^PNG: the compressed image data \(zlib stream\) is corrupt: invalid block type \(inflate error code 1\)$/);
    expectDecodeError(bad(zlib.subarray(0, zlib.length >> 1)), /^PNG: the compressed image data ends early \(truncated zlib stream: unexpected EOF\)$/);
    expect(decodeImage(rgbPng(451, 300, zlib))).toEqual(decodeImage(fixture('chelsea.png')));
  });
});

describe('decodeImage: fuzzing never throws anything but ImageDecodeError, never hangs', () => {
  function tryDecode(bytes: Uint8Array, opts?: { minSize: number }): 'ok' | 'error' {
    try {
      expectValidImage(decodeImage(bytes, opts));
      return 'ok';
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw new Error(`non-ImageDecodeError: ${String(e)}`, { cause: e });
      return 'error';
    }
  }

  function mutate(src: Uint8Array, r: () => number, headerBias: number): Uint8Array {
    const b = src.slice();
    const flips = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flips; k++) {
      const pos = r() < 0.5 ? Math.floor(r() * Math.min(headerBias, b.length)) : Math.floor(r() * b.length);
      b[pos] = r() < 0.5 ? b[pos] ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    }
    return b;
  }

  it('progressive JPEGs: random byte flips and truncations of each fixture, in full and at 1/8 scale', () => {
    const names = readdirSync(join(FIX, 'jpeg')).filter((f) => f.includes('progressive') && f.endsWith('.jpg'));
    expect(names.length).toBe(12);
    const tally = { ok: 0, error: 0 };
    for (const name of names) {
      const src = fixture(`jpeg/${name}`);
      const r = rng(name.length * 31 + src.length);
      for (let i = 0; i < 400; i++) {
        const opts = i % 2 ? { minSize: 1 } : undefined;
        // flips near the start (headers, the first scans' tables) or anywhere; cuts anywhere
        const b = i < 300 ? mutate(src, r, 700) : src.subarray(0, Math.floor(r() * src.length));
        tally[tryDecode(b, opts)]++;
      }
    }
    expect(tally.ok + tally.error).toBe(4800);
  }, 120_000);

  const FUZZ: [string, number, { minSize: number }?][] = [
    ['chelsea.png', 60], ['rocket.jpg', 40], ['jpeg/rocket-crop-420-progressive.jpg', 100],
    // the 1/8-scale decoder first (its own Huffman decoding and restart handling), then the fallback
    ['rocket.jpg', 40, { minSize: 1 }], ['jpeg/rocket-420-restart.jpg', 40, { minSize: 1 }],
  ];
  for (const [name, n, opts] of FUZZ) {
    it(`${name}: ${n} random byte flips and ${n} truncations${opts ? ' (1/8 scale)' : ''}`, () => {
      const src = fixture(name);
      const r = rng(name.length * 7919 + (opts ? 1 : 0));
      const tally = { ok: 0, error: 0 };
      for (let i = 0; i < n; i++) tally[tryDecode(mutate(src, r, 1024), opts)]++;
      for (let i = 0; i < n; i++) {
        // small cuts near the start (headers) and anywhere in the data
        const cut = i < n / 4 ? Math.floor(r() * 700) : Math.floor(r() * src.length);
        tally[tryDecode(src.subarray(0, cut), opts)]++;
      }
      expect(tally.ok + tally.error).toBe(2 * n);
    }, 120_000);
  }

  it('chelsea.png with corrupted IDAT data but repaired CRCs (reaches the inflater / unfilter)', () => {
    const src = fixture('chelsea.png');
    // locate IDAT chunks
    const chunks: Array<[number, number]> = [];
    for (let p = 8; p + 8 <= src.length; ) {
      const len = ((src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3]) >>> 0;
      const type = String.fromCharCode(...src.subarray(p + 4, p + 8));
      if (type === 'IDAT') chunks.push([p, len]);
      p += 12 + len;
      if (type === 'IEND') break;
    }
    expect(chunks.length).toBeGreaterThan(0);
    const r = rng(12345);
    for (let i = 0; i < 40; i++) {
      const b = src.slice();
      const [p, len] = chunks[Math.floor(r() * chunks.length)];
      const flips = 1 + Math.floor(r() * 3);
      for (let k = 0; k < flips; k++) {
        const pos = p + 8 + (i < 10 ? Math.floor(r() * Math.min(len, 64)) : Math.floor(r() * len));
        b[pos] ^= 1 << Math.floor(r() * 8);
      }
      b.set(be32(crc32(b.subarray(p + 4, p + 8 + len))), p + 8 + len);
      tryDecode(b);
    }
  }, 120_000);

  it('random garbage after valid magic bytes', () => {
    const r = rng(99);
    let errors = 0;
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(r() * 200);
      const body = new Uint8Array(len).map(() => Math.floor(r() * 256));
      for (const b of [
        new Uint8Array([...PNG_SIG, ...body]),
        new Uint8Array([0xff, 0xd8, 0xff, ...body]),
        new Uint8Array([...PNG_SIG, ...ihdr(1 + (i % 5), 1 + (i % 3), [1, 2, 4, 8, 16][i % 5], [0, 2, 3, 4, 6][i % 5]), ...body]),
      ]) errors += tryDecode(b) === 'error' ? 1 : 0;
    }
    // Garbage after the magic bytes is refused (each case ended in an ImageDecodeError, not another error).
    expect(errors).toBe(600);
  });
});

describe('fromPixels', () => {
  it('RGBA (ImageData-like, Uint8ClampedArray) → RGB, alpha over white', () => {
    const data = new Uint8ClampedArray([10, 20, 30, 255, 0, 0, 0, 0, 200, 100, 0, 128]);
    const img = fromPixels({ data, width: 3, height: 1 });
    expect(img.data).toBeInstanceOf(Uint8Array);
    const over = (c: number, a: number) => Math.round((c * a + 255 * (255 - a)) / 255);
    expect(Array.from(img.data)).toEqual([10, 20, 30, 255, 255, 255, over(200, 128), over(100, 128), over(0, 128)]);
  });

  it('RGB is copied (not aliased)', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const img = fromPixels({ data, width: 2, height: 1 });
    expect(Array.from(img.data)).toEqual([1, 2, 3, 4, 5, 6]);
    data[0] = 99;
    expect(img.data[0]).toBe(1);
  });

  it('inconsistent sizes are InputErrors', () => {
    expect(() => fromPixels({ data: new Uint8Array(10), width: 2, height: 2 })).toThrow(InputError);
    expect(() => fromPixels({ data: new Uint8Array(0), width: 0, height: 0 })).toThrow(InputError);
    expect(() => fromPixels({ data: new Uint8Array(12), width: 1.5, height: 2 })).toThrow(InputError);
    expect(() => fromPixels({ data: [1, 2, 3] as unknown as Uint8Array, width: 1, height: 1 })).toThrow(InputError);
    expect(() => fromPixels(null as unknown as RGBImage)).toThrow(InputError);
  });

  it('a huge width × height with too little data is an InputError naming the sizes, checked before allocating', async () => {
    // 100000 × 100000 × 3 bytes is more than a typed array can hold: allocating first threw a RangeError.
    const huge = { data: new Uint8Array(3), width: 100000, height: 100000 };
    expect(() => fromPixels(huge)).toThrow(InputError);
    expect(() => fromPixels(huge)).toThrow('fromPixels: data has 3 bytes; a 100000×100000 image needs 40000000000 (RGBA) or 30000000000 (RGB)');
    await expect(toRGB(huge)).rejects.toThrow(InputError); // what classify({ data, width, height }) calls
    expect(() => fromPixels({ data: new Uint8ClampedArray(12), width: 30000, height: 30000 })).toThrow(/data has 12 bytes; a 30000×30000 image needs/);
  });
});

describe('preprocess', () => {
  /** TF-slim eval preprocessing written out plainly: central_crop(0.875), TF1 legacy bilinear, [-1, 1]. */
  function inceptionReference(img: RGBImage, size: number): Float64Array {
    const { width: W, height: H, data } = img;
    const top = Math.floor(H * 0.0625), left = Math.floor(W * 0.0625); // (H − 0.875·H)/2
    const ch = H - 2 * top, cw = W - 2 * left;
    const out = new Float64Array(size * size * 3);
    const px = (y: number, x: number, c: number) => data[((top + y) * W + (left + x)) * 3 + c] / 255;
    for (let oy = 0; oy < size; oy++) {
      const sy = (oy * ch) / size;
      const y0 = Math.floor(sy), y1 = Math.min(Math.ceil(sy), ch - 1), fy = sy - y0;
      for (let ox = 0; ox < size; ox++) {
        const sx = (ox * cw) / size;
        const x0 = Math.floor(sx), x1 = Math.min(Math.ceil(sx), cw - 1), fx = sx - x0;
        for (let c = 0; c < 3; c++) {
          const top_ = px(y0, x0, c) + (px(y0, x1, c) - px(y0, x0, c)) * fx;
          const bot = px(y1, x0, c) + (px(y1, x1, c) - px(y1, x0, c)) * fx;
          out[(oy * size + ox) * 3 + c] = (top_ + (bot - top_) * fy - 0.5) * 2;
        }
      }
    }
    return out;
  }

  function synthetic(w: number, h: number, seed: number): RGBImage {
    const r = rng(seed);
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = 3 * (y * w + x);
        data[o] = (x * 255) / Math.max(1, w - 1);
        data[o + 1] = (y * 255) / Math.max(1, h - 1);
        data[o + 2] = Math.floor(r() * 256);
      }
    return { data, width: w, height: h };
  }

  it('inception_v1 matches a plain TF-slim eval computation on synthetic images', () => {
    for (const [w, h, size] of [[53, 37, 224], [300, 200, 224], [224, 224, 224], [1000, 17, 64], [9, 400, 299]]) {
      const img = synthetic(w, h, w * h);
      const x = preprocess(img, 'inception_v1', size);
      expect(x.length).toBe(size * size * 3);
      expect(maxAbsDiff(x, inceptionReference(img, size))).toBeLessThan(1e-5);
      let lo = Infinity, hi = -Infinity;
      for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
    }
  });

  it('inception_v1 matches TensorFlow.js (central crop, resizeBilinear legacy mode) on noise images and the fixtures', async () => {
    // tfjs's CPU resizeBilinear with alignCorners = halfPixelCenters = false is TF1's resize_bilinear:
    // src = d·in/out, no half-pixel offset, the upper tap clamped to the last row / column.
    const noise = (w: number, h: number, seed: number): RGBImage => {
      const r = rng(seed);
      return { data: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256)), width: w, height: h };
    };
    const cases: Array<[string, RGBImage, number]> = [];
    // [W, H, size]: upscaling, downscaling, odd and non-square sources, one axis up and the other down,
    // crops (16·k) that land exactly on the output size, a 1-pixel source and a 1-pixel output.
    for (const [w, h, size] of [[53, 37, 224], [301, 199, 224], [640, 480, 224], [225, 223, 224], [256, 256, 224],
      [17, 1000, 61], [1000, 17, 61], [9, 400, 299], [7, 7, 13], [2, 3, 5], [1, 1, 3], [97, 131, 1], [160, 48, 35]]) {
      cases.push([`noise ${w}×${h} → ${size}`, noise(w, h, 7 * w + h), size]);
    }
    for (const f of ['chelsea.png', 'coffee.png', 'rocket.jpg']) {
      const img = decodeImage(new Uint8Array(readFileSync(join(FIX, f))));
      for (const size of [224, 299, 111]) cases.push([`${f} (${img.width}×${img.height}) → ${size}`, img, size]);
    }
    for (const [name, img, size] of cases) {
      const ours = preprocess(img, 'inception_v1', size);
      const ref = await tfjsInceptionPreprocess(img, size);
      expect(ours.length, name).toBe(ref.length);
      // Both interpolate in float64 from the same uint8 values; they differ only by float32 roundings
      // (tfjs rounds the resized values and each scaling step to float32): 1 ulp of 1 at most, seen.
      expect(maxAbsDiff(ours, ref), name).toBeLessThanOrEqual(2 * 2 ** -23);
    }
  });

  it('inception_v1 uses TF1 legacy (non-half-pixel) resize: hand-worked 2×1 → 4×4', () => {
    // central_crop keeps both pixels (trunc(0.125) = 0); src = d·2/4 → 0, 0.5, 1, 1.5 (clamped to 1)
    const img = { data: new Uint8Array([0, 0, 0, 255, 255, 255]), width: 2, height: 1 };
    const x = preprocess(img, 'inception_v1', 4);
    const row = [0, 1, 2, 3].map((i) => x[i * 3]);
    expect(row).toEqual([-1, 0, 1, 1]);
    for (let y = 1; y < 4; y++) for (let i = 0; i < 12; i++) expect(x[y * 12 + i]).toBe(x[i]);
  });

  it('inception_v1 central crop: 16×16 keeps rows/cols 1..14', () => {
    // a single bright pixel at (0,0) must be cropped away; (1,1) must survive at output (0,0)
    const data = new Uint8Array(16 * 16 * 3);
    data.set([255, 255, 255], 0);
    data.set([255, 0, 0], 3 * (1 * 16 + 1));
    const x = preprocess({ data, width: 16, height: 16 }, 'inception_v1', 14);
    expect(Array.from(x.subarray(0, 3))).toEqual([1, -1, -1]);
    expect(Math.max(...x.subarray(3))).toBe(-1);
  });

  it('an RGBImage over a Uint8ClampedArray gives what the same bytes give as a Uint8Array; other arrays are refused', () => {
    const rand = rng(77);
    const bytes = Uint8Array.from({ length: 37 * 29 * 3 }, () => Math.floor(rand() * 256));
    for (const model of ['googlenet', 'inception_v1'] as const) {
      const a = preprocess({ data: bytes, width: 37, height: 29 }, model, 31);
      const b = preprocess({ data: new Uint8ClampedArray(bytes), width: 37, height: 29 }, model, 31);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    expect(() => preprocess({ data: new Int8Array(3) as unknown as Uint8Array, width: 1, height: 1 }, 'googlenet')).toThrow(/image data must be a Uint8Array or Uint8ClampedArray/);
  });

  it('googlenet: BGR minus mean on a flat image, any aspect ratio', () => {
    for (const [w, h] of [[1, 1], [3, 700], [700, 3], [256, 256]]) {
      const data = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) data.set([200, 100, 50], 3 * i);
      const x = preprocess({ data, width: w, height: h }, 'googlenet');
      const expected = new Float32Array(224 * 224 * 3);
      for (let i = 0; i < 224 * 224; i++) expected.set([50 - 104, 100 - 117, 200 - 123], 3 * i);
      expect(maxAbsDiff(x, expected)).toBeLessThan(1e-5);
    }
  });

  it('googlenet: a ramp image lands on the hand-worked sample coordinates, portrait and landscape, at 224 and 112', () => {
    // R = x, G = y, B = 7. Bilinear interpolation of a linear ramp is exact, so each output is its sample
    // coordinate (d + crop + 0.5)·in/resized − 0.5 (half-pixel centres; no clamping: the crops keep a
    // margin), in BGR order less the mean. The chelsea/coffee references are both landscape at 224; these
    // cases pin the portrait branch and other sizes, where the shorter side is round(size·256/224).
    const cases: Array<[number, number, number, number, number, number, number]> = [
      // [W, H, size, resized W, resized H, crop x, crop y], worked by hand:
      [100, 203, 224, 256, 520, 16, 148], // 203·256/100 = 519.68 → 520; (256−224)/2 = 16; (520−224)/2 = 148
      [203, 100, 224, 520, 256, 148, 16], // the same, landscape
      [97, 150, 112, 128, 198, 8, 43], // S = round(112·256/224) = 128; 150·128/97 = 197.94 → 198; 16/2; 86/2
      [150, 97, 112, 198, 128, 43, 8],
    ];
    for (const [W, H, size, rw, rh, cx, cy] of cases) {
      const data = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x, y, 7], 3 * (y * W + x));
      const x = preprocess({ data, width: W, height: H }, 'googlenet', size);
      expect(x.length).toBe(size * size * 3);
      const want = new Float64Array(size * size * 3);
      for (let oy = 0; oy < size; oy++) {
        for (let ox = 0; ox < size; ox++) {
          const sx = ((ox + cx + 0.5) * W) / rw - 0.5, sy = ((oy + cy + 0.5) * H) / rh - 0.5;
          want.set([7 - 104, sy - 117, sx - 123], 3 * (oy * size + ox));
        }
      }
      expect(maxAbsDiff(x, want), `${W}x${H} at ${size}`).toBeLessThan(1e-3);
    }
  });

  it('bad arguments are InputErrors', () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2 };
    expect(() => preprocess(img, 'resnet' as 'googlenet')).toThrow(InputError);
    expect(() => preprocess(img, 'googlenet', 0)).toThrow(InputError);
    expect(() => preprocess(img, 'googlenet', 2.5)).toThrow(InputError);
    expect(() => preprocess({ ...img, data: new Uint8Array(11) }, 'googlenet')).toThrow(InputError);
    expect(() => preprocess({ ...img, width: 0 }, 'inception_v1')).toThrow(InputError);
  });
});
