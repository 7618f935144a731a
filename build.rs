//! Embeds the data files: the Annex E tables of `data/annex_e/` with their descriptive text columns
//! emptied (names, meanings: the engine needs only tags, VRs and codes) and the language packs of
//! `data/lang/`, each deflated (`src/embedded.rs` inflates them once, with the flate2 the deflated
//! transfer syntax needs anyway): ~150 KB less in the wasm module. The files in `data/` stay exactly
//! as they are.

use std::io::Write;
use std::path::Path;

/// Writes `text` deflated to `dest`.
fn deflate(text: &[u8], dest: &Path) {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(text).expect("deflate");
    std::fs::write(dest, z.finish().expect("deflate")).expect("OUT_DIR writable");
}

fn trim(src: &str, dest: &Path, blank: &[&str]) {
    println!("cargo:rerun-if-changed={src}");
    let mut rdr = csv::Reader::from_path(src).expect("table CSV");
    let headers = rdr.headers().expect("header row").clone();
    let blank_idx: Vec<usize> = headers.iter().enumerate().filter(|(_, h)| blank.contains(h)).map(|(i, _)| i).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).expect("write");
    for rec in rdr.records() {
        let rec = rec.expect("valid CSV row");
        let row: Vec<&str> = rec.iter().enumerate().map(|(i, v)| if blank_idx.contains(&i) { "" } else { v }).collect();
        w.write_record(&row).expect("write");
    }
    deflate(&w.into_inner().expect("flush"), dest);
}

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    trim("data/annex_e/table_E.1-1_2026c.csv", &out.join("table_E.1-1.csv.z"), &["name", "in_std_comp_iod"]);
    trim("data/annex_e/table_E.3.10-1_safe_private_2026c.csv", &out.join("table_E.3.10-1.csv.z"), &["vm", "meaning"]);
    for name in ["en", "de", "it", "fr", "es", "nl", "clinical"] {
        let src = format!("data/lang/{name}.json");
        println!("cargo:rerun-if-changed={src}");
        deflate(&std::fs::read(&src).expect("language pack"), &out.join(format!("{name}.json.z")));
    }
}
