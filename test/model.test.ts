// The public API of the core engine: the bundled weights on the reference images, accounting, memory
// plan, options, and every bad input as a typed error that names the problem.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { FUSE_BYTES, fusedGroups, makePlan } from '../dist/plan.js';
import { packedLength } from '../dist/weights.js';
import {
  loadModel, parseSafetensors, encodeSafetensors, buildNetwork, accounting, weightSpec, endpointNames,
  InputError, WeightsError, RuntimeError, type Model,
} from '../dist/index.js';

const fixture = (f: string) => new URL(`./fixtures/${f}`, import.meta.url);
const ref = (img: string) => parseSafetensors(readFileSync(fixture(`${img}.ref.safetensors`))).tensors;

/** Seeded small random TF-slim weights for inception_v1 (the tests here look at shapes and errors). */
function inceptionWeights(numClasses = 1001) {
  let s = 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { name, shape } of weightSpec(buildNetwork('inception_v1', 224, 224, { numClasses }))) {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const fan = shape.length === 4 ? shape[0] * shape[1] * shape[2] : 1;
    const data = Float32Array.from({ length: n }, () => (name.endsWith('variance') ? 1 + 0.1 * r() : r() * Math.sqrt(3 / fan)));
    m.set(name, { shape, data });
  }
  return m;
}

describe('bundled BVLC GoogLeNet weights on the reference images', () => {
  let m: Model;
  beforeAll(async () => { m = await loadModel({ model: 'googlenet' }); });
  afterAll(async () => { await m.dispose(); });

  for (const [img, top1] of [['chelsea', 285], ['coffee', 967]] as const) {
    it(`${img}: top-1 ${top1}, probabilities within 1e-3 of the independent reference`, async () => {
      const t = ref(img);
      const input = t.get('input')!;
      const out = await m.run({ data: input.data, shape: [1, ...input.shape] }, { endpoints: ['prob', 'loss3/classifier'] });
      const prob = out.prob.data;
      expect(out.prob.shape).toEqual([1, 1000]);
      const best = prob.indexOf(Math.max(...prob));
      expect(best).toBe(top1);
      const want = t.get('prob')!.data;
      let d = 0;
      for (let i = 0; i < 1000; i++) d = Math.max(d, Math.abs(prob[i] - want[i]));
      expect(d).toBeLessThan(1e-3);
      const logits = out['loss3/classifier'].data, wl = t.get('loss3/classifier')!.data;
      let dl = 0, ml = 0;
      for (let i = 0; i < 1000; i++) { dl = Math.max(dl, Math.abs(logits[i] - wl[i])); ml = Math.max(ml, Math.abs(wl[i])); }
      expect(dl / ml).toBeLessThan(1e-4);
    });
  }

  it('on one thread, a call queued behind another lets the event loop run between them (a page stays responsive)', async () => {
    const one = await loadModel({ model: 'googlenet', threads: 1 });
    try {
      const x = { data: ref('chelsea').get('input')!.data, shape: [1, 224, 224, 3] };
      const order: string[] = [];
      const a = one.run(x).then(() => order.push('run 1'));
      const b = one.run(x).then(() => order.push('run 2'));
      setImmediate(() => order.push('a task'));
      await Promise.all([a, b]);
      expect(order).toEqual(['run 1', 'a task', 'run 2']);
      // a lone call waits for nothing: the task queued after it comes after it
      const order2: string[] = [];
      const c = one.run(x).then(() => order2.push('run'));
      setImmediate(() => order2.push('a task'));
      await c;
      expect(order2).toEqual(['run']);
    } finally {
      await one.dispose();
    }
  });

  it('takes HWC input as batch 1 and batch > 1 gives each image its own answer', async () => {
    const a = ref('chelsea').get('input')!, b = ref('coffee').get('input')!;
    const one = await m.run({ data: a.data, shape: a.shape });
    const both = new Float32Array(a.data.length * 2);
    both.set(a.data); both.set(b.data, a.data.length);
    const two = await m.run({ data: both, shape: [2, 224, 224, 3] });
    expect(two.prob.shape).toEqual([2, 1000]);
    expect(Array.from(two.prob.data.subarray(0, 1000))).toEqual(Array.from(one.prob.data));
    expect(two.prob.data.subarray(1000).indexOf(Math.max(...two.prob.data.subarray(1000)))).toBe(967);
  });

  it('reports parameters, MACs, end points and the peak activation bytes', () => {
    expect(m.info.parameters).toBe(6_998_552);
    expect(m.info.macs).toBe(accounting(buildNetwork('googlenet', 224, 224)).macs);
    expect(m.info.macs).toBeGreaterThan(1.5e9);
    expect(m.info.endpoints.map((e) => e.name)).toEqual(endpointNames('googlenet'));
    expect(m.info.endpoints.at(-1)).toEqual({ name: 'prob', shape: [1, 1000] });
    // Dead buffers are reused: the arena is far smaller than all activations together.
    const net = buildNetwork('googlenet', 224, 224);
    const all = [...net.tensors.values()].reduce((s, t) => s + t.h * t.w * t.c * 4, 0);
    expect(m.info.peakActivationBytes).toBeGreaterThan(112 * 112 * 64 * 4);
    expect(m.info.peakActivationBytes).toBeLessThan(all / 2);
  });

  it('returns every end point with `all`, NHWC with the batch axis', async () => {
    const a = ref('chelsea').get('input')!;
    const out = await m.run({ data: a.data, shape: [1, 224, 224, 3] }, { endpoints: 'all' });
    expect(Object.keys(out)).toEqual(endpointNames('googlenet'));
    expect(out['inception_4e/output'].shape).toEqual([1, 14, 14, 832]);
    expect(out['pool5/7x7_s1'].shape).toEqual([1, 1, 1, 1024]);
  });
});

describe('inception_v1 accounting and options', () => {
  it('has 5,607,184 parameters in the base network and 6,633,209 with 1001-class logits', () => {
    expect(accounting(buildNetwork('inception_v1', 224, 224, { numClasses: 0 })).parameters).toBe(5_607_184);
    expect(accounting(buildNetwork('inception_v1', 224, 224)).parameters).toBe(6_633_209);
    expect(accounting(buildNetwork('googlenet', 224, 224)).parameters).toBe(6_998_552);
  });

  it('numClasses 0 returns the pooled features; spatialSqueeze false keeps [N,1,1,C]', async () => {
    const w = inceptionWeights();
    const x = { data: new Float32Array(2 * 224 * 224 * 3).fill(0.5), shape: [2, 224, 224, 3] };
    const feat = await loadModel({ model: 'inception_v1', weights: w, numClasses: 0 });
    expect(feat.info.output).toBe('AvgPool_0a_7x7');
    expect(feat.info.parameters).toBe(5_607_184);
    const f = await feat.run(x);
    expect(f.AvgPool_0a_7x7.shape).toEqual([2, 1, 1, 1024]);
    const nosq = await loadModel({ model: 'inception_v1', weights: w, spatialSqueeze: false });
    const o = await nosq.run(x, { endpoints: ['Logits', 'AvgPool_0a_7x7'] });
    expect(o.Logits.shape).toEqual([2, 1, 1, 1001]);
    expect(Array.from(o.AvgPool_0a_7x7.data)).toEqual(Array.from(f.AvgPool_0a_7x7.data));
    await feat.dispose(); await nosq.dispose();
  });

  it('finalEndpoint stops the network there; globalPool takes any size; includeRootBlock false starts at Mixed_3b', async () => {
    const w = inceptionWeights();
    const m = await loadModel({ model: 'inception_v1', weights: w, finalEndpoint: 'Mixed_4b' });
    expect(m.info.output).toBe('Mixed_4b');
    const out = await m.run({ data: new Float32Array(3 * 75 * 91 * 3).fill(0.1), shape: [3, 75, 91, 3] });
    expect(out.Mixed_4b.shape).toEqual([3, 5, 6, 512]);
    const g = await loadModel({ model: 'inception_v1', weights: w, globalPool: true });
    const o = await g.run({ data: new Float32Array(61 * 47 * 3).fill(0.2), shape: [1, 61, 47, 3] }, { endpoints: ['global_pool', 'Predictions'] });
    expect(o.global_pool.shape).toEqual([1, 1, 1, 1024]);
    expect(o.Predictions.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const noRoot = await loadModel({ model: 'inception_v1', weights: w, includeRootBlock: false, finalEndpoint: 'Mixed_3c' });
    const r = await noRoot.run({ data: new Float32Array(28 * 28 * 192).fill(0.3), shape: [1, 28, 28, 192] });
    expect(r.Mixed_3c.shape).toEqual([1, 28, 28, 480]);
    // Its default input is what a 224x224 image gives at Mixed_3b, and it plans (and reserves) for that.
    expect(noRoot.info.inputShape).toEqual([28, 28, 192]);
    expect(noRoot.info.endpoints.find((e) => e.name === 'Mixed_3c')!.shape).toEqual([1, 28, 28, 480]);
    const full = await loadModel({ model: 'inception_v1', weights: w, finalEndpoint: 'Mixed_3c', threads: noRoot.info.threads });
    expect(noRoot.info.peakActivationBytes).toBeLessThan(full.info.peakActivationBytes);
    expect(noRoot.memoryBytes).toBeLessThanOrEqual(full.memoryBytes);
    await full.dispose();
    for (const x of [m, g, noRoot]) await x.dispose();
  });
});

describe('bad input is a typed error naming the problem', () => {
  let m: Model;
  beforeAll(async () => { m = await loadModel({ model: 'googlenet' }); });
  afterAll(async () => { await m.dispose(); });
  const img = (shape: number[], fill = 0.5) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape });

  it.each([
    ['wrong rank', img([224, 224]), /shape must be \[N, H, W, C\]/],
    ['wrong channel count', img([1, 224, 224, 4]), /4 channels, googlenet expects 3/],
    ['batch 0', { data: new Float32Array(0), shape: [0, 224, 224, 3] }, /batch size is 0/],
    ['data length', { data: new Float32Array(10), shape: [1, 224, 224, 3] }, /has 10 values/],
    ['not a Float32Array', { data: [1, 2, 3] as unknown as Float32Array, shape: [1, 1, 1, 3] }, /Float32Array/],
    ['NaN', img([1, 224, 224, 3], NaN), /non-finite value/],
    ['too small for the network', img([1, 16, 16, 3]), /too small|needs at least 7x7/],
    ['fractional size', { data: new Float32Array(3), shape: [1, 1.5, 2, 3] }, /whole numbers/],
  ])('%s', async (_, input, msg) => {
    await expect(m.run(input as never)).rejects.toThrow(InputError);
    await expect(m.run(input as never)).rejects.toThrow(msg);
  });

  it('a single infinity or NaN anywhere is found and named with its index', async () => {
    const n = 224 * 224 * 3;
    for (const [i, v] of [[0, Infinity], [12345, -Infinity], [n - 1, NaN], [n - 2, Infinity]] as const) {
      const x = img([1, 224, 224, 3]);
      x.data[i] = v;
      await expect(m.run(x)).rejects.toThrow(new RegExp(`non-finite value \\(${v}\\) at index ${i}$`));
    }
    // Finite values pass the check, far outside the range of pixels too.
    const ok = img([1, 224, 224, 3]);
    ok.data[7] = 1e6;
    ok.data[8] = -1e6;
    ok.data[9] = 1e-45;
    await expect(m.run(ok)).resolves.toBeDefined();
    // Those that overflow float32 inside the network are refused by the end points' check instead.
    ok.data[7] = 3.4e38;
    ok.data[8] = -3.4e38;
    await expect(m.run(ok)).rejects.toThrow(/end point prob came out non-finite \(NaN or ±Infinity\): float32 overflowed inside the network\. The input's largest magnitude is 3\.40e\+38/);
  });

  it('unknown end point names the valid ones', async () => {
    await expect(m.run(img([1, 224, 224, 3]), { endpoints: ['nope'] })).rejects.toThrow(/unknown end point "nope".*inception_3a\/output/);
    await expect(loadModel({ model: 'inception_v1', weights: inceptionWeights(), finalEndpoint: 'Mixed_9z' })).rejects.toThrow(/valid end points: Conv2d_1a_7x7, .*Predictions/);
  });

  it('numClasses 0 has no classifier: its end points are refused as finalEndpoint, naming the pooled features as the last', async () => {
    // Without the check, the network (built without a classifier) never reached the requested end point and
    // quietly returned the pooled features under the other name's request.
    for (const [model, names, last] of [
      ['inception_v1', ['Logits', 'Predictions'], 'AvgPool_0a_7x7'],
      ['googlenet', ['loss3/classifier', 'prob'], 'pool5/7x7_s1'],
    ] as const) {
      for (const finalEndpoint of names) {
        const msg = new RegExp(`unknown end point "${finalEndpoint}" for ${model}; valid end points: .*, ${last}$`);
        expect(() => buildNetwork(model, 224, 224, { numClasses: 0, finalEndpoint })).toThrow(InputError);
        expect(() => buildNetwork(model, 224, 224, { numClasses: 0, finalEndpoint })).toThrow(msg);
      }
    }
    await expect(loadModel({ model: 'inception_v1', weights: inceptionWeights(0), numClasses: 0, finalEndpoint: 'Logits' })).rejects.toThrow(/unknown end point "Logits"/);
  });

  it.each([0, -1, 1000, 2.5, '2'])('threads %s', async (t) => {
    await expect(loadModel({ model: 'googlenet', threads: t as number })).rejects.toThrow(InputError);
  });

  it('unknown model', async () => {
    await expect(loadModel({ model: 'resnet' as never })).rejects.toThrow(/unknown model "resnet"/);
  });

  it('inception_v1 without weights says it has none bundled', async () => {
    await expect(loadModel({ model: 'inception_v1' })).rejects.toThrow(/no bundled weights/);
  });

  it('missing, extra and mis-shaped tensors name the tensor and the shapes', async () => {
    const w = inceptionWeights();
    const missing = new Map(w); missing.delete('InceptionV1/Mixed_4c/Branch_1/Conv2d_0b_3x3/weights');
    await expect(loadModel({ model: 'inception_v1', weights: missing })).rejects.toThrow(WeightsError);
    await expect(loadModel({ model: 'inception_v1', weights: missing })).rejects.toThrow(/missing tensor "InceptionV1\/Mixed_4c\/Branch_1\/Conv2d_0b_3x3\/weights" \(expected shape \[3,3,112,224\]\)/);
    const extra = new Map(w); extra.set('InceptionV1/Bogus/weights', { shape: [1], data: new Float32Array(1) });
    await expect(loadModel({ model: 'inception_v1', weights: extra })).rejects.toThrow(/unexpected tensor "InceptionV1\/Bogus\/weights"/);
    const bad = new Map(w); bad.set('InceptionV1/Conv2d_1a_7x7/weights', { shape: [7, 7, 3, 32], data: new Float32Array(7 * 7 * 3 * 32) });
    await expect(loadModel({ model: 'inception_v1', weights: bad })).rejects.toThrow(/"InceptionV1\/Conv2d_1a_7x7\/weights" has shape \[7,7,3,32\], expected \[7,7,3,64\]/);
    // The same checks through safetensors bytes.
    await expect(loadModel({ model: 'inception_v1', weights: encodeSafetensors(missing) })).rejects.toThrow(WeightsError);
    // googlenet: a wrong-size classifier.
    await expect(loadModel({ model: 'googlenet', numClasses: 10 })).rejects.toThrow(/"loss3\/classifier\/weight" has shape \[1000,1024\], expected \[10,1,1,1024\]/);
  });

  it('an unreadable weights path is an InputError naming it', async () => {
    await expect(loadModel({ model: 'googlenet', weights: '/nonexistent/w.safetensors' })).rejects.toThrow(/cannot read \/nonexistent\/w.safetensors/);
  });

  it('a batch too large for maxMemoryBytes is a clear error and the model still works', async () => {
    const small = await loadModel({ model: 'googlenet', maxMemoryBytes: 96 * 2 ** 20 });
    await expect(small.run(img([64, 224, 224, 3]))).rejects.toThrow(RuntimeError);
    await expect(small.run(img([64, 224, 224, 3]))).rejects.toThrow(/out of memory/);
    const a = ref('chelsea').get('input')!;
    const ok = await small.run({ data: a.data, shape: a.shape });
    expect(ok.prob.data.indexOf(Math.max(...ok.prob.data))).toBe(285);
    await small.dispose();
  });

  it('reserve() refuses, before any input exists, the shapes that run() would refuse, and the model still works', async () => {
    const small = await loadModel({ model: 'googlenet', maxMemoryBytes: 96 * 2 ** 20 });
    // 256 x 4096 x 4096 x 3 floats would be 51 GB of input alone: refused from the plan, without allocating it.
    await expect(small.reserve(256, 4096, 4096)).rejects.toThrow(RuntimeError);
    await expect(small.reserve(64, 224, 224)).rejects.toThrow(/out of memory: this input needs [\d.]+ MiB of Wasm memory, above the limit of 96 MiB/);
    await expect(small.reserve(1, 16, 16)).rejects.toThrow(InputError);
    await expect(small.reserve(1, 16, 16)).rejects.toThrow(/input is too small: pool4\/3x3_s2 would be 0x0/);
    await expect(small.reserve(1, 50, 50)).rejects.toThrow(/needs at least 7x7 at inception_5b/);
    for (const bad of [[0, 224, 224], [1, 1.5, 224], [1, 224, -3], [Number.NaN, 224, 224]]) {
      await expect(small.reserve(bad[0], bad[1], bad[2])).rejects.toThrow(/must be a whole number >= 1/);
    }
    await small.reserve(2, 224, 224);
    const a = ref('chelsea').get('input')!;
    const two = new Float32Array(2 * a.data.length);
    two.set(a.data);
    two.set(a.data, a.data.length);
    const ok = await small.run({ data: two, shape: [2, 224, 224, 3] });
    for (const i of [0, 1]) {
      const p = ok.prob.data.subarray(i * 1000, (i + 1) * 1000);
      expect(p.indexOf(Math.max(...p))).toBe(285);
    }
    await small.dispose();
    await expect(small.reserve(1, 224, 224)).rejects.toThrow(/disposed/);
  });

  it('the wasm option: what cannot be read, compiled or linked is an InputError saying so; a path works as for weights', async () => {
    const plain = readFileSync(new URL('../build/kernels.wasm', import.meta.url));
    // A non-shared build with threads: 2 (the workers need a shared memory): refused before any worker starts.
    await expect(loadModel({ model: 'googlenet', threads: 2, wasm: plain })).rejects.toThrow(InputError);
    await expect(loadModel({ model: 'googlenet', threads: 2, wasm: plain })).rejects.toThrow(/does not link with this model's memory: .*shared-memory build \(build\/kernels.shared.wasm/);
    await expect(loadModel({ model: 'googlenet', threads: 1, wasm: '/nonexistent/k.wasm' })).rejects.toThrow(/cannot read the wasm option \/nonexistent\/k.wasm: ENOENT/);
    await expect(loadModel({ model: 'googlenet', threads: 1, wasm: new URL('file:///nonexistent/k.wasm') })).rejects.toThrow(/cannot read the wasm option file:\/\/\/nonexistent\/k.wasm: ENOENT/);
    await expect(loadModel({ model: 'googlenet', threads: 1, wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9, 9]) })).rejects.toThrow(/the wasm option is not a valid WebAssembly module/);
    await expect(loadModel({ model: 'googlenet', threads: 1, wasm: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) })).rejects.toThrow(/not a googlenet-wasm kernel module/);
    await expect(loadModel({ model: 'googlenet', threads: 1, wasm: 42 as never })).rejects.toThrow(/wasm must be the kernel module as bytes, a path or URL/);
    // A relative path is read from the working directory (the repository's root here), as weights are.
    const m = await loadModel({ model: 'googlenet', threads: 1, wasm: 'build/kernels.wasm' });
    const a = ref('chelsea').get('input')!;
    const out = await m.run({ data: a.data, shape: a.shape });
    expect(out.prob.data.indexOf(Math.max(...out.prob.data))).toBe(285);
    await m.dispose();
  });

  it('calls after dispose() are an error', async () => {
    const d = await loadModel({ model: 'googlenet' });
    await d.dispose();
    await expect(d.run(img([1, 224, 224, 3]))).rejects.toThrow(/disposed/);
  });

  it('a disposed model its caller still holds lets go of its Wasm memory; a second dispose() waits for the first', async () => {
    for (const threads of [1, 2]) {
      const d = await loadModel({ model: 'googlenet', threads });
      const memory = (d as unknown as { held: { memory: WebAssembly.Memory } }).held.memory;
      expect(d.memoryBytes).toBe(memory.buffer.byteLength);
      // A page that keeps the disposed model (an app's state) kept ~75 MiB alive per model: nothing in it
      // reaches the memory any more.
      const first = d.dispose();
      expect(d.dispose()).toBe(first);
      await first;
      expect(d.memoryBytes).toBe(0);
      const reachable = (o: unknown, seen = new Set<unknown>()): boolean => {
        if (o === memory) return true;
        if (o === null || typeof o !== 'object' || seen.has(o) || ArrayBuffer.isView(o)) return false;
        seen.add(o);
        return Object.values(o as object).some((v) => reachable(v, seen));
      };
      expect(reachable(d)).toBe(false);
      await expect(d.classify(new Uint8Array(8))).rejects.toThrow(/model is disposed/);
      await expect(d.reserve(1, 224, 224)).rejects.toThrow(/model is disposed/);
    }
  });
});

describe('convolution algorithms', () => {
  it('Winograd F(4x4), F(2x2) and im2col + GEMM agree on the bundled weights (chelsea)', async () => {
    const t = ref('chelsea');
    const input = t.get('input')!;
    const want = t.get('prob')!.data;
    for (const winograd of [4, 2, false] as const) {
      const m = await loadModel({ model: 'googlenet', winograd, threads: 1 });
      const p = (await m.run({ data: input.data, shape: input.shape })).prob.data;
      let d = 0;
      for (let i = 0; i < 1000; i++) d = Math.max(d, Math.abs(p[i] - want[i]));
      expect(d).toBeLessThan(1e-4);
      await m.dispose();
    }
  });

  it("fuses each inception block's 1x1 branch heads into one GEMM step, within FUSE_BYTES, each layer once", () => {
    for (const model of ['inception_v1', 'googlenet'] as const) {
      const net = buildNetwork(model, 224, 224, {});
      const groups = fusedGroups(net);
      const seen = new Set<number>();
      for (const [lead, g] of groups) {
        expect(g[0]).toBe(lead);
        let bytes = 0;
        for (const i of g) {
          const l = net.layers[i];
          expect(seen.has(i)).toBe(false);
          seen.add(i);
          expect(l.kind === 'conv' && l.kh === 1 && l.kw === 1 && l.stride === 1 && l.input === net.layers[lead].input).toBe(true);
          if (l.kind === 'conv') bytes += packedLength(l.cin, l.cout) * 4;
        }
        expect(bytes).toBeLessThanOrEqual(FUSE_BYTES);
      }
      // Nine inception blocks: one group each (the last two split around their largest head).
      expect(groups.size).toBe(9);
      // The plan computes every layer exactly once.
      const plan = makePlan(net, 1, { arenaBase: 0, scratchBase: 0, packed: new Map(), winograd: 4 });
      const covered = plan.steps.flatMap((s) => s.fused ?? [s.layer]).sort((a, b) => a - b);
      expect(covered).toEqual(net.layers.map((_, i) => i));
      expect(plan.steps.filter((s) => s.fn === 'conv1x1multi').length).toBe(9);
    }
    const v1 = buildNetwork('inception_v1', 224, 224, {});
    const scopes = (g: number[]) => g.map((i) => (v1.layers[i] as { scope: string }).scope.split('/').slice(1).join('/'));
    const all = [...fusedGroups(v1).values()].map(scopes);
    expect(all[0]).toEqual(['Mixed_3b/Branch_0/Conv2d_0a_1x1', 'Mixed_3b/Branch_1/Conv2d_0a_1x1', 'Mixed_3b/Branch_2/Conv2d_0a_1x1']);
    // Mixed_5c's Branch_0 (832 -> 384: 1.3 MB packed) stays a step of its own.
    expect(all.flat()).not.toContain('Mixed_5c/Branch_0/Conv2d_0a_1x1');
  });
});
