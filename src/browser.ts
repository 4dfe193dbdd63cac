/**
 * The browser entry (package.json `exports` condition "browser"): the same API as the Node entry.
 * - The kernels (build/*.wasm), weights and labels are found next to this module through
 *   `new URL('…', import.meta.url)`, so it works unbundled and under bundlers that follow that pattern
 *   (Vite, webpack 5, Parcel); or pass `wasm` (bytes, URL or WebAssembly.Module) and `weights` (bytes or URL).
 * - Threads: module Web Workers over shared memory when the page (or worker) is cross-origin isolated (default
 *   navigator.hardwareConcurrency); otherwise one thread, and `model.info.threadsNote` says why. The page's
 *   thread never blocks in Atomics.wait: it waits with Atomics.waitAsync.
 * - No eval or new Function anywhere: runs under a CSP of `script-src 'self' 'wasm-unsafe-eval'`.
 */
export * from './index.js';
