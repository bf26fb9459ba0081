//! `hub download --include GLOB --exclude GLOB`: which repository files to fetch, with
//! huggingface_hub's rules (`filter_repo_objects`): shell patterns as Python's `fnmatch`
//! reads them, matched against the whole repository path (`*` crosses `/`), a pattern
//! ending in `/` standing for everything below that folder; a file is fetched when it
//! matches an include pattern (or none was given) and no exclude pattern.

/// One piece of a pattern.
#[derive(Debug, Clone)]
enum Token {
    /// `*`: any run of characters, `/` included.
    Star,
    /// `?`: one character.
    Any,
    /// `[...]` or `[!...]`: one character in (or not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// Itself.
    Lit(char),
}

/// A compiled shell pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles `p` as `fnmatch` does (no escapes; `[` without `]` is literal).
    pub fn new(p: &str) -> Pattern {
        let text = if p.ends_with('/') {
            format!("{p}*")
        } else {
            p.to_string()
        };
        let chars: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => match class(&chars, i) {
                    Some((tok, next)) => {
                        tokens.push(tok);
                        i = next;
                    }
                    None => tokens.push(Token::Lit('[')),
                },
                c => tokens.push(Token::Lit(c)),
            }
        }
        Pattern { text, tokens }
    }

    /// The pattern as given (with `*` added after a trailing `/`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let (mut p, mut n) = (0, 0);
        // Where the last `*` was, and where in the name it restarts: greedy matching with
        // one backtrack point is exact for patterns whose only variable part is `*`.
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                Some(t) if one(t, name[n]) => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            }
        }
        self.tokens[p..].iter().all(|t| matches!(t, Token::Star))
    }
}

/// Whether the single-character token `t` takes `c`.
fn one(t: &Token, c: char) -> bool {
    match t {
        Token::Any => true,
        Token::Lit(l) => *l == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
        }
        Token::Star => false,
    }
}

/// Parses a class starting after `[` at `i`; `None` when it never closes.
fn class(chars: &[char], mut i: usize) -> Option<(Token, usize)> {
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|e| *e != ']') {
            let hi = chars[i + 2];
            // A reversed range matches nothing, as in Python.
            if c <= hi {
                ranges.push((c, hi));
            }
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

/// Which files `hub download` fetches.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Selection {
    /// Every file.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Files matching one of `include` (all when empty) and none of `exclude`.
    pub fn new(include: &[String], exclude: &[String]) -> Selection {
        Selection {
            include: include.iter().map(|p| Pattern::new(p)).collect(),
            exclude: exclude.iter().map(|p| Pattern::new(p)).collect(),
        }
    }

    /// Whether it leaves any file out.
    pub fn is_all(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether `path` (repository-relative) is fetched.
    pub fn selects(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(path)))
            && !self.exclude.iter().any(|p| p.matches(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_rules() {
        let m = |p: &str, n: &str| Pattern::new(p).matches(n);
        assert!(m("*.json", "config.json"));
        assert!(m("*.json", "sub/dir/config.json"), "* crosses /");
        assert!(!m("*.json", "config.json.bak"));
        assert!(m("onnx/", "onnx/model.onnx"));
        assert!(!m("onnx/", "onnx"));
        assert!(m(
            "model-?????-of-*.safetensors",
            "model-00001-of-00002.safetensors"
        ));
        assert!(m("[!.]*", "model.bin"));
        assert!(!m("[!.]*", ".gitattributes"));
        assert!(m("[a-c]x", "bx") && !m("[a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("a[", "a["), "an unclosed class is literal");
        assert!(m("{a,b}", "{a,b}"), "no alternation in fnmatch");
        assert!(m("a\\b", "a\\b"), "no escapes in fnmatch");
        assert!(m("*a*b*", "xxaxxbxx") && !m("*a*b*", "xxbxxaxx"));
        assert!(m("**", "") && !m("?", ""));
        assert!(!m("weights/*.bin", "weights.bin"));
        assert!(m("Model.BIN", "Model.BIN") && !m("model.bin", "Model.BIN"));
    }

    #[test]
    fn include_then_exclude() {
        let s = Selection::new(&["*.json".into(), "weights/".into()], &["*/part-2*".into()]);
        assert!(s.selects("config.json"));
        assert!(s.selects("weights/part-1.bin"));
        assert!(!s.selects("weights/part-2.bin"));
        assert!(!s.selects("model.safetensors"));
        let only_exclude = Selection::new(&[], &["*.safetensors".into()]);
        assert!(only_exclude.selects("config.json"));
        assert!(!only_exclude.selects("model.safetensors"));
        assert!(Selection::all().is_all() && Selection::all().selects("x"));
    }
}
