//! Language packs, the clinical keep vocabulary and the compiled word lexicon.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::norm::{fold, folded_words, FastMap};
use super::TextError;

/// Word lists of one language. Built-in packs live in `data/lang/<code>.json`; the only key besides
/// the fields below is `_source` (provenance note).
///
/// Entries are written naturally (accents, capitals, dots); they are folded when compiled.
/// An entry of `institution_words` or `address_words` that starts with `-` is a suffix
/// ("-klinikum" matches "Universitätsklinikum", "-straße" matches "Hauptstraße").
/// An honorific with inner dots ("Dott.ssa") is matched part by part; the first spelling of each
/// month is its full name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagePack {
    /// provenance note (JSON key `_source`)
    #[serde(rename = "_source", default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    pub code: String,
    pub institution_words: Vec<String>,
    pub address_words: Vec<String>,
    pub honorifics: Vec<String>,
    pub name_prefixes: Vec<String>,
    /// 12 entries, each all spellings/abbreviations of that month (full name first)
    pub month_names: Vec<Vec<String>>,
    /// name and place-name particles / connectors ("van", "de", "der", "San", "St")
    #[serde(default)]
    pub name_particles: Vec<String>,
    /// labels that introduce an identifier, phone, e-mail or birth date ("MRN", "Tel", "DOB")
    #[serde(default)]
    pub labels: Vec<String>,
    /// function words and generic words that are never taken for a name
    #[serde(default)]
    pub stopwords: Vec<String>,
}

use crate::embedded::{CLINICAL, PACKS as BUILTIN_PACKS};

static CODES: [&str; 6] = ["en", "de", "it", "fr", "es", "nl"];

impl LanguagePack {
    /// The built-in pack for `code` (one of [`LanguagePack::builtin_codes`]).
    pub fn builtin(code: &str) -> Option<LanguagePack> {
        builtin().packs.iter().find(|p| p.code == code).cloned()
    }

    /// Codes of the built-in packs.
    pub fn builtin_codes() -> &'static [&'static str] {
        &CODES
    }

    /// Parses and checks a pack (same format as the built-in JSON files).
    pub fn from_json(json: &str) -> Result<LanguagePack, TextError> {
        let p: LanguagePack =
            serde_json::from_str(json).map_err(|e| TextError::BadLanguagePack(e.to_string()))?;
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), TextError> {
        if self.code.trim().is_empty() {
            return Err(TextError::BadLanguagePack("empty code".into()));
        }
        if self.month_names.len() != 12 || self.month_names.iter().any(|m| m.is_empty()) {
            return Err(TextError::BadLanguagePack(format!(
                "pack {}: month_names must have 12 non-empty entries",
                self.code
            )));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClinicalFile {
    #[serde(rename = "_source", default)]
    #[allow(dead_code)]
    source: String,
    categories: BTreeMap<String, Vec<String>>,
}

pub(crate) struct Builtin {
    pub packs: Vec<LanguagePack>,
    /// clinical vocabulary, natural spelling
    pub clinical: Vec<String>,
    /// lexicon of all built-in packs (used by the deny-list to skip generic words)
    pub lexicon: Lexicon,
}

pub(crate) fn builtin() -> &'static Builtin {
    static B: OnceLock<Builtin> = OnceLock::new();
    B.get_or_init(|| {
        let packs: Vec<LanguagePack> = BUILTIN_PACKS
            .iter()
            .map(|(code, json)| {
                let p = LanguagePack::from_json(json.get())
                    .unwrap_or_else(|e| panic!("built-in language pack {code}: {e}"));
                assert_eq!(&p.code, code, "built-in language pack code");
                p
            })
            .collect();
        let file: ClinicalFile =
            serde_json::from_str(CLINICAL.get()).expect("built-in clinical.json");
        let clinical: Vec<String> = file.categories.into_values().flatten().collect();
        let lexicon = Lexicon::build(&packs, &clinical, &[], &[], &[]);
        Builtin {
            packs,
            clinical,
            lexicon,
        }
    })
}

/// Word classes (bit flags of a folded word).
pub(crate) mod flag {
    pub const CLINICAL: u32 = 1;
    pub const STOP: u32 = 1 << 1;
    pub const PARTICLE: u32 = 1 << 2;
    pub const HON: u32 = 1 << 3;
    /// honorific that is also an ordinary token ("MR", "DR", "MS", "M"): needs a dot or a
    /// non-all-caps spelling, and a following name
    pub const HON_WEAK: u32 = 1 << 4;
    /// first part of a dotted multi-part honorific ("dott" of "Dott.ssa")
    pub const HON_MULTI: u32 = 1 << 5;
    pub const POSTNOM: u32 = 1 << 6;
    pub const PREFIX: u32 = 1 << 7;
    pub const LABEL: u32 = 1 << 8;
    pub const INST: u32 = 1 << 9;
    pub const ADDR: u32 = 1 << 10;
    pub const MONTH: u32 = 1 << 11;
    /// an institution word by suffix ("Frauenklinik")
    pub const INST_SFX: u32 = 1 << 12;
    /// an address word by suffix ("Hauptstraße"): names the street by itself
    pub const ADDR_SFX: u32 = 1 << 13;

    /// words that are never name-like
    pub const NOT_NAME: u32 = CLINICAL
        | STOP
        | PARTICLE
        | HON
        | POSTNOM
        | PREFIX
        | LABEL
        | INST
        | ADDR
        | MONTH
        | INST_SFX;
    /// words the fuzzy matcher and `add_text` leave alone
    pub const GENERIC: u32 =
        CLINICAL | STOP | PARTICLE | HON | POSTNOM | INST | ADDR | MONTH | INST_SFX | ADDR_SFX;
    /// words whose presence makes a rule worth running
    pub const TRIGGER: u32 =
        HON | HON_MULTI | POSTNOM | PREFIX | LABEL | INST | ADDR | INST_SFX | ADDR_SFX;
}

/// Post-nominal titles (they follow a name: "John Smith, MD").
const POSTNOMINALS: &[&str] = &[
    "md", "phd", "mba", "msc", "bsc", "dds", "dmd", "rn", "frcr", "frcp", "frcs", "facr", "mph",
    "mbbs", "jr",
];

/// The compiled word classes of a set of language packs plus the clinical vocabulary.
pub(crate) struct Lexicon {
    flags: FastMap<String, u32>,
    inst_suffixes: Vec<String>,
    addr_suffixes: Vec<String>,
    /// dotted multi-part honorifics, folded parts
    pub multi_hon: Vec<Vec<String>>,
    /// folded month spelling → month (1..=12)
    pub months: FastMap<String, u8>,
    /// month spellings for the date regexes (natural and folded), all / full names only
    pub month_spellings: Vec<String>,
    pub month_full: Vec<String>,
}

impl Lexicon {
    pub fn build(
        packs: &[LanguagePack],
        clinical: &[String],
        extra_keep: &[String],
        extra_inst: &[String],
        extra_prefixes: &[String],
    ) -> Lexicon {
        let mut lx = Lexicon {
            flags: FastMap::default(),
            inst_suffixes: Vec::new(),
            addr_suffixes: Vec::new(),
            multi_hon: Vec::new(),
            months: FastMap::default(),
            month_spellings: Vec::new(),
            month_full: Vec::new(),
        };
        let mut honorifics: Vec<String> = Vec::new();
        for w in clinical.iter().chain(extra_keep) {
            lx.add_words(w, flag::CLINICAL);
        }
        for p in packs {
            for w in &p.stopwords {
                lx.add_words(w, flag::STOP);
            }
            for w in &p.name_particles {
                lx.add_words(w, flag::PARTICLE);
            }
            for w in &p.name_prefixes {
                lx.add_words(w, flag::PREFIX);
            }
            for w in &p.labels {
                lx.add_words(w, flag::LABEL);
            }
            for w in &p.institution_words {
                lx.add_place_word(w, flag::INST);
            }
            for w in &p.address_words {
                lx.add_place_word(w, flag::ADDR);
            }
            honorifics.extend(p.honorifics.iter().cloned());
        }
        for w in extra_inst {
            lx.add_place_word(w, flag::INST);
        }
        for w in extra_prefixes {
            lx.add_words(w, flag::PREFIX);
        }
        for w in POSTNOMINALS {
            lx.add_words(w, flag::POSTNOM);
        }
        // months: the built-in packs always (deny-listed dates are matched in any language), plus
        // the configured ones
        let mut month_packs: Vec<&LanguagePack> = builtin_packs_for_months();
        month_packs.extend(packs.iter());
        for p in month_packs {
            for (i, spellings) in p.month_names.iter().enumerate().take(12) {
                for (k, s) in spellings.iter().enumerate() {
                    let f = fold(s.trim_end_matches('.'));
                    if f.is_empty() {
                        continue;
                    }
                    lx.months.insert(f.clone(), (i + 1) as u8);
                    *lx.flags.entry(f.clone()).or_insert(0) |= flag::MONTH;
                    for v in [s.trim_end_matches('.').to_string(), f] {
                        if !lx.month_spellings.contains(&v) {
                            lx.month_spellings.push(v.clone());
                        }
                        if k == 0 && v.chars().count() >= 4 && !lx.month_full.contains(&v) {
                            lx.month_full.push(v);
                        }
                    }
                }
            }
        }
        // honorifics last: weak when short or when the word is also ordinary vocabulary
        for h in &honorifics {
            let parts = folded_words(h);
            match parts.len() {
                0 => {}
                1 => {
                    let w = &parts[0];
                    let existing = lx.flags.get(w).copied().unwrap_or(0);
                    let weak =
                        w.chars().count() <= 3 || existing & (flag::CLINICAL | flag::STOP) != 0;
                    let f = lx.flags.entry(w.clone()).or_insert(0);
                    *f |= flag::HON;
                    if weak {
                        *f |= flag::HON_WEAK;
                    }
                }
                _ => {
                    *lx.flags.entry(parts[0].clone()).or_insert(0) |= flag::HON_MULTI;
                    if !lx.multi_hon.contains(&parts) {
                        lx.multi_hon.push(parts);
                    }
                }
            }
        }
        // a strong honorific stays strong even if another pack lists it as weak-looking
        lx.month_spellings
            .sort_by_key(|s| std::cmp::Reverse(s.len()));
        lx.month_full.sort_by_key(|s| std::cmp::Reverse(s.len()));
        lx
    }

    fn add_words(&mut self, w: &str, f: u32) {
        let parts = folded_words(w);
        if parts.len() == 1 {
            *self.flags.entry(parts[0].clone()).or_insert(0) |= f;
        } else {
            // multi-token entries ("w/o", "follow-up"): every part gets the class
            for p in parts {
                if p.chars().count() >= 2 || f == flag::CLINICAL {
                    *self.flags.entry(p).or_insert(0) |= f;
                }
            }
        }
    }

    fn add_place_word(&mut self, w: &str, f: u32) {
        if let Some(sfx) = w.strip_prefix('-') {
            let s = fold(sfx);
            if !s.is_empty() {
                let list = if f == flag::INST {
                    &mut self.inst_suffixes
                } else {
                    &mut self.addr_suffixes
                };
                if !list.contains(&s) {
                    list.push(s.clone());
                }
            }
            // the suffix is also a word of its own ("Klinikum")
            self.add_words(sfx, f);
        } else {
            self.add_words(w, f);
        }
    }

    /// Flags of a folded word (suffix classes included).
    #[inline]
    pub fn flags(&self, w: &str) -> u32 {
        let f = self.flags.get(w).copied().unwrap_or(0);
        if f & (flag::CLINICAL | flag::INST | flag::ADDR) != 0 || w.len() < 6 {
            return f;
        }
        let mut extra = 0;
        for s in &self.addr_suffixes {
            if w.len() >= s.len() + 3 && w.ends_with(s.as_str()) {
                extra |= flag::ADDR_SFX;
                break;
            }
        }
        if extra == 0 {
            for s in &self.inst_suffixes {
                if w.len() >= s.len() + 3 && w.ends_with(s.as_str()) {
                    extra |= flag::INST_SFX;
                    break;
                }
            }
        }
        f | extra
    }

    #[inline]
    pub fn month(&self, w: &str) -> Option<u8> {
        self.months.get(w).copied()
    }
}

fn builtin_packs_for_months() -> Vec<&'static LanguagePack> {
    // while the built-in set itself is being built, `builtin()` is not available yet: parse the
    // month lists directly (cheap, once per lexicon)
    static MONTHS: OnceLock<Vec<LanguagePack>> = OnceLock::new();
    MONTHS
        .get_or_init(|| {
            BUILTIN_PACKS
                .iter()
                .filter_map(|(_, json)| serde_json::from_str::<LanguagePack>(json.get()).ok())
                .collect()
        })
        .iter()
        .collect()
}
