import type { Executor } from './model.js';
import type { Plan } from './plan.js';
import { RuntimeError } from './errors.js';

export class WorkerPool implements Executor {
  readonly threads = 1;
  static async create(_: unknown): Promise<WorkerPool> {
    throw new RuntimeError('threads > 1 are not available yet');
  }
  async execute(_p: Plan, _a: (s: number) => void): Promise<void> {}
  async dispose(): Promise<void> {}
}
