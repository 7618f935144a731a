//! `dicom-deid`: the native command line on the same core as the browser.
//!
//! dicom-deid [--config FILE] [--key SECRET] [--report FILE] [--mappings DIR] [--jobs N] --out DIR INPUT...
//!
//! Exit code: 0 when every DICOM input was written, 1 when some failed, 2 on bad usage.

use clap::Parser;
use dicom_deid::report::{mapping_csv, FileReport, Report};
use dicom_deid::{Config, ConfigInput, DeidError, Engine, Key, SubjectMap};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(name = "dicom-deid", version, about = "De-identify DICOM files under DICOM PS3.15 Annex E (2026c)")]
struct Args {
    /// Configuration JSON (this tool's format or the seed tool's custom_rules.json)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Secret key for pseudonyms (UIDs, patient IDs, date offsets); also read from DICOM_DEID_KEY.
    /// Without one a random key is used and the pseudonyms cannot be reproduced.
    #[arg(long, value_name = "SECRET")]
    key: Option<String>,
    /// Where to write the JSON report (default: OUT/dicom-deid-report.json)
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write uid_mapping.csv and patid_mapping.csv (old → new) into this folder. They re-identify: keep them safe.
    #[arg(long, value_name = "DIR")]
    mappings: Option<PathBuf>,
    /// Subject mapping CSV (patient_id,subject_id[,subject_name]) for clinical trials
    #[arg(long, value_name = "CSV")]
    subjects: Option<PathBuf>,
    /// Number of parallel jobs (default: number of cores)
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Output folder
    #[arg(long, value_name = "DIR", required_unless_present = "print_default_config")]
    out: Option<PathBuf>,
    /// Burned-in text policy: phi-only (default: mask text that matches the file's identifying values or a
    /// date/time/ID pattern), all-text (mask all text except labels), none (no text detection)
    #[arg(long, value_name = "POLICY")]
    pixels: Option<String>,
    /// Folder with the OCR models det.onnx and rec.onnx (default: ./models, then the build's models/;
    /// fetched by scripts/fetch-models)
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Write files whose pixel data cannot be decoded, unchanged, with a warning (default: fail them)
    #[arg(long)]
    pass_undecodable: bool,
    /// Mask the regions of a CTP DicomPixelAnonymizer.script
    #[arg(long, value_name = "FILE")]
    ctp_script: Option<PathBuf>,
    /// Mask the %filter coordinates of a pydicom/deid recipe
    #[arg(long, value_name = "FILE")]
    deid_recipe: Option<PathBuf>,
    /// Print the default configuration as JSON and exit
    #[arg(long)]
    print_default_config: bool,
    /// Files or folders (recursed)
    #[arg(value_name = "INPUT", required_unless_present = "print_default_config")]
    inputs: Vec<PathBuf>,
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A file's report, its UID mapping and its Patient ID mapping (the mappings only with --mappings).
type FileResult = (FileReport, Vec<(String, String)>, Option<(String, String)>);

fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if args.print_default_config {
        println!("{}", ConfigInput::default_json());
        return;
    }
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(msg) => {
            eprintln!("dicom-deid: {msg}");
            std::process::exit(2);
        }
    }
}

fn run(args: Args) -> Result<i32, String> {
    let started = Instant::now();
    let out = args.out.clone().expect("clap requires --out");
    let mut input = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read config {}: {e}", p.display()))?;
            ConfigInput::from_json(&text).map_err(|e| format!("config {}: {e}", p.display()))?
        }
        None => ConfigInput::default(),
    };
    if let Some(p) = &args.pixels {
        input.pixels.policy = serde_json::from_value(serde_json::Value::String(p.clone())).map_err(|_| format!("--pixels {p:?}: use phi-only, all-text or none"))?;
    }
    if args.pass_undecodable {
        input.pixels.undecodable = dicom_deid::pixel::Undecodable::Pass;
    }
    if let Some(p) = &args.ctp_script {
        input.pixels.ctp_script = Some(std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
    }
    if let Some(p) = &args.deid_recipe {
        input.pixels.deid_recipe = Some(std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
    }
    let config = Config::validate(input).map_err(|e| e.to_string())?;
    let needs_models = config.pixels.policy != dicom_deid::pixel::Policy::None;
    let (key, key_note) = match args.key.clone().or_else(|| std::env::var("DICOM_DEID_KEY").ok()).filter(|k| !k.is_empty()) {
        Some(k) => (Key::new(k.as_bytes()), "given"),
        None => {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).map_err(|e| format!("no random source for a key: {e}"))?;
            (Key::new(hex(&b).as_bytes()), "generated (random, not stored): pseudonyms of this run cannot be reproduced")
        }
    };
    let options: Vec<String> = config.enabled.iter().map(|o| o.column().to_string()).collect();
    let mut engine = Engine::new(config, key).map_err(|e| e.to_string())?.with_mappings(args.mappings.is_some());
    if needs_models {
        engine = engine.with_text_finder(load_models(args.models.as_deref())?);
    }
    if let Some(p) = &args.subjects {
        let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read subject mapping {}: {e}", p.display()))?;
        engine = engine.with_subject_map(SubjectMap::from_csv(&text).map_err(|e| e.to_string())?);
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(|e| e.to_string())?;

    let files = collect_inputs(&args.inputs)?;
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let out_canon = out.canonicalize().unwrap_or(out.clone());
    let files: Vec<PathBuf> = files.into_iter().filter(|f| !f.canonicalize().map(|c| c.starts_with(&out_canon)).unwrap_or(false)).collect();

    let bar = progress_bar(files.len() as u64 * 2);

    // pass 1: the batch deny-list (identifying words of every file, used to clean all the others)
    let deny = pool.install(|| {
        files
            .par_iter()
            .filter_map(|f| {
                let r = read_head(f).and_then(|b| engine.collect_identifiers(&b).ok());
                if let Some(b) = &bar {
                    b.inc(1);
                }
                r
            })
            .reduce(dicom_deid::text::DenyList::default, |mut a, b| {
                a.merge(&b);
                a
            })
    });
    engine.add_batch_identifiers(&deny);

    // pass 2: de-identify and write
    let taken: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    let results: Vec<FileResult> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let r = process_one(&engine, f, &out, &taken);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                r
            })
            .collect()
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    let mut reports = Vec::with_capacity(results.len());
    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    let mut pids: BTreeMap<String, String> = BTreeMap::new();
    for (r, u, p) in results {
        reports.push(r);
        uids.extend(u);
        if let Some((a, b)) = p {
            pids.insert(a, b);
        }
    }
    let report = Report::new(options, key_note, reports);
    let report_path = args.report.clone().unwrap_or_else(|| out.join("dicom-deid-report.json"));
    write_atomic(&report_path, &serde_json::to_vec(&report).expect("serialisable")).map_err(|e| format!("cannot write report {}: {e}", report_path.display()))?;
    if let Some(dir) = &args.mappings {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let u: Vec<_> = uids.into_iter().collect();
        let p: Vec<_> = pids.into_iter().collect();
        write_atomic(&dir.join("uid_mapping.csv"), mapping_csv(&u).as_bytes()).map_err(|e| e.to_string())?;
        write_atomic(&dir.join("patid_mapping.csv"), mapping_csv(&p).as_bytes()).map_err(|e| e.to_string())?;
    }
    let s = &report.summary;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "dicom-deid: {} written, {} failed, {} skipped (not DICOM or unsupported) in {:.2} s ({:.1} files/s) -> {}; report: {}",
        s.written,
        s.failed,
        s.skipped,
        secs,
        files.len() as f64 / secs.max(1e-9),
        out.display(),
        report_path.display()
    );
    Ok(if s.failed > 0 { 1 } else { 0 })
}

fn process_one(engine: &Engine, f: &Path, out: &Path, taken: &Mutex<HashMap<String, usize>>) -> FileResult {
    let name = f.display().to_string();
    let bytes = match std::fs::read(f) {
        Ok(b) => b,
        Err(e) => return (FileReport::failed(&name, format!("cannot read the file: {}", e.kind())), Vec::new(), None),
    };
    match engine.prepare(&bytes, &name) {
        Ok(mut o) => {
            // two inputs with the same SOP Instance UID: the second gets a numbered name
            let path = {
                let mut t = taken.lock().expect("not poisoned");
                let n = t.entry(o.path.clone()).or_insert(0);
                *n += 1;
                if *n == 1 {
                    o.path.clone()
                } else {
                    o.report.notes.push("another input has the same SOP Instance UID; written under a numbered name".into());
                    format!("{}_{}.dcm", o.path.trim_end_matches(".dcm"), *n)
                }
            };
            let dest = out.join(&path);
            let written = dest.parent().map(std::fs::create_dir_all).unwrap_or(Ok(())).map_err(|e| e.to_string()).and_then(|_| {
                write_atomic_with(&dest, |f| o.write_to(f).map_err(|e| match e {
                    dicom_deid::dicom::WriteError::Io(io) => io,
                    other => std::io::Error::other(other.to_string()),
                }))
                .map_err(|e| e.to_string())
            });
            if let Err(e) = written {
                return (FileReport::failed(&name, format!("cannot write the output: {e}")), Vec::new(), None);
            }
            o.report.output = Some(path);
            (o.report, o.uid_map, o.patient_map)
        }
        Err(e) => {
            let r = match e {
                DeidError::Parse(dicom_deid::dicom::CodecError::NotDicom) | DeidError::Unsupported(_) => FileReport::skipped(&name, e.to_string()),
                _ => FileReport::failed(&name, e.to_string()),
            };
            (r, Vec::new(), None)
        }
    }
}

/// The identifiers sit before the pixel data: read the first 16 KiB and the whole file only when its
/// header is longer than that.
fn read_head(f: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    const HEAD: u64 = 16 * 1024;
    let mut buf = Vec::new();
    std::fs::File::open(f).ok()?.take(HEAD).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 == HEAD && dicom_deid::dicom::parse_header(&buf).is_err() {
        return std::fs::read(f).ok();
    }
    Some(buf)
}

/// Writes through a temporary file and a rename, so no partial file is ever left under the final name.
fn write_atomic(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(dest, |f| std::io::Write::write_all(f, bytes))
}

fn write_atomic_with(dest: &Path, fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    let r = std::fs::File::create(&tmp).and_then(|mut f| fill(&mut f)).and_then(|_| std::fs::rename(&tmp, dest));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for i in inputs {
        if i.is_dir() {
            let mut v: Vec<PathBuf> = walkdir::WalkDir::new(i)
                .follow_links(false)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .collect();
            v.sort();
            files.extend(v);
        } else if i.is_file() {
            files.push(i.clone());
        } else {
            return Err(format!("input not found: {}", i.display()));
        }
    }
    Ok(files)
}

fn progress_bar(n: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || n == 0 {
        return None;
    }
    let b = indicatif::ProgressBar::new(n);
    b.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}").expect("valid template"));
    Some(b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Loads the OCR models: `--models DIR`, else `./models`, else the source tree's `models/`.
fn load_models(dir: Option<&Path>) -> Result<std::sync::Arc<dyn dicom_deid::pixel::TextFinder>, String> {
    let candidates: Vec<PathBuf> = match dir {
        Some(d) => vec![d.to_path_buf()],
        None => vec![PathBuf::from("models"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models"))],
    };
    let Some(d) = candidates.iter().find(|d| d.join("det.onnx").is_file() && d.join("rec.onnx").is_file()) else {
        return Err(format!(
            "pixel cleaning is on but the OCR models were not found in {}: run scripts/fetch-models, give --models DIR, or switch it off with --pixels none",
            candidates.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(" or ")
        ));
    };
    let ocr = dicom_deid::ocr::Ocr::from_dir(d).map_err(|e| e.to_string())?;
    Ok(std::sync::Arc::new(ocr))
}
