//! Whole-engine cost per frame over a mix of files, natively (one thread): every DICOM file under each
//! folder, in name order, in one pass as a batch runs (detector plans are built when a new input size
//! first appears; the models are loaded before the clock starts). Header work, decoding, the pre-pass,
//! detection, reading, masking and writing are all counted. Run by `scripts/bench-pixels`, which runs
//! the same files through the page's wasm pixel module and compares.
//!
//! cargo run --release --features cli --example bench_mix -- MODELS_DIR OUT_TSV DIR... [--stress DIR...]
//!
//! Folders after `--stress` are a stress set (the generated files, burned-in PHI on every frame): they
//! get their own rows and count in "all", but not in the *realistic mix*, the figure the targets
//! (≤ 40 ms native, ≤ 100 ms wasm per 512×512 frame) are read against.
//!
//! `BENCH_PLANS_PER_SIZE=1` builds every plan from the ONNX model for its size (to compare).
//!
//! Prints per folder: files, frames, frames given to the detector, ms per frame and ms per 512×512
//! pixels; writes OUT_TSV (group, path, frames, pixels, ms, ok, stress) for the wasm side.
use std::io::Write;
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::walk;

/// Frames and pixels (rows × columns × frames) of a file's image, if it has one.
fn geometry(bytes: &[u8]) -> Option<(u64, u64)> {
    let o = dicom_deid::dicom::parse(bytes).ok()?;
    let info = dicom_deid::pixel::image::ImageInfo::from_dataset(
        &o.dataset,
        o.transfer_syntax.big_endian,
    )
    .ok()??;
    Some((
        info.frames as u64,
        info.frames as u64 * info.rows as u64 * info.cols as u64,
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let models = std::path::PathBuf::from(&args[1]);
    let mut ocr = dicom_deid::ocr::Ocr::from_dir(&models).unwrap();
    if std::env::var_os("BENCH_PLANS_PER_SIZE").is_some_and(|v| !v.is_empty()) {
        ocr = ocr.with_plans_per_size(); // as before plans shared a symbolic typing, to compare
    }
    let ocr = std::sync::Arc::new(ocr);
    let eng = dicom_deid::Engine::new(
        dicom_deid::Config::default(),
        dicom_deid::Key::new(b"bench"),
    )
    .unwrap()
    .with_text_finder(ocr.clone());
    let mut tsv = std::fs::File::create(&args[2]).unwrap();
    writeln!(tsv, "group\tpath\tframes\tpixels\tms\tok\tstress").unwrap();
    // (folder, a stress set)
    let mut dirs: Vec<(String, bool)> = Vec::new();
    let mut stress = false;
    for a in &args[3..] {
        if a == "--stress" {
            stress = true;
        } else {
            dirs.push((a.clone(), stress));
        }
    }
    println!("| files | written | frames | given to the detector | ms per frame | ms per 512² | total s |");
    println!("|---|---|---|---|---|---|---|");
    let (mut all_frames, mut all_px, mut all_ms) = (0u64, 0u64, 0f64);
    // the realistic mix: every folder but the stress sets
    let (mut mix_frames, mut mix_px, mut mix_ms) = (0u64, 0u64, 0f64);
    let mut split = Vec::new();
    for (dir, stress) in &dirs {
        let before = ocr.stats();
        let mut files = Vec::new();
        walk(std::path::Path::new(dir), &mut files);
        let (mut n, mut written, mut frames, mut px, mut detected, mut ms) =
            (0usize, 0usize, 0u64, 0u64, 0u64, 0f64);
        for p in files {
            let bytes = std::fs::read(&p).unwrap();
            let Some((f, area)) = geometry(&bytes) else {
                continue; // no image (or not DICOM): not part of a per-frame figure
            };
            n += 1;
            let t = Instant::now();
            let out = eng.process(&bytes, "x");
            let dt = t.elapsed().as_secs_f64() * 1e3;
            let ok = out.is_ok();
            writeln!(
                tsv,
                "{dir}\t{}\t{f}\t{area}\t{dt:.3}\t{}\t{}",
                p.display(),
                ok as u8,
                *stress as u8
            )
            .unwrap();
            if let Ok(o) = out {
                written += 1;
                frames += f;
                px += area;
                ms += dt;
                detected += o.report.pixel.map(|p| p.frames_detected as u64).unwrap_or(0);
            }
        }
        let name = if *stress { format!("{dir} (stress set)") } else { dir.clone() };
        println!(
            "| {name}: {n} | {written} | {frames} | {detected} | {:.1} | {:.1} | {:.1} |",
            ms / frames.max(1) as f64,
            ms / (px as f64 / 262_144.0).max(1e-9),
            ms / 1e3
        );
        all_frames += frames;
        all_px += px;
        all_ms += ms;
        if !stress {
            mix_frames += frames;
            mix_px += px;
            mix_ms += ms;
        }
        split.push((dir.clone(), before, ocr.stats(), ms));
    }
    println!(
        "| all | | {all_frames} | | {:.1} | {:.1} | {:.1} |",
        all_ms / all_frames.max(1) as f64,
        all_ms / (all_px as f64 / 262_144.0).max(1e-9),
        all_ms / 1e3
    );
    if dirs.iter().any(|(_, s)| *s) {
        let per_frame = mix_ms / mix_frames.max(1) as f64;
        println!(
            "| realistic mix (all but the stress sets) | | {mix_frames} | | {per_frame:.1} | {:.1} | {:.1} |",
            mix_ms / (mix_px as f64 / 262_144.0).max(1e-9),
            mix_ms / 1e3
        );
        println!();
        println!(
            "Realistic mix, native: {per_frame:.1} ms per frame against the target of 40 ms: {:.2}× the target ({}).",
            per_frame / 40.0,
            if per_frame <= 40.0 { "met" } else { "not met" }
        );
    }
    println!();
    println!("Where the time went (s): detection (calls, megapixels at model size), main readings (read, from cache), fast readings (read, from cache), plan builds, the rest (decode, pre-pass, header, masking, encoding)");
    println!();
    println!("| folder | detection | main readings | fast readings | plans | rest |");
    println!("|---|---|---|---|---|---|");
    for (dir, a, b, ms) in split {
        let ocr_ms = b.detect_ms - a.detect_ms + b.read.ms - a.read.ms + b.fast.ms - a.fast.ms;
        println!(
            "| {dir} | {:.1} ({}, {:.0} MP) | {:.1} ({}, {}) | {:.1} ({}, {}) | {:.1} ({}) | {:.1} |",
            (b.detect_ms - a.detect_ms) / 1e3,
            b.detect_calls - a.detect_calls,
            (b.detect_pixels - a.detect_pixels) as f64 / 1e6,
            (b.read.ms - a.read.ms) / 1e3,
            b.read.calls - a.read.calls,
            b.read.cached - a.read.cached,
            (b.fast.ms - a.fast.ms) / 1e3,
            b.fast.calls - a.fast.calls,
            b.fast.cached - a.fast.cached,
            (b.plan_ms - a.plan_ms) / 1e3,
            b.plans_built - a.plans_built,
            (ms - ocr_ms - (b.plan_ms - a.plan_ms)) / 1e3,
        );
    }
}
