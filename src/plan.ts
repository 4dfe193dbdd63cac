/**
 * Memory planning and the step program. For one input shape (N, H, W), every layer becomes one kernel
 * call ("step") with its arguments resolved to absolute addresses in the Wasm memory. Activations live
 * in one arena; a tensor occupies its slot from its first writer to its last reader, and dead slots are
 * reused (first fit). Each step names the argument pair that bounds its work range, so a thread pool can
 * split it without knowing what the kernel does.
 */
import type { ConvLayer, Layer, Network, TensorInfo } from './topology.js';
import type { Kernels } from './wasm.js';
import { align64, NR, packedLength, winogradFor, winogradMatrixBytes, type Winograd, type WinogradTile } from './weights.js';

export interface Step {
  fn: keyof Kernels;
  args: number[];
  /** Indices in args of the work range [lo, hi) and its full extent. */
  lo: number;
  hi: number;
  total: number;
  /** Granularity of the range (the GEMM micro-kernel's rows): splits fall on multiples of it. */
  align: number;
  /** Index in args of the per-thread scratch pointer, if the kernel uses one. */
  scratch: number;
  /**
   * Fewest rows (of the first dimension) a chunk should have before the second dimension is split
   * instead (Winograd steps: WINOGRAD_MIN_TILES).
   */
  minRows?: number;
  /** Second split dimension (output channel panels of a convolution): indices of [j0, j1) and its count. */
  lo2?: number;
  hi2?: number;
  total2?: number;
  /** Layer index in the network (the first, for a fused step). */
  layer: number;
  /** Every layer a fused step computes (conv1x1multi: up to three 1x1 convolutions of one input). */
  fused?: number[];
}

export interface Capture {
  endpoint: string;
  tensor: string;
  /** Capture once this step has run. */
  afterStep: number;
}

export interface Plan {
  n: number;
  net: Network;
  steps: Step[];
  /** Absolute byte offset of each tensor. */
  offsets: Map<string, number>;
  captures: Capture[];
  /** Bytes of the arena (activations only). */
  arenaBytes: number;
  /** Bytes of im2col / Winograd / GEMM packing / LRN scratch each thread needs. */
  scratchBytes: number;
}

export function tensorBytes(t: TensorInfo, n: number): number {
  return n * t.h * t.w * t.c * 4;
}

/**
 * Floats of Winograd V + M blocks per thread: 1.25 MiB, so that the block stays in a 2 MiB L2 beside a
 * weight matrix, and the 14x14 layers of Mixed_4e / 4f (16 tiles, 36 x 16 x 432-480 floats) take all
 * their tiles in one block. Every further block streams all 36 weight matrices again (5-7 MiB there): with
 * 1 MiB their 16 tiles ran as 15 + 1, and one block of 16 took 0.93 of that time on one thread; whole
 * network, interleaved: 0.963-0.988 (1 thread), 0.973-1.004 (2 threads, which split those 16 tiles 8 + 8).
 */
export const WINOGRAD_FLOATS = 320 * 1024;

/**
 * Fewest tiles a thread's share of a Winograd step may have before the step splits its output panels
 * instead. A part of a tile split streams all of U (alpha^2 x C x Cout floats) for its tiles and writes
 * whole output pixels; a part of a panel split repeats the input transform of every tile, streams only
 * its share of U, and writes a slice of the channels of every pixel, which the next level's row chunks
 * then read from both threads' caches. With 8, a 14x14 layer's 16 tiles split 8 + 8 on two threads and
 * only the 7x7 layers split panels. On this project's first machine (a 2-core Xeon VM, 2 MiB L2) 9 was
 * faster (the 14x14 layers by panels: 0.968-0.982 of the time). On the present one (2-core Zen 5 VM, once
 * the Winograd points stopped sharing L1 sets: pointBytes), 8 took inception_v1 on two threads from
 * 23.62 / 23.39 / 23.51 / 23.58 / 25.69 / 25.60 ms to 23.03 / 22.97 / 22.69 / 23.13 / 25.25 / 25.00
 * (six interleaved pairs in four runs of 60-120 rounds; one more pair in a slow hour: 27.11 -> 27.14
 * and 27.22 -> 26.97), googlenet 23.29 -> 22.97 and 23.09 -> 23.09. Splitting the 7x7 layers' 4 tiles
 * too (2) gave 23.12 / 23.14 in the first run. A two-phase split (all tiles transformed once into a
 * shared buffer, then the GEMMs and output stage by panels) was no faster than panels (25.70-26.18).
 */
export const WINOGRAD_MIN_TILES = 8;

/**
 * Tiles per Winograd block for cin input and cout output channels: a multiple of the GEMM's 3 rows (a
 * block that leaves a 1-row group wastes two thirds of it), as many as the budget holds, since each block
 * streams all alpha^2 transformed weight matrices once. Measured on the 14x14 layers of inception_v1 (16
 * tiles, with the earlier 6-row kernel): blocks of 12 or 16 tiles took 1.5 / 1.9 / 2.5 ms where blocks of
 * 9 / 8 / 7 took 1.9 / 2.5 / 3.2.
 */
export function winogradTiles(cin: number, cout: number, v: Winograd): number {
  const fit = Math.floor(WINOGRAD_FLOATS / (v.alpha ** 2 * (cin + cout)));
  return Math.max(Math.min(fit, 3), 1, Math.floor(fit / 3) * 3);
}

/** The Winograd tile a layout asks for: 4 (F(4x4, 3x3), the default), 2, or 0 (none). */
export function winogradTile(w: boolean | WinogradTile | undefined): 0 | WinogradTile {
  return w === false ? 0 : w === 2 ? 2 : 4;
}

/** Scratch bytes a thread needs for this network. */
export function scratchBytesFor(net: Network): number {
  let bytes = 4096;
  for (const l of net.layers) {
    if (l.kind === 'conv') {
      // The GEMM's 6 packed rows of K (im2col writes them directly).
      bytes = Math.max(bytes, 6 * l.kh * l.kw * l.cin * 4);
      // Either 3x3 tile: two 36-vector transform temporaries, the V and M blocks, the GEMM's packed rows.
      for (const tile of [2, 4] as const) {
        const v = winogradFor(l, tile);
        // (Each of the 36 points of V and M takes one cache line more than its matrix: pointBytes.)
        if (v) bytes = Math.max(bytes, 1152 + (v.alpha ** 2 * winogradTiles(l.cin, l.cout, v) * (l.cin + l.cout) + 6 * l.cin) * 4 + 2 * 36 * 64);
      }
    }
    if (l.kind === 'lrn') bytes = Math.max(bytes, (net.tensors.get(l.input)!.c + l.size + 8) * 4);
  }
  return align64(bytes);
}

export interface Layout {
  /** Where the arena starts. */
  arenaBase: number;
  /** Thread 0's scratch (others follow at scratchBytes strides). */
  scratchBase: number;
  /** Packed weights of each convolution, by scope. */
  packed: Map<string, number>;
  /** Stride-1 3x3 convolutions as Winograd: F(4x4, 3x3) (true or 4, the default), F(2x2, 3x3) (2), or not (false). */
  winograd?: boolean | WinogradTile;
}

/** Most packed weight bytes one fused 1x1 step streams per 6 rows: half of L2, so they stay there. */
export const FUSE_BYTES = 1 << 20;

const pointwise = (l: Layer): l is ConvLayer => l.kind === 'conv' && l.kh === 1 && l.kw === 1 && l.stride === 1 && l.padT === 0 && l.padL === 0;

/**
 * 1x1 convolutions of one input that can run as one GEMM (an inception block's Branch_0 and the reductions
 * of Branch_1 and Branch_2): each group, by its first layer, lists up to three layers, which then all run
 * at the first one's place. A layer joins only if nothing between the first and it reads or writes its
 * output or writes its input, it has the same ReLU, and the group's weights stay within FUSE_BYTES
 * (measured on one thread: 3-8 % less time for the blocks' heads, but 11 % more for Mixed_5c's 832 -> 624
 * channels, whose 2 MB of weights no longer stay in L2).
 */
export function fusedGroups(net: Network): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  const taken = new Set<number>();
  const bytes = (l: ConvLayer) => packedLength(l.cin, l.cout) * 4;
  net.layers.forEach((lead, i) => {
    if (taken.has(i) || !pointwise(lead)) return;
    const group = [i];
    let size = bytes(lead);
    for (let j = i + 1; j < net.layers.length && group.length < 3; j++) {
      const l = net.layers[j];
      if (!taken.has(j) && l.input === lead.input && pointwise(l) && l.relu === lead.relu && size + bytes(l) <= FUSE_BYTES) {
        const between = net.layers.slice(i + 1, j);
        if (!between.some((b) => b.output === l.output || b.input === l.output || b.output === l.input)) {
          group.push(j);
          size += bytes(l);
        }
      }
      if (l.output === lead.input) break; // the input is overwritten from here on
    }
    if (group.length > 1) {
      groups.set(i, group);
      group.forEach((j) => taken.add(j));
    }
  });
  return groups;
}

export function makePlan(net: Network, n: number, layout: Layout): Plan {
  const { arenaBase, scratchBase } = layout;
  // Lifetimes over layer indices: the input is written before layer 0; the output lives to the end.
  const first = new Map<string, number>([[net.input.name, -1]]);
  const last = new Map<string, number>([[net.input.name, -1]]);
  const groups = fusedGroups(net);
  // Where each layer runs: a fused member at its group's first layer.
  const at = net.layers.map((_, i) => i);
  for (const [lead, g] of groups) for (const j of g) at[j] = lead;
  net.layers.forEach((l, i) => {
    if (!first.has(l.output) || first.get(l.output)! > at[i]) first.set(l.output, at[i]);
    last.set(l.output, Math.max(last.get(l.output) ?? i, i));
    last.set(l.input, Math.max(last.get(l.input) ?? i, i));
  });
  const outTensor = net.endpoints.get(net.output)!;
  last.set(outTensor, Infinity);
  // Inside an inception block (from the first to the last writer of its concatenated output) no slot is
  // reused: a tensor whose last reader is in the block lives to the block's end, so the thread pool can
  // run the four branches side by side (its scheduler orders steps by the bytes they touch).
  const writers = new Map<string, number[]>();
  net.layers.forEach((l, i) => writers.set(l.output, [...(writers.get(l.output) ?? []), i]));
  const blocks = [...writers.values()].filter((w) => w.length > 1).map((w) => [w[0], w[w.length - 1]]);
  for (const [name, end] of last) {
    const block = blocks.find(([a, b]) => end >= a && end <= b);
    if (block) last.set(name, block[1]);
  }

  // First fit in order of first write; a slot is free once its tensor's last reader has run.
  const live: Array<{ name: string; off: number; size: number }> = [];
  const rel = new Map<string, number>();
  let peak = 0;
  const byFirst = [...first.entries()].sort((a, b) => a[1] - b[1]);
  for (const [name, start] of byFirst) {
    for (let i = live.length - 1; i >= 0; i--) if (last.get(live[i].name)! < start) live.splice(i, 1);
    const size = align64(tensorBytes(net.tensors.get(name)!, n));
    live.sort((a, b) => a.off - b.off);
    let off = 0;
    for (const s of live) {
      if (off + size <= s.off) break;
      off = Math.max(off, s.off + s.size);
    }
    live.push({ name, off, size });
    rel.set(name, off);
    peak = Math.max(peak, off + size);
  }
  const offsets = new Map([...rel].map(([k, v]) => [k, arenaBase + v]));

  const steps: Step[] = [];
  /** The step that computes each layer. */
  const stepOf: number[] = [];
  net.layers.forEach((l, li) => {
    if (at[li] !== li) {
      stepOf.push(stepOf[at[li]]);
      return;
    }
    stepOf.push(steps.length);
    const x = net.tensors.get(l.input)!;
    const y = net.tensors.get(l.output)!;
    const inp = offsets.get(l.input)!;
    const out = offsets.get(l.output)!;
    const group = groups.get(li);
    if (group) {
      // conv1x1multi(inp, C, relu, scratch, m0, m1, j0, j1, then per convolution: packed, Cout, out + outOff, outStride)
      const convs = group.map((j) => net.layers[j] as ConvLayer);
      const panels = convs.reduce((a, c) => a + Math.ceil(c.cout / NR), 0);
      const args = [inp, x.c, convs[0].relu ? 1 : 0, scratchBase, 0, n * y.h * y.w, 0, panels];
      for (let s = 0; s < 3; s++) {
        const c = convs[s];
        args.push(c ? layout.packed.get(c.scope)! : 0, c ? c.cout : 0, c ? offsets.get(c.output)! + c.outOffset * 4 : 0, c ? net.tensors.get(c.output)!.c : 0);
      }
      steps.push({
        fn: 'conv1x1multi', args, lo: 4, hi: 5, total: n * y.h * y.w, align: 3, scratch: 3, lo2: 6, hi2: 7, total2: panels,
        layer: li, fused: group,
      });
      return;
    }
    switch (l.kind) {
      case 'conv': {
        const M = n * y.h * y.w;
        const panels = Math.ceil(l.cout / NR);
        const wptr = layout.packed.get(l.scope)!;
        const v = winogradFor(l, winogradTile(layout.winograd));
        if (v) {
          const tiles = n * Math.ceil(y.h / v.m) * Math.ceil(y.w / v.m);
          const mat = winogradMatrixBytes(l.cin, l.cout);
          // winograd3x3 / winograd4x4 / winograd5x5(inp, H, W, C, out, OH, OW, outStride, outOff, packed,
          //             packedBytes, bias, Cout, padT, padL, relu, scratch, tb, t0, t1, j0, j1)
          const tb = winogradTiles(l.cin, l.cout, v);
          steps.push({
            fn: v.fn,
            args: [inp, x.h, x.w, x.c, out, y.h, y.w, y.c, l.outOffset, wptr, mat, wptr + v.alpha ** 2 * mat, l.cout, l.padT, l.padL,
              l.relu ? 1 : 0, scratchBase, tb, 0, tiles, 0, panels],
            lo: 18, hi: 19, total: tiles, align: 1, scratch: 16, lo2: 20, hi2: 21, total2: panels, minRows: WINOGRAD_MIN_TILES,
            layer: li,
          });
          break;
        }
        // conv2d(inp, H, W, C, out, OH, OW, outStride, outOff, packed, Cout, KH, KW, SH, SW, padT, padL, relu,
        //        scratch, m0, m1, j0, j1)
        steps.push({
          fn: 'conv2d',
          args: [inp, x.h, x.w, x.c, out, y.h, y.w, y.c, l.outOffset, wptr, l.cout, l.kh, l.kw, l.stride, l.stride,
            l.padT, l.padL, l.relu ? 1 : 0, scratchBase, 0, M, 0, panels],
          lo: 19, hi: 20, total: M, align: 3, scratch: 18, lo2: 21, hi2: 22, total2: panels, layer: li,
        });
        break;
      }
      case 'maxpool':
      case 'avgpool':
        // pool(inp, H, W, C, out, OH, OW, outStride, outOff, KH, KW, SH, SW, padT, padL, r0, r1)
        steps.push({
          fn: l.kind,
          args: [inp, x.h, x.w, x.c, out, y.h, y.w, y.c, l.outOffset, l.kh, l.kw, l.stride, l.stride, l.padT, l.padL, 0, n * y.h],
          lo: 15, hi: 16, total: n * y.h, align: 1, scratch: -1, layer: li,
        });
        break;
      case 'lrn':
        // lrn(inp, out, C, size, alpha, beta, k, p0, p1, scratch)
        steps.push({
          fn: 'lrn',
          args: [inp, out, x.c, l.size, l.alpha, l.beta, l.k, 0, n * x.h * x.w, scratchBase],
          lo: 7, hi: 8, total: n * x.h * x.w, align: 1, scratch: 9, layer: li,
        });
        break;
      case 'softmax':
        // softmax(inp, out, L, r0, r1)
        steps.push({
          fn: 'softmax', args: [inp, out, x.c, 0, n * x.h * x.w],
          lo: 3, hi: 4, total: n * x.h * x.w, align: 1, scratch: -1, layer: li,
        });
        break;
    }
  });

  // An end point is complete after the last layer that writes its tensor.
  const lastWriter = new Map<string, number>();
  net.layers.forEach((l, i) => lastWriter.set(l.output, i));
  const captures: Capture[] = [...net.endpoints].map(([endpoint, tensor]) => ({ endpoint, tensor, afterStep: stepOf[lastWriter.get(tensor)!] }));
  return { n, net, steps, offsets, captures, arenaBytes: align64(peak), scratchBytes: scratchBytesFor(net) };
}

/**
 * Run `steps` one after the other on `kernels`, each over its whole range (one thread: a plan's steps in
 * their order, or a pool's program), calling after(i) once step i is done; a kernel's exception goes
 * through `failed` when given.
 */
export function runSteps(kernels: Kernels, steps: readonly Pick<Step, 'fn' | 'args'>[], after: (step: number) => void, failed?: (e: unknown) => Error): void {
  const k = kernels as unknown as Record<string, (...a: number[]) => void>;
  steps.forEach((s, i) => {
    try {
      k[s.fn](...s.args);
    } catch (e) {
      throw failed ? failed(e) : e;
    }
    after(i);
  });
}
