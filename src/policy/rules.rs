//! Who may call what, from the policy file (`serve --policy FILE`, TOML):
//! `[[rule]]` tables that only add up, so that a missing line shuts a
//! caller out rather than letting it in. The file is checked whole at
//! start, against the configured clusters and the API's methods, and each
//! mistake is reported with its file and line: a typo must stop the
//! gateway, not silently deny (or widen) access. [`Policy::decide`] runs on
//! every call, so patterns are compiled here: callers are found by hash or
//! by prefix, and SVM patterns match without allocating.
//!
//! ```toml
//! [[rule]]
//! callers  = ["token:billing", "spiffe://cluster.local/ns/billing/*"]
//! clusters = ["east"]            # every cluster when absent
//! svms     = ["vs1", "tenant-a-*"]
//! access   = "read"              # or "write", which includes read
//! methods  = ["DeleteCifsSession"]
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::translate::QUERY_OPERATORS;
use serde::Deserialize;
use toml::Spanned;

/// What a method does, read from its name as the API's naming convention
/// fixes it, so that `access = "read"` covers methods added later too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    /// Granting it grants [`Access::Read`] too.
    Write,
}

impl Access {
    /// `None` for a name of neither shape, which only a rule naming the
    /// method can grant. A capital must follow the prefix, so that a
    /// `Listen` or a `Getaway` is not taken for a reader.
    pub fn of_method(method: &str) -> Option<Access> {
        const SHAPES: [(&str, Access); 7] = [
            ("List", Access::Read),
            ("Get", Access::Read),
            ("Stream", Access::Read),
            ("Watch", Access::Read),
            ("Create", Access::Write),
            ("Update", Access::Write),
            ("Delete", Access::Write),
        ];
        SHAPES.iter().find_map(|&(prefix, access)| {
            let rest = method.strip_prefix(prefix)?;
            rest.starts_with(|c: char| c.is_ascii_uppercase())
                .then_some(access)
        })
    }
}

/// The checked policy; clones share it.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    path: Box<str>,
    rules: Box<[Rule]>,
    /// By caller, the rules naming it exactly, ascending.
    exact: HashMap<Box<str>, Box<[u32]>>,
    /// Caller prefixes (their `*` dropped) with their rules. Tried one by
    /// one: most fail on length alone, and a sorted search measured slower
    /// for a hundred of them.
    prefixes: Box<[(Box<str>, u32)]>,
}

struct Rule {
    line: usize,
    /// `None` for every cluster.
    clusters: Option<Box<[Box<str>]>>,
    svms: Box<[SvmPattern]>,
    access: Option<Access>,
    methods: Box<[Box<str>]>,
}

impl Rule {
    fn reaches(&self, cluster: &str, method: &str, needed: Option<Access>) -> bool {
        let in_cluster =
            (self.clusters.as_deref()).is_none_or(|c| c.iter().any(|c| **c == *cluster));
        in_cluster
            && (matches!(
                (self.access, needed),
                (Some(Access::Write), Some(_)) | (Some(Access::Read), Some(Access::Read))
            ) || self.methods.iter().any(|m| **m == *method))
    }
}

/// An SVM pattern as written, which [`Scope`] hands on to ONTAP, and cut
/// at its `*`s, which [`Policy::decide`] matches with.
struct SvmPattern {
    source: Box<str>,
    pieces: Box<[Box<str>]>,
}

impl SvmPattern {
    /// Empty pieces between two `*`s are dropped: they match anywhere.
    fn new(source: &str) -> SvmPattern {
        let count = source.split('*').count();
        let pieces = source.split('*').enumerate();
        let kept = pieces.filter(|&(i, p)| !p.is_empty() || i == 0 || i + 1 == count);
        let pieces = kept.map(|(_, p)| Box::from(p)).collect();
        let source = source.into();
        SvmPattern { source, pieces }
    }

    fn is_every(&self) -> bool {
        self.pieces.len() > 1 && self.pieces.iter().all(|p| p.is_empty())
    }

    /// Anchored at both ends, the middle pieces found leftmost first,
    /// which is all `*` needs. On bytes, since `str`'s searches set up a
    /// two-way searcher each time, which costs more than these short
    /// names' whole match.
    fn matches(&self, svm: &str) -> bool {
        let [first, middle @ .., last] = &*self.pieces else {
            return *self.source == *svm;
        };
        let (first, last) = (first.as_bytes(), last.as_bytes());
        let rest = svm.as_bytes().strip_prefix(first);
        let Some(mut rest) = rest.and_then(|s| s.strip_suffix(last)) else {
            return false;
        };
        middle.iter().all(|piece| {
            let piece = piece.as_bytes();
            match rest.windows(piece.len()).position(|w| w == piece) {
                Some(at) => {
                    rest = rest.get(at + piece.len()..).unwrap_or_default();
                    true
                }
                None => false,
            }
        })
    }
}

/// Whether `name` matches `pattern` as a rule's SVM pattern does (`*` any
/// run of characters, everything else itself).
pub fn svm_matches(pattern: &str, name: &str) -> bool {
    SvmPattern::new(pattern).matches(name)
}

/// The SVMs a caller may call a method on in one cluster, for the filter
/// the gateway adds to a List, so that it never shows what it would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No filter.
    Every,
    /// The SVMs these patterns match (deduplicated, in file order).
    Some(Vec<String>),
    /// Refuse the call.
    None,
}

/// The rule that granted a call, for the access log: an index into the
/// shared policy, so that granting costs no allocation.
#[derive(Clone)]
pub struct RuleRef {
    policy: Arc<Inner>,
    index: u32,
}

impl fmt::Display for RuleRef {
    /// The line is that of the rule's `[[rule]]` header, the number its
    /// 1-based place in the file, as an operator counts rules.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self
            .policy
            .rules
            .get(self.index as usize)
            .map_or(0, |r| r.line);
        let (path, number) = (&self.policy.path, self.index + 1);
        write!(f, "{path}:{line} (rule {number})")
    }
}

impl fmt::Debug for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuleRef({self})")
    }
}

/// Why a call was refused, in words the caller can take to whoever writes
/// the policy, rather than guessing which rule is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// In no rule at all: most likely a new or misnamed identity.
    #[error("no rule names caller `{caller}`")]
    UnknownCaller { caller: String },
    /// Rules name the caller, but none reaches this call.
    #[error(
        "no rule lets `{caller}` {} on SVM `{svm}` of cluster `{cluster}`",
        verb(method)
    )]
    NotPermitted {
        caller: String,
        cluster: String,
        svm: String,
        method: String,
    },
}

impl Denial {
    /// A fixed tag, for a metric label that must not carry identities.
    pub fn reason(&self) -> &'static str {
        match self {
            Denial::UnknownCaller { .. } => "unknown_caller",
            Denial::NotPermitted { .. } => "not_permitted",
        }
    }
}

/// A refused method as a denial names it: by its kind when it has one,
/// since that is what an `access` grant would have to say.
fn verb(method: &str) -> String {
    match Access::of_method(method) {
        Some(Access::Read) => "read".into(),
        Some(Access::Write) => "write".into(),
        None => format!("call {method}"),
    }
}

/// A policy file the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot be read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    /// `line` is 1-based: the offending value's, else its rule's header's.
    #[error("{path}:{line}: {problem}")]
    Invalid {
        path: String,
        line: usize,
        problem: Problem,
    },
}

/// What is wrong in a policy file, one kind per mistake, so that callers
/// and tests can tell them apart without reading messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not TOML, or not a policy's shape (an unknown key, a string where
    /// a list goes): the parser's own words.
    #[error("{0}")]
    Syntax(String),
    /// A file that refuses everyone is more likely a mistake.
    #[error("no [[rule]] table: give at least one (callers, svms, and access or methods)")]
    NoRules,
    #[error("this rule has no `{0}`; every rule names callers and svms (\"*\" for every SVM)")]
    Missing(&'static str),
    #[error("`{0}` is empty: name at least one, or leave the rule out")]
    Empty(&'static str),
    #[error("this rule grants nothing: give access = \"read\" or \"write\", or methods = [..]")]
    NoGrant,
    #[error("access `{0}` is neither \"read\" nor \"write\"")]
    BadAccess(String),
    /// The second field lists the configured clusters.
    #[error("unknown cluster `{0}`; the configured clusters are {1}")]
    UnknownCluster(String, String),
    #[error("unknown method `{0}`: not one the gateway serves (e.g. `ListCifsSessions`)")]
    UnknownMethod(String),
    #[error("caller pattern `{0}` {1}")]
    BadCaller(String, &'static str),
    /// A pattern the List filter could not carry as it is.
    #[error("SVM pattern `{0}` {1}")]
    BadSvm(String, String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<Spanned<Table>>,
}

type List = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    callers: Option<List>,
    clusters: Option<List>,
    svms: Option<List>,
    access: Option<Spanned<String>>,
    methods: Option<List>,
}

/// What checking one file needs: where each offset's line is, and what
/// its rules may name.
struct Checker<'a> {
    path: &'a str,
    newlines: Vec<usize>,
    clusters: &'a [&'a str],
    methods: &'a [&'a str],
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }

    fn at(&self, span: Option<Range<usize>>, problem: Problem) -> PolicyError {
        let (path, line) = (self.path.to_owned(), span.map_or(1, |s| self.line(s.start)));
        PolicyError::Invalid {
            path,
            line,
            problem,
        }
    }

    /// An optional list, not empty when given, each element checked by
    /// `check` and a mistake in one reported on its own line.
    fn list<T>(
        &self,
        list: Option<List>,
        key: &'static str,
        check: impl Fn(&str) -> Result<T, Problem>,
    ) -> Result<Option<Vec<T>>, PolicyError> {
        let Some(list) = list else { return Ok(None) };
        if list.get_ref().is_empty() {
            return Err(self.at(Some(list.span()), Problem::Empty(key)));
        }
        let check = |item: Spanned<String>| {
            check(item.get_ref()).map_err(|p| self.at(Some(item.span()), p))
        };
        let items = list.into_inner().into_iter().map(check);
        items.collect::<Result<_, _>>().map(Some)
    }

    fn rule(&self, table: Spanned<Table>) -> Result<(Rule, Vec<Caller>), PolicyError> {
        let header = table.span();
        let table = table.into_inner();
        let missing = |key| self.at(Some(header.clone()), Problem::Missing(key));
        let callers = self.list(table.callers, "callers", caller_pattern)?;
        let callers = callers.ok_or_else(|| missing("callers"))?;
        let svms = self.list(table.svms, "svms", svm_pattern)?;
        let svms = svms.ok_or_else(|| missing("svms"))?;
        let clusters = self.list(table.clusters, "clusters", |name| {
            if !self.clusters.contains(&name) {
                let known: Vec<String> = self.clusters.iter().map(|c| format!("`{c}`")).collect();
                return Err(Problem::UnknownCluster(name.into(), known.join(", ")));
            }
            Ok(Box::from(name))
        })?;
        let methods = self.list(table.methods, "methods", |name| {
            match self.methods.contains(&name) {
                true => Ok(Box::from(name)),
                false => Err(Problem::UnknownMethod(name.into())),
            }
        })?;
        let access = table.access.map(|a| match a.get_ref().as_str() {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            other => Err(self.at(Some(a.span()), Problem::BadAccess(other.into()))),
        });
        let access = access.transpose()?;
        if access.is_none() && methods.is_none() {
            return Err(self.at(Some(header), Problem::NoGrant));
        }
        let rule = Rule {
            line: self.line(header.start),
            clusters: clusters.map(Vec::into_boxed_slice),
            svms: svms.into(),
            access,
            methods: methods.unwrap_or_default().into(),
        };
        Ok((rule, callers))
    }
}

enum Caller {
    Exact(Box<str>),
    Prefix(Box<str>),
}

fn caller_pattern(pattern: &str) -> Result<Caller, Problem> {
    match pattern.find('*') {
        _ if pattern.is_empty() => Err(Problem::BadCaller(pattern.into(), "is empty")),
        None => Ok(Caller::Exact(pattern.into())),
        Some(at) if at + 1 == pattern.len() => Ok(Caller::Prefix(pattern[..at].into())),
        Some(_) => Err(Problem::BadCaller(
            pattern.into(),
            "has a `*` before its end: only a final `*` is special (it matches any rest)",
        )),
    }
}

/// Refuses what ONTAP's query syntax would read as an operator once the
/// pattern is in a List's SVM filter, where it would widen or break the
/// filter instead of matching literally.
fn svm_pattern(pattern: &str) -> Result<SvmPattern, Problem> {
    let bad = |why: String| Err(Problem::BadSvm(pattern.into(), why));
    if pattern.is_empty() {
        return bad("is empty: \"*\" is every SVM".into());
    }
    let operator = (pattern.chars())
        .find(|&c| QUERY_OPERATORS.contains(&c) || c.is_whitespace() || c.is_control())
        .map(|c| c.escape_debug().to_string())
        .or_else(|| pattern.contains("..").then(|| "..".into()));
    match operator {
        Some(op) => bad(format!(
            "contains `{op}`, which ONTAP's query syntax reads as an operator (only `*` is special here)"
        )),
        None => Ok(SvmPattern::new(pattern)),
    }
}

impl Policy {
    /// `clusters` and `methods` are what its rules may name, so that a
    /// typo in either stops the start instead of denying in silence.
    pub fn parse(
        text: &str,
        path: &str,
        clusters: &[&str],
        methods: &[&str],
    ) -> Result<Policy, PolicyError> {
        let newlines = text.match_indices('\n').map(|(at, _)| at).collect();
        let checker = Checker {
            path,
            newlines,
            clusters,
            methods,
        };
        let file: File = toml::from_str(text)
            .map_err(|e| checker.at(e.span(), Problem::Syntax(e.message().into())))?;
        if file.rule.is_empty() {
            return Err(checker.at(None, Problem::NoRules));
        }
        let mut rules = Vec::with_capacity(file.rule.len());
        let mut exact: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut prefixes = Vec::new();
        for (index, table) in (0u32..).zip(file.rule) {
            let (rule, callers) = checker.rule(table)?;
            rules.push(rule);
            for caller in callers {
                match caller {
                    Caller::Exact(name) => exact.entry(name).or_default().push(index),
                    Caller::Prefix(prefix) => prefixes.push((prefix, index)),
                }
            }
        }
        let exact = exact.into_iter().map(|(caller, mut indexes)| {
            indexes.dedup();
            (caller, indexes.into())
        });
        let (path, rules, prefixes) = (path.into(), rules.into(), prefixes.into());
        let inner = Inner {
            path,
            rules,
            exact: exact.collect(),
            prefixes,
        };
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// Reads and checks the file at `path`.
    pub fn from_file(
        path: &Path,
        clusters: &[&str],
        methods: &[&str],
    ) -> Result<Policy, PolicyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path);
        let text = text.map_err(|source| PolicyError::Unreadable {
            path: shown.clone(),
            source,
        })?;
        Policy::parse(&text, &shown, clusters, methods)
    }

    /// `Ok` names the first rule in file order that grants the call, so
    /// that the access log is stable; `Err` says why none does.
    pub fn decide(
        &self,
        caller: &str,
        cluster: &str,
        svm: &str,
        method: &str,
    ) -> Result<RuleRef, Denial> {
        let needed = Access::of_method(method);
        let mut named = false;
        let granting = self.rules_naming(caller).filter(|(_, rule)| {
            named = true;
            rule.reaches(cluster, method, needed) && rule.svms.iter().any(|p| p.matches(svm))
        });
        if let Some(index) = granting.map(|(index, _)| index).min() {
            let policy = Arc::clone(&self.inner);
            return Ok(RuleRef { policy, index });
        }
        let caller = caller.to_owned();
        Err(match named {
            false => Denial::UnknownCaller { caller },
            true => Denial::NotPermitted {
                caller,
                cluster: cluster.into(),
                svm: svm.into(),
                method: method.into(),
            },
        })
    }

    /// What `caller` may call `method` on in `cluster`, for the filter of
    /// a List.
    pub fn scope(&self, caller: &str, cluster: &str, method: &str) -> Scope {
        let needed = Access::of_method(method);
        let granting = self
            .rules_naming(caller)
            .filter(|(_, r)| r.reaches(cluster, method, needed));
        let mut granting: Vec<(u32, &Rule)> = granting.collect();
        granting.sort_unstable_by_key(|&(index, _)| index);
        granting.dedup_by_key(|&mut (index, _)| index);
        let mut patterns: Vec<String> = Vec::new();
        for pattern in granting.iter().flat_map(|(_, rule)| &rule.svms) {
            if pattern.is_every() {
                return Scope::Every;
            }
            if !patterns.iter().any(|p| **p == *pattern.source) {
                patterns.push(pattern.source.to_string());
            }
        }
        if patterns.is_empty() {
            Scope::None
        } else {
            Scope::Some(patterns)
        }
    }

    /// How many rules the file holds.
    pub fn len(&self) -> usize {
        self.inner.rules.len()
    }

    /// Always false, since a file without rules does not parse; here for
    /// the convention that goes with `len`.
    pub fn is_empty(&self) -> bool {
        self.inner.rules.is_empty()
    }

    /// The rules naming `caller`, exactly then by prefix: a rule may come
    /// twice, and out of file order.
    fn rules_naming<'a>(&'a self, caller: &'a str) -> impl Iterator<Item = (u32, &'a Rule)> {
        let exact = self.inner.exact.get(caller).map_or(&[][..], |r| &r[..]);
        let prefixes = self.inner.prefixes.iter();
        let prefixed = prefixes.filter(move |(p, _)| caller.starts_with(&**p));
        let indexes = exact.iter().chain(prefixed.map(|(_, index)| index));
        indexes.filter_map(|&index| Some((index, self.inner.rules.get(index as usize)?)))
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, rules) = (&self.inner.path, self.inner.rules.len());
        write!(f, "Policy({path}, {rules} rules)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTERS: &[&str] = &["east", "west"];
    const METHODS: &[&str] = &[
        "ListCifsSessions",
        "GetCifsSession",
        "DeleteCifsSession",
        "StreamCifsSessions",
        "WatchCifsSessions",
        "CreateIscsiService",
        "UpdateIscsiService",
        "DeleteIscsiService",
        "Frobnicate",
    ];

    fn policy(text: &str) -> Policy {
        Policy::parse(text, "policy.toml", CLUSTERS, METHODS).unwrap()
    }

    /// The line and problem of a refused file, after checking that its
    /// message starts with `path:line:`.
    fn error(text: &str) -> (usize, Problem) {
        let err = Policy::parse(text, "policy.toml", CLUSTERS, METHODS).unwrap_err();
        let shown = err.to_string();
        match err {
            PolicyError::Invalid { line, problem, .. } => {
                assert!(
                    shown.starts_with(&format!("policy.toml:{line}: ")),
                    "{shown}"
                );
                (line, problem)
            }
            other => panic!("{other}"),
        }
    }

    fn allowed(p: &Policy, caller: &str, cluster: &str, svm: &str, method: &str) -> bool {
        p.decide(caller, cluster, svm, method).is_ok()
    }

    const READER: &str =
        "[[rule]]\ncallers = [\"token:billing\"]\nsvms = [\"vs1\"]\naccess = \"read\"\n";

    #[test]
    fn of_method_reads_list_get_stream_and_watch() {
        for m in [
            "ListCifsSessions",
            "GetCifsSession",
            "StreamCifsSessions",
            "WatchCifsSessions",
        ] {
            assert_eq!(Access::of_method(m), Some(Access::Read), "{m}");
        }
    }

    #[test]
    fn of_method_writes_create_update_and_delete() {
        for m in [
            "CreateIscsiService",
            "UpdateIscsiService",
            "DeleteCifsSession",
        ] {
            assert_eq!(Access::of_method(m), Some(Access::Write), "{m}");
        }
    }

    #[test]
    fn of_method_is_none_for_a_name_of_neither_shape() {
        for m in [
            "Frobnicate",
            "Listen",
            "Getaway",
            "List",
            "listCifsSessions",
            "",
        ] {
            assert_eq!(Access::of_method(m), None, "{m}");
        }
    }

    #[test]
    fn a_caller_no_rule_names_is_refused_everything() {
        let p = policy(READER);
        for m in METHODS {
            let denial = p.decide("token:x", "east", "vs1", m).unwrap_err();
            assert_eq!(denial.to_string(), "no rule names caller `token:x`");
            assert_eq!(denial.reason(), "unknown_caller");
        }
    }

    #[test]
    fn write_includes_read() {
        let p = policy(&READER.replace("\"read\"", "\"write\""));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "DeleteCifsSession"
        ));
    }

    #[test]
    fn read_does_not_include_write() {
        let p = policy(READER);
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "GetCifsSession"
        ));
        let denial = p
            .decide("token:billing", "east", "vs1", "DeleteCifsSession")
            .unwrap_err();
        assert_eq!(
            denial.to_string(),
            "no rule lets `token:billing` write on SVM `vs1` of cluster `east`"
        );
        assert_eq!(denial.reason(), "not_permitted");
    }

    #[test]
    fn access_grants_no_method_of_neither_shape() {
        let p = policy(&READER.replace("\"read\"", "\"write\""));
        let denial = p
            .decide("token:billing", "east", "vs1", "Frobnicate")
            .unwrap_err();
        assert_eq!(
            denial.to_string(),
            "no rule lets `token:billing` call Frobnicate on SVM `vs1` of cluster `east`"
        );
    }

    #[test]
    fn a_prefix_pattern_matches_only_at_the_end() {
        let p = policy(&READER.replace("token:billing", "spiffe://cluster.local/ns/billing/*"));
        for caller in [
            "spiffe://cluster.local/ns/billing/sa/api",
            "spiffe://cluster.local/ns/billing/",
        ] {
            assert!(
                allowed(&p, caller, "east", "vs1", "ListCifsSessions"),
                "{caller}"
            );
        }
        for caller in [
            "spiffe://cluster.local/ns/billing",
            "spiffe://cluster.local/ns/billing-x/sa/api",
            "x-spiffe://cluster.local/ns/billing/sa/api",
        ] {
            assert!(
                !allowed(&p, caller, "east", "vs1", "ListCifsSessions"),
                "{caller}"
            );
        }
    }

    #[test]
    fn an_exact_caller_pattern_matches_only_that_caller() {
        let p = policy(READER);
        assert!(!allowed(
            &p,
            "token:billing2",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
        assert!(!allowed(
            &p,
            "token:bill",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
    }

    #[test]
    fn rules_add_up() {
        let p = policy(&format!(
            "{READER}[[rule]]\ncallers = [\"token:billing\"]\nsvms = [\"vs2\"]\naccess = \"write\"\n"
        ));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs2",
            "DeleteCifsSession"
        ));
        assert!(!allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "DeleteCifsSession"
        ));
    }

    #[test]
    fn a_rule_without_clusters_covers_every_cluster() {
        let p = policy(READER);
        for cluster in CLUSTERS {
            assert!(allowed(
                &p,
                "token:billing",
                cluster,
                "vs1",
                "ListCifsSessions"
            ));
        }
    }

    #[test]
    fn a_rule_with_clusters_covers_only_those() {
        let p = policy(&READER.replace("svms", "clusters = [\"east\"]\nsvms"));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
        let denial = p
            .decide("token:billing", "west", "vs1", "ListCifsSessions")
            .unwrap_err();
        assert_eq!(denial.reason(), "not_permitted");
    }

    #[test]
    fn named_methods_grant_exactly_those() {
        let p = policy(
            "[[rule]]\ncallers = [\"cn:ops\"]\nsvms = [\"*\"]\nmethods = [\"DeleteCifsSession\", \"Frobnicate\"]\n",
        );
        assert!(allowed(&p, "cn:ops", "east", "vs1", "DeleteCifsSession"));
        assert!(allowed(&p, "cn:ops", "east", "vs1", "Frobnicate"));
        assert!(!allowed(&p, "cn:ops", "east", "vs1", "ListCifsSessions"));
        assert!(!allowed(&p, "cn:ops", "east", "vs1", "DeleteIscsiService"));
    }

    #[test]
    fn named_methods_add_to_access() {
        let p = policy(&format!("{READER}methods = [\"DeleteCifsSession\"]\n"));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "ListCifsSessions"
        ));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "DeleteCifsSession"
        ));
        assert!(!allowed(
            &p,
            "token:billing",
            "east",
            "vs1",
            "DeleteIscsiService"
        ));
    }

    #[test]
    fn an_svm_star_matches_any_run_anywhere() {
        let p = policy(&READER.replace(
            "[\"vs1\"]",
            "[\"tenant-*-prod\", \"*-a\", \"x*y*z\", \"p**q\"]",
        ));
        for svm in [
            "tenant--prod",
            "tenant-a-prod",
            "-a",
            "b-a",
            "xyz",
            "x1y2y3z",
        ] {
            assert!(
                allowed(&p, "token:billing", "east", svm, "ListCifsSessions"),
                "{svm}"
            );
        }
        for svm in [
            "tenant-prod",
            "tenant-a-prod2",
            "a",
            "xz",
            "xzy",
            "x-y",
            "p",
            "qp",
        ] {
            assert!(
                !allowed(&p, "token:billing", "east", svm, "ListCifsSessions"),
                "{svm}"
            );
        }
    }

    #[test]
    fn each_middle_piece_of_a_pattern_takes_its_own_place_in_the_name() {
        assert!(svm_matches("x*ab*ab*y", "xababy"));
        assert!(!svm_matches("x*ab*ab*y", "xaby"));
        assert!(svm_matches("tenant-a-*", "tenant-a-1"));
        assert!(!svm_matches("tenant-a-*", "tenant-b-1"));
    }

    #[test]
    fn only_stars_make_a_pattern_of_every_svm() {
        assert!(SvmPattern::new("*").is_every());
        assert!(SvmPattern::new("**").is_every());
        assert!(!SvmPattern::new("").is_every());
        assert!(!SvmPattern::new("vs*").is_every());
    }

    #[test]
    fn a_policy_counts_its_rules_debugs_as_its_file_and_is_never_empty() {
        let p = policy(&format!("{READER}\n{READER}"));
        assert_eq!(p.len(), 2);
        assert!(!p.is_empty());
        assert_eq!(format!("{p:?}"), "Policy(policy.toml, 2 rules)");
    }

    #[test]
    fn a_granting_rule_debugs_as_where_it_is() {
        let p = policy(READER);
        let rule = p.decide("token:billing", "east", "vs1", "ListCifsSessions");
        assert_eq!(
            format!("{:?}", rule.unwrap()),
            "RuleRef(policy.toml:1 (rule 1))"
        );
    }

    #[test]
    fn svm_patterns_are_case_sensitive() {
        let p = policy(&READER.replace("[\"vs1\"]", "[\"vs1\", \"Tenant-*\"]"));
        assert!(!allowed(
            &p,
            "token:billing",
            "east",
            "VS1",
            "ListCifsSessions"
        ));
        assert!(!allowed(
            &p,
            "token:billing",
            "east",
            "tenant-a",
            "ListCifsSessions"
        ));
        assert!(allowed(
            &p,
            "token:billing",
            "east",
            "Tenant-a",
            "ListCifsSessions"
        ));
    }

    #[test]
    fn an_svm_star_alone_means_every_svm() {
        let p = policy(&READER.replace("[\"vs1\"]", "[\"*\"]"));
        for svm in ["vs1", "anything", ""] {
            assert!(
                allowed(&p, "token:billing", "east", svm, "ListCifsSessions"),
                "{svm}"
            );
        }
    }

    #[test]
    fn a_decision_names_the_first_granting_rule_by_file_line_and_number() {
        let p = policy(&format!(
            "{READER}\n[[rule]]\ncallers = [\"token:*\"]\nsvms = [\"*\"]\naccess = \"write\"\n\n{READER}"
        ));
        let shown = |svm, method| {
            p.decide("token:billing", "east", svm, method)
                .unwrap()
                .to_string()
        };
        assert_eq!(shown("vs1", "ListCifsSessions"), "policy.toml:1 (rule 1)");
        assert_eq!(shown("vs1", "DeleteCifsSession"), "policy.toml:6 (rule 2)");
        assert_eq!(shown("vs9", "ListCifsSessions"), "policy.toml:6 (rule 2)");
    }

    #[test]
    fn scope_lists_the_patterns_of_every_granting_rule() {
        let p = policy(&format!(
            "{READER}[[rule]]\ncallers = [\"token:*\"]\nsvms = [\"t-*\", \"vs1\"]\naccess = \"read\"\n\
             [[rule]]\ncallers = [\"token:billing\"]\nsvms = [\"vs2\"]\nclusters = [\"west\"]\naccess = \"read\"\n"
        ));
        let expected = Scope::Some(vec!["vs1".into(), "t-*".into()]);
        assert_eq!(
            p.scope("token:billing", "east", "ListCifsSessions"),
            expected
        );
    }

    #[test]
    fn scope_leaves_out_rules_not_granting_the_method() {
        let p = policy(&format!(
            "{READER}[[rule]]\ncallers = [\"token:billing\"]\nsvms = [\"vs2\"]\nmethods = [\"Frobnicate\"]\n"
        ));
        let vs1 = Scope::Some(vec!["vs1".into()]);
        assert_eq!(p.scope("token:billing", "east", "ListCifsSessions"), vs1);
        let vs2 = Scope::Some(vec!["vs2".into()]);
        assert_eq!(p.scope("token:billing", "east", "Frobnicate"), vs2);
    }

    #[test]
    fn scope_is_every_with_a_star() {
        let p = policy(&format!(
            "{READER}[[rule]]\ncallers = [\"token:billing\"]\nsvms = [\"vs2\", \"*\"]\naccess = \"read\"\n"
        ));
        assert_eq!(
            p.scope("token:billing", "east", "ListCifsSessions"),
            Scope::Every
        );
    }

    #[test]
    fn scope_is_none_for_another_cluster() {
        let p = policy(&READER.replace("svms", "clusters = [\"east\"]\nsvms"));
        assert_eq!(
            p.scope("token:billing", "west", "ListCifsSessions"),
            Scope::None
        );
        assert_eq!(
            p.scope("token:nobody", "east", "ListCifsSessions"),
            Scope::None
        );
    }

    #[test]
    fn len_counts_the_rules() {
        assert_eq!(policy(&format!("{READER}{READER}")).len(), 2);
    }

    #[test]
    fn a_policy_is_shared_across_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Policy>();
        shared::<RuleRef>();
    }

    #[test]
    fn the_example_keeps_each_tenant_to_its_own_svms() {
        let p = policy(include_str!("../../docs/policy.example.toml"));
        let a_prov = "spiffe://cluster.local/ns/provisioning-a/sa/op";
        assert!(allowed(
            &p,
            "token:billing-a",
            "east",
            "tenant-a-1",
            "ListCifsSessions"
        ));
        assert!(!allowed(
            &p,
            "token:billing-a",
            "east",
            "tenant-a-1",
            "DeleteCifsSession"
        ));
        assert!(!allowed(
            &p,
            "token:billing-a",
            "east",
            "tenant-b-1",
            "ListCifsSessions"
        ));
        assert!(!allowed(
            &p,
            "token:billing-a",
            "west",
            "tenant-a-1",
            "ListCifsSessions"
        ));
        assert!(allowed(
            &p,
            a_prov,
            "east",
            "tenant-a-1",
            "CreateIscsiService"
        ));
        assert!(!allowed(
            &p,
            a_prov,
            "east",
            "tenant-b-1",
            "CreateIscsiService"
        ));
        assert!(allowed(
            &p,
            "token:billing-b",
            "east",
            "tenant-b-1",
            "GetCifsSession"
        ));
        assert!(allowed(
            &p,
            "jwt:helpdesk-a",
            "east",
            "tenant-a-1",
            "DeleteCifsSession"
        ));
        assert!(!allowed(
            &p,
            "jwt:helpdesk-a",
            "east",
            "tenant-a-1",
            "DeleteIscsiService"
        ));
        let b = Scope::Some(vec!["tenant-b-*".into()]);
        assert_eq!(p.scope("token:billing-b", "east", "ListCifsSessions"), b);
    }

    #[test]
    fn from_file_reads_the_file_it_names() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, READER.as_bytes()).unwrap();
        let p = Policy::from_file(file.path(), CLUSTERS, METHODS).unwrap();
        let granted = p
            .decide("token:billing", "east", "vs1", "ListCifsSessions")
            .unwrap();
        assert_eq!(
            granted.to_string(),
            format!("{}:1 (rule 1)", file.path().display())
        );
    }

    #[test]
    fn an_unreadable_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.toml");
        let err = Policy::from_file(&path, CLUSTERS, METHODS).unwrap_err();
        assert!(matches!(err, PolicyError::Unreadable { .. }));
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}: cannot be read: ", path.display())),
            "{shown}"
        );
    }

    #[test]
    fn text_that_is_not_toml_is_refused_on_its_line() {
        let (line, problem) = error(&format!("{READER}[[rule]\n"));
        assert_eq!(line, 5);
        assert!(matches!(problem, Problem::Syntax(_)), "{problem}");
    }

    #[test]
    fn an_unknown_key_is_refused_on_its_line() {
        let (line, problem) = error(&READER.replace("svms", "svm"));
        assert_eq!(line, 3);
        assert!(
            problem.to_string().contains("unknown field `svm`"),
            "{problem}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_on_its_line() {
        let (line, problem) = error(&READER.replace("[\"vs1\"]", "\"vs1\""));
        assert_eq!(line, 3);
        assert!(
            problem.to_string().contains("expected a sequence"),
            "{problem}"
        );
    }

    #[test]
    fn a_file_with_no_rules_is_refused() {
        let (line, problem) = error("# nothing yet\n");
        assert_eq!((line, &problem), (1, &Problem::NoRules));
        assert!(problem.to_string().contains("no [[rule]] table"));
    }

    #[test]
    fn a_rule_without_callers_or_svms_is_refused_on_its_header_line() {
        for (missing, present) in [
            ("callers", "svms = [\"vs1\"]"),
            ("svms", "callers = [\"x\"]"),
        ] {
            let (line, problem) = error(&format!(
                "{READER}\n[[rule]]\n{present}\naccess = \"read\"\n"
            ));
            assert_eq!((line, &problem), (6, &Problem::Missing(missing)));
            assert!(problem.to_string().contains(&format!("no `{missing}`")));
        }
    }

    #[test]
    fn an_empty_list_is_refused_on_its_line() {
        let full = [
            "callers = [\"x\"]",
            "svms = [\"vs1\"]",
            "clusters = [\"east\"]",
            "methods = [\"Frobnicate\"]",
        ];
        for (key, emptied) in [("callers", 0), ("svms", 1), ("clusters", 2), ("methods", 3)] {
            let mut lines = full.map(String::from);
            lines[emptied] = format!("{key} = []");
            let (line, problem) = error(&format!("{READER}[[rule]]\n{}\n", lines.join("\n")));
            assert_eq!((line, &problem), (6 + emptied, &Problem::Empty(key)));
            assert!(problem.to_string().contains("is empty"), "{problem}");
        }
    }

    #[test]
    fn a_rule_granting_nothing_is_refused_on_its_header_line() {
        let (line, problem) = error(&format!(
            "{READER}[[rule]]\ncallers = [\"x\"]\nsvms = [\"vs1\"]\n"
        ));
        assert_eq!((line, &problem), (5, &Problem::NoGrant));
        assert!(problem.to_string().contains("grants nothing"));
    }

    #[test]
    fn an_access_other_than_read_or_write_is_refused_on_its_line() {
        let (line, problem) = error(&READER.replace("\"read\"", "\"admin\""));
        assert_eq!((line, &problem), (4, &Problem::BadAccess("admin".into())));
        assert!(
            problem
                .to_string()
                .contains("neither \"read\" nor \"write\"")
        );
    }

    #[test]
    fn an_unknown_cluster_is_refused_naming_the_configured_ones() {
        let (line, problem) =
            error(&READER.replace("svms", "clusters = [\n  \"east\",\n  \"esat\",\n]\nsvms"));
        assert_eq!(line, 5);
        assert_eq!(
            problem.to_string(),
            "unknown cluster `esat`; the configured clusters are `east`, `west`"
        );
    }

    #[test]
    fn an_unknown_method_is_refused_on_its_line() {
        let (line, problem) = error(&format!("{READER}methods = [\"ListCifsSesions\"]\n"));
        assert_eq!(
            (line, &problem),
            (5, &Problem::UnknownMethod("ListCifsSesions".into()))
        );
        assert!(
            problem
                .to_string()
                .contains("unknown method `ListCifsSesions`")
        );
    }

    #[test]
    fn a_caller_star_before_the_end_is_refused() {
        let (line, problem) = error(&READER.replace("token:billing", "spiffe://*/ns/billing"));
        assert_eq!(line, 2);
        assert!(matches!(problem, Problem::BadCaller { .. }), "{problem}");
        assert!(
            problem.to_string().contains("`*` before its end"),
            "{problem}"
        );
    }

    #[test]
    fn an_empty_caller_pattern_is_refused() {
        let (line, problem) =
            error(&READER.replace("\"token:billing\"", "\"token:billing\", \"\""));
        assert_eq!(line, 2);
        assert!(matches!(problem, Problem::BadCaller { .. }), "{problem}");
        assert!(problem.to_string().contains("is empty"), "{problem}");
    }

    #[test]
    fn an_svm_pattern_with_a_query_operator_is_refused() {
        for op in ["|", "!", "<", ">", "..", "{", "}", ",", " ", "\\t"] {
            let (line, problem) = error(&READER.replace("vs1", &format!("vs{op}1")));
            assert_eq!(line, 3, "{op}");
            assert!(matches!(problem, Problem::BadSvm { .. }), "{problem}");
            assert!(
                problem.to_string().contains("reads as an operator"),
                "{problem}"
            );
        }
    }

    #[test]
    fn an_empty_svm_pattern_is_refused() {
        let (line, problem) = error(&READER.replace("\"vs1\"", "\"\""));
        assert_eq!(line, 3);
        assert!(matches!(problem, Problem::BadSvm { .. }), "{problem}");
        assert!(problem.to_string().contains("is empty"), "{problem}");
    }
}
