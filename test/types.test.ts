// The published types (dist/*.d.ts) as a consumer compiles them: a project with the package in its
// node_modules (a symlink, as npm link makes), strict, exactOptionalPropertyTypes and
// noUncheckedIndexedAccess on, under moduleResolution bundler and node16. Each snippet must compile with no
// error; a line the types must refuse carries `// @ts-expect-error`, which is itself an error when nothing
// is refused. What the types accept is checked against what the runtime does in the other test files.
// Needs the build (npm test builds first).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import ts56 from 'typescript-5.6';
import jpeg from 'jpeg-js';
import { loadModel, decodeImage, fromPixels, parseSafetensors, encodeSafetensors, preprocess } from '../dist/index.js';
import { decodeBaselineJpeg } from '../dist/jpeg-baseline.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** `a` is over a plain, non-shared ArrayBuffer of its own (what PlainFloat32Array / PlainUint8Array promise). */
const own = (a: ArrayBufferView) =>
  a.buffer instanceof ArrayBuffer && !(a.buffer instanceof SharedArrayBuffer) && a.byteOffset === 0 && a.buffer.byteLength === a.byteLength;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'googlenet-types-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'googlenet-wasm'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const R = ts.ModuleResolutionKind, M = ts.ModuleKind;
/** The module resolutions a consumer compiles under, with `api`'s own enums. */
const settingsFor = (api: typeof ts): [string, ts.CompilerOptions][] => [
  ['bundler', { moduleResolution: api.ModuleResolutionKind.Bundler, module: api.ModuleKind.ESNext }],
  ['node16', { moduleResolution: api.ModuleResolutionKind.Node16, module: api.ModuleKind.Node16 }],
];
const settings = settingsFor(ts);

/** Parsed files by compiler and name, shared by every compile: only the consumer's file changes between them. */
const parsed = new Map<string, ts.SourceFile>();

/** The compiler's errors for `code` as a consumer's module, one line each; `api`: the TypeScript that compiles it. */
function compile(code: string, options: ts.CompilerOptions, name = 'consumer.ts', more: string[] = [], api: typeof ts = ts): string[] {
  const file = join(dir, name);
  writeFileSync(file, code);
  const all: ts.CompilerOptions = {
    strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true,
    target: api.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], skipLibCheck: false,
    ...options,
  };
  const host = api.createCompilerHost(all);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => {
    if (f === file) return read(f, lang, ...rest);
    const key = `${api.version}|${f}|${JSON.stringify(lang)}`;
    let sf = parsed.get(key);
    if (!sf) {
      sf = read(f, lang, ...rest);
      if (sf) parsed.set(key, sf);
    }
    return sf;
  };
  const program = api.createProgram([file, ...more], all, host);
  return api.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.replace(dir, '').replace(root, '')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + api.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

/** The README's library example, as a consumer writes it. */
const README_EXAMPLE = `
import { loadModel } from 'googlenet-wasm';
declare const bytes: Uint8Array, data: Uint8ClampedArray, width: number, height: number;
declare const a: string, b: Uint8Array, c: ImageData;
const m = await loadModel({ model: 'googlenet' });
const p: { index: number; label: string; probability: number }[] = await m.classify('photo.jpg', { top: 5 });
await m.classify(bytes);
await m.classify({ data, width, height });
const lists: { label: string }[][] = await m.classifyBatch([a, b, c], { top: 3 });
const f: Float32Array = await m.embed('photo.jpg');
const fs: Float32Array[] = await m.embedBatch([a, b]);
const t = new Float32Array(224 * 224 * 3);
const out = await m.run({ data: t, shape: [1, 224, 224, 3] }, { endpoints: ['inception_4e/output', 'prob'] });
const prob: number[] | undefined = out['prob']?.shape;
await m.reserve(8, 224, 224);
const n: number = m.info.parameters + m.info.macs + m.info.peakActivationBytes + m.info.threads + m.memoryBytes;
await m.dispose();
void [p, lists, f, fs, prob, n];
`;

/** Every option of every entry point given as undefined (which the runtime takes as its default). */
const OPTIONS_UNDEFINED = `
import { loadModel, decodeImage, parseSafetensors, buildNetwork, endpointNames,
  type LoadOptions, type ClassifyOptions, type EmbedOptions, type RunOptions } from 'googlenet-wasm';
import { loadModel as loadEdge } from 'googlenet-wasm/edge';
declare const arg: { threads?: number; top?: number; labels?: string[]; text?: string };
const o: LoadOptions = {
  model: undefined, weights: undefined, threads: arg.threads, callerComputes: undefined, kernels: undefined, wasm: undefined,
  maxMemoryBytes: undefined, winograd: undefined, labels: arg.labels, finalEndpoint: undefined,
  includeRootBlock: undefined, numClasses: undefined, globalPool: undefined, spatialSqueeze: undefined,
};
const m = await loadModel(o);
const c: ClassifyOptions = { top: arg.top, maxPixels: undefined };
const e: EmbedOptions = { maxPixels: undefined };
const r: RunOptions = { endpoints: undefined };
await m.classify('x.png', c);
await m.embed('x.png', e);
await m.run({ data: new Float32Array(3), shape: [1, 1, 3] }, r);
decodeImage(new Uint8Array(), { maxPixels: undefined, minSize: undefined });
parseSafetensors(new Uint8Array(), { maxHeaderBytes: undefined, nonFinite: undefined, copy: undefined });
buildNetwork('googlenet', 224, 224, { numClasses: undefined });
endpointNames('googlenet', { globalPool: undefined });
await loadEdge({ wasm: {} as WebAssembly.Module, weights: new Uint8Array(), labels: arg.text, threads: undefined });
// @ts-expect-error an unknown model name stays refused
await loadModel({ model: 'resnet' });
`;

const check = (code: string) => {
  for (const [name, options] of settings) expect(compile(code, options), name).toEqual([]);
};

describe('published types under strict + exactOptionalPropertyTypes', () => {
  it("the README's library example compiles", () => {
    check(README_EXAMPLE);
  });

  it('options may be given as undefined, as the runtime takes them (exactOptionalPropertyTypes)', () => {
    check(OPTIONS_UNDEFINED);
  });

  it('readonly arrays are taken where the runtime only reads them (endpoints, shape, images, labels)', () => {
    check(`
import { loadModel, type ImageInput, type TensorData } from 'googlenet-wasm';
import { loadModel as loadEdge } from 'googlenet-wasm/edge';
const endpoints = ['inception_4e/output', 'prob'] as const;
const shape = [1, 224, 224, 3] as const;
const images: readonly ImageInput[] = ['a.png', new Uint8Array()];
const names: readonly string[] = Object.freeze(['a', 'b']);
const m = await loadModel({ labels: names });
const out = await m.run({ data: new Float32Array(224 * 224 * 3), shape }, { endpoints });
const t: TensorData | undefined = out['prob'];
await m.run(t!); // an output is an input
await m.classifyBatch(images);
await m.embedBatch(images);
await loadEdge({ wasm: {} as WebAssembly.Module, weights: new Uint8Array(), labels: names });
const s: number[] | undefined = t?.shape; // outputs stay mutable arrays
void s;
`);
  });

  it('run with named end points returns a record of exactly those (no undefined under noUncheckedIndexedAccess)', () => {
    check(`
import { loadModel, type TensorData } from 'googlenet-wasm';
const m = await loadModel();
const x = { data: new Float32Array(224 * 224 * 3), shape: [1, 224, 224, 3] };
const out = await m.run(x, { endpoints: ['inception_4e/output', 'prob'] });
const p: TensorData = out.prob;
const f: TensorData = out['inception_4e/output'];
const names: readonly string[] = ['prob'];
const any = await m.run(x, { endpoints: names });
const maybe: TensorData | undefined = any['prob'];
const all = await m.run(x, { endpoints: 'all' });
const a: TensorData | undefined = all['prob'];
const def = await m.run(x);
const d: TensorData | undefined = def['prob'];
// @ts-expect-error not asked for
void out.conv1;
void p; void f; void maybe; void a; void d;
`);
  });

  it('… and the runtime reads them without writing (frozen arrays)', async () => {
    const labels = Object.freeze(Array.from({ length: 1000 }, (_, i) => `name ${i}`));
    const m = await loadModel({ threads: 1, labels });
    try {
      const png = new URL('./fixtures/chelsea.png', import.meta.url);
      expect((await m.classifyBatch(Object.freeze([png, png]), { top: 1 }))[1]).toEqual([expect.objectContaining({ index: 285, label: 'name 285' })]);
      expect((await m.embedBatch(Object.freeze([png]))).length).toBe(1);
      const out = await m.run({ data: new Float32Array(224 * 224 * 3), shape: Object.freeze([1, 224, 224, 3]) }, { endpoints: Object.freeze(['prob', 'pool5/7x7_s1']) });
      expect(Object.keys(out)).toEqual(['pool5/7x7_s1', 'prob']);
    } finally {
      await m.dispose();
    }
  });

  it('an image may be a Blob or File; with the DOM lib, a drawable (ImageBitmap, <img>, canvas, video, VideoFrame); without it, nothing DOM is needed', () => {
    // Node without lib "dom": Blob and File come from @types/node; no drawable exists, and the pixels form stays exact.
    // skipLibCheck off: the package's .d.ts files compile too, though @types/node 20 declares no WebAssembly
    // namespace (the types name WasmModule / WasmMemory, `never` there, instead of WebAssembly.Module).
    const node: ts.CompilerOptions = { lib: ['lib.es2022.d.ts'], types: ['node'], skipLibCheck: false };
    const code = (entry: string) => `
import { loadModel, type ImageInput, type ImagePixels } from '${entry}';
declare const bytes: Uint8Array, blob: Blob, file: File;
declare const m: Awaited<ReturnType<typeof loadModel>>;
await m.classify(blob);
await m.classify(file, { top: 3 });
await m.embed(new Blob([new Uint8Array(8)]));
const images: ImageInput[] = [file, bytes, blob, { data: new Uint8ClampedArray(4), width: 1, height: 1 }];
await m.classifyBatch(images);
await m.embedBatch([blob, file]);
const px: ImagePixels = { data: bytes, width: 1, height: 1 };
await m.classify(px);
// @ts-expect-error pixels must be bytes, not numbers
await m.classify({ data: [1, 2, 3], width: 1, height: 1 });
// @ts-expect-error width and height alone are no image
await m.classify({ width: 1, height: 1 });
`;
    for (const [name, options] of settings) {
      expect(compile(code('googlenet-wasm') + `
// @ts-expect-error nothing canvas-like is an image without the DOM lib
await m.classify({ width: 1, height: 1, getContext: () => null });
// The kernels as bytes, a path or a URL; no WebAssembly.Module exists in these types.
await loadModel({ wasm: new Uint8Array(8), threads: 2 });
await loadModel({ wasm: new URL('file:///kernels.wasm') });
// @ts-expect-error any other object is no kernel module
await loadModel({ wasm: {} });
`, { ...options, ...node }), `${name}, no DOM lib`).toEqual([]);
      expect(compile(code('googlenet-wasm/edge'), { ...options, ...node }), `${name}, edge entry, no DOM lib`).toEqual([]);
    }
    // A browser project: the DOM lib, no @types/node.
    const dom: ts.CompilerOptions = { lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] };
    for (const [name, options] of settings) {
      expect(compile(code('googlenet-wasm/browser') + `
declare const bitmap: ImageBitmap, img: HTMLImageElement, canvas: HTMLCanvasElement, off: OffscreenCanvas,
  video: HTMLVideoElement, frame: VideoFrame, imageData: ImageData;
await m.classify(bitmap);
await m.classify(img, { maxPixels: 1e6 });
await m.classifyBatch([canvas, off, video, frame, imageData, file]);
await m.embed(new Image());
await m.embedBatch([await createImageBitmap(blob), document.createElement('canvas'), new OffscreenCanvas(1, 1)]);
// @ts-expect-error a 2D context is not an image (its canvas is)
await m.classify(canvas.getContext('2d')!);
`, { ...options, ...dom }), `${name}, DOM lib, no @types/node`).toEqual([]);
    }
  });

  it('returned Float32Arrays are Float32Array<ArrayBuffer> (a Blob part, a BufferSource); inputs take any buffer, shared too', () => {
    const code = `
import { loadModel, preprocess, decodeImage, type PlainFloat32Array, type TensorData } from 'googlenet-wasm';
const m = await loadModel();
const e: Float32Array<ArrayBuffer> = await m.embed('x.png');
const es: Float32Array<ArrayBuffer>[] = await m.embedBatch(['x.png']);
const out = await m.run({ data: new Float32Array(3), shape: [1, 1, 3] }, { endpoints: ['prob'] });
const d: Float32Array<ArrayBuffer> = out.prob.data;
const p: PlainFloat32Array = preprocess(decodeImage(new Uint8Array(8)), 'inception_v1');
new Blob([e, d, p, ...es]);
await crypto.subtle.digest('SHA-256', d);
const shared = new Float32Array(new SharedArrayBuffer(12));
await m.run({ data: shared, shape: [1, 1, 3] });
const t: TensorData = out.prob;
await m.run(t);
preprocess({ data: new Uint8Array(new SharedArrayBuffer(3)), width: 1, height: 1 }, 'googlenet');
// @ts-expect-error what run returns is not shared memory
const s: Float32Array<SharedArrayBuffer> = d;
void s;
`;
    check(code);
    // ES2024's ArrayBuffer (resizable, transfer) is what SharedArrayBuffer lacks there.
    for (const [name, options] of settings) expect(compile(code, { ...options, lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'] }), `${name}, ES2024`).toEqual([]);
  });

  it('… and at run time each is over a plain, non-shared ArrayBuffer of its own, with 2 threads sharing the Wasm memory', async () => {
    const m = await loadModel({ threads: 2 });
    try {
      expect(m.info.threads).toBe(2);
      const png = new URL('./fixtures/chelsea.png', import.meta.url);
      expect(own(await m.embed(png))).toBe(true);
      expect((await m.embedBatch([png, png])).map(own)).toEqual([true, true]);
      const shared = new Float32Array(new SharedArrayBuffer(224 * 224 * 3 * 4));
      const out = await m.run({ data: shared, shape: [224, 224, 3] }, { endpoints: 'all' });
      expect(Object.values(out).every((t) => own(t.data))).toBe(true);
    } finally {
      await m.dispose();
    }
    expect(own(preprocess(decodeImage(readFileSync(new URL('./fixtures/coffee.png', import.meta.url))), 'inception_v1'))).toBe(true);
  });

  it("decoded pixels are Uint8Array<ArrayBuffer> (decodeImage's and fromPixels's PlainRGBImage), and go back wherever an RGBImage goes", () => {
    const code = (entry: string) => `
import { loadModel, decodeImage, fromPixels, preprocess, type PlainUint8Array, type PlainRGBImage, type RGBImage } from '${entry}';
declare const m: Awaited<ReturnType<typeof loadModel>>;
const img = decodeImage(new Uint8Array(8));
const px: Uint8Array<ArrayBuffer> = img.data;
const fp: PlainRGBImage = fromPixels({ data: new Uint8ClampedArray(new SharedArrayBuffer(4)), width: 1, height: 1 });
const pu: PlainUint8Array = fp.data;
new Blob([img.data, pu]);
await crypto.subtle.digest('SHA-256', fp.data);
const r: RGBImage = img;
preprocess(r, 'googlenet');
preprocess(fp, 'inception_v1');
fromPixels(img);
await m.classify(img);
await m.embedBatch([fp, img.data]);
decodeImage(new Uint8Array(new SharedArrayBuffer(8)));
preprocess({ data: new Uint8Array(new SharedArrayBuffer(3)), width: 1, height: 1 }, 'googlenet');
preprocess({ data: new Uint8ClampedArray(3), width: 1, height: 1 }, 'googlenet');
fromPixels({ data: new Uint8Array(new SharedArrayBuffer(3)), width: 1, height: 1 });
// @ts-expect-error decoded pixels are not shared memory
const s: Uint8Array<SharedArrayBuffer> = img.data;
// @ts-expect-error an RGBImage taken in is not promised to be plain
const q: PlainRGBImage = { data: new Uint8Array(new SharedArrayBuffer(3)), width: 1, height: 1 };
void [px, s, q];
`;
    for (const entry of ['googlenet-wasm', 'googlenet-wasm/browser', 'googlenet-wasm/edge']) {
      check(code(entry));
      for (const [name, options] of settings) {
        expect(compile(code(entry), { ...options, lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'] }), `${name}, ${entry}, ES2024`).toEqual([]);
      }
    }
  });

  it('… and at run time each is over a plain, non-shared ArrayBuffer of its own: PNG, every JPEG path and scale, jpeg-js, fromPixels, shared input', async () => {
    const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
    const edge = await import('../dist/edge.js');
    const jpegs = ['rocket.jpg', ...['444', '420', 'grey', 'rgb', 'cmyk', 'ycck', '444-progressive', 'cmyk-progressive', 'grey-progressive']
      .map((k) => `jpeg/rocket-crop-${k}.jpg`)];
    for (const name of ['chelsea.png', 'coffee.png', ...jpegs]) {
      const bytes = fixture(name);
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
      shared.set(bytes);
      for (const minSize of [undefined, 5, 11, 60]) { // full, and 1/8 and 1/4 of the 45-pixel crops and the 427-pixel photo
        const img = decodeImage(bytes, { minSize });
        expect([name, minSize, own(img.data), img.data.length]).toEqual([name, minSize, true, img.width * img.height * 3]);
        expect(own(decodeImage(shared, { minSize }).data), `${name} from shared bytes`).toBe(true);
        expect(own(edge.decodeImage(bytes, { minSize }).data), `${name}, edge entry`).toBe(true);
      }
    }
    // A baseline JPEG with luma sampled 3×2, which the package's decoder does not take: jpeg-js decodes it.
    const w = 48, h = 32, rgba = new Uint8Array(w * h * 4).map((_, i) => (i * 37) % 256);
    const enc = new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
    const sof = enc.findIndex((v, i) => v === 0xff && enc[i + 1] === 0xc0);
    enc[sof + 11] = 0x32;
    expect(decodeBaselineJpeg(enc, 1)).toBeUndefined();
    expect(own(decodeImage(enc).data)).toBe(true);
    expect(own(fromPixels({ data: new Uint8ClampedArray(new SharedArrayBuffer(8)), width: 2, height: 1 }).data)).toBe(true);
    expect(own(fromPixels({ data: new Uint8Array(new SharedArrayBuffer(6)), width: 2, height: 1 }).data)).toBe(true);
  });

  it('encodeSafetensors returns Uint8Array<ArrayBuffer>, over its own buffer at run time; its bytes go back as weights', async () => {
    const code = (entry: string) => `
import { loadModel, encodeSafetensors, parseSafetensors, type PlainUint8Array } from '${entry}';
const st: Uint8Array<ArrayBuffer> = encodeSafetensors({ x: { shape: [1], data: new Float32Array(new SharedArrayBuffer(4)) } });
const p: PlainUint8Array = encodeSafetensors(new Map([['x', { shape: [1], data: new Float32Array(1) }]]), { by: 'me' });
new Blob([st, p]);
await crypto.subtle.digest('SHA-256', st);
parseSafetensors(st);
parseSafetensors(new Uint8Array(new SharedArrayBuffer(8)));
await loadModel({ weights: st${entry.endsWith('/edge') ? ', wasm: {} as WebAssembly.Module' : ''} });
// @ts-expect-error not shared memory
const s: Uint8Array<SharedArrayBuffer> = st;
void s;
`;
    for (const entry of ['googlenet-wasm', 'googlenet-wasm/edge']) {
      check(code(entry));
      for (const [name, options] of settings) {
        expect(compile(code(entry), { ...options, lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'] }), `${name}, ${entry}, ES2024`).toEqual([]);
      }
    }
    const shared = new Float32Array(new SharedArrayBuffer(16)).fill(1);
    const st = encodeSafetensors({ a: { shape: [2], data: shared.subarray(1, 3) }, b: { shape: [1], data: new Float32Array([2]) } });
    expect(own(st)).toBe(true);
    expect([...parseSafetensors(st).tensors.get('a')!.data]).toEqual([1, 1]);
  });

  it('decodeImage takes an ArrayBuffer, as it does at run time', () => {
    check(`
import { decodeImage } from 'googlenet-wasm';
const img: { data: Uint8Array; width: number; height: number } = decodeImage(new ArrayBuffer(8));
void img;
// @ts-expect-error nor is a string bytes
decodeImage('photo.png');
`);
    const png = readFileSync(new URL('./fixtures/chelsea.png', import.meta.url));
    const ab = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength);
    expect(decodeImage(ab)).toEqual(decodeImage(png));
  });

  it('each error class has its own literal code; the classes are one across the entries', async () => {
    check(`
import { GoogLeNetError, InputError, WeightsError, ImageDecodeError, RuntimeError, type GoogLeNetErrorCode } from 'googlenet-wasm';
import * as edge from 'googlenet-wasm/edge';
declare const e: unknown;
if (e instanceof InputError) { const c: 'ERR_INPUT' = e.code; void c; }
if (e instanceof WeightsError) { const c: 'ERR_WEIGHTS' = e.code; void c; }
if (e instanceof ImageDecodeError) { const c: 'ERR_IMAGE_DECODE' = e.code; void c; }
if (e instanceof RuntimeError) { const c: 'ERR_RUNTIME' = e.code; void c; }
if (e instanceof edge.InputError) { const c: GoogLeNetErrorCode = e.code; void c; }
// @ts-expect-error a misspelt code is refused where the class is known
if (e instanceof ImageDecodeError && e.code === 'ERR_IMAGE_DECOD') throw e;
if (e instanceof GoogLeNetError) { const s: string = e.code; void s; }
`);
    const node = await import('../dist/index.js'), edge = await import('../dist/edge.js'), browser = await import('../dist/browser.js');
    for (const [cls, code] of [['InputError', 'ERR_INPUT'], ['WeightsError', 'ERR_WEIGHTS'], ['ImageDecodeError', 'ERR_IMAGE_DECODE'], ['RuntimeError', 'ERR_RUNTIME']] as const) {
      const e = new node[cls]('x');
      expect([e.code, e.name, e instanceof node.GoogLeNetError]).toEqual([code, cls, true]);
      expect(edge[cls]).toBe(node[cls]);
      expect(browser[cls]).toBe(node[cls]);
    }
    await expect(edge.loadModel({} as never)).rejects.toBeInstanceOf(node.InputError);
  });

  it('the types of every option and result the README documents are exported by name, from each entry', () => {
    const names = ['LoadOptions', 'ModelInfo', 'RunOptions', 'TensorData', 'TensorInput', 'GoogLeNetErrorCode', 'Tensor', 'ParseOptions',
      'SafetensorsFile', 'ModelName', 'NetworkOptions', 'Network', 'WeightSpec', 'KernelFlavor', 'WasmSource', 'RGBImage',
      'DecodeOptions', 'PreprocessModel', 'PlainFloat32Array', 'PlainUint8Array', 'PlainRGBImage', 'ImageInput', 'ImagePixels', 'DrawableImage', 'Prediction', 'ClassifyOptions', 'EmbedOptions'];
    for (const entry of ['googlenet-wasm', 'googlenet-wasm/browser', 'googlenet-wasm/edge']) {
      const edge = entry.endsWith('/edge');
      check(`
import type { ${names.filter((n) => !(edge && n === 'LoadOptions')).join(', ')}${edge ? ', EdgeLoadOptions' : ''} } from '${entry}';
import { loadModel, buildNetwork, weightSpec, parseSafetensors, decodeImage } from '${entry}';
declare const o: ${edge ? 'EdgeLoadOptions' : 'LoadOptions'};
const m = await loadModel(o);
const k: KernelFlavor = m.info.kernels;
const w: WasmSource | undefined = ${edge ? 'o.wasm' : 'o.wasm'};
const n: Network = buildNetwork('googlenet', 224, 224);
const s: WeightSpec[] = weightSpec(n);
const f: SafetensorsFile = parseSafetensors(new Uint8Array(), { nonFinite: 'allow' } satisfies ParseOptions);
const img: PlainRGBImage = decodeImage(new Uint8Array(), { minSize: 256 } satisfies DecodeOptions);
const rgb: RGBImage = img;
const u: PlainUint8Array = img.data;
const pm: PreprocessModel = 'googlenet';
void [k, w, s, f, rgb, u, pm];
`);
    }
  });

  it("what the package hands out cannot change its own behaviour: ENDPOINTS is readonly and frozen, imagenetLabels() a copy", async () => {
    check(`
import { ENDPOINTS, imagenetLabels } from 'googlenet-wasm';
// @ts-expect-error readonly
ENDPOINTS.googlenet.sort();
// @ts-expect-error readonly
ENDPOINTS.googlenet = [];
const names: readonly string[] = ENDPOINTS.inception_v1;
const labels: string[] = await imagenetLabels();
labels[0] = 'mine';
void names;
`);
    const { ENDPOINTS, endpointNames, buildNetwork, imagenetLabels } = await import('../dist/index.js');
    expect(Object.isFrozen(ENDPOINTS) && Object.isFrozen(ENDPOINTS.googlenet) && Object.isFrozen(ENDPOINTS.inception_v1)).toBe(true);
    expect(() => (ENDPOINTS.googlenet as string[]).sort()).toThrow(TypeError);
    expect(endpointNames('googlenet')[0]).toBe('conv1/7x7_s2');
    expect(buildNetwork('googlenet', 224, 224, { finalEndpoint: 'prob' }).output).toBe('prob');
    const a = await imagenetLabels();
    a[285] = 'changed';
    expect((await imagenetLabels())[285]).toBe('Egyptian cat');
    const m = await loadModel({ threads: 1 });
    try {
      expect((await m.classify(new URL('./fixtures/chelsea.png', import.meta.url), { top: 1 }))[0]?.label).toBe('Egyptian cat');
    } finally {
      await m.dispose();
    }
  });

  it("the README's edge example compiles with customConditions workerd; without it, the Node types refuse its labels", () => {
    const assets = join(dir, 'assets.d.ts');
    writeFileSync(assets, `declare module '*.wasm' { const m: WebAssembly.Module; export default m; }
declare module '*.safetensors' { const d: ArrayBuffer; export default d; }
declare module '*.txt' { const t: string; export default t; }
`);
    const code = `
import { loadModel, ImageDecodeError, InputError } from 'googlenet-wasm';
import wasm from 'googlenet-wasm/build/kernels.wasm';                  // CompiledWasm
import weights from 'googlenet-wasm/models/googlenet.safetensors';     // Data (wrangler.toml rule)
import labels from 'googlenet-wasm/labels/synset_words.txt';          // Text

const model = await loadModel({ wasm, weights, labels });
export { model, ImageDecodeError, InputError };
`;
    const bundler = { moduleResolution: R.Bundler, module: M.ESNext };
    expect(compile(code, { ...bundler, customConditions: ['workerd'] }, 'worker.ts', [assets])).toEqual([]);
    expect(compile(code.replace("from 'googlenet-wasm';", "from 'googlenet-wasm/edge';"), bundler, 'worker.ts', [assets])).toEqual([]);
    expect(compile(code, bundler, 'worker.ts', [assets]).join('\n')).toMatch(/worker.ts:7: Type 'string' is not assignable to type 'readonly string\[\]'/);
  });

  it('… and the runtime takes every option as undefined, as its default', async () => {
    const m = await loadModel({
      model: undefined, weights: undefined, threads: undefined, callerComputes: undefined, kernels: undefined, wasm: undefined,
      maxMemoryBytes: undefined, winograd: undefined, labels: undefined, finalEndpoint: undefined, includeRootBlock: undefined, numClasses: undefined,
      globalPool: undefined, spatialSqueeze: undefined,
    });
    try {
      const png = new URL('./fixtures/chelsea.png', import.meta.url);
      expect((await m.classify(png, { top: undefined, maxPixels: undefined })).length).toBe(5);
      expect((await m.embed(png, { maxPixels: undefined })).length).toBe(1024);
      const out = await m.run({ data: new Float32Array(224 * 224 * 3), shape: [224, 224, 3] }, { endpoints: undefined });
      expect(Object.keys(out)).toEqual(['prob']);
    } finally {
      await m.dispose();
    }
    const st = encodeSafetensors({ x: { shape: [1], data: new Float32Array([1]) } });
    expect(parseSafetensors(st, { maxHeaderBytes: undefined, nonFinite: undefined, copy: undefined }).tensors.size).toBe(1);
    expect(() => decodeImage(new Uint8Array([1, 2, 3]), { maxPixels: undefined, minSize: undefined })).toThrow(/not a PNG|JPEG|format/i);
  });

  it('TypeScript 5.6 consumers, whose typed arrays are not generic: the README example and every option compile, and what the package returns is a plain Float32Array or Uint8Array', () => {
    expect(ts56.version).toMatch(/^5\.6\./);
    const api = ts56 as unknown as typeof ts;
    const returned = `
import { loadModel, decodeImage, encodeSafetensors, preprocess, type PlainFloat32Array, type PlainUint8Array } from 'googlenet-wasm';
const m = await loadModel();
const e: Float32Array = await m.embed('x.png');
const out = await m.run({ data: new Float32Array(new SharedArrayBuffer(12)), shape: [1, 1, 3] }, { endpoints: ['prob'] });
const d: Float32Array = out.prob.data;
const p: PlainFloat32Array = preprocess(decodeImage(new Uint8Array(8)), 'inception_v1');
const px: Uint8Array = decodeImage(new Uint8Array(8)).data;
const st: PlainUint8Array = encodeSafetensors({ x: { shape: [1], data: e } });
new Blob([e, d, p, px, st]);
// @ts-expect-error TypeScript 5.6's Float32Array is not generic
const g: Float32Array<ArrayBuffer> = e;
void g;
`;
    for (const code of [README_EXAMPLE, OPTIONS_UNDEFINED, returned]) {
      for (const [name, options] of settingsFor(api)) expect(compile(code, options, 'consumer.ts', [], api), `TypeScript ${ts56.version}, ${name}`).toEqual([]);
    }
  });
});
