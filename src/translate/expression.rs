//! Validation of ONTAP query expressions (`10.74.*`, `>1024`, `!vs0`,
//! `vs1|vs2`, `1..10`, `null`) before they go upstream. The value is sent
//! percent-encoded either way; validating here turns a typo into a clear
//! INVALID_ARGUMENT naming the field instead of an opaque ONTAP 400.

use std::borrow::Cow;

use super::schema::{EnumWords, ValueKind};
use crate::ontap::time::{parse_duration, parse_timestamp};

/// What ONTAP's query syntax reads as operators, beside the wildcard `*`
/// and the range `..`: a filter holding none of them names values
/// literally.
pub const QUERY_OPERATORS: &[char] = &['|', '!', '<', '>', '{', '}', ','];

/// The longest filter the gateway forwards.
const MAX_LEN: usize = 1024;

/// Checks one filter value against the kind of field it filters, and
/// returns it as ONTAP takes it: enum words are spelled ONTAP's way
/// (`METRIC_STATUS_OK` and `OK` become `ok`); anything else is unchanged.
pub fn normalize(kind: ValueKind, expression: &str) -> Result<Cow<'_, str>, String> {
    if expression.len() > MAX_LEN {
        return Err(format!("longer than {MAX_LEN} characters"));
    }
    if let Some(c) = expression.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    let mut rewritten = Vec::new();
    for alternative in expression.split('|') {
        rewritten.push(normalize_alternative(kind, alternative)?);
    }
    if rewritten.iter().all(|a| matches!(a, Cow::Borrowed(_))) {
        Ok(Cow::Borrowed(expression))
    } else {
        Ok(Cow::Owned(rewritten.join("|")))
    }
}

/// One `|`-separated alternative of a filter, split into its parts.
struct Alternative<'a> {
    /// The alternative as written, `!` and operator included.
    text: &'a str,
    negated: bool,
    /// Whether it compares (`<`, `<=`, `>`, `>=`) rather than matches.
    comparison: bool,
    /// What follows the `!` and the operator.
    operand: &'a str,
}

impl<'a> Alternative<'a> {
    fn parse(text: &'a str) -> Self {
        let positive = text.strip_prefix('!').unwrap_or(text);
        let (comparison, operand) = match ["<=", ">=", "<", ">"]
            .into_iter()
            .find_map(|op| positive.strip_prefix(op))
        {
            Some(rest) => (true, rest),
            None => (false, positive),
        };
        Self {
            text,
            negated: text.starts_with('!'),
            comparison,
            operand,
        }
    }

    /// Whether the operand is a `*` pattern rather than one value.
    fn is_pattern(&self) -> bool {
        self.operand.contains('*')
    }

    /// Whether every character of the operand, its `*`s aside, is `allowed`.
    fn only(&self, allowed: impl Fn(char) -> bool) -> bool {
        self.operand.chars().filter(|c| *c != '*').all(allowed)
    }
}

fn normalize_alternative(kind: ValueKind, text: &str) -> Result<Cow<'_, str>, String> {
    let alternative = Alternative::parse(text);
    if alternative.operand == "null" && !alternative.comparison {
        return Ok(Cow::Borrowed(text));
    }
    if alternative.operand.is_empty() {
        return Err(if text.is_empty() {
            "has an empty alternative (`||` or a leading or trailing `|`)".into()
        } else {
            format!("`{text}` has no value")
        });
    }
    if let Some(range) = range(kind, &alternative) {
        return range;
    }
    if let ValueKind::Enum(words) = kind {
        return enum_alternative(words, &alternative);
    }
    check(kind, &alternative).map(|()| Cow::Borrowed(text))
}

/// `low..high` on a field whose values compare (numbers, instants, lengths
/// of time, and enum words, alphabetically as ONTAP compares them), each
/// bound checked as one value and an enum's words spelled ONTAP's way;
/// `None` for any other alternative. (On text `..` may be part of a value,
/// so it is left alone.)
fn range<'a>(
    kind: ValueKind,
    alternative: &Alternative<'a>,
) -> Option<Result<Cow<'a, str>, String>> {
    let comparable = matches!(
        kind,
        ValueKind::Unsigned | ValueKind::Timestamp | ValueKind::Duration | ValueKind::Enum(_)
    );
    let (low, high) = alternative.operand.split_once("..")?;
    if !comparable {
        return None;
    }
    if alternative.comparison {
        return Some(Err(format!(
            "`{}`: a range cannot also be compared with < or >",
            alternative.text
        )));
    }
    let bound = |bound: &str| -> Result<String, String> {
        if bound.is_empty() || bound.contains('*') {
            return Err(format!(
                "`{}`: each end of a range is one value, like `1..10`",
                alternative.operand
            ));
        }
        if let ValueKind::Enum(words) = kind {
            return enum_word(words, bound);
        }
        let value = Alternative {
            text: bound,
            negated: false,
            comparison: true,
            operand: bound,
        };
        check(kind, &value).map(|()| bound.to_owned())
    };
    Some(bound(low).and_then(|low| {
        let high = bound(high)?;
        let bang = if alternative.negated { "!" } else { "" };
        let written = format!("{bang}{low}..{high}");
        Ok(if written == alternative.text {
            Cow::Borrowed(alternative.text)
        } else {
            Cow::Owned(written)
        })
    }))
}

/// Checks an alternative's operand against the kind of field it filters
/// (every kind but an enum, whose words are also rewritten).
fn check(kind: ValueKind, alternative: &Alternative<'_>) -> Result<(), String> {
    let operand = alternative.operand;
    match kind {
        ValueKind::Object => Err("is not a filterable field".into()),
        ValueKind::Text => Ok(()),
        ValueKind::BoundedText { max_chars } if operand.chars().count() > max_chars => {
            Err(format!("`{operand}` is longer than {max_chars} characters"))
        }
        ValueKind::BoundedText { .. } => Ok(()),
        ValueKind::Unsigned if !alternative.only(|c| c.is_ascii_digit()) => {
            Err(format!("`{operand}` is not an unsigned integer"))
        }
        ValueKind::Unsigned if !alternative.is_pattern() && operand.parse::<u64>().is_err() => {
            Err(format!("`{operand}` is out of range"))
        }
        ValueKind::Unsigned => Ok(()),
        ValueKind::Uuid if alternative.comparison => Err(format!(
            "`{}`: a UUID cannot be compared with < or >",
            alternative.text
        )),
        ValueKind::Uuid
            if !alternative.only(|c| c.is_ascii_hexdigit() || c == '-') || operand.len() > 36 =>
        {
            Err(format!("`{operand}` is not a UUID or UUID pattern"))
        }
        ValueKind::Uuid => Ok(()),
        ValueKind::IpAddress
            if alternative.only(|c| c.is_ascii_hexdigit() || c == '.' || c == ':') =>
        {
            Ok(())
        }
        ValueKind::IpAddress => Err(format!("`{operand}` is not an IP address or pattern")),
        ValueKind::Boolean => match operand {
            "true" | "false" if !alternative.comparison => Ok(()),
            _ => Err(format!("`{}` is not true or false", alternative.text)),
        },
        ValueKind::Timestamp => check_timestamp(alternative),
        ValueKind::Duration => check_duration(alternative),
        ValueKind::Enum(_) => unreachable!("enum alternatives are rewritten, not only checked"),
    }
}

fn check_timestamp(alternative: &Alternative<'_>) -> Result<(), String> {
    let operand = alternative.operand;
    // ONTAP's timestamps are whole seconds, and it answers a fraction with
    // 400: say so here, before anything goes upstream.
    if operand.contains('.') {
        return Err(format!(
            "`{operand}` has a fraction of a second; ONTAP's timestamps are whole seconds, like \
             `2017-01-25T11:20:13Z`"
        ));
    }
    let characters =
        alternative.only(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | ' ' | '+' | 'T' | 'Z'));
    if characters && (alternative.is_pattern() || parse_timestamp(operand).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "`{operand}` is not a timestamp like `2017-01-25T11:20:13Z`"
        ))
    }
}

fn check_duration(alternative: &Alternative<'_>) -> Result<(), String> {
    let operand = alternative.operand;
    let characters = alternative
        .only(|c| c.is_ascii_digit() || matches!(c, 'P' | 'T' | 'W' | 'D' | 'H' | 'M' | 'S'));
    if characters && (alternative.is_pattern() || parse_duration(operand).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "`{operand}` is not an ISO-8601 duration like `PT15S`"
        ))
    }
}

/// An enum alternative, with its word spelled ONTAP's way. ONTAP compares
/// enum words alphabetically, so `<` and `>` take a word too.
fn enum_alternative<'a>(
    words: &EnumWords,
    alternative: &Alternative<'a>,
) -> Result<Cow<'a, str>, String> {
    if alternative.comparison && alternative.is_pattern() {
        return Err(format!(
            "`{}`: a pattern cannot be compared with < or >",
            alternative.text
        ));
    }
    let word = enum_word(words, alternative.operand)?;
    if word == alternative.operand {
        Ok(Cow::Borrowed(alternative.text))
    } else {
        // The `!` and the operator, as written, before the word.
        let before = &alternative.text[..alternative.text.len() - alternative.operand.len()];
        Ok(Cow::Owned(format!("{before}{word}")))
    }
}

/// ONTAP's spelling of an enum filter operand: one of `words` or a `*`
/// pattern over them, in any case, optionally with the proto enum's prefix.
fn enum_word(words: &EnumWords, operand: &str) -> Result<String, String> {
    let lower = operand.to_ascii_lowercase();
    let prefix = words.proto_prefix.to_ascii_lowercase();
    let word = lower.strip_prefix(&prefix).unwrap_or(&lower);
    let is_pattern = word.contains('*')
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '*'));
    if words.words.contains(&word) || is_pattern {
        Ok(word.to_owned())
    } else {
        Err(format!(
            "`{operand}` is not one of {} (or their {}* names)",
            words.words.join(", "),
            words.proto_prefix
        ))
    }
}

/// Checks a literal value of a field, as a page token's continuation holds
/// one: no operators or patterns, and of the field's kind.
pub fn check_literal(kind: ValueKind, value: &str) -> Result<(), String> {
    if value.len() > MAX_LEN {
        return Err(format!("longer than {MAX_LEN} characters"));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    let fits = match kind {
        ValueKind::Object => false,
        ValueKind::Text => true,
        ValueKind::BoundedText { max_chars } => value.chars().count() <= max_chars,
        ValueKind::Uuid => is_uuid(value),
        ValueKind::IpAddress => value.parse::<std::net::IpAddr>().is_ok(),
        ValueKind::Unsigned => value.parse::<u64>().is_ok(),
        ValueKind::Boolean => matches!(value, "true" | "false"),
        ValueKind::Timestamp => parse_timestamp(value).is_ok(),
        ValueKind::Duration => parse_duration(value).is_ok(),
        ValueKind::Enum(words) => words.words.contains(&value),
    };
    if fits {
        Ok(())
    } else {
        Err(format!("`{value}` is not a value of this field"))
    }
}

/// Whether `value` is a UUID (`8-4-4-4-12` hex digits).
pub fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enum_pattern_may_hold_digits_as_the_words_do() {
        static WORDS: EnumWords = EnumWords {
            words: &["smb2_1", "smb3", "smb3_1"],
            numbers: &[3, 4, 5],
            proto_prefix: "SMB_PROTOCOL_",
        };
        let kind = ValueKind::Enum(&WORDS);
        assert_eq!(normalize(kind, "smb3*").as_deref(), Ok("smb3*"));
        assert_eq!(
            normalize(kind, "SMB_PROTOCOL_SMB2_*").as_deref(),
            Ok("smb2_*")
        );
        assert!(normalize(kind, "smb3.*").is_err());
    }

    #[test]
    fn a_range_of_numbers_is_kept() {
        assert_eq!(
            normalize(ValueKind::Unsigned, "1..10").as_deref(),
            Ok("1..10")
        );
        assert_eq!(
            normalize(ValueKind::Unsigned, "!1..10|20").as_deref(),
            Ok("!1..10|20")
        );
    }

    #[test]
    fn a_range_of_durations_or_instants_checks_each_end() {
        assert!(normalize(ValueKind::Duration, "PT1M..PT2H").is_ok());
        let instants = "2017-01-25T11:20:13Z..2017-01-26T11:20:13Z";
        assert!(normalize(ValueKind::Timestamp, instants).is_ok());
        let why = normalize(ValueKind::Duration, "PT1M..soon").unwrap_err();
        assert!(why.contains("`soon`"), "{why}");
    }

    #[test]
    fn a_range_needs_a_value_at_each_end() {
        for range in ["1..", "..9", "1*..9", "1..9*"] {
            let why = normalize(ValueKind::Unsigned, range).unwrap_err();
            assert!(why.contains("each end of a range"), "{range}: {why}");
        }
        assert!(normalize(ValueKind::Unsigned, "1..x").is_err());
    }

    #[test]
    fn a_range_cannot_also_compare() {
        let why = normalize(ValueKind::Unsigned, ">1..10").unwrap_err();
        assert!(why.contains("cannot also be compared"), "{why}");
    }

    #[test]
    fn dots_in_text_are_not_a_range() {
        assert_eq!(normalize(ValueKind::Text, "a..b").as_deref(), Ok("a..b"));
    }

    fn validate(kind: ValueKind, expression: &str) -> Result<(), String> {
        normalize(kind, expression).map(|_| ())
    }

    const STATUS: &EnumWords = &EnumWords {
        words: &["ok", "error", "partial_no_data"],
        numbers: &[1, 2, 3],
        proto_prefix: "METRIC_STATUS_",
    };

    #[test]
    fn documented_operators_are_accepted() {
        for (kind, expr) in [
            (ValueKind::IpAddress, "10.74.*"),
            (ValueKind::Unsigned, ">1024"),
            (ValueKind::Unsigned, "<=5"),
            (ValueKind::Text, "!vs0"),
            (ValueKind::Text, "vs1|vs2"),
            (ValueKind::Uuid, "null"),
            (ValueKind::Uuid, "!null"),
            (ValueKind::Uuid, "fc824aa8-4e60-11ea-afb1-0050568ec4e4"),
            (ValueKind::Unsigned, "18446744073709551615"),
            (ValueKind::IpAddress, "fd20:8b1e:b255:4071::*"),
        ] {
            assert_eq!(validate(kind, expr), Ok(()), "{expr}");
        }
    }

    #[test]
    fn integer_filter_rejects_letters() {
        assert!(validate(ValueKind::Unsigned, ">abc").is_err());
    }

    #[test]
    fn integer_filter_rejects_overflow() {
        assert!(validate(ValueKind::Unsigned, "18446744073709551616").is_err());
    }

    #[test]
    fn uuid_filter_takes_patterns_up_to_a_uuids_length() {
        assert_eq!(validate(ValueKind::Uuid, "fc824aa8-*"), Ok(()));
        let uuid = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
        assert_eq!(validate(ValueKind::Uuid, uuid), Ok(()));
        assert!(validate(ValueKind::Uuid, &format!("{uuid}0")).is_err());
    }

    #[test]
    fn uuid_filter_rejects_non_hex() {
        assert!(validate(ValueKind::Uuid, "not-a-uuid").is_err());
    }

    #[test]
    fn empty_alternative_is_rejected() {
        assert!(validate(ValueKind::Text, "vs1||vs2").is_err());
        assert!(validate(ValueKind::Text, "vs1|").is_err());
    }

    #[test]
    fn control_characters_are_rejected() {
        assert!(validate(ValueKind::Text, "vs1\nvs2").is_err());
    }

    #[test]
    fn boolean_filter_takes_true_or_false_only() {
        assert_eq!(validate(ValueKind::Boolean, "true"), Ok(()));
        assert_eq!(validate(ValueKind::Boolean, "!false"), Ok(()));
        assert!(validate(ValueKind::Boolean, "yes").is_err());
        assert!(validate(ValueKind::Boolean, ">true").is_err());
    }

    #[test]
    fn timestamp_and_duration_fragments_are_refused() {
        for bad in ["-", ":", "2017-13-45T00:00:00Z", ">-"] {
            assert!(validate(ValueKind::Timestamp, bad).is_err(), "{bad}");
        }
        for bad in ["P", "PT", "PTS", ">=P"] {
            assert!(validate(ValueKind::Duration, bad).is_err(), "{bad}");
        }
        assert_eq!(validate(ValueKind::Timestamp, "2017-01-*"), Ok(()));
        assert_eq!(validate(ValueKind::Duration, "PT*"), Ok(()));
    }

    #[test]
    fn a_timestamp_filter_with_a_fraction_of_a_second_is_refused_saying_so() {
        for fractional in ["2017-01-25T11:20:13.5Z", ">=2017-01-25T11:20:13.000Z"] {
            let why = validate(ValueKind::Timestamp, fractional).unwrap_err();
            assert!(why.contains("whole seconds"), "{fractional}: {why}");
        }
    }

    #[test]
    fn timestamp_and_duration_filters_accept_ontap_forms() {
        assert_eq!(
            validate(ValueKind::Timestamp, ">=2017-01-25 11:20:13 +0000"),
            Ok(())
        );
        assert_eq!(validate(ValueKind::Duration, "PT15S|P1D"), Ok(()));
        assert!(validate(ValueKind::Timestamp, "yesterday").is_err());
    }

    #[test]
    fn enum_filter_takes_listed_words_and_patterns() {
        assert_eq!(validate(ValueKind::Enum(STATUS), "ok|!error"), Ok(()));
        assert_eq!(validate(ValueKind::Enum(STATUS), "partial_*"), Ok(()));
        assert!(validate(ValueKind::Enum(STATUS), "fine").is_err());
    }

    #[test]
    fn enum_filter_in_ontap_spelling_is_sent_unchanged() {
        assert!(matches!(
            normalize(ValueKind::Enum(STATUS), "ok|!error"),
            Ok(Cow::Borrowed("ok|!error"))
        ));
    }

    #[test]
    fn enum_filter_accepts_any_case_and_the_proto_names() {
        assert_eq!(
            normalize(
                ValueKind::Enum(STATUS),
                "OK|!Error|metric_status_partial_no_data"
            )
            .unwrap(),
            "ok|!error|partial_no_data"
        );
        assert_eq!(
            normalize(ValueKind::Enum(STATUS), "!METRIC_STATUS_PARTIAL_*").unwrap(),
            "!partial_*"
        );
    }

    #[test]
    fn enum_words_compare_alphabetically_as_ontap_compares_them() {
        let kind = ValueKind::Enum(STATUS);
        assert_eq!(normalize(kind, ">ok").as_deref(), Ok(">ok"));
        assert_eq!(
            normalize(kind, "!<=METRIC_STATUS_ERROR").as_deref(),
            Ok("!<=error")
        );
        assert_eq!(normalize(kind, "Error..OK").as_deref(), Ok("error..ok"));
    }

    #[test]
    fn an_enum_comparison_takes_a_word_not_a_pattern() {
        assert!(validate(ValueKind::Enum(STATUS), ">o*").is_err());
        assert!(validate(ValueKind::Enum(STATUS), ">fine").is_err());
        assert!(validate(ValueKind::Enum(STATUS), "ok..p*").is_err());
    }

    #[test]
    fn bounded_text_filter_allows_its_limit_per_value() {
        let kind = ValueKind::BoundedText { max_chars: 128 };
        let at_limit = "é".repeat(128);
        assert_eq!(validate(kind, &at_limit), Ok(()));
        assert_eq!(validate(kind, &format!("{at_limit}|x")), Ok(()));
        assert!(validate(kind, &"x".repeat(129)).is_err());
        assert!(validate(kind, &format!("!{}", "x".repeat(129))).is_err());
    }

    #[test]
    fn other_kinds_are_sent_unchanged() {
        assert!(matches!(
            normalize(ValueKind::Text, "Vs1|!VS2"),
            Ok(Cow::Borrowed("Vs1|!VS2"))
        ));
    }

    #[test]
    fn uuid_shape_is_checked() {
        assert!(is_uuid("fc824aa8-4e60-11ea-afb1-0050568ec4e4"));
        assert!(!is_uuid("fc824aa8-4e60-11ea-afb1-0050568ec4e"));
        assert!(!is_uuid("../../etc"));
    }

    #[test]
    fn operator_without_value_is_rejected() {
        assert!(validate(ValueKind::Unsigned, ">=").is_err());
    }
}
