// Reading the bytes of an input "source" (see worker.js): a File/Blob, a Uint8Array, or an entry of a
// ZIP archive (the Blob slice from its local header; stored or deflated with fflate; CRC-checked).

import { inflateSync } from './vendor/fflate.js';

const HEAD_MIN = 132;

async function blobBytes(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}

let crcTable = null;
export function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

async function zipEntryBytes(src, limit) {
  const head = new DataView(await src.zip.slice(0, 30).arrayBuffer());
  if (head.byteLength < 30 || head.getUint32(0, true) !== 0x04034b50) {
    throw fail('zip', 'the ZIP archive is damaged (an entry has no local header)');
  }
  const start = 30 + head.getUint16(26, true) + head.getUint16(28, true);
  const stored = src.method === 0;
  const end = start + (stored && limit ? Math.min(limit, src.compressedSize) : src.compressedSize);
  const data = await blobBytes(src.zip.slice(start, end));
  if (data.length < end - start) throw fail('zip', 'the ZIP archive is damaged or incomplete (an entry is cut short)');
  let out;
  if (stored) {
    out = data;
  } else if (src.method === 8) {
    try {
      out = inflateSync(data, { out: new Uint8Array(src.size) });
    } catch (e) {
      throw fail('zip', 'the ZIP entry could not be unpacked: the archive is damaged');
    }
  } else {
    throw fail('zip', `the ZIP entry uses compression method ${src.method}, which is not supported (use a plain ZIP)`);
  }
  if (!(limit && out.length < src.size) && crc32(out) !== src.crc) {
    throw fail('zip', 'the ZIP entry is damaged (checksum mismatch)');
  }
  return limit && out.length > limit ? out.subarray(0, limit) : out;
}

// limit: read only the first `limit` bytes when possible (pass 1)
export async function readSource(src, limit = 0) {
  if (src.bytes) return limit && src.bytes.length > limit ? src.bytes.subarray(0, limit) : src.bytes;
  if (src.blob) return blobBytes(limit && src.blob.size > limit ? src.blob.slice(0, Math.max(limit, HEAD_MIN)) : src.blob);
  if (src.zip) return zipEntryBytes(src, limit);
  throw fail('internal', 'unknown source');
}

export function sourceSize(src) {
  if (src.bytes) return src.bytes.length;
  if (src.blob) return src.blob.size;
  return src.size;
}


function fail(kind, message) {
  return { kind, message: String(message) };
}
