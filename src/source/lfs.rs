//! Git LFS pointer files and the local LFS object store.
//!
//! A pointer stands for a file whose content lives outside git. Its `oid` is the SHA-256 of
//! that content, so with SHA-256 file serialization the pointer alone gives the manifest
//! entry. Parsing follows the spec (git-lfs `docs/spec.md`) strictly: a blob that is not a
//! valid pointer is an ordinary file and is hashed as it is, which is also what a checkout
//! holds for it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest as _, Sha256};

use crate::source::Content;

/// The only version line this parser accepts.
pub const VERSION_V1: &str = "https://git-lfs.github.com/spec/v1";

/// Pointer files are smaller than this many bytes (the spec's and git-lfs's cut-off).
pub const MAX_POINTER_SIZE: usize = 1024;

/// A parsed Git LFS pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// SHA-256 of the content.
    pub oid: [u8; 32],
    /// Size of the content in bytes.
    pub size: u64,
}

/// Why a blob that looks like a pointer cannot be used as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointerError {
    /// Not a pointer at all; hash the blob as content.
    NotPointer,
    /// A valid v1 pointer with extension keys (`ext-0-...`), whose content msign cannot
    /// reproduce without running the extension programs.
    Extensions,
}

impl Pointer {
    /// The oid as lowercase hex, as the LFS store names objects.
    pub fn oid_hex(&self) -> String {
        hex::encode(self.oid)
    }

    /// Parses a blob as a pointer.
    pub fn parse(blob: &[u8]) -> Result<Pointer, PointerError> {
        use PointerError::NotPointer;
        if blob.len() >= MAX_POINTER_SIZE || !blob.ends_with(b"\n") {
            return Err(NotPointer);
        }
        let text = std::str::from_utf8(blob).map_err(|_| NotPointer)?;
        let mut lines = text[..text.len() - 1].split('\n');
        if lines.next() != Some(&format!("version {VERSION_V1}")[..]) {
            return Err(NotPointer);
        }
        let (mut oid, mut size, mut ext) = (None, None, false);
        let mut previous: Option<&str> = None;
        for line in lines {
            let (key, value) = line.split_once(' ').ok_or(NotPointer)?;
            let key_ok = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
            // Keys after the version line are unique and sorted.
            if !key_ok || previous.is_some_and(|p| p >= key) || value.contains('\r') {
                return Err(NotPointer);
            }
            previous = Some(key);
            match key {
                "oid" => oid = Some(parse_oid(value).ok_or(NotPointer)?),
                "size" => size = Some(parse_size(value).ok_or(NotPointer)?),
                "version" => return Err(NotPointer),
                k if k.starts_with("ext-") => ext = true,
                _ => return Err(NotPointer),
            }
        }
        match (oid, size) {
            (Some(_), Some(_)) if ext => Err(PointerError::Extensions),
            (Some(oid), Some(size)) => Ok(Pointer { oid, size }),
            _ => Err(NotPointer),
        }
    }
}

fn parse_oid(value: &str) -> Option<[u8; 32]> {
    let hexpart = value.strip_prefix("sha256:")?;
    if hexpart.len() != 64
        || !hexpart
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hexpart, &mut out).ok()?;
    Some(out)
}

fn parse_size(value: &str) -> Option<u64> {
    let canonical = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return None;
    }
    value.parse().ok()
}

/// The local LFS object store of a repository.
#[derive(Debug, Clone)]
pub struct LfsStore {
    objects: PathBuf,
}

impl LfsStore {
    /// The store at `<storage>/objects`; `storage` is `lfs.storage` resolved against the
    /// git directory, or `<git-common-dir>/lfs`.
    pub fn new(storage: PathBuf) -> Self {
        LfsStore {
            objects: storage.join("objects"),
        }
    }

    /// The `objects` folder.
    pub fn objects_dir(&self) -> &Path {
        &self.objects
    }

    /// Where the object of `pointer` lives: `objects/aa/bb/aabb...`.
    pub fn object_path(&self, pointer: &Pointer) -> PathBuf {
        let h = pointer.oid_hex();
        self.objects.join(&h[0..2]).join(&h[2..4]).join(&h)
    }

    /// The object's path if it is present with the pointer's size.
    pub fn present(&self, pointer: &Pointer) -> Option<PathBuf> {
        let p = self.object_path(pointer);
        let meta = std::fs::metadata(&p).ok()?;
        (meta.is_file() && meta.len() == pointer.size).then_some(p)
    }
}

/// The content of a local LFS object: its SHA-256 is checked against the pointer before
/// any byte is hashed, once per object however many shards read it.
pub fn checked_object(path: PathBuf, pointer: &Pointer) -> Content {
    let expected = pointer.oid;
    let verdict: Arc<OnceLock<Result<(), String>>> = Arc::new(OnceLock::new());
    let file = path.clone();
    Content::CheckedFile {
        path,
        check: Arc::new(move || {
            verdict
                .get_or_init(|| check_object(&file, &expected))
                .clone()
                .map_err(|msg| std::io::Error::new(std::io::ErrorKind::InvalidData, msg))
        }),
    }
}

fn check_object(path: &Path, expected: &[u8; 32]) -> Result<(), String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let got: [u8; 32] = h.finalize().into();
    if &got != expected {
        return Err(format!(
            "local Git LFS object {} has sha256 {}, not the pointer's oid; delete it and run `git lfs fetch` again",
            path.display(),
            hex::encode(got)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

    fn ptr(body: &str) -> Result<Pointer, PointerError> {
        Pointer::parse(body.as_bytes())
    }

    #[test]
    fn valid_pointer_parses() {
        let p = ptr(&format!(
            "version {VERSION_V1}\noid sha256:{OID}\nsize 12345\n"
        ))
        .unwrap();
        assert_eq!(p.size, 12345);
        assert_eq!(p.oid_hex(), OID);
    }

    #[test]
    fn near_misses_are_content() {
        let good = format!("version {VERSION_V1}\noid sha256:{OID}\nsize 12345\n");
        let cases = [
            good.replace('\n', "\r\n"),
            good.trim_end().to_string(),
            good.replace("size 12345", "size 012345"),
            good.replace("size 12345", "size +12345"),
            good.replace("size 12345", "size -1"),
            good.replace("size 12345", "size 99999999999999999999999"),
            good.replace(OID, &OID.to_uppercase()),
            good.replace(OID, &OID[1..]),
            good.replace("sha256:", "sha1:"),
            format!("version {VERSION_V1}\nsize 12345\noid sha256:{OID}\n"),
            format!("oid sha256:{OID}\nversion {VERSION_V1}\nsize 12345\n"),
            format!("version https://example.com/spec/v1\noid sha256:{OID}\nsize 1\n"),
            format!("version {VERSION_V1}\noid sha256:{OID}\n"),
            format!("version {VERSION_V1}\noid sha256:{OID}\nsize 1\nzzz x\n"),
            format!("version {VERSION_V1}\noid sha256:{OID}\noid sha256:{OID}\nsize 1\n"),
            format!("{good}{}", " ".repeat(1100)),
            format!("version {VERSION_V1}\noid  sha256:{OID}\nsize 1\n"),
        ];
        for c in cases {
            assert_eq!(ptr(&c), Err(PointerError::NotPointer), "{c:?}");
        }
    }

    #[test]
    fn extensions_are_recognised() {
        let p = format!("version {VERSION_V1}\next-0-foo sha256:{OID}\noid sha256:{OID}\nsize 3\n");
        assert_eq!(ptr(&p), Err(PointerError::Extensions));
    }
}
