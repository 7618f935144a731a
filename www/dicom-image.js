// A tiny DICOM reader for the local preview: finds the image attributes and the first frame of
// uncompressed pixel data, and draws it on a canvas. Nothing else is read; nothing leaves the page.
//
// Supported: implicit VR little endian, explicit VR little and big endian, with or without the
// 128-byte preamble and file meta group; 8/16-bit greyscale (MONOCHROME1/2, window from the frame's
// min/max) and 8-bit RGB / YBR_FULL. Anything else gets a reason why there is no preview.

const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';
const TS_DEFLATED = '1.2.840.10008.1.2.1.99';

// VRs with a 2-byte reserved field and a 4-byte length in explicit VR
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

const WANTED = {
  0x00280002: 'samplesPerPixel',
  0x00280004: 'photometric',
  0x00280006: 'planarConfiguration',
  0x00280008: 'numberOfFrames',
  0x00280010: 'rows',
  0x00280011: 'columns',
  0x00280100: 'bitsAllocated',
  0x00280101: 'bitsStored',
  0x00280103: 'pixelRepresentation',
};

export class NoPreview extends Error {
  constructor(message) {
    super(message);
    this.name = 'NoPreview';
  }
}

class Reader {
  constructor(bytes, { explicit, big }) {
    this.b = bytes;
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.explicit = explicit;
    this.big = big;
  }
  need(n) {
    if (this.pos + n > this.b.length) throw new NoPreview('the file is incomplete');
  }
  u16() {
    this.need(2);
    const x = this.v.getUint16(this.pos, !this.big);
    this.pos += 2;
    return x;
  }
  u32() {
    this.need(4);
    const x = this.v.getUint32(this.pos, !this.big);
    this.pos += 4;
    return x;
  }
  // one element header: {tag, vr, len}; items and delimiters have no VR
  header() {
    const group = this.u16();
    const element = this.u16();
    const tag = ((group << 16) | element) >>> 0;
    if (group === 0xfffe) return { tag, vr: null, len: this.u32() };
    if (!this.explicit) return { tag, vr: null, len: this.u32() };
    this.need(2);
    const vr = String.fromCharCode(this.b[this.pos], this.b[this.pos + 1]);
    this.pos += 2;
    if (!/^[A-Z]{2}$/.test(vr)) throw new NoPreview('the header could not be read');
    if (LONG_VRS.has(vr)) {
      this.pos += 2;
      return { tag, vr, len: this.u32() };
    }
    return { tag, vr, len: this.u16() };
  }
}

const UNDEFINED = 0xffffffff;

// Skips the items of a sequence of undefined length (the reader is just after its header).
function skipSequence(r, depth) {
  if (depth > 32) throw new NoPreview('the header is nested too deeply');
  for (;;) {
    const h = r.header();
    if (h.tag === 0xfffee0dd) return; // sequence delimiter
    if (h.tag !== 0xfffee000) throw new NoPreview('a sequence could not be read');
    if (h.len !== UNDEFINED) {
      r.pos += h.len;
      continue;
    }
    for (;;) {
      const e = r.header();
      if (e.tag === 0xfffee00d) break; // item delimiter
      if (e.len === UNDEFINED) {
        // a sequence in UN is encoded in implicit VR little endian
        if (e.vr === 'UN') {
          const saved = r.explicit;
          r.explicit = false;
          skipSequence(r, depth + 1);
          r.explicit = saved;
        } else skipSequence(r, depth + 1);
      } else r.pos += e.len;
    }
  }
}

function text(bytes, start, len) {
  let s = '';
  for (let i = start; i < start + len; i++) s += String.fromCharCode(bytes[i]);
  return s.replace(/[\0 ]+$/, '').trim();
}

// the dictionary VR of the wanted attributes (implicit VR files carry none)
const KNOWN_VR = { 0x00280004: 'CS', 0x00280008: 'IS' };

function value(r, h) {
  const vr = KNOWN_VR[h.tag] || 'US';
  if (vr === 'US') return h.len >= 2 ? r.v.getUint16(r.pos, !r.big) : 0;
  const s = text(r.b, r.pos, h.len);
  return vr === 'IS' ? parseInt(s, 10) || 1 : s;
}

/** Reads the image attributes and locates the pixel data. Throws NoPreview with a reason. */
export function parseImage(bytes) {
  let pos = 0;
  let ts = null;
  if (bytes.length >= 132 && text(bytes, 128, 4) === 'DICM') pos = 132;
  else if (bytes.length >= 4 && text(bytes, 0, 4) === 'DICM') pos = 4;
  if (pos) {
    // file meta group: explicit VR little endian
    const r = new Reader(bytes, { explicit: true, big: false });
    r.pos = pos;
    while (r.pos + 8 <= bytes.length && r.v.getUint16(r.pos, true) === 0x0002) {
      const h = r.header();
      if (h.len === UNDEFINED) throw new NoPreview('the file meta information could not be read');
      if (h.tag === 0x00020010) ts = text(bytes, r.pos, h.len);
      r.pos += h.len;
    }
    pos = r.pos;
  }
  let explicit;
  let big = false;
  if (ts === TS_IMPLICIT_LE) explicit = false;
  else if (ts === TS_EXPLICIT_LE) explicit = true;
  else if (ts === TS_EXPLICIT_BE) {
    explicit = true;
    big = true;
  } else if (ts === TS_DEFLATED) throw new NoPreview('preview not available for deflated files');
  else if (ts) throw new NoPreview('preview not available for compressed images');
  else {
    // no transfer syntax: guess from the first element (letters where an explicit VR would be)
    const a = bytes[pos + 4];
    const c = bytes[pos + 5];
    explicit = a >= 65 && a <= 90 && c >= 65 && c <= 90;
  }
  const r = new Reader(bytes, { explicit, big });
  r.pos = pos;
  const info = { transferSyntax: ts, samplesPerPixel: 1, planarConfiguration: 0, numberOfFrames: 1, pixelRepresentation: 0, big };
  while (r.pos < bytes.length) {
    const h = r.header();
    if (h.tag === 0x7fe00010) {
      if (h.len === UNDEFINED) throw new NoPreview('preview not available for compressed images');
      info.pixelOffset = r.pos;
      info.pixelLength = Math.min(h.len, bytes.length - r.pos);
      return info;
    }
    if (h.len === UNDEFINED) {
      if (h.vr === 'UN') {
        r.explicit = false;
        skipSequence(r, 0);
        r.explicit = explicit;
      } else skipSequence(r, 0);
      continue;
    }
    const name = WANTED[h.tag];
    if (name) {
      r.need(h.len);
      info[name] = value(r, h);
    }
    r.pos += h.len;
  }
  throw new NoPreview('the file has no pixel data');
}

/** Decodes the first frame to RGBA. Returns {width, height, rgba}. */
export function firstFrame(bytes) {
  const info = parseImage(bytes);
  const rows = info.rows | 0;
  const cols = info.columns | 0;
  const spp = info.samplesPerPixel | 0;
  const bits = info.bitsAllocated | 0;
  const pi = String(info.photometric || '').toUpperCase();
  if (!rows || !cols) throw new NoPreview('the image size is missing');
  if (rows * cols > 64e6) throw new NoPreview('the image is too large to preview');
  const n = rows * cols;
  const rgba = new Uint8ClampedArray(n * 4);
  const data = bytes.subarray(info.pixelOffset, info.pixelOffset + info.pixelLength);
  if (spp === 1 && (pi === 'MONOCHROME1' || pi === 'MONOCHROME2') && (bits === 8 || bits === 16)) {
    const bpp = bits / 8;
    if (data.length < n * bpp) throw new NoPreview('the pixel data is incomplete');
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const signed = info.pixelRepresentation === 1;
    const stored = info.bitsStored && info.bitsStored < bits ? info.bitsStored : bits;
    const mask = stored >= 32 ? 0xffffffff : 2 ** stored - 1;
    const signBit = 2 ** (stored - 1);
    const vals = new Float64Array(n);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      let x = bpp === 1 ? data[i] : dv.getUint16(i * 2, !info.big);
      x &= mask;
      if (signed && x >= signBit) x -= 2 * signBit;
      vals[i] = x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const span = max > min ? max - min : 1;
    const invert = pi === 'MONOCHROME1';
    for (let i = 0; i < n; i++) {
      let g = ((vals[i] - min) / span) * 255;
      if (invert) g = 255 - g;
      rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = g;
      rgba[i * 4 + 3] = 255;
    }
    return { width: cols, height: rows, rgba };
  }
  if (spp === 3 && bits === 8 && (pi === 'RGB' || pi === 'YBR_FULL')) {
    if (data.length < n * 3) throw new NoPreview('the pixel data is incomplete');
    const planar = info.planarConfiguration === 1;
    for (let i = 0; i < n; i++) {
      let a, b, c;
      if (planar) {
        a = data[i];
        b = data[n + i];
        c = data[2 * n + i];
      } else {
        a = data[i * 3];
        b = data[i * 3 + 1];
        c = data[i * 3 + 2];
      }
      if (pi === 'YBR_FULL') {
        const y = a;
        const cb = b - 128;
        const cr = c - 128;
        a = y + 1.402 * cr;
        b = y - 0.344136 * cb - 0.714136 * cr;
        c = y + 1.772 * cb;
      }
      rgba[i * 4] = a;
      rgba[i * 4 + 1] = b;
      rgba[i * 4 + 2] = c;
      rgba[i * 4 + 3] = 255;
    }
    return { width: cols, height: rows, rgba };
  }
  if (pi === 'PALETTE COLOR') throw new NoPreview('preview not available for palette colour images');
  throw new NoPreview(`preview not available for ${spp === 3 ? 'this colour' : 'this'} image type (${pi || 'unknown'}, ${bits}-bit)`);
}

/** Draws the first frame on `canvas`; returns null, or the reason why there is no preview. */
export function drawFirstFrame(canvas, bytes) {
  try {
    const { width, height, rgba } = firstFrame(bytes);
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').putImageData(new ImageData(rgba, width, height), 0, 0);
    return null;
  } catch (e) {
    canvas.width = 0;
    canvas.height = 0;
    if (e instanceof NoPreview) return e.message;
    return 'preview not available: the image could not be read';
  }
}
