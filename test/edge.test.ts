// The edge entry in the real runtime: examples/edge (a Cloudflare Worker) bundled the way wrangler does
// (conditions workerd/worker/browser, every dependency inlined, .wasm/.safetensors/.txt left as module
// imports), then run by workerd through miniflare 4 with the kernels as a CompiledWasm module, the
// weights as a Data module and the labels as a Text module.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { loadModel } from '../dist/index.js';
import { blackPng } from './helpers/png.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const chelsea = readFileSync(join(root, 'test/fixtures/chelsea.png'));

/** Bundle a Worker's src folder (examples/edge by default) as wrangler would; returns the bundle's folder and the asset modules it imports. */
async function bundleExample(dir: string, src = join(root, 'examples/edge/src')): Promise<{ out: string; assets: Map<string, string> }> {
  const { build } = await import('vite');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'googlenet-wasm'), 'dir'); // the example's `npm install`
  cpSync(src, join(dir, 'src'), { recursive: true });
  const out = join(dir, 'out');
  const assets = new Map<string, string>(); // module name in the bundle → file
  await build({
    root: dir,
    configFile: false,
    logLevel: 'error',
    ssr: { target: 'webworker', noExternal: true, resolve: { conditions: ['workerd', 'worker', 'browser'], externalConditions: ['workerd', 'worker'] } },
    plugins: [{
      name: 'workers-module-rules',
      enforce: 'pre',
      async resolveId(id, importer) {
        if (!/\.(wasm|safetensors|txt)$/.test(id)) return null;
        const r = await this.resolve(id, importer, { skipSelf: true });
        if (!r) return null;
        assets.set(basename(r.id), r.id);
        return { id: `./${basename(r.id)}`, external: true };
      },
    }],
    build: { ssr: 'src/index.js', outDir: out, minify: false, target: 'esnext' },
  });
  return { out, assets };
}

/** The bundled Worker run by workerd, its modules typed as wrangler's default rules and the example's Data rule do. */
async function startWorker(out: string, assets: Map<string, string>): Promise<Miniflare> {
  const { Miniflare } = await import('miniflare');
  const type = (f: string) => (f.endsWith('.wasm') ? 'CompiledWasm' : f.endsWith('.txt') ? 'Text' : 'Data') as 'CompiledWasm' | 'Text' | 'Data';
  const mf = new Miniflare({
    modulesRoot: out,
    modules: [
      { type: 'ESModule', path: join(out, 'index.js') },
      ...[...assets].map(([name, file]) => ({ type: type(name), path: join(out, name), contents: readFileSync(file) })),
    ],
    compatibilityDate: '2025-06-01',
    host: '127.0.0.1',
  });
  await mf.ready;
  return mf;
}

describe('Cloudflare workerd (miniflare 4): examples/edge', () => {
  let mf: Miniflare;
  let dir: string;
  let bundle: string;
  const nodeProbs = new Map<number, number>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'googlenet-edge-'));
    const { out, assets } = await bundleExample(dir);
    bundle = readFileSync(join(out, 'index.js'), 'utf8');
    mf = await startWorker(out, assets);
    const m = await loadModel();
    for (const { index, probability } of await m.classify(chelsea, { top: 5 })) nodeProbs.set(index, probability);
    await m.dispose();
  });

  afterAll(async () => {
    await mf?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the bundle resolved the edge entry and holds no Node import and no code generation', () => {
    expect(bundle).toContain('edge runtimes run one thread');
    expect(bundle).not.toMatch(/^import .* from ["']node:/m);
    expect(bundle).not.toMatch(/\bnew Function\b|[^.\w]eval\(/);
    expect(bundle).not.toContain('worker_threads');
    expect(bundle).toMatch(/^import \w+ from "\.\/kernels\.wasm";/m);
  });

  it('POST chelsea.png: the top-5 as JSON, top-1 285, the probabilities of Node within 1e-5', async () => {
    const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: chelsea });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { predictions } = (await res.json()) as { predictions: Array<{ index: number; label: string; probability: number }> };
    expect(predictions).toHaveLength(5);
    expect(predictions[0]).toMatchObject({ index: 285, label: 'Egyptian cat' });
    for (const p of predictions) expect(Math.abs(p.probability - nodeProbs.get(p.index)!)).toBeLessThan(1e-5);
    // The model stays loaded: a second request reuses it.
    const again = await mf.dispatchFetch('http://localhost/?top=1', { method: 'POST', body: chelsea });
    expect(((await again.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
  });

  it('POST a JPEG: the answer of Node', async () => {
    const rocket = readFileSync(join(root, 'test/fixtures/rocket.jpg'));
    const m = await loadModel();
    const want = await m.classify(rocket, { top: 3 });
    await m.dispose();
    const res = await mf.dispatchFetch('http://localhost/?top=3', { method: 'POST', body: rocket });
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: Array<{ index: number; probability: number }> };
    expect(predictions.map((p) => p.index)).toEqual(want.map((p) => p.index));
    predictions.forEach((p, i) => expect(Math.abs(p.probability - want[i].probability)).toBeLessThan(1e-5));
  });

  it('a body that is not an image: 400 with the reason, not a 500', async () => {
    const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: 'this is text, not a photo' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; code: string };
    expect(body.code).toBe('ERR_IMAGE_DECODE');
    expect(body.error).toMatch(/not a PNG or JPEG/);
    const empty = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: '' });
    expect(empty.status).toBe(400);
    for (const q of ['0', '', 'abc', '2.5', '-1']) {
      const badTop = await mf.dispatchFetch(`http://localhost/?top=${q}`, { method: 'POST', body: chelsea });
      expect(badTop.status, q).toBe(400);
      expect((await badTop.json()) as { code: string; error: string }, q).toMatchObject({ code: 'ERR_INPUT', error: `?top must be a whole number from 1 to 9999, got '${q}'` });
    }
  });

  it('a small image that would take too much memory to decode: 400 naming maxDecodeBytes; a body over 16 MiB: 413', async () => {
    const big = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: blackPng(3000, 3000) });
    expect(big.status).toBe(400);
    expect((await big.json()) as { code: string; error: string }).toMatchObject({ code: 'ERR_IMAGE_DECODE', error: expect.stringMatching(/3000×3000 .* more than the limit of 32\.0 MiB \(maxDecodeBytes\)/) });
    const huge = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: new Uint8Array(16 * 2 ** 20 + 1) });
    expect(huge.status).toBe(413);
    // the model still answers
    const ok = await mf.dispatchFetch('http://localhost/?top=1', { method: 'POST', body: chelsea });
    expect(((await ok.json()) as { predictions: { index: number }[] }).predictions[0].index).toBe(285);
  });
});

describe('Cloudflare workerd (miniflare 4): what only Node reads', () => {
  it('classify(a path or file: URL) is an InputError saying there is no file system, not a plain Error; a Blob is its bytes; loadModel without wasm: the edge messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-edge-probe-'));
    let mf: Miniflare | undefined;
    try {
      const { out, assets } = await bundleExample(dir, join(root, 'test/fixtures/edge-probe'));
      mf = await startWorker(out, assets);
      const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: chelsea });
      const got = (await res.json()) as Record<string, { typed?: boolean; name?: string; code?: string; message?: string; same?: boolean; top?: number; drawables?: string[] }>;
      expect(got.blob).toEqual({ same: true, top: 285, drawables: [] });
      expect(got.canvasLike).toMatchObject({ typed: true, name: 'InputError', message: expect.stringMatching(/^image input must be .*; got an object$/) });
      for (const input of ['photo.jpg', '/etc/passwd', 'file:///etc/passwd']) {
        expect(got[input], input).toMatchObject({ typed: true, name: 'InputError', code: 'ERR_INPUT' });
        expect(got[input].message).toBe(`cannot read ${input}: this runtime has no file system (paths and file: URLs are read on Node only); pass the bytes`);
      }
      // workerd's global scope has WorkerGlobalScope (and is a ServiceWorkerGlobalScope): still the edge messages,
      // not the one for a browser Web Worker that a bundler's `worker` condition sent here (test/entries.test.ts).
      expect(got['loadModel()']).toMatchObject({ typed: true, name: 'InputError', message: 'loadModel options must be an object' });
      expect(got['loadModel({ weights })']).toMatchObject({ typed: true, name: 'InputError', message: expect.stringMatching(/^on edge runtimes `wasm` must be a WebAssembly\.Module/) });
    } finally {
      await mf?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
