#!/usr/bin/env node
// Regenerate the derived test fixtures from ../shared (which a fresh clone does not have).
//
// 1. Reference tensors: for chelsea and coffee, only `input`, `loss3/classifier` and `prob` of the BVLC
//    GoogLeNet reference run (../shared/reference/bvlc/<name>.io.safetensors) → test/fixtures/<name>.ref.safetensors.
//    Needs a build (dist/): npm run build:ts && node scripts/make-fixtures.mjs
// 2. JPEG decoder yardsticks (only when libjpeg-turbo's djpeg/cjpeg/jpegtran are on PATH, e.g. Debian
//    libjpeg-turbo-progs): a 61×45 crop of rocket.jpg (as decoded by djpeg) re-encoded with several chroma
//    subsamplings, progressive, RGB and greyscale, each with djpeg's decoded pixels
//    → test/fixtures/jpeg/*.jpg + *.ppm / *.pgm; rocket.jpg's pixels re-encoded with restart markers
//    (baseline and progressive); and djpeg's 1/2-, 1/4- and 1/8-scale decoding of them all → *.s2.ppm,
//    *.s4.ppm / *.s8.ppm
//    (.pgm for grey); and progressive files cut after some of their scans, with djpeg's smoothed pixels
//    (*-cut*.jpg + .ppm).
// 3. CMYK and YCCK (Adobe, 4 components) crops with djpeg's RGB, when ImageMagick and PIL are there (below).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, encodeSafetensors } from '../dist/safetensors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.SHARED_DIR ?? join(root, '..', 'shared');
const fixtures = join(root, 'test', 'fixtures');
const KEEP = ['input', 'loss3/classifier', 'prob'];

for (const name of ['chelsea', 'coffee']) {
  const src = join(shared, 'reference', 'bvlc', `${name}.io.safetensors`);
  const { tensors, metadata } = parseSafetensors(new Uint8Array(readFileSync(src)));
  const kept = new Map();
  for (const k of KEEP) {
    const t = tensors.get(k);
    if (!t) throw new Error(`${src}: no tensor "${k}"`);
    kept.set(k, t);
  }
  const meta = {
    ...metadata,
    extracted_from: `shared/reference/bvlc/${name}.io.safetensors`,
    extracted_tensors: KEEP.join(', '),
    extracted_by: 'scripts/make-fixtures.mjs',
  };
  const out = join(fixtures, `${name}.ref.safetensors`);
  const bytes = encodeSafetensors(kept, meta);
  writeFileSync(out, bytes);
  console.log(`${out}: ${KEEP.map((k) => `${k} [${kept.get(k).shape}]`).join(', ')} (${bytes.length} bytes)`);
}

// ---- JPEG yardsticks -------------------------------------------------------------------------------
function have(tool) {
  try {
    execFileSync(tool, ['-version'], { stdio: 'ignore', input: '' });
    return true;
  } catch (e) {
    return e.code !== 'ENOENT';
  }
}
if (!['djpeg', 'cjpeg', 'jpegtran'].every(have)) {
  console.log('djpeg/cjpeg/jpegtran not found: JPEG fixtures left as they are');
  process.exit(0);
}
const run = (tool, args, input) => execFileSync(tool, args, { input, maxBuffer: 1 << 28 });
const version = spawnSync('djpeg', ['-version'], { encoding: 'utf8' }).stderr.trim() || 'unknown';

function parsePnm(buf) {
  // P6/P5 with a single-space/newline header as djpeg writes it
  let p = 0, fields = [];
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(buf[p]))) p++;
    let s = p;
    while (!/\s/.test(String.fromCharCode(buf[p]))) p++;
    fields.push(buf.subarray(s, p).toString());
  }
  p++;
  return { magic: fields[0], width: +fields[1], height: +fields[2], data: buf.subarray(p) };
}

const full = parsePnm(run('djpeg', ['-ppm', join(shared, 'fixtures', 'rocket.jpg')]));
const [X0, Y0, W, H] = [300, 355, 61, 45]; // a region with strong chroma edges (launch tower / plume)
const crop = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) full.data.copy(crop, y * W * 3, ((Y0 + y) * full.width + X0) * 3, ((Y0 + y) * full.width + X0 + W) * 3);
const cropPpm = Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`), crop]);

const dir = join(fixtures, 'jpeg');
mkdirSync(dir, { recursive: true });
const variants = {
  'rocket-crop-420': ['-quality', '85', '-sample', '2x2'],
  'rocket-crop-422': ['-quality', '85', '-sample', '2x1'],
  'rocket-crop-440': ['-quality', '85', '-sample', '1x2'],
  'rocket-crop-444': ['-quality', '85', '-sample', '1x1'],
  'rocket-crop-420-progressive': ['-quality', '85', '-sample', '2x2', '-progressive'],
  // progressive (libjpeg's default script: successive approximation in the DC and AC scans)
  'rocket-crop-422-progressive': ['-quality', '85', '-sample', '2x1', '-progressive'],
  'rocket-crop-444-progressive': ['-quality', '85', '-sample', '1x1', '-progressive'],
  'rocket-crop-420-progressive-restart': ['-quality', '85', '-sample', '2x2', '-progressive', '-restart', '1B'],
  'rocket-crop-rgb': ['-quality', '85', '-rgb'],
};
for (const [name, args] of Object.entries(variants)) {
  const jpg = run('cjpeg', args, cropPpm);
  writeFileSync(join(dir, `${name}.jpg`), jpg);
  writeFileSync(join(dir, `${name}.ppm`), run('djpeg', ['-ppm'], jpg));
  console.log(`${name}.jpg: cjpeg ${args.join(' ')} (${jpg.length} bytes) + djpeg -ppm`);
}
const grey = run('jpegtran', ['-grayscale'], readFileSync(join(dir, 'rocket-crop-420.jpg')));
writeFileSync(join(dir, 'rocket-crop-grey.jpg'), grey);
writeFileSync(join(dir, 'rocket-crop-grey.pgm'), run('djpeg', ['-pnm'], grey));
console.log(`rocket-crop-grey.jpg: jpegtran -grayscale rocket-crop-420.jpg (${grey.length} bytes) + djpeg -pnm`);
const greyProgressive = run('jpegtran', ['-progressive'], grey);
writeFileSync(join(dir, 'rocket-crop-grey-progressive.jpg'), greyProgressive);
writeFileSync(join(dir, 'rocket-crop-grey-progressive.pgm'), run('djpeg', ['-pnm'], greyProgressive));
console.log(`rocket-crop-grey-progressive.jpg: jpegtran -progressive rocket-crop-grey.jpg (${greyProgressive.length} bytes) + djpeg -pnm`);

// Scaled decoding (djpeg -scale 1/2, 1/4 and 1/8): the whole of rocket.jpg re-encoded with restart markers,
// and every baseline crop above, each with djpeg's 1/2-, 1/4- and 1/8-scale pixels (*.s2.ppm, *.s4.ppm,
// *.s8.ppm / .pgm).
const fullPpm = Buffer.concat([Buffer.from(`P6\n${full.width} ${full.height}\n255\n`), full.data]);
const scaled = {
  'rocket-420-restart': ['-quality', '85', '-sample', '2x2', '-restart', '1B'],
  'rocket-422-restart': ['-quality', '85', '-sample', '2x1', '-restart', '1'],
  'rocket-440': ['-quality', '85', '-sample', '1x2'],
  'rocket-422-restart-progressive': ['-quality', '85', '-sample', '2x1', '-progressive', '-restart', '1'],
};
for (const [name, args] of Object.entries(scaled)) {
  const jpg = run('cjpeg', args, fullPpm);
  writeFileSync(join(dir, `${name}.jpg`), jpg);
  console.log(`${name}.jpg: cjpeg ${args.join(' ')} rocket.jpg's pixels (${jpg.length} bytes)`);
}
for (const name of [...Object.keys(variants), 'rocket-crop-grey', 'rocket-crop-grey-progressive', ...Object.keys(scaled)]) {
  const jpg = readFileSync(join(dir, `${name}.jpg`));
  const ext = name.startsWith('rocket-crop-grey') ? 'pgm' : 'ppm';
  for (const d of [2, 4, 8]) {
    writeFileSync(join(dir, `${name}.s${d}.${ext}`), run('djpeg', ['-scale', `1/${d}`, '-pnm'], jpg));
    console.log(`${name}.s${d}.${ext}: djpeg -scale 1/${d} -pnm`);
  }
}

// Progressive JPEGs that end after some of their scans (the bytes up to a later scan's SOS, then EOI), which
// djpeg shows smoothed (libjpeg's block smoothing: the unsent AC coefficients estimated from the DC values
// around): the 4:2:0 crop after 1 and after 3 of its 10 scans (1/2, 1/4, 1/8 too after 1); a crop two
// blocks wide (x 200, y 150, 16×24, 4:4:4) after 1 scan; and a 33×41 crop (x 120, y 90, 4:2:0) written
// with a scan script of successive approximation in the AC bands too (sa-scans.txt) after 8 of 13 scans.
const cutAfter = (jpg, scans) => {
  const sos = [];
  for (let i = 0; i + 1 < jpg.length; i++) if (jpg[i] === 0xff && jpg[i + 1] === 0xda) sos.push(i);
  return Buffer.concat([jpg.subarray(0, sos[scans]), Buffer.from([0xff, 0xd9])]);
};
const cropOf = (x0, y0, w, h) => {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) full.data.copy(px, y * w * 3, ((y0 + y) * full.width + x0) * 3, ((y0 + y) * full.width + x0 + w) * 3);
  return Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]);
};
const progressive420 = readFileSync(join(dir, 'rocket-crop-420-progressive.jpg'));
const cuts = {
  'rocket-crop-420-progressive-cut1': [cutAfter(progressive420, 1), [1, 2, 4, 8]],
  'rocket-crop-420-progressive-cut3': [cutAfter(progressive420, 3), [1]],
  'narrow-16x24-progressive-cut1': [cutAfter(run('cjpeg', ['-quality', '80', '-sample', '1x1', '-progressive'], cropOf(200, 150, 16, 24)), 1), [1]],
  'sa-33x41-420-cut8': [cutAfter(run('cjpeg', ['-quality', '80', '-sample', '2x2', '-scans', join(dir, 'sa-scans.txt')], cropOf(120, 90, 33, 41)), 8), [1]],
};
for (const [name, [jpg, scales]] of Object.entries(cuts)) {
  writeFileSync(join(dir, `${name}.jpg`), jpg);
  for (const d of scales) {
    writeFileSync(join(dir, `${name}${d > 1 ? `.s${d}` : ''}.ppm`), run('djpeg', [...(d > 1 ? ['-scale', `1/${d}`] : []), '-ppm'], jpg));
  }
  console.log(`${name}.jpg (${jpg.length} bytes) + djpeg -ppm${scales.length > 1 ? ', -scale 1/2, 1/4, 1/8' : ''}`);
}
console.log(`djpeg: ${version}`);

// 4-component Adobe JPEGs (only when ImageMagick and Python's PIL are there, e.g. Debian imagemagick and
// python3-pil; $CONVERT and $PYTHON name them): the crop separated into CMYK by ImageMagick
// (-colorspace CMYK, its own formula with black generation), written by PIL as Adobe CMYK (transform 0,
// stored inverted, 1×1 sampling; baseline and progressive) and by ImageMagick as YCCK (transform 2, its
// default 2×2,1×1,1×1,2×2 sampling at quality 85; baseline, and progressive with that sampling and with
// 1×1); djpeg's RGB (libjpeg-turbo's wrppm.c: R = C·K/255
// rounded, from libjpeg's YCCK→CMYK for transform 2) in full and at 1/2, 1/4, 1/8 → *.ppm, *.s2.ppm, *.s4.ppm,
// *.s8.ppm.
const convert = [process.env.CONVERT, 'convert-im6.q16', 'magick', 'convert'].find((c) => {
  if (!c) return false;
  const r = spawnSync(c, ['-version'], { encoding: 'utf8' });
  return !r.error && /ImageMagick/.test(r.stdout ?? '');
});
const python = process.env.PYTHON ?? 'python3';
const pil = spawnSync(python, ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' });
if (!convert || pil.status !== 0) {
  console.log('ImageMagick or python3 with PIL not found: CMYK/YCCK fixtures left as they are');
  process.exit(0);
}
const cmykRaw = run(convert, ['ppm:-', '-colorspace', 'CMYK', '-depth', '8', 'cmyk:-'], cropPpm);
const pilSave = (progressive) =>
  run(python, ['-c', [
    'import sys, io',
    'from PIL import Image',
    `im = Image.frombytes('CMYK', (${W}, ${H}), sys.stdin.buffer.read())`,
    'out = io.BytesIO()',
    `im.save(out, 'JPEG', quality=85, subsampling=0${progressive ? ', progressive=True' : ''})`,
    'sys.stdout.buffer.write(out.getvalue())',
  ].join('\n')], cmykRaw);
const fourComponent = {
  'rocket-crop-cmyk': [pilSave(false), "PIL Image.frombytes('CMYK', …).save(quality=85, subsampling=0)"],
  'rocket-crop-cmyk-progressive': [pilSave(true), 'the same with progressive=True'],
  'rocket-crop-ycck': [run(convert, ['ppm:-', '-colorspace', 'CMYK', '-quality', '85', 'jpg:-'], cropPpm), `${convert} ppm:- -colorspace CMYK -quality 85 jpg:-`],
  // progressive YCCK: ImageMagick's default sampling (4:2:0 chroma), and 1×1 for all four
  'rocket-crop-ycck-progressive': [run(convert, ['ppm:-', '-colorspace', 'CMYK', '-quality', '85', '-interlace', 'JPEG', 'jpg:-'], cropPpm), `${convert} ppm:- -colorspace CMYK -quality 85 -interlace JPEG jpg:-`],
  'rocket-crop-ycck-1x1-progressive': [
    run(convert, ['ppm:-', '-colorspace', 'CMYK', '-quality', '85', '-sampling-factor', '1x1', '-interlace', 'JPEG', 'jpg:-'], cropPpm),
    `${convert} ppm:- -colorspace CMYK -quality 85 -sampling-factor 1x1 -interlace JPEG jpg:-`,
  ],
};
for (const [name, [jpg, how]] of Object.entries(fourComponent)) {
  writeFileSync(join(dir, `${name}.jpg`), jpg);
  writeFileSync(join(dir, `${name}.ppm`), run('djpeg', ['-ppm'], jpg));
  console.log(`${name}.jpg: ${how} (${jpg.length} bytes) + djpeg -ppm`);
  for (const d of [2, 4, 8]) {
    writeFileSync(join(dir, `${name}.s${d}.ppm`), run('djpeg', ['-scale', `1/${d}`, '-ppm'], jpg));
    console.log(`${name}.s${d}.ppm: djpeg -scale 1/${d} -ppm`);
  }
}
console.log(`${spawnSync(convert, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0]}; PIL ${pil.stdout.trim()}`);
