//! Calendar arithmetic for DA and DT values (proleptic Gregorian, days since 1970-01-01).

/// Days since 1970-01-01 for a valid civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYYMMDD` (digits only, a real date).
pub fn parse_da(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[4..6].parse().ok()?;
    let d: u32 = s[6..8].parse().ok()?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

/// Also accepts the old ACR-NEMA form `YYYY.MM.DD`.
fn parse_da_lenient(s: &str) -> Option<(i64, u32, u32)> {
    if s.len() == 10 && s.as_bytes()[4] == b'.' && s.as_bytes()[7] == b'.' {
        return parse_da(&format!("{}{}{}", &s[0..4], &s[5..7], &s[8..10]));
    }
    parse_da(s)
}

fn fmt_da(y: i64, m: u32, d: u32) -> Option<String> {
    (0..=9999).contains(&y).then(|| format!("{y:04}{m:02}{d:02}"))
}

/// Shifts one DA value (or a `from-to` range) by `days`. `None` when it is not a valid date.
pub fn shift_da(value: &str, days: i64) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some(String::new());
    }
    if let Some((a, b)) = v.split_once('-') {
        let a = if a.is_empty() { String::new() } else { shift_da(a, days)? };
        let b = if b.is_empty() { String::new() } else { shift_da(b, days)? };
        return Some(format!("{a}-{b}"));
    }
    let (y, m, d) = parse_da_lenient(v)?;
    let (y, m, d) = civil_from_days(days_from_civil(y, m, d) + days);
    fmt_da(y, m, d)
}

/// Shifts a DT value: the date part moves by `days`, the time and offset stay. A DT of lower precision
/// (`YYYY`, `YYYYMM`) keeps its precision after shifting its first day.
pub fn shift_dt(value: &str, days: i64) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some(String::new());
    }
    if v.len() < 4 || !v.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = v.bytes().take_while(u8::is_ascii_digit).count().min(8);
    let (date_part, rest) = v.split_at(digits);
    let full = match date_part.len() {
        8 => date_part.to_string(),
        6 => format!("{date_part}01"),
        4 => format!("{date_part}0101"),
        _ => return None,
    };
    if digits < 8 && !rest.is_empty() && !rest.starts_with(['+', '-']) {
        return None;
    }
    let shifted = shift_da(&full, days)?;
    Some(format!("{}{}", &shifted[..date_part.len()], rest))
}

/// Keeps only the year: `YYYY0101` (DA) or `YYYY` (DT).
pub fn date_to_year(value: &str, is_dt: bool) -> Option<String> {
    let v = value.trim();
    let y = v.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
    Some(if is_dt { y.to_string() } else { format!("{y}0101") })
}

/// Moves a date by whole years (29 February becomes 28 February in a common year).
pub fn shift_years(value: &str, years: i32, is_dt: bool) -> Option<String> {
    let v = value.trim();
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 {
        return None;
    }
    let y: i64 = v[..4].parse::<i64>().ok()? + years as i64;
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut out = format!("{y:04}{}", &v[4..]);
    if digits >= 8 {
        let (m, d): (u32, u32) = (v[4..6].parse().ok()?, v[6..8].parse().ok()?);
        if m == 2 && d == 29 && days_in_month(y, 2) == 28 {
            out.replace_range(6..8, "28");
        }
        if !is_dt && digits != 8 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 18_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29) + 1), (2000, 3, 1));
    }

    #[test]
    fn shifts_keep_intervals() {
        assert_eq!(shift_da("20110525", -365).as_deref(), Some("20100525"));
        assert_eq!(shift_da("20000301", -1).as_deref(), Some("20000229"));
        assert_eq!(shift_da("20110525-20110601", -1).as_deref(), Some("20110524-20110531"));
        assert_eq!(shift_da("2011.05.25", -1).as_deref(), Some("20110524"));
        assert_eq!(shift_da("20111345", -1), None);
        assert_eq!(shift_da("garbage", -1), None);
        assert_eq!(shift_dt("20110525120000.5+0100", -1).as_deref(), Some("20110524120000.5+0100"));
        assert_eq!(shift_dt("2011", -400).as_deref(), Some("2009"));
        assert_eq!(shift_dt("x", -1), None);
    }

    #[test]
    fn years() {
        assert_eq!(date_to_year("20110525", false).as_deref(), Some("20110101"));
        assert_eq!(shift_years("20120229", 1, false).as_deref(), Some("20130228"));
        assert_eq!(shift_years("20110525", -2, false).as_deref(), Some("20090525"));
    }
}
