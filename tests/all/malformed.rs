//! Malformed input gives a clear error and no output; nothing panics.

use crate::util::*;
use dicom_deid::dicom::CodecError;
use dicom_deid::DeidError;

fn err_of(bytes: &[u8]) -> DeidError {
    match engine().process(bytes, "bad.dcm") {
        Ok(_) => panic!("malformed input was written"),
        Err(e) => e,
    }
}

#[test]
fn not_dicom_is_a_clear_error() {
    for junk in [
        &b""[..],
        b"hello world, not a DICOM file at all",
        &[0u8; 4096][..],
        &[0xFFu8; 300][..],
    ] {
        let e = err_of(junk);
        assert_eq!(e.kind(), "not_dicom", "{e}");
        assert!(e.to_string().contains("not a DICOM file"));
    }
}

#[test]
fn regression_truncated_file_at_every_point_fails_closed() {
    let full = corpus_file("pydicom-3.0.2/test_files/CT_small.dcm");
    let eng = engine();
    let mut n = 0;
    for cut in (0..full.len() - 1).step_by(61) {
        match eng.process(&full[..cut], "t.dcm") {
            Err(_) => n += 1,
            // a cut exactly between two top-level elements leaves a well-formed shorter data set: it is
            // written only with a note that the image has no pixel data
            Ok(o) => assert!(
                o.report.notes.iter().any(|x| x.contains("no pixel data")),
                "truncated at {cut} written without a note"
            ),
        }
    }
    assert!(n > 100);
}

#[test]
fn bad_vr_and_wrong_lengths() {
    let mut els = base_elements();
    els.push(s(0x0008_1030, "LO", "HEAD"));
    let good = part10(&els);
    assert!(engine().process(&good, "g").is_ok());
    // bad VR: overwrite the VR of Study Description
    let pos = good
        .windows(4)
        .position(|w| w == [0x08, 0x00, 0x30, 0x10])
        .unwrap();
    let mut bad = good.clone();
    bad[pos + 4..pos + 6].copy_from_slice(b"Q!");
    let e = err_of(&bad);
    assert!(
        matches!(e, DeidError::Parse(CodecError::BadVr { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("(0008,1030)"));
    // a length larger than the file
    let mut long = good.clone();
    long[pos + 6] = 0xFF;
    long[pos + 7] = 0x7F;
    assert!(matches!(
        err_of(&long),
        DeidError::Parse(
            CodecError::Truncated { .. } | CodecError::BadVr { .. } | CodecError::Structure { .. }
        )
    ));
    // DICM but no meta elements
    let mut nometa = vec![0u8; 128];
    nometa.extend_from_slice(b"DICM");
    nometa.extend_from_slice(&[0x08, 0x00, 0x05, 0x00]);
    assert!(engine().process(&nometa, "x").is_err());
    // an image that lost its pixel data
    let mut img = base_elements();
    img.push(E::Raw(0x0028_0010, "US", vec![2, 0]));
    img.push(E::Raw(0x0028_0011, "US", vec![2, 0]));
    let o = engine().process(&part10(&img), "x").unwrap();
    assert!(o.report.notes.iter().any(|x| x.contains("no pixel data")));
}

#[test]
fn random_corruption_never_panics_and_never_leaks_partial_files() {
    let full = corpus_file("pydicom-3.0.2/test_files/MR_small.dcm");
    let eng = engine();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..1500 {
        let mut b = full.clone();
        for _ in 0..(1 + next() % 8) {
            let i = (next() as usize) % b.len().min(4000);
            b[i] = next() as u8;
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| eng.process(&b, "x")));
        let r = r.expect("no panic on corrupt input");
        if let Ok(o) = r {
            assert!(
                dicom_deid::dicom::parse(&o.bytes).is_ok(),
                "written output parses"
            );
        }
    }
}

#[test]
fn deeply_nested_garbage_is_refused_not_overflowed() {
    // 200 nested undefined-length sequences
    let mut b = vec![0u8; 128];
    b.extend_from_slice(b"DICM");
    let meta = encode(&[s(0x0002_0010, "UI", "1.2.840.10008.1.2.1")]);
    b.extend_from_slice(&encode(&[E::Raw(
        0x0002_0000,
        "UL",
        (meta.len() as u32).to_le_bytes().to_vec(),
    )]));
    b.extend_from_slice(&meta);
    for _ in 0..200 {
        b.extend_from_slice(&[
            0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        b.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    let e = err_of(&b);
    assert!(
        matches!(
            e,
            DeidError::Parse(CodecError::TooDeep(_))
                | DeidError::Parse(CodecError::Truncated { .. })
        ),
        "{e}"
    );
}

#[test]
fn regression_non_ascii_date_in_identifier_collection_panicked() {
    // a DA value with a Latin-1 byte at position 7 made the deny-list builder slice inside a character
    let mut els = base_elements();
    els.push(E::Raw(0x0008_0020, "DA", b"2011052\xe9".to_vec()));
    let r = std::panic::catch_unwind(|| engine().process(&part10(&els), "x"));
    assert!(r.is_ok(), "panicked");
}

#[test]
fn regression_unsupported_character_set_inside_a_sequence_item_fails_closed() {
    // it used to fall back silently to the parent's character sets
    let mut els = base_elements();
    els.push(E::Seq(
        0x0040_A730,
        vec![vec![
            s(0x0008_0005, "CS", "ISO_IR 999"),
            s(0x0040_A160, "UT", "Doe John seen today"),
        ]],
    ));
    let e = err_of(&part10(&els));
    assert_eq!(e.kind(), "charset", "{e}");
    assert!(!e.to_string().contains("Doe"));
}
