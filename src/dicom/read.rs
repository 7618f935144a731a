//! Reading: preamble, file meta group, data set (implicit/explicit, little/big endian, deflated),
//! sequences of defined and undefined length at any depth, encapsulated pixel data.

use super::*;

const UNDEFINED: u32 = 0xFFFF_FFFF;
/// Deeper nesting than this is treated as a malicious or broken file.
pub const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    explicit: bool,
    big: bool,
    /// stop at the top-level pixel data (for reading identifiers from a file's first bytes)
    header_only: bool,
}

struct Header {
    tag: Tag,
    vr: Vr,
    len: u32,
    offset: usize,
}

impl<'a> Reader<'a> {
    fn need(&self, n: usize, what: &'static str) -> Result<(), CodecError> {
        if self.buf.len() - self.pos < n {
            return Err(CodecError::Truncated { what, offset: self.pos, needed: n, available: self.buf.len() - self.pos });
        }
        Ok(())
    }
    fn u16_at(&self, p: usize) -> u16 {
        let b = [self.buf[p], self.buf[p + 1]];
        if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }
    fn u32_at(&self, p: usize) -> u32 {
        let b = [self.buf[p], self.buf[p + 1], self.buf[p + 2], self.buf[p + 3]];
        if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
    fn peek_tag(&self) -> Result<Tag, CodecError> {
        self.need(4, "tag")?;
        Ok(tag(self.u16_at(self.pos), self.u16_at(self.pos + 2)))
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        self.need(n, what)?;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads an item or delimiter header: tag + 4-byte length, no VR, in every transfer syntax.
    fn item_header(&mut self) -> Result<(Tag, u32), CodecError> {
        self.need(8, "item header")?;
        let t = self.peek_tag()?;
        let len = self.u32_at(self.pos + 4);
        self.pos += 8;
        Ok((t, len))
    }

    fn header(&mut self) -> Result<Header, CodecError> {
        let offset = self.pos;
        let t = self.peek_tag()?;
        if group(t) == 0xFFFE {
            let (t, len) = self.item_header()?;
            return Ok(Header { tag: t, vr: Vr::UN, len, offset });
        }
        if self.explicit {
            self.need(8, "element header")?;
            let vb = [self.buf[self.pos + 4], self.buf[self.pos + 5]];
            let vr = Vr::from_bytes(vb).ok_or(CodecError::BadVr { tag: tag_string(t), bytes: vb, offset })?;
            if vr.has_long_length() {
                self.need(12, "element header")?;
                let len = self.u32_at(self.pos + 8);
                self.pos += 12;
                Ok(Header { tag: t, vr, len, offset })
            } else {
                let len = self.u16_at(self.pos + 6) as u32;
                self.pos += 8;
                Ok(Header { tag: t, vr, len, offset })
            }
        } else {
            self.need(8, "element header")?;
            let len = self.u32_at(self.pos + 4);
            self.pos += 8;
            let vr = dictionary_vr(t).unwrap_or(Vr::UN);
            Ok(Header { tag: t, vr, len, offset })
        }
    }

    /// Reads elements up to `end` (a defined length), or up to an item delimitation item when `end` is
    /// `None` and `in_item` is set, or to the end of the buffer at the top level.
    fn elements(&mut self, end: Option<usize>, in_item: bool, depth: usize) -> Result<Vec<Element<'a>>, CodecError> {
        if depth > MAX_DEPTH {
            return Err(CodecError::TooDeep(MAX_DEPTH));
        }
        let mut out: Vec<Element<'a>> = Vec::new();
        let mut sorted = true;
        loop {
            match end {
                Some(e) if self.pos >= e => {
                    if self.pos > e {
                        return Err(CodecError::Structure { offset: self.pos, message: "element crosses the end of its item".into() });
                    }
                    break;
                }
                None if !in_item && self.pos >= self.buf.len() => break,
                None if !in_item && self.buf[self.pos..].iter().all(|&b| b == 0) => {
                    // trailing zero padding after the data set
                    break;
                }
                _ => {}
            }
            if self.header_only && !in_item && depth == 0 && self.peek_tag()? >= tag(0x7FE0, 0x0000) {
                break;
            }
            let h = self.header()?;
            match h.tag {
                ITEM_DELIMITATION if in_item && end.is_none() => break,
                ITEM_DELIMITATION | ITEM | SEQUENCE_DELIMITATION => {
                    return Err(CodecError::Structure { offset: h.offset, message: format!("unexpected {} here", tag_string(h.tag)) })
                }
                _ => {}
            }
            let el = self.value(h, depth)?;
            if let Some(last) = out.last() {
                if last.tag >= el.tag {
                    sorted = false;
                }
            }
            out.push(el);
        }
        if !sorted {
            out.sort_by_key(|e| e.tag);
        }
        Ok(out)
    }

    fn value(&mut self, h: Header, depth: usize) -> Result<Element<'a>, CodecError> {
        let is_sq = h.vr == Vr::SQ;
        if h.len == UNDEFINED {
            if is_sq || h.vr == Vr::UN {
                // UN of undefined length is a sequence encoded in implicit VR little endian (PS3.5 6.2.2)
                let saved = (self.explicit, self.big);
                if h.vr == Vr::UN {
                    self.explicit = false;
                    self.big = false;
                }
                let items = self.items(None, depth + 1);
                (self.explicit, self.big) = saved;
                return Ok(Element { tag: h.tag, vr: Vr::SQ, value: Value::Sequence { items: items?, undefined_length: true } });
            }
            if h.tag == PIXEL_DATA {
                return Ok(Element { tag: h.tag, vr: h.vr, value: Value::Encapsulated { fragments: self.fragments()? } });
            }
            return Err(CodecError::Structure {
                offset: h.offset,
                message: format!("undefined length on {} with VR {}", tag_string(h.tag), h.vr),
            });
        }
        let len = h.len as usize;
        self.need(len, "element value")?;
        if is_sq {
            let end = self.pos + len;
            let items = self.items(Some(end), depth + 1)?;
            return Ok(Element { tag: h.tag, vr: Vr::SQ, value: Value::Sequence { items, undefined_length: false } });
        }
        let b = self.take(len, "element value")?;
        Ok(Element { tag: h.tag, vr: h.vr, value: Value::Bytes(Cow::Borrowed(b)) })
    }

    fn items(&mut self, end: Option<usize>, depth: usize) -> Result<Vec<Item<'a>>, CodecError> {
        if depth > MAX_DEPTH {
            return Err(CodecError::TooDeep(MAX_DEPTH));
        }
        let mut items = Vec::new();
        loop {
            if let Some(e) = end {
                if self.pos >= e {
                    if self.pos > e {
                        return Err(CodecError::Structure { offset: self.pos, message: "item crosses the end of its sequence".into() });
                    }
                    break;
                }
            }
            let offset = self.pos;
            let (t, len) = self.item_header()?;
            match t {
                SEQUENCE_DELIMITATION if end.is_none() => break,
                ITEM => {}
                _ => return Err(CodecError::Structure { offset, message: format!("expected an item, found {}", tag_string(t)) }),
            }
            if len == UNDEFINED {
                let elements = self.elements(None, true, depth)?;
                items.push(Item { elements, undefined_length: true });
            } else {
                let len = len as usize;
                self.need(len, "item")?;
                let item_end = self.pos + len;
                let elements = self.elements(Some(item_end), true, depth)?;
                items.push(Item { elements, undefined_length: false });
            }
        }
        Ok(items)
    }

    fn fragments(&mut self) -> Result<Vec<Cow<'a, [u8]>>, CodecError> {
        let mut frags = Vec::new();
        loop {
            let offset = self.pos;
            let (t, len) = self.item_header()?;
            match t {
                SEQUENCE_DELIMITATION => break,
                ITEM if len != UNDEFINED => frags.push(Cow::Borrowed(self.take(len as usize, "pixel data fragment")?)),
                _ => return Err(CodecError::Structure { offset, message: "bad encapsulated pixel data item".into() }),
            }
        }
        if frags.is_empty() {
            return Err(CodecError::Structure { offset: self.pos, message: "encapsulated pixel data without a Basic Offset Table item".into() });
        }
        Ok(frags)
    }
}

/// Parses a DICOM file. Values borrow from `input` (a deflated data set is inflated and owned).
pub fn parse(input: &[u8]) -> Result<FileObject<'_>, CodecError> {
    parse_impl(input, false)
}

/// Parses a file up to its top-level pixel data, which is not read: `input` may be just the file's
/// first bytes (enough to hold the header). Used to collect identifiers without reading whole files.
pub fn parse_header(input: &[u8]) -> Result<FileObject<'_>, CodecError> {
    parse_impl(input, true)
}

fn parse_impl(input: &[u8], header_only: bool) -> Result<FileObject<'_>, CodecError> {
    let (framing, meta_start) = if input.len() >= 132 && &input[128..132] == b"DICM" {
        (Framing::Part10, 132)
    } else if input.len() >= 4 && &input[0..4] == b"DICM" {
        (Framing::NoPreamble, 4)
    } else {
        (Framing::NoFileMeta, 0)
    };
    if framing == Framing::NoFileMeta {
        let (dataset, ts) = infer_and_parse(input, header_only)?;
        return Ok(FileObject { meta: Vec::new(), dataset, transfer_syntax: ts, framing, vr_mismatch: false });
    }
    let (meta, ds_start) = parse_meta(input, meta_start)?;
    let ts_uid = find(&meta, TRANSFER_SYNTAX_UID).and_then(ascii_value).map(str::to_string);
    let rest = &input[ds_start..];
    let Some(ts_uid) = ts_uid.filter(|s| !s.is_empty()) else {
        // the file meta has no transfer syntax: infer it from the data set as for a bare data set
        let (dataset, ts) = infer_and_parse(rest, header_only)?;
        return Ok(FileObject { meta, dataset, transfer_syntax: ts, framing, vr_mismatch: false });
    };
    if !ts_uid.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return Err(CodecError::Meta("Transfer Syntax UID is not a UID".into()));
    }
    let ts = TransferSyntax::from_uid(&ts_uid);
    let dataset = if ts.deflated {
        let inflated = inflate(rest)?;
        let mut r = Reader { buf: &inflated, pos: 0, explicit: true, big: false, header_only };
        let ds = r.elements(None, false, 0)?;
        ds.into_iter().map(Element::into_owned).collect()
    } else {
        let mut r = Reader { buf: rest, pos: 0, explicit: ts.explicit, big: ts.big_endian, header_only };
        match r.elements(None, false, 0) {
            Ok(ds) => ds,
            Err(e) => {
                // some writers put an implicit VR data set behind an explicit VR transfer syntax (or the
                // reverse); accept the other encoding only if the whole data set parses with it
                let mut r2 = Reader { buf: rest, pos: 0, explicit: !ts.explicit, big: false, header_only };
                match r2.elements(None, false, 0) {
                    Ok(ds) if !ts.big_endian && !ds.is_empty() => {
                        return Ok(FileObject { meta, dataset: ds, transfer_syntax: ts, framing, vr_mismatch: true });
                    }
                    _ => return Err(shift_offset(e, ds_start)),
                }
            }
        }
    };
    Ok(FileObject { meta, dataset, transfer_syntax: ts, framing, vr_mismatch: false })
}

fn shift_offset(e: CodecError, by: usize) -> CodecError {
    match e {
        CodecError::Truncated { what, offset, needed, available } => CodecError::Truncated { what, offset: offset + by, needed, available },
        CodecError::BadVr { tag, bytes, offset } => CodecError::BadVr { tag, bytes, offset: offset + by },
        CodecError::Structure { offset, message } => CodecError::Structure { offset: offset + by, message },
        other => other,
    }
}

fn parse_meta(input: &[u8], start: usize) -> Result<(Vec<Element<'_>>, usize), CodecError> {
    let mut r = Reader { buf: input, pos: start, explicit: true, big: false, header_only: false };
    let mut meta = Vec::new();
    while r.pos + 8 <= input.len() {
        let t = r.peek_tag()?;
        if group(t) != 0x0002 {
            break;
        }
        let h = r.header().map_err(|e| CodecError::Meta(e.to_string()))?;
        if h.vr == Vr::SQ || h.len == UNDEFINED {
            return Err(CodecError::Meta(format!("unexpected sequence {} in the file meta group", tag_string(h.tag))));
        }
        let el = r.value(h, 0).map_err(|e| CodecError::Meta(e.to_string()))?;
        meta.push(el);
    }
    if meta.is_empty() {
        return Err(CodecError::Meta("DICM prefix but no file meta elements".into()));
    }
    meta.sort_by_key(|e| e.tag);
    Ok((meta, r.pos))
}

fn inflate(data: &[u8]) -> Result<Vec<u8>, CodecError> {
    use std::io::Read;
    let mut out = Vec::with_capacity(data.len() * 4);
    flate2::read::DeflateDecoder::new(data).read_to_end(&mut out).map_err(|_| CodecError::Inflate)?;
    Ok(out)
}

/// Parses a data set without file meta, trying explicit LE, explicit BE and implicit LE in the order
/// the first element suggests. A candidate is accepted only if the whole data set parses and its first
/// tag is a plausible standard group; otherwise the input is not DICOM.
fn infer_and_parse(input: &[u8], header_only: bool) -> Result<(Vec<Element<'_>>, TransferSyntax), CodecError> {
    if input.len() < 8 {
        return Err(CodecError::NotDicom);
    }
    let vr_like = Vr::from_bytes([input[4], input[5]]).is_some();
    let le_group = u16::from_le_bytes([input[0], input[1]]);
    let be_group = u16::from_be_bytes([input[0], input[1]]);
    let plausible = |g: u16| (0x0002..=0x0010).contains(&g) && g % 2 == 0;
    let mut candidates = Vec::new();
    if vr_like {
        if plausible(le_group) {
            candidates.push(TransferSyntax::EXPLICIT_LE);
        }
        if plausible(be_group) {
            candidates.push(TransferSyntax::EXPLICIT_BE);
        }
    }
    if plausible(le_group) {
        candidates.push(TransferSyntax::IMPLICIT_LE);
    }
    let mut first_err = None;
    for uid in candidates {
        let ts = TransferSyntax::from_uid(uid);
        let mut r = Reader { buf: input, pos: 0, explicit: ts.explicit, big: ts.big_endian, header_only };
        match r.elements(None, false, 0) {
            Ok(ds) if !ds.is_empty() => return Ok((ds, ts)),
            Ok(_) => {}
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.map(|_| CodecError::NotDicom).unwrap_or(CodecError::NotDicom))
}

impl Element<'_> {
    /// Copies every borrowed value so the element no longer borrows its input.
    pub fn into_owned(self) -> Element<'static> {
        Element { tag: self.tag, vr: self.vr, value: self.value.into_owned() }
    }
}

impl Value<'_> {
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Sequence { items, undefined_length } => Value::Sequence {
                items: items
                    .into_iter()
                    .map(|i| Item { elements: i.elements.into_iter().map(Element::into_owned).collect(), undefined_length: i.undefined_length })
                    .collect(),
                undefined_length,
            },
            Value::Encapsulated { fragments } => Value::Encapsulated { fragments: fragments.into_iter().map(|f| Cow::Owned(f.into_owned())).collect() },
        }
    }
}

/// Parses the bytes of a sequence value held as UN (a private SQ in an implicit VR data set) as items
/// in implicit VR little endian.
pub fn parse_items_implicit(b: &[u8]) -> Result<Vec<Item<'static>>, CodecError> {
    let mut r = Reader { buf: b, pos: 0, explicit: false, big: false, header_only: false };
    let items = r.items(Some(b.len()), 1)?;
    Ok(items
        .into_iter()
        .map(|i| Item { elements: i.elements.into_iter().map(Element::into_owned).collect(), undefined_length: i.undefined_length })
        .collect())
}
