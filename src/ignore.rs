//! Which paths of a model are left out of its manifest.
//!
//! Two kinds of rule, both relative to the model root:
//! - literal paths, with `model_signing`'s semantics: a path and everything below it;
//! - `.gitignore`-style patterns (`--exclude`, `.msignignore`), an msign extension.
//!
//! Both are recorded in the statement's `ignore_paths`, so verification applies the rules
//! that were used at signing time. A recorded entry is read back as a pattern when it
//! carries glob syntax (`*`, `?`, `[`) or starts with `!`; patterns are canonicalised when
//! added so that every pattern does. Every entry also counts as a literal path, since the
//! reference records names as given (`data[1].bin`, `!notes`); verification never ignores a
//! file the signature lists, so the double reading cannot hide a signed file.

use std::collections::{BTreeMap, BTreeSet};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::{Error, Result};

/// The paths `model_signing` ignores unless told not to (`--no-ignore-git-paths`).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The ignore file msign reads from the model root when signing with `--use-ignore-file`.
pub const IGNORE_FILE: &str = ".msignignore";

/// Where a rule came from, as shown in the report of what signing left out.
pub mod origin {
    /// The reference's git paths.
    pub const GIT_DEFAULT: &str = "model_signing default";
    /// A literal path given by the caller (`--ignore-paths`, the signature file).
    pub const PATH: &str = "--ignore-paths or the signature file";
    /// A pattern given by the caller.
    pub const EXCLUDE: &str = "--exclude";
    /// The model's own ignore file.
    pub const IGNORE_FILE: &str = ".msignignore in the model (--use-ignore-file)";
    /// Read back from a signed statement.
    pub const RECORDED: &str = "recorded in the signature";
}

/// What [`IgnoreRules::ignored_by`] names when a path is left out only because it is not
/// among the files kept by [`IgnoreRules::keep_only`].
pub const NOT_SELECTED: &str = "(not among the files to check)";

/// A set of ignore rules over model-relative POSIX paths.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    paths: Vec<String>,
    patterns: Vec<String>,
    matcher: Option<Gitignore>,
    keep: BTreeSet<String>,
    /// Everything that is not kept is ignored (`--ignore-unsigned-files`).
    only_kept: bool,
    /// Rule (as recorded) -> where it came from.
    origins: BTreeMap<String, &'static str>,
}

/// A path a listing left out, and the rule that left it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Model-relative path; a folder (not entered) ends with `/`.
    pub path: String,
    /// The rule as recorded in `ignore_paths`, or [`NOT_SELECTED`].
    pub rule: String,
}

/// One rule and what it left out of a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleUse {
    /// The rule as recorded in `ignore_paths`.
    pub rule: String,
    /// Where it came from (see [`origin`]).
    pub origin: String,
    /// What it left out: files, and folders (ending with `/`) that were not entered.
    pub left_out: Vec<String>,
}

/// Names for a one-line message: the first few, then how many more (`--json` lists all).
pub fn shorten(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut out = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}

fn is_pattern(entry: &str) -> bool {
    entry.starts_with('!') || entry.contains(['*', '?', '['])
}

/// Normalises a literal model-relative path: `./a//b/` -> `a/b`.
fn normalize_literal(path: &str) -> Result<Option<String>> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(Error::Usage(format!(
                    "ignore path {path:?} leaves the model folder"
                )))
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

impl IgnoreRules {
    /// No rules at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the reference's default git paths.
    pub fn with_git_paths(mut self) -> Self {
        for p in GIT_PATHS {
            self.add_path_from(p, origin::GIT_DEFAULT)
                .expect("constant paths are valid");
        }
        self
    }

    /// Ignores a literal path (and everything below it), relative to the model root.
    pub fn add_path(&mut self, path: &str) -> Result<()> {
        self.add_path_from(path, origin::PATH)
    }

    /// [`IgnoreRules::add_path`], saying where the rule came from.
    pub fn add_path_from(&mut self, path: &str, from: &'static str) -> Result<()> {
        if path.starts_with('/') {
            return Err(Error::Usage(format!(
                "ignore path {path:?} must be relative to the model folder"
            )));
        }
        if let Some(p) = normalize_literal(path)? {
            self.origins.entry(p.clone()).or_insert(from);
            if !self.paths.contains(&p) {
                self.paths.push(p);
            }
        }
        Ok(())
    }

    /// Adds a `.gitignore`-style pattern. Patterns without glob syntax are rewritten to an
    /// equivalent form that has it (`logs/` -> `**/logs/`), or to a literal path when
    /// they are anchored (`/data/tmp` -> `data/tmp`).
    pub fn add_pattern(&mut self, pattern: &str) -> Result<()> {
        self.add_pattern_from(pattern, origin::EXCLUDE)
    }

    /// [`IgnoreRules::add_pattern`], saying where the rule came from.
    pub fn add_pattern_from(&mut self, pattern: &str, from: &'static str) -> Result<()> {
        let pattern = pattern.trim_end();
        if pattern.is_empty() || pattern.starts_with('#') {
            return Ok(());
        }
        if is_pattern(pattern) {
            return self.push_pattern(pattern.to_string(), from);
        }
        let body = pattern.trim_end_matches('/');
        let anchored = pattern.starts_with('/') || body.contains('/');
        if anchored {
            return self.add_path_from(body.trim_start_matches('/'), from);
        }
        self.push_pattern(format!("**/{pattern}"), from)
    }

    /// Adds every pattern line of an ignore file's content.
    pub fn add_pattern_file(&mut self, content: &str, from: &'static str) -> Result<()> {
        for line in content.lines() {
            self.add_pattern_from(line, from)?;
        }
        Ok(())
    }

    fn push_pattern(&mut self, pattern: String, from: &'static str) -> Result<()> {
        if self.patterns.contains(&pattern) {
            return Ok(());
        }
        self.origins.entry(pattern.clone()).or_insert(from);
        self.patterns.push(pattern);
        let mut builder = GitignoreBuilder::new("");
        for p in &self.patterns {
            builder
                .add_line(None, p)
                .map_err(|e| Error::Usage(format!("bad ignore pattern {p:?}: {e}")))?;
        }
        let matcher = builder
            .build()
            .map_err(|e| Error::Usage(format!("bad ignore patterns: {e}")))?;
        self.matcher = Some(matcher);
        Ok(())
    }

    /// Rebuilds rules from a statement's `ignore_paths`. Entries are signed data, but still
    /// checked: an absolute path, `..`, or an entry that would ignore the whole model is
    /// refused.
    pub fn from_recorded<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut rules = IgnoreRules::new();
        for e in entries {
            let err = |why: &str| Error::MalformedSignature(format!("ignore path {e:?} {why}"));
            let bad = |why: &str| Err(err(why));
            if e.starts_with('/') {
                return bad("is absolute");
            }
            if e.split('/').any(|c| c == "..") {
                return bad("leaves the model folder");
            }
            // Also (or, when it is no valid pattern, only) a literal path: model_signing
            // records `--ignore-paths` as given, and a name may start with `!` or hold `[`.
            // Files the signature lists are kept at verification, so the literal reading
            // never hides a signed file.
            if is_pattern(e) && rules.push_pattern(e.to_string(), origin::RECORDED).is_err() {
                rules.patterns.retain(|p| p != e);
            }
            match normalize_literal(e) {
                Ok(Some(p)) => {
                    rules.origins.entry(p.clone()).or_insert(origin::RECORDED);
                    if !rules.paths.contains(&p) {
                        rules.paths.push(p)
                    }
                }
                _ => return bad("would ignore the whole model"),
            }
        }
        Ok(rules)
    }

    /// Never ignores these model-relative files, nor the folders leading to them.
    /// Verification keeps the files a signature lists: rules exist to leave out what was not
    /// signed, and a recorded entry such as `data[1].bin` (a literal path to model_signing, a
    /// pattern to msign) must not hide the signed `data1.bin`. Keeping a file only ever
    /// means it is hashed and compared.
    pub fn keep<'a>(&mut self, files: impl IntoIterator<Item = &'a str>) {
        for f in files {
            let mut p = f;
            loop {
                self.keep.insert(p.to_string());
                match p.rfind('/') {
                    Some(i) => p = &p[..i],
                    None => break,
                }
            }
        }
    }

    /// Ignores everything but the files given to [`IgnoreRules::keep`] (and the folders
    /// leading to them): nothing else is even looked at, so an unsigned link or socket
    /// is no error when only signed files are checked.
    pub fn keep_only(&mut self) {
        self.only_kept = true;
    }

    /// Merges another set of rules into this one.
    pub fn extend(&mut self, other: &IgnoreRules) -> Result<()> {
        self.keep.extend(other.keep.iter().cloned());
        self.only_kept |= other.only_kept;
        let from = |p: &String| other.origins.get(p).copied().unwrap_or(origin::PATH);
        for p in &other.paths {
            self.add_path_from(p, from(p))?;
        }
        for p in &other.patterns {
            self.push_pattern(p.clone(), from(p))?;
        }
        Ok(())
    }

    /// Whether a model-relative path (a file, or a directory when `is_dir`) is ignored.
    /// A directory that is ignored is not descended into.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        self.ignored_by(path, is_dir).is_some()
    }

    /// The rule that ignores a model-relative path (as [`IgnoreRules::is_ignored`]), as
    /// recorded in `ignore_paths`; [`NOT_SELECTED`] when only [`IgnoreRules::keep_only`]
    /// leaves it out.
    pub fn ignored_by(&self, path: &str, is_dir: bool) -> Option<&str> {
        if self.keep.contains(path) {
            return None;
        }
        if self.only_kept {
            return Some(NOT_SELECTED);
        }
        let literal = self.paths.iter().find(|p| {
            path == p.as_str()
                || (path.len() > p.len()
                    && path.starts_with(p.as_str())
                    && path.as_bytes()[p.len()] == b'/')
        });
        if let Some(p) = literal {
            return Some(p);
        }
        match &self.matcher {
            Some(m) => match m.matched_path_or_any_parents(path, is_dir) {
                ignore::Match::Ignore(glob) => Some(glob.original()),
                _ => None,
            },
            None => None,
        }
    }

    /// Where a rule (as recorded) came from (see [`origin`]).
    pub fn origin_of(&self, rule: &str) -> &'static str {
        self.origins.get(rule).copied().unwrap_or(origin::PATH)
    }

    /// Every rule with its origin and what it left out of a listing, in recorded order.
    pub fn report(&self, ignored: &[Ignored]) -> Vec<RuleUse> {
        let mut seen = BTreeSet::new();
        self.recorded()
            .into_iter()
            // A recorded entry read both as a path and as a pattern is one rule.
            .filter(|rule| seen.insert(rule.clone()))
            .map(|rule| RuleUse {
                origin: self.origin_of(&rule).to_string(),
                left_out: ignored
                    .iter()
                    .filter(|i| i.rule == rule)
                    .map(|i| i.path.clone())
                    .collect(),
                rule,
            })
            .collect()
    }

    /// Whether the rules leave out any name at all: a pattern such as `*`, `**`, `?*` or
    /// `**/*` that would make a signature cover nothing. Decided on names of every shape
    /// (plain, hidden, nested, without extension), kept files aside.
    pub fn is_catch_all(&self) -> bool {
        let Some(m) = &self.matcher else {
            return false;
        };
        const PROBES: [(&str, bool); 6] = [
            ("msign-probe", false),
            ("msign-probe.bin", false),
            (".msign-probe", false),
            ("0", false),
            ("msign-probe/msign-probe", false),
            ("msign-probe", true),
        ];
        PROBES
            .iter()
            .all(|&(p, dir)| m.matched_path_or_any_parents(p, dir).is_ignore())
    }

    /// What goes into the statement's `ignore_paths`: literal paths sorted, then patterns
    /// in the order given (their order matters for `!` negations).
    pub fn recorded(&self) -> Vec<String> {
        let mut out = self.paths.clone();
        out.sort();
        out.extend(self.patterns.iter().cloned());
        out
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_cover_their_subtree_only() {
        let r = IgnoreRules::new().with_git_paths();
        assert!(r.is_ignored(".git", true));
        assert!(r.is_ignored(".git/HEAD", false));
        assert!(r.is_ignored(".gitignore", false));
        assert!(!r.is_ignored(".gitfoo", false));
        assert!(
            !r.is_ignored("sub/.git", true),
            "only the model root's .git, as the reference"
        );
    }

    #[test]
    fn patterns_round_trip_through_the_record() {
        let mut r = IgnoreRules::new();
        r.add_pattern("*.tmp").unwrap();
        r.add_pattern("logs/").unwrap();
        r.add_pattern("/data/cache").unwrap();
        r.add_path("model.sig").unwrap();
        let rec = r.recorded();
        assert_eq!(rec, ["data/cache", "model.sig", "*.tmp", "**/logs/"]);
        let back = IgnoreRules::from_recorded(rec.iter().map(String::as_str)).unwrap();
        for (p, dir, want) in [
            ("a/b.tmp", false, true),
            ("x/logs", true, true),
            ("x/logs/f", false, true),
            ("logs", false, false),
            ("data/cache/f", false, true),
            ("data/cachex", false, false),
            ("model.sig", false, true),
            ("keep.bin", false, false),
        ] {
            assert_eq!(back.is_ignored(p, dir), want, "{p}");
            assert_eq!(r.is_ignored(p, dir), want, "{p}");
        }
    }

    #[test]
    fn recorded_entries_are_literal_paths_too() {
        let r =
            IgnoreRules::from_recorded(["!notes.txt", "data[1.bin", "*.tmp", "!keep.tmp"]).unwrap();
        assert!(r.is_ignored("!notes.txt", false));
        assert!(
            r.is_ignored("data[1.bin", false),
            "an invalid pattern is a literal name"
        );
        assert!(r.is_ignored("a.tmp", false));
        assert!(!r.is_ignored("keep.tmp", false), "negation still applies");
        assert!(!r.is_ignored("notes.txt", false));
    }

    #[test]
    fn kept_files_are_never_ignored() {
        let mut r = IgnoreRules::from_recorded(["data[1].bin", "ckpt[0]"]).unwrap();
        assert!(
            r.is_ignored("data1.bin", false),
            "read back as a pattern too"
        );
        r.keep(["data1.bin", "ckpt0/w.bin"]);
        assert!(!r.is_ignored("data1.bin", false));
        assert!(!r.is_ignored("ckpt0", true));
        assert!(!r.is_ignored("ckpt0/w.bin", false));
        assert!(r.is_ignored("ckpt0/unsigned.bin", false));
        assert!(r.is_ignored("data[1].bin", false));
    }

    #[test]
    fn catch_all_patterns_are_recognised() {
        for all in [
            &["*"][..],
            &["**"],
            &["?*"],
            &["**/*"],
            &["*.bin", "*"],
            &["[!x]*", "x*"],
        ] {
            let r = IgnoreRules::from_recorded(all.iter().copied()).unwrap();
            assert!(r.is_catch_all(), "{all:?}");
        }
        for some in [
            &[".git", "model.sig"][..],
            &["*.bin"],
            &["*", "!*.bin"],
            &["**/logs/"],
        ] {
            let r = IgnoreRules::from_recorded(some.iter().copied()).unwrap();
            assert!(!r.is_catch_all(), "{some:?}");
        }
    }

    #[test]
    fn the_report_names_each_rule_once_with_what_it_left_out() {
        let mut r = IgnoreRules::new().with_git_paths();
        r.add_pattern_from("*.py", origin::IGNORE_FILE).unwrap();
        let back = IgnoreRules::from_recorded(["*.py"]).unwrap();
        let left_out = |rules: &IgnoreRules| -> Vec<Ignored> {
            ["a.py", "sub/b.py", "w.bin"]
                .iter()
                .filter_map(|p| {
                    rules.ignored_by(p, false).map(|rule| Ignored {
                        path: p.to_string(),
                        rule: rule.to_string(),
                    })
                })
                .collect()
        };
        let report = r.report(&left_out(&r));
        let py = report.iter().find(|u| u.rule == "*.py").unwrap();
        assert_eq!(py.origin, origin::IGNORE_FILE);
        assert_eq!(py.left_out, ["a.py", "sub/b.py"]);
        assert_eq!(
            report.iter().find(|u| u.rule == ".git").unwrap().origin,
            origin::GIT_DEFAULT
        );
        // Read back from a statement, `*.py` is a path and a pattern: still one rule.
        let report = back.report(&left_out(&back));
        assert_eq!(report.len(), 1, "{report:?}");
        assert_eq!(report[0].origin, origin::RECORDED);
        assert_eq!(report[0].left_out, ["a.py", "sub/b.py"]);
    }

    #[test]
    fn keep_only_leaves_out_everything_else_unlooked_at() {
        let mut r = IgnoreRules::new();
        r.keep(["sub/w.bin"]);
        r.keep_only();
        assert_eq!(r.ignored_by("sub", true), None);
        assert_eq!(r.ignored_by("sub/w.bin", false), None);
        assert_eq!(r.ignored_by("link.bin", false), Some(NOT_SELECTED));
        assert_eq!(r.ignored_by("other", true), Some(NOT_SELECTED));
    }

    #[test]
    fn hostile_recorded_entries_are_refused() {
        for bad in ["/etc", "../x", "a/../../b", ".", ""] {
            assert!(IgnoreRules::from_recorded([bad]).is_err(), "{bad:?}");
        }
    }
}
