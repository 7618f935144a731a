//! Benchmark harness for `scripts/bench`.
//!
//! Usage: anon-harness [--jobs N] --out DIR INPUT...
//!
//! Runs the `dicom-anonymization` crate with its default configuration over every
//! file given (folders are walked recursively), doing what dicom-deid's CLI does
//! for each file: read it whole, anonymize, write one output file. A folder INPUT
//! is mirrored under DIR/<folder name>/, a file INPUT goes to DIR/<file name>.
//! Files that fail are counted and reported; the exit status is 0 when every file
//! was written and 1 otherwise. `--jobs N` runs the files on a rayon pool of N threads.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use dicom_anonymization::Anonymizer;
use rayon::prelude::*;

struct Args {
    out: PathBuf,
    jobs: usize,
    quiet: bool,
    inputs: Vec<PathBuf>,
}

fn usage() -> ! {
    eprintln!("usage: anon-harness [--jobs N] [--quiet] --out DIR INPUT...");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut out = None;
    let mut jobs = 1usize;
    let mut quiet = false;
    let mut inputs = Vec::new();
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--out") => out = Some(PathBuf::from(it.next().unwrap_or_else(|| usage()))),
            Some("--jobs") => {
                jobs = it
                    .next()
                    .and_then(|v| v.to_str().and_then(|s| s.parse().ok()))
                    .unwrap_or_else(|| usage())
            }
            Some("--quiet") => quiet = true,
            Some("-h") | Some("--help") => usage(),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    match out {
        Some(out) if !inputs.is_empty() => Args { out, jobs: jobs.max(1), quiet, inputs },
        _ => usage(),
    }
}

/// Appends (source, output path relative to the output folder) for every file under `dir`.
fn walk(dir: &Path, rel: &Path, list: &mut Vec<(PathBuf, PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel_path = rel.join(entry.file_name());
        if path.is_dir() {
            walk(&path, &rel_path, list)?;
        } else if path.is_file() {
            list.push((path, rel_path));
        }
    }
    Ok(())
}

fn process(anonymizer: &Anonymizer, src: &Path, dst: &Path) -> Result<(), String> {
    let bytes = fs::read(src).map_err(|e| format!("read: {e}"))?;
    let result = anonymizer
        .anonymize(bytes.as_slice())
        .map_err(|e| format!("anonymize: {e}"))?;
    let mut buf = Vec::with_capacity(bytes.len());
    result.write(&mut buf).map_err(|e| format!("write: {e}"))?;
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("mkdir: {e}"))?;
    }
    fs::write(dst, &buf).map_err(|e| format!("write file: {e}"))
}

fn main() -> ExitCode {
    let args = parse_args();
    let mut list = Vec::new();
    for input in &args.inputs {
        let name = input
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("input"));
        if input.is_dir() {
            if let Err(e) = walk(input, &name, &mut list) {
                eprintln!("{}: {e}", input.display());
                return ExitCode::from(2);
            }
        } else {
            list.push((input.clone(), name));
        }
    }

    let anonymizer = Anonymizer::default();
    let failed = AtomicUsize::new(0);
    let run_one = |(src, rel): &(PathBuf, PathBuf)| {
        if let Err(e) = process(&anonymizer, src, &args.out.join(rel)) {
            failed.fetch_add(1, Ordering::Relaxed);
            if !args.quiet {
                eprintln!("FAILED {}: {e}", src.display());
            }
        }
    };
    // Always on a rayon pool, as the crate's own `dcmanon` binary does (RAYON_NUM_THREADS=1 for
    // one job): the work then runs on pool threads, whose glibc malloc arenas are not trimmed
    // after each file the way the main thread's heap is (worth ~30% on large files).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs)
        .build()
        .expect("thread pool");
    pool.install(|| list.par_iter().for_each(run_one));
    let failed = failed.into_inner();
    eprintln!("anon-harness: {} ok, {} failed", list.len() - failed, failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
