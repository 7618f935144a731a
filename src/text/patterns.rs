//! Built-in regular expressions: e-mail, phone numbers, dates, identifiers.

use regex::{Regex, RegexSet};

use super::deny::valid_date;

/// What a built-in pattern finds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pat {
    Email,
    PhoneIntl,
    PhoneLocal,
    DateIso,
    DateNum4,
    DateNum2,
    DateText,
    IdDigits,
    IdAlnum,
    Uid,
}

const B: &str = r"(?-u:\b)";
const TIME: &str =
    r"(?:(?:T|[ \t]*,?[ \t]+)(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?)?";
const DAY: &str = r"(?:0?[1-9]|[12][0-9]|3[01])";

pub(crate) struct Patterns {
    pub set: RegexSet,
    pub res: Vec<(Regex, Pat)>,
    /// loose phone-number candidates, for deny-listed phone numbers
    pub phone_candidate: Regex,
}

fn alternation(words: &[String]) -> String {
    let mut v: Vec<&String> = words.iter().collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v.dedup();
    v.iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|")
}

impl Patterns {
    pub fn new(month_spellings: &[String], month_full: &[String]) -> Patterns {
        let months = alternation(month_spellings);
        let full = alternation(month_full);
        let ord = r"(?:st|nd|rd|th|er|º|°|\.)?";
        let sep = r"[ \t]*[-/.,]?[ \t]*";
        let pats: Vec<(String, Pat)> = vec![
            (
                r"(?i)[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}"
                    .to_string(),
                Pat::Email,
            ),
            (r"\+[0-9]{1,3}(?:[ .\-/]?(?:\([0-9]{1,5}\)|[0-9]{1,6})){1,6}".to_string(), Pat::PhoneIntl),
            (
                format!(r"(?:\([0-9]{{2,5}}\)[ .\-/]?|{B}[0-9]{{2,5}}[ .\-/])(?:[0-9]{{2,}}[ .\-/]){{0,4}}[0-9]{{2,}}{B}"),
                Pat::PhoneLocal,
            ),
            (
                format!(r"{B}(?:19|20)[0-9]{{2}}[-./](?:0?[1-9]|1[0-2])[-./]{DAY}{TIME}{B}"),
                Pat::DateIso,
            ),
            (format!(r"{B}{DAY}[-./]{DAY}[-./](?:19|20)[0-9]{{2}}{TIME}{B}"), Pat::DateNum4),
            (format!(r"{B}(?:0[1-9]|[12][0-9]|3[01])[-./](?:0[1-9]|[12][0-9]|3[01])[-./][0-9]{{2}}{B}"), Pat::DateNum2),
            (
                format!(
                    r"(?i){B}{DAY}{ord}{sep}(?:de[ \t]+)?(?:{months})\.?{sep}(?:del?[ \t]+)?(?:(?:19|20)[0-9]{{2}}|[0-9]{{2}}){TIME}{B}"
                ),
                Pat::DateText,
            ),
            (format!(r"(?i){B}{DAY}{ord}{sep}(?:de[ \t]+)?(?:{full}){B}"), Pat::DateText),
            (
                format!(r"(?i){B}(?:{months})\.?[ \t]*{DAY}(?:st|nd|rd|th)?[ \t]*,?[ \t]*(?:19|20)[0-9]{{2}}{TIME}{B}"),
                Pat::DateText,
            ),
            (format!(r"(?i){B}(?:{months})\.?[ \t]*[-/,]?[ \t]*(?:19|20)[0-9]{{2}}{B}"), Pat::DateText),
            (r"[0-9]{6,}".to_string(), Pat::IdDigits),
            (r"[A-Za-z]{1,6}[-:#/]?[0-9]{5,}[A-Za-z]{0,3}|[0-9]{5,}[A-Za-z]{1,3}".to_string(), Pat::IdAlnum),
            (format!(r"{B}[0-9]+(?:\.[0-9]+){{4,}}{B}"), Pat::Uid),
        ];
        let set = RegexSet::new(pats.iter().map(|(p, _)| p.as_str())).expect("built-in patterns");
        let res = pats
            .iter()
            .map(|(p, k)| (Regex::new(p).expect("built-in pattern"), *k))
            .collect();
        let phone_candidate =
            Regex::new(r"\+?\(?[0-9][0-9 ().\-/]{4,}[0-9]").expect("phone candidate");
        Patterns {
            set,
            res,
            phone_candidate,
        }
    }
}

fn digits_of(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

fn groups(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect()
}

fn num(s: &str) -> u32 {
    s.parse().unwrap_or(u32::MAX)
}

/// Post-filter of a built-in match (the regex crate has no look-around).
pub(crate) fn accept(pat: Pat, text: &str, start: usize, end: usize) -> bool {
    let m = &text[start..end];
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    match pat {
        Pat::Email | Pat::Uid | Pat::DateText => true,
        Pat::PhoneIntl => (7..=15).contains(&digits_of(m)),
        Pat::PhoneLocal => accept_local_phone(m, before),
        Pat::DateIso => {
            let g = groups(m);
            g.len() >= 3 && valid_date(num(g[0]) as u16, num(g[1]) as u8, num(g[2]) as u8)
        }
        Pat::DateNum4 | Pat::DateNum2 => {
            let g = groups(m);
            if g.len() < 3 || !same_separators(m) {
                return false;
            }
            let (a, b, y) = (num(g[0]), num(g[1]), num(g[2]));
            let y = if y < 100 { 2000 + y } else { y } as u16;
            valid_date(y, b as u8, a as u8) || valid_date(y, a as u8, b as u8)
        }
        Pat::IdDigits => {
            // not the fraction of a decimal number ("0.1234567")
            !(before == Some('.')
                && text[..start - 1]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_digit()))
        }
        Pat::IdAlnum => {
            let bvalue = (m.starts_with('b') || m.starts_with('B'))
                && m[1..].bytes().all(|b| b.is_ascii_digit());
            !bvalue
                && !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric)
        }
    }
}

fn same_separators(m: &str) -> bool {
    let seps: Vec<char> = m
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '/'))
        .filter(|c| !c.is_ascii_digit())
        .collect();
    seps.windows(2).all(|w| w[0] == w[1])
}

fn accept_local_phone(m: &str, before: Option<char>) -> bool {
    let n = digits_of(m);
    if !(7..=15).contains(&n) {
        return false;
    }
    if before.is_some_and(|c| c == '.' || c == ',') {
        return false;
    }
    let seps: Vec<char> = m
        .chars()
        .filter(|c| !c.is_ascii_digit() && *c != '(' && *c != ')')
        .collect();
    let dot = seps.contains(&'.');
    if dot && seps.iter().any(|c| *c != '.') {
        return false; // "130.25 140.75": decimals
    }
    let g = groups(m);
    if dot && g.len() <= 2 {
        return false;
    }
    if g.len() == 3 && same_separators(m) {
        // a numeric date is the date pattern's business
        let l: Vec<usize> = g.iter().map(|x| x.len()).collect();
        if (l[0] <= 2 && l[1] <= 2 && (l[2] == 4 || l[2] == 2))
            || (l[0] == 4 && l[1] <= 2 && l[2] <= 2)
        {
            return false;
        }
    }
    if m.contains('(') || g[0].starts_with('0') {
        return true; // area code in brackets, or a trunk/international prefix
    }
    let l: Vec<usize> = g.iter().map(|x| x.len()).collect();
    // North-American forms; otherwise few groups with a long one. Lists of small numbers
    // ("120 140 160", "1000-2000") are not phone numbers.
    l == [3, 4] || l == [3, 3, 4] || (g.len() <= 3 && l.iter().any(|&x| x >= 5))
}
