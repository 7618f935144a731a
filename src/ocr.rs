//! The OCR back end of the pixel engine: PP-OCR text detection (DBNet) and recognition (CRNN + CTC)
//! models in ONNX, run with `tract` (pure Rust; the same code natively and in WebAssembly).
//!
//! Models are given as bytes ([`Ocr::from_bytes`]: no file system in a worker). The detector needs a
//! fixed input size, so one optimised plan is built per input size and cached; recognition plans are
//! cached per 64-pixel width bucket (a symbolic width runs several times slower than a concrete plan).
//! Where tract can, the plans of a model share one typing and decluttering at a symbolic size
//! ([`Plans`]), which is most of a plan's cost.

use crate::pixel::boxes::{self, DbParams};
use crate::pixel::image::Grey;
use crate::pixel::{Reading, Rect, Scale, TextFinder};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::Framework;

type Plan = Arc<TypedRunnableModel>;

/// Errors loading or running the models.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the {which} model cannot be loaded: {message}")]
    Load {
        which: &'static str,
        message: String,
    },
    #[error("the {which} model failed: {message}")]
    Run {
        which: &'static str,
        message: String,
    },
    #[error("the recognition model has no character dictionary (metadata key `character`) and none was given")]
    NoDictionary,
    #[error("the model file {name} cannot be read: {message}")]
    File { name: String, message: String },
}

/// The files of a model set, by name (what `scripts/fetch-models` writes and the web build copies):
/// detector, recogniser, and the optional fast recogniser with its dictionary.
pub const MODEL_FILES: [&str; 4] = ["det.onnx", "rec.onnx", "rec-fast.onnx", "rec-fast.txt"];

/// A recognition model with its dictionary, its plans (one per 64-pixel width bucket) and the
/// readings of the crops it has read.
struct Recogniser {
    stats: Arc<Mutex<OcrStats>>,
    /// this recogniser's counters in `stats`
    counts: fn(&mut OcrStats) -> &mut ReadCounts,
    dict: Vec<String>,
    plans: Plans,
    readings: Mutex<HashMap<CropKey, Reading>>,
}

/// The identity of a crop: its size and two independent 64-bit hashes of its pixels.
type CropKey = (usize, usize, u64, u64);

/// Readings kept per recogniser (then the cache starts again): a few hundred kilobytes.
const READINGS_MAX: usize = 4096;

fn crop_key(crop: &Grey) -> CropKey {
    use crate::pixel::content_hash;
    (
        crop.w,
        crop.h,
        content_hash(&crop.data, 0),
        content_hash(&crop.data, 0x5a),
    )
}

/// Where the OCR's time went (native builds only; the clock is not read in WebAssembly): calls,
/// milliseconds and, for the detector, input pixels; plan builds are counted apart. Read by the
/// benchmarks ([`Ocr::stats`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct OcrStats {
    pub detect_calls: u64,
    pub detect_ms: f64,
    /// input pixels given to the detector (at model size)
    pub detect_pixels: u64,
    /// the main recogniser
    pub read: ReadCounts,
    /// the fast recogniser
    pub fast: ReadCounts,
    pub plans_built: u64,
    /// of them, those optimised from the model's shared symbolic typing ([`Plans`])
    pub plans_shared: u64,
    pub plan_ms: f64,
}

/// One recogniser's readings: run (and their milliseconds, plans left out) and found in its cache.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadCounts {
    pub calls: u64,
    pub ms: f64,
    pub cached: u64,
}

/// A stopwatch that reads nothing where there is no clock (wasm32-unknown-unknown).
struct Watch(#[cfg(not(target_arch = "wasm32"))] std::time::Instant);

impl Watch {
    fn start() -> Watch {
        Watch(
            #[cfg(not(target_arch = "wasm32"))]
            std::time::Instant::now(),
        )
    }
    fn ms(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.elapsed().as_secs_f64() * 1e3;
        #[cfg(target_arch = "wasm32")]
        0.0
    }
}

/// Detector and recogniser, with an optional second, faster recogniser ([`Ocr::with_fast`]).
pub struct Ocr {
    stats: Arc<Mutex<OcrStats>>,
    det: Plans,
    rec: Recogniser,
    fast: Option<Recogniser>,
    /// the detector's input is limited to this side (larger frames are scaled down)
    pub max_side: usize,
    pub params: DbParams,
}

/// Height of the recogniser's input.
const REC_HEIGHT: usize = 48;
/// Longest recogniser input (longer lines are cut in pieces).
const REC_MAX_WIDTH: usize = 1280;

fn load(
    bytes: &[u8],
    which: &'static str,
) -> Result<(InferenceModel, Vec<(String, String)>), OcrError> {
    let onnx = tract_onnx::onnx().with_ignore_value_info(true);
    let mut proto = onnx
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| OcrError::Load {
            which,
            message: format!("{e:#}"),
        })?;
    let meta = proto
        .metadata_props
        .iter()
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    if let Some(g) = proto.graph.as_mut() {
        widen_shape_casts(g);
    }
    let model = onnx
        .model_for_proto_model(&proto)
        .map_err(|e| OcrError::Load {
            which,
            message: format!("{e:#}"),
        })?;
    Ok((model, meta))
}

/// ONNX's element type codes (`TensorProto.DataType`) for the casts [`widen_shape_casts`] rewrites.
const ONNX_INT32: i64 = 6;
const ONNX_INT64: i64 = 7;

/// Rewrites, in a graph, a tensor's shape cast to 32-bit integers, cut, and cast back to 64 bits
/// (`Shape → Cast(int32) → Slice | Gather | Squeeze | Unsqueeze → Cast(int64)`, as PaddlePaddle's
/// exporter writes a computed reshape) into a shape kept in 64 bits throughout: the same values,
/// since a size fits either way, but tract can then follow a symbolic size through it (it cannot
/// through a 32-bit cast). PP-OCRv4's recogniser computes a reshape so; rewritten, it is typed at a
/// symbolic width once and each width's plan is only optimised ([`Plans`]). Only casts whose every
/// use is that pattern are rewritten (no other type changes). Returns how many were.
fn widen_shape_casts(g: &mut tract_onnx::pb::GraphProto) -> usize {
    use std::collections::HashSet;
    let shapes: HashSet<&str> = g
        .node
        .iter()
        .filter(|n| n.op_type == "Shape")
        .flat_map(|n| n.output.iter().map(String::as_str))
        .collect();
    let graph_outputs: HashSet<&str> = g.output.iter().map(|o| o.name.as_str()).collect();
    let cast_to = |n: &tract_onnx::pb::NodeProto, to: i64| {
        n.op_type == "Cast" && n.attribute.iter().any(|a| a.name == "to" && a.i == to)
    };
    let users = |name: &str| -> Vec<&tract_onnx::pb::NodeProto> {
        g.node.iter().filter(|n| n.input.iter().any(|i| i == name)).collect()
    };
    let cut = |n: &tract_onnx::pb::NodeProto, from: &str| {
        matches!(n.op_type.as_str(), "Slice" | "Gather" | "Squeeze" | "Unsqueeze")
            && n.input.first().is_some_and(|i| i == from)
            && n.input.iter().skip(1).all(|i| i != from)
            && n.output.iter().all(|o| {
                let u = users(o);
                !graph_outputs.contains(o.as_str())
                    && !u.is_empty()
                    && u.iter().all(|u| cast_to(u, ONNX_INT64))
            })
    };
    let widen: Vec<usize> = g
        .node
        .iter()
        .enumerate()
        .filter(|(_, n)| cast_to(n, ONNX_INT32) && n.input.len() == 1 && n.output.len() == 1)
        .filter(|(_, n)| shapes.contains(n.input[0].as_str()))
        .filter(|(_, n)| {
            let out = n.output[0].as_str();
            let u = users(out);
            !graph_outputs.contains(out) && !u.is_empty() && u.iter().all(|u| cut(u, out))
        })
        .map(|(i, _)| i)
        .collect();
    for &i in &widen {
        for a in g.node[i].attribute.iter_mut().filter(|a| a.name == "to") {
            a.i = ONNX_INT64;
        }
    }
    widen.len()
}

impl Ocr {
    /// Loads the detector and the recogniser. The dictionary is read from the recogniser's metadata
    /// (`character`, one symbol per line) unless given (`dict`: a dictionary text file, one symbol
    /// per line, CRLF or LF).
    pub fn from_bytes(det: &[u8], rec: &[u8], dict: Option<&str>) -> Result<Ocr, OcrError> {
        let (det, _) = load(det, "detection")?;
        let stats = Arc::new(Mutex::new(OcrStats::default()));
        Ok(Ocr {
            det: Plans::new(det, "detection", (32, 32)),
            rec: Recogniser::load(rec, dict, "recognition", &stats, |s| &mut s.read)?,
            stats,
            fast: None,
            max_side: 1024,
            params: DbParams::default(),
        })
    }

    /// Loads a model set by file name ([`MODEL_FILES`]) from `get`, which gives a file's bytes,
    /// `None` when it is absent, or an error message (the platform's file system or fetch).
    /// `det.onnx` and `rec.onnx` are required; `rec-fast.onnx` (with `rec-fast.txt`, its
    /// dictionary) is optional.
    pub fn from_named(
        get: impl Fn(&str) -> Result<Option<Vec<u8>>, String>,
    ) -> Result<Ocr, OcrError> {
        let file = |name: &str| {
            get(name).map_err(|message| OcrError::File {
                name: name.to_string(),
                message,
            })
        };
        let need = |name: &str| {
            file(name)?.ok_or_else(|| OcrError::File {
                name: name.to_string(),
                message: "absent".to_string(),
            })
        };
        let [det, rec, fast, fast_dict] = MODEL_FILES;
        let ocr = Ocr::from_bytes(&need(det)?, &need(rec)?, None)?;
        match file(fast)? {
            Some(fast) => {
                let dict = file(fast_dict)?.map(|d| String::from_utf8_lossy(&d).into_owned());
                ocr.with_fast(&fast, dict.as_deref())
            }
            None => Ok(ocr),
        }
    }

    /// [`Ocr::from_named`] on the files of a folder (native builds: the CLI, examples and tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_dir(dir: &std::path::Path) -> Result<Ocr, OcrError> {
        Ocr::from_named(|name| match std::fs::read(dir.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", dir.join(name).display())),
        })
    }

    /// Adds a faster, less accurate recogniser (PP-OCRv6 tiny), read first; the engine reads again
    /// with the main one where the fast reading is not confident or could hide a leak.
    pub fn with_fast(mut self, rec: &[u8], dict: Option<&str>) -> Result<Ocr, OcrError> {
        self.fast = Some(Recogniser::load(
            rec,
            dict,
            "fast recognition",
            &self.stats,
            |s| &mut s.fast,
        )?);
        Ok(self)
    }

    /// Builds every plan from the ONNX model for its size, as before plans shared a symbolic typing
    /// (for tests and benchmarks that compare the two).
    pub fn with_plans_per_size(self) -> Ocr {
        let mut all = vec![&self.det, &self.rec.plans];
        all.extend(self.fast.as_ref().map(|f| &f.plans));
        for p in all {
            *p.general.lock().unwrap() = General::No;
        }
        self
    }

    /// The detector's probability map for a grey image, at model input size.
    pub fn probability_map(&self, img: &Grey) -> Result<(Vec<f32>, usize, usize), OcrError> {
        self.probability_map_at(img, self.scale(img.w, img.h))
    }

    /// [`Ocr::probability_map`] of an image seen at `scale` (a part of a frame, at the frame's
    /// scale).
    pub fn probability_map_at(
        &self,
        img: &Grey,
        scale: Scale,
    ) -> Result<(Vec<f32>, usize, usize), OcrError> {
        let (w, h) = boxes::input_size_at(img.w, img.h, scale);
        let plan = self.det.get(h, w, &self.stats)?;
        let watch = Watch::start();
        const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
        const STD: [f32; 3] = [0.229, 0.224, 0.225];
        let resized = resize(img, w, h);
        let mut s = vec![0f32; 3 * w * h];
        for c in 0..3 {
            let plane = &mut s[c * w * h..(c + 1) * w * h];
            for (o, &g) in plane.iter_mut().zip(resized.iter()) {
                *o = (g as f32 / 255.0 - MEAN[c]) / STD[c];
            }
        }
        let (view, _) = run(&plan, [1, 3, h, w], &s, "detection")?;
        let map: Vec<f32> = view.into_iter().take(w * h).collect();
        let mut st = self.stats.lock().unwrap();
        st.detect_calls += 1;
        st.detect_ms += watch.ms();
        st.detect_pixels += (w * h) as u64;
        Ok((map, w, h))
    }

    /// Where the time went so far (zeros in WebAssembly but for the counts).
    pub fn stats(&self) -> OcrStats {
        *self.stats.lock().unwrap()
    }

    /// Reads one line of text, with each character's horizontal extent in frame coordinates.
    pub fn recognise(&self, img: &Grey, r: Rect) -> Result<Reading, OcrError> {
        self.rec.read(img, r)
    }

    /// Reads one line with the fast recogniser, when there is one.
    pub fn recognise_fast(&self, img: &Grey, r: Rect) -> Result<Option<Reading>, OcrError> {
        self.fast.as_ref().map(|f| f.read(img, r)).transpose()
    }
}

impl Recogniser {
    fn load(
        bytes: &[u8],
        dict: Option<&str>,
        which: &'static str,
        stats: &Arc<Mutex<OcrStats>>,
        counts: fn(&mut OcrStats) -> &mut ReadCounts,
    ) -> Result<Recogniser, OcrError> {
        let (model, meta) = load(bytes, which)?;
        let text = match dict {
            Some(d) => d.to_string(),
            None => meta
                .into_iter()
                .find(|(k, _)| k == "character")
                .map(|(_, v)| v)
                .ok_or(OcrError::NoDictionary)?,
        };
        let dict: Vec<String> = text
            .split('\n')
            .map(|l| l.trim_end_matches('\r').to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if dict.is_empty() {
            return Err(OcrError::NoDictionary);
        }
        Ok(Recogniser {
            stats: stats.clone(),
            counts,
            dict,
            plans: Plans::new(model, which, (0, 64)),
            readings: Mutex::new(HashMap::new()),
        })
    }

    /// Reads box `r` of `img`. A reading depends only on the crop's pixels, so the same crop seen
    /// again (the same banner or label on the next image of a series, in the next file of a batch)
    /// is not read again: its reading is kept with positions relative to the crop.
    fn read(&self, img: &Grey, r: Rect) -> Result<Reading, OcrError> {
        let crop = img.crop(r);
        if crop.w == 0 || crop.h == 0 {
            return Ok(Reading::default());
        }
        let key = crop_key(&crop);
        let cached = self.readings.lock().unwrap().get(&key).cloned();
        let rel = match cached {
            Some(v) => {
                (self.counts)(&mut self.stats.lock().unwrap()).cached += 1;
                v
            }
            None => {
                let v = self.read_crop(&crop)?;
                let mut m = self.readings.lock().unwrap();
                if m.len() >= READINGS_MAX {
                    m.clear();
                }
                m.insert(key, v.clone());
                v
            }
        };
        // crop columns → frame columns
        let chars = rel
            .chars
            .into_iter()
            .map(|(b, x0, x1)| (b, r.x + x0, (r.x + x1).min(r.right())))
            .collect();
        Ok(Reading { chars, ..rel })
    }

    /// Reads a crop; character extents in crop columns.
    fn read_crop(&self, crop: &Grey) -> Result<Reading, OcrError> {
        let scaled_w = ((crop.w as f32 * REC_HEIGHT as f32 / crop.h as f32).ceil() as usize)
            .clamp(8, REC_MAX_WIDTH);
        let bucket = scaled_w.div_ceil(64) * 64;
        let plan = self.plans.get(REC_HEIGHT, bucket, &self.stats)?;
        let watch = Watch::start();
        let resized = resize(crop, scaled_w, REC_HEIGHT);
        let mut s = vec![0f32; 3 * REC_HEIGHT * bucket];
        for c in 0..3 {
            for y in 0..REC_HEIGHT {
                for x in 0..scaled_w {
                    s[c * REC_HEIGHT * bucket + y * bucket + x] =
                        resized[y * scaled_w + x] as f32 / 127.5 - 1.0;
                }
            }
        }
        let (flat, shape) = run(&plan, [1, 3, REC_HEIGHT, bucket], &s, "recognition")?;
        let (steps, classes) = (shape[1], shape[2]);
        // the steps over the padding (right of the scaled crop) are not part of the reading
        let used = ((scaled_w as f32 / bucket as f32) * steps as f32).ceil() as usize;
        let confidence = ctc_confidence(&flat, used.min(steps), classes);
        let (text, spans) = ctc_decode_spans(&flat, steps, classes, &self.dict);
        // step → input column → crop column
        let per_step = bucket as f32 / steps.max(1) as f32 * crop.w as f32 / scaled_w as f32;
        let chars = spans
            .into_iter()
            .map(|(b, t0, t1)| {
                (
                    b,
                    (t0 as f32 * per_step).floor() as u32,
                    ((t1 + 1) as f32 * per_step).ceil() as u32,
                )
            })
            .collect();
        let mut st = self.stats.lock().unwrap();
        let counts = (self.counts)(&mut st);
        counts.calls += 1;
        counts.ms += watch.ms();
        drop(st);
        Ok(Reading {
            text,
            chars,
            confidence,
        })
    }
}

/// How sure a CTC reading is: the lowest, over the first `steps` steps, of the winning class's
/// probability (a dropped or doubtful character shows as a low step). Where the winner is the blank
/// or the space, the step counts the two together: whether a gap between characters is a space or
/// not does not change what is read ("W 400" or "W400"; identifiers are matched with and without
/// their spaces), and counted apart, that doubt sent 2,313 lines instead of 1,777 to the second
/// reading on the real files and two generated sets.
pub fn ctc_confidence(probs: &[f32], steps: usize, classes: usize) -> f32 {
    (0..steps)
        .map(|t| {
            let p = &probs[t * classes..(t + 1) * classes];
            let (best, bp) = p
                .iter()
                .copied()
                .enumerate()
                .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
            if best == 0 || best == classes - 1 {
                p[0] + p[classes - 1]
            } else {
                bp
            }
        })
        .fold(1.0f32, f32::min)
}

/// The optimised plans of one model, one per input size (1 × 3 × h × w), built on first use and
/// kept.
///
/// Where tract can type the model with a symbolic size (height and width multiples of `steps`), it
/// is typed and decluttered once, on the first plan asked for, and each size is then only
/// optimised: decluttering is most of a plan's cost (the detector natively: ~150 ms once, then ~35
/// ms a size instead of ~125 ms; the fast recogniser ~50 ms once, then ~15 ms a width instead of
/// ~40 ms). The plans are the same either way (the same outputs, checked by a test). PP-OCRv4's
/// recogniser computes a reshape through a 32-bit cast of a shape that tract cannot type at a
/// symbolic size; [`widen_shape_casts`] rewrites that on load (then ~160 ms once and ~37 ms a width
/// instead of ~150 ms). A model tract still cannot type so, and a size off the steps, are built
/// from the ONNX model for each size.
struct Plans {
    which: &'static str,
    model: InferenceModel,
    /// steps of the symbolic height and width; a height of `REC_HEIGHT` for the recognisers stays
    /// fixed (step 0)
    steps: (usize, usize),
    general: Mutex<General>,
    built: Mutex<HashMap<(usize, usize), Plan>>,
}

/// The model typed and decluttered at a symbolic size, once.
enum General {
    Untried,
    /// the model, its height symbol (none when the height is fixed) and its width symbol
    Typed(Arc<TypedModel>, Option<Symbol>, Symbol),
    /// tract cannot type the model at a symbolic size, or sharing is switched off
    No,
}

impl Plans {
    fn new(model: InferenceModel, which: &'static str, steps: (usize, usize)) -> Plans {
        Plans {
            which,
            model,
            steps,
            general: Mutex::new(General::Untried),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The plan for an input of 1 × 3 × `h` × `w`.
    fn get(&self, h: usize, w: usize, stats: &Mutex<OcrStats>) -> Result<Plan, OcrError> {
        if let Some(p) = self.built.lock().unwrap().get(&(h, w)) {
            return Ok(p.clone());
        }
        let watch = Watch::start();
        let which = self.which;
        let e = |e: TractError| OcrError::Load {
            which,
            message: format!("{e:#}"),
        };
        let (hs, ws) = self.steps;
        let h_on_step = if hs == 0 {
            h == REC_HEIGHT
        } else {
            h % hs == 0
        };
        let general = if h_on_step && w % ws == 0 {
            self.general()
        } else {
            None
        };
        let shared = general.and_then(|(typed, hsym, wsym)| {
            let mut values = HashMap::new();
            if let Some(hsym) = hsym {
                values.insert(hsym, TDim::from((h / hs) as i64));
            }
            values.insert(wsym, TDim::from((w / ws) as i64));
            typed
                .set_symbols(&values)
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .ok()
        });
        let from_shared = shared.is_some();
        // a size the shared typing cannot take is built from the ONNX model, as any other
        let plan = match shared {
            Some(plan) => plan,
            None => self
                .model
                .clone()
                .with_input_fact(0, f32::fact([1, 3, h, w]).into())
                .map_err(e)?
                .into_optimized()
                .map_err(e)?
                .into_runnable()
                .map_err(e)?,
        };
        self.built.lock().unwrap().insert((h, w), plan.clone());
        let mut st = stats.lock().unwrap();
        st.plans_built += 1;
        st.plans_shared += from_shared as u64;
        st.plan_ms += watch.ms();
        Ok(plan)
    }

    /// The model typed and decluttered at a symbolic size (built on the first call), or `None`.
    fn general(&self) -> Option<(Arc<TypedModel>, Option<Symbol>, Symbol)> {
        let mut g = self.general.lock().unwrap();
        if let General::Untried = *g {
            *g = self.type_general().unwrap_or(General::No);
        }
        match &*g {
            General::Typed(m, h, w) => Some((m.clone(), h.clone(), w.clone())),
            _ => None,
        }
    }

    fn type_general(&self) -> TractResult<General> {
        // the model's own scope: tract's proofs about sizes are cached per scope while it works on
        // a model, and symbols of another scope trip that cache (a debug assertion)
        let scope = self.model.symbols.clone();
        let (hs, ws) = self.steps;
        let w = scope.sym("w");
        scope.add_assertion("w>=1")?;
        let (height, hsym) = if hs == 0 {
            (TDim::from(REC_HEIGHT as i64), None)
        } else {
            let h = scope.sym("h");
            scope.add_assertion("h>=1")?;
            (TDim::from(h.clone()) * hs as i64, Some(h))
        };
        // the symbols are known to be positive, so that tract can simplify the sizes of the
        // feature maps (a ceiling division of 32·h by 32 is h only for h ≥ 0)
        let shape = [
            TDim::from(1),
            TDim::from(3),
            height,
            TDim::from(w.clone()) * ws as i64,
        ];
        let typed = self
            .model
            .clone()
            .with_input_fact(0, f32::fact(ShapeFact::from(&shape[..])).into())?
            .into_typed()?
            .into_decluttered()?;
        Ok(General::Typed(Arc::new(typed), hsym, w))
    }
}

/// Runs a plan on one input tensor; the first output's values and shape.
fn run(
    plan: &Plan,
    shape: [usize; 4],
    data: &[f32],
    which: &'static str,
) -> Result<(Vec<f32>, Vec<usize>), OcrError> {
    let e = |message: String| OcrError::Run { which, message };
    let input = Tensor::from_shape(&shape, data).map_err(|x| e(x.to_string()))?;
    let out = plan
        .run(tvec!(input.into()))
        .map_err(|x| e(format!("{x:#}")))?;
    let view = out[0]
        .to_plain_array_view::<f32>()
        .map_err(|x| e(x.to_string()))?;
    Ok((view.iter().copied().collect(), view.shape().to_vec()))
}

/// Greedy CTC decoding: the best class per step, repeats collapsed, blanks dropped. Class 0 is the
/// blank, class i is `dict[i - 1]`, the class after the dictionary is a space.
pub fn ctc_decode(probs: &[f32], steps: usize, classes: usize, dict: &[String]) -> String {
    ctc_decode_spans(probs, steps, classes, dict).0
}

/// [`ctc_decode`] with, for each symbol, its byte range in the text and its first and last step.
pub fn ctc_decode_spans(
    probs: &[f32],
    steps: usize,
    classes: usize,
    dict: &[String],
) -> (String, Vec<(std::ops::Range<usize>, usize, usize)>) {
    let mut out = String::new();
    let mut spans: Vec<(std::ops::Range<usize>, usize, usize)> = Vec::new();
    let mut last = 0usize;
    for t in 0..steps {
        let row = &probs[t * classes..(t + 1) * classes];
        let (best, _) =
            row.iter().enumerate().fold(
                (0, f32::MIN),
                |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) },
            );
        if best != 0 && best != last {
            let start = out.len();
            match dict.get(best - 1) {
                Some(s) => out.push_str(s),
                None => out.push(' '),
            }
            spans.push((start..out.len(), t, t));
        } else if best != 0 && best == last {
            if let Some(s) = spans.last_mut() {
                s.2 = t;
            }
        }
        last = best;
    }
    (out, spans)
}

/// Bilinear resize of a grey image to `w` × `h`.
pub fn resize(img: &Grey, w: usize, h: usize) -> Vec<u8> {
    if img.w == w && img.h == h {
        return img.data.clone();
    }
    let mut out = vec![0u8; w * h];
    let sx = img.w as f32 / w as f32;
    let sy = img.h as f32 / h as f32;
    for y in 0..h {
        let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
        let y0 = (fy as usize).min(img.h - 1);
        let y1 = (y0 + 1).min(img.h - 1);
        let wy = fy - y0 as f32;
        for x in 0..w {
            let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
            let x0 = (fx as usize).min(img.w - 1);
            let x1 = (x0 + 1).min(img.w - 1);
            let wx = fx - x0 as f32;
            let a = img.get(x0, y0) as f32 * (1.0 - wx) + img.get(x1, y0) as f32 * wx;
            let b = img.get(x0, y1) as f32 * (1.0 - wx) + img.get(x1, y1) as f32 * wx;
            out[y * w + x] = (a * (1.0 - wy) + b * wy).round() as u8;
        }
    }
    out
}

impl TextFinder for Ocr {
    fn detect(&self, img: &Grey) -> Result<Vec<Rect>, String> {
        self.detect_at(img, self.scale(img.w, img.h))
    }
    /// 1 for a frame whose longest side lies in `MIN_SIDE..=max_side`; else the model's input size
    /// ([`boxes::input_size`], each side rounded up to a multiple of 32) over the frame's, per
    /// axis, so that a region of the frame is seen as in the whole frame. (At scale 1 the whole
    /// frame's sides are rounded up by less than 32 pixels; its regions, cut to multiples of 64,
    /// are seen as they are.)
    fn scale(&self, w: usize, h: usize) -> Scale {
        let (iw, ih, s) = boxes::input_size(w, h, self.max_side);
        if s == 1.0 || w == 0 || h == 0 {
            return Scale::ONE;
        }
        Scale {
            x: iw as f32 / w as f32,
            y: ih as f32 / h as f32,
        }
    }
    fn detect_at(&self, img: &Grey, scale: Scale) -> Result<Vec<Rect>, String> {
        let (map, w, h) = self.probability_map_at(img, scale).map_err(|e| e.to_string())?;
        let sx = img.w as f32 / w as f32;
        let sy = img.h as f32 / h as f32;
        let raw = boxes::boxes_from_map(&map, w, h, self.params);
        let frame: Vec<Rect> = raw
            .into_iter()
            .filter_map(|r| boxes::to_frame(r, sx, sy, img.w as u32, img.h as u32))
            .collect();
        Ok(boxes::merge_lines(frame, 0.8))
    }
    fn read(&self, img: &Grey, r: Rect) -> Result<Reading, String> {
        self.recognise(img, r).map_err(|e| e.to_string())
    }
    fn read_fast(&self, img: &Grey, r: Rect) -> Result<Option<Reading>, String> {
        self.recognise_fast(img, r).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_shape_cast_to_32_bits_cut_and_cast_back_to_64_is_widened() {
        use tract_onnx::pb::{AttributeProto, GraphProto, NodeProto, ValueInfoProto};
        let node = |op: &str, inputs: &[&str], output: &str, to: Option<i64>| NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute: to
                .map(|i| AttributeProto {
                    name: "to".into(),
                    i,
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let graph = |tail: Vec<NodeProto>| {
            let mut nodes = vec![
                node("Shape", &["x"], "s", None),
                node("Cast", &["s"], "s32", Some(ONNX_INT32)),
            ];
            nodes.extend(tail);
            GraphProto {
                node: nodes,
                output: vec![ValueInfoProto {
                    name: "y".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }
        };
        let widened = |mut g: GraphProto| {
            let n = widen_shape_casts(&mut g);
            (n, g.node[1].attribute[0].i)
        };
        // PP-OCRv4's recogniser: the shape is cut and cast back before use
        let slice = || node("Slice", &["s32", "b", "e"], "cut", None);
        let back = node("Cast", &["cut"], "cut64", Some(ONNX_INT64));
        assert_eq!(widened(graph(vec![slice(), back.clone()])), (1, ONNX_INT64));
        // used in 32 bits: left alone
        let add = node("Add", &["cut", "one"], "y2", None);
        assert_eq!(widened(graph(vec![slice(), add])), (0, ONNX_INT32));
        let add = node("Add", &["s32", "one"], "y2", None);
        assert_eq!(widened(graph(vec![add])), (0, ONNX_INT32));
        // the cut is a graph output, or the 32-bit shape is an index rather than the data
        assert_eq!(widened(graph(vec![node("Slice", &["s32"], "y", None)])), (0, ONNX_INT32));
        let gather = node("Gather", &["d", "s32"], "cut", None);
        assert_eq!(widened(graph(vec![gather, back])), (0, ONNX_INT32));
        // not a shape
        let mut g = graph(vec![slice(), node("Cast", &["cut"], "c", Some(ONNX_INT64))]);
        g.node[0].op_type = "Relu".into();
        assert_eq!(widened(g), (0, ONNX_INT32));
    }

    #[test]
    fn ctc_collapses_repeats_and_drops_blanks() {
        let dict: Vec<String> = ["A", "B"].iter().map(|s| s.to_string()).collect();
        // steps: A A blank A B space
        let seq = [1usize, 1, 0, 1, 2, 3];
        let classes = 4;
        let mut p = vec![0f32; seq.len() * classes];
        for (t, &c) in seq.iter().enumerate() {
            p[t * classes + c] = 1.0;
        }
        assert_eq!(ctc_decode(&p, seq.len(), classes, &dict), "AAB ");
    }

    #[test]
    fn ctc_confidence_is_the_least_sure_step_over_the_text_with_blank_and_space_as_one() {
        // classes: blank, "a", "b", space. Three steps over the text: a sure blank, "a" at 0.55, a
        // gap read as space at 0.5 or blank at 0.4 (0.9 together); one over padding
        let p = [
            0.9, 0.1, 0.0, 0.0, //
            0.3, 0.55, 0.15, 0.0, //
            0.4, 0.05, 0.05, 0.5, //
            0.2, 0.2, 0.4, 0.2,
        ];
        assert_eq!(ctc_confidence(&p, 1, 4), 0.9);
        assert_eq!(ctc_confidence(&p, 3, 4), 0.55);
        assert!((ctc_confidence(&p[8..], 1, 4) - 0.9).abs() < 1e-6);
        // a letter in doubt with another letter is not helped by the gap classes
        assert_eq!(ctc_confidence(&p, 4, 4), 0.4);
    }

    #[test]
    fn resize_keeps_a_constant_image_constant() {
        let g = Grey {
            w: 7,
            h: 5,
            data: vec![90; 35],
        };
        assert!(resize(&g, 16, 11).iter().all(|&v| v == 90));
    }
}
