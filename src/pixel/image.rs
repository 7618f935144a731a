//! Pixel data as the engine sees it: the image description from the header, frames decoded to
//! samples, an 8-bit grey view per frame for the text detector, masking in the stored samples, and
//! writing back.
//!
//! Native (uncompressed) pixel data is masked in place in a copy of the stored bytes (same byte order,
//! same planar configuration), so every unmasked byte stays identical. Encapsulated pixel data is
//! decoded with the dicom-rs transfer syntax adapters (`dicom-transfer-syntax-registry`: JPEG via
//! jpeg-decoder, RLE, JPEG 2000 via openjp2 where built in); their output is little endian with
//! interleaved samples. When something is masked, RLE Lossless is re-encoded as RLE Lossless
//! ([`rle_encode_frame`]) and JPEG 2000 as lossless JPEG 2000 where built in (`super::j2k`, each
//! frame checked by decoding it again); every other encapsulated syntax is written as Explicit VR
//! Little Endian (there is no pure-Rust lossless encoder for it here, and a lossy re-encode would add
//! damage).

pub use super::Grey;
use super::Rect;
use crate::dicom::{self, find, tag, Element, Tag, Value, Vr};
use std::borrow::Cow;

pub const ROWS: Tag = tag(0x0028, 0x0010);
pub const COLUMNS: Tag = tag(0x0028, 0x0011);
pub const SAMPLES_PER_PIXEL: Tag = tag(0x0028, 0x0002);
pub const PHOTOMETRIC: Tag = tag(0x0028, 0x0004);
pub const PLANAR_CONFIGURATION: Tag = tag(0x0028, 0x0006);
pub const NUMBER_OF_FRAMES: Tag = tag(0x0028, 0x0008);
pub const BITS_ALLOCATED: Tag = tag(0x0028, 0x0100);
pub const BITS_STORED: Tag = tag(0x0028, 0x0101);
pub const HIGH_BIT: Tag = tag(0x0028, 0x0102);
pub const PIXEL_REPRESENTATION: Tag = tag(0x0028, 0x0103);
pub const LOSSY_IMAGE_COMPRESSION: Tag = tag(0x0028, 0x2110);
pub const LOSSY_METHOD: Tag = tag(0x0028, 0x2114);
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// Why pixel data could not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ImageError {
    #[error("pixel data attributes missing or invalid: {0}")]
    Attributes(String),
    #[error(
        "pixel data is shorter than the image attributes describe ({have} bytes, {need} needed)"
    )]
    Short { have: usize, need: usize },
    #[error("pixel data in transfer syntax {0} cannot be decoded by this build")]
    NoDecoder(String),
    #[error("frame {frame} could not be decoded: {message}")]
    Decode { frame: u32, message: String },
    #[error("{0}")]
    Unsupported(String),
}

/// The image attributes of a data set (top level).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageInfo {
    pub rows: u32,
    pub cols: u32,
    pub samples: u32,
    pub bits_allocated: u32,
    pub bits_stored: u32,
    pub signed: bool,
    pub photometric: String,
    /// 0 = interleaved (R1 G1 B1 R2 ...), 1 = by plane
    pub planar: u32,
    pub frames: u32,
    pub big_endian: bool,
}

fn read_us(e: &Element<'_>, big_endian: bool) -> Option<u32> {
    let b = e.bytes()?;
    if b.len() < 2 {
        return None;
    }
    let v = if big_endian {
        u16::from_be_bytes([b[0], b[1]])
    } else {
        u16::from_le_bytes([b[0], b[1]])
    };
    Some(v as u32)
}

impl ImageInfo {
    /// Reads the image pixel module; `None` when there is no pixel data at the top level.
    pub fn from_dataset(
        ds: &[Element<'_>],
        big_endian: bool,
    ) -> Result<Option<ImageInfo>, ImageError> {
        if find(ds, dicom::PIXEL_DATA).is_none() {
            return Ok(None);
        }
        let us = |t: Tag, name: &str| -> Result<u32, ImageError> {
            find(ds, t)
                .and_then(|e| read_us(e, big_endian))
                .ok_or_else(|| ImageError::Attributes(format!("{name} missing")))
        };
        let rows = us(ROWS, "Rows")?;
        let cols = us(COLUMNS, "Columns")?;
        let samples = find(ds, SAMPLES_PER_PIXEL)
            .and_then(|e| read_us(e, big_endian))
            .unwrap_or(1);
        let bits_allocated = us(BITS_ALLOCATED, "Bits Allocated")?;
        let bits_stored = find(ds, BITS_STORED)
            .and_then(|e| read_us(e, big_endian))
            .unwrap_or(bits_allocated);
        let signed = find(ds, PIXEL_REPRESENTATION)
            .and_then(|e| read_us(e, big_endian))
            .unwrap_or(0)
            == 1;
        let planar = find(ds, PLANAR_CONFIGURATION)
            .and_then(|e| read_us(e, big_endian))
            .unwrap_or(0);
        let photometric = find(ds, PHOTOMETRIC)
            .and_then(dicom::ascii_value)
            .unwrap_or(if samples == 3 { "RGB" } else { "MONOCHROME2" })
            .to_string();
        let frames = match find(ds, NUMBER_OF_FRAMES).and_then(dicom::ascii_value) {
            Some(s) if !s.is_empty() => s
                .trim()
                .parse::<i64>()
                .map_err(|_| ImageError::Attributes("Number of Frames is not a number".into()))?
                .max(1) as u32,
            _ => 1,
        };
        if rows == 0 || cols == 0 {
            return Err(ImageError::Attributes("Rows or Columns is zero".into()));
        }
        if !matches!(bits_allocated, 8 | 16 | 32) {
            return Err(ImageError::Unsupported(format!(
                "Bits Allocated {bits_allocated} is not supported by the pixel engine"
            )));
        }
        if !matches!(samples, 1 | 3) {
            return Err(ImageError::Attributes(format!(
                "Samples per Pixel {samples}"
            )));
        }
        if bits_stored == 0 || bits_stored > bits_allocated {
            return Err(ImageError::Attributes("Bits Stored".into()));
        }
        Ok(Some(ImageInfo {
            rows,
            cols,
            samples,
            bits_allocated,
            bits_stored,
            signed,
            photometric,
            planar,
            frames,
            big_endian,
        }))
    }

    pub fn bytes_per_sample(&self) -> usize {
        self.bits_allocated as usize / 8
    }
    pub fn pixels(&self) -> usize {
        self.rows as usize * self.cols as usize
    }
    /// Bytes of one native frame.
    pub fn frame_len(&self) -> usize {
        if self.is_422() {
            // two pixels share one Cb and one Cr: Y1 Y2 Cb Cr
            self.pixels() * 2 * self.bytes_per_sample()
        } else {
            self.pixels() * self.samples as usize * self.bytes_per_sample()
        }
    }
    pub fn is_422(&self) -> bool {
        self.samples == 3
            && self.photometric.starts_with("YBR")
            && self.photometric.ends_with("_422")
    }
    pub fn is_ybr(&self) -> bool {
        self.samples == 3 && self.photometric.starts_with("YBR")
    }
}

/// Frame samples in a known layout, for reading and masking.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'i> {
    pub info: &'i ImageInfo,
    pub big_endian: bool,
    /// 0 interleaved, 1 planar
    pub planar: u32,
    /// photometric interpretation of these samples (decoded JPEG colour is RGB)
    pub photometric: &'i str,
}

impl Layout<'_> {
    fn sample(&self, frame: &[u8], idx: usize) -> i64 {
        let info = self.info;
        let bps = info.bytes_per_sample();
        let o = idx * bps;
        let raw: u64 = match bps {
            1 => frame[o] as u64,
            2 => {
                let b = [frame[o], frame[o + 1]];
                (if self.big_endian {
                    u16::from_be_bytes(b)
                } else {
                    u16::from_le_bytes(b)
                }) as u64
            }
            _ => {
                let b = [frame[o], frame[o + 1], frame[o + 2], frame[o + 3]];
                (if self.big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }) as u64
            }
        };
        let bits = info.bits_stored;
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let v = raw & mask;
        if info.signed && bits < 64 && v & (1u64 << (bits - 1)) != 0 {
            v as i64 - (1i64 << bits)
        } else {
            v as i64
        }
    }

    fn put_sample(&self, frame: &mut [u8], idx: usize, v: i64) {
        let info = self.info;
        let bps = info.bytes_per_sample();
        let o = idx * bps;
        let bits = info.bits_stored;
        let stored = (v as u64)
            & if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
        match bps {
            1 => frame[o] = stored as u8,
            2 => {
                // bits above Bits Stored (e.g. overlay bits in old files) are cleared with the text
                let b = if self.big_endian {
                    (stored as u16).to_be_bytes()
                } else {
                    (stored as u16).to_le_bytes()
                };
                frame[o..o + 2].copy_from_slice(&b);
            }
            _ => {
                let b = if self.big_endian {
                    (stored as u32).to_be_bytes()
                } else {
                    (stored as u32).to_le_bytes()
                };
                frame[o..o + 4].copy_from_slice(&b);
            }
        }
    }

    /// The first `n` samples of a frame in storage order, as [`Self::sample`] reads them one by one, in
    /// one loop per sample size and byte order (the grey view of every frame goes through here, so
    /// this is the per-pixel cost of a frame without text). `None` when the layout is unusual (Bits
    /// Stored outside 1..=bits allocated, a short frame): the caller then reads sample by sample.
    fn plane(&self, frame: &[u8], n: usize) -> Option<Vec<i64>> {
        let info = self.info;
        let bps = info.bytes_per_sample();
        let bits = info.bits_stored;
        if bits == 0 || bits as usize > bps * 8 {
            return None;
        }
        let bytes = frame.get(..n.checked_mul(bps)?)?;
        // keep the low `bits` bits, sign-extended when the pixels are signed
        let sh = 64 - bits;
        let signed = info.signed;
        let value = move |raw: u64| -> i64 {
            if signed {
                ((raw << sh) as i64) >> sh
            } else {
                ((raw << sh) >> sh) as i64
            }
        };
        Some(match (bps, self.big_endian) {
            (1, _) => bytes.iter().map(|&b| value(b as u64)).collect(),
            (2, false) => bytes
                .chunks_exact(2)
                .map(|c| value(u16::from_le_bytes([c[0], c[1]]) as u64))
                .collect(),
            (2, true) => bytes
                .chunks_exact(2)
                .map(|c| value(u16::from_be_bytes([c[0], c[1]]) as u64))
                .collect(),
            (4, false) => bytes
                .chunks_exact(4)
                .map(|c| value(u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64))
                .collect(),
            (4, true) => bytes
                .chunks_exact(4)
                .map(|c| value(u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64))
                .collect(),
            _ => return None,
        })
    }

    /// Every sample of a frame in storage order (`None` for an unusual layout, as [`Self::plane`]).
    pub fn samples(&self, frame: &[u8]) -> Option<Vec<i64>> {
        self.plane(frame, self.info.pixels() * self.info.samples as usize)
    }

    /// Index of sample `s` of pixel `p` in the frame.
    fn index(&self, p: usize, s: usize) -> usize {
        let n = self.info.pixels();
        if self.planar == 1 {
            s * n + p
        } else {
            p * self.info.samples as usize + s
        }
    }

    /// The first `n` samples of a frame in storage order: [`Self::plane`], or one by one for an
    /// unusual layout.
    fn first(&self, frame: &[u8], n: usize) -> Vec<i64> {
        self.plane(frame, n)
            .unwrap_or_else(|| (0..n).map(|i| self.sample(frame, i)).collect())
    }

    /// The three samples of each pixel of a colour frame, one plane each (Y Cb Cr or R G B), read
    /// once for both kinds of view.
    fn colour_planes(&self, frame: &[u8]) -> [Vec<i64>; 3] {
        let n = self.info.pixels();
        let mut out = [Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n)];
        if self.info.is_422() && self.photometric.ends_with("_422") {
            // Y1 Y2 Cb Cr per pair of pixels
            let s = self.first(frame, n.div_ceil(2) * 4);
            for p in 0..n {
                let q = (p / 2) * 4;
                out[0].push(s[q + p % 2]);
                out[1].push(s[q + 2]);
                out[2].push(s[q + 3]);
            }
        } else if self.planar == 1 {
            let s = self.first(frame, n * 3);
            for (c, o) in out.iter_mut().enumerate() {
                o.extend_from_slice(&s[c * n..(c + 1) * n]);
            }
        } else {
            let s = self.first(frame, n * 3);
            for px in s.chunks_exact(3) {
                for (c, o) in out.iter_mut().enumerate() {
                    o.push(px[c]);
                }
            }
        }
        out
    }

    /// The 8-bit grey view of a frame for the text detector: luminance, stretched from the frame's
    /// minimum to its maximum (burned-in text is drawn near an extreme of the range, so it stays at
    /// full contrast). MONOCHROME1 is inverted so that bright is high; palette colour goes through the
    /// palette's luminance.
    pub fn grey(&self, frame: &[u8], palette: Option<&Palette>) -> Grey {
        self.views(frame, palette, false).swap_remove(0)
    }

    /// The grey view ([`Self::grey`]), then, with `chroma`, the two colour-difference views of a
    /// colour frame (Cb and Cr, each stretched to 8 bits), from one reading of the frame's samples.
    /// The colour-difference views are for text drawn in a colour whose luminance equals its
    /// background's (invisible in the grey view). Grey frames have none, and a channel whose values
    /// span less than 1/16 of the sample range is left out (grey pixels stored as colour, faint tints).
    pub fn views(&self, frame: &[u8], palette: Option<&Palette>, chroma: bool) -> Vec<Grey> {
        let info = self.info;
        let (w, h) = (info.cols as usize, info.rows as usize);
        let n = w * h;
        // the luminance, and with `chroma` the two colour-difference channels and their full range
        let (lum, diff) = if info.samples == 1 {
            let s = self.first(frame, n);
            let Some(pal) = palette else {
                return vec![stretch(&s, w, h, self.photometric == "MONOCHROME1")];
            };
            let lum = s.iter().map(|&v| pal.luminance(v) as i64).collect();
            (lum, chroma.then(|| (s.iter().map(|&v| pal.chroma(v)).unzip(), 65535)))
        } else {
            let [a, b, c] = self.colour_planes(frame);
            let full = (1i64 << info.bits_stored.min(32)) - 1;
            if self.photometric.starts_with("YBR") {
                (a, chroma.then_some(((b, c), full)))
            } else {
                let lum = (0..n).map(|p| (299 * a[p] + 587 * b[p] + 114 * c[p]) / 1000).collect();
                let cbcr = || (0..n).map(|p| colour_difference(a[p], b[p], c[p])).unzip();
                (lum, chroma.then(|| (cbcr(), full)))
            }
        };
        let mut out = vec![stretch(&lum, w, h, false)];
        if let Some(((cb, cr), full)) = diff {
            out.extend(chroma_views([cb, cr], full, w, h));
        }
        out
    }

    /// A frame for a person to look at, as RGBA (8 bits a channel): RGB and YBR in colour (each sample
    /// scaled from Bits Stored to 8 bits), everything else as [`Self::grey`] sees it.
    pub fn rgba(&self, frame: &[u8], palette: Option<&Palette>) -> (usize, usize, Vec<u8>) {
        let info = self.info;
        let (w, h) = (info.cols as usize, info.rows as usize);
        let n = w * h;
        let mut out = Vec::with_capacity(n * 4);
        if info.samples == 3 {
            let shift = info.bits_stored.saturating_sub(8).min(24);
            let to8 = |v: i64| (v >> shift).clamp(0, 255);
            let ybr = self.photometric.starts_with("YBR");
            let pair = self.info.is_422() && self.photometric.ends_with("_422");
            for p in 0..n {
                let (a, b, c) = if pair {
                    let q = p / 2;
                    (self.sample(frame, q * 4 + (p % 2)), self.sample(frame, q * 4 + 2), self.sample(frame, q * 4 + 3))
                } else {
                    (self.sample(frame, self.index(p, 0)), self.sample(frame, self.index(p, 1)), self.sample(frame, self.index(p, 2)))
                };
                let (r, g, b) = if ybr {
                    // full-range YCbCr (PS3.3 C.7.6.3.1.2), in 8-bit units
                    let (y, cb, cr) = (to8(a) as f32, to8(b) as f32 - 128.0, to8(c) as f32 - 128.0);
                    let q = |v: f32| v.round().clamp(0.0, 255.0) as i64;
                    (q(y + 1.402 * cr), q(y - 0.344136 * cb - 0.714136 * cr), q(y + 1.772 * cb))
                } else {
                    (to8(a), to8(b), to8(c))
                };
                out.extend_from_slice(&[r as u8, g as u8, b as u8, 255]);
            }
        } else {
            for &v in &self.grey(frame, palette).data {
                out.extend_from_slice(&[v, v, v, 255]);
            }
        }
        (w, h, out)
    }

    /// The darkest stored value of a frame, per sample: MONOCHROME2 the minimum present, MONOCHROME1
    /// the maximum present, RGB black, YBR Y = darkest present with neutral chroma, palette the index
    /// of the darkest colour.
    pub fn fill(&self, frame: &[u8], palette: Option<&Palette>) -> [i64; 3] {
        let info = self.info;
        if info.samples == 1 {
            if let Some(p) = palette {
                return [p.darkest_index(), 0, 0];
            }
            let n = info.pixels();
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for i in 0..n {
                let v = self.sample(frame, i);
                lo = lo.min(v);
                hi = hi.max(v);
            }
            return [
                if self.photometric == "MONOCHROME1" {
                    hi
                } else {
                    lo
                },
                0,
                0,
            ];
        }
        if self.photometric.starts_with("YBR") {
            let mid = 1i64 << (info.bits_stored - 1);
            return [0, mid, mid];
        }
        [0, 0, 0]
    }

    /// Fills a rectangle of a frame with `fill`.
    pub fn mask(&self, frame: &mut [u8], r: Rect, fill: [i64; 3]) {
        let info = self.info;
        let Some(r) = r.clip(info.cols, info.rows) else {
            return;
        };
        let w = info.cols as usize;
        if self.info.is_422() && self.photometric.ends_with("_422") {
            // widen to whole pixel pairs so that no chroma keeps a trace of the text
            let x0 = (r.x as usize) & !1;
            let x1 = ((r.right() as usize) + 1).min(w) & !1;
            let x1 = if x1 < r.right() as usize { w } else { x1 };
            for y in r.y as usize..r.bottom() as usize {
                let mut x = x0;
                while x < x1 {
                    let pair = (y * w + x) / 2;
                    self.put_sample(frame, pair * 4, fill[0]);
                    self.put_sample(frame, pair * 4 + 1, fill[0]);
                    self.put_sample(frame, pair * 4 + 2, fill[1]);
                    self.put_sample(frame, pair * 4 + 3, fill[2]);
                    x += 2;
                }
            }
            return;
        }
        for y in r.y as usize..r.bottom() as usize {
            for x in r.x as usize..r.right() as usize {
                let p = y * w + x;
                for s in 0..info.samples as usize {
                    self.put_sample(frame, self.index(p, s), fill[s]);
                }
            }
        }
    }
}

/// Cb and Cr (ITU-R BT.601, without the offset) of an RGB colour, in the samples' units.
fn colour_difference(r: i64, g: i64, b: i64) -> (i64, i64) {
    (
        (-1687 * r - 3313 * g + 5000 * b) / 10000,
        (5000 * r - 4187 * g - 813 * b) / 10000,
    )
}

/// The colour-difference channels whose values span 1/16 of `full` at least, stretched ([`Layout::views`]).
fn chroma_views(channels: [Vec<i64>; 2], full: i64, w: usize, h: usize) -> Vec<Grey> {
    channels
        .iter()
        .filter(|c| {
            let (lo, hi) = min_max(c);
            (hi - lo) * 16 >= full
        })
        .map(|c| stretch(c, w, h, false))
        .collect()
}

fn min_max(v: &[i64]) -> (i64, i64) {
    v.iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

/// Values stretched from their minimum (0) to their maximum (255), optionally inverted.
///
/// Each value maps to `(x - lo) * 255 / span` (integer division). For spans up to 2^16 (every 8- and
/// 16-bit frame) that is read from a table built without dividing, one entry per value in the span.
fn stretch(v: &[i64], w: usize, h: usize, invert: bool) -> Grey {
    let (lo, hi) = min_max(v);
    let span = (hi - lo).max(1);
    let level = |g: u8| if invert { 255 - g } else { g };
    let data = if span <= 1 << 16 {
        let lut = stretch_table(span as usize, level);
        v.iter().map(|&x| lut[(x - lo) as usize]).collect()
    } else {
        v.iter().map(|&x| level(((x - lo) * 255 / span) as u8)).collect()
    };
    Grey { w, h, data }
}

/// `level(d * 255 / span)` for every `d` in `0..=span`, walking `d` with the quotient and remainder
/// of `d * 255` by `span` kept up to date (no division).
fn stretch_table(span: usize, level: impl Fn(u8) -> u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(span + 1);
    let (mut q, mut r) = (0usize, 0usize);
    for _ in 0..=span {
        out.push(level(q as u8));
        r += 255;
        while r >= span {
            r -= span;
            q += 1;
        }
    }
    out
}

/// A palette colour lookup table (PS3.3 C.7.6.3.1.5), 8 or 16 bits per entry.
#[derive(Clone, Debug)]
pub struct Palette {
    first: i64,
    lum: Vec<u16>,
    /// Cb and Cr of each entry (16-bit units)
    chroma: Vec<(i32, i32)>,
}

impl Palette {
    /// Reads the red/green/blue descriptors and data; `None` if absent or inconsistent (segmented
    /// palettes are not read: the grey view then uses the indices).
    pub fn from_dataset(ds: &[Element<'_>], big_endian: bool) -> Option<Palette> {
        let desc = |t| -> Option<(usize, i64, u32)> {
            let b = find(ds, t)?.bytes()?;
            if b.len() < 6 {
                return None;
            }
            let rd = |i: usize| {
                if big_endian {
                    u16::from_be_bytes([b[i], b[i + 1]])
                } else {
                    u16::from_le_bytes([b[i], b[i + 1]])
                }
            };
            let n = if rd(0) == 0 { 65536 } else { rd(0) as usize };
            Some((n, rd(2) as i64, rd(4) as u32))
        };
        let (n, first, bits) = desc(tag(0x0028, 0x1101))?;
        let data = |t| -> Option<Vec<u16>> {
            let b = find(ds, t)?.bytes()?;
            let v: Vec<u16> = if bits == 8 && b.len() == n {
                b.iter().map(|&x| x as u16 * 257).collect()
            } else if b.len() >= n * 2 {
                (0..n)
                    .map(|i| {
                        if big_endian {
                            u16::from_be_bytes([b[2 * i], b[2 * i + 1]])
                        } else {
                            u16::from_le_bytes([b[2 * i], b[2 * i + 1]])
                        }
                    })
                    .collect()
            } else {
                return None;
            };
            Some(if bits == 8 && b.len() >= n * 2 {
                v.iter().map(|&x| (x & 0xFF) * 257).collect()
            } else {
                v
            })
        };
        let (r, g, b) = (
            data(tag(0x0028, 0x1201))?,
            data(tag(0x0028, 0x1202))?,
            data(tag(0x0028, 0x1203))?,
        );
        let lum = (0..n)
            .map(|i| ((299 * r[i] as u32 + 587 * g[i] as u32 + 114 * b[i] as u32) / 1000) as u16)
            .collect();
        let chroma = (0..n)
            .map(|i| {
                let (u, v) = colour_difference(r[i] as i64, g[i] as i64, b[i] as i64);
                (u as i32, v as i32)
            })
            .collect();
        Some(Palette { first, lum, chroma })
    }

    fn chroma(&self, index: i64) -> (i64, i64) {
        let i = (index - self.first).clamp(0, self.chroma.len() as i64 - 1) as usize;
        let (u, v) = self.chroma[i];
        (u as i64, v as i64)
    }

    fn luminance(&self, index: i64) -> u16 {
        let i = (index - self.first).clamp(0, self.lum.len() as i64 - 1) as usize;
        self.lum[i]
    }

    fn darkest_index(&self) -> i64 {
        let (i, _) = self
            .lum
            .iter()
            .enumerate()
            .min_by_key(|(_, &l)| l)
            .unwrap_or((0, &0));
        i as i64 + self.first
    }
}

/// The frames of a file's pixel data, decoded where needed.
pub enum Frames<'a> {
    /// Native pixel data: frames are slices of the stored bytes.
    Native { bytes: Cow<'a, [u8]> },
    /// Decoded encapsulated frames (little endian, interleaved), one buffer per frame.
    Decoded {
        frames: Vec<Vec<u8>>,
        photometric: String,
    },
}

/// Pixel data that was decoded from an encapsulated transfer syntax, and its frames.
impl<'a> Frames<'a> {
    pub fn frame(&self, info: &ImageInfo, i: u32) -> &[u8] {
        match self {
            Frames::Native { bytes } => {
                let l = info.frame_len();
                &bytes[i as usize * l..(i as usize + 1) * l]
            }
            Frames::Decoded { frames, .. } => &frames[i as usize],
        }
    }
    pub fn frame_mut(&mut self, info: &ImageInfo, i: u32) -> &mut [u8] {
        match self {
            Frames::Native { bytes } => {
                let l = info.frame_len();
                &mut bytes.to_mut()[i as usize * l..(i as usize + 1) * l]
            }
            Frames::Decoded { frames, .. } => &mut frames[i as usize],
        }
    }
    /// Fills the rectangles of frame `f` with its darkest value.
    pub fn mask_frame(
        &mut self,
        info: &ImageInfo,
        f: u32,
        rects: &[Rect],
        palette: Option<&Palette>,
    ) {
        let (big_endian, planar, photometric) = match self {
            Frames::Native { .. } => (info.big_endian, info.planar, info.photometric.clone()),
            Frames::Decoded { photometric, .. } => (false, 0, photometric.clone()),
        };
        let layout = Layout {
            info,
            big_endian,
            planar,
            photometric: &photometric,
        };
        let fill = layout.fill(self.frame(info, f), palette);
        let frame = self.frame_mut(info, f);
        for r in rects {
            layout.mask(frame, *r, fill);
        }
    }

    pub fn layout<'i>(&'i self, info: &'i ImageInfo) -> Layout<'i> {
        match self {
            Frames::Native { .. } => Layout {
                info,
                big_endian: info.big_endian,
                planar: info.planar,
                photometric: &info.photometric,
            },
            Frames::Decoded { photometric, .. } => Layout {
                info,
                big_endian: false,
                planar: 0,
                photometric,
            },
        }
    }
}

/// The first frame of a file, decoded in whichever transfer syntax this build reads, as RGBA for a
/// preview ([`Layout::rgba`]): width, height and pixels.
pub fn preview(input: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let obj = dicom::parse(input).map_err(|e| e.to_string())?;
    let big = obj.transfer_syntax.big_endian;
    let info = ImageInfo::from_dataset(&obj.dataset, big)
        .map_err(|e| e.to_string())?
        .ok_or("no pixel data")?;
    let pixel = find(&obj.dataset, dicom::PIXEL_DATA).ok_or("no pixel data")?;
    let ts = &obj.transfer_syntax.uid;
    let frames = match &pixel.value {
        Value::Encapsulated { fragments } => decode_encapsulated(fragments, &info, ts, 1),
        _ => frames(pixel, &info, ts),
    }
    .map_err(|e| e.to_string())?;
    let palette = (info.photometric == "PALETTE COLOR")
        .then(|| Palette::from_dataset(&obj.dataset, big))
        .flatten();
    let layout = frames.layout(&info);
    Ok(layout.rgba(frames.frame(&info, 0), palette.as_ref()))
}

/// Gets the frames of the pixel data element.
pub fn frames<'a>(
    pixel: &Element<'a>,
    info: &ImageInfo,
    ts_uid: &str,
) -> Result<Frames<'a>, ImageError> {
    match &pixel.value {
        Value::Bytes(b) => {
            let need = info.frame_len() * info.frames as usize;
            if b.len() < need {
                return Err(ImageError::Short {
                    have: b.len(),
                    need,
                });
            }
            Ok(Frames::Native { bytes: b.clone() })
        }
        Value::Encapsulated { fragments } => decode_encapsulated(fragments, info, ts_uid, info.frames),
        Value::Sequence { .. } => Err(ImageError::Attributes("Pixel Data is a sequence".into())),
    }
}

/// Decodes the first `count` frames of encapsulated pixel data.
#[cfg(feature = "pixel")]
fn decode_encapsulated<'a>(
    fragments: &[Cow<'a, [u8]>],
    info: &ImageInfo,
    ts_uid: &str,
    count: u32,
) -> Result<Frames<'a>, ImageError> {
    use dicom_encoding::transfer_syntax::{Codec, TransferSyntaxIndex};
    use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| ImageError::NoDecoder(ts_uid.to_string()))?;
    let Codec::EncapsulatedPixelData(Some(reader), _) = ts.codec() else {
        return Err(ImageError::NoDecoder(ts_uid.to_string()));
    };
    let obj = Encapsulated {
        info,
        fragments,
        ts_uid,
    };
    let count = count.min(info.frames);
    let mut frames = Vec::with_capacity(count as usize);
    for f in 0..count {
        frames.push(decode_frame(&**reader, &obj, f)?);
    }
    // JPEG and JPEG 2000 decoders turn colour into RGB; RLE keeps the stored components
    let photometric = if info.samples == 3 && ts_uid != RLE_LOSSLESS {
        "RGB".to_string()
    } else {
        info.photometric.clone()
    };
    let photometric = if photometric.ends_with("_422") {
        "YBR_FULL".into()
    } else {
        photometric
    };
    Ok(Frames::Decoded {
        frames,
        photometric,
    })
}

/// Decodes frame `f` of `obj` into samples: interleaved, little endian.
#[cfg(feature = "pixel")]
fn decode_frame(
    reader: &dyn dicom_encoding::adapters::PixelDataReader,
    obj: &Encapsulated<'_, '_>,
    f: u32,
) -> Result<Vec<u8>, ImageError> {
    let info = obj.info;
    let want = info.pixels() * info.samples as usize * info.bytes_per_sample();
    let mut dst = Vec::with_capacity(want);
    // decoders may panic on hostile input; a panic must not take the batch down
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.decode_frame(obj, f, &mut dst)
    }));
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(ImageError::Decode {
                frame: f,
                message: e.to_string(),
            })
        }
        Err(_) => {
            return Err(ImageError::Decode {
                frame: f,
                message: "the decoder failed".into(),
            })
        }
    }
    if dst.len() < want {
        return Err(ImageError::Decode {
            frame: f,
            message: format!("decoded {} bytes, {} expected", dst.len(), want),
        });
    }
    dst.truncate(want);
    Ok(dst)
}

/// Decodes a single-frame JPEG 2000 codestream of an image described by `info` (the check of
/// [`super::j2k::encode_frame`]: the decoder that reads input files reads it back).
#[cfg(feature = "jpeg2000")]
pub(crate) fn decode_j2k_frame(stream: &[u8], info: &ImageInfo) -> Result<Vec<u8>, ImageError> {
    use dicom_encoding::transfer_syntax::{Codec, TransferSyntaxIndex};
    use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
    const J2K_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
    let reader = match TransferSyntaxRegistry.get(J2K_LOSSLESS).map(|ts| ts.codec()) {
        Some(Codec::EncapsulatedPixelData(Some(reader), _)) => reader,
        _ => return Err(ImageError::NoDecoder(J2K_LOSSLESS.into())),
    };
    let one = ImageInfo {
        frames: 1,
        ..info.clone()
    };
    let fragments = [Cow::Borrowed(&[][..]), Cow::Borrowed(stream)];
    let obj = Encapsulated {
        info: &one,
        fragments: &fragments,
        ts_uid: J2K_LOSSLESS,
    };
    decode_frame(&**reader, &obj, 0)
}

#[cfg(not(feature = "pixel"))]
fn decode_encapsulated<'a>(
    _: &[Cow<'a, [u8]>],
    _: &ImageInfo,
    ts_uid: &str,
    _: u32,
) -> Result<Frames<'a>, ImageError> {
    Err(ImageError::NoDecoder(ts_uid.to_string()))
}

#[cfg(feature = "pixel")]
struct Encapsulated<'x, 'a> {
    info: &'x ImageInfo,
    /// Basic Offset Table item, then the fragments
    fragments: &'x [Cow<'a, [u8]>],
    ts_uid: &'x str,
}

#[cfg(feature = "pixel")]
impl dicom_encoding::adapters::PixelDataObject for Encapsulated<'_, '_> {
    fn transfer_syntax_uid(&self) -> &str {
        self.ts_uid
    }
    fn rows(&self) -> Option<u16> {
        u16::try_from(self.info.rows).ok()
    }
    fn cols(&self) -> Option<u16> {
        u16::try_from(self.info.cols).ok()
    }
    fn samples_per_pixel(&self) -> Option<u16> {
        Some(self.info.samples as u16)
    }
    fn bits_allocated(&self) -> Option<u16> {
        Some(self.info.bits_allocated as u16)
    }
    fn bits_stored(&self) -> Option<u16> {
        Some(self.info.bits_stored as u16)
    }
    fn photometric_interpretation(&self) -> Option<&str> {
        Some(&self.info.photometric)
    }
    fn number_of_frames(&self) -> Option<u32> {
        Some(self.info.frames)
    }
    fn number_of_fragments(&self) -> Option<u32> {
        Some(self.fragments.len().saturating_sub(1) as u32)
    }
    fn fragment(&self, fragment: usize) -> Option<Cow<'_, [u8]>> {
        self.fragments
            .get(fragment + 1)
            .map(|f| Cow::Borrowed(&f[..]))
    }
    fn offset_table(&self) -> Option<Cow<'_, [u32]>> {
        let bot = self.fragments.first()?;
        Some(Cow::Owned(
            bot.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }
    fn raw_pixel_data(&self) -> Option<dicom_encoding::adapters::RawPixelData> {
        Some(dicom_encoding::adapters::RawPixelData {
            fragments: self.fragments.iter().skip(1).map(|f| f.to_vec()).collect(),
            offset_table: self.offset_table()?.iter().copied().collect(),
        })
    }
}

/// PackBits run-length encoding of one byte plane (PS3.5 G.3.1).
pub fn packbits(src: &[u8], out: &mut Vec<u8>) {
    let n = src.len();
    let mut i = 0;
    while i < n {
        // a run of equal bytes?
        let mut run = 1;
        while i + run < n && run < 128 && src[i + run] == src[i] {
            run += 1;
        }
        if run >= 2 {
            out.push((257 - run) as u8);
            out.push(src[i]);
            i += run;
            continue;
        }
        // literal bytes until the next run of 2 or more
        let start = i;
        let mut len = 0;
        while i < n && len < 128 {
            if i + 1 < n && src[i + 1] == src[i] {
                break;
            }
            i += 1;
            len += 1;
        }
        if len == 0 {
            // a run starts here (handled in the next turn)
            continue;
        }
        out.push((len - 1) as u8);
        out.extend_from_slice(&src[start..start + len]);
    }
}

/// Encodes one frame (little endian, interleaved samples) as an RLE Lossless fragment.
pub fn rle_encode_frame(frame: &[u8], info: &ImageInfo) -> Vec<u8> {
    let bps = info.bytes_per_sample();
    let spp = info.samples as usize;
    let n = info.pixels();
    let segments = spp * bps;
    let mut out = vec![0u8; 64];
    let mut offsets = Vec::with_capacity(segments);
    let mut plane = vec![0u8; n];
    for s in 0..spp {
        // most significant byte first
        for b in (0..bps).rev() {
            for (p, slot) in plane.iter_mut().enumerate() {
                *slot = frame[(p * spp + s) * bps + b];
            }
            offsets.push(out.len() as u32);
            packbits(&plane, &mut out);
            if out.len() % 2 == 1 {
                out.push(0);
            }
        }
    }
    out[0..4].copy_from_slice(&(segments as u32).to_le_bytes());
    for (i, o) in offsets.iter().enumerate() {
        out[4 + 4 * i..8 + 4 * i].copy_from_slice(&o.to_le_bytes());
    }
    out
}

/// Replaces the pixel data of `ds` with masked frames. Returns the transfer syntax to write (the input
/// one, or Explicit VR Little Endian when the input's encoder is not available).
pub fn write_back(
    ds: &mut Vec<Element<'_>>,
    info: &ImageInfo,
    frames: Frames<'_>,
    ts_uid: &str,
) -> String {
    match frames {
        Frames::Native { bytes } => {
            if let Some(i) = ds.iter().position(|e| e.tag == dicom::PIXEL_DATA) {
                ds[i].value = Value::Bytes(Cow::Owned(bytes.into_owned()));
            }
            ts_uid.to_string()
        }
        Frames::Decoded {
            frames,
            photometric,
        } => {
            if ts_uid == RLE_LOSSLESS {
                let mut fragments: Vec<Cow<'_, [u8]>> = vec![Cow::Owned(Vec::new())];
                for f in &frames {
                    fragments.push(Cow::Owned(rle_encode_frame(f, info)));
                }
                if let Some(i) = ds.iter().position(|e| e.tag == dicom::PIXEL_DATA) {
                    ds[i].value = Value::Encapsulated { fragments };
                }
                return ts_uid.to_string();
            }
            #[cfg(feature = "jpeg2000")]
            if super::j2k::keeps_syntax(ts_uid) {
                let layout = Layout {
                    info,
                    big_endian: false,
                    planar: 0,
                    photometric: &photometric,
                };
                // every frame or none: a frame the encoder cannot give back exactly sends the whole
                // image to Explicit VR Little Endian
                let encoded: Result<Vec<Vec<u8>>, String> = frames
                    .iter()
                    .map(|f| super::j2k::encode_frame(f, info, &layout))
                    .collect();
                if let Ok(encoded) = encoded {
                    let mut fragments: Vec<Cow<'_, [u8]>> = vec![Cow::Owned(Vec::new())];
                    fragments.extend(encoded.into_iter().map(Cow::Owned));
                    if let Some(i) = ds.iter().position(|e| e.tag == dicom::PIXEL_DATA) {
                        ds[i].value = Value::Encapsulated { fragments };
                    }
                    // the transfer syntax stays and the coding is lossless: the file's own lossy
                    // compression history stays true as it is
                    decoded_attributes(ds, info, &photometric, None);
                    return ts_uid.to_string();
                }
            }
            let mut all = Vec::with_capacity(frames.iter().map(Vec::len).sum());
            for f in frames {
                all.extend_from_slice(&f);
            }
            if all.len() % 2 == 1 {
                all.push(0);
            }
            let vr = if info.bits_allocated > 8 {
                Vr::OW
            } else {
                Vr::OB
            };
            dicom::put(
                ds,
                Element {
                    tag: dicom::PIXEL_DATA,
                    vr,
                    value: Value::Bytes(Cow::Owned(all)),
                },
            );
            decoded_attributes(ds, info, &photometric, lossy_method(ts_uid));
            dicom::TransferSyntax::EXPLICIT_LE.to_string()
        }
    }
}

/// The attributes that describe decoded, re-written samples: colour as the decoder gave it
/// (interleaved), and, when they leave a lossy transfer syntax (`lossy`: its method), the history of
/// that compression.
fn decoded_attributes(
    ds: &mut Vec<Element<'_>>,
    info: &ImageInfo,
    photometric: &str,
    lossy: Option<&str>,
) {
    if info.samples == 3 {
        dicom::put(ds, Element::new_str(PHOTOMETRIC, Vr::CS, photometric));
        dicom::put(
            ds,
            Element::new_bytes(PLANAR_CONFIGURATION, Vr::US, 0u16.to_le_bytes().to_vec()),
        );
    }
    if let Some(method) = lossy {
        dicom::put(ds, Element::new_str(LOSSY_IMAGE_COMPRESSION, Vr::CS, "01"));
        if find(ds, LOSSY_METHOD).is_none() {
            dicom::put(ds, Element::new_str(LOSSY_METHOD, Vr::CS, method));
        }
    }
}

/// The Lossy Image Compression Method of a lossy transfer syntax.
pub fn lossy_method(ts_uid: &str) -> Option<&'static str> {
    match ts_uid {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" => Some("ISO_10918_1"),
        "1.2.840.10008.1.2.4.91" | "1.2.840.10008.1.2.4.93" => Some("ISO_15444_1"),
        "1.2.840.10008.1.2.4.81" => Some("ISO_14495_1"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpackbits(src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < src.len() {
            let c = src[i] as i8;
            i += 1;
            if c >= 0 {
                let n = c as usize + 1;
                out.extend_from_slice(&src[i..i + n]);
                i += n;
            } else if c != -128 {
                let n = (-(c as i32)) as usize + 1;
                out.extend(std::iter::repeat_n(src[i], n));
                i += 1;
            }
        }
        out
    }

    #[test]
    fn packbits_round_trips() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![1],
            vec![1, 1],
            vec![1, 2, 3, 3, 3, 4],
            vec![7; 300],
            (0..=255u8).cycle().take(1000).collect(),
            (0..500)
                .map(|i| if i % 7 < 3 { 0 } else { (i % 5) as u8 })
                .collect(),
        ];
        for c in cases {
            let mut enc = Vec::new();
            packbits(&c, &mut enc);
            assert_eq!(unpackbits(&enc), c);
        }
    }

    fn info(samples: u32, bits: u32, photometric: &str) -> ImageInfo {
        ImageInfo {
            rows: 4,
            cols: 6,
            samples,
            bits_allocated: bits,
            bits_stored: bits,
            signed: false,
            photometric: photometric.into(),
            planar: 0,
            frames: 1,
            big_endian: false,
        }
    }

    #[test]
    fn a_whole_plane_reads_as_sample_by_sample_in_every_size_order_and_sign() {
        // pseudo-random bytes, including the bits above Bits Stored (old overlay bits)
        let bytes: Vec<u8> = (0u32..24 * 4)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for (alloc, stored) in [(8, 8), (8, 7), (16, 16), (16, 12), (16, 1), (32, 32), (32, 24)] {
            for signed in [false, true] {
                for big_endian in [false, true] {
                    let mut i = info(1, alloc, "MONOCHROME2");
                    i.bits_stored = stored;
                    i.signed = signed;
                    let l = Layout {
                        info: &i,
                        big_endian,
                        planar: 0,
                        photometric: "MONOCHROME2",
                    };
                    let frame = &bytes[..24 * (alloc as usize / 8)];
                    let one_by_one: Vec<i64> = (0..24).map(|p| l.sample(frame, p)).collect();
                    assert_eq!(
                        l.plane(frame, 24),
                        Some(one_by_one),
                        "{alloc}/{stored} bits, signed {signed}, big endian {big_endian}"
                    );
                }
            }
        }
        // a short frame or an impossible Bits Stored is left to the sample-by-sample reading
        for (stored, len) in [(16, 10), (17, 48)] {
            let mut i = info(1, 16, "MONOCHROME2");
            i.bits_stored = stored;
            let l = Layout {
                info: &i,
                big_endian: false,
                planar: 0,
                photometric: "MONOCHROME2",
            };
            assert_eq!(l.plane(&bytes[..len], 24), None, "{stored} bits, {len} bytes");
        }
    }

    #[test]
    fn the_stretch_table_equals_the_division_it_replaces() {
        for span in [1usize, 2, 3, 7, 100, 254, 255, 256, 257, 1000, 4095, 4096, 65535, 65536] {
            for invert in [false, true] {
                let table = stretch_table(span, |g| if invert { 255 - g } else { g });
                assert_eq!(table.len(), span + 1);
                for (d, &g) in table.iter().enumerate() {
                    let want = (d * 255 / span) as u8;
                    assert_eq!(g, if invert { 255 - want } else { want }, "span {span}, value {d}");
                }
            }
        }
        // spans above the table's reach still divide (32-bit samples)
        let wide = stretch(&[-(1 << 40), 0, 1 << 40], 3, 1, false);
        assert_eq!(wide.data, vec![0, 127, 255]);
    }

    #[test]
    fn mask_fills_only_the_rectangle_with_the_darkest_value() {
        let i = info(1, 16, "MONOCHROME2");
        let mut f: Vec<u8> = (0..24u16)
            .flat_map(|v| (v * 100 + 50).to_le_bytes())
            .collect();
        let l = Layout {
            info: &i,
            big_endian: false,
            planar: 0,
            photometric: "MONOCHROME2",
        };
        let fill = l.fill(&f, None);
        assert_eq!(fill[0], 50);
        let before = f.clone();
        l.mask(&mut f, Rect::new(1, 1, 2, 2), fill);
        for p in 0..24 {
            let (x, y) = (p % 6, p / 6);
            let inside = (1..3).contains(&x) && (1..3).contains(&y);
            let v = u16::from_le_bytes([f[2 * p], f[2 * p + 1]]);
            if inside {
                assert_eq!(v, 50);
            } else {
                assert_eq!(&f[2 * p..2 * p + 2], &before[2 * p..2 * p + 2]);
            }
        }
        // MONOCHROME1: darkest is the largest value
        let l1 = Layout {
            photometric: "MONOCHROME1",
            ..l
        };
        assert_eq!(l1.fill(&before, None)[0], 2350);
    }

    #[test]
    fn grey_view_stretches_signed_samples_and_reads_planar_rgb() {
        let mut i = info(1, 16, "MONOCHROME2");
        i.signed = true;
        let vals: [i16; 24] = core::array::from_fn(|k| k as i16 * 10 - 100);
        let f: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let g = Layout {
            info: &i,
            big_endian: false,
            planar: 0,
            photometric: "MONOCHROME2",
        }
        .grey(&f, None);
        assert_eq!(g.data[0], 0);
        assert_eq!(g.data[23], 255);
        let mut rgb = info(3, 8, "RGB");
        rgb.planar = 1;
        let mut f = vec![0u8; 72];
        f[5] = 255; // R of pixel 5
        f[24 + 5] = 255;
        f[48 + 5] = 255;
        let g = Layout {
            info: &rgb,
            big_endian: false,
            planar: 1,
            photometric: "RGB",
        }
        .grey(&f, None);
        assert_eq!(g.data[5], 255);
        assert_eq!(g.data[4], 0);
    }

    /// The views as the samples read one by one give them (the reading before [`Layout::views`]
    /// read each frame once for all views).
    fn views_one_by_one(l: &Layout<'_>, f: &[u8], pal: Option<&Palette>) -> Vec<Vec<u8>> {
        let (i, n) = (l.info, l.info.pixels());
        let pair = i.is_422() && l.photometric.ends_with("_422");
        let px = |p: usize| -> [i64; 3] {
            if i.samples == 1 {
                let v = l.sample(f, p);
                return match pal {
                    Some(pal) => {
                        let (b, r) = pal.chroma(v);
                        [pal.luminance(v) as i64, b, r]
                    }
                    None => [v, 0, 0],
                };
            }
            let s = |k: usize| {
                if pair {
                    l.sample(f, (p / 2) * 4 + [p % 2, 2, 3][k])
                } else {
                    l.sample(f, l.index(p, k))
                }
            };
            if l.photometric.starts_with("YBR") {
                return [s(0), s(1), s(2)];
            }
            let (u, v) = colour_difference(s(0), s(1), s(2));
            [(299 * s(0) + 587 * s(1) + 114 * s(2)) / 1000, u, v]
        };
        let all: Vec<[i64; 3]> = (0..n).map(px).collect();
        let full = if pal.is_some() { 65535 } else { (1i64 << i.bits_stored) - 1 };
        let mut out = Vec::new();
        for c in 0..3 {
            let v: Vec<i64> = all.iter().map(|p| p[c]).collect();
            let (lo, hi) = min_max(&v);
            let grey = i.samples == 1 && pal.is_none();
            if c == 0 || (!grey && (hi - lo) * 16 >= full) {
                let invert = c == 0 && grey && l.photometric == "MONOCHROME1";
                out.push(stretch(&v, i.cols as usize, i.rows as usize, invert).data);
            }
        }
        out
    }

    #[test]
    fn the_views_read_once_per_frame_are_those_of_each_sample_read_on_its_own() {
        let layout = |i, planar, photometric, big_endian| Layout {
            info: i,
            big_endian,
            planar,
            photometric,
        };
        let bytes = |n: usize, k: u32| -> Vec<u8> {
            (0..n).map(|j| ((j as u32).wrapping_mul(2654435761).wrapping_add(k << 20) >> 13) as u8).collect()
        };
        let rgb = info(3, 8, "RGB");
        let mut rgb_planar = info(3, 8, "RGB");
        rgb_planar.planar = 1;
        let mut rgb16 = info(3, 16, "RGB");
        rgb16.big_endian = true;
        let ybr = info(3, 8, "YBR_FULL");
        let ybr422 = info(3, 8, "YBR_FULL_422");
        let (mono1, pal8) = (info(1, 16, "MONOCHROME1"), info(1, 8, "PALETTE COLOR"));
        let pal = Palette {
            first: 0,
            lum: (0..256).map(|k| (k * 97 % 256) as u16 * 257).collect(),
            chroma: (0..256).map(|k| ((k * 31 % 256) * 200 - 25600, (k * 7 % 256) * 100)).collect(),
        };
        let cases: [(Layout<'_>, usize, Option<&Palette>); 8] = [
            (layout(&rgb, 0, "RGB", false), 72, None),
            (layout(&rgb_planar, 1, "RGB", false), 72, None),
            (layout(&rgb16, 0, "RGB", true), 144, None),
            (layout(&ybr, 0, "YBR_FULL", false), 72, None),
            (layout(&ybr422, 0, "YBR_FULL_422", false), 48, None),
            // a decoded JPEG of a 4:2:2 file: interleaved RGB
            (layout(&ybr422, 0, "RGB", false), 72, None),
            (layout(&mono1, 0, "MONOCHROME1", false), 48, None),
            (layout(&pal8, 0, "PALETTE COLOR", false), 24, Some(&pal)),
        ];
        for (k, (l, len, pal)) in cases.iter().enumerate() {
            let f = bytes(*len, k as u32);
            let got: Vec<Vec<u8>> = l.views(&f, *pal, true).into_iter().map(|g| g.data).collect();
            assert_eq!(got, views_one_by_one(l, &f, *pal), "case {k}");
            assert!(got.len() == 3 || (k == 6 && got.len() == 1), "case {k}: {}", got.len());
            assert_eq!(l.grey(&f, *pal).data, got[0], "case {k}");
        }
    }

    #[test]
    fn rle_frame_has_one_segment_per_byte_plane() {
        let i = info(3, 8, "RGB");
        let f: Vec<u8> = (0..72).map(|k| (k / 3) as u8).collect();
        let enc = rle_encode_frame(&f, &i);
        assert_eq!(u32::from_le_bytes(enc[0..4].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(enc[4..8].try_into().unwrap()), 64);
    }
}
