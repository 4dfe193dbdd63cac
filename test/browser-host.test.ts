// The browser thread host (dist/threads/browser.js) in Node, over a stand-in Worker: what a pool's
// error says when the worker script cannot load. (test/browser.test.ts runs the real thing in Chromium.)
import { afterAll, describe, expect, it } from 'vitest';

class FakeWorker extends EventTarget {
  static last: FakeWorker | undefined;
  constructor(readonly url: URL | string, readonly options: unknown) {
    super();
    FakeWorker.last = this;
  }
  postMessage(): void {}
  terminate(): void {}
}

const g = globalThis as { Worker?: unknown };
const had = g.Worker;
g.Worker = FakeWorker;
afterAll(() => {
  g.Worker = had;
});

/** What a browser dispatches when a worker's script cannot load (404, CSP): no error, no message. */
const loadFailure = () => Object.assign(new Event('error', { cancelable: true }), { error: undefined, message: '' });

describe('browser thread host', () => {
  it("the default worker script is threads/web-worker.js, and one that cannot load is named as that, not as Node's worker.js", async () => {
    const { browserHost } = await import('../dist/threads/browser.js');
    const errors: Error[] = [];
    const events = { message() {}, error: (e: unknown) => errors.push(e as Error), exit() {} };
    browserHost.spawn(undefined, events);
    expect(String(FakeWorker.last!.url)).toMatch(/\/dist\/threads\/web-worker\.js$/);
    const ev = loadFailure();
    FakeWorker.last!.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    expect(errors[0].message).toMatch(/threads\/web-worker\.js/);
    expect(errors[0].message).not.toMatch(/dist\/worker\.js/);
    expect(errors[0].message).toMatch(/Content-Security-Policy/);

    // A pool given its own script: that URL.
    const own = new URL('https://example.test/my-worker.js');
    browserHost.spawn(own, events);
    FakeWorker.last!.dispatchEvent(loadFailure());
    expect(errors[1].message).toContain('the worker script https://example.test/my-worker.js could not be loaded');
  });
});
