#!/usr/bin/env node
/**
 * The `googlenet` command line.
 *   googlenet run --model M --input IN.safetensors[:TENSOR] --output OUT.safetensors [...]
 *   googlenet info --model M [--size S] [--json]
 */
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { GoogLeNetError, InputError } from './errors.js';
import { loadModel, type LoadOptions, type TensorData } from './model.js';
import { encodeSafetensors, parseSafetensors, type Tensor } from './safetensors.js';
import { accounting, buildNetwork, type ModelName } from './topology.js';
import { makePlan } from './plan.js';

const USAGE = `usage:
  googlenet run --input IN.safetensors[:TENSOR] --output OUT.safetensors [--model googlenet|inception_v1]
                [--weights F.safetensors] [--endpoints A,B|all] [--final-endpoint X] [--num-classes N]
                [--global-pool] [--no-spatial-squeeze] [--threads N]
  googlenet info [--model googlenet|inception_v1] [--size S] [--json]
`;

type Values = Record<string, string | boolean | undefined>;

function intOption(v: Values, name: string): number | undefined {
  const s = v[name];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || !Number.isInteger(n)) throw new InputError(`--${name} must be a whole number, got ${JSON.stringify(s)}`);
  return n;
}

function modelOption(v: Values): ModelName {
  const m = (v.model as string | undefined) ?? 'googlenet';
  if (m !== 'googlenet' && m !== 'inception_v1') throw new InputError(`--model must be googlenet or inception_v1, got ${JSON.stringify(m)}`);
  return m;
}

/** Options shared by the commands that load a model. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  weights: { type: 'string' },
  threads: { type: 'string' },
  'final-endpoint': { type: 'string' },
  'num-classes': { type: 'string' },
  'global-pool': { type: 'boolean' },
  'no-spatial-squeeze': { type: 'boolean' },
} as const;

export function loadOptions(v: Values): LoadOptions {
  return {
    model: modelOption(v),
    weights: v.weights as string | undefined,
    threads: intOption(v, 'threads'),
    finalEndpoint: v['final-endpoint'] as string | undefined,
    numClasses: intOption(v, 'num-classes'),
    globalPool: v['global-pool'] === true ? true : undefined,
    spatialSqueeze: v['no-spatial-squeeze'] === true ? false : undefined,
  };
}

async function cmdRun(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: { ...MODEL_OPTIONS, input: { type: 'string' }, output: { type: 'string' }, endpoints: { type: 'string' } },
  });
  if (!values.input) throw new InputError('--input IN.safetensors[:TENSOR] is required');
  if (!values.output) throw new InputError('--output OUT.safetensors is required');
  // A path may itself contain ':' (rare); the tensor name follows the last ':' when the rest is a file.
  let path = values.input;
  let tensorName: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon > 0 && !path.endsWith('.safetensors')) {
    tensorName = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new InputError(`cannot read --input ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const { tensors } = parseSafetensors(bytes);
  let t: Tensor | undefined;
  if (tensorName !== undefined) {
    t = tensors.get(tensorName);
    if (!t) throw new InputError(`--input ${path} has no tensor ${JSON.stringify(tensorName)}; it has: ${[...tensors.keys()].join(', ')}`);
  } else if (tensors.size === 1) {
    t = [...tensors.values()][0];
  } else {
    t = tensors.get('input');
    if (!t) throw new InputError(`--input ${path} holds ${tensors.size} tensors and none is named "input": name one as ${path}:TENSOR`);
  }
  const shape = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
  const m = await loadModel(loadOptions(values));
  try {
    const endpoints = values.endpoints === undefined ? undefined : values.endpoints === 'all' ? 'all' : values.endpoints.split(',').map((s) => s.trim()).filter(Boolean);
    const out: Record<string, TensorData> = await m.run({ data: t.data, shape }, { endpoints });
    await writeFile(values.output, encodeSafetensors(out, { model: m.info.model, input: path }));
    process.stderr.write(`wrote ${Object.keys(out).join(', ')} to ${values.output}\n`);
  } finally {
    await m.dispose();
  }
  return 0;
}

async function cmdInfo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: { model: { type: 'string' }, size: { type: 'string' }, json: { type: 'boolean' }, 'global-pool': { type: 'boolean' }, 'num-classes': { type: 'string' } },
  });
  const model = modelOption(values);
  const size = intOption(values, 'size') ?? 224;
  if (size < 1 || size > 4096) throw new InputError(`--size must be from 1 to 4096, got ${size}`);
  const opts = { globalPool: values['global-pool'] === true, numClasses: intOption(values, 'num-classes') };
  const net = buildNetwork(model, size, size, opts);
  const { parameters, macs } = accounting(net);
  const plan = makePlan(net, 1, { arenaBase: 0, scratchBase: 0, packed: new Map() });
  const endpoints = [...net.endpoints].map(([name, tn]) => {
    const t = net.tensors.get(tn)!;
    return { name, shape: net.squeezed.has(name) ? [1, t.c] : [1, t.h, t.w, t.c] };
  });
  const info = { model, inputShape: [1, size, size, 3], parameters, macs, peakActivationBytes: plan.arenaBytes, endpoints };
  if (values.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
  } else {
    const lines = [
      `model       ${model}`,
      `input       1x${size}x${size}x3`,
      `parameters  ${parameters.toLocaleString('en-US')}`,
      `MACs/image  ${macs.toLocaleString('en-US')} (${(macs / 1e9).toFixed(2)} G)`,
      `activations ${(plan.arenaBytes / 2 ** 20).toFixed(2)} MiB peak (one arena, dead buffers reused)`,
      'end points:',
      ...endpoints.map((e) => `  ${e.name.padEnd(22)} ${e.shape.join('x')}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}

export type Command = (args: string[]) => Promise<number>;
export const COMMANDS: Record<string, Command> = { run: cmdRun, info: cmdInfo };

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  const fn = COMMANDS[cmd];
  if (!fn) {
    process.stderr.write(`googlenet: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return 2;
  }
  try {
    return await fn(rest);
  } catch (e) {
    if (e instanceof GoogLeNetError) {
      process.stderr.write(`googlenet ${cmd}: ${e.message}\n`);
      return 1;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`googlenet ${cmd}: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

// Run when executed directly (the `googlenet` bin), not when imported.
const invoked = process.argv[1] ? new URL(`file://${process.argv[1]}`).href : '';
if (import.meta.url === invoked || process.argv[1]?.endsWith('/googlenet') || process.argv[1]?.endsWith('/cli.js')) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
