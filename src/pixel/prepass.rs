//! The pre-pass in front of the text detector: a frame without sharp edges cannot hold readable text
//! and is not given to the detector (blank frames, empty backgrounds, smooth phantoms).
//!
//! Rule (also in the README): the frame's 8-bit grey view is cut into tiles; a tile is *busy* when at
//! least [`Prepass::min_edges`] of its pixels have a central difference of at least
//! [`Prepass::contrast`] grey levels (10% of the range); a frame without a busy tile is skipped. The
//! thresholds are far below the contrast of any text the detector can find, so the pre-pass never
//! skips text it would have found: `examples/prepass_recall.rs` measures this against whole-frame
//! detection on every frame of the real and generated files.
//!
//! Regions (detecting only the busy parts, or only the parts of a cine frame that changed) were tried
//! and measured: on real images busy tiles cover 45–60% of the frame and connect across it (anatomy,
//! speckle, noise), and detection in crops gave slightly different boxes than the whole frame, so no
//! region shortcut is taken.

use super::Grey;

/// Parameters of [`has_edges`].
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

/// Whether any part of `g` has the sharp edges of text (false: a flat frame, nothing to detect).
pub fn has_edges(g: &Grey, p: &Prepass) -> bool {
    let (w, h) = (g.w, g.h);
    if w < 3 || h < 3 {
        return true;
    }
    let t = p.tile.max(4);
    let tw = w.div_ceil(t);
    let c = p.contrast as i16;
    let d = &g.data;
    let mut count = vec![0u32; tw];
    for y in 1..h - 1 {
        if y % t == 0 {
            count.iter_mut().for_each(|n| *n = 0);
        }
        let row = y * w;
        for x in 1..w - 1 {
            let gx = (d[row + x + 1] as i16 - d[row + x - 1] as i16).abs();
            let gy = (d[row + w + x] as i16 - d[row - w + x] as i16).abs();
            if gx >= c || gy >= c {
                let n = &mut count[x / t];
                *n += 1;
                if *n >= p.min_edges {
                    return true;
                }
            }
        }
    }
    false
}
