/**
 * The thin platform layer of the pool: how to start a worker and talk to it. Everything else (protocol,
 * schedule, runner, pool) uses only these interfaces, standard JS and Atomics, so a Web Worker host can
 * reuse it. Node's implementation is ./node.ts.
 */
import type { FromWorker, ToWorker } from './protocol.js';

export interface WorkerEvents {
  message(m: FromWorker): void;
  /** An uncaught exception in the worker, or a failure to load it. */
  error(e: unknown): void;
  /** The worker is gone (terminated, crashed, or exited). */
  exit(code: number): void;
}

export interface WorkerHandle {
  postMessage(m: ToWorker): void;
  /** Stop the worker; resolves once it can no longer run (its exit event has fired, where there is one). */
  terminate(): Promise<void>;
  /** Keep the process alive while the worker exists (Node); no-op where meaningless. */
  ref(): void;
  /** Let the process exit even though the worker exists (Node); no-op where meaningless. */
  unref(): void;
}

export interface ThreadHost {
  /** Logical CPUs available to this process. */
  readonly cores: number;
  /**
   * The calling thread may block in Atomics.wait and so take part in runs: Node, a dedicated Web Worker;
   * not a page's main thread (browsers forbid it there, and the pool then never even tries).
   */
  readonly callerMayBlock: boolean;
  /** CPU time this process has used so far (ms, all its threads), where the host can tell (Node). */
  cpuMs?(): number;
  /**
   * Start the worker script at `url` (an ES module), or, without one, the host's own: each host names its
   * script itself, so that a bundle of the browser path never references Node's worker script (a
   * `new URL('./worker.js', import.meta.url)` in the pool made webpack emit dist/worker.js as an asset no
   * page loads).
   */
  spawn(url: URL | undefined, events: WorkerEvents): WorkerHandle;
}

/** The worker's side: its channel to the pool. */
export interface Port {
  postMessage(m: FromWorker): void;
  onMessage(cb: (m: ToWorker) => void): void;
}
