/**
 * Reading packaged files (wasm, weights, labels) by URL: `file:` URLs through node:fs (loaded lazily so
 * browsers and edge runtimes never see it), anything else through fetch.
 */
import { InputError } from './errors.js';

/** A Node Buffer as a plain Uint8Array over the same memory (new Uint8Array(buffer) would copy it). */
const bytesOf = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export async function readAsset(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return bytesOf(await readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new InputError(`could not fetch ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A path (Node) or URL string to bytes; outside Node, a relative URL is resolved against the page. */
export async function readPathOrUrl(p: string | URL): Promise<Uint8Array> {
  if (p instanceof URL) return readAsset(p);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return readAsset(new URL(p));
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (!node && page) return readAsset(new URL(p, page));
  const { readFile } = await import('node:fs/promises');
  try {
    return bytesOf(await readFile(p));
  } catch (e) {
    throw new InputError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}
