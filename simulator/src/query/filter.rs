//! ONTAP query expressions: the value of a `<field>=<expression>` filter.
//!
//! `a|b` alternatives, `!x` negation, `<`, `>`, `<=`, `>=` comparisons, `a..b` inclusive ranges,
//! `*` greedy wildcards, `null` / `!null`, otherwise equality. Integer fields compare as integers
//! (i128, so every u64 is exact), strings lexically and case-sensitively (enums too, so their
//! comparisons are alphabetical, as the pages say), booleans by equality only, timestamps as
//! instants (operands in ONTAP's form or RFC 3339), ISO 8601 durations as lengths of time.
//!
//! [`Filters`] holds a request's filters, each checked against its field's declared limits.

use std::cmp::Ordering;

use jiff::SignedDuration;
use serde_json::Value;

use crate::errors::ApiError;
use crate::query::schema::{FieldSpec, FieldType, Schema, values_at};
use crate::time;

/// A parsed filter: matches a record when any alternative matches any of the field's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    alternatives: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Test {
    Null,
    Compare(Op, Operand),
    /// Inclusive at both ends.
    Range(Operand, Operand),
    Wildcard(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Operand {
    Int(i128),
    Str(String),
    Bool(bool),
    /// Seconds since the epoch.
    Time(i64),
    /// A length of time.
    Duration(SignedDuration),
}

impl Filter {
    /// Parses `expression` for a field of type `ty`; the error says what is wrong.
    pub fn parse(expression: &str, ty: FieldType) -> Result<Filter, String> {
        let alternatives = expression
            .split('|')
            .map(|alternative| parse_term(alternative, ty))
            .collect::<Result<_, _>>()?;
        Ok(Filter { alternatives })
    }

    /// Whether a record whose field holds `values` matches; no values counts as one null.
    pub fn matches(&self, values: &[&Value]) -> bool {
        if values.is_empty() {
            return self.matches_value(&Value::Null);
        }
        values.iter().any(|v| self.matches_value(v))
    }

    fn matches_value(&self, value: &Value) -> bool {
        self.alternatives
            .iter()
            .any(|term| term.negated != term.test.holds(value))
    }
}

/// The operands of an expression: each alternative without its `!` and comparison operator,
/// both ends of a range, leaving out the `null` keyword, which names no value.
pub fn operands(expression: &str) -> impl Iterator<Item = &str> {
    expression.split('|').flat_map(|alternative| {
        let rest = alternative.strip_prefix('!').unwrap_or(alternative);
        let (op, operand) = split_operator(rest);
        let named = op != Op::Eq || operand != "null";
        let values = match range_ends(op, operand) {
            Some((low, high)) => vec![low, high],
            None => vec![operand],
        };
        values.into_iter().filter(move |_| named)
    })
}

/// The ends of `low..high`: only for a plain operand (no comparison operator, no wildcard) with
/// something on both sides, so a value that merely contains `..` elsewhere is not a range.
fn range_ends(op: Op, operand: &str) -> Option<(&str, &str)> {
    if op != Op::Eq || operand.contains('*') {
        return None;
    }
    operand
        .split_once("..")
        .filter(|(low, high)| !low.is_empty() && !high.is_empty())
}

fn parse_term(text: &str, ty: FieldType) -> Result<Term, String> {
    let (negated, rest) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (op, operand) = split_operator(rest);
    if op == Op::Eq && operand == "null" {
        return Ok(Term {
            negated,
            test: Test::Null,
        });
    }
    if op == Op::Eq && operand.contains('*') {
        let parts = operand.split('*').map(str::to_owned).collect();
        return Ok(Term {
            negated,
            test: Test::Wildcard(parts),
        });
    }
    if let Some((low, high)) = range_ends(op, operand) {
        if ty == FieldType::Boolean {
            return Err("a boolean field cannot be given a range".to_owned());
        }
        return Ok(Term {
            negated,
            test: Test::Range(parse_operand(low, ty)?, parse_operand(high, ty)?),
        });
    }
    if ty == FieldType::Boolean && op != Op::Eq {
        return Err("a boolean field cannot be compared with <, >, <= or >=".to_owned());
    }
    Ok(Term {
        negated,
        test: Test::Compare(op, parse_operand(operand, ty)?),
    })
}

fn parse_operand(operand: &str, ty: FieldType) -> Result<Operand, String> {
    Ok(match ty {
        FieldType::Integer => operand
            .parse::<i128>()
            .map(Operand::Int)
            .map_err(|_| format!("\"{operand}\" is not an integer"))?,
        FieldType::String => Operand::Str(operand.to_owned()),
        FieldType::Boolean => match operand {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            _ => return Err(format!("\"{operand}\" is not true or false")),
        },
        FieldType::DateTime => time::parse_timestamp(operand)
            .map(Operand::Time)
            .ok_or_else(|| format!("\"{operand}\" is not a timestamp"))?,
        FieldType::Duration => time::parse_duration(operand)
            .map(Operand::Duration)
            .ok_or_else(|| format!("\"{operand}\" is not an ISO 8601 duration"))?,
    })
}

fn split_operator(text: &str) -> (Op, &str) {
    for (prefix, op) in [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (op, rest);
        }
    }
    (Op::Eq, text)
}

impl Test {
    fn holds(&self, value: &Value) -> bool {
        match self {
            Test::Null => value.is_null(),
            Test::Wildcard(parts) => {
                text_of(value).is_some_and(|text| wildcard_match(parts, &text))
            }
            Test::Compare(op, operand) => {
                compare(value, operand).is_some_and(|ordering| op.accepts(ordering))
            }
            Test::Range(low, high) => {
                compare(value, low).is_some_and(Ordering::is_ge)
                    && compare(value, high).is_some_and(Ordering::is_le)
            }
        }
    }
}

impl Op {
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Gt => ordering == Ordering::Greater,
            Op::Le => ordering != Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }
}

/// How the record's value orders against the operand; `None` when they cannot be compared.
fn compare(value: &Value, operand: &Operand) -> Option<Ordering> {
    match operand {
        Operand::Int(wanted) => integer_of(value).map(|have| have.cmp(wanted)),
        Operand::Str(wanted) => text_of(value).map(|have| have.as_str().cmp(wanted.as_str())),
        Operand::Bool(wanted) => value.as_bool().map(|have| have.cmp(wanted)),
        Operand::Time(wanted) => value
            .as_str()
            .and_then(time::parse_timestamp)
            .map(|have| have.cmp(wanted)),
        Operand::Duration(wanted) => value
            .as_str()
            .and_then(time::parse_duration)
            .map(|have| have.cmp(wanted)),
    }
}

fn integer_of(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Greedy `*` matching: `parts` is the pattern split on `*`. Hand-written because ONTAP's only
/// wildcard is `*` (a `?` is literal), which glob crates read differently.
fn wildcard_match(parts: &[String], text: &str) -> bool {
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return text.is_empty();
    };
    if parts.len() == 1 {
        return text == first;
    }
    if text.len() < first.len() + last.len()
        || !text.starts_with(first.as_str())
        || !text.ends_with(last.as_str())
    {
        return false;
    }
    let mut middle = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match middle.find(part.as_str()) {
            Some(at) => middle = &middle[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// A request's filters, each on a field of the collection; a record matches when it matches
/// every one (several on the same field all apply).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    filters: Vec<(&'static FieldSpec, Filter)>,
}

impl Filters {
    /// Adds `name=expression` when `name` is one of `schema`'s fields: `Ok(false)` when it is
    /// not (the caller knows what else the name may be), an invalid value of the field (400)
    /// when the expression does not parse for the field's type or an operand is outside the
    /// field's declared length, bounds or enum values.
    pub fn add(&mut self, schema: &Schema, name: &str, expression: &str) -> Result<bool, ApiError> {
        let Some(field) = schema.field(name) else {
            return Ok(false);
        };
        let filter = Filter::parse(expression, field.ty)
            .and_then(|filter| within_limits(field, expression).map(|()| filter))
            .map_err(|why| ApiError::invalid_value(name, expression, &why))?;
        self.filters.push((field, filter));
        Ok(true)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether `record` (rendered with every field) matches every filter.
    pub fn matches(&self, record: &Value) -> bool {
        self.filters
            .iter()
            .all(|(field, filter)| filter.matches(&values_at(record, field.path)))
    }
}

/// Every operand of a filter on the field keeps within the field's declared limits; wildcard
/// patterns are not values, so only their length is checked.
fn within_limits(field: &FieldSpec, expression: &str) -> Result<(), String> {
    for operand in operands(expression) {
        if let Some((min, max)) = field.length
            && !(min..=max).contains(&operand.chars().count())
        {
            return Err(format!(
                "a value of {} has {min} to {max} characters",
                field.path
            ));
        }
        if operand.contains('*') {
            continue;
        }
        if let (Some((min, max)), Ok(number)) = (field.bounds, operand.parse::<i128>())
            && !(min..=max).contains(&number)
        {
            return Err(format!("a value of {} is from {min} to {max}", field.path));
        }
        if let Some(values) = field.values
            && !values.contains(&operand)
        {
            return Err(format!(
                "a value of {} is one of {}",
                field.path,
                values.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(expression: &str, ty: FieldType, value: Value) -> bool {
        Filter::parse(expression, ty)
            .expect("valid expression")
            .matches(&[&value])
    }

    #[test]
    fn plain_value_is_equality() {
        assert!(matches("vs1", FieldType::String, json!("vs1")));
        assert!(!matches("vs1", FieldType::String, json!("vs10")));
    }

    #[test]
    fn pipe_separates_alternatives() {
        assert!(matches("vs1|vs2", FieldType::String, json!("vs2")));
        assert!(!matches("vs1|vs2", FieldType::String, json!("vs3")));
    }

    #[test]
    fn bang_negates() {
        assert!(matches("!vs0", FieldType::String, json!("vs1")));
        assert!(!matches("!vs0", FieldType::String, json!("vs0")));
    }

    #[test]
    fn integer_comparisons_are_numeric() {
        assert!(matches(">9", FieldType::Integer, json!(10)));
        assert!(matches("<=10", FieldType::Integer, json!(10)));
        assert!(!matches("<10", FieldType::Integer, json!(10)));
        assert!(matches(">=10", FieldType::Integer, json!(11)));
    }

    #[test]
    fn string_comparisons_are_lexical() {
        assert!(!matches(">10.2", FieldType::String, json!("10.10")));
        assert!(matches("<b", FieldType::String, json!("a")));
    }

    #[test]
    fn u64_identifiers_compare_exactly() {
        let id = json!(625_718_873_227_788_313_u64);
        assert!(matches(
            "625718873227788313",
            FieldType::Integer,
            id.clone()
        ));
        assert!(!matches(
            "625718873227788312",
            FieldType::Integer,
            id.clone()
        ));
        assert!(matches(">625718873227788312", FieldType::Integer, id));
    }

    #[test]
    fn star_is_a_wildcard_anywhere() {
        assert!(matches("10.74.*", FieldType::String, json!("10.74.7.182")));
        assert!(matches("*.182", FieldType::String, json!("10.74.7.182")));
        assert!(matches("10.*.7.*", FieldType::String, json!("10.74.7.182")));
        assert!(!matches(
            "10.140.*",
            FieldType::String,
            json!("10.74.7.182")
        ));
    }

    #[test]
    fn wildcard_prefix_and_suffix_may_not_overlap() {
        assert!(!matches("ab*ba", FieldType::String, json!("aba")));
    }

    #[test]
    fn wildcard_applies_to_integer_digits() {
        assert!(matches("918*", FieldType::Integer, json!(91842)));
    }

    #[test]
    fn null_matches_missing_and_not_null_matches_present() {
        let filter = Filter::parse("null", FieldType::String).expect("valid");
        assert!(filter.matches(&[]));
        assert!(!filter.matches(&[&json!("x")]));
        let filter = Filter::parse("!null", FieldType::String).expect("valid");
        assert!(filter.matches(&[&json!("x")]));
        assert!(!filter.matches(&[]));
    }

    #[test]
    fn array_field_matches_when_any_element_matches() {
        let filter = Filter::parse("2", FieldType::Integer).expect("valid");
        assert!(filter.matches(&[&json!(1), &json!(2)]));
        assert!(!filter.matches(&[&json!(1), &json!(3)]));
    }

    #[test]
    fn non_integer_operand_on_integer_field_is_rejected() {
        assert!(Filter::parse("abc", FieldType::Integer).is_err());
        assert!(Filter::parse(">1.5", FieldType::Integer).is_err());
    }

    #[test]
    fn boolean_fields_take_true_or_false_only() {
        assert!(matches("true", FieldType::Boolean, json!(true)));
        assert!(Filter::parse("yes", FieldType::Boolean).is_err());
        assert!(Filter::parse("<true", FieldType::Boolean).is_err());
    }

    #[test]
    fn timestamps_compare_as_instants_whatever_the_operand_form() {
        let value = json!("2026-01-01T00:15:00Z");
        assert!(matches(
            "2026-01-01 00:15:00 +0000",
            FieldType::DateTime,
            value.clone()
        ));
        assert!(matches(
            ">2026-01-01T01:14:00+01:00",
            FieldType::DateTime,
            value.clone()
        ));
        assert!(!matches(
            "<2026-01-01 00:15:00 +0000",
            FieldType::DateTime,
            value.clone()
        ));
        assert!(!matches(
            "<2026-01-01T00:16:00+01:00",
            FieldType::DateTime,
            value.clone()
        ));
        assert!(matches("2026-01-01*", FieldType::DateTime, value));
    }

    #[test]
    fn durations_compare_as_lengths_of_time_not_text() {
        let two_hours = json!("PT2H");
        assert!(matches(">PT30M", FieldType::Duration, two_hours.clone()));
        assert!(matches("PT120M", FieldType::Duration, two_hours.clone()));
        assert!(matches(
            "<P1D|PT15S",
            FieldType::Duration,
            two_hours.clone()
        ));
        assert!(!matches("<PT30M", FieldType::Duration, two_hours.clone()));
        assert!(!matches("!PT7200S", FieldType::Duration, two_hours.clone()));
        assert!(matches("PT*", FieldType::Duration, two_hours));
        assert!(Filter::parse(">soon", FieldType::Duration).is_err());
        assert!(Filter::parse("P1M", FieldType::Duration).is_err());
    }

    #[test]
    fn malformed_timestamp_operand_is_rejected() {
        assert!(Filter::parse(">yesterday", FieldType::DateTime).is_err());
    }

    #[test]
    fn operands_are_the_alternatives_without_operators_or_null() {
        let found: Vec<&str> = operands("a|!b|<=c|>d*|null|!null|").collect();
        assert_eq!(found, ["a", "b", "c", "d*", ""]);
    }

    #[test]
    fn a_range_includes_both_ends() {
        assert!(matches("10..20", FieldType::Integer, json!(10)));
        assert!(matches("10..20", FieldType::Integer, json!(20)));
        assert!(!matches("10..20", FieldType::Integer, json!(21)));
        assert!(matches("!10..20", FieldType::Integer, json!(9)));
        assert!(matches("b..d", FieldType::String, json!("c")));
        assert!(matches("PT1M..PT1H", FieldType::Duration, json!("PT30M")));
        assert!(Filter::parse("true..false", FieldType::Boolean).is_err());
        assert!(Filter::parse("1..x", FieldType::Integer).is_err());
    }

    #[test]
    fn a_range_of_u64_identifiers_is_exact() {
        let id = json!(9_876_543_210_987_654_321_u64);
        assert!(matches(
            "9876543210987654321..9876543210987654322",
            FieldType::Integer,
            id.clone()
        ));
        assert!(!matches(
            "9876543210987654322..18446744073709551615",
            FieldType::Integer,
            id
        ));
    }

    #[test]
    fn a_comparison_or_a_wildcard_with_dots_is_no_range() {
        // "<" compares with the whole operand; a range b..d would leave "a" out.
        assert!(matches("<b..d", FieldType::String, json!("a")));
        // A wildcard pattern; a range from "b*" to "a" would hold nothing.
        assert!(matches("b*..a", FieldType::String, json!("bz..a")));
    }

    #[test]
    fn dots_without_two_ends_are_no_range() {
        assert!(matches("a..", FieldType::String, json!("a..")));
        assert!(matches("10.*", FieldType::String, json!("10..1")));
        let found: Vec<&str> = operands("1..5|!7..9|x..").collect();
        assert_eq!(found, ["1", "5", "7", "9", "x.."]);
    }

    #[test]
    fn operands_outside_declared_values_or_bounds_are_refused() {
        const SCHEMA: Schema = Schema {
            path: "/x",
            fields: &[
                FieldSpec::new("kind", FieldType::String).one_of(&["chap", "none"]),
                FieldSpec::new("port", FieldType::Integer).bounds(1, 65536),
            ],
            key_fields: &[],
            default_fields: &[],
            identity: &[],
            default_order: &[],
            parameters: &[],
            links: &[],
            path_keys: &[],
        };
        let mut filters = Filters::default();
        for accepted in [("kind", "chap|!none"), ("kind", "c*"), ("port", "1..65536")] {
            assert!(filters.add(&SCHEMA, accepted.0, accepted.1).expect("valid"));
        }
        for refused in [
            ("kind", "CHAP"),
            ("kind", "chap|deny"),
            ("port", "0"),
            ("port", "<65537"),
        ] {
            let error = filters
                .add(&SCHEMA, refused.0, refused.1)
                .expect_err("refused");
            assert_eq!(error.code.as_deref(), Some("262197"), "{refused:?}");
            assert_eq!(error.target.as_deref(), Some(refused.0), "{refused:?}");
        }
        assert!(!filters.add(&SCHEMA, "colour", "red").expect("not a field"));
    }

    #[test]
    fn comparisons_with_a_missing_value_do_not_match() {
        let filter = Filter::parse(">1", FieldType::Integer).expect("valid");
        assert!(!filter.matches(&[]));
    }
}
