//! When a campaign runs: a start and an end, optionally only between daily hours, in the
//! campaign's time zone. Marketing staff think in the store's wall-clock time ("9 to 5 next
//! week"), so the schedule is written that way and turned into UTC intervals here, with the
//! time zone rules bundled in the binary (the same answer on every machine).
//!
//! Daily hours whose end is not after their start run across midnight (22:00–02:00 ends the
//! next morning). A wall-clock time a daylight-saving change skips is taken as the time just
//! after the gap, one it repeats as its first occurrence (RFC 5545's rule, `compatible` in
//! jiff): a 9-to-5 day stays 9 to 5 on the clock whatever the offset.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};
use serde::{Deserialize, Serialize};

use super::CampaignError;

/// The schedule as the campaign file writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// IANA time zone of the stores (`Europe/Berlin`); `UTC` when absent.
    #[serde(default = "utc", skip_serializing_if = "is_utc")]
    pub timezone: String,
    /// Wall-clock time in `timezone` (`2026-12-07T09:00`), or RFC 3339 with an offset.
    pub start: String,
    /// Same forms as `start`; the campaign ends before it.
    pub end: String,
    /// Only between these hours each day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<DailyHours>,
}

/// `{"from": "09:00", "to": "17:00"}`; `to` at or before `from` ends the next day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyHours {
    pub from: String,
    pub to: String,
}

fn utc() -> String {
    "UTC".to_owned()
}

fn is_utc(tz: &String) -> bool {
    tz == "UTC"
}

/// A span of time the campaign is on, in epoch milliseconds: `[start_ms, end_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A schedule checked and resolved to instants.
#[derive(Clone, Debug)]
pub struct ResolvedSchedule {
    tz: TimeZone,
    start: Timestamp,
    end: Timestamp,
    daily: Option<(Time, Time)>,
}

fn bad(field: &str, text: &str, why: impl std::fmt::Display) -> CampaignError {
    CampaignError::Schedule(format!("{field} {text:?}: {why}"))
}

impl Schedule {
    /// Checks the fields and resolves them in the time zone.
    pub fn resolve(&self) -> Result<ResolvedSchedule, CampaignError> {
        let tz = TimeZone::get(&self.timezone).map_err(|e| {
            bad(
                "timezone",
                &self.timezone,
                format!("{e} (an IANA name such as Europe/Berlin)"),
            )
        })?;
        let start = instant(&tz, "start", &self.start)?;
        let end = instant(&tz, "end", &self.end)?;
        if end <= start {
            return Err(CampaignError::Schedule(format!(
                "end {:?} is not after start {:?}",
                self.end, self.start
            )));
        }
        let daily = match &self.daily {
            None => None,
            Some(d) => {
                let from = clock_time("daily.from", &d.from)?;
                let to = clock_time("daily.to", &d.to)?;
                if from == to {
                    return Err(bad(
                        "daily.to",
                        &d.to,
                        "equals daily.from; leave out `daily` for all day",
                    ));
                }
                Some((from, to))
            }
        };
        Ok(ResolvedSchedule {
            tz,
            start,
            end,
            daily,
        })
    }
}

/// `2026-12-07T09:00[:00]` in `tz`, or an RFC 3339 instant.
fn instant(tz: &TimeZone, field: &str, text: &str) -> Result<Timestamp, CampaignError> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil: DateTime = text.parse().map_err(|e| {
        bad(
            field,
            text,
            format!("{e} (e.g. 2026-12-07T09:00, or 2026-12-07T09:00:00+01:00)"),
        )
    })?;
    on_clock(tz, civil).map_err(|e| bad(field, text, e))
}

fn clock_time(field: &str, text: &str) -> Result<Time, CampaignError> {
    text.trim()
        .parse()
        .map_err(|e| bad(field, text, format!("{e} (e.g. 09:00)")))
}

/// The instant a wall clock in `tz` shows `civil` (gaps and folds as the module says).
fn on_clock(tz: &TimeZone, civil: DateTime) -> Result<Timestamp, jiff::Error> {
    tz.to_ambiguous_timestamp(civil).compatible()
}

impl ResolvedSchedule {
    pub fn start_ms(&self) -> i64 {
        self.start.as_millisecond()
    }

    pub fn end_ms(&self) -> i64 {
        self.end.as_millisecond()
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The date a wall clock in the campaign's zone shows at `ms`.
    pub fn local_date(&self, ms: i64) -> Option<Date> {
        Some(
            Timestamp::from_millisecond(ms)
                .ok()?
                .to_zoned(self.tz.clone())
                .date(),
        )
    }

    /// The same schedule `days` calendar days later on the wall clock (a forecast lays a
    /// campaign on the day its traffic was recorded; the hours stay the same across a
    /// daylight-saving change between the two).
    pub fn shifted_days(&self, days: i64) -> Result<ResolvedSchedule, CampaignError> {
        let shift = |ts: Timestamp| -> Result<Timestamp, CampaignError> {
            let civil = ts.to_zoned(self.tz.clone()).datetime();
            let moved = civil.checked_add(days.days()).map_err(|e| {
                CampaignError::Schedule(format!("cannot shift by {days} days: {e}"))
            })?;
            on_clock(&self.tz, moved)
                .map_err(|e| CampaignError::Schedule(format!("cannot shift by {days} days: {e}")))
        };
        Ok(ResolvedSchedule {
            tz: self.tz.clone(),
            start: shift(self.start)?,
            end: shift(self.end)?,
            daily: self.daily,
        })
    }

    /// Whole days from the schedule's first local date to the local date at `ms`.
    pub fn days_until(&self, ms: i64) -> Option<i64> {
        let from = self.local_date(self.start_ms())?;
        let to = self.local_date(ms)?;
        Some(i64::from(from.until(to).ok()?.get_days()))
    }

    /// The intervals the campaign is on, in order, none empty, none overlapping.
    pub fn intervals(&self) -> Vec<Interval> {
        let (start, end) = (self.start_ms(), self.end_ms());
        let Some((from, to)) = self.daily else {
            return vec![Interval {
                start_ms: start,
                end_ms: end,
            }];
        };
        let (Some(first), Some(last)) = (self.local_date(start), self.local_date(end)) else {
            return Vec::new();
        };
        let mut out: Vec<Interval> = Vec::new();
        // A window across midnight that began the day before `start` may still be open.
        let mut day = first.yesterday().unwrap_or(first);
        while day <= last {
            let open = on_clock(&self.tz, day.to_datetime(from));
            let closing_day = if to <= from { day.tomorrow() } else { Ok(day) };
            let close = closing_day.and_then(|d| on_clock(&self.tz, d.to_datetime(to)));
            if let (Ok(open), Ok(close)) = (open, close) {
                let (a, b) = (
                    open.as_millisecond().max(start),
                    close.as_millisecond().min(end),
                );
                if a < b {
                    match out.last_mut() {
                        // A window ending where the next opens (22:00–22:00 is refused, but
                        // a fall-back fold can make two touch) is one interval.
                        Some(prev) if prev.end_ms >= a => prev.end_ms = prev.end_ms.max(b),
                        _ => out.push(Interval {
                            start_ms: a,
                            end_ms: b,
                        }),
                    }
                }
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        out
    }

    /// `ms` as the campaign's wall clock shows it (see [`clock_label`]).
    pub fn local_label(&self, ms: i64) -> String {
        clock_label(&self.tz, ms)
    }
}

/// `ms` as a wall clock in `tz` shows it, to the minute, with its offset
/// (`2026-12-07T09:00-06:00`): how reports label times.
pub fn clock_label(tz: &TimeZone, ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M%:z")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(tz: &str, start: &str, end: &str, daily: Option<(&str, &str)>) -> ResolvedSchedule {
        Schedule {
            timezone: tz.into(),
            start: start.into(),
            end: end.into(),
            daily: daily.map(|(f, t)| DailyHours {
                from: f.into(),
                to: t.into(),
            }),
        }
        .resolve()
        .expect("valid schedule")
    }

    fn labels(s: &ResolvedSchedule) -> Vec<(String, String)> {
        s.intervals()
            .iter()
            .map(|i| (s.local_label(i.start_ms), s.local_label(i.end_ms)))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn without_daily_hours_the_campaign_is_one_interval_from_start_to_end() {
        let s = schedule(
            "Europe/Berlin",
            "2026-12-07T09:00",
            "2026-12-09T17:30",
            None,
        );
        assert_eq!(
            labels(&s),
            vec![pair("2026-12-07T09:00+01:00", "2026-12-09T17:30+01:00")]
        );
        assert_eq!(s.start_ms(), 1_796_630_400_000);
    }

    #[test]
    fn rfc3339_instants_are_taken_as_they_are_whatever_the_zone() {
        let s = schedule(
            "America/Chicago",
            "2026-12-07T15:00:00Z",
            "2026-12-07T17:00:00+01:00",
            None,
        );
        assert_eq!(s.start_ms(), 1_796_655_600_000);
        assert_eq!(s.end_ms() - s.start_ms(), 3_600_000);
    }

    #[test]
    fn daily_hours_are_cut_to_start_and_end() {
        let s = schedule(
            "Europe/Berlin",
            "2026-12-07T12:00",
            "2026-12-09T10:00",
            Some(("09:00", "17:00")),
        );
        assert_eq!(
            labels(&s),
            vec![
                pair("2026-12-07T12:00+01:00", "2026-12-07T17:00+01:00"),
                pair("2026-12-08T09:00+01:00", "2026-12-08T17:00+01:00"),
                pair("2026-12-09T09:00+01:00", "2026-12-09T10:00+01:00"),
            ]
        );
    }

    #[test]
    fn hours_across_midnight_end_the_next_morning_and_one_open_before_start_counts() {
        let s = schedule(
            "UTC",
            "2026-12-07T01:00",
            "2026-12-08T23:00",
            Some(("22:00", "02:00")),
        );
        assert_eq!(
            labels(&s),
            vec![
                // The night of the 6th is still open at the start.
                pair("2026-12-07T01:00+00:00", "2026-12-07T02:00+00:00"),
                pair("2026-12-07T22:00+00:00", "2026-12-08T02:00+00:00"),
                pair("2026-12-08T22:00+00:00", "2026-12-08T23:00+00:00"),
            ]
        );
    }

    #[test]
    fn a_spring_forward_night_is_an_hour_shorter_and_the_day_keeps_its_clock_hours() {
        // Europe/Berlin skips 02:00–03:00 on 2026-03-29.
        let s = schedule(
            "Europe/Berlin",
            "2026-03-28T00:00",
            "2026-03-30T00:00",
            Some(("22:00", "06:00")),
        );
        let intervals = s.intervals();
        assert_eq!(
            labels(&s)[1],
            pair("2026-03-28T22:00+01:00", "2026-03-29T06:00+02:00")
        );
        assert_eq!(intervals[1].end_ms - intervals[1].start_ms, 7 * 3_600_000);
        let day = schedule(
            "Europe/Berlin",
            "2026-03-29T00:00",
            "2026-03-30T00:00",
            Some(("09:00", "17:00")),
        );
        assert_eq!(
            labels(&day),
            vec![pair("2026-03-29T09:00+02:00", "2026-03-29T17:00+02:00")]
        );
    }

    #[test]
    fn a_fall_back_night_is_an_hour_longer() {
        // America/New_York repeats 01:00–02:00 on 2026-11-01.
        let s = schedule(
            "America/New_York",
            "2026-10-31T12:00",
            "2026-11-01T12:00",
            Some(("22:00", "06:00")),
        );
        let i = s.intervals();
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].end_ms - i[0].start_ms, 9 * 3_600_000);
    }

    #[test]
    fn a_start_in_the_skipped_hour_is_the_time_just_after_the_gap() {
        let s = schedule(
            "Europe/Berlin",
            "2026-03-29T02:30",
            "2026-03-29T04:00",
            None,
        );
        assert_eq!(s.local_label(s.start_ms()), "2026-03-29T03:30+02:00");
    }

    #[test]
    fn shifting_keeps_the_clock_hours_across_a_change_of_offset() {
        let s = schedule(
            "Europe/Berlin",
            "2026-03-27T09:00",
            "2026-03-27T17:00",
            None,
        );
        let moved = s.shifted_days(3).expect("shift");
        assert_eq!(
            labels(&moved),
            vec![pair("2026-03-30T09:00+02:00", "2026-03-30T17:00+02:00")]
        );
        assert_eq!(s.days_until(moved.start_ms()), Some(3));
    }

    #[test]
    fn bad_fields_are_refused_with_what_was_wrong() {
        let mut s = Schedule {
            timezone: "Mars/Olympus".into(),
            start: "2026-12-07T09:00".into(),
            end: "2026-12-07T17:00".into(),
            daily: None,
        };
        let e = s.resolve().expect_err("unknown zone").to_string();
        assert!(e.contains("Mars/Olympus"), "{e}");
        s.timezone = "UTC".into();
        s.end = "2026-12-07T08:00".into();
        assert!(s
            .resolve()
            .expect_err("end first")
            .to_string()
            .contains("not after"));
        s.end = "tomorrow".into();
        assert!(s
            .resolve()
            .expect_err("not a time")
            .to_string()
            .contains("tomorrow"));
        s.end = "2026-12-07T17:00".into();
        s.daily = Some(DailyHours {
            from: "09:00".into(),
            to: "9:00".into(),
        });
        assert!(s.resolve().is_err());
        s.daily = Some(DailyHours {
            from: "09:00".into(),
            to: "09:00".into(),
        });
        assert!(s
            .resolve()
            .expect_err("same hours")
            .to_string()
            .contains("all day"));
    }
}
