//! Normalisation (case and accent folding), the tokeniser and a small fast hasher.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A small multiply-rotate hasher for short string keys (word look-ups are the hot path; SipHash's
/// DoS resistance is not needed for a fixed vocabulary and per-file deny-lists).
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.mix(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<WordHasher>>;

/// Appends the folded form of `s` to `out`: NFKD, combining marks stripped, lower case, and the
/// letters that do not decompose spelled out (ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ/ð→d, þ→th, ı→i).
/// Apostrophes are dropped so that "O'Brien" and "OBrien" fold alike.
pub(crate) fn push_folded(s: &str, out: &mut String) {
    if s.is_ascii() {
        for b in s.bytes() {
            if b != b'\'' {
                out.push(b.to_ascii_lowercase() as char);
            }
        }
        return;
    }
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        for l in c.to_lowercase() {
            match l {
                'ß' => out.push_str("ss"),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ø' => out.push('o'),
                'ł' => out.push('l'),
                'đ' | 'ð' => out.push('d'),
                'þ' => out.push_str("th"),
                'ı' => out.push('i'),
                '\'' | '’' | 'ʼ' | '`' | '´' => {}
                _ => out.push(l),
            }
        }
    }
}

/// The folded form of `s` (see [`push_folded`]).
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_folded(s, &mut out);
    out
}

/// German transliteration variant (ä→ae, ö→oe, ü→ue) of a word that has umlauts, folded.
pub(crate) fn umlaut_variant(s: &str) -> Option<String> {
    if !s
        .chars()
        .any(|c| matches!(c, 'ä' | 'ö' | 'ü' | 'Ä' | 'Ö' | 'Ü'))
    {
        return None;
    }
    let mut t = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            'ä' | 'Ä' => t.push_str("ae"),
            'ö' | 'Ö' => t.push_str("oe"),
            'ü' | 'Ü' => t.push_str("ue"),
            _ => t.push(c),
        }
    }
    Some(fold(&t))
}

/// Token kinds. Words are maximal runs of alphanumeric characters (with their combining marks);
/// every other character is a separator token of its own, except that whitespace runs form one
/// token. `\`, `^` and `=` (DICOM value and PN delimiters) are structural separators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tk {
    Word,
    Space,
    Punct,
    Struct,
}

// Word shape bits.
pub(crate) const ALPHA: u8 = 1;
pub(crate) const DIGITS: u8 = 2;
pub(crate) const HAS_DIGIT: u8 = 4;
/// first character upper case (or a script without case)
pub(crate) const UPPER1: u8 = 8;
/// has cased letters and none of them is lower case
pub(crate) const ALLCAPS: u8 = 16;
/// first letter upper case and some later letter lower case ("Rossi", "McDonald")
pub(crate) const TITLE: u8 = 32;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    pub start: u32,
    pub end: u32,
    pub kind: Tk,
    /// first character (for punctuation and structural tokens); for spaces '\n' when the run has
    /// a line break, ' ' otherwise
    pub ch: char,
    /// folded form range in the context's buffer (words only)
    pub ns: u32,
    pub ne: u32,
    pub shape: u8,
    /// number of characters of the folded form
    pub nchars: u16,
}

impl Tok {
    #[inline]
    pub fn is_word(&self) -> bool {
        self.kind == Tk::Word
    }
    #[inline]
    pub fn has(&self, s: u8) -> bool {
        self.shape & s != 0
    }
    #[inline]
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Tk::Punct && self.ch == c
    }
    #[inline]
    pub fn is_inline_space(&self) -> bool {
        self.kind == Tk::Space && self.ch != '\n'
    }
}

#[inline]
pub(crate) fn is_struct_char(c: char) -> bool {
    matches!(c, '\\' | '^' | '=')
}

/// Tokenises `text` into `toks`, appending folded word forms to `norm`.
pub(crate) fn tokenize(text: &str, toks: &mut Vec<Tok>, norm: &mut String) {
    if text.is_ascii() {
        tokenize_ascii(text, toks, norm);
        return;
    }
    let bytes = text.as_bytes();
    let mut i = 0usize;
    while i < bytes.len() {
        let c = next_char(text, i);
        let clen = c.len_utf8();
        if c.is_alphanumeric() {
            let start = i;
            let mut end = i + clen;
            while end < bytes.len() {
                let d = next_char(text, end);
                if d.is_alphanumeric() || (!d.is_ascii() && is_combining_mark(d)) {
                    end += d.len_utf8();
                } else {
                    break;
                }
            }
            let word = &text[start..end];
            let ns = norm.len();
            push_folded(word, norm);
            let ne = norm.len();
            let folded = &norm[ns..ne];
            let nchars = if folded.is_ascii() {
                folded.len()
            } else {
                folded.chars().count()
            };
            toks.push(Tok {
                start: start as u32,
                end: end as u32,
                kind: Tk::Word,
                ch: c,
                ns: ns as u32,
                ne: ne as u32,
                shape: word_shape(word),
                nchars: nchars.min(u16::MAX as usize) as u16,
            });
            i = end;
        } else if c.is_whitespace() || c.is_control() {
            let start = i;
            let mut end = i + clen;
            let mut nl = c == '\n' || c == '\r';
            while end < bytes.len() {
                let d = next_char(text, end);
                if d.is_whitespace() || d.is_control() {
                    nl |= d == '\n' || d == '\r';
                    end += d.len_utf8();
                } else {
                    break;
                }
            }
            toks.push(sep_tok(start, end, Tk::Space, if nl { '\n' } else { ' ' }));
            i = end;
        } else {
            let kind = if is_struct_char(c) {
                Tk::Struct
            } else {
                Tk::Punct
            };
            toks.push(sep_tok(i, i + clen, kind, c));
            i += clen;
        }
    }
}

#[inline]
fn next_char(text: &str, i: usize) -> char {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        b as char
    } else {
        text[i..].chars().next().unwrap_or(' ')
    }
}

fn sep_tok(start: usize, end: usize, kind: Tk, ch: char) -> Tok {
    Tok {
        start: start as u32,
        end: end as u32,
        kind,
        ch,
        ns: 0,
        ne: 0,
        shape: 0,
        nchars: 0,
    }
}

/// The ASCII fast path of [`tokenize`] (same result).
fn tokenize_ascii(text: &str, toks: &mut Vec<Tok>, norm: &mut String) {
    let b = text.as_bytes();
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() {
            let start = i;
            let (mut digits, mut upper, mut lower) = (0usize, 0usize, 0usize);
            let mut lower_after_first = false;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                let d = b[i];
                if d.is_ascii_digit() {
                    digits += 1;
                } else if d.is_ascii_uppercase() {
                    upper += 1;
                } else {
                    lower += 1;
                    lower_after_first |= i > start;
                }
                i += 1;
            }
            let len = i - start;
            let ns = norm.len();
            for &d in &b[start..i] {
                norm.push(d.to_ascii_lowercase() as char);
            }
            let mut shape = 0;
            if digits == 0 {
                shape |= ALPHA;
            } else {
                shape |= HAS_DIGIT;
                if digits == len {
                    shape |= DIGITS;
                }
            }
            if b[start].is_ascii_uppercase() {
                shape |= UPPER1;
                if lower_after_first {
                    shape |= TITLE;
                }
            }
            if upper > 0 && lower == 0 {
                shape |= ALLCAPS;
            }
            toks.push(Tok {
                start: start as u32,
                end: i as u32,
                kind: Tk::Word,
                ch: c as char,
                ns: ns as u32,
                ne: norm.len() as u32,
                shape,
                nchars: len.min(u16::MAX as usize) as u16,
            });
        } else if c.is_ascii_whitespace() || c.is_ascii_control() {
            let start = i;
            let mut nl = false;
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i].is_ascii_control()) {
                nl |= b[i] == b'\n' || b[i] == b'\r';
                i += 1;
            }
            toks.push(sep_tok(start, i, Tk::Space, if nl { '\n' } else { ' ' }));
        } else {
            let ch = c as char;
            let kind = if is_struct_char(ch) {
                Tk::Struct
            } else {
                Tk::Punct
            };
            toks.push(sep_tok(i, i + 1, kind, ch));
            i += 1;
        }
    }
}

fn word_shape(w: &str) -> u8 {
    let mut alpha = true;
    let mut digits = true;
    let mut has_digit = false;
    let mut has_upper = false;
    let mut has_lower = false;
    let mut lower_after_first = false;
    let mut first: Option<char> = None;
    for c in w.chars() {
        if first.is_none() {
            first = Some(c);
        } else if c.is_lowercase() {
            lower_after_first = true;
        }
        if c.is_ascii_digit() {
            has_digit = true;
            alpha = false;
        } else if c.is_numeric() {
            has_digit = true;
            alpha = false;
            digits = false;
        } else {
            digits = false;
            if !(c.is_alphabetic() || is_combining_mark(c)) {
                alpha = false;
            }
        }
        has_upper |= c.is_uppercase();
        has_lower |= c.is_lowercase();
    }
    let mut s = 0;
    if alpha {
        s |= ALPHA;
    }
    if digits && has_digit {
        s |= DIGITS;
    }
    if has_digit {
        s |= HAS_DIGIT;
    }
    if let Some(f) = first {
        if f.is_uppercase() || (!f.is_lowercase() && f.is_alphabetic()) {
            s |= UPPER1;
            if lower_after_first && f.is_uppercase() {
                s |= TITLE;
            }
        }
    }
    if has_upper && !has_lower {
        s |= ALLCAPS;
    }
    s
}

/// The folded words of `s` (tokeniser words only).
pub(crate) fn folded_words(s: &str) -> Vec<String> {
    let mut toks = Vec::new();
    let mut norm = String::new();
    tokenize(s, &mut toks, &mut norm);
    toks.iter()
        .filter(|t| t.is_word())
        .map(|t| norm[t.ns as usize..t.ne as usize].to_string())
        .collect()
}

/// Bounded optimal-string-alignment distance: `Some(d)` when `d <= max`, for short ASCII strings
/// without allocating; other strings go through `strsim`.
pub(crate) fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (la, lb) = (a.len(), b.len());
    if a.is_ascii() && b.is_ascii() && la <= 40 && lb <= 40 {
        if la.abs_diff(lb) > max {
            return None;
        }
        let (a, b) = (a.as_bytes(), b.as_bytes());
        // three rolling rows of the OSA table
        let mut prev2 = [0usize; 41];
        let mut prev = [0usize; 41];
        let mut cur = [0usize; 41];
        for (j, p) in prev.iter_mut().enumerate().take(lb + 1) {
            *p = j;
        }
        for i in 1..=la {
            cur[0] = i;
            let mut row_min = cur[0];
            for j in 1..=lb {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(prev2[j - 2] + 1);
                }
                cur[j] = v;
                row_min = row_min.min(v);
            }
            if row_min > max {
                return None;
            }
            prev2 = prev;
            prev = cur;
        }
        let d = prev[lb];
        return (d <= max).then_some(d);
    }
    let d = strsim::osa_distance(a, b);
    (d <= max).then_some(d)
}
