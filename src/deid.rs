//! Classify, then apply.
//!
//! [`Engine::decide`] is the one place where the action for an element is chosen: it is pure (tag, VR,
//! shape, private creator → [`Decision`]). [`Engine::classify`] walks a file and lists the decision for
//! every element at every depth (a dry-run plan); [`Engine::process`] walks it again and carries each
//! decision out. Both walks call the same function, so the plan is what is applied.

use crate::charset::{CharacterSets, TextKind};
use crate::config::{builtin_identifying_tags, Config, IdentKind, SubjectMap, TagAction};
use crate::dicom::{self, ascii_value, find, put, tag, tag_string, Element, FileObject, Item, Tag, Value, Vr};
use crate::error::DeidError;
use crate::profile::{is_overlay_group, Code, Pattern, Profile, SafePrivate};
use crate::pseudonym::{self, Key};
use crate::report::{ElementRecord, FileReport, Status};
use crate::text::{Cleaner, DenyList};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// What is done to one element. A documented enum, not closures, so plans can be listed and compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// K: unchanged
    Keep,
    /// X: removed (a sequence with all its items)
    Remove,
    /// Z: zero-length value (a sequence with no items)
    Empty,
    /// D: a dummy value consistent with the VR (configurable per VR)
    Dummy,
    /// U: every non-standard UID in the value replaced by its keyed pseudonym
    ReplaceUid,
    /// Patient ID replaced by the subject ID from the mapping, or the keyed pseudonym
    PseudonymPatientId,
    /// Patient's Name replaced by the subject name from the mapping, or the keyed pseudonym
    PseudonymPatientName,
    /// C on DA/DT with Retain Longitudinal Modified Dates: moved by the patient's date offset
    ShiftDate,
    /// C on an age: kept, ages over 89 years written as 090Y
    CleanAge,
    /// C on text, and every text element the table does not list: free-text cleaner
    CleanText,
    /// a person name outside the table's rows, or C on PN: removed if it looks like a name
    CheckPersonName,
    /// K/C/U/D on a sequence: kept, every item's elements decided on their own
    CleanItems,
    /// configured: keep if the cleaner finds nothing identifying, else clean
    CheckAndRetain,
    /// configured: whole value replaced (by the configured text or the VR's dummy)
    ReplaceFullText,
    /// configured: listed words replaced in the text
    ReplacePartText,
    /// configured: date reduced to its year
    SetDateToYear,
    /// configured: date moved by whole years
    ShiftDateByYears,
    /// configured: untouched, not even cleaned
    Skip,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Remove => "remove",
            Action::Empty => "empty",
            Action::Dummy => "dummy",
            Action::ReplaceUid => "replace_uid",
            Action::PseudonymPatientId => "pseudonym_patient_id",
            Action::PseudonymPatientName => "pseudonym_patient_name",
            Action::ShiftDate => "shift_date",
            Action::CleanAge => "clean_age",
            Action::CleanText => "clean_text",
            Action::CheckPersonName => "check_person_name",
            Action::CleanItems => "clean_items",
            Action::CheckAndRetain => "check_and_retain",
            Action::ReplaceFullText => "replace_full_text",
            Action::ReplacePartText => "replace_part_text",
            Action::SetDateToYear => "set_date_to_year",
            Action::ShiftDateByYears => "shift_date_by_years",
            Action::Skip => "skip",
        }
    }
}

/// Why an action was chosen (for the report and the plan).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Source {
    /// a row of Table E.1-1: the code in the table with the enabled options, and how it resolved
    Profile { row: String, code: &'static str, resolved: &'static str },
    /// a per-tag rule of the configuration
    Config,
    /// private element: kept because (group, creator, element) is in Table E.3.10-1
    SafePrivate,
    /// private element not in Table E.3.10-1, or Retain Safe Private is off
    Private,
    /// not in Table E.1-1: kept, text through the cleaner, UIDs replaced, dates shifted
    NotInTable,
    /// cannot be cleaned (overlay bitmaps, curves, encapsulated documents): removed unless kept by config
    Uncleanable,
    /// group length, file meta element rebuilt by the writer
    Structural,
}

/// One decision of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub action: Action,
    #[serde(flatten)]
    pub source: Source,
    /// The VR used to interpret the value (the dictionary's or Table E.3.10-1's for UN).
    pub vr: Vr,
}

impl Serialize for Vr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A planned decision for one element at a path.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedElement {
    pub path: String,
    pub keyword: &'static str,
    #[serde(flatten)]
    pub decision: Decision,
}

/// Result of de-identifying one file.
#[derive(Debug)]
pub struct Output {
    pub bytes: Vec<u8>,
    /// `<new Study UID>/<new Series UID>/<new SOP Instance UID>.dcm`: made from new UIDs only.
    pub path: String,
    pub report: FileReport,
    /// old → new UIDs (only when the engine was asked for mappings)
    pub uid_map: Vec<(String, String)>,
    /// old → new Patient ID (only when asked for mappings)
    pub patient_map: Option<(String, String)>,
}

/// A de-identified file not yet serialised (see [`Engine::prepare`]).
#[derive(Debug)]
pub struct Prepared<'a> {
    pub object: FileObject<'a>,
    pub path: String,
    pub report: FileReport,
    pub uid_map: Vec<(String, String)>,
    pub patient_map: Option<(String, String)>,
}

impl Prepared<'_> {
    /// Streams the file out; large values go straight from the input to the writer.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> Result<(), dicom::WriteError> {
        dicom::write_to(&self.object, w)
    }
}

/// The de-identification engine: configuration, key, compiled cleaner, optional subject mapping and the
/// batch deny-list. Immutable while processing, so one engine serves many threads.
pub struct Engine {
    config: Config,
    key: Key,
    cleaner: Cleaner,
    subjects: Option<SubjectMap>,
    batch_deny: DenyList,
    mappings: bool,
    implementation_uid: String,
    /// the OCR back end of the pixel engine (see [`Engine::with_text_finder`])
    finder: Option<std::sync::Arc<dyn crate::pixel::TextFinder>>,
}

/// Per-level walking state: the character sets in force and the private creators of this item.
#[derive(Clone)]
struct Level {
    charsets: CharacterSets,
    creators: HashMap<(u16, u8), String>,
}

/// Per-file state.
struct FileCtx<'e> {
    deny: Cow<'e, DenyList>,
    date_offset: i64,
    old_patient_id: String,
    big_endian: bool,
    uid_map: BTreeMap<String, String>,
    records: Vec<ElementRecord>,
    counts: BTreeMap<&'static str, usize>,
    mapping_subject: Option<(&'e str, Option<&'e str>)>,
    notes: Vec<String>,
}

const PATIENT_NAME: Tag = tag(0x0010, 0x0010);
const PATIENT_ID: Tag = tag(0x0010, 0x0020);
const SOP_INSTANCE_UID: Tag = tag(0x0008, 0x0018);
const SOP_CLASS_UID: Tag = tag(0x0008, 0x0016);
const STUDY_UID: Tag = tag(0x0020, 0x000D);
const SERIES_UID: Tag = tag(0x0020, 0x000E);
const ENCAPSULATED_DOCUMENT: Tag = tag(0x0042, 0x0011);

impl Engine {
    pub fn new(config: Config, key: Key) -> Result<Engine, DeidError> {
        let cleaner = Cleaner::new(&config.text).map_err(|e| DeidError::Config(e.to_string()))?;
        let implementation_uid = {
            use sha2::{Digest, Sha256};
            let h = Sha256::digest(b"dicom-deid implementation class");
            format!("2.25.{}", u128::from_be_bytes(h[..16].try_into().unwrap()))
        };
        Ok(Engine { config, key, cleaner, subjects: None, batch_deny: DenyList::default(), mappings: false, implementation_uid, finder: None })
    }

    pub fn with_subject_map(mut self, m: SubjectMap) -> Engine {
        self.subjects = Some(m);
        self
    }

    /// Gives the pixel engine its text detector/reader (the OCR models). Without one, a configuration
    /// whose pixel policy is not `none` fails every file with pixel data (fail closed).
    pub fn with_text_finder(mut self, f: std::sync::Arc<dyn crate::pixel::TextFinder>) -> Engine {
        self.finder = Some(f);
        self
    }

    /// As [`Engine::with_text_finder`], on an existing engine.
    pub fn set_text_finder(&mut self, f: std::sync::Arc<dyn crate::pixel::TextFinder>) {
        self.finder = Some(f);
    }

    /// True when files with pixel data need a text finder that is missing.
    pub fn needs_text_finder(&self) -> bool {
        self.config.pixels.policy != crate::pixel::Policy::None && self.finder.is_none()
    }

    /// Ask for old → new mappings in each [`Output`] (off by default: they re-identify).
    pub fn with_mappings(mut self, on: bool) -> Engine {
        self.mappings = on;
        self
    }

    /// As [`Engine::with_mappings`], on an existing engine.
    pub fn set_mappings(&mut self, on: bool) {
        self.mappings = on;
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds identifying words collected from other files of the batch.
    pub fn add_batch_identifiers(&mut self, deny: &DenyList) {
        self.batch_deny.merge(deny);
    }

    /// The identifying words of one file (names, IDs, dates, phones, addresses, institutions), for the
    /// batch deny-list.
    /// `input` may be only the first bytes of the file, as long as they hold everything before the
    /// pixel data.
    pub fn collect_identifiers(&self, input: &[u8]) -> Result<DenyList, DeidError> {
        let obj = dicom::parse_header(input).map_err(DeidError::Parse)?;
        let mut deny = DenyList::default();
        self.collect(&obj.dataset, &CharacterSets::default_repertoire(), &mut deny);
        Ok(deny)
    }

    fn collect(&self, elements: &[Element<'_>], parent: &CharacterSets, deny: &mut DenyList) {
        let charsets = charsets_of(elements, parent);
        for e in elements {
            match &e.value {
                Value::Sequence { items, .. } => {
                    for i in items {
                        self.collect(&i.elements, &charsets, deny);
                    }
                }
                Value::Bytes(b) => {
                    let kind = builtin_identifying_tags().iter().find(|(t, _)| *t == e.tag).map(|(_, k)| *k).or_else(|| {
                        if e.vr == Vr::PN {
                            Some(IdentKind::Name)
                        } else if self.config.identifying_tags.contains(&e.tag) {
                            Some(match e.vr {
                                Vr::DA | Vr::DT => IdentKind::Date,
                                _ if b.iter().any(u8::is_ascii_digit) => IdentKind::Id,
                                _ => IdentKind::Text,
                            })
                        } else {
                            None
                        }
                    });
                    let Some(kind) = kind else { continue };
                    let Ok(text) = reading_charsets(&charsets, b, text_kind(e.vr)).decode(b, text_kind(e.vr)) else { continue };
                    for v in text.split('\\') {
                        let v = v.trim_matches(|c: char| c == ' ' || c == '\0');
                        if v.is_empty() {
                            continue;
                        }
                        match kind {
                            IdentKind::Name => deny.add_person_name(v),
                            IdentKind::Id => deny.add_identifier(v),
                            IdentKind::Date => deny.add_date(v.get(..8).unwrap_or(v)),
                            IdentKind::Phone => deny.add_phone(v),
                            IdentKind::Text => deny.add_text(v),
                        }
                    }
                }
                Value::Encapsulated { .. } => {}
            }
        }
    }

    /// The decision for one element. Pure: depends only on the configuration and its arguments.
    /// `creator` is the private creator of a private element's block; `top` is true at the data set's
    /// top level.
    pub fn decide(&self, t: Tag, vr: Vr, is_sequence: bool, creator: Option<&str>, top: bool) -> Decision {
        let (g, el) = (dicom::group(t), dicom::element(t));
        let vr = if vr == Vr::UN && g % 2 == 0 { dicom::dictionary_vr(t).unwrap_or(Vr::UN) } else { vr };
        let d = |action, source| Decision { action, source, vr };
        if let Some(rule) = self.config.tag_rules.get(&t) {
            let a = match rule {
                TagAction::ReplacePartText { .. } => Action::ReplacePartText,
                TagAction::ReplaceFullText(_) => Action::ReplaceFullText,
                TagAction::SetDateToYear => Action::SetDateToYear,
                TagAction::ShiftDateByYears(_) => Action::ShiftDateByYears,
                TagAction::Empty => Action::Empty,
                TagAction::Delete => Action::Remove,
                TagAction::Keep if is_sequence => Action::CleanItems,
                TagAction::Keep => Action::Keep,
                TagAction::Skip => Action::Skip,
                TagAction::Clean if is_sequence => Action::CleanItems,
                TagAction::Clean if vr == Vr::PN => Action::CheckPersonName,
                TagAction::Clean => Action::CleanText,
                TagAction::CheckAndRetain => Action::CheckAndRetain,
                TagAction::CheckPersonName => Action::CheckPersonName,
            };
            return d(a, Source::Config);
        }
        if el == 0x0000 {
            return d(Action::Remove, Source::Structural);
        }
        if g % 2 == 1 {
            if !self.config.options.retain_safe_private || el < 0x0010 {
                return d(Action::Remove, Source::Private);
            }
            if el <= 0x00FF {
                // private creator: kept while a safe element of its block is kept (see prune_creators)
                return d(Action::Keep, Source::SafePrivate);
            }
            let safe = creator.and_then(|c| SafePrivate::get().lookup(g, c, (el & 0xFF) as u8));
            return match safe {
                Some(table_vr) => {
                    let vr = if vr == Vr::UN { table_vr.unwrap_or(Vr::UN) } else { vr };
                    let is_sequence = is_sequence || vr == Vr::SQ;
                    Decision { action: clean_action(vr, is_sequence, self.dates_modified()), source: Source::SafePrivate, vr }
                }
                None => d(Action::Remove, Source::Private),
            };
        }
        if is_overlay_group(g) && el != 0x4000 {
            return if self.config.keep_overlays { d(Action::Keep, Source::Uncleanable) } else { d(Action::Remove, Source::Uncleanable) };
        }
        if let Some(row) = Profile::get().row(t) {
            let code = row.code(&self.config.enabled);
            let resolved = code.resolve(is_sequence);
            let source = Source::Profile { row: row.tag_text.clone(), code: code.as_str(), resolved: resolved.as_str() };
            if row.pattern == Pattern::Curve || row.pattern == Pattern::OverlayData || t == ENCAPSULATED_DOCUMENT {
                let keep = match row.pattern {
                    Pattern::Curve => self.config.keep_curves,
                    Pattern::OverlayData => self.config.keep_overlays,
                    _ => self.config.keep_encapsulated_documents,
                };
                return if keep { d(Action::Keep, Source::Uncleanable) } else { d(Action::Remove, Source::Uncleanable) };
            }
            let a = match resolved {
                Code::K if is_sequence => Action::CleanItems,
                Code::K => Action::Keep,
                Code::X => Action::Remove,
                Code::Z | Code::D if top && t == PATIENT_ID => Action::PseudonymPatientId,
                Code::Z | Code::D if top && t == PATIENT_NAME => Action::PseudonymPatientName,
                Code::Z => Action::Empty,
                Code::D if is_sequence => Action::CleanItems,
                Code::D if vr == Vr::UI => Action::ReplaceUid,
                Code::D => Action::Dummy,
                Code::U if is_sequence => Action::CleanItems,
                Code::U => Action::ReplaceUid,
                Code::C => clean_action(vr, is_sequence, self.dates_modified()),
                Code::ZD | Code::XZ | Code::XD | Code::XZD | Code::XZU => unreachable!("resolved above"),
            };
            return d(a, source);
        }
        // not in the table
        let a = if is_sequence {
            Action::CleanItems
        } else if t == dicom::SPECIFIC_CHARACTER_SET || g == 0x0002 {
            Action::Keep
        } else {
            match vr {
                Vr::PN => Action::CheckPersonName,
                v if v.is_text() => Action::CleanText,
                Vr::UI if self.config.replace_unlisted_uids && !self.config.options.retain_uids => Action::ReplaceUid,
                Vr::DA | Vr::DT if self.dates_modified() => Action::ShiftDate,
                Vr::UN => Action::Remove,
                _ => Action::Keep,
            }
        };
        d(a, Source::NotInTable)
    }

    fn dates_modified(&self) -> bool {
        self.config.options.retain_long_modified_dates
    }

    /// The dry-run plan: one decision per element at every depth, in file order.
    pub fn classify(&self, input: &[u8]) -> Result<Vec<PlannedElement>, DeidError> {
        let obj = dicom::parse(input).map_err(DeidError::Parse)?;
        let mut out = Vec::new();
        for e in &obj.meta {
            out.push(PlannedElement { path: tag_string(e.tag), keyword: dicom::keyword(e.tag), decision: self.meta_decision(e.tag, e.vr) });
        }
        self.plan_level(&obj.dataset, "", true, &mut out);
        Ok(out)
    }

    fn plan_level(&self, elements: &[Element<'_>], prefix: &str, top: bool, out: &mut Vec<PlannedElement>) {
        let creators = creators_of(elements, &CharacterSets::default_repertoire());
        for e in elements {
            let dec = self.decide(e.tag, e.vr, matches!(e.value, Value::Sequence { .. }), creator_for(&creators, e.tag), top);
            let path = path_of(prefix, e.tag);
            let recurse = dec.action == Action::CleanItems;
            out.push(PlannedElement { path: path.clone(), keyword: dicom::keyword(e.tag), decision: dec });
            if recurse {
                if let Value::Sequence { items, .. } = &e.value {
                    for (i, item) in items.iter().enumerate() {
                        self.plan_level(&item.elements, &format!("{path}[{i}]."), false, out);
                    }
                }
            }
        }
    }

    fn meta_decision(&self, t: Tag, vr: Vr) -> Decision {
        let action = match dicom::element(t) {
            0x0001 | 0x0002 | 0x0010 => Action::Keep,
            0x0003 => Action::ReplaceUid,
            _ => Action::Remove,
        };
        let source = if t == tag(0x0002, 0x0003) {
            Source::Profile { row: "(0002,0003)".into(), code: "U", resolved: "U" }
        } else {
            Source::Structural
        };
        Decision { action, source, vr }
    }

    /// De-identifies one file. On error nothing is returned but the error: no partial output exists.
    pub fn process(&self, input: &[u8], input_name: &str) -> Result<Output, DeidError> {
        let p = self.prepare(input, input_name)?;
        let bytes = dicom::write(&p.object).map_err(DeidError::Write)?;
        Ok(Output { bytes, path: p.path, report: p.report, uid_map: p.uid_map, patient_map: p.patient_map })
    }

    /// De-identifies one file into an object that still borrows the input's unchanged values (pixel
    /// data is not copied); [`Prepared::write_to`] streams it out.
    pub fn prepare<'a>(&self, input: &'a [u8], input_name: &str) -> Result<Prepared<'a>, DeidError> {
        let obj = dicom::parse(input).map_err(DeidError::Parse)?;
        self.process_object(obj, input, input_name)
    }

    fn process_object<'a>(&self, obj: FileObject<'a>, input: &[u8], input_name: &str) -> Result<Prepared<'a>, DeidError> {
        let FileObject { meta, dataset, mut transfer_syntax, framing, vr_mismatch } = obj;
        let class = find(&meta, tag(0x0002, 0x0002)).or_else(|| find(&dataset, SOP_CLASS_UID)).and_then(ascii_value);
        if class == Some("1.2.840.10008.1.3.10") {
            return Err(DeidError::Unsupported("DICOMDIR (a media directory, not an instance): make a new one for the output".into()));
        }
        let no_pixels = lacks_pixel_data(&meta, &dataset);
        let root_charsets = match find(&dataset, dicom::SPECIFIC_CHARACTER_SET).and_then(|e| e.bytes()) {
            Some(cs) => CharacterSets::from_specific_character_set(cs).map_err(|e| DeidError::Charset(e.to_string()))?,
            None => CharacterSets::default_repertoire(),
        };
        let old_patient_id = find(&dataset, PATIENT_ID)
            .and_then(|e| e.bytes())
            .and_then(|b| reading_charsets(&root_charsets, b, TextKind::MultiValued).decode(b, TextKind::MultiValued).ok())
            .map(|s| s.trim_matches(|c: char| c == ' ' || c == '\0').to_string())
            .unwrap_or_default();
        let mapping_subject = match &self.subjects {
            Some(m) => Some(m.get(&old_patient_id).ok_or(DeidError::NotInSubjectMap)?),
            None => None,
        };
        let mut own = DenyList::default();
        self.collect(&dataset, &CharacterSets::default_repertoire(), &mut own);
        // in a batch the batch deny-list usually holds this file's words already: use it as it is
        let deny = if self.batch_deny.contains_all(&own) {
            Cow::Borrowed(&self.batch_deny)
        } else {
            own.merge(&self.batch_deny);
            Cow::Owned(own)
        };
        let mut ctx = FileCtx {
            deny,
            date_offset: pseudonym::date_offset_days(&self.key, &old_patient_id),
            old_patient_id,
            big_endian: transfer_syntax.big_endian,
            uid_map: BTreeMap::new(),
            records: Vec::new(),
            counts: BTreeMap::new(),
            mapping_subject,
            notes: Vec::new(),
        };
        if no_pixels {
            ctx.notes.push("the data set describes an image (Rows) but has no pixel data: check that the input file is complete".into());
        }
        if vr_mismatch {
            ctx.notes.push("the data set's VR encoding contradicted its transfer syntax; rewritten as the transfer syntax says".into());
        }

        // region rules read the original header (manufacturer, model, size)
        let pixel_regions = if self.config.pixels.active() { crate::pixel::region_rects(&self.config.pixels, &dataset, transfer_syntax.big_endian) } else { Vec::new() };
        let mut dataset = self.apply_level(dataset, &CharacterSets::default_repertoire(), "", true, &mut ctx)?;

        // burned-in text: after the header (the pixel engine reads the image attributes that remain)
        let mut pixel_report = None;
        if self.config.pixels.active() {
            let finder = self.finder.as_deref();
            let r = crate::pixel::clean(&mut dataset, &transfer_syntax.uid, transfer_syntax.big_endian, &self.config.pixels, finder, &pixel_regions, &self.cleaner, &ctx.deny)?;
            if let Some((rep, ts)) = r {
                if !ts.is_empty() && ts != transfer_syntax.uid {
                    transfer_syntax = dicom::TransferSyntax::from_uid(&ts);
                }
                if rep.warning.is_some() {
                    ctx.notes.push("pixel data could not be decoded and was passed unchanged on request: burned-in text was not looked for".into());
                }
                pixel_report = Some(rep);
            }
        }
        let pixels_cleaned = pixel_report.as_ref().is_some_and(|r| r.warning.is_none());
        if let Some(r) = &pixel_report {
            // Burned In Annotation: NO only when every text found was masked
            if r.warning.is_none() && self.config.pixels.policy != crate::pixel::Policy::None && r.boxes.iter().all(|b| b.masked) {
                put(&mut dataset, Element::new_str(tag(0x0028, 0x0301), Vr::CS, "NO"));
            }
        }

        // the SOP Instance UID names the output; a data set without one gets one derived from its bytes
        let sop = match find(&dataset, SOP_INSTANCE_UID).and_then(ascii_value).filter(|s| !s.is_empty()) {
            Some(s) => s.to_string(),
            None => {
                use sha2::{Digest, Sha256};
                let h = Sha256::digest(input);
                let s = pseudonym::uid(&self.key, &format!("content-sha256:{h:x}"));
                put(&mut dataset, Element::new_str(SOP_INSTANCE_UID, Vr::UI, &s));
                ctx.notes.push("no SOP Instance UID: one was derived from the file's content".into());
                s
            }
        };
        self.finish_dataset(&mut dataset, pixels_cleaned);
        let sop_class = find(&dataset, SOP_CLASS_UID).and_then(ascii_value).map(str::to_string);

        // file meta, rebuilt
        let mut new_meta: Vec<Element<'_>> = Vec::new();
        for e in &meta {
            let dec = self.meta_decision(e.tag, e.vr);
            ctx.record(tag_string(e.tag), e.tag, &dec);
        }
        let version = find(&meta, tag(0x0002, 0x0001)).and_then(|e| e.bytes()).filter(|b| b.len() == 2).map(|b| b.to_vec()).unwrap_or(vec![0, 1]);
        new_meta.push(Element::new_bytes(tag(0x0002, 0x0001), Vr::OB, version));
        let class = sop_class.clone().or_else(|| find(&meta, tag(0x0002, 0x0002)).and_then(ascii_value).map(str::to_string));
        if let Some(c) = class {
            new_meta.push(Element::new_str(tag(0x0002, 0x0002), Vr::UI, &c));
        }
        new_meta.push(Element::new_str(tag(0x0002, 0x0003), Vr::UI, &sop));
        new_meta.push(Element::new_str(tag(0x0002, 0x0010), Vr::UI, &transfer_syntax.uid));
        new_meta.push(Element::new_str(tag(0x0002, 0x0012), Vr::UI, &self.implementation_uid));
        new_meta.push(Element::new_str(tag(0x0002, 0x0013), Vr::SH, &format!("DICOMDEID_{}", env!("CARGO_PKG_VERSION").replace('.', ""))));

        let study = find(&dataset, STUDY_UID).and_then(ascii_value).map(str::to_string);
        let series = find(&dataset, SERIES_UID).and_then(ascii_value).map(str::to_string);
        let path = match (study, series) {
            (Some(st), Some(se)) if is_uid(&st) && is_uid(&se) => format!("{st}/{se}/{sop}.dcm"),
            _ => format!("{sop}.dcm"),
        };
        if !is_uid(&sop) {
            return Err(DeidError::Invalid("SOP Instance UID is not a valid UID".into()));
        }
        let out_obj = FileObject { meta: new_meta, dataset, transfer_syntax: transfer_syntax.clone(), framing, vr_mismatch: false };

        let patient_map = if self.mappings {
            find(&out_obj.dataset, PATIENT_ID)
                .and_then(|e| e.bytes())
                .map(|b| String::from_utf8_lossy(dicom::trim_str_bytes(b)).into_owned())
                .map(|new| (ctx.old_patient_id.clone(), new))
        } else {
            None
        };
        let uid_map = if self.mappings { std::mem::take(&mut ctx.uid_map).into_iter().collect() } else { Vec::new() };
        let report = FileReport {
            input: input_name.to_string(),
            output: Some(path.clone()),
            status: Status::Written,
            reason: None,
            transfer_syntax: Some(transfer_syntax.uid.clone()),
            framing: Some(framing),
            notes: ctx.notes,
            counts: ctx.counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            elements: ctx.records,
            pixel: pixel_report,
        };
        Ok(Prepared { object: out_obj, path, report, uid_map, patient_map })
    }

    /// Writes the attributes that record what was done (PS3.15 E.1.1, CID 7050).
    fn finish_dataset(&self, ds: &mut Vec<Element<'_>>, pixels_cleaned: bool) {
        put(ds, Element::new_str(tag(0x0012, 0x0062), Vr::CS, "YES"));
        let mut methods = vec![format!("dicom-deid {} PS3.15 E.1-1 2026c", env!("CARGO_PKG_VERSION"))];
        methods.push("Basic Application Confidentiality Profile".into());
        for o in &self.config.enabled {
            methods.push(o.cid7050().1.into());
        }
        if pixels_cleaned {
            methods.push("Clean Pixel Data Option".into());
        }
        let method: Vec<String> = methods.into_iter().map(|m| m.chars().take(64).collect()).collect();
        put(ds, Element::new_str(tag(0x0012, 0x0063), Vr::LO, &method.join("\\")));
        let mut items = vec![code_item("113100", "Basic Application Confidentiality Profile")];
        for o in &self.config.enabled {
            let (c, m) = o.cid7050();
            items.push(code_item(c, m));
        }
        if pixels_cleaned {
            items.push(code_item("113101", "Clean Pixel Data Option"));
        }
        put(ds, Element { tag: tag(0x0012, 0x0064), vr: Vr::SQ, value: Value::Sequence { items, undefined_length: false } });
        let ltim = if self.config.options.retain_long_modified_dates {
            "MODIFIED"
        } else if self.config.options.retain_long_full_dates {
            "UNMODIFIED"
        } else {
            "REMOVED"
        };
        put(ds, Element::new_str(tag(0x0028, 0x0303), Vr::CS, ltim));
    }

    fn apply_level<'a>(&self, elements: Vec<Element<'a>>, parent: &CharacterSets, prefix: &str, top: bool, ctx: &mut FileCtx<'_>) -> Result<Vec<Element<'a>>, DeidError> {
        // an item that declares a character set this build cannot read fails the file (fail closed),
        // as at the top level: its text could not be cleaned
        let charsets = match find(&elements, dicom::SPECIFIC_CHARACTER_SET).and_then(|e| e.bytes()) {
            Some(b) => CharacterSets::from_specific_character_set(b).map_err(|e| DeidError::Charset(format!("in {}: {e}", if prefix.is_empty() { "the data set" } else { prefix })))?,
            None => parent.clone(),
        };
        let level = Level { creators: creators_of(&elements, &charsets), charsets };
        let mut out = Vec::with_capacity(elements.len());
        let mut removed_overlay_groups: Vec<u16> = Vec::new();
        for mut e in elements {
            let is_seq = matches!(e.value, Value::Sequence { .. });
            let dec = self.decide(e.tag, e.vr, is_seq, creator_for(&level.creators, e.tag), top);
            let path = path_of(prefix, e.tag);
            ctx.record(path.clone(), e.tag, &dec);
            if dec.action == Action::Remove {
                if dicom::element(e.tag) == 0x3000 && is_overlay_group(dicom::group(e.tag)) {
                    removed_overlay_groups.push(dicom::group(e.tag));
                }
                continue;
            }
            if dec.action == Action::CleanItems {
                // a private SQ read as UN bytes (implicit VR) is parsed so its items can be cleaned
                if let Value::Bytes(b) = &e.value {
                    match dicom::parse_items_implicit(b) {
                        Ok(items) => e.value = Value::Sequence { items, undefined_length: false },
                        Err(_) => {
                            ctx.notes.push(format!("{path}: sequence could not be read and was removed"));
                            continue;
                        }
                    }
                }
                if let Value::Sequence { items, undefined_length } = e.value {
                    let mut new_items = Vec::with_capacity(items.len());
                    for (i, item) in items.into_iter().enumerate() {
                        let els = self.apply_level(item.elements, &level.charsets, &format!("{path}[{i}]."), false, ctx)?;
                        new_items.push(Item { elements: els, undefined_length: item.undefined_length });
                    }
                    e.value = Value::Sequence { items: new_items, undefined_length };
                }
                e.vr = Vr::SQ;
                out.push(e);
                continue;
            }
            if let Some(new) = self.apply_value(&e, &dec, &level, ctx, &path)? {
                out.push(new);
            }
        }
        prune_creators(&mut out);
        if !removed_overlay_groups.is_empty() {
            out.retain(|e| !removed_overlay_groups.contains(&dicom::group(e.tag)));
        }
        Ok(out)
    }

    /// Carries out a primitive-value decision. `Ok(None)` removes the element.
    fn apply_value<'a>(&self, e: &Element<'a>, dec: &Decision, level: &Level, ctx: &mut FileCtx<'_>, path: &str) -> Result<Option<Element<'a>>, DeidError> {
        let vr = dec.vr;
        let keep = || Ok(Some(e.clone()));
        // decoded and re-encoded with the same character sets (see reading_charsets)
        let charsets = match e.bytes() {
            Some(b) if vr.uses_charset() => reading_charsets(&level.charsets, b, text_kind(vr)),
            _ => &level.charsets,
        };
        let set_text = |s: &str| -> Result<Option<Element<'a>>, DeidError> {
            let bytes = if vr.uses_charset() {
                charsets.encode(s, text_kind(vr)).map_err(|err| DeidError::Charset(err.to_string()))?
            } else {
                s.as_bytes().to_vec()
            };
            Ok(Some(Element::new_bytes(e.tag, e.vr, dicom::pad_even(bytes, vr))))
        };
        let empty = || Ok(Some(Element::new_bytes(e.tag, e.vr, Vec::new())));
        let Some(raw) = e.bytes() else {
            // encapsulated pixel data or a sequence under a primitive action
            return match dec.action {
                Action::Empty => Ok(Some(Element { tag: e.tag, vr: e.vr, value: Value::Sequence { items: Vec::new(), undefined_length: false } })),
                Action::Remove => Ok(None),
                _ => keep(),
            };
        };
        let decoded = || -> Option<String> {
            let s = if vr.uses_charset() { charsets.decode(raw, text_kind(vr)).ok()? } else { String::from_utf8(raw.to_vec()).ok()? };
            Some(s.trim_end_matches(['\0', ' ']).to_string())
        };
        match &dec.action {
            Action::Keep | Action::Skip => keep(),
            Action::Remove => Ok(None),
            Action::Empty => empty(),
            Action::Dummy => {
                if vr == Vr::SQ {
                    return empty();
                }
                match self.config.dummy.get(&vr) {
                    Some(v) if vr.is_string() => set_text(v),
                    Some(v) => Ok(Some(Element::new_bytes(e.tag, e.vr, binary_number(vr, v, ctx.big_endian)))),
                    None => empty(),
                }
            }
            Action::ReplaceUid => {
                let Some(s) = std::str::from_utf8(dicom::trim_str_bytes(raw)).ok() else { return empty() };
                let mut parts = Vec::new();
                for old in s.split('\\') {
                    let old = old.trim_matches(|c: char| c == ' ' || c == '\0');
                    if old.is_empty() {
                        parts.push(String::new());
                        continue;
                    }
                    let new = pseudonym::uid(&self.key, old);
                    if new != old {
                        ctx.uid_map.insert(old.to_string(), new.clone());
                    }
                    parts.push(new);
                }
                let joined = parts.join("\\");
                if joined.as_bytes() == dicom::trim_str_bytes(raw) {
                    return keep();
                }
                Ok(Some(Element::new_bytes(e.tag, e.vr, dicom::pad_even(joined.into_bytes(), Vr::UI))))
            }
            Action::PseudonymPatientId => {
                let v = match ctx.mapping_subject {
                    Some((sid, _)) => sid.to_string(),
                    None => pseudonym::patient_id(&self.key, &ctx.old_patient_id),
                };
                set_text(&v)
            }
            Action::PseudonymPatientName => {
                let v = match ctx.mapping_subject {
                    Some((sid, name)) => name.unwrap_or(sid).to_string(),
                    None => pseudonym::patient_name(&self.key, &ctx.old_patient_id),
                };
                set_text(&v)
            }
            Action::ShiftDate => {
                let Some(s) = decoded() else { return empty() };
                let offset = ctx.date_offset;
                let shifted: Option<Vec<String>> = s.split('\\').map(|v| if vr == Vr::DT { crate::dates::shift_dt(v, offset) } else { crate::dates::shift_da(v, offset) }).collect();
                match shifted {
                    Some(v) => {
                        let j = v.join("\\");
                        if j == s {
                            keep()
                        } else {
                            set_text(&j)
                        }
                    }
                    None => {
                        ctx.notes.push(format!("{path}: not a valid date, emptied"));
                        empty()
                    }
                }
            }
            Action::CleanAge => {
                let Some(s) = decoded() else { return empty() };
                let s = s.trim();
                if let Some(n) = s.strip_suffix('Y').and_then(|n| n.parse::<u32>().ok()) {
                    if n > 89 {
                        return set_text("090Y");
                    }
                }
                keep()
            }
            Action::CleanText | Action::CheckPersonName | Action::CheckAndRetain => {
                let Some(s) = decoded() else {
                    ctx.notes.push(format!("{path}: text could not be decoded with the declared character set, emptied"));
                    return empty();
                };
                let cleaned = match dec.action {
                    Action::CheckPersonName if vr == Vr::PN => self.cleaner.clean_person_name(&s, &ctx.deny),
                    Action::CheckAndRetain if self.cleaner.find_phi(&s, &ctx.deny).is_empty() => return keep(),
                    _ => self.cleaner.clean(&s, &ctx.deny),
                };
                if cleaned.removed == 0 {
                    return keep();
                }
                ctx.count("text_changed");
                match set_text(&cleaned.text) {
                    Ok(x) => Ok(x),
                    Err(_) => empty(),
                }
            }
            Action::ReplaceFullText => {
                let v = match self.config.tag_rules.get(&e.tag) {
                    Some(TagAction::ReplaceFullText(Some(v))) => v.clone(),
                    _ => self.config.dummy.get(&vr).cloned().unwrap_or_default(),
                };
                set_text(&v)
            }
            Action::ReplacePartText => {
                let Some(TagAction::ReplacePartText { words, replacement }) = self.config.tag_rules.get(&e.tag) else { return keep() };
                let Some(mut s) = decoded() else { return empty() };
                for w in words {
                    if w.is_empty() {
                        continue;
                    }
                    s = replace_case_insensitive(&s, w, replacement);
                }
                set_text(&s)
            }
            Action::SetDateToYear | Action::ShiftDateByYears => {
                let Some(s) = decoded() else { return empty() };
                let r = match (self.config.tag_rules.get(&e.tag), &dec.action) {
                    (_, Action::SetDateToYear) => crate::dates::date_to_year(&s, vr == Vr::DT),
                    (Some(TagAction::ShiftDateByYears(y)), _) => crate::dates::shift_years(&s, *y, vr == Vr::DT),
                    _ => None,
                };
                match r {
                    Some(v) => set_text(&v),
                    None => empty(),
                }
            }
            Action::CleanItems => keep(),
        }
    }
}

impl FileCtx<'_> {
    fn record(&mut self, path: String, t: Tag, dec: &Decision) {
        self.count(dec.action.name());
        self.records.push(ElementRecord { path, keyword: dicom::keyword(t), vr: dec.vr, action: dec.action.name() });
    }
    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_insert(0) += 1;
    }
}

/// True when a data set describes an image (Rows present, or an image storage SOP class) but holds no
/// pixel data: a header-only file, or one truncated exactly at an element boundary. The report says so.
fn lacks_pixel_data(meta: &[Element<'_>], ds: &[Element<'_>]) -> bool {
    let has_pixels = [tag(0x7FE0, 0x0010), tag(0x7FE0, 0x0008), tag(0x7FE0, 0x0009)].iter().any(|t| find(ds, *t).is_some());
    if has_pixels {
        return false;
    }
    let class = find(ds, SOP_CLASS_UID).or_else(|| find(meta, tag(0x0002, 0x0002))).and_then(ascii_value).unwrap_or("");
    let image_class = class.strip_prefix("1.2.840.10008.5.1.4.1.1.").is_some_and(|rest| {
        let first = rest.split('.').next().unwrap_or("");
        rest == "481.1" || matches!(first, "1" | "2" | "3" | "4" | "6" | "7" | "12" | "13" | "20" | "30" | "77" | "128" | "130")
    });
    image_class || find(ds, tag(0x0028, 0x0010)).is_some()
}

fn clean_action(vr: Vr, is_sequence: bool, dates_modified: bool) -> Action {
    match vr {
        _ if is_sequence => Action::CleanItems,
        Vr::SQ => Action::CleanItems,
        Vr::DA | Vr::DT if dates_modified => Action::ShiftDate,
        Vr::DA | Vr::DT => Action::Keep,
        Vr::AS => Action::CleanAge,
        Vr::PN => Action::CheckPersonName,
        v if v.is_text() => Action::CleanText,
        Vr::UI => Action::ReplaceUid,
        _ => Action::Keep,
    }
}

/// `prefix` + `(gggg,eeee)`.
fn path_of(prefix: &str, t: Tag) -> String {
    let mut p = String::with_capacity(prefix.len() + 11);
    p.push_str(prefix);
    dicom::push_tag(&mut p, t);
    p
}

fn text_kind(vr: Vr) -> TextKind {
    match vr {
        Vr::PN => TextKind::PersonName,
        Vr::LT | Vr::ST | Vr::UT | Vr::UR => TextKind::SingleValued,
        _ => TextKind::MultiValued,
    }
}

fn is_uid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_digit() || c == b'.') && !s.starts_with('.') && !s.ends_with('.') && !s.contains("..")
}

/// The character sets to read (and write back) a value with: the declared ones, except that a value
/// with no declared character set that is not ASCII is, in practice, Latin-1: it is read and written
/// back as ISO_IR 100 so the cleaner can work on it without corrupting it.
fn reading_charsets<'c>(declared: &'c CharacterSets, bytes: &[u8], kind: TextKind) -> &'c CharacterSets {
    static DEFAULT: OnceLock<CharacterSets> = OnceLock::new();
    static LATIN1: OnceLock<CharacterSets> = OnceLock::new();
    if bytes.is_ascii() || declared != DEFAULT.get_or_init(CharacterSets::default_repertoire) || declared.decode(bytes, kind).is_ok() {
        return declared;
    }
    LATIN1.get_or_init(|| CharacterSets::from_specific_character_set(b"ISO_IR 100").expect("ISO_IR 100 is supported"))
}

fn charsets_of(elements: &[Element<'_>], parent: &CharacterSets) -> CharacterSets {
    match find(elements, dicom::SPECIFIC_CHARACTER_SET).and_then(|e| e.bytes()) {
        Some(b) => CharacterSets::from_specific_character_set(b).unwrap_or_else(|_| parent.clone()),
        None => parent.clone(),
    }
}

fn creators_of(elements: &[Element<'_>], charsets: &CharacterSets) -> HashMap<(u16, u8), String> {
    let mut m = HashMap::new();
    for e in elements {
        let (g, el) = (dicom::group(e.tag), dicom::element(e.tag));
        if g % 2 == 1 && (0x10..=0xFF).contains(&el) {
            if let Some(b) = e.bytes() {
                let s = charsets.decode(b, TextKind::MultiValued).unwrap_or_else(|_| String::from_utf8_lossy(b).into_owned());
                m.insert((g, el as u8), s.trim_matches(|c: char| c == ' ' || c == '\0').to_string());
            }
        }
    }
    m
}

fn creator_for(creators: &HashMap<(u16, u8), String>, t: Tag) -> Option<&str> {
    let (g, el) = (dicom::group(t), dicom::element(t));
    if g % 2 == 1 && el > 0xFF {
        creators.get(&(g, (el >> 8) as u8)).map(String::as_str)
    } else {
        None
    }
}

/// Removes private creators whose block has no element left.
fn prune_creators(out: &mut Vec<Element<'_>>) {
    let used: std::collections::HashSet<(u16, u8)> = out
        .iter()
        .filter(|e| dicom::group(e.tag) % 2 == 1 && dicom::element(e.tag) > 0xFF)
        .map(|e| (dicom::group(e.tag), (dicom::element(e.tag) >> 8) as u8))
        .collect();
    out.retain(|e| {
        let (g, el) = (dicom::group(e.tag), dicom::element(e.tag));
        !(g % 2 == 1 && (0x10..=0xFF).contains(&el)) || used.contains(&(g, el as u8))
    });
}

fn code_item(code: &str, meaning: &str) -> Item<'static> {
    Item {
        elements: vec![
            Element::new_str(tag(0x0008, 0x0100), Vr::SH, code),
            Element::new_str(tag(0x0008, 0x0102), Vr::SH, "DCM"),
            Element::new_str(tag(0x0008, 0x0104), Vr::LO, meaning),
        ],
        undefined_length: false,
    }
}

fn binary_number(vr: Vr, v: &str, big: bool) -> Vec<u8> {
    let f: f64 = v.trim().parse().unwrap_or(0.0);
    macro_rules! enc {
        ($t:ty) => {{
            let x = f as $t;
            if big {
                x.to_be_bytes().to_vec()
            } else {
                x.to_le_bytes().to_vec()
            }
        }};
    }
    match vr {
        Vr::FD => enc!(f64),
        Vr::FL => enc!(f32),
        Vr::SL => enc!(i32),
        Vr::SS => enc!(i16),
        Vr::SV => enc!(i64),
        Vr::UL => enc!(u32),
        Vr::US => enc!(u16),
        Vr::UV => enc!(u64),
        _ => Vec::new(),
    }
}

fn replace_case_insensitive(s: &str, word: &str, with: &str) -> String {
    let re = regex::RegexBuilder::new(&regex::escape(word)).case_insensitive(true).build();
    match re {
        Ok(re) => re.replace_all(s, regex::NoExpand(with)).into_owned(),
        Err(_) => s.to_string(),
    }
}

/// A standard ASCII value of an element at the top level of the output, e.g. for tests.
pub fn top_value<'a>(ds: &'a [Element<'_>], t: Tag) -> Option<Cow<'a, str>> {
    find(ds, t).and_then(|e| e.bytes()).map(|b| String::from_utf8_lossy(dicom::trim_str_bytes(b)))
}
