//! Rebuilds a text without its marked tokens, keeping the DICOM structure of what is kept.

use std::borrow::Cow;

use super::engine::Analysis;
use super::norm::Tk;

const OPENERS: &str = "([{<«“‘";
const CLOSERS: &str = ")]}>»”’";

/// The cleaned text. Each component (text between the structural separators `\`, `^`, `=`) that
/// lost something is rebuilt from what it kept; the separators around a removed run are merged
/// (", Rossi," → ","; " (Rossi) " → " "), horizontal white space is collapsed, empty brackets are
/// dropped and the component is trimmed of dangling separators. Untouched components are copied
/// byte for byte. In a changed PN component group / value, empty components at the ends are
/// dropped (interior ones are kept so positions stay meaningful).
pub(crate) fn rebuild(a: &Analysis<'_>) -> String {
    // values (\) → groups (=) → components (^)
    type Comp<'s> = (Cow<'s, str>, bool);
    let mut values: Vec<Vec<Vec<Comp<'_>>>> = vec![vec![vec![]]];
    let n = a.toks.len();
    let mut start = 0;
    for i in 0..=n {
        if i < n && a.toks[i].kind != Tk::Struct {
            continue;
        }
        let comp = component(a, start, i);
        if let Some(g) = values.last_mut().and_then(|g| g.last_mut()) {
            g.push(comp);
        }
        if i < n {
            match a.toks[i].ch {
                '=' => {
                    if let Some(v) = values.last_mut() {
                        v.push(vec![]);
                    }
                }
                '\\' => values.push(vec![vec![]]),
                _ => {}
            }
        }
        start = i + 1;
    }
    let mut out = String::with_capacity(a.text.len());
    let mut vals: Vec<(String, bool)> = Vec::new();
    for groups in &values {
        let mut gs: Vec<(String, bool)> = Vec::new();
        for comps in groups {
            let changed = comps.iter().any(|c| c.1);
            let mut lo = 0;
            let mut hi = comps.len();
            if changed {
                while lo < hi && comps[lo].0.is_empty() {
                    lo += 1;
                }
                while hi > lo && comps[hi - 1].0.is_empty() {
                    hi -= 1;
                }
            }
            let s = comps[lo..hi]
                .iter()
                .map(|c| c.0.as_ref())
                .collect::<Vec<_>>()
                .join("^");
            gs.push((s, changed));
        }
        let changed = gs.iter().any(|g| g.1);
        let (mut lo, mut hi) = (0, gs.len());
        if changed {
            while lo < hi && gs[lo].0.is_empty() {
                lo += 1;
            }
            while hi > lo && gs[hi - 1].0.is_empty() {
                hi -= 1;
            }
        }
        let s = gs[lo..hi]
            .iter()
            .map(|g| g.0.as_str())
            .collect::<Vec<_>>()
            .join("=");
        vals.push((s, changed));
    }
    let (mut lo, mut hi) = (0, vals.len());
    while lo < hi && vals[lo].1 && vals[lo].0.is_empty() {
        lo += 1;
    }
    while hi > lo && vals[hi - 1].1 && vals[hi - 1].0.is_empty() {
        hi -= 1;
    }
    for (k, v) in vals[lo..hi].iter().enumerate() {
        if k > 0 {
            out.push('\\');
        }
        out.push_str(&v.0);
    }
    out
}

/// The cleaned text of tokens `from..to` (one component) and whether it changed.
fn component<'s>(a: &Analysis<'s>, from: usize, to: usize) -> (Cow<'s, str>, bool) {
    if from >= to {
        return (Cow::Borrowed(""), false);
    }
    let bstart = a.toks[from].start as usize;
    let bend = a.toks[to - 1].end as usize;
    if a.marks[from..to].iter().all(|m| *m == 0) {
        return (Cow::Borrowed(&a.text[bstart..bend]), false);
    }
    let mut out = String::with_capacity(bend - bstart);
    let mut seg_start = bstart;
    let mut removed_before = false;
    let mut i = from;
    while i < to {
        if a.marks[i] == 0 {
            i += 1;
            continue;
        }
        let run_start = a.toks[i].start as usize;
        while i < to && a.marks[i] != 0 {
            i += 1;
        }
        append(&mut out, &a.text[seg_start..run_start], removed_before);
        removed_before = true;
        seg_start = a.toks[i - 1].end as usize;
    }
    append(&mut out, &a.text[seg_start..bend], removed_before);
    (Cow::Owned(tidy(&out)), true)
}

fn is_sep(c: char) -> bool {
    !c.is_alphanumeric()
}

/// Appends a kept segment; when something was removed before it, the separator at the end of
/// `out` and the one at the start of `seg` are merged into one.
fn append(out: &mut String, seg: &str, removed_before: bool) {
    if !removed_before {
        out.push_str(seg);
        return;
    }
    let a_len = out.len() - out.trim_end_matches(is_sep).len();
    let a = out[out.len() - a_len..].to_string();
    let body_start = seg.len() - seg.trim_start_matches(is_sep).len();
    let b = &seg[..body_start];
    let merged = merge_seps(&a, b);
    out.truncate(out.len() - a_len);
    out.push_str(&merged);
    out.push_str(&seg[body_start..]);
}

fn merge_seps(a: &str, b: &str) -> String {
    let at = a.trim();
    let bt = b.trim();
    let brackets = |s: &str| {
        s.chars()
            .any(|c| OPENERS.contains(c) || CLOSERS.contains(c) || c == '"')
    };
    if at.is_empty() && bt.is_empty() {
        return if a.is_empty() || b.is_empty() {
            String::new()
        } else if a.contains('\n') || b.contains('\n') {
            "\n".into()
        } else {
            " ".into()
        };
    }
    if brackets(a) || brackets(b) {
        // keep only the brackets (the empty pairs go later), with the outer spacing
        let body: String = a
            .chars()
            .chain(b.chars())
            .filter(|c| OPENERS.contains(*c) || CLOSERS.contains(*c) || *c == '"')
            .collect();
        let mut s = String::new();
        if a.starts_with(char::is_whitespace) {
            s.push(' ');
        }
        s.push_str(&body);
        if b.ends_with(char::is_whitespace)
            && body.ends_with(|c: char| CLOSERS.contains(c) || c == '"')
        {
            s.push(' ');
        }
        return s;
    }
    if at.is_empty() {
        return b.to_string();
    }
    if bt.is_empty() {
        let mut s = a.to_string();
        if !b.is_empty() && !a.ends_with(char::is_whitespace) {
            s.push(' ');
        }
        return s;
    }
    a.to_string()
}

fn tidy(s: &str) -> String {
    let mut s = remove_empty_brackets(s);
    // collapse horizontal white space
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for c in s.chars() {
        if c == ' ' || c == '\t' {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    s = out;
    let lead = |c: char| c.is_whitespace() || ",;:-/|&+_.*#~".contains(c) || CLOSERS.contains(c);
    let trail = |c: char| c.is_whitespace() || ",;:-/|&+_*#~".contains(c) || OPENERS.contains(c);
    s.trim_start_matches(lead)
        .trim_end_matches(trail)
        .to_string()
}

fn remove_empty_brackets(s: &str) -> String {
    let mut cur: Vec<char> = s.chars().collect();
    loop {
        let mut changed = false;
        let mut i = 0;
        while i < cur.len() {
            let c = cur[i];
            let close = match c {
                '(' => Some(')'),
                '[' => Some(']'),
                '{' => Some('}'),
                '<' => Some('>'),
                '«' => Some('»'),
                '“' => Some('”'),
                '"' => Some('"'),
                _ => None,
            };
            if let Some(cl) = close {
                let mut j = i + 1;
                while j < cur.len() && (cur[j] == ' ' || cur[j] == '\t') {
                    j += 1;
                }
                if j < cur.len() && cur[j] == cl {
                    cur.drain(i..=j);
                    changed = true;
                    continue;
                }
            }
            i += 1;
        }
        if !changed {
            break;
        }
    }
    cur.into_iter().collect()
}
