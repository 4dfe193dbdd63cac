// Photos in, labels out: the whole path (bytes → decode → preprocess → network → labels) with the
// bundled weights, the API's input forms, and the CLI on a folder of good and bad files.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, copyFileSync, mkdirSync, rmSync, existsSync, symlinkSync } from 'node:fs';
import { blackPng } from './helpers/png.mjs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { loadModel, decodeImage, parseSafetensors, ImageDecodeError, InputError, type Model } from '../dist/index.js';

/** CRC-32 (PNG chunks), bit by bit. */
function crc32(b: Uint8Array, start: number, end: number): number {
  let c = ~0;
  for (let i = start; i < end; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

const fixture = (f: string) => new URL(`./fixtures/${f}`, import.meta.url).pathname;
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const run = promisify(execFile);
// Top-1 probabilities of the independent reference (../shared/README.md).
const expected = { 'chelsea.png': [285, 'Egyptian cat', 0.499], 'coffee.png': [967, 'espresso', 0.909] } as const;

describe('classify / embed with the bundled weights', () => {
  let m: Model;
  beforeAll(async () => { m = await loadModel({ model: 'googlenet' }); });
  afterAll(async () => { await m.dispose(); });

  for (const [file, [index, label, p]] of Object.entries(expected)) {
    it(`${file} → ${index} ${label} (p ≈ ${p}) from bytes, from a path and from pixels`, async () => {
      const bytes = new Uint8Array(readFileSync(fixture(file)));
      const fromBytes = await m.classify(bytes);
      expect(fromBytes).toHaveLength(5);
      expect(fromBytes[0].index).toBe(index);
      expect(fromBytes[0].label).toBe(label);
      expect(Math.abs(fromBytes[0].probability - p)).toBeLessThan(1e-2);
      expect(fromBytes[0].probability).toBeGreaterThan(fromBytes[1].probability);
      expect(await m.classify(fixture(file), { top: 2 })).toEqual(fromBytes.slice(0, 2));
      // RGBA pixels, as a browser's ImageData would hand them over.
      const rgb = decodeImage(bytes);
      const rgba = new Uint8ClampedArray(rgb.width * rgb.height * 4);
      for (let i = 0; i < rgb.width * rgb.height; i++) {
        rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
        rgba[4 * i + 3] = 255;
      }
      expect(await m.classify({ data: rgba, width: rgb.width, height: rgb.height })).toEqual(fromBytes);
      // A data: URL, as a canvas's toDataURL() or a FileReader gives it (on Node too: fetch reads it).
      expect(await m.classify(`data:image/${file.endsWith('.png') ? 'png' : 'jpeg'};base64,${Buffer.from(bytes).toString('base64')}`)).toEqual(fromBytes);
    });
  }

  it('a JPEG of 512 to 1023 pixels on its shorter side is decoded at 1/2 scale, as decodeImage with minSize 256', async () => {
    // chelsea.png's pixels stretched to 1024x768 (nearest), encoded by jpeg-js (4:2:0)
    const src = decodeImage(readFileSync(fixture('chelsea.png')));
    const [w, h] = [1024, 768];
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = 3 * (Math.floor((y * src.height) / h) * src.width + Math.floor((x * src.width) / w));
        rgba.set(src.data.subarray(s, s + 3), 4 * (y * w + x));
        rgba[4 * (y * w + x) + 3] = 255;
      }
    }
    const jpeg = (await import('jpeg-js')).default;
    const bytes = new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
    const half = decodeImage(bytes, { minSize: 256 });
    expect([half.width, half.height]).toEqual([512, 384]);
    const probs = await m.classify(bytes, { top: 1000 });
    expect(await m.classify(half, { top: 1000 })).toEqual(probs);
    // the full-size decode gives other pixels, and the same answer
    const full = await m.classify(decodeImage(bytes), { top: 1000 });
    expect(full).not.toEqual(probs);
    expect(probs[0]).toMatchObject({ index: 285, label: 'Egyptian cat' });
    expect(full[0].index).toBe(285);
  });

  it('classifyBatch gives each image the answer it gets alone', async () => {
    const files = ['coffee.png', 'chelsea.png', 'rocket.jpg'].map(fixture);
    const batch = await m.classifyBatch(files, { top: 3 });
    for (let i = 0; i < files.length; i++) {
      const alone = await m.classify(files[i], { top: 3 });
      expect(batch[i].map((x) => x.index)).toEqual(alone.map((x) => x.index));
      for (let k = 0; k < 3; k++) expect(batch[i][k].probability).toBeCloseTo(alone[k].probability, 6);
    }
  });

  it('embed returns the 1024 pooled features, equal to the network end point', async () => {
    const e = await m.embed(fixture('chelsea.png'));
    expect(e).toHaveLength(1024);
    const ref = parseSafetensors(readFileSync(fixture('chelsea.ref.safetensors'))).tensors.get('input')!;
    const out = await m.run({ data: ref.data, shape: ref.shape }, { endpoints: ['pool5/7x7_s1'] });
    expect(Array.from(e)).toEqual(Array.from(out['pool5/7x7_s1'].data));
  });

  it.each([
    ['the truncated JPEG', () => readFileSync(fixture('truncated.jpg')), /truncated/],
    ['an empty file', () => new Uint8Array(0), /empty/],
    ['text renamed .jpg', () => new TextEncoder().encode('this is not an image\n'), /not a PNG or JPEG/],
  ])('%s is an ImageDecodeError', async (_, bytes, msg) => {
    const b = new Uint8Array(bytes());
    await expect(m.classify(b)).rejects.toThrow(ImageDecodeError);
    await expect(m.classify(b)).rejects.toThrow(msg);
  });

  it('a PNG whose header claims 100000x100000 pixels is refused before decoding', async () => {
    const png = new Uint8Array(readFileSync(fixture('chelsea.png')));
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 100000); // IHDR width
    view.setUint32(20, 100000); // IHDR height
    view.setUint32(29, crc32(png, 12, 29)); // a valid header: only the size is wrong
    const t = performance.now();
    await expect(m.classify(png)).rejects.toThrow(/100000.?×.?100000|10000000000/);
    expect(performance.now() - t).toBeLessThan(5000);
    await expect(m.classify(fixture('chelsea.png'), { maxPixels: 1000 })).rejects.toThrow(ImageDecodeError);
  });

  it('a Blob and a File of chelsea.png are its bytes: the same probabilities and features, the same limits', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('chelsea.png')));
    const blob = new Blob([bytes], { type: 'image/png' });
    const file = new File([bytes], 'chelsea.png', { type: 'image/png' });
    const all = await m.classify(bytes, { top: 1000 });
    expect(all[0].index).toBe(285);
    expect(await m.classify(blob, { top: 1000 })).toEqual(all);
    expect(await m.classify(file, { top: 1000 })).toEqual(all);
    const features = await m.embed(bytes);
    expect(Array.from(await m.embed(blob))).toEqual(Array.from(features));
    expect(Array.from(await m.embed(file))).toEqual(Array.from(features));
    const [f1, f2, f3] = await m.embedBatch([file, bytes, blob]);
    expect(Array.from(f1!)).toEqual(Array.from(f2!));
    expect(Array.from(f3!)).toEqual(Array.from(f2!));
    expect((await m.classifyBatch([blob, file], { top: 3 })).map((p) => p.map((x) => x.index))).toEqual([all.slice(0, 3).map((x) => x.index), all.slice(0, 3).map((x) => x.index)]);
    // The limits refuse them as they refuse the bytes, with the same error.
    const limit = /PNG: image is 451×300 = 135300 pixels, more than the limit of 1000 \(maxPixels\)/;
    await expect(m.classify(bytes, { maxPixels: 1000 })).rejects.toThrow(limit);
    await expect(m.classify(blob, { maxPixels: 1000 })).rejects.toThrow(ImageDecodeError);
    await expect(m.classify(blob, { maxPixels: 1000 })).rejects.toThrow(limit);
    await expect(m.embed(file, { maxPixels: 1000 })).rejects.toThrow(limit);
    await expect(m.classify(file, { maxDecodeBytes: 1000 })).rejects.toThrow(/more than the limit of 0\.0 MiB \(maxDecodeBytes\)/);
    // Not an image: the decoder's error, naming the File (and its place in a batch).
    await expect(m.classify(new File(['not an image'], 'notes.png'))).rejects.toThrow(/^the File "notes.png": not a PNG or JPEG image.*looks like text/);
    await expect(m.classifyBatch([file, new Blob([])])).rejects.toThrow(/^image 2 of 2: image is empty \(0 bytes\)$/);
    await expect(m.classifyBatch([file, new Blob([])])).rejects.toThrow(ImageDecodeError);
  });

  it('bad options are InputErrors', async () => {
    await expect(m.classify(fixture('chelsea.png'), { top: 0 })).rejects.toThrow(InputError);
    await expect(m.classify(42 as never)).rejects.toThrow(InputError);
    await expect(m.classify('/nonexistent/photo.jpg')).rejects.toThrow(/cannot read \/nonexistent\/photo.jpg/);
  });
});

describe('topK', () => {
  it('most probable first; equal probabilities in index order, whatever k', async () => {
    const { topK } = await import('../dist/classify.js');
    const labels = ['a', 'b', 'c', 'd', 'e'];
    const probs = Float32Array.of(0.1, 0.3, 0.3, 0.1, 0.2);
    expect(topK(probs, 4, labels).map((p) => p.index)).toEqual([1, 2, 4, 0]);
    expect(topK(probs, 9, labels).map((p) => p.label)).toEqual(['b', 'c', 'e', 'a', 'd']);
    // All equal (a classifier whose logits are all the same): the first k classes, in order.
    expect(topK(new Float32Array(1000).fill(0.001), 3, []).map((p) => [p.index, p.label])).toEqual([[0, 'class 0'], [1, 'class 1'], [2, 'class 2']]);
  });
});

describe('bench statistics', () => {
  it('stats: nearest-rank median, p10 and p90, whatever the order', async () => {
    const { stats } = await import('../dist/bench.js');
    expect(stats([5, 1, 3, 2, 4])).toEqual({ median: 3, p10: 1, p90: 5, runs: 5 });
    const ms = Array.from({ length: 21 }, (_, i) => 20 - i); // 20 .. 0
    expect(stats(ms)).toEqual({ median: 10, p10: 2, p90: 18, runs: 21 });
  });
});

/** A user error is one line of text: no Node stack trace, no "Node.js vX" trailer of an uncaught error. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+[(:]/m);
  expect(stderr).not.toMatch(/node:internal|Node\.js v\d|Unhandled/);
}

describe('googlenet CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'googlenet-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'nested'));
  copyFileSync(fixture('chelsea.png'), join(dir, 'chelsea.png'));
  copyFileSync(fixture('coffee.png'), join(dir, 'nested', 'COFFEE.PNG'));
  copyFileSync(fixture('truncated.jpg'), join(dir, 'truncated.jpg'));
  writeFileSync(join(dir, 'notes.jpg'), 'just some text\n');
  writeFileSync(join(dir, 'empty.jpeg'), '');
  writeFileSync(join(dir, 'readme.txt'), 'not an image and not picked up');

  const exec = async (args: string[]) => {
    try {
      // The kill is a guard, not a measure: a regression that hangs (a link cycle, /dev/zero) must not
      // leave a process behind once the test has timed out.
      const { stdout, stderr } = await run(process.execPath, [cli, ...args], { maxBuffer: 1 << 24, timeout: 55_000, killSignal: 'SIGKILL' });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };

  it('classify piped into a reader that stops early (| head -1): exits 0 without an EPIPE stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const files = Array.from({ length: 6 }, () => fixture('chelsea.png'));
    const child = spawn(process.execPath, [cli, 'classify', ...files, '--top', '5', '--batch', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Read the first line, then close the pipe as `head -1` would.
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => { resolve(String(d)); child.stdout.destroy(); }));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(first).toContain('chelsea.png');
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it('piped into a reader that closes at once, a run with a failed file still exits 1 (EPIPE does not turn it into 0)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cli, 'classify', join(dir, 'notes.jpg'), fixture('chelsea.png'), '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first line: every write to stdout meets EPIPE
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('notes.jpg: not a PNG or JPEG image');
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it('--max-decode-bytes: an image that would take more memory to decode is one failed file naming the limit', async () => {
    const own = mkdtempSync(join(tmpdir(), 'googlenet-decode-')); // (not in dir, whose listing other tests check)
    const big = join(own, 'black2000.png');
    writeFileSync(big, blackPng(2000, 2000));
    const r = await exec(['classify', big, fixture('chelsea.png'), '--threads', '1', '--max-decode-bytes', String(32 * 2 ** 20)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Egyptian cat');
    expect(r.stderr).toMatch(/black2000\.png: PNG: decoding this 2000×2000 image would take about [\d.]+ MiB of memory, more than the limit of 32\.0 MiB \(maxDecodeBytes\)/);
    const bad = await exec(['classify', big, '--max-decode-bytes', '0']);
    expect(bad.stderr).toBe('googlenet classify: --max-decode-bytes must be >= 1, got 0\n');
    rmSync(own, { recursive: true, force: true });
  });

  it('--max-pixels below 1 is refused as an option, once, before the model loads (not as a failure of every file)', async () => {
    for (const [cmd, extra] of [['classify', []], ['embed', ['--output', join(dir, 'never.safetensors')]]] as const) {
      for (const text of ['0', '-3']) {
        const r = await exec([cmd, fixture('chelsea.png'), fixture('coffee.png'), ...extra, `--max-pixels=${text}`]);
        expect(r.code, `${cmd} ${text}`).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(`googlenet ${cmd}: --max-pixels must be >= 1, got ${text}\n`);
      }
    }
    expect(existsSync(join(dir, 'never.safetensors'))).toBe(false);
  });

  it('--top 0 is refused as an option, naming --top, before the model loads', async () => {
    for (const text of ['0', '-2']) {
      const r = await exec(['classify', fixture('chelsea.png'), `--top=${text}`]);
      expect(r.code, text).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`googlenet classify: --top must be >= 1, got ${text}\n`);
    }
  });

  it('classify on a folder: results for the good files, one error line per bad file, exit code 1', async () => {
    const { code, stdout, stderr } = await exec(['classify', dir, '--json', '--top', '3', '--batch', '2']);
    expect(code).toBe(1);
    const res = JSON.parse(stdout) as Array<{ file: string; top?: Array<{ index: number; label: string; probability: number }>; error?: string }>;
    const by = Object.fromEntries(res.map((r) => [r.file.slice(dir.length + 1), r]));
    expect(Object.keys(by).sort()).toEqual(['chelsea.png', 'empty.jpeg', 'nested/COFFEE.PNG', 'notes.jpg', 'truncated.jpg']);
    expect(by['chelsea.png'].top![0]).toMatchObject({ index: 285, label: 'Egyptian cat' });
    expect(by['chelsea.png'].top).toHaveLength(3);
    expect(by['nested/COFFEE.PNG'].top![0]).toMatchObject({ index: 967, label: 'espresso' });
    expect(by['truncated.jpg'].error).toMatch(/truncated/);
    expect(by['notes.jpg'].error).toMatch(/not a PNG or JPEG/);
    expect(by['empty.jpeg'].error).toMatch(/empty/);
    for (const f of ['truncated.jpg', 'notes.jpg', 'empty.jpeg']) expect(stderr).toContain(join(dir, f));
    expect(stderr).toMatch(/classified 2 of 5 images/);
    // Five files: loadModel's default threads (every core).
    const cores = availableParallelism();
    expect(stderr).toContain(`images/s, ${cores} thread${cores === 1 ? '' : 's'}), 3 failed`);
  });

  it('classify a good file: text output, exit code 0; one thread for so few images unless --threads says', async () => {
    const { code, stdout, stderr } = await exec(['classify', fixture('coffee.png'), '--top', '1']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/classified 1 of 1 images in [\d.]+ s \([\d.]+ images\/s, 1 thread\)\n$/);
    const two = await exec(['classify', fixture('coffee.png'), '--top', '1', '--threads', '2']);
    expect(two.stdout).toBe(stdout);
    expect(two.stderr).toMatch(/images\/s, 2 threads\)\n$/);
    expect(stdout).toMatch(/coffee\.png\n\s+90\.\d%\s+967\s+espresso/);
  });

  it('embed writes one 1024-vector per file', async () => {
    const out = join(dir, 'features.safetensors');
    const { code } = await exec(['embed', fixture('chelsea.png'), fixture('coffee.png'), '--output', out]);
    expect(code).toBe(0);
    const t = parseSafetensors(readFileSync(out)).tensors;
    expect([...t.keys()].sort()).toEqual([fixture('chelsea.png'), fixture('coffee.png')].sort());
    for (const v of t.values()) expect(v.shape).toEqual([1024]);
  });

  it('run writes the requested end points; info prints the accounting', async () => {
    const out = join(dir, 'out.safetensors');
    const { code } = await exec(['run', '--input', `${fixture('chelsea.ref.safetensors')}:input`, '--output', out, '--endpoints', 'prob,inception_5b/output']);
    expect(code).toBe(0);
    const t = parseSafetensors(readFileSync(out)).tensors;
    expect(t.get('prob')!.shape).toEqual([1, 1000]);
    expect(t.get('inception_5b/output')!.shape).toEqual([1, 7, 7, 1024]);
    const ref = parseSafetensors(readFileSync(fixture('chelsea.ref.safetensors'))).tensors.get('prob')!.data;
    const p = t.get('prob')!.data;
    expect(Math.max(...p.map((v, i) => Math.abs(v - ref[i])))).toBeLessThan(1e-3);
    const info = await exec(['info', '--model', 'inception_v1', '--json']);
    const j = JSON.parse(info.stdout);
    expect(j.parameters).toBe(6_633_209);
    expect(j.endpoints.find((e: { name: string }) => e.name === 'Mixed_4f').shape).toEqual([1, 14, 14, 832]);
  });

  it('--help prints the usage (each command its own lines) on stdout, exit 0; no command prints it on stderr, exit 2', async () => {
    const all = await exec(['--help']);
    expect(all.code).toBe(0);
    for (const c of ['run', 'info', 'classify', 'embed', 'bench']) expect(all.stdout).toContain(`  googlenet ${c} `);
    const one = await exec(['classify', '--help']);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`usage:
  googlenet classify <files and folders...> [--top K] [--json] [--model M] [--weights F] [--labels F]
                [--threads N] [--batch B] [--max-pixels P] [--max-decode-bytes N]
`);
    const bench = await exec(['bench', '-h', '--runs', '0']); // help wins over the options' checks
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/^usage:\n  googlenet bench .*\n +\[--warmup W\].*\n$/);
    const file = await exec(['classify', '--threads', '1', '--', '--help']); // after --, a file's name
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(/--help: .*ENOENT/);
    const none = await exec([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(all.stdout);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const v = await exec([flag]);
      expect(v.code).toBe(0);
      expect(v.stdout).toBe(`${version}\n`);
    }
  });

  it('bench times each thread count (inception_v1 on seeded random weights) and disposes every model', async () => {
    const { code, stdout } = await exec(['bench', '--model', 'inception_v1', '--threads', '1,2', '--runs', '3', '--warmup', '0', '--size', '97', '--global-pool', '--json']);
    expect(code).toBe(0); // execFile returns only once the process has exited: no worker was left behind
    const j = JSON.parse(stdout);
    expect(j).toMatchObject({ model: 'inception_v1', size: 97, batch: 1, runs: 3, weights: 'random' });
    // The fields README.md lists for `googlenet bench --json`.
    expect(Object.keys(j).sort()).toEqual(['batch', 'cores', 'cpu', 'model', 'node', 'results', 'runs', 'size', 'warmup', 'weights']);
    for (const r of j.results) {
      expect(Object.keys(r).sort()).toEqual(['batch', 'firstRunMs', 'imagesPerSecond', 'kernels', 'loadMs', 'model', 'msPerImage', 'size', 'soloRuns', 'threads']);
    }
    expect(j.results.map((r: { threads: number }) => r.threads)).toEqual([1, 2]);
    for (const r of j.results) {
      expect(r.msPerImage.runs).toBe(3);
      expect(r.msPerImage.p10).toBeGreaterThan(0);
      expect(r.msPerImage.p10).toBeLessThanOrEqual(r.msPerImage.median);
      expect(r.msPerImage.median).toBeLessThanOrEqual(r.msPerImage.p90);
      expect(r.imagesPerSecond).toBeCloseTo(1000 / r.msPerImage.median, 6);
      expect(r.loadMs).toBeGreaterThan(0);
      expect(r.firstRunMs).toBeGreaterThan(0);
      // Timed runs a pool ran on the calling thread alone: none without a pool.
      expect(Number.isInteger(r.soloRuns) && r.soloRuns >= 0 && r.soloRuns <= 3).toBe(true);
      if (r.threads === 1) expect(r.soloRuns).toBe(0);
    }
    const text = await exec(['bench', '--threads', '1', '--runs', '1', '--warmup', '0', '--batch', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^googlenet 224x224 batch 2: 1 timed runs after 0 warm-up/);
    expect(text.stdout).toMatch(/\n {6}1 {2}(simd|relaxed) +\d+\.\d +\d+\.\d-\d+\.\d/);
  });

  it('bench: bad arguments name the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--threads', '0'], /--threads takes thread counts from 1 to 64/],
      [['--threads', '65'], /--threads takes thread counts from 1 to 64/],
      [['--threads', '1,,2'], /--threads takes thread counts/],
      [['--runs', '0'], /--runs must be from 1 to 100000, got 0/],
      [['--warmup=-1'], /--warmup must be from 0 to 100000, got -1/],
      [['--batch', '1.5'], /--batch must be a whole number/],
      [['--kernels', 'avx'], /--kernels must be auto, simd or relaxed/],
      [['--size', '50'], /needs at least 7x7 at inception_5b.*globalPool/],
      [['--size', '10'], /input is too small: pool3\/3x3_s2 would be 0x0/],
      [['--runs', 'abc'], /--runs must be a whole number in decimal digits, got "abc"/],
      [['--threads', 'x'], /--threads takes thread counts from 1 to 64 separated by commas, got "x"/],
      // A negative number as the next argument is the option's value (parseArgs alone calls it ambiguous).
      [['--batch', '-1'], /--batch must be from 1 to 256, got -1/],
      [['--runs', '-3'], /--runs must be from 1 to 100000, got -3/],
      [['--weights', '/nonexistent.safetensors'], /cannot read \/nonexistent.safetensors/],
      // Refused from the plan: its input alone (51 GB) is never made.
      [['--size', '4096', '--batch', '256'], /out of memory: this input needs [\d.]+ MiB of Wasm memory/],
    ];
    for (const [args, re] of cases) {
      const r = await exec(['bench', '--runs', '1', '--warmup', '0', '--threads', '1', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
      expect(r.stdout).toBe('');
      expectNoStack(r.stderr);
    }
  });

  it('bench: an unknown option, a missing value or an argument is one line, then the usage of bench alone, exit 2', async () => {
    const usage = (await exec(['bench', '--help'])).stdout;
    const cases: Array<[string[], string]> = [
      [['--nosuch'], "Unknown option '--nosuch'"],
      [['--runs'], "Option '--runs <value>' argument missing"],
      [['extra'], "Unexpected argument 'extra'. This command does not take positional arguments"],
      [['--json=1'], "Option '--json' does not take an argument"],
    ];
    for (const [args, message] of cases) {
      const r = await exec(['bench', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`googlenet bench: ${message}\n${usage}`);
      expect(r.stderr).not.toContain('googlenet classify');
    }
  });

  it('--labels with the wrong number of names, and an --input that is not a usable safetensors file, are named one-line errors', async () => {
    const labels = join(dir, 'three.txt');
    writeFileSync(labels, 'a\nb\nc\n');
    const a = await exec(['classify', fixture('chelsea.png'), '--labels', labels]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--labels .*three.txt holds 3 names; googlenet has 1000 classes, one name per line/);
    expect(a.stderr).not.toMatch(/\n\s+at /);
    const input = join(dir, 'i32.safetensors');
    const header = new TextEncoder().encode(JSON.stringify({ input: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }));
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    writeFileSync(input, bytes);
    const b = await exec(['run', '--input', input, '--output', join(dir, 'o.safetensors')]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--input .*i32.safetensors: safetensors: tensor "input" has unsupported dtype "I32"/);
    expect(b.stderr).not.toMatch(/\n\s+at /);
    const c = await exec(['run', '--input', '/dev/zero', '--output', join(dir, 'o.safetensors')]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/cannot read --input \/dev\/zero: not a regular file/);
  });

  it('bad arguments: a one-line error and a non-zero exit', async () => {
    const a = await exec(['run', '--input', '/nonexistent.safetensors', '--output', join(dir, 'x')]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/cannot read --input \/nonexistent.safetensors/);
    const b = await exec(['classify', fixture('chelsea.png'), '--model', 'vgg']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--model must be googlenet or inception_v1/);
    const c = await exec(['frobnicate']);
    expect(c.code).toBe(2);
    const d = await exec(['classify', fixture('chelsea.png'), '--bogus']);
    expect(d.code).toBe(2);
  });

  it('classify follows links but walks each folder and lists each image once: link cycles end, repeated trees are not repeated', async () => {
    const root = join(dir, 'links');
    mkdirSync(join(root, 'loop'), { recursive: true });
    copyFileSync(fixture('coffee.png'), join(root, 'loop', 'coffee.png'));
    symlinkSync('.', join(root, 'loop', 'l1')); // two links to the folder itself: the walk used to never end
    symlinkSync('.', join(root, 'loop', 'l2'));
    mkdirSync(join(root, 'd', 'sub'), { recursive: true });
    copyFileSync(fixture('coffee.png'), join(root, 'd', 'a.png'));
    copyFileSync(fixture('chelsea.png'), join(root, 'd', 'sub', 'b.png'));
    symlinkSync('..', join(root, 'd', 'sub', 'up')); // one link back up: a.png came out 42 times
    symlinkSync('sub', join(root, 'd', 'sub-again')); // the same tree twice
    symlinkSync('a.png', join(root, 'd', 'link.png')); // the same file twice
    const named = join(root, 'd', 'sub', 'up', 'a.png'); // named on the command line: always taken
    const { code, stdout, stderr } = await exec(['classify', join(root, 'loop'), join(root, 'd'), named, '--json', '--top', '1']);
    expect(code).toBe(0);
    expectNoStack(stderr);
    const res = JSON.parse(stdout) as Array<{ file: string; top: Array<{ index: number }> }>;
    expect(res.map((r) => r.file.slice(root.length + 1))).toEqual(['loop/coffee.png', 'd/a.png', 'd/sub/b.png', 'd/sub/up/a.png']);
    expect(res.map((r) => r.top[0].index)).toEqual([967, 967, 285, 967]);
    expect(stderr).toMatch(/classified 4 of 4 images/);
  });

  it('only regular files are read: a device or pipe is skipped in a folder and, named, fails with its reason', async () => {
    const special = join(dir, 'special');
    mkdirSync(special);
    copyFileSync(fixture('coffee.png'), join(special, 'good.png'));
    symlinkSync('/dev/zero', join(special, 'zero.png')); // was read without end (5 GB and growing)
    const fifo = join(special, 'pipe.jpg');
    const hasFifo = spawnSync('mkfifo', [fifo]).status === 0; // a pipe with no writer: reading it blocks forever
    const walked = await exec(['classify', special, '--json', '--top', '1']);
    expect(walked.code).toBe(0);
    expectNoStack(walked.stderr);
    expect((JSON.parse(walked.stdout) as Array<{ file: string }>).map((r) => r.file)).toEqual([join(special, 'good.png')]);

    const named = [join(special, 'zero.png'), ...(hasFifo ? [fifo] : []), join(special, 'good.png')];
    const r = await exec(['classify', ...named, '--json', '--top', '1']);
    expect(r.code).toBe(1);
    expectNoStack(r.stderr);
    const by = Object.fromEntries((JSON.parse(r.stdout) as Array<{ file: string; error?: string; top?: unknown[] }>).map((x) => [x.file, x]));
    expect(by[join(special, 'good.png')].top).toHaveLength(1);
    expect(by[join(special, 'zero.png')].error).toBe('a character device, not an image file: not read');
    expect(r.stderr).toContain(`googlenet classify: ${join(special, 'zero.png')}: a character device, not an image file: not read\n`);
    if (hasFifo) expect(by[fifo].error).toBe('a named pipe (FIFO), not an image file: not read');

    const e = await exec(['embed', '/dev/zero', '--output', join(dir, 'zero.safetensors')]);
    expect(e.code).toBe(1);
    expectNoStack(e.stderr);
    expect(e.stderr).toContain('googlenet embed: /dev/zero: a character device, not an image file: not read\n');
  });

  it('an image in a folder that cannot be read (a dangling link, a link loop) is one failed file, not left out', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    copyFileSync(fixture('coffee.png'), join(broken, 'good.png'));
    symlinkSync('moved-away.jpg', join(broken, 'gone.jpg')); // the photo it named was moved: ENOENT
    symlinkSync('loop-b.png', join(broken, 'loop-a.png')); // ELOOP
    symlinkSync('loop-a.png', join(broken, 'loop-b.png'));
    symlinkSync('nowhere', join(broken, 'notes.txt')); // not an image name: not listed at all
    const r = await exec(['classify', broken, '--json', '--top', '1']);
    expect(r.code).toBe(1);
    expectNoStack(r.stderr);
    const res = JSON.parse(r.stdout) as Array<{ file: string; error?: string; top?: Array<{ index: number }> }>;
    expect(res.map((x) => x.file.slice(broken.length + 1))).toEqual(['gone.jpg', 'good.png', 'loop-a.png', 'loop-b.png']);
    expect(res[0].error).toMatch(/cannot read \S+gone\.jpg: ENOENT/);
    expect(res[1].top?.[0].index).toBe(967);
    expect(res[2].error).toMatch(/cannot read \S+loop-a\.png: ELOOP/);
    expect(r.stderr).toMatch(/classified 1 of 4 images .*, 3 failed/);
    expect(r.stderr).toContain(`googlenet classify: ${join(broken, 'gone.jpg')}: cannot read`);
  });

  it('embed / run: a bad --output is one line and a non-zero exit before the model loads', async () => {
    const input = `${fixture('chelsea.ref.safetensors')}:input`;
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'no-such-folder', 'o.safetensors'), /^cannot write --output \S+o\.safetensors: folder \S+no-such-folder does not exist$/],
      [dir, /^cannot write --output \S+: it is a folder, give a file name$/],
      [join(fixture('chelsea.png'), 'o.safetensors'), /^cannot write --output \S+: \S+chelsea\.png is not a folder$/],
    ];
    for (const [out, re] of cases) {
      for (const [cmd, args] of [['embed', [fixture('chelsea.png')]], ['run', ['--input', input]]] as const) {
        const r = await exec([cmd, ...args, '--output', out]);
        expect(r.code, `${cmd} --output ${out}`).toBe(1);
        expectNoStack(r.stderr);
        // Nothing was computed: the only line is the error (embed prints "embedded …" once it has run).
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0].slice(`googlenet ${cmd}: `.length)).toMatch(re);
      }
    }
  });

  it.skipIf(!existsSync('/dev/full'))('embed / run: a write that fails at the end (/dev/full: ENOSPC) is one line naming the path', async () => {
    for (const args of [['embed', fixture('chelsea.png')], ['run', '--input', `${fixture('chelsea.ref.safetensors')}:input`]]) {
      const r = await exec([...args, '--output', '/dev/full']);
      expect(r.code, args[0]).toBe(1);
      expectNoStack(r.stderr);
      expect(r.stderr).toMatch(new RegExp(`(^|\\n)googlenet ${args[0]}: cannot write --output /dev/full: ENOSPC\\n$`));
    }
  });

  it('an error of the system (code and syscall) is one line; any other error is a bug and is thrown on with its stack', async () => {
    const { main, COMMANDS } = await import('../dist/cli.js');
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      COMMANDS['test-syscall'] = async () => {
        throw Object.assign(new Error("EACCES: permission denied, scandir '/x'"), { code: 'EACCES', syscall: 'scandir', path: '/x' });
      };
      COMMANDS['test-bug'] = async () => { throw new TypeError('x is undefined'); };
      expect(await main(['test-syscall'])).toBe(1);
      expect(written.join('')).toBe("googlenet test-syscall: EACCES: permission denied, scandir '/x'\n");
      await expect(main(['test-bug'])).rejects.toThrow(TypeError);
    } finally {
      process.stderr.write = write;
      delete COMMANDS['test-syscall'];
      delete COMMANDS['test-bug'];
    }
  });

  it('run --endpoints with no names (",,,", "") is refused before anything is written', async () => {
    for (const text of [',,,', '', ' , ']) {
      const out = join(dir, 'no-endpoints.safetensors');
      const r = await exec(['run', '--input', `${fixture('chelsea.ref.safetensors')}:input`, '--output', out, `--endpoints=${text}`]);
      expect(r.code, JSON.stringify(text)).toBe(1);
      expect(r.stderr).toBe(`googlenet run: --endpoints names no end point, got ${JSON.stringify(text)}: give names separated by commas, or all\n`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('whole-number options take decimal digits only: 1e3, 0x2, " 2", 2.0 and "" are refused, naming the option and the text', async () => {
    const cases: Array<[string, string]> = [['--top', '1e3'], ['--top', '0x2'], ['--batch', ' 2'], ['--max-pixels', '2.0'], ['--threads', ''], ['--top', '99999999999999999999']];
    for (const [opt, text] of cases) {
      const r = await exec(['classify', fixture('coffee.png'), `${opt}=${text}`]);
      expect(r.code, `${opt}=${text}`).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`googlenet classify: ${opt} must be a whole number in decimal digits, got ${JSON.stringify(text)}\n`);
    }
    const ok = await exec(['classify', fixture('coffee.png'), '--top', '2']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(3); // the file, then its 2 classes
  });
});
