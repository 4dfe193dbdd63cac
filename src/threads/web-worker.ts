/**
 * Entry point of a browser worker of the pool (started by ./browser.ts): the platform-neutral runner
 * talking through the worker's global scope. No top-level await and no Node branch, so bundlers can emit
 * it in any worker format (Vite's default is a classic IIFE worker).
 */
import type { ToWorker } from './protocol.js';
import { startRunner } from './runner.js';

const scope = globalThis as unknown as {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', cb: (e: { data: ToWorker }) => void): void;
};

startRunner({
  postMessage: (m) => scope.postMessage(m),
  onMessage: (cb) => scope.addEventListener('message', (e) => cb(e.data)),
});
