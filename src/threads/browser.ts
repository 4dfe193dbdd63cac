/**
 * The browser's thread host (the Web Worker adapter of ./host.ts): the pool's workers are module Web
 * Workers. Workers receive the shared WebAssembly.Memory and the compiled module by postMessage, which
 * browsers allow only in cross-origin isolated pages (the caller checks that first: ../platform.ts).
 *
 * The default worker is ./web-worker.ts, started with the literal
 * `new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' })` so that bundlers (Vite,
 * webpack 5, Parcel) recognise it and bundle the worker with its imports; unbundled, the browser loads it
 * as is. A pool given its own `workerUrl` gets exactly that script.
 *
 * Web Workers have no exit event: a worker is gone when it reports an error, fails to load, or is
 * terminated (terminate() reports the exit itself).
 */
import type { ThreadHost, WorkerEvents, WorkerHandle } from './host.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The pool's default worker script (../worker.js); it means "this host's own worker". */
const POOL_DEFAULT = new URL('../worker.js', import.meta.url).href;

const NAME = 'googlenet-wasm';

function start(url: URL): Worker {
  if (url.href === POOL_DEFAULT) return new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module', name: NAME });
  return new Worker(url, { type: 'module', name: NAME });
}

export const browserHost: ThreadHost = {
  cores: Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1),

  spawn(url: URL, events: WorkerEvents): WorkerHandle {
    const w = start(url);
    let exited = false;
    const exit = (code: number) => {
      if (exited) return;
      exited = true;
      events.exit(code);
    };
    w.addEventListener('message', (e: MessageEvent<FromWorker>) => events.message(e.data));
    w.addEventListener('messageerror', () => events.error(new Error('a message from the worker could not be deserialised')));
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault(); // reported here, not as an uncaught error of the page
      events.error(new Error(e.message || `the worker script ${url.href} could not be loaded`));
    });
    return {
      postMessage: (m: ToWorker) => w.postMessage(m),
      async terminate() {
        w.terminate();
        exit(1);
      },
      ref() {},
      unref() {},
    };
  },
};
