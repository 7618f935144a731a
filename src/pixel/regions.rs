//! Region rules: rectangles of burned-in annotation that are masked whenever a condition on the
//! header holds, whatever the text detector finds.
//!
//! Three sources, so that users of other tools can bring their rules:
//!
//! - [`parse_ctp_script`]: the RSNA CTP `DicomPixelAnonymizer.script` format (signatures
//!   `{ condition }` each followed by rectangles `(x,y,w,h)`).
//! - [`parse_deid_recipe`]: the `%filter` sections of pydicom/deid recipes (`LABEL` blocks of criteria
//!   lines and `coordinates` lines).
//! - [`UserRegion`]: a user's own rectangles from the configuration JSON, with an optional simple
//!   condition.
//!
//! Conditions read the data set through a getter `get(tag) -> Option<String>`: the element's value
//! as text (multiple values joined with `\`, trimmed), `None` when the element is absent. Tags are
//! `(group << 16) | element`.
//!
//! [`matching_rects`] applies the rules in order: a CTP script keeps CTP's "first matching signature
//! only" rule, deid rules all apply (as in deid), user rules always apply when their condition holds.

use super::{Rect, UserRegion};
use dicom_core::dictionary::DataDictionary;
use dicom_dictionary_std::StandardDataDictionary;
use regex::Regex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RuleSource {
    Ctp,
    Deid,
    User,
}

/// One area a rule masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RegionSpec {
    /// a rectangle in frame pixels (clipped to the frame when applied)
    Rect(Rect),
    /// the whole frame
    All,
}

/// A parse error in a rule file, with its 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
}

fn syntax(line: usize, message: impl Into<String>) -> RegionError {
    RegionError::Syntax {
        line,
        message: message.into(),
    }
}

/// A condition on the header and the areas to mask when it holds.
#[derive(Clone, Debug)]
pub struct RegionRule {
    /// a short name for reports: the comment text before a CTP signature, a deid `LABEL`, or
    /// `user region x,y,w,h`
    pub label: String,
    pub source: RuleSource,
    cond: Cond,
    /// the areas masked, in file order
    pub regions: Vec<RegionSpec>,
    /// deid's other area operations (keep areas, areas read from the header), each placed before
    /// `regions[at]` (deid paints a mask in file order; a keep unmasks what was masked before it)
    extra: Vec<(usize, Extra)>,
    /// 1-based line of the signature or `LABEL` (0 for user regions)
    line: usize,
    /// the deid `%filter` group (`graylist`, `whitelist`, `blacklist`, ...)
    group: Option<String>,
    /// the parse that produced a CTP rule: CTP applies only the first matching signature of a script
    script: u64,
    /// deid fields that are not DICOM keywords (they read as absent, as in deid)
    unknown: Vec<String>,
}

/// Area operations that [`RegionSpec`] does not express.
#[derive(Clone, Debug)]
enum Extra {
    /// deid `keepcoordinates` / `ctpkeepcoordinates`: unmask this area
    Keep(Area),
    /// deid `coordinates from:Sequence`: mask the regions read from the header
    MaskFrom(u32),
}

#[derive(Clone, Debug)]
enum Area {
    Rect(Rect),
    All,
    /// the regions of the items of a sequence (tag), e.g. SequenceOfUltrasoundRegions
    FromSequence(u32),
}

/// A boolean condition over header elements.
#[derive(Clone, Debug)]
enum Cond {
    Const(bool),
    Not(Box<Cond>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Test(Test),
}

#[derive(Clone, Debug)]
struct Test {
    /// `None`: a deid field that is no DICOM keyword (never present)
    tag: Option<u32>,
    op: Op,
}

#[derive(Clone, Debug)]
enum Op {
    /// CTP methods: an absent element reads as "" (as CTP documents)
    Ctp(CtpOp),
    /// deid `contains`: case-insensitive regular expression search; absent → false
    Search(Regex),
    /// case-insensitive equality (or equal numbers), the argument lower-cased; absent → false
    EqualsIc(String),
    /// case-insensitive prefix, the argument lower-cased; absent → false
    PrefixIc(String),
    /// the value is this number; absent → false
    Number(u32),
    Missing,
    Present,
    /// present with an empty value
    Empty,
}

#[derive(Clone, Debug)]
enum CtpOp {
    Equals(String),
    /// argument lower-cased, likewise for the other `*Ic` methods
    EqualsIc(String),
    Contains(String),
    ContainsIc(String),
    StartsWith(String),
    StartsWithIc(String),
    EndsWith(String),
    EndsWithIc(String),
    /// anchored at both ends (Java's `String.matches`)
    Matches(Regex),
    Less(f64),
    Greater(f64),
    IsBlank,
}

type Getter<'a> = &'a dyn Fn(u32) -> Option<String>;

impl Cond {
    fn eval(&self, get: Getter<'_>) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Not(c) => !c.eval(get),
            Cond::All(v) => v.iter().all(|c| c.eval(get)),
            Cond::Any(v) => v.iter().any(|c| c.eval(get)),
            Cond::Test(t) => t.eval(get),
        }
    }
}

impl Test {
    fn eval(&self, get: Getter<'_>) -> bool {
        let owned = self.tag.and_then(get);
        let value = owned.as_deref().map(str::trim);
        match &self.op {
            Op::Ctp(op) => op.eval(value.unwrap_or("")),
            Op::Search(re) => value.is_some_and(|v| re.is_match(v)),
            Op::EqualsIc(a) => value.is_some_and(|v| same_text_or_number(&v.to_lowercase(), a)),
            Op::PrefixIc(p) => value.is_some_and(|v| v.to_lowercase().starts_with(p.as_str())),
            Op::Number(n) => value
                .and_then(plain_number)
                .is_some_and(|x| x == f64::from(*n)),
            Op::Missing => value.is_none(),
            Op::Present => value.is_some(),
            Op::Empty => value == Some(""),
        }
    }
}

impl CtpOp {
    fn eval(&self, v: &str) -> bool {
        match self {
            CtpOp::Equals(a) => same_text_or_number(v, a),
            CtpOp::EqualsIc(a) => same_text_or_number(&v.to_lowercase(), a),
            CtpOp::Contains(a) => v.contains(a.as_str()),
            CtpOp::ContainsIc(a) => v.to_lowercase().contains(a.as_str()),
            CtpOp::StartsWith(a) => v.starts_with(a.as_str()),
            CtpOp::StartsWithIc(a) => v.to_lowercase().starts_with(a.as_str()),
            CtpOp::EndsWith(a) => v.ends_with(a.as_str()),
            CtpOp::EndsWithIc(a) => v.to_lowercase().ends_with(a.as_str()),
            CtpOp::Matches(re) => re.is_match(v),
            CtpOp::Less(n) => ctp_number(v).is_some_and(|x| x < *n),
            CtpOp::Greater(n) => ctp_number(v).is_some_and(|x| x > *n),
            CtpOp::IsBlank => v.trim().is_empty(),
        }
    }
}

/// Equal texts, or both plain decimal numbers of the same value (`"512"` = `"512.0"`): the numeric
/// leniency for Rows, Columns, Window Width... (DS and IS values are often written differently).
fn same_text_or_number(v: &str, a: &str) -> bool {
    v == a || matches!((plain_number(v), plain_number(a)), (Some(x), Some(y)) if x == y)
}

/// A plain decimal number (`[+-]digits[.digits]`), nothing else (no exponent, no `inf`).
fn plain_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.matches('.').count() <= 1;
    if ok {
        t.parse().ok()
    } else {
        None
    }
}

/// CTP's `isLessThan` / `isGreaterThan` reading: every character but digits and '.' removed, then a
/// floating point number (`None` if nothing is left or it is no number).
fn ctp_number(s: &str) -> Option<f64> {
    let kept: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    kept.parse().ok()
}

/// The tag of a PS3.6 keyword (repeating groups such as OverlayDescription give their first group,
/// 6000).
fn keyword_tag(name: &str) -> Option<u32> {
    let e = StandardDataDictionary.by_name(name)?;
    let t = e.tag.inner();
    Some((u32::from(t.0) << 16) | u32::from(t.1))
}

static NEXT_SCRIPT: AtomicU64 = AtomicU64::new(1);

fn next_script() -> u64 {
    NEXT_SCRIPT.fetch_add(1, Ordering::Relaxed)
}

impl RegionRule {
    /// True when the rule's condition holds for the data set read by `get` (which returns the
    /// element's value as text, multiple values joined with `\`, trimmed, or `None` if absent; tags
    /// as `(group << 16) | element`).
    ///
    /// This is the condition alone: that only the first matching signature of a CTP script counts
    /// is applied by [`matching_rects`].
    pub fn applies(&self, get: &dyn Fn(u32) -> Option<String>) -> bool {
        self.cond.eval(get)
    }

    /// The rectangles this rule masks in a frame of `cols` × `rows`, clipped (`All` → the whole
    /// frame; empty results left out). The rule's own deid keep areas are taken out; areas read from
    /// the header (`from:`) need the data set and are only applied by [`matching_rects`].
    pub fn rects(&self, cols: u32, rows: u32) -> Vec<Rect> {
        let mut out = Vec::new();
        self.paint(&mut out, None, cols, rows);
        out.into_iter().map(|(r, _)| r).collect()
    }

    /// The 1-based line of the CTP signature or deid `LABEL` (0 for user regions).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The deid `%filter` group name (`graylist`, `whitelist`, `blacklist`...); `None` for CTP and
    /// user rules. deid itself masks the coordinates of matching rules whatever their group.
    pub fn filter_group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// deid fields that are no DICOM keyword (typos such as `Manfacturer` in deid's own recipe):
    /// they read as absent, as in deid, so the caller may want to warn about them.
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown
    }

    /// True when the rule masks nothing: deid rules that only flag an image (most whitelist and
    /// blacklist entries have no coordinates).
    pub fn flags_only(&self) -> bool {
        self.regions.is_empty()
            && !self
                .extra
                .iter()
                .any(|(_, e)| matches!(e, Extra::MaskFrom(_)))
    }

    /// Applies this rule's areas, in file order, to the masked rectangles so far.
    fn paint(&self, out: &mut Vec<(Rect, String)>, get: Option<Getter<'_>>, cols: u32, rows: u32) {
        let n = self.regions.len();
        for i in 0..=n {
            for (_, extra) in self.extra.iter().filter(|(at, _)| (*at).min(n) == i) {
                match extra {
                    Extra::Keep(area) => {
                        for k in resolve(area, get, cols, rows) {
                            subtract(out, k);
                        }
                    }
                    Extra::MaskFrom(seq) => {
                        for r in resolve(&Area::FromSequence(*seq), get, cols, rows) {
                            out.push((r, self.label.clone()));
                        }
                    }
                }
            }
            if let Some(spec) = self.regions.get(i) {
                let r = match spec {
                    RegionSpec::Rect(r) => r.clip(cols, rows),
                    RegionSpec::All => Rect::new(0, 0, cols, rows).clip(cols, rows),
                };
                if let Some(r) = r {
                    out.push((r, self.label.clone()));
                }
            }
        }
    }
}

const REGION_MIN_X0: u32 = 0x0018_6018;
const REGION_MIN_Y0: u32 = 0x0018_601A;
const REGION_MAX_X1: u32 = 0x0018_601C;
const REGION_MAX_Y1: u32 = 0x0018_601E;

/// The clipped rectangles of an area. Regions from a sequence need `get`: the sequence must be
/// present (`get(seq)` is `Some`) and `get` of RegionLocationMinX0 / MinY0 / MaxX1 / MaxY1
/// (0018,6018/601A/601C/601E) must give the values of every item joined with `\` (the getter
/// addresses elements by tag only); anything missing or inconsistent gives no region.
fn resolve(area: &Area, get: Option<Getter<'_>>, cols: u32, rows: u32) -> Vec<Rect> {
    match area {
        Area::Rect(r) => r.clip(cols, rows).into_iter().collect(),
        Area::All => Rect::new(0, 0, cols, rows)
            .clip(cols, rows)
            .into_iter()
            .collect(),
        Area::FromSequence(seq) => {
            let Some(get) = get else { return Vec::new() };
            if get(*seq).is_none() {
                return Vec::new();
            }
            let read = |t: u32| -> Option<Vec<u32>> {
                get(t)?
                    .split('\\')
                    .map(|v| v.trim().parse::<u32>().ok())
                    .collect()
            };
            let (Some(x0), Some(y0), Some(x1), Some(y1)) = (
                read(REGION_MIN_X0),
                read(REGION_MIN_Y0),
                read(REGION_MAX_X1),
                read(REGION_MAX_Y1),
            ) else {
                return Vec::new();
            };
            if !(x0.len() == y0.len() && x0.len() == x1.len() && x0.len() == y1.len()) {
                return Vec::new();
            }
            (0..x0.len())
                .filter(|&i| x1[i] >= x0[i] && y1[i] >= y0[i])
                .filter_map(|i| {
                    // DICOM's Max values are inclusive (deid slices them as exclusive ends: one
                    // pixel less)
                    Rect::new(x0[i], y0[i], x1[i] - x0[i] + 1, y1[i] - y0[i] + 1).clip(cols, rows)
                })
                .collect()
        }
    }
}

/// Takes `k` out of every masked rectangle (each split into at most four).
fn subtract(out: &mut Vec<(Rect, String)>, k: Rect) {
    let mut next = Vec::with_capacity(out.len());
    for (r, label) in out.drain(..) {
        if !r.intersects(&k) {
            next.push((r, label));
            continue;
        }
        if k.y > r.y {
            next.push((Rect::new(r.x, r.y, r.w, k.y - r.y), label.clone()));
        }
        if k.bottom() < r.bottom() {
            next.push((
                Rect::new(r.x, k.bottom(), r.w, r.bottom() - k.bottom()),
                label.clone(),
            ));
        }
        let (y0, y1) = (r.y.max(k.y), r.bottom().min(k.bottom()));
        if k.x > r.x {
            next.push((Rect::new(r.x, y0, k.x - r.x, y1 - y0), label.clone()));
        }
        if k.right() < r.right() {
            next.push((
                Rect::new(k.right(), y0, r.right() - k.right(), y1 - y0),
                label.clone(),
            ));
        }
    }
    *out = next;
}

/// All rules whose condition holds for this data set, as clipped rectangles with the rule's label,
/// in rule order.
///
/// - CTP: only the first matching signature of each parsed script applies ("the
///   DicomPixelAnonymizer blanks all the regions ... associated with the first matching
///   signature").
/// - deid: every matching rule applies, in order; a keep area (`keepcoordinates`) unmasks what the
///   rules before it masked (deid paints one mask in file order).
/// - user rules: every matching one applies.
///
/// What `get` must answer beyond plain top-level elements, for the rules that use it:
/// - a present sequence must give `Some` (e.g. `Some("")`), or deid's `present` / `missing` on a
///   sequence (SequenceOfUltrasoundRegions) read it as absent;
/// - deid's `from:Sequence` areas read RegionLocationMinX0 / MinY0 / MaxX1 / MaxY1
///   (0018,6018 / 601A / 601C / 601E) through `get`, the values of all the sequence's items joined
///   with `\` in item order (the getter addresses elements by tag only); when they are absent,
///   nothing is kept (so deid's ultrasound recipe, "Blank Image" then "keep the ultrasound
///   regions", masks the whole frame);
/// - file meta elements such as ImplementationVersionName (0002,0013), used by a CTP and a deid rule.
pub fn matching_rects(
    rules: &[RegionRule],
    get: &dyn Fn(u32) -> Option<String>,
    cols: u32,
    rows: u32,
) -> Vec<(Rect, String)> {
    let mut out = Vec::new();
    let mut ctp_done: Vec<u64> = Vec::new();
    for rule in rules {
        if rule.source == RuleSource::Ctp && ctp_done.contains(&rule.script) {
            continue;
        }
        if !rule.applies(get) {
            continue;
        }
        if rule.source == RuleSource::Ctp {
            ctp_done.push(rule.script);
        }
        rule.paint(&mut out, Some(get), cols, rows);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// User regions

/// A user's own rectangle (configuration JSON): masked on every frame of every image, or only of
/// images that meet the optional conditions (all of those given must hold):
///
/// - `modality`: equal to Modality (0008,0060), ignoring case;
/// - `manufacturer`: a prefix of Manufacturer (0008,0070), ignoring case (`"GE"` matches
///   `"GE MEDICAL SYSTEMS"` and `"GE Healthcare"`);
/// - `rows` / `columns`: equal to Rows (0028,0010) / Columns (0028,0011).
///
/// An absent element fails its condition.
impl UserRegion {
    pub fn to_rule(&self) -> RegionRule {
        let mut all = Vec::new();
        let test = |tag: u32, op: Op| Cond::Test(Test { tag: Some(tag), op });
        if let Some(m) = &self.modality {
            all.push(test(0x0008_0060, Op::EqualsIc(m.trim().to_lowercase())));
        }
        if let Some(m) = &self.manufacturer {
            all.push(test(0x0008_0070, Op::PrefixIc(m.trim().to_lowercase())));
        }
        if let Some(n) = self.rows {
            all.push(test(0x0028_0010, Op::Number(n)));
        }
        if let Some(n) = self.columns {
            all.push(test(0x0028_0011, Op::Number(n)));
        }
        RegionRule {
            label: format!("user region {},{},{},{}", self.x, self.y, self.w, self.h),
            source: RuleSource::User,
            cond: if all.is_empty() {
                Cond::Const(true)
            } else {
                Cond::All(all)
            },
            regions: vec![RegionSpec::Rect(Rect::new(self.x, self.y, self.w, self.h))],
            extra: Vec::new(),
            line: 0,
            group: None,
            script: 0,
            unknown: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CTP DicomPixelAnonymizer scripts

/// Parses a CTP `DicomPixelAnonymizer.script`.
///
/// The file is a series of signatures `{ condition }`, each followed by one or more regions
/// `(x,y,w,h)` (left, top, width, height in pixels). As CTP documents, text outside braces and
/// parentheses is commentary, and every parenthesis outside braces is a region of the signature
/// before it; in addition `#` starts a comment to the end of the line (outside strings), which may
/// contain anything. A rule's label is the last two comment lines before its signature
/// (`GE / Logiq US`), or the previous rule's label when there are none.
///
/// The condition language (CTP's DicomFilter language):
/// - operators `+` (or), `*` (and), `!` (not), in increasing precedence, and parentheses;
/// - `true.` and `false.`;
/// - terms `identifier.method("string")`, the identifier a DICOM keyword (`Manufacturer`) or a tag
///   with eight hex digits (`[0008,0070]`), white space allowed before the method's `(`;
/// - methods `equals`, `equalsIgnoreCase`, `contains`, `containsIgnoreCase`, `startsWith`,
///   `startsWithIgnoreCase`, `endsWith`, `endsWithIgnoreCase`, `matches` (a regular expression that
///   must match the whole value, as Java's `String.matches`), `isLessThan` and `isGreaterThan`
///   (numbers: all characters but digits and `.` removed first, as CTP does), and `isBlank()` (no
///   argument; an extension: the value is empty or blank).
///
/// Semantics: an absent element reads as an empty string (CTP: "If an identifier is missing ...
/// an empty string is provided"), so `[0018,1012].equals("")` holds for an absent element.
/// `equals` and `equalsIgnoreCase` also hold for two plain decimal numbers of the same value
/// (`Rows.equals("512")` with `512`, `WindowWidth.equals("1")` with `1.0`). Strings are taken
/// verbatim up to the next `"` (no escapes) and may not span lines. Regular expressions use the
/// `regex` crate's syntax (close to Java's for ordinary patterns; look-around and back-references
/// are errors).
///
/// Not supported, as errors: sequence paths (`Seq::Element`), tags in parentheses, unknown
/// keywords or methods; a signature without any region is an error too (write `(0,0,0,0)` if a
/// signature that masks nothing is really meant).
pub fn parse_ctp_script(text: &str) -> Result<Vec<RegionRule>, RegionError> {
    let script = next_script();
    let mut c = Cursor::new(text);
    let mut rules: Vec<RegionRule> = Vec::new();
    // the label: the last two comment lines since the previous signature or region (kept for
    // the signatures that follow without any comment of their own)
    let mut heading = String::new();
    let mut pending: Vec<String> = Vec::new();
    let mut words = String::new();
    while let Some(ch) = c.peek() {
        match ch {
            '#' => c.skip_to_eol(),
            '\n' => {
                note_line(&mut pending, &mut words);
                c.bump();
            }
            '{' => {
                note_line(&mut pending, &mut words);
                if !pending.is_empty() {
                    heading = short_label(&pending[pending.len().saturating_sub(2)..].join(" / "));
                    pending.clear();
                }
                let (line, open) = (c.line, c.pos);
                c.bump();
                let cond = match parse_signature(&mut c) {
                    Ok(cond) => cond,
                    Err(_) if c.peek().is_none() && !text[open..].contains('}') => {
                        return Err(syntax(line, "this signature has no closing '}'"))
                    }
                    Err(e) => return Err(e),
                };
                let label = if heading.is_empty() {
                    format!("CTP signature at line {line}")
                } else {
                    heading.clone()
                };
                rules.push(RegionRule {
                    label,
                    source: RuleSource::Ctp,
                    cond,
                    regions: Vec::new(),
                    extra: Vec::new(),
                    line,
                    group: None,
                    script,
                    unknown: Vec::new(),
                });
            }
            '(' => {
                note_line(&mut pending, &mut words);
                pending.clear();
                let line = c.line;
                let rect = parse_ctp_region(&mut c)?;
                match rules.last_mut() {
                    Some(rule) => rule.regions.push(RegionSpec::Rect(rect)),
                    None => {
                        return Err(syntax(
                            line,
                            "a region (x,y,w,h) before any signature { ... }",
                        ))
                    }
                }
            }
            '}' | ')' => return Err(c.err(format!("'{ch}' without an opening bracket"))),
            _ => {
                words.push(ch);
                c.bump();
            }
        }
    }
    if let Some(r) = rules.iter().find(|r| r.regions.is_empty()) {
        return Err(syntax(
            r.line,
            "this signature has no region (x,y,w,h) after it; write (0,0,0,0) if it should mask nothing",
        ));
    }
    Ok(rules)
}

/// Keeps the comment text of a finished line (lines without a letter or digit, such as `****`,
/// are decoration).
fn note_line(pending: &mut Vec<String>, words: &mut String) {
    if words.chars().any(|c| c.is_alphanumeric()) {
        pending.push(words.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    words.clear();
}

/// At most 80 characters.
fn short_label(s: &str) -> String {
    if s.chars().count() <= 80 {
        return s.to_string();
    }
    let mut t: String = s.chars().take(79).collect();
    t.push('…');
    t
}

/// A character cursor over the text with its line number.
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor {
            src,
            pos: 0,
            line: 1,
        }
    }
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }
    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            self.line += s.matches('\n').count();
            true
        } else {
            false
        }
    }
    fn skip_to_eol(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }
    /// White space (line breaks included) and `#` comments.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                self.skip_to_eol();
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.bump();
        }
        &self.src[start..self.pos]
    }
    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the text".into(),
            Some('\n') | Some('\r') => "the end of the line".into(),
            Some(c) => format!("'{c}'"),
        }
    }
    fn err(&self, message: impl Into<String>) -> RegionError {
        syntax(self.line, message)
    }
    fn expect(&mut self, ch: char, what: &str) -> Result<(), RegionError> {
        if self.peek() == Some(ch) {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {}", self.found())))
        }
    }
}

/// After `{`: the condition and the closing `}`.
fn parse_signature(c: &mut Cursor<'_>) -> Result<Cond, RegionError> {
    let cond = parse_or(c)?;
    c.skip_ws();
    c.expect('}', "'+', '*' or the closing '}'")?;
    Ok(cond)
}

fn parse_or(c: &mut Cursor<'_>) -> Result<Cond, RegionError> {
    let mut any = vec![parse_and(c)?];
    loop {
        c.skip_ws();
        if c.peek() != Some('+') {
            break;
        }
        c.bump();
        any.push(parse_and(c)?);
    }
    Ok(if any.len() == 1 {
        any.pop().unwrap()
    } else {
        Cond::Any(any)
    })
}

fn parse_and(c: &mut Cursor<'_>) -> Result<Cond, RegionError> {
    let mut all = vec![parse_unary(c)?];
    loop {
        c.skip_ws();
        if c.peek() != Some('*') {
            break;
        }
        c.bump();
        all.push(parse_unary(c)?);
    }
    Ok(if all.len() == 1 {
        all.pop().unwrap()
    } else {
        Cond::All(all)
    })
}

fn parse_unary(c: &mut Cursor<'_>) -> Result<Cond, RegionError> {
    c.skip_ws();
    match c.peek() {
        Some('!') => {
            c.bump();
            Ok(Cond::Not(Box::new(parse_unary(c)?)))
        }
        Some('(') => {
            c.bump();
            let inner = parse_or(c)?;
            c.skip_ws();
            c.expect(')', "'+', '*' or ')'")?;
            Ok(inner)
        }
        _ => parse_term(c),
    }
}

/// `true.`, `false.` or `identifier.method("string")`.
fn parse_term(c: &mut Cursor<'_>) -> Result<Cond, RegionError> {
    if c.eat("true.") {
        return Ok(Cond::Const(true));
    }
    if c.eat("false.") {
        return Ok(Cond::Const(false));
    }
    let tag = if c.peek() == Some('[') {
        c.bump();
        let g = c.take_while(|ch| ch.is_ascii_hexdigit());
        c.expect(',', "',' in a tag [gggg,eeee]")?;
        let e = c.take_while(|ch| ch.is_ascii_hexdigit());
        c.expect(']', "']' closing a tag [gggg,eeee]")?;
        if g.len() != 4 || e.len() != 4 {
            return Err(c.err(format!(
                "a tag needs four hex digits for the group and four for the element: [{g},{e}]"
            )));
        }
        (u32::from_str_radix(g, 16).unwrap() << 16) | u32::from_str_radix(e, 16).unwrap()
    } else {
        let name = c.take_while(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if name.is_empty() {
            return Err(c.err(format!(
                "expected a condition (Keyword.method(\"...\"), [gggg,eeee].method(\"...\"), '!', '(', true. or false.), found {}",
                c.found()
            )));
        }
        if c.rest().starts_with("::") {
            return Err(c.err("sequence paths (Sequence::Element) are not supported"));
        }
        keyword_tag(name).ok_or_else(|| c.err(format!("unknown DICOM keyword '{name}'")))?
    };
    if c.rest().starts_with("::") {
        return Err(c.err("sequence paths (Sequence::Element) are not supported"));
    }
    c.expect('.', "'.' and a method after the element")?;
    let line = c.line;
    let method = c.take_while(|ch| ch.is_ascii_alphanumeric());
    c.skip_ws();
    c.expect('(', &format!("'(' after the method '{method}'"))?;
    c.skip_ws();
    let arg = if c.peek() == Some('"') {
        Some(parse_string(c)?)
    } else {
        None
    };
    c.skip_ws();
    c.expect(')', "')' closing the method's argument")?;
    let op = ctp_op(method, arg, line)?;
    Ok(Cond::Test(Test {
        tag: Some(tag),
        op: Op::Ctp(op),
    }))
}

/// A string literal, verbatim up to the next `"` on the same line.
fn parse_string(c: &mut Cursor<'_>) -> Result<String, RegionError> {
    c.bump();
    let s = c.take_while(|ch| ch != '"' && ch != '\n');
    if c.peek() != Some('"') {
        return Err(c.err("unterminated string"));
    }
    c.bump();
    Ok(s.to_string())
}

fn ctp_op(method: &str, arg: Option<String>, line: usize) -> Result<CtpOp, RegionError> {
    if method == "isBlank" {
        return match arg {
            None => Ok(CtpOp::IsBlank),
            Some(_) => Err(syntax(line, "isBlank() takes no argument")),
        };
    }
    let a = arg.ok_or_else(|| syntax(line, format!("{method}() needs a string argument")))?;
    Ok(match method {
        "equals" => CtpOp::Equals(a),
        "equalsIgnoreCase" => CtpOp::EqualsIc(a.to_lowercase()),
        "contains" => CtpOp::Contains(a),
        "containsIgnoreCase" => CtpOp::ContainsIc(a.to_lowercase()),
        "startsWith" => CtpOp::StartsWith(a),
        "startsWithIgnoreCase" => CtpOp::StartsWithIc(a.to_lowercase()),
        "endsWith" => CtpOp::EndsWith(a),
        "endsWithIgnoreCase" => CtpOp::EndsWithIc(a.to_lowercase()),
        "matches" => CtpOp::Matches(
            Regex::new(&format!("^(?:{a})$")).map_err(|e| syntax(line, format!("bad regular expression \"{a}\": {e}")))?,
        ),
        "isLessThan" | "isGreaterThan" => {
            let n = ctp_number(&a).ok_or_else(|| syntax(line, format!("{method}() needs a number, not \"{a}\"")))?;
            if method == "isLessThan" {
                CtpOp::Less(n)
            } else {
                CtpOp::Greater(n)
            }
        }
        _ => {
            return Err(syntax(
                line,
                format!(
                    "unknown method '{method}' (supported: equals, equalsIgnoreCase, contains, containsIgnoreCase, startsWith, \
                     startsWithIgnoreCase, endsWith, endsWithIgnoreCase, matches, isLessThan, isGreaterThan, isBlank)"
                ),
            ))
        }
    })
}

/// `(x,y,w,h)`, non-negative integers, white space allowed around them.
fn parse_ctp_region(c: &mut Cursor<'_>) -> Result<Rect, RegionError> {
    c.bump();
    let mut v = [0u32; 4];
    for (i, slot) in v.iter_mut().enumerate() {
        c.skip_ws();
        let digits = c.take_while(|ch| ch.is_ascii_digit());
        if digits.is_empty() {
            return Err(c.err(format!(
                "a region is (x,y,w,h) with four non-negative integers; expected a number, found {}",
                c.found()
            )));
        }
        *slot = digits
            .parse()
            .map_err(|_| c.err(format!("number too large: {digits}")))?;
        c.skip_ws();
        if i < 3 {
            c.expect(',', "',' between the numbers of a region (x,y,w,h)")?;
        }
    }
    c.expect(')', "')' closing a region (x,y,w,h)")?;
    Ok(Rect::new(v[0], v[1], v[2], v[3]))
}

// ---------------------------------------------------------------------------------------------
// pydicom/deid recipes

const DEID_ACTIONS: [&str; 7] = [
    "contains",
    "notcontains",
    "equals",
    "notequals",
    "missing",
    "present",
    "empty",
];

/// Parses the `%filter` sections of a pydicom/deid recipe (`deid.dicom`, `deid.dicom.ultrasound`,
/// `deid.dicom.xray.chest`...); every `LABEL` becomes one rule (labels without coordinates only
/// flag images in deid: they become rules that mask nothing, see [`RegionRule::flags_only`]).
/// Other sections (`%header`, `%values`, `%fields`, `%labels`) are skipped; an unknown section, a
/// `FORMAT` other than `dicom`, and anything in a `%filter` section that is not understood are
/// errors.
///
/// Faithful to deid (its parser `deid/config/utils.py` and evaluator `deid/dicom/pixels/detect.py`,
/// 2025):
/// - Lines are trimmed; lines starting with `#` are comments; a `LABEL` line's text after `#` is a
///   comment. A block runs from its `LABEL` to the next `LABEL` or `%` section.
/// - Criteria: `contains F re`, `notcontains F re`, `equals F v`, `notequals F v` (the value is the
///   rest of the line, spaces included), `missing F`, `present F`, `empty F`.
///   - `contains` is a **case-insensitive regular expression search** (deid lower-cases value and
///     pattern and calls `re.search`), so `CR|DX|PR` are alternatives and `LightSpeed VCT` is a
///     substring; here the pattern gets `(?i)` instead of being lower-cased.
///   - `equals` is a case-insensitive comparison of the whole value (`equals Rows 600|768` never
///     holds, as in deid); in addition two plain decimal numbers of the same value are equal.
///   - `missing`: absent; `present`: not absent; `empty`: present with an empty value.
///     `contains`/`equals` on an absent element are false, so `notcontains`/`notequals` are true.
///   - A field is a DICOM keyword or a tag as `0xGGGGEEEE`. A keyword that is not in the dictionary
///     (the stock recipe has `Manfacturer` and `Manufacture`) reads as absent, which is what deid
///     (pydicom) does; such fields are listed by [`RegionRule::unknown_fields`].
/// - Combining: within one line, clauses are joined by `+` (and) or `||` (or) and evaluated left to
///   right without precedence (`a + b || c` = `(a and b) or c`); the lines of a block are all
///   **and**-ed, whatever `+` or `||` starts them (deid reads the leading operator but its
///   evaluator ands the lines; deid's own test "Groups With OR" relies on it). A `+` or `||` only
///   splits clauses where a criterion word follows it, so values such as `SOMATOM Definition AS+`
///   or `DERIVED+SECONDARY` stay whole (as regular expressions, as in deid).
/// - A block with no criteria but with coordinates always applies (deid: "If there aren't any
///   filters but we have coordinates, assume True"); one with neither never applies.
/// - Areas: `coordinates x0,y0,x1,y1` (corners: left, top, right, bottom, the right and bottom
///   exclusive, deid's numpy slice `[y0:y1, x0:x1]`), `ctpcoordinates x,y,w,h` (CTP style),
///   `coordinates all` (the whole frame), `coordinates from:Sequence` (regions read from the
///   header), and the keep forms `keepcoordinates`, `ctpkeepcoordinates` (unmask, in file order).
///   `from:` reads RegionLocationMinX0/MinY0/MaxX1/MaxY1 of the sequence's items through the
///   getter (see [`matching_rects`]), with DICOM's inclusive maxima.
///   A corner form with x1 < x0 or y1 < y0 is an error (deid would silently mask nothing).
pub fn parse_deid_recipe(text: &str) -> Result<Vec<RegionRule>, RegionError> {
    let script = next_script();
    enum Section {
        None,
        Filter(String),
        Other,
    }
    let mut section = Section::None;
    let mut rules = Vec::new();
    let mut cur: Option<RegionRule> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('%') {
            rules.extend(cur.take().map(finish_deid));
            let head = line.split('#').next().unwrap_or("").trim();
            let mut parts = head.split_whitespace();
            let name = parts
                .next()
                .unwrap_or("")
                .trim_start_matches('%')
                .to_lowercase();
            let sub = parts.collect::<Vec<_>>().join(" ");
            section = match name.as_str() {
                "filter" if sub.is_empty() => {
                    return Err(syntax(
                        n,
                        "a %filter section needs a name (%filter graylist)",
                    ))
                }
                "filter" => Section::Filter(sub),
                "header" | "labels" | "values" | "fields" => Section::Other,
                _ => return Err(syntax(n, format!("unknown section '%{name}'"))),
            };
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if let Section::Filter(group) = &section {
            if line
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("LABEL"))
            {
                rules.extend(cur.take().map(finish_deid));
                let label = line[5..].split('#').next().unwrap_or("").trim();
                cur = Some(RegionRule {
                    label: if label.is_empty() {
                        format!("deid {group} filter at line {n}")
                    } else {
                        label.to_string()
                    },
                    source: RuleSource::Deid,
                    cond: Cond::All(Vec::new()),
                    regions: Vec::new(),
                    extra: Vec::new(),
                    line: n,
                    group: Some(group.clone()),
                    script,
                    unknown: Vec::new(),
                });
                continue;
            }
            if let Some(rule) = cur.as_mut() {
                deid_member(rule, line, n)?;
                continue;
            }
        }
        if first.eq_ignore_ascii_case("format") {
            let f = line[first.len()..].trim();
            if !f.eq_ignore_ascii_case("dicom") {
                return Err(syntax(n, format!("unsupported FORMAT '{f}' (only dicom)")));
            }
            continue;
        }
        match section {
            Section::Other => continue,
            Section::Filter(_) => {
                return Err(syntax(n, "criteria before any LABEL in a %filter section"))
            }
            Section::None => return Err(syntax(n, "expected FORMAT or a %section")),
        }
    }
    rules.extend(cur.take().map(finish_deid));
    Ok(rules)
}

/// Turns the collected lines of a block into its condition.
fn finish_deid(mut rule: RegionRule) -> RegionRule {
    let Cond::All(lines) = std::mem::replace(&mut rule.cond, Cond::Const(false)) else {
        unreachable!()
    };
    rule.cond = match lines.len() {
        0 => Cond::Const(!rule.regions.is_empty() || !rule.extra.is_empty()),
        1 => lines.into_iter().next().unwrap(),
        _ => Cond::All(lines),
    };
    rule
}

/// One line of a `LABEL` block: a coordinates line or a criteria line.
fn deid_member(rule: &mut RegionRule, line: &str, n: usize) -> Result<(), RegionError> {
    let first = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let rest = || line[first.len()..].trim();
    match first.as_str() {
        "coordinates" | "ctpcoordinates" => {
            match deid_area(rest(), first == "ctpcoordinates", n)? {
                Area::Rect(r) => rule.regions.push(RegionSpec::Rect(r)),
                Area::All => rule.regions.push(RegionSpec::All),
                Area::FromSequence(t) => rule.extra.push((rule.regions.len(), Extra::MaskFrom(t))),
            }
            return Ok(());
        }
        "keepcoordinates" | "ctpkeepcoordinates" => {
            let area = deid_area(rest(), first == "ctpkeepcoordinates", n)?;
            rule.extra.push((rule.regions.len(), Extra::Keep(area)));
            return Ok(());
        }
        _ => {}
    }
    let body = line
        .strip_prefix("||")
        .or_else(|| line.strip_prefix('+'))
        .map(str::trim_start)
        .unwrap_or(line);
    if body.starts_with('#') {
        return Ok(());
    }
    let cond = deid_criteria(rule, body, n)?;
    let Cond::All(lines) = &mut rule.cond else {
        unreachable!()
    };
    lines.push(cond);
    Ok(())
}

/// A criterion word followed by white space starts `s`.
fn starts_with_action(s: &str) -> bool {
    s.split_once(char::is_whitespace)
        .is_some_and(|(w, _)| DEID_ACTIONS.iter().any(|a| w.eq_ignore_ascii_case(a)))
}

/// The clauses of one criteria line, evaluated left to right.
fn deid_criteria(rule: &mut RegionRule, s: &str, n: usize) -> Result<Cond, RegionError> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut ands: Vec<bool> = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        let len = match ch {
            '+' => 1,
            '|' if s[i + 1..].starts_with('|') => 2,
            _ => continue,
        };
        if starts_with_action(s[i + len..].trim_start()) {
            clauses.push(&s[start..i]);
            ands.push(len == 1);
            start = i + len;
            if len == 2 {
                chars.next();
            }
        }
    }
    clauses.push(&s[start..]);
    let mut acc = deid_clause(rule, clauses[0].trim(), n)?;
    for (clause, and) in clauses[1..].iter().zip(ands) {
        let next = deid_clause(rule, clause.trim(), n)?;
        acc = if and {
            Cond::All(vec![acc, next])
        } else {
            Cond::Any(vec![acc, next])
        };
    }
    Ok(acc)
}

fn deid_clause(rule: &mut RegionRule, clause: &str, n: usize) -> Result<Cond, RegionError> {
    let (action, rest) = clause
        .split_once(char::is_whitespace)
        .unwrap_or((clause, ""));
    let action = action.to_ascii_lowercase();
    if !DEID_ACTIONS.contains(&action.as_str()) {
        return Err(syntax(
            n,
            format!("'{clause}': not a filter criterion (contains, notcontains, equals, notequals, missing, present, empty) or coordinates line"),
        ));
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(syntax(n, format!("{action} needs a field")));
    }
    let with_value = matches!(
        action.as_str(),
        "contains" | "notcontains" | "equals" | "notequals"
    );
    let (field, value) = if with_value {
        let (f, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if v.trim().is_empty() {
            return Err(syntax(n, format!("{action} {f} needs a value")));
        }
        (f, v.trim())
    } else {
        if rest.contains(char::is_whitespace) {
            return Err(syntax(n, format!("{action} takes one field, not '{rest}'")));
        }
        (rest, "")
    };
    let tag = deid_field(rule, field, n)?;
    let test = |op| Cond::Test(Test { tag, op });
    let search = || {
        Regex::new(&format!("(?i){value}"))
            .map(Op::Search)
            .map_err(|e| syntax(n, format!("bad regular expression \"{value}\": {e}")))
    };
    Ok(match action.as_str() {
        "contains" => test(search()?),
        "notcontains" => Cond::Not(Box::new(test(search()?))),
        "equals" => test(Op::EqualsIc(value.to_lowercase())),
        "notequals" => Cond::Not(Box::new(test(Op::EqualsIc(value.to_lowercase())))),
        "missing" => test(Op::Missing),
        "present" => test(Op::Present),
        _ => test(Op::Empty),
    })
}

/// A deid field: `0xGGGGEEEE` or a keyword (`None` when no DICOM keyword: never present).
fn deid_field(rule: &mut RegionRule, field: &str, n: usize) -> Result<Option<u32>, RegionError> {
    if let Some(hex) = field
        .strip_prefix("0x")
        .or_else(|| field.strip_prefix("0X"))
    {
        return u32::from_str_radix(hex, 16)
            .map(Some)
            .map_err(|_| syntax(n, format!("bad tag number '{field}' (0xGGGGEEEE)")));
    }
    match keyword_tag(field) {
        Some(t) => Ok(Some(t)),
        None => {
            if !rule.unknown.iter().any(|u| u == field) {
                rule.unknown.push(field.to_string());
            }
            Ok(None)
        }
    }
}

/// The area of a coordinates line: `all`, `from:Keyword`, or four integers (corners, or CTP's
/// x,y,w,h when `ctp`).
fn deid_area(raw: &str, ctp: bool, n: usize) -> Result<Area, RegionError> {
    if raw.eq_ignore_ascii_case("all") {
        return Ok(Area::All);
    }
    if let Some(field) = raw.strip_prefix("from:") {
        if ctp {
            return Err(syntax(
                n,
                "from: needs coordinates/keepcoordinates, not the ctp forms",
            ));
        }
        let field = field.trim();
        return keyword_tag(field)
            .map(Area::FromSequence)
            .ok_or_else(|| syntax(n, format!("unknown DICOM keyword '{field}' after from:")));
    }
    let nums = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u32>().map_err(|_| {
                syntax(
                    n,
                    format!("'{s}' is not a non-negative integer in coordinates '{raw}'"),
                )
            })
        })
        .collect::<Result<Vec<u32>, _>>()?;
    let [a, b, c, d] = nums[..] else {
        return Err(syntax(
            n,
            format!("coordinates need four numbers, 'all' or 'from:Field', not '{raw}'"),
        ));
    };
    if ctp {
        return Ok(Area::Rect(Rect::new(a, b, c, d)));
    }
    if c < a || d < b {
        return Err(syntax(
            n,
            format!("coordinates are x0,y0,x1,y1 corners with x1 >= x0 and y1 >= y0, not '{raw}'"),
        ));
    }
    Ok(Area::Rect(Rect::new(a, b, c - a, d - b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const MODALITY: u32 = 0x0008_0060;
    const MANUFACTURER: u32 = 0x0008_0070;
    const MODEL: u32 = 0x0008_1090;
    const IMAGE_TYPE: u32 = 0x0008_0008;
    const ROWS: u32 = 0x0028_0010;
    const COLUMNS: u32 = 0x0028_0011;

    fn reference(rel: &str) -> Option<String> {
        let path = format!("{}/../shared/reference/{rel}", env!("CARGO_MANIFEST_DIR"));
        match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(_) => {
                eprintln!("skipped: {path} is absent");
                None
            }
        }
    }

    fn ds(pairs: &[(u32, &str)]) -> HashMap<u32, String> {
        pairs.iter().map(|(t, v)| (*t, v.to_string())).collect()
    }

    fn holds(rule: &RegionRule, m: &HashMap<u32, String>) -> bool {
        rule.applies(&|t| m.get(&t).cloned())
    }

    fn one_ctp(cond: &str) -> RegionRule {
        let mut v = parse_ctp_script(&format!("{{ {cond} }} (0,0,1,1)")).unwrap();
        assert_eq!(v.len(), 1);
        v.pop().unwrap()
    }

    fn err_line(r: Result<Vec<RegionRule>, RegionError>) -> (usize, String) {
        match r {
            Err(RegionError::Syntax { line, message }) => (line, message),
            Ok(v) => panic!("expected an error, parsed {} rules", v.len()),
        }
    }

    #[test]
    fn ctp_reference_scripts_parse_completely() {
        let Some(new) = reference("ctp/DicomPixelAnonymizer.script") else {
            return;
        };
        let Some(old) = reference("ctp/example-dicom-pixel-anonymizer.script") else {
            return;
        };
        let a = parse_ctp_script(&new).unwrap();
        let b = parse_ctp_script(&old).unwrap();
        // one rule per '{' in each file
        assert_eq!(a.len(), 52);
        assert_eq!(b.len(), 44);
        assert_eq!(a.len(), new.matches('{').count());
        assert_eq!(b.len(), old.matches('{').count());
        let regions = |v: &[RegionRule]| v.iter().map(|r| r.regions.len()).sum::<usize>();
        assert_eq!(regions(&a), 62);
        assert_eq!(regions(&b), 54);
        assert!(a
            .iter()
            .chain(&b)
            .all(|r| r.source == RuleSource::Ctp && !r.regions.is_empty()));

        // the first signature and its comment heading
        assert_eq!(a[0].label, "GE / CT Dose Series");
        assert_eq!(a[0].line, 22);
        assert_eq!(
            a[0].regions,
            vec![RegionSpec::Rect(Rect::new(0, 0, 512, 200))]
        );
        // the raw-tag signatures (PET/CT Philips) work on tags
        let pet = ds(&[
            (MODALITY, "PT"),
            (MANUFACTURER, "Philips Medical Systems"),
            (MODEL, "GEMINI TF"),
            (ROWS, "446"),
            (COLUMNS, "245"),
        ]);
        let hit: Vec<_> = b.iter().filter(|r| holds(r, &pet)).collect();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].label, "Philips");
        assert_eq!(
            hit[0].regions,
            vec![RegionSpec::Rect(Rect::new(0, 0, 125, 50))]
        );
        // the older LOGIQ9 region differs from the newer one
        let logiq = ds(&[(MODEL, "LOGIQ9")]);
        let first = |v: &[RegionRule]| v.iter().find(|r| holds(r, &logiq)).unwrap().regions.clone();
        assert_eq!(first(&a), vec![RegionSpec::Rect(Rect::new(0, 0, 640, 40))]);
        assert_eq!(first(&b), vec![RegionSpec::Rect(Rect::new(60, 0, 606, 60))]);
    }

    #[test]
    fn deid_reference_recipes_parse_completely() {
        let (Some(main), Some(us), Some(chest)) = (
            reference("deid/deid.dicom"),
            reference("deid/deid.dicom.ultrasound"),
            reference("deid/deid.dicom.xray.chest"),
        ) else {
            return;
        };
        let main = parse_deid_recipe(&main).unwrap();
        let us = parse_deid_recipe(&us).unwrap();
        let chest = parse_deid_recipe(&chest).unwrap();
        assert_eq!((main.len(), us.len(), chest.len()), (118, 3, 4));
        let count =
            |v: &[RegionRule], g: &str| v.iter().filter(|r| r.filter_group() == Some(g)).count();
        assert_eq!(
            (
                count(&main, "whitelist"),
                count(&main, "graylist"),
                count(&main, "blacklist")
            ),
            (2, 109, 7)
        );
        // rules with areas to mask, and the areas
        let masking = |v: &[RegionRule]| v.iter().filter(|r| !r.flags_only()).count();
        assert_eq!(masking(&main), 105);
        assert_eq!(main.iter().map(|r| r.regions.len()).sum::<usize>(), 117);
        assert_eq!(masking(&us), 1);
        assert_eq!(masking(&chest), 0);
        assert!(main
            .iter()
            .chain(&us)
            .chain(&chest)
            .all(|r| r.source == RuleSource::Deid));
        // the stock recipe's typos read as absent fields
        let unknown: Vec<&str> = main
            .iter()
            .flat_map(|r| r.unknown_fields())
            .map(String::as_str)
            .collect();
        assert_eq!(unknown, ["Manfacturer", "Manfacturer", "Manufacture"]);

        let dose = main
            .iter()
            .find(|r| r.label == "LightSpeed Dose Report")
            .unwrap();
        assert_eq!(
            dose.regions,
            vec![RegionSpec::Rect(Rect::new(0, 0, 512, 121))]
        );
        let lab = main
            .iter()
            .find(|r| r.label == "3D Lab reconstructions")
            .unwrap();
        assert_eq!(
            lab.regions,
            vec![RegionSpec::Rect(Rect::new(450, 0, 222, 85))]
        );
        let antares = main.iter().find(|r| r.label == "Siemens Antares").unwrap();
        assert_eq!(antares.regions.len(), 3);
        // a coordinates line placed before a criteria line still belongs to its block
        let toshiba = main
            .iter()
            .find(|r| {
                r.line() > 0
                    && r.label == "TOSHIBA"
                    && r.regions == vec![RegionSpec::Rect(Rect::new(0, 0, 930, 50))]
            })
            .unwrap();
        let d = ds(&[
            (MODALITY, "US"),
            (MANUFACTURER, "TOSHIBA_MEC"),
            (ROWS, "903"),
            (MODEL, "TUS-A500"),
        ]);
        assert!(holds(toshiba, &d));
        assert!(!holds(
            toshiba,
            &ds(&[
                (MODALITY, "US"),
                (MANUFACTURER, "TOSHIBA_MEC"),
                (ROWS, "903"),
                (MODEL, "TUS-A300")
            ])
        ));

        // the ultrasound recipe blanks the frame and keeps the ultrasound regions
        let seq = 0x0018_6011;
        let img = ds(&[
            (MODALITY, "US"),
            (seq, ""),
            (REGION_MIN_X0, "10\\100"),
            (REGION_MIN_Y0, "20\\20"),
            (REGION_MAX_X1, "59\\149"),
            (REGION_MAX_Y1, "69\\69"),
        ]);
        let out = matching_rects(&us, &|t| img.get(&t).cloned(), 200, 100);
        let area: u64 = out.iter().map(|(r, _)| r.area()).sum();
        assert_eq!(area, 200 * 100 - 2 * 50 * 50);
        assert!(out.iter().all(|(r, l)| l == "Blank Image"
            && !r.intersects(&Rect::new(10, 20, 50, 50))
            && !r.intersects(&Rect::new(100, 20, 50, 50))));
        // without regions in the header, the whole frame
        let bare = ds(&[(MODALITY, "US")]);
        let out = matching_rects(&us, &|t| bare.get(&t).cloned(), 200, 100);
        assert_eq!(
            out,
            vec![(Rect::new(0, 0, 200, 100), "Blank Image".to_string())]
        );
    }

    #[test]
    fn ge_logiq_matches_only_its_rule() {
        let (Some(ctp), Some(deid)) = (
            reference("ctp/DicomPixelAnonymizer.script"),
            reference("deid/deid.dicom"),
        ) else {
            return;
        };
        let d = ds(&[
            (MANUFACTURER, "GE MEDICAL SYSTEMS"),
            (MODALITY, "US"),
            (ROWS, "600"),
            (COLUMNS, "800"),
            (MODEL, "LOGIQ9"),
            (IMAGE_TYPE, "ORIGINAL\\PRIMARY"),
        ]);
        let get = |t: u32| d.get(&t).cloned();
        let ctp = parse_ctp_script(&ctp).unwrap();
        let hit: Vec<&RegionRule> = ctp.iter().filter(|r| r.applies(&get)).collect();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].label, "GE / Logiq US");
        assert_eq!(
            matching_rects(&ctp, &get, 800, 600),
            vec![(Rect::new(0, 0, 640, 40), "GE / Logiq US".to_string())]
        );

        let deid = parse_deid_recipe(&deid).unwrap();
        let hit: Vec<&str> = deid
            .iter()
            .filter(|r| r.applies(&get))
            .map(|r| r.label.as_str())
            .collect();
        assert_eq!(hit, ["Logiq US (LOGIQ9)"]);
        assert_eq!(
            matching_rects(&deid, &get, 800, 600),
            vec![(Rect::new(0, 0, 640, 30), "Logiq US (LOGIQ9)".to_string())]
        );

        // another model, or no Modality: nothing
        let other = ds(&[
            (MANUFACTURER, "GE MEDICAL SYSTEMS"),
            (MODALITY, "US"),
            (ROWS, "600"),
            (MODEL, "Vivid E9"),
            (IMAGE_TYPE, "ORIGINAL"),
        ]);
        assert!(ctp.iter().chain(&deid).all(|r| !holds(r, &other)));
    }

    #[test]
    fn ctp_methods() {
        let d = ds(&[
            (MODALITY, "US"),
            (MANUFACTURER, "GE Medical Systems"),
            (ROWS, "512"),
            (0x0028_1051, "1.0"),
            (IMAGE_TYPE, "DERIVED\\SECONDARY"),
        ]);
        let t = |cond: &str| holds(&one_ctp(cond), &d);
        assert!(t(r#"Modality.equals("US")"#));
        assert!(!t(r#"Modality.equals("us")"#));
        assert!(t(r#"Modality.equalsIgnoreCase("us")"#));
        assert!(t(r#"Manufacturer.contains("Medical")"#));
        assert!(!t(r#"Manufacturer.contains("MEDICAL")"#));
        assert!(t(r#"Manufacturer.containsIgnoreCase("MEDICAL")"#));
        assert!(t(r#"Manufacturer.startsWith("GE ")"#));
        assert!(!t(r#"Manufacturer.startsWith("ge ")"#));
        assert!(t(r#"Manufacturer.startsWithIgnoreCase("ge ")"#));
        assert!(t(r#"Manufacturer.endsWith("Systems")"#));
        assert!(t(r#"Manufacturer.endsWithIgnoreCase("SYSTEMS")"#));
        assert!(!t(r#"Manufacturer.endsWith("SYSTEMS")"#));
        // matches is a whole-value match
        assert!(t(r#"Manufacturer.matches("GE.*")"#));
        assert!(!t(r#"Manufacturer.matches("Medical")"#));
        assert!(t(r#"ImageType.matches("DERIVED\\SECONDARY")"#));
        assert!(t(r#"ImageType.matches("DERIVED.SECONDARY")"#));
        assert!(!t(r#"ImageType.matches("SECONDARY")"#));
        // numbers
        assert!(t(r#"Rows.equals("512")"#));
        assert!(t(r#"WindowWidth.equals("1")"#));
        assert!(t(r#"Rows.isGreaterThan("511")"#));
        assert!(!t(r#"Rows.isGreaterThan("512")"#));
        assert!(t(r#"Rows.isLessThan("600 px")"#));
        assert!(!t(r#"Columns.isLessThan("600")"#)); // absent: "" is no number
                                                     // absent elements read as ""
        assert!(t(r#"Columns.equals("")"#));
        assert!(t(r#"Columns.isBlank()"#));
        assert!(!t(r#"Modality.isBlank()"#));
        assert!(t(r#"![0018,1012].contains("x")"#));
        // tags, lower-case hex too
        assert!(t(r#"[0008,0060].equals("US")"#));
        assert!(t(r#"[0008,0070].startsWith("GE")"#));
        assert!(t(r#"[0028,0010].equals("512")"#));
        // reserved words
        assert!(t("true."));
        assert!(!t("false."));
        // white space before the argument list, as in the reference script
        assert!(t(r#"Manufacturer.containsIgnoreCase ("ge")"#));
    }

    #[test]
    fn ctp_operators_and_precedence() {
        let us = ds(&[(MODALITY, "US")]);
        let ct = ds(&[(MODALITY, "CT"), (ROWS, "256")]);
        let t = |cond: &str, d: &HashMap<u32, String>| holds(&one_ctp(cond), d);
        // + is or, * is and, * binds tighter: US + (CT * Rows=512)
        let c = r#"Modality.equals("US") + Modality.equals("CT") * Rows.equals("512")"#;
        assert!(t(c, &us));
        assert!(!t(c, &ct));
        // parentheses: (US + CT) * Rows=512
        let c = r#"(Modality.equals("US") + Modality.equals("CT")) * Rows.equals("512")"#;
        assert!(!t(c, &us));
        assert!(!t(c, &ct));
        assert!(t(
            r#"(Modality.equals("US") + Modality.equals("CT")) * Rows.equals("256")"#,
            &ct
        ));
        // ! binds tightest
        assert!(t(r#"!Modality.equals("CT") * !Rows.equals("1")"#, &us));
        assert!(!t(r#"!(Modality.equals("US") + false.)"#, &us));
        assert!(t(r#"!!Modality.equals("US")"#, &us));
        // the CTP filter script's style: ! on tags, * across lines
        let f = "{ ![0008,0008].contains(\"SAVE\") *\n ![0008,103e].contains(\"SAVE\") *\n [0018,1012].equals(\"\") *\n ![0028,0301].contains(\"YES\") }\n(1,2,3,4)";
        let r = parse_ctp_script(f).unwrap();
        assert!(holds(&r[0], &us));
        assert!(!holds(&r[0], &ds(&[(0x0028_0301, "YES")])));
    }

    #[test]
    fn ctp_layout_comments_and_first_match() {
        let s =
            "Vendor A\n  model X\n{ Modality.equals(\"US\") }\n  (0,0,100,10)   (0,90,100,10)\n\
                 # a comment with { braces } and (parens)\n\
                 { Modality.equals(\"US\") * Rows.equals(\"100\") } (5,5,5,5)\n\
                 ***\n Vendor B\n{ Modality.equals(\"CT\") } (1,1,1,1) # trailing (comment)\n";
        let r = parse_ctp_script(s).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].label, "Vendor A / model X");
        assert_eq!(r[0].line(), 3);
        assert_eq!(
            r[0].regions,
            vec![
                RegionSpec::Rect(Rect::new(0, 0, 100, 10)),
                RegionSpec::Rect(Rect::new(0, 90, 100, 10))
            ]
        );
        assert_eq!(r[1].label, "Vendor A / model X");
        assert_eq!(r[2].label, "Vendor B");
        // both first rules hold; CTP takes the first matching signature only
        let d = ds(&[(MODALITY, "US"), (ROWS, "100")]);
        let get = |t: u32| d.get(&t).cloned();
        assert!(r[0].applies(&get) && r[1].applies(&get));
        let out = matching_rects(&r, &get, 100, 100);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|(_, l)| l == "Vendor A / model X"));
        // two parsed scripts are two first-match groups
        let mut twice = parse_ctp_script(s).unwrap();
        twice.extend(parse_ctp_script(s).unwrap());
        assert_eq!(matching_rects(&twice, &get, 100, 100).len(), 4);
    }

    #[test]
    fn ctp_errors_have_lines() {
        let e = |s: &str| err_line(parse_ctp_script(s));
        assert_eq!(e("text\n{ Modalty.equals(\"US\") }\n(0,0,1,1)").0, 2);
        assert!(e("{ Modalty.equals(\"US\") } (0,0,1,1)")
            .1
            .contains("unknown DICOM keyword 'Modalty'"));
        let (l, m) = e("\n\n{ Modality.equal(\"US\") } (0,0,1,1)");
        assert_eq!(l, 3);
        assert!(m.contains("unknown method 'equal'"));
        assert_eq!(e("{ Modality.equals(\"US\") }\n\n(0,0,1)").0, 3);
        assert_eq!(e("{ Modality.equals(\"US\") }\n(0,0,-1,1)").0, 2);
        assert_eq!(e("(0,0,1,1)\n{ Modality.equals(\"US\") }").0, 1);
        let (l, m) = e("\n{ Modality.equals(\"US\") }\nno region\n{ true. } (0,0,1,1)");
        assert_eq!(l, 2);
        assert!(m.contains("no region"));
        assert_eq!(e("\n{ Modality.equals(\"US\") \n (0,0,1,1)").0, 3);
        assert_eq!(e("\n{ Modality.equals(\"US\") \n").0, 2);
        assert_eq!(e("{ Modality.equals(\"US\") }}\n(0,0,1,1)").0, 1);
        assert_eq!(e("{ Modality.equals(\"US) } (0,0,1,1)").0, 1);
        assert!(e("{ Seq::Modality.equals(\"US\") } (0,0,1,1)")
            .1
            .contains("sequence paths"));
        assert!(e("{ [0008,60].equals(\"US\") } (0,0,1,1)")
            .1
            .contains("four hex digits"));
        assert!(e("{ Modality.matches(\"(\") } (0,0,1,1)")
            .1
            .contains("regular expression"));
        assert!(e("{ Rows.isLessThan(\"abc\") } (0,0,1,1)")
            .1
            .contains("needs a number"));
        assert!(e("{ Modality.equals() } (0,0,1,1)")
            .1
            .contains("needs a string"));
        assert!(
            e("{ Modality.equals(\"US\") Rows.equals(\"1\") } (0,0,1,1)")
                .1
                .contains("expected")
        );
        assert!(e("{ } (0,0,1,1)").1.contains("expected a condition"));
        assert!(e("{ Modality.equals(\"US\") + } (0,0,1,1)")
            .1
            .contains("expected a condition"));
    }

    fn deid(s: &str) -> Vec<RegionRule> {
        parse_deid_recipe(s).unwrap()
    }

    #[test]
    fn deid_coordinates() {
        let r = deid(
            "FORMAT dicom\n%filter graylist\nLABEL corners\n  contains Modality US\n  coordinates 10,20,110,70\n  ctpcoordinates 10,20,100,50\n\
             coordinates 0,0,512, 85\nLABEL all\n  contains Modality CT\n  coordinates all\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].regions,
            vec![
                RegionSpec::Rect(Rect::new(10, 20, 100, 50)),
                RegionSpec::Rect(Rect::new(10, 20, 100, 50)),
                RegionSpec::Rect(Rect::new(0, 0, 512, 85))
            ]
        );
        // clipped to the frame
        assert_eq!(
            r[0].rects(300, 40),
            vec![
                Rect::new(10, 20, 100, 20),
                Rect::new(10, 20, 100, 20),
                Rect::new(0, 0, 300, 40)
            ]
        );
        assert_eq!(r[0].rects(5, 5), vec![Rect::new(0, 0, 5, 5)]);
        assert_eq!(r[1].regions, vec![RegionSpec::All]);
        assert_eq!(r[1].rects(640, 480), vec![Rect::new(0, 0, 640, 480)]);
        let ct = ds(&[(MODALITY, "CT")]);
        assert_eq!(
            matching_rects(&r, &|t| ct.get(&t).cloned(), 64, 32),
            vec![(Rect::new(0, 0, 64, 32), "all".to_string())]
        );

        // keep areas unmask what was masked before them, in order
        let r = deid("%filter graylist\nLABEL a\n coordinates all\n keepcoordinates 10,10,20,20\n ctpcoordinates 12,12,2,2\n");
        let rects = r[0].rects(30, 30);
        assert_eq!(rects.iter().map(Rect::area).sum::<u64>(), 900 - 100 + 4);
        assert!(rects
            .iter()
            .all(|x| !x.intersects(&Rect::new(10, 10, 10, 10)) || *x == Rect::new(12, 12, 2, 2)));
        // a keep in a later rule unmasks earlier rules' areas
        let r = deid(
            "%filter graylist\nLABEL a\n coordinates all\nLABEL b\n ctpkeepcoordinates 0,0,30,10\n",
        );
        assert_eq!(
            matching_rects(&r, &|_| None, 30, 30),
            vec![(Rect::new(0, 10, 30, 20), "a".to_string())]
        );

        let e = |s: &str| err_line(parse_deid_recipe(s));
        assert_eq!(e("%filter g\nLABEL a\n coordinates 10,10,5,20\n").0, 3);
        assert_eq!(e("%filter g\nLABEL a\n\n coordinates 1,2,3\n").0, 4);
        assert_eq!(e("%filter g\nLABEL a\n ctpcoordinates 1,-2,3,4\n").0, 3);
        assert!(
            e("%filter g\nLABEL a\n ctpcoordinates from:SequenceOfUltrasoundRegions\n")
                .1
                .contains("from:")
        );
        assert!(
            e("%filter g\nLABEL a\n keepcoordinates from:NoSuchSequence\n")
                .1
                .contains("NoSuchSequence")
        );
    }

    #[test]
    fn deid_criteria() {
        let r = deid(
            "FORMAT dicom\n\n%filter graylist\n\n# a comment\nLABEL Somatom # (someone)\n  contains ManufacturerModelName SOMATOM Definition AS+\n  + contains Modality CT\n  \
             + contains ImageType LOCAL || contains SeriesDescription Localizer\n  coordinates 0,0,80,85\n\
             LABEL alternatives\n  contains Modality CR|DX|PR\n  coordinates 0,0,1,1\n\
             LABEL left to right\n  contains Modality CT + equals Rows 512 || contains Modality MR\n  coordinates 0,0,1,1\n\
             LABEL lines are and-ed\n  contains Modality CT\n  || contains Modality MR\n  coordinates 0,0,1,1\n\
             LABEL negations\n  notcontains Modality CT + notequals Rows 512\n  coordinates 0,0,1,1\n\
             LABEL presence\n  missing Manufacturer || empty Manufacturer\n  + present Rows\n  coordinates 0,0,1,1\n\
             LABEL plus in a value\n  contains ImageType DERIVED+SECONDARY\n  coordinates 0,0,1,1\n\
             LABEL hex tag\n  equals 0x00080060 us\n  coordinates 0,0,1,1\n\
             LABEL typo\n  contains Manfacturer GE\n  coordinates 0,0,1,1\n\
             LABEL no criteria\n  coordinates 0,0,1,1\n\
             LABEL nothing at all\n\
             %header\nREMOVE PatientName\nLABEL not a filter here\nADD PatientIdentityRemoved YES\n",
        );
        assert_eq!(r.len(), 11);
        assert_eq!(r[0].label, "Somatom");
        let by = |l: &str| r.iter().find(|x| x.label == l).unwrap();
        let t = |l: &str, pairs: &[(u32, &str)]| holds(by(l), &ds(pairs));

        // case-insensitive regular expression search; "AS+" stays in the value
        assert!(t(
            "Somatom",
            &[
                (MODEL, "somatom definition as+"),
                (MODALITY, "CT"),
                (IMAGE_TYPE, "ORIGINAL\\PRIMARY\\LOCALIZER")
            ]
        ));
        assert!(t(
            "Somatom",
            &[
                (MODEL, "SOMATOM Definition AS"),
                (MODALITY, "CT"),
                (0x0008_103E, "Localizer 1")
            ]
        ));
        assert!(!t(
            "Somatom",
            &[
                (MODEL, "SOMATOM Definition AS"),
                (MODALITY, "CT"),
                (IMAGE_TYPE, "AXIAL")
            ]
        ));
        assert!(!t(
            "Somatom",
            &[
                (MODEL, "SOMATOM Definition AS"),
                (MODALITY, "MR"),
                (IMAGE_TYPE, "LOCALIZER")
            ]
        ));
        assert!(t("alternatives", &[(MODALITY, "DX")]));
        assert!(!t("alternatives", &[(MODALITY, "CT")]));
        // left to right: (CT and 512) or MR
        assert!(t("left to right", &[(MODALITY, "MR")]));
        assert!(t("left to right", &[(MODALITY, "CT"), (ROWS, "512")]));
        assert!(!t("left to right", &[(MODALITY, "CT"), (ROWS, "256")]));
        // a line starting with || is still and-ed with the others (deid's evaluator)
        assert!(!t("lines are and-ed", &[(MODALITY, "CT")]));
        assert!(!t("lines are and-ed", &[(MODALITY, "MR")]));
        // absent elements: contains/equals false, so their negations true
        assert!(t("negations", &[]));
        assert!(t("negations", &[(MODALITY, "US"), (ROWS, "256")]));
        assert!(!t("negations", &[(MODALITY, "US"), (ROWS, "512")]));
        assert!(t("presence", &[(ROWS, "1")]));
        assert!(t("presence", &[(MANUFACTURER, ""), (ROWS, "1")]));
        assert!(!t("presence", &[(MANUFACTURER, "GE"), (ROWS, "1")]));
        assert!(!t("presence", &[]));
        // DERIVED+SECONDARY is a regular expression (as in deid): not "both values"
        assert!(!t("plus in a value", &[(IMAGE_TYPE, "DERIVED\\SECONDARY")]));
        assert!(t("plus in a value", &[(IMAGE_TYPE, "DERIVEDDSECONDARY")]));
        // equals: case-insensitive, whole value
        assert!(t("hex tag", &[(MODALITY, "US")]));
        assert!(!t("hex tag", &[(MODALITY, "USX")]));
        // unknown keywords read as absent
        assert_eq!(by("typo").unknown_fields(), ["Manfacturer"]);
        assert!(!t("typo", &[(MANUFACTURER, "GE")]));
        // no criteria: applies when it has coordinates, never otherwise
        assert!(t("no criteria", &[]));
        assert!(!t("nothing at all", &[]));
        assert!(by("nothing at all").flags_only());
        assert_eq!(by("Somatom").filter_group(), Some("graylist"));
    }

    #[test]
    fn deid_errors_have_lines() {
        let e = |s: &str| err_line(parse_deid_recipe(s));
        assert_eq!(
            e("FORMAT dicom\n%filter g\nLABEL a\n  contain Modality CT\n").0,
            4
        );
        assert_eq!(e("FORMAT dicom\n%filter g\nLABEL a\n  contains Modality CT + bogus\n  + contains Rows\n").0, 5);
        assert_eq!(e("%filter g\nLABEL a\n  missing Modality CT\n").0, 3);
        assert_eq!(e("%filter g\nLABEL a\n  contains Modality (\n").0, 3);
        assert_eq!(e("%filter g\nLABEL a\n  equals 0xZZ 1\n").0, 3);
        assert_eq!(e("%filter g\n  contains Modality CT\n").0, 2);
        assert_eq!(e("%filter\n").0, 1);
        assert_eq!(e("FORMAT dicom\n%bogus\n").0, 2);
        assert_eq!(e("FORMAT nifti\n").0, 1);
        assert_eq!(e("REMOVE PatientName\n").0, 1);
    }

    #[test]
    fn user_regions() {
        let u: UserRegion = serde_json::from_str(
            r#"{"x":10,"y":0,"w":100,"h":20,"modality":"us","manufacturer":"GE","rows":600}"#,
        )
        .unwrap();
        let rule = u.to_rule();
        assert_eq!(rule.source, RuleSource::User);
        assert_eq!(rule.label, "user region 10,0,100,20");
        assert!(holds(
            &rule,
            &ds(&[
                (MODALITY, "US"),
                (MANUFACTURER, "GE MEDICAL SYSTEMS"),
                (ROWS, "600")
            ])
        ));
        assert!(holds(
            &rule,
            &ds(&[
                (MODALITY, "US "),
                (MANUFACTURER, "ge healthcare"),
                (ROWS, "600")
            ])
        ));
        assert!(!holds(
            &rule,
            &ds(&[
                (MODALITY, "CT"),
                (MANUFACTURER, "GE MEDICAL SYSTEMS"),
                (ROWS, "600")
            ])
        ));
        assert!(!holds(
            &rule,
            &ds(&[
                (MODALITY, "US"),
                (MANUFACTURER, "SuperSonic Imagine"),
                (ROWS, "600")
            ])
        ));
        assert!(!holds(
            &rule,
            &ds(&[
                (MODALITY, "US"),
                (MANUFACTURER, "GE MEDICAL SYSTEMS"),
                (ROWS, "768")
            ])
        ));
        assert!(!holds(&rule, &ds(&[(MODALITY, "US"), (ROWS, "600")])));
        assert_eq!(rule.rects(50, 50), vec![Rect::new(10, 0, 40, 20)]);

        let plain: UserRegion =
            serde_json::from_str(r#"{"x":0,"y":0,"w":5,"h":5,"columns":800}"#).unwrap();
        assert!(holds(&plain.to_rule(), &ds(&[(COLUMNS, "800")])));
        assert!(!holds(&plain.to_rule(), &ds(&[])));
        let always: UserRegion = serde_json::from_str(r#"{"x":0,"y":0,"w":5,"h":5}"#).unwrap();
        assert!(holds(&always.to_rule(), &ds(&[])));
        assert!(
            serde_json::from_str::<UserRegion>(r#"{"x":0,"y":0,"w":5,"h":5,"colour":1}"#).is_err()
        );

        // user rules always apply together with the others
        let mut rules = vec![always.to_rule(), u.to_rule()];
        rules.extend(parse_ctp_script("{ true. } (0,0,2,2)").unwrap());
        let d = ds(&[(MODALITY, "US"), (MANUFACTURER, "GE"), (ROWS, "600")]);
        let out = matching_rects(&rules, &|t| d.get(&t).cloned(), 800, 600);
        assert_eq!(
            out,
            vec![
                (Rect::new(0, 0, 5, 5), "user region 0,0,5,5".to_string()),
                (
                    Rect::new(10, 0, 100, 20),
                    "user region 10,0,100,20".to_string()
                ),
                (Rect::new(0, 0, 2, 2), "CTP signature at line 1".to_string()),
            ]
        );
    }
}
