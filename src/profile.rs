//! PS3.15 Annex E, edition 2026c: Table E.1-1 (656 rows: attributes × Basic Profile and the ten option
//! columns), Table E.1-1a (action codes) and Table E.3.10-1 (safe private attributes), read from the CSV
//! copies in `data/annex_e/` (provenance in `data/annex_e/README.md`) once, at first use.
//!
//! Option precedence: an option column with an empty cell leaves the Basic Profile code; among the
//! enabled options that set a code for a row, `C` wins over `K` (cleaning is the safer of the two when
//! e.g. Retain Device Identity keeps and Retain Longitudinal Modified Dates cleans a calibration date).

use crate::dicom::{group, element, Tag, Vr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// An action code of Table E.1-1a.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Code {
    /// replace with a non-zero length dummy value consistent with the VR
    D,
    /// replace with a zero length value (or a dummy)
    Z,
    /// remove the attribute (and a sequence's items)
    X,
    /// keep (unchanged for non-sequences, cleaned for sequences)
    K,
    /// clean: replace with values of similar meaning known not to identify
    C,
    /// replace with an internally consistent UID
    U,
    #[serde(rename = "Z/D")]
    ZD,
    #[serde(rename = "X/Z")]
    XZ,
    #[serde(rename = "X/D")]
    XD,
    #[serde(rename = "X/Z/D")]
    XZD,
    #[serde(rename = "X/Z/U*")]
    XZU,
}

impl Code {
    pub fn parse(s: &str) -> Option<Code> {
        Some(match s.trim() {
            "D" => Code::D,
            "Z" => Code::Z,
            "X" => Code::X,
            "K" => Code::K,
            "C" => Code::C,
            "U" => Code::U,
            "Z/D" => Code::ZD,
            "X/Z" => Code::XZ,
            "X/D" => Code::XD,
            "X/Z/D" => Code::XZD,
            "X/Z/U*" => Code::XZU,
            _ => return None,
        })
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Code::D => "D",
            Code::Z => "Z",
            Code::X => "X",
            Code::K => "K",
            Code::C => "C",
            Code::U => "U",
            Code::ZD => "Z/D",
            Code::XZ => "X/Z",
            Code::XD => "X/D",
            Code::XZD => "X/Z/D",
            Code::XZU => "X/Z/U*",
        }
    }
    /// Resolves a compound code without per-IOD module tables.
    ///
    /// The rule: the right-most alternative is the only one valid for every attribute type the code
    /// allows (D satisfies Type 1, 2 and 3; Z satisfies Type 2 and 3), so a non-sequence attribute gets
    /// it: `Z/D`, `X/D`, `X/Z/D` → `D`; `X/Z` → `Z`. For sequences a dummy item cannot be invented, so
    /// `X/Z`, `X/D`, `X/Z/D` → `Z` (a sequence with no items); `X/Z/U*` keeps the sequence and replaces
    /// the UIDs it contains (each contained attribute then follows its own row, so every other
    /// identifying attribute inside is still removed or cleaned).
    pub fn resolve(self, is_sequence: bool) -> Code {
        match (self, is_sequence) {
            (Code::XZU, _) => Code::U,
            (Code::ZD | Code::XD | Code::XZD, true) => Code::Z,
            (Code::ZD | Code::XD | Code::XZD, false) => Code::D,
            (Code::XZ, _) => Code::Z,
            (c, _) => c,
        }
    }
}

/// The ten profile options of Table E.1-1, in column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileOption {
    RetainSafePrivate,
    RetainUids,
    RetainDeviceIdentity,
    RetainInstitutionIdentity,
    RetainPatientCharacteristics,
    RetainLongFullDates,
    RetainLongModifiedDates,
    CleanDescriptors,
    CleanStructuredContent,
    CleanGraphics,
}

impl ProfileOption {
    pub const ALL: [ProfileOption; 10] = [
        ProfileOption::RetainSafePrivate,
        ProfileOption::RetainUids,
        ProfileOption::RetainDeviceIdentity,
        ProfileOption::RetainInstitutionIdentity,
        ProfileOption::RetainPatientCharacteristics,
        ProfileOption::RetainLongFullDates,
        ProfileOption::RetainLongModifiedDates,
        ProfileOption::CleanDescriptors,
        ProfileOption::CleanStructuredContent,
        ProfileOption::CleanGraphics,
    ];
    /// The CSV column of this option.
    pub fn column(&self) -> &'static str {
        match self {
            ProfileOption::RetainSafePrivate => "retain_safe_private",
            ProfileOption::RetainUids => "retain_uids",
            ProfileOption::RetainDeviceIdentity => "retain_device_identity",
            ProfileOption::RetainInstitutionIdentity => "retain_institution_identity",
            ProfileOption::RetainPatientCharacteristics => "retain_patient_characteristics",
            ProfileOption::RetainLongFullDates => "retain_long_full_dates",
            ProfileOption::RetainLongModifiedDates => "retain_long_modified_dates",
            ProfileOption::CleanDescriptors => "clean_descriptors",
            ProfileOption::CleanStructuredContent => "clean_structured_content",
            ProfileOption::CleanGraphics => "clean_graphics",
        }
    }
    /// The CID 7050 code (DCM) and meaning of this option.
    pub fn cid7050(&self) -> (&'static str, &'static str) {
        match self {
            ProfileOption::RetainSafePrivate => ("113111", "Retain Safe Private Option"),
            ProfileOption::RetainUids => ("113110", "Retain UIDs Option"),
            ProfileOption::RetainDeviceIdentity => ("113109", "Retain Device Identity Option"),
            ProfileOption::RetainInstitutionIdentity => ("113112", "Retain Institution Identity Option"),
            ProfileOption::RetainPatientCharacteristics => ("113108", "Retain Patient Characteristics Option"),
            ProfileOption::RetainLongFullDates => ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
            ProfileOption::RetainLongModifiedDates => ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
            ProfileOption::CleanDescriptors => ("113105", "Clean Descriptors Option"),
            ProfileOption::CleanStructuredContent => ("113104", "Clean Structured Content Option"),
            ProfileOption::CleanGraphics => ("113103", "Clean Graphics Option"),
        }
    }
    fn index(&self) -> usize {
        ProfileOption::ALL.iter().position(|o| o == self).unwrap()
    }
}

/// Which attributes a row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    Exact(Tag),
    /// (50xx,xxxx) Curve Data: every element of the curve groups
    Curve,
    /// (60xx,3000) Overlay Data
    OverlayData,
    /// (60xx,4000) Overlay Comments
    OverlayComments,
    /// (gggg,eeee) where gggg is odd
    Private,
}

impl Pattern {
    pub fn matches(&self, t: Tag) -> bool {
        let (g, e) = (group(t), element(t));
        match *self {
            Pattern::Exact(x) => x == t,
            Pattern::Curve => is_curve_group(g),
            Pattern::OverlayData => is_overlay_group(g) && e == 0x3000,
            Pattern::OverlayComments => is_overlay_group(g) && e == 0x4000,
            Pattern::Private => g % 2 == 1,
        }
    }
}

pub fn is_curve_group(g: u16) -> bool {
    (0x5000..=0x501E).contains(&g) && g % 2 == 0
}
pub fn is_overlay_group(g: u16) -> bool {
    (0x6000..=0x601E).contains(&g) && g % 2 == 0
}

/// One row of Table E.1-1.
#[derive(Clone, Debug)]
pub struct Row {
    pub pattern: Pattern,
    /// The tag as written in the standard, e.g. `(0010,0010)`.
    pub tag_text: String,
    /// Empty in the embedded copy (descriptive text is left out of the binary; see build.rs).
    pub name: String,
    pub retired: bool,
    pub basic: Code,
    /// Codes of the ten option columns, `None` where the cell is empty.
    pub options: [Option<Code>; 10],
}

impl Row {
    /// The code for this row with the given options enabled (before compound resolution).
    pub fn code(&self, enabled: &[ProfileOption]) -> Code {
        let mut out = self.basic;
        let mut keep = false;
        for o in enabled {
            match self.options[o.index()] {
                Some(Code::C) => return Code::C,
                Some(Code::K) => keep = true,
                Some(c) => out = c,
                None => {}
            }
        }
        if keep {
            Code::K
        } else {
            out
        }
    }
}

/// Table E.1-1 indexed for look-up.
pub struct Profile {
    pub rows: Vec<Row>,
    exact: HashMap<Tag, usize>,
    patterned: Vec<usize>,
}

use crate::embedded::{TABLE_E1_1, TABLE_E3_10_1};

impl Profile {
    /// The 2026c profile, parsed once.
    pub fn get() -> &'static Profile {
        static P: OnceLock<Profile> = OnceLock::new();
        P.get_or_init(|| Profile::parse(TABLE_E1_1.get()).expect("embedded Table E.1-1 is valid"))
    }

    pub fn parse(csv_text: &str) -> Result<Profile, String> {
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name).ok_or(format!("missing column {name}"));
        let (cg, ce, cn, ct, cr, cb) = (col("tag_group")?, col("tag_element")?, col("name")?, col("tag")?, col("retired")?, col("basic_profile")?);
        let opt_cols: Vec<usize> = ProfileOption::ALL.iter().map(|o| col(o.column())).collect::<Result<_, _>>()?;
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| e.to_string())?;
            let (g, e) = (&rec[cg], &rec[ce]);
            let pattern = match (g, e) {
                ("", "") => Pattern::Private,
                ("50xx", "xxxx") => Pattern::Curve,
                ("60xx", "3000") => Pattern::OverlayData,
                ("60xx", "4000") => Pattern::OverlayComments,
                _ => {
                    let g = u16::from_str_radix(g, 16).map_err(|_| format!("row {i}: bad group"))?;
                    let e = u16::from_str_radix(e, 16).map_err(|_| format!("row {i}: bad element"))?;
                    Pattern::Exact(crate::dicom::tag(g, e))
                }
            };
            let basic = Code::parse(&rec[cb]).ok_or(format!("row {i}: bad basic code"))?;
            let mut options = [None; 10];
            for (k, &c) in opt_cols.iter().enumerate() {
                let cell = rec[c].trim();
                if !cell.is_empty() {
                    options[k] = Some(Code::parse(cell).ok_or(format!("row {i}: bad option code"))?);
                }
            }
            rows.push(Row { pattern, tag_text: rec[ct].to_string(), name: rec[cn].to_string(), retired: &rec[cr] == "Y", basic, options });
        }
        let mut exact = HashMap::new();
        let mut patterned = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            match r.pattern {
                Pattern::Exact(t) => {
                    exact.insert(t, i);
                }
                _ => patterned.push(i),
            }
        }
        Ok(Profile { rows, exact, patterned })
    }

    /// The row that governs a tag, if any. Exact rows win over the repeating-group and private rows.
    pub fn row(&self, t: Tag) -> Option<&Row> {
        if let Some(&i) = self.exact.get(&t) {
            return Some(&self.rows[i]);
        }
        self.patterned.iter().map(|&i| &self.rows[i]).find(|r| r.pattern.matches(t))
    }
}

/// Table E.3.10-1: private attributes that are safe to retain, keyed by (group, creator, element byte).
pub struct SafePrivate {
    map: HashMap<(u16, String, u8), Option<Vr>>,
}

impl SafePrivate {
    pub fn get() -> &'static SafePrivate {
        static S: OnceLock<SafePrivate> = OnceLock::new();
        S.get_or_init(|| SafePrivate::parse(TABLE_E3_10_1.get()).expect("embedded Table E.3.10-1 is valid"))
    }

    pub fn parse(csv_text: &str) -> Result<SafePrivate, String> {
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        let mut map = HashMap::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            let de = rec[0].trim().trim_start_matches('(').trim_end_matches(')');
            let (g, e) = de.split_once(',').ok_or("bad data element")?;
            let g = u16::from_str_radix(g, 16).map_err(|_| "bad group")?;
            let e = u8::from_str_radix(e.trim_start_matches("xx").trim_start_matches("XX"), 16).map_err(|_| "bad element")?;
            let vr = rec[2].get(..2).and_then(|v| Vr::from_bytes([v.as_bytes()[0], v.as_bytes()[1]]));
            map.insert((g, normalize_creator(&rec[1]), e), vr);
        }
        Ok(SafePrivate { map })
    }

    /// `Some(vr)` when (group, creator, element) is safe; the VR is the table's (first of `OW/OB`).
    pub fn lookup(&self, g: u16, creator: &str, elem_byte: u8) -> Option<Option<Vr>> {
        self.map.get(&(g, normalize_creator(creator), elem_byte)).copied()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn entries(&self) -> impl Iterator<Item = (&(u16, String, u8), &Option<Vr>)> {
        self.map.iter()
    }
}

/// Private creator strings compare with surrounding spaces and NULs removed.
pub fn normalize_creator(s: &str) -> String {
    s.trim_matches(|c: char| c == ' ' || c == '\0').to_string()
}
