//! Configuration, in two levels: [`ConfigInput`] is what a user writes (JSON, every key optional,
//! unknown keys are errors), [`Config`] is the validated, typed form the engine uses. Defaults are
//! defined once, in [`ConfigInput::default`], and exported (CLI `--print-default-config`, wasm
//! `defaultConfig()`).
//!
//! The seed tool's `custom_rules.json` layout (Bufano & Kotter's MIDI-B rules file) is accepted as an
//! import: a JSON object with any of its keys (`default_anon_values`, `custom_actions`,
//! `tag_list_to_check_by_keep`, `text_to_clean`, `prefix_to_check`, `tag_list`) is read as that layout.

use crate::dicom::{tag, Tag, Vr};
use crate::profile::ProfileOption;
use crate::text::TextRules;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Errors in a configuration or mapping file. Messages name keys and rows, never DICOM values.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is not valid JSON or has an unknown or mistyped key: {0}")]
    Json(String),
    #[error("invalid tag {0:?}: write it as \"(gggg,eeee)\", \"gggg,eeee\" or \"ggggeeee\" in hexadecimal")]
    BadTag(String),
    #[error("unknown VR {0:?} in dummy_values")]
    BadVr(String),
    #[error("invalid value {value:?} for {key}: {message}")]
    BadValue { key: String, value: String, message: String },
    #[error("options retain_long_full_dates and retain_long_modified_dates exclude each other")]
    ConflictingDateOptions,
    #[error("text rules: {0}")]
    Text(String),
    #[error("subject mapping CSV: {0}")]
    Mapping(String),
    #[error("pixel options: {0}")]
    Pixels(String),
}

/// The profile options as a user sets them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OptionsInput {
    pub retain_safe_private: bool,
    pub retain_uids: bool,
    pub retain_device_identity: bool,
    pub retain_institution_identity: bool,
    pub retain_patient_characteristics: bool,
    pub retain_long_full_dates: bool,
    pub retain_long_modified_dates: bool,
    pub clean_descriptors: bool,
    pub clean_structured_content: bool,
    pub clean_graphics: bool,
}

impl Default for OptionsInput {
    /// The defaults: Basic Profile + Retain Longitudinal Modified Dates + Retain Patient
    /// Characteristics + Retain Device Identity + Retain Safe Private + Clean Descriptors + Clean
    /// Structured Content + Clean Graphics.
    fn default() -> Self {
        OptionsInput {
            retain_safe_private: true,
            retain_uids: false,
            retain_device_identity: true,
            retain_institution_identity: false,
            retain_patient_characteristics: true,
            retain_long_full_dates: false,
            retain_long_modified_dates: true,
            clean_descriptors: true,
            clean_structured_content: true,
            clean_graphics: true,
        }
    }
}

impl OptionsInput {
    pub fn get(&self, o: ProfileOption) -> bool {
        match o {
            ProfileOption::RetainSafePrivate => self.retain_safe_private,
            ProfileOption::RetainUids => self.retain_uids,
            ProfileOption::RetainDeviceIdentity => self.retain_device_identity,
            ProfileOption::RetainInstitutionIdentity => self.retain_institution_identity,
            ProfileOption::RetainPatientCharacteristics => self.retain_patient_characteristics,
            ProfileOption::RetainLongFullDates => self.retain_long_full_dates,
            ProfileOption::RetainLongModifiedDates => self.retain_long_modified_dates,
            ProfileOption::CleanDescriptors => self.clean_descriptors,
            ProfileOption::CleanStructuredContent => self.clean_structured_content,
            ProfileOption::CleanGraphics => self.clean_graphics,
        }
    }
    pub fn set(&mut self, o: ProfileOption, v: bool) {
        let f = match o {
            ProfileOption::RetainSafePrivate => &mut self.retain_safe_private,
            ProfileOption::RetainUids => &mut self.retain_uids,
            ProfileOption::RetainDeviceIdentity => &mut self.retain_device_identity,
            ProfileOption::RetainInstitutionIdentity => &mut self.retain_institution_identity,
            ProfileOption::RetainPatientCharacteristics => &mut self.retain_patient_characteristics,
            ProfileOption::RetainLongFullDates => &mut self.retain_long_full_dates,
            ProfileOption::RetainLongModifiedDates => &mut self.retain_long_modified_dates,
            ProfileOption::CleanDescriptors => &mut self.clean_descriptors,
            ProfileOption::CleanStructuredContent => &mut self.clean_structured_content,
            ProfileOption::CleanGraphics => &mut self.clean_graphics,
        };
        *f = v;
    }
}

/// A per-tag action a user can set (the seed tool's set, plus clean).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TagActionName {
    /// remove each of `values` from the text (replaced by `value`, default empty)
    ReplacePartText,
    /// replace the whole value by `value` (default: the VR's dummy value)
    ReplaceFullText,
    /// keep only the year of a date: YYYY0101
    SetDateToYear,
    /// move a date by `years` years
    ShiftDateByYears,
    /// zero-length value
    Empty,
    /// remove the element
    Delete,
    /// keep unchanged
    Keep,
    /// leave the element exactly as it is: no profile action and no text cleaning
    Skip,
    /// run the free-text cleaner (phone numbers, names, dates ... removed)
    Clean,
    /// keep the value if the cleaner finds nothing identifying in it, else clean it
    CheckAndRetain,
    /// remove the value if it looks like a person's name
    CheckPersonName,
}

/// One per-tag rule as written in the configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TagRuleInput {
    /// `"(0008,103E)"`, `"0008,103E"` or `"0008103E"`
    pub tag: String,
    pub action: TagActionName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<i32>,
}

/// The configuration as a user writes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigInput {
    /// The ten PS3.15 options.
    pub options: OptionsInput,
    /// Dummy values for action D, per VR (e.g. `{"PN": "ANONYMIZED"}`); missing VRs use the built-in.
    pub dummy_values: BTreeMap<String, String>,
    /// Per-tag actions; they take precedence over the profile.
    pub tags: Vec<TagRuleInput>,
    /// Extra elements whose values feed the deny-list of the free-text cleaner (the built-in list of
    /// names, IDs, dates, addresses, phones and institutions always applies).
    pub identifying_tags: Vec<String>,
    /// Free-text cleaner rules: language packs, extra words, prefixes, regexes.
    pub text: TextRules,
    /// Replace every non-standard UID in an element the table does not list (default true).
    pub replace_unlisted_uids: bool,
    /// Keep overlay planes (60xx) although their bitmaps cannot be cleaned (default false).
    pub keep_overlays: bool,
    /// Keep curve data (50xx) although it cannot be cleaned (default false).
    pub keep_curves: bool,
    /// Keep Encapsulated Document (0042,0011) although it cannot be cleaned (default false).
    pub keep_encapsulated_documents: bool,
    /// Burned-in text in the pixel data (Clean Pixel Data Option).
    pub pixels: crate::pixel::PixelInput,
}

impl Default for ConfigInput {
    fn default() -> Self {
        ConfigInput {
            options: OptionsInput::default(),
            dummy_values: default_dummy_values().into_iter().map(|(vr, v)| (vr.to_string(), v.to_string())).collect(),
            tags: Vec::new(),
            identifying_tags: Vec::new(),
            text: TextRules::default(),
            replace_unlisted_uids: true,
            keep_overlays: false,
            keep_curves: false,
            keep_encapsulated_documents: false,
            pixels: crate::pixel::PixelInput::default(),
        }
    }
}

/// Built-in dummy values for action D (numbers are written as text for DS/IS, binary otherwise).
pub fn default_dummy_values() -> Vec<(Vr, &'static str)> {
    vec![
        (Vr::AE, "ANONYMIZED"),
        (Vr::AS, "000Y"),
        (Vr::CS, "ANONYMIZED"),
        (Vr::DA, "19000101"),
        (Vr::DS, "0"),
        (Vr::DT, "19000101000000"),
        (Vr::IS, "0"),
        (Vr::LO, "ANONYMIZED"),
        (Vr::LT, "ANONYMIZED"),
        (Vr::PN, "ANONYMIZED"),
        (Vr::SH, "ANONYMIZED"),
        (Vr::ST, "ANONYMIZED"),
        (Vr::TM, "000000"),
        (Vr::UC, "ANONYMIZED"),
        (Vr::UR, "ANONYMIZED"),
        (Vr::UT, "ANONYMIZED"),
        (Vr::FD, "0"),
        (Vr::FL, "0"),
        (Vr::SL, "0"),
        (Vr::SS, "0"),
        (Vr::SV, "0"),
        (Vr::UL, "0"),
        (Vr::US, "0"),
        (Vr::UV, "0"),
    ]
}

/// A validated per-tag action.
#[derive(Clone, Debug, PartialEq)]
pub enum TagAction {
    ReplacePartText { words: Vec<String>, replacement: String },
    ReplaceFullText(Option<String>),
    SetDateToYear,
    ShiftDateByYears(i32),
    Empty,
    Delete,
    Keep,
    Skip,
    Clean,
    CheckAndRetain,
    CheckPersonName,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub options: OptionsInput,
    /// Enabled options in column order.
    pub enabled: Vec<ProfileOption>,
    pub dummy: HashMap<Vr, String>,
    pub tag_rules: HashMap<Tag, TagAction>,
    pub identifying_tags: Vec<Tag>,
    pub text: TextRules,
    pub replace_unlisted_uids: bool,
    pub keep_overlays: bool,
    pub keep_curves: bool,
    pub keep_encapsulated_documents: bool,
    pub pixels: crate::pixel::PixelConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config::validate(ConfigInput::default()).expect("the default configuration is valid")
    }
}

/// Parses a tag written as `(gggg,eeee)`, `gggg,eeee`, `ggggeeee` or `0xgggg`+`0xeeee` parts.
pub fn parse_tag(s: &str) -> Result<Tag, ConfigError> {
    let t: String = s.chars().filter(|c| !matches!(c, '(' | ')' | ',' | ' ')).collect();
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::BadTag(s.to_string()));
    }
    u32::from_str_radix(&t, 16).map_err(|_| ConfigError::BadTag(s.to_string()))
}

fn parse_hex16(s: &str) -> Result<u16, ConfigError> {
    let t = s.trim().trim_start_matches("0x").trim_start_matches("0X");
    u16::from_str_radix(t, 16).map_err(|_| ConfigError::BadTag(s.to_string()))
}

fn vr_from_str(s: &str) -> Option<Vr> {
    let b = s.trim().as_bytes();
    (b.len() == 2).then(|| Vr::from_bytes([b[0], b[1]])).flatten()
}

impl Config {
    /// Reads a configuration: the project's own format or the seed tool's `custom_rules.json` layout.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        Config::validate(ConfigInput::from_json(text)?)
    }

    pub fn validate(input: ConfigInput) -> Result<Config, ConfigError> {
        let o = &input.options;
        if o.retain_long_full_dates && o.retain_long_modified_dates {
            return Err(ConfigError::ConflictingDateOptions);
        }
        let enabled = ProfileOption::ALL.iter().copied().filter(|&p| o.get(p)).collect();
        let mut dummy: HashMap<Vr, String> = default_dummy_values().into_iter().map(|(v, s)| (v, s.to_string())).collect();
        for (k, v) in &input.dummy_values {
            let vr = vr_from_str(k).ok_or_else(|| ConfigError::BadVr(k.clone()))?;
            if v.is_empty() || v.len() > 64 || v.contains('\\') {
                return Err(ConfigError::BadValue { key: format!("dummy_values.{k}"), value: v.clone(), message: "must be 1 to 64 characters without '\\'".into() });
            }
            if matches!(vr, Vr::FD | Vr::FL | Vr::SL | Vr::SS | Vr::SV | Vr::UL | Vr::US | Vr::UV | Vr::DS | Vr::IS) && v.trim().parse::<f64>().is_err() {
                return Err(ConfigError::BadValue { key: format!("dummy_values.{k}"), value: v.clone(), message: "must be a number".into() });
            }
            dummy.insert(vr, v.clone());
        }
        let mut tag_rules = HashMap::new();
        for r in &input.tags {
            let t = parse_tag(&r.tag)?;
            let a = match r.action {
                TagActionName::ReplacePartText => {
                    if r.values.is_empty() {
                        return Err(ConfigError::BadValue { key: format!("tags[{}].values", r.tag), value: String::new(), message: "replace_part_text needs the words to replace in `values`".into() });
                    }
                    TagAction::ReplacePartText { words: r.values.clone(), replacement: r.value.clone().unwrap_or_default() }
                }
                TagActionName::ReplaceFullText => TagAction::ReplaceFullText(r.value.clone().or_else(|| r.values.first().cloned())),
                TagActionName::SetDateToYear => TagAction::SetDateToYear,
                TagActionName::ShiftDateByYears => {
                    let y = match (r.years, r.values.first()) {
                        (Some(y), _) => y,
                        (None, Some(v)) => v.trim().parse().map_err(|_| ConfigError::BadValue { key: format!("tags[{}].values", r.tag), value: v.clone(), message: "must be a whole number of years".into() })?,
                        _ => return Err(ConfigError::BadValue { key: format!("tags[{}].years", r.tag), value: String::new(), message: "shift_date_by_years needs `years`".into() }),
                    };
                    if !(-200..=200).contains(&y) {
                        return Err(ConfigError::BadValue { key: format!("tags[{}].years", r.tag), value: y.to_string(), message: "must be within ±200".into() });
                    }
                    TagAction::ShiftDateByYears(y)
                }
                TagActionName::Empty => TagAction::Empty,
                TagActionName::Delete => TagAction::Delete,
                TagActionName::Keep => TagAction::Keep,
                TagActionName::Skip => TagAction::Skip,
                TagActionName::Clean => TagAction::Clean,
                TagActionName::CheckAndRetain => TagAction::CheckAndRetain,
                TagActionName::CheckPersonName => TagAction::CheckPersonName,
            };
            tag_rules.insert(t, a);
        }
        let identifying_tags = input.identifying_tags.iter().map(|s| parse_tag(s)).collect::<Result<_, _>>()?;
        crate::text::Cleaner::new(&input.text).map_err(|e| ConfigError::Text(e.to_string()))?;
        let pixels = crate::pixel::PixelConfig::validate(&input.pixels).map_err(ConfigError::Pixels)?;
        Ok(Config {
            options: input.options.clone(),
            enabled,
            dummy,
            tag_rules,
            identifying_tags,
            text: input.text,
            replace_unlisted_uids: input.replace_unlisted_uids,
            keep_overlays: input.keep_overlays,
            keep_curves: input.keep_curves,
            keep_encapsulated_documents: input.keep_encapsulated_documents,
            pixels,
        })
    }
}

const SEED_KEYS: [&str; 6] = ["default_anon_values", "custom_actions", "tag_list_to_check_by_keep", "text_to_clean", "prefix_to_check", "tag_list"];

impl ConfigInput {
    /// Parses JSON in either layout (see the module docs).
    pub fn from_json(text: &str) -> Result<ConfigInput, ConfigError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        let is_seed = v.as_object().is_some_and(|o| o.keys().any(|k| SEED_KEYS.contains(&k.as_str())));
        if is_seed {
            let seed: SeedRules = serde_json::from_value(v).map_err(|e| ConfigError::Json(format!("custom_rules.json layout: {e}")))?;
            seed.into_config_input()
        } else {
            serde_json::from_value(v).map_err(|e| ConfigError::Json(e.to_string()))
        }
    }

    /// The default configuration as pretty JSON.
    pub fn default_json() -> String {
        serde_json::to_string_pretty(&ConfigInput::default()).expect("serialisable")
    }
}

// ---- the seed tool's custom_rules.json layout ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRules {
    #[serde(default)]
    default_anon_values: Vec<SeedVrValue>,
    #[serde(default)]
    custom_actions: Vec<SeedAction>,
    #[serde(default)]
    tag_list_to_check_by_keep: Vec<SeedTag>,
    #[serde(default)]
    text_to_clean: Option<SeedValues>,
    #[serde(default)]
    prefix_to_check: Option<SeedValues>,
    #[serde(default)]
    tag_list: Vec<SeedTagAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedVrValue {
    vr: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAction {
    action: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedTag {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    tag_group: String,
    tag_element: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedValues {
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedTagAction {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    tag_group: String,
    tag_element: String,
    action: String,
    #[serde(default)]
    values: Vec<String>,
}

impl SeedRules {
    fn into_config_input(self) -> Result<ConfigInput, ConfigError> {
        let mut c = ConfigInput::default();
        for d in self.default_anon_values {
            if d.value == "-" {
                continue; // the seed's "no default for this VR"
            }
            let vr = vr_from_str(&d.vr).ok_or_else(|| ConfigError::BadVr(d.vr.clone()))?;
            if matches!(vr, Vr::UN | Vr::SQ | Vr::UI | Vr::AT | Vr::OB | Vr::OW | Vr::OD | Vr::OF | Vr::OL | Vr::OV) {
                continue; // no textual dummy for these
            }
            c.dummy_values.insert(d.vr.trim().to_string(), d.value);
        }
        for a in self.custom_actions {
            let on = match a.value.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" => true,
                "no" | "false" => false,
                _ => return Err(ConfigError::BadValue { key: format!("custom_actions.{}", a.action), value: a.value, message: "must be yes or no".into() }),
            };
            let opt = match a.action.as_str() {
                "base" => {
                    if !on {
                        return Err(ConfigError::BadValue { key: "custom_actions.base".into(), value: a.value, message: "the Basic Profile cannot be switched off".into() });
                    }
                    continue;
                }
                // pixel options belong to the pixel engine; accepted here so the file imports
                "clean_pixel_data_option" | "clean_recognizable_visual_features_option" => continue,
                "clean_graphics_option" => ProfileOption::CleanGraphics,
                "clean_structured_content_option" => ProfileOption::CleanStructuredContent,
                "clean_descriptors_option" => ProfileOption::CleanDescriptors,
                "retain_longitudinal_temporal_information_with_full_dates_option" => ProfileOption::RetainLongFullDates,
                "retain_longitudinal_temporal_information_with_modified_dates_option" => ProfileOption::RetainLongModifiedDates,
                "retain_patient_characteristics_option" => ProfileOption::RetainPatientCharacteristics,
                "retain_device_identity_option" => ProfileOption::RetainDeviceIdentity,
                "retain_institution_identity_option" => ProfileOption::RetainInstitutionIdentity,
                "retain_uid_option" | "retain_uids_option" => ProfileOption::RetainUids,
                "retain_safe_private_option" => ProfileOption::RetainSafePrivate,
                other => return Err(ConfigError::BadValue { key: "custom_actions".into(), value: other.to_string(), message: "unknown option".into() }),
            };
            c.options.set(opt, on);
        }
        for t in self.tag_list_to_check_by_keep {
            c.identifying_tags.push(format!("{:04X}{:04X}", parse_hex16(&t.tag_group)?, parse_hex16(&t.tag_element)?));
        }
        if let Some(v) = self.text_to_clean {
            c.text.extra_institution_words.extend(v.values);
        }
        if let Some(v) = self.prefix_to_check {
            c.text.extra_prefixes.extend(v.values.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        }
        for t in self.tag_list {
            let tag_s = format!("{:04X}{:04X}", parse_hex16(&t.tag_group)?, parse_hex16(&t.tag_element)?);
            let (action, value) = match t.action.as_str() {
                "EMPTY" => (TagActionName::Empty, None),
                "DELETE" => (TagActionName::Delete, None),
                "KEEP" => (TagActionName::Keep, None),
                "SKIP" => (TagActionName::Skip, None),
                "PHONE" => (TagActionName::Clean, None),
                "CHEKANDRETAIN" | "CHECKANDRETAIN" => (TagActionName::CheckAndRetain, None),
                "CHEKPERSONNAME" | "CHECKPERSONNAME" => (TagActionName::CheckPersonName, None),
                "REPLACE_PART_TEXT" => (TagActionName::ReplacePartText, None),
                "REPLACE_FULL_TEXT" => (TagActionName::ReplaceFullText, t.values.first().cloned()),
                "SET_DATE_YEAR" => (TagActionName::SetDateToYear, None),
                "SHIFT_DATE_YEAR" => (TagActionName::ShiftDateByYears, None),
                other => return Err(ConfigError::BadValue { key: format!("tag_list[{tag_s}].action"), value: other.to_string(), message: "unknown action".into() }),
            };
            c.tags.push(TagRuleInput { tag: tag_s, action, value, values: t.values, years: None });
        }
        Ok(c)
    }
}

/// A subject mapping for clinical trials: original Patient ID → subject ID (and optional name).
#[derive(Clone, Default)]
pub struct SubjectMap {
    map: HashMap<String, (String, Option<String>)>,
}

impl std::fmt::Debug for SubjectMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SubjectMap({} subjects)", self.map.len())
    }
}

impl SubjectMap {
    /// Reads CSV with a header row: `patient_id,subject_id[,subject_name]` (also `id_old,id_new`).
    pub fn from_csv(text: &str) -> Result<SubjectMap, ConfigError> {
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
        let h = rdr.headers().map_err(|e| ConfigError::Mapping(e.to_string()))?.clone();
        let pos = |names: &[&str]| h.iter().position(|x| names.iter().any(|n| x.eq_ignore_ascii_case(n)));
        let pid = pos(&["patient_id", "id_old", "original_patient_id"]).ok_or(ConfigError::Mapping("header must name a patient_id column".into()))?;
        let sid = pos(&["subject_id", "id_new"]).ok_or(ConfigError::Mapping("header must name a subject_id column".into()))?;
        let sname = pos(&["subject_name", "name_new"]);
        let mut map = HashMap::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| ConfigError::Mapping(format!("row {}: {e}", i + 2)))?;
            let (p, s) = (rec[pid].to_string(), rec[sid].to_string());
            if p.is_empty() || s.is_empty() {
                return Err(ConfigError::Mapping(format!("row {}: empty patient_id or subject_id", i + 2)));
            }
            if s.len() > 64 || s.contains('\\') {
                return Err(ConfigError::Mapping(format!("row {}: subject_id must be at most 64 characters without '\\'", i + 2)));
            }
            let n = sname.map(|c| rec[c].to_string()).filter(|n| !n.is_empty());
            if map.insert(p, (s, n)).is_some() {
                return Err(ConfigError::Mapping(format!("row {}: patient_id listed twice", i + 2)));
            }
        }
        Ok(SubjectMap { map })
    }
    pub fn get(&self, patient_id: &str) -> Option<(&str, Option<&str>)> {
        self.map.get(patient_id).map(|(s, n)| (s.as_str(), n.as_deref()))
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The elements whose values always feed the deny-list (names, IDs, dates, phones, addresses,
/// institutions). Person names (VR PN) anywhere in the data set are added too.
pub fn builtin_identifying_tags() -> &'static [(Tag, IdentKind)] {
    use IdentKind::*;
    const T: &[(Tag, IdentKind)] = &[
        (tag(0x0010, 0x0020), Id),
        (tag(0x0010, 0x1000), Id),
        (tag(0x0010, 0x1002), Id),
        (tag(0x0008, 0x0050), Id),
        (tag(0x0020, 0x0010), Id),
        (tag(0x0038, 0x0010), Id),
        (tag(0x0038, 0x0400), Id),
        (tag(0x0040, 0x1001), Id),
        (tag(0x0040, 0x0009), Id),
        (tag(0x0040, 0x0253), Id),
        (tag(0x0040, 0x2016), Id),
        (tag(0x0040, 0x2017), Id),
        (tag(0x0010, 0x1090), Id),
        (tag(0x0010, 0x0050), Id),
        (tag(0x0010, 0x0030), Date),
        (tag(0x0008, 0x0020), Date),
        (tag(0x0008, 0x0021), Date),
        (tag(0x0008, 0x0022), Date),
        (tag(0x0008, 0x0023), Date),
        (tag(0x0010, 0x2154), Phone),
        (tag(0x0008, 0x0094), Phone),
        (tag(0x0040, 0x2010), Phone),
        (tag(0x0010, 0x1040), Text),
        (tag(0x0008, 0x0092), Text),
        (tag(0x0008, 0x0081), Text),
        (tag(0x0008, 0x0080), Text),
        (tag(0x0008, 0x1040), Text),
        (tag(0x0010, 0x2152), Text),
        (tag(0x0010, 0x21F0), Text),
        (tag(0x0040, 0x0243), Text),
        (tag(0x0040, 0x0242), Text),
        (tag(0x0010, 0x1080), Text),
    ];
    T
}

/// How an identifying element's value is added to the deny-list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentKind {
    Name,
    Id,
    Date,
    Phone,
    Text,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_validate() {
        let j = ConfigInput::default_json();
        let c = Config::from_json(&j).unwrap();
        assert_eq!(c.enabled.len(), 7);
        assert!(!c.options.retain_uids && !c.options.retain_institution_identity && !c.options.retain_long_full_dates);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(Config::from_json(r#"{"optionz": {}}"#).is_err());
        assert!(Config::from_json(r#"{"options": {"retain_uid": true}}"#).is_err());
        assert!(Config::from_json(r#"{"tags": [{"tag": "00100010", "action": "keep", "extra": 1}]}"#).is_err());
        assert!(Config::from_json(r#"{"tags": [{"tag": "00100010", "action": "nonsense"}]}"#).is_err());
    }

    #[test]
    fn conflicting_date_options_rejected() {
        let e = Config::from_json(r#"{"options": {"retain_long_full_dates": true}}"#).unwrap_err();
        assert!(matches!(e, ConfigError::ConflictingDateOptions));
        let c = Config::from_json(r#"{"options": {"retain_long_full_dates": true, "retain_long_modified_dates": false}}"#).unwrap();
        assert!(c.options.retain_long_full_dates);
    }

    #[test]
    fn tags_parse_in_every_spelling() {
        for s in ["(0008,103E)", "0008,103e", "0008103E"] {
            assert_eq!(parse_tag(s).unwrap(), 0x0008_103E);
        }
        assert!(parse_tag("(0008,10)").is_err());
    }

    #[test]
    fn seed_custom_rules_import() {
        let text = include_str!("../tests/data/seed_custom_rules.json");
        let c = Config::from_json(text).unwrap();
        assert!(c.options.clean_descriptors && !c.options.clean_graphics && c.options.retain_safe_private);
        assert_eq!(c.tag_rules.get(&0x0012_0010), Some(&TagAction::Skip));
        assert_eq!(c.tag_rules.get(&0x0018_1030), Some(&TagAction::CheckPersonName));
        assert_eq!(c.tag_rules.get(&0x0020_0011), Some(&TagAction::CheckAndRetain));
        assert_eq!(c.tag_rules.get(&0x0010_21B0), Some(&TagAction::Clean));
        assert_eq!(c.identifying_tags.len(), 10);
        assert!(c.text.extra_institution_words.iter().any(|w| w == "nosocomio"));
        assert_eq!(c.dummy.get(&Vr::DA).map(String::as_str), Some("00010101"));
        // unknown keys in the seed layout are errors too
        let bad = text.replacen("\"default_anon_values\"", "\"default_anon_valuez\": [], \"default_anon_values\"", 1);
        assert!(Config::from_json(&bad).is_err());
    }

    #[test]
    fn subject_map_reads_and_rejects() {
        let m = SubjectMap::from_csv("patient_id,subject_id,subject_name\nP1,SUBJ-001,Subject^One\nP2,SUBJ-002,\n").unwrap();
        assert_eq!(m.get("P1"), Some(("SUBJ-001", Some("Subject^One"))));
        assert_eq!(m.get("P2"), Some(("SUBJ-002", None)));
        assert!(SubjectMap::from_csv("a,b\n1,2\n").is_err());
        assert!(SubjectMap::from_csv("patient_id,subject_id\nP1,S1\nP1,S2\n").is_err());
        assert!(!format!("{m:?}").contains("P1"));
    }
}
