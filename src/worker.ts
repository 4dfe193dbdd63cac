/**
 * Worker entry point of the thread pool (see ./pool.ts). Node runs it under worker_threads (the channel
 * comes from ./threads/node.ts); elsewhere it is a module Web Worker talking through `self`, whose message
 * listener is attached synchronously (no top-level await) so that the pool's first message is not missed.
 */
import { isNode } from './context.js';
import type { Port } from './threads/host.js';
import type { ToWorker } from './threads/protocol.js';
import { startRunner } from './threads/runner.js';

function selfPort(): Port {
  const self = globalThis as unknown as {
    postMessage(m: unknown): void;
    addEventListener(t: 'message', cb: (e: { data: ToWorker }) => void): void;
  };
  return {
    postMessage: (m) => self.postMessage(m),
    onMessage: (cb) => self.addEventListener('message', (e) => cb(e.data)),
  };
}

if (isNode()) {
  // worker_threads' parentPort queues messages until a listener is attached.
  void import('./threads/node.js').then((m) => startRunner(m.nodePort()));
} else {
  startRunner(selfPort());
}
