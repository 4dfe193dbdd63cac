// Generated bad-input suite through the public API: images, weights files, tensors and options. Every
// case gets its own time bound, and must end in a typed error that names the problem (or, for inputs
// that are merely unusual, a correct answer): never a crash, a hang or another kind of error.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  loadModel, encodeSafetensors, parseSafetensors, buildNetwork, endpointNames, weightSpec, parseLabels,
  GoogLeNetError, ImageDecodeError, InputError, WeightsError, type Model,
} from '../dist/index.js';
import { mulberry32 as rng } from './helpers/rng.mjs';

/** A local port nothing listens on (one just closed). */
const closedPort = () => new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as AddressInfo;
    srv.close(() => resolve(port));
  });
});
const fixture = (f: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${f}`, import.meta.url)));
const BOUND = 10_000; // ms per case
const execFileP = promisify(execFile);


let m: Model;
beforeAll(async () => { m = await loadModel({ model: 'googlenet' }); });
afterAll(async () => { await m.dispose(); });

/** The outcome must be a correct-looking answer or one of the typed errors. */
async function classifyOutcome(bytes: Uint8Array): Promise<'ok' | 'error'> {
  try {
    const r = await m.classify(bytes, { top: 3 });
    expect(r).toHaveLength(3);
    for (const p of r) expect(p.probability).toBeGreaterThanOrEqual(0);
    expect(r[0].probability).toBeLessThanOrEqual(1);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect((e as Error).message.length).toBeGreaterThan(5);
    return 'error';
  }
}

describe('images: truncated, flipped, empty, not an image, huge, degenerate', () => {
  const png = fixture('chelsea.png');
  const jpg = fixture('rocket.jpg');
  const cases: Array<[string, () => Uint8Array, 'error' | 'ok' | 'any']> = [];
  for (const [name, bytes] of [['chelsea.png', png], ['rocket.jpg', jpg]] as const) {
    for (let i = 1; i <= 30; i++) {
      const cut = Math.floor((bytes.length * i * i) / 961); // dense near the header, sparse later
      cases.push([`${name} truncated at ${cut} bytes`, () => bytes.slice(0, cut), cut < bytes.length ? 'any' : 'ok']);
    }
    const r = rng(name.length);
    for (let i = 0; i < 30; i++) {
      const b = bytes.slice();
      const at = Math.floor(r() * Math.min(b.length, i < 15 ? 2048 : b.length));
      b[at] ^= 1 + Math.floor(r() * 255);
      cases.push([`${name} byte ${at} flipped`, () => b, 'any']);
    }
  }
  cases.push(['empty', () => new Uint8Array(0), 'error']);
  cases.push(['one byte', () => new Uint8Array([0xff]), 'error']);
  cases.push(['text', () => new TextEncoder().encode('GIF89a? no, just text'), 'error']);
  cases.push(['zeros', () => new Uint8Array(4096), 'error']);
  cases.push(['PNG signature only', () => png.slice(0, 8), 'error']);
  cases.push(['JPEG SOI only', () => jpg.slice(0, 2), 'error']);
  const withSize = (w: number, h: number) => () => {
    const b = png.slice();
    const v = new DataView(b.buffer);
    v.setUint32(16, w); v.setUint32(20, h);
    let c = ~0;
    for (let i = 12; i < 29; i++) { c ^= b[i]; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
    v.setUint32(29, ~c >>> 0);
    return b;
  };
  cases.push(['PNG claiming 100000x100000', withSize(100000, 100000), 'error']);
  cases.push(['PNG claiming 0x300', withSize(0, 300), 'error']);
  cases.push(['PNG claiming 451x0', withSize(451, 0), 'error']);
  cases.push(['PNG claiming 2^31 x 2', withSize(2 ** 31 - 1, 2), 'error']);

  it.each(cases)('%s', async (_, bytes, want) => {
    const t = performance.now();
    const got = await classifyOutcome(bytes());
    if (want !== 'any') expect(got).toBe(want);
    expect(performance.now() - t).toBeLessThan(BOUND);
  }, BOUND);

  it('a 1x1 image and a 1x1000 strip classify (resized up) without error', async () => {
    for (const [w, h] of [[1, 1], [1, 1000], [1000, 1]]) {
      const data = new Uint8Array(w * h * 3).fill(128);
      const r = await m.classify({ data, width: w, height: h });
      expect(r[0].probability).toBeGreaterThan(0);
    }
  }, BOUND);

  it('the pixel limit is configurable and refuses before decoding', async () => {
    await expect(m.classify(png, { maxPixels: 451 * 300 - 1 })).rejects.toThrow(/limit/);
    expect((await m.classify(png, { maxPixels: 451 * 300 }))[0].index).toBe(285);
  }, BOUND);
});

describe('weights files: every malformation is a WeightsError naming it', () => {
  // A valid googlenet file, re-encoded from the bundled one.
  const bundled = parseSafetensors(fixture('../../models/googlenet.safetensors')).tensors;
  const valid = encodeSafetensors(bundled);
  const headerLen = Number(new DataView(valid.buffer).getBigUint64(0, true));
  const withHeader = (json: string, data = valid.subarray(8 + headerLen)) => {
    const h = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLen)));
  const mutate = (f: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void) => () => {
    const h = structuredClone(header);
    f(h);
    return withHeader(JSON.stringify(h));
  };
  const cases: Array<[string, () => Uint8Array, RegExp]> = [];
  for (let i = 0; i < 25; i++) {
    const cut = i < 12 ? i * 3 : Math.floor((valid.length * (i - 11)) / 14);
    cases.push([`truncated at ${cut} bytes`, () => valid.slice(0, cut), /safetensors|truncated|header|missing/]);
  }
  cases.push(['header length beyond the file', () => { const b = valid.slice(0, 4096); return b; }, /beyond|truncated/]);
  cases.push(['enormous header length', () => { const b = valid.slice(0, 64); new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true); return b; }, /exceeds the limit/]);
  cases.push(['header not JSON', () => withHeader('{"conv1/7x7_s2/weight": {'), /not valid JSON/]);
  cases.push(['header JSON array', () => withHeader('[1,2,3]'), /not a JSON object/]);
  cases.push(['unknown dtype', mutate((h) => { h['conv1/7x7_s2/bias'].dtype = 'I64'; }), /unsupported dtype/]);
  cases.push(['offsets out of range', mutate((h) => { h['prob/none'] = { dtype: 'F32', shape: [4], data_offsets: [1e12, 1e12 + 16] }; }), /go beyond|data_offsets/]);
  cases.push(['overlapping tensors', mutate((h) => { const a = h['conv1/7x7_s2/bias']; h['conv2/3x3/bias'].data_offsets = [a.data_offsets[0], a.data_offsets[0] + 768]; }), /overlap/]);
  cases.push(['shape not matching the bytes', mutate((h) => { h['conv1/7x7_s2/bias'].shape = [65]; }), /needs \d+ bytes/]);
  cases.push(['mis-shaped tensor', () => encodeSafetensors(new Map([...bundled, ['conv2/3x3/bias', { shape: [191], data: new Float32Array(191) }]])), /"conv2\/3x3\/bias" has shape \[191\], expected \[192\]/]);
  cases.push(['missing tensor', () => { const t = new Map(bundled); t.delete('inception_4a/pool_proj/weight'); return encodeSafetensors(t); }, /missing tensor "inception_4a\/pool_proj\/weight"/]);
  cases.push(['extra tensor', () => encodeSafetensors(new Map([...bundled, ['conv9/bogus', { shape: [1], data: new Float32Array(1) }]])), /unexpected tensor "conv9\/bogus"/]);
  for (const v of [NaN, Infinity, -Infinity]) {
    cases.push([`${v} in a tensor`, () => { const d = new Float32Array(64); d[17] = v; return encodeSafetensors(new Map([...bundled, ['conv1/7x7_s2/bias', { shape: [64], data: d }]])); }, /"conv1\/7x7_s2\/bias" holds a non-finite value/]);
  }
  const r = rng(99);
  for (let i = 0; i < 20; i++) {
    const at = Math.floor(r() * (8 + headerLen));
    cases.push([`header byte ${at} flipped`, () => { const b = valid.slice(); b[at] ^= 1 + Math.floor(r() * 255); return b; }, /./]);
  }

  it.each(cases)('%s', async (name, bytes, msg) => {
    let err: unknown;
    try {
      const x = await loadModel({ model: 'googlenet', weights: bytes() });
      await x.dispose();
    } catch (e) {
      err = e;
    }
    if (name.includes('flipped') && err === undefined) return; // a flip inside a value or padding may be harmless
    expect(err).toBeInstanceOf(WeightsError);
    expect((err as Error).message).toMatch(msg);
  }, BOUND);
});

describe('tensors and options', () => {
  const t = (shape: number[], fill = 0.25) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape });
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['rank 2', () => m.run(t([224, 672])), /shape must be/],
    ['rank 5', () => m.run(t([1, 1, 224, 224, 3])), /shape must be/],
    ['4 channels', () => m.run(t([1, 224, 224, 4])), /4 channels/],
    ['1 channel', () => m.run(t([1, 224, 224, 1])), /1 channels/],
    ['NaN', () => m.run(t([1, 224, 224, 3], NaN)), /non-finite/],
    ['Infinity', () => m.run(t([1, 224, 224, 3], Infinity)), /non-finite/],
    ['too small: 8x8', () => m.run(t([1, 8, 8, 3])), /too small|at least 7x7/],
    ['too small: 1x300', () => m.run(t([1, 1, 300, 3])), /too small|at least 7x7/],
    ['batch 0', () => m.run({ data: new Float32Array(0), shape: [0, 224, 224, 3] }), /batch size is 0/],
    ['negative size', () => m.run({ data: new Float32Array(3), shape: [1, -1, -1, 3] }), /whole numbers/],
    ['length mismatch', () => m.run({ data: new Float32Array(5), shape: [1, 224, 224, 3] }), /needs 150528/],
    ['data not typed', () => m.run({ data: null as never, shape: [1, 224, 224, 3] }), /Float32Array/],
    ['input null', () => m.run(null as never), /input must be/],
    ['unknown end point', () => m.run(t([1, 224, 224, 3]), { endpoints: ['Mixed_5c'] }), /unknown end point "Mixed_5c"/],
    ['endpoints not an array', () => m.run(t([1, 224, 224, 3]), { endpoints: 'prob' as never }), /endpoints must be/],
    ['unknown model', () => loadModel({ model: 'alexnet' as never }), /unknown model/],
    ['unknown final end point', () => loadModel({ model: 'googlenet', finalEndpoint: 'inception_9z/output' }), /valid end points: conv1\/7x7_s2/],
    ['numClasses -1', () => loadModel({ model: 'googlenet', numClasses: -1 }), /numClasses/],
    ['numClasses 2.5', () => loadModel({ model: 'googlenet', numClasses: 2.5 }), /numClasses/],
    ['maxMemoryBytes 0', () => loadModel({ model: 'googlenet', maxMemoryBytes: 0 }), /maxMemoryBytes/],
    ['weights of a wrong type', () => loadModel({ model: 'googlenet', weights: 42 as never }), /weights must be/],
    ['options null', () => loadModel(null as never), /options must be an object/],
    ['winograd 3', () => loadModel({ model: 'googlenet', winograd: 3 as never }), /winograd must be true, false, 2 or 4/],
    ['callerComputes "no"', () => loadModel({ model: 'googlenet', callerComputes: 'no' as never }), /callerComputes must be true or false, got "no"/],
    ['labels of the wrong length', () => loadModel({ model: 'googlenet', labels: ['a', 'b'] }), /labels must be an array of 1000/],
    ['top 0', () => m.classify(fixture('chelsea.png'), { top: 0 }), /top must be/],
    ['top 2.5', () => m.classify(fixture('chelsea.png'), { top: 2.5 }), /top must be/],
    ['no images', () => m.classifyBatch([]), /no images/],
    ['an image input of the wrong type', () => m.classify(true as never), /image input must be .*; got true$/],
    // A Blob or File is read like a path: refused above the same size before it is read; a failed read named.
    ['a File larger than a path may be', () => m.classify(new (class extends File { get size() { return 2 ** 31; } })([], 'huge.png')), /^cannot read the File "huge.png": 2147483648 bytes, above the limit of 2147483647$/],
    ['a Blob that cannot be read', () => m.classify(new (class extends Blob { arrayBuffer(): Promise<ArrayBuffer> { return Promise.reject(new Error('NotReadableError: the file changed')); } })()), /^cannot read the Blob: NotReadableError: the file changed$/],
    ['no browser drawable exists on Node: a canvas-like object is not pixels', () => m.classify({ width: 2, height: 2, getContext() {} } as never), /in browsers an ImageBitmap, <img>.*; got an object$/],
    ['labels as bytes are named by their type, not printed', () => loadModel({ model: 'googlenet', labels: new Uint8Array(3000) as never }), /labels must be an array of 1000 names, one per class; got a Uint8Array$/],
    ['pixels with the wrong length', () => m.classify({ data: new Uint8Array(10), width: 3, height: 3 }), /needs 36 \(RGBA\) or 27 \(RGB\)/],
  ];
  // A module that imports a memory and exports nothing: (module (import "env" "memory" (memory 1))).
  const memoryOnly = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 2, 15, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1]);
  cases.push(
    ['maxPixels as a string is shown quoted', () => m.classify(fixture('chelsea.png'), { maxPixels: '100' as never }), /maxPixels must be a finite number >= 1, got "100"/],
    ['threads as a string is shown quoted', () => loadModel({ model: 'googlenet', threads: '2' as never }), /got "2"/],
    ['maxMemoryBytes as a string', () => loadModel({ model: 'googlenet', maxMemoryBytes: '100' as never }), /maxMemoryBytes must be .* got "100"/],
    ['kernels unknown', () => loadModel({ model: 'googlenet', kernels: 'nope' as never }), /kernels must be 'auto', 'simd' or 'relaxed', got "nope"/],
    ['wasm: an empty module', () => loadModel({ model: 'googlenet', threads: 1, wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }), /not a googlenet-wasm kernel module: it does not import its memory/],
    ['wasm: a module without the kernels', () => loadModel({ model: 'googlenet', threads: 1, wasm: memoryOnly }), /does not export conv2d, conv1x1multi, .*allFinite/],
    ['weights: a missing file:// URL', () => loadModel({ model: 'googlenet', weights: 'file:///nonexistent/w.safetensors' }), /cannot read file:\/\/\/nonexistent\/w.safetensors: ENOENT/],
    ['weights: a missing URL object', () => loadModel({ model: 'googlenet', weights: new URL('file:///nonexistent/w.safetensors') }), /cannot read .*ENOENT/],
    ['weights: a directory', () => loadModel({ model: 'googlenet', weights: new URL('./fixtures', import.meta.url).pathname }), /is a directory/],
    ['weights: a device, which would never end', () => loadModel({ model: 'googlenet', weights: '/dev/zero' }), /cannot read \/dev\/zero: not a regular file/],
    ['weights: a URL that is not one', () => loadModel({ model: 'googlenet', weights: 'http://' }), /not a valid URL/],
    ['weights: a refused connection', async () => loadModel({ model: 'googlenet', weights: `http://127.0.0.1:${await closedPort()}/w.safetensors` }), /could not fetch http:\/\/127.0.0.1:\d+\/w.safetensors: ECONNREFUSED/],
    ['image: a missing file:// URL', () => m.classify('file:///nonexistent/photo.png'), /cannot read file:\/\/\/nonexistent\/photo.png: ENOENT/],
    ['image: a device', () => m.classify('/dev/zero'), /not a regular file/],
    ['classifyBatch of one path string', () => m.classifyBatch('photo.png' as never), /classifyBatch takes an array of images; for one image use classify/],
    ['embedBatch of one image', () => m.embedBatch(fixture('chelsea.png') as never), /embedBatch takes an array of images/],
    ['classify options not an object', () => m.classify(fixture('chelsea.png'), 'top' as never), /options must be an object, got "top"/],
    ['run options not an object', () => m.run(t([1, 224, 224, 3]), 5 as never), /run options must be an object/],
    ['values that overflow float32 in the network', () => m.run(t([1, 224, 224, 3], 3e38)), /end point prob came out non-finite .* largest magnitude is 3.00e\+38/],
    ['buildNetwork with string sizes', () => Promise.resolve().then(() => buildNetwork('googlenet', '224' as never, '224' as never)), /height must be a whole number >= 1, got "224"/],
    ['buildNetwork with a NaN size', () => Promise.resolve().then(() => buildNetwork('googlenet', 224, NaN)), /width must be a whole number >= 1, got NaN/],
    ['endpointNames of an unknown model', () => Promise.resolve().then(() => endpointNames('bogus' as never)), /unknown model "bogus"/],
    ['weightSpec of no network', () => Promise.resolve().then(() => weightSpec(null as never)), /weightSpec takes a network made by buildNetwork/],
    ['parseLabels of null', () => Promise.resolve().then(() => parseLabels(null as never)), /parseLabels takes the text of a labels file/],
    ['encodeSafetensors of null', () => Promise.resolve().then(() => encodeSafetensors(null as never)), /takes a Map or an object of tensors/],
    ['parseSafetensors with a NaN header limit', () => Promise.resolve().then(() => parseSafetensors(new Uint8Array(16), { maxHeaderBytes: NaN })), /maxHeaderBytes must be a number >= 0, got NaN/],
  );
  for (const th of [0, -1, 1000, 2.5, NaN, '2', null]) {
    cases.push([`threads ${String(th)}`, () => loadModel({ model: 'googlenet', threads: th as never }), /threads must be a whole number from 1 to 64/]);
  }
  it.each(cases)('%s', async (_, call, msg) => {
    let err: unknown;
    try { await call(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(GoogLeNetError);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(msg);
  }, BOUND);

  it('a path that starts with data: but is no data: URL (no comma) is read as a path', async () => {
    await expect(m.classify('data:photo.png')).rejects.toThrow(/^cannot read data:photo\.png: ENOENT/);
  });

  it('a long data: URL is named in a message by its start and length, not in full', async () => {
    await expect(m.classify(`data:image/png;base64,${'A'.repeat(5000)}`)).rejects.toThrow(/^data:image\/png;base64,A{38}… \(5022 characters\): not a PNG or JPEG image/);
  });

  it('null options are no options', async () => {
    const x = t([1, 224, 224, 3]);
    const ref = (await m.run(x)).prob.data;
    expect((await m.run(x, null)).prob.data).toEqual(ref);
    const top = await m.classify(fixture('chelsea.png'), null);
    expect(top).toHaveLength(5);
    expect(top[0].index).toBe(285);
    expect(await m.embed(fixture('chelsea.png'), null)).toHaveLength(1024);
    expect(parseSafetensors(encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } }), null).tensors.get('a')!.data).toEqual(new Float32Array([1, 2]));
  }, BOUND);

  it('parseLabels takes the bytes of a labels file as well as its text', () => {
    const text = 'n01440764 tench, Tinca tinca\nn01443537 goldfish\n';
    expect(parseLabels(new TextEncoder().encode(text))).toEqual(['tench, Tinca tinca', 'goldfish']);
    expect(parseLabels(text)).toEqual(['tench, Tinca tinca', 'goldfish']);
  });

  it('the model still gives the right answer after all of the above', async () => {
    expect((await m.classify(fixture('chelsea.png')))[0].index).toBe(285);
  }, BOUND);
});

describe('weights as a Map: each bad tensor is a WeightsError naming it', () => {
  const bundled = parseSafetensors(fixture('../../models/googlenet.safetensors')).tensors;
  const bias = bundled.get('conv1/7x7_s2/bias')!;
  const nan = bias.data.slice();
  nan[3] = NaN;
  const cases: Array<[string, unknown, RegExp]> = [
    ['data shorter than the shape', { shape: [64], data: bias.data.subarray(0, 10) }, /"conv1\/7x7_s2\/bias" has 10 values, its shape \[64\] needs 64/],
    ['data null', { shape: [64], data: null }, /"conv1\/7x7_s2\/bias" needs its data as a Float32Array/],
    ['data a plain array', { shape: [64], data: Array.from(bias.data) }, /needs its data as a Float32Array/],
    ['a NaN', { shape: [64], data: nan }, /"conv1\/7x7_s2\/bias" holds a non-finite value \(NaN\) at element 3/],
    ['shape a number', { shape: 64, data: bias.data }, /"conv1\/7x7_s2\/bias" needs a shape array of whole numbers, got 64/],
    ['not a tensor', 42, /needs a shape array/],
  ];
  it.each(cases)('%s', async (_, tensor, msg) => {
    let err: unknown;
    try {
      const x = await loadModel({ model: 'googlenet', threads: 1, weights: new Map([...bundled, ['conv1/7x7_s2/bias', tensor as never]]) });
      await x.dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsError);
    expect((err as Error).message).toMatch(msg);
  }, BOUND);

  it('the same Map with good tensors loads and classifies', async () => {
    const x = await loadModel({ model: 'googlenet', threads: 1, weights: new Map(bundled) });
    try {
      expect((await x.classify(fixture('chelsea.png')))[0].index).toBe(285);
    } finally {
      await x.dispose();
    }
  }, BOUND);
});

describe('found by the second audit', () => {
  const chelsea = fixture('chelsea.png');
  const text = new TextEncoder().encode('<html>not an image</html>');
  const nodeRun = (code: string) => execFileP(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url).pathname });

  it("kernels: 'relaxed' and a relaxed build as the wasm option work in a fresh Node process (the engine flag was set on the 'auto' path only)", async () => {
    const { stdout } = await nodeRun(`import { loadModel } from './dist/index.js';
      const a = await loadModel({ kernels: 'relaxed', threads: 1 });
      const b = await loadModel({ wasm: 'build/kernels.relaxed.wasm', threads: 1 });
      console.log(a.info.kernels, (await a.classify('test/fixtures/chelsea.png'))[0].index, (await b.classify('test/fixtures/chelsea.png'))[0].index);`);
    expect(stdout.trim()).toBe('relaxed 285 285');
  }, 60_000);

  it('maxMemoryBytes a few bytes above the need (less than its last 64 KiB page) is the RuntimeError, not a RangeError', async () => {
    let need = 0;
    try { await loadModel({ model: 'googlenet', threads: 1, maxMemoryBytes: 1 << 20 }); } catch (e) { need = Number(/needs (\d+) bytes/.exec((e as Error).message)![1]); }
    expect(need).toBeGreaterThan(1 << 20);
    const short = Math.ceil(need / 65536) * 65536 - 1;
    await expect(loadModel({ model: 'googlenet', threads: 1, maxMemoryBytes: short })).rejects.toThrow(/out of memory: the model needs \d+ bytes \(\d+ pages of 64 KiB\), above maxMemoryBytes/);
    const x = await loadModel({ model: 'googlenet', threads: 1, maxMemoryBytes: short + 1 });
    expect((await x.classify(chelsea))[0].index).toBe(285);
    await x.dispose();
  }, BOUND);

  it('a decode error says which image of a batch, and which path', async () => {
    await expect(m.classifyBatch([chelsea, text, chelsea])).rejects.toThrow(/^image 2 of 3: not a PNG or JPEG image/);
    const bad = new URL('./fixtures/README.md', import.meta.url).pathname;
    await expect(m.classify(bad)).rejects.toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a PNG or JPEG image`));
    await expect(m.embedBatch([chelsea, bad])).rejects.toThrow(ImageDecodeError);
    await expect(m.embedBatch([chelsea, bad])).rejects.toThrow(/^image 2 of 2, .*README.md: not a PNG or JPEG/);
  }, BOUND);

  it('a weights file that is not safetensors is named', async () => {
    const bad = new URL('./fixtures/chelsea.png', import.meta.url).pathname;
    await expect(loadModel({ model: 'googlenet', weights: bad })).rejects.toThrow(WeightsError);
    await expect(loadModel({ model: 'googlenet', weights: bad })).rejects.toThrow(/^weights .*chelsea.png: safetensors: /);
  }, BOUND);

  it('encodeSafetensors keeps a tensor named __proto__', () => {
    const t = new Map([['__proto__', { shape: [2], data: new Float32Array([1, 2]) }], ['b', { shape: [1], data: new Float32Array([3]) }]]);
    const back = parseSafetensors(encodeSafetensors(t)).tensors;
    expect([...back.keys()].sort()).toEqual(['__proto__', 'b']);
    expect(back.get('__proto__')!.data).toEqual(new Float32Array([1, 2]));
  });

  it('embed on a model that stops before the pooled features says so', async () => {
    const x = await loadModel({ model: 'googlenet', threads: 1, finalEndpoint: 'inception_4e/output' });
    await expect(x.embed(chelsea)).rejects.toThrow(/embed needs the network up to pool5\/7x7_s1; this model stops at inception_4e\/output/);
    await x.dispose();
  }, BOUND);

  it('inception_v1 takes the 1000 ImageNet names as labels ("background" first); a wrong count says how many it got', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `n${i}`);
    const spec = weightSpec(buildNetwork('inception_v1', 224, 224));
    const w = new Map(spec.map((s) => [s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.01) }]));
    for (const s of spec) if (s.name.endsWith('moving_variance')) w.get(s.name)!.data.fill(1);
    const x = await loadModel({ model: 'inception_v1', threads: 1, weights: w, labels: names });
    expect(x.labels).toHaveLength(1001);
    expect(x.labels![0]).toBe('background');
    expect(x.labels![1]).toBe('n0');
    await x.dispose();
    await expect(loadModel({ model: 'inception_v1', threads: 1, weights: w, labels: ['a', 'b', 'c'] })).rejects.toThrow(/labels must be an array of 1001 names, one per class; got 3/);
  }, BOUND);

  it('an image may be a URL object; errors keep their class names (set explicitly: minifiers rename classes)', async () => {
    const url = new URL('./fixtures/chelsea.png', import.meta.url);
    expect((await m.classify(url))[0].index).toBe(285);
    const e = await m.classify(text).catch((x) => x);
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect(e.name).toBe('ImageDecodeError');
    expect(String(e)).toMatch(/^ImageDecodeError: not a PNG or JPEG image/);
    expect(new InputError('x').name).toBe('InputError');
    expect(new WeightsError('x').name).toBe('WeightsError');
  }, BOUND);

  it('the edge entry refuses a huge numClasses at once (it built that many default labels first: 42 s, then out of memory)', async () => {
    const edge = await import('../dist/edge.js');
    const wasm = new WebAssembly.Module(readFileSync(new URL('../build/kernels.wasm', import.meta.url)));
    const t = performance.now();
    await expect(edge.loadModel({ wasm, weights: fixture('../../models/googlenet.safetensors'), numClasses: 1e9 })).rejects.toThrow(WeightsError);
    await expect(edge.loadModel({ wasm, weights: new Uint8Array(8), numClasses: 2 ** 32 })).rejects.toThrow(GoogLeNetError);
    expect(performance.now() - t).toBeLessThan(BOUND);
    const ok = await edge.loadModel({ wasm, weights: fixture('../../models/googlenet.safetensors') });
    expect(ok.labels).toHaveLength(1000);
    // One thread there, and info says why even when threads were not asked for.
    expect(ok.info.threads).toBe(1);
    expect(ok.info.threadsNote).toMatch(/^1 thread: edge runtimes run one thread/);
    expect((await ok.classify(chelsea))[0]).toMatchObject({ index: 285, label: 'class 285' });
    await ok.dispose();
  }, BOUND);
});

describe('load', () => {
  it('64 concurrent classify() calls on a 2-thread model each return what their input gives alone', async () => {
    const two = await loadModel({ model: 'googlenet', threads: 2 });
    try {
      const images = ['chelsea.png', 'coffee.png', 'rocket.jpg'].map(fixture);
      // Different inputs: the three photos and flipped copies of their pixels.
      const inputs = Array.from({ length: 64 }, (_, i) => {
        const img = images[i % 3];
        if (i % 2 === 0) return img;
        return { data: new Uint8Array(224 * 224 * 3).map((_, j) => (j * (i + 7)) & 255), width: 224, height: 224 };
      });
      const alone = new Map<number, Awaited<ReturnType<Model['classify']>>>();
      for (let i = 0; i < 6; i++) alone.set(i, await two.classify(inputs[i], { top: 3 }));
      for (let i = 6; i < 64; i++) if (i % 2 === 1) alone.set(i, await two.classify(inputs[i], { top: 3 }));
      const all = await Promise.all(inputs.map((x) => two.classify(x, { top: 3 })));
      all.forEach((r, i) => expect(r).toEqual(alone.get(i) ?? alone.get(i % 6)));
    } finally {
      await two.dispose();
    }
  }, 120_000);
});
