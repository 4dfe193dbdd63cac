/**
 * The thread host of browsers: module Web Workers. (Untested here: no browser on the build machine.)
 *
 * Web Workers have no exit event and survive an uncaught exception, so: terminate() reports the exit
 * itself, and the pool terminates a worker that reported an error. Bundlers that rewrite worker URLs need
 * the pool's `workerUrl` (./worker.js next to pool.js) to be emitted as an asset.
 */
import type { ThreadHost, WorkerEvents, WorkerHandle } from './host.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface WebWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(t: 'message' | 'error' | 'messageerror', cb: (e: { data?: unknown; message?: string; error?: unknown }) => void): void;
}
type WorkerCtor = new (url: URL, opts: { type: 'module'; name?: string }) => WebWorker;

const g = globalThis as unknown as { Worker?: WorkerCtor; navigator?: { hardwareConcurrency?: number } };

export const browserHost: ThreadHost = {
  cores: Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  spawn(url: URL, events: WorkerEvents): WorkerHandle {
    if (!g.Worker) throw new Error('this runtime has no Web Workers');
    const w = new g.Worker(url, { type: 'module', name: 'googlenet-wasm' });
    let exited = false;
    w.addEventListener('message', (e) => events.message(e.data as FromWorker));
    w.addEventListener('error', (e) => events.error(e.error ?? new Error(e.message ?? 'worker error')));
    w.addEventListener('messageerror', () => events.error(new Error('a message to the worker could not be decoded')));
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
