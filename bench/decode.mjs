// Image decoding: this package's decodeImage in full and as classify decodes (minSize 256: 1/2, 1/4 or
// 1/8 scale for JPEGs of at least 512, 1024 or 2048 pixels on the shorter side), against jpeg-js's own
// decode: image by image, the three interleaved round-robin, median of --runs rounds (default 7) after an
// untimed one. Besides the fixtures it encodes three photos in memory with jpeg-js (coffee.png's pixels
// stretched to 1024x768, 2016x1512 and 4032x3024 with a fine deterministic texture, quality 90), so the
// figures need no files from elsewhere.
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { decodeImage } from '../dist/index.js';
import { benchArgs, rng, stats } from './common.mjs';

const USAGE = `usage: node bench/decode.mjs [--runs N] [--json]   (npm run bench:decode -- ...)
  --runs N   timed rounds after one untimed, 1 to 10000 (default 7)
  --json     one JSON object on stdout: { date, node, runs, results }, ms medians per image`;
const args = benchArgs('bench/decode.mjs', USAGE, { json: { type: 'boolean' }, runs: { type: 'string' } });
const { values } = args;
const runs = args.int('runs', 7, 1, 10000);
const fixture = (name) => new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

/** coffee.png stretched to w x h (nearest source pixel, plus +-8 levels of seeded noise), as a JPEG. */
function photo(w, h) {
  const src = decodeImage(fixture('coffee.png'));
  const r = rng(w);
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.floor((y * src.height) / h);
    for (let x = 0; x < w; x++) {
      const s = 3 * (sy * src.width + Math.floor((x * src.width) / w)), o = 4 * (y * w + x);
      for (let c = 0; c < 3; c++) data[o + c] = Math.max(0, Math.min(255, src.data[s + c] + Math.round(8 * r())));
      data[o + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 90).data);
}

const images = [
  ['rocket.jpg (640x427)', fixture('rocket.jpg')],
  ['photo 1024x768 (jpeg-js q90)', photo(1024, 768)],
  ['photo 2016x1512 (jpeg-js q90)', photo(2016, 1512)],
  ['photo 4032x3024 (jpeg-js q90)', photo(4032, 3024)],
  ['chelsea.png (451x300)', fixture('chelsea.png')],
  ['coffee.png (600x400)', fixture('coffee.png')],
];
const isJpeg = (b) => b[0] === 0xff && b[1] === 0xd8;
const ways = {
  full: (b) => decodeImage(b),
  classify: (b) => decodeImage(b, { minSize: 256 }),
  'jpeg-js': (b) => (isJpeg(b) ? jpeg.decode(b, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: 4096 }) : undefined),
};
const ms = images.map(() => Object.fromEntries(Object.keys(ways).map((k) => [k, []])));
// Image by image, so that the garbage of a 12-megapixel decode is collected during its own rounds (or the
// next image's untimed one), not charged to a small image after it: rounds over all the images made
// chelsea.png take 18 ms in full after the 4032x3024 photo and 7 ms as classify decodes it right after.
images.forEach(([, bytes], i) => {
  for (let r = 0; r < runs + 1; r++) {
    for (const [k, f] of Object.entries(ways)) {
      const t = performance.now();
      const out = f(bytes);
      if (r > 0 && out) ms[i][k].push(performance.now() - t); // the first round warms up
    }
  }
});
const rows = images.map(([name, bytes], i) => {
  const small = decodeImage(bytes, { minSize: 256 });
  const row = { image: name, bytes: bytes.length, classifySize: `${small.width}x${small.height}` };
  for (const k of Object.keys(ways)) row[k] = ms[i][k].length ? stats(ms[i][k]).median : null;
  return row;
});
if (values.json) {
  console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, results: rows }, null, 2));
} else {
  console.log(`image decoding, ms (median of ${runs} interleaved rounds)`);
  console.log(`${'image'.padEnd(32)} ${'full'.padStart(8)} ${'classify'.padStart(8)} ${'(its size)'.padStart(11)} ${'jpeg-js'.padStart(8)}`);
  for (const r of rows) {
    const f = (x) => (x === null ? '-' : x.toFixed(1)).padStart(8);
    console.log(`${r.image.padEnd(32)} ${f(r.full)} ${f(r.classify)} (${r.classifySize.padStart(9)}) ${f(r['jpeg-js'])}`);
  }
}
