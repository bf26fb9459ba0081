//! Manifests as JSON files: what `msign digest --json` writes, read back to sign a manifest
//! computed elsewhere (`msign sign --from-manifest`) or to merge the manifests of several
//! machines (`msign manifest merge`).
//!
//! The file comes from outside and is about to be signed, so it is checked as hostile input:
//! names are model paths (no absolute paths, `..`, empty or NUL components), algorithm labels
//! match the serialization, digests have the algorithm's length, nothing is listed twice,
//! shards tile each file exactly, and the recorded subject digest matches the resources.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::bundle::statement::parse_serialization;
use crate::error::{Error, Result};
use crate::manifest::{Digest, Manifest, Method, ModelPath, ResourceKey};

/// Largest manifest file accepted (a million resources is about 200 MB).
pub const MAX_MANIFEST_BYTES: u64 = 512 << 20;

fn bad(msg: impl Into<String>) -> Error {
    Error::Usage(format!("invalid manifest: {}", msg.into()))
}

/// Parses and checks a manifest written by `msign digest --json`.
pub fn parse(bytes: &[u8]) -> Result<Manifest> {
    parse_with_size(bytes).map(|(m, _)| m)
}

/// Parses and checks a manifest, with the bytes of model it covers when known: the sum
/// of the shards for a shard manifest, the recorded `bytes` for a file manifest (`msign
/// digest --json` writes it; a merged or older file manifest has none).
pub fn parse_with_size(bytes: &[u8]) -> Result<(Manifest, Option<u64>)> {
    let v: Json = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let model_name = v
        .get("model_name")
        .and_then(Json::as_str)
        .ok_or_else(|| bad("no 'model_name' string"))?;
    if model_name.chars().any(char::is_control) || model_name.len() > 4096 {
        return Err(bad("model_name has control characters or is too long"));
    }
    let ser_json = v
        .get("serialization")
        .ok_or_else(|| bad("no 'serialization'"))?;
    let serialization = parse_serialization(ser_json).map_err(|e| bad(e.to_string()))?;
    let label = serialization.resource_algorithm();
    let list = v
        .get("resources")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("no 'resources' list"))?;
    let mut resources = BTreeMap::new();
    for r in list {
        let field = |k: &str| {
            r.get(k)
                .and_then(Json::as_str)
                .ok_or_else(|| bad(format!("a resource has no '{k}' string")))
        };
        let name = field("name")?;
        let key = ResourceKey::parse(name, serialization.method).map_err(|e| bad(e.to_string()))?;
        let alg = field("algorithm")?;
        if alg != label {
            return Err(bad(format!(
                "resource {name:?} uses '{alg}' but the serialization says '{label}'"
            )));
        }
        let value = hex::decode(field("digest")?)
            .map_err(|_| bad(format!("resource {name:?}: digest is not hex")))?;
        if value.len() != serialization.hash.digest_len() {
            return Err(bad(format!(
                "resource {name:?}: digest has {} bytes, {} has {}",
                value.len(),
                serialization.hash,
                serialization.hash.digest_len()
            )));
        }
        let digest = Digest {
            algorithm: label.clone(),
            value,
        };
        if resources.insert(key, digest).is_some() {
            return Err(bad(format!("resource {name:?} is listed twice")));
        }
    }
    let manifest = Manifest {
        model_name: model_name.to_string(),
        serialization,
        resources,
    };
    check_shape(&manifest)?;
    if let Some(d) = v.get("digest") {
        let recorded = d
            .get("sha256")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("'digest' has no 'sha256' string"))?;
        if recorded != hex::encode(manifest.root_digest()) {
            return Err(bad(
                "the recorded digest does not match the resources (edited or truncated file)",
            ));
        }
    }
    let recorded = match v.get("bytes") {
        None => None,
        Some(b) => Some(
            b.as_u64()
                .ok_or_else(|| bad("'bytes' is not a byte count"))?,
        ),
    };
    let size = match (shard_bytes(&manifest), recorded) {
        (Some(s), Some(r)) if s != r => {
            return Err(bad(format!(
                "'bytes' says {r} but the shards cover {s} bytes"
            )))
        }
        (Some(s), _) => Some(s),
        (None, r) => r,
    };
    Ok((manifest, size))
}

/// The bytes a shard manifest covers (its shards tile each file); `None` for files.
fn shard_bytes(m: &Manifest) -> Option<u64> {
    matches!(m.serialization.method, Method::Shards { .. }).then(|| {
        m.resources
            .keys()
            .map(|k| match k {
                ResourceKey::Shard { start, end, .. } => end - start,
                ResourceKey::File(_) => 0,
            })
            .sum()
    })
}

/// Checks what hashing a real model always gives: a single-file model has exactly one
/// resource, and the shards of each file start at 0 and follow each other, each of the
/// shard size but the last.
pub fn check_shape(m: &Manifest) -> Result<()> {
    let single = ModelPath::single_file();
    if m.resources.keys().any(|k| k.path() == &single) && m.file_count() > 1 {
        return Err(bad(
            "'.' (a single-file model) listed together with other files",
        ));
    }
    if let Method::Shards { shard_size } = m.serialization.method {
        let mut expected: BTreeMap<&ModelPath, u64> = BTreeMap::new();
        let mut last_short: BTreeSet<&ModelPath> = BTreeSet::new();
        for k in m.resources.keys() {
            let ResourceKey::Shard { path, start, end } = k else {
                return Err(bad("a whole-file resource in a shard manifest"));
            };
            let next = expected.entry(path).or_insert(0);
            if *start != *next || last_short.contains(path) {
                return Err(bad(format!(
                    "shards of {path} do not follow each other (gap or overlap at {start})"
                )));
            }
            if end - start < shard_size {
                last_short.insert(path);
            }
            *next = *end;
        }
    }
    Ok(())
}

/// Merges manifests of disjoint parts of one model (hashed on different machines).
/// All must share the serialization and, unless `model_name` is given, the model name; a
/// resource listed twice must have the same digest.
pub fn merge(parts: Vec<Manifest>, model_name: Option<String>) -> Result<Manifest> {
    let mut iter = parts.into_iter();
    let mut out = iter
        .next()
        .ok_or_else(|| Error::Usage("nothing to merge".into()))?;
    let same = |a: &crate::manifest::Serialization, b: &crate::manifest::Serialization| {
        let set = |s: &crate::manifest::Serialization| {
            s.ignore_paths.iter().cloned().collect::<BTreeSet<_>>()
        };
        a.method == b.method
            && a.hash == b.hash
            && a.allow_symlinks == b.allow_symlinks
            && set(a) == set(b)
    };
    for m in iter {
        // Parts of one model carry one name; keeping the first silently would sign a
        // name some part never had.
        if model_name.is_none() && m.model_name != out.model_name {
            return Err(Error::Usage(format!(
                "the manifests name different models ('{}' and '{}'): are they parts of one \
                 model? If so, choose the name to sign with --model-name NAME",
                out.model_name, m.model_name
            )));
        }
        if !same(&out.serialization, &m.serialization) {
            return Err(Error::Usage(format!(
                "cannot merge manifests with different serializations ({} vs {}, or other ignore paths / symlink policy)",
                out.serialization.resource_algorithm(),
                m.serialization.resource_algorithm()
            )));
        }
        for (k, d) in m.resources {
            match out.resources.get(&k) {
                Some(existing) if existing != &d => {
                    return Err(Error::Usage(format!(
                        "{k} has different digests in the manifests ({existing} vs {d})"
                    )))
                }
                Some(_) => {}
                None => {
                    out.resources.insert(k, d);
                }
            }
        }
    }
    if let Some(name) = model_name {
        out.model_name = name;
    }
    check_shape(&out)?;
    Ok(out)
}
