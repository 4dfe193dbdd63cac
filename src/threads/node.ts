/**
 * Node's thread host: worker_threads and os, kept to this file. Workers are ES modules started from a
 * file URL; their 'exit' event is the definitive sign a worker is gone.
 */
import { availableParallelism } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import type { Port, ThreadHost, WorkerEvents, WorkerHandle } from './host.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * Workers run only ./worker.js (plain ES module JS) and inherit nothing from the parent's command line:
 * Node rejects many per-process options in workers (--expose-gc, --input-type, -e, --max-old-space-size…,
 * ERR_WORKER_INVALID_EXEC_ARGV), and V8 flags such as the relaxed-SIMD one are process-wide anyway.
 */
const WORKER_EXEC_ARGV: string[] = [];

/**
 * The pool's worker script, named only here, on the Node path: webpack leaves this module out of bundles
 * (its import carries webpackIgnore), and Vite keeps it in a chunk that browsers never load.
 */
const WORKER = new URL('../worker.js', import.meta.url);

export const nodeHost: ThreadHost = {
  cores: availableParallelism(),
  callerMayBlock: true,
  cpuMs() {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
  spawn(url: URL | undefined, events: WorkerEvents): WorkerHandle {
    const w = new Worker(url ?? WORKER, { name: 'googlenet-wasm', execArgv: WORKER_EXEC_ARGV });
    let exited = false;
    const gone = new Promise<void>((resolve) => {
      w.once('exit', (code) => {
        exited = true;
        resolve();
        events.exit(code);
      });
    });
    w.on('message', (m: FromWorker) => events.message(m));
    w.on('error', (e) => events.error(e));
    w.on('messageerror', (e) => events.error(e));
    return {
      postMessage: (m: ToWorker) => w.postMessage(m),
      async terminate() {
        if (!exited) await w.terminate();
        await gone;
      },
      ref: () => w.ref(),
      unref: () => w.unref(),
    };
  },
};

/** The worker's side of the channel (inside a worker_threads worker). */
export function nodePort(): Port {
  if (!parentPort) throw new Error('not running in a worker thread');
  const port = parentPort;
  return {
    postMessage: (m: FromWorker) => port.postMessage(m),
    onMessage: (cb: (m: ToWorker) => void) => port.on('message', cb),
  };
}
