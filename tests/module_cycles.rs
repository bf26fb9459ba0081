//! The library is layered: no top-level module of `src/` may reach itself through `crate::`
//! references (`use crate::x`, `crate::x::f()`), so each module can be read, tested and
//! reused with only the modules below it. This reads the sources, builds the graph of
//! references between top-level modules and fails on any cycle, naming one reference
//! (file and line) for each edge of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One reference from a module to another: where it was seen.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/hub/api.rs` -> `hub`); `None` for the
/// crate root and the binaries.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" | "bin" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// The line without its `//` comment (doc links are not dependencies). A `//` inside a
/// string literal cuts a line short, which only loses references, never invents one.
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// The module names a line refers to with `crate::NAME` or `use crate::{NAME, ...}`.
fn referenced(line: &str, multi: &mut bool) -> Vec<String> {
    let mut names = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    // Inside a `use crate::{` group spread over lines: names after `{`, `,` or line start
    // at depth one.
    let mut rest = line;
    if *multi {
        let mut depth = 1;
        let mut start = true;
        for (i, c) in line.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        *multi = false;
                        rest = &line[i..];
                        break;
                    }
                }
                ',' if depth == 1 => start = true,
                c if c.is_whitespace() => {}
                _ if start && depth == 1 => {
                    names.push(ident(&line[i..]));
                    start = false;
                }
                _ => start = false,
            }
        }
        if *multi {
            return names;
        }
    }
    for (i, _) in rest.match_indices("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut start = true;
            let mut closed = false;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            closed = true;
                            break;
                        }
                    }
                    ',' if depth == 1 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 1 => {
                        names.push(ident(&group[j..]));
                        start = false;
                    }
                    _ => start = false,
                }
            }
            if !closed {
                *multi = true;
            }
        } else {
            names.push(ident(after));
        }
    }
    names
}

fn module_graph(src: &Path) -> (BTreeSet<String>, Edges) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(src, f)).collect();
    let mut edges = Edges::new();
    for file in &files {
        let Some(from) = top_module(src, file) else {
            continue;
        };
        let text = fs::read_to_string(file).expect("read source");
        let mut multi = false;
        for (n, line) in text.lines().enumerate() {
            for to in referenced(code(line), &mut multi) {
                if to != from && modules.contains(&to) {
                    edges
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| {
                            let rel = file
                                .strip_prefix(src.parent().expect("repo"))
                                .unwrap_or(file);
                            format!("{}:{}", rel.display(), n + 1)
                        });
                }
            }
        }
    }
    (modules, edges)
}

/// A shortest cycle through `start`, as the list of modules along it.
fn cycle_through(start: &str, edges: &Edges) -> Option<Vec<String>> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.to_string()]);
    while let Some(m) = queue.pop_front() {
        for next in edges.get(&m).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                let mut path = vec![m.clone()];
                while let Some(p) = prev.get(path.last().expect("non-empty")) {
                    path.push(p.clone());
                }
                path.reverse();
                return Some(path);
            }
            if !prev.contains_key(next) && next != start {
                prev.insert(next.clone(), m.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (modules, edges) = module_graph(&src);
    assert!(
        modules.contains("sign") && modules.contains("verify"),
        "{modules:?}"
    );
    let mut seen = BTreeSet::new();
    let mut report = Vec::new();
    for m in &modules {
        let Some(cycle) = cycle_through(m, &edges) else {
            continue;
        };
        let mut key = cycle.clone();
        key.sort();
        if !seen.insert(key) {
            continue;
        }
        let mut text = format!("cycle: {} -> {}", cycle.join(" -> "), cycle[0]);
        for (i, from) in cycle.iter().enumerate() {
            let to = &cycle[(i + 1) % cycle.len()];
            text.push_str(&format!("\n  {from} -> {to}: {}", edges[from][to]));
        }
        report.push(text);
    }
    assert!(
        report.is_empty(),
        "modules of src/ that reach themselves (move the shared item down a layer):\n{}",
        report.join("\n")
    );
}

#[test]
fn references_are_read_from_paths_and_groups() {
    let mut multi = false;
    assert_eq!(
        referenced("use crate::hash::{Hashed, X};", &mut multi),
        ["hash"]
    );
    assert_eq!(
        referenced(
            "use crate::{error::Error, sign::{a, b}, verify};",
            &mut multi
        ),
        ["error", "sign", "verify"]
    );
    assert!(!multi);
    assert_eq!(referenced("use crate::{", &mut multi), Vec::<String>::new());
    assert!(multi);
    assert_eq!(referenced("    hub::{x, y},", &mut multi), ["hub"]);
    assert_eq!(referenced("    store};", &mut multi), ["store"]);
    assert!(!multi);
    assert_eq!(code("x(); // see crate::git"), "x(); ");
}
