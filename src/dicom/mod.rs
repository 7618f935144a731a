//! A byte-preserving DICOM Part 10 reader and writer.
//!
//! Why not `dicom-object` for this part: a de-identifier must change a few values and leave every other
//! byte alone. `dicom-object` decodes every text value into a `String` on read and re-encodes it on write,
//! using only the first value of Specific Character Set and splitting values on the byte 0x5C, which is a
//! valid trail byte inside ISO 2022 JIS X 0208, GBK and GB18030 characters. Values it cannot decode are
//! corrupted silently. This module keeps each value as the raw bytes of the input (borrowed, no copy), so
//! pixel data and every untouched value are byte-identical in the output, and text is decoded only where
//! a rule must read or change it (see [`crate::charset`]). The data dictionary (VRs for implicit VR files,
//! keywords for the report) comes from the `dicom-dictionary-std` crate.
//!
//! Structure: [`parse`] → [`FileObject`] (file meta + data set as a tree of [`Element`]s) → [`write`].

mod dict;
mod read;
mod write;

pub use dict::{keyword, dictionary_vr};
pub use read::{parse, parse_header, parse_items_implicit};
pub use write::{write, write_to, WriteError};

use std::borrow::Cow;

/// A tag as `(group << 16) | element`.
pub type Tag = u32;

/// Builds a tag from group and element.
pub const fn tag(group: u16, element: u16) -> Tag {
    ((group as u32) << 16) | element as u32
}

/// The group number of a tag.
pub const fn group(t: Tag) -> u16 {
    (t >> 16) as u16
}

/// The element number of a tag.
pub const fn element(t: Tag) -> u16 {
    (t & 0xFFFF) as u16
}

/// `(gggg,eeee)` rendering of a tag.
pub fn tag_string(t: Tag) -> String {
    let mut s = String::with_capacity(11);
    push_tag(&mut s, t);
    s
}

/// Appends `(gggg,eeee)` to a string (no formatting machinery: this runs for every element).
pub fn push_tag(s: &mut String, t: Tag) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    s.push('(');
    for (i, shift) in [28u32, 24, 20, 16, 12, 8, 4, 0].into_iter().enumerate() {
        if i == 4 {
            s.push(',');
        }
        s.push(HEX[((t >> shift) & 0xF) as usize] as char);
    }
    s.push(')');
}

pub const ITEM: Tag = tag(0xFFFE, 0xE000);
pub const ITEM_DELIMITATION: Tag = tag(0xFFFE, 0xE00D);
pub const SEQUENCE_DELIMITATION: Tag = tag(0xFFFE, 0xE0DD);
pub const PIXEL_DATA: Tag = tag(0x7FE0, 0x0010);
pub const SPECIFIC_CHARACTER_SET: Tag = tag(0x0008, 0x0005);
pub const TRANSFER_SYNTAX_UID: Tag = tag(0x0002, 0x0010);

/// A value representation, as its two ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vr(pub [u8; 2]);

macro_rules! vrs {
    ($($name:ident),*) => {
        impl Vr { $(pub const $name: Vr = Vr(*stringify!($name).as_bytes().first_chunk::<2>().unwrap());)* }
        /// Every VR of PS3.5 2026c.
        pub const ALL_VRS: &[Vr] = &[$(Vr::$name),*];
    };
}
vrs!(AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV);

impl Vr {
    /// Parses two bytes as a VR, `None` if they are not one.
    pub fn from_bytes(b: [u8; 2]) -> Option<Vr> {
        let v = Vr(b);
        ALL_VRS.contains(&v).then_some(v)
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
    /// Explicit VR encodings with a 2-byte reserved field and a 4-byte length.
    pub fn has_long_length(&self) -> bool {
        matches!(
            *self,
            Vr::OB | Vr::OD | Vr::OF | Vr::OL | Vr::OV | Vr::OW | Vr::SQ | Vr::UC | Vr::UN | Vr::UR | Vr::UT | Vr::SV | Vr::UV
        )
    }
    /// Character-string VRs whose values may carry free text or names (the ones the cleaner reads).
    pub fn is_text(&self) -> bool {
        matches!(*self, Vr::AE | Vr::CS | Vr::LO | Vr::LT | Vr::PN | Vr::SH | Vr::ST | Vr::UC | Vr::UT)
    }
    /// VRs whose values are character strings of any kind.
    pub fn is_string(&self) -> bool {
        self.is_text() || matches!(*self, Vr::AS | Vr::DA | Vr::DS | Vr::DT | Vr::IS | Vr::TM | Vr::UI | Vr::UR)
    }
    /// Strings whose characters are governed by Specific Character Set (the others are always ASCII).
    pub fn uses_charset(&self) -> bool {
        matches!(*self, Vr::LO | Vr::LT | Vr::PN | Vr::SH | Vr::ST | Vr::UC | Vr::UT)
    }
    /// The byte a string of this VR is padded with to even length.
    pub fn pad_byte(&self) -> u8 {
        if *self == Vr::UI {
            0
        } else if self.is_string() {
            b' '
        } else {
            0
        }
    }
}

impl std::fmt::Debug for Vr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Vr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the data set after the file meta group is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferSyntax {
    pub uid: String,
    pub explicit: bool,
    pub big_endian: bool,
    pub deflated: bool,
}

impl TransferSyntax {
    pub const IMPLICIT_LE: &'static str = "1.2.840.10008.1.2";
    pub const EXPLICIT_LE: &'static str = "1.2.840.10008.1.2.1";
    pub const DEFLATED_LE: &'static str = "1.2.840.10008.1.2.1.99";
    pub const EXPLICIT_BE: &'static str = "1.2.840.10008.1.2.2";

    /// Encoding for a transfer syntax UID. Every UID other than the three native ones and deflate is
    /// explicit VR little endian with (possibly) encapsulated pixel data, as PS3.5 Section 10 requires.
    pub fn from_uid(uid: &str) -> TransferSyntax {
        let (explicit, big_endian, deflated) = match uid {
            Self::IMPLICIT_LE => (false, false, false),
            Self::EXPLICIT_BE => (true, true, false),
            Self::DEFLATED_LE => (true, false, true),
            _ => (true, false, false),
        };
        TransferSyntax { uid: uid.to_string(), explicit, big_endian, deflated }
    }
}

/// The value of an element, borrowed from the input where it is unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// Primitive value bytes in the data set's byte order, as read (padding included).
    Bytes(Cow<'a, [u8]>),
    /// A sequence of items; `undefined_length` remembers how the input encoded it.
    Sequence { items: Vec<Item<'a>>, undefined_length: bool },
    /// Encapsulated pixel data: the Basic Offset Table item then the fragments, untouched.
    Encapsulated { fragments: Vec<Cow<'a, [u8]>> },
}

/// One data element.
#[derive(Clone, Debug, PartialEq)]
pub struct Element<'a> {
    pub tag: Tag,
    pub vr: Vr,
    pub value: Value<'a>,
}

/// One sequence item.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Item<'a> {
    pub elements: Vec<Element<'a>>,
    pub undefined_length: bool,
}

/// A parsed Part 10 file (or a bare data set whose transfer syntax was inferred).
#[derive(Clone, Debug)]
pub struct FileObject<'a> {
    /// Group 0002 elements (always explicit VR little endian).
    pub meta: Vec<Element<'a>>,
    pub dataset: Vec<Element<'a>>,
    pub transfer_syntax: TransferSyntax,
    /// How the input was framed, for the report.
    pub framing: Framing,
    /// The data set's VR encoding (explicit/implicit) contradicted its transfer syntax and was read
    /// the other way; the writer then writes it as the transfer syntax says.
    pub vr_mismatch: bool,
}

/// How the input file was framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// 128-byte preamble, "DICM", file meta group.
    Part10,
    /// "DICM" and file meta group without the preamble.
    NoPreamble,
    /// A bare data set without file meta; the transfer syntax was inferred.
    NoFileMeta,
}

impl<'a> Element<'a> {
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
    pub fn new_bytes(tag: Tag, vr: Vr, bytes: Vec<u8>) -> Element<'a> {
        Element { tag, vr, value: Value::Bytes(Cow::Owned(bytes)) }
    }
    /// A string element, padded to even length with the VR's pad byte.
    pub fn new_str(tag: Tag, vr: Vr, s: &str) -> Element<'a> {
        Element::new_bytes(tag, vr, pad_even(s.as_bytes().to_vec(), vr))
    }
}

/// Pads a value to even length with the VR's padding byte.
pub fn pad_even(mut v: Vec<u8>, vr: Vr) -> Vec<u8> {
    if v.len() % 2 == 1 {
        v.push(vr.pad_byte());
    }
    v
}

/// Trims trailing (and for most VRs leading) padding from ASCII string bytes.
pub fn trim_str_bytes(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b' ' || b[end - 1] == 0) {
        end -= 1;
    }
    let mut start = 0;
    while start < end && b[start] == b' ' {
        start += 1;
    }
    &b[start..end]
}

/// The value of an ASCII-only string element (UI, CS, DA...) trimmed; `None` if not UTF-8.
pub fn ascii_value<'s>(e: &'s Element<'_>) -> Option<&'s str> {
    e.bytes().and_then(|b| std::str::from_utf8(trim_str_bytes(b)).ok())
}

/// Finds an element by tag in a sorted element list.
pub fn find<'s, 'a>(elements: &'s [Element<'a>], t: Tag) -> Option<&'s Element<'a>> {
    elements.binary_search_by_key(&t, |e| e.tag).ok().map(|i| &elements[i])
}

/// Inserts or replaces an element, keeping the list sorted.
pub fn put<'a>(elements: &mut Vec<Element<'a>>, e: Element<'a>) {
    match elements.binary_search_by_key(&e.tag, |x| x.tag) {
        Ok(i) => elements[i] = e,
        Err(i) => elements.insert(i, e),
    }
}

/// Errors of reading or writing the DICOM structure. Offsets are byte positions in the input (in the
/// inflated data set for deflated files); no value is ever included.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CodecError {
    #[error("not a DICOM file: no DICM prefix and no data set could be recognised")]
    NotDicom,
    #[error("truncated file: {what} at byte {offset} needs {needed} bytes, {available} available")]
    Truncated { what: &'static str, offset: usize, needed: usize, available: usize },
    #[error("invalid VR bytes {bytes:02X?} for tag {tag} at byte {offset}")]
    BadVr { tag: String, bytes: [u8; 2], offset: usize },
    #[error("bad structure at byte {offset}: {message}")]
    Structure { offset: usize, message: String },
    #[error("the file meta group is invalid: {0}")]
    Meta(String),
    #[error("deflated data set cannot be inflated")]
    Inflate,
    #[error("element {tag} value of {len} bytes is too long for VR {vr} in explicit VR")]
    TooLong { tag: String, vr: String, len: usize },
    #[error("sequences nested deeper than {0} levels")]
    TooDeep(usize),
}
