//! The report: what was done to each file and element. It never holds an original value: paths are
//! tag paths, actions are names, reasons are the engine's own messages.

use crate::dicom::Framing;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Written,
    Failed,
    Skipped,
}

/// One element's record: where, what, which action.
#[derive(Clone, Debug, Serialize)]
pub struct ElementRecord {
    /// `(gggg,eeee)` or `(gggg,eeee)[item].(gggg,eeee)` for nested elements
    pub path: String,
    pub keyword: &'static str,
    pub vr: crate::dicom::Vr,
    pub action: &'static str,
}

/// The report for one input file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// the name or path as given by the caller
    pub input: String,
    /// path relative to the output folder (made of new UIDs), or null when nothing was written
    pub output: Option<String>,
    pub status: Status,
    /// why a file failed or was skipped
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_syntax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing: Option<Framing>,
    /// remarks such as values that could not be decoded and were emptied (tag paths only)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// number of elements per action
    pub counts: BTreeMap<String, usize>,
    pub elements: Vec<ElementRecord>,
    /// what the pixel engine did (absent when pixel cleaning is off or there is no pixel data)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel: Option<crate::pixel::PixelReport>,
}

impl FileReport {
    pub fn failed(input: &str, reason: String) -> FileReport {
        FileReport::not_written(input, Status::Failed, reason)
    }
    pub fn skipped(input: &str, reason: String) -> FileReport {
        FileReport::not_written(input, Status::Skipped, reason)
    }
    fn not_written(input: &str, status: Status, reason: String) -> FileReport {
        FileReport {
            input: input.to_string(),
            output: None,
            status,
            reason: Some(reason),
            transfer_syntax: None,
            framing: None,
            notes: Vec::new(),
            counts: BTreeMap::new(),
            elements: Vec::new(),
            pixel: None,
        }
    }
}

/// The report of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub version: String,
    pub profile: String,
    /// which options were enabled
    pub options: Vec<String>,
    /// how the key was obtained: "given" or "generated (random, not stored)"
    pub key: String,
    pub summary: Summary,
    pub files: Vec<FileReport>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub written: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report {
    pub fn new(options: Vec<String>, key: &str, files: Vec<FileReport>) -> Report {
        let mut summary = Summary::default();
        for f in &files {
            match f.status {
                Status::Written => summary.written += 1,
                Status::Failed => summary.failed += 1,
                Status::Skipped => summary.skipped += 1,
            }
        }
        Report {
            tool: "dicom-deid".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            profile: "DICOM PS3.15 Table E.1-1, 2026c".into(),
            options,
            key: key.into(),
            summary,
            files,
        }
    }
}

/// CSV text for a mapping file in the MIDI-B format (`id_old,id_new`).
pub fn mapping_csv(rows: &[(String, String)]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id_old", "id_new"]).expect("in memory");
    for (a, b) in rows {
        w.write_record([a, b]).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}
