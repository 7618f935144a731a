//! The pixel engine proper: region rules on the header, text finding per frame, decisions, masking.

use super::image::{self, ImageError, ImageInfo, Palette};
use super::regions;
use super::*;
use crate::dicom::{self as dcm, find, tag, Element, Tag};
use crate::text::{Cleaner, DenyList};
use std::collections::HashMap;

const SEQUENCE_OF_US_REGIONS: Tag = tag(0x0018, 0x6011);

/// Region rules that apply to a data set (evaluated on the original header).
pub fn region_rects(
    cfg: &PixelConfig,
    ds: &[Element<'_>],
    big_endian: bool,
) -> Vec<(Rect, String)> {
    let Ok(Some(info)) = ImageInfo::from_dataset(ds, big_endian) else {
        return Vec::new();
    };
    let get = |t: u32| -> Option<String> {
        if let Some(e) = find(ds, t) {
            return Some(element_text(e, big_endian));
        }
        // the region bounds of the ultrasound regions, every item in order (deid's keepcoordinates)
        if matches!(t, 0x0018_6018 | 0x0018_601A | 0x0018_601C | 0x0018_601E) {
            if let Some(Element {
                value: dcm::Value::Sequence { items, .. },
                ..
            }) = find(ds, SEQUENCE_OF_US_REGIONS)
            {
                let v: Vec<String> = items
                    .iter()
                    .filter_map(|i| find(&i.elements, t).map(|e| element_text(e, big_endian)))
                    .collect();
                return (!v.is_empty()).then(|| v.join("\\"));
            }
        }
        None
    };
    let mut out = regions::matching_rects(&cfg.rules, &get, info.cols, info.rows);
    if cfg.us_outside {
        out.extend(
            outside_us_regions(ds, big_endian, info.cols, info.rows)
                .into_iter()
                .map(|r| (r, "outside-ultrasound-region".to_string())),
        );
    }
    out
}

/// An element's value as text for region rule conditions: numbers of binary VRs in decimal, strings
/// trimmed, a sequence as the empty string (present).
fn element_text(e: &Element<'_>, big_endian: bool) -> String {
    let Some(b) = e.bytes() else {
        return String::new();
    };
    let n2 = |c: &[u8]| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    };
    let n4 = |c: &[u8]| {
        if big_endian {
            u32::from_be_bytes([c[0], c[1], c[2], c[3]])
        } else {
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        }
    };
    let vals: Vec<String> = match e.vr {
        dcm::Vr::US => b.chunks_exact(2).map(|c| n2(c).to_string()).collect(),
        dcm::Vr::SS => b
            .chunks_exact(2)
            .map(|c| (n2(c) as i16).to_string())
            .collect(),
        dcm::Vr::UL => b.chunks_exact(4).map(|c| n4(c).to_string()).collect(),
        dcm::Vr::SL => b
            .chunks_exact(4)
            .map(|c| (n4(c) as i32).to_string())
            .collect(),
        _ => {
            return String::from_utf8_lossy(dcm::trim_str_bytes(b))
                .trim()
                .to_string()
        }
    };
    vals.join("\\")
}

/// Rectangles covering everything outside the Sequence of Ultrasound Regions (nothing if absent).
fn outside_us_regions(ds: &[Element<'_>], big_endian: bool, cols: u32, rows: u32) -> Vec<Rect> {
    let Some(Element {
        value: dcm::Value::Sequence { items, .. },
        ..
    }) = find(ds, SEQUENCE_OF_US_REGIONS)
    else {
        return Vec::new();
    };
    let ul = |els: &[Element<'_>], e: u16| -> Option<u32> {
        let b = find(els, tag(0x0018, e))?.bytes()?;
        let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let keep: Vec<Rect> = items
        .iter()
        .filter_map(|i| {
            let (x0, y0, x1, y1) = (
                ul(&i.elements, 0x6018)?,
                ul(&i.elements, 0x601A)?,
                ul(&i.elements, 0x601C)?,
                ul(&i.elements, 0x601E)?,
            );
            (x1 >= x0 && y1 >= y0).then(|| Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1))
        })
        .collect();
    if keep.is_empty() {
        return Vec::new();
    }
    // per row, the complement of the kept intervals
    let mut out = Vec::new();
    for y in 0..rows {
        let mut iv: Vec<(u32, u32)> = keep
            .iter()
            .filter(|r| r.y <= y && y < r.bottom())
            .map(|r| (r.x.min(cols), r.right().min(cols)))
            .collect();
        iv.sort();
        let mut x = 0;
        for (a, b) in iv {
            if a > x {
                out.push(Rect::new(x, y, a - x, 1));
            }
            x = x.max(b);
        }
        if x < cols {
            out.push(Rect::new(x, y, cols - x, 1));
        }
    }
    out
}

/// Labels that `all-text` leaves: orientation letters, units, measurements, common settings.
fn is_label(text: &str, extra: &[String]) -> bool {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^(?:[LRAPHFSI]|[LRAPHFSI]{2}|\d+(?:[.,]\d+)?\s*(?:%|cm|mm|m|s|ms|hz|khz|mhz|db|cm/s|m/s|bpm|fps|deg|°)?|(?:gain|dr|fr|tis|tib|mi|ch|pwr|frq|freq|depth|zoom|dyn|map|ps|res|gen|pen|wl|ww|wc|kv|kvp|ma|mas|slice|thk|fov|tr|te|ti)\s*[:=]?\s*-?\d*(?:[.,]\d+)?\s*(?:%|cm|mm|s|ms|hz|khz|mhz|db)?)$",
        )
        .expect("valid label pattern")
    });
    let t = text.trim();
    t.is_empty()
        || extra.iter().any(|a| a.eq_ignore_ascii_case(t))
        || t.split_whitespace().all(|w| re.is_match(w))
        || re.is_match(t)
}

/// The other common OCR confusion: digits inside words ("N0V", "5ep", "0ct") read as the letters
/// they resemble, in tokens of at least two letters and one digit. Byte offsets are kept.
pub fn letters_ocr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for tok in text.split_inclusive(|c: char| !c.is_alphanumeric()) {
        let letters = tok.chars().filter(|c| c.is_alphabetic()).count();
        let digits = tok.chars().filter(|c| c.is_ascii_digit()).count();
        if letters >= 2 && digits == 1 {
            out.extend(tok.chars().map(|c| match c {
                '0' => 'O',
                '5' => 'S',
                '1' => 'l',
                '8' => 'B',
                '6' => 'G',
                _ => c,
            }));
        } else {
            out.push_str(tok);
        }
    }
    out
}

/// Dates as OCR reads them: run together with other text, no word boundaries needed.
fn loose_dates(t: &str) -> Vec<std::ops::Range<usize>> {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(?:19|20)[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.](?:19|20)?[0-9]{2}|[0-9]{1,2}[-/. ]?(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[-/. ]?(?:19|20)?[0-9]{2}|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? ?[0-9]{1,2},? (?:19|20)[0-9]{2}").unwrap()
    });
    re.find_iter(t).map(|m| m.range()).collect()
}

/// Reads OCR text as the deny-list expects: letters O/I/l next to digits become 0/1.
pub fn normalise_ocr(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let digitish = |i: usize| c.get(i).is_some_and(|ch| ch.is_ascii_digit());
    c.iter()
        .enumerate()
        .map(|(i, &ch)| match ch {
            'O' | 'o' if (i > 0 && digitish(i - 1)) || digitish(i + 1) => '0',
            'I' | 'l' | '|' if (i > 0 && digitish(i - 1)) || digitish(i + 1) => '1',
            _ => ch,
        })
        .collect()
}

/// The decision for one text line: `Some((reason, byte ranges of the text to mask))`; an empty list
/// of ranges means the whole box.
pub fn decide(
    policy: Policy,
    text: &str,
    cleaner: &Cleaner,
    deny: &DenyList,
    allow: &[String],
) -> Option<(&'static str, Vec<std::ops::Range<usize>>)> {
    let alnum = text.chars().filter(|c| c.is_alphanumeric()).count();
    match policy {
        Policy::None => None,
        Policy::AllText => {
            if is_label(text, allow) {
                None
            } else {
                Some(("text", Vec::new()))
            }
        }
        Policy::PhiOnly => {
            if alnum == 0 {
                // something text-like the recogniser could not read: it may be a name
                return Some(("unreadable", Vec::new()));
            }
            // OCR confuses O/0 and I/1 next to digits; the replacements keep byte offsets
            let n = normalise_ocr(text);
            let l = letters_ocr(text);
            let mut ranges = cleaner.find_phi(text, deny);
            if n != text {
                ranges.extend(cleaner.find_phi(&n, deny));
            }
            if l != text {
                ranges.extend(cleaner.find_phi(&l, deny));
                ranges.extend(loose_dates(&l));
            }
            ranges.extend(loose_dates(&n));
            ranges.extend(times(&n));
            if !ranges.is_empty() {
                return Some(("phi", grow_to_words(text, &ranges, allow)));
            }
            // identifying words or identifiers run together or split by OCR
            if deny.squeezed_hit(&n) {
                return Some(("phi", Vec::new()));
            }
            // a line that is mostly a long number (a date or an ID the recogniser garbled: separators
            // read as other signs, digits as letters) and not a measurement or label
            let digits = n.chars().filter(|c| c.is_ascii_digit()).count();
            if digits >= 6 && digits * 10 >= alnum * 7 && !is_label(text, allow) {
                return Some(("id-like", Vec::new()));
            }
            None
        }
    }
}

/// Widens identifying ranges to whole words, and to the neighbouring words of the line that are not
/// labels ("WESTBROOK RADIOLOGY": a hit on the first word takes the second; "DR 60" beside a date
/// stays).
fn grow_to_words(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    allow: &[String],
) -> Vec<std::ops::Range<usize>> {
    let words: Vec<std::ops::Range<usize>> = {
        let mut v = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    v.push(s..i);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            v.push(s..text.len());
        }
        v
    };
    let mut hit: Vec<bool> = words
        .iter()
        .map(|w| ranges.iter().any(|r| r.start < w.end && w.start < r.end))
        .collect();
    let label: Vec<bool> = words
        .iter()
        .map(|w| is_label(&text[w.clone()], allow))
        .collect();
    loop {
        let mut changed = false;
        for i in 0..words.len() {
            if !hit[i]
                && !label[i]
                && ((i > 0 && hit[i - 1]) || (i + 1 < words.len() && hit[i + 1]))
            {
                hit[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out: Vec<std::ops::Range<usize>> = words
        .iter()
        .zip(&hit)
        .filter(|(_, h)| **h)
        .map(|(w, _)| w.clone())
        .collect();
    // ranges that fall outside words (none in practice) are kept as they are
    out.extend(
        ranges
            .iter()
            .filter(|r| !words.iter().any(|w| r.start < w.end && w.start < r.end))
            .cloned(),
    );
    out
}

/// Clock times (hh:mm, hh:mm:ss, hh.mm.ss) in text read from pixels.
fn times(t: &str) -> Vec<std::ops::Range<usize>> {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"(?:^|[^0-9.])((?:[01]?[0-9]|2[0-3])(?: ?: ?[0-5][0-9](?: ?: ?[0-5][0-9])?|\.[0-5][0-9]\.[0-5][0-9]))(?:$|[^0-9])").unwrap());
    re.captures_iter(t)
        .filter_map(|c| c.get(1))
        .map(|m| m.range())
        .collect()
}

/// The identity of some bytes (a frame's samples, a crop of a view), for reuse across frames.
fn frame_key(data: &[u8]) -> u64 {
    crate::pixel::content_hash(data, 0)
}

/// Cleans the pixel data of a data set in place. `regions` come from [`region_rects`] (on the
/// original header). Returns the report and the transfer syntax to write.
#[allow(clippy::too_many_arguments)]
pub fn clean(
    ds: &mut Vec<Element<'_>>,
    ts_uid: &str,
    big_endian: bool,
    cfg: &PixelConfig,
    finder: Option<&dyn TextFinder>,
    regions: &[(Rect, String)],
    cleaner: &Cleaner,
    deny: &DenyList,
) -> Result<Option<(PixelReport, String)>, PixelError> {
    let info = match ImageInfo::from_dataset(ds, big_endian) {
        Ok(Some(i)) => i,
        Ok(None) => return Ok(None),
        Err(e) => return undecodable(cfg, e),
    };
    if cfg.policy != Policy::None && finder.is_none() {
        return Err(PixelError::NoModels);
    }
    let Some(pixel) = find(ds, dcm::PIXEL_DATA) else {
        return Ok(None);
    };
    let mut frames = match image::frames(pixel, &info, ts_uid) {
        Ok(f) => f,
        Err(e) => return undecodable(cfg, e),
    };
    let palette = if info.photometric == "PALETTE COLOR" {
        Palette::from_dataset(ds, big_endian)
    } else {
        None
    };
    let mut report = PixelReport {
        policy: cfg.policy.as_str(),
        frames: info.frames,
        ..Default::default()
    };
    for (r, label) in regions {
        report.boxes.push(BoxRecord::new(None, *r, format!("region:{label}"), true));
    }
    if regions.iter().any(|(l, _)| l.w > 0)
        && regions
            .iter()
            .all(|(_, l)| l == "outside-ultrasound-region")
    {
        // the per-row complement is many boxes; report it once
        let n = report.boxes.len();
        report
            .boxes
            .retain(|b| b.reason != "region:outside-ultrasound-region");
        if n != report.boxes.len() {
            report.boxes.push(BoxRecord::new(
                None,
                Rect::new(0, 0, info.cols, info.rows),
                "outside-ultrasound-region",
                true,
            ));
        }
    }
    // per frame: text boxes to mask
    let mut per_frame: Vec<Vec<Rect>> = vec![Vec::new(); info.frames as usize];
    if let (Some(finder), true) = (finder, cfg.policy != Policy::None) {
        // (reason, boxes to mask, the text read: kept in memory only, to judge a continuation)
        type Decision = (Option<&'static str>, Vec<Rect>, String);
        type Found = Vec<(Rect, Option<&'static str>, Vec<Rect>)>;
        // frame content → its boxes and decisions, and whether the detector saw all of it (false: a
        // moving image in it was left to a later, sampled frame)
        let mut seen: HashMap<u64, (Found, bool)> = HashMap::new();
        // the content of the frame before
        let mut prev_key: Option<u64> = None;
        // (view, box, the detector's box it was cut from, crop identity) → decision
        let mut read_cache: HashMap<(usize, Rect, Rect, u64), Decision> = HashMap::new();
        // (box, strips' identity) → continuation boxes
        let mut cont_cache: HashMap<(Rect, u64), Vec<Rect>> = HashMap::new();
        // the luminance view and boxes of the frame detected last (what did not change is kept)
        let mut last: Option<(Grey, Vec<Rect>)> = None;
        // what earlier frames masked from their readings (padded as masked), with the reason and the
        // line's text: with masks on every frame, a line found inside one of these is masked whatever
        // it reads, so it is not read again (it still gets the continuation check and the edges)
        let mut masked_before: Vec<(Rect, &'static str, String)> = Vec::new();
        let skip_masked = cfg.mask_on_every_frame && info.frames > 1;
        // the tiles that changed between the last two frames detected
        let mut last_changed: Option<Vec<bool>> = None;
        // the tiles whose changes were left to a later frame (not yet seen by the detector)
        let mut pending: Vec<bool> = Vec::new();
        // the decisions on the luminance lines of the frame detected last (by line and the box it
        // was cut from), each with the line's pixels where it was read: a line whose text stood
        // still ([`FrameBoxes::held`]) since the frame before, and since that reading, takes its
        // decision again
        let mut last_decided: HashMap<(Rect, Rect), (Decision, Grey)> = HashMap::new();
        let tile = prepass::Prepass::default().tile;
        for f in 0..info.frames {
            let layout = frames.layout(&info);
            let samples = frames.frame(&info, f);
            let key = frame_key(samples);
            let sampled = f % prepass::SAMPLE == 0 || f + 1 == info.frames;
            // the same pixels as the frame before (the image stopped)
            let stopped = prev_key.replace(key) == Some(key);
            let found = match seen.get(&key) {
                // the same pixels as an earlier frame: its boxes and decisions. An earlier frame
                // whose moving image was left for later only where it comes back in a loop on a
                // frame that is not sampled (that frame would leave it too); a sampled frame detects
                // it, and so does the frame after it where the image stopped
                Some((v, whole)) if *whole || (!sampled && !stopped) => v.clone(),
                _ => {
                    // the luminance view, then the colour-difference views of a colour frame
                    let views = layout.views(samples, palette.as_ref(), true);
                    let prev = last.as_ref().map(|(g, b)| (g, b.as_slice()));
                    // a moving image (what changed now and in the step before) is left to sampled
                    // frames; what was left before and stopped moving is detected now
                    let changed = prev.map(|(pg, _)| prepass::changed_tiles(&views[0], pg, tile));
                    let mut fresh: Option<Vec<bool>> = None;
                    match (&changed, &last_changed) {
                        // only where what one frame masks is masked on all (else a frame left
                        // out would keep its text)
                        (Some(c), Some(pc))
                            if cfg.prepass && cfg.mask_on_every_frame && pending.len() == c.len() =>
                        {
                            let size = (views[0].w, views[0].h);
                            let deferred = prepass::deferred_tiles(c, pc, sampled, size, tile);
                            let now = (0..c.len()).map(|i| (c[i] || pending[i]) && !deferred[i]);
                            fresh = Some(now.collect());
                            pending = deferred;
                        }
                        _ => pending = vec![false; changed.as_ref().map_or(0, Vec::len)],
                    }
                    let series = changed.as_deref().zip(fresh.as_deref());
                    let found = detect_series_frame(finder, &views, cfg.prepass, prev, series)?;
                    last_changed = changed;
                    if info.frames > 1 {
                        let luma = found.boxes.iter().filter(|(v, _)| *v == 0);
                        last = Some((views[0].clone(), luma.map(|(_, b)| *b).collect()));
                    }
                    if found.detected {
                        report.frames_detected += 1;
                    }
                    let mut boxes = Vec::with_capacity(found.boxes.len());
                    for vi in 0..views.len() {
                        let of_view = found.boxes.iter().filter(|(v, _)| *v == vi).map(|(_, b)| *b);
                        let strips = split_tall(of_view.collect()).into_iter();
                        boxes.extend(strips.map(|(b, from)| (vi, b, from)));
                    }
                    let mut v = Vec::with_capacity(boxes.len());
                    let mut tracked: Vec<Rect> = Vec::new();
                    let known: Vec<Rect> = boxes.iter().map(|(_, o, _)| *o).collect();
                    let mut decided: HashMap<(Rect, Rect), (Decision, Grey)> = HashMap::new();
                    for (vi, b, from) in boxes {
                        let g = &views[vi];
                        let crop = g.crop(b);
                        // (checked against the reading too, so that no change creeps in frame by
                        // frame under the tolerance of each step)
                        let at = Rect::new(0, 0, b.w, b.h);
                        let again = (vi == 0 && found.held.contains(&from))
                            .then(|| last_decided.get(&(b, from)))
                            .flatten()
                            .filter(|(_, read)| prepass::ink_held(read, &crop, at));
                        let (d, parts, text) = match again {
                            // the same text in the same place: the same decision, parts and all
                            // (its run-on and edges included, its masks among earlier frames')
                            Some((d, _)) => d.clone(),
                            None => {
                                let ck = frame_key(&crop.data);
                                let earlier = masked_before
                                    .iter()
                                    .find(|(m, _, _)| skip_masked && m.intersect(b) == Some(b));
                                let cached = read_cache.get(&(vi, b, from, ck));
                                let (d, parts, text) = match (cached, earlier) {
                                    (Some(d), _) => d.clone(),
                                    // as a reading that masks the whole line gives it
                                    (None, Some((_, reason, text))) => {
                                        (Some(*reason), vec![ends(b, g.w)], text.clone())
                                    }
                                    (None, None) => {
                                        let v = read_line(finder, g, b, from, |t| {
                                            decide(cfg.policy, t, cleaner, deny, &cfg.allow)
                                        })?;
                                        read_cache.insert((vi, b, from, ck), v.clone());
                                        v
                                    }
                                };
                                // a masked line whose text runs on over a part of the image close
                                // to the text's own value (a banner half over bright anatomy): the
                                // rest of the word
                                let parts = if d.is_some() {
                                    let mut p = parts;
                                    let line = Line { rect: b, text: &text };
                                    let cc = &mut cont_cache;
                                    p.extend(continuation(finder, g, &line, &known, cc, |t| {
                                        decide(cfg.policy, t, cleaner, deny, &cfg.allow)
                                            .is_some_and(|(r, _)| r != "unreadable")
                                    })?);
                                    to_the_edges(&mut p, b, g.w as u32);
                                    p
                                } else {
                                    parts
                                };
                                if let (true, Some(reason)) = (skip_masked, d) {
                                    for p in &parts {
                                        let padded = boxes::pad(*p, 3, info.cols, info.rows);
                                        let held = |m: &Rect| m.intersect(padded) == Some(padded);
                                        if !masked_before.iter().any(|(m, _, _)| held(m)) {
                                            masked_before.push((padded, reason, text.clone()));
                                        }
                                    }
                                }
                                (d, parts, text)
                            }
                        };
                        // followed to the next frame: lines masked or read as two letters or
                        // digits at least (not the image structure the detector fires on)
                        let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
                        if vi == 0 && (d.is_some() || letters >= 2) {
                            tracked.push(b);
                        }
                        if vi == 0 {
                            let read = match again {
                                Some((_, read)) => read.clone(),
                                None => crop,
                            };
                            decided.insert((b, from), ((d, parts.clone(), text), read));
                        }
                        v.push((b, d, parts));
                    }
                    last_decided = decided;
                    // (a tall box the reading split in lines is followed when one of them is)
                    if let Some((_, lb)) = last.as_mut() {
                        lb.retain(|b| tracked.iter().any(|t| b.intersect(*t) == Some(*t)));
                    }
                    seen.insert(key, (v.clone(), !pending.iter().any(|&p| p)));
                    v
                }
            };
            for (b, d, parts) in found {
                if d.is_none() {
                    report.boxes.push(BoxRecord::new(Some(f), b, "kept", false));
                }
                for p in parts {
                    let padded = boxes::pad(p, 3, info.cols, info.rows);
                    report.boxes.push(BoxRecord::new(Some(f), padded, d.unwrap_or("kept"), true));
                    per_frame[f as usize].push(padded);
                }
            }
        }
    }
    if cfg.mask_on_every_frame && per_frame.len() > 1 {
        // what was masked on some frame is masked on all: one set of boxes for the image
        let all = boxes::union_across_frames(per_frame.iter().flatten().copied());
        for r in all {
            let mut added = false;
            for v in per_frame.iter_mut() {
                if !v.iter().any(|o| o.intersect(r) == Some(r)) {
                    v.push(r);
                    added = true;
                }
            }
            if added {
                report.boxes.push(BoxRecord::new(None, r, "other-frames", true));
            }
        }
    }
    let any = !regions.is_empty() || per_frame.iter().any(|v| !v.is_empty());
    if !any {
        return Ok(Some((report, ts_uid.to_string())));
    }
    for f in 0..info.frames {
        let rects: Vec<Rect> = regions
            .iter()
            .map(|(r, _)| *r)
            .chain(per_frame[f as usize].iter().copied())
            .collect();
        if !rects.is_empty() {
            frames.mask_frame(&info, f, &rects, palette.as_ref());
        }
    }
    report.masked = true;
    let out_ts = image::write_back(ds, &info, frames, ts_uid);
    if out_ts != ts_uid {
        report.transfer_syntax_out = Some(out_ts.clone());
    }
    Ok(Some((report, out_ts)))
}

/// How sure the fast recogniser must be of a reading that holds nothing identifying for it to stand
/// (the lowest step probability, [`crate::pixel::Reading::confidence`]); below, the line is read
/// again with the main recogniser.
const FAST_SURE: f32 = 0.9;

/// Reads the text line `b` of view `g` and decides on it: the reason to mask (`None`: kept), the
/// parts of the box to mask, and the text read (kept in memory only, for the continuation check).
///
/// With a fast recogniser ([`TextFinder::read_fast`]), its reading stands when it cannot hide a
/// leak: when the decision masks the whole box, or when nothing identifying is found in two or more
/// Latin letters or digits and the recogniser is sure of every step ([`FAST_SURE`]). Otherwise
/// (partial masks need exact character positions; a doubtful reading may be a misread name) the
/// main recogniser reads the line and decides.
///
/// `from`: the detector's box `b` comes from (`b` itself, or the box it is a strip of). Only where
/// that box has the shape of a line of text ([`line_shaped`]) is a line nothing can be read in
/// masked.
fn read_line<'d>(
    finder: &dyn TextFinder,
    g: &Grey,
    b: Rect,
    from: Rect,
    decide: impl Fn(&str) -> Option<(&'d str, Vec<std::ops::Range<usize>>)>,
) -> Result<(Option<&'d str>, Vec<Rect>, String), PixelError> {
    let line = line_shaped(from);
    // what the recogniser cannot read is masked only when the detector saw the shape of a line of
    // text (a name is long and flat); blobs of image structure it fires on (Doppler colour, speckle,
    // a sector's edge), and the strips a blob is cut into, stay
    let decide_line = |text: &str| {
        let d = decide(text);
        if matches!(&d, Some(("unreadable", _))) && !line {
            None
        } else {
            d
        }
    };
    // mask the identifying part of a line (labels beside it stay); most of the line: the whole box
    let whole = |d: &Option<(&str, Vec<std::ops::Range<usize>>)>, len: usize| match d {
        Some((_, r)) => r.is_empty() || r.iter().map(|r| r.len()).sum::<usize>() * 10 >= len * 6,
        None => false,
    };
    if let Some(fast) = finder.read_fast(g, b).map_err(PixelError::Ocr)? {
        let d = decide_line(&fast.text);
        if whole(&d, fast.text.len()) && !matches!(&d, Some(("unreadable", _))) {
            return Ok((d.map(|x| x.0), vec![ends(b, g.w)], fast.text));
        }
        // two letters or digits at least, and Latin script: a symbol from another script in what the
        // fast recogniser reads off Latin text is a misreading ("膜PLA", "110語" for a date)
        let letters = fast.text.chars().filter(|c| c.is_alphanumeric()).count();
        let latin = fast
            .text
            .chars()
            .all(|c| (c as u32) < 0x250 || "²³°µ±×÷".contains(c));
        if d.is_none() && letters >= 2 && latin && fast.confidence >= FAST_SURE {
            return Ok((None, Vec::new(), fast.text));
        }
        // a line the fast recogniser finds less than two letters or digits in: the whole line is
        // masked as unreadable without a second reading. On the real registry files the main
        // recogniser read nothing in 142 of 150 such lines (the same decision) and one letter or
        // garble in the other 8 (which it kept); masking them costs a little image structure and
        // saves ~30 ms a line (4.4 s of 46 s over the real files)
        if letters < 2 && line {
            return Ok((Some("unreadable"), vec![ends(b, g.w)], fast.text));
        }
        // a strip cut from a blob (not line-shaped) with as little in it is image structure, kept
        // without a second reading: on the real files the main recogniser read nothing or one
        // letter in such strips (in 150 of 150 line-shaped ones; ~2.6 s over the real files)
        if letters < 2 && b != from {
            return Ok((None, Vec::new(), fast.text));
        }
    }
    let reading = finder.read(g, b).map_err(PixelError::Ocr)?;
    let d = decide_line(&reading.text);
    // partial masks get a margin of half the line height for the characters' edges
    let parts = match &d {
        Some(_) if whole(&d, reading.text.len()) => vec![ends(b, g.w)],
        Some((_, ranges)) => ranges.iter().map(|r| reading.sub_rect(b, r, b.h)).collect(),
        None => Vec::new(),
    };
    Ok((d.map(|x| x.0), parts, reading.text))
}

/// The shape of a line of text: long and flat (a name is), not a blob of image structure.
fn line_shaped(b: Rect) -> bool {
    b.w >= 3 * b.h && b.h <= 60
}

/// Masks of a line that end within one line height of the frame's left or right edge are taken to
/// that edge: text that starts at the border of the image is often cut there by the detector (its
/// first letter on a background close to its own value), and the sliver between the text and the
/// border holds nothing to keep.
fn to_the_edges(parts: &mut [Rect], line: Rect, width: u32) {
    for r in parts.iter_mut() {
        if r.x <= line.h {
            r.w += r.x;
            r.x = 0;
        }
        if width.saturating_sub(r.right()) <= line.h {
            r.w = width - r.x;
        }
    }
}

/// How far (pixels) the stroke tiles of a strip beside a line run on from the line's side of it
/// (the strip's right end when `left`, else its left end): whole tile columns holding a stroke
/// tile, from the one touching the line. `None` when the first column holds none, or the run is
/// longer than `max` or reaches the strip's far end (image texture, not the end of a word).
fn strokes_touching(tiles: &[bool], w: usize, tile: usize, left: bool, max: usize) -> Option<usize> {
    strokes_from(tiles, w, tile, left, 0, max)
}

/// [`strokes_touching`] from `from` pixels into the strip (counted from the line's side): how far,
/// from there, the stroke tiles run on (from the tile column holding the pixel at `from`).
fn strokes_from(tiles: &[bool], w: usize, tile: usize, left: bool, from: usize, max: usize) -> Option<usize> {
    let tw = w.div_ceil(tile);
    if tw == 0 || from >= w {
        return None;
    }
    let th = tiles.len() / tw;
    let has = |c: usize| (0..th).any(|r| tiles[r * tw + c]);
    // the local x of the pixel at `from`, its column, and the columns walked away from the line
    let x = if left { w - 1 - from } else { from };
    let c0 = x / tile;
    let run = if left {
        (0..=c0).rev().take_while(|&c| has(c)).count()
    } else {
        (c0..tw).take_while(|&c| has(c)).count()
    };
    let reaches_end = if left { run == c0 + 1 } else { c0 + run == tw };
    if run == 0 || reaches_end {
        return None;
    }
    // pixels from `from` to the run's far end
    let px = if left {
        x + 1 - (c0 + 1 - run) * tile
    } else {
        ((c0 + run) * tile).min(w) - from
    };
    (px <= max).then_some(px)
}

/// The line ends with a caption, or with a short start of the value after one ("PID 5" cut in
/// "5517799"): what runs on beyond it is that value.
fn ends_in_a_captioned_value(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [.., last] if is_caption(last) => true,
        [.., caption, start] => is_caption(caption) && start.chars().count() <= 4,
        _ => false,
    }
}

/// A whole line's mask: its box and a quarter of its height on at either end (the detector's box
/// can fall short of the first and last strokes; partial masks get half a line height, see
/// [`crate::pixel::Reading::sub_rect`]).
fn ends(b: Rect, width: usize) -> Rect {
    let m = b.h / 4;
    let x0 = b.x.saturating_sub(m);
    let x1 = (b.right() + m).min(width as u32);
    Rect::new(x0, b.y, x1 - x0, b.h)
}

/// A word that announces an identifying value after it ("PID", "MRN:", "D.O.B.", "Name").
fn is_caption(word: &str) -> bool {
    let w: String = word
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    const CAPTIONS: &[&str] = &[
        "ID", "PID", "MRN", "PATID", "PATIENTID", "NAME", "PATIENT", "PAT", "PT", "DOB", "BIRTH",
        "BORN", "ACC", "ACCESSION", "ACCNO", "NO", "NR", "NUM", "GEB", "NOM", "NOME", "NAISSANCE",
        "NASCITA", "NOMBRE", "FECHA", "DATUM", "DATE",
    ];
    CAPTIONS.contains(&w.as_str())
}

/// A masked line: its box and the text read in it.
struct Line<'a> {
    rect: Rect,
    text: &'a str,
}

/// Where a masked line may go on unseen (a banner half over a part of the image close to the text's
/// own value): the strips beside it (up to 6 line heights wide) are stretched to their local
/// contrast ([`Grey::local_contrast`]); where that shows the strokes of letters, they are given to
/// the detector. The boxes found there on the line that are not among the frame's `known` boxes,
/// each within two line heights of the line or of the one before, are read as one text; one box
/// from the line to the last of them (and half a line height on) is returned, in frame coordinates,
/// when `identifying` holds for that text, or for the line's edge word joined with it but not for
/// that word alone (the rest of a cut ID: "… 55" + "17799"), or when the line ends with a caption
/// or with a short start of the value after one ("PID 5", the rest of "5517799" running on).
fn continuation(
    finder: &dyn TextFinder,
    g: &Grey,
    line: &Line<'_>,
    known: &[Rect],
    cache: &mut HashMap<(Rect, u64), Vec<Rect>>,
    identifying: impl Fn(&str) -> bool,
) -> Result<Vec<Rect>, PixelError> {
    let b = line.rect;
    let reach = 6 * b.h;
    let left_w = b.x.min(reach);
    let right_w = (g.w as u32).saturating_sub(b.right()).min(reach);
    let strips: Vec<(bool, Rect, Grey)> = [
        (true, Rect::new(b.x - left_w, b.y, left_w, b.h)),
        (false, Rect::new(b.right(), b.y, right_w, b.h)),
    ]
    .into_iter()
    .filter(|(_, s)| s.w >= b.h)
    .map(|(left, s)| (left, s, g.crop(s)))
    .collect();
    let key = {
        let mut all = line.text.as_bytes().to_vec();
        for (_, _, c) in &strips {
            all.extend_from_slice(&c.data);
        }
        (b, frame_key(&all))
    };
    if let Some(v) = cache.get(&key) {
        return Ok(v.clone());
    }
    let p = prepass::Prepass::default();
    let mut out = Vec::new();
    for (left, strip, crop) in strips {
        let local = crop.local_contrast(b.h as usize, 8);
        let tiles = prepass::stroke_tiles(&local, &p);
        if !tiles.iter().any(|t| *t) {
            continue;
        }
        // boxes on the line, nearest the line first
        let mut found: Vec<(Rect, Rect)> = finder
            .detect(&local)
            .map_err(PixelError::Ocr)?
            .into_iter()
            .map(|r| (r, Rect::new(r.x + strip.x, r.y + strip.y, r.w, r.h)))
            .filter(|(_, at)| {
                let on_line = at
                    .intersect(Rect::new(0, b.y, u32::MAX, b.h))
                    .is_some_and(|i| i.h * 2 >= at.h.min(b.h));
                let seen = known
                    .iter()
                    .any(|k| k.intersect(*at).is_some_and(|i| i.area() * 2 >= at.area()));
                on_line && !seen
            })
            .collect();
        found.sort_by_key(|(_, at)| if left { u32::MAX - at.right() } else { at.x });
        // a chain of boxes, each within two line heights of the one before (a word cut again where
        // its background changes)
        let mut chain: Vec<(Rect, String)> = Vec::new();
        let mut edge = if left { b.x } else { b.right() };
        for (r, at) in found {
            let gap = if left {
                edge.saturating_sub(at.right())
            } else {
                at.x.saturating_sub(edge)
            };
            if gap > 2 * b.h {
                break;
            }
            let t = finder.read(&local, r).map_err(PixelError::Ocr)?.text;
            edge = if left { at.x } else { at.right() };
            chain.push((at, t));
        }
        if chain.is_empty() {
            // nothing the detector could box, but strokes touching the line: the rest of a word cut
            // at the box's edge, too little of it left to detect (a letter or two over a part of the
            // image close to the text's value). Masked as far as the strokes run, when they end
            // within four line heights, and a line height on (the last letter may fade below the
            // strokes' contrast: "EK18387|12")
            if let Some(run) = strokes_touching(&tiles, local.w, p.tile.max(4), left, 4 * b.h as usize) {
                let run = run as u32 + b.h;
                out.push(if left {
                    let x0 = b.x.saturating_sub(run);
                    Rect::new(x0, b.y, b.x - x0, b.h)
                } else {
                    let x1 = (b.right() + run).min(g.w as u32);
                    Rect::new(b.right(), b.y, x1 - b.right(), b.h)
                });
            }
            continue;
        }
        let mut texts: Vec<&str> = chain.iter().map(|(_, t)| t.as_str()).collect();
        if left {
            texts.reverse();
        }
        let t = texts.concat();
        // the word the line was cut in, and that word made whole
        let word = if left {
            line.text.split_whitespace().next()
        } else {
            line.text.split_whitespace().last()
        }
        .unwrap_or("");
        let whole = if left {
            format!("{t}{word}")
        } else {
            format!("{word}{t}")
        };
        let readable = t.chars().any(|c| c.is_alphanumeric());
        let after_caption = !left && ends_in_a_captioned_value(line.text);
        if readable
            && (identifying(&t) || identifying(&whole) && !identifying(word) || after_caption)
        {
            // one box from the line to the chain's far end and on, by a line height or as far as
            // strokes run from that end when they stop within four line heights (the detector's box
            // falls short where the text fades into its background: "EK18387|12", half a line
            // height short and more)
            let from = if left { b.x - edge } else { edge - b.right() } as usize;
            let on = strokes_from(&tiles, local.w, p.tile.max(4), left, from, 4 * b.h as usize)
                .map_or(0, |px| px as u32 + b.h / 4)
                .max(b.h);
            let (x0, x1) = if left {
                (edge.saturating_sub(on), b.x)
            } else {
                (b.right(), (edge + on).min(g.w as u32))
            };
            let y0 = chain.iter().map(|(a, _)| a.y).min().unwrap_or(b.y).min(b.y);
            let y1 = chain.iter().map(|(a, _)| a.bottom()).max().unwrap_or(b.bottom()).max(b.bottom());
            out.push(Rect::new(x0, y0, x1 - x0, y1 - y0));
        }
    }
    cache.insert(key, out.clone());
    Ok(out)
}

/// The text boxes of one frame (with the index of the view they were found in), and whether the
/// detector ran on it.
pub struct FrameBoxes {
    pub boxes: Vec<(usize, Rect)>,
    pub detected: bool,
    /// pixels given to the detector (of all views)
    pub area: u64,
    /// luminance boxes kept from the frame before over a change under them, their text standing
    /// still ([`prepass::ink_held`]; only for a series given its tiles, [`detect_series_frame`])
    pub held: Vec<Rect>,
}

/// Detects the text lines of a frame. `views[0]` is the luminance view; the others
/// (colour-difference views of a colour frame) are given to the detector only where they have sharp
/// edges the luminance view lacks (text in a colour of its background's luminance), and only their
/// boxes not already found are kept. With the pre-pass ([`prepass`]), a frame without sharp edges
/// in any view is not given to the detector.
pub fn detect_frame(
    finder: &dyn TextFinder,
    views: &[Grey],
    use_prepass: bool,
) -> Result<FrameBoxes, PixelError> {
    detect_frame_after(finder, views, use_prepass, None)
}

/// [`detect_frame`] for a frame of a series, given the luminance view of the frame detected before
/// it and the luminance boxes found there: with the pre-pass, the boxes whose pixels did not change
/// are kept and only what changed is detected ([`prepass::plan_changed`]).
pub fn detect_frame_after(
    finder: &dyn TextFinder,
    views: &[Grey],
    use_prepass: bool,
    prev: Option<(&Grey, &[Rect])>,
) -> Result<FrameBoxes, PixelError> {
    detect_series_frame(finder, views, use_prepass, prev, None)
}

/// [`detect_frame_after`] with the tiles that changed since `prev` and those to detect now
/// (`series`: `(changed, fresh)`, [`prepass::plan_series`]; `None`: the changed tiles, computed
/// here).
pub fn detect_series_frame(
    finder: &dyn TextFinder,
    views: &[Grey],
    use_prepass: bool,
    prev: Option<(&Grey, &[Rect])>,
    series: Option<(&[bool], &[bool])>,
) -> Result<FrameBoxes, PixelError> {
    let p = prepass::Prepass::default();
    let mut out = FrameBoxes {
        boxes: Vec::new(),
        detected: false,
        area: 0,
        held: Vec::new(),
    };
    let Some(luma) = views.first() else {
        return Ok(out);
    };
    let whole = (luma.w * luma.h) as u64;
    // the detector's scale for the frame, at which its regions are detected too
    let scale = finder.scale(luma.w, luma.h);
    let (kept, held, scan) = match (use_prepass, prev) {
        (false, _) => (Vec::new(), Vec::new(), prepass::Scan::Whole),
        (true, None) => (Vec::new(), Vec::new(), prepass::plan(luma, &p, scale)),
        (true, Some((pg, pb))) => {
            let stroke = prepass::stroke_tiles(luma, &p);
            let own;
            let (changed, fresh) = match series {
                Some(s) => s,
                None => {
                    own = prepass::changed_tiles(luma, pg, p.tile);
                    (own.as_slice(), own.as_slice())
                }
            };
            // text standing still over a changing background is kept only where the series'
            // masks go on every frame (the caller gives the tiles then)
            let hold = series.map(|_| pg);
            prepass::plan_series(luma, pb, changed, fresh, &stroke, hold, &p, scale)
        }
    };
    let found = match scan {
        prepass::Scan::Skip => None,
        prepass::Scan::Whole => {
            out.area += whole;
            Some(finder.detect(luma).map_err(PixelError::Ocr)?)
        }
        prepass::Scan::Regions(regions) => {
            out.area += regions.iter().map(|r| r.area()).sum::<u64>();
            Some(match detect_regions(finder, luma, &regions, &kept, scale)? {
                // the unchanged boxes and the new ones (a new box mostly inside a kept one is that
                // box seen again)
                Some(boxes) => {
                    let mut all = kept.clone();
                    all.extend(boxes.into_iter().filter(|b| !mostly_inside(*b, &kept)));
                    all
                }
                None => {
                    out.area += whole;
                    finder.detect(luma).map_err(PixelError::Ocr)?
                }
            })
        }
    };
    match found {
        Some(found) => {
            // (boxes the whole frame's detection replaced are not held)
            out.held = held.into_iter().filter(|h| found.contains(h)).collect();
            out.boxes = found.into_iter().map(|b| (0, b)).collect();
            out.detected = true;
        }
        None => {
            out.held = held;
            out.boxes = kept.into_iter().map(|b| (0, b)).collect();
        }
    }
    // the luminance view's busy tiles, once for all colour views (grey frames have none)
    let luma_busy = if views.len() > 1 {
        prepass::busy_tiles(luma, &p)
    } else {
        Vec::new()
    };
    for (vi, view) in views.iter().enumerate().skip(1) {
        if !prepass::chroma_only_edges(&luma_busy, view, &p) {
            continue;
        }
        out.detected = true;
        out.area += whole;
        for b in finder.detect(view).map_err(PixelError::Ocr)? {
            // a line already found in another view (mostly inside one of its boxes) is not read twice
            if !mostly_inside(b, out.boxes.iter().map(|(_, k)| k)) {
                out.boxes.push((vi, b));
            }
        }
    }
    Ok(out)
}

/// Whether four fifths of `b` lie inside one of `boxes`.
fn mostly_inside<'a>(b: Rect, boxes: impl IntoIterator<Item = &'a Rect>) -> bool {
    boxes.into_iter().any(|k| k.intersect(b).map_or(0, |i| i.area()) * 5 >= b.area() * 4)
}

/// Detects text in each region of `g` at the frame's `scale` (frame coordinates out). Regions may
/// overlap: a box that touches its region's edge inside the frame (the line may go on beyond it)
/// counts as seen when it lies in the interior of another region, which saw that text whole, or
/// when nine tenths of it lie in `known` boxes (the boxes kept from the frame before, whose pixels
/// did not change; the box is that text seen again). A box found again in the overlap of two
/// regions is kept once. `None` when a box cut by its region's edge is not seen (the caller then
/// detects the whole frame).
fn detect_regions(
    finder: &dyn TextFinder,
    g: &Grey,
    regions: &[Rect],
    known: &[Rect],
    scale: Scale,
) -> Result<Option<Vec<Rect>>, PixelError> {
    // 8 pixels as the detector sees them
    const EDGE: f32 = 8.0;
    let (ex, ey) = ((EDGE / scale.x).ceil() as u32, (EDGE / scale.y).ceil() as u32);
    let (fw, fh) = (g.w as u32, g.h as u32);
    // a region less EDGE pixels on each side that lies inside the frame
    let interior = |r: &Rect| {
        let x0 = if r.x > 0 { r.x + ex } else { 0 };
        let y0 = if r.y > 0 { r.y + ey } else { 0 };
        let x1 = if r.right() < fw { r.right().saturating_sub(ex) } else { fw };
        let y1 = if r.bottom() < fh { r.bottom().saturating_sub(ey) } else { fh };
        (x0, y0, x1, y1)
    };
    let inside = |b: &Rect, (x0, y0, x1, y1): (u32, u32, u32, u32)| {
        b.x >= x0 && b.y >= y0 && b.right() <= x1 && b.bottom() <= y1
    };
    let mut out: Vec<Rect> = Vec::new();
    let mut cut = Vec::new();
    for (i, r) in regions.iter().enumerate() {
        let before = out.len();
        for b in finder.detect_at(&g.crop(*r), scale).map_err(PixelError::Ocr)? {
            let b = Rect::new(b.x + r.x, b.y + r.y, b.w, b.h);
            if !inside(&b, interior(r)) {
                cut.push((i, b));
            } else if !mostly_inside(b, &out[..before]) {
                out.push(b);
            }
        }
    }
    let seen_whole = |&(i, b): &(usize, Rect)| {
        regions.iter().enumerate().any(|(j, r)| j != i && inside(&b, interior(r)))
            || covered(b, known) * 10 >= b.area() * 9
    };
    Ok(cut.iter().all(seen_whole).then_some(out))
}

/// How many pixels of `b` lie in at least one of `boxes`.
fn covered(b: Rect, boxes: &[Rect]) -> u64 {
    let parts: Vec<Rect> = boxes.iter().filter_map(|k| k.intersect(b)).collect();
    if parts.is_empty() {
        return 0;
    }
    let mut hit = vec![false; b.area() as usize];
    for p in parts {
        for y in p.y - b.y..p.bottom() - b.y {
            let row = (y * b.w) as usize;
            hit[row + (p.x - b.x) as usize..row + (p.right() - b.x) as usize].fill(true);
        }
    }
    hit.iter().filter(|&&h| h).count() as u64
}

/// Splits boxes that span several lines (the detector joins lines set close together) into strips
/// of the frame's typical line height, so that each line is read on its own. Each strip comes with
/// the detector's box it was cut from (itself when not split): the shape of text or of image
/// structure is judged on that box, since a blob of speckle cut into strips gives strips shaped
/// like lines.
fn split_tall(boxes: Vec<Rect>) -> Vec<(Rect, Rect)> {
    if boxes.len() < 3 {
        return boxes.into_iter().map(|b| (b, b)).collect();
    }
    let mut hs: Vec<u32> = boxes.iter().map(|b| b.h).collect();
    hs.sort_unstable();
    let line = hs[hs.len() / 2].max(8);
    let mut out = Vec::with_capacity(boxes.len());
    for b in boxes {
        let k = ((b.h as f32) / (line as f32)).round() as u32;
        if b.h * 10 < line * 18 || k < 2 || b.w < 2 * line {
            out.push((b, b));
            continue;
        }
        // overlapping strips (a quarter line each way), so that no line is cut through its middle only
        let step = b.h / k;
        for i in 0..k {
            let y0 = (b.y + i * step).saturating_sub(step / 4).max(b.y);
            let y1 = (b.y + (i + 1) * step + step / 4).min(b.bottom());
            out.push((Rect::new(b.x, y0, b.w, y1 - y0), b));
        }
    }
    out
}

fn undecodable(
    cfg: &PixelConfig,
    e: ImageError,
) -> Result<Option<(PixelReport, String)>, PixelError> {
    match cfg.undecodable {
        Undecodable::Fail => Err(PixelError::Image(e.to_string())),
        Undecodable::Pass => Ok(Some((
            PixelReport {
                policy: cfg.policy.as_str(),
                warning: Some(format!(
                    "{e}; pixels passed unchanged on request (not cleaned)"
                )),
                ..Default::default()
            },
            String::new(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_in_the_value_after_a_caption_runs_on_into_that_value() {
        assert!(ends_in_a_captioned_value("Andersen, Emma PID"));
        assert!(ends_in_a_captioned_value("Andersen, Emma PID 5!"));
        assert!(ends_in_a_captioned_value("MRN: 0012"));
        assert!(!ends_in_a_captioned_value("Andersen, Emma PID 5517799"));
        assert!(!ends_in_a_captioned_value("GAIN 50 DR 60"));
        assert!(!ends_in_a_captioned_value(""));
    }

    #[test]
    fn strokes_touching_a_line_are_followed_to_their_end() {
        // a strip 5 tiles wide, 2 tiles high (row-major)
        let t = |cols: [bool; 5]| -> Vec<bool> { cols.iter().chain(cols.iter()).copied().collect() };
        let right = t([true, true, false, false, true]);
        assert_eq!(strokes_touching(&right, 80, 16, false, 64), Some(32));
        assert_eq!(strokes_touching(&right, 80, 16, true, 64), Some(16), "from the strip's right end");
        assert_eq!(strokes_touching(&right, 80, 16, false, 20), None, "longer than allowed");
        assert_eq!(strokes_touching(&t([false, true, true, false, false]), 80, 16, false, 64), None, "not touching");
        assert_eq!(strokes_touching(&t([true; 5]), 80, 16, false, 200), None, "texture all along");
        // from a chain's end inside the strip: the run from the column holding that pixel
        let mid = t([false, true, true, false, false]);
        assert_eq!(strokes_from(&mid, 80, 16, false, 20, 64), Some(28), "from x 20 to the end of column 2");
        assert_eq!(strokes_from(&mid, 80, 16, false, 50, 64), None, "no stroke where it starts");
        assert_eq!(strokes_from(&mid, 80, 16, true, 40, 64), Some(24), "leftwards: from x 39 to x 16");
        assert_eq!(strokes_from(&right, 80, 16, false, 70, 64), None, "runs to the strip's far end");
    }

    #[test]
    fn masks_near_the_frame_edge_reach_it() {
        let line = Rect::new(13, 70, 150, 30);
        let mut parts = [Rect::new(13, 70, 150, 30), Rect::new(200, 70, 280, 30), Rect::new(100, 70, 50, 30)];
        to_the_edges(&mut parts, line, 500);
        assert_eq!(parts[0], Rect::new(0, 70, 163, 30), "13 px from the left edge: taken to it");
        assert_eq!(parts[1], Rect::new(200, 70, 300, 30), "20 px from the right edge: taken to it");
        assert_eq!(parts[2], Rect::new(100, 70, 50, 30), "far from both: unchanged");
    }

    #[test]
    fn captions_announce_a_value_and_other_words_do_not() {
        for w in ["PID", "ID:", "MRN", "D.O.B.", "Name:", "Geb.", "Nom", "date"] {
            assert!(is_caption(w), "{w}");
        }
        for w in ["", "55", "Emma", "CHEST", "cm", "GAIN"] {
            assert!(!is_caption(w), "{w}");
        }
    }

    /// One box per band of rows holding pixels at 255, across their columns at 255.
    struct Bands;
    impl TextFinder for Bands {
        fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
            let mut out: Vec<Rect> = Vec::new();
            let mut open = false;
            for y in 0..img.h {
                let xs: Vec<usize> = (0..img.w).filter(|&x| img.get(x, y) == 255).collect();
                let (Some(&x0), Some(&x1)) = (xs.first(), xs.last()) else {
                    open = false;
                    continue;
                };
                let row = Rect::new(x0 as u32, y as u32, (x1 - x0 + 1) as u32, 1);
                match out.last_mut() {
                    Some(b) if open => *b = b.union(&row),
                    _ => out.push(row),
                }
                open = true;
            }
            Ok(out)
        }
        fn read(&self, _: &Grey, r: Rect) -> Result<Reading, String> {
            Ok(Reading::whole("", r))
        }
    }

    #[test]
    fn a_box_cut_by_its_region_counts_when_another_region_or_a_kept_box_holds_it() {
        let line = Rect::new(200, 100, 100, 12);
        let g = Grey {
            w: 512,
            h: 512,
            data: (0..512 * 512)
                .map(|i| {
                    let (x, y) = ((i % 512) as u32, (i / 512) as u32);
                    let on = x >= line.x && x < line.right() && y >= line.y && y < line.bottom();
                    if on { 255 } else { 0 }
                })
                .collect(),
        };
        let a = Rect::new(0, 0, 256, 256);
        // cut at a's right edge, whole inside b: found once, as b sees it
        let b = Rect::new(150, 50, 256, 128);
        assert_eq!(detect_regions(&Bands, &g, &[a, b], &[], Scale::ONE).unwrap(), Some(vec![line]));
        // cut by both: the whole frame
        let short = Rect::new(150, 50, 128, 128);
        assert_eq!(detect_regions(&Bands, &g, &[a, short], &[], Scale::ONE).unwrap(), None);
        // cut, but inside a box kept from the frame before (unchanged pixels): that box stands
        assert_eq!(detect_regions(&Bands, &g, &[a], &[line], Scale::ONE).unwrap(), Some(vec![]));
        assert_eq!(detect_regions(&Bands, &g, &[a], &[], Scale::ONE).unwrap(), None);
    }

    #[test]
    fn a_box_over_two_lines_is_split_into_overlapping_strips() {
        let lines = vec![
            Rect::new(0, 0, 100, 20),
            Rect::new(0, 30, 80, 20),
            Rect::new(0, 60, 200, 41),
            Rect::new(300, 0, 30, 21),
        ];
        let out: Vec<Rect> = split_tall(lines).into_iter().map(|(s, _)| s).collect();
        assert_eq!(out.len(), 5);
        let strips: Vec<&Rect> = out.iter().filter(|r| r.w == 200).collect();
        assert_eq!(strips.len(), 2);
        assert!(strips[0].y == 60 && strips[1].bottom() == 101 && strips[0].bottom() > strips[1].y);
        // a narrow tall box (a digit, a marker) is left alone
        assert_eq!(
            split_tall(vec![
                Rect::new(0, 0, 10, 60),
                Rect::new(0, 0, 50, 20),
                Rect::new(0, 0, 50, 20)
            ])
            .len(),
            3
        );
    }
}
