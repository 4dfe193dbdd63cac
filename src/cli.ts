#!/usr/bin/env node
/**
 * The `googlenet` command line.
 *   googlenet run --model M --input IN.safetensors[:TENSOR] --output OUT.safetensors [...]
 *   googlenet info --model M [--size S] [--json]
 *   googlenet classify / embed <files and folders...>, googlenet bench (see USAGE)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { access, constants, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { errnoOf, GoogLeNetError, InputError } from './errors.js';
import type { LoadOptions, TensorData } from './model.js';
import { loadModel } from './platform.js';
import { readPathOrUrl } from './assets.js';
import { encodeSafetensors, parseSafetensors, type Tensor } from './safetensors.js';
import { accounting, buildNetwork, DEFAULT_NUM_CLASSES, type ModelName } from './topology.js';
import { makePlan } from './plan.js';
import { parseLabels, toRGB, withBackground, type DecodeLimits, type Prediction } from './classify.js';
import type { RGBImage } from './image.js';
import { benchmark, randomInceptionWeights, type BenchConfig } from './bench.js';

const USAGE = `usage:
  googlenet run --input IN.safetensors[:TENSOR] --output OUT.safetensors [--model googlenet|inception_v1]
                [--weights F.safetensors] [--endpoints A,B|all] [--final-endpoint X] [--num-classes N]
                [--global-pool] [--no-spatial-squeeze] [--threads N]
  googlenet info [--model googlenet|inception_v1] [--size S] [--global-pool] [--num-classes N] [--json]
  googlenet classify <files and folders...> [--top K] [--json] [--model M] [--weights F] [--labels F]
                [--threads N] [--batch B] [--max-pixels P] [--max-decode-bytes N]
  googlenet embed <files and folders...> --output features.safetensors [--model M] [--weights F]
                [--threads N] [--batch B] [--max-pixels P] [--max-decode-bytes N]
  googlenet bench [--model M] [--weights F] [--threads 1,2] [--size S] [--global-pool] [--batch B] [--runs R]
                [--warmup W] [--kernels auto|simd|relaxed] [--json]
  googlenet --version
  googlenet --help, googlenet <command> --help
`;

/** The lines of USAGE for one command (its first line and the indented ones that continue it). */
function usageOf(cmd: string): string {
  const lines = USAGE.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  googlenet ${cmd} `));
  let end = at + 1;
  while (end < lines.length && /^ {4,}/.test(lines[end])) end++;
  return `usage:\n${lines.slice(at, end).join('\n')}\n`;
}

type Values = Record<string, string | boolean | undefined>;

/**
 * The arguments with each negative number that follows an option taking a value joined to it
 * (`--batch -1` → `--batch=-1`): parseArgs refuses it as "ambiguous" (three lines asking for
 * `--batch=-XYZ`); joined, it is the option's value, and the option's own check names the problem
 * ("--batch must be from 1 to 256, got -1"). Anything after `--` is left alone. Also the bench scripts'.
 */
export function joinNegativeValues(args: readonly string[], options: ParseArgsConfig['options'] = {}): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) out.push(`${a}=${args[++i]}`);
    else out.push(a);
  }
  return out;
}

/** parseArgs, with negative numbers as option values (joinNegativeValues). */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  return parseArgs({ ...config, args: joinNegativeValues(config.args ?? [], config.options) } as T);
}

/**
 * A whole-number option written in decimal digits. Number() alone would also take "1e3", "0x2", " 5" and
 * "" (0); a leading '-' is let through so that a negative value gets its option's range message.
 */
function intOption(v: Values, name: string): number | undefined {
  const s = v[name];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || !/^-?\d+$/.test(s) || !Number.isSafeInteger(n)) {
    throw new InputError(`--${name} must be a whole number in decimal digits, got ${JSON.stringify(s)}`);
  }
  return n;
}

/** A whole-number option within [min, max], or its default. */
function boundedOption(v: Values, name: string, def: number, min: number, max: number): number {
  const n = intOption(v, name) ?? def;
  if (n < min || n > max) throw new InputError(`--${name} must be from ${min} to ${max}, got ${n}`);
  return n;
}

function modelOption(v: Values): ModelName {
  const m = (v.model as string | undefined) ?? 'googlenet';
  if (m !== 'googlenet' && m !== 'inception_v1') throw new InputError(`--model must be googlenet or inception_v1, got ${JSON.stringify(m)}`);
  return m;
}

/**
 * Check an --output path before any work, so that a typo fails at once and not after the whole
 * computation: its folder exists and can be written, and the path is not itself a folder.
 */
async function checkOutput(path: string): Promise<void> {
  const folder = dirname(path);
  let target = folder;
  try {
    if (!(await stat(folder)).isDirectory()) throw new InputError(`cannot write --output ${path}: ${folder} is not a folder`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = errnoOf(e);
    throw new InputError(`cannot write --output ${path}: ${code === 'ENOENT' ? `folder ${folder} does not exist` : `${folder}: ${code}`}`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw new InputError(`cannot write --output ${path}: it is a folder, give a file name`);
    target = path; // exists: it is overwritten
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (errnoOf(e) !== 'ENOENT') throw new InputError(`cannot write --output ${path}: ${errnoOf(e)}`);
  }
  try {
    await access(target, constants.W_OK);
  } catch (e) {
    throw new InputError(`cannot write --output ${path}: ${target === path ? '' : `folder ${folder}: `}${errnoOf(e)}`);
  }
}

/** Write an --output file; a failure (disk full, a folder removed meanwhile) is one line naming the path. */
async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new InputError(`cannot write --output ${path}: ${errnoOf(e)}`, { cause: e });
  }
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
  const { values } = parseOptions({
    args, strict: true, allowPositionals: false,
    options: { ...MODEL_OPTIONS, input: { type: 'string' }, output: { type: 'string' }, endpoints: { type: 'string' } },
  });
  if (!values.input) throw new InputError('--input IN.safetensors[:TENSOR] is required');
  if (!values.output) throw new InputError('--output OUT.safetensors is required');
  await checkOutput(values.output);
  // A path may itself contain ':' (rare); the tensor name follows the last ':' when the rest is a file.
  let path = values.input;
  let tensorName: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon > 0 && !path.endsWith('.safetensors')) {
    tensorName = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  const bytes = await readPathOrUrl(path, `--input ${path}`);
  let tensors: Map<string, Tensor>;
  try {
    tensors = parseSafetensors(bytes).tensors;
  } catch (e) {
    // The input, not the weights: an InputError naming the file.
    throw new InputError(`--input ${path}: ${(e as Error).message}`, { cause: e });
  }
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
  const endpoints = values.endpoints === undefined ? undefined : values.endpoints === 'all' ? 'all' : values.endpoints.split(',').map((s) => s.trim()).filter(Boolean);
  // An empty list would run the network for nothing and write a file with no tensors in it.
  if (endpoints?.length === 0) throw new InputError(`--endpoints names no end point, got ${JSON.stringify(values.endpoints)}: give names separated by commas, or all`);
  const m = await loadModel(loadOptions(values));
  try {
    const out: Record<string, TensorData> = await m.run({ data: t.data, shape }, { endpoints });
    await writeOutput(values.output, encodeSafetensors(out, { model: m.info.model, input: path }));
    process.stderr.write(`wrote ${Object.keys(out).join(', ')} to ${values.output}\n`);
  } finally {
    await m.dispose();
  }
  return 0;
}

async function cmdInfo(args: string[]): Promise<number> {
  const { values } = parseOptions({
    args, strict: true, allowPositionals: false,
    options: { model: { type: 'string' }, size: { type: 'string' }, json: { type: 'boolean' }, 'global-pool': { type: 'boolean' }, 'num-classes': { type: 'string' } },
  });
  const model = modelOption(values);
  const size = boundedOption(values, 'size', 224, 1, 4096);
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

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** A path to decode, or one already known to fail (its reason in `error`). */
type Found = { file: string; error?: string };

/** What a stat() that is neither a file nor a folder names. */
function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Expand the arguments: files as given, folders walked (sorted) for .jpg/.jpeg/.png in any letter case.
 * Links are followed, but the walk enters each folder once by its real path and lists each image once,
 * under the first path found: a link back up (`up -> ..`) listed the same image under ever longer paths,
 * and two (`l1 -> .`, `l2 -> .`) made the walk endless. A path named on the command line is always taken.
 * Only regular files are ever read: a device, pipe or socket (`x.png -> /dev/zero` read without end) is
 * skipped in a folder and, named on the command line, fails with its reason, as does a folder that
 * cannot be listed and an image in a folder that cannot be looked at (a dangling link).
 */
async function collectFiles(paths: string[]): Promise<Found[]> {
  const out: Found[] = [];
  const entered = new Set<string>(); // real paths of the folders walked
  const listed = new Set<string>(); // real paths of the files listed
  async function walk(p: string, top: boolean): Promise<void> {
    let st;
    try {
      st = await stat(p);
    } catch {
      // Reported as unreadable when its turn comes: a path named on the command line, or an image name in a
      // folder (a dangling link, a link loop), which was left out without a word and the command exited 0.
      if (top || IMAGE_EXT.test(p)) out.push({ file: p });
      return;
    }
    if (!st.isDirectory() && !st.isFile()) {
      if (top) out.push({ file: p, error: `${kindOf(st)}, not an image file: not read` });
      return;
    }
    if (st.isFile() && !top && !IMAGE_EXT.test(p)) return;
    let real: string;
    try {
      real = await realpath(p);
    } catch {
      real = p; // gone since stat: its turn will report it, or the walk finds nothing
    }
    if (st.isDirectory()) {
      if (entered.has(real)) return;
      entered.add(real);
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch (e) {
        out.push({ file: p, error: `cannot list the folder: ${errnoOf(e)}` });
        return;
      }
      for (const e of entries) await walk(join(p, e), false);
    } else if (top || !listed.has(real)) {
      listed.add(real);
      out.push({ file: p });
    }
  }
  for (const p of paths) await walk(p, true);
  return out;
}

type Decoded = Found & { image?: RGBImage };

/** Decode files one at a time; a failure is kept with its reason, not thrown. */
async function decodeAll(files: Found[], limits: DecodeLimits): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for (const { file, error } of files) {
    if (error !== undefined) {
      out.push({ file, error });
      continue;
    }
    try {
      out.push({ file, image: await toRGB(file, limits) });
    } catch (e) {
      out.push({ file, error: e instanceof GoogLeNetError ? e.message : String((e as Error).message ?? e) });
    }
  }
  return out;
}

class Progress {
  private readonly start = performance.now();
  private done = 0;
  private readonly on: boolean;
  constructor(private readonly total: number) {
    this.on = Boolean(process.stderr.isTTY) && total > 3;
  }
  tick(n: number): void {
    this.done += n;
    if (!this.on) return;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const rate = this.done / ((performance.now() - this.start) / 1000);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}  ${rate.toFixed(1)} images/s`);
  }
  finish(what: string, failed: number, threads: number): void {
    if (this.on) process.stderr.write('\n');
    const secs = (performance.now() - this.start) / 1000;
    const rate = ((this.total - failed) / secs).toFixed(1);
    process.stderr.write(`${what} ${this.total - failed} of ${this.total} images in ${secs.toFixed(2)} s (${rate} images/s, ${threads} thread${threads === 1 ? '' : 's'})${failed ? `, ${failed} failed` : ''}\n`);
  }
}

/**
 * Fewer images than this are classified or embedded on one thread unless --threads says otherwise:
 * starting the workers costs more than they save on so few. Measured here (2 cores, chelsea.png copies,
 * best of 5 whole commands): 1 image 0.30 s on one thread against 0.35 s on two, 2 images 0.37 / 0.40, 3
 * images 0.41 / 0.43, 4 images 0.45 / 0.45, 6 images 0.53 / 0.50.
 */
const FEW_IMAGES = 4;

/** --threads as given, else 1 for fewer than FEW_IMAGES files, else loadModel's default (every core). */
function threadsFor(values: { threads?: string }, files: number): number | undefined {
  return intOption(values, 'threads') ?? (files < FEW_IMAGES ? 1 : undefined);
}

/**
 * Decode batch i+1 while batch i computes, and hand each batch's good images to `compute`.
 * Returns the failures (file and reason), in order.
 */
async function pipeline(files: Found[], batch: number, limits: DecodeLimits, compute: (items: Decoded[]) => Promise<void>, progress: Progress): Promise<Decoded[]> {
  const failed: Decoded[] = [];
  const chunks: Found[][] = [];
  for (let i = 0; i < files.length; i += batch) chunks.push(files.slice(i, i + batch));
  let next = chunks.length ? decodeAll(chunks[0], limits) : undefined;
  for (let c = 0; c < chunks.length; c++) {
    const items = await next!;
    next = c + 1 < chunks.length ? decodeAll(chunks[c + 1], limits) : undefined;
    const good = items.filter((d) => d.image);
    for (const d of items) if (d.error) failed.push(d);
    if (good.length) await compute(items);
    progress.tick(items.length);
  }
  return failed;
}

function batchOption(v: Values): number {
  return boundedOption(v, 'batch', 8, 1, 256);
}

/**
 * --max-pixels and --max-decode-bytes, checked with the other options: left to the decoder, 0 failed every
 * file one by one ("decodeImage: maxPixels must be…", after the model had loaded) and the command said
 * "0 of N classified".
 */
function decodeLimits(v: Values): DecodeLimits {
  const limits: DecodeLimits = {};
  for (const [flag, key] of [['max-pixels', 'maxPixels'], ['max-decode-bytes', 'maxDecodeBytes']] as const) {
    const n = intOption(v, flag);
    if (n !== undefined && n < 1) throw new InputError(`--${flag} must be >= 1, got ${n}`);
    limits[key] = n;
  }
  return limits;
}

async function cmdClassify(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, strict: true, allowPositionals: true,
    options: {
      model: { type: 'string' }, weights: { type: 'string' }, threads: { type: 'string' }, labels: { type: 'string' },
      top: { type: 'string' }, json: { type: 'boolean' }, batch: { type: 'string' }, 'max-pixels': { type: 'string' }, 'max-decode-bytes': { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new InputError('classify needs at least one image file or folder');
  const top = intOption(values, 'top') ?? 5;
  if (top < 1) throw new InputError(`--top must be >= 1, got ${top}`);
  const batch = batchOption(values);
  const limits = decodeLimits(values);
  let labels: string[] | undefined;
  if (values.labels) {
    labels = parseLabels(await readPathOrUrl(values.labels, `--labels ${values.labels}`));
    // One name per class, as loadModel takes them (checked here to name the file).
    const model = modelOption(values);
    const classes = DEFAULT_NUM_CLASSES[model];
    if (withBackground(model, classes, labels).length !== classes) {
      throw new InputError(`--labels ${values.labels} holds ${labels.length} names; ${model} has ${classes} classes, one name per line`);
    }
  }
  const files = await collectFiles(positionals);
  if (files.length === 0) throw new InputError(`no .jpg, .jpeg or .png files found in ${positionals.join(', ')}`);
  const m = await loadModel({ model: modelOption(values), weights: values.weights, threads: threadsFor(values, files.length), labels });
  const results = new Map<string, Prediction[] | { error: string }>();
  const progress = new Progress(files.length);
  try {
    const failed = await pipeline(files, batch, limits, async (items) => {
      const good = items.filter((d) => d.image);
      const preds = await m.classifyBatch(good.map((d) => d.image!), { top });
      good.forEach((d, i) => results.set(d.file, preds[i]));
    }, progress);
    for (const f of failed) results.set(f.file, { error: f.error! });
    progress.finish('classified', failed.length, m.info.threads);
    if (values.json) {
      const arr = files.map(({ file }) => {
        const r = results.get(file)!;
        return Array.isArray(r) ? { file, top: r } : { file, error: r.error };
      });
      process.stdout.write(JSON.stringify(arr, null, 2) + '\n');
    } else {
      for (const { file } of files) {
        const r = results.get(file)!;
        if (!Array.isArray(r)) continue;
        process.stdout.write(`${file}\n`);
        for (const p of r) process.stdout.write(`  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${String(p.index).padStart(4)}  ${p.label}\n`);
      }
    }
    for (const f of failed) process.stderr.write(`googlenet classify: ${f.file}: ${f.error}\n`);
    return failed.length ? 1 : 0;
  } finally {
    await m.dispose();
  }
}

async function cmdEmbed(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, strict: true, allowPositionals: true,
    options: {
      model: { type: 'string' }, weights: { type: 'string' }, threads: { type: 'string' }, output: { type: 'string' },
      batch: { type: 'string' }, 'max-pixels': { type: 'string' }, 'max-decode-bytes': { type: 'string' },
    },
  });
  if (!values.output) throw new InputError('--output features.safetensors is required');
  if (positionals.length === 0) throw new InputError('embed needs at least one image file or folder');
  const batch = batchOption(values);
  const limits = decodeLimits(values);
  await checkOutput(values.output);
  const files = await collectFiles(positionals);
  if (files.length === 0) throw new InputError(`no .jpg, .jpeg or .png files found in ${positionals.join(', ')}`);
  const m = await loadModel({ model: modelOption(values), weights: values.weights, threads: threadsFor(values, files.length) });
  const tensors = new Map<string, Tensor>();
  const progress = new Progress(files.length);
  try {
    const failed = await pipeline(files, batch, limits, async (items) => {
      const good = items.filter((d) => d.image);
      const feats = await m.embedBatch(good.map((d) => d.image!));
      good.forEach((d, i) => tensors.set(d.file, { shape: [feats[i].length], data: feats[i] }));
    }, progress);
    progress.finish('embedded', failed.length, m.info.threads);
    // The failures first: a write that fails ends the command, and they would be lost.
    for (const f of failed) process.stderr.write(`googlenet embed: ${f.file}: ${f.error}\n`);
    if (tensors.size) {
      await writeOutput(values.output, encodeSafetensors(tensors, { model: m.info.model, features: 'pooled features, one vector per file, named by path' }));
      process.stderr.write(`wrote ${tensors.size} feature vectors of ${[...tensors.values()][0].data.length} to ${values.output}\n`);
    }
    return failed.length ? 1 : 0;
  } finally {
    await m.dispose();
  }
}

/**
 * Time inference on this machine: ms per image (median, p10-p90) for each thread count, round-robin over
 * them (bench.ts). Without --weights, googlenet uses the bundled weights and inception_v1 seeded random
 * ones (speed does not depend on the values).
 */
async function cmdBench(args: string[]): Promise<number> {
  const { values } = parseOptions({
    args, strict: true, allowPositionals: false,
    options: {
      model: { type: 'string' }, weights: { type: 'string' }, threads: { type: 'string' }, size: { type: 'string' },
      batch: { type: 'string' }, runs: { type: 'string' }, warmup: { type: 'string' }, kernels: { type: 'string' }, json: { type: 'boolean' },
      'global-pool': { type: 'boolean' },
    },
  });
  const model = modelOption(values);
  const size = boundedOption(values, 'size', 224, 1, 4096);
  const batch = boundedOption(values, 'batch', 1, 1, 256);
  const runs = boundedOption(values, 'runs', 20, 1, 100000);
  const warmup = boundedOption(values, 'warmup', 3, 0, 100000);
  const kernels = (values.kernels as string | undefined) ?? 'auto';
  if (kernels !== 'auto' && kernels !== 'simd' && kernels !== 'relaxed') throw new InputError(`--kernels must be auto, simd or relaxed, got ${JSON.stringify(kernels)}`);
  const threadList = values.threads === undefined ? [1, availableParallelism()] : values.threads.split(',').map((s) => {
    const n = Number(s.trim());
    if (!/^\s*\d+\s*$/.test(s) || n < 1 || n > 64) throw new InputError(`--threads takes thread counts from 1 to 64 separated by commas, got ${JSON.stringify(values.threads)}`);
    return n;
  });
  const threadCounts = [...new Set(threadList)];
  const weights = values.weights ?? (model === 'inception_v1' ? randomInceptionWeights(1) : undefined);
  const configs: BenchConfig[] = threadCounts.map((threads) => ({ load: { model, weights, threads, kernels, globalPool: values['global-pool'] === true ? true : undefined }, batch, size }));
  const results = await benchmark(loadModel, configs, runs, warmup);
  const machine = { cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: availableParallelism(), node: process.version };
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...machine, model, size, batch, runs, warmup, weights: values.weights ?? (model === 'inception_v1' ? 'random' : 'bundled'), results }, null, 2) + '\n');
    return 0;
  }
  const f = (x: number) => x.toFixed(1);
  const lines = [
    `${model} ${size}x${size} batch ${batch}: ${runs} timed runs after ${warmup} warm-up — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
    'threads  kernels  ms/image (median)  p10-p90      images/s  loadModel (ms)  first run (ms)',
    ...results.map((r) => `${String(r.threads).padStart(7)}  ${r.kernels.padEnd(7)}  ${f(r.msPerImage.median).padStart(17)}  ${`${f(r.msPerImage.p10)}-${f(r.msPerImage.p90)}`.padEnd(11)}  ${f(r.imagesPerSecond).padStart(8)}  ${r.loadMs.toFixed(0).padStart(14)}  ${r.firstRunMs.toFixed(0).padStart(14)}`),
  ];
  for (const r of results.slice(1)) lines.push(`${r.threads} threads: ${(results[0].msPerImage.median / r.msPerImage.median).toFixed(2)}x the speed of ${results[0].threads} (medians)`);
  for (const r of results.filter((x) => x.soloRuns > 0)) {
    lines.push(`${r.threads} threads: ${r.soloRuns} of ${r.msPerImage.runs} timed runs ran on the calling thread alone, as the pool does while another process holds a core (their times are one thread's)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export type Command = (args: string[]) => Promise<number>;
export const COMMANDS: Record<string, Command> = { run: cmdRun, info: cmdInfo, classify: cmdClassify, embed: cmdEmbed, bench: cmdBench };

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd) {
    process.stderr.write(USAGE); // (no command is a mistake: the usage goes where errors go)
    return 2;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    // package.json ships in every npm package, next to dist/.
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const fn = COMMANDS[cmd];
  if (!fn) {
    process.stderr.write(`googlenet: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return 2;
  }
  const flags = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest; // after --, names of files
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(usageOf(cmd));
    return 0;
  }
  try {
    return await fn(rest);
  } catch (e) {
    if (e instanceof GoogLeNetError) {
      process.stderr.write(`googlenet ${cmd}: ${e.message}\n`);
      return 1;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      // The mistake, then the usage of this command only (all five commands' usage buried the line).
      process.stderr.write(`googlenet ${cmd}: ${(e as Error).message}\n${usageOf(cmd)}`);
      return 2;
    }
    // An error of the system (ENOENT, EACCES, ENOSPC… with the call and path in its message) is about the
    // user's files or machine, not a bug here: one line. Anything else is a bug and keeps its stack.
    if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      process.stderr.write(`googlenet ${cmd}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

// Run when executed directly (the `googlenet` bin), not when imported.
const invoked = process.argv[1] ? new URL(`file://${process.argv[1]}`).href : '';
if (import.meta.url === invoked || process.argv[1]?.endsWith('/googlenet') || process.argv[1]?.endsWith('/cli.js')) {
  // A reader that goes away (`googlenet classify photos/ | head`) ends the output, as it does for Unix tools:
  // the rest of stdout is dropped quietly instead of dying on EPIPE with a stack trace. The exit code stays
  // the command's own (exiting 0 at once on EPIPE made `classify bad.png good.png | head -1` exit 0
  // although a file had failed; every command writes its results last, so nothing long runs on).
  // Any other stdout failure is one clear line.
  let outputGone = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (outputGone) return;
    if (e.code === 'EPIPE') {
      outputGone = true;
      return;
    }
    process.stderr.write(`googlenet: cannot write the output: ${e.message}\n`);
    process.exit(1);
  });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
