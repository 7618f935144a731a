//! The pre-pass in front of the text detector: what of a frame the detector needs to see ([`plan`]).
//!
//! Rule (also in the README): in the frame's 8-bit grey view, a *stroke* is an edge of at least
//! [`Prepass::contrast`] grey levels followed within 2–[`STROKE_MAX`] pixels by an edge of the other
//! sign, along a row (a vertical stroke) or a column (a horizontal one); a tile is a *stroke tile* when
//! it holds a stroke and it and its 8 neighbours hold at least [`MIN_CROSSINGS`] of each direction.
//! Letters of every size the detector reads make many; flat and smooth frames, wide blocks and smooth
//! anatomy make none. A frame without a stroke tile is skipped. In a frame the detector does not scale
//! up, only rectangles around the stroke tiles are detected, at the frame's scale (the engine falls
//! back to the whole frame when a box reaches a rectangle's inner edge and neither another rectangle
//! nor a kept box holds it). `examples/prepass_recall.rs` measures this against whole-frame detection
//! on every frame of the real and generated files. Along a series, what changed is planned ([`plan_changed`]); a moving image is
//! left to sampled frames ([`deferred_tiles`], [`plan_series`]).
//!
//! Tried and measured before: regions of *busy* tiles (any sharp edge) covered 45–60% of real frames
//! and connected across them (anatomy, speckle, noise); a half-resolution candidate pass lost small
//! text; detecting only what changed between cine frames lost boxes (the rule of [`plan_changed`]
//! also re-detects the whole area of every earlier box a change touches: no box lost on the real and
//! generated files).

use super::Grey;

/// Tile and contrast parameters of the pre-pass.
#[derive(Clone, Copy, Debug)]
pub struct Prepass {
    /// tile side in pixels
    pub tile: usize,
    /// a pixel is an edge when its central difference reaches this (0–255)
    pub contrast: u8,
    /// a tile is busy with this many edge pixels
    pub min_edges: u32,
}

impl Default for Prepass {
    fn default() -> Self {
        Prepass {
            tile: 16,
            contrast: 24,
            min_edges: 4,
        }
    }
}

/// Whether a colour-difference view has sharp edges in a tile where the luminance view has none
/// (`luma_busy`: [`busy_tiles`] of the luminance view): text drawn in a colour of its background's
/// luminance. Only then is the view given to the detector.
pub fn chroma_only_edges(luma_busy: &[bool], chroma: &Grey, p: &Prepass) -> bool {
    let c = busy_tiles(chroma, p);
    luma_busy.len() == c.len() && c.iter().zip(luma_busy).any(|(&c, &l)| c && !l)
}

/// Per tile (row-major, `tile`-pixel squares): whether it holds `min_edges` edge pixels.
pub fn busy_tiles(g: &Grey, p: &Prepass) -> Vec<bool> {
    let (w, h) = (g.w, g.h);
    let t = p.tile.max(4);
    let (tw, th) = (w.div_ceil(t), h.div_ceil(t));
    let mut busy = vec![false; tw * th];
    if w < 3 || h < 3 {
        busy.iter_mut().for_each(|b| *b = true);
        return busy;
    }
    let c = p.contrast as i16;
    let d = &g.data;
    let mut count = vec![0u32; tw];
    for y in 1..h - 1 {
        if y % t == 0 {
            count.iter_mut().for_each(|n| *n = 0);
        }
        let band = (y / t) * tw;
        let row = y * w;
        for x in 1..w - 1 {
            let gx = (d[row + x + 1] as i16 - d[row + x - 1] as i16).abs();
            let gy = (d[row + w + x] as i16 - d[row - w + x] as i16).abs();
            if gx >= c || gy >= c {
                let n = &mut count[x / t];
                *n += 1;
                if *n >= p.min_edges {
                    busy[band + x / t] = true;
                }
            }
        }
    }
    busy
}

/// What to give the detector for one frame ([`plan`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    /// nothing: the frame has no stroke tile
    Skip,
    /// these rectangles, in frame pixels (each at least [`MIN_REGION`] on its longest side as the
    /// detector sees it, at the frame's scale; they may overlap); a box touching a rectangle's
    /// inner edge sends the whole frame unless another rectangle holds it whole
    /// (`engine::detect_regions`)
    Regions(Vec<super::Rect>),
    /// the whole frame
    Whole,
}

/// The shortest a region's longest side is, as the detector sees it; frames shorter than this
/// (which the detector scales up, [`super::boxes::det_scale`]) are not cut into regions.
pub const MIN_REGION: usize = 256;

/// Stroke parameters: an edge of one sign followed, within `STROKE_MAX` pixels (and at least 2), by
/// an edge of the other sign along a row (a vertical stroke) or a column (a horizontal stroke); a
/// tile is a *stroke tile* with at least `MIN_CROSSINGS` of each. Text of every size the detector
/// reads has many; smooth anatomy and flat backgrounds have none.
const STROKE_MAX: usize = 24;
const MIN_CROSSINGS: u32 = 3;
/// Stroke tiles are grown by this many tiles before they are joined into regions.
const GROW: usize = 3;
/// Regions covering more than this share of the frame: the whole frame instead.
const MAX_REGION_SHARE: f64 = 0.6;

/// Per tile (row-major): whether it is a stroke tile.
pub fn stroke_tiles(g: &Grey, p: &Prepass) -> Vec<bool> {
    let (w, h) = (g.w, g.h);
    let t = p.tile.max(4);
    let (tw, th) = (w.div_ceil(t), h.div_ceil(t));
    if w < 3 || h < 3 {
        return vec![true; tw * th];
    }
    let c = p.contrast as i16;
    let d = &g.data;
    let mut across = vec![0u32; tw * th];
    for y in 0..h {
        strokes_along(w, |x| d[y * w + x], c, |x| across[(y / t) * tw + x / t] += 1);
    }
    let down = strokes_down(g, c, t);
    // over each tile and its 8 neighbours (a thick stroke's two edges, and a letter's strokes of
    // both directions, may fall in neighbouring tiles)
    let around = |v: &[u32], tx: usize, ty: usize| -> u32 {
        let mut n = 0;
        for y in ty.saturating_sub(1)..(ty + 2).min(th) {
            for x in tx.saturating_sub(1)..(tx + 2).min(tw) {
                n += v[y * tw + x];
            }
        }
        n
    };
    (0..tw * th)
        .map(|i| {
            let (tx, ty) = (i % tw, i / tw);
            (across[i] > 0 || down[i] > 0)
                && around(&across, tx, ty) >= MIN_CROSSINGS
                && around(&down, tx, ty) >= MIN_CROSSINGS
        })
        .collect()
}

/// Per tile of `t`×`t`: the strokes [`strokes_along`] finds down each column, counted at their
/// second edge. The columns are walked row by row (memory in order, each column's last edge kept),
/// which gives the same hits as walking each column on its own.
fn strokes_down(g: &Grey, c: i16, t: usize) -> Vec<u32> {
    let (w, h, d) = (g.w, g.h, &g.data);
    let tw = w.div_ceil(t);
    let mut down = vec![0u32; tw * h.div_ceil(t)];
    let mut last: Vec<Option<(usize, bool)>> = vec![None; w];
    for y in 1..h.saturating_sub(1) {
        let (above, below) = (&d[(y - 1) * w..y * w], &d[(y + 1) * w..(y + 2) * w]);
        let row = &mut down[(y / t) * tw..(y / t + 1) * tw];
        for (x, ((&a, &b), l)) in above.iter().zip(below).zip(last.iter_mut()).enumerate() {
            if stroke_step(l, y, b as i16 - a as i16, c) {
                row[x / t] += 1;
            }
        }
    }
    down
}

/// Along one line of `n` pixels (`at(i)`): calls `hit(i)` at the second edge of each stroke (an
/// edge of at least `c` followed within 2–[`STROKE_MAX`] pixels by one of the other sign).
fn strokes_along(n: usize, at: impl Fn(usize) -> u8, c: i16, mut hit: impl FnMut(usize)) {
    let mut last: Option<(usize, bool)> = None;
    for i in 1..n.saturating_sub(1) {
        if stroke_step(&mut last, i, at(i + 1) as i16 - at(i - 1) as i16, c) {
            hit(i);
        }
    }
}

/// One step along a line: `g` is the gradient at position `i`, `last` the line's last edge
/// (position, rising). True at the second edge of a stroke (an edge of at least `c` following one
/// of the other sign 2–[`STROKE_MAX`] pixels before).
#[inline(always)]
fn stroke_step(last: &mut Option<(usize, bool)>, i: usize, g: i16, c: i16) -> bool {
    if g.abs() < c {
        return false;
    }
    let up = g > 0;
    let hit = matches!(*last, Some((li, lu)) if lu != up && (2..=STROKE_MAX).contains(&(i - li)));
    *last = Some((i, up));
    hit
}

/// What of frame `g` the detector needs to see: nothing when no tile has the strokes of text; else
/// the stroke tiles grown by [`GROW`] tiles, joined, each rectangle widened by [`fit`] (overlapping
/// ones joined where one costs no more than the two), when the frame is not scaled up for the
/// detector and the rectangles cover at most [`MAX_REGION_SHARE`] of it; else the whole frame.
/// `scale`: the detector's scale for the frame ([`super::TextFinder::scale`]); a frame it scales
/// down is cut in its own pixels, and its regions are detected at that scale.
pub fn plan(g: &Grey, p: &Prepass, scale: super::Scale) -> Scan {
    plan_tiles(g, &stroke_tiles(g, p), p, scale)
}

/// [`plan`] for the tiles marked in `tiles` (row-major, `p.tile`-pixel squares of `g`).
fn plan_tiles(g: &Grey, tiles: &[bool], p: &Prepass, scale: super::Scale) -> Scan {
    use super::Rect;
    if !tiles.iter().any(|&b| b) {
        return Scan::Skip;
    }
    if g.w.max(g.h) < MIN_REGION || !scale.at_most_one() {
        return Scan::Whole;
    }
    let t = p.tile.max(4);
    let (tw, th) = (g.w.div_ceil(t), g.h.div_ceil(t));
    // grown tiles, then their connected parts' bounding rectangles
    let grown = grow(tiles, tw, th);
    let mut seen = vec![false; tw * th];
    let mut rects: Vec<Rect> = Vec::new();
    for start in 0..tw * th {
        if !grown[start] || seen[start] {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % tw, i / tw);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            for (dx, dy) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if nx < 0 || ny < 0 || nx >= tw as i64 || ny >= th as i64 {
                    continue;
                }
                let j = ny as usize * tw + nx as usize;
                if grown[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        let (px0, py0) = (x0 * t, y0 * t);
        let (px1, py1) = (((x1 + 1) * t).min(g.w), ((y1 + 1) * t).min(g.h));
        rects.push(fit(px0, py0, px1 - px0, py1 - py0, (g.w, g.h), scale));
    }
    // join overlapping rectangles (refitted) where one rectangle costs the detector no more than the
    // two; others may overlap (a box cut by one's edge counts when another holds it whole)
    loop {
        let mut joined = false;
        'outer: for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                if rects[i].intersects(&rects[j]) {
                    let u = rects[i].union(&rects[j]);
                    let (ux, uy, uw, uh) = (u.x as usize, u.y as usize, u.w as usize, u.h as usize);
                    let u = fit(ux, uy, uw, uh, (g.w, g.h), scale);
                    if u.area() > rects[i].area() + rects[j].area() {
                        continue;
                    }
                    rects[i] = u;
                    rects.swap_remove(j);
                    joined = true;
                    break 'outer;
                }
            }
        }
        if !joined {
            break;
        }
    }
    let area: u64 = rects.iter().map(|r| r.area()).sum();
    if area as f64 > MAX_REGION_SHARE * (g.w * g.h) as f64 {
        return Scan::Whole;
    }
    Scan::Regions(rects)
}

/// The marked tiles of a `tw` × `th` grid (row-major) and every tile within [`GROW`] tiles of one.
fn grow(tiles: &[bool], tw: usize, th: usize) -> Vec<bool> {
    grow_by(tiles, tw, th, GROW)
}

/// The marked tiles and every tile within `r` tiles of one.
fn grow_by(tiles: &[bool], tw: usize, th: usize, r: usize) -> Vec<bool> {
    let mut grown = vec![false; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            if tiles[ty * tw + tx] {
                for y in ty.saturating_sub(r)..(ty + r + 1).min(th) {
                    for x in tx.saturating_sub(r)..(tx + r + 1).min(tw) {
                        grown[y * tw + x] = true;
                    }
                }
            }
        }
    }
    grown
}

/// Per tile (row-major, `tile`-pixel squares): whether its pixels differ between two frames of the
/// same size (all tiles when the sizes differ).
pub fn changed_tiles(a: &Grey, b: &Grey, tile: usize) -> Vec<bool> {
    let t = tile.max(4);
    let (tw, th) = (a.w.div_ceil(t), a.h.div_ceil(t));
    if (a.w, a.h) != (b.w, b.h) || a.data.len() != b.data.len() {
        return vec![true; tw * th];
    }
    let mut changed = vec![false; tw * th];
    let rows = a.data.chunks_exact(a.w.max(1)).zip(b.data.chunks_exact(a.w.max(1)));
    for (y, (ra, rb)) in rows.enumerate() {
        if ra == rb {
            continue;
        }
        let band = (y / t) * tw;
        for (tx, (ca, cb)) in ra.chunks(t).zip(rb.chunks(t)).enumerate() {
            if ca != cb {
                changed[band + tx] = true;
            }
        }
    }
    changed
}

/// What the detector needs to see of a frame of a series, given the frame detected before it
/// (`prev`, with the boxes found there) — the reuse rule (also in the README):
///
/// - a box of the earlier frame whose tiles are all byte-identical in this frame is kept as it is
///   (the detector saw the same pixels there);
/// - the changed tiles, grown by [`GROW`] tiles for context, and the tiles of every earlier box
///   that touches a changed tile, are what may hold new or moved text; of those, the stroke tiles
///   (`stroke`, [`stroke_tiles`]; all of them without the pre-pass) are planned as [`plan`] plans
///   a whole frame (at the detector's `scale` for it): regions, or the whole frame when they cover
///   too much of it or the frame is scaled up.
///
/// The caller detects the regions with the same inner-edge fallback as for [`plan`] (a box touching
/// a region's inner edge sends the whole frame, whose boxes then replace the kept ones).
pub fn plan_changed(
    g: &Grey,
    prev: &Grey,
    prev_boxes: &[super::Rect],
    stroke: &[bool],
    p: &Prepass,
    scale: super::Scale,
) -> (Vec<super::Rect>, Scan) {
    let changed = changed_tiles(g, prev, p.tile.max(4));
    let (kept, _, scan) = plan_series(g, prev_boxes, &changed, &changed, stroke, None, p, scale);
    (kept, scan)
}

/// Text whose ink stood still: an ink band must hold this share of a box's pixels at least (and
/// half at most), and stand this many grey levels off the box's median.
const INK_MIN_SHARE: usize = 50;
const INK_CONTRAST: u8 = 48;
/// The ink band: values within this of the box's extreme value (anti-aliased edges fall outside).
const INK_BAND: u8 = 4;
/// Grey levels an ink pixel may move by and still stand (the noise of lossy coding near a changed
/// background).
const INK_TOL: u8 = 8;

/// Whether the text in box `b` stood still from `prev` to `cur` (8-bit views of one size) whatever
/// its background did: the burned-in text over an angiogram or a sector that changes under it.
///
/// Ink is one extreme of the box's values in `prev` (its brightest or darkest value held by 1% of
/// its pixels at least, [`INK_BAND`] wide), [`INK_CONTRAST`] off the box's median, covering 2–50%
/// of the box, in thin strokes (at most 60% of its pixels have all four neighbours in the band, as
/// a patch of flat background would). The text stood still when, for one such band, every pixel in
/// it moved by at most [`INK_TOL`] levels and `cur` has no more than 2% new pixels in it: a moved,
/// added or changed character moves ink. Anything else (no ink found, a box at the frame's edge of
/// another size) is `false`: the caller detects the box again.
pub fn ink_held(prev: &Grey, cur: &Grey, b: super::Rect) -> bool {
    if (prev.w, prev.h) != (cur.w, cur.h) || prev.data.len() != cur.data.len() {
        return false;
    }
    let w = prev.w;
    let (x0, y0) = (b.x as usize, b.y as usize);
    let (x1, y1) = ((b.right() as usize).min(prev.w), (b.bottom() as usize).min(prev.h));
    if x0 + 2 >= x1 || y0 + 2 >= y1 {
        return false;
    }
    let n = (x1 - x0) * (y1 - y0);
    if n < 64 {
        return false;
    }
    let mut hist = [0usize; 256];
    for y in y0..y1 {
        prev.data[y * w + x0..y * w + x1].iter().for_each(|&v| hist[v as usize] += 1);
    }
    let floor = (n / 100).max(4);
    let (Some(top), Some(bottom)) = (
        (0..256).rev().find(|&v| hist[v] >= floor),
        (0..256).find(|&v| hist[v] >= floor),
    ) else {
        return false;
    };
    let mut acc = 0;
    let median = (0..256).find(|&v| {
        acc += hist[v];
        acc * 2 >= n
    });
    let median = median.unwrap_or(128) as i32;
    // the bright and the dark band, each where it stands off the median
    let bright = (top.saturating_sub(INK_BAND as usize) as u8, 255u8, top as i32 - median);
    let dark = (0u8, (bottom + INK_BAND as usize).min(255) as u8, median - bottom as i32);
    [bright, dark].iter().any(|&(lo, hi, contrast)| {
        if contrast < INK_CONTRAST as i32 {
            return false;
        }
        let inside = |v: u8| (lo..=hi).contains(&v);
        let (mut ink, mut solid, mut moved, mut now) = (0usize, 0usize, false, 0usize);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * w + x;
                let (a, c) = (prev.data[i], cur.data[i]);
                if inside(c) {
                    now += 1;
                }
                if !inside(a) {
                    continue;
                }
                ink += 1;
                moved |= a.abs_diff(c) > INK_TOL;
                let inner = x > x0 && x + 1 < x1 && y > y0 && y + 1 < y1;
                if inner
                    && [i - 1, i + 1, i - w, i + w].iter().all(|&j| inside(prev.data[j]))
                {
                    solid += 1;
                }
            }
        }
        let share_ok = ink * INK_MIN_SHARE >= n && ink * 2 <= n && ink >= 12;
        let thin = solid * 10 <= ink * 6;
        share_ok && thin && !moved && now <= ink + ink / 50 + 2
    })
}

/// In a series, a moving image (an ultrasound sector, an angiogram: tiles that changed in two steps
/// running) is given to the detector on every `SAMPLE`-th frame only, and when it stops moving; the
/// tiles of the boxes followed from frame to frame are detected again on every frame they change
/// ([`plan_series`]).
pub const SAMPLE: u32 = 4;

/// The changed tiles of a frame of a series that are part of a moving image, left to a later frame:
/// those that also changed, or are next to a tile that changed, in the step before
/// (`prev_changed`), on frames that are not `sampled` (the caller samples every [`SAMPLE`]-th frame
/// and the last). Tiles `tile` pixels square of a `w` × `h` frame.
pub fn deferred_tiles(
    changed: &[bool],
    prev_changed: &[bool],
    sampled: bool,
    (w, h): (usize, usize),
    tile: usize,
) -> Vec<bool> {
    let t = tile.max(4);
    let (tw, th) = (w.div_ceil(t), h.div_ceil(t));
    if sampled || changed.len() != tw * th || prev_changed.len() != tw * th {
        return vec![false; changed.len()];
    }
    let near = grow_by(prev_changed, tw, th, 1);
    changed.iter().zip(near).map(|(&c, n)| c && n).collect()
}

/// [`plan_changed`] with the changed tiles (`changed`, [`changed_tiles`]) and those of them, or of
/// earlier frames, to detect now (`fresh`: the rest is left to a later frame); the tiles of an
/// earlier box that a change touches are detected whatever `fresh` says, unless `hold` (the view
/// the earlier boxes were found in) shows that box's text stood still ([`ink_held`]): it is then
/// kept. Returns the boxes kept, those of them kept over a change (held), and the scan.
#[allow(clippy::too_many_arguments)]
pub fn plan_series(
    g: &Grey,
    prev_boxes: &[super::Rect],
    changed: &[bool],
    fresh: &[bool],
    stroke: &[bool],
    hold: Option<&Grey>,
    p: &Prepass,
    scale: super::Scale,
) -> (Vec<super::Rect>, Vec<super::Rect>, Scan) {
    let t = p.tile.max(4);
    let (tw, th) = (g.w.div_ceil(t), g.h.div_ceil(t));
    if stroke.len() != changed.len() || fresh.len() != changed.len() {
        return (Vec::new(), Vec::new(), Scan::Whole);
    }
    let tiles_of = |r: &super::Rect| {
        let (x0, y0) = (r.x as usize / t, r.y as usize / t);
        let x1 = (r.right() as usize).div_ceil(t).min(tw);
        let y1 = (r.bottom() as usize).div_ceil(t).min(th);
        (y0..y1).flat_map(move |y| (x0..x1).map(move |x| y * tw + x))
    };
    let mut dirty = grow(fresh, tw, th);
    let (mut kept, mut held) = (Vec::new(), Vec::new());
    for b in prev_boxes {
        if !tiles_of(b).any(|i| changed[i]) {
            kept.push(*b);
        } else if hold.is_some_and(|pg| ink_held(pg, g, *b)) {
            kept.push(*b);
            held.push(*b);
        } else {
            tiles_of(b).for_each(|i| dirty[i] = true);
        }
    }
    let todo: Vec<bool> = dirty.iter().zip(stroke).map(|(&d, &s)| d && s).collect();
    (kept, held, plan_tiles(g, &todo, p, scale))
}

/// A rectangle of a `fw` × `fh` frame widened (about its centre, kept inside the frame) to at least
/// [`MIN_REGION`] on its longest side as the detector sees it (at `scale`; so that a region of a
/// frame seen at scale 1 is not scaled up) and each side to a multiple of 64 up to [`MIN_REGION`],
/// of 128 above, as the detector sees it, where the frame allows: few distinct sizes, since the
/// detector builds a plan for each size it sees (about 35 ms natively, as long as detecting 0.1
/// megapixel). Sides in frame pixels are the whole pixels in those lengths at `scale`, whose input
/// side rounds up to the same multiple of 32 (`boxes::input_size_at`).
fn fit(
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    (fw, fh): (usize, usize),
    scale: super::Scale,
) -> super::Rect {
    let side = |p: usize, len: usize, full: usize, min: usize, s: f32| -> (usize, usize) {
        // the length as the detector sees it (whole pixels up); a length it sees, in frame pixels
        let seen = (len as f32 * s).ceil() as usize;
        let px = |v: usize| ((v as f32 / s).floor() as usize).max(1);
        let len_min = seen.max(min);
        let step = if len_min <= MIN_REGION { 64 } else { 128 };
        let want = px(len_min.div_ceil(step) * step);
        if want >= full {
            return (0, full);
        }
        let start = (p + len / 2).saturating_sub(want / 2).min(full - want);
        (start, want)
    };
    let (mw, mh) = if w >= h { (MIN_REGION, 0) } else { (0, MIN_REGION) };
    let (x, w) = side(x, w, fw, mw, scale.x);
    let (y, h) = side(y, h, fh, mh, scale.y);
    super::Rect::new(x as u32, y as u32, w as u32, h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_boxes_of_the_frame_before_are_kept_and_only_what_changed_is_planned() {
        use crate::pixel::{Rect, Scale};
        const ONE: Scale = Scale::ONE;
        let p = Prepass::default();
        let prev = Grey { w: 512, h: 512, data: vec![0; 512 * 512] };
        let stroke = vec![true; 32 * 32];
        let banner = Rect::new(10, 10, 50, 20);
        // nothing changed: the box stands, nothing to detect
        let same = plan_changed(&prev, &prev, &[banner], &stroke, &p, ONE);
        assert_eq!(same, (vec![banner], Scan::Skip));
        // a change far from the box: the box stands, a region around the change is detected
        let mut g = prev.clone();
        g.data[300 * 512 + 300] = 9;
        let (kept, scan) = plan_changed(&g, &prev, &[banner], &stroke, &p, ONE);
        assert_eq!(kept, vec![banner]);
        match scan {
            Scan::Regions(r) => assert!(r.iter().any(|r| r.x <= 300 && r.right() > 300 && r.y <= 300 && r.bottom() > 300)),
            other => panic!("{other:?}"),
        }
        // no stroke tile where it changed: nothing to detect
        let none = vec![false; 32 * 32];
        assert_eq!(plan_changed(&g, &prev, &[banner], &none, &p, ONE), (vec![banner], Scan::Skip));
        // a change inside the box: the box is dropped and its whole area detected again
        let mut g = prev.clone();
        g.data[12 * 512 + 58] = 9;
        let (kept, scan) = plan_changed(&g, &prev, &[banner], &stroke, &p, ONE);
        assert!(kept.is_empty());
        match scan {
            Scan::Regions(r) => assert!(r.iter().any(|r| r.intersect(banner) == Some(banner))),
            other => panic!("{other:?}"),
        }
        // frames of another size: everything is detected
        let small = Grey { w: 256, h: 256, data: vec![0; 256 * 256] };
        assert!(changed_tiles(&prev, &small, 16).iter().all(|&c| c));
    }

    /// A 64 × 32 view: background `bg(x, y)`, and white letters (2-px vertical strokes every 5
    /// columns, with a bar along the top) in a 40 × 12 line at (`dx` + 10, 10) unless `dx` is
    /// `None`.
    fn ink_view(bg: impl Fn(usize, usize) -> u8, dx: Option<usize>) -> Grey {
        let mut data = vec![0u8; 64 * 32];
        for y in 0..32 {
            for x in 0..64 {
                let ink = dx.is_some_and(|dx| {
                    let (lx, ly) = (x as i64 - 10 - dx as i64, y as i64 - 10);
                    (0..40).contains(&lx) && (0..12).contains(&ly) && (lx % 5 < 2 || ly == 0)
                });
                data[y * 64 + x] = if ink { 250 } else { bg(x, y) };
            }
        }
        Grey { w: 64, h: 32, data }
    }

    #[test]
    fn text_standing_still_over_a_changing_background_is_held_and_moved_text_is_not() {
        use crate::pixel::Rect;
        let line = Rect::new(10, 10, 40, 12);
        let grain = |k: usize| move |x: usize, y: usize| ((x * 31 + y * 17 + k * 53) % 97) as u8;
        let before = ink_view(grain(0), Some(0));
        // the background changed everywhere under the line, the letters did not
        assert!(ink_held(&before, &ink_view(grain(1), Some(0)), line));
        // the letters moved by a pixel, or went
        assert!(!ink_held(&before, &ink_view(grain(1), Some(1)), line));
        assert!(!ink_held(&before, &ink_view(grain(1), None), line));
        // a letter came (a stroke in the gap between two), or changed colour
        let mut more = ink_view(grain(1), Some(0));
        for y in 12..22 {
            more.data[y * 64 + 10 + 3] = 250;
            more.data[y * 64 + 10 + 8] = 250;
        }
        assert!(!ink_held(&before, &more, line));
        let mut dim = ink_view(grain(1), Some(0));
        dim.data.iter_mut().filter(|v| **v == 250).for_each(|v| *v = 200);
        assert!(!ink_held(&before, &dim, line));
        // no ink: a flat box, or a bright patch (not thin strokes) that stayed while the rest changed
        let flat = ink_view(|_, _| 40, None);
        assert!(!ink_held(&flat, &flat, line));
        let patch = |k: usize| {
            let inside = |x: usize, y: usize| (10..30).contains(&x) && (10..22).contains(&y);
            ink_view(move |x, y| if inside(x, y) { 250 } else { grain(k)(x, y) }, None)
        };
        assert!(!ink_held(&patch(0), &patch(1), line));
        // a box of another frame size
        assert!(!ink_held(&before, &Grey { w: 32, h: 64, data: before.data.clone() }, line));
    }

    #[test]
    fn a_moving_image_is_left_to_sampled_frames() {
        // 8 × 8 tiles of 16 px; tile 9 changed in the step before
        let mut before = vec![false; 64];
        before[9] = true;
        let mut now = vec![false; 64];
        now[9] = true; // still changing: a moving image
        now[18] = true; // next to it: its edge
        now[45] = true; // far from it: a change in a still part (text appearing)
        let d = deferred_tiles(&now, &before, false, (128, 128), 16);
        assert!(d[9] && d[18] && !d[45]);
        assert_eq!(d.iter().filter(|&&x| x).count(), 2);
        // sampled frames defer nothing
        assert!(deferred_tiles(&now, &before, true, (128, 128), 16).iter().all(|&x| !x));
    }

    #[test]
    fn strokes_down_the_columns_walked_by_rows_are_those_of_each_column_alone() {
        let (w, h, t) = (37, 29, 8);
        for seed in 0u32..6 {
            // noise with strokes of several widths and contrasts, some touching the frame's edges
            let data: Vec<u8> = (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as u32, (i / w) as u32);
                    let v = (i as u32 ^ seed).wrapping_mul(2_654_435_761) >> 24;
                    if (y + seed) % (6 + seed) < 3 || x % 5 == seed % 5 {
                        255 - (v as u8 & 31)
                    } else {
                        v as u8 & 63
                    }
                })
                .collect();
            let g = Grey { w, h, data };
            let c = 24;
            let tw = w.div_ceil(t);
            let mut want = vec![0u32; tw * h.div_ceil(t)];
            for x in 0..w {
                strokes_along(h, |y| g.data[y * w + x], c, |y| want[(y / t) * tw + x / t] += 1);
            }
            assert!(want.iter().sum::<u32>() > 0, "seed {seed}: no strokes to compare");
            assert_eq!(strokes_down(&g, c, t), want, "seed {seed}");
        }
        // frames too small to hold a stroke
        for (w, h) in [(1, 1), (5, 2), (2, 5)] {
            let g = Grey { w, h, data: vec![0; w * h] };
            assert!(strokes_down(&g, 24, 8).iter().all(|&n| n == 0));
        }
    }
}
