//! RFC 3339 timestamps as the trusted root writes them (`2021-03-07T03:20:29Z`,
//! fractional seconds allowed, UTC only), converted to Unix seconds.

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]Z` (or a `+00:00` offset) into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Bytes 0..19 were checked as ASCII above, so 19 is a character boundary; what follows
    // is outside data and is only ever sliced with `get`.
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = frac.get(n..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.get(3..4)? != ":" {
                return None;
            }
            sign * (num_str(rest.get(1..3)?)? * 3600 + num_str(rest.get(4..6)?)? * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset)
}

fn num_str(t: &str) -> Option<i64> {
    t.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| t.parse().ok())?
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn parses_trusted_root_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2021-03-07T03:20:29Z"), Some(1615087229));
        assert_eq!(parse_rfc3339("2022-12-31T23:59:59.999Z"), Some(1672531199));
        assert_eq!(
            parse_rfc3339("2022-04-13T20:06:15.000+02:00"),
            Some(1649880375 - 7200)
        );
        assert_eq!(parse_rfc3339("2022-04-13"), None);
        assert_eq!(parse_rfc3339("2022-13-13T20:06:15Z"), None);
        // Outside data: a multi-byte character where an ASCII offset is expected.
        assert_eq!(parse_rfc3339("2022-04-13T20:06:15+0\u{e9}:0"), None);
        assert_eq!(parse_rfc3339("2022-04-13T20:06:15.\u{e9}\u{e9}Z"), None);
        assert_eq!(parse_rfc3339("2022-04-13T20:\u{e9}15+00:00"), None);
    }
}
