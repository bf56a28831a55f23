//! Calendar arithmetic on epoch milliseconds (UTC), shared by the emulator, the lockfile and
//! the plan output. Proleptic Gregorian, no time zones, no dependency: all aepact needs is
//! `YYYY-MM-DD` and RFC 3339 timestamps in UTC, and HTTP dates (the `Date` header, by which a
//! client reads the platform's clock). [`UtcDate`], a calendar day, is at the end.

/// The calendar day (`YYYY-MM-DD`, UTC) of an epoch-millisecond instant.
pub fn date_of(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn days_of(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&date[..4])?, num(&date[5..7])?, num(&date[8..])?);
    if !(1..=12).contains(&m) || !(1..=days_in_month(y, m)).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days in month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of `days_from_civil`).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// RFC 3339 in UTC with second precision, e.g. `2026-11-29T18:04:05Z`.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (h, mi, s) = (
        secs.rem_euclid(86_400) / 3600,
        secs.rem_euclid(3600) / 60,
        secs.rem_euclid(60),
    );
    format!("{}T{h:02}:{mi:02}:{s:02}Z", date_of(ms))
}

/// Parses a duration: `500ms`, `30s`, `2m`, `1h`, compounds such as `1h30m` or `2m30s` (units
/// from largest to smallest, each at most once), or a bare number of seconds. At most a week.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];
    const WEEK_MS: u64 = 7 * 24 * 3_600_000;
    let text = text.trim();
    let not_a_duration =
        || format!("`{text}` is not a duration: use e.g. `30s`, `2m`, `1h30m`, `500ms` or `0`");
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(1_000))
            .filter(|&ms| ms <= WEEK_MS)
            .map(std::time::Duration::from_millis)
            .ok_or_else(|| format!("`{text}` is longer than a week"));
    }
    let mut rest = text;
    let mut total: u64 = 0;
    // Index into UNITS of the smallest unit used so far: the next must be smaller.
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(not_a_duration());
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is longer than a week"))?;
        let after = &rest[digits..];
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let unit = &after[..unit_len];
        let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                format!("`{text}` needs a unit after `{n}`: `h`, `m`, `s` or `ms`")
            } else {
                format!("`{text}` has an unknown unit `{unit}`: use `h`, `m`, `s` or `ms`")
            });
        };
        if last.is_some_and(|l| index <= l) {
            return Err(format!(
                "`{text}`: write each unit once, from hours down to milliseconds (e.g. `1h30m`)"
            ));
        }
        last = Some(index);
        total = n
            .checked_mul(UNITS[index].1)
            .and_then(|ms| total.checked_add(ms))
            .filter(|&ms| ms <= WEEK_MS)
            .ok_or_else(|| format!("`{text}` is longer than a week"))?;
        rest = &after[unit_len..];
    }
    if last.is_none() {
        return Err(not_a_duration());
    }
    Ok(std::time::Duration::from_millis(total))
}

/// Parses `aepact log --since`: a day (`2026-11-27`, from its start in UTC), an RFC 3339 UTC
/// instant (`2026-11-27T09:00:00Z`, 0 to 9 fractional digits), or a time ago: whole days
/// (`30d`) or a [`parse_duration`] duration (`12h`, `90m`) before the system clock's now.
///
/// Returns the instant, in epoch milliseconds.
pub fn parse_since(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(days) = days_of(text) {
        return Timestamp::from_unix_ms(days * 86_400_000)
            .ok_or_else(|| format!("`{text}` is out of range"));
    }
    if text.contains('T') {
        return text.parse::<Timestamp>().map_err(|e| e.to_string());
    }
    let ago_ms = match text.strip_suffix('d') {
        Some(days) if !days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()) => days
            .parse::<i64>()
            .ok()
            .and_then(|d| d.checked_mul(86_400_000))
            .ok_or_else(|| format!("`{text}` is too many days"))?,
        _ => {
            let ago = parse_duration(text).map_err(|_| {
                format!("`{text}` is not a time: use a day (`2026-11-27`), an RFC 3339 time (`2026-11-27T09:00:00Z`), days (`30d`) or a duration (`12h`, `90m`) ago")
            })?;
            i64::try_from(ago.as_millis()).unwrap_or(i64::MAX)
        }
    };
    Timestamp::from_unix_ms(now_ms().saturating_sub(ago_ms))
        .ok_or_else(|| format!("`{text}` is too long ago"))
}

/// A duration as people and plans write it: `1h`, `1h30m`, `45s`, `500ms`, `0`.
pub fn duration_text(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    let mut out = String::new();
    for (n, unit) in [(secs / 3600, "h"), (secs / 60 % 60, "m"), (secs % 60, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// Day names in ISO order (Monday first): 1970-01-01, day 0, was a Thursday (index 3).
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The index in [`DAYS`] of the weekday of a day count since 1970-01-01.
fn weekday(days: i64) -> usize {
    // rem_euclid(7) is in 0..7.
    (days + 3).rem_euclid(7) as usize
}

/// An HTTP date (IMF-fixdate, RFC 9110 §5.6.7) of an epoch-millisecond instant, e.g.
/// `Tue, 01 Dec 2026 21:24:02 GMT`.
///
/// An HTTP date has whole seconds: the milliseconds are dropped (the instant is rounded down),
/// so the clock it shows is in `[date, date + 1 s)`. Four year digits cover the years
/// 0000–9999; other instants are formatted but do not parse back.
pub fn http_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let t = secs.rem_euclid(86_400);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[weekday(days)],
        // civil_from_days returns a month in 1..=12.
        MONTHS[(m - 1) as usize],
        t / 3600,
        t % 3600 / 60,
        t % 60,
    )
}

/// Parses an HTTP date (RFC 9110 §5.6.7) into epoch milliseconds: the IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a recipient must accept, RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
///
/// Names are case-sensitive and the weekday must be the date's, as the RFC writes them. An RFC
/// 850 two-digit year is 20yy below 70 and 19yy from 70 (a fixed pivot, so the function stays
/// pure; RFC 9110 pivots on the current year). A leap second (`:60`) counts as the next second.
///
/// Returns `None` for anything else.
pub fn parse_http_date(text: &str) -> Option<i64> {
    // Checked first, so that the byte offsets below are character boundaries.
    if !text.is_ascii() {
        return None;
    }
    let b = text.as_bytes();
    if let Some((day, rest)) = text.split_once(", ") {
        let r = rest.as_bytes();
        if let Some(wd) = DAYS.iter().position(|d| *d == day) {
            // IMF-fixdate after the weekday: `06 Nov 1994 08:49:37 GMT`.
            if r.len() != 24 || r[2] != b' ' || r[6] != b' ' || r[11] != b' ' {
                return None;
            }
            if &rest[20..] != " GMT" {
                return None;
            }
            let year = number(&rest[7..11])?;
            return instant(year, &rest[3..6], &rest[..2], &rest[12..20], wd);
        }
        let wd = LONG_DAYS.iter().position(|d| *d == day)?;
        // rfc850-date after the weekday: `06-Nov-94 08:49:37 GMT`.
        if r.len() != 22 || r[2] != b'-' || r[6] != b'-' || r[9] != b' ' || &rest[18..] != " GMT" {
            return None;
        }
        let yy = number(&rest[7..9])?;
        let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
        return instant(year, &rest[3..6], &rest[..2], &rest[10..18], wd);
    }
    // asctime-date: `Sun Nov  6 08:49:37 1994`, the day space-padded.
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    let wd = DAYS.iter().position(|d| *d == &text[..3])?;
    let day = &text[8..10];
    let day = day.strip_prefix(' ').unwrap_or(day);
    instant(number(&text[20..])?, &text[4..7], day, &text[11..19], wd)
}

/// The instant of a parsed date, if the fields make a real one on weekday `wd`.
fn instant(year: i64, month: &str, day: &str, clock: &str, wd: usize) -> Option<i64> {
    let m = MONTHS.iter().position(|name| *name == month)? as i64 + 1;
    let d = number(day)?;
    if !(1..=days_in_month(year, m)).contains(&d) {
        return None;
    }
    let c = clock.as_bytes();
    if c.len() != 8 || c[2] != b':' || c[5] != b':' {
        return None;
    }
    let (h, mi, s) = (
        number(&clock[..2])?,
        number(&clock[3..5])?,
        number(&clock[6..])?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, m, d);
    (weekday(days) == wd).then_some((days * 86_400 + h * 3600 + mi * 60 + s) * 1000)
}

/// A short run of ASCII digits as a number (no sign, no spaces).
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: `--timeout 1h30m` was refused.
    #[test]
    fn durations_compound_from_largest_to_smallest_unit() {
        use std::time::Duration;
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::from_millis(3_723_004))
        );
        assert_eq!(parse_duration(" 90s "), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("168h"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "30m1h", "1h1h", "1h30", "h", "1.5h", "1h 30m", "169h", "1h-5m", "m5",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(
            parse_duration("1h30").unwrap_err().contains("needs a unit"),
            "{:?}",
            parse_duration("1h30")
        );
        assert!(
            parse_duration("30m1h")
                .unwrap_err()
                .contains("from hours down")
        );
    }

    #[test]
    fn durations_parse_with_units() {
        use std::time::Duration;
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
    }

    #[test]
    fn formats_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_975_445_123), "2026-11-29T18:04:05Z");
        assert_eq!(date_of(-1), "1969-12-31");
        let d = std::time::Duration::from_secs;
        assert_eq!(duration_text(d(3600)), "1h");
        assert_eq!(duration_text(d(5400)), "1h30m");
        assert_eq!(duration_text(d(45)), "45s");
        assert_eq!(
            duration_text(std::time::Duration::from_millis(500)),
            "500ms"
        );
        assert_eq!(duration_text(d(0)), "0");
        assert_eq!(
            days_of("2026-11-29").map(civil_from_days),
            Some((2026, 11, 29))
        );
    }

    #[test]
    fn http_dates_of_known_instants() {
        // RFC 9110 §5.6.7's example, and the three forms of it.
        let example = 784_111_777_000;
        assert_eq!(http_date(example), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(example)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(example)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(example));
        assert_eq!(parse_http_date("Sun Nov 06 08:49:37 1994"), Some(example));
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(999), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http_date(951_825_600_000), "Tue, 29 Feb 2000 12:00:00 GMT");
        assert_eq!(
            http_date(1_796_160_242_500),
            "Tue, 01 Dec 2026 21:24:02 GMT"
        );
        assert_eq!(
            parse_http_date("Tue, 01 Dec 2026 21:24:02 GMT"),
            Some(1_796_160_242_000)
        );
        // Two-digit years pivot at 70; a leap second is the next second.
        assert_eq!(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tuesday, 01-Dec-26 21:24:02 GMT"),
            Some(1_796_160_242_000)
        );
        assert_eq!(parse_http_date("Wed, 31 Dec 1969 23:59:60 GMT"), Some(0));
        // Extremes format without panicking.
        for ms in [i64::MIN, i64::MAX] {
            assert!(http_date(ms).ends_with(" GMT"));
        }
    }

    #[test]
    fn http_dates_round_trip_to_the_second() {
        let mut ms = -62_135_596_800_000; // 0001-01-01
        while ms < 253_402_300_799_000 {
            // 9999-12-31T23:59:59
            let text = http_date(ms);
            assert_eq!(
                parse_http_date(&text),
                Some(ms.div_euclid(1000) * 1000),
                "{text}"
            );
            ms += 7_777_777_777_777 / 61;
        }
    }

    #[test]
    fn anything_but_an_http_date_is_none() {
        for bad in [
            "",
            "garbage",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 N\u{f6}v 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:4\u{e9}7 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06 Nov 94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov 6 08:49:37 1994",
            "Mon Nov  6 08:49:37 1994",
            "1994-11-06T08:49:37Z",
            "784111777",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
        // Every one-byte corruption of a valid date either fails or still reads a real date,
        // and never panics.
        let good = "Sun, 06 Nov 1994 08:49:37 GMT";
        for i in 0..good.len() {
            for c in ['0', '9', ' ', ',', ':', 'x', '\u{e9}'] {
                let mut text = good.to_owned();
                text.replace_range(i..=i, &c.to_string());
                let _ = parse_http_date(&text);
            }
        }
    }
}

// =============================================================================================
// `UtcDate`: a calendar day in UTC (moved here from `api::types`, issue 10).
//
// Kept in its own section, apart from the instants above, so the change that moves the
// lockfile's timestamp into this file merges without touching it.

/// A calendar day in UTC (days since 1970-01-01), for schedule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDate(i64);

impl UtcDate {
    /// Today, by the system clock.
    pub fn today() -> Self {
        Self::from_epoch_ms(now_ms())
    }

    pub fn from_epoch_ms(ms: i64) -> Self {
        Self(ms.div_euclid(86_400_000))
    }

    /// Parses `YYYY-MM-DD` (anything after the tenth character, such as a time, is ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let date = text.get(..10)?;
        if !date
            .bytes()
            .enumerate()
            .all(|(i, b)| matches!(i, 4 | 7) || b.is_ascii_digit())
        {
            return None;
        }
        days_of(date).map(Self)
    }

    /// The day `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Self {
        Self(self.0 + n)
    }
}

impl std::fmt::Display for UtcDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod since_tests {
    use super::{Timestamp, now_ms, parse_since};

    #[test]
    fn since_reads_days_instants_and_times_ago() {
        assert_eq!(
            parse_since("2026-11-27").unwrap().to_string(),
            "2026-11-27T00:00:00.000Z"
        );
        assert_eq!(
            parse_since("2026-11-27T09:00:02.118Z").unwrap().to_string(),
            "2026-11-27T09:00:02.118Z"
        );
        let before = now_ms();
        let ago = parse_since("2d").unwrap().unix_ms();
        assert!((before - 2 * 86_400_000 - 1000..=now_ms() - 2 * 86_400_000).contains(&ago));
        let ago = parse_since("90m").unwrap().unix_ms();
        assert!(ago <= now_ms() - 90 * 60_000);
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-11-27T09:00",
            "d",
            "-3d",
            "",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
        let _: Timestamp = parse_since("0").unwrap();
    }
}

#[cfg(test)]
mod utc_date_tests {
    use super::UtcDate;

    #[test]
    fn dates_round_trip_and_reject_nonsense() {
        let day = UtcDate::parse("2026-11-29").unwrap();
        assert_eq!(day.to_string(), "2026-11-29");
        assert_eq!(UtcDate::from_epoch_ms(0).to_string(), "1970-01-01");
        assert_eq!(
            UtcDate::parse("2024-02-29")
                .unwrap()
                .add_days(1)
                .to_string(),
            "2024-03-01"
        );
        assert_eq!(UtcDate::parse("2026-11-29T08:00:00Z"), Some(day));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "26-11-29",
            "2026-1-290",
            "",
            "2026-11-3x",
        ] {
            assert_eq!(UtcDate::parse(bad), None, "{bad}");
        }
    }
}

// =============================================================================================
// `Timestamp`: the one instant type of records (lockfiles, saved plans), RFC 3339 with
// milliseconds (moved here from `lockfile`, issue 10).
//
// Kept in a section of its own, with its own imports and tests, apart from the free functions
// above: what lockfiles write must read back to the same bytes, so its format is fixed here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with millisecond precision, written as RFC 3339 (`2026-11-29T18:11:12.345Z`).
///
/// Always written with three fractional digits and `Z`, so a saved lockfile reads back to the
/// same bytes. Reading accepts 0 to 9 fractional digits (extra precision is truncated) and only
/// the `Z` offset. Years 0000 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    unix_ms: i64,
}

const MS_PER_DAY: i64 = 86_400_000;
/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in days since the Unix epoch.
const MIN_DAY: i64 = -719_528;
const END_DAY: i64 = 2_932_897;

impl Timestamp {
    /// The current time (clamped to 1970 if the clock is before it).
    pub fn now() -> Self {
        Timestamp::from_unix_ms(now_ms()).unwrap_or(Timestamp { unix_ms: 0 })
    }

    /// The instant `ms` milliseconds after the Unix epoch, as the platform reports times.
    ///
    /// Returns `None` outside years 0000 to 9999.
    pub fn from_unix_ms(ms: i64) -> Option<Self> {
        (MIN_DAY * MS_PER_DAY..END_DAY * MS_PER_DAY)
            .contains(&ms)
            .then_some(Timestamp { unix_ms: ms })
    }

    /// Milliseconds since the Unix epoch (to compare with the platform's `createdAt`).
    pub fn unix_ms(self) -> i64 {
        self.unix_ms
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_ms.div_euclid(MS_PER_DAY);
        let ms_of_day = self.unix_ms.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (secs, ms) = (ms_of_day / 1000, ms_of_day % 1000);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Why a string is not a timestamp this module reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 UTC time like `2026-11-29T18:11:12.345Z`")]
pub struct TimestampError(String);

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimestampError(s.to_owned());
        let b = s.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(range)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let sep = |i: usize, c: u8| b.get(i) == Some(&c);
        if b.len() < 20
            || !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':'))
            || b.last() != Some(&b'Z')
        {
            return Err(err());
        }
        let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
        let (h, mi, sec) = (num(11..13), num(14..16), num(17..19));
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (y, mo, d, h, mi, sec)
        else {
            return Err(err());
        };
        let frac = &b[19..b.len() - 1];
        let ms = match frac {
            [] => 0,
            [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(err());
                }
                digits
                    .iter()
                    .chain(std::iter::repeat(&b'0'))
                    .take(3)
                    .fold(0, |n, d| n * 10 + i64::from(d - b'0'))
            }
            _ => return Err(err()),
        };
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 59
        {
            return Err(err());
        }
        let ms = days_from_civil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
        Timestamp::from_unix_ms(ms).ok_or_else(err)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    #[test]
    fn timestamps_format_and_parse_known_instants() {
        let t = |ms| Timestamp::from_unix_ms(ms).unwrap().to_string();
        assert_eq!(t(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(1_596_656_079_576), "2020-08-05T19:34:39.576Z");
        assert_eq!(t(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(t(-1), "1969-12-31T23:59:59.999Z");
        let p = |s: &str| s.parse::<Timestamp>().map(Timestamp::unix_ms);
        assert_eq!(p("2020-08-05T19:34:39.576Z"), Ok(1_596_656_079_576));
        assert_eq!(p("2020-08-05T19:34:39Z"), Ok(1_596_656_079_000));
        assert_eq!(p("2020-08-05T19:34:39.5Z"), Ok(1_596_656_079_500));
        assert_eq!(p("2020-08-05T19:34:39.576999999Z"), Ok(1_596_656_079_576));
        assert_eq!(p("0000-01-01T00:00:00Z"), Ok(MIN_DAY * MS_PER_DAY));
        assert_eq!(p("9999-12-31T23:59:59.999Z"), Ok(END_DAY * MS_PER_DAY - 1));
    }

    #[test]
    fn timestamps_reject_everything_else() {
        for bad in [
            "",
            "2020-08-05",
            "2020-08-05T19:34:39",
            "2020-08-05T19:34:39+00:00",
            "2020-08-05 19:34:39Z",
            "2020-13-05T19:34:39Z",
            "2019-02-29T00:00:00Z",
            "2020-08-05T24:00:00Z",
            "2020-08-05T19:60:00Z",
            "2020-08-05T19:34:60Z",
            "2020-08-05T19:34:39.Z",
            "2020-08-05T19:34:39.1234567890Z",
            "2020-08-05T19:34:39.12aZ",
            "+020-08-05T19:34:39Z",
            "2020-08-05T19:34:39zZ",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "accepted {bad:?}");
        }
        assert_eq!(Timestamp::from_unix_ms(END_DAY * MS_PER_DAY), None);
        assert_eq!(Timestamp::from_unix_ms(MIN_DAY * MS_PER_DAY - 1), None);
    }

    #[test]
    fn timestamps_round_trip_across_the_range() {
        // Every day boundary ± 1 ms over 10,000 years, stepping 997 days.
        let mut day = MIN_DAY;
        while day < END_DAY {
            for ms in [day * MS_PER_DAY, day * MS_PER_DAY + 43_199_999] {
                let t = Timestamp::from_unix_ms(ms).unwrap();
                let text = t.to_string();
                assert_eq!(text.len(), 24, "{text}");
                assert_eq!(text.parse::<Timestamp>(), Ok(t), "{text}");
            }
            day += 997;
        }
    }

    #[test]
    fn timestamp_now_is_current() {
        let now = Timestamp::now();
        assert!(now.to_string().starts_with("20"), "{now}");
    }
}
