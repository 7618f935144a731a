//! Helpers: a tiny explicit VR little endian writer for synthetic files (independent of the crate's own
//! writer), the real-file cache, and engines.

use dicom_deid::dicom::{self, Element, Tag, Value};
use dicom_deid::{Config, Engine, Key};
use std::path::{Path, PathBuf};
use std::sync::Once;

/// One element of a synthetic data set.
pub enum E {
    Str(Tag, &'static str, String),
    Raw(Tag, &'static str, Vec<u8>),
    Seq(Tag, Vec<Vec<E>>),
}

pub fn s(t: Tag, vr: &'static str, v: &str) -> E {
    E::Str(t, vr, v.to_string())
}

fn long(vr: &str) -> bool {
    matches!(
        vr,
        "OB" | "OD" | "OF" | "OL" | "OV" | "OW" | "SQ" | "UC" | "UN" | "UR" | "UT" | "SV" | "UV"
    )
}

fn put(out: &mut Vec<u8>, t: Tag, vr: &str, v: &[u8]) {
    out.extend_from_slice(&((t >> 16) as u16).to_le_bytes());
    out.extend_from_slice(&(t as u16).to_le_bytes());
    out.extend_from_slice(vr.as_bytes());
    if long(vr) {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(v);
}

pub fn encode(elements: &[E]) -> Vec<u8> {
    let mut sorted: Vec<&E> = elements.iter().collect();
    sorted.sort_by_key(|e| match e {
        E::Str(t, ..) | E::Raw(t, ..) | E::Seq(t, ..) => *t,
    });
    let mut out = Vec::new();
    for e in sorted {
        match e {
            E::Str(t, vr, v) => {
                let mut b = v.as_bytes().to_vec();
                if b.len() % 2 == 1 {
                    b.push(if *vr == "UI" { 0 } else { b' ' });
                }
                put(&mut out, *t, vr, &b);
            }
            E::Raw(t, vr, v) => put(&mut out, *t, vr, v),
            E::Seq(t, items) => {
                let mut body = Vec::new();
                for i in items {
                    let inner = encode(i);
                    body.extend_from_slice(&0xFFFEu16.to_le_bytes());
                    body.extend_from_slice(&0xE000u16.to_le_bytes());
                    body.extend_from_slice(&(inner.len() as u32).to_le_bytes());
                    body.extend_from_slice(&inner);
                }
                put(&mut out, *t, "SQ", &body);
            }
        }
    }
    out
}

/// A Part 10 file (explicit VR little endian) around the given data set elements.
pub fn part10(elements: &[E]) -> Vec<u8> {
    let sop = elements
        .iter()
        .find_map(|e| match e {
            E::Str(0x0008_0018, _, v) => Some(v.clone()),
            _ => None,
        })
        .unwrap_or("1.2.3.4.5.6.7.8.9".into());
    let meta = encode(&[
        E::Raw(0x0002_0001, "OB", vec![0, 1]),
        s(0x0002_0002, "UI", "1.2.840.10008.5.1.4.1.1.88.11"),
        s(0x0002_0003, "UI", &sop),
        s(0x0002_0010, "UI", "1.2.840.10008.1.2.1"),
        s(0x0002_0012, "UI", "1.2.3.999"),
        s(0x0002_0016, "AE", "SOURCE_AE"),
    ]);
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    let gl = encode(&[E::Raw(
        0x0002_0000,
        "UL",
        (meta.len() as u32).to_le_bytes().to_vec(),
    )]);
    out.extend_from_slice(&gl);
    out.extend_from_slice(&meta);
    out.extend_from_slice(&encode(elements));
    out
}

/// A minimal valid secondary-capture-like data set.
pub fn base_elements() -> Vec<E> {
    vec![
        s(0x0008_0016, "UI", "1.2.840.10008.5.1.4.1.1.88.11"),
        s(0x0008_0018, "UI", "1.2.3.4.5.6.7.8.9"),
        s(0x0008_0060, "CS", "OT"),
        s(0x0010_0010, "PN", "Doe^John"),
        s(0x0010_0020, "LO", "PID12345"),
        s(0x0020_000D, "UI", "1.2.3.4.5.1"),
        s(0x0020_000E, "UI", "1.2.3.4.5.2"),
    ]
}

/// The default configuration with pixel cleaning off: the header tests need no OCR models (the pixel
/// engine has its own tests in `pixels.rs`).
pub fn header_config() -> Config {
    let mut c = dicom_deid::ConfigInput::default();
    c.pixels.policy = dicom_deid::pixel::Policy::None;
    Config::validate(c).unwrap()
}

pub fn engine() -> Engine {
    Engine::new(header_config(), Key::new(b"test-key")).unwrap()
}

/// An engine for a configuration; pixel cleaning is off unless the JSON sets `pixels`.
pub fn engine_with(config_json: &str) -> Engine {
    let mut v: serde_json::Value = serde_json::from_str(config_json).unwrap();
    if let Some(o) = v.as_object_mut() {
        let is_seed = o.keys().any(|k| {
            [
                "default_anon_values",
                "custom_actions",
                "tag_list_to_check_by_keep",
                "text_to_clean",
                "prefix_to_check",
                "tag_list",
            ]
            .contains(&k.as_str())
        });
        if !is_seed && !o.contains_key("pixels") {
            o.insert("pixels".into(), serde_json::json!({"policy": "none"}));
        }
    }
    let mut c = Config::from_json(&v.to_string()).unwrap();
    if v.get("pixels").is_none() {
        // the seed layout has no pixel options
        c.pixels.policy = dicom_deid::pixel::Policy::None;
    }
    Engine::new(c, Key::new(b"test-key")).unwrap()
}

/// Finds an element by a path of tags (first item of each sequence).
pub fn get<'a, 'b>(ds: &'a [Element<'b>], path: &[Tag]) -> Option<&'a Element<'b>> {
    let (first, rest) = path.split_first()?;
    let e = dicom::find(ds, *first)?;
    if rest.is_empty() {
        return Some(e);
    }
    match &e.value {
        Value::Sequence { items, .. } => get(&items.first()?.elements, rest),
        _ => None,
    }
}

pub fn text(e: &Element<'_>) -> String {
    String::from_utf8_lossy(dicom::trim_str_bytes(e.bytes().unwrap_or(&[]))).into_owned()
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/corpus")
}

/// Makes sure the real-file cache exists (fetches it from the registries on a fresh machine).
pub fn ensure_corpus() -> PathBuf {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-test-data");
        let st = std::process::Command::new("bash")
            .arg(&script)
            .status()
            .expect("run scripts/fetch-test-data");
        assert!(st.success(), "scripts/fetch-test-data failed");
    });
    corpus_dir()
}

/// Every file of the corpus (sorted).
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = ensure_corpus();
    let mut v = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

pub fn corpus_file(rel: &str) -> Vec<u8> {
    std::fs::read(ensure_corpus().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Case-insensitive search of a needle in bytes.
pub fn contains_ci(hay: &[u8], needle: &str) -> bool {
    let n = needle.to_ascii_lowercase().into_bytes();
    hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(&n))
}
