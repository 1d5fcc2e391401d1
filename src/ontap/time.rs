//! ONTAP's time formats: timestamps written `2017-01-25 11:20:13 +0000`
//! (RFC 3339 is accepted too) and ISO-8601 durations (`PT15S`, `P1D`).
//! Kept here, at the wire, so a malformed value fails decoding with the
//! JSON path of the field that held it.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// An instant, as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Instant {
    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.fff][ ](Z|±HHMM|±HH:MM)`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not an ONTAP timestamp");
        let b = text.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b' ' | b'T')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(invalid());
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
            let s = text.get(range).ok_or_else(invalid)?;
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(invalid());
        }
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return Err(invalid());
            }
            nanos = fraction[..digits].parse::<u32>().map_err(|_| invalid())?
                * 10u32.pow(9 - digits as u32);
            rest = &fraction[digits..];
        }
        let offset = parse_offset(rest.strip_prefix(' ').unwrap_or(rest)).ok_or_else(invalid)?;
        let days = days_from_civil(year, month, day);
        Ok(Instant {
            seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset,
            nanos,
        })
    }
}

impl fmt::Display for Instant {
    /// RFC 3339 in UTC, e.g. `2017-01-25T11:20:13Z`: the `date-time` form of
    /// ONTAP's path parameters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        if self.nanos != 0 {
            write!(f, ".{:09}", self.nanos)?;
        }
        f.write_str("Z")
    }
}

/// Seconds east of UTC.
fn parse_offset(text: &str) -> Option<i64> {
    if text == "Z" || text == "z" {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) || text.len() > 6 {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses an ISO-8601 duration of days, hours, minutes and seconds
/// (`PT15S`, `PT4M`, `PT2H`, `P1D`, `P1W`, `P1DT2H`) into seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("`{text}` is not an ISO-8601 duration");
    let body = text.strip_prefix('P').ok_or_else(invalid)?;
    let (date, time) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(invalid()),
        None => (body, None),
    };
    if date.is_empty() && time.is_none() {
        return Err(invalid());
    }
    let mut total = 0i64;
    for (part, units) in [
        (date, &[('W', 604_800), ('D', 86_400)][..]),
        (time.unwrap_or(""), &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut rest = part;
        let mut allowed = units;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
            let position = allowed
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(invalid)?;
            if digits == 0 {
                return Err(invalid());
            }
            let amount: i64 = rest[..digits].parse().map_err(|_| invalid())?;
            total = amount
                .checked_mul(allowed[position].1)
                .and_then(|s| total.checked_add(s))
                .ok_or_else(invalid)?;
            allowed = &allowed[position + 1..];
            rest = &rest[digits + 1..];
        }
    }
    Ok(total)
}

/// Serde adapter for optional ONTAP timestamps.
pub fn optional_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instant>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| Instant::parse(&s).map_err(serde::de::Error::custom))
        .transpose()
}

/// Serde adapter for optional ISO-8601 durations, in seconds.
pub fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_duration(&s).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_pages_timestamp_form() {
        let t = Instant::parse("2017-01-25 11:20:13 +0000").unwrap();
        assert_eq!(t.seconds, 1_485_343_213);
        assert_eq!(t.to_string(), "2017-01-25T11:20:13Z");
    }

    #[test]
    fn parses_rfc3339_with_offset_and_fraction() {
        let t = Instant::parse("2017-01-25T13:20:13.5+02:00").unwrap();
        assert_eq!(
            t,
            Instant {
                seconds: 1_485_343_213,
                nanos: 500_000_000
            }
        );
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2017-01-25",
            "2017-13-25 11:20:13 +0000",
            "2017-01-25 11:20:13",
            "2017-01-25 11:20:13 +00",
            "yyyy-01-25 11:20:13 +0000",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_dates_before_and_after_leap_days() {
        for text in [
            "2024-02-29T00:00:00Z",
            "2000-03-01T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert_eq!(Instant::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn parses_every_sample_duration() {
        for (text, seconds) in [
            ("PT15S", 15),
            ("PT4M", 240),
            ("PT5M", 300),
            ("PT30M", 1800),
            ("PT2H", 7200),
            ("P1D", 86_400),
            ("P1W", 604_800),
            ("P1DT2H", 93_600),
        ] {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "P", "PT", "15S", "PT15", "PTS", "PT1S2M", "P1H"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
