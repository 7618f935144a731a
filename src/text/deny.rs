//! The per-file (and per-batch) deny-list: identifying values of the file itself, folded.

use std::collections::BTreeMap;
use std::fmt;

use super::lang::{builtin, flag};
use super::norm::{fold, tokenize, umlaut_variant, FastMap, FastSet, Tk, Tok, ALPHA, DIGITS};

/// Words, phrases, identifiers, dates and phone numbers taken from the identifying elements of a
/// file (or of every file of a batch, see [`DenyList::merge`]). All entries are stored folded
/// (case and accents removed).
///
/// Its `Debug` output shows only counts: a deny-list holds PHI. It serialises (serde) so a batch's
/// deny-list can be passed between workers; the serialised form holds PHI too and must stay in memory.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct DenyList {
    pub(crate) words: FastSet<String>,
    /// alphabetic words of 5+ characters by character count, for fuzzy matching
    /// (letter masks, words): two parallel vectors so the mask pre-filter scans compact memory
    pub(crate) by_len: BTreeMap<u16, (Vec<u32>, Vec<String>)>,
    pub(crate) phrases: Trie,
    pub(crate) phrase_count: usize,
    /// identifiers, folded and reduced to letters and digits
    pub(crate) ids: FastSet<String>,
    /// (year, month, day)
    pub(crate) dates: FastSet<(u16, u8, u8)>,
    /// (year % 100, month, day)
    pub(crate) dates2: FastSet<(u8, u8, u8)>,
    /// digits only, leading zeros removed
    pub(crate) phones: FastSet<String>,
    /// last 6 digits of each phone number (every accepted match shares them)
    pub(crate) phone_tails: FastSet<String>,
    /// cheap pre-filter of single words and first words of sequences: (length bits, first-byte bits)
    pub(crate) mask: (u64, u64),
    /// the same for identifiers
    pub(crate) id_mask: (u64, u64),
    /// shortest identifier (bytes), fewest digits of an identifier that has digits (0: none)
    pub(crate) id_min_len: usize,
    pub(crate) id_min_digits: usize,
}

/// Which letters a-z (and "other") a word has: words within edit distance k differ in at most
/// 2k of these bits, a cheap pre-filter for fuzzy matching.
#[inline]
pub(crate) fn letter_mask(w: &str) -> u32 {
    let mut m = 0u32;
    for b in w.bytes() {
        m |= if b.is_ascii_lowercase() {
            1 << (b - b'a')
        } else {
            1 << 26
        };
    }
    m
}

#[inline]
pub(crate) fn mask_of(w: &str) -> (u64, u64) {
    let b = w.as_bytes();
    (
        1u64 << b.len().min(63),
        b.first().map_or(0, |c| 1u64 << (c & 63)),
    )
}

#[inline]
pub(crate) fn may_contain(mask: (u64, u64), w: &str) -> bool {
    let m = mask_of(w);
    mask.0 & m.0 != 0 && mask.1 & m.1 != 0
}

/// A word trie for multi-word entries.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Trie {
    pub children: FastMap<String, Trie>,
    pub end: bool,
}

impl Trie {
    fn insert(&mut self, words: &[String]) -> bool {
        let mut node = self;
        for w in words {
            node = node.children.entry(w.clone()).or_default();
        }
        let new = !node.end;
        node.end = true;
        new
    }

    fn merge(&mut self, other: &Trie) -> usize {
        let mut added = 0;
        if other.end && !self.end {
            self.end = true;
            added += 1;
        }
        for (k, v) in &other.children {
            added += self.children.entry(k.clone()).or_default().merge(v);
        }
        added
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// True when every sequence of `other` is in `self`.
    fn contains_all(&self, other: &Trie) -> bool {
        (!other.end || self.end) && other.children.iter().all(|(k, v)| self.children.get(k).is_some_and(|c| c.contains_all(v)))
    }
}

impl fmt::Debug for DenyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DenyList")
            .field("words", &self.words.len())
            .field("phrases", &self.phrase_count)
            .field("identifiers", &self.ids.len())
            .field("dates", &self.dates.len())
            .field("phones", &self.phones.len())
            .finish()
    }
}

/// (original word, folded word) pairs of `s`.
fn words_of(s: &str) -> Vec<(String, String, Tok)> {
    let mut toks = Vec::new();
    let mut norm = String::new();
    tokenize(s, &mut toks, &mut norm);
    toks.iter()
        .filter(|t| t.kind == Tk::Word)
        .map(|t| {
            (
                s[t.start as usize..t.end as usize].to_string(),
                norm[t.ns as usize..t.ne as usize].to_string(),
                *t,
            )
        })
        .collect()
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Checks a calendar date.
pub(crate) fn valid_date(y: u16, m: u8, d: u8) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

impl DenyList {
    /// An empty deny-list.
    pub fn new() -> DenyList {
        DenyList::default()
    }

    fn insert_word(&mut self, w: String) {
        if w.is_empty() {
            return;
        }
        let n = w.chars().count();
        let alpha = w.chars().all(char::is_alphabetic);
        let m = mask_of(&w);
        self.mask = (self.mask.0 | m.0, self.mask.1 | m.1);
        if self.words.insert(w.clone()) && alpha && n >= 5 {
            let b = self
                .by_len
                .entry(n.min(u16::MAX as usize) as u16)
                .or_default();
            b.0.push(letter_mask(&w));
            b.1.push(w);
        }
    }

    fn insert_word_with_variants(&mut self, orig: &str, folded: &str) {
        self.insert_word(folded.to_string());
        if let Some(v) = umlaut_variant(orig) {
            self.insert_word(v);
        } else if folded.len() >= 5 {
            // the reverse transliteration ("Mueller" → "muller")
            let r = folded
                .replace("ae", "a")
                .replace("oe", "o")
                .replace("ue", "u");
            if r != folded && r.len() >= 4 {
                self.insert_word(r);
            }
        }
    }

    fn insert_phrase(&mut self, words: &[String]) {
        if words.len() >= 2 {
            let m = mask_of(&words[0]);
            self.mask = (self.mask.0 | m.0, self.mask.1 | m.1);
        }
        if words.len() >= 2 && self.phrases.insert(words) {
            self.phrase_count += 1;
        }
    }

    /// Adds a DICOM person name: component groups separated by `=`, components by `^`
    /// (family^given^middle^prefix^suffix; prefix and suffix are not names), or a free-form name
    /// ("Mario Rossi", "Dr. Mario Rossi"). Every word of two or more characters is added (German
    /// umlaut transliterations too), except honorifics in free-form names and name particles
    /// ("van", "de"); the full name is added as word sequences in family-given and given-family
    /// order, and every multi-word component ("De Luca") as a sequence.
    pub fn add_person_name(&mut self, pn: &str) {
        let lex = &builtin().lexicon;
        for group in pn.split('=') {
            let comps: Vec<&str> = group.split('^').collect();
            let structured = comps.len() > 1;
            let mut seqs: Vec<Vec<String>> = Vec::new();
            for (ci, comp) in comps.iter().enumerate() {
                if structured && ci >= 3 {
                    break; // name prefix and suffix ("Dr.", "Jr.")
                }
                let mut seq = Vec::new();
                for (orig, f, t) in words_of(comp) {
                    let fl = lex.flags(&f);
                    if t.shape & DIGITS != 0 {
                        continue;
                    }
                    if !structured && fl & (flag::HON | flag::HON_MULTI | flag::POSTNOM) != 0 {
                        continue;
                    }
                    seq.push(f.clone());
                    if f.chars().count() >= 2 && fl & flag::PARTICLE == 0 {
                        self.insert_word_with_variants(&orig, &f);
                    }
                }
                if seq.len() >= 2 {
                    self.insert_phrase(&seq);
                }
                seqs.push(seq);
            }
            let all: Vec<String> = seqs.iter().flatten().cloned().collect();
            if all.len() < 2 {
                continue;
            }
            self.insert_phrase(&all);
            if structured {
                let get = |i: usize| seqs.get(i).cloned().unwrap_or_default();
                let (fam, giv, mid) = (get(0), get(1), get(2));
                let gmf: Vec<String> = giv.iter().chain(&mid).chain(&fam).cloned().collect();
                let gf: Vec<String> = giv.iter().chain(&fam).cloned().collect();
                let fg: Vec<String> = fam.iter().chain(&giv).cloned().collect();
                self.insert_phrase(&gmf);
                self.insert_phrase(&gf);
                self.insert_phrase(&fg);
            } else {
                let rev: Vec<String> = all.iter().rev().cloned().collect();
                self.insert_phrase(&rev);
                if all.len() >= 3 {
                    let (a, z) = (all[0].clone(), all[all.len() - 1].clone());
                    self.insert_phrase(&[a.clone(), z.clone()]);
                    self.insert_phrase(&[z, a]);
                }
            }
        }
    }

    /// True when an identifying word (4+ letters) or identifier (4+ characters) of this list occurs
    /// inside `text` once both are reduced to folded letters and digits. For text read from pixels,
    /// where OCR drops or adds spaces ("WestbrookRadiology", "H77 3390").
    pub fn squeezed_hit(&self, text: &str) -> bool {
        let s: String = fold(text).chars().filter(|c| c.is_alphanumeric()).collect();
        if s.len() < 4 {
            return false;
        }
        self.words.iter().any(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphanumeric) && s.contains(w.as_str()))
            || self.ids.iter().any(|i| i.chars().count() >= 4 && s.contains(i.as_str()))
    }

    /// Adds an identifier (patient ID, accession number ...). It is stored reduced to its letters
    /// and digits, so "AB-123/45" also matches "AB12345"; identifiers of fewer than 3 such
    /// characters are ignored. The cleaner removes a text chunk equal to it, and (for identifiers
    /// of 5+ characters) a chunk that contains it with letters around ("MRN:123456", "ID123456").
    pub fn add_identifier(&mut self, id: &str) {
        let a: String = fold(id).chars().filter(|c| c.is_alphanumeric()).collect();
        if a.chars().count() >= 3 {
            self.insert_id(a);
        }
    }

    fn insert_id(&mut self, a: String) {
        let m = mask_of(&a);
        self.id_mask = (self.id_mask.0 | m.0, self.id_mask.1 | m.1);
        self.id_min_len = if self.ids.is_empty() {
            a.len()
        } else {
            self.id_min_len.min(a.len())
        };
        let digits = a.bytes().filter(u8::is_ascii_digit).count();
        if digits > 0 && (self.id_min_digits == 0 || digits < self.id_min_digits) {
            self.id_min_digits = digits;
        }
        self.ids.insert(a);
    }

    /// Adds a DICOM DA value (or the first 8 characters of a DT). The cleaner then removes that
    /// date in any rendering: 20110525, 2011-05-25, 2011/05/25, 2011.05.25, 25.05.2011,
    /// 25/05/2011, 05/25/2011, 25-05-2011, 5.5.2011 (unpadded), 25.05.11, 05/25/11, 250511,
    /// 110525, 25 MAY 2011, May 25, 2011, 25-May-2011, 25th May 2011, 25. Mai 2011,
    /// 25 de mayo de 2011 ... with the month names of every language pack. Invalid input is
    /// ignored.
    pub fn add_date(&mut self, yyyymmdd: &str) {
        let s = yyyymmdd.trim();
        let b = s.as_bytes();
        if b.len() < 8 || !b[..8].iter().all(u8::is_ascii_digit) {
            return;
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
        let (y, m, d) = (num(0..4), num(4..6) as u8, num(6..8) as u8);
        if y == 0 || !valid_date(y, m, d) {
            return;
        }
        self.dates.insert((y, m, d));
        self.dates2.insert(((y % 100) as u8, m, d));
    }

    /// Adds a phone number; it is stored as its digits and matched in any rendering (spaces,
    /// dashes, dots, brackets, +country code or leading 0). Fewer than 6 digits are ignored.
    pub fn add_phone(&mut self, s: &str) {
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        let d = d.trim_start_matches('0');
        if d.len() >= 6 {
            self.phone_tails.insert(d[d.len() - 6..].to_string());
            self.phones.insert(d.to_string());
        }
    }

    /// Adds free identifying text (institution name, department, address ...): its distinctive
    /// words (3+ characters, not stopwords, particles, honorifics, institution or address words,
    /// month names or clinical vocabulary; numbers only with 5+ digits, e.g. postcodes) and, for
    /// each value and each comma/semicolon/line-separated part of it, the whole phrase when it has
    /// a distinctive word.
    pub fn add_text(&mut self, s: &str) {
        let lex = &builtin().lexicon;
        for value in s.split('\\') {
            let words = words_of(value);
            let mut any = false;
            for (orig, f, t) in &words {
                if Self::distinctive(lex, f, t) {
                    any = true;
                    self.insert_word_with_variants(orig, f);
                }
            }
            if !any {
                continue;
            }
            let all: Vec<String> = words.iter().map(|w| w.1.clone()).collect();
            self.insert_phrase(&all);
            for part in value.split([',', ';', '\n', '\r', '(', ')', '/', '|']) {
                let pw = words_of(part);
                if pw.len() >= 2
                    && pw.len() < words.len()
                    && pw.iter().any(|(_, f, t)| Self::distinctive(lex, f, t))
                {
                    let seq: Vec<String> = pw.into_iter().map(|w| w.1).collect();
                    self.insert_phrase(&seq);
                }
            }
        }
    }

    fn distinctive(lex: &super::lang::Lexicon, f: &str, t: &Tok) -> bool {
        if t.shape & DIGITS != 0 {
            return f.len() >= 5;
        }
        t.shape & ALPHA != 0 && f.chars().count() >= 3 && lex.flags(f) & flag::GENERIC == 0
    }

    /// Adds every entry of `other` (batch-level deny-list: identifying words of the other files
    /// of the same batch).
    pub fn merge(&mut self, other: &DenyList) {
        for w in &other.words {
            if !self.words.contains(w) {
                self.insert_word(w.clone());
            }
        }
        self.phrase_count += self.phrases.merge(&other.phrases);
        self.mask = (self.mask.0 | other.mask.0, self.mask.1 | other.mask.1);
        for id in &other.ids {
            if !self.ids.contains(id) {
                self.insert_id(id.clone());
            }
        }
        self.dates.extend(other.dates.iter().copied());
        self.dates2.extend(other.dates2.iter().copied());
        self.phones.extend(other.phones.iter().cloned());
        self.phone_tails.extend(other.phone_tails.iter().cloned());
    }

    /// True when every entry of `other` is already in `self` (then `self` alone cleans as well as the
    /// two merged; checking costs the size of `other`, merging the size of both).
    pub fn contains_all(&self, other: &DenyList) -> bool {
        other.words.iter().all(|w| self.words.contains(w))
            && other.ids.iter().all(|w| self.ids.contains(w))
            && other.dates.iter().all(|d| self.dates.contains(d))
            && other.dates2.iter().all(|d| self.dates2.contains(d))
            && other.phones.iter().all(|p| self.phones.contains(p))
            && other.phone_tails.iter().all(|p| self.phone_tails.contains(p))
            && self.phrases.contains_all(&other.phrases)
    }

    /// An always-removed word or word sequence (extra words of the rules): exact matching only.
    pub(crate) fn add_exact(&mut self, w: &str) {
        let words = super::norm::folded_words(w);
        match words.len() {
            0 => {}
            1 => {
                let m = mask_of(&words[0]);
                self.mask = (self.mask.0 | m.0, self.mask.1 | m.1);
                self.words.insert(words[0].clone());
            }
            _ => self.insert_phrase(&words),
        }
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of entries (words, phrases, identifiers, dates, phone numbers).
    pub fn len(&self) -> usize {
        self.words.len() + self.phrase_count + self.ids.len() + self.dates.len() + self.phones.len()
    }
}
