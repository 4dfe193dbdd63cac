/**
 * Which browser context this code runs in, told from its globals: a page, a dedicated or a shared Web
 * Worker, or another worker (a service worker, a classic script's importScripts), or none of them (Node, an
 * edge runtime; workerd's global scope is a ServiceWorkerGlobalScope but has none of these globals, checked
 * in miniflare 4); and whether it is Node. No imports: the edge entry uses it too.
 */
export type BrowserContext = 'page' | 'dedicated worker' | 'shared worker' | 'other worker';

export function browserContext(): BrowserContext | undefined {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.DedicatedWorkerGlobalScope === 'function') return 'dedicated worker';
  if (typeof g.SharedWorkerGlobalScope === 'function') return 'shared worker';
  if (typeof g.document === 'object') return 'page';
  if (typeof g.importScripts === 'function') return 'other worker';
  return undefined;
}

/** Node (its process.versions.node), where Node APIs can be imported lazily: also a page under Node integration. */
export const isNode = (): boolean =>
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
