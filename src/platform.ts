/**
 * The platform of the Node and browser entry points: threads through the worker pool (./pool.ts) with
 * worker_threads on Node and module Web Workers in browsers, over a shared WebAssembly.Memory.
 *
 * Browsers hand out SharedArrayBuffer only to cross-origin isolated pages (COOP: same-origin and COEP:
 * require-corp); elsewhere the model runs one thread and `info.threadsNote` says why. Nothing here imports
 * Node modules: the pool and the hosts are loaded lazily, when threads > 1 actually start.
 */
import { createModel, type LoadOptions, type Model, type Platform } from './model.js';

interface Globals {
  process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: unknown;
  SharedArrayBuffer?: unknown;
}
const g = globalThis as unknown as Globals;
const onNode = () => typeof g.process?.versions?.node === 'string';

export const hostPlatform: Platform = {
  /**
   * Node: os.availableParallelism() (through process.getBuiltinModule, or on Node 20 before 20.16, which
   * lacks it, a lazy import: nothing imports node:os on the browser path). Browsers: every core (a page
   * that is not cross-origin isolated then gets 1, with the reason).
   */
  async defaultThreads() {
    const clamp = (n: number) => Math.max(1, Math.min(64, Math.floor(n)));
    if (onNode()) {
      type Os = { availableParallelism?: () => number; cpus?: () => unknown[] };
      const os = (g.process?.getBuiltinModule?.('node:os') ?? await import(/* webpackIgnore: true */ 'node:os')) as Os;
      return clamp(os.availableParallelism?.() ?? os.cpus?.().length ?? 1);
    }
    return clamp(g.navigator?.hardwareConcurrency ?? 1);
  },

  singleThreadReason() {
    if (onNode()) return undefined;
    if (g.crossOriginIsolated !== true || typeof g.SharedArrayBuffer !== 'function') {
      return 'the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and ' +
        'Cross-Origin-Embedder-Policy: require-corp), so threads cannot share memory';
    }
    if (typeof g.Worker !== 'function') return 'this runtime has no Web Workers';
    return undefined;
  },

  /** The pool picks its host: worker_threads on Node, module Web Workers elsewhere (./threads/browser.ts). */
  async startPool(o) {
    const { WorkerPool } = await import('./pool.js');
    return WorkerPool.create(o);
  },
};

/**
 * Load a model: weights into one Wasm memory, kernels compiled, threads started.
 * See the README for the options; `threads` defaults to os.availableParallelism() on Node and to the cores of a cross-origin
 * isolated page in browsers.
 */
export function loadModel(options: LoadOptions = {}): Promise<Model> {
  return createModel(options, hostPlatform);
}
