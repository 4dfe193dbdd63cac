// The package's entry points: which file each runtime gets through package.json `exports` (checked with
// Node's own resolver and its --conditions flag), what each exports, and that the browser and edge
// entries reach no Node module at load time.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { blackPng } from './helpers/png.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** What Node resolves `spec` to from inside the package (self-reference) under the given conditions. */
function resolveWith(spec: string, conditions: string[] = []): string {
  const args = [...conditions.flatMap((c) => ['--conditions', c]), '--input-type=module', '-e', `console.log(import.meta.resolve(${JSON.stringify(spec)}))`];
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim().replace(`file://${root}`, '');
}

const API = ['loadModel', 'Model', 'GoogLeNetError', 'InputError', 'WeightsError', 'ImageDecodeError', 'RuntimeError',
  'parseSafetensors', 'encodeSafetensors', 'buildNetwork', 'accounting', 'endpointNames', 'ENDPOINTS', 'weightSpec',
  'decodeImage', 'fromPixels', 'preprocess', 'DEFAULT_MAX_PIXELS', 'DEFAULT_MAX_DECODE_BYTES', 'parseLabels'];

describe('package.json exports', () => {
  it.each([
    [[], 'dist/index.js'],
    [['node'], 'dist/index.js'],
    [['browser'], 'dist/browser.js'],
    [['workerd'], 'dist/edge.js'],
    [['worker'], 'dist/edge.js'],
    [['edge-light'], 'dist/edge.js'],
    [['workerd', 'worker', 'browser'], 'dist/edge.js'], // what wrangler asks for
  ])('conditions %j → %s', (conditions, file) => {
    expect(resolveWith('googlenet-wasm', conditions)).toBe(file);
  });

  it('every target and its types exist in the build', () => {
    for (const f of ['dist/index.js', 'dist/browser.js', 'dist/edge.js', 'dist/index.d.ts', 'dist/browser.d.ts', 'dist/edge.d.ts']) {
      expect(() => readFileSync(new URL(`../${f}`, import.meta.url)), f).not.toThrow();
    }
    const dot = pkg.exports['.'];
    expect(dot.workerd.types).toBe('./dist/edge.d.ts');
    expect(dot.browser.types).toBe('./dist/browser.d.ts');
    expect(dot.node.types).toBe('./dist/index.d.ts');
    expect(dot.default.types).toBe('./dist/index.d.ts');
  });

  it('the assets an edge Worker imports are exported subpaths', () => {
    expect(resolveWith('googlenet-wasm/build/kernels.wasm')).toBe('build/kernels.wasm');
    expect(resolveWith('googlenet-wasm/models/googlenet.safetensors')).toBe('models/googlenet.safetensors');
    expect(resolveWith('googlenet-wasm/labels/synset_words.txt')).toBe('labels/synset_words.txt');
    expect(resolveWith('googlenet-wasm/edge')).toBe('dist/edge.js');
    expect(resolveWith('googlenet-wasm/browser')).toBe('dist/browser.js');
  });

  it('TypeScript finds the types of the package and of /edge and /browser under every moduleResolution', () => {
    // A consumer with the package in its node_modules (a symlink, as npm link makes), resolved by the
    // TypeScript compiler's own resolver: node10 ignores `exports` and reads `types` and `typesVersions`.
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-tsres-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'googlenet-wasm'), 'dir');
      const R = ts.ModuleResolutionKind, M = ts.ModuleKind;
      const settings: [string, ts.CompilerOptions, string][] = [
        ['node10', { moduleResolution: R.Node10, module: M.CommonJS }, 'a.ts'],
        ['node16', { moduleResolution: R.Node16, module: M.Node16 }, 'a.mts'],
        ['nodenext', { moduleResolution: R.NodeNext, module: M.NodeNext }, 'a.mts'],
        ['bundler', { moduleResolution: R.Bundler, module: M.ESNext }, 'a.ts'],
      ];
      for (const [name, options, file] of settings) {
        for (const [spec, types] of [['googlenet-wasm', 'dist/index.d.ts'], ['googlenet-wasm/edge', 'dist/edge.d.ts'], ['googlenet-wasm/browser', 'dist/browser.d.ts']]) {
          const r = ts.resolveModuleName(spec, join(dir, file), options, ts.sys).resolvedModule;
          expect(r?.resolvedFileName, `${name}: ${spec}`).toBe(join(root, types));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a packed package.json has no install script: prepack builds, then drops prepare; postpack restores the file', () => {
    expect(pkg.scripts.prepare).toBe('npm run build'); // the repository's npm install builds
    expect(pkg.scripts.prepack).toBe('npm run build && node scripts/pack-manifest.mjs strip');
    expect(pkg.scripts.postpack).toBe('node scripts/pack-manifest.mjs restore');
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'googlenet-pack-'));
    const script = join(root, 'scripts', 'pack-manifest.mjs');
    const run = (mode: string) => execFileSync(process.execPath, [script, mode, dir], { encoding: 'utf8', stdio: 'pipe' });
    try {
      copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
      const before = readFileSync(join(dir, 'package.json'), 'utf8');
      run('strip');
      const packed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(packed.scripts.prepare).toBeUndefined();
      const { prepare: _, ...rest } = pkg.scripts;
      expect({ ...packed, scripts: undefined }).toEqual({ ...pkg, scripts: undefined });
      expect(packed.scripts).toEqual(rest);
      // a pack that failed after strip left the stripped file: the next strip starts from the original
      run('strip');
      expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual(packed);
      run('restore');
      expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(before);
      expect(existsSync(join(dir, 'package.json.prepack'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('entry modules', () => {
  it('node (dist/index.js)', async () => {
    const m = await import('../dist/index.js');
    for (const name of [...API, 'imagenetLabels']) expect(m, name).toHaveProperty(name);
  });

  it('browser (dist/browser.js): the same API', async () => {
    const m = await import('../dist/browser.js');
    const node = await import('../dist/index.js');
    expect(Object.keys(m).sort()).toEqual(Object.keys(node).sort());
    expect(m.loadModel).toBe(node.loadModel);
  });

  it('edge (dist/edge.js): loadModel wants a compiled module and weights bytes', async () => {
    const m = await import('../dist/edge.js');
    for (const name of [...API, 'edgePlatform']) expect(m, name).toHaveProperty(name);
    await expect(m.loadModel({ wasm: new Uint8Array(8) as never, weights: new Uint8Array(8) })).rejects.toThrow(/WebAssembly\.Module/);
    const wasm = await WebAssembly.compile(readFileSync(new URL('../build/kernels.wasm', import.meta.url)));
    await expect(m.loadModel({ wasm, weights: 'models/googlenet.safetensors' as never })).rejects.toThrow(/no file system/);
  });

  it("edge, reached from a browser Web Worker (a bundler's `worker` condition): loadModel without wasm says to import 'googlenet-wasm/browser'", async () => {
    const m = await import('../dist/edge.js');
    const g = globalThis as Record<string, unknown>;
    const edgeWasm = /^on edge runtimes `wasm` must be a WebAssembly\.Module/;
    // Not in a browser (Node, as workerd, which has WorkerGlobalScope too): the edge messages.
    g.WorkerGlobalScope = function WorkerGlobalScope() {};
    try {
      await expect(m.loadModel(undefined as never)).rejects.toThrow(/^loadModel options must be an object$/);
      await expect(m.loadModel({} as never)).rejects.toThrow(edgeWasm);
    } finally {
      delete g.WorkerGlobalScope;
    }
    // A dedicated Web Worker's global scope, or a page: the message names the condition and the way out.
    for (const name of ['DedicatedWorkerGlobalScope', 'document'] as const) {
      g[name] = name === 'document' ? {} : function DedicatedWorkerGlobalScope() {};
      try {
        for (const call of [() => m.loadModel(undefined as never), () => m.loadModel({} as never), () => m.loadModel({ weights: new Uint8Array(8) } as never)]) {
          const e = await call().then(() => undefined, (err: unknown) => err);
          expect(e, name).toBeInstanceOf(m.InputError);
          expect((e as Error).message, name).toBe("this is googlenet-wasm's edge entry (dist/edge.js), which needs `wasm` (a WebAssembly.Module) and " +
            "`weights`; the bundler picked it for the `worker` export condition (as webpack's target 'webworker' does), which this " +
            "package gives edge runtimes. In a browser Web Worker import from 'googlenet-wasm/browser' instead: its loadModel() " +
            'finds the kernels and weights by itself');
        }
        // A wasm given, but wrong: still the edge message about it.
        await expect(m.loadModel({ wasm: new Uint8Array(8) as never, weights: new Uint8Array(8) })).rejects.toThrow(edgeWasm);
      } finally {
        delete g[name];
      }
    }
    expect(typeof g.DedicatedWorkerGlobalScope + typeof g.document).toBe('undefinedundefined');
  });

  it('edge: classifies with the module, weights and label text it is given, on one thread', async () => {
    const m = await import('../dist/edge.js');
    const wasm = await WebAssembly.compile(readFileSync(new URL('../build/kernels.wasm', import.meta.url)));
    const weights = readFileSync(new URL('../models/googlenet.safetensors', import.meta.url));
    const labels = readFileSync(new URL('../labels/synset_words.txt', import.meta.url), 'utf8');
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (s: string) => warnings.push(s);
    try {
      const model = await m.loadModel({ wasm, weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length), labels, threads: 4 });
      expect(model.info.threads).toBe(1);
      expect(model.info.threadsNote).toMatch(/one thread/);
      expect(warnings.join('\n')).toMatch(/threads: 4 asked/);
      const [top] = await model.classify(readFileSync(new URL('./fixtures/chelsea.png', import.meta.url)), { top: 1 });
      expect(top).toMatchObject({ index: 285, label: 'Egyptian cat' });
      // A 2000×2000 PNG of one colour (17 KB) takes ~48 MB to decode: over the edge's default budget, for
      // an isolate of 128 MB that the model already fills to ~75 MB; a call may raise the limit.
      const big = blackPng(2000, 2000);
      expect(big.length).toBeLessThan(20_000);
      await expect(model.classify(big)).rejects.toThrow(/^PNG: decoding this 2000×2000 image would take about [\d.]+ MiB of memory, more than the limit of 32\.0 MiB \(maxDecodeBytes\)$/);
      await expect(model.embed(big)).rejects.toBeInstanceOf(m.ImageDecodeError);
      expect((await model.classify(big, { maxDecodeBytes: Infinity, top: 1 }))[0].probability).toBeGreaterThan(0);
      // The edge entry's decodeImage has the same default (its DEFAULT_MAX_DECODE_BYTES), and takes a limit too.
      expect(m.DEFAULT_MAX_DECODE_BYTES).toBe(32 * 2 ** 20);
      expect(() => m.decodeImage(big)).toThrow(/^PNG: decoding this 2000×2000 image would take about [\d.]+ MiB of memory, more than the limit of 32\.0 MiB \(maxDecodeBytes\)$/);
      expect(() => m.decodeImage(big, { maxPixels: 1e6 })).toThrow(/maxPixels/);
      expect(m.decodeImage(big, { maxDecodeBytes: 64 * 2 ** 20 })).toMatchObject({ width: 2000, height: 2000 });
      // F(2x2, 3x3) by default here: googlenet fits in 46 MiB of Wasm memory (F(4x4) takes 72 MiB).
      expect(model.memoryBytes).toBeLessThan(46 * 2 ** 20);
      await model.dispose();
      const f4 = await m.loadModel({ wasm, weights, winograd: 4 });
      await f4.run({ data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] });
      expect(f4.memoryBytes).toBeGreaterThan(70 * 2 ** 20);
      await f4.dispose();
    } finally {
      console.warn = warn;
    }
  });

  it('edge: info.kernels is the build the module is, whatever the kernels option asked; a bad kernels value is an InputError', async () => {
    const m = await import('../dist/edge.js');
    const plainBytes = readFileSync(new URL('../build/kernels.wasm', import.meta.url));
    const relaxedBytes = readFileSync(new URL('../build/kernels.relaxed.wasm', import.meta.url));
    (await import('node:v8')).setFlagsFromString('--experimental-wasm-relaxed-simd'); // on by default after Node 20
    expect(WebAssembly.validate(relaxedBytes)).toBe(true);
    const plain = await WebAssembly.compile(plainBytes);
    const relaxed = await WebAssembly.compile(relaxedBytes);
    const weights = new Uint8Array(readFileSync(new URL('../models/googlenet.safetensors', import.meta.url)));
    for (const [wasm, kernels, want] of [[relaxed, undefined, 'relaxed'], [relaxed, 'simd', 'relaxed'], [plain, 'relaxed', 'simd'], [plain, 'auto', 'simd']] as const) {
      const model = await m.loadModel({ wasm, weights, kernels });
      expect(model.info.kernels, `${want} build, kernels ${kernels}`).toBe(want);
      await model.dispose();
    }
    await expect(m.loadModel({ wasm: plain, weights, kernels: 'foo' as 'simd' })).rejects.toThrow(/^kernels must be 'auto', 'simd' or 'relaxed', got "foo"$/);
  });

  it('node: threads default to os.availableParallelism(), also on Node 20 before 20.16 (no process.getBuiltinModule)', async () => {
    const { hostPlatform } = await import('../dist/platform.js');
    const { availableParallelism } = await import('node:os');
    const want = Math.min(64, availableParallelism());
    expect(await hostPlatform.defaultThreads()).toBe(want);
    const p = process as { getBuiltinModule?: unknown };
    const had = p.getBuiltinModule;
    p.getBuiltinModule = undefined;
    try {
      expect(await hostPlatform.defaultThreads()).toBe(want);
    } finally {
      p.getBuiltinModule = had;
    }
  });

  it('node: the decode-memory limit is 1 GiB by default (the same PNG the edge refuses classifies)', async () => {
    const m = await import('../dist/index.js');
    const model = await m.loadModel({ threads: 1 });
    try {
      expect((await model.classify(blackPng(2000, 2000), { top: 1 }))[0].probability).toBeGreaterThan(0);
      await expect(model.classify(blackPng(2000, 2000), { maxDecodeBytes: 2 ** 20 })).rejects.toThrow(/maxDecodeBytes/);
    } finally {
      await model.dispose();
    }
  });

  it('the edge and browser module graphs import no Node module, not even lazily, except behind checks', () => {
    // Static imports of every module reachable from dist/edge.js: no node:*, no pool, no worker host.
    const seen = new Set<string>();
    const dynamic: string[] = [];
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      for (const [, spec] of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:/);
        if (spec.startsWith('.')) walk(new URL(spec, `file:///${file}`).pathname.slice(1));
      }
      for (const [call, spec] of src.matchAll(/import\(\s*(?:\/\*[^*]*\*\/\s*)?'([^']+)'\s*\)/g)) {
        dynamic.push(`${file} → ${spec}`);
        // webpack 5 would bundle them (and fail on node:* with its default configuration).
        if (/^node:|threads\/node/.test(spec)) expect(call, `${file}: ${call}`).toContain('/* webpackIgnore: true */');
      }
    };
    walk('edge.js');
    expect([...seen].sort()).not.toContain('pool.js');
    expect([...seen].some((f) => f.startsWith('threads/'))).toBe(false);
    // Lazy Node imports left on the edge path: only the file: URL reader and Node 20's relaxed-SIMD flag.
    expect(dynamic.sort()).toEqual(['assets.js → node:fs/promises', 'wasm.js → node:v8']);
    seen.clear();
    dynamic.length = 0;
    walk('browser.js');
    expect([...seen].some((f) => f.startsWith('threads/') || f === 'pool.js')).toBe(false);
    expect(dynamic).toContain('platform.js → ./pool.js');
  });
});
