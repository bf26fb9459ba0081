//! Which PKCS #11 module (shared library) to load for a URI.
//!
//! Order: the URI's `module-path` (a file, or a folder searched for `module-name`), then the
//! caller's module path (same forms), then `module-name` searched in the caller's module
//! folders or else the usual ones, as model_signing does.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sign::pkcs11::uri::Pkcs11Uri;

/// Folders searched for `module-name`: model_signing's two, plus Debian's multiarch folder.
pub fn default_module_directories() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/usr/lib64/pkcs11/"),
        PathBuf::from("/usr/lib/pkcs11/"),
        PathBuf::from(format!(
            "/usr/lib/{}-linux-gnu/pkcs11/",
            std::env::consts::ARCH
        )),
    ]
}

fn module_error(what: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::KeyMaterial {
        what: what.into(),
        reason: reason.into(),
    }
}

/// Resolves the module to load. `fallback` is `--module-path` (a file or a folder);
/// `directories` replace the usual folders searched for `module-name` when not empty
/// (model_signing's `module_paths`).
pub fn resolve_module(
    uri: &Pkcs11Uri,
    fallback: Option<&Path>,
    directories: &[PathBuf],
) -> Result<PathBuf> {
    let name = uri.module_name();
    if let Some(p) = uri.module_path() {
        return file_or_search(Path::new(OsStr::from_bytes(p)), name, "module-path");
    }
    if let Some(p) = fallback {
        return file_or_search(p, name, "--module-path");
    }
    match name {
        Some(n) if directories.is_empty() => search(&default_module_directories(), n),
        Some(n) => search(directories, n),
        None => Err(Error::Usage(
            "the PKCS #11 URI names no module: add ?module-path=/path/to/module.so \
             (or module-name=NAME) to it, or pass --module-path"
                .into(),
        )),
    }
}

fn file_or_search(path: &Path, name: Option<&[u8]>, origin: &str) -> Result<PathBuf> {
    let meta = std::fs::metadata(path).map_err(|e| {
        module_error(
            path.display().to_string(),
            format!("PKCS #11 module ({origin}) not usable: {e}"),
        )
    })?;
    if meta.is_file() {
        return Ok(path.to_path_buf());
    }
    if !meta.is_dir() {
        return Err(module_error(
            path.display().to_string(),
            format!("{origin} is neither a module file nor a folder"),
        ));
    }
    match name {
        Some(n) => search(&[path.to_path_buf()], n),
        None => Err(module_error(
            path.display().to_string(),
            format!("{origin} is a folder; name the module in it with module-name=NAME"),
        )),
    }
}

/// Finds `NAME` or `NAME.*` (case-insensitive, anywhere in the file name, as
/// model_signing matches) in the folders, in sorted order so the choice is stable.
fn search(dirs: &[PathBuf], name: &[u8]) -> Result<PathBuf> {
    let wanted = name.to_ascii_lowercase();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let Some(file_name) = f.file_name() else {
                continue;
            };
            if name_matches(&file_name.as_bytes().to_ascii_lowercase(), &wanted) && f.is_file() {
                return Ok(f);
            }
        }
    }
    let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(module_error(
        format!("module-name={}", String::from_utf8_lossy(name)),
        format!(
            "no PKCS #11 module of that name in {}; give its path with module-path= or --module-path",
            list.join(", ")
        ),
    ))
}

fn name_matches(file: &[u8], wanted: &[u8]) -> bool {
    if wanted.is_empty() {
        return false;
    }
    (0..file.len()).any(|i| {
        file[i..].starts_with(wanted) && matches!(file.get(i + wanted.len()), None | Some(b'.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_words_before_a_dot() {
        assert!(name_matches(b"libsofthsm2.so", b"softhsm2"));
        assert!(name_matches(b"opensc-pkcs11.so", b"opensc-pkcs11"));
        assert!(name_matches(b"p11", b"p11"));
        assert!(!name_matches(b"libsofthsm2.so", b"softhsm"));
        assert!(!name_matches(b"libsofthsm2.so", b""));
    }

    #[test]
    fn search_picks_the_named_module_in_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libother.so"), b"").unwrap();
        std::fs::write(dir.path().join("libMine.so.1"), b"").unwrap();
        let uri = Pkcs11Uri::parse(&format!(
            "pkcs11:object=k?module-path={}&module-name=mine",
            dir.path().display()
        ))
        .unwrap();
        assert_eq!(
            resolve_module(&uri, None, &[]).unwrap(),
            dir.path().join("libMine.so.1")
        );
        // The caller's folders replace the usual ones for a bare module-name.
        let by_name = Pkcs11Uri::parse("pkcs11:object=k?module-name=mine").unwrap();
        assert_eq!(
            resolve_module(&by_name, None, &[dir.path().to_path_buf()]).unwrap(),
            dir.path().join("libMine.so.1")
        );
        let e = resolve_module(&by_name, None, &[dir.path().join("absent")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent") && !e.contains("/usr/lib"), "{e}");
        let uri = Pkcs11Uri::parse("pkcs11:object=k?module-name=absent-module").unwrap();
        let e = resolve_module(&uri, Some(dir.path()), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no PKCS #11 module"), "{e}");
        let uri = Pkcs11Uri::parse("pkcs11:object=k").unwrap();
        let e = resolve_module(&uri, None, &[]).unwrap_err().to_string();
        assert!(e.contains("names no module"), "{e}");
    }
}
