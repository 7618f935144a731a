//! The WebAssembly front end: a thin `#[wasm_bindgen]` layer over [`Engine`] for browsers and workers.
//!
//! The contract for embedders (and `tests/wasm.rs`):
//!
//! ```text
//! new Deidentifier(config?: object | string | undefined, key: string, subjectCsv?: string)
//! d.process(bytes: Uint8Array, name: string) → { bytes: Uint8Array | undefined, report: FileReport }
//! d.allocInput(length: number); d.inputView() → Uint8Array; d.processInput(name) → as process, but
//! `bytes` is a view into the module (valid until the next call); d.releaseOutput()
//!                                                    // a large file held twice, not four times
//! d.processInputTo(name, sink: (piece: Uint8Array) => void) → as processInput, but the output is
//! handed to `sink` in pieces and never built          // a large file held once
//! d.collectIdentifiers(bytes: Uint8Array) → string   // opaque token: the identifying words of one file
//! d.addBatchIdentifiers(token: string)               // merge a token into this instance's batch deny-list
//! d.classify(bytes: Uint8Array) → PlannedElement[]   // the dry-run plan
//! defaultConfig() → object                          // ConfigInput::default()
//! previewFrame(bytes) → {width, height, rgba}       // pixel build: the first frame, any syntax
//! version() → string
//! ```
//!
//! Errors are thrown as plain objects `{ kind, message }` (plain, so they survive `postMessage` from a
//! worker): `kind` is [`DeidError::kind`] (`config`, `parse`, `not_dicom`, ...) or one of this layer's
//! own: `key` (missing or empty key), `token` (not a token from `collectIdentifiers`), `internal`.
//! `process` does not throw for a file that cannot be de-identified: it returns no bytes and a report
//! with status `skipped` (not DICOM, unsupported) or `failed`, as the CLI does.
//!
//! Pseudonyms depend only on the configuration and the key (its UTF-8 bytes, as in the CLI), so every
//! worker, session and the CLI give the same output for the same input.

use crate::report::FileReport;
use crate::text::DenyList;
use crate::{Config, ConfigInput, DeidError, Engine, Key, SubjectMap};
use js_sys::{Object, Reflect, Uint8Array, JSON};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Runs the module's static constructors (tract registers its operators through `inventory`'s
/// `.init_array` entries) exactly once, before anything can need them.
///
/// Without an explicit call, wasm-ld treats the module as a "command" and wraps *every* export —
/// `process`, and wasm-bindgen's own `__wbindgen_malloc` and `__externref_table_alloc`, called for each
/// string, buffer and report object crossing the boundary — in a call to `__wasm_call_ctors`, so the
/// pixel module re-ran tract's registrations many times per file (about 6 ms of a 10 ms CT slice).
/// Referencing `__wasm_call_ctors` here tells wasm-ld not to wrap the exports; the `Once` makes the
/// call happen on the first construction of a [`Deidentifier`] (or [`default_config`]).
fn run_constructors_once() {
    extern "C" {
        fn __wasm_call_ctors();
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: `__wasm_call_ctors` is the constructor runner wasm-ld synthesises for every module; the
    // `Once` guarantees it runs a single time, as the wrappers it replaces assumed.
    ONCE.call_once(|| unsafe { __wasm_call_ctors() });
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Thrown by the constructor and the methods (never an Error instance, so it survives postMessage). */
export interface DeidErrorObject {
  /** "config" | "key" | "token" | "not_dicom" | "parse" | "write" | "charset" | "not_in_subject_map" | "invalid" | "unsupported" | "internal" */
  kind: string;
  message: string;
}
/** What was done to one file; never holds an original value except `input` (the name given). */
export interface FileReport {
  input: string;
  /** `<new Study UID>/<new Series UID>/<new SOP Instance UID>.dcm`, or null when nothing was written */
  output: string | null;
  status: "written" | "failed" | "skipped";
  reason: string | null;
  transfer_syntax?: string;
  framing?: "part10" | "no_preamble" | "no_file_meta";
  notes?: string[];
  counts: Record<string, number>;
  elements: { path: string; keyword: string; vr: string; action: string }[];
}
export interface ProcessResult {
  /** the de-identified file; undefined when the report's status is not "written" */
  bytes: Uint8Array | undefined;
  report: FileReport;
  /** old → new UIDs, only after setMappings(true) */
  uidMap?: [string, string][];
  /** old → new Patient ID, only after setMappings(true) */
  patientMap?: [string, string];
}
/** One decision of the dry-run plan. */
export interface PlannedElement {
  path: string;
  keyword: string;
  action: string;
  source: string;
  vr: string;
  row?: string;
  code?: string;
  resolved?: string;
}
"#;

/// The de-identifier of one page or worker: configuration, key, optional subject mapping and the batch
/// deny-list. Create one per worker with the same config and key: they give identical results.
#[wasm_bindgen]
pub struct Deidentifier {
    engine: Engine,
    mappings: bool,
    /// an input read straight into the module's memory (`allocInput` … `processInput`)
    input: Vec<u8>,
    /// the output `processInput` lends as a view, until `releaseOutput` or the next input
    output: Vec<u8>,
}

#[wasm_bindgen]
impl Deidentifier {
    /// `config`: an object or a JSON string (the project's configuration or the seed tool's
    /// `custom_rules.json`), or undefined/null for the defaults. `key`: the secret for all pseudonyms.
    /// `subjectCsv`: optional clinical-trial subject mapping (`patient_id,subject_id[,subject_name]`).
    /// Throws `{kind: "config" | "key", message}`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "object | string | undefined | null")]
        config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        #[wasm_bindgen(js_name = subjectCsv, unchecked_param_type = "string | null")]
        subject_csv: Option<JsValue>,
    ) -> Result<Deidentifier, JsValue> {
        run_constructors_once();
        console_error_panic_hook::set_once();
        let config = config_from_js(&config)?;
        let key = match key.as_string() {
            Some(k) if !k.is_empty() => Key::new(k.as_bytes()),
            _ => return Err(error("key", "a non-empty key string is required")),
        };
        let mut engine = Engine::new(config, key).map_err(|e| deid_error(&e))?;
        if let Some(csv) = subject_csv {
            let text = csv
                .as_string()
                .ok_or_else(|| error("config", "subjectCsv must be a string of CSV text"))?;
            engine = engine
                .with_subject_map(SubjectMap::from_csv(&text).map_err(|e| error("config", e))?);
        }
        Ok(Deidentifier {
            engine,
            mappings: false,
            input: Vec::new(),
            output: Vec::new(),
        })
    }

    /// De-identifies one file. Never throws for a bad file: `bytes` is undefined and the report says
    /// why (status "skipped" for non-DICOM and unsupported files, "failed" otherwise).
    #[wasm_bindgen(unchecked_return_type = "ProcessResult")]
    pub fn process(&self, bytes: &[u8], name: &str) -> Result<JsValue, JsValue> {
        let (out, result) = self.process_bytes(bytes, None, name)?;
        let out = out.map_or(JsValue::UNDEFINED, |b| Uint8Array::from(&b[..]).into());
        set(&result, "bytes", &out)?;
        Ok(result.into())
    }

    /// Reserves `length` bytes inside the module for the next input, to be filled through
    /// [`Self::input_view`] and consumed by [`Self::process_input`]: a large file then exists once in
    /// memory while it is cleaned (a `Uint8Array` given to `process` is also copied into the module).
    /// Replaces an input reserved before. Throws `{kind: "memory"}` when the module cannot grow.
    #[wasm_bindgen(js_name = allocInput)]
    pub fn alloc_input(&mut self, length: usize) -> Result<(), JsValue> {
        self.input = Vec::new();
        self.output = Vec::new();
        let mut v = Vec::new();
        v.try_reserve_exact(length)
            .map_err(|_| error("memory", format!("{length} bytes do not fit in memory")))?;
        v.resize(length, 0);
        self.input = v;
        Ok(())
    }

    /// A view of the input reserved by `allocInput`, to write the file's bytes into. It is valid only
    /// until the next call into the module (memory may move as it grows): take a new view each time.
    #[wasm_bindgen(js_name = inputView)]
    pub fn input_view(&mut self) -> Uint8Array {
        // SAFETY: the view is handed to JS for writes before any other call into the module; JS is
        // told (above) not to keep it across calls, which could reallocate or move memory.
        unsafe { Uint8Array::view_mut_raw(self.input.as_mut_ptr(), self.input.len()) }
    }

    /// `process` on the input written through `inputView`. The input is released as soon as the
    /// output exists, and `bytes` is a *view* of the output inside the module, not a copy: valid only
    /// until the next call into the module. Copy it out (`new Blob([bytes])`, `bytes.slice()`), then
    /// call `releaseOutput`. So a large file is held at most twice (input and output), never four
    /// times (a copy of each on both sides).
    #[wasm_bindgen(js_name = processInput, unchecked_return_type = "ProcessResult")]
    pub fn process_input(&mut self, name: &str) -> Result<JsValue, JsValue> {
        self.output = Vec::new();
        let input = std::mem::take(&mut self.input);
        let (out, result) = self.process_bytes(&[], Some(input), name)?;
        self.output = out.unwrap_or_default();
        if !self.output.is_empty() {
            // SAFETY: a view of `self.output`, which stays in place until `releaseOutput` or the next
            // input; the caller is told not to keep the view across calls.
            let view = unsafe { Uint8Array::view(&self.output) };
            set(&result, "bytes", &view)?;
        }
        Ok(result.into())
    }

    /// Frees the output lent by `processInput` (and the input kept by `processInputTo`).
    #[wasm_bindgen(js_name = releaseOutput)]
    pub fn release_output(&mut self) {
        self.output = Vec::new();
        self.input = Vec::new();
    }

    /// `process` on the input written through `inputView`, without building the output: it is handed
    /// to `sink(piece: Uint8Array)` as it is written, in order, a piece at a time. A piece is a *view*
    /// into the module (most of a large file's output is its unchanged pixel data, lent straight from
    /// the input): use it (write it, or copy it) before `sink` returns, and do not call into the module
    /// from `sink`. So a large file is held once, not twice. The result has no `bytes`; when its
    /// status is not "written", discard what `sink` was given (nothing, unless writing failed midway).
    /// An exception thrown by `sink` stops the writing and is rethrown. The input stays in the module
    /// until `releaseOutput` or the next `allocInput`, so the call can be repeated (into another sink).
    #[wasm_bindgen(js_name = processInputTo, unchecked_return_type = "ProcessResult")]
    pub fn process_input_to(
        &mut self,
        name: &str,
        #[wasm_bindgen(unchecked_param_type = "(piece: Uint8Array) => void")] sink: &js_sys::Function,
    ) -> Result<JsValue, JsValue> {
        self.output = Vec::new();
        let mut out = PieceSink {
            sink,
            buf: Vec::new(),
            thrown: None,
        };
        let done = match self.engine.prepare(&self.input, name) {
            Ok(p) => match p.write_to(&mut out).and_then(|()| Ok(std::io::Write::flush(&mut out)?)) {
                Ok(()) => Ok(Done {
                    report: p.report,
                    path: p.path,
                    uid_map: p.uid_map,
                    patient_map: p.patient_map,
                }),
                Err(e) => match out.thrown.take() {
                    Some(thrown) => return Err(thrown),
                    None => Err(DeidError::Write(match e {
                        crate::dicom::WriteError::Codec(c) => c,
                        crate::dicom::WriteError::Io(_) => crate::dicom::CodecError::Inflate,
                    })),
                },
            },
            Err(e) => Err(e),
        };
        Ok(self.result_of(name, done)?.into())
    }
}

/// What a de-identified file comes with besides its bytes.
struct Done {
    report: FileReport,
    path: String,
    uid_map: Vec<(String, String)>,
    patient_map: Option<(String, String)>,
}

/// The writer of `processInputTo`: small writes gathered into pieces of about [`PIECE`] bytes, large
/// ones (pixel data) lent to the sink as they are.
struct PieceSink<'f> {
    sink: &'f js_sys::Function,
    buf: Vec<u8>,
    /// what the sink threw, rethrown to the caller
    thrown: Option<JsValue>,
}

const PIECE: usize = 1 << 20;
/// Writes of at least this many bytes are lent to the sink, not gathered.
const LEND: usize = 64 * 1024;

impl PieceSink<'_> {
    fn give(&mut self, piece: &[u8]) -> std::io::Result<()> {
        if piece.is_empty() {
            return Ok(());
        }
        // SAFETY: the view lives only for the duration of the call to `sink`, which is told not to
        // call into the module (nothing can move or free `piece` meanwhile).
        let view = unsafe { Uint8Array::view(piece) };
        self.sink.call1(&JsValue::NULL, &view).map(drop).map_err(|e| {
            self.thrown = Some(e);
            std::io::Error::other("the output sink failed")
        })
    }
}

impl std::io::Write for PieceSink<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.len() >= LEND {
            // a large value (pixel data): lent as it is, after what was gathered before it
            self.flush()?;
            self.give(data)?;
        } else {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= PIECE {
                self.flush()?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let r = self.give(&buf);
        self.buf = buf;
        self.buf.clear();
        r
    }
}

impl Deidentifier {
    /// One file, from `bytes` or (when given) an owned input that is dropped as soon as the output
    /// exists: the output bytes, and the result object without `bytes`.
    fn process_bytes(
        &self,
        bytes: &[u8],
        owned: Option<Vec<u8>>,
        name: &str,
    ) -> Result<(Option<Vec<u8>>, Object), JsValue> {
        let result = self.engine.process(owned.as_deref().unwrap_or(bytes), name);
        drop(owned);
        let (out, done) = match result {
            Ok(o) => (
                Some(o.bytes),
                Ok(Done {
                    report: o.report,
                    path: o.path,
                    uid_map: o.uid_map,
                    patient_map: o.patient_map,
                }),
            ),
            Err(e) => (None, Err(e)),
        };
        Ok((out, self.result_of(name, done)?))
    }

    /// The result object of one file without `bytes`: the report, and the mapping data when asked for.
    fn result_of(&self, name: &str, done: Result<Done, DeidError>) -> Result<Object, JsValue> {
        let mut maps = None;
        let report = match done {
            Ok(d) => {
                let mut report = d.report;
                report.output.get_or_insert(d.path);
                maps = Some((d.uid_map, d.patient_map));
                report
            }
            Err(e) => failure_report(name, &e),
        };
        let result = Object::new();
        if let (true, Some((uids, patient))) = (self.mappings, maps) {
            set(&result, "uidMap", &to_js(&uids)?)?;
            set(
                &result,
                "patientMap",
                &match &patient {
                    Some(p) => to_js(p)?,
                    None => JsValue::UNDEFINED,
                },
            )?;
        }
        set(&result, "bytes", &JsValue::UNDEFINED)?;
        set(&result, "report", &to_js(&report)?)?;
        Ok(result)
    }
}

#[wasm_bindgen]
impl Deidentifier {
    /// With `true`, `process` also returns `uidMap: [old, new][]` and `patientMap: [old, new] | undefined`
    /// (for `uid_mapping.csv` / `patid_mapping.csv`). They re-identify: write them only when asked.
    #[wasm_bindgen(js_name = setMappings)]
    pub fn set_mappings(&mut self, on: bool) {
        self.mappings = on;
        self.engine.set_mappings(on);
    }

    /// The identifying words of one file (names, IDs, dates, phones, addresses, institutions) as an
    /// opaque token for `addBatchIdentifiers`. `bytes` may be only the start of the
    /// file, as long as it holds everything before the pixel data (a deflated file needs all of it);
    /// throws `{kind: "parse" | "not_dicom", ...}` otherwise. The token holds PHI: never store or log it.
    #[wasm_bindgen(js_name = collectIdentifiers)]
    pub fn collect_identifiers(&self, bytes: &[u8]) -> Result<String, JsValue> {
        let deny = self
            .engine
            .collect_identifiers(bytes)
            .map_err(|e| deid_error(&e))?;
        serde_json::to_string(&deny).map_err(|e| error("internal", e))
    }

    /// Adds a token from `collectIdentifiers` (of any instance) to this instance's batch deny-list.
    #[wasm_bindgen(js_name = addBatchIdentifiers)]
    pub fn add_batch_identifiers(&mut self, token: &str) -> Result<(), JsValue> {
        // the parser's message could quote a word of the token: give only the position
        let deny: DenyList = serde_json::from_str(token).map_err(|e| {
            error(
                "token",
                format!(
                    "not a token from collectIdentifiers (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        self.engine.add_batch_identifiers(&deny);
        Ok(())
    }

    /// True when this configuration cleans burned-in text (pixel policy not "none") and so needs the
    /// pixel module with its models (`loadModels`); the header-only module then fails every image.
    #[wasm_bindgen(js_name = needsModels)]
    pub fn needs_models(&self) -> bool {
        self.engine.needs_text_finder()
    }

    /// Gives the pixel engine its OCR models (text detection and recognition ONNX, as bytes; optionally
    /// the fast recogniser read first, `pkg/pixel/models/rec-fast.onnx`, with its dictionary text
    /// `rec-fast.txt`). Only in the pixel build (`pkg/pixel/`); throws `{kind: "models", message}`
    /// when they do not load. The models are loaded once per module instance (a worker): later calls
    /// with models of the same sizes reuse them, with their optimised plans.
    #[cfg(feature = "pixel")]
    #[wasm_bindgen(js_name = loadModels)]
    pub fn load_models(
        &mut self,
        det: &[u8],
        rec: &[u8],
        fast: Option<Vec<u8>>,
        fast_dict: Option<String>,
    ) -> Result<(), JsValue> {
        type Sizes = (usize, usize, usize);
        thread_local! {
            static LOADED: std::cell::RefCell<Option<(Sizes, std::sync::Arc<crate::ocr::Ocr>)>> = const { std::cell::RefCell::new(None) };
        }
        let sizes = (det.len(), rec.len(), fast.as_ref().map_or(0, Vec::len));
        let cached = LOADED.with(|l| {
            l.borrow()
                .as_ref()
                .filter(|(s, _)| *s == sizes)
                .map(|(_, o)| o.clone())
        });
        let ocr = match cached {
            Some(o) => o,
            None => {
                let mut o = crate::ocr::Ocr::from_bytes(det, rec, None).map_err(|e| error("models", e))?;
                if let Some(f) = &fast {
                    o = o
                        .with_fast(f, fast_dict.as_deref())
                        .map_err(|e| error("models", e))?;
                }
                let o = std::sync::Arc::new(o);
                LOADED.with(|l| *l.borrow_mut() = Some((sizes, o.clone())));
                o
            }
        };
        self.engine.set_text_finder(ocr);
        Ok(())
    }

    /// True when this configuration looks at pixel data at all (text policy or region rules): the
    /// page then uses the pixel module.
    #[wasm_bindgen(js_name = needsPixelEngine)]
    pub fn needs_pixel_engine(&self) -> bool {
        self.engine.config().pixels.active()
    }

    /// True in the pixel build (the module that can run the OCR models).
    #[wasm_bindgen(js_name = hasPixelEngine)]
    pub fn has_pixel_engine(&self) -> bool {
        cfg!(feature = "pixel")
    }

    /// The dry-run plan: one decision per element at every depth, in file order.
    #[wasm_bindgen(unchecked_return_type = "PlannedElement[]")]
    pub fn classify(&self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        let plan = self.engine.classify(bytes).map_err(|e| deid_error(&e))?;
        to_js(&plan)
    }
}

/// The default configuration as an object (edit it and pass it to `new Deidentifier`).
#[wasm_bindgen(js_name = defaultConfig, unchecked_return_type = "Record<string, any>")]
pub fn default_config() -> Result<JsValue, JsValue> {
    run_constructors_once();
    console_error_panic_hook::set_once();
    to_js(&ConfigInput::default())
}

/// The first frame of an image for a preview, in any transfer syntax the pixel module decodes (JPEG,
/// JPEG 2000, RLE, deflated, native): `{width, height, rgba}` (RGBA, 8 bits a channel; colour images
/// in colour, the rest in grey stretched over the frame's range). Only in the pixel build. Throws
/// `{kind: "preview", message}` when there is no image or it cannot be decoded.
#[cfg(feature = "pixel")]
#[wasm_bindgen(js_name = previewFrame)]
pub fn preview_frame(bytes: &[u8]) -> Result<js_sys::Object, JsValue> {
    run_constructors_once();
    console_error_panic_hook::set_once();
    let (w, h, rgba) = crate::pixel::image::preview(bytes).map_err(|m| error("preview", m))?;
    let o = Object::new();
    set(&o, "width", &(w as u32).into())?;
    set(&o, "height", &(h as u32).into())?;
    set(&o, "rgba", &Uint8Array::from(&rgba[..]).into())?;
    Ok(o)
}

/// The version of dicom-deid.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The report of a file that was not written, as the CLI makes it.
fn failure_report(name: &str, e: &DeidError) -> FileReport {
    match e.kind() {
        "not_dicom" | "unsupported" => FileReport::skipped(name, e.to_string()),
        _ => FileReport::failed(name, e.to_string()),
    }
}

fn config_from_js(v: &JsValue) -> Result<Config, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Config::default());
    }
    // an object goes through JSON so that both layouts and `deny_unknown_fields` apply exactly as in
    // the CLI
    let text = match v.as_string() {
        Some(s) => s,
        None => JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| error("config", "configuration must be an object or a JSON string"))?,
    };
    Config::from_json(&text).map_err(|e| error("config", e))
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error("internal", e))
}

fn set(o: &Object, k: &str, v: &JsValue) -> Result<(), JsValue> {
    Reflect::set(o, &JsValue::from_str(k), v)
        .map(drop)
        .map_err(|_| error("internal", "cannot build the result object"))
}

fn deid_error(e: &DeidError) -> JsValue {
    error(e.kind(), e)
}

/// `{kind, message}` as a plain object.
fn error(kind: &str, message: impl std::fmt::Display) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"kind".into(), &kind.into());
    let _ = Reflect::set(&o, &"message".into(), &message.to_string().into());
    o.into()
}

/// What `openjp2` (JPEG 2000, a line-by-line translation of OpenJPEG) needs of its platform in
/// wasm32-unknown-unknown, which has no C library: the C functions it still calls (without them the
/// module imports them from `env` and does not instantiate), and an allocator that ignores null
/// frees. The C allocator keeps each block's size in front of it (C's `free` and `realloc` are not
/// told the size); `free(NULL)` and `realloc(NULL, n)` behave as C says.
#[cfg(feature = "jpeg2000")]
mod c_library {
    /// openjp2 also frees blocks that were never allocated (`dealloc` of a null pointer when a code
    /// block decoded nothing); the system allocator of wasm32 (dlmalloc) traps on that, where native
    /// allocators ignore it. This one ignores it too.
    struct NullTolerant;

    // SAFETY: every call is passed on to the system allocator unchanged, except a dealloc of null
    // (nothing to free) and a realloc of null (an allocation).
    unsafe impl std::alloc::GlobalAlloc for NullTolerant {
        unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
            std::alloc::System.alloc(l)
        }
        unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
            std::alloc::System.alloc_zeroed(l)
        }
        unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
            if !p.is_null() {
                std::alloc::System.dealloc(p, l)
            }
        }
        unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, size: usize) -> *mut u8 {
            if p.is_null() {
                return match std::alloc::Layout::from_size_align(size, l.align()) {
                    Ok(n) => std::alloc::System.alloc(n),
                    Err(_) => std::ptr::null_mut(),
                };
            }
            std::alloc::System.realloc(p, l, size)
        }
    }

    #[global_allocator]
    static ALLOCATOR: NullTolerant = NullTolerant;

    use std::alloc::{alloc, alloc_zeroed, dealloc, realloc as re_alloc, Layout};
    use std::ffi::{c_char, c_void};

    /// Room in front of each block for its size; also the alignment (C's `max_align_t`).
    const HEAD: usize = 16;

    fn layout(total: usize) -> Option<Layout> {
        Layout::from_size_align(total, HEAD).ok()
    }

    /// The block `p` points into, and the total size it was allocated with.
    unsafe fn block(p: *mut c_void) -> (*mut u8, usize) {
        let base = (p as *mut u8).sub(HEAD);
        (base, (base as *const usize).read())
    }

    unsafe fn allocate(size: usize, zeroed: bool) -> *mut c_void {
        let Some(l) = size.checked_add(HEAD).and_then(layout) else {
            return std::ptr::null_mut();
        };
        let base = if zeroed { alloc_zeroed(l) } else { alloc(l) };
        if base.is_null() {
            return std::ptr::null_mut();
        }
        (base as *mut usize).write(l.size());
        base.add(HEAD) as *mut c_void
    }

    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        allocate(size, false)
    }

    #[no_mangle]
    pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        match n.checked_mul(size) {
            Some(total) => allocate(total, true),
            None => std::ptr::null_mut(),
        }
    }

    #[no_mangle]
    pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
        if p.is_null() {
            return allocate(size, false);
        }
        let Some(total) = size.checked_add(HEAD).filter(|t| layout(*t).is_some()) else {
            return std::ptr::null_mut();
        };
        let (base, old) = block(p);
        let Some(old_layout) = layout(old) else {
            return std::ptr::null_mut();
        };
        let moved = re_alloc(base, old_layout, total);
        if moved.is_null() {
            return std::ptr::null_mut(); // the old block stays valid, as C says
        }
        (moved as *mut usize).write(total);
        moved.add(HEAD) as *mut c_void
    }

    #[no_mangle]
    pub unsafe extern "C" fn free(p: *mut c_void) {
        if p.is_null() {
            return;
        }
        let (base, total) = block(p);
        if let Some(l) = layout(total) {
            dealloc(base, l);
        }
    }

    #[no_mangle]
    pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
        let mut i = 0;
        loop {
            let c = *src.add(i);
            *dst.add(i) = c;
            if c == 0 {
                return dst;
            }
            i += 1;
        }
    }
}
