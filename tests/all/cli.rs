//! The CLI contract: dicom-deid [--config FILE] [--key SECRET] [--report FILE] [--mappings DIR]
//! [--jobs N] --out DIR INPUT...

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    // pixel cleaning is on by default: the CLI needs the OCR models
    crate::pixels::ensure_models();
    Command::new(env!("CARGO_BIN_EXE_dicom-deid"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dicom-deid-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files_under(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(files_under(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn cli_folder_with_good_and_bad_files() {
    let input = tmp("in");
    let named = input.join("Doe_John_PID12345");
    std::fs::create_dir_all(&named).unwrap();
    std::fs::copy(
        corpus_dir().join("pydicom-3.0.2/test_files/CT_small.dcm"),
        named.join("Doe_John.dcm"),
    )
    .unwrap_or_else(|_| {
        ensure_corpus();
        std::fs::copy(
            corpus_dir().join("pydicom-3.0.2/test_files/CT_small.dcm"),
            named.join("Doe_John.dcm"),
        )
        .unwrap()
    });
    std::fs::copy(
        corpus_dir().join("pydicom-3.0.2/test_files/MR_small.dcm"),
        named.join("b.dcm"),
    )
    .unwrap();
    std::fs::write(named.join("notes.txt"), "not dicom").unwrap();
    let ct = std::fs::read(named.join("Doe_John.dcm")).unwrap();
    std::fs::write(named.join("truncated.dcm"), &ct[..ct.len() / 2]).unwrap();
    let out = tmp("out");
    let maps = tmp("maps");
    let report = out.join("r.json");
    let st = bin()
        .args(["--key", "k1", "--jobs", "2", "--report"])
        .arg(&report)
        .arg("--mappings")
        .arg(&maps)
        .arg("--out")
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(
        st.status.code(),
        Some(1),
        "a failed DICOM file gives exit 1: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    let by = |n: &str| {
        files
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(n))
            .unwrap()
    };
    assert_eq!(by("Doe_John.dcm")["status"], "written");
    assert_eq!(by("notes.txt")["status"], "skipped");
    assert_eq!(by("truncated.dcm")["status"], "failed");
    assert!(by("truncated.dcm")["output"].is_null());
    assert!(by("truncated.dcm")["reason"]
        .as_str()
        .unwrap()
        .contains("truncated"));
    let outs: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    assert_eq!(outs.len(), 2, "{outs:?}");
    for p in &outs {
        let s = p.strip_prefix(&out).unwrap().display().to_string();
        assert!(
            !s.contains("Doe") && !s.contains("John") && !s.contains("PID"),
            "{s}"
        );
        assert!(s.starts_with("2.25."), "{s}");
    }
    assert!(
        files_under(&out)
            .iter()
            .all(|p| !p.display().to_string().contains(".tmp")),
        "no temporary files left"
    );
    let uid_map = std::fs::read_to_string(maps.join("uid_mapping.csv")).unwrap();
    assert!(uid_map.starts_with("id_old,id_new\n") && uid_map.lines().count() > 3);
    let pid_map = std::fs::read_to_string(maps.join("patid_mapping.csv")).unwrap();
    assert!(
        pid_map.starts_with("id_old,id_new\n") && pid_map.lines().count() == 3,
        "{pid_map}"
    );
    // no mappings are written unless asked
    let out2 = tmp("out2");
    let st = bin()
        .args(["--key", "k1", "--out"])
        .arg(&out2)
        .arg(named.join("b.dcm"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0));
    assert!(files_under(&out2)
        .iter()
        .all(|p| !p.display().to_string().contains("mapping")));
    // same key, same output names and bytes
    let a = files_under(&out2)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "dcm"))
        .unwrap();
    let rel = a.strip_prefix(&out2).unwrap();
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(out.join(rel)).unwrap()
    );
}

#[test]
fn cli_usage_errors_exit_2_and_key_from_env() {
    let st = bin().args(["--out"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let out = tmp("u");
    let st = bin()
        .arg("--out")
        .arg(&out)
        .arg("/nonexistent/input")
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    let bad = out.join("bad.json");
    std::fs::write(&bad, r#"{"unknown_key": 1}"#).unwrap();
    let st = bin()
        .arg("--config")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("unknown"));
    ensure_corpus();
    let f = corpus_dir().join("pydicom-3.0.2/test_files/CT_small.dcm");
    let (o1, o2) = (tmp("e1"), tmp("e2"));
    assert!(bin()
        .env("DICOM_DEID_KEY", "env-key")
        .arg("--out")
        .arg(&o1)
        .arg(&f)
        .status()
        .unwrap()
        .success());
    assert!(bin()
        .args(["--key", "env-key", "--out"])
        .arg(&o2)
        .arg(&f)
        .status()
        .unwrap()
        .success());
    let names = |d: &Path| {
        files_under(d)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
            .map(|p| p.strip_prefix(d).unwrap().to_path_buf())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&o1), names(&o2));
    // no key: random, and the report says so
    let o3 = tmp("e3");
    assert!(bin()
        .env_remove("DICOM_DEID_KEY")
        .arg("--out")
        .arg(&o3)
        .arg(&f)
        .status()
        .unwrap()
        .success());
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o3.join("dicom-deid-report.json")).unwrap()).unwrap();
    assert!(r["key"].as_str().unwrap().starts_with("generated"));
    assert_ne!(names(&o1), names(&o3));
}

#[test]
fn cli_prints_default_config_and_accepts_seed_rules() {
    let st = bin().arg("--print-default-config").output().unwrap();
    assert!(st.status.success());
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["options"]["retain_long_modified_dates"], true);
    ensure_corpus();
    let out = tmp("seed");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed_custom_rules.json");
    let st = bin()
        .arg("--config")
        .arg(seed)
        .args(["--key", "x", "--out"])
        .arg(&out)
        .arg(corpus_dir().join("pydicom-3.0.2/test_files/CT_small.dcm"))
        .status()
        .unwrap();
    assert!(st.success());
}
