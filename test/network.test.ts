/**
 * Our engine against an independent oracle (TensorFlow.js CPU backend, test/oracle/tfjs-oracle.ts) on
 * seeded random weights: every end point of both topologies must agree to 1e-4 relative
 * (max |diff| / max |ref|). The oracle itself is checked against the ../shared references by
 * test/oracle/oracle-vs-shared.test.ts (worst end point ~3.5e-6 relative).
 *
 * Cases: each topology at 224×224 batch 1 (the fixed 7×7 head), and at an odd size (199×231) batch 2
 * with globalPool — there Caffe's ceil-mode pooling differs from TF 'SAME' (25 → 12 vs 13), so the two
 * topologies' pooling rules are really told apart — plus two small cases for the head options.
 * googlenet inputs are in the Caffe range (±128) so the LRN layers change the values substantially.
 *
 * tfjs CPU is slow (~7 s per 224×224 image), so each case runs the oracle once (beforeAll) and every
 * end point is then compared in its own test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadModel } from '../dist/index.js';
import { encodeSafetensors } from '../dist/safetensors.js';
import { compare } from './oracle/compare.js';
import { endpointNames, INPUT_SCALE, randomInput, randomWeights, type ModelName, type Tensor } from './oracle/random-weights.js';
import { runOracle, type OracleResult } from './oracle/tfjs-oracle.js';

const TOL = 1e-4;
const SETUP_TIMEOUT = 300_000;
const TEST_TIMEOUT = 120_000;

interface Case {
  model: ModelName;
  shape: [number, number, number, number];
  globalPool?: boolean;
  numClasses?: number;
  spatialSqueeze?: boolean;
  seed: number;
}

const CASES: Case[] = [
  { model: 'inception_v1', shape: [1, 224, 224, 3], seed: 101 },
  { model: 'googlenet', shape: [1, 224, 224, 3], seed: 102 },
  { model: 'inception_v1', shape: [2, 199, 231, 3], globalPool: true, seed: 103 },
  { model: 'googlenet', shape: [2, 199, 231, 3], globalPool: true, seed: 104 },
  // Head options on small inputs (cheap): fewer classes, unsqueezed logits, no classifier at all.
  { model: 'inception_v1', shape: [1, 96, 80, 3], globalPool: true, numClasses: 10, spatialSqueeze: false, seed: 105 },
  { model: 'googlenet', shape: [1, 97, 113, 3], globalPool: true, numClasses: 0, seed: 106 },
];

// Random weights are generated (and encoded) once per model and class count.
const weightCache = new Map<string, { tensors: Map<string, Tensor>; bytes: Uint8Array }>();
function weightsFor(model: ModelName, numClasses?: number) {
  const key = `${model}/${numClasses ?? 'default'}`;
  let w = weightCache.get(key);
  if (!w) {
    const tensors = randomWeights(model, { seed: model === 'inception_v1' ? 1 : 2, numClasses });
    w = { tensors, bytes: encodeSafetensors(tensors) };
    weightCache.set(key, w);
  }
  return w;
}

function label(c: Case) {
  const opts = [
    c.globalPool && 'globalPool',
    c.numClasses !== undefined && `numClasses ${c.numClasses}`,
    c.spatialSqueeze === false && 'no squeeze',
  ].filter(Boolean);
  return `${c.model} ${c.shape.join('x')}${opts.length ? ` (${opts.join(', ')})` : ''}`;
}

describe.each(CASES.map((c) => [label(c), c] as const))('engine vs tfjs oracle: %s', (_label, c) => {
  const names = endpointNames(c.model, { globalPool: c.globalPool, numClasses: c.numClasses });
  let ref: OracleResult;
  let ours: Record<string, { data: Float32Array; shape: number[] }>;

  beforeAll(async () => {
    const { tensors, bytes } = weightsFor(c.model, c.numClasses);
    const input = randomInput(c.shape, c.seed, INPUT_SCALE[c.model]);
    const opts = { globalPool: c.globalPool, numClasses: c.numClasses, spatialSqueeze: c.spatialSqueeze };
    ref = await runOracle(c.model, tensors, input, opts);
    const m = await loadModel({ model: c.model, weights: bytes, threads: 1, ...opts });
    try {
      ours = await m.run({ data: input.data, shape: c.shape }, { endpoints: names });
    } finally {
      await m.dispose();
    }
  }, SETUP_TIMEOUT);

  const errors: Array<[string, number]> = [];
  afterAll(() => {
    if (errors.length) {
      const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
      console.log(`${_label}: ${errors.length} end points, worst ${worst[0]} ${worst[1].toExponential(2)} relative`);
    }
    ref = undefined as never;
    ours = undefined as never;
  });

  it('the oracle and the engine produce exactly the requested end points', () => {
    expect(Object.keys(ref).sort()).toEqual([...names].sort());
    expect(Object.keys(ours).sort()).toEqual([...names].sort());
  });

  it.each(names)('%s', { timeout: TEST_TIMEOUT }, (name) => {
    const r = ref[name];
    const o = ours[name];
    expect(o, `engine end point ${name}`).toBeDefined();
    expect(o.shape).toEqual(r.shape);
    const { rel, maxAbsDiff, maxAbsRef } = compare(o.data, r.data);
    errors.push([name, rel]);
    expect(maxAbsRef, `${name} is all zeros in the oracle: a useless comparison`).toBeGreaterThan(0);
    expect(rel, `${name}: max|diff| ${maxAbsDiff} / max|ref| ${maxAbsRef}`).toBeLessThan(TOL);
  });
});
