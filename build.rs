//! Embeds the Annex E tables of `data/annex_e/` with their descriptive text columns emptied (names,
//! meanings): the engine needs only tags, VRs and codes, and this keeps ~50 KB out of the wasm module.
//! The files in `data/annex_e/` stay exactly as extracted from the standard.

use std::path::Path;

fn trim(src: &str, dest: &Path, blank: &[&str]) {
    println!("cargo:rerun-if-changed={src}");
    let mut rdr = csv::Reader::from_path(src).expect("table CSV");
    let headers = rdr.headers().expect("header row").clone();
    let blank_idx: Vec<usize> = headers.iter().enumerate().filter(|(_, h)| blank.contains(h)).map(|(i, _)| i).collect();
    let mut w = csv::Writer::from_path(dest).expect("OUT_DIR writable");
    w.write_record(&headers).expect("write");
    for rec in rdr.records() {
        let rec = rec.expect("valid CSV row");
        let row: Vec<&str> = rec.iter().enumerate().map(|(i, v)| if blank_idx.contains(&i) { "" } else { v }).collect();
        w.write_record(&row).expect("write");
    }
    w.flush().expect("flush");
}

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    trim("data/annex_e/table_E.1-1_2026c.csv", &out.join("table_E.1-1.csv"), &["name", "in_std_comp_iod"]);
    trim("data/annex_e/table_E.3.10-1_safe_private_2026c.csv", &out.join("table_E.3.10-1.csv"), &["vm", "meaning"]);
}
