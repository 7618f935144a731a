//! The pixel engine: burned-in text in the pixel data.
//!
//! Flow (one way): describe the image ([`image`]) → decode each frame to samples → an 8-bit grey view
//! per frame → find text (a [`TextFinder`], the OCR back end in `crate::ocr`, feature `pixel`) and the
//! region rules that always apply ([`regions`]) → decide per box ([`policy`]) → mask in the stored
//! samples → write back in the same transfer syntax where an encoder exists, else explicit VR little
//! endian.

#[cfg(feature = "pixel")]
pub mod regions;

use serde::{Deserialize, Serialize};

/// A rectangle in pixel coordinates of a frame (x to the right, y down; `w`/`h` in pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.w)
    }
    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.h)
    }
    pub fn area(&self) -> u64 {
        self.w as u64 * self.h as u64
    }
    /// The part of this rectangle inside a `cols` × `rows` frame (`None` if nothing is left).
    pub fn clip(&self, cols: u32, rows: u32) -> Option<Rect> {
        let (x0, y0) = (self.x.min(cols), self.y.min(rows));
        let (x1, y1) = (self.right().min(cols), self.bottom().min(rows));
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
    /// The common part of two rectangles (`None` if they do not overlap).
    pub fn intersect(&self, o: Rect) -> Option<Rect> {
        let (x0, y0) = (self.x.max(o.x), self.y.max(o.y));
        let (x1, y1) = (self.right().min(o.right()), self.bottom().min(o.bottom()));
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }
    pub fn union(&self, o: &Rect) -> Rect {
        let (x0, y0) = (self.x.min(o.x), self.y.min(o.y));
        let (x1, y1) = (self.right().max(o.right()), self.bottom().max(o.bottom()));
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }
}

#[cfg(feature = "pixel")]
pub mod boxes;
#[cfg(feature = "pixel")]
mod engine;
#[cfg(feature = "pixel")]
pub mod image;
#[cfg(feature = "jpeg2000")]
pub mod j2k;
#[cfg(feature = "pixel")]
pub mod prepass;
#[cfg(feature = "pixel")]
pub use engine::{
    clean, decide, detect_frame, detect_frame_after, detect_series_frame, letters_ocr, normalise_ocr, region_rects, FrameBoxes,
};

#[cfg(feature = "pixel")]
use regions::RegionRule;

/// Finds and reads text in a grey frame: the OCR back end (`crate::ocr::Ocr`, feature `pixel`).
/// A trait so that the core needs no model to build, and tests can plug in a stand-in.
pub trait TextFinder: Send + Sync {
    /// Text line boxes in frame coordinates.
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String>;
    /// The scale at which [`TextFinder::detect`] sees a frame of `w` × `h` ([`Scale::ONE`]: its own
    /// pixels; less for a frame the detector scales down). The pre-pass cuts regions of such a
    /// frame ([`prepass::plan`]), each detected at the frame's scale ([`TextFinder::detect_at`]).
    fn scale(&self, _w: usize, _h: usize) -> Scale {
        Scale::ONE
    }
    /// Text line boxes in `img`, a part of a frame, seen at `scale` (the frame's): the boxes the
    /// detector finds there in the whole frame.
    fn detect_at(&self, img: &Grey, _scale: Scale) -> Result<Vec<Rect>, String> {
        self.detect(img)
    }
    /// The text in one box, with where each character sits.
    fn read(&self, img: &Grey, r: Rect) -> Result<Reading, String>;
    /// A quicker, less accurate reading of a box, when the back end has a second, faster
    /// recogniser: the engine takes it where it is confident and cannot hide a leak (see
    /// `engine::read_line`), and reads again with [`TextFinder::read`] otherwise. `None`: no fast
    /// recogniser.
    fn read_fast(&self, _img: &Grey, _r: Rect) -> Result<Option<Reading>, String> {
        Ok(None)
    }
}

/// The scale at which the detector sees a frame, per axis (its input's side over the frame's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub x: f32,
    pub y: f32,
}

impl Scale {
    pub const ONE: Scale = Scale { x: 1.0, y: 1.0 };

    /// Whether the detector sees the frame at its own size or smaller on both axes.
    pub fn at_most_one(&self) -> bool {
        self.x > 0.0 && self.x <= 1.0 && self.y > 0.0 && self.y <= 1.0
    }
}

/// Text read from a box: the characters and, for each, its byte range in `text` and its horizontal
/// extent in frame coordinates (`x0..x1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub text: String,
    pub chars: Vec<(std::ops::Range<usize>, u32, u32)>,
    /// The recogniser's confidence in the reading: the lowest probability of the best class over
    /// the steps that wrote a symbol (0..1; 1 for a reading given as such).
    pub confidence: f32,
}

impl Reading {
    /// A reading without positions (the whole box for every character).
    pub fn whole(text: &str, r: Rect) -> Reading {
        let chars = text
            .char_indices()
            .map(|(i, c)| (i..i + c.len_utf8(), r.x, r.right()))
            .collect();
        Reading {
            text: text.to_string(),
            chars,
            confidence: 1.0,
        }
    }

    /// The part of box `r` that holds the bytes `range` of the text, widened by `margin` pixels on
    /// each side; the whole box when positions are missing.
    pub fn sub_rect(&self, r: Rect, range: &std::ops::Range<usize>, margin: u32) -> Rect {
        let xs: Vec<(u32, u32)> = self
            .chars
            .iter()
            .filter(|(b, _, _)| b.start < range.end && range.start < b.end)
            .map(|(_, a, z)| (*a, *z))
            .collect();
        if xs.is_empty() {
            return r;
        }
        let x0 = xs
            .iter()
            .map(|p| p.0)
            .min()
            .unwrap()
            .saturating_sub(margin)
            .max(r.x);
        let x1 = (xs.iter().map(|p| p.1).max().unwrap() + margin).min(r.right());
        if x1 <= x0 {
            return r;
        }
        Rect::new(x0, r.y, x1 - x0, r.h)
    }
}

/// A user's own rectangle, always masked (optionally only for a modality, a manufacturer prefix, a
/// size); see `regions` for the matching rules.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRegion {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    #[serde(default)]
    pub modality: Option<String>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    #[serde(default)]
    pub rows: Option<u32>,
    #[serde(default)]
    pub columns: Option<u32>,
}

/// An 8-bit grey image (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Grey {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

impl Grey {
    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.data[y * self.w + x]
    }
    /// A copy of a rectangle.
    pub fn crop(&self, r: Rect) -> Grey {
        let r = r
            .clip(self.w as u32, self.h as u32)
            .unwrap_or(Rect::new(0, 0, 1, 1));
        let mut data = Vec::with_capacity(r.area() as usize);
        for y in r.y as usize..r.bottom() as usize {
            data.extend_from_slice(
                &self.data[y * self.w + r.x as usize..y * self.w + r.right() as usize],
            );
        }
        Grey {
            w: r.w as usize,
            h: r.h as usize,
            data,
        }
    }
}

impl Grey {
    /// Each pixel stretched between the darkest and brightest pixel of the `win` × `win` window
    /// around it (0 where that window spans less than `min_span` levels): text drawn over a part of
    /// the image close to its own value becomes as sharp as text on a plain background.
    pub fn local_contrast(&self, win: usize, min_span: u8) -> Grey {
        let r = win / 2;
        // separable running minimum and maximum: along rows, then along columns
        let pass = |src: &[u8], w: usize, h: usize, horizontal: bool, f: fn(u8, u8) -> u8| {
            let mut out = vec![0u8; src.len()];
            for y in 0..h {
                for x in 0..w {
                    let (c, n) = if horizontal { (x, w) } else { (y, h) };
                    let (a, z) = (c.saturating_sub(r), (c + r).min(n - 1));
                    let mut v = src[y * w + x];
                    for k in a..=z {
                        let i = if horizontal { y * w + k } else { k * w + x };
                        v = f(v, src[i]);
                    }
                    out[y * w + x] = v;
                }
            }
            out
        };
        let (w, h) = (self.w, self.h);
        let lo = pass(&pass(&self.data, w, h, true, u8::min), w, h, false, u8::min);
        let hi = pass(&pass(&self.data, w, h, true, u8::max), w, h, false, u8::max);
        let data = (0..self.data.len())
            .map(|i| {
                let span = hi[i] - lo[i];
                if span < min_span {
                    0
                } else {
                    ((self.data[i] - lo[i]) as u32 * 255 / span as u32) as u8
                }
            })
            .collect();
        Grey { w, h, data }
    }
}

/// Which burned-in text is masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// text that matches the file's (and batch's) identifying values, or a date, time or ID pattern
    #[default]
    PhiOnly,
    /// every text box except labels (L, R, cm, Hz, measurements...)
    AllText,
    /// no text detection (region rules still apply)
    None,
}

impl Policy {
    pub fn as_str(&self) -> &'static str {
        match self {
            Policy::PhiOnly => "phi-only",
            Policy::AllText => "all-text",
            Policy::None => "none",
        }
    }
}

/// What happens to a file whose pixel data cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Undecodable {
    /// the file is reported as failed and not written (default)
    #[default]
    Fail,
    /// the file is written with its pixels unchanged and a warning in the report
    Pass,
}

/// The pixel options as a user writes them (part of the configuration JSON, key `pixels`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PixelInput {
    pub policy: Policy,
    pub undecodable: Undecodable,
    /// the user's own rectangles, always masked
    pub regions: Vec<UserRegion>,
    /// a CTP `DicomPixelAnonymizer.script` (its text)
    pub ctp_script: Option<String>,
    /// a pydicom/deid recipe with `%filter` blocks (its text)
    pub deid_recipe: Option<String>,
    /// ultrasound: mask everything outside the Sequence of Ultrasound Regions
    pub mask_outside_ultrasound_regions: bool,
    /// extra labels that `all-text` leaves (matched case-insensitively, whole line)
    pub allow_labels: Vec<String>,
    /// skip frames without the strokes of letters and detect only the regions around them
    /// (`src/pixel/prepass.rs`); `false`: every whole frame goes to the detector
    pub prepass: bool,
    /// multi-frame images: text masked on one frame is masked on every frame (text burned into a
    /// series usually stays put, and a frame where it is faint or half hidden must not show it);
    /// `false`: each frame gets only the boxes found on it
    pub mask_on_every_frame: bool,
}

impl Default for PixelInput {
    fn default() -> Self {
        PixelInput {
            policy: Policy::PhiOnly,
            undecodable: Undecodable::Fail,
            regions: Vec::new(),
            ctp_script: None,
            deid_recipe: None,
            mask_outside_ultrasound_regions: false,
            allow_labels: Vec::new(),
            prepass: true,
            mask_on_every_frame: true,
        }
    }
}

/// Validated pixel options.
#[derive(Clone, Debug)]
pub struct PixelConfig {
    pub policy: Policy,
    pub undecodable: Undecodable,
    #[cfg(feature = "pixel")]
    pub rules: Vec<RegionRule>,
    /// region rules are configured (this build cannot apply them without the pixel feature)
    pub has_rules: bool,
    pub us_outside: bool,
    pub allow: Vec<String>,
    pub prepass: bool,
    pub mask_on_every_frame: bool,
}

impl PixelConfig {
    /// Validates the pixel options. Scripts and recipes are parsed by builds with the pixel engine;
    /// without it (the browser's header module) they are only noted, and the page loads the pixel
    /// module, which parses and applies them.
    pub fn validate(input: &PixelInput) -> Result<PixelConfig, String> {
        let has_rules =
            !input.regions.is_empty() || input.ctp_script.is_some() || input.deid_recipe.is_some();
        #[cfg(feature = "pixel")]
        let rules = {
            let mut rules: Vec<RegionRule> = input.regions.iter().map(|r| r.to_rule()).collect();
            if let Some(s) = &input.ctp_script {
                rules.extend(
                    regions::parse_ctp_script(s).map_err(|e| format!("pixels.ctp_script: {e}"))?,
                );
            }
            if let Some(s) = &input.deid_recipe {
                rules.extend(
                    regions::parse_deid_recipe(s)
                        .map_err(|e| format!("pixels.deid_recipe: {e}"))?,
                );
            }
            rules
        };
        Ok(PixelConfig {
            policy: input.policy,
            undecodable: input.undecodable,
            #[cfg(feature = "pixel")]
            rules,
            has_rules,
            us_outside: input.mask_outside_ultrasound_regions,
            allow: input
                .allow_labels
                .iter()
                .map(|s| s.trim().to_uppercase())
                .collect(),
            prepass: input.prepass,
            mask_on_every_frame: input.mask_on_every_frame,
        })
    }

    /// True when pixel data is looked at at all.
    pub fn active(&self) -> bool {
        self.policy != Policy::None || self.has_rules || self.us_outside
    }
}

/// One masked (or found and kept) box, for the report. Never the text read.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BoxRecord {
    /// the frame (0-based); `null` for boxes masked on every frame (region rules)
    pub frame: Option<u32>,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// why: `phi` (matched identifying values), `pattern` (date/time/ID), `text` (all-text policy),
    /// `unreadable`, `region:<rule>`, `outside-ultrasound-region`, `other-frames` (masked on every
    /// frame because text was masked there on some frame), or `kept` (text left, phi-only)
    pub reason: String,
    pub masked: bool,
}

impl BoxRecord {
    /// The record of box `r` (on `frame`, or every frame when `None`).
    pub fn new(frame: Option<u32>, r: Rect, reason: impl Into<String>, masked: bool) -> BoxRecord {
        BoxRecord {
            frame,
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
            reason: reason.into(),
            masked,
        }
    }
}

/// What the pixel engine did with one file.
#[derive(Clone, Debug, Serialize, Default, PartialEq)]
pub struct PixelReport {
    pub policy: &'static str,
    pub frames: u32,
    /// frames given to the text detector (others reused an identical frame's result)
    pub frames_detected: u32,
    pub boxes: Vec<BoxRecord>,
    /// true when any pixel was changed
    pub masked: bool,
    /// the transfer syntax written (differs from the input's when no encoder for it exists)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_syntax_out: Option<String>,
    /// set when the pixel data could not be decoded and the file was passed on request
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Pixel engine errors (turned into `DeidError::Pixels`).
#[derive(Debug, thiserror::Error)]
pub enum PixelError {
    #[error("pixel data cannot be cleaned: {0}")]
    Image(String),
    #[error("text detection failed: {0}")]
    Ocr(String),
    #[error("pixel cleaning is on but this build has no text models: load them or set pixels.policy to \"none\"")]
    NoModels,
    #[error("pixel cleaning is on but this build has no pixel engine (use the pixel build, or set pixels.policy to \"none\" and remove region rules)")]
    NoPixelEngine,
}

/// A 64-bit hash of some bytes, for reuse of results on identical pixels (in memory only); another
/// `salt` gives an independent hash.
#[cfg(feature = "pixel")]
pub(crate) fn content_hash(data: &[u8], salt: u8) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    salt.hash(&mut h);
    data.hash(&mut h);
    h.finish()
}

/// Without the pixel engine: no region rules apply (see [`PixelConfig::active`]).
#[cfg(not(feature = "pixel"))]
pub fn region_rects(
    _: &PixelConfig,
    _: &[crate::dicom::Element<'_>],
    _: bool,
) -> Vec<(Rect, String)> {
    Vec::new()
}

/// Without the pixel engine an active pixel configuration fails every file that has pixel data.
#[cfg(not(feature = "pixel"))]
#[allow(clippy::too_many_arguments)]
pub fn clean(
    ds: &mut Vec<crate::dicom::Element<'_>>,
    _: &str,
    _: bool,
    _: &PixelConfig,
    _: Option<&dyn TextFinder>,
    _: &[(Rect, String)],
    _: &crate::text::Cleaner,
    _: &crate::text::DenyList,
) -> Result<Option<(PixelReport, String)>, PixelError> {
    if crate::dicom::find(ds, crate::dicom::PIXEL_DATA).is_some() {
        Err(PixelError::NoPixelEngine)
    } else {
        Ok(None)
    }
}
