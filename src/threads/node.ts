/**
 * Node's thread host: worker_threads and os, kept to this file. Workers are ES modules started from a
 * file URL; their 'exit' event is the definitive sign a worker is gone.
 */
import { availableParallelism } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import type { Port, ThreadHost, WorkerEvents, WorkerHandle } from './host.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * The parent's Node options minus those about the main script's source, which a worker rejects
 * (`node --input-type=module -e …` would otherwise fail to start every worker).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    if (['--input-type', '-e', '--eval', '-p', '--print'].includes(a[i])) {
      i++;
      continue;
    }
    if (a[i].startsWith('--input-type=') || a[i].startsWith('--eval=') || a[i].startsWith('--print=')) continue;
    out.push(a[i]);
  }
  return out;
}

export const nodeHost: ThreadHost = {
  cores: availableParallelism(),
  spawn(url: URL, events: WorkerEvents): WorkerHandle {
    const w = new Worker(url, { name: 'googlenet-wasm', execArgv: workerExecArgv() });
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
