//! ONTAP's time formats, read with `jiff`: timestamps in RFC 3339
//! (`2017-01-25T11:20:13Z`, what clusters send) or the reference pages'
//! `2017-01-25 11:20:13 +0000`, and ISO-8601 durations (`PT15S`, `P1D`).
//! The readers of ONTAP's JSON (`translate::wire`) use these, so a malformed
//! value fails decoding with the JSON path of the field that held it.
//!
//! ONTAP's times are whole seconds: every timestamp on the reference pages
//! has none smaller, samples fall on 15-second boundaries, and a fraction
//! is no instant ONTAP can be asked about. The gateway sends only whole
//! seconds, and checks a caller's protobuf time before it goes anywhere.

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

/// The instant a protobuf `Timestamp` (`seconds`, `nanos`) names, if ONTAP
/// can be asked about it: `nanos` within its second, as protobuf requires
/// (jiff would take -1 as the second before's last nanosecond), and a time
/// from 1970, before which ONTAP keeps nothing, to the end of jiff's range
/// (late in 9999, where RFC 3339 ends too).
pub fn instant(seconds: i64, nanos: i32) -> Result<Timestamp, String> {
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(format!(
            "has nanos {nanos}; nanos must be from 0 to 999999999"
        ));
    }
    Timestamp::new(seconds, nanos)
        .ok()
        .filter(|at| *at >= Timestamp::UNIX_EPOCH)
        .ok_or_else(|| {
            format!(
                "has seconds {seconds}; it must be an instant from 1970 to {}",
                Timestamp::MAX.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        })
}

/// [`instant`], on a whole second: what names one ONTAP sample.
pub fn whole_second(seconds: i64, nanos: i32) -> Result<Timestamp, String> {
    let at = instant(seconds, nanos)?;
    if nanos != 0 {
        return Err(format!(
            "falls between whole seconds (nanos {nanos}); ONTAP's samples are taken on whole \
             seconds: set nanos to 0"
        ));
    }
    Ok(at)
}

/// `at` as ONTAP takes it: RFC 3339 in UTC, whole seconds (a fraction
/// dropped, which callers make sure is none or changes nothing they ask).
pub fn format_timestamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
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
    fn a_protobuf_time_with_nanos_outside_its_second_is_no_instant() {
        for nanos in [-1, -999_999_999, 1_000_000_000, i32::MAX, i32::MIN] {
            let why = instant(1_767_225_600, nanos).unwrap_err();
            assert!(why.contains(&format!("nanos {nanos}")), "{why}");
        }
    }

    #[test]
    fn a_protobuf_time_from_1970_to_9999_is_an_instant() {
        assert_eq!(instant(0, 0), Ok(Timestamp::UNIX_EPOCH));
        assert_eq!(
            instant(1_767_225_600, 999_999_999),
            Ok(Timestamp::new(1_767_225_600, 999_999_999).unwrap())
        );
        let last = Timestamp::MAX.as_second();
        assert!(instant(last, 999_999_999).is_ok());
        for seconds in [-1, last + 1, 253_402_300_800, i64::MIN, i64::MAX] {
            let why = instant(seconds, 0).unwrap_err();
            assert!(why.contains("from 1970 to 9999-12-30T22:00:00Z"), "{why}");
        }
    }

    #[test]
    fn a_sample_instant_is_a_whole_second() {
        assert!(whole_second(1_767_225_600, 0).is_ok());
        for nanos in [1, 999_999_999] {
            let why = whole_second(1_767_225_600, nanos).unwrap_err();
            assert!(why.contains("whole seconds"), "{why}");
        }
        assert!(
            whole_second(1_767_225_600, -1)
                .unwrap_err()
                .contains("nanos -1")
        );
    }

    #[test]
    fn timestamps_are_sent_in_whole_seconds() {
        for (nanos, sent) in [
            (0, "2026-01-01T00:00:00Z"),
            (1, "2026-01-01T00:00:00Z"),
            (999_999_999, "2026-01-01T00:00:00Z"),
        ] {
            let at = Timestamp::new(1_767_225_600, nanos).unwrap();
            assert_eq!(format_timestamp(at), sent, "{nanos}");
        }
        assert_eq!(format_timestamp(Timestamp::MAX), "9999-12-30T22:00:00Z");
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
