//! Writing: a zeroed 128-byte preamble, "DICM", the file meta group (explicit VR little endian, with a
//! recomputed group length), then the data set in the file's own transfer syntax. Values are written as
//! they are held (raw bytes in the data set's byte order); sequences keep the defined/undefined length
//! form they were read with (defined lengths are recomputed).

use super::*;

const UNDEFINED: u32 = 0xFFFF_FFFF;

#[derive(Clone, Copy)]
struct Enc {
    explicit: bool,
    big: bool,
}

impl Enc {
    fn u16(&self, out: &mut Sink<'_>, v: u16) {
        out.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn u32(&self, out: &mut Sink<'_>, v: u32) {
        out.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn tag(&self, out: &mut Sink<'_>, t: Tag) {
        self.u16(out, group(t));
        self.u16(out, element(t));
    }

    fn header_len(&self, vr: Vr) -> usize {
        if self.explicit && vr.has_long_length() {
            12
        } else {
            8
        }
    }

    /// Encoded length of a value; `None` for undefined-length encodings.
    fn value_len(&self, v: &Value<'_>) -> usize {
        match v {
            Value::Bytes(b) => b.len(),
            Value::Sequence { items, undefined_length } => {
                let body: usize = items.iter().map(|i| self.item_len(i)).sum();
                body + if *undefined_length { 8 } else { 0 }
            }
            Value::Encapsulated { fragments } => fragments.iter().map(|f| 8 + f.len()).sum::<usize>() + 8,
        }
    }

    fn item_len(&self, i: &Item<'_>) -> usize {
        let body: usize = i.elements.iter().map(|e| self.element_len(e)).sum();
        8 + body + if i.undefined_length { 8 } else { 0 }
    }

    fn element_len(&self, e: &Element<'_>) -> usize {
        self.header_len(out_vr(e)) + self.value_len(&e.value)
    }

    fn header(&self, out: &mut Sink<'_>, t: Tag, vr: Vr, len: u32) -> Result<(), CodecError> {
        self.tag(out, t);
        if self.explicit {
            out.extend_from_slice(&vr.0);
            if vr.has_long_length() {
                out.extend_from_slice(&[0, 0]);
                self.u32(out, len);
            } else {
                if len > 0xFFFF {
                    return Err(CodecError::TooLong { tag: tag_string(t), vr: vr.to_string(), len: len as usize });
                }
                self.u16(out, len as u16);
            }
        } else {
            self.u32(out, len);
        }
        Ok(())
    }

    fn element(&self, out: &mut Sink<'_>, e: &Element<'_>) -> Result<(), CodecError> {
        let vr = out_vr(e);
        match &e.value {
            Value::Bytes(b) => {
                self.header(out, e.tag, vr, len32(b.len(), e.tag)?)?;
                out.extend_from_slice(b);
            }
            Value::Sequence { items, undefined_length } => {
                let len = if *undefined_length { UNDEFINED } else { len32(self.value_len(&e.value), e.tag)? };
                self.header(out, e.tag, vr, len)?;
                for i in items {
                    self.item(out, i)?;
                }
                if *undefined_length {
                    self.tag(out, SEQUENCE_DELIMITATION);
                    self.u32(out, 0);
                }
            }
            Value::Encapsulated { fragments } => {
                self.header(out, e.tag, vr, UNDEFINED)?;
                for f in fragments {
                    self.tag(out, ITEM);
                    self.u32(out, len32(f.len(), e.tag)?);
                    out.extend_from_slice(f);
                }
                self.tag(out, SEQUENCE_DELIMITATION);
                self.u32(out, 0);
            }
        }
        Ok(())
    }

    fn item(&self, out: &mut Sink<'_>, i: &Item<'_>) -> Result<(), CodecError> {
        self.tag(out, ITEM);
        if i.undefined_length {
            self.u32(out, UNDEFINED);
        } else {
            let body: usize = i.elements.iter().map(|e| self.element_len(e)).sum();
            self.u32(out, len32(body, ITEM)?);
        }
        for e in &i.elements {
            self.element(out, e)?;
        }
        if i.undefined_length {
            self.tag(out, ITEM_DELIMITATION);
            self.u32(out, 0);
        }
        Ok(())
    }
}

fn len32(n: usize, t: Tag) -> Result<u32, CodecError> {
    u32::try_from(n).ok().filter(|&n| n != UNDEFINED).ok_or(CodecError::TooLong { tag: tag_string(t), vr: "?".into(), len: n })
}

/// The VR written for an element: sequences are always SQ (also when read as UN of undefined length),
/// encapsulated pixel data is OB.
fn out_vr(e: &Element<'_>) -> Vr {
    match e.value {
        Value::Sequence { .. } => Vr::SQ,
        Value::Encapsulated { .. } => Vr::OB,
        Value::Bytes(_) => e.vr,
    }
}

/// Where encoded bytes go: a growing buffer, or a writer that large values (pixel data) go to directly
/// so they are never copied into an intermediate buffer.
pub(crate) struct Sink<'w> {
    buf: Vec<u8>,
    w: Option<&'w mut dyn std::io::Write>,
    err: Option<std::io::Error>,
}

const DIRECT: usize = 64 * 1024;

impl<'w> Sink<'w> {
    fn extend_from_slice(&mut self, b: &[u8]) {
        match &mut self.w {
            Some(w) if b.len() >= DIRECT => {
                if self.err.is_none() {
                    let r = w.write_all(&self.buf).and_then(|_| w.write_all(b));
                    self.buf.clear();
                    if let Err(e) = r {
                        self.err = Some(e);
                    }
                }
            }
            Some(w) => {
                self.buf.extend_from_slice(b);
                // many small values (the fragments of a multi-frame JPEG): passed on now and then,
                // so that the buffer never holds a copy of the pixel data
                if self.buf.len() >= 16 * DIRECT && self.err.is_none() {
                    if let Err(e) = w.write_all(&self.buf) {
                        self.err = Some(e);
                    }
                    self.buf.clear();
                }
            }
            None => self.buf.extend_from_slice(b),
        }
    }
    fn finish(mut self) -> Result<Vec<u8>, std::io::Error> {
        if let Some(e) = self.err {
            return Err(e);
        }
        if let Some(w) = &mut self.w {
            w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(self.buf)
    }
}

/// Serialises a file object as a Part 10 file.
pub fn write(obj: &FileObject<'_>) -> Result<Vec<u8>, CodecError> {
    let hint = 132 + obj.dataset.iter().map(|e| Enc { explicit: obj.transfer_syntax.explicit, big: obj.transfer_syntax.big_endian }.element_len(e)).sum::<usize>();
    let sink = Sink { buf: Vec::with_capacity(hint + 512), w: None, err: None };
    write_sink(obj, sink).map_err(|e| match e {
        WriteError::Codec(c) => c,
        WriteError::Io(_) => CodecError::Inflate,
    })
}

/// Serialises a file object into a writer; large values are written straight from the input.
pub fn write_to(obj: &FileObject<'_>, w: &mut dyn std::io::Write) -> Result<(), WriteError> {
    let sink = Sink { buf: Vec::with_capacity(64 * 1024), w: Some(w), err: None };
    write_sink(obj, sink).map(|_| ())
}

/// Errors of [`write_to`].
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("output error: {0}")]
    Io(#[from] std::io::Error),
}

fn write_sink(obj: &FileObject<'_>, mut out: Sink<'_>) -> Result<Vec<u8>, WriteError> {
    let meta_enc = Enc { explicit: true, big: false };
    let ts = &obj.transfer_syntax;
    let enc = Enc { explicit: ts.explicit, big: ts.big_endian };
    out.extend_from_slice(&[0u8; 128]);
    out.extend_from_slice(b"DICM");
    let mut meta_body = Sink { buf: Vec::new(), w: None, err: None };
    for e in obj.meta.iter().filter(|e| e.tag != tag(0x0002, 0x0000)) {
        meta_enc.element(&mut meta_body, e)?;
    }
    let meta_body = meta_body.buf;
    meta_enc.element(&mut out, &Element::new_bytes(tag(0x0002, 0x0000), Vr::UL, (meta_body.len() as u32).to_le_bytes().to_vec()))?;
    out.extend_from_slice(&meta_body);
    if ts.deflated {
        let mut body = Sink { buf: Vec::new(), w: None, err: None };
        for e in &obj.dataset {
            enc.element(&mut body, e)?;
        }
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&body.buf)?;
        let mut deflated = z.finish()?;
        if deflated.len() % 2 == 1 {
            deflated.push(0);
        }
        out.extend_from_slice(&deflated);
    } else {
        for e in &obj.dataset {
            enc.element(&mut out, e)?;
        }
    }
    Ok(out.finish()?)
}
