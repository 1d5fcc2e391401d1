//! ONTAP's timestamp and duration text.
//!
//! The reference pages print timestamps as `2017-01-25 11:20:13 +0000`, but clusters send RFC 3339
//! (`2017-01-25T11:20:13Z`), and NetApp's own `netapp-ontap` client rejects the pages' form when it
//! validates a response: so responses carry RFC 3339 only, while requests (path segments and
//! filters) may use either form, with any offset. Durations are ISO 8601 (`PT15S`). Times are
//! whole seconds since the Unix epoch (UTC): ONTAP's performance samples have no sub-second part,
//! so a fractional second other than zero names no sample and is rejected rather than silently
//! rounded.
//!
//! `jiff` does the calendar: it reads RFC 3339 (in its Temporal superset, which also takes a space
//! or a lowercase `t` between date and time), the pages' form through `strptime`, and rejects
//! dates that do not exist, such as `2017-02-31`.

use jiff::fmt::temporal::SpanParser;
use jiff::{SignedDuration, Span, SpanRelativeTo, SpanRound, Timestamp, Unit};

/// The pages' form, `2017-01-25 11:20:13 +0000`.
const PAGES_FORM: &str = "%Y-%m-%d %H:%M:%S %z";

/// RFC 3339 in UTC, `2017-01-25T11:20:13Z`, the form every response carries: what clusters send,
/// and without spaces, so it also fits a URL path segment as is. Instants beyond jiff's range
/// (years -9999 to 9999) are written as its nearest end.
pub fn format_rfc3339(secs: i64) -> String {
    let secs = secs.clamp(Timestamp::MIN.as_second() + 1, Timestamp::MAX.as_second());
    Timestamp::from_second(secs)
        .expect("clamped into jiff's range")
        .to_string()
}

/// A timestamp in a URL path segment. NetApp's Python client writes the segment with
/// `quote_plus(str(datetime))`, which turns the space between date and time into `+`
/// (`2026-01-01+00:00:00+00:00`); a `+` there can be nothing else, so it is read as that space.
pub fn parse_path_timestamp(segment: &str) -> Option<i64> {
    let quote_plus = segment
        .split_at_checked(DATE_LEN)
        .and_then(|(date, rest)| Some((date, rest.strip_prefix('+')?)));
    match quote_plus {
        Some((date, time)) => parse_timestamp(&format!("{date} {time}")),
        None => parse_timestamp(segment),
    }
}

/// Length of `YYYY-MM-DD`.
const DATE_LEN: usize = 10;

/// Reads RFC 3339 or the pages' form, with any offset, as whole seconds since the epoch; `None`
/// when it is neither, names no real date or time, or has a fraction of a second.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let instant = text
        .parse::<Timestamp>()
        .or_else(|_| Timestamp::strptime(PAGES_FORM, text))
        .ok()?;
    (instant.subsec_nanosecond() == 0).then(|| instant.as_second())
}

/// ISO 8601 duration as ONTAP writes sample durations: `PT15S`, `PT5M`, `PT30M`, `PT2H`, `P1D`.
/// A day is always 24 hours here: samples are counted in UTC, where no day is longer.
pub fn format_duration(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let balanced = Span::try_from(SignedDuration::from_secs(secs))
        .and_then(|span| span.round(SpanRound::new().largest(Unit::Day).days_are_24_hours()));
    match balanced {
        Ok(span) => span.to_string(),
        Err(_) => format!("PT{secs}S"),
    }
}

/// ISO 8601 alone: `Span`'s `FromStr` also reads jiff's friendly form (`2h`), which ONTAP does not.
static SPAN_PARSER: SpanParser = SpanParser::new();

/// Reads an ISO 8601 duration (`PT15S`, `PT120M`, `P1D`) as a length of time, a day being 24 hours
/// as in [`format_duration`], so durations compare by length rather than as text; `None` when it
/// is not one, or counts months or years, whose length depends on the date.
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    SPAN_PARSER
        .parse_span(text)
        .ok()?
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .ok()
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
            "2017-02-31T00:00:00Z",
            "2017-02-31 00:00:00 +0000",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00Zjunk",
            "2026-1-01T00:00:00Z",
            "2026-01-01X00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_leap_second_reads_as_the_last_second_of_its_minute_as_rfc_3339_allows() {
        assert_eq!(
            parse_timestamp("2026-01-01T00:00:60Z"),
            parse_timestamp("2026-01-01T00:00:59Z")
        );
    }

    #[test]
    fn durations_read_as_lengths_of_time_whatever_their_units() {
        let hours = |h| Some(SignedDuration::from_hours(h));
        assert_eq!(parse_duration("PT2H"), hours(2));
        assert_eq!(parse_duration("PT120M"), hours(2));
        assert_eq!(parse_duration("PT7200S"), hours(2));
        assert_eq!(parse_duration("P1D"), hours(24));
        assert_eq!(parse_duration("P1W"), hours(168));
        assert_eq!(
            parse_duration("PT0.5S"),
            Some(SignedDuration::from_millis(500))
        );
        assert!(parse_duration("PT30M") < parse_duration("PT2H"));
    }

    #[test]
    fn malformed_durations_and_calendar_lengths_are_rejected() {
        for text in ["", "P", "PT", "2H", "2h", "PT2", "soon", "P1M", "P1Y"] {
            assert_eq!(parse_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn written_durations_parse_back() {
        for secs in [0, 15, 300, 1_800, 7_200, 86_400, 90_061] {
            let secs_i64 = i64::try_from(secs).expect("small");
            assert_eq!(
                parse_duration(&format_duration(secs)),
                Some(SignedDuration::from_secs(secs_i64))
            );
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
}
