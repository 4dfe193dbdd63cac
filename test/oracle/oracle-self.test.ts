/**
 * Checks of the oracle's own Caffe building blocks against plain loops transcribed from Caffe
 * (src/caffe/layers/pooling_layer.cpp, lrn_layer.cpp), at the odd sizes where ceil-mode pooling and
 * its clip matter (the ../shared references only cover 224×224, where Caffe's ceil mode happens to
 * coincide with TF 'SAME'). Small and fast; needs nothing outside the repo.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

import { compare } from './compare.js';
import { layerSpecs, mulberry32, randomInput, randomWeights, weightShapes } from './random-weights.js';
import { caffeAvgPool, caffeMaxPool, caffePoolOutSize } from './tfjs-oracle.js';

type Pool = 'max' | 'ave';

/** Caffe PoolingLayer::Forward_cpu on an NHWC array. */
function caffePoolLoop(x: Float32Array, [n, h, w, c]: number[], mode: Pool, k: number, s: number, pad: number) {
  const oh = caffePoolOutSizeLoop(h, k, s, pad);
  const ow = caffePoolOutSizeLoop(w, k, s, pad);
  const out = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let ph = 0; ph < oh; ph++)
      for (let pw = 0; pw < ow; pw++)
        for (let ch = 0; ch < c; ch++) {
          let hs = ph * s - pad;
          let ws = pw * s - pad;
          let he = Math.min(hs + k, h + pad);
          let we = Math.min(ws + k, w + pad);
          const poolSize = (he - hs) * (we - ws);
          hs = Math.max(hs, 0);
          ws = Math.max(ws, 0);
          he = Math.min(he, h);
          we = Math.min(we, w);
          let acc = mode === 'max' ? -Infinity : 0;
          for (let y = hs; y < he; y++)
            for (let xx = ws; xx < we; xx++) {
              const v = x[((b * h + y) * w + xx) * c + ch];
              acc = mode === 'max' ? Math.max(acc, v) : acc + v;
            }
          out[((b * oh + ph) * ow + pw) * c + ch] = mode === 'max' ? acc : acc / poolSize;
        }
  return { data: out, shape: [n, oh, ow, c] };
}

/** PoolingLayer::Reshape's output size, written independently of the oracle's. */
function caffePoolOutSizeLoop(size: number, k: number, s: number, pad: number) {
  let out = Math.ceil((size + 2 * pad - k) / s) + 1;
  if (pad) {
    if ((out - 1) * s >= size + pad) --out;
  }
  return out;
}

/** LRNLayer::CrossChannelForward_cpu on an NHWC array. */
function caffeLrnLoop(x: Float32Array, c: number, size: number, alpha: number, beta: number, k: number) {
  const out = new Float32Array(x.length);
  const prePad = (size - 1) / 2;
  for (let p = 0; p < x.length; p += c)
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let j = ch - prePad; j < ch - prePad + size; j++) if (j >= 0 && j < c) sum += x[p + j] ** 2;
      out[p + ch] = x[p + ch] * (k + (alpha / size) * sum) ** -beta;
    }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('oracle building blocks vs Caffe loops', () => {
  it('pool output sizes follow Caffe (224 → 112 → 56 → 28 → 14 → 7)', () => {
    expect(caffePoolOutSize(112, 3, 2, 0)).toBe(56);
    expect(caffePoolOutSize(56, 3, 2, 0)).toBe(28);
    expect(caffePoolOutSize(28, 3, 2, 0)).toBe(14);
    expect(caffePoolOutSize(14, 3, 2, 0)).toBe(7);
    expect(caffePoolOutSize(7, 7, 1, 0)).toBe(1);
    expect(caffePoolOutSize(25, 3, 2, 0)).toBe(12); // TF 'SAME' would give 13
    expect(caffePoolOutSize(5, 2, 2, 1)).toBe(3); // the clip: ceil gives 4, whose window starts in the padding
    for (let size = 1; size < 40; size++)
      for (const [k, s, p] of [[3, 2, 0], [3, 1, 1], [2, 2, 1], [3, 2, 1], [7, 1, 0]])
        if (size + 2 * p >= k) expect(caffePoolOutSize(size, k, s, p)).toBe(caffePoolOutSizeLoop(size, k, s, p));
  });

  it('max and average pooling match Caffe at odd sizes (ceil mode, clip, padding)', () => {
    const configs: Array<[number, number, number]> = [[3, 2, 0], [3, 1, 1], [2, 2, 1], [3, 2, 1], [7, 1, 0], [3, 3, 0]];
    let checked = 0;
    for (const h of [3, 4, 5, 6, 7, 12, 13, 25])
      for (const w of [5, 8, 14, 29])
        for (const [k, s, p] of configs) {
          if (h + 2 * p < k || w + 2 * p < k) continue;
          const shape = [2, h, w, 3];
          const x = randomInput(shape, h * 1000 + w * 10 + k, 5); // signed values: -Inf padding must matter
          for (const mode of ['max', 'ave'] as Pool[]) {
            const ref = caffePoolLoop(x.data, shape, mode, k, s, p);
            const got = tf.tidy(() => {
              const t = tf.tensor4d(x.data, x.shape);
              const y = mode === 'max' ? caffeMaxPool(t, k, s, p) : caffeAvgPool(t, k, s, p);
              return { shape: y.shape as number[], data: y.dataSync() as Float32Array };
            });
            expect(got.shape, `${mode} ${k}x${k}/${s} pad ${p} on ${h}x${w}`).toEqual(ref.shape);
            expect(compare(got.data, ref.data).rel, `${mode} ${k}x${k}/${s} pad ${p} on ${h}x${w}`).toBeLessThan(1e-6);
            checked++;
          }
        }
    expect(checked).toBeGreaterThan(300);
  });

  it('tf.localResponseNormalization(depthRadius 2, bias 1, alpha 1e-4/5, beta 0.75) is Caffe LRN', () => {
    const c = 13;
    const x = randomInput([1, 4, 3, c], 7, 300); // large values so the normalisation really bites
    const ref = caffeLrnLoop(x.data, c, 5, 1e-4, 0.75, 1);
    const got = tf.tidy(() => tf.localResponseNormalization(tf.tensor4d(x.data, x.shape), 2, 1, 1e-4 / 5, 0.75).dataSync() as Float32Array);
    expect(compare(got, ref).rel).toBeLessThan(1e-6);
    // and it is far from the identity at this scale
    expect(compare(x.data, ref).rel).toBeGreaterThan(0.1);
  });
});

describe('random weights', () => {
  it('cover every tensor with the right shapes and counts', () => {
    const w = randomWeights('inception_v1', { seed: 3 });
    const shapes = weightShapes('inception_v1');
    expect([...w.keys()].sort()).toEqual([...shapes.keys()].sort());
    let total = 0;
    for (const [name, t] of w) {
      expect(t.shape, name).toEqual(shapes.get(name));
      total += t.data.length;
      if (name.endsWith('moving_variance')) expect(Math.min(...t.data)).toBeGreaterThan(0);
    }
    expect(total).toBe(6_633_209); // the ../shared README's count for TF-slim InceptionV1 with 1001 classes
    expect(w.has('InceptionV1/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights')).toBe(true);

    const g = randomWeights('googlenet', { seed: 3 });
    expect(g.get('conv1/7x7_s2/weight')!.shape).toEqual([64, 7, 7, 3]);
    expect(g.get('loss3/classifier/weight')!.shape).toEqual([1000, 1024]);
    expect([...g.values()].reduce((a, t) => a + t.data.length, 0)).toBe(6_998_552); // BVLC manifest's count
    expect(layerSpecs('googlenet').length).toBe(58); // 57 convolutions + 1 fully connected

    const w10 = randomWeights('inception_v1', { seed: 3, numClasses: 10 });
    expect(w10.get('InceptionV1/Logits/Conv2d_0c_1x1/biases')!.shape).toEqual([10]);
    expect(randomWeights('googlenet', { seed: 3, numClasses: 0 }).has('loss3/classifier/weight')).toBe(false);
  });

  it('are deterministic per seed', () => {
    const a = randomWeights('googlenet', { seed: 5 }).get('inception_4c/5x5/weight')!.data;
    const b = randomWeights('googlenet', { seed: 5 }).get('inception_4c/5x5/weight')!.data;
    const c = randomWeights('googlenet', { seed: 6 }).get('inception_4c/5x5/weight')!.data;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const r = mulberry32(1);
    expect(r()).toBeCloseTo(0.6270739405881613, 12);
  });
});
