/**
 * Hostile progressive JPEGs (T.81 G.1.2), written byte by byte: a large declared frame and many scans whose
 * entropy-coded data is tiny but covers every block. Greyscale (or `components` 1x1 components), quantizers
 * 1, Huffman tables of one 1-bit code each: DC difference 0, and an AC table whose only symbol is EOBRUN with
 * r = 14 (0xE0), so one code plus 14 one-bits is a run of 32767 blocks (AC first) or 32767 blocks (AC
 * refinement: 2^14 + 16383). `scans`: each 'dc' (DC first, 1 bit a block), 'dcr' (DC refinement, 1 bit a
 * block), 'ac' (AC first, Ss..Se 1..63, EOB runs) or 'acr' (AC refinement, Ah 1 Al 0, EOB runs); AC ones
 * cover component `i % components` for the i-th AC scan.
 */
export function hostileProgressiveJpeg(width, height, scans, components = 1) {
  const out = [0xff, 0xd8];
  const seg = (marker, body) => out.push(0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body);
  seg(0xdb, [0x00, ...new Array(64).fill(1)]);
  const comps = [];
  for (let c = 0; c < components; c++) comps.push(c + 1, 0x11, 0);
  seg(0xc2, [8, height >> 8, height & 255, width >> 8, width & 255, components, ...comps]);
  const oneCode = (tc, symbol) => seg(0xc4, [tc << 4, 1, ...new Array(15).fill(0), symbol]);
  oneCode(0, 0x00);
  oneCode(1, 0xe0);
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const { put, flush } = entropyWriter(out);
  const all = [];
  for (let c = 0; c < components; c++) all.push(c + 1, 0x00);
  let acScan = 0;
  for (const kind of scans) {
    if (kind === 'dc' || kind === 'dcr') {
      seg(0xda, [components, ...all, 0, 0, kind === 'dc' ? 0x01 : 0x10]);
      // 1 bit a block: zeros (a difference of 0 / a refinement bit 0)
      const bytes = Math.ceil((blocks * components) / 8);
      for (let i = 0; i < bytes; i++) out.push(0);
      continue;
    }
    const c = acScan++ % components;
    seg(0xda, [1, c + 1, 0x00, 1, 63, kind === 'ac' ? 0x00 : 0x10]);
    for (let left = blocks; left > 0; left -= 32767) {
      put(0, 1);
      put(0x3fff, 14);
    }
    flush();
  }
  out.push(0xff, 0xd9);
  return new Uint8Array(out);
}

/**
 * Entropy-coded bits appended to `out` (bytes): put(value, n) writes value's low n bits, most significant
 * first, a 0xff byte followed by a stuffed 0x00; flush() pads the last byte with 1-bits.
 */
export function entropyWriter(out) {
  let acc = 0, nbits = 0;
  const put = (value, n) => {
    for (let i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0x00);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const flush = () => {
    if (nbits) put(0x7f, 8 - nbits);
  };
  return { put, flush };
}
