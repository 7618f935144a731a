//! Recall and cost of the detector's pre-pass (src/pixel/prepass.rs) against whole-frame detection,
//! on every frame (up to 30 per file) of every DICOM file under the given folders. Run by
//! `scripts/bench-pixels`; prints a table and the totals.
//!
//! cargo run --release --features cli --example prepass_recall -- MODELS_DIR DIR...
//!
//! A whole-frame box counts as found when the pre-pass boxes cover at least 90% of its area. The
//! pre-pass is measured twice: on each frame alone (`detect_frame`), and along the file's frames as
//! the engine runs it, where the boxes whose pixels did not change since the frame before are kept and
//! only what changed is detected (`detect_frame_after`). PREPASS_FRAMES (default 30): frames per file.
//! The pre-pass (src/pixel/prepass.rs) skips frames without stroke tiles and detects only regions around
//! them; missed boxes are read, to tell text from image structure; "precision" is the share of
//! the frames given to the detector in which it found text.
use dicom_deid::pixel::image::{frames, ImageInfo, Palette};
use dicom_deid::pixel::{Grey, Rect, TextFinder};
use std::time::Instant;

fn covered(b: &Rect, by: &[Rect]) -> f64 {
    // area of b covered by the union of `by` (pixel count; boxes are small)
    let mut n = 0u64;
    for y in b.y..b.bottom() {
        for x in b.x..b.right() {
            if by
                .iter()
                .any(|r| x >= r.x && x < r.right() && y >= r.y && y < r.bottom())
            {
                n += 1;
            }
        }
    }
    n as f64 / b.area().max(1) as f64
}

#[path = "common/mod.rs"]
mod common;
use common::walk;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let models = std::path::PathBuf::from(&args[1]);
    let ocr = dicom_deid::ocr::Ocr::from_dir(&models).unwrap();
    let mut files = Vec::new();
    for d in &args[2..] {
        walk(std::path::Path::new(d), &mut files);
    }
    let (mut boxes_all, mut boxes_found, mut frames_n, mut frames_skipped) =
        (0usize, 0usize, 0usize, 0usize);
    let (mut area_all, mut area_given, mut area_useful) = (0u64, 0u64, 0u64);
    let (mut t_whole, mut t_pre, mut t_reuse) = (0f64, 0f64, 0f64);
    let mut reuse_found = 0usize;
    let max_frames: u32 = std::env::var("PREPASS_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let mut missed = Vec::new();
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(o) = dicom_deid::dicom::parse(&bytes) else {
            continue;
        };
        let be = o.transfer_syntax.big_endian;
        let Ok(Some(info)) = ImageInfo::from_dataset(&o.dataset, be) else {
            continue;
        };
        let Some(px) = dicom_deid::dicom::find(&o.dataset, dicom_deid::dicom::PIXEL_DATA) else {
            continue;
        };
        let Ok(f) = frames(px, &info, &o.transfer_syntax.uid) else {
            continue;
        };
        let palette = if info.photometric == "PALETTE COLOR" {
            Palette::from_dataset(&o.dataset, be)
        } else {
            None
        };
        let mut last: Option<(Grey, Vec<Rect>)> = None;
        for i in 0..info.frames.min(max_frames) {
            let g: Grey = f.layout(&info).grey(f.frame(&info, i), palette.as_ref());
            let t = Instant::now();
            let whole = ocr.detect(&g).unwrap();
            t_whole += t.elapsed().as_secs_f64();
            let t = Instant::now();
            // the engine's rule
            let found = dicom_deid::pixel::detect_frame(&ocr, std::slice::from_ref(&g), true).unwrap();
            t_pre += t.elapsed().as_secs_f64();
            let pre: Vec<_> = found.boxes.iter().map(|(_, b)| *b).collect();
            // the engine's rule along the frames
            let t = Instant::now();
            let prev = last.as_ref().map(|(g, b)| (g, b.as_slice()));
            let along = dicom_deid::pixel::detect_frame_after(&ocr, std::slice::from_ref(&g), true, prev)
                .unwrap();
            t_reuse += t.elapsed().as_secs_f64();
            let reused: Vec<_> = along.boxes.iter().map(|(_, b)| *b).collect();
            last = Some((g.clone(), reused.clone()));
            frames_n += 1;
            area_all += (g.w * g.h) as u64;
            if !found.detected {
                frames_skipped += 1;
            } else {
                area_given += found.area;
                if !pre.is_empty() {
                    area_useful += found.area;
                }
            }
            for b in &whole {
                boxes_all += 1;
                let c = covered(b, &reused);
                if c >= 0.9 {
                    reuse_found += 1;
                } else {
                    let text = ocr.read(&g, *b).map(|r| r.text).unwrap_or_default();
                    missed.push((format!("(along the frames) {} frame {i} box {b:?}", path.display()), text, c));
                }
                let c = covered(b, &pre);
                if c >= 0.9 {
                    boxes_found += 1;
                } else {
                    let text = ocr.read(&g, *b).map(|r| r.text).unwrap_or_default();
                    missed.push((format!("{} frame {i} box {b:?}", path.display()), text, c));
                }
            }
        }
    }
    println!("frames: {frames_n} ({frames_skipped} with nothing for the detector)");
    println!(
        "whole-frame boxes: {boxes_all}; found with the pre-pass: {boxes_found} (recall {:.2}%)",
        100.0 * boxes_found as f64 / boxes_all.max(1) as f64
    );
    println!(
        "found with the pre-pass along the frames (unchanged boxes kept): {reuse_found} (recall {:.2}%)",
        100.0 * reuse_found as f64 / boxes_all.max(1) as f64
    );
    println!("area given to the detector: {:.1}% of all frames' area; of it, frames where it found text: {:.1}% (precision)",
        100.0 * area_given as f64 / area_all.max(1) as f64, 100.0 * area_useful as f64 / area_given.max(1) as f64);
    println!(
        "detection time: whole frames {:.1} ms/frame, with the pre-pass {:.1} ms/frame ({:.2}×)",
        1e3 * t_whole / frames_n.max(1) as f64,
        1e3 * t_pre / frames_n.max(1) as f64,
        t_whole / t_pre.max(1e-9)
    );
    println!(
        "along the frames (unchanged boxes kept): {:.1} ms/frame ({:.2}× whole frames)",
        1e3 * t_reuse / frames_n.max(1) as f64,
        t_whole / t_reuse.max(1e-9)
    );
    // (a box missed as text is a line the pre-pass boxes cover less than 90% of: on frames the
    // detector scales down, a region's box edges may lie a pixel or two of its input, several frame
    // pixels, off the whole frame's)
    let text: Vec<_> = missed.iter().filter(|(_, t, _)| t.chars().filter(|c| c.is_alphanumeric()).count() >= 2).collect();
    let least = text.iter().map(|(_, _, c)| *c).fold(1.0f64, f64::min);
    println!(
        "missed boxes read as text (2 or more letters or digits): {} of {}{}",
        text.len(),
        missed.len(),
        if text.is_empty() { String::new() } else { format!("; the pre-pass boxes cover each at least {:.0}%", 100.0 * least) }
    );
    for (m, t, c) in missed.iter() {
        println!("missed: {m} read {t:?} (covered {:.0}%)", 100.0 * c);
    }
}
