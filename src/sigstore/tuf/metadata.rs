//! TUF metadata (specification 1.0, section 4): the signed envelope, the four top-level
//! roles, and the checks that do not depend on the update order: signature thresholds,
//! `_type`, `spec_version`, expiry, lengths and hashes.

use std::collections::{BTreeMap, HashSet};

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Public};
use openssl::sign::Verifier;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::canonical;
use super::fail;
use crate::error::Result;
use crate::sigstore::time::parse_rfc3339;

/// A metadata file as downloaded: the `signed` object, its canonical bytes (what the
/// signatures cover) and the signatures.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Role name, for messages (`root`, `timestamp`, ...).
    pub role: &'static str,
    /// The `signed` object.
    pub signed: Map<String, Value>,
    canonical: Vec<u8>,
    signatures: Vec<(String, Vec<u8>)>,
    /// Common fields of `signed`.
    pub version: u64,
    /// Expiry, Unix seconds.
    pub expires: i64,
    /// Expiry as written.
    pub expires_text: String,
}

impl Envelope {
    /// Parses a metadata file of `role` and checks the fields every role has.
    pub fn parse(role: &'static str, bytes: &[u8]) -> Result<Self> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| fail(format!("{role} metadata is not JSON: {e}")))?;
        let Value::Object(mut top) = v else {
            return Err(fail(format!("{role} metadata is not a JSON object")));
        };
        let Some(Value::Object(signed)) = top.remove("signed") else {
            return Err(fail(format!("{role} metadata has no 'signed' object")));
        };
        let Some(Value::Array(sigs)) = top.remove("signatures") else {
            return Err(fail(format!("{role} metadata has no 'signatures' list")));
        };
        let canonical = canonical::encode(&Value::Object(signed.clone()))
            .map_err(|e| fail(format!("{role} metadata cannot be canonicalized: {e}")))?;
        // A signature that cannot be read is as good as absent: the threshold decides.
        let signatures = sigs
            .iter()
            .filter_map(|s| {
                let keyid = s.get("keyid")?.as_str()?.to_string();
                let sig = hex::decode(s.get("sig")?.as_str()?).ok()?;
                Some((keyid, sig))
            })
            .collect();
        let ty = signed.get("_type").and_then(Value::as_str).unwrap_or("");
        if ty != role {
            return Err(fail(format!(
                "{role} metadata has _type '{ty}', expected '{role}'"
            )));
        }
        check_spec_version(role, &signed)?;
        let version = signed
            .get("version")
            .and_then(Value::as_u64)
            .filter(|&v| v >= 1)
            .ok_or_else(|| fail(format!("{role} metadata has no positive integer version")))?;
        let expires_text = signed
            .get("expires")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(format!("{role} metadata has no 'expires'")))?
            .to_string();
        let expires = parse_rfc3339(&expires_text).ok_or_else(|| {
            fail(format!(
                "{role} metadata: 'expires' is not a timestamp: '{expires_text}'"
            ))
        })?;
        Ok(Envelope {
            role,
            signed,
            canonical,
            signatures,
            version,
            expires,
            expires_text,
        })
    }

    /// Fails unless `threshold` distinct keys of `role` signed this metadata.
    pub fn verify_signatures(&self, role: &Role, keys: &Keys, signer: &str) -> Result<()> {
        let mut counted_ids = HashSet::new();
        // The same key listed under two keyids must not count twice either.
        let mut counted_keys: HashSet<Vec<u8>> = HashSet::new();
        for (keyid, sig) in &self.signatures {
            if !role.keyids.contains(keyid) || counted_ids.contains(keyid) {
                continue;
            }
            let Some(key) = keys.get(keyid) else { continue };
            if key.verify(&self.canonical, sig) && counted_keys.insert(key.id_bytes()) {
                counted_ids.insert(keyid.clone());
            }
        }
        if counted_ids.len() < role.threshold {
            return Err(fail(format!(
                "{} metadata v{} has {} valid signature(s) of the {signer} keys, {} required",
                self.role,
                self.version,
                counted_ids.len(),
                role.threshold
            )));
        }
        Ok(())
    }

    /// Fails when the metadata expired at `now` (Unix seconds).
    pub fn check_not_expired(&self, now: i64) -> Result<()> {
        if self.expires <= now {
            return Err(fail(format!(
                "{} metadata v{} expired at {} (a freeze attack, or a repository not refreshed in time)",
                self.role, self.version, self.expires_text
            )));
        }
        Ok(())
    }
}

fn check_spec_version(role: &str, signed: &Map<String, Value>) -> Result<()> {
    let sv = signed
        .get("spec_version")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(format!("{role} metadata has no spec_version")))?;
    if sv.split('.').next() != Some("1") {
        return Err(fail(format!(
            "{role} metadata has spec_version '{sv}'; only TUF 1.x is supported"
        )));
    }
    Ok(())
}

/// A verification key. Keys of unknown type are kept as unusable so that their
/// signatures simply do not count.
#[derive(Debug, Clone)]
pub enum Key {
    /// ECDSA on P-256 with SHA-256, DER signatures.
    EcdsaP256(PKey<Public>),
    /// ECDSA on P-384 with SHA-384, DER signatures.
    EcdsaP384(PKey<Public>),
    /// Ed25519.
    Ed25519(PKey<Public>),
    /// A key msign cannot use.
    Unusable,
}

impl Key {
    fn from_json(v: &Value) -> Key {
        let keytype = v.get("keytype").and_then(Value::as_str).unwrap_or("");
        let scheme = v.get("scheme").and_then(Value::as_str).unwrap_or("");
        let public = v
            .get("keyval")
            .and_then(|k| k.get("public"))
            .and_then(Value::as_str)
            .unwrap_or("");
        match (keytype, scheme) {
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                ecdsa(public, 256).map_or(Key::Unusable, Key::EcdsaP256)
            }
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                ecdsa(public, 384).map_or(Key::Unusable, Key::EcdsaP384)
            }
            ("ed25519", "ed25519") => hex::decode(public)
                .ok()
                .and_then(|raw| PKey::public_key_from_raw_bytes(&raw, Id::ED25519).ok())
                .map_or(Key::Unusable, Key::Ed25519),
            _ => Key::Unusable,
        }
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            Key::EcdsaP256(k) => ecdsa_verify(k, MessageDigest::sha256(), msg, sig),
            Key::EcdsaP384(k) => ecdsa_verify(k, MessageDigest::sha384(), msg, sig),
            Key::Ed25519(k) => Verifier::new_without_digest(k)
                .and_then(|mut v| v.verify_oneshot(sig, msg))
                .unwrap_or(false),
            Key::Unusable => false,
        }
    }

    fn id_bytes(&self) -> Vec<u8> {
        match self {
            Key::EcdsaP256(k) | Key::EcdsaP384(k) | Key::Ed25519(k) => {
                k.public_key_to_der().unwrap_or_default()
            }
            Key::Unusable => Vec::new(),
        }
    }
}

/// A PEM SubjectPublicKeyInfo holding an EC key of the curve size the scheme names.
fn ecdsa(pem: &str, bits: u32) -> Option<PKey<Public>> {
    PKey::public_key_from_pem(pem.as_bytes())
        .ok()
        .filter(|k| k.id() == Id::EC && k.bits() == bits)
}

fn ecdsa_verify(k: &PKey<Public>, md: MessageDigest, msg: &[u8], sig: &[u8]) -> bool {
    Verifier::new(md, k)
        .and_then(|mut v| {
            v.update(msg)?;
            v.verify(sig)
        })
        .unwrap_or(false)
}

/// Keys by keyid.
pub type Keys = BTreeMap<String, Key>;

/// A role's keys and threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Keyids allowed to sign for the role.
    pub keyids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: usize,
}

/// Root metadata: who signs for every top-level role.
#[derive(Debug, Clone)]
pub struct Root {
    /// The verified file, kept to persist it byte for byte.
    pub env: Envelope,
    /// Every key the roles name.
    pub keys: Keys,
    /// `root`, `timestamp`, `snapshot`, `targets`.
    pub roles: BTreeMap<String, Role>,
    /// Whether metadata and targets are fetched by version and hash prefixes.
    pub consistent_snapshot: bool,
}

/// The four top-level roles a root must define.
const TOP_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

impl Root {
    /// Parses root metadata (signatures are checked by the caller, which knows by whom).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let env = Envelope::parse("root", bytes)?;
        let keys = env
            .signed
            .get("keys")
            .and_then(Value::as_object)
            .ok_or_else(|| fail("root metadata has no 'keys'"))?
            .iter()
            .map(|(id, k)| (id.clone(), Key::from_json(k)))
            .collect();
        let raw_roles = env
            .signed
            .get("roles")
            .and_then(Value::as_object)
            .ok_or_else(|| fail("root metadata has no 'roles'"))?;
        let mut roles = BTreeMap::new();
        for name in TOP_ROLES {
            let r = raw_roles
                .get(name)
                .ok_or_else(|| fail(format!("root metadata defines no '{name}' role")))?;
            let keyids = r
                .get("keyids")
                .and_then(Value::as_array)
                .ok_or_else(|| fail(format!("root metadata: role '{name}' has no keyids")))?
                .iter()
                .map(|k| k.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| fail(format!("root metadata: role '{name}' has a bad keyid")))?;
            let threshold = r
                .get("threshold")
                .and_then(Value::as_u64)
                .filter(|&t| t >= 1)
                .and_then(|t| usize::try_from(t).ok())
                .ok_or_else(|| {
                    fail(format!(
                        "root metadata: role '{name}' has no threshold of at least 1"
                    ))
                })?;
            roles.insert(name.to_string(), Role { keyids, threshold });
        }
        let consistent_snapshot = env
            .signed
            .get("consistent_snapshot")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Root {
            env,
            keys,
            roles,
            consistent_snapshot,
        })
    }

    /// The role `name` (one of the four top-level roles, always present once parsed).
    pub fn role(&self, name: &str) -> &Role {
        &self.roles[name]
    }

    /// Checks that this root's own `role` signed `env`.
    pub fn verify(&self, env: &Envelope, role: &str, signer: &str) -> Result<()> {
        env.verify_signatures(self.role(role), &self.keys, signer)
    }

    /// Whether `other` gives `role` different keys or a different threshold.
    pub fn role_changed(&self, other: &Root, role: &str) -> bool {
        fn keys_of(r: &Root, role: &str) -> Vec<(String, Vec<u8>)> {
            let mut v: Vec<_> = r
                .role(role)
                .keyids
                .iter()
                .map(|id| {
                    (
                        id.clone(),
                        r.keys.get(id).map(Key::id_bytes).unwrap_or_default(),
                    )
                })
                .collect();
            v.sort();
            v
        }
        self.role(role).threshold != other.role(role).threshold
            || keys_of(self, role) != keys_of(other, role)
    }
}

/// What a timestamp or snapshot says about another metadata file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFile {
    /// Its version.
    pub version: u64,
    /// Its length, when given.
    pub length: Option<u64>,
    /// Its hashes (algorithm → hex), possibly empty.
    pub hashes: BTreeMap<String, String>,
}

impl MetaFile {
    /// Reads `meta[name]` of a timestamp or snapshot.
    pub fn of(env: &Envelope, name: &str) -> Result<Option<MetaFile>> {
        let Some(m) = env
            .signed
            .get("meta")
            .and_then(Value::as_object)
            .and_then(|m| m.get(name))
        else {
            return Ok(None);
        };
        let version = m
            .get("version")
            .and_then(Value::as_u64)
            .filter(|&v| v >= 1)
            .ok_or_else(|| fail(format!("{}: meta of {name} has no version", env.role)))?;
        let length = match m.get("length") {
            None => None,
            Some(l) => Some(
                l.as_u64()
                    .ok_or_else(|| fail(format!("{}: length of {name} is bad", env.role)))?,
            ),
        };
        let hashes = hashes_of(m.get("hashes"), &format!("{}: {name}", env.role))?;
        Ok(Some(MetaFile {
            version,
            length,
            hashes,
        }))
    }

    /// Every `meta` entry of a snapshot, by name.
    pub fn all(env: &Envelope) -> Result<BTreeMap<String, MetaFile>> {
        let names: Vec<String> = env
            .signed
            .get("meta")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        for n in names {
            if let Some(m) = MetaFile::of(env, &n)? {
                out.insert(n, m);
            }
        }
        Ok(out)
    }
}

/// Reads a `hashes` object (algorithm → hex digest).
pub fn hashes_of(v: Option<&Value>, what: &str) -> Result<BTreeMap<String, String>> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    v.as_object()
        .ok_or_else(|| fail(format!("{what}: 'hashes' is not an object")))?
        .iter()
        .map(|(alg, h)| {
            h.as_str()
                .map(|h| (alg.clone(), h.to_ascii_lowercase()))
                .ok_or_else(|| fail(format!("{what}: {alg} hash is not a string")))
        })
        .collect()
}

/// Checks `bytes` against an expected length (exact when `exact`, else at most) and
/// every listed hash. An algorithm msign does not know is an error, not a pass.
pub fn check_length_and_hashes(
    bytes: &[u8],
    length: Option<u64>,
    exact: bool,
    hashes: &BTreeMap<String, String>,
    what: &str,
) -> Result<()> {
    if let Some(l) = length {
        let n = bytes.len() as u64;
        if n > l || (exact && n != l) {
            return Err(fail(format!(
                "{what} is {n} bytes, the signed metadata says {l}"
            )));
        }
    }
    for (alg, want) in hashes {
        let got = match alg.as_str() {
            "sha256" => hex::encode(Sha256::digest(bytes)),
            "sha384" => hex::encode(Sha384::digest(bytes)),
            "sha512" => hex::encode(Sha512::digest(bytes)),
            _ => return Err(fail(format!("{what}: unsupported hash algorithm '{alg}'"))),
        };
        if &got != want {
            return Err(fail(format!(
                "{what}: {alg} mismatch (signed metadata says {want}, downloaded {got})"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_verify_with_their_own_keys() {
        for bytes in [super::super::PROD_ROOT, super::super::STAGING_ROOT] {
            let r = Root::parse(bytes.as_bytes()).unwrap();
            assert!(r.consistent_snapshot);
            r.verify(&r.env, "root", "root").unwrap();
        }
    }

    #[test]
    fn tampered_root_fails_its_threshold() {
        let mut v: Value = serde_json::from_str(super::super::PROD_ROOT).unwrap();
        v["signed"]["expires"] = "2099-01-01T00:00:00Z".into();
        let r = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        let e = r.verify(&r.env, "root", "root").unwrap_err().to_string();
        assert!(e.contains("0 valid signature(s)"), "{e}");
    }

    #[test]
    fn duplicate_signatures_count_once() {
        let mut v: Value = serde_json::from_str(super::super::PROD_ROOT).unwrap();
        let first = v["signatures"][0].clone();
        v["signatures"] = Value::Array(vec![first; 5]);
        let r = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        let e = r.verify(&r.env, "root", "root").unwrap_err().to_string();
        assert!(e.contains("1 valid signature(s)"), "{e}");
    }

    #[test]
    fn wrong_type_and_spec_version_are_refused() {
        let mut v: Value = serde_json::from_str(super::super::PROD_ROOT).unwrap();
        v["signed"]["_type"] = "targets".into();
        let e = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(e.to_string().contains("_type 'targets'"), "{e}");
        let mut v: Value = serde_json::from_str(super::super::PROD_ROOT).unwrap();
        v["signed"]["spec_version"] = "2.0.0".into();
        let e = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(e.to_string().contains("TUF 1.x"), "{e}");
    }

    #[test]
    fn hashes_and_lengths() {
        let mut h = BTreeMap::new();
        h.insert("sha256".to_string(), hex::encode(Sha256::digest(b"abc")));
        check_length_and_hashes(b"abc", Some(3), true, &h, "x").unwrap();
        assert!(check_length_and_hashes(b"abd", Some(3), true, &h, "x").is_err());
        assert!(check_length_and_hashes(b"abc", Some(4), true, &h, "x").is_err());
        check_length_and_hashes(b"abc", Some(4), false, &h, "x").unwrap();
        assert!(check_length_and_hashes(b"abc", Some(2), false, &h, "x").is_err());
        h.insert("md5".to_string(), "00".into());
        assert!(check_length_and_hashes(b"abc", None, true, &h, "x").is_err());
    }
}
