/**
 * Loading the kernel module: the one place that touches @assemblyscript/loader (deprecated upstream, so
 * kept to this file). Picks the relaxed-SIMD build only where `WebAssembly.validate` accepts it, and the
 * shared-memory build when threads share one memory.
 */
import { instantiateSync } from '@assemblyscript/loader';
import { readAsset, readPathOrUrl } from './assets.js';
import { InputError, shown } from './errors.js';
import { isNode } from './context.js';

export type KernelFlavor = 'simd' | 'relaxed';

/** Kernel exports, as raw functions over pointers into the shared memory. */
export interface Kernels {
  conv2d(...args: number[]): void;
  conv1x1multi(...args: number[]): void;
  gemm(...args: number[]): void;
  im2colPacked(...args: number[]): void;
  conv2d_ref(...args: number[]): void;
  maxpool(...args: number[]): void;
  avgpool(...args: number[]): void;
  pool_ref(...args: number[]): void;
  lrn(...args: number[]): void;
  lrn_ref(...args: number[]): void;
  softmax(...args: number[]): void;
  softmax_ref(...args: number[]): void;
  winograd3x3(...args: number[]): void;
  winograd4x4(...args: number[]): void;
  winograd5x5(...args: number[]): void;
  allFinite(p: number, n: number): number;
  allFinite_ref(p: number, n: number): number;
  winogradWeights(...args: number[]): void;
  winogradWeights_ref(...args: number[]): void;
}

/**
 * WebAssembly.Module and WebAssembly.Memory in the package's types, as the consumer's lib declares them (lib
 * "dom" or "webworker", Cloudflare's workers-types), or `never` where nothing declares WebAssembly: Node's own
 * types (@types/node 20) do not, so naming WebAssembly.Module in the .d.ts files failed to compile for a Node
 * project without lib "dom" and with skipLibCheck off ("Cannot find namespace 'WebAssembly'").
 */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer T } } } ? T : never;
/** See WasmModule. */
export type WasmMemory = typeof globalThis extends { WebAssembly: { Memory: { prototype: infer T } } } ? T : never;

export interface KernelModule {
  module: WasmModule;
  flavor: KernelFlavor;
  shared: boolean;
}

export type WasmSource = Uint8Array | ArrayBuffer | WasmModule | URL | string;

const fileFor = (flavor: KernelFlavor, shared: boolean) =>
  `kernels${flavor === 'relaxed' ? '.relaxed' : ''}${shared ? '.shared' : ''}.wasm`;

interface NodeProcess {
  execArgv?: string[];
  env?: Record<string, string | undefined>;
}
const nodeProcess = (): NodeProcess | undefined => (isNode() ? (globalThis as { process?: NodeProcess }).process : undefined);

/** Node's V8 flag setter (node:v8), or undefined elsewhere. */
async function v8Flags(): Promise<((flags: string) => void) | undefined> {
  if (!nodeProcess()) return undefined;
  try {
    const v8 = await import(/* webpackIgnore: true */ 'node:v8');
    return (flags) => v8.setFlagsFromString(flags);
  } catch {
    return undefined;
  }
}

/**
 * Does this engine run relaxed SIMD? Newer V8 (Chrome 114+, Node 22+) validates it by default. Node 20's
 * V8 11.3 implements it behind --experimental-wasm-relaxed-simd: on Node we set that flag and keep it only
 * if the module then validates (process-wide, before any worker starts, so workers inherit it).
 */
async function relaxedSimdAvailable(bytes: Uint8Array): Promise<boolean> {
  const ok = () => WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);
  if (ok()) return true;
  const set = await v8Flags();
  if (!set) return false;
  try {
    set('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return ok();
}

/** The V8 flags that decide how a module compiles; a process started with any of them keeps its own choice. */
export const TIERING_FLAGS = ['wasm-lazy-compilation', 'wasm-dynamic-tiering', 'liftoff', 'wasm-tier-up'];

/** Whether this process leaves V8's compile tiering to us: none of TIERING_FLAGS on its command line or in NODE_OPTIONS. */
export function tieringLeftToUs(proc: NodeProcess): boolean {
  const given = [...(proc.execArgv ?? []), proc.env?.NODE_OPTIONS ?? ''].join(' ').replace(/_/g, '-');
  return !TIERING_FLAGS.some((f) => given.includes(f));
}

/** Compiles running with the eager flags set (they are set back when none is). */
let eagerCompiles = 0;

/**
 * Run `compile` with V8's lazy compilation and dynamic tiering switched off through `set` (V8's flag
 * setter; undefined: as things are), and back on once no such compile is running.
 */
export async function withEagerCompile<T>(set: ((flags: string) => void) | undefined, compile: () => Promise<T>): Promise<T> {
  const eager = (on: boolean) => {
    try {
      set?.(on ? '--no-wasm-lazy-compilation' : '--wasm-lazy-compilation');
      set?.(on ? '--no-wasm-dynamic-tiering' : '--wasm-dynamic-tiering');
    } catch {
      // (A V8 that refuses flags at run time compiles as it would have.)
    }
  };
  if (set && eagerCompiles++ === 0) eager(true);
  try {
    return await compile();
  } finally {
    if (set && --eagerCompiles === 0) eager(false);
  }
}

/**
 * Compile a kernel module. V8 compiles a module lazily (each function on its first call) with its baseline
 * compiler, and optimizes a function only once it has run a while, on background threads: the first
 * inference then ran partly on unoptimized kernels while those threads took cores from it (measured here,
 * googlenet 224: first run 39-47 ms against 30-33 for the next ones on one thread, 63-72 against 17-20 on
 * two). On Node the kernels compile optimized up front instead (11 ms, while the weights are read), with
 * --no-wasm-lazy-compilation and --no-wasm-dynamic-tiering for the compile only: first run 34 ms on one
 * thread, 50-56 on two. Not where the process was started with any of TIERING_FLAGS.
 */
async function compileModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  const proc = nodeProcess();
  const set = proc && tieringLeftToUs(proc) ? await v8Flags() : undefined;
  return withEagerCompile(set, () => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Where a kernel build lies, next to this module. Four static `new URL('…', import.meta.url)` literals, the
 * pattern bundlers recognise (Vite, also with its dev-server dependency optimizer, webpack 5, Parcel): each
 * emits the file and rewrites the URL; unbundled, the browser or Node resolves it as is.
 */
export function assetUrl(file: string): URL {
  switch (file) {
    case 'kernels.wasm':
      return new URL('../build/kernels.wasm', import.meta.url);
    case 'kernels.shared.wasm':
      return new URL('../build/kernels.shared.wasm', import.meta.url);
    case 'kernels.relaxed.wasm':
      return new URL('../build/kernels.relaxed.wasm', import.meta.url);
    case 'kernels.relaxed.shared.wasm':
      return new URL('../build/kernels.relaxed.shared.wasm', import.meta.url);
    default:
      throw new Error(`no kernel build named ${file}`);
  }
}

/** The kernels a model calls (the *_ref scalar references are for tests and benchmarks only). */
const RUNTIME_KERNELS = ['conv2d', 'conv1x1multi', 'maxpool', 'avgpool', 'lrn', 'softmax', 'winograd3x3', 'winograd4x4', 'winograd5x5', 'allFinite', 'winogradWeights'];

/** A module given as the wasm option must be a kernel build: it imports its memory and exports every kernel. */
function checkKernelModule(module: WebAssembly.Module): WebAssembly.Module {
  if (!WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')) {
    throw new InputError('the wasm option is not a googlenet-wasm kernel module: it does not import its memory');
  }
  const have = new Set(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name));
  const missing = RUNTIME_KERNELS.filter((k) => !have.has(k));
  if (missing.length) throw new InputError(`the wasm option is not a googlenet-wasm kernel module: it does not export ${missing.join(', ')}`);
  return module;
}

/**
 * Compile the kernel module. `flavor` 'auto' takes the relaxed-SIMD build when this engine validates it.
 * `source` overrides where the bytes come from (a compiled module is taken as is).
 */
export async function compileKernels(opts: { shared: boolean; flavor?: KernelFlavor | 'auto'; source?: WasmSource }): Promise<KernelModule> {
  const shared = opts.shared;
  if (![undefined, 'auto', 'simd', 'relaxed'].includes(opts.flavor)) {
    throw new InputError(`kernels must be 'auto', 'simd' or 'relaxed', got ${shown(opts.flavor)}`);
  }
  if (opts.source instanceof WebAssembly.Module) {
    return { module: checkKernelModule(opts.source), flavor: opts.flavor === 'relaxed' ? 'relaxed' : 'simd', shared };
  }
  let flavor: KernelFlavor = opts.flavor === 'relaxed' ? 'relaxed' : 'simd';
  let bytes: Uint8Array | undefined;
  if (opts.source !== undefined) {
    const src = opts.source;
    if (src instanceof Uint8Array) bytes = src;
    else if (src instanceof ArrayBuffer) bytes = new Uint8Array(src);
    else if (typeof src === 'string' || src instanceof URL) {
      // As the weights option: a path (on Node) or a URL.
      bytes = await readPathOrUrl(src, `the wasm option ${String(src)}`);
    } else {
      throw new InputError('wasm must be the kernel module as bytes, a path or URL, or a compiled WebAssembly.Module');
    }
    // A relaxed-SIMD build validates on Node 20 only once its flag is set (which is all this does when the
    // bytes do not validate for another reason: the compile error then says what is wrong).
    await relaxedSimdAvailable(bytes);
    let module: WebAssembly.Module;
    try {
      module = await compileModule(bytes);
    } catch (e) {
      throw new InputError(`the wasm option is not a valid WebAssembly module: ${(e as Error).message}`, { cause: e });
    }
    return { module: checkKernelModule(module), flavor, shared };
  } else {
    if (opts.flavor !== 'simd') {
      const relaxed = await readAsset(assetUrl(fileFor('relaxed', shared)));
      if (await relaxedSimdAvailable(relaxed)) {
        flavor = 'relaxed';
        bytes = relaxed;
      } else if (opts.flavor === 'relaxed') {
        throw new InputError("kernels: 'relaxed' asked, but this engine does not run relaxed SIMD: use 'auto' or 'simd'");
      }
    }
    bytes ??= await readAsset(assetUrl(fileFor(flavor, shared)));
  }
  return { module: await compileModule(bytes), flavor, shared };
}

/**
 * Which build a module given as the wasm option is (the kernels option named only what was asked for):
 * the builds say it themselves (relaxedSimd()); a module without that export keeps what was asked.
 */
export function builtFlavor(kernels: Kernels, asked: KernelFlavor): KernelFlavor {
  const f = (kernels as unknown as { relaxedSimd?: () => number }).relaxedSimd;
  return typeof f === 'function' ? (f() ? 'relaxed' : 'simd') : asked;
}

/** Instantiate on a given memory. The module holds no data and no mutable globals, so any number of
 * instances (one per worker) can share the memory. */
export function instantiateKernels(module: WasmModule, memory: WasmMemory): Kernels {
  const env = { memory, exp: Math.exp, pow: Math.pow };
  const { exports } = instantiateSync<Record<string, unknown>>(module, { env } as Parameters<typeof instantiateSync>[1]);
  return exports as unknown as Kernels;
}
