//! Pre- and post-processing around the text detector, as plain functions: model input size, the
//! probability map → text boxes (threshold, connected components, score, unclip), boxes → lines.

use super::Rect;

/// Parameters of [`boxes_from_map`] (PP-OCR's DB post-processing, axis-aligned).
#[derive(Clone, Copy, Debug)]
pub struct DbParams {
    /// a map pixel is text when its probability exceeds this
    pub threshold: f32,
    /// a component is kept when its mean probability exceeds this
    pub box_threshold: f32,
    /// DB shrinks text regions when training; the box is grown back by area × ratio / perimeter
    pub unclip_ratio: f32,
    /// components smaller than this (in map pixels, either side) are noise
    pub min_side: u32,
}

impl Default for DbParams {
    fn default() -> Self {
        DbParams {
            threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            min_side: 3,
        }
    }
}

/// Frames whose longest side is below this are scaled up for the detector (small text in a small
/// image is too small for it), by at most [`MAX_UPSCALE`].
pub const MIN_SIDE: usize = 256;
pub const MAX_UPSCALE: f32 = 3.0;

/// The detector's scale for a `w` × `h` frame: down to `max_side`, up towards [`MIN_SIDE`].
pub fn det_scale(w: usize, h: usize, max_side: usize) -> f32 {
    let longest = w.max(h).max(1) as f32;
    if longest > max_side as f32 {
        max_side as f32 / longest
    } else if longest < MIN_SIDE as f32 {
        (MIN_SIDE as f32 / longest).min(MAX_UPSCALE)
    } else {
        1.0
    }
}

/// The model's input size for a frame, and its scale ([`det_scale`]): each side scaled then rounded
/// up to a multiple of 32 (the detector's stride), at least 32.
pub fn input_size(w: usize, h: usize, max_side: usize) -> (usize, usize, f32) {
    let scale = det_scale(w, h, max_side);
    let (iw, ih) = input_size_at(w, h, super::Scale { x: scale, y: scale });
    (iw, ih, scale)
}

/// The model's input size for an image of `w` × `h` seen at `scale`: each side scaled then rounded
/// up to a multiple of 32, at least 32.
pub fn input_size_at(w: usize, h: usize, scale: super::Scale) -> (usize, usize) {
    let r = |v: usize, s: f32| (((v as f32 * s).round() as usize).div_ceil(32) * 32).max(32);
    (r(w, scale.x), r(h, scale.y))
}

/// Text boxes from a probability map of `w` × `h`, in map coordinates.
pub fn boxes_from_map(prob: &[f32], w: usize, h: usize, p: DbParams) -> Vec<Rect> {
    let mut label = vec![0u32; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut next = 0u32;
    for start in 0..w * h {
        if label[start] != 0 || prob[start] <= p.threshold {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let (mut sum, mut count) = (0f32, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            sum += prob[i];
            count += 1;
            // 8-connected
            for dy in -1i32..=1 {
                for dx in -1i32..=1 {
                    let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                    if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if label[j] == 0 && prob[j] > p.threshold {
                        label[j] = next;
                        stack.push(j);
                    }
                }
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) as u32, (y1 - y0 + 1) as u32);
        if bw.min(bh) < p.min_side || sum / (count as f32) < p.box_threshold {
            continue;
        }
        // unclip: grow by d = area × ratio / perimeter on each side
        let d = ((bw * bh) as f32 * p.unclip_ratio / (2 * (bw + bh)) as f32).ceil() as u32;
        let x = (x0 as u32).saturating_sub(d);
        let y = (y0 as u32).saturating_sub(d);
        let r = Rect::new(
            x,
            y,
            (x1 as u32 + 1 + d).min(w as u32) - x,
            (y1 as u32 + 1 + d).min(h as u32) - y,
        );
        out.push(r);
    }
    out
}

/// Scales a box from map coordinates back to the frame (`sx`, `sy` = frame size / map size),
/// rounding outwards, clipped to the frame.
pub fn to_frame(r: Rect, sx: f32, sy: f32, cols: u32, rows: u32) -> Option<Rect> {
    let x0 = (r.x as f32 * sx).floor() as u32;
    let y0 = (r.y as f32 * sy).floor() as u32;
    let x1 = (r.right() as f32 * sx).ceil() as u32;
    let y1 = (r.bottom() as f32 * sy).ceil() as u32;
    Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)).clip(cols, rows)
}

/// Merges boxes into lines: boxes that overlap, or sit on the same line (vertical overlap of at
/// least half the smaller height) with a gap narrower than `gap` × that height.
pub fn merge_lines(mut boxes: Vec<Rect>, gap: f32) -> Vec<Rect> {
    loop {
        let mut merged = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let (a, b) = (boxes[i], boxes[j]);
                if same_line(&a, &b, gap) {
                    boxes[i] = a.union(&b);
                    boxes.swap_remove(j);
                    merged = true;
                    break 'outer;
                }
            }
        }
        if !merged {
            break;
        }
    }
    boxes.sort_by_key(|r| (r.y, r.x));
    boxes
}

fn same_line(a: &Rect, b: &Rect, gap: f32) -> bool {
    // boxes of two lines touch after unclipping: they merge only when they share most of a line
    let overlap = a.bottom().min(b.bottom()) as i64 - a.y.max(b.y) as i64;
    let hmin = a.h.min(b.h) as i64;
    if overlap * 2 < hmin {
        return false;
    }
    let dx = if a.right() <= b.x {
        b.x - a.right()
    } else if b.right() <= a.x {
        a.x - b.right()
    } else {
        0
    };
    (dx as f32) <= gap * hmin as f32
}

/// Grows a box by `m` pixels on each side (clipped to the frame): masks cover anti-aliased edges.
pub fn pad(r: Rect, m: u32, cols: u32, rows: u32) -> Rect {
    let x = r.x.saturating_sub(m);
    let y = r.y.saturating_sub(m);
    Rect::new(
        x,
        y,
        (r.right() + m).min(cols) - x,
        (r.bottom() + m).min(rows) - y,
    )
}

/// The masks of all frames of a multi-frame image as one set: boxes that overlap by at least half
/// of the smaller one become their bounding box (the same text found a few pixels apart on
/// different frames), others stay apart (text that moves). Each input box lies inside one output
/// box.
pub fn union_across_frames(boxes: impl IntoIterator<Item = Rect>) -> Vec<Rect> {
    let close = |a: &Rect, b: &Rect| {
        a.intersect(*b)
            .is_some_and(|i| i.area() * 2 >= a.area().min(b.area()))
    };
    let mut out: Vec<Rect> = Vec::new();
    for b in boxes {
        match out.iter_mut().find(|o| close(o, &b)) {
            Some(o) => *o = o.union(&b),
            None => out.push(b),
        }
    }
    // grown boxes may now overlap each other
    loop {
        let pair = (0..out.len())
            .flat_map(|i| (i + 1..out.len()).map(move |j| (i, j)))
            .find(|&(i, j)| close(&out[i], &out[j]));
        match pair {
            Some((i, j)) => {
                out[i] = out[i].union(&out[j]);
                out.swap_remove(j);
            }
            None => break,
        }
    }
    out.sort_by_key(|r| (r.y, r.x));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_is_a_multiple_of_32_within_the_limit() {
        assert_eq!(input_size(512, 512, 1024), (512, 512, 1.0));
        assert_eq!(input_size(600, 430, 1024), (608, 448, 1.0));
        let (w, h, s) = input_size(2048, 1024, 1024);
        assert_eq!((w, h), (1024, 512));
        assert!((s - 0.5).abs() < 1e-6);
        // small frames are scaled up (at most 3×)
        let (w, h, s) = input_size(100, 80, 1024);
        assert_eq!((w, h), (256, 224));
        assert!((s - 2.56).abs() < 1e-6);
        assert_eq!(input_size(10, 10, 1024).0, 32);
    }

    #[test]
    fn components_become_scored_unclipped_boxes() {
        let (w, h) = (40, 20);
        let mut m = vec![0f32; w * h];
        for y in 5..10 {
            for x in 4..20 {
                m[y * w + x] = 0.9;
            }
        }
        // a weak blob is dropped by its mean score
        for y in 12..16 {
            for x in 30..36 {
                m[y * w + x] = 0.35;
            }
        }
        // a speck is dropped by its size
        m[18 * w + 2] = 0.99;
        let b = boxes_from_map(&m, w, h, DbParams::default());
        assert_eq!(b.len(), 1);
        let r = b[0];
        assert!(
            r.x < 4 && r.y < 5 && r.right() > 20 && r.bottom() > 10,
            "{r:?}"
        );
    }

    #[test]
    fn words_on_one_line_merge_and_lines_stay_apart() {
        let words = vec![
            Rect::new(10, 10, 30, 12),
            Rect::new(45, 11, 40, 12),
            Rect::new(10, 40, 30, 12),
            Rect::new(200, 10, 20, 12),
        ];
        let l = merge_lines(words, 1.0);
        assert_eq!(
            l,
            vec![
                Rect::new(10, 10, 75, 13),
                Rect::new(200, 10, 20, 12),
                Rect::new(10, 40, 30, 12)
            ]
        );
    }

    #[test]
    fn boxes_of_the_same_text_on_several_frames_join_and_moving_text_stays_apart() {
        let u = union_across_frames([
            Rect::new(75, 39, 312, 28),
            Rect::new(79, 39, 308, 28),
            Rect::new(68, 39, 319, 29),
            Rect::new(10, 200, 40, 12),
            Rect::new(60, 200, 40, 12),
            Rect::new(75, 39, 312, 28),
        ]);
        assert_eq!(
            u,
            vec![
                Rect::new(68, 39, 319, 29),
                Rect::new(10, 200, 40, 12),
                Rect::new(60, 200, 40, 12)
            ]
        );
        assert!(union_across_frames([]).is_empty());
    }

    #[test]
    fn boxes_scale_back_outwards() {
        assert_eq!(
            to_frame(Rect::new(10, 10, 5, 5), 2.0, 2.0, 100, 100),
            Some(Rect::new(20, 20, 10, 10))
        );
        assert_eq!(
            to_frame(Rect::new(45, 45, 10, 10), 2.0, 2.0, 100, 100),
            Some(Rect::new(90, 90, 10, 10))
        );
    }
}
