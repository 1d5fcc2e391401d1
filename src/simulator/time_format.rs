//! ONTAP's timestamp and duration text.
//!
//! The reference pages print timestamps as `2017-01-25 11:20:13 +0000`, but clusters send RFC 3339
//! (`2017-01-25T11:20:13Z`), and NetApp's own `netapp-ontap` client rejects the pages' form when it
//! validates a response: so responses carry RFC 3339 only, while requests (path segments and
//! filters) may use either form, with any offset. Durations are ISO 8601 (`PT15S`). Times are
//! whole seconds since the Unix epoch (UTC): ONTAP's performance samples have no sub-second part,
//! so a fractional second other than zero names no sample and is rejected rather than silently
//! rounded.

const SECONDS_PER_MINUTE: i64 = 60;
const SECONDS_PER_HOUR: i64 = 3_600;
const SECONDS_PER_DAY: i64 = 86_400;

/// RFC 3339 in UTC, `2017-01-25T11:20:13Z`, the form every response carries: what clusters send,
/// and without spaces, so it also fits a URL path segment as is.
pub fn format_rfc3339(secs: i64) -> String {
    let (date, time) = split(secs);
    format!("{date}T{time}Z")
}

fn split(secs: i64) -> (String, String) {
    let days = secs.div_euclid(SECONDS_PER_DAY);
    let of_day = secs.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            of_day / SECONDS_PER_HOUR,
            of_day % SECONDS_PER_HOUR / SECONDS_PER_MINUTE,
            of_day % SECONDS_PER_MINUTE
        ),
    )
}

/// A timestamp in a URL path segment. NetApp's Python client writes the segment with
/// `quote_plus(str(datetime))`, which turns the space between date and time into `+`
/// (`2026-01-01+00:00:00+00:00`); a `+` there can be nothing else, so it is read as that space.
pub fn parse_path_timestamp(segment: &str) -> Option<i64> {
    match segment.as_bytes().get(DATE_LEN) {
        Some(b'+') => parse_timestamp(&format!(
            "{} {}",
            &segment[..DATE_LEN],
            &segment[DATE_LEN + 1..]
        )),
        _ => parse_timestamp(segment),
    }
}

/// Length of `YYYY-MM-DD`.
const DATE_LEN: usize = 10;

/// Reads the pages' form or RFC 3339: `YYYY-MM-DD`, `T` or a space, `HH:MM:SS`, optional fraction
/// (zeros only), optional spaces, then `Z` or an offset `±HH:MM` / `±HHMM`. `None` when it is
/// neither.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let mut cursor = Cursor(text.as_bytes());
    let year = cursor.digits(4)?;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    match cursor.next()? {
        b'T' | b't' | b' ' => {}
        _ => return None,
    }
    let hour = cursor.digits(2)?;
    cursor.expect(b':')?;
    let minute = cursor.digits(2)?;
    cursor.expect(b':')?;
    let second = cursor.digits(2)?;
    if cursor.peek() == Some(b'.') {
        cursor.next();
        let fraction = cursor.take_while(|b| b.is_ascii_digit());
        if fraction.is_empty() || fraction.iter().any(|b| *b != b'0') {
            return None;
        }
    }
    cursor.take_while(|b| b == b' ');
    let offset = cursor.offset()?;
    if !cursor.0.is_empty()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(
        days * SECONDS_PER_DAY + hour * SECONDS_PER_HOUR + minute * SECONDS_PER_MINUTE + second
            - offset,
    )
}

/// ISO 8601 duration as ONTAP writes sample durations: `PT15S`, `PT5M`, `PT30M`, `PT2H`, `P1D`.
pub fn format_duration(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    if secs == 0 {
        return "PT0S".to_owned();
    }
    let days = secs / SECONDS_PER_DAY;
    let hours = secs % SECONDS_PER_DAY / SECONDS_PER_HOUR;
    let minutes = secs % SECONDS_PER_HOUR / SECONDS_PER_MINUTE;
    let seconds = secs % SECONDS_PER_MINUTE;
    let mut text = "P".to_owned();
    if days > 0 {
        text.push_str(&format!("{days}D"));
    }
    if hours + minutes + seconds > 0 {
        text.push('T');
        for (value, unit) in [(hours, 'H'), (minutes, 'M'), (seconds, 'S')] {
            if value > 0 {
                text.push_str(&format!("{value}{unit}"));
            }
        }
    }
    text
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn next(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &[u8] {
        let n = self.0.iter().take_while(|b| keep(**b)).count();
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let digits = self.0.get(..n)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[n..];
        Some(
            digits
                .iter()
                .fold(0, |value, d| value * 10 + i64::from(d - b'0')),
        )
    }

    /// `Z`, `±HH:MM` or `±HHMM`, as seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.next()? {
            b'Z' | b'z' => return Some(0),
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours = self.digits(2)?;
        if self.peek() == Some(b':') {
            self.next();
        }
        let minutes = self.digits(2)?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * SECONDS_PER_HOUR + minutes * SECONDS_PER_MINUTE))
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z.
    const NEW_YEAR_2026: i64 = 1_767_225_600;

    #[test]
    fn timestamps_are_written_in_rfc3339_utc_with_z() {
        assert_eq!(format_rfc3339(1_485_343_213), "2017-01-25T11:20:13Z");
        assert_eq!(format_rfc3339(NEW_YEAR_2026 + 900), "2026-01-01T00:15:00Z");
    }

    #[test]
    fn times_before_the_epoch_are_written_too() {
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn both_forms_and_offsets_parse_to_the_same_instant() {
        for text in [
            "2026-01-01 00:15:00 +0000",
            "2026-01-01T00:15:00Z",
            "2026-01-01t00:15:00z",
            "2026-01-01T00:15:00+00:00",
            "2026-01-01T00:15:00.000Z",
            "2026-01-01T01:15:00+01:00",
            "2025-12-31 19:15:00 -0500",
        ] {
            assert_eq!(parse_timestamp(text), Some(NEW_YEAR_2026 + 900), "{text}");
        }
    }

    #[test]
    fn written_timestamps_parse_back() {
        for secs in [0, NEW_YEAR_2026, NEW_YEAR_2026 + 86_399, 951_782_400] {
            assert_eq!(parse_timestamp(&format_rfc3339(secs)), Some(secs));
        }
    }

    #[test]
    fn path_segment_reads_a_plus_between_date_and_time_as_the_space_quote_plus_encoded() {
        for segment in [
            "2026-01-01+00:15:00+00:00",
            "2026-01-01+00:15:00Z",
            "2026-01-01T00:15:00Z",
            "2026-01-01T01:15:00+01:00",
            "2026-01-01 00:15:00 +0000",
        ] {
            assert_eq!(
                parse_path_timestamp(segment),
                Some(NEW_YEAR_2026 + 900),
                "{segment}"
            );
        }
        assert_eq!(parse_path_timestamp("2026-01-01++00:15:00Z"), None);
        assert_eq!(parse_path_timestamp("2026-01-0é+00:15:00Z"), None);
    }

    #[test]
    fn leap_day_is_a_date_only_in_leap_years() {
        assert!(parse_timestamp("2024-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2025-02-29T00:00:00Z").is_none());
        assert!(parse_timestamp("2000-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2100-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        for text in [
            "",
            "2026-01-01",
            "2026-01-01T00:15:00",
            "2026-13-01T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00Zjunk",
            "2026-1-01T00:00:00Z",
            "2026-01-01X00:00:00Z",
            "2026-01-01T00:00:00+2400",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
    }

    #[test]
    fn durations_are_iso_8601_like_ontap_writes_them() {
        assert_eq!(format_duration(15), "PT15S");
        assert_eq!(format_duration(300), "PT5M");
        assert_eq!(format_duration(1_800), "PT30M");
        assert_eq!(format_duration(7_200), "PT2H");
        assert_eq!(format_duration(86_400), "P1D");
        assert_eq!(format_duration(90_061), "P1DT1H1M1S");
        assert_eq!(format_duration(0), "PT0S");
    }

    #[test]
    fn civil_conversion_round_trips_across_four_centuries() {
        for days in (-200_000..200_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
