//! The policy rules that need a clock: send windows and `minInterval`.
//!
//! Pure functions of the rules and an instant (epoch ms): the caller passes the platform's
//! clock (the `Date` of its run listings), so a plan and its tests never depend on this
//! machine's clock. Windows are local wall-clock times in their zone, across DST changes: a
//! window opening at a time a spring-forward skips opens at the first instant after the gap.

use jiff::Timestamp;
use jiff::civil::Date;

use super::model::Window;

/// When the next window opens, if none is open at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The instant the next window opens (epoch ms); `None` when no window ever opens.
    pub opens_at: Option<i64>,
    /// That opening, as people read it: in the window's zone and in UTC.
    pub opens_text: Option<String>,
}

/// Whether any of `windows` is open at `now` (epoch ms).
///
/// Returns `None` when one is open (or there are no windows), else when the next one opens.
pub fn closed(windows: &[Window], now: i64) -> Option<Closed> {
    if windows.is_empty() {
        return None;
    }
    let now_ts = Timestamp::from_millisecond(now).ok()?;
    let mut next: Option<(i64, &Window)> = None;
    for window in windows {
        let today = now_ts.to_zoned_datetime(window.time_zone.clone()).date();
        // Yesterday too: a window that ends at 24:00 is still that day's.
        for offset in -1..=8 {
            let Some(day) = today.checked_add(jiff::Span::new().days(offset)).ok() else {
                continue;
            };
            if !window.days.contains(&day.weekday()) {
                continue;
            }
            let (Some(start), Some(end)) = (
                instant(window, day, window.start),
                instant(window, day, window.end),
            ) else {
                continue;
            };
            if start <= now && now < end {
                return None;
            }
            if start > now && next.is_none_or(|(at, _)| start < at) {
                next = Some((start, window));
            }
        }
    }
    Some(match next {
        Some((at, window)) => Closed {
            opens_at: Some(at),
            opens_text: Some(describe(at, window)),
        },
        None => Closed {
            opens_at: None,
            opens_text: None,
        },
    })
}

/// The instant of `minutes` after local midnight of `day` in the window's zone (24:00 is the
/// next midnight); a wall-clock time a DST gap skips maps to the instant after the gap.
fn instant(window: &Window, day: Date, minutes: u16) -> Option<i64> {
    let (day, minutes) = if minutes >= 24 * 60 {
        (day.tomorrow().ok()?, minutes - 24 * 60)
    } else {
        (day, minutes)
    };
    let time = day.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
    let ambiguous = window.time_zone.to_ambiguous_timestamp(time);
    if let jiff::tz::AmbiguousOffset::Gap { after, .. } = ambiguous.offset() {
        // Read with the offset after the gap, the time is an instant before the gap; the
        // first transition after that instant is the gap's end, the first instant after it
        // (02:30 skipped in Berlin opens at 03:00, not at 03:30).
        let before_gap = after.to_timestamp(time).ok()?;
        let transition = window.time_zone.following(before_gap).next()?;
        return Some(transition.timestamp().as_millisecond());
    }
    Some(ambiguous.compatible().ok()?.as_millisecond())
}

/// `Mon 2026-11-23 08:00 Europe/Berlin (2026-11-23T07:00:00Z)`.
pub fn describe(at: i64, window: &Window) -> String {
    let local = Timestamp::from_millisecond(at)
        .map(|ts| {
            ts.to_zoned_datetime(window.time_zone.clone())
                .strftime("%a %Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    format!(
        "{local} {} ({})",
        window.zone_name,
        crate::time::rfc3339(at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::source::SourceFile;
    use crate::policy::model::Policy;

    fn windows(text: &str) -> Vec<Window> {
        let yaml =
            format!("apiVersion: aepact/policy-v1\nsandboxes:\n  prod:\n    windows: {text}\n");
        let mut policy = Policy::parse(SourceFile::new("p.yaml", yaml)).unwrap();
        std::mem::take(&mut policy.sandboxes.get_mut("prod").unwrap().windows)
    }

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn weekday_hours_in_berlin() {
        let w = windows(
            "[{days: [mon, tue, wed, thu, fri], hours: \"08:00-18:00\", timeZone: Europe/Berlin}]",
        );
        // Wednesday 2026-01-14 10:00 Berlin (09:00 UTC): open.
        assert_eq!(closed(&w, ms("2026-01-14T09:00:00Z")), None);
        // 18:00 Berlin is closed (the end is excluded); opens Thursday 08:00 Berlin.
        let c = closed(&w, ms("2026-01-14T17:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-01-15T07:00:00Z")));
        assert_eq!(
            c.opens_text.as_deref(),
            Some("Thu 2026-01-15 08:00 Europe/Berlin (2026-01-15T07:00:00Z)")
        );
        // Saturday: opens Monday.
        let c = closed(&w, ms("2026-01-17T12:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-01-19T07:00:00Z")));
    }

    #[test]
    fn follows_daylight_saving_time() {
        let w = windows("[{days: [mon], hours: \"08:00-18:00\", timeZone: Europe/Berlin}]");
        // Summer: 08:00 Berlin is 06:00 UTC.
        let c = closed(&w, ms("2026-07-05T12:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-07-06T06:00:00Z")));
        // A spring-forward gap: 02:30 does not exist on 2026-03-29 in Berlin.
        // It opens right after the gap: 03:00 CEST (01:00 UTC), not an hour after 02:30.
        let w = windows("[{days: [sun], hours: \"02:30-04:00\", timeZone: Europe/Berlin}]");
        let c = closed(&w, ms("2026-03-28T12:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-03-29T01:00:00Z")));
        assert_eq!(
            c.opens_text.as_deref(),
            Some("Sun 2026-03-29 03:00 Europe/Berlin (2026-03-29T01:00:00Z)")
        );
        assert_eq!(
            closed(&w, ms("2026-03-29T01:00:00Z")),
            None,
            "open from 03:00"
        );
        assert!(closed(&w, ms("2026-03-29T00:59:59Z")).is_some());
        // A window ending in the gap ends with it; the fall-back fold takes the first 02:30.
        let w = windows("[{days: [sun], hours: \"01:00-02:30\", timeZone: Europe/Berlin}]");
        assert!(
            closed(&w, ms("2026-03-29T01:00:00Z")).is_some(),
            "closed at 03:00"
        );
        assert_eq!(closed(&w, ms("2026-03-29T00:59:00Z")), None);
        let w = windows("[{days: [sun], hours: \"02:30-04:00\", timeZone: Europe/Berlin}]");
        let c = closed(&w, ms("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-10-25T00:30:00Z")));
    }

    #[test]
    fn a_window_to_midnight_and_several_windows() {
        let w = windows(
            "[{days: [sat], hours: \"22:00-24:00\", timeZone: UTC}, {days: [sun], hours: \"00:00-06:00\", timeZone: UTC}]",
        );
        assert_eq!(closed(&w, ms("2026-01-17T23:59:00Z")), None);
        assert_eq!(closed(&w, ms("2026-01-18T05:00:00Z")), None);
        let c = closed(&w, ms("2026-01-18T06:00:00Z")).unwrap();
        assert_eq!(c.opens_at, Some(ms("2026-01-24T22:00:00Z")));
    }
}
