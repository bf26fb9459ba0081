//! The manifest: every resource of a model (a file or a shard of one) paired with its digest.
//!
//! Hashing produces a manifest, signing turns it into an in-toto statement, verification
//! rebuilds one from the statement and compares it with a fresh one. Names, ordering and
//! algorithm labels follow `model_signing` exactly, because they are part of what is signed.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::error::{ChangedFile, Error, ManifestDiff, Mismatch, Result};

/// A hash algorithm usable for resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256, the reference's default.
    Sha256,
    /// BLAKE2b with a 64-byte digest (`hashlib.blake2b()`).
    Blake2b,
    /// BLAKE3 with a 32-byte digest.
    Blake3,
}

impl HashAlgorithm {
    /// The name written in `hash_type` and in resource `algorithm` fields.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Parses a name as given on the command line (`blake2` is the reference's
    /// spelling in its API) or as written in a statement.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "blake2" | "blake2b" => Ok(HashAlgorithm::Blake2b),
            "blake3" => Ok(HashAlgorithm::Blake3),
            other => Err(Error::Usage(format!(
                "unknown hash algorithm '{other}' (expected sha256, blake2b or blake3)"
            ))),
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Blake2b => 64,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reference's default shard size (1 GB, decimal).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// How a model is cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One resource per file (`"method": "files"`).
    Files,
    /// Files cut into shards of `shard_size` bytes (`"method": "shards"`).
    Shards {
        /// Bytes per shard; the last shard of a file may be shorter.
        shard_size: u64,
    },
}

/// The serialization parameters recorded in the statement's predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// Files or shards.
    pub method: Method,
    /// Algorithm of every resource digest.
    pub hash: HashAlgorithm,
    /// Whether symbolic links were followed.
    pub allow_symlinks: bool,
    /// Ignored paths and patterns, as recorded (model-relative).
    pub ignore_paths: Vec<String>,
}

impl Serialization {
    /// File serialization with the given algorithm.
    pub fn files(hash: HashAlgorithm) -> Self {
        Serialization {
            method: Method::Files,
            hash,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        }
    }

    /// The label of each resource digest: `sha256`, or `sha256-sharded-1000` for shards.
    pub fn resource_algorithm(&self) -> String {
        match self.method {
            Method::Files => self.hash.name().to_string(),
            Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", self.hash.name()),
        }
    }
}

/// A validated path relative to the model root, POSIX separators, no `.` or `..`
/// components. The single resource of a one-file model is named `.`, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelPath(String);

impl ModelPath {
    /// The name of the only resource of a model that is a single file.
    pub fn single_file() -> Self {
        ModelPath(".".to_string())
    }

    /// Checks a name taken from outside (a signature, a server, a git tree).
    pub fn parse(s: &str) -> Result<Self> {
        if s == "." {
            return Ok(Self::single_file());
        }
        let bad = |why: &str| {
            Err(Error::MalformedSignature(format!(
                "resource path {s:?} {why}"
            )))
        };
        if s.is_empty() {
            return bad("is empty");
        }
        if s.starts_with('/') {
            return bad("is absolute");
        }
        if s.contains('\0') {
            return bad("contains a NUL byte");
        }
        for part in s.split('/') {
            match part {
                "" => return bad("has an empty component"),
                "." | ".." => return bad("has a '.' or '..' component"),
                _ => {}
            }
        }
        Ok(ModelPath(s.to_string()))
    }

    /// Joins validated components (used by sources that walk a tree).
    pub fn from_components<'a>(parts: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let joined = parts.into_iter().collect::<Vec<_>>().join("/");
        Self::parse(&joined)
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Orders paths component by component, like Python's `PurePosixPath` (`a/b` < `a.txt`).
/// Mapping `/` to the lowest byte gives that order on the raw UTF-8 bytes, which in turn
/// is code point order, as Python compares strings.
fn cmp_paths(a: &str, b: &str) -> Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { c };
    a.bytes().map(key).cmp(b.bytes().map(key))
}

impl Ord for ModelPath {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_paths(&self.0, &other.0)
    }
}

impl PartialOrd for ModelPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a resource is: a whole file or the byte range `[start, end)` of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKey {
    /// A whole file.
    File(ModelPath),
    /// A shard of a file.
    Shard {
        /// The file.
        path: ModelPath,
        /// First byte (included).
        start: u64,
        /// Last byte (excluded).
        end: u64,
    },
}

impl ResourceKey {
    /// The model path the resource belongs to.
    pub fn path(&self) -> &ModelPath {
        match self {
            ResourceKey::File(p) | ResourceKey::Shard { path: p, .. } => p,
        }
    }

    /// Parses a resource name as written in a statement for the given method.
    pub fn parse(name: &str, method: Method) -> Result<Self> {
        match method {
            Method::Files => Ok(ResourceKey::File(ModelPath::parse(name)?)),
            Method::Shards { shard_size } => {
                // Split from the right so file names may contain ':' themselves.
                let mut parts = name.rsplitn(3, ':');
                let (end, start, path) = match (parts.next(), parts.next(), parts.next()) {
                    (Some(e), Some(s), Some(p)) => (e, s, p),
                    _ => {
                        return Err(Error::MalformedSignature(format!(
                            "shard name {name:?} is not PATH:START:END"
                        )))
                    }
                };
                let num = |s: &str| {
                    s.parse::<u64>().map_err(|_| {
                        Error::MalformedSignature(format!("shard name {name:?} has a bad offset"))
                    })
                };
                let (start, end) = (num(start)?, num(end)?);
                // Shards start at multiples of the shard size; any other start cannot come
                // from a signer and would only surface later as a confusing mismatch.
                if end <= start || end - start > shard_size || start % shard_size != 0 {
                    return Err(Error::MalformedSignature(format!(
                        "shard {name:?} is empty, larger than the shard size {shard_size}, or not aligned to it"
                    )));
                }
                Ok(ResourceKey::Shard {
                    path: ModelPath::parse(path)?,
                    start,
                    end,
                })
            }
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceKey::File(p) => write!(f, "{p}"),
            ResourceKey::Shard { path, start, end } => write!(f, "{path}:{start}:{end}"),
        }
    }
}

/// A digest with the label of the algorithm that made it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    /// `sha256`, `blake2b`, `blake3` or `<alg>-sharded-<size>`.
    pub algorithm: String,
    /// Raw digest bytes.
    pub value: Vec<u8>,
}

impl Digest {
    /// Hex form as written in statements.
    pub fn hex(&self) -> String {
        hex::encode(&self.value)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex())
    }
}

/// A model's resources and their digests, with the parameters that produced them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Informative name (last component of the model path); not compared on verification.
    pub model_name: String,
    /// How the resources were made.
    pub serialization: Serialization,
    /// Resources in canonical order.
    pub resources: BTreeMap<ResourceKey, Digest>,
}

impl Manifest {
    /// The subject digest: SHA-256 over the concatenated resource digests in canonical order.
    pub fn root_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for d in self.resources.values() {
            h.update(&d.value);
        }
        h.finalize().into()
    }

    /// Total number of distinct files named by the resources.
    pub fn file_count(&self) -> usize {
        let mut last: Option<&ModelPath> = None;
        let mut n = 0;
        for k in self.resources.keys() {
            if last != Some(k.path()) {
                n += 1;
                last = Some(k.path());
            }
        }
        n
    }
}

impl ManifestDiff {
    /// Compares resources (names and digests; model names are informative only).
    pub fn between(
        expected: &BTreeMap<ResourceKey, Digest>,
        actual: &BTreeMap<ResourceKey, Digest>,
    ) -> Self {
        let mut missing = Vec::new();
        let mut mismatched = Vec::new();
        for (k, d) in expected {
            match actual.get(k) {
                None => missing.push(k),
                Some(a) if a != d => mismatched.push((k, d, a)),
                Some(_) => {}
            }
        }
        let mut extra: Vec<&ResourceKey> = actual
            .keys()
            .filter(|k| !expected.contains_key(k))
            .collect();
        let mut diff = ManifestDiff::default();
        // A file signed by shards that is still in the model but changed is one changed
        // file, not shards missing, extra or mismatched (an edit that changes the size
        // gives a missing last shard and an extra one).
        let sizes = shard_file_sizes(expected, actual);
        if !sizes.is_empty() {
            let mut ranges: BTreeMap<ModelPath, Vec<[u64; 2]>> = BTreeMap::new();
            let mut take = |k: &ResourceKey| match k {
                ResourceKey::Shard { path, start, end } if sizes.contains_key(path) => {
                    ranges.entry(path.clone()).or_default().push([*start, *end]);
                    false
                }
                _ => true,
            };
            missing.retain(|k| take(k));
            extra.retain(|k| take(k));
            mismatched.retain(|(k, _, _)| take(k));
            for (p, r) in ranges {
                let (signed_bytes, bytes) = sizes[&p];
                diff.changed_files.push(ChangedFile {
                    name: p.to_string(),
                    signed_bytes,
                    bytes,
                    ranges: merge_ranges(r),
                });
            }
        }
        diff.missing = missing.iter().map(|k| k.to_string()).collect();
        diff.extra = extra.iter().map(|k| k.to_string()).collect();
        diff.mismatched = mismatched
            .into_iter()
            .map(|(k, d, a)| Mismatch {
                name: k.to_string(),
                expected: d.to_string(),
                actual: a.to_string(),
            })
            .collect();
        diff.pair_unicode_forms();
        diff
    }
}

/// The files with shards on both sides, with their size when signed and now (the end of
/// their last shard).
fn shard_file_sizes<'a>(
    expected: &'a BTreeMap<ResourceKey, Digest>,
    actual: &'a BTreeMap<ResourceKey, Digest>,
) -> BTreeMap<&'a ModelPath, (u64, u64)> {
    let ends = |m: &'a BTreeMap<ResourceKey, Digest>| {
        let mut e: BTreeMap<&'a ModelPath, u64> = BTreeMap::new();
        for k in m.keys() {
            if let ResourceKey::Shard { path, end, .. } = k {
                let v = e.entry(path).or_default();
                *v = (*v).max(*end);
            }
        }
        e
    };
    let signed = ends(expected);
    if signed.is_empty() {
        return BTreeMap::new();
    }
    let mut now: BTreeMap<&'a ModelPath, u64> = BTreeMap::new();
    for k in actual.keys() {
        if let ResourceKey::Shard { path, end, .. } = k {
            if signed.contains_key(path) {
                let v = now.entry(path).or_default();
                *v = (*v).max(*end);
            }
        }
    }
    now.into_iter().map(|(p, n)| (p, (signed[p], n))).collect()
}

/// Sorts byte ranges and merges those that touch or overlap.
fn merge_ranges(mut r: Vec<[u64; 2]>) -> Vec<[u64; 2]> {
    r.sort_unstable();
    let mut merged: Vec<[u64; 2]> = Vec::new();
    for [a, b] in r {
        match merged.last_mut() {
            Some(last) if a <= last[1] => last[1] = last[1].max(b),
            _ => merged.push([a, b]),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sort_component_wise_like_python() {
        let mut v: Vec<ModelPath> = ["a.txt", "a/b", "a", "a b", "ab", "é", "z"]
            .iter()
            .map(|s| ModelPath::parse(s).unwrap())
            .collect();
        v.sort();
        let got: Vec<&str> = v.iter().map(|p| p.as_str()).collect();
        assert_eq!(got, ["a", "a/b", "a b", "a.txt", "ab", "z", "é"]);
    }

    #[test]
    fn hostile_names_are_rejected() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "./a",
            "a/",
            "a\0b",
        ] {
            assert!(ModelPath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn shard_names_parse_from_the_right() {
        let m = Method::Shards { shard_size: 10 };
        let k = ResourceKey::parse("we:ird:0:10", m).unwrap();
        assert_eq!(k.to_string(), "we:ird:0:10");
        assert!(ResourceKey::parse("f:0:11", m).is_err());
        assert!(ResourceKey::parse("f:5:5", m).is_err());
        assert!(ResourceKey::parse("f:x:5", m).is_err());
    }
}
