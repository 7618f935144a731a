//! Keyed pseudonyms: the same key and the same original value give the same replacement in every file,
//! run, worker and machine, so no mapping database is needed and references stay intact.
//!
//! - UIDs: `2.25.` + the decimal of the first 128 bits of HMAC-SHA-256(key, old UID).
//! - Patient ID: `ANON` + 12 base-32 characters of HMAC-SHA-256(key, "patient-id\0" + old ID).
//! - Patient name: `ANON^` + the same 12 characters.
//! - Date offset: a whole number of days in −3652..=−365 (one to ten years into the past) from
//!   HMAC-SHA-256(key, "date-offset\0" + old Patient ID): every date of a patient moves by the same
//!   amount, so intervals are kept.
//!
//! The messages for patient IDs and offsets carry a domain prefix so no two kinds of pseudonym can
//! coincide. Standard UIDs (`1.2.840.10008.*`) are never replaced.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The secret key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl Key {
    /// A key from a passphrase or a random string (its UTF-8 bytes are the HMAC key).
    pub fn new(secret: &[u8]) -> Key {
        Key(secret.to_vec())
    }
    pub fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// True for UIDs of the standard's own root, which identify classes and syntaxes, never people.
pub fn is_standard_uid(uid: &str) -> bool {
    uid == "1.2.840.10008" || uid.starts_with("1.2.840.10008.")
}

/// The replacement for an instance UID (standard UIDs come back unchanged).
pub fn uid(key: &Key, old: &str) -> String {
    if is_standard_uid(old) {
        return old.to_string();
    }
    let h = key.hmac(&[old.as_bytes()]);
    let n = u128::from_be_bytes(h[..16].try_into().unwrap());
    format!("2.25.{n}")
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let mut acc: u64 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | b as u64;
        bits += 8;
        while bits >= 5 && out.len() < chars {
            bits -= 5;
            out.push(B32[((acc >> bits) & 31) as usize] as char);
        }
        if out.len() == chars {
            break;
        }
    }
    out
}

/// The pseudonymous Patient ID for an original Patient ID.
pub fn patient_id(key: &Key, old: &str) -> String {
    format!("ANON{}", base32(&key.hmac(&[b"patient-id\0", old.as_bytes()]), 12))
}

/// The pseudonymous Patient's Name for an original Patient ID.
pub fn patient_name(key: &Key, old_id: &str) -> String {
    format!("ANON^{}", base32(&key.hmac(&[b"patient-id\0", old_id.as_bytes()]), 12))
}

/// The per-patient date offset in days, always negative (−3652..=−365).
pub fn date_offset_days(key: &Key, old_patient_id: &str) -> i64 {
    let h = key.hmac(&[b"date-offset\0", old_patient_id.as_bytes()]);
    let n = u64::from_be_bytes(h[..8].try_into().unwrap());
    -(365 + (n % (3652 - 365 + 1)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_keyed_deterministic_and_valid() {
        let k = Key::new(b"secret");
        let a = uid(&k, "1.2.3.4.5");
        assert_eq!(a, uid(&k, "1.2.3.4.5"));
        assert_ne!(a, uid(&Key::new(b"other"), "1.2.3.4.5"));
        assert_ne!(a, uid(&k, "1.2.3.4.6"));
        assert!(a.starts_with("2.25.") && a.len() <= 64);
        assert!(!a[5..].starts_with('0'));
        assert!(a[5..].bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(uid(&k, "1.2.840.10008.5.1.4.1.1.2"), "1.2.840.10008.5.1.4.1.1.2");
    }

    #[test]
    fn uid_matches_hmac_definition() {
        // HMAC-SHA-256 with key "key" over "1.2.3": first 16 bytes as a big-endian integer
        let k = Key::new(b"key");
        let h = k.hmac(&[b"1.2.3"]);
        let n = u128::from_be_bytes(h[..16].try_into().unwrap());
        assert_eq!(uid(&k, "1.2.3"), format!("2.25.{n}"));
    }

    #[test]
    fn date_offsets_are_negative_and_per_patient() {
        let k = Key::new(b"secret");
        for id in ["A", "B", "123", ""] {
            let d = date_offset_days(&k, id);
            assert!((-3652..=-365).contains(&d));
            assert_eq!(d, date_offset_days(&k, id));
        }
    }

    #[test]
    fn patient_pseudonyms_differ_from_input_and_by_key() {
        let k = Key::new(b"secret");
        let p = patient_id(&k, "12345");
        assert!(p.starts_with("ANON") && p.len() == 16);
        assert_ne!(p, patient_id(&Key::new(b"x"), "12345"));
        assert!(patient_name(&k, "12345").starts_with("ANON^"));
        assert!(!format!("{k:?}").contains("secret"));
    }
}
