//! The in-toto statement that carries a manifest, in `model_signing`'s layout.
//!
//! ```text
//! { "_type": "https://in-toto.io/Statement/v1",
//!   "subject": [{"name": MODEL, "digest": {"sha256": ROOT}}],
//!   "predicateType": "https://model_signing/signature/v1.0",
//!   "predicate": {"serialization": {...}, "resources": [{"name", "algorithm", "digest"}...]}}
//! ```
//! ROOT is SHA-256 over the resource digests in the order listed. The reference writes the
//! predicate's keys in an arbitrary order (it is a protobuf `Struct`), so readers must not
//! depend on it; msign writes one fixed order.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use sha2::{Digest as _, Sha256};

use crate::bundle::pyjson::{self, Value};
use crate::error::{Error, Result};
use crate::manifest::{Digest, HashAlgorithm, Manifest, Method, ResourceKey, Serialization};

/// `_type` of every statement.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type written since model_signing 1.0.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The predicate type written by model_signing 0.2 (verified, never written).
pub const PREDICATE_TYPE_V0_1: &str = "https://model_signing/Digests/v0.1";
/// Model name the reference gives manifests read from v0.1 statements.
const COMPAT_MODEL_NAME: &str = "compat-undefined-not-present";

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

/// The serialization parameters as the reference records them.
pub(crate) fn serialization_json(ser: &Serialization) -> Value {
    let mut fields = vec![
        (
            "method".into(),
            s(match ser.method {
                Method::Files => "files",
                Method::Shards { .. } => "shards",
            }),
        ),
        ("hash_type".into(), s(ser.hash.name())),
    ];
    if let Method::Shards { shard_size } = ser.method {
        fields.push(("shard_size".into(), Value::Float(shard_size as f64)));
    }
    fields.push(("allow_symlinks".into(), Value::Bool(ser.allow_symlinks)));
    if !ser.ignore_paths.is_empty() {
        fields.push((
            "ignore_paths".into(),
            Value::Array(ser.ignore_paths.iter().map(|p| s(p)).collect()),
        ));
    }
    Value::Object(fields)
}

/// The resource list as the reference records it.
pub(crate) fn resources_json(manifest: &Manifest) -> Value {
    Value::Array(
        manifest
            .resources
            .iter()
            .map(|(k, d)| {
                Value::Object(vec![
                    ("name".into(), s(&k.to_string())),
                    ("algorithm".into(), s(&d.algorithm)),
                    ("digest".into(), s(&d.hex())),
                ])
            })
            .collect(),
    )
}

/// Serialises a manifest to the statement bytes that get signed.
pub fn to_payload(manifest: &Manifest) -> Vec<u8> {
    let statement = Value::Object(vec![
        ("_type".into(), s(STATEMENT_TYPE)),
        (
            "subject".into(),
            Value::Array(vec![Value::Object(vec![
                ("name".into(), s(&manifest.model_name)),
                (
                    "digest".into(),
                    Value::Object(vec![(
                        "sha256".into(),
                        s(&hex::encode(manifest.root_digest())),
                    )]),
                ),
            ])]),
        ),
        ("predicateType".into(), s(PREDICATE_TYPE)),
        (
            "predicate".into(),
            Value::Object(vec![
                (
                    "serialization".into(),
                    serialization_json(&manifest.serialization),
                ),
                ("resources".into(), resources_json(manifest)),
            ]),
        ),
    ]);
    pyjson::to_string(&statement).into_bytes()
}

fn bad(msg: impl Into<String>) -> Error {
    Error::MalformedSignature(msg.into())
}

fn field<'a>(v: &'a Json, key: &str, ctx: &str) -> Result<&'a Json> {
    v.get(key)
        .ok_or_else(|| bad(format!("{ctx} has no '{key}'")))
}

fn string<'a>(v: &'a Json, key: &str, ctx: &str) -> Result<&'a str> {
    field(v, key, ctx)?
        .as_str()
        .ok_or_else(|| bad(format!("{ctx}: '{key}' is not a string")))
}

fn hex_digest(hexstr: &str, len: usize, ctx: &str) -> Result<Vec<u8>> {
    let v = hex::decode(hexstr).map_err(|_| bad(format!("{ctx}: digest is not hex")))?;
    if v.len() != len {
        return Err(bad(format!(
            "{ctx}: digest has {} bytes, expected {len}",
            v.len()
        )));
    }
    Ok(v)
}

/// Reads the serialization block, accepting what the reference writes (`shard_size` as a
/// float, `ignore_paths` in any order or absent).
pub(crate) fn parse_serialization(v: &Json) -> Result<Serialization> {
    let ctx = "predicate.serialization";
    let hash = HashAlgorithm::parse(string(v, "hash_type", ctx)?)
        .map_err(|_| bad(format!("{ctx}: unsupported hash_type {}", v["hash_type"])))?;
    let method = match string(v, "method", ctx)? {
        "files" => Method::Files,
        "shards" => {
            let size = field(v, "shard_size", ctx)?;
            let shard_size = size
                .as_u64()
                .or_else(|| {
                    size.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 1.8e19)
                        .map(|f| f as u64)
                })
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    bad(format!(
                        "{ctx}: shard_size {size} is not a positive integer"
                    ))
                })?;
            Method::Shards { shard_size }
        }
        other => return Err(bad(format!("{ctx}: unknown method '{other}'"))),
    };
    let allow_symlinks = field(v, "allow_symlinks", ctx)?
        .as_bool()
        .ok_or_else(|| bad(format!("{ctx}: allow_symlinks is not a boolean")))?;
    let ignore_paths = match v.get("ignore_paths") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("{ctx}: ignore_paths holds a non-string")))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad(format!("{ctx}: ignore_paths is not a list"))),
    };
    Ok(Serialization {
        method,
        hash,
        allow_symlinks,
        ignore_paths,
    })
}

/// Rebuilds the signed manifest from statement bytes, checking every signed field.
pub fn from_payload(payload: &[u8]) -> Result<Manifest> {
    let v: Json =
        serde_json::from_slice(payload).map_err(|e| bad(format!("statement is not JSON: {e}")))?;
    let ty = string(&v, "_type", "statement")?;
    if ty != STATEMENT_TYPE {
        return Err(bad(format!(
            "statement _type is '{ty}', expected '{STATEMENT_TYPE}'"
        )));
    }
    let subjects = field(&v, "subject", "statement")?
        .as_array()
        .ok_or_else(|| bad("statement subject is not a list"))?;
    match string(&v, "predicateType", "statement")? {
        PREDICATE_TYPE => {}
        PREDICATE_TYPE_V0_1 => return from_v0_1(subjects),
        other => return Err(bad(format!("unsupported predicate type '{other}'"))),
    }
    if subjects.len() != 1 {
        return Err(bad(format!(
            "expected one subject, found {}",
            subjects.len()
        )));
    }
    let subject = &subjects[0];
    let model_name = string(subject, "name", "subject")?.to_string();
    let expected_root = hex_digest(
        string(
            field(subject, "digest", "subject")?,
            "sha256",
            "subject.digest",
        )?,
        32,
        "subject",
    )?;
    let predicate = field(&v, "predicate", "statement")?;
    let serialization = parse_serialization(field(predicate, "serialization", "predicate")?)?;
    let algorithm = serialization.resource_algorithm();
    let list = field(predicate, "resources", "predicate")?
        .as_array()
        .ok_or_else(|| bad("predicate.resources is not a list"))?;
    let mut root = Sha256::new();
    let mut resources = BTreeMap::new();
    for r in list {
        let name = string(r, "name", "resource")?;
        let alg = string(r, "algorithm", name)?;
        if alg != algorithm {
            return Err(bad(format!(
                "resource {name:?} uses '{alg}' but the serialization says '{algorithm}'"
            )));
        }
        let value = hex_digest(
            string(r, "digest", name)?,
            serialization.hash.digest_len(),
            name,
        )?;
        root.update(&value);
        let key = ResourceKey::parse(name, serialization.method)?;
        let digest = Digest {
            algorithm: alg.to_string(),
            value,
        };
        if resources.insert(key, digest).is_some() {
            return Err(bad(format!("resource {name:?} is listed twice")));
        }
    }
    if root.finalize().as_slice() != expected_root.as_slice() {
        return Err(bad(
            "subject digest does not match the resources: the statement is inconsistent",
        ));
    }
    Ok(Manifest {
        model_name,
        serialization,
        resources,
    })
}

/// model_signing 0.2 listed each file as a subject with its sha256.
fn from_v0_1(subjects: &[Json]) -> Result<Manifest> {
    let mut resources = BTreeMap::new();
    for s in subjects {
        let name = string(s, "name", "subject")?;
        let value = hex_digest(string(field(s, "digest", name)?, "sha256", name)?, 32, name)?;
        let key = ResourceKey::parse(name, Method::Files)?;
        let digest = Digest {
            algorithm: "sha256".into(),
            value,
        };
        if resources.insert(key, digest).is_some() {
            return Err(bad(format!("subject {name:?} is listed twice")));
        }
    }
    Ok(Manifest {
        model_name: COMPAT_MODEL_NAME.into(),
        serialization: Serialization::files(HashAlgorithm::Sha256),
        resources,
    })
}

/// A manifest as plain JSON for scripts (`msign digest --json`): the statement's
/// predicate plus the model name and subject digest. `shard_size` is an integer here.
pub fn manifest_json(manifest: &Manifest) -> Json {
    let mut ser = serde_json::json!({
        "method": match manifest.serialization.method { Method::Files => "files", Method::Shards { .. } => "shards" },
        "hash_type": manifest.serialization.hash.name(),
        "allow_symlinks": manifest.serialization.allow_symlinks,
    });
    if let Method::Shards { shard_size } = manifest.serialization.method {
        ser["shard_size"] = shard_size.into();
    }
    if !manifest.serialization.ignore_paths.is_empty() {
        ser["ignore_paths"] = manifest.serialization.ignore_paths.clone().into();
    }
    let resources: Vec<Json> = manifest
        .resources
        .iter()
        .map(|(k, d)| serde_json::json!({"name": k.to_string(), "algorithm": d.algorithm, "digest": d.hex()}))
        .collect();
    serde_json::json!({
        "model_name": manifest.model_name,
        "digest": {"sha256": hex::encode(manifest.root_digest())},
        "serialization": ser,
        "resources": resources,
    })
}
