/**
 * Reading packaged files (wasm, weights, labels) by URL: `file:` URLs through node:fs (loaded lazily so
 * browsers and edge runtimes never see it), anything else through fetch. Every failure is an InputError
 * that names what could not be read.
 */
import { errnoOf, InputError, nameOf } from './errors.js';
import { isNode } from './context.js';

/** Most bytes one read takes (the Wasm memory holds at most 2^32; Node reads at most 2 GiB at once). */
export const MAX_ASSET_BYTES = 2 ** 31 - 1;

/** A Node Buffer as a plain Uint8Array over the same memory (new Uint8Array(buffer) would copy it). */
const bytesOf = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * A local file, which must be a regular one: a device (/dev/zero), FIFO or socket would be read without
 * end. Checked on the opened file, so what is read is what was checked.
 */
async function readLocal(p: string | URL, name: string): Promise<Uint8Array> {
  let open: typeof import('node:fs/promises').open;
  try {
    ({ open } = await import(/* webpackIgnore: true */ 'node:fs/promises'));
  } catch (e) {
    // Edge runtimes (workerd: "No such module") and browsers have no node:fs: a path or file: URL given
    // there was a plain Error, not the InputError every other unreadable input is.
    throw new InputError(`cannot read ${name}: this runtime has no file system (paths and file: URLs are read on Node only); pass the bytes`, { cause: e });
  }
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(p, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError(`cannot read ${name}: it is a directory`);
    if (!st.isFile()) throw new InputError(`cannot read ${name}: not a regular file`);
    if (st.size > MAX_ASSET_BYTES) throw new InputError(`cannot read ${name}: ${st.size} bytes, above the limit of ${MAX_ASSET_BYTES}`);
    return bytesOf(await fh.readFile());
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${name}: ${errnoOf(e)}`, { cause: e });
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function fetchBytes(url: URL, name: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    // Browsers give one message for every failure ("Failed to fetch") and keep the reason from the page.
    // (Node's fetch always gives a cause.)
    const hidden = !cause && e instanceof TypeError
      ? ' (a network error, or refused by CORS or Cross-Origin-Embedder-Policy: the browser console says which)' : '';
    throw new InputError(`could not fetch ${name}: ${cause?.code ?? cause?.message ?? (e as Error).message}${hidden}`, { cause: e });
  }
  if (!res.ok) throw new InputError(`could not fetch ${name}: HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_ASSET_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw new InputError(`could not fetch ${name}: ${declared} bytes, above the limit of ${MAX_ASSET_BYTES}`);
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  // Counted as it arrives: a body without (or with a false) content-length stops at the limit.
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_ASSET_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw new InputError(`could not fetch ${name}: more than ${MAX_ASSET_BYTES} bytes`);
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`could not fetch ${name}: ${(e as Error).message}`, { cause: e });
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `name`: what the messages call it (default: the URL). */
export async function readAsset(url: URL, name = url.href): Promise<Uint8Array> {
  return url.protocol === 'file:' ? readLocal(url, name) : fetchBytes(url, name);
}

function urlOf(p: string, base: string | undefined, name: string): URL {
  try {
    return new URL(p, base);
  } catch (e) {
    throw new InputError(`cannot read ${name}: not a valid URL`, { cause: e });
  }
}

/** A path (Node) or URL string to bytes; outside Node, a relative URL is resolved against the page. */
export async function readPathOrUrl(p: string | URL, name = nameOf(String(p))): Promise<Uint8Array> {
  if (p instanceof URL) return readAsset(p, name);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^data:[^,]*,/i.test(p)) return readAsset(urlOf(p, undefined, name), name);
  const page = (globalThis as { location?: { href: string } }).location?.href;
  if (!isNode() && page) return readAsset(urlOf(p, page, name), name);
  return readLocal(p, name);
}
