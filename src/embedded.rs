//! The data files embedded in the library, deflated by `build.rs`: Tables E.1-1 and E.3.10-1 of
//! PS3.15 (descriptive columns emptied) and the language packs. Each is inflated once, on first use.

use std::io::Read;
use std::sync::OnceLock;

/// A deflated text embedded by `build.rs`, inflated once.
pub struct Embedded {
    deflated: &'static [u8],
    text: OnceLock<String>,
}

impl Embedded {
    const fn new(deflated: &'static [u8]) -> Embedded {
        Embedded {
            deflated,
            text: OnceLock::new(),
        }
    }

    /// The text.
    pub fn get(&'static self) -> &'static str {
        self.text.get_or_init(|| {
            let mut s = String::new();
            flate2::read::DeflateDecoder::new(self.deflated)
                .read_to_string(&mut s)
                .expect("embedded data inflates (made by build.rs)");
            s
        })
    }
}

macro_rules! embedded {
    ($file:literal) => {
        Embedded::new(include_bytes!(concat!(env!("OUT_DIR"), "/", $file)))
    };
}

/// `data/annex_e/table_E.1-1_2026c.csv` with the name column emptied.
pub static TABLE_E1_1: Embedded = embedded!("table_E.1-1.csv.z");
/// `data/annex_e/table_E.3.10-1_safe_private_2026c.csv` with the meaning column emptied.
pub static TABLE_E3_10_1: Embedded = embedded!("table_E.3.10-1.csv.z");
/// `data/lang/clinical.json`.
pub static CLINICAL: Embedded = embedded!("clinical.json.z");
/// The built-in language packs of `data/lang/`, by code.
pub static PACKS: [(&str, Embedded); 6] = [
    ("en", embedded!("en.json.z")),
    ("de", embedded!("de.json.z")),
    ("it", embedded!("it.json.z")),
    ("fr", embedded!("fr.json.z")),
    ("es", embedded!("es.json.z")),
    ("nl", embedded!("nl.json.z")),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_embedded_file_inflates_to_its_source() {
        let lang = |n: &str| std::fs::read_to_string(format!("data/lang/{n}.json")).unwrap();
        assert_eq!(super::CLINICAL.get(), lang("clinical"));
        for (code, e) in &super::PACKS {
            assert_eq!(e.get(), lang(code));
        }
        assert!(super::TABLE_E1_1.get().lines().count() > 600);
        assert!(super::TABLE_E3_10_1.get().lines().count() > 100);
    }
}
