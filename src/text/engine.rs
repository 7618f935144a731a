//! The rules: marks the tokens of a text that are to be removed.

use super::deny::{letter_mask, may_contain, valid_date, DenyList, Trie};
use super::lang::flag;
use super::norm::{
    bounded_distance, tokenize, Tk, Tok, ALLCAPS, ALPHA, DIGITS, HAS_DIGIT, TITLE, UPPER1,
};
use super::patterns::{accept, Pat};
use super::Cleaner;

// Mark kinds (0 = kept).
pub(crate) const K_DENY: u8 = 1;
pub(crate) const K_NAME: u8 = 2;
pub(crate) const K_INST: u8 = 3;
pub(crate) const K_EMAIL: u8 = 4;
pub(crate) const K_PHONE: u8 = 5;
pub(crate) const K_DATE: u8 = 6;
pub(crate) const K_ID: u8 = 7;
pub(crate) const K_EXTRA: u8 = 8;
pub(crate) const K_JOIN: u8 = 9;

/// A tokenised text with its word classes and removal marks.
pub(crate) struct Analysis<'a> {
    pub text: &'a str,
    pub toks: Vec<Tok>,
    pub norm: String,
    pub flags: Vec<u32>,
    pub marks: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// after an honorific: any non-vocabulary word, and vocabulary words written like names
    /// ("Mrs. May", "Frau Herz")
    Hon,
    /// after an ambiguous honorific without a dot ("Mr", "Dr"): any non-vocabulary word
    HonWeak,
    /// after a name prefix ("for", "by"): capitalised non-vocabulary words, not short all-caps
    Prefix,
    /// around an institution or address word: capitalised non-vocabulary words
    Inst,
}

impl<'a> Analysis<'a> {
    #[inline]
    pub fn n(&self, i: usize) -> &str {
        let t = &self.toks[i];
        &self.norm[t.ns as usize..t.ne as usize]
    }

    #[inline]
    fn is_word(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(Tok::is_word)
    }

    fn mark(&mut self, i: usize, k: u8) {
        if self.toks[i].kind != Tk::Struct && self.marks[i] == 0 {
            self.marks[i] = k;
        }
    }

    fn mark_span(&mut self, from: usize, to: usize, k: u8) {
        for i in from..=to.min(self.toks.len() - 1) {
            self.mark(i, k);
        }
    }

    /// Marks the tokens that overlap the byte range.
    fn mark_bytes(&mut self, start: usize, end: usize, k: u8) {
        let first = self.toks.partition_point(|t| (t.end as usize) <= start);
        let mut i = first;
        while i < self.toks.len() && (self.toks[i].start as usize) < end {
            self.mark(i, k);
            i += 1;
        }
    }

    fn any_marked(&self) -> bool {
        self.marks.iter().any(|m| *m != 0)
    }

    /// Next word after `cur` when the tokens in between all satisfy `ok` (at most `max`).
    fn next_word_by(&self, cur: usize, max: usize, ok: impl Fn(&Tok) -> bool) -> Option<usize> {
        let mut j = cur + 1;
        let mut n = 0;
        while j < self.toks.len() {
            let t = &self.toks[j];
            if t.kind == Tk::Word {
                return Some(j);
            }
            if n >= max || !ok(t) {
                return None;
            }
            n += 1;
            j += 1;
        }
        None
    }

    fn prev_word_by(&self, cur: usize, max: usize, ok: impl Fn(&Tok) -> bool) -> Option<usize> {
        let mut j = cur;
        let mut n = 0;
        while j > 0 {
            j -= 1;
            let t = &self.toks[j];
            if t.kind == Tk::Word {
                return Some(j);
            }
            if n >= max || !ok(t) {
                return None;
            }
            n += 1;
        }
        None
    }

    /// Next word inside a name: one space, or one of - ' ’ (and a dot after an initial,
    /// particle or honorific when `dot_ok`).
    fn name_next(&self, cur: usize, dot_ok: bool) -> Option<usize> {
        let mut j = cur + 1;
        let mut space = false;
        let mut punct = false;
        while j < self.toks.len() {
            let t = &self.toks[j];
            match t.kind {
                Tk::Word => return Some(j),
                Tk::Space if t.is_inline_space() && !space => space = true,
                Tk::Punct
                    if !punct
                        && !space
                        && (matches!(t.ch, '-' | '\'' | '’') || (t.ch == '.' && dot_ok)) =>
                {
                    punct = true
                }
                _ => return None,
            }
            j += 1;
        }
        None
    }

    /// Single upper-case letter followed by a dot ("J.").
    fn is_initial(&self, i: usize) -> bool {
        let t = &self.toks[i];
        t.nchars == 1
            && t.has(ALPHA)
            && t.has(UPPER1)
            && self.toks.get(i + 1).is_some_and(|n| n.is_punct('.'))
    }

    /// A short word glued to the next by an apostrophe ("O'", "D'", "dell'").
    fn is_elision(&self, i: usize) -> bool {
        let t = &self.toks[i];
        t.nchars <= 4
            && t.has(ALPHA)
            && self
                .toks
                .get(i + 1)
                .is_some_and(|a| a.is_punct('\'') || a.is_punct('’'))
            && self.is_word(i + 2)
    }
}

/// Reusable buffers of an analysis (kept per thread, so that a clean text costs no allocation
/// besides its output).
#[derive(Default)]
struct Scratch {
    toks: Vec<Tok>,
    norm: String,
    flags: Vec<u32>,
    marks: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

impl Cleaner {
    /// Runs `f` on the analysis of `text` (`None` when nothing is to be removed).
    pub(crate) fn with_analysis<R>(
        &self,
        text: &str,
        deny: &DenyList,
        f: impl FnOnce(Option<&Analysis<'_>>) -> R,
    ) -> R {
        let sc = SCRATCH
            .with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .unwrap_or_default();
        let (a, found) = self.analyze(text, deny, sc);
        let r = f(if found { Some(&a) } else { None });
        let mut sc = Scratch {
            toks: a.toks,
            norm: a.norm,
            flags: a.flags,
            marks: a.marks,
        };
        if sc.norm.capacity() <= 1 << 16 {
            sc.toks.clear();
            sc.norm.clear();
            sc.flags.clear();
            sc.marks.clear();
            SCRATCH.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    *s = Some(sc);
                }
            });
        }
        r
    }

    /// Tokenises and marks `text`; the flag tells whether anything is to be removed.
    fn analyze<'a>(&self, text: &'a str, deny: &DenyList, sc: Scratch) -> (Analysis<'a>, bool) {
        let Scratch {
            mut toks,
            mut norm,
            mut flags,
            mut marks,
        } = sc;
        tokenize(text, &mut toks, &mut norm);
        flags.resize(toks.len(), 0);
        marks.resize(toks.len(), 0);
        let mut a = Analysis {
            text,
            flags,
            marks,
            toks,
            norm,
        };
        if a.toks.is_empty() {
            return (a, false);
        }
        let mut trigger = false;
        let mut has_digit = false;
        for i in 0..a.toks.len() {
            if a.toks[i].kind == Tk::Word {
                let f = self.lex.flags(a.n(i));
                a.flags[i] = f;
                trigger |= f & flag::TRIGGER != 0;
                has_digit |= a.toks[i].has(HAS_DIGIT);
            }
        }
        let has_at = text.contains('@');

        // 1. patterns
        if has_digit || has_at {
            let hits = self.pats.set.matches(text);
            if hits.matched_any() {
                for idx in hits.iter() {
                    let (re, pat) = &self.pats.res[idx];
                    for m in re.find_iter(text) {
                        if accept(*pat, text, m.start(), m.end()) {
                            let k = match pat {
                                Pat::Email => K_EMAIL,
                                Pat::PhoneIntl | Pat::PhoneLocal => K_PHONE,
                                Pat::DateIso | Pat::DateNum4 | Pat::DateNum2 | Pat::DateText => {
                                    K_DATE
                                }
                                Pat::IdDigits | Pat::IdAlnum | Pat::Uid => K_ID,
                            };
                            a.mark_bytes(m.start(), m.end(), k);
                        }
                    }
                }
            }
        }
        if has_digit {
            mark_mixed_ids(&mut a);
        }
        if let Some(set) = &self.extra_set {
            for idx in set.matches(text).iter() {
                for m in self.extra_res[idx].find_iter(text) {
                    if m.end() > m.start() {
                        a.mark_bytes(m.start(), m.end(), K_EXTRA);
                    }
                }
            }
        }

        // 2. deny-list and extra words
        self.match_list(&mut a, &self.extra, K_EXTRA, false);
        self.match_list(&mut a, deny, K_DENY, self.fuzzy);
        if !deny.dates.is_empty() && has_digit {
            self.match_dates(&mut a, deny);
        }
        if !deny.ids.is_empty() {
            match_ids(&mut a, deny);
        }
        if !deny.phones.is_empty() && has_digit {
            self.match_phones(&mut a, deny);
        }

        // 3. heuristics (only when a trigger word is present)
        if trigger {
            self.rule_honorifics(&mut a);
            self.rule_postnominals(&mut a);
            self.rule_places(&mut a);
            self.rule_prefixes(&mut a);
        }
        if !a.any_marked() {
            return (a, false);
        }
        absorb(&mut a);
        join_gaps(&mut a);
        (a, true)
    }

    /// Single words (exact, then fuzzy) and word sequences of a deny-list.
    fn match_list(&self, a: &mut Analysis<'_>, list: &DenyList, k: u8, fuzzy: bool) {
        let words = !list.words.is_empty();
        let phrases = !list.phrases.is_empty();
        if !words && !phrases {
            return;
        }
        let always = k == K_EXTRA;
        for i in 0..a.toks.len() {
            if a.toks[i].kind != Tk::Word {
                continue;
            }
            let n = a.n(i);
            let maybe = may_contain(list.mask, n);
            if words {
                if maybe && list.words.contains(n) {
                    // a clinical word is only removed as part of a whole deny-listed name
                    if always || a.flags[i] & flag::CLINICAL == 0 {
                        a.mark(i, k);
                    }
                } else if fuzzy
                    && a.toks[i].nchars >= 5
                    && a.toks[i].has(ALPHA)
                    && a.flags[i] & flag::GENERIC == 0
                    && fuzzy_hit(list, n, a.toks[i].nchars as usize)
                {
                    a.mark(i, k);
                }
            }
            if phrases && maybe {
                if let Some(end) = match_trie(a, &list.phrases, i) {
                    a.mark_span(i, end, k);
                }
            }
        }
    }

    fn match_dates(&self, a: &mut Analysis<'_>, deny: &DenyList) {
        for i in 0..a.toks.len() {
            if a.toks[i].kind != Tk::Word
                || a.marks[i] == K_DATE && i > 0 && a.marks[i - 1] == K_DATE
            {
                continue;
            }
            if let Some(end) = self.date_at(a, i, deny) {
                a.mark_span(i, end, K_DATE);
            }
        }
    }

    /// A deny-listed date starting at word `i`; returns its last token.
    fn date_at(&self, a: &Analysis<'_>, i: usize, deny: &DenyList) -> Option<usize> {
        let hit = |y: u32, m: u32, d: u32, two: bool| -> bool {
            if m > 12 || d > 31 || m == 0 || d == 0 {
                return false;
            }
            if two {
                y < 100 && deny.dates2.contains(&(y as u8, m as u8, d as u8))
            } else {
                y < 10000
                    && valid_date(y as u16, m as u8, d as u8)
                    && deny.dates.contains(&(y as u16, m as u8, d as u8))
            }
        };
        let next = |cur: usize| {
            a.next_word_by(cur, 3, |t| {
                t.is_inline_space()
                    || (t.kind == Tk::Punct && matches!(t.ch, '.' | '-' | '/' | ','))
            })
        };
        // skips a Spanish/Portuguese "de"/"del"
        let next_de = |cur: usize| {
            let j = next(cur)?;
            if matches!(a.n(j), "de" | "del") {
                next(j)
            } else {
                Some(j)
            }
        };
        let t = &a.toks[i];
        let n = a.n(i);
        if t.has(DIGITS) {
            let len = n.len();
            let v: u32 = n.parse().ok()?;
            if len == 8 {
                let ok = hit(v / 10000, v / 100 % 100, v % 100, false)
                    || hit(v % 10000, v / 10000 % 100, v / 1_000_000, false)
                    || hit(v % 10000, v / 1_000_000, v / 10000 % 100, false);
                return ok.then_some(i);
            }
            if len == 6 {
                let ok = hit(v / 10000, v / 100 % 100, v % 100, true)
                    || hit(v % 100, v / 100 % 100, v / 10000, true)
                    || hit(v % 100, v / 10000, v / 100 % 100, true);
                return ok.then_some(i);
            }
            if len == 4 {
                let j = next(i)?;
                let k = next(j)?;
                let (m, d) = (day_num(a, j)?, day_num(a, k)?);
                return hit(v, m, d, false).then_some(k);
            }
        }
        if a.flags[i] & flag::MONTH != 0 {
            // May 25, 2011
            let m = self.lex.month(n)?;
            let j = next(i)?;
            let d = day_num(a, j)?;
            let k = next(j)?;
            let (y, two) = year_num(a, k)?;
            return hit(y, u32::from(m), d, two).then_some(k);
        }
        let first = day_num(a, i)?;
        let j = next_de(i)?;
        if let Some(m) = (a.flags[j] & flag::MONTH != 0)
            .then(|| self.lex.month(a.n(j)))
            .flatten()
        {
            let k = next_de(j)?;
            let (y, two) = year_num(a, k)?;
            return hit(y, u32::from(m), first, two).then_some(k);
        }
        let second = day_num(a, j)?;
        let k = next(j)?;
        let (y, two) = year_num(a, k)?;
        (hit(y, second, first, two) || hit(y, first, second, two)).then_some(k)
    }

    fn match_phones(&self, a: &mut Analysis<'_>, deny: &DenyList) {
        let text = a.text;
        for m in self.pats.phone_candidate.find_iter(text) {
            let d: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            let d = d.trim_start_matches('0');
            if d.len() < 6 {
                continue;
            }
            if !deny.phone_tails.contains(&d[d.len() - 6..]) {
                continue;
            }
            let hit = deny.phones.iter().any(|p| {
                p == d
                    || (d.len() >= 7 && p.ends_with(d))
                    || (p.len() >= 7 && d.ends_with(p.as_str()))
            });
            if hit {
                a.mark_bytes(m.start(), m.end(), K_PHONE);
            }
        }
    }

    /// Honorific + following name words ("Dr. Mario Rossi", "Dott.ssa Bianchi", "Frau Müller").
    fn rule_honorifics(&self, a: &mut Analysis<'_>) {
        for i in 0..a.toks.len() {
            let f = a.flags[i];
            if a.toks[i].kind != Tk::Word || f & (flag::HON | flag::HON_MULTI) == 0 {
                continue;
            }
            let (hend, weak) = match self.multi_honorific(a, i) {
                Some(e) => (e, false),
                None if f & flag::HON != 0 => (i, f & flag::HON_WEAK != 0),
                None => continue,
            };
            let dot = a.toks.get(hend + 1).is_some_and(|t| t.is_punct('.'));
            let t = a.toks[i];
            if weak && !dot && (t.has(ALLCAPS) || t.nchars == 1) {
                continue; // "MR KNEE", "DR CHEST": modality, not a title
            }
            let hend_dot = if dot { hend + 1 } else { hend };
            let mode = if weak && !dot {
                Mode::HonWeak
            } else {
                Mode::Hon
            };
            let (end, names) =
                match a.next_word_by(hend, 2, |t| t.is_inline_space() || t.is_punct('.')) {
                    Some(j) => self.name_run(a, j, mode, 3),
                    None => (None, 0),
                };
            // a strong title goes even without a name ("Prof."); an ambiguous one only with one
            if names > 0 || !weak {
                a.mark_span(i, end.unwrap_or(hend_dot).max(hend_dot), K_NAME);
            }
        }
    }

    fn multi_honorific(&self, a: &Analysis<'_>, i: usize) -> Option<usize> {
        if a.flags[i] & flag::HON_MULTI == 0 {
            return None;
        }
        'seq: for seq in &self.lex.multi_hon {
            if seq[0] != a.n(i) {
                continue;
            }
            let mut cur = i;
            for part in &seq[1..] {
                let j = cur + 2;
                let sep_ok = a
                    .toks
                    .get(cur + 1)
                    .is_some_and(|t| t.is_punct('.') || t.is_punct('-'));
                if !sep_ok || !a.is_word(j) || a.n(j) != part {
                    continue 'seq;
                }
                cur = j;
            }
            return Some(cur);
        }
        None
    }

    /// Consumes name words from word `start`; returns (last token, number of name words).
    fn name_run(
        &self,
        a: &Analysis<'_>,
        start: usize,
        mode: Mode,
        max: usize,
    ) -> (Option<usize>, usize) {
        let mut cur = start;
        let mut names = 0;
        let mut end = None;
        let mut used_comma = false;
        for _ in 0..8 {
            let f = a.flags[cur];
            let mut dot_ok = false;
            let mut last = cur;
            if matches!(a.marks[cur], K_DENY | K_EXTRA) {
                names += 1;
                end = Some(cur);
            } else if a.is_initial(cur) {
                last = cur + 1;
                end = Some(last);
                dot_ok = true;
            } else if matches!(mode, Mode::Hon | Mode::HonWeak)
                && (f & flag::HON != 0 || self.multi_honorific(a, cur).is_some())
            {
                if let Some(e) = self.multi_honorific(a, cur) {
                    last = e;
                }
                end = Some(last);
                dot_ok = true;
            } else if f & flag::PARTICLE != 0 || a.is_elision(cur) {
                dot_ok = true;
            } else if self.name_like(a, cur, mode) {
                names += 1;
                end = Some(cur);
            } else {
                break;
            }
            if names >= max {
                break;
            }
            match a.name_next(last, dot_ok) {
                Some(j) => cur = j,
                None => {
                    // "WILLIAMS, JAMES": one comma, when a name follows
                    let j = a.next_word_by(last, 2, |t| t.is_punct(',') || t.is_inline_space());
                    let comma =
                        j.is_some_and(|j| a.toks[last + 1..j].iter().any(|t| t.is_punct(',')));
                    match j {
                        Some(j)
                            if comma
                                && !used_comma
                                && names > 0
                                && self.name_like(a, j, Mode::Prefix) =>
                        {
                            used_comma = true;
                            cur = j;
                        }
                        _ => break,
                    }
                }
            }
        }
        (end, names)
    }

    fn name_like(&self, a: &Analysis<'_>, i: usize, mode: Mode) -> bool {
        let t = &a.toks[i];
        let f = a.flags[i];
        if !t.has(ALPHA) || t.nchars < 2 {
            return false;
        }
        match mode {
            // after a title even a vocabulary word is a name when written like one ("Mrs May",
            // "Frau Herz"), but not in capitals ("DR. CHEST")
            Mode::Hon => {
                const HARD: u32 = flag::NOT_NAME & !(flag::CLINICAL | flag::STOP | flag::MONTH);
                f & HARD == 0
                    && (f & (flag::CLINICAL | flag::STOP | flag::MONTH) == 0
                        || (t.has(TITLE) && t.nchars >= 3))
            }
            Mode::HonWeak => f & flag::NOT_NAME == 0,
            Mode::Prefix => {
                f & flag::NOT_NAME == 0 && t.has(UPPER1) && !(t.has(ALLCAPS) && t.nchars <= 3)
            }
            Mode::Inst => {
                f & (flag::NOT_NAME & !flag::MONTH) == 0 && t.has(UPPER1) || f & flag::ADDR_SFX != 0
            }
        }
    }

    /// Post-nominal title after a name ("John Smith, MD").
    fn rule_postnominals(&self, a: &mut Analysis<'_>) {
        for i in 0..a.toks.len() {
            if a.toks[i].kind != Tk::Word || a.flags[i] & flag::POSTNOM == 0 || a.toks[i].nchars < 2
            {
                continue;
            }
            let mut cur = i;
            let mut start = None;
            let mut names = 0;
            for step in 0..6 {
                let p = a.prev_word_by(cur, 2, |t| {
                    t.is_inline_space()
                        || (t.kind == Tk::Punct
                            && (t.ch == '-' || t.ch == '.' || (step == 0 && t.ch == ',')))
                });
                let Some(p) = p else { break };
                if matches!(a.marks[p], K_DENY | K_EXTRA) || self.name_like(a, p, Mode::Prefix) {
                    names += 1;
                    start = Some(p);
                    if names >= 3 {
                        break;
                    }
                } else if !(a.flags[p] & flag::PARTICLE != 0 || a.is_initial(p)) {
                    break;
                }
                cur = p;
            }
            if let Some(s) = start {
                let end = if a.toks.get(i + 1).is_some_and(|t| t.is_punct('.')) {
                    i + 1
                } else {
                    i
                };
                a.mark_span(s, end, K_NAME);
            }
        }
    }

    /// Institution and address phrases ("St. Mary's Hospital", "Via Roma 12", "123 Main Street").
    fn rule_places(&self, a: &mut Analysis<'_>) {
        const PLACE: u32 = flag::INST | flag::ADDR | flag::INST_SFX | flag::ADDR_SFX;
        let n = a.toks.len();
        let mut i = 0;
        while i < n {
            let f = a.flags[i];
            if a.toks[i].kind != Tk::Word || f & PLACE == 0 || f & flag::CLINICAL != 0 {
                i += 1;
                continue;
            }
            let mut is_addr = f & (flag::ADDR | flag::ADDR_SFX) != 0;
            let mut names = usize::from(f & flag::ADDR_SFX != 0);
            let gap_next = |a: &Analysis<'_>, cur: usize| {
                let dot_ok =
                    a.toks[cur].nchars <= 3 || a.flags[cur] & (flag::PARTICLE | PLACE) != 0;
                a.name_next(cur, dot_ok).or_else(|| {
                    a.next_word_by(cur, 2, |t| t.is_inline_space() || t.is_punct('&'))
                        .filter(|&j| a.toks[cur + 1..j].iter().any(|t| t.is_punct('&')))
                })
            };
            // right side
            let mut vocab_pending = false;
            let mut right = i;
            let mut cur = i;
            for _ in 0..6 {
                let Some(j) = gap_next(a, cur) else { break };
                let fj = a.flags[j];
                let t = a.toks[j];
                if matches!(a.marks[j], K_DENY | K_EXTRA) || fj & flag::ADDR_SFX != 0 {
                    names += 1;
                    right = j;
                    is_addr |= fj & flag::ADDR_SFX != 0;
                } else if fj & PLACE != 0 && fj & flag::CLINICAL == 0 {
                    right = j;
                    is_addr |= fj & (flag::ADDR | flag::ADDR_SFX) != 0;
                } else if self.name_like(a, j, Mode::Inst) {
                    names += 1;
                    right = j;
                } else if fj & (flag::PARTICLE | flag::STOP) != 0 || a.is_elision(j) {
                    // connector ("of", "San", "General"): kept only if a name follows
                } else if is_addr && house_number(a, j) {
                    right = j;
                    names += usize::from(vocab_pending);
                    // "12/3", "12-14", "12 a"
                    if let Some(k) = a.next_word_by(j, 1, |t| t.is_punct('/') || t.is_punct('-')) {
                        if a.toks[k].has(DIGITS) && a.toks[k].nchars <= 4 {
                            right = k;
                        }
                    }
                    break;
                } else if is_addr && fj & flag::CLINICAL != 0 && t.has(UPPER1) && !vocab_pending {
                    // "Via Cuore 3": a capitalised vocabulary word counts if a house number follows
                    vocab_pending = true;
                } else if fj & flag::CLINICAL != 0 && t.has(ALPHA) {
                    // "Klinikum rechts der Isar": a vocabulary word between the place word and a
                    // connector + name
                    let c = a
                        .name_next(j, false)
                        .filter(|&c| a.flags[c] & flag::PARTICLE != 0);
                    let nm = c
                        .and_then(|c| a.name_next(c, false))
                        .filter(|&m| self.name_like(a, m, Mode::Inst));
                    match nm {
                        Some(m) => {
                            names += 1;
                            right = m;
                            cur = m;
                            continue;
                        }
                        None => break,
                    }
                } else {
                    break;
                }
                cur = j;
            }
            // left side
            let mut vocab_pending_left = false;
            let mut left = i;
            let mut cur = i;
            for _ in 0..4 {
                let Some(mut p) = a.prev_word_by(cur, 2, |t| {
                    t.is_inline_space() || matches!(t.ch, '-' | '.') && t.kind == Tk::Punct
                }) else {
                    break;
                };
                // a dot is only allowed after an abbreviation or initial ("St. Mary")
                let gap_has_dot = a.toks[p + 1..cur].iter().any(|t| t.is_punct('.'));
                if gap_has_dot && !(a.toks[p].nchars <= 3 && a.toks[p].has(ALPHA)) {
                    break;
                }
                // possessive: "Mary's" → step over "'s"
                if a.n(p) == "s"
                    && p >= 2
                    && (a.toks[p - 1].is_punct('\'') || a.toks[p - 1].is_punct('’'))
                    && a.is_word(p - 2)
                {
                    p -= 2;
                }
                let fp = a.flags[p];
                if matches!(a.marks[p], K_DENY | K_EXTRA) {
                    names += 1;
                    left = p;
                } else if fp & PLACE != 0 && fp & flag::CLINICAL == 0 {
                    left = p;
                } else if self.name_like(a, p, Mode::Inst) {
                    names += 1;
                    left = p;
                } else if fp & (flag::PARTICLE | flag::STOP) != 0 {
                    if fp & flag::PARTICLE != 0 && a.toks[p].has(UPPER1) && left != i {
                        left = p; // "St", "San" at the start of the phrase
                    }
                    // otherwise a connector, kept only if a name comes before it
                } else if is_addr && house_number(a, p) {
                    left = p;
                    names += usize::from(vocab_pending_left);
                    break;
                } else if is_addr
                    && fp & flag::CLINICAL != 0
                    && a.toks[p].has(UPPER1)
                    && !vocab_pending_left
                {
                    // "123 Main Street"
                    vocab_pending_left = true;
                } else {
                    break;
                }
                cur = p;
            }
            // postcode (+ town) after a comma: "Via Roma 12, 20100 Milano"
            if is_addr || names > 0 {
                if let Some(pc) =
                    a.next_word_by(right, 2, |t| t.is_punct(',') || t.is_inline_space())
                {
                    let t = a.toks[pc];
                    let comma = a.toks[right + 1..pc].iter().any(|t| t.is_punct(','));
                    if comma && t.has(DIGITS) && (4..=5).contains(&t.nchars) {
                        right = pc;
                        if let Some(town) = a.next_word_by(pc, 1, Tok::is_inline_space) {
                            if self.name_like(a, town, Mode::Inst) {
                                right = town;
                            }
                        }
                    }
                }
            }
            // ", Town" / ", Town, ST" after the phrase: capitalised non-vocabulary words that end
            // the component or a comma-separated part
            if names > 0 {
                for _ in 0..2 {
                    let Some(w) =
                        a.next_word_by(right, 2, |t| t.is_punct(',') || t.is_inline_space())
                    else {
                        break;
                    };
                    if !a.toks[right + 1..w].iter().any(|t| t.is_punct(','))
                        || !self.name_like(a, w, Mode::Inst)
                    {
                        break;
                    }
                    let mut last = w;
                    let state = |w2: usize| {
                        a.toks[w2].has(ALLCAPS) && a.toks[w2].has(ALPHA) && a.toks[w2].nchars == 2
                    };
                    if let Some(w2) = a
                        .name_next(w, false)
                        .filter(|&w2| self.name_like(a, w2, Mode::Inst) || state(w2))
                    {
                        last = w2;
                    }
                    let ends = match a.toks[last + 1..].iter().find(|t| !t.is_inline_space()) {
                        None => true,
                        Some(t) => {
                            t.kind == Tk::Struct
                                || t.ch == '\n'
                                || (t.kind == Tk::Punct && matches!(t.ch, ',' | ';' | ')' | '.'))
                        }
                    };
                    if !ends {
                        break;
                    }
                    right = last;
                }
            }
            if names > 0 {
                a.mark_span(left, right, K_INST);
            }
            i = right.max(i) + 1;
        }
    }

    /// Name prefixes ("for", "by", "call" ...) and labels ("MRN", "Tel", "DOB" ...).
    fn rule_prefixes(&self, a: &mut Analysis<'_>) {
        for i in 0..a.toks.len() {
            let f = a.flags[i];
            if a.toks[i].kind != Tk::Word
                || f & (flag::PREFIX | flag::LABEL) == 0
                || a.marks[i] != 0
            {
                continue;
            }
            let is_prefix = f & flag::PREFIX != 0;
            let is_label = f & flag::LABEL != 0;
            let gap = |t: &Tok| {
                t.is_inline_space()
                    || (t.kind == Tk::Punct
                        && (matches!(t.ch, ':' | '(' | '+')
                            || (is_label && matches!(t.ch, '.' | '#' | '-' | '°' | 'º' | '/'))))
            };
            let mut cur = i;
            let mut target = None;
            for _ in 0..3 {
                match a.next_word_by(cur, 3, gap) {
                    Some(j) if a.marks[j] == 0 && is_prefix && a.flags[j] & flag::PREFIX != 0 => {
                        cur = j
                    }
                    other => {
                        target = other;
                        break;
                    }
                }
            }
            let Some(j) = target else { continue };
            let k = a.marks[j];
            if is_prefix && matches!(k, K_DENY | K_EXTRA) {
                // a deny-listed name: take the name words around it too
                let (end, _) = self.name_run(a, j, Mode::Prefix, 3);
                a.mark_span(i, end.unwrap_or(j), K_NAME);
            } else if k != 0 {
                let ok =
                    is_label || matches!(k, K_NAME | K_INST | K_PHONE | K_EMAIL | K_ID | K_DATE);
                if ok {
                    a.mark_span(i, j - 1, k);
                }
            } else if is_label && a.n(j).bytes().filter(u8::is_ascii_digit).count() >= 4 {
                // "ID: 12345", "Nr. 4711": a labelled number
                a.mark_span(i, j, K_ID);
            } else if is_prefix {
                let mode = if a.flags[j] & (flag::HON | flag::HON_MULTI) != 0 {
                    Mode::Hon
                } else if self.name_like(a, j, Mode::Prefix) {
                    Mode::Prefix
                } else {
                    continue;
                };
                let (end, names) = self.name_run(a, j, mode, 3);
                if let (Some(e), true) = (end, names > 0) {
                    a.mark_span(i, e, K_NAME);
                }
            }
        }
    }
}

/// A day or month number: 1–2 digits, or with an ordinal suffix ("25th", "1er", "3rd").
fn day_num(a: &Analysis<'_>, i: usize) -> Option<u32> {
    let n = a.n(i);
    let digits = n.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = &n[digits..];
    if !rest.is_empty() && !matches!(rest, "st" | "nd" | "rd" | "th" | "er" | "e" | "o" | "a") {
        return None;
    }
    n[..digits].parse().ok()
}

/// A 4-digit or 2-digit year; (value, two-digit).
fn year_num(a: &Analysis<'_>, i: usize) -> Option<(u32, bool)> {
    let t = &a.toks[i];
    if !t.has(DIGITS) {
        return None;
    }
    let v = a.n(i).parse().ok()?;
    match t.nchars {
        4 => Some((v, false)),
        2 => Some((v, true)),
        _ => None,
    }
}

/// House number: 1–4 digits, optionally with one letter ("12", "12a").
fn house_number(a: &Analysis<'_>, i: usize) -> bool {
    let n = a.n(i);
    let d = n.bytes().take_while(u8::is_ascii_digit).count();
    (1..=4).contains(&d) && n.len() - d <= 1 && n[d..].bytes().all(|b| b.is_ascii_alphabetic())
}

fn fuzzy_hit(list: &DenyList, w: &str, len: usize) -> bool {
    let lo = len.saturating_sub(2).max(5) as u16;
    let hi = (len + 2).min(u16::MAX as usize) as u16;
    let wm = letter_mask(w);
    for (&dl, bucket) in list.by_len.range(lo..=hi) {
        let min = len.min(dl as usize);
        let k = if min >= 9 { 2 } else { 1 };
        if len.abs_diff(dl as usize) > k {
            continue;
        }
        let (masks, words) = bucket;
        let hit = masks
            .iter()
            .enumerate()
            .filter(|(_, m)| (*m ^ wm).count_ones() as usize <= 2 * k)
            .any(|(x, _)| bounded_distance(w, &words[x], k).is_some());
        if hit {
            return true;
        }
    }
    false
}

/// Longest deny-listed word sequence starting at word `i`.
fn match_trie(a: &Analysis<'_>, trie: &Trie, i: usize) -> Option<usize> {
    let mut node = trie.children.get(a.n(i))?;
    let mut best = node.end.then_some(i);
    let mut cur = i;
    while let Some(j) = a.next_word_by(cur, 3, |t| {
        t.is_inline_space()
            || (t.kind == Tk::Punct && matches!(t.ch, '.' | ',' | '-' | '/' | ':' | '\'' | '’'))
    }) {
        match node.children.get(a.n(j)) {
            Some(nx) => {
                node = nx;
                cur = j;
                if node.end {
                    best = Some(j);
                }
            }
            None => break,
        }
    }
    best
}

fn chunk_breaker(t: &Tok) -> bool {
    match t.kind {
        Tk::Word => false,
        Tk::Space | Tk::Struct => true,
        Tk::Punct => matches!(
            t.ch,
            '(' | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | ','
                | ';'
                | '"'
                | '|'
                | '\''
                | '’'
                | '“'
                | '”'
        ),
    }
}

/// Deny-listed identifiers: a whole chunk (text between spaces/brackets/commas) equal to one, or
/// one embedded in a chunk at a letter/digit or token boundary ("MRN:123456", "ID123456").
fn match_ids(a: &mut Analysis<'_>, deny: &DenyList) {
    let digits_of = |s: &str| s.bytes().filter(u8::is_ascii_digit).count();
    let min_len = deny.id_min_len;
    // embedded matches are looked for only for identifiers with digits
    let min_digits = (deny.id_min_digits > 0).then_some(deny.id_min_digits);
    let n = a.toks.len();
    let mut s = String::new();
    let mut map: Vec<(usize, usize)> = Vec::new(); // (offset in s, token)
    let mut i = 0;
    while i < n {
        if chunk_breaker(&a.toks[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut len = 0;
        let mut digits = 0;
        while i < n && !chunk_breaker(&a.toks[i]) {
            if a.toks[i].kind == Tk::Word {
                len += a.n(i).len();
                if a.toks[i].has(HAS_DIGIT) {
                    digits += digits_of(a.n(i));
                }
            }
            i += 1;
        }
        let end = i; // exclusive
        if len < min_len.max(3) {
            continue;
        }
        let embedded = len >= 6 && min_digits.is_some_and(|m| digits >= m);
        let exact = len > 63 || deny.id_mask.0 & (1u64 << len) != 0;
        if !exact && !embedded {
            continue;
        }
        s.clear();
        map.clear();
        for t in start..end {
            if a.toks[t].kind == Tk::Word {
                map.push((s.len(), t));
                s.push_str(a.n(t));
            }
        }
        if exact && may_contain(deny.id_mask, &s) && deny.ids.contains(s.as_str()) {
            a.mark_span(start, end - 1, K_ID);
            continue;
        }
        if !embedded {
            continue;
        }
        // boundaries: token starts and letter/digit changes
        let mut bounds = [0usize; 24];
        let mut nb = 0;
        let bytes = s.as_bytes();
        let mut next_tok = 0;
        for (k, _) in s.char_indices() {
            let starts_token = next_tok < map.len() && map[next_tok].0 == k;
            if starts_token {
                next_tok += 1;
            }
            let class_change = k > 0 && bytes[k].is_ascii_digit() != bytes[k - 1].is_ascii_digit();
            if k == 0 || starts_token || class_change {
                if nb == bounds.len() - 1 {
                    break;
                }
                bounds[nb] = k;
                nb += 1;
            }
        }
        bounds[nb] = s.len();
        nb += 1;
        let bounds = &bounds[..nb];
        for x in 0..bounds.len() {
            for y in x + 1..bounds.len() {
                let (p, q) = (bounds[x], bounds[y]);
                if q - p < 5 || (p == 0 && q == s.len()) {
                    continue;
                }
                let Some(sub) = s.get(p..q) else { continue };
                if may_contain(deny.id_mask, sub) && deny.ids.contains(sub) {
                    for (k, &(off, t)) in map.iter().enumerate() {
                        let tend = map.get(k + 1).map_or(s.len(), |m| m.0);
                        if off < q && tend > p {
                            a.mark(t, K_ID);
                        }
                    }
                }
            }
        }
    }
}

/// Widens removals over possessives ("Mary's") and elisions ("dell'Ospedale", "O'Brien").
fn absorb(a: &mut Analysis<'_>) {
    let n = a.toks.len();
    let mut i = 0;
    while i < n {
        if a.marks[i] == 0 {
            i += 1;
            continue;
        }
        let k = a.marks[i];
        let s = i;
        while i < n && a.marks[i] != 0 {
            i += 1;
        }
        let e = i - 1;
        if s >= 2
            && a.marks[s - 1] == 0
            && a.marks[s - 2] == 0
            && a.toks[s].kind == Tk::Word
            && a.is_elision(s - 2)
        {
            a.marks[s - 1] = k;
            a.marks[s - 2] = k;
        }
        if e + 2 < n
            && a.toks[e].kind == Tk::Word
            && (a.toks[e + 1].is_punct('\'') || a.toks[e + 1].is_punct('’'))
            && a.is_word(e + 2)
            && a.n(e + 2) == "s"
            && !a.is_word(e + 3)
        {
            a.marks[e + 1] = k;
            a.marks[e + 2] = k;
            i = e + 3;
        }
    }
}

/// Joins removals separated only by spaces and light punctuation into one span.
fn join_gaps(a: &mut Analysis<'_>) {
    let n = a.toks.len();
    let mut last_end: Option<usize> = None;
    let mut i = 0;
    while i < n {
        if a.marks[i] == 0 {
            i += 1;
            continue;
        }
        if let Some(e) = last_end {
            let gap = &a.toks[e + 1..i];
            if gap.len() <= 3
                && gap.iter().all(|t| {
                    t.is_inline_space()
                        || (t.kind == Tk::Punct
                            && matches!(
                                t.ch,
                                ',' | '.' | ';' | ':' | '-' | '\'' | '’' | '&' | '+' | '/' | '_'
                            ))
                })
            {
                for m in &mut a.marks[e + 1..i] {
                    *m = K_JOIN;
                }
            }
        }
        while i < n && a.marks[i] != 0 {
            i += 1;
        }
        last_end = Some(i - 1);
    }
}

/// Byte ranges of the maximal marked runs.
pub(crate) fn spans(a: &Analysis<'_>) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let n = a.toks.len();
    let mut i = 0;
    while i < n {
        if a.marks[i] == 0 {
            i += 1;
            continue;
        }
        let s = i;
        while i < n && a.marks[i] != 0 {
            i += 1;
        }
        out.push(a.toks[s].start as usize..a.toks[i - 1].end as usize);
    }
    out
}

/// A single word mixing letters and 5+ digits ("RSSMRA80A01H501U", "X12Y34567"), except sizes
/// ("512x512", "20x20x20mm") and b-values.
fn mark_mixed_ids(a: &mut Analysis<'_>) {
    for i in 0..a.toks.len() {
        let t = a.toks[i];
        if t.kind != Tk::Word
            || !t.has(HAS_DIGIT)
            || t.has(DIGITS)
            || t.nchars < 6
            || a.marks[i] != 0
        {
            continue;
        }
        let w = a.n(i);
        let digits = w.bytes().filter(u8::is_ascii_digit).count();
        if digits < 5 {
            continue;
        }
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        if letters.is_empty() {
            continue;
        }
        let size = letters
            .iter()
            .all(|c| matches!(c, 'x' | 'm' | 'c' | 'k' | 'v' | 's'))
            && w.contains('x');
        let bvalue = w.starts_with('b') && letters.len() == 1;
        if !size && !bvalue {
            a.mark(i, K_ID);
        }
    }
}
