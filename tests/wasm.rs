//! The WebAssembly API (src/wasm.rs) in real headless Chromium, inside a dedicated worker, on real
//! registry files. Run with `scripts/test-wasm` (it installs Chromium and chromedriver, fetches the test
//! files, computes the native engine's output digests and runs
//! `cargo test --target wasm32-unknown-unknown --test wasm`). Empty on native targets.
#![cfg(target_arch = "wasm32")]

use dicom_deid::dicom::{self, tag, Element, Vr};
use dicom_deid::wasm::{default_config, version, Deidentifier};
use dicom_deid::{pseudonym, Key};
use js_sys::{Array, Reflect, Uint8Array, JSON};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

macro_rules! corpus {
    ($p:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/.cache/corpus/", $p))
    };
}

const CT_SMALL: &[u8] = corpus!("pydicom-3.0.2/test_files/CT_small.dcm");
const MR_SMALL: &[u8] = corpus!("pydicom-3.0.2/test_files/MR_small.dcm");
const DEFLATED: &[u8] = corpus!("pydicom-3.0.2/test_files/image_dfl.dcm");
const OVERLAY: &[u8] = corpus!("pydicom-3.0.2/test_files/examples_overlay.dcm");
const DICOMDIR: &[u8] = corpus!("pydicom-3.0.2/test_files/dicomdirtests/DICOMDIR");

/// New SOP Instance UID of CT_small.dcm with key "k", computed natively (HMAC-SHA-256 as in README).
const CT_SMALL_NEW_SOP_UID_K: &str = "2.25.218902315098762053974764001293119306466";

const SOP_INSTANCE_UID: u32 = tag(0x0008, 0x0018);
const PATIENT_NAME: u32 = tag(0x0010, 0x0010);
const PATIENT_ID: u32 = tag(0x0010, 0x0020);

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

fn get_str(v: &JsValue, k: &str) -> String {
    get(v, k).as_string().unwrap_or_else(|| panic!("{k} is not a string"))
}

// The models (scripts/fetch-models), for the pixel engine: the tests run the pixel build
// (`--features pixel`, wasm SIMD), which is what the page loads by default.
const DET: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/det.onnx"));
const REC: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/rec.onnx"));
const FAST: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/rec-fast.onnx"));
const FAST_DICT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/rec-fast.txt"));

fn ocr() -> std::sync::Arc<dicom_deid::ocr::Ocr> {
    thread_local!(static O: std::sync::Arc<dicom_deid::ocr::Ocr> = std::sync::Arc::new(dicom_deid::ocr::Ocr::from_bytes(DET, REC, None).unwrap().with_fast(FAST, Some(FAST_DICT)).unwrap()));
    O.with(|o| o.clone())
}

fn deidentifier(config: JsValue, key: &str) -> Deidentifier {
    let mut d = Deidentifier::new(config, key.into(), None).unwrap();
    if d.needs_models() {
        d.load_models(DET, REC, Some(FAST.to_vec()), Some(FAST_DICT.to_string())).unwrap();
    }
    d
}

/// process → (bytes, report); checks the shape of the result.
fn process(d: &Deidentifier, input: &[u8], name: &str) -> (Option<Vec<u8>>, JsValue) {
    let r = d.process(input, name).unwrap();
    let bytes = get(&r, "bytes");
    let report = get(&r, "report");
    assert!(report.is_object());
    assert_eq!(get_str(&report, "input"), name);
    let bytes = if bytes.is_undefined() { None } else { Some(bytes.dyn_into::<Uint8Array>().expect("bytes is a Uint8Array").to_vec()) };
    (bytes, report)
}

fn top_str(bytes: &[u8], t: u32) -> Option<String> {
    let obj = dicom::parse(bytes).expect("the output parses");
    dicom_deid::deid::top_value(&obj.dataset, t).map(|s| s.trim_end_matches(['\0', ' ']).to_string())
}

fn error_kind(e: JsValue) -> String {
    assert!(!e.is_instance_of::<js_sys::Error>(), "errors are plain objects");
    assert!(get(&e, "message").as_string().is_some_and(|m| !m.is_empty()));
    get_str(&e, "kind")
}

/// The action of a planned element: `"action": "keep"`, or `"action": {"action": "keep"}` as the core's
/// `Action` (internally tagged) serialises today.
fn action_name(p: &JsValue) -> String {
    let a = get(p, "action");
    a.as_string().unwrap_or_else(|| get_str(&a, "action"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[wasm_bindgen_test]
fn process_ct_small_pseudonymises_and_writes_a_valid_file() {
    let d = deidentifier(JsValue::UNDEFINED, "k");
    let (bytes, report) = process(&d, CT_SMALL, "CT_small.dcm");
    let bytes = bytes.expect("written");
    assert_eq!(get_str(&report, "status"), "written");
    assert!(get(&report, "reason").is_null());
    let output = get_str(&report, "output");
    assert!(output.ends_with(&format!("/{CT_SMALL_NEW_SOP_UID_K}.dcm")), "{output}");
    assert!(Array::is_array(&get(&report, "elements")));
    assert!(get(&report, "counts").is_object());

    assert_eq!(top_str(&bytes, SOP_INSTANCE_UID).as_deref(), Some(CT_SMALL_NEW_SOP_UID_K));
    let old_id = top_str(CT_SMALL, PATIENT_ID).unwrap();
    let name = top_str(&bytes, PATIENT_NAME).unwrap();
    assert_eq!(name, pseudonym::patient_name(&Key::new(b"k"), &old_id));
    assert!(name.starts_with("ANON^"));
    assert_ne!(Some(name), top_str(CT_SMALL, PATIENT_NAME));
    assert_eq!(&bytes[128..132], b"DICM");
}

#[wasm_bindgen_test]
fn same_key_gives_identical_bytes_in_every_instance_and_as_the_rust_api() {
    for input in [CT_SMALL, MR_SMALL, DEFLATED] {
        let a = process(&deidentifier(JsValue::UNDEFINED, "k"), input, "a.dcm").0.unwrap();
        let b = process(&deidentifier(JsValue::UNDEFINED, "k"), input, "b.dcm").0.unwrap();
        assert_eq!(a, b);
        let engine = dicom_deid::Engine::new(dicom_deid::Config::default(), Key::new(b"k")).unwrap().with_text_finder(ocr());
        assert_eq!(a, engine.process(input, "c.dcm").unwrap().bytes);
        let other = process(&deidentifier(JsValue::UNDEFINED, "another key"), input, "a.dcm").0.unwrap();
        assert_ne!(a, other);
    }
}

#[wasm_bindgen_test]
fn an_input_written_into_the_module_gives_what_process_gives() {
    let mut d = deidentifier(JsValue::UNDEFINED, "k");
    for input in [CT_SMALL, DEFLATED, b"not a DICOM file".as_slice()] {
        let (want, report) = process(&d, input, "a.dcm");
        d.alloc_input(input.len()).unwrap();
        // written in pieces, a new view each time (as the worker does while streaming a file)
        for (i, piece) in input.chunks(1000).enumerate() {
            d.input_view().set(&Uint8Array::from(piece), (i * 1000) as u32);
        }
        let r = d.process_input("a.dcm").unwrap();
        let got = get(&r, "bytes");
        // a view of the output inside the module: copied out, then released
        let got = (!got.is_undefined()).then(|| got.dyn_into::<Uint8Array>().unwrap().to_vec());
        d.release_output();
        assert_eq!(got, want);
        assert_eq!(get_str(&get(&r, "report"), "status"), get_str(&report, "status"));
        // the input is consumed: a second call has nothing to read
        let again = d.process_input("a.dcm").unwrap();
        assert!(get(&again, "bytes").is_undefined());
    }
    // an input that cannot fit is a structured error, not a trap
    assert_eq!(error_kind(d.alloc_input(usize::MAX).unwrap_err()), "memory");
}

/// `processInputTo`: the pieces handed to the sink, joined, are what `process` gives; a sink that
/// throws stops the call with its exception, and the call can be made again into another sink. The
/// sinks are plain JS functions: a sink must not call into the module (a Rust closure that allocates
/// could grow the memory under the view it was given).
#[wasm_bindgen_test]
fn an_output_handed_out_in_pieces_is_what_process_gives() {
    use js_sys::Function;
    const US: &[u8] = corpus!("pydicom-data-1.0.0/US1_UNCR.dcm"); // 0.9 MB of pixel data: lent as it is
    let cfg = JSON::parse(r#"{"pixels": {"policy": "none"}}"#).unwrap();
    let mut d = Deidentifier::new(cfg, "k".into(), None).unwrap();
    // copies each piece (in JS) into the array it is bound to
    let collect = |parts: &Array| Function::new_with_args("piece", "this.push(piece.slice())").bind(parts);
    let joined = |parts: &Array| -> Vec<u8> { parts.iter().flat_map(|p| Uint8Array::from(p).to_vec()).collect() };
    for input in [CT_SMALL, DEFLATED, US, b"not a DICOM file".as_slice()] {
        let (want, report) = process(&d, input, "a.dcm");
        d.alloc_input(input.len()).unwrap();
        d.input_view().set(&Uint8Array::from(input), 0);
        let parts = Array::new();
        let r = d.process_input_to("a.dcm", &collect(&parts)).unwrap();
        assert!(get(&r, "bytes").is_undefined());
        assert_eq!(get_str(&get(&r, "report"), "status"), get_str(&report, "status"));
        match &want {
            Some(w) => assert_eq!(&joined(&parts), w),
            None => assert_eq!(parts.length(), 0, "a file not written gives no piece"),
        }
        if input.len() == US.len() {
            assert!(parts.length() >= 2, "the pixel data is lent apart from the header");
            // a sink that fails stops the call with its error; the input is still there
            let failing = Function::new_with_args("piece", "throw 'disk full'");
            let e = d.process_input_to("a.dcm", &failing).unwrap_err();
            assert_eq!(e.as_string().as_deref(), Some("disk full"));
            let again = Array::new();
            d.process_input_to("a.dcm", &collect(&again)).unwrap();
            assert_eq!(joined(&again), want.unwrap());
        }
        d.release_output();
    }
}

/// The digests of the native CLI's outputs for key "k" (set by scripts/test-wasm at compile time):
/// wasm and native give byte-identical files.
#[wasm_bindgen_test]
fn output_is_byte_identical_to_the_native_cli() {
    let Some(expected) = option_env!("DICOM_DEID_NATIVE_SHA256") else {
        console_log!("DICOM_DEID_NATIVE_SHA256 not set (run scripts/test-wasm): native comparison skipped");
        return;
    };
    // examples_jpeg2k.dcm: JPEG 2000 decoded, its banner masked and re-encoded as JPEG 2000 in wasm
    const J2K: &[u8] = corpus!("pydicom-3.0.2/test_files/examples_jpeg2k.dcm");
    let inputs: [(&str, &[u8]); 4] =
        [("CT_small.dcm", CT_SMALL), ("MR_small.dcm", MR_SMALL), ("image_dfl.dcm", DEFLATED), ("examples_jpeg2k.dcm", J2K)];
    for (name, input) in inputs {
        let want = expected
            .split(';')
            .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no native digest for {name}"));
        // as the CLI does for a batch of one file: its identifiers into the batch deny-list, then process
        let mut d = deidentifier(JsValue::UNDEFINED, "k");
        d.add_batch_identifiers(&d.collect_identifiers(input).unwrap()).unwrap();
        let got = hex(&Sha256::digest(process(&d, input, name).0.unwrap()));
        assert_eq!(got, want, "{name}: wasm output differs from the native CLI's");
    }
}

#[wasm_bindgen_test]
fn not_dicom_and_dicomdir_are_skipped_broken_files_fail() {
    let d = deidentifier(JsValue::UNDEFINED, "k");
    for (input, name) in [(&b"this is a text file, not DICOM\n"[..], "notes.txt"), (DICOMDIR, "DICOMDIR")] {
        let (bytes, report) = process(&d, input, name);
        assert!(bytes.is_none());
        assert_eq!(get_str(&report, "status"), "skipped", "{name}");
        assert!(get(&report, "output").is_null());
        assert!(!get_str(&report, "reason").is_empty());
    }
    let (bytes, report) = process(&d, &CT_SMALL[..CT_SMALL.len() / 3], "cut.dcm");
    assert!(bytes.is_none());
    assert_eq!(get_str(&report, "status"), "failed");
}

#[wasm_bindgen_test]
fn bad_config_and_bad_key_throw_structured_errors() {
    let bad_configs = [
        JSON::parse(r#"{"bogus": 1}"#).unwrap(),
        JsValue::from_str(r#"{"options": {"retain_long_full_dates": true}}"#),
        JsValue::from_str("not json"),
        JsValue::from_f64(3.0),
    ];
    for c in bad_configs {
        let e = Deidentifier::new(c, "k".into(), None).err().expect("throws");
        assert_eq!(error_kind(e), "config");
    }
    for key in [JsValue::from_str(""), JsValue::UNDEFINED, JsValue::from_f64(1.0)] {
        let e = Deidentifier::new(JsValue::UNDEFINED, key, None).err().expect("throws");
        assert_eq!(error_kind(e), "key");
    }
    let e = Deidentifier::new(JsValue::UNDEFINED, "k".into(), Some("no,header\n".into())).err().expect("throws");
    assert_eq!(error_kind(e), "config");
    let d = deidentifier(JsValue::UNDEFINED, "k");
    assert_eq!(error_kind(d.classify(b"not dicom").err().unwrap()), "not_dicom");
}

#[wasm_bindgen_test]
fn default_config_round_trips_as_object_and_as_string() {
    let c = default_config().unwrap();
    assert!(c.is_object());
    assert_eq!(get(&get(&c, "options"), "retain_uids").as_bool(), Some(false));
    assert!(get(&c, "dummy_values").is_object(), "maps are plain objects");
    let want = process(&deidentifier(JsValue::UNDEFINED, "k"), CT_SMALL, "a").0.unwrap();
    assert_eq!(process(&deidentifier(c.clone(), "k"), CT_SMALL, "a").0.unwrap(), want);
    let s = JSON::stringify(&c).unwrap();
    assert_eq!(process(&deidentifier(s.into(), "k"), CT_SMALL, "a").0.unwrap(), want);
    // an option changes the output
    Reflect::set(&get(&c, "options"), &"retain_uids".into(), &true.into()).unwrap();
    let kept = process(&deidentifier(c, "k"), CT_SMALL, "a").0.unwrap();
    assert_eq!(top_str(&kept, SOP_INSTANCE_UID), top_str(CT_SMALL, SOP_INSTANCE_UID));
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn classify_lists_the_plan() {
    let d = deidentifier(JsValue::UNDEFINED, "k");
    let plan: Array = d.classify(CT_SMALL).unwrap().dyn_into().unwrap();
    assert!(plan.length() > 50);
    for p in plan.iter() {
        let ok = get(&p, "path").is_string() && get(&p, "source").is_string() && get(&p, "vr").is_string();
        assert!(ok && !action_name(&p).is_empty(), "{:?}", JSON::stringify(&p));
    }
    let name = plan.iter().find(|p| get_str(p, "path") == "(0010,0010)").expect("PatientName planned");
    assert_eq!(action_name(&name), "pseudonym_patient_name");
    assert_eq!(get_str(&name, "keyword"), "PatientName");
}

#[wasm_bindgen_test]
fn batch_identifiers_of_one_file_are_removed_from_another() {
    let d0 = deidentifier(JsValue::UNDEFINED, "k");
    // another file's Patient ID written into this file's Study Description
    let other_id = top_str(MR_SMALL, PATIENT_ID).unwrap();
    let mut obj = dicom::parse(CT_SMALL).unwrap();
    dicom::put(&mut obj.dataset, Element::new_str(tag(0x0008, 0x1030), Vr::LO, &format!("review {other_id} today")));
    let input = dicom::write(&obj).unwrap();

    let token = d0.collect_identifiers(MR_SMALL).unwrap();
    assert!(!token.is_empty());
    let mut d = deidentifier(JsValue::UNDEFINED, "k");
    d.add_batch_identifiers(&token).unwrap();
    let out = process(&d, &input, "ct.dcm").0.unwrap();
    assert!(!out.windows(other_id.len()).any(|w| w == other_id.as_bytes()), "a batch identifier survived");

    // the header is enough: the first 64 KB of a larger file
    assert!(OVERLAY.len() > 65536);
    let t = d0.collect_identifiers(&OVERLAY[..65536]).unwrap();
    d.add_batch_identifiers(&t).unwrap();
    assert_eq!(error_kind(d.add_batch_identifiers("{not a token").err().unwrap()), "token");
    assert_eq!(error_kind(d0.collect_identifiers(b"plain text").err().unwrap()), "not_dicom");
}

#[wasm_bindgen_test]
fn subject_mapping_csv_sets_the_subject_id_and_fails_unmapped_files() {
    let old_id = top_str(CT_SMALL, PATIENT_ID).unwrap();
    let csv = format!("patient_id,subject_id,subject_name\n{old_id},SUBJ01,SUBJECT^ONE\n");
    let mut d = Deidentifier::new(JsValue::UNDEFINED, "k".into(), Some(csv.into())).unwrap();
    d.load_models(DET, REC, Some(FAST.to_vec()), Some(FAST_DICT.to_string())).unwrap();
    let out = process(&d, CT_SMALL, "ct.dcm").0.unwrap();
    assert_eq!(top_str(&out, PATIENT_ID).as_deref(), Some("SUBJ01"));
    assert_eq!(top_str(&out, PATIENT_NAME).as_deref(), Some("SUBJECT^ONE"));
    let (bytes, report) = process(&d, MR_SMALL, "mr.dcm");
    assert!(bytes.is_none());
    assert_eq!(get_str(&report, "status"), "failed");
}

#[wasm_bindgen_test]
fn runs_in_a_dedicated_worker() {
    let global = js_sys::global();
    let name = get(&get(&global, "constructor"), "name").as_string();
    assert_eq!(name.as_deref(), Some("DedicatedWorkerGlobalScope"));
    assert!(!Reflect::has(&global, &"document".into()).unwrap());
}

#[wasm_bindgen_test]
fn mappings_only_after_set_mappings() {
    let mut d = deidentifier(JsValue::UNDEFINED, "k");
    let r = d.process(CT_SMALL, "ct.dcm").unwrap();
    assert!(get(&r, "uidMap").is_undefined() && get(&r, "patientMap").is_undefined(), "no mappings unless asked");
    d.set_mappings(true);
    let r = d.process(CT_SMALL, "ct.dcm").unwrap();
    let uids = Array::from(&get(&r, "uidMap"));
    assert!(uids.length() > 2);
    let found = uids.iter().any(|pair| Array::from(&pair).get(1).as_string().as_deref() == Some(CT_SMALL_NEW_SOP_UID_K));
    assert!(found, "the SOP Instance UID pair is listed");
    let p = Array::from(&get(&r, "patientMap"));
    assert!(p.get(1).as_string().unwrap().starts_with("ANON"));
}

/// The same detector on the same image gives the same boxes as the native CLI (set by
/// scripts/test-wasm: the CLI's report boxes for OBXXXX1A.dcm), and masks the dates in the banner.
#[wasm_bindgen_test]
fn burned_in_text_boxes_are_the_same_as_native() {
    const OB: &[u8] = corpus!("pydicom-data-1.0.0/OBXXXX1A.dcm");
    let d = deidentifier(JsValue::UNDEFINED, "k");
    let (bytes, report) = process(&d, OB, "OBXXXX1A.dcm");
    assert!(bytes.is_some());
    let px = get(&report, "pixel");
    let boxes: Vec<String> = Array::from(&get(&px, "boxes"))
        .iter()
        .map(|b| format!("{}:{},{},{},{}:{}", get(&b, "frame").as_f64().unwrap_or(-1.0), get(&b, "x").as_f64().unwrap(), get(&b, "y").as_f64().unwrap(), get(&b, "w").as_f64().unwrap(), get(&b, "h").as_f64().unwrap(), get_str(&b, "reason")))
        .collect();
    assert!(boxes.iter().filter(|b| b.ends_with(":phi")).count() >= 3, "{boxes:?}");
    if let Some(native) = option_env!("DICOM_DEID_NATIVE_BOXES") {
        assert_eq!(boxes.join(";"), native, "wasm boxes differ from the native CLI's");
    } else {
        console_log!("DICOM_DEID_NATIVE_BOXES not set (run scripts/test-wasm): native comparison skipped");
    }
}

/// The header-only configuration of the page: no model needed, images are not looked at.
#[wasm_bindgen_test]
fn pixel_policy_none_needs_no_models() {
    let cfg = JSON::parse(r#"{"pixels": {"policy": "none"}}"#).unwrap();
    let d = Deidentifier::new(cfg, "k".into(), None).unwrap();
    assert!(!d.needs_models() && !d.needs_pixel_engine());
    let (bytes, report) = process(&d, CT_SMALL, "CT_small.dcm");
    assert!(bytes.is_some());
    assert!(get(&report, "pixel").is_undefined());
}
