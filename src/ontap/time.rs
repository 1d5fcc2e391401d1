//! ONTAP's time formats, read with `jiff`: timestamps in RFC 3339
//! (`2017-01-25T11:20:13Z`, what clusters send) or the reference pages'
//! `2017-01-25 11:20:13 +0000`, and ISO-8601 durations (`PT15S`, `P1D`).
//! The readers of ONTAP's JSON (`translate::wire`) use these, so a malformed
//! value fails decoding with the JSON path of the field that held it.

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};

/// ISO 8601 durations, and nothing else.
static ISO_8601_SPANS: jiff::fmt::temporal::SpanParser = jiff::fmt::temporal::SpanParser::new();

/// The reference pages' form, which RFC 3339 parsers do not take.
const PAGES_FORM: &str = "%Y-%m-%d %H:%M:%S %z";

/// Parses an ONTAP timestamp in either form.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>()
        .or_else(|_| jiff::fmt::strtime::parse(PAGES_FORM, text)?.to_timestamp())
        .map_err(|_| format!("`{text}` is not an ONTAP timestamp"))
}

/// Parses an ISO-8601 duration of weeks, days, hours, minutes and seconds
/// (`PT15S`, `PT2H`, `P1D`, `P1W`, `P1DT2H`) into whole seconds; ONTAP's
/// sample durations are whole seconds, and a day is 24 hours.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("`{text}` is not an ISO-8601 duration");
    // `str::parse` would also take jiff's friendly form (`15s`); ONTAP's is ISO 8601 only.
    let span: Span = ISO_8601_SPANS.parse_span(text).map_err(|_| invalid())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(invalid());
    }
    span.to_duration(SpanRelativeTo::days_are_24_hours())
        .ok()
        .filter(|d: &SignedDuration| d.subsec_nanos() == 0)
        .map(|d| d.as_secs())
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_pages_timestamp_form() {
        let t = parse_timestamp("2017-01-25 11:20:13 +0000").unwrap();
        assert_eq!(t.as_second(), 1_485_343_213);
        assert_eq!(t.to_string(), "2017-01-25T11:20:13Z");
    }

    #[test]
    fn parses_rfc3339_with_offset_and_fraction() {
        let t = parse_timestamp("2017-01-25T13:20:13.5+02:00").unwrap();
        assert_eq!(t, Timestamp::new(1_485_343_213, 500_000_000).unwrap());
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2017-01-25",
            "2017-13-25 11:20:13 +0000",
            "2017-02-31T00:00:00Z",
            "2017-01-25 11:20:13",
            "yyyy-01-25 11:20:13 +0000",
            "2017-01-25T11:20:13Zjunk",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_dates_before_and_after_leap_days() {
        for text in [
            "2024-02-29T00:00:00Z",
            "2000-03-01T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(text).unwrap().to_string(), text);
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
        for bad in [
            "", "P", "PT", "15S", "15s", "PT15", "PTS", "PT1S2M", "P1H", "P1M", "P1Y", "PT1.5S",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
