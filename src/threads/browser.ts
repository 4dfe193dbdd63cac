/**
 * The thread host of browsers (the Web Worker adapter of ./host.ts): the pool's workers are module Web
 * Workers. They receive the shared WebAssembly.Memory and the compiled module by postMessage, which
 * browsers allow only in cross-origin isolated pages (../platform.ts checks that before starting a pool).
 * Tested in headless Chromium: test/browser.test.ts.
 *
 * The default worker script here is ./web-worker.js (Node's ../worker.js is named only in ./node.ts, which
 * bundlers skip, so no bundle emits it), started with the
 * literal `new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' })`: bundlers (Vite,
 * webpack 5, Parcel) recognise that pattern and bundle the worker with its imports (a URL computed in
 * pool.ts would be copied as a lone asset whose imports do not exist). Unbundled, the browser loads it
 * as is. A pool given its own `workerUrl` gets exactly that script.
 *
 * Web Workers have no exit event and survive an uncaught exception, so: terminate() reports the exit
 * itself, and the pool terminates a worker that reported an error.
 */
import { browserContext } from '../context.js';
import type { ThreadHost, WorkerEvents, WorkerHandle } from './host.js';
import type { FromWorker, ToWorker } from './protocol.js';

const g = globalThis as unknown as { navigator?: { hardwareConcurrency?: number } };

const NAME = 'googlenet-wasm';

/**
 * The worker, and what a load failure calls its script. The default (no `url`) is ./web-worker.js, or
 * wherever a bundler put it: a Worker does not tell its URL, and a second
 * `new URL('./web-worker.js', import.meta.url)` would make bundlers emit the file again as a plain asset.
 */
function start(url: URL | undefined): { w: Worker; script: string } {
  if (typeof Worker !== 'function') throw new Error('this runtime has no Web Workers');
  if (url === undefined) {
    const w = new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module', name: NAME });
    return { w, script: "googlenet-wasm's worker script (threads/web-worker.js next to its browser entry, or a bundler's copy of it)" };
  }
  return { w: new Worker(url, { type: 'module', name: NAME }), script: `the worker script ${url.href}` };
}

export const browserHost: ThreadHost = {
  cores: Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  /** A dedicated Web Worker may block in Atomics.wait; a page's main thread may not (and a shared worker gets no pool). */
  callerMayBlock: browserContext() === 'dedicated worker',

  spawn(url: URL | undefined, events: WorkerEvents): WorkerHandle {
    const { w, script } = start(url);
    let exited = false;
    w.addEventListener('message', (e: MessageEvent<FromWorker>) => events.message(e.data));
    w.addEventListener('messageerror', () => events.error(new Error('a message from the worker could not be decoded')));
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault(); // handled by the pool, not an uncaught error of the page
      // A script that cannot be fetched, is not JavaScript, or that the page's Content-Security-Policy
      // (worker-src, else script-src) refuses: an error event with neither error nor message.
      events.error(e.error ?? new Error(e.message || `${script} could not be loaded (not found, not JavaScript, or refused by the page's Content-Security-Policy worker-src / script-src)`));
    });
    return {
      postMessage: (m: ToWorker) => w.postMessage(m),
      async terminate() {
        if (exited) return;
        exited = true;
        w.terminate();
        events.exit(1);
      },
      ref: () => undefined,
      unref: () => undefined,
    };
  },
};
