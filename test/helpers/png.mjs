// PNG files made in the tests, with helpers written independently of src/ (CRC, chunk building).
import { deflateSync } from 'node:zlib';

/** CRC-32 as PNG chunks use it (ISO 3309), bit by bit. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A 32-bit big-endian number as 4 bytes. */
export function be32(v) {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** A PNG chunk: length, type, data, CRC of type and data. @returns {number[]} */
export function pngChunk(type, data) {
  const body = new Uint8Array([...type].map((c) => c.charCodeAt(0)).concat(Array.from(data)));
  return [...be32(data.length), ...body, ...be32(crc32(body))];
}

export const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** An IHDR chunk (default: 8-bit truecolour, no interlace). @returns {number[]} */
export function ihdr(width, height, depth = 8, colorType = 2, interlace = 0) {
  return pngChunk('IHDR', [...be32(width), ...be32(height), depth, colorType, 0, 0, interlace]);
}

/**
 * A black 8-bit RGB PNG of this size: a few KB of compressed rows however large it declares itself
 * (2000×2000: 17 KB), for the limits that must hold before decoding.
 * @param {number} width
 * @param {number} height
 * @returns {Uint8Array}
 */
export function blackPng(width, height) {
  const rows = deflateSync(new Uint8Array(height * (1 + 3 * width)));
  return new Uint8Array([...PNG_SIG, ...ihdr(width, height), ...pngChunk('IDAT', rows), ...pngChunk('IEND', [])]);
}
