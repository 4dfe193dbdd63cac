// PNG files made in the tests.
import { crc32, deflateSync } from 'node:zlib';

/**
 * A black 8-bit RGB PNG of this size: a few KB of compressed rows however large it declares itself
 * (2000×2000: 17 KB), for the limits that must hold before decoding.
 * @param {number} width
 * @param {number} height
 * @returns {Uint8Array}
 */
export function blackPng(width, height) {
  const chunk = (type, data) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    b.set(data, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit truecolour, no interlace
  const rows = deflateSync(new Uint8Array(height * (1 + 3 * width)));
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', new Uint8Array(0))]));
}
