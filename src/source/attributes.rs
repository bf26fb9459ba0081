//! Which blobs of a git revision are Git LFS content: those whose path the revision's own
//! `.gitattributes` files route through `filter=lfs`, as git decides when it checks the
//! revision out (gitattributes(5)). A blob that merely looks like an LFS pointer is
//! otherwise an ordinary file: a checkout holds its pointer text, so that text is what gets
//! hashed.
//!
//! What is read: the `.gitattributes` files of the revision's tree, from the root down to
//! the file's folder (deeper files win over shallower ones, later lines over earlier ones).
//! `$GIT_DIR/info/attributes` and the global attributes file are not read: they are not
//! part of the revision, and a signature must mean the same on every machine.
//!
//! What is understood, as git does: patterns (gitignore-style: a pattern without `/`
//! matches the name at any depth below its file, one with `/` is anchored to its file's
//! folder, `**`, `[...]`, `\` escapes; a trailing `/` matches folders only, so never a
//! file), `filter=lfs`, `-filter`, `!filter` (unspecified), `filter` (set without a value)
//! and `filter=<other>`, and attribute macros defined with `[attr]` in the root
//! `.gitattributes` (`binary` is built in and does not touch `filter`). Lines git ignores
//! are ignored too: negated patterns (`!pattern`), `[attr]` lines below the root, invalid
//! attribute names (the rest of their line stands), lines longer than 2048 bytes, files larger
//! than 100 MB. C-quoted patterns (`"a b"`) are unquoted as git does. Not read: the
//! `core.ignoreCase` setting (patterns match case-sensitively, git's default on Linux).
//!
//! Every doubt resolves to "not LFS": the blob is then hashed as its bytes, which is what
//! a checkout holds unless git runs the LFS filter; a wrong guess that way makes
//! verification fail, never pass.

use std::collections::HashMap;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// git ignores attribute lines longer than this (`ATTR_MAX_LINE_LENGTH`).
const MAX_LINE: usize = 2048;

/// git ignores attribute files larger than this (`ATTR_MAX_FILE_SIZE`).
pub(crate) const MAX_FILE: usize = 100 * 1024 * 1024;

/// The attributes file name git reads in every folder.
pub(crate) const FILE_NAME: &str = ".gitattributes";

/// The state a line gives an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// `attr`
    Set,
    /// `-attr`
    Unset,
    /// `!attr`: back to unspecified, which also ends the search.
    Unspecified,
    /// `attr=value`
    Value(String),
}

/// One line: a pattern and the states it assigns, in line order.
struct Rule {
    matcher: Gitignore,
    states: Vec<(String, State)>,
}

/// One `.gitattributes` file of the revision.
pub(crate) struct AttrFile {
    /// The folder it sits in, relative to the repository root (`""` for the root).
    dir: String,
    rules: Vec<Rule>,
    macros: Vec<(String, Vec<(String, State)>)>,
}

/// What separates a pattern and its attributes.
const BLANK: [char; 4] = [' ', '\t', '\r', '\n'];

/// A C-quoted pattern at the start of `line` (`"a b" filter=lfs`) as git reads it: the
/// pattern and the rest of the line; None when the line does not start with one, and git
/// then takes the line's first word as it is.
fn unquote(line: &str) -> Option<(String, &str)> {
    let body = line.strip_prefix('"')?;
    let mut out = Vec::new();
    let mut bytes = body.bytes().enumerate();
    while let Some((i, b)) = bytes.next() {
        match b {
            b'"' => return Some((String::from_utf8(out).ok()?, &body[i + 1..])),
            b'\\' => {
                let (_, c) = bytes.next()?;
                out.push(match c {
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 11,
                    b'"' | b'\\' => c,
                    b'0'..=b'3' => {
                        let (_, d) = bytes.next()?;
                        let (_, e) = bytes.next()?;
                        if !(b'0'..=b'7').contains(&d) || !(b'0'..=b'7').contains(&e) {
                            return None;
                        }
                        ((c - b'0') << 6) | ((d - b'0') << 3) | (e - b'0')
                    }
                    _ => return None,
                });
            }
            b => out.push(b),
        }
    }
    None
}

fn valid_attr_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// Parses `attr`, `-attr`, `!attr`, `attr=value`; None for what git rejects.
fn parse_state(word: &str) -> Option<(String, State)> {
    let (name, state) = if let Some(n) = word.strip_prefix('-') {
        (n, State::Unset)
    } else if let Some(n) = word.strip_prefix('!') {
        (n, State::Unspecified)
    } else if let Some((n, v)) = word.split_once('=') {
        (n, State::Value(v.to_string()))
    } else {
        (word, State::Set)
    };
    valid_attr_name(name).then(|| (name.to_string(), state))
}

impl AttrFile {
    /// Parses the file found in `dir` (repository-relative); `[attr]` macro definitions are
    /// honoured only in the root file, as git does.
    pub(crate) fn parse(dir: &str, text: &[u8]) -> AttrFile {
        let mut file = AttrFile {
            dir: dir.to_string(),
            rules: Vec::new(),
            macros: Vec::new(),
        };
        if text.len() > MAX_FILE {
            return file;
        }
        for line in text.split(|&b| b == b'\n') {
            if line.len() > MAX_LINE {
                continue;
            }
            // Non-UTF-8 lines cannot name UTF-8 paths msign signs; skip them.
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let line = line.trim_start_matches(BLANK);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, rest) = match unquote(line) {
                Some((pattern, rest)) => (pattern, rest),
                None => {
                    let end = line.find(BLANK).unwrap_or(line.len());
                    (line[..end].to_string(), &line[end..])
                }
            };
            // git warns about an invalid attribute and keeps the rest of the line.
            let states: Vec<(String, State)> = rest
                .split(BLANK)
                .filter(|w| !w.is_empty())
                .filter_map(parse_state)
                .collect();
            if let Some(name) = pattern.strip_prefix("[attr]") {
                if dir.is_empty() && valid_attr_name(name) {
                    file.macros.push((name.to_string(), states));
                }
                continue;
            }
            if pattern.starts_with('!') {
                continue;
            }
            let mut b = GitignoreBuilder::new(".");
            let built = b.add_line(None, &pattern).ok().and_then(|b| b.build().ok());
            if let Some(matcher) = built {
                file.rules.push(Rule { matcher, states });
            }
        }
        file
    }
}

/// The attribute files that apply at a point of a walk down the tree, root first.
#[derive(Default)]
pub(crate) struct Attributes {
    stack: Vec<AttrFile>,
    macros: HashMap<String, Vec<(String, State)>>,
}

impl Attributes {
    /// Enters a folder's attribute file (the root's first).
    pub(crate) fn push(&mut self, file: AttrFile) {
        if file.dir.is_empty() {
            self.macros = HashMap::from([(
                "binary".to_string(),
                vec![
                    ("diff".to_string(), State::Unset),
                    ("merge".to_string(), State::Unset),
                    ("text".to_string(), State::Unset),
                ],
            )]);
            // A later definition of the same macro wins.
            for (name, states) in &file.macros {
                self.macros.insert(name.clone(), states.clone());
            }
        }
        self.stack.push(file);
    }

    /// Leaves the folder entered last.
    pub(crate) fn pop(&mut self) {
        self.stack.pop();
    }

    /// Whether git checks the file at `path` (repository-relative) out through the Git LFS
    /// filter.
    pub(crate) fn is_lfs(&self, path: &str) -> bool {
        matches!(self.filter(path), Some(State::Value(v)) if v == "lfs")
    }

    /// The `filter` attribute of `path` as git resolves it: the deepest file first, its
    /// last matching line first, a line's last state first; the first decision on an
    /// attribute stands, and a set macro expands where it stands.
    fn filter(&self, path: &str) -> Option<State> {
        let mut decided: HashMap<&str, &State> = HashMap::new();
        for file in self.stack.iter().rev() {
            let rel = if file.dir.is_empty() {
                path
            } else {
                match path
                    .strip_prefix(file.dir.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(r) => r,
                    None => continue,
                }
            };
            for rule in file.rules.iter().rev() {
                if !rule.matcher.matched(rel, false).is_ignore() {
                    continue;
                }
                for (name, state) in rule.states.iter().rev() {
                    self.fill(name, state, &mut decided);
                }
                if let Some(state) = decided.get("filter") {
                    return Some((*state).clone());
                }
            }
        }
        None
    }

    fn fill<'a>(
        &'a self,
        name: &'a str,
        state: &'a State,
        decided: &mut HashMap<&'a str, &'a State>,
    ) {
        if decided.contains_key(name) {
            return;
        }
        decided.insert(name, state);
        // Each name is decided once, so a macro that names itself ends here too.
        if *state == State::Set {
            if let Some(expansion) = self.macros.get(name) {
                for (n, s) in expansion.iter().rev() {
                    self.fill(n, s, decided);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(files: &[(&str, &str)]) -> Attributes {
        let mut a = Attributes::default();
        for (dir, text) in files {
            a.push(AttrFile::parse(dir, text.as_bytes()));
        }
        a
    }

    #[test]
    fn later_lines_and_deeper_files_win() {
        let a = attrs(&[
            ("", "*.bin filter=lfs\nsmall.bin -filter\n"),
            ("sub", "*.bin !filter\nkeep/*.bin filter=lfs\n"),
        ]);
        assert!(a.is_lfs("w.bin"));
        assert!(a.is_lfs("deep/er/w.bin"));
        assert!(!a.is_lfs("small.bin"));
        assert!(!a.is_lfs("w.txt"));
        assert!(!a.is_lfs("sub/w.bin"));
        assert!(a.is_lfs("sub/keep/w.bin"));
        assert!(!a.is_lfs("sub/other/keep/w.bin"), "anchored below sub");
    }

    #[test]
    fn what_git_ignores_is_ignored() {
        let a = attrs(&[
            (
                "",
                "!*.bin filter=lfs\nd/ filter=lfs\n/a.bin filter\nb.bin filter=other\n",
            ),
            ("sub", "[attr]lfsy filter=lfs\n*.bin lfsy\n"),
        ]);
        for p in ["n.bin", "d", "d/x", "a.bin", "b.bin", "sub/s.bin"] {
            assert!(!a.is_lfs(p), "{p}");
        }
    }

    #[test]
    fn quoted_patterns_and_invalid_attributes_as_git_reads_them() {
        let a = attrs(&[(
            "",
            "\"a b.bin\" filter=lfs\n\"\\141.bin\"\tfilter=lfs\nx.bin filter=lfs bad=name$\n\"open.bin filter=lfs\n",
        )]);
        assert!(a.is_lfs("a b.bin"));
        assert!(a.is_lfs("a.bin"));
        assert!(
            a.is_lfs("x.bin"),
            "an invalid attribute leaves the rest of its line"
        );
        assert!(!a.is_lfs("open.bin"));
        assert!(
            a.is_lfs("\"open.bin"),
            "an unterminated quote is part of the pattern"
        );
    }

    #[test]
    fn macros_expand_in_place() {
        let a = attrs(&[(
            "",
            "[attr]big filter=lfs -text\n*.bin big\n*.raw -filter big\n*.pt big -filter\n*.nb -big\n",
        )]);
        assert!(a.is_lfs("w.bin"));
        assert!(a.is_lfs("w.raw"), "the macro comes last on its line");
        assert!(!a.is_lfs("w.pt"));
        assert!(!a.is_lfs("w.nb"), "an unset macro does not expand");
    }
}
