// The package in a real browser: headless Chromium (Debian's /usr/bin/chromium through playwright-core)
// on the demo page (examples/browser/, served by its own Node server), which imports dist/ unbundled:
// - cross-origin isolated (COOP/COEP): 2 threads through Web Workers, the same answer as Node;
// - without those headers: 1 thread, said in info.threadsNote, the same answer;
// - under a strict CSP ('self' and 'wasm-unsafe-eval'): still works, no violation;
// - inside a module Web Worker (examples/browser/worker.html): its threads are nested workers when isolated;
// - a tiny app that imports the package, built with no configuration by Vite and by webpack 5, with 2 threads;
//   and a Web Worker built by webpack 5 with target 'webworker', importing 'googlenet-wasm/browser'.
// Skipped only when /usr/bin/chromium is absent outside CI; in CI (CI=true) .ci/run installs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { Configuration, Stats } from 'webpack';
import { loadModel } from '../dist/index.js';

const CHROMIUM = '/usr/bin/chromium';
const inCI = process.env.CI === 'true';
const run = existsSync(CHROMIUM) || inCI;
if (!run) console.warn(`test/browser.test.ts skipped: ${CHROMIUM} is absent (apt-get install -y chromium); in CI (CI=true) it is installed and these tests run`);

const root = fileURLToPath(new URL('..', import.meta.url));
const chelseaPath = join(root, 'test/fixtures/chelsea.png');
const chelsea = readFileSync(chelseaPath);
const rocket = readFileSync(join(root, 'test/fixtures/rocket.jpg'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

interface Demo {
  ready: Promise<{ threads: number; threadsNote?: string; kernels: string }>;
  last?: { predictions: Array<{ index: number; label: string; probability: number }>; ms: number; threads: number; error?: unknown };
  model: { classify(b: unknown, o: { top: number }): Promise<Array<{ index: number; probability: number }>> };
  classify(bytes: Uint8Array): Promise<unknown>;
}
declare const window: { demo: Demo; cspViolations: string[] };
declare const crossOriginIsolated: boolean;

/** Per image (decode + preprocess + network) in the page, median of `n` after one warm-up. */
async function msPerImage(page: Page, bytes: number[], n = 5): Promise<number> {
  return page.evaluate(async ({ bytes, n }) => {
    const b = new Uint8Array(bytes);
    await window.demo.model.classify(b, { top: 5 });
    const t: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await window.demo.model.classify(b, { top: 5 });
      t.push(performance.now() - t0);
    }
    return t.sort((a, b) => a - b)[n >> 1];
  }, { bytes, n });
}

/** All 1000 probabilities of chelsea.png in the page, by class index. */
async function pageProbs(page: Page): Promise<Float64Array> {
  const all = await page.evaluate((bytes) => window.demo.model.classify(new Uint8Array(bytes), { top: 1000 }), [...chelsea]);
  const p = new Float64Array(1000);
  for (const { index, probability } of all) p[index] = probability;
  return p;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe.skipIf(!run)('headless Chromium', () => {
  let browser: Browser;
  let origin: string;
  let close: () => void;
  const nodeProbs = new Float64Array(1000);
  let nodeRocket: Array<{ index: number; probability: number }>;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    // @ts-expect-error: a plain .mjs without types
    const { startDemoServer } = await import('../examples/browser/server.mjs');
    const s = await startDemoServer({ port: 0 });
    origin = s.origin;
    close = () => s.server.close();
    // launch() starts from a fresh temporary profile (user-data dir) every time.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const m = await loadModel();
    for (const { index, probability } of await m.classify(chelsea, { top: 1000 })) nodeProbs[index] = probability;
    nodeRocket = await m.classify(rocket, { top: 3 });
    await m.dispose();
  });

  afterAll(async () => {
    await browser?.close();
    close?.();
    if (Object.keys(timings).length) console.log(`Chromium, chelsea.png, ms per image (decode + preprocess + network): ${JSON.stringify(timings)}`);
  });

  /** Open the demo at `path`, collecting page errors, console errors and CSP violations. */
  async function open(path: string) {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.addInitScript(() => {
      // The page's own thread must never block: count any Atomics.wait there (workers have their own Atomics).
      const wait = Atomics.wait;
      (window as unknown as { mainWaits: number }).mainWaits = 0;
      Atomics.wait = (...a: Parameters<typeof Atomics.wait>) => {
        (window as unknown as { mainWaits: number }).mainWaits++;
        return wait(...a);
      };
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
    });
    const res = await page.goto(origin + path);
    const info = await page.evaluate(() => window.demo.ready);
    return { page, problems, info, headers: res!.headers() };
  }

  /** Choose chelsea.png in the page's file input, as a person would; the demo's answer. */
  async function choosePhoto(page: Page) {
    await page.setInputFiles('#file', chelseaPath);
    await page.waitForFunction(() => window.demo.last !== undefined);
    const last = (await page.evaluate(() => window.demo.last))!;
    expect(last.error).toBeUndefined();
    // What the page shows: five bars and the time.
    expect(await page.locator('#results li').count()).toBe(5);
    expect(await page.locator('#results li').first().textContent()).toContain('Egyptian cat');
    expect(await page.locator('#timing').textContent()).toMatch(/\d+ ms for this image .* on \d thread/);
    return last;
  }

  it('cross-origin isolated (COOP/COEP): 2 threads through Web Workers, the same probabilities as Node', async () => {
    const { page, problems, info, headers } = await open('/examples/browser/?threads=2');
    expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(info.threads).toBe(2);
    expect(info.threadsNote).toBeUndefined();
    const last = await choosePhoto(page);
    expect(last.threads).toBe(2);
    expect(last.predictions[0].index).toBe(285);
    expect(maxDiff(await pageProbs(page), nodeProbs)).toBeLessThan(1e-5);
    timings['2 threads'] = Math.round(await msPerImage(page, [...chelsea]));
    expect(await page.evaluate(() => (window as unknown as { mainWaits: number }).mainWaits)).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('without COOP/COEP: falls back to 1 thread, says why, same answer', async () => {
    const { page, problems, info } = await open('/no-coi/examples/browser/?threads=2');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(info.threads).toBe(1);
    expect(info.threadsNote).toBe('1 thread: the page is not cross-origin isolated (serve it with the headers ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so threads cannot share memory');
    const last = await choosePhoto(page);
    expect(last.threads).toBe(1);
    expect(last.predictions[0].index).toBe(285);
    expect(maxDiff(await pageProbs(page), nodeProbs)).toBeLessThan(1e-5);
    timings['1 thread'] = Math.round(await msPerImage(page, [...chelsea]));
    expect(await page.locator('#status').textContent()).toMatch(/1 thread .*not cross-origin isolated/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("under a strict CSP (only 'self' and 'wasm-unsafe-eval'): works, with no violation; threads default to the cores", async () => {
    const { page, problems, info, headers } = await open('/csp/examples/browser/');
    expect(headers['content-security-policy']).toBe("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'");
    // The policy is in force: an inline script is refused (and reported) on this page.
    const inline = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.head.append(s);
      await new Promise((r) => setTimeout(r, 50));
      return { ran: (window as unknown as { inlineRan?: boolean }).inlineRan === true, violations: window.cspViolations.splice(0) };
    });
    expect(inline).toEqual({ ran: false, violations: ['script-src-elem: inline'] });
    problems.length = 0; // the console's report of that probe
    expect(info.threads).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
    const last = await choosePhoto(page);
    expect(last.predictions[0].index).toBe(285);
    expect(maxDiff(await pageProbs(page), nodeProbs)).toBeLessThan(1e-5);
    // A JPEG too (jpeg-js, CommonJS, as the demo server wraps it): the same answer as Node.
    const jpeg = await page.evaluate((b) => window.demo.model.classify(new Uint8Array(b), { top: 3 }), [...rocket]);
    expect(jpeg.map((p) => p.index)).toEqual(nodeRocket.map((p) => p.index));
    expect(maxDiff(jpeg.map((p) => p.probability), nodeRocket.map((p) => p.probability))).toBeLessThan(1e-5);
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  describe('images as a browser hands them over: a File or Blob, and drawables read through a canvas', () => {
    type Probs = Array<{ index: number; probability: number }>;
    /** 1000 probabilities by class index. */
    const byIndex = (all: Probs) => {
      const p = new Float64Array(1000);
      for (const { index, probability } of all) p[index] = probability;
      return p;
    };

    it('a File, a Blob, an ImageBitmap, an <img>, a <canvas> and an OffscreenCanvas of chelsea.png: the same probabilities as its bytes, and as Node', async () => {
      const { page, problems } = await open('/examples/browser/?threads=2');
      const got = await page.evaluate(async () => {
        const m = window.demo.model;
        const bytes = new Uint8Array(await (await fetch('/test/fixtures/chelsea.png')).arrayBuffer());
        const blob = new Blob([bytes], { type: 'image/png' });
        const file = new File([bytes], 'chelsea.png', { type: 'image/png' });
        const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const img = new Image();
        img.src = URL.createObjectURL(blob);
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        canvas.getContext('2d')!.drawImage(img, 0, 0);
        const off = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
        off.getContext('2d')!.drawImage(bitmap, 0, 0);
        const all = (x: unknown) => m.classify(x, { top: 1000 });
        const sources = { bytes, file, blob, bitmap, img, canvas, off };
        const out: Record<string, Probs> = {};
        for (const [name, x] of Object.entries(sources)) out[name] = await all(x);
        // A batch of all of them at once, each in its place.
        const batch = await (m as unknown as { classifyBatch(x: unknown[], o: object): Promise<Probs[]> }).classifyBatch(Object.values(sources), { top: 1000 });
        return { out, batch, size: [bitmap.width, bitmap.height, img.naturalWidth, img.naturalHeight] };
      });
      expect(got.size).toEqual([451, 300, 451, 300]);
      const bytesProbs = got.out.bytes;
      expect(bytesProbs[0].index).toBe(285);
      for (const [name, probs] of Object.entries(got.out)) {
        // Chromium's PNG decode and canvas readback give exactly the package's pixels for this file (its
        // iCCP profile is the standard sRGB one, so no colour conversion is applied), so every source
        // gives exactly the bytes' answer in the page...
        expect(probs, name).toEqual(bytesProbs);
        // ...and Node's within the tolerance of the other browser tests.
        expect(maxDiff(byIndex(probs), nodeProbs), name).toBeLessThan(1e-5);
      }
      got.batch.forEach((probs, i) => expect(maxDiff(byIndex(probs), byIndex(bytesProbs)), String(i)).toBeLessThan(1e-6));
      expect(problems).toEqual([]);
      await page.close();
    });

    it('an SVG <img> is read at its intrinsic size (Chromium: 300×150 without one), as its pixels are', async () => {
      const { page, problems } = await open('/examples/browser/?threads=2');
      const got = await page.evaluate(async () => {
        const m = window.demo.model;
        const svg = (size: string) => `<svg xmlns="http://www.w3.org/2000/svg"${size}><rect width="400" height="400" fill="#c03020"/></svg>`;
        const out: Array<{ size: number[]; same: boolean }> = [];
        for (const size of [' width="320" height="200"', '']) {
          const img = new Image();
          img.src = URL.createObjectURL(new Blob([svg(size)], { type: 'image/svg+xml' }));
          await img.decode();
          const w = img.naturalWidth, h = img.naturalHeight;
          // The same solid colour as pixels: an RGB image of that size.
          const data = new Uint8Array(w * h * 3);
          for (let i = 0; i < w * h; i++) data.set([0xc0, 0x30, 0x20], 3 * i);
          const a = await m.classify(img, { top: 1000 }), b = await m.classify({ data, width: w, height: h }, { top: 1000 });
          out.push({ size: [w, h], same: JSON.stringify(a) === JSON.stringify(b) });
        }
        return out;
      });
      expect(got).toEqual([{ size: [320, 200], same: true }, { size: [300, 150], same: true }]);
      expect(problems).toEqual([]);
      await page.close();
    });

    it('drawables with no pixels to read, or too many, are InputErrors (ImageDecodeError for maxPixels, as for bytes) that say why', async () => {
      const { page, problems } = await open('/examples/browser/?threads=2');
      // An image whose response the test holds back: the <img> stays incomplete, however long classify takes.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/held/chelsea.png', async (route) => {
        await held;
        await route.fulfill({ status: 200, contentType: 'image/png', body: chelsea, headers: { 'cross-origin-resource-policy': 'same-origin' } });
      });
      const got = await page.evaluate(async () => {
        const m = window.demo.model;
        const fail = (x: unknown, o: object = {}) => m.classify(x, { top: 1, ...o }).then(() => 'no error', (e: Error & { code: string }) => ({ name: e.name, code: e.code, message: e.message }));
        const bytes = new Uint8Array(await (await fetch('/test/fixtures/chelsea.png')).arrayBuffer());
        const bitmap = await createImageBitmap(new Blob([bytes]));
        const img = new Image();
        img.src = '/held/chelsea.png';
        const r: Record<string, unknown> = {};
        r.loading = await fail(img);
        r.noSrc = await fail(new Image());
        r.maxPixels = await fail(bitmap, { maxPixels: 1000 });
        r.maxDecodeBytes = await fail(bitmap, { maxDecodeBytes: 1000 });
        r.emptyCanvas = await fail(new OffscreenCanvas(0, 5));
        r.video = await fail(document.createElement('video'));
        bitmap.close();
        r.closed = await fail(bitmap);
        r.notImage = await fail(document.createElement('div'));
        (window as unknown as { held: HTMLImageElement }).held = img;
        return r;
      });
      expect(got.loading).toEqual({ name: 'InputError', code: 'ERR_INPUT', message: 'an <img> that has not finished loading: await img.decode() (or its load event) first' });
      expect(got.noSrc).toMatchObject({ name: 'InputError', message: expect.stringMatching(/^an <img> with no pixels: it failed to load/) });
      expect(got.maxPixels).toEqual({ name: 'ImageDecodeError', code: 'ERR_IMAGE_DECODE', message: 'an ImageBitmap: image is 451×300 = 135300 pixels, more than the limit of 1000 (maxPixels)' });
      expect(got.maxDecodeBytes).toMatchObject({ name: 'ImageDecodeError', message: expect.stringMatching(/^an ImageBitmap: decoding this 451×300 image \(read through a canvas\) would take about 0\.9 MiB .*\(maxDecodeBytes\)$/) });
      expect(got.emptyCanvas).toMatchObject({ name: 'InputError', message: 'an OffscreenCanvas of zero size (0×5)' });
      expect(got.video).toMatchObject({ name: 'InputError', message: expect.stringMatching(/^a <video> with no frame yet \(readyState 0\)/) });
      expect(got.closed).toMatchObject({ name: 'InputError', message: expect.stringMatching(/^an ImageBitmap with no pixels: it is closed/) });
      expect(got.notImage).toMatchObject({ name: 'InputError', message: expect.stringMatching(/; got a HTMLDivElement$/) });
      // The held image arrives: the same <img> now classifies as its bytes do.
      release();
      const later = await page.evaluate(async () => {
        const img = (window as unknown as { held: HTMLImageElement }).held;
        await img.decode();
        return window.demo.model.classify(img, { top: 1000 });
      });
      expect(maxDiff(byIndex(later), nodeProbs)).toBeLessThan(1e-5);
      expect(problems).toEqual([]);
      await page.close();
    });

    it('an <img> and a canvas tainted by a cross-origin image: an InputError that says so', async () => {
      // The page on 127.0.0.1, the image from localhost (another origin, same server); /no-coi/ so that the
      // cross-origin image may load at all (COEP require-corp would block it), without CORS, so it taints.
      const { page, problems } = await open('/no-coi/examples/browser/');
      const other = origin.replace('127.0.0.1', 'localhost');
      const got = await page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        canvas.getContext('2d')!.drawImage(img, 0, 0);
        const fail = (x: unknown) => window.demo.model.classify(x, { top: 1 }).then(() => 'no error', (e: Error & { code: string; cause?: { name?: string } }) => ({ name: e.name, code: e.code, message: e.message, cause: e.cause?.name }));
        return { loaded: [img.naturalWidth, img.naturalHeight], img: await fail(img), canvas: await fail(canvas) };
      }, `${other}/no-coi/test/fixtures/chelsea.png`);
      expect(got.loaded).toEqual([451, 300]);
      for (const what of ['img', 'canvas'] as const) {
        expect(got[what], what).toMatchObject({ name: 'InputError', code: 'ERR_INPUT', cause: 'SecurityError' });
        expect((got[what] as { message: string }).message, what).toMatch(/whose pixels the page may not read: it is cross-origin \(a tainted canvas\)/);
      }
      expect(problems).toEqual([]);
      await page.close();
    });
  });

  describe('the model inside a Web Worker (examples/browser/worker.html: worker.js imports /dist/browser.js unbundled, loadModel() with no options but ?threads)', () => {
    interface WorkerDemo {
      scope: { crossOriginIsolated: boolean; SharedArrayBuffer: string; Worker: string; window: string; document: string };
      classify(bytes: Uint8Array, top: number): Promise<Array<{ index: number; label: string; probability: number }>>;
    }
    const wdemo = () => (window as unknown as { demo: WorkerDemo }).demo;

    /** chelsea.png classified in the page's worker: top-1 285 and all 1000 probabilities against Node's; the page's state. */
    async function classifyInWorker(page: Page) {
      const all = await page.evaluate((bytes) => (window as unknown as { demo: WorkerDemo }).demo.classify(new Uint8Array(bytes), 1000), [...chelsea]);
      expect(all).toHaveLength(1000);
      expect(all[0]).toMatchObject({ index: 285, label: 'Egyptian cat' });
      const p = new Float64Array(1000);
      for (const { index, probability } of all) p[index] = probability;
      expect(maxDiff(p, nodeProbs)).toBeLessThan(1e-5);
      // The page's thread never blocked, and the kernels and weights were fetched by the worker, not the page
      // (Chromium lists a module worker's script and its imports, dist/*.js, in the page's resource timing too).
      expect(await page.evaluate(() => (window as unknown as { mainWaits: number }).mainWaits)).toBe(0);
      const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
      expect(fetched.some((f) => f.endsWith('/examples/browser/worker.js'))).toBe(true);
      expect(fetched.filter((f) => /\/(build|models|labels)\//.test(f))).toEqual([]);
    }

    it('cross-origin isolated: the model\'s threads are workers of the worker (2 asked, shared memory there), same probabilities as Node', async () => {
      // threads: 2 asked (the page passes ?threads=2 on to the worker), so nested workers run on any number of cores.
      const { page, problems, info } = await open('/examples/browser/worker.html?threads=2');
      const scope = await page.evaluate(wdemo).then((d) => d.scope);
      // A worker's global scope: no window or document; isolated like its page, so SharedArrayBuffer and nested Workers exist.
      expect(scope).toEqual({ crossOriginIsolated: true, SharedArrayBuffer: 'function', Worker: 'function', window: 'undefined', document: 'undefined' });
      expect(info.threads).toBe(2);
      expect(info.threadsNote).toBeUndefined();
      await classifyInWorker(page);
      // The page as a person uses it: choose a photo, the worker's top-5 shows.
      await page.setInputFiles('#file', chelseaPath);
      await expect.poll(() => page.locator('#results li').count()).toBe(5);
      expect(await page.locator('#results li').first().textContent()).toMatch(/^Egyptian cat: \d+\.\d %$/);
      expect(await page.locator('#status').textContent()).toMatch(/^Ready in the worker: 2 threads \(cross-origin isolated\)/);
      expect(problems).toEqual([]);
      await page.close();
    });

    it("a dedicated worker's own thread computes as thread 0 of back-to-back runs (it may block there), bit for bit as the workers alone", async () => {
      const { page, problems } = await open('/examples/browser/worker.html');
      const got = await page.evaluate(async (origin) => {
        const src = `const { loadModel } = await import('${origin}/dist/browser.js');
const caller = await loadModel({ threads: 2 });
const workers = await loadModel({ threads: 2, callerComputes: false });
const data = new Float32Array(3 * 227 * 229);
for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 128 - 1;
const x = { data, shape: [1, 227, 229, 3] };
let a;
for (let i = 0; i < 4; i++) a = await caller.run(x);
const b = await workers.run(x);
const bits = (t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const differ = Object.keys(b).filter((k) => JSON.stringify(bits(a[k])) !== JSON.stringify(bits(b[k])));
postMessage({ threads: [caller.info.threads, workers.info.threads], outputs: Object.keys(a).length, differ,
  callerRuns: caller.executor.stats.callerRuns, workersCallerRuns: workers.executor.stats.callerRuns });
await caller.dispose();
await workers.dispose();`;
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        return new Promise<{ threads: number[]; outputs: number; differ: string[]; callerRuns: number; workersCallerRuns: number }>((resolve, reject) => {
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => reject(new Error(e.message));
        });
      }, origin);
      expect(got.threads).toEqual([2, 2]);
      expect(got.outputs).toBeGreaterThan(0);
      expect(got.differ).toEqual([]);
      // The first run follows no other (the workers compute it); the next ones start within HOT_IDLE_MS of the last.
      expect(got.callerRuns).toBeGreaterThan(0);
      expect(got.workersCallerRuns).toBe(0);
      // The page's thread itself never blocks.
      expect(await page.evaluate(() => (window as unknown as { mainWaits: number }).mainWaits)).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
    });

    it('cross-origin isolated, nothing asked: the worker\'s threads default to navigator.hardwareConcurrency, with no note', async () => {
      const { page, problems, info } = await open('/examples/browser/worker.html');
      expect(info.threads).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
      expect(info.threadsNote).toBeUndefined();
      expect(problems).toEqual([]);
      await page.close();
    });

    it('without COOP/COEP: no SharedArrayBuffer in the worker either, so 1 thread with the note, same answer', async () => {
      const { page, problems, info } = await open('/no-coi/examples/browser/worker.html');
      const scope = await page.evaluate(wdemo).then((d) => d.scope);
      expect(scope).toMatchObject({ crossOriginIsolated: false, SharedArrayBuffer: 'undefined', Worker: 'function' });
      expect(info.threads).toBe(1);
      // The worker's own context, not a page: what isolates it is its page's headers and its own script's COEP.
      expect(info.threadsNote).toBe("1 thread: this Web Worker is not cross-origin isolated (serve the page that starts it with the headers " +
        "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, and the worker's script with " +
        'Cross-Origin-Embedder-Policy: require-corp too), so threads cannot share memory');
      await classifyInWorker(page);
      expect(problems).toEqual([]);
      await page.close();
    });

    it('a worker whose scope has no Worker (browsers without nested workers), isolated: 1 thread, the note says why', async () => {
      const { page, problems } = await open('/examples/browser/worker.html');
      // A second worker, its Worker constructor removed before the package is imported.
      const got = await page.evaluate(async (origin) => {
        const src = `delete globalThis.Worker;
const { loadModel } = await import('${origin}/dist/browser.js');
const m = await loadModel();
const bytes = new Uint8Array(await (await fetch('${origin}/test/fixtures/chelsea.png')).arrayBuffer());
postMessage({ Worker: typeof Worker, threads: m.info.threads, threadsNote: m.info.threadsNote, top: (await m.classify(bytes, { top: 1 }))[0].index });`;
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        return new Promise((resolve, reject) => {
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => reject(new Error(e.message));
        });
      }, origin);
      expect(got).toEqual({ Worker: 'undefined', threads: 1, threadsNote: '1 thread: this runtime has no Web Workers', top: 285 });
      expect(problems).toEqual([]);
      await page.close();
    });

    it('a shared worker, started by an isolated page: not isolated itself (Chromium), so 1 thread, and the note names the shared worker', async () => {
      const { page, problems } = await open('/examples/browser/worker.html');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const got = await page.evaluate(async (origin) => {
        const src = `const model = import('${origin}/dist/browser.js').then((p) => p.loadModel());
onconnect = (e) => model.then((m) => e.ports[0].postMessage({ crossOriginIsolated, threads: m.info.threads, threadsNote: m.info.threadsNote }),
  (err) => e.ports[0].postMessage({ error: err.message }));`;
        const w = new SharedWorker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        return new Promise((resolve, reject) => {
          w.port.onmessage = (e) => resolve(e.data);
          w.onerror = () => reject(new Error('the shared worker did not start'));
        });
      }, origin);
      expect(got).toEqual({
        crossOriginIsolated: false,
        threads: 1,
        threadsNote: '1 thread: this shared worker is not cross-origin isolated (serve its script with the header Cross-Origin-Embedder-Policy: ' +
          'require-corp, which not every browser honours for shared workers; or load the model in a dedicated Web Worker or in the page), ' +
          'so threads cannot share memory',
      });
      expect(problems).toEqual([]);
      await page.close();
    });
  });

  describe('a tiny app that imports the package, under Vite 8 and webpack 5 with no configuration', () => {
    let dir: string;
    beforeAll(() => {
      // The package as `npm install` leaves it: a real folder under node_modules (so Vite's dev server
      // pre-bundles it like any dependency), its dependencies beside it.
      dir = mkdtempSync(join(tmpdir(), 'googlenet-app-'));
      const pkgDir = join(dir, 'node_modules', 'googlenet-wasm');
      mkdirSync(pkgDir, { recursive: true });
      copyFileSync(join(root, 'package.json'), join(pkgDir, 'package.json'));
      for (const d of ['dist', 'build', 'models', 'labels']) cpSync(join(root, d), join(pkgDir, d), { recursive: true });
      for (const d of Object.keys(pkg.dependencies)) {
        mkdirSync(dirname(join(dir, 'node_modules', d)), { recursive: true });
        if (!existsSync(join(dir, 'node_modules', d))) symlinkSync(join(root, 'node_modules', d), join(dir, 'node_modules', d), 'dir');
      }
      symlinkSync(join(root, 'node_modules', 'iobuffer'), join(dir, 'node_modules', 'iobuffer'), 'dir'); // fast-png's (fflate is ours too)
      mkdirSync(join(dir, 'public'));
      copyFileSync(chelseaPath, join(dir, 'public', 'chelsea.png'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script type="module" src="./main.js"></script>\n');
      writeFileSync(join(dir, 'main.js'), `import { loadModel } from 'googlenet-wasm';
window.result = (async () => {
  const m = await loadModel({ threads: 2 });
  const bytes = new Uint8Array(await (await fetch('./chelsea.png')).arrayBuffer());
  return { threads: m.info.threads, predictions: await m.classify(bytes, { top: 1000 }) };
})();
`);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The page at `url` sets window.result (a model loaded with threads: 2 classifying chelsea.png): 2 threads, Node's answer; then `more(page)`. */
    async function check(url: string, more?: (page: Page) => Promise<void>) {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(url);
      const r = await page.evaluate(() => (window as unknown as { result: Promise<{ threads: number; predictions: Array<{ index: number; probability: number }> }> }).result);
      expect(r.threads).toBe(2);
      expect(r.predictions[0].index).toBe(285);
      const p = new Float64Array(1000);
      for (const { index, probability } of r.predictions) p[index] = probability;
      expect(maxDiff(p, nodeProbs)).toBeLessThan(1e-5);
      await more?.(page);
      expect(problems).toEqual([]);
      await page.close();
    }

    /** A production build's output folder, served by the demo server with COOP/COEP and the strict CSP (/csp/): check(). */
    async function checkBuild(outDir: string, more?: (page: Page) => Promise<void>) {
      // @ts-expect-error: a plain .mjs without types
      const { startDemoServer } = await import('../examples/browser/server.mjs');
      const s = await startDemoServer({ port: 0, root: outDir });
      try {
        await check(`${s.origin}/csp/`, more); // isolated, and the strict CSP on the page
      } finally {
        s.server.close();
      }
    }

    it('vite build: the wasm, weights, labels and the Web Worker are emitted; 2 threads, same answer', async () => {
      const { build } = await import('vite');
      await build({ root: dir, configFile: false, logLevel: 'error', build: { outDir: join(dir, 'dist') } });
      const assets = readdirSync(join(dir, 'dist', 'assets'));
      for (const f of ['kernels', 'kernels.shared', 'kernels.relaxed', 'kernels.relaxed.shared']) {
        expect(assets.some((a) => a.startsWith(`${f}-`) && a.endsWith('.wasm')), f).toBe(true);
      }
      expect(assets.some((a) => a.startsWith('web-worker-'))).toBe(true);
      for (const [prefix, f] of [['googlenet-', 'models/googlenet.safetensors'], ['synset_words-', 'labels/synset_words.txt']]) {
        const name = assets.find((a) => a.startsWith(prefix));
        expect(name, f).toBeDefined();
        expect(readFileSync(join(dir, 'dist', 'assets', name!)).equals(readFileSync(join(root, f))), f).toBe(true);
      }
      await checkBuild(join(dir, 'dist'));
    });

    /** A webpack 5 production build of the app's folder; its stats. */
    async function webpackBuild(options: Configuration) {
      const { default: webpack } = await import('webpack');
      const compiler = webpack({ mode: 'production', context: dir, ...options });
      const stats = await new Promise<Stats>((resolve, reject) => compiler.run((e, st) => (e ? reject(e) : resolve(st!))));
      await new Promise((resolve) => compiler.close(resolve));
      return stats.toJson({ all: false, assets: true, chunks: true, chunkModules: true, errors: true, warnings: true });
    }

    type StatsJson = Awaited<ReturnType<typeof webpackBuild>>;
    /**
     * What webpack emitted into `out`: the kernels, weights and labels, each the package's own file, and
     * otherwise only chunks, which the app loads. No copy of Node's worker script (dist/worker.js, which
     * imports files that are not there): the pool once named it with `new URL('./worker.js', import.meta.url)`.
     */
    function expectEmitted(j: StatsJson, out: string) {
      // webpack names assets by content hash only; the stats say which file each one came from.
      const emitted = new Map(j.assets!.filter((a) => a.info.sourceFilename).map((a) => [a.info.sourceFilename, a.name]));
      const resources = ['build/kernels.wasm', 'build/kernels.shared.wasm', 'build/kernels.relaxed.wasm', 'build/kernels.relaxed.shared.wasm',
        'models/googlenet.safetensors', 'labels/synset_words.txt'];
      for (const f of resources) {
        const name = emitted.get(`node_modules/googlenet-wasm/${f}`);
        expect(name, f).toBeDefined();
        expect(readFileSync(join(out, name!)).equals(readFileSync(join(root, f))), f).toBe(true);
      }
      expect([...emitted.keys()].sort()).toEqual(resources.map((f) => `node_modules/googlenet-wasm/${f}`).sort());
      const chunkFiles = j.chunks!.flatMap((c) => [...(c.files ?? []), ...(c.auxiliaryFiles ?? [])]);
      expect(readdirSync(out).sort()).toEqual([...new Set([...chunkFiles, ...emitted.values()])].sort());
      expect(j.chunks!.flatMap((c) => c.modules!.map((m) => m.name ?? '')).filter((m) => /\/dist\/worker\.js$/.test(m))).toEqual([]);
    }

    it('webpack 5 production build, nothing configured but where the app is: the wasm, weights, labels and the Web Worker chunk are emitted; 2 threads, same answer', async () => {
      const out = join(dir, 'webpack-dist');
      // As `webpack --mode production ./main.js -o webpack-dist` run in the app's folder: webpack's defaults
      // otherwise (target web, so the package's `browser` export; `new URL(…, import.meta.url)` as assets;
      // `new Worker(new URL(…))` as a worker chunk; output.publicPath 'auto').
      const j = await webpackBuild({ entry: './main.js', output: { path: out } });
      expect(j.errors).toEqual([]);
      // Only the performance hint about the 27 MB weights: nothing unresolved, no "Critical dependency".
      expect(j.warnings!.map((w) => w.message.split('\n')[0])).toEqual(['asset size limit: The following asset(s) exceed the recommended size limit (244 KiB).']);
      expectEmitted(j, out);
      // The Web Worker: a chunk of its own, an entry (started by new Worker) that the page does not load.
      const worker = j.chunks!.filter((c) => c.modules!.some((m) => /\/googlenet-wasm\/dist\/threads\/web-worker\.js\b/.test(m.name ?? '')));
      expect(worker).toHaveLength(1);
      expect({ entry: worker[0].entry, initial: worker[0].initial }).toEqual({ entry: true, initial: false });
      expect(worker[0].files!.length).toBeGreaterThan(0);
      for (const f of worker[0].files!) expect(existsSync(join(out, f)), f).toBe(true);
      expect(worker[0].files).not.toContain('main.js');
      // webpack makes no page: the app's own, loading the bundle as a classic script (output.module is off).
      writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script src="./main.js"></script>\n');
      copyFileSync(chelseaPath, join(out, 'chelsea.png'));
      await checkBuild(out);
    });

    it("webpack 5, target 'webworker': a Web Worker importing 'googlenet-wasm/browser' classifies with 2 threads (nested workers); importing 'googlenet-wasm' gets the edge entry, whose error says so", async () => {
      const out = join(dir, 'webpack-worker-dist');
      // target 'webworker' adds the `worker` condition, which is the edge entry's: a worker imports the browser entry by name.
      const worker = `import { loadModel } from 'googlenet-wasm/browser';
(async () => {
  const m = await loadModel({ threads: 2 });
  const bytes = new Uint8Array(await (await fetch('./chelsea.png')).arrayBuffer());
  postMessage({ threads: m.info.threads, predictions: await m.classify(bytes, { top: 1000 }) });
})().catch((e) => postMessage({ error: e.message }));
`;
      writeFileSync(join(dir, 'worker.js'), worker);
      writeFileSync(join(dir, 'edge-worker.js'), worker.replace("'googlenet-wasm/browser'", "'googlenet-wasm'").replace('{ threads: 2 }', ''));
      const j = await webpackBuild({ target: 'webworker', entry: { main: './worker.js', edge: './edge-worker.js' }, output: { path: out } });
      expect(j.errors).toEqual([]);
      expect(j.warnings!.map((w) => w.message.split('\n')[0]).filter((w) => !/size limit|performance recommendations/.test(w))).toEqual([]);
      expectEmitted(j, out);
      // Classic worker scripts (output.module is off), each started by the page with new Worker(url).
      for (const f of ['main.js', 'edge.js']) expect(readFileSync(join(out, f), 'utf8'), f).not.toMatch(/^\s*(import\s*[\w{*]|export\s)/m);
      writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script src="./page.js"></script>\n');
      writeFileSync(join(out, 'page.js'), `const start = (url) => new Promise((resolve, reject) => {
  const w = new Worker(url);
  w.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
  w.onerror = (e) => reject(new Error(e.message || url + ' did not start'));
});
window.result = start('./main.js');
window.edge = start('./edge.js').then(() => 'loaded', (e) => e.message);
`);
      copyFileSync(chelseaPath, join(out, 'chelsea.png'));
      await checkBuild(out, async (page) => {
        expect(await page.evaluate(() => (window as unknown as { edge: Promise<string> }).edge)).toMatch(
          /^this is googlenet-wasm's edge entry \(dist\/edge\.js\).*`worker` export condition \(as webpack's target 'webworker' does\).*import from 'googlenet-wasm\/browser'/);
      });
    });

    it('vite dev server (dependency pre-bundling): 2 threads, same answer', async () => {
      const { createServer } = await import('vite');
      const server = await createServer({
        root: dir,
        configFile: false,
        logLevel: 'error',
        // Only what cross-origin isolation needs; the package itself needs no option.
        server: { host: '127.0.0.1', port: 0, headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
      });
      await server.listen();
      try {
        await check(server.resolvedUrls!.local[0]);
      } finally {
        await server.close();
      }
    });
  });
});
