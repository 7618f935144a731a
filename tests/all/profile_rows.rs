//! A test for every row of Table E.1-1 (2026c), generated from the CSV: each row's attribute is put in a
//! file with a value of its VR, the file is de-identified under the Basic Profile, under the defaults
//! and under each option alone, and the outcome is checked against the code the table gives — with the
//! option precedence and compound-code resolution documented in `profile.rs`, re-derived here from the
//! CSV cells independently of the engine.

use crate::util::*;
use dicom_deid::dicom::{self, dictionary_vr, Value, Vr};
use dicom_deid::profile::ProfileOption;
use std::collections::HashMap;

const TABLE: &str = include_str!("../../data/annex_e/table_E.1-1_2026c.csv");

/// Tags the engine writes itself (PS3.15 E.1.1 bookkeeping) or the meta group; checked elsewhere.
const WRITTEN_BY_ENGINE: [u32; 4] = [0x0012_0062, 0x0012_0063, 0x0012_0064, 0x0028_0303];

struct CsvRow {
    tag: Option<u32>,
    tag_text: String,
    cells: HashMap<String, String>,
}

fn rows() -> Vec<CsvRow> {
    let mut rdr = csv::Reader::from_reader(TABLE.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let cells: HashMap<String, String> = headers
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect();
            let tag = u32::from_str_radix(&cells["tag_key"], 16).ok();
            CsvRow {
                tag,
                tag_text: cells["tag"].clone(),
                cells,
            }
        })
        .collect()
}

fn expected_code(row: &CsvRow, enabled: &[ProfileOption]) -> String {
    let mut keep = false;
    for o in enabled {
        match row.cells[o.column()].as_str() {
            "C" => return "C".into(),
            "K" => keep = true,
            _ => {}
        }
    }
    if keep {
        "K".into()
    } else {
        row.cells["basic_profile"].clone()
    }
}

fn resolve(code: &str, seq: bool) -> &'static str {
    match (code, seq) {
        ("X/Z/U*", _) => "U",
        ("Z/D" | "X/D" | "X/Z/D", true) => "Z",
        ("Z/D" | "X/D" | "X/Z/D", false) => "D",
        ("X/Z", _) => "Z",
        ("D", _) => "D",
        ("Z", _) => "Z",
        ("X", _) => "X",
        ("K", _) => "K",
        ("C", _) => "C",
        ("U", _) => "U",
        (other, _) => panic!("unknown code {other}"),
    }
}

fn value_for(vr: Vr, i: usize) -> (&'static str, Vec<u8>) {
    let txt = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        if b.len() % 2 == 1 {
            b.push(b' ');
        }
        b
    };
    match vr {
        Vr::AE => ("AE", txt("JOHN DOE")),
        Vr::CS => ("CS", txt("HEAD JOHN DOE")),
        Vr::LO | Vr::LT | Vr::SH | Vr::ST | Vr::UC | Vr::UT => (leak(vr), txt("HEAD John Doe")),
        Vr::PN => ("PN", txt("Doe^John")),
        Vr::DA => ("DA", txt("20110525")),
        Vr::DT => ("DT", txt("20110525101010")),
        Vr::TM => ("TM", txt("101010")),
        Vr::AS => ("AS", txt("045Y")),
        Vr::DS => ("DS", txt("1.5")),
        Vr::IS => ("IS", txt("7")),
        Vr::UR => ("UR", txt("http://example.com/doe")),
        Vr::UI => ("UI", {
            let mut b = format!("1.2.3.4.5.6.7.{i}").into_bytes();
            if b.len() % 2 == 1 {
                b.push(0);
            }
            b
        }),
        Vr::US | Vr::SS => (leak(vr), vec![7, 0]),
        Vr::UL | Vr::SL | Vr::FL | Vr::AT => (leak(vr), vec![7, 0, 0, 0]),
        Vr::FD | Vr::SV | Vr::UV => (leak(vr), vec![7, 0, 0, 0, 0, 0, 0, 0]),
        _ => (leak(vr), vec![1, 2, 3, 4]),
    }
}

fn leak(vr: Vr) -> &'static str {
    Box::leak(vr.as_str().to_string().into_boxed_str())
}

const OPTION_SETS: usize = 12;

fn option_set(n: usize) -> (String, Vec<ProfileOption>) {
    let all_off: Vec<(ProfileOption, bool)> =
        ProfileOption::ALL.iter().map(|o| (*o, false)).collect();
    let on: Vec<ProfileOption> = match n {
        0 => vec![],
        1 => ProfileOption::ALL
            .iter()
            .copied()
            .filter(|o| {
                !matches!(
                    o,
                    ProfileOption::RetainUids
                        | ProfileOption::RetainInstitutionIdentity
                        | ProfileOption::RetainLongFullDates
                )
            })
            .collect(),
        k => vec![ProfileOption::ALL[k - 2]],
    };
    let opts: Vec<String> = all_off
        .iter()
        .map(|(o, _)| format!("\"{}\": {}", o.column(), on.contains(o)))
        .collect();
    (format!("{{\"options\": {{{}}}}}", opts.join(", ")), on)
}

#[test]
fn every_row_of_table_e1_1_under_every_option() {
    let rows = rows();
    assert_eq!(rows.len(), 656, "Table E.1-1 2026c has 656 rows");
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for n in 0..OPTION_SETS {
        let (json, enabled) = option_set(n);
        let eng = engine_with(&json);
        // one file holding every exactly-tagged row
        let mut els = base_elements();
        let mut expected: Vec<(u32, &CsvRow, Vr, Vec<u8>, bool)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let Some(t) = r.tag else { continue };
            if dicom::group(t) == 0x0002 || WRITTEN_BY_ENGINE.contains(&t) {
                continue;
            }
            let vr = dictionary_vr(t).unwrap_or(Vr::LO);
            els.retain(|e| !matches!(e, E::Str(x, ..) | E::Raw(x, ..) | E::Seq(x, ..) if *x == t));
            if vr == Vr::SQ {
                els.push(E::Seq(t, vec![vec![s(0x0008_0104, "LO", "John Doe")]]));
                expected.push((t, r, vr, Vec::new(), true));
            } else {
                let (vrs, bytes) = value_for(vr, i);
                els.push(E::Raw(t, vrs, bytes.clone()));
                expected.push((t, r, vr, bytes, false));
            }
        }
        let file = part10(&els);
        let out = eng
            .process(&file, "rows.dcm")
            .unwrap_or_else(|e| panic!("option set {n}: {e}"));
        let parsed = dicom::parse(&out.bytes).unwrap();
        let ds = &parsed.dataset;
        for (t, r, vr, orig, seq) in &expected {
            checked += 1;
            let code = resolve(&expected_code(r, &enabled), *seq);
            let got = dicom::find(ds, *t);
            let is_pid = *t == 0x0010_0020 || *t == 0x0010_0010;
            let ok = if *t == 0x0042_0011 {
                got.is_none() // encapsulated documents cannot be cleaned: removed (documented)
            } else {
                match (code, got) {
                    ("X", g) => g.is_none(),
                    (_, None) => false,
                    ("Z", Some(e)) if is_pid => text(e).starts_with("ANON"),
                    ("D", Some(e)) if is_pid => text(e).starts_with("ANON"),
                    ("Z", Some(e)) => match &e.value {
                        Value::Sequence { items, .. } => items.is_empty(),
                        Value::Bytes(b) => b.is_empty(),
                        _ => false,
                    },
                    ("D" | "K" | "C" | "U", Some(e)) if *seq => match &e.value {
                        Value::Sequence { items, .. } if items.len() == 1 => {
                            // contents decided on their own: the name in Code Meaning is cleaned
                            items[0].elements.iter().all(|x| !text(x).contains("Doe"))
                        }
                        _ => false,
                    },
                    ("D", Some(e)) => {
                        let b = e.bytes().unwrap_or(&[]);
                        let binary = matches!(
                            *vr,
                            Vr::OB | Vr::OW | Vr::UN | Vr::OF | Vr::OD | Vr::OL | Vr::OV | Vr::AT
                        );
                        b != orig.as_slice() && (binary || !b.is_empty())
                    }
                    ("K", Some(e)) => e.bytes() == Some(orig.as_slice()),
                    ("U", Some(e)) => {
                        let v = text(e);
                        v.starts_with("2.25.") && v.as_bytes() != dicom::trim_str_bytes(orig)
                    }
                    ("C", Some(e)) => {
                        let b = e.bytes().unwrap_or(&[]);
                        match *vr {
                            Vr::DA | Vr::DT => {
                                let v = text(e);
                                v.len() >= 8
                                    && v.bytes().take(8).all(|c| c.is_ascii_digit())
                                    && b != orig.as_slice()
                            }
                            Vr::UI => text(e).starts_with("2.25."),
                            v if v.is_text() => !contains_ci(b, "doe") && !contains_ci(b, "john"),
                            _ => b == orig.as_slice(),
                        }
                    }
                    _ => false,
                }
            };
            if !ok {
                failures.push(format!(
                    "[{}] {} {} ({}) expected {} got {:?}",
                    option_set_name(n),
                    r.tag_text,
                    r.cells["name"],
                    vr,
                    code,
                    got.map(|e| match &e.value {
                        Value::Bytes(b) => format!("{:?}", String::from_utf8_lossy(b)),
                        Value::Sequence { items, .. } => format!("SQ with {} items", items.len()),
                        _ => "encapsulated".into(),
                    })
                ));
            }
        }
    }
    assert!(checked > 600 * OPTION_SETS, "checked {checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} row checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn option_set_name(n: usize) -> String {
    match n {
        0 => "basic".into(),
        1 => "defaults".into(),
        k => ProfileOption::ALL[k - 2].column().into(),
    }
}

#[test]
fn repeating_group_and_private_rows() {
    // (50xx,xxxx) curve data, (60xx,3000) overlay data, (60xx,4000) overlay comments, odd groups
    let mut els = base_elements();
    els.push(E::Raw(0x5000_0005, "US", vec![1, 0]));
    els.push(E::Raw(0x5002_3000, "OW", vec![1, 2, 3, 4]));
    els.push(E::Raw(0x6000_0010, "US", vec![8, 0]));
    els.push(E::Raw(0x6000_3000, "OW", vec![1, 2, 3, 4]));
    els.push(s(0x6000_4000, "LT", "HEAD John Doe"));
    els.push(s(0x0009_0010, "LO", "ACME 1.0"));
    els.push(s(0x0009_1001, "LO", "John Doe"));
    let out = engine().process(&part10(&els), "x.dcm").unwrap();
    let ds = dicom::parse(&out.bytes).unwrap().dataset;
    assert!(
        dicom::find(&ds, 0x5000_0005).is_none() && dicom::find(&ds, 0x5002_3000).is_none(),
        "curves removed"
    );
    assert!(
        dicom::find(&ds, 0x6000_3000).is_none() && dicom::find(&ds, 0x6000_0010).is_none(),
        "overlay plane removed whole"
    );
    assert!(
        dicom::find(&ds, 0x0009_1001).is_none() && dicom::find(&ds, 0x0009_0010).is_none(),
        "unknown private block removed"
    );
    // kept when configured
    let out = engine_with(r#"{"keep_overlays": true, "keep_curves": true}"#)
        .process(&part10(&els), "x.dcm")
        .unwrap();
    let ds = dicom::parse(&out.bytes).unwrap().dataset;
    assert!(dicom::find(&ds, 0x6000_3000).is_some() && dicom::find(&ds, 0x5002_3000).is_some());
    // overlay comments are cleaned text
    let c = dicom::find(&ds, 0x6000_4000).map(text).unwrap_or_default();
    assert!(!c.contains("Doe"), "{c}");
}
