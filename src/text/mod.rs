//! Free-text cleaning: removes identifying words from DICOM text values (names, descriptions,
//! comments) and keeps the clinical ones.
//!
//! "CT THORAX CONTRAST for Dr. Rossi" → "CT THORAX CONTRAST".
//!
//! The approach extends the deny-list idea of Bufano & Kotter (2025) — build a list of the file's
//! own identifying values, remove them from its free text, and add word lists and "prefix + name"
//! rules — with case/accent folding, fuzzy matching, word sequences, built-in patterns for
//! e-mail/phone/date/identifier forms, institution and address phrases, and a clinical keep
//! vocabulary that protects the words descriptions are made of.
//!
//! # Use
//! ```
//! use dicom_deid::text::{Cleaner, DenyList, TextRules};
//!
//! let cleaner = Cleaner::new(&TextRules::default()).unwrap(); // once: regexes, word sets
//! let mut deny = DenyList::default(); // per file (or merged per batch)
//! deny.add_person_name("Rossi^Mario");
//! deny.add_identifier("PAT-123456");
//! deny.add_date("20110525");
//! let out = cleaner.clean("CT THORAX for Dr. Rossi 25.05.2011", &deny);
//! assert_eq!((out.text.as_str(), out.removed), ("CT THORAX", 1));
//! assert_eq!(cleaner.clean("AX T1 POST GAD 3MM", &deny).removed, 0);
//! ```
//!
//! # Matching
//! Text is split into words (runs of letters and digits: "T1", "3MM", "B60s" are one word) and
//! separators (every other character; a white-space run is one separator). `\` (multi-value),
//! `^` and `=` (person-name delimiters) are structural: nothing is matched across them and the
//! output keeps them for what is kept. Words are compared folded: Unicode NFKD, combining marks
//! stripped, lower case, ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ/ð→d, þ→th, apostrophes dropped
//! ("Müller" = "MULLER"; the German "ue" spelling is added to the deny-list as well, so
//! "Mueller" matches too, and the other way round).
//!
//! # What is removed
//! 1. **Deny-list** ([`DenyList`]: the file's own identifying values, possibly merged over a
//!    batch). Single words exactly; with [`TextRules::fuzzy`] also at optimal-string-alignment
//!    distance ≤ 1 when both words have 5+ characters and ≤ 2 when both have 9+ ("Schmid" ~
//!    "Schmidt"; "Rosi" is not "Rossi"), never for a word of the keep vocabulary. Multi-word
//!    entries (full names in either order, institution phrases) as word sequences across spaces
//!    and light punctuation. A single deny-listed word that is in the clinical keep vocabulary
//!    (a patient called "Head") is removed only as part of a whole deny-listed name.
//!    Identifiers: a text chunk (between spaces, brackets, commas) whose letters and digits equal
//!    one, or contain one of 5+ characters at a letter/digit or token boundary ("MRN:123456",
//!    "ID123456", not "91234567"). Dates and phone numbers: in any rendering (see
//!    [`DenyList::add_date`], [`DenyList::add_phone`]).
//! 2. **Extra words and regexes** of the [`TextRules`]: always (whole words or word sequences; a
//!    regex match is widened to whole words).
//! 3. **Built-in patterns**, always on:
//!    - e-mail addresses;
//!    - phone numbers: `+` international forms (7–15 digits), and local forms of 7–15 digits in
//!      groups of 2+ separated by space, `-`, `.` or `/` that start with 0 or an area code in
//!      brackets or look North-American ("555-1234", "(312) 555-0199", "089 1234567",
//!      "02 1234 5678"), but not lists of numbers ("120 140 160", "130.25 140.75", "1000-2000");
//!    - dates, any date: 2011-05-25, 2011/5/25, 25.05.2011, 05/25/2011, 25-05-11, 25 MAY 2011,
//!      25-May-2011, 25th May 2011, 25. Mai 2011, 25 de mayo de 2011, May 25, 2011, May 2011,
//!      and day + full month name without year ("3 mars"), with the month names of the configured
//!      language packs; numeric ones must be real calendar dates. A time glued to a date goes
//!      with it ("2011-05-25T12:30", "25.05.2011 12:30"); a plain time ("12:30") is kept: it
//!      identifies nothing by itself and protocol names carry such numbers;
//!    - identifier-like tokens: 6+ digits in a row ("20110525", "1234567"), letters followed by
//!      5+ digits ("MRN12345678", "AB-123456", "ID:12345"), one word mixing letters and 5+ digits
//!      ("RSSMRA80A01H501U"), and dotted numbers of 5+ components (UIDs).
//!
//!    Measurements and clinical tokens stay: "5mm", "2.5 mm", "120kV", "T1", "3D", "b1000",
//!    "DWI_b800", "512x512", "20x20x20mm", "0.625", "1", "3-5", "12:30".
//! 4. **Honorifics** of the language packs ("Dr", "Prof.", "Mrs", "Herr", "Frau", "Sig.ra",
//!    "Dott.ssa", "M.", "Mme", "Sr.", "Sra.", "Dhr.", "Mevr." …) and the name after them: up to
//!    three words that are not in the keep vocabulary (any case), with particles ("van der",
//!    "De"), initials ("J."), hyphens, apostrophes ("O'Brien"), further titles ("Prof. Dr. med.")
//!    and one comma ("WILLIAMS, JAMES") in between. After a dotted or unambiguous title a
//!    vocabulary word written in title case is taken as the name too ("Frau Herz", "Mrs. May");
//!    a word in capitals never is. A short or ambiguous honorific ("MR", "DR", "MS", "M", "SR",
//!    "PD", and honorifics that are vocabulary words) counts only when written with a dot or not
//!    in capitals ("Mr", "Dr.") and followed by a name, so "MR KNEE" and "DR CHEST" stay; other
//!    honorifics are removed even without a name ("Prof."). Post-nominal titles ("MD", "PhD",
//!    "Jr") take the capitalised names before them ("John Smith, MD").
//! 5. **Name prefixes** ("for", "by", "at", "to", "on", "call", "from", "referred", "referring",
//!    "für", "von", "per", "da", "presso", "pour", "par", "para", "por", "voor", "door" …, also
//!    chained "referred by", optionally followed by ':'): when the next word is a name — a
//!    deny-listed word, an honorific, or a capitalised word that is not in the keep vocabulary
//!    and not an all-caps word of 3 letters or fewer (mostly clinical abbreviations: "CT FOR PE")
//!    — the prefix and up to three name words go ("CT for staging" stays: "staging" is clinical).
//!    A prefix right before something already removed as a name, institution, phone, e-mail,
//!    identifier or date goes with it ("call 555-1234" → "", "on 25.05.2011" → "").
//!    **Labels** ("MRN", "ID", "Tel", "Fax", "DOB", "geb.", "n°", "BSN" …) go with whatever
//!    removed value follows them, and with a following number of 4+ digits ("ID: 12345").
//! 6. **Institution and address phrases**: an institution word ("Hospital", "Klinikum",
//!    "Ospedale", "CHU", "Ziekenhuis", suffixes such as "…klinikum", "…spital", "…ziekenhuis") or
//!    address word ("Street", "Straße", "Via", "Rue", "Calle", "Laan", suffixes such as "…straße",
//!    "…str.", "…straat", "…weg") with the capitalised non-vocabulary words next to it; connectors
//!    and generic words ("of", "der", "San", "St.", "General") between them; a house number;
//!    ", postcode town"; and ", Town" / ", Town ST" when that ends the value or a comma-separated
//!    part. The phrase does not cross other punctuation than hyphens, apostrophes and
//!    abbreviation dots, nor a keep-vocabulary word (except a vocabulary word followed by a
//!    connector and a name: "Klinikum rechts der Isar"). It is removed only if it contains a name
//!    (a street word by suffix is one): "Department of Radiology" and "Radiologie Klinikum" stay;
//!    "St. Mary's Hospital", "Ospedale San Raffaele", "Via Roma 12, 20100 Milano",
//!    "123 Baker Street", "Hauptstraße 5", "Massachusetts General Hospital, Boston MA" go.
//!
//! The **keep vocabulary** — the clinical vocabulary of `data/lang/clinical.json` (modalities,
//! anatomy, sequences and techniques, series and protocol words, views and laterality, contrast
//! and timing, indications, units, vendors and products, roles and placeholders, in English,
//! German, Italian, French, Spanish and Dutch), [`TextRules::keep_words`], and the packs'
//! stopwords and month names — is never taken for a name by rules 4–6 (except as said in 4) nor
//! fuzzy-matched.
//!
//! # Output
//! When nothing is found the text is returned unchanged, byte for byte. Otherwise each removed
//! run (neighbouring removals joined across spaces and light punctuation) is cut out, the
//! separators around it merged ("CT, Rossi, HEAD" → "CT, HEAD"; "CT (Rossi) HEAD" → "CT HEAD";
//! line breaks are kept), horizontal white space collapsed and each changed component trimmed of
//! dangling separators. In a changed value, empty `^`/`=` components and empty `\` values at the
//! ends are dropped ("Rossi^Mario" → "", "CT^Rossi" → "CT", "CT\Rossi" → "CT"), inner ones kept
//! so positions stay meaningful ("A^Rossi^B" → "A^^B"). `removed` counts the removed runs.
//!
//! # Performance
//! Everything is compiled once in [`Cleaner::new`]. Per call: one tokenisation into per-thread
//! reused buffers with one hash look-up per word; the regular expressions run only if the text
//! has a digit or '@', pre-screened by one `RegexSet` pass; the heuristics run only if a trigger
//! word (honorific, prefix, label, institution or address word) is present; deny-list look-ups
//! are pre-filtered by length/first-letter bit masks; fuzzy matching compares only with
//! deny-listed words of similar length whose letter sets are close, with an allocation-free
//! bounded edit distance. A clean text costs no allocation besides the returned copy.

mod deny;
mod engine;
mod lang;
mod norm;
mod patterns;
mod rebuild;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

pub use deny::DenyList;
pub use lang::LanguagePack;

use lang::{builtin, flag, Lexicon};
use norm::{is_struct_char, tokenize, Tk, DIGITS};
use patterns::Patterns;

/// Configuration of the cleaner (plain data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextRules {
    /// Language pack codes (default `["en","de","it","fr","es","nl"]`).
    pub languages: Vec<String>,
    /// Always removed (whole words or word sequences, case- and accent-insensitive).
    pub extra_words: Vec<String>,
    /// Behave like the packs' institution words (a leading `-` makes a suffix).
    pub extra_institution_words: Vec<String>,
    /// Behave like the packs' name prefixes.
    pub extra_prefixes: Vec<String>,
    /// Regular expressions (Rust `regex` syntax) whose matches are removed, widened to whole words.
    pub extra_regexes: Vec<String>,
    /// Added to the clinical keep vocabulary: never taken for names by the heuristics nor
    /// fuzzy-matched, and removed as a single word only if it is an extra word or part of a whole
    /// deny-listed name.
    pub keep_words: Vec<String>,
    /// Fuzzy deny-list matching (default true).
    pub fuzzy: bool,
}

impl Default for TextRules {
    fn default() -> Self {
        TextRules {
            languages: LanguagePack::builtin_codes()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            extra_words: Vec::new(),
            extra_institution_words: Vec::new(),
            extra_prefixes: Vec::new(),
            extra_regexes: Vec::new(),
            keep_words: Vec::new(),
            fuzzy: true,
        }
    }
}

/// Errors of [`Cleaner::new`]. They never include text values.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// `extra_regexes[index]` does not compile.
    #[error("extra_regexes[{index}]: {message}")]
    BadRegex { index: usize, message: String },
    /// A language code without a built-in pack.
    #[error("unknown language pack: {0:?}")]
    UnknownLanguage(String),
    /// A language pack that does not parse or is incomplete.
    #[error("bad language pack: {0}")]
    BadLanguagePack(String),
}

/// The result of a cleaning call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned text (the input unchanged when `removed == 0`).
    pub text: String,
    /// Number of spans removed.
    pub removed: usize,
}

/// The compiled cleaner: word classes, regular expressions and extra words. `Send + Sync`;
/// build it once and share it.
pub struct Cleaner {
    pub(crate) lex: Lexicon,
    pub(crate) pats: Patterns,
    pub(crate) extra: DenyList,
    pub(crate) extra_set: Option<RegexSet>,
    pub(crate) extra_res: Vec<Regex>,
    pub(crate) fuzzy: bool,
}

impl fmt::Debug for Cleaner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cleaner")
            .field("extra_words", &self.extra.len())
            .field("extra_regexes", &self.extra_res.len())
            .field("fuzzy", &self.fuzzy)
            .finish_non_exhaustive()
    }
}

impl Cleaner {
    /// Compiles the rules with the built-in language packs named in `rules.languages`.
    pub fn new(rules: &TextRules) -> Result<Cleaner, TextError> {
        let mut packs = Vec::with_capacity(rules.languages.len());
        for code in &rules.languages {
            match LanguagePack::builtin(code) {
                Some(p) => packs.push(p),
                None => return Err(TextError::UnknownLanguage(code.clone())),
            }
        }
        Self::with_language_packs(rules, &packs)
    }

    /// Compiles the rules with the given language packs (`rules.languages` is not consulted).
    pub fn with_language_packs(
        rules: &TextRules,
        packs: &[LanguagePack],
    ) -> Result<Cleaner, TextError> {
        let mut extra_res = Vec::with_capacity(rules.extra_regexes.len());
        for (index, p) in rules.extra_regexes.iter().enumerate() {
            let re = Regex::new(p).map_err(|e| TextError::BadRegex {
                index,
                message: e.to_string(),
            })?;
            extra_res.push(re);
        }
        let extra_set = if extra_res.is_empty() {
            None
        } else {
            Some(
                RegexSet::new(&rules.extra_regexes).map_err(|e| TextError::BadRegex {
                    index: 0,
                    message: e.to_string(),
                })?,
            )
        };
        let lex = Lexicon::build(
            packs,
            &builtin().clinical,
            &rules.keep_words,
            &rules.extra_institution_words,
            &rules.extra_prefixes,
        );
        let pats = Patterns::new(&lex.month_spellings, &lex.month_full);
        let mut extra = DenyList::default();
        for w in &rules.extra_words {
            extra.add_exact(w);
        }
        Ok(Cleaner {
            lex,
            pats,
            extra,
            extra_set,
            extra_res,
            fuzzy: rules.fuzzy,
        })
    }

    /// Removes the identifying parts of `text` (see the module documentation for the rules).
    /// When nothing is removed, the text is returned unchanged.
    pub fn clean(&self, text: &str, deny: &DenyList) -> Cleaned {
        self.with_analysis(text, deny, |a| match a {
            None => Cleaned {
                text: text.to_string(),
                removed: 0,
            },
            Some(a) => Cleaned {
                text: rebuild::rebuild(a),
                removed: engine::spans(a).len(),
            },
        })
    }

    /// For a PN value whose keeping is in doubt ("check person name"): the value is kept only when
    /// it is clearly not a person's name — every word is in the clinical keep vocabulary (which
    /// includes placeholders such as "ANONYMOUS", "UNKNOWN", "PHANTOM", "TEST" and roles such as
    /// "TECHNOLOGIST", "RADIOLOGIST", "EMERGENCY"), a stopword, or a number of at most 4 digits,
    /// and nothing in it would be removed by [`Cleaner::clean`]. Otherwise the result is empty
    /// (`removed == 1`). An empty value (or only delimiters) is returned unchanged.
    pub fn clean_person_name(&self, pn: &str, deny: &DenyList) -> Cleaned {
        let unchanged = || Cleaned {
            text: pn.to_string(),
            removed: 0,
        };
        let gone = || Cleaned {
            text: String::new(),
            removed: 1,
        };
        if pn
            .trim_matches(|c: char| c.is_whitespace() || is_struct_char(c))
            .is_empty()
        {
            return unchanged();
        }
        if !self.is_clean(pn, deny) {
            return gone();
        }
        let mut toks = Vec::new();
        let mut norm = String::new();
        tokenize(pn, &mut toks, &mut norm);
        let all_known = toks.iter().filter(|t| t.kind == Tk::Word).all(|t| {
            let w = &norm[t.ns as usize..t.ne as usize];
            (t.has(DIGITS) && t.nchars <= 4)
                || self.lex.flags(w) & (flag::CLINICAL | flag::STOP) != 0
        });
        if all_known {
            unchanged()
        } else {
            gone()
        }
    }

    /// Byte ranges of `text` that [`Cleaner::clean`] would remove (empty when the text is clean).
    pub fn find_phi(&self, text: &str, deny: &DenyList) -> Vec<Range<usize>> {
        self.with_analysis(text, deny, |a| a.map(engine::spans).unwrap_or_default())
    }

    /// True when [`Cleaner::clean`] would change nothing.
    pub fn is_clean(&self, text: &str, deny: &DenyList) -> bool {
        self.with_analysis(text, deny, |a| a.is_none())
    }
}
