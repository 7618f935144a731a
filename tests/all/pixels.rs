//! The pixel engine: masking, byte-identical pixels when nothing is masked, write-back per transfer
//! syntax, fail-closed decoding, region rules, and the real OCR models on real files.

use crate::util::*;
use dicom_deid::dicom::{self, Value};
use dicom_deid::pixel::image::{frames, Grey, ImageInfo};
use dicom_deid::pixel::{Reading, Rect, Scale, TextFinder};
use dicom_deid::{ConfigInput, Engine, Key};
use std::sync::{Arc, Once};

/// A stand-in detector for synthetic images: one box around the pixels at the top of the grey range
/// (the "text"), read as a fixed string.
struct Bright(&'static str);

/// The bounding box of the pixels of `img` that `hit` (x, y), as one box (none when no pixel does).
fn bounding_box(img: &Grey, hit: impl Fn(usize, usize) -> bool) -> Vec<Rect> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..img.h {
        for x in 0..img.w {
            if hit(x, y) {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    if x0 == usize::MAX {
        return Vec::new();
    }
    vec![Rect::new(x0 as u32, y0 as u32, (x1 - x0 + 1) as u32, (y1 - y0 + 1) as u32)]
}

impl TextFinder for Bright {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        Ok(bounding_box(img, |x, y| img.get(x, y) == 255))
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole(self.0, r))
    }
}

fn engine_px(policy: &str, finder: Option<Arc<dyn TextFinder>>) -> Engine {
    engine_px_prepass(policy, finder, true)
}

/// With `prepass: false`, every frame goes to the finder whatever it shows (for finders that ignore
/// the pixels).
fn engine_px_prepass(policy: &str, finder: Option<Arc<dyn TextFinder>>, prepass: bool) -> Engine {
    let json = format!(r#"{{"pixels": {{"policy": "{policy}", "prepass": {prepass}}}}}"#);
    let mut e = Engine::new(
        dicom_deid::Config::from_json(&json).unwrap(),
        Key::new(b"k"),
    );
    if let Some(f) = finder {
        e = Ok(e.unwrap().with_text_finder(f));
    }
    e.unwrap()
}

/// A 16-bit MONOCHROME2 image file: background ramp 100..=1099, "text" (value 4000: the outline of
/// `text` and thin strokes inside it every 3 columns and 4 rows, as glyphs have) in each frame (none
/// when `None`).
fn mono16(cols: u16, rows: u16, frames: usize, text: impl Fn(usize) -> Option<Rect>) -> Vec<u8> {
    mono16_with(cols, rows, frames, |f, x, y| {
        let ink = text(f).is_some_and(|r| {
            x >= r.x
                && x < r.right()
                && y >= r.y
                && y < r.bottom()
                && (x == r.right() - 1
                    || y == r.bottom() - 1
                    || (x - r.x) % 3 == 0
                    || (y - r.y) % 4 == 0)
        });
        if ink {
            4000
        } else {
            100 + ((x * 7 + y * 3) % 1000) as u16
        }
    })
}

/// A 16-bit MONOCHROME2 image file with the given value at (frame, x, y).
fn mono16_with(
    cols: u16,
    rows: u16,
    frames: usize,
    value: impl Fn(usize, u32, u32) -> u16,
) -> Vec<u8> {
    let mut px = Vec::new();
    for f in 0..frames {
        for y in 0..rows as u32 {
            for x in 0..cols as u32 {
                px.extend_from_slice(&value(f, x, y).to_le_bytes());
            }
        }
    }
    let mut els = base_elements();
    els.extend([
        E::Raw(0x0028_0002, "US", 1u16.to_le_bytes().to_vec()),
        s(0x0028_0004, "CS", "MONOCHROME2"),
        s(0x0028_0008, "IS", &frames.to_string()),
        E::Raw(0x0028_0010, "US", rows.to_le_bytes().to_vec()),
        E::Raw(0x0028_0011, "US", cols.to_le_bytes().to_vec()),
        E::Raw(0x0028_0100, "US", 16u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0101, "US", 12u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0102, "US", 11u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0103, "US", 0u16.to_le_bytes().to_vec()),
        s(0x0028_0301, "CS", "YES"),
        E::Raw(0x7FE0_0010, "OW", px),
    ]);
    part10(&els)
}

fn pixel_bytes(out: &[u8]) -> Vec<u8> {
    let o = dicom::parse(out).unwrap();
    match &dicom::find(&o.dataset, dicom::PIXEL_DATA).unwrap().value {
        Value::Bytes(b) => b.to_vec(),
        _ => panic!("encapsulated"),
    }
}

/// Whether some pixel of the rectangle `at(f)` of frame `f`, on any of the `frames` of a written
/// 64 × 64 16-bit image ([`mono16_with`]), still holds `text` (the text's value).
fn text_shown(
    out: &[u8],
    frames: std::ops::Range<usize>,
    text: u16,
    at: impl Fn(usize) -> Rect,
) -> bool {
    let b = pixel_bytes(out);
    frames.into_iter().any(|f| {
        let r = at(f);
        (r.y..r.bottom()).any(|y| {
            (r.x..r.right()).any(|x| {
                let i = f * 64 * 64 * 2 + ((y * 64 + x) * 2) as usize;
                u16::from_le_bytes([b[i], b[i + 1]]) == text
            })
        })
    })
}

fn value(out: &[u8], t: u32) -> Option<String> {
    let o = dicom::parse(out).unwrap();
    dicom::find(&o.dataset, t)
        .and_then(dicom::ascii_value)
        .map(str::to_string)
}

fn claims_clean_pixel_data(out: &[u8]) -> bool {
    let o = dicom::parse(out).unwrap();
    match &dicom::find(&o.dataset, 0x0012_0064).unwrap().value {
        Value::Sequence { items, .. } => items.iter().any(|i| {
            dicom::find(&i.elements, 0x0008_0100).and_then(dicom::ascii_value) == Some("113101")
        }),
        _ => false,
    }
}

#[test]
fn phi_text_is_masked_with_the_darkest_value_and_every_other_pixel_is_unchanged() {
    let text = Rect::new(10, 6, 20, 8);
    let input = mono16(64, 32, 1, |_| Some(text));
    let eng = engine_px("phi-only", Some(Arc::new(Bright("Doe John"))));
    let out = eng.process(&input, "a").unwrap();
    let (a, b) = (pixel_bytes(&input), pixel_bytes(&out.bytes));
    // the box, a quarter of its height on at each end (then 8 px from the left edge: taken to it),
    // padded by 3
    let masked = Rect::new(0, 3, 35, 14);
    let mut changed = 0;
    for y in 0..32u32 {
        for x in 0..64u32 {
            let i = ((y * 64 + x) * 2) as usize;
            let inside =
                x >= masked.x && x < masked.right() && y >= masked.y && y < masked.bottom();
            if inside {
                assert_eq!(
                    u16::from_le_bytes([b[i], b[i + 1]]),
                    100,
                    "({x},{y}) not filled with the darkest value"
                );
                changed += 1;
            } else {
                assert_eq!(
                    &a[i..i + 2],
                    &b[i..i + 2],
                    "({x},{y}) changed outside the box"
                );
            }
        }
    }
    assert!(changed > 0);
    let px = out.report.pixel.as_ref().unwrap();
    assert!(px.masked);
    assert_eq!(px.boxes.len(), 1);
    assert_eq!(px.boxes[0].reason, "phi");
    // the report never holds the text read
    let json = serde_json::to_string(&out.report).unwrap();
    assert!(!json.contains("Doe") && !json.contains("John"));
    assert!(claims_clean_pixel_data(&out.bytes));
    assert_eq!(value(&out.bytes, 0x0028_0301).as_deref(), Some("NO"));
}

#[test]
fn no_text_found_leaves_pixel_data_byte_identical() {
    struct Nothing;
    impl TextFinder for Nothing {
        fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
            Ok(Vec::new())
        }
        fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
            Ok(Reading::whole("", r))
        }
    }
    let input = mono16(48, 40, 2, |_| None);
    let eng = engine_px("phi-only", Some(Arc::new(Nothing)));
    let out = eng.process(&input, "a").unwrap();
    assert!(pixel_bytes(&input) == pixel_bytes(&out.bytes));
    let px = out.report.pixel.unwrap();
    assert!(!px.masked && px.boxes.is_empty());
    assert_eq!(px.frames, 2);
    // scanned and nothing found: cleaned (nothing to mask), Burned In Annotation NO
    assert!(claims_clean_pixel_data(&out.bytes));
}

#[test]
fn text_that_is_not_phi_is_left_under_phi_only_and_masked_under_all_text() {
    let input = mono16(64, 32, 1, |_| Some(Rect::new(5, 5, 30, 10)));
    let out = engine_px("phi-only", Some(Arc::new(Bright("AXIAL 5 cm"))))
        .process(&input, "a")
        .unwrap();
    assert!(pixel_bytes(&input) == pixel_bytes(&out.bytes));
    let px = out.report.pixel.as_ref().unwrap();
    assert_eq!(px.boxes[0].reason, "kept");
    // text left in the pixels: Burned In Annotation is not set to NO
    assert_eq!(value(&out.bytes, 0x0028_0301).as_deref(), Some("YES"));
    let out = engine_px("all-text", Some(Arc::new(Bright("AXIAL 5 cm"))))
        .process(&input, "a")
        .unwrap();
    assert!(pixel_bytes(&input) != pixel_bytes(&out.bytes));
    // labels alone stay under all-text
    let out = engine_px("all-text", Some(Arc::new(Bright("5 cm"))))
        .process(&input, "a")
        .unwrap();
    assert!(pixel_bytes(&input) == pixel_bytes(&out.bytes));
}

#[test]
fn dates_ids_and_times_read_from_pixels_are_masked_under_phi_only() {
    for t in [
        "12/03/1967",
        "2011-05-25",
        "14 MAR 1967",
        "12-5ep-1939",
        "20 N0V 2022",
        "PID12345",
        "2: 56:22 PM",
        "John",
        "DOE",
    ] {
        let input = mono16(64, 32, 1, |_| Some(Rect::new(5, 5, 30, 10)));
        let out = engine_px("phi-only", Some(Arc::new(Bright(t))))
            .process(&input, "a")
            .unwrap();
        assert!(out.report.pixel.unwrap().masked, "{t:?} was not masked");
    }
}

#[test]
fn a_cine_whose_text_moves_is_masked_where_the_text_is_on_every_frame() {
    let at = |f: usize| Rect::new(4 + 5 * f as u32, 4 + f as u32, 12, 6);
    let input = mono16(64, 32, 6, |f| Some(at(f)));
    let out = engine_px("phi-only", Some(Arc::new(Bright("Doe"))))
        .process(&input, "a")
        .unwrap();
    let b = pixel_bytes(&out.bytes);
    for f in 0..6usize {
        let r = at(f);
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                let i = f * 64 * 32 * 2 + ((y * 64 + x) * 2) as usize;
                assert_eq!(
                    u16::from_le_bytes([b[i], b[i + 1]]),
                    100,
                    "frame {f} ({x},{y})"
                );
            }
        }
    }
    let px = out.report.pixel.unwrap();
    assert_eq!(px.frames_detected, 6);
    // found once per frame; the boxes of a slowly moving line overlap from frame to frame, so they
    // join into one box over its path, masked on every frame
    assert_eq!(px.boxes.iter().filter(|b| b.frame.is_some()).count(), 6);
    let other: Vec<_> = px.boxes.iter().filter(|b| b.reason == "other-frames").collect();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].frame, None);
    assert!(other[0].x <= at(0).x && other[0].x + other[0].w >= at(5).right(), "{other:?}");
}

#[test]
fn text_found_on_one_frame_of_a_cine_is_masked_on_frames_where_the_detector_misses_it() {
    // frame 1 carries the same text but the detector does not see it there (faint, half on a
    // background of its own colour): the box found on frames 0 and 2 covers it
    let at = Rect::new(6, 5, 24, 8);
    let input = mono16(64, 32, 3, |f| (f != 1).then_some(at));
    let count_masked = |bytes: &[u8], f: usize| {
        let b = pixel_bytes(bytes);
        (at.y..at.bottom())
            .flat_map(|y| (at.x..at.right()).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let i = f * 64 * 32 * 2 + ((y * 64 + x) * 2) as usize;
                u16::from_le_bytes([b[i], b[i + 1]]) == 100
            })
            .count()
    };
    let out = engine_px("phi-only", Some(Arc::new(Bright("Doe"))))
        .process(&input, "a")
        .unwrap();
    assert_eq!(count_masked(&out.bytes, 1), at.area() as usize);
    let px = out.report.pixel.unwrap();
    // frame 2 is frame 0 again (its result reused); frame 1 has no strokes
    assert_eq!(px.frames_detected, 1);
    let other: Vec<_> = px.boxes.iter().filter(|b| b.reason == "other-frames").collect();
    assert_eq!(other.len(), 1, "{:?}", px.boxes);
    assert_eq!(other[0].frame, None);
    // switched off: each frame only its own boxes
    let cfg = dicom_deid::Config::from_json(r#"{"pixels": {"mask_on_every_frame": false}}"#).unwrap();
    let out = Engine::new(cfg, Key::new(b"k"))
        .unwrap()
        .with_text_finder(Arc::new(Bright("Doe")))
        .process(&input, "a")
        .unwrap();
    assert_eq!(count_masked(&out.bytes, 1), 0);
    assert!(out.report.pixel.unwrap().boxes.iter().all(|b| b.frame.is_some()));
}

/// A finder that finds one line on frames `w` pixels wide (nothing in the strips beside a masked
/// line) and counts its readings.
struct OneLine {
    line: Rect,
    w: usize,
    reads: std::sync::atomic::AtomicUsize,
}
impl TextFinder for OneLine {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        Ok(if img.w == self.w { vec![self.line] } else { Vec::new() })
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Reading::whole("Doe", r))
    }
}

#[test]
fn a_line_inside_what_an_earlier_frame_masked_is_not_read_again() {
    // a name that stays put while the image around and under it changes on every frame (no crop
    // repeats, so no reading comes from a cache)
    let line = Rect::new(6, 5, 24, 8);
    let input = mono16_with(64, 32, 4, |f, x, y| {
        let inside = x >= line.x && x < line.right() && y >= line.y && y < line.bottom();
        if inside && ((x - line.x) % 3 == 0 || (y - line.y) % 4 == 0) {
            4000
        } else {
            100 + ((x * 7 + y * 3 + f as u32 * 11) % 1000) as u16
        }
    });
    let run = |every: bool| {
        let finder = Arc::new(OneLine { line, w: 64, reads: Default::default() });
        let json = format!(r#"{{"pixels": {{"prepass": false, "mask_on_every_frame": {every}}}}}"#);
        let out = Engine::new(dicom_deid::Config::from_json(&json).unwrap(), Key::new(b"k"))
            .unwrap()
            .with_text_finder(finder.clone())
            .process(&input, "a")
            .unwrap();
        (finder.reads.load(std::sync::atomic::Ordering::SeqCst), pixel_bytes(&out.bytes))
    };
    // masked on every frame anyway: read on the first frame only
    let (reads, every) = run(true);
    assert_eq!(reads, 1);
    // each frame on its own: read on each, and the same masks
    let (reads, own) = run(false);
    assert_eq!(reads, 4);
    assert!(every == own);
    assert!(every.chunks_exact(2).all(|v| u16::from_le_bytes([v[0], v[1]]) != 4000), "text left");
}

/// An 8-frame cine, 64 × 64: a grid of thin lines moving in the lower half (`moving(f)`: whether it
/// moved since the frame before) and, from frame `text_from` on, "text" inside it.
fn moving_cine(moving: impl Fn(usize) -> bool, text_from: usize, text: Rect) -> Vec<u8> {
    let phase = |f: usize| (1..=f).filter(|&k| moving(k)).count() as u32;
    mono16_with(64, 64, 8, move |f, x, y| {
        let inside = x >= text.x && x < text.right() && y >= text.y && y < text.bottom();
        if (f >= text_from && inside && ((x - text.x) % 3 == 0 || (y - text.y) % 4 == 0))
            || (x, y) == (63, 0)
        {
            4000 // the text, and a still pixel that keeps the grey view's range
        } else if y >= 32 && ((x + 2 * phase(f)) % 5 == 0 || (y + phase(f)) % 4 == 0) {
            3000
        } else {
            100
        }
    })
}

/// [`Bright`] below row 32 only (the grey view's brightest pixels there: text of `moving_cine`).
struct BrightBelow;
impl TextFinder for BrightBelow {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        let below = img.crop(Rect::new(0, 32, img.w as u32, (img.h as u32).saturating_sub(32)));
        let found = Bright("Doe").detect(&below)?;
        Ok(found.into_iter().map(|r| Rect::new(r.x, r.y + 32, r.w, r.h)).collect())
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole("Doe", r))
    }
}

#[test]
fn a_moving_image_is_detected_on_sampled_frames_and_text_that_stays_in_it_is_masked() {
    let text = Rect::new(20, 40, 24, 8);
    let masked_on_every_frame = |out: &[u8]| !text_shown(out, 0..8, 4000, |_| text);
    // the image moves on every frame; the text comes on frame 5 (not sampled) and stays: found on
    // the last frame, masked on all
    let input = moving_cine(|_| true, 5, text);
    let out = engine_px("phi-only", Some(Arc::new(BrightBelow))).process(&input, "a").unwrap();
    assert!(masked_on_every_frame(&out.bytes));
    let px = out.report.pixel.unwrap();
    // frames 0 and 1 (the image has not yet moved twice running), 4 and 7
    assert_eq!(px.frames_detected, 4, "{:?}", px.boxes);
    // the image stops moving on frame 6, after the text came on frame 5: the frames that stay as
    // frame 5 are detected, as a moving image left for later that stopped
    let input = moving_cine(|f| f <= 5, 5, text);
    let out = engine_px("phi-only", Some(Arc::new(BrightBelow))).process(&input, "a").unwrap();
    assert!(masked_on_every_frame(&out.bytes));
    // each frame masking only its own boxes: every frame is detected (none left out)
    let input = moving_cine(|_| true, 5, text);
    let cfg = dicom_deid::Config::from_json(r#"{"pixels": {"mask_on_every_frame": false}}"#).unwrap();
    let out = Engine::new(cfg, Key::new(b"k"))
        .unwrap()
        .with_text_finder(Arc::new(BrightBelow))
        .process(&input, "a")
        .unwrap();
    assert_eq!(out.report.pixel.unwrap().frames_detected, 8);
    assert!(!text_shown(&out.bytes, 5..8, 4000, |_| text), "text left on a frame that carries it");
}

#[test]
fn a_looping_moving_image_is_not_detected_again_where_it_comes_back_on_frames_not_sampled() {
    // 16 frames, a loop of 5: a grid moving in the lower half, and in it "text" that moves with it
    // (1 px a frame), so the text's box is followed and detected again on every frame that is
    // worked out rather than reused
    let at = |f: usize| Rect::new(20 + (f % 5) as u32, 40, 24, 8);
    let input = mono16_with(64, 64, 16, |f, x, y| {
        let phase = (f % 5) as u32;
        let t = at(f);
        let inside = x >= t.x && x < t.right() && y >= t.y && y < t.bottom();
        if (inside && ((x - t.x) % 3 == 0 || (y - t.y) % 4 == 0)) || (x, y) == (63, 0) {
            4000
        } else if y >= 32 && ((x + 2 * phase) % 5 == 0 || (y + phase) % 4 == 0) {
            3000
        } else {
            100
        }
    });
    let out = engine_px("phi-only", Some(Arc::new(BrightBelow))).process(&input, "a").unwrap();
    assert!(!text_shown(&out.bytes, 0..16, 4000, at), "text left on a frame");
    // detected: frames 0-4 (each content once; 2 and 3 leave their moving image for later), 8 and
    // 12 (sampled, showing the content of 3 and 2). Frame 7 shows the content of frame 2 again and is
    // not sampled: reused (it was detected again before: 8 frames)
    let px = out.report.pixel.unwrap();
    assert_eq!(px.frames_detected, 7, "{:?}", px.boxes);
}

#[test]
fn pixel_cleaning_without_models_fails_closed() {
    let input = mono16(16, 16, 1, |_| None);
    let e = engine_px("phi-only", None)
        .process(&input, "a")
        .unwrap_err();
    assert_eq!(e.kind(), "pixels");
    // off: written, not claimed
    let out = engine_px("none", None).process(&input, "a").unwrap();
    assert!(!claims_clean_pixel_data(&out.bytes));
    assert!(out.report.pixel.is_none());
}

#[test]
fn undecodable_pixel_data_fails_closed_unless_passed_on_request() {
    let f = ensure_corpus().join("pydicom-3.0.2/test_files/JPEGLSNearLossless_08.dcm");
    let input = std::fs::read(f).unwrap();
    let eng = engine_px("phi-only", Some(Arc::new(Bright("x"))));
    let e = eng.process(&input, "a").unwrap_err();
    assert_eq!(e.kind(), "pixels_undecodable", "{e}");
    assert!(e.to_string().contains("cannot be decoded"), "{e}");
    let cfg = dicom_deid::Config::from_json(r#"{"pixels": {"undecodable": "pass"}}"#).unwrap();
    let eng = Engine::new(cfg, Key::new(b"k"))
        .unwrap()
        .with_text_finder(Arc::new(Bright("x")));
    let out = eng.process(&input, "a").unwrap();
    assert!(out.report.pixel.as_ref().unwrap().warning.is_some());
    assert!(!claims_clean_pixel_data(&out.bytes));
    assert!(out
        .report
        .notes
        .iter()
        .any(|n| n.contains("not looked for")));
}

fn decoded_frames(bytes: &[u8]) -> (ImageInfo, Vec<Vec<u8>>) {
    let o = dicom::parse(bytes).unwrap();
    let info = ImageInfo::from_dataset(&o.dataset, o.transfer_syntax.big_endian)
        .unwrap()
        .unwrap();
    let px = dicom::find(&o.dataset, dicom::PIXEL_DATA).unwrap();
    let f = frames(px, &info, &o.transfer_syntax.uid).unwrap();
    let v = (0..info.frames)
        .map(|i| f.frame(&info, i).to_vec())
        .collect();
    (info, v)
}

/// The 8-bit grey view of the first frame of a corpus file.
fn first_frame_grey(rel: &str) -> Grey {
    let input = std::fs::read(ensure_corpus().join(rel)).unwrap();
    let o = dicom::parse(&input).unwrap();
    let info = ImageInfo::from_dataset(&o.dataset, o.transfer_syntax.big_endian)
        .unwrap()
        .unwrap();
    let px = dicom::find(&o.dataset, dicom::PIXEL_DATA).unwrap();
    let f = frames(px, &info, &o.transfer_syntax.uid).unwrap();
    f.layout(&info).grey(f.frame(&info, 0), None)
}

/// A finder that reports one fixed box, for real images.
struct Fixed(Rect);
impl TextFinder for Fixed {
    fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
        Ok(vec![self.0])
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole("2011-05-25", r))
    }
}

#[test]
fn masked_rle_is_written_back_as_rle_and_only_the_box_changes() {
    let input = std::fs::read(ensure_corpus().join("pydicom-data-1.0.0/OBXXXX1A_rle.dcm")).unwrap();
    let r = Rect::new(100, 50, 40, 20);
    let out = engine_px("phi-only", Some(Arc::new(Fixed(r))))
        .process(&input, "a")
        .unwrap();
    let o = dicom::parse(&out.bytes).unwrap();
    assert_eq!(o.transfer_syntax.uid, "1.2.840.10008.1.2.5");
    let (info, a) = decoded_frames(&input);
    let (_, b) = decoded_frames(&out.bytes);
    let spp = info.samples as usize;
    let m = Rect::new(92, 47, 56, 26);
    for y in 0..info.rows {
        for x in 0..info.cols {
            let i = (y * info.cols + x) as usize * spp;
            let inside = x >= m.x && x < m.right() && y >= m.y && y < m.bottom();
            if inside {
                assert!(
                    b[0][i..i + spp].iter().all(|&v| v == 0),
                    "({x},{y}) not black"
                );
            } else {
                assert_eq!(a[0][i..i + spp], b[0][i..i + spp], "({x},{y})");
            }
        }
    }
}

#[test]
fn masked_jpeg_is_written_as_explicit_little_endian_and_stays_marked_lossy() {
    let input =
        std::fs::read(ensure_corpus().join("pydicom-3.0.2/test_files/SC_rgb_jpeg_dcmtk.dcm"))
            .unwrap();
    // (colour bars: no strokes, so the pre-pass would not show them to the finder)
    let out = engine_px_prepass("phi-only", Some(Arc::new(Fixed(Rect::new(2, 2, 10, 10)))), false)
        .process(&input, "a")
        .unwrap();
    let o = dicom::parse(&out.bytes).unwrap();
    assert_eq!(o.transfer_syntax.uid, "1.2.840.10008.1.2.1");
    assert_eq!(value(&out.bytes, 0x0028_2110).as_deref(), Some("01"));
    assert_eq!(value(&out.bytes, 0x0028_0004).as_deref(), Some("RGB"));
    assert_eq!(
        out.report.pixel.unwrap().transfer_syntax_out.as_deref(),
        Some("1.2.840.10008.1.2.1")
    );
    // independent check: the output reads again
    dicom_object::from_reader(&out.bytes[128..]).unwrap();
}

/// Masks `r` in a real JPEG 2000 file and checks that the output keeps its transfer syntax and
/// that, decoded, only the (padded) box changed, to one fill value.
fn masked_jpeg_2000_keeps_its_syntax(rel: &str, r: Rect) {
    let input = std::fs::read(ensure_corpus().join(rel)).unwrap();
    let ts_in = dicom::parse(&input).unwrap().transfer_syntax.uid.to_string();
    let out = engine_px_prepass("phi-only", Some(Arc::new(Fixed(r))), false)
        .process(&input, "a")
        .unwrap();
    let o = dicom::parse(&out.bytes).unwrap();
    assert_eq!(o.transfer_syntax.uid, ts_in, "{rel}");
    assert!(matches!(
        dicom::find(&o.dataset, dicom::PIXEL_DATA).unwrap().value,
        Value::Encapsulated { .. }
    ));
    assert!(out.report.pixel.as_ref().unwrap().masked, "{rel}");
    let (info, a) = decoded_frames(&input);
    let (_, b) = decoded_frames(&out.bytes);
    let per_pixel = info.samples as usize * info.bytes_per_sample();
    // the box, a quarter of its height on at each end, padded by 3
    let m = Rect::new(r.x - 3 - r.h / 4, r.y - 3, r.w + 6 + 2 * (r.h / 4), r.h + 6);
    let fill = {
        let i = (m.y * info.cols + m.x) as usize * per_pixel;
        b[0][i..i + per_pixel].to_vec()
    };
    for (fa, fb) in a.iter().zip(&b) {
        for y in 0..info.rows {
            for x in 0..info.cols {
                let i = (y * info.cols + x) as usize * per_pixel;
                if x >= m.x && x < m.right() && y >= m.y && y < m.bottom() {
                    assert_eq!(fb[i..i + per_pixel], fill[..], "{rel} ({x},{y}) not filled");
                } else {
                    assert_eq!(fa[i..i + per_pixel], fb[i..i + per_pixel], "{rel} ({x},{y})");
                }
            }
        }
    }
    // independent check: the output reads again
    dicom_object::from_reader(&out.bytes[128..]).unwrap();
}

#[test]
fn masked_jpeg_2000_stays_jpeg_2000_and_only_the_box_changes() {
    // RGB ultrasound (lossless only), 16-bit CT (lossless only), 16-bit MR (lossy syntax .91)
    masked_jpeg_2000_keeps_its_syntax("pydicom-3.0.2/test_files/examples_jpeg2k.dcm", Rect::new(100, 50, 40, 20));
    masked_jpeg_2000_keeps_its_syntax("pydicom-data-1.0.0/693_J2KR.dcm", Rect::new(60, 400, 120, 30));
    masked_jpeg_2000_keeps_its_syntax("pydicom-data-1.0.0/MR2_J2KI.dcm", Rect::new(800, 20, 100, 40));
}

#[test]
fn region_rules_mask_every_frame_without_ocr() {
    let input = mono16(64, 32, 3, |_| None);
    let cfg = dicom_deid::Config::from_json(r#"{"pixels": {"policy": "none", "regions": [{"x": 0, "y": 0, "w": 64, "h": 4, "modality": "OT"}]}}"#).unwrap();
    let out = Engine::new(cfg, Key::new(b"k"))
        .unwrap()
        .process(&input, "a")
        .unwrap();
    let b = pixel_bytes(&out.bytes);
    for f in 0..3 {
        assert!(b[f * 64 * 32 * 2..f * 64 * 32 * 2 + 64 * 4 * 2]
            .chunks(2)
            .all(|c| u16::from_le_bytes([c[0], c[1]]) == 100));
    }
    // a CTP script in its own format: the rule for another modality does not apply
    let mut ci = ConfigInput::default();
    ci.pixels.policy = dicom_deid::pixel::Policy::None;
    ci.pixels.ctp_script = Some("{ Modality.equals(\"US\") }\n(0,0,10,10)\n".into());
    let out = Engine::new(dicom_deid::Config::validate(ci).unwrap(), Key::new(b"k"))
        .unwrap()
        .process(&input, "a")
        .unwrap();
    assert!(pixel_bytes(&input) == pixel_bytes(&out.bytes));
}

// ---- the real models on real files ----

pub fn ensure_models() -> std::path::PathBuf {
    static ONCE: Once = Once::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ONCE.call_once(|| {
        let st = std::process::Command::new("bash")
            .arg(root.join("scripts/fetch-models"))
            .status()
            .expect("run scripts/fetch-models");
        assert!(st.success(), "scripts/fetch-models failed");
    });
    root.join("models")
}

fn ocr() -> Arc<dicom_deid::ocr::Ocr> {
    static OCR: std::sync::OnceLock<Arc<dicom_deid::ocr::Ocr>> = std::sync::OnceLock::new();
    OCR.get_or_init(|| {
        let d = ensure_models();
        Arc::new(dicom_deid::ocr::Ocr::from_dir(&d).unwrap())
    })
    .clone()
}

#[test]
fn real_ultrasound_banners_lose_their_dates_ids_and_institution_and_keep_their_labels() {
    // (file, minimum number of masked boxes, a region that must be masked: date top right)
    let cases = [
        (
            "pydicom-data-1.0.0/OBXXXX1A.dcm",
            3,
            Rect::new(670, 8, 100, 16),
        ),
        (
            "pydicom-3.0.2/test_files/examples_palette.dcm",
            3,
            Rect::new(670, 8, 100, 16),
        ),
        (
            "pydicom-data-1.0.0/US1_UNCR.dcm",
            2,
            Rect::new(20, 25, 140, 14),
        ),
    ];
    let eng = Engine::new(dicom_deid::Config::default(), Key::new(b"k"))
        .unwrap()
        .with_text_finder(ocr());
    for (f, min_masked, must) in cases {
        let input = std::fs::read(ensure_corpus().join(f)).unwrap();
        let out = eng.process(&input, "a").unwrap();
        let px = out.report.pixel.as_ref().unwrap();
        let masked: Vec<_> = px.boxes.iter().filter(|b| b.masked).collect();
        assert!(
            masked.len() >= min_masked,
            "{f}: {} boxes masked",
            masked.len()
        );
        let covers = masked.iter().any(|b| {
            b.x <= must.x
                && b.y <= must.y
                && b.x + b.w >= must.right()
                && b.y + b.h >= must.bottom()
        });
        assert!(covers, "{f}: {must:?} not masked: {masked:?}");
        // labels ("PWR", "2D", "GE", "LYMPH NODE"...) are left
        assert!(
            px.boxes.iter().filter(|b| !b.masked).count() >= 5,
            "{f}: too little left"
        );
        assert!(claims_clean_pixel_data(&out.bytes));
    }
}

#[test]
fn a_ct_slice_without_burned_in_text_keeps_its_pixel_data_byte_identical() {
    let input =
        std::fs::read(ensure_corpus().join("pydicom-3.0.2/test_files/CT_small.dcm")).unwrap();
    let eng = Engine::new(dicom_deid::Config::default(), Key::new(b"k"))
        .unwrap()
        .with_text_finder(ocr());
    let out = eng.process(&input, "a").unwrap();
    let a = dicom::parse(&input).unwrap();
    let b = dicom::parse(&out.bytes).unwrap();
    assert_eq!(
        dicom::find(&a.dataset, dicom::PIXEL_DATA),
        dicom::find(&b.dataset, dicom::PIXEL_DATA)
    );
    assert!(!out.report.pixel.unwrap().masked);
}

/// A finder that reports one box with the given text.
struct Reads(Rect, &'static str);
impl TextFinder for Reads {
    fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
        Ok(vec![self.0])
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole(self.1, r))
    }
}

#[test]
fn a_garbled_date_is_masked_as_a_long_number_and_measurements_are_kept() {
    let input = std::fs::read(ensure_corpus().join("pydicom-data-1.0.0/OBXXXX1A.dcm")).unwrap();
    let masked = |text: &'static str| {
        let out = engine_px(
            "phi-only",
            Some(Arc::new(Reads(Rect::new(100, 50, 40, 20), text))),
        )
        .process(&input, "a")
        .unwrap();
        out.report.pixel.unwrap().boxes.iter().any(|b| b.masked)
    };
    // "25/08/1948" as the recogniser read it off a busy background
    assert!(masked("25,(08(1.0.4.8"));
    assert!(masked("H7 918104"));
    assert!(!masked("12.34 cm 56.78 cm"));
    assert!(!masked("GAIN 50 DR 60"));
    assert!(!masked("C5-1 PWR 100%"));
}

/// A finder that counts the frames it is given.
struct Counting(std::sync::atomic::AtomicUsize);
impl TextFinder for Counting {
    fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Vec::new())
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole("", r))
    }
}

#[test]
fn a_frame_without_strokes_is_not_given_to_the_detector_unless_the_prepass_is_off() {
    // four frames: flat, a smooth ramp, a wide bright bar (edges, no strokes), and thin strokes in
    // both directions as letters have
    let input = mono16_with(64, 32, 4, |f, x, y| match f {
        0 => 100,
        1 => 100 + 2 * x as u16,
        2 if x > 10 && x < 40 && y > 4 && y < 28 => 4000,
        3 if x > 10 && x < 40 && y > 4 && y < 20 && (x % 3 == 0 || y % 4 == 0) => 4000,
        _ => 100,
    });
    let count = |prepass: bool| {
        let finder = Arc::new(Counting(Default::default()));
        let mut ci = ConfigInput::default();
        ci.pixels.prepass = prepass;
        let out = Engine::new(dicom_deid::Config::validate(ci).unwrap(), Key::new(b"k"))
            .unwrap()
            .with_text_finder(finder.clone())
            .process(&input, "a")
            .unwrap();
        assert!(pixel_bytes(&input) == pixel_bytes(&out.bytes));
        let px = out.report.pixel.unwrap();
        assert_eq!(px.frames, 4);
        (
            finder.0.load(std::sync::atomic::Ordering::SeqCst),
            px.frames_detected,
        )
    };
    assert_eq!(count(true), (1, 1));
    assert_eq!(count(false), (4, 4));
}

#[test]
fn text_in_a_colour_of_its_backgrounds_luminance_is_found_in_a_colour_difference_view() {
    // 8-bit RGB, grey (135,135,135) everywhere except a date drawn in magenta of the same luminance
    // (299·200 + 587·90 + 114·200 = 135 430): the luminance view is flat, the Cb and Cr views are not
    let (cols, rows) = (64u16, 32u16);
    let text = Rect::new(10, 8, 24, 9);
    let mut px = Vec::new();
    for y in 0..rows as u32 {
        for x in 0..cols as u32 {
            let inside = x >= text.x && x < text.right() && y >= text.y && y < text.bottom();
            px.extend_from_slice(if inside { &[200, 90, 200] } else { &[135, 135, 135] });
        }
    }
    let mut els = base_elements();
    els.extend([
        E::Raw(0x0028_0002, "US", 3u16.to_le_bytes().to_vec()),
        s(0x0028_0004, "CS", "RGB"),
        E::Raw(0x0028_0006, "US", 0u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0010, "US", rows.to_le_bytes().to_vec()),
        E::Raw(0x0028_0011, "US", cols.to_le_bytes().to_vec()),
        E::Raw(0x0028_0100, "US", 8u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0101, "US", 8u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0102, "US", 7u16.to_le_bytes().to_vec()),
        E::Raw(0x0028_0103, "US", 0u16.to_le_bytes().to_vec()),
        E::Raw(0x7FE0_0010, "OB", px),
    ]);
    let input = part10(&els);
    let out = engine_px("phi-only", Some(Arc::new(Bright("2011-05-25"))))
        .process(&input, "a")
        .unwrap();
    let px = out.report.pixel.as_ref().unwrap();
    // one box (found in both colour views, read once), masked
    assert_eq!(px.boxes.len(), 1, "{:?}", px.boxes);
    assert!(px.masked && px.boxes[0].masked);
    let b = pixel_bytes(&out.bytes);
    for y in text.y..text.bottom() {
        for x in text.x..text.right() {
            let i = ((y * cols as u32 + x) * 3) as usize;
            assert_eq!(&b[i..i + 3], &[0, 0, 0], "({x},{y}) not masked");
        }
    }
}

/// Finds the bounding box of the pixels at 255 in what it is given, and records the sizes given
/// (except the strips beside a masked line, where it sees nothing: they are looked at for the line's
/// continuation, and their local contrast view has pixels at 255 everywhere).
struct Sizes(std::sync::Mutex<Vec<(usize, usize)>>);
impl TextFinder for Sizes {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        if img.h < 32 {
            return Ok(Vec::new());
        }
        self.0.lock().unwrap().push((img.w, img.h));
        Bright("2011-05-25").detect(img)
    }
    fn read(&self, img: &Grey, r: Rect) -> Result<Reading, String> {
        Bright("2011-05-25").read(img, r)
    }
}

#[test]
fn text_in_a_corner_of_a_large_frame_is_detected_in_a_region_and_masked_where_it_is() {
    let text = Rect::new(400, 440, 60, 12);
    let input = mono16(512, 512, 1, |_| Some(text));
    let sizes = Arc::new(Sizes(Default::default()));
    let out = engine_px("phi-only", Some(sizes.clone()))
        .process(&input, "a")
        .unwrap();
    // one region around the strokes, at least 256 px on its longest side, not the whole frame
    let given = sizes.0.lock().unwrap().clone();
    assert_eq!(given.len(), 1, "{given:?}");
    assert!(given[0].0.max(given[0].1) >= 256 && given[0].0 * given[0].1 <= 512 * 512 / 4, "{given:?}");
    // the box is reported and masked in frame coordinates
    let px = out.report.pixel.unwrap();
    let b = &px.boxes[0];
    assert_eq!((b.x, b.y, b.w, b.h), (394, 437, 72, 18));
    // (this background's sawtooth shows strokes beside the line in its local contrast: they are
    // masked as the line's continuation, on the line and within four line heights of it)
    for c in &px.boxes[1..] {
        assert!(c.y >= 437 && c.y + c.h <= 455 && c.x + c.w >= 394 - 48 && c.x <= 466 + 48, "{c:?}");
    }
    let o = pixel_bytes(&out.bytes);
    let at = |x: u32, y: u32| {
        let i = ((y * 512 + x) * 2) as usize;
        u16::from_le_bytes([o[i], o[i + 1]])
    };
    assert_eq!(at(400, 440), 100);
    assert_eq!(at(459, 451), 100);
    assert_eq!(at(301, 300), 107); // the background elsewhere is untouched
}

/// [`Sizes`] for a detector that scales frames down to 1024 on their longest side: records each
/// image given and the scale it is seen at.
struct Scaled(std::sync::Mutex<Vec<(usize, usize, Scale)>>);
impl TextFinder for Scaled {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        self.detect_at(img, self.scale(img.w, img.h))
    }
    fn scale(&self, w: usize, h: usize) -> Scale {
        let s = dicom_deid::pixel::boxes::det_scale(w, h, 1024);
        Scale { x: s, y: s }
    }
    fn detect_at(&self, img: &Grey, scale: Scale) -> Result<Vec<Rect>, String> {
        if img.h >= 32 {
            self.0.lock().unwrap().push((img.w, img.h, scale));
        }
        Bright("2011-05-25").detect(img)
    }
    fn read(&self, img: &Grey, r: Rect) -> Result<Reading, String> {
        Bright("2011-05-25").read(img, r)
    }
}

#[test]
fn text_on_a_frame_the_detector_scales_down_is_detected_in_a_region_at_the_frames_scale() {
    // a 1600² radiograph-sized frame, seen by the detector at 0.64
    let text = Rect::new(1400, 1500, 60, 12);
    let input = mono16(1600, 1600, 1, |_| Some(text));
    let finder = Arc::new(Scaled(Default::default()));
    let out = engine_px("phi-only", Some(finder.clone()))
        .process(&input, "a")
        .unwrap();
    // one region around the strokes, cut to 256 × 128 as the detector sees it, at the frame's
    // scale; not the whole frame
    let given = finder.0.lock().unwrap().clone();
    assert_eq!(given, vec![(400, 200, Scale { x: 0.64, y: 0.64 })]);
    let px = out.report.pixel.unwrap();
    let b = &px.boxes[0];
    assert!(b.masked && b.x <= 1400 && b.y <= 1500, "{b:?}");
    assert!(b.x + b.w >= 1460 && b.y + b.h >= 1512, "{b:?}");
    let o = pixel_bytes(&out.bytes);
    let at = |x: u32, y: u32| {
        let i = ((y * 1600 + x) * 2) as usize;
        u16::from_le_bytes([o[i], o[i + 1]])
    };
    assert_eq!(at(1400, 1500), 100);
    assert_eq!(at(1459, 1511), 100);
    // the background elsewhere is untouched
    let i = pixel_bytes(&input);
    assert!((0..1600 * 1600 * 2).step_by(2 * 997).all(|k| {
        let (x, y) = ((k / 2 % 1600) as u32, (k / 2 / 1600) as u32);
        o[k..k + 2] == i[k..k + 2] || (b.x..b.x + b.w).contains(&x) && (b.y..b.y + b.h).contains(&y)
    }));
}

#[test]
fn a_line_running_to_the_edge_of_its_region_sends_the_whole_frame_to_the_detector() {
    // strokes only at the left end of a long bright line: the region cut around the strokes ends
    // inside the line, so the box touches the region's edge and the whole frame is detected
    let input = mono16_with(512, 512, 1, |_, x, y| {
        let line = (20..500).contains(&x) && (200..212).contains(&y);
        let strokes = x < 60 && (x % 3 == 0 || y % 4 == 0);
        if line && (strokes || x >= 60) {
            4000
        } else {
            100
        }
    });
    let sizes = Arc::new(Sizes(Default::default()));
    let out = engine_px("phi-only", Some(sizes.clone()))
        .process(&input, "a")
        .unwrap();
    let given = sizes.0.lock().unwrap().clone();
    assert_eq!(given.last(), Some(&(512, 512)), "{given:?}");
    let px = out.report.pixel.unwrap();
    assert_eq!(px.boxes.len(), 1);
    // a quarter of the height on at each end; 9 px from the right edge: taken to it; padded by 3
    assert_eq!((px.boxes[0].x, px.boxes[0].w), (14, 498));
}

#[test]
fn prepass_skips_strokeless_frames_and_cuts_regions_at_the_detector_scale_unless_it_scales_up() {
    use dicom_deid::pixel::prepass::{plan, stroke_tiles, Prepass, Scan};
    const ONE: Scale = Scale::ONE;
    let p = Prepass::default();
    let grey = |w: usize, h: usize, ink: &dyn Fn(usize, usize) -> bool| Grey {
        w,
        h,
        data: (0..w * h)
            .map(|i| if ink(i % w, i / w) { 255 } else { 20 })
            .collect(),
    };
    let letters = |x0: usize, y0: usize| {
        move |x: usize, y: usize| {
            (x0..x0 + 40).contains(&x) && (y0..y0 + 12).contains(&y) && (x % 3 == 0 || y % 4 == 0)
        }
    };
    // flat, a wide block: skipped
    assert_eq!(plan(&grey(512, 512, &|_, _| false), &p, ONE), Scan::Skip);
    assert_eq!(
        plan(&grey(512, 512, &|x, y| (100..300).contains(&x) && (100..300).contains(&y)), &p, ONE),
        Scan::Skip
    );
    // letters in a 512² frame: a region of 256 × 128 (the strokes grown by 48 px inside it)
    let g = grey(512, 512, &letters(30, 30));
    assert!(stroke_tiles(&g, &p).iter().any(|&b| b));
    match plan(&g, &p, ONE) {
        Scan::Regions(r) => {
            assert_eq!(r.len(), 1);
            assert!(r[0].w == 256 && r[0].h == 128 && r[0].x <= 30 && r[0].y <= 30, "{r:?}");
        }
        other => panic!("{other:?}"),
    }
    // two groups of letters whose regions overlap, where one rectangle around both would cost the
    // detector more than the two: two overlapping regions
    let two = |x: usize, y: usize| letters(30, 30)(x, y) || letters(200, 100)(x, y);
    match plan(&grey(512, 512, &two), &p, ONE) {
        Scan::Regions(r) => {
            assert_eq!(r.len(), 2, "{r:?}");
            assert!(r[0].intersects(&r[1]), "{r:?}");
        }
        other => panic!("{other:?}"),
    }
    // small frames (scaled up for the detector): the whole frame
    let up = Scale { x: 1.28, y: 1.28 };
    assert_eq!(plan(&grey(200, 150, &letters(30, 30)), &p, up), Scan::Whole);
    // a large frame the detector sees at 0.64: the region is cut in frame pixels to the sizes the
    // detector sees at scale 1 (256 × 64 there: 400 × 100 here)
    let s = Scale { x: 0.64, y: 0.64 };
    match plan(&grey(1600, 1200, &letters(30, 30)), &p, s) {
        Scan::Regions(r) => {
            assert_eq!(r, vec![Rect::new(0, 0, 400, 100)]);
            assert_eq!(dicom_deid::pixel::boxes::input_size_at(400, 100, s), (256, 64));
        }
        other => panic!("{other:?}"),
    }
    // at scale 0.3 a side of 213 pixels is seen as 64 (63.9), of 853 as 256 (255.9); each axis at
    // its own scale
    let s = Scale { x: 0.3, y: 0.3 };
    match plan(&grey(3400, 3400, &letters(1700, 3000)), &p, s) {
        Scan::Regions(r) => {
            assert_eq!((r.len(), r[0].w, r[0].h), (1, 853, 213), "{r:?}");
            assert_eq!(dicom_deid::pixel::boxes::input_size_at(853, 213, s), (256, 64));
        }
        other => panic!("{other:?}"),
    }
    let s = Scale { x: 0.3, y: 0.6 };
    match plan(&grey(3400, 1700, &letters(1700, 1000)), &p, s) {
        Scan::Regions(r) => {
            assert_eq!((r.len(), r[0].w, r[0].h), (1, 853, 213), "{r:?}");
            assert_eq!(dicom_deid::pixel::boxes::input_size_at(853, 213, s), (256, 128));
        }
        other => panic!("{other:?}"),
    }
}

/// Finds the bounding box of sharp bright pixels (≥ 250 beside a pixel ≤ 128): text on a dark
/// background, not text on a background close to its own value.
struct Contrast;

impl TextFinder for Contrast {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        let mut hits = Vec::new();
        for y in 1..img.h - 1 {
            for x in 1..img.w - 1 {
                let dark = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                    .iter()
                    .any(|&(a, b)| img.get(a, b) <= 128);
                if img.get(x, y) >= 250 && dark {
                    hits.push((x as u32, y as u32));
                }
            }
        }
        let Some(&(x0, _)) = hits.iter().min_by_key(|p| p.0) else {
            return Ok(Vec::new());
        };
        let x1 = hits.iter().map(|p| p.0).max().unwrap();
        let y0 = hits.iter().map(|p| p.1).min().unwrap();
        let y1 = hits.iter().map(|p| p.1).max().unwrap();
        Ok(vec![Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1)])
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        Ok(Reading::whole("Doe", r))
    }
}

#[test]
fn the_rest_of_a_masked_line_over_a_background_close_to_its_value_is_found_and_masked() {
    // "name" on a dark background (x 10..90), then "ID" strokes (x 100..140) over a bright part of
    // the image only 5% darker than the text: the detector's view shows the name only
    let stroke = |x: u32, y: u32| (10..20).contains(&y) && (x % 3 == 0 || y % 4 == 0);
    let input = mono16_with(240, 32, 1, |_, x, y| match x {
        10..=89 if stroke(x, y) => 4000,
        100..=139 if stroke(x, y) => 4000,
        95.. => 3800,
        _ => 100,
    });
    let out = engine_px("phi-only", Some(Arc::new(Contrast)))
        .process(&input, "a")
        .unwrap();
    let b = pixel_bytes(&out.bytes);
    for y in 10..20u32 {
        for x in (10..90).chain(100..140) {
            let i = ((y * 240 + x) * 2) as usize;
            assert_ne!(u16::from_le_bytes([b[i], b[i + 1]]), 4000, "({x},{y}) not masked");
        }
    }
    let px = out.report.pixel.unwrap();
    assert_eq!(px.boxes.iter().filter(|b| b.masked).count(), 2, "{:?}", px.boxes);
}

#[test]
fn local_contrast_makes_text_on_a_background_of_nearly_its_value_sharp() {
    // text 250 on 244 beside a dark part; flat areas stay 0
    let g = Grey {
        w: 40,
        h: 8,
        data: (0..8)
            .flat_map(|_| (0..40u32).map(|x| if x < 10 { 0 } else if x % 4 == 0 { 250 } else { 244 }))
            .collect(),
    };
    let l = g.local_contrast(6, 4);
    assert_eq!(l.get(28, 4), 255);
    assert_eq!(l.get(29, 4), 0);
    assert_eq!(l.get(2, 4), 0);
}

/// A finder with a fast recogniser: one box, read quickly as `fast` with `confidence`, and by the
/// main recogniser as `main` (counted).
struct TwoReaders {
    fast: &'static str,
    confidence: f32,
    main: &'static str,
    main_reads: std::sync::atomic::AtomicUsize,
}
impl TextFinder for TwoReaders {
    fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
        Ok(vec![Rect::new(100, 50, 120, 20)])
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        self.main_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Reading::whole(self.main, r))
    }
    fn read_fast(&self, _: &Grey, r: Rect) -> Result<Option<Reading>, String> {
        Ok(Some(Reading {
            confidence: self.confidence,
            ..Reading::whole(self.fast, r)
        }))
    }
}

#[test]
fn a_fast_reading_stands_only_where_it_is_sure_or_masks_the_whole_line() {
    let input = std::fs::read(ensure_corpus().join("pydicom-data-1.0.0/OBXXXX1A.dcm")).unwrap();
    // (masked, main recogniser used)
    let run = |fast: &'static str, confidence: f32, main: &'static str| {
        let finder = Arc::new(TwoReaders {
            fast,
            confidence,
            main,
            main_reads: Default::default(),
        });
        let out = engine_px_prepass("phi-only", Some(finder.clone()), false)
            .process(&input, "a")
            .unwrap();
        (
            out.report.pixel.unwrap().boxes.iter().any(|b| b.masked),
            finder.main_reads.load(std::sync::atomic::Ordering::SeqCst) > 0,
        )
    };
    // sure and nothing identifying: kept without a second reading
    assert_eq!(run("GAIN 50 DR 60", 0.97, "25/08/1948"), (false, false));
    // not sure (a misread date?): read again, and the main reading decides
    assert_eq!(run("GAIN 50 DR 60", 0.6, "25/08/1948"), (true, true));
    assert_eq!(run("GAIN 5O DR 6O", 0.6, "GAIN 50 DR 60"), (false, true));
    // sure, but a symbol of another script in Latin text: read again
    assert_eq!(run("110語", 0.99, "110/1112"), (true, true));
    // fewer than two letters or digits in these line-shaped boxes: masked whole as unreadable, as
    // when the main recogniser reads nothing, without a second reading
    assert_eq!(run("T", 0.99, "7"), (true, false));
    assert_eq!(run("", 0.2, "25/08/1948"), (true, false));
    // identifying over the whole line: masked whole, however unsure
    assert_eq!(run("25/08/1948", 0.3, "GAIN 50"), (true, false));
    // identifying over part of the line: the main recogniser reads it for the characters' places
    assert_eq!(run("GAIN 50 DR 60 25/08/1948", 0.99, "GAIN 50 DR 60 25/08/1948"), (true, true));
}

#[test]
fn the_preview_draws_the_first_frame_of_every_transfer_syntax_decoded() {
    use dicom_deid::pixel::image::preview;
    // (file, colour)
    for (rel, colour) in [
        ("pydicom-3.0.2/test_files/examples_jpeg2k.dcm", true),     // JPEG 2000, RGB
        ("pydicom-3.0.2/test_files/SC_rgb_jpeg_dcmtk.dcm", true),   // JPEG baseline, YBR
        ("pydicom-3.0.2/test_files/examples_ybr_color.dcm", true),  // native YBR_FULL_422, multi-frame
        ("pydicom-3.0.2/test_files/MR_small_RLE.dcm", false),       // RLE, 16-bit
        ("pydicom-3.0.2/test_files/image_dfl.dcm", false),          // deflated
        ("pydicom-3.0.2/test_files/JPEG2000.dcm", false),           // JPEG 2000, grey
        ("pydicom-3.0.2/test_files/examples_palette.dcm", false),   // palette: shown as the detector sees it
    ] {
        let input = std::fs::read(ensure_corpus().join(rel)).unwrap();
        let o = dicom::parse(&input).unwrap();
        let info = ImageInfo::from_dataset(&o.dataset, o.transfer_syntax.big_endian).unwrap().unwrap();
        let (w, h, rgba) = preview(&input).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!((w, h), (info.cols as usize, info.rows as usize), "{rel}");
        assert_eq!(rgba.len(), w * h * 4, "{rel}");
        let px: Vec<&[u8]> = rgba.chunks(4).collect();
        assert!(px.iter().all(|p| p[3] == 255), "{rel}: opaque");
        let distinct: std::collections::HashSet<&[u8]> = px.iter().copied().collect();
        assert!(distinct.len() > 8, "{rel}: an image, not a flat area");
        let coloured = px.iter().filter(|p| p[0] != p[1] || p[1] != p[2]).count();
        assert_eq!(coloured > 0, colour, "{rel}: colour shown as colour, grey as grey");
    }
    // an uncompressed 8-bit RGB image is shown with its own samples
    let input = corpus_file("pydicom-data-1.0.0/US1_UNCR.dcm");
    let (info, frames) = decoded_frames(&input);
    assert_eq!((info.samples, info.bits_allocated, info.planar), (3, 8, 0));
    let (_, _, rgba) = preview(&input).unwrap();
    let want: Vec<u8> = frames[0].chunks(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect();
    assert_eq!(rgba, want);
    // no image: a reason
    assert!(preview(&corpus_file("pydicom-3.0.2/test_files/rtplan.dcm")).is_err());
}

#[test]
fn a_line_read_again_elsewhere_gets_the_same_reading_at_its_new_place() {
    // each recogniser keeps the readings of the crops it has read (the same banner on the next file
    // of a series is not read again); a kept reading must equal a fresh one, moved to the new box
    let g = first_frame_grey("pydicom-data-1.0.0/US1_UNCR.dcm");
    let dx = 37usize;
    let mut moved = Grey {
        w: g.w + dx,
        h: g.h,
        data: vec![0; (g.w + dx) * g.h],
    };
    for y in 0..g.h {
        moved.data[y * moved.w + dx..(y + 1) * moved.w]
            .copy_from_slice(&g.data[y * g.w..(y + 1) * g.w]);
    }
    let shared = ocr();
    let lines = shared.detect(&g).unwrap();
    assert!(lines.len() >= 5, "{} lines", lines.len());
    let fresh = dicom_deid::ocr::Ocr::from_dir(&ensure_models()).unwrap();
    let mut letters = 0;
    for r in lines {
        let there = Rect::new(r.x + dx as u32, r.y, r.w, r.h);
        let first = shared.read(&g, r).unwrap();
        let again = shared.read(&moved, there).unwrap(); // kept
        let anew = fresh.read(&moved, there).unwrap(); // read
        assert_eq!(again, anew, "{r:?}");
        assert_eq!(first.text, again.text);
        let shifted: Vec<_> = first
            .chars
            .iter()
            .map(|(b, x0, x1)| (b.clone(), x0 + dx as u32, x1 + dx as u32))
            .collect();
        assert_eq!(shifted, again.chars, "{r:?}");
        assert_eq!(
            shared.read_fast(&moved, there).unwrap(),
            fresh.read_fast(&moved, there).unwrap()
        );
        letters += again.text.chars().filter(|c| c.is_alphanumeric()).count();
    }
    assert!(letters >= 20, "{letters} letters read");
}

#[test]
fn plans_sharing_one_symbolic_typing_give_the_same_maps_and_readings_as_plans_built_per_size() {
    // the plans of the detector and of both recognisers are optimised from one model typed and
    // decluttered at a symbolic size (PP-OCRv4's recogniser once its shape casts are widened on
    // load); they must compute what a plan built for the size computes.
    // (The first version made its symbols in a scope of its own, which tripped a debug assertion of
    // tract's proof cache: this test, built without optimisations as CI builds it, caught that.)
    let g = first_frame_grey("pydicom-data-1.0.0/US1_UNCR.dcm");
    let shared = dicom_deid::ocr::Ocr::from_dir(&ensure_models()).unwrap();
    let per_size = dicom_deid::ocr::Ocr::from_dir(&ensure_models())
        .unwrap()
        .with_plans_per_size();
    let mut lines = 0;
    for part in [
        Rect::new(0, 0, g.w as u32, g.h as u32),
        Rect::new(0, 0, 384, 256),
        Rect::new(40, 20, 200, 90), // scaled up for the detector
    ] {
        let img = g.crop(part);
        assert_eq!(shared.probability_map(&img).unwrap(), per_size.probability_map(&img).unwrap());
        for r in shared.detect(&img).unwrap() {
            assert_eq!(shared.read(&img, r).unwrap(), per_size.read(&img, r).unwrap(), "{r:?}");
            assert_eq!(shared.read_fast(&img, r).unwrap(), per_size.read_fast(&img, r).unwrap());
            lines += 1;
        }
    }
    assert!(lines >= 5, "{lines} lines");
    let (a, b) = (shared.stats(), per_size.stats());
    assert_eq!(a.plans_built, b.plans_built);
    assert_eq!((a.plans_shared, b.plans_shared), (a.plans_built, 0), "{a:?}");
}

/// A detector that boxes a tall blob (image structure: a sector, Doppler colour) and two lines, and
/// recognisers that read nothing in any of them (counting the main recogniser's readings).
struct BlobAndLines(std::sync::atomic::AtomicUsize);
impl TextFinder for BlobAndLines {
    fn detect(&self, _: &Grey) -> Result<Vec<Rect>, String> {
        Ok(vec![
            Rect::new(60, 40, 140, 130),
            Rect::new(10, 200, 120, 20),
            Rect::new(150, 200, 90, 18),
        ])
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Reading::whole("", r))
    }
    fn read_fast(&self, _: &Grey, r: Rect) -> Result<Option<Reading>, String> {
        Ok(Some(Reading { confidence: 0.3, ..Reading::whole("", r) }))
    }
}

#[test]
fn a_blob_cut_into_strips_is_not_masked_as_unreadable() {
    // the blob is cut into line-high strips, each shaped like a line of text; what nothing can be
    // read in is masked only where the detector's own box is line-shaped (the two lines)
    let input = mono16(256, 240, 1, |_| None);
    let finder = Arc::new(BlobAndLines(Default::default()));
    let out = engine_px_prepass("phi-only", Some(finder.clone()), false)
        .process(&input, "a")
        .unwrap();
    // nothing in them for the fast recogniser: the lines masked, the strips kept, without a second
    // reading
    assert_eq!(finder.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    let px = pixel_bytes(&out.bytes);
    let at = |x: usize, y: usize| u16::from_le_bytes([px[(y * 256 + x) * 2], px[(y * 256 + x) * 2 + 1]]);
    let was = |x: usize, y: usize| 100 + ((x * 7 + y * 3) % 1000) as u16;
    for (x, y) in [(61, 41), (130, 100), (199, 169), (100, 150)] {
        assert_eq!(at(x, y), was(x, y), "blob pixel ({x}, {y}) changed");
    }
    assert_ne!(at(50, 210), was(50, 210), "the unreadable line is masked");
    assert_ne!(at(200, 208), was(200, 208), "the unreadable line is masked");
    let boxes = out.report.pixel.unwrap().boxes;
    assert_eq!(boxes.iter().filter(|b| b.masked).count(), 2, "{boxes:?}");
}

/// Finds a label's bright strokes (grey 200 and above with such a pixel above or below it: not a
/// lone marker pixel) and reads "cm" there (a label: kept), counting its readings.
struct CountedLabel(std::sync::atomic::AtomicUsize);
impl TextFinder for CountedLabel {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        let ink = |x: usize, y: usize| img.get(x, y) >= 200;
        Ok(bounding_box(img, |x, y| {
            ink(x, y) && ((y > 0 && ink(x, y - 1)) || (y + 1 < img.h && ink(x, y + 1)))
        }))
    }
    fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Reading::whole("cm", r))
    }
}

#[test]
fn a_line_standing_still_over_a_moving_image_is_read_once_and_one_whose_ink_creeps_is_read_again() {
    // a label over an image that moves on every frame; its ink dims by `creep` a frame (100: about
    // 6.5 grey levels, under the 8 that one step of the still-ink check allows)
    let cine = |creep: u16| {
        mono16_with(64, 64, 8, move |f, x, y| {
            let ink = (12..36).contains(&x) && (40..48).contains(&y) && (x - 12) % 4 == 1;
            let grid = y >= 32 && ((x + 2 * f as u32) % 5 == 0 || (y + f as u32) % 4 == 0);
            match (ink, (x, y) == (63, 0), grid) {
                (true, _, _) => 4000 - creep * f as u16,
                (_, true, _) => 4000,
                (_, _, true) => 1500,
                _ => 100,
            }
        })
    };
    let reads = |creep| {
        let finder = Arc::new(CountedLabel(Default::default()));
        let out = engine_px("phi-only", Some(finder.clone())).process(&cine(creep), "a").unwrap();
        let px = out.report.pixel.unwrap();
        (finder.0.load(std::sync::atomic::Ordering::SeqCst), px.frames_detected)
    };
    // still: read on frames 0 and 1 (nothing is held before the image has moved twice), then its
    // decision stands; before it was checked against the pixels it was read in, the sampled frames 4
    // and 7 read it again (4 readings)
    assert_eq!(reads(0), (2, 4));
    // creeping: each frame's step passes, but the ink drifts from where it was read, and the line
    // is read again each time it has moved by more than one step allows (before: only on the
    // sampled frames, 4 readings, whatever the drift in between)
    assert_eq!(reads(100), (5, 4));
}

#[test]
fn text_standing_still_over_a_moving_image_is_not_detected_again_on_every_frame() {
    // a name over an image that moves on every frame (a grid: the ink is 1-px strokes every 4
    // columns); `shift(f)`: how far the name has moved right by frame f
    let cine = |shift: fn(usize) -> u32| {
        mono16_with(64, 64, 8, move |f, x, y| {
            let (tx, ty) = (12 + shift(f), 40);
            let ink = (tx..tx + 24).contains(&x) && (ty..ty + 8).contains(&y) && (x - tx) % 4 == 1;
            let grid = y >= 32 && ((x + 2 * f as u32) % 5 == 0 || (y + f as u32) % 4 == 0);
            match (ink || (x, y) == (63, 0), grid) {
                (true, _) => 4000,
                (false, true) => 3000,
                _ => 100,
            }
        })
    };
    let text_left = |out: &[u8], shift: fn(usize) -> u32| {
        text_shown(out, 0..8, 4000, |f| Rect::new(12 + shift(f), 40, 24, 8))
    };
    // still: the moving image is detected on frames 0, 1, 4 and 7, and the name, whose strokes
    // stay as they were while the image under them changes, is not detected in between
    let still: fn(usize) -> u32 = |_| 0;
    let out = engine_px("phi-only", Some(Arc::new(BrightBelow))).process(&cine(still), "a").unwrap();
    assert!(!text_left(&out.bytes, still));
    assert_eq!(out.report.pixel.unwrap().frames_detected, 4);
    // moving: followed on every frame it moves, and masked where it is on each
    let moving: fn(usize) -> u32 = |f| 2 * f as u32;
    let out = engine_px("phi-only", Some(Arc::new(BrightBelow))).process(&cine(moving), "a").unwrap();
    assert!(!text_left(&out.bytes, moving));
    assert_eq!(out.report.pixel.unwrap().frames_detected, 8);
}
