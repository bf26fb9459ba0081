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

use std::collections::BTreeSet;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::{Error, Result};

/// The paths `model_signing` ignores unless told not to (`--no-ignore-git-paths`).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The ignore file msign reads from the model root when signing.
pub const IGNORE_FILE: &str = ".msignignore";

/// A set of ignore rules over model-relative POSIX paths.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    paths: Vec<String>,
    patterns: Vec<String>,
    matcher: Option<Gitignore>,
    keep: BTreeSet<String>,
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
            self.add_path(p).expect("constant paths are valid");
        }
        self
    }

    /// Ignores a literal path (and everything below it), relative to the model root.
    pub fn add_path(&mut self, path: &str) -> Result<()> {
        if path.starts_with('/') {
            return Err(Error::Usage(format!(
                "ignore path {path:?} must be relative to the model folder"
            )));
        }
        if let Some(p) = normalize_literal(path)? {
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
        let pattern = pattern.trim_end();
        if pattern.is_empty() || pattern.starts_with('#') {
            return Ok(());
        }
        if is_pattern(pattern) {
            return self.push_pattern(pattern.to_string());
        }
        let body = pattern.trim_end_matches('/');
        let anchored = pattern.starts_with('/') || body.contains('/');
        if anchored {
            return self.add_path(body.trim_start_matches('/'));
        }
        self.push_pattern(format!("**/{pattern}"))
    }

    /// Adds every pattern line of an ignore file's content.
    pub fn add_pattern_file(&mut self, content: &str) -> Result<()> {
        for line in content.lines() {
            self.add_pattern(line)?;
        }
        Ok(())
    }

    fn push_pattern(&mut self, pattern: String) -> Result<()> {
        if self.patterns.contains(&pattern) {
            return Ok(());
        }
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
            if is_pattern(e) && rules.push_pattern(e.to_string()).is_err() {
                rules.patterns.retain(|p| p != e);
            }
            match normalize_literal(e) {
                Ok(Some(p)) => {
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

    /// Merges another set of rules into this one.
    pub fn extend(&mut self, other: &IgnoreRules) -> Result<()> {
        self.keep.extend(other.keep.iter().cloned());
        for p in &other.paths {
            self.add_path(p)?;
        }
        for p in &other.patterns {
            self.push_pattern(p.clone())?;
        }
        Ok(())
    }

    /// Whether a model-relative path (a file, or a directory when `is_dir`) is ignored.
    /// A directory that is ignored is not descended into.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        if self.keep.contains(path) {
            return false;
        }
        let literal = self.paths.iter().any(|p| {
            path == p
                || (path.len() > p.len()
                    && path.starts_with(p.as_str())
                    && path.as_bytes()[p.len()] == b'/')
        });
        if literal {
            return true;
        }
        match &self.matcher {
            Some(m) => m.matched_path_or_any_parents(path, is_dir).is_ignore(),
            None => false,
        }
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
    fn hostile_recorded_entries_are_refused() {
        for bad in ["/etc", "../x", "a/../../b", ".", ""] {
            assert!(IgnoreRules::from_recorded([bad]).is_err(), "{bad:?}");
        }
    }
}
