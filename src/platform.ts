/**
 * The platform of the Node and browser entry points: threads through the worker pool (./pool.ts) with
 * worker_threads on Node and module Web Workers in browsers, over a shared WebAssembly.Memory.
 *
 * Browsers hand out SharedArrayBuffer only to cross-origin isolated contexts (a page served with COOP:
 * same-origin and COEP: require-corp, and a dedicated worker of such a page whose script has COEP too);
 * elsewhere the model runs one thread and `info.threadsNote` says why, for the context it runs in. Nothing here imports
 * Node modules: the pool and the hosts are loaded lazily, when threads > 1 actually start.
 */
import { browserContext, isNode } from './context.js';
import { createModel, type LoadOptions, type Model, type Platform } from './model.js';

interface Globals {
  process?: { getBuiltinModule?: (id: string) => unknown };
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: unknown;
  SharedArrayBuffer?: unknown;
}
const g = globalThis as unknown as Globals;

const COOP = 'Cross-Origin-Opener-Policy: same-origin';
const COEP = 'Cross-Origin-Embedder-Policy: require-corp';

/**
 * What keeps memory from being shared where the model runs, and what the developer must do about it. A
 * dedicated worker is isolated when the page that starts it is (COOP and COEP) and its own script is
 * served with COEP as well: Chromium refuses to start, from an isolated page, a worker script without
 * it. A shared worker has no page of its own; its script's COEP is what the HTML standard asks for, but
 * Chromium (156) leaves shared workers unisolated whatever their headers.
 */
function notIsolated(): string {
  const where = browserContext();
  if (where === 'dedicated worker') {
    return `this Web Worker is not cross-origin isolated (serve the page that starts it with the headers ${COOP} and ${COEP}, ` +
      `and the worker's script with ${COEP} too)`;
  }
  if (where === 'shared worker') {
    return `this shared worker is not cross-origin isolated (serve its script with the header ${COEP}, which not every browser ` +
      'honours for shared workers; or load the model in a dedicated Web Worker or in the page)';
  }
  if (where === 'page') return `the page is not cross-origin isolated (serve it with the headers ${COOP} and ${COEP})`;
  return 'this context is not cross-origin isolated (crossOriginIsolated is not true)';
}

export const hostPlatform: Platform = {
  /**
   * Node: os.availableParallelism() (through process.getBuiltinModule, or on Node 20 before 20.16, which
   * lacks it, a lazy import: nothing imports node:os on the browser path). Browsers: every core (a page
   * or worker that is not cross-origin isolated then gets 1, with the reason).
   */
  async defaultThreads() {
    const clamp = (n: number) => Math.max(1, Math.min(64, Math.floor(n)));
    if (isNode()) {
      type Os = { availableParallelism?: () => number; cpus?: () => unknown[] };
      const os = (g.process?.getBuiltinModule?.('node:os') ?? await import(/* webpackIgnore: true */ 'node:os')) as Os;
      return clamp(os.availableParallelism?.() ?? os.cpus?.().length ?? 1);
    }
    return clamp(g.navigator?.hardwareConcurrency ?? 1);
  },

  singleThreadReason() {
    if (isNode()) return undefined;
    if (g.crossOriginIsolated !== true || typeof g.SharedArrayBuffer !== 'function') {
      return `${notIsolated()}, so threads cannot share memory`;
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
