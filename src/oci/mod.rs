//! Models stored as OCI artifacts: sign and verify them from their manifests, without
//! reading a layer, and keep the signature in the registry as an OCI 1.1 referrer.
//!
//! A model pushed ORAS-style (one layer per file, the name in the
//! `org.opencontainers.image.title` annotation) is described completely by its manifest:
//! the registry stores each layer under its sha256, and a raw layer's sha256 is its file's.
//! [`image::to_manifest`] turns the manifest into the model_signing manifest of the pulled
//! folder (file serialization, sha256), so one signature verifies the artifact in the
//! registry ([`verify`]) and the pulled files (`msign verify`), also with model_signing.
//!
//! The signature goes to a file, or into the registry ([`sign`] with `attach`): the bundle
//! as a blob, an artifact manifest whose `subject` is the signed manifest and whose
//! `artifactType` is the Sigstore bundle's, and, where the registry has no referrers API,
//! the referrers tag `sha256-<hex>` (OCI distribution spec 1.1). See `docs/oci.md`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::bundle::statement::PREDICATE_TYPE;
use crate::error::{Error, ManifestDiff, Result};
use crate::ignore::IgnoreRules;
use crate::manifest::{HashAlgorithm, Manifest, Method};
use crate::sign::{Signer, SigningConfig};
use crate::store::{FileStore, SignatureStore};
use crate::verify::VerifyingConfig;

pub mod auth;
pub mod client;
pub mod image;
pub mod reference;

pub use auth::Credentials;
pub use client::{Registry, RegistryOptions};
pub use image::LayerOptions;
pub use reference::Reference;

/// The artifact type (and layer media type) of a signature attached as a referrer.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The empty config of artifact manifests (OCI image spec 1.1).
pub const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The most an attached signature may weigh.
pub const MAX_SIGNATURE: u64 = 16 << 20;
/// The most referrers examined for one manifest.
const MAX_REFERRERS: usize = 64;

/// What to sign or verify: a manifest in a registry, or a manifest JSON file.
#[derive(Debug, Clone)]
pub enum Target {
    /// `registry/repository:tag` or `@sha256:...`.
    Registry(Reference),
    /// A manifest saved to a file (`oras manifest fetch ... > m.json`).
    File(PathBuf),
}

impl Target {
    /// A file when `s` names an existing file, a registry reference otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        let p = Path::new(s);
        if p.is_file() {
            return Ok(Target::File(p.to_path_buf()));
        }
        if s.ends_with(".json") && !s.contains(':') {
            return Err(Error::Usage(format!(
                "{s}: no such manifest file (for a registry, write REGISTRY/REPOSITORY:TAG)"
            )));
        }
        Ok(Target::Registry(Reference::parse(s)?))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Registry(r) => write!(f, "{r}"),
            Target::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// How to reach the manifest and read it as a model.
#[derive(Debug, Clone, Default)]
pub struct OciOptions {
    /// Connection and credentials.
    pub registry: RegistryOptions,
    /// `os/arch[/variant]`, to pick a manifest of an image index.
    pub platform: Option<String>,
    /// Sign every platform manifest of an image index, each with its own signature (as
    /// cosign's `--recursive`); [`verify_each`] checks every platform of an index unless
    /// `platform` picks one.
    pub all_platforms: bool,
    /// Which layers are signed, and how.
    pub layers: LayerOptions,
}

/// A manifest found and read as a model.
pub struct Resolved {
    /// The registry, for a target in one (shared by the platforms of one index).
    pub registry: Option<Arc<Registry>>,
    /// The reference pinned to the signed manifest's digest (for a target in a registry).
    pub reference: Option<Reference>,
    /// The signed manifest's descriptor: media type, digest, size.
    pub descriptor: image::Descriptor,
    /// The digest of the index the manifest was picked from, if any.
    pub index_digest: Option<String>,
    /// The platform of the index entry (`os/arch[/variant]`), if any.
    pub platform: Option<String>,
    /// The image manifest.
    pub image: image::ImageManifest,
    /// The model name (annotation, repository name, or file name).
    pub model_name: String,
}

fn media_type_of(parsed_declared: Option<&str>, content_type: Option<&str>) -> String {
    parsed_declared
        .or(content_type.map(|c| c.split(';').next().unwrap_or("").trim()))
        .filter(|m| !m.is_empty())
        .unwrap_or(image::OCI_MANIFEST)
        .to_string()
}

/// Reads a manifest file of at most [`client::MAX_MANIFEST`] bytes.
fn read_manifest_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    f.take(client::MAX_MANIFEST + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, e))?;
    if out.len() as u64 > client::MAX_MANIFEST {
        return Err(Error::Usage(format!(
            "{}: larger than {} bytes, not an OCI manifest",
            path.display(),
            client::MAX_MANIFEST
        )));
    }
    Ok(out)
}

/// Finds the manifest `target` names (through an index with `--platform`), checking every
/// digest on the way. An index without `--platform` is refused, naming its platforms; see
/// [`resolve_each`] for every platform of one.
pub fn resolve(target: &Target, options: &OciOptions) -> Result<Resolved> {
    let mut all = resolve_each(target, options, false)?;
    // `resolve_each` without `every` yields exactly one manifest or fails.
    Ok(all.remove(0))
}

/// Whether an index entry is an image of a platform, not a tool's attachment: BuildKit
/// lists its attestation manifests in the index as `unknown/unknown` with this annotation.
fn is_platform_entry(d: &image::Descriptor) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_none()
}

/// The platform name of an index entry (its digest when it names none).
fn platform_name(d: &image::Descriptor) -> String {
    d.platform
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_else(|| d.digest.clone())
}

/// Finds the manifests `target` names: one manifest; for an image index the one
/// `--platform` picks, else with `every` each platform manifest it lists (in its order),
/// else a usage error naming the platforms. Every digest is checked on the way.
pub fn resolve_each(target: &Target, options: &OciOptions, every: bool) -> Result<Vec<Resolved>> {
    match target {
        Target::File(path) => {
            let bytes = read_manifest_file(path)?;
            let what = path.display().to_string();
            let image = match image::parse(&bytes, None, &what)? {
                image::Parsed::Manifest(m) => *m,
                image::Parsed::Index(_) => {
                    return Err(Error::Usage(format!(
                        "{what} is an image index: save the manifest of one platform instead"
                    )))
                }
            };
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "oci-image".into());
            Ok(vec![Resolved {
                registry: None,
                reference: None,
                descriptor: image::Descriptor {
                    media_type: media_type_of(image.media_type.as_deref(), None),
                    digest: client::sha256_digest(&bytes),
                    size: bytes.len() as u64,
                    artifact_type: None,
                    annotations: None,
                    platform: None,
                },
                index_digest: None,
                platform: None,
                model_name: image::model_name(&image, &stem),
                image,
            }])
        }
        Target::Registry(reference) => {
            let registry = Arc::new(Registry::new(reference, &options.registry)?);
            let repo = &reference.repository;
            let not_found = |r: &str| {
                Error::Usage(format!(
                    "{}/{repo}: no manifest {r} in the registry",
                    reference.registry
                ))
            };
            let first = registry
                .get_manifest(repo, reference.manifest_reference())?
                .ok_or_else(|| not_found(reference.manifest_reference()))?;
            let what = reference.to_string();
            let fallback = repo.rsplit('/').next().unwrap_or(repo).to_string();
            let resolved = |fetched: client::Fetched,
                            image: image::ImageManifest,
                            index_digest: Option<String>,
                            platform: Option<String>| Resolved {
                descriptor: image::Descriptor {
                    media_type: media_type_of(
                        image.media_type.as_deref(),
                        fetched.content_type.as_deref(),
                    ),
                    digest: fetched.digest.clone(),
                    size: fetched.bytes.len() as u64,
                    artifact_type: None,
                    annotations: None,
                    platform: None,
                },
                reference: Some(reference.with_digest(&fetched.digest)),
                registry: Some(registry.clone()),
                index_digest,
                platform,
                model_name: image::model_name(&image, &fallback),
                image,
            };
            let idx = match image::parse(&first.bytes, first.content_type.as_deref(), &what)? {
                image::Parsed::Manifest(m) => return Ok(vec![resolved(first, *m, None, None)]),
                image::Parsed::Index(idx) => idx,
            };
            let picks: Vec<&image::Descriptor> = if options.platform.is_some() || !every {
                vec![image::pick_platform(
                    &idx,
                    options.platform.as_deref(),
                    &what,
                )?]
            } else {
                let picks: Vec<_> = idx
                    .manifests
                    .iter()
                    .filter(|d| is_platform_entry(d))
                    .collect();
                if picks.is_empty() {
                    return Err(Error::Usage(format!(
                        "{what} is an image index that lists no platform manifest"
                    )));
                }
                picks
            };
            let mut out = Vec::with_capacity(picks.len());
            for pick in picks {
                reference::check_digest(&pick.digest)
                    .map_err(|e| Error::Other(format!("{what}: index entry: {e}")))?;
                let child = registry
                    .get_manifest(repo, &pick.digest)?
                    .ok_or_else(|| not_found(&pick.digest))?;
                let name = platform_name(pick);
                let child_what = format!("{what} ({name}, {})", pick.digest);
                match image::parse(&child.bytes, child.content_type.as_deref(), &child_what)? {
                    image::Parsed::Manifest(m) => {
                        out.push(resolved(child, *m, Some(first.digest.clone()), Some(name)))
                    }
                    image::Parsed::Index(_) => {
                        return Err(Error::Usage(format!(
                            "{child_what} is a nested index, which msign does not follow"
                        )))
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Where a signature was attached.
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    /// Digest of the artifact manifest holding the bundle.
    pub manifest: String,
    /// Digest of the bundle blob.
    pub bundle: String,
    /// `referrers-api`, or `tag-scheme` with the tag.
    pub via: String,
    /// The referrers tag, when the tag scheme was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// What `sign` did.
#[derive(Debug, Clone, Serialize)]
pub struct SignReport {
    /// Always `signed`.
    pub status: &'static str,
    /// The model: what was signed, as given (as every command's `model`).
    pub model: String,
    /// What was signed, as given.
    pub target: String,
    /// The signed OCI manifest's digest.
    pub manifest_digest: String,
    /// The index it was picked from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Its platform in that index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The model name in the statement.
    pub model_name: String,
    /// Signing method.
    pub method: String,
    /// Who signed, as verification names them.
    pub signer: String,
    /// Files signed (one a layer, and the config with `include_config`).
    pub files: usize,
    /// Resources signed: the same as `files`.
    pub resources: usize,
    /// Total size of the signed layers, as the manifest says (none was read).
    pub bytes: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know (none yet: the same field as every command's).
    pub warnings: Vec<String>,
    /// The signature file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Where it was attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached: Option<Attached>,
    /// The signed statement (`msign manifest` JSON shape).
    #[serde(skip)]
    pub manifest: Option<Manifest>,
}

/// Signs the model `target` names from its manifest and writes the signature to
/// `signature`, attaches it in the registry (`attach`), or both. An image index needs
/// `options.platform`; [`sign_each`] signs every platform of one.
pub fn sign(
    target: &Target,
    options: &OciOptions,
    signer: Box<dyn Signer>,
    signature: Option<&Path>,
    attach: bool,
) -> Result<SignReport> {
    let options = OciOptions {
        all_platforms: false,
        ..options.clone()
    };
    let mut reports = sign_each(target, &options, signer, signature, attach)?;
    // Without `all_platforms`, `resolve_each` yields one manifest or fails.
    Ok(reports.remove(0))
}

/// Signs like [`sign`]; for an image index with `options.all_platforms`, every platform
/// manifest it lists, each with its own signature attached as a referrer of that
/// manifest (nothing is attached to the index: it holds no model of its own). Every
/// platform's statement is built before the first is signed, so a platform that cannot be
/// signed leaves nothing attached.
pub fn sign_each(
    target: &Target,
    options: &OciOptions,
    signer: Box<dyn Signer>,
    signature: Option<&Path>,
    attach: bool,
) -> Result<Vec<SignReport>> {
    if signature.is_none() && !attach {
        return Err(Error::Usage(
            "say where the signature goes: --signature FILE, --attach, or both".into(),
        ));
    }
    if attach && matches!(target, Target::File(_)) {
        return Err(Error::Usage(
            "--attach needs a registry reference, not a manifest file".into(),
        ));
    }
    if options.all_platforms && options.platform.is_some() {
        return Err(Error::Usage(
            "--platform picks one manifest and --all-platforms signs each: give one of them".into(),
        ));
    }
    let all = resolve_each(target, options, options.all_platforms)?;
    if all.len() > 1 && signature.is_some() {
        return Err(Error::Usage(format!(
            "{target} is an image index of {} platforms and a signature file holds one \
             signature: attach them with --attach, or sign one platform with --platform",
            all.len()
        )));
    }
    let what = target.to_string();
    let mut manifests = Vec::with_capacity(all.len());
    for resolved in &all {
        let name = match &resolved.platform {
            Some(p) => format!("{what} ({p})"),
            None => what.clone(),
        };
        manifests.push(image::to_manifest(
            &resolved.image,
            &resolved.model_name,
            &options.layers,
            &name,
        )?);
    }
    let method = signer.method().to_string();
    let config = SigningConfig::new().use_signer(signer);
    let mut reports = Vec::with_capacity(all.len());
    for (resolved, manifest) in all.iter().zip(manifests) {
        let bundle = config.sign_manifest(&manifest)?.to_json();
        let written = match signature {
            Some(p) => Some(FileStore::new(p).save(&bundle)?),
            None => None,
        };
        let attached = match (attach, &resolved.registry, &resolved.reference) {
            (true, Some(reg), Some(r)) => Some(attach_bundle(
                reg,
                &r.repository,
                &resolved.descriptor,
                &bundle,
            )?),
            _ => None,
        };
        let bytes = resolved
            .image
            .layers
            .iter()
            .filter(|l| {
                image::layer_name(l)
                    .is_some_and(|n| manifest.resources.keys().any(|k| k.path().as_str() == n))
            })
            .map(|l| l.size)
            .sum();
        reports.push(SignReport {
            status: "signed",
            model: what.clone(),
            target: what.clone(),
            manifest_digest: resolved.descriptor.digest.clone(),
            index: resolved.index_digest.clone(),
            platform: resolved.platform.clone(),
            model_name: manifest.model_name.clone(),
            method: method.clone(),
            signer: crate::store::git::bundle_signer(&bundle).unwrap_or_default(),
            files: manifest.resources.len(),
            resources: manifest.resources.len(),
            bytes,
            digest: format!("sha256:{}", hex::encode(manifest.root_digest())),
            warnings: Vec::new(),
            signature: written,
            attached,
            manifest: Some(manifest),
        });
    }
    Ok(reports)
}

/// The referrers tag of a digest (`sha256:HEX` -> `sha256-HEX`).
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// Pushes `bundle` as a referrer of `subject`: blobs, artifact manifest, and the referrers
/// tag when the registry does not index referrers itself.
pub fn attach_bundle(
    registry: &Registry,
    repo: &str,
    subject: &image::Descriptor,
    bundle: &[u8],
) -> Result<Attached> {
    let empty = registry.push_blob(repo, b"{}")?;
    let bundle_digest = registry.push_blob(repo, bundle)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_MANIFEST,
        "artifactType": BUNDLE_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": empty, "size": 2},
        "layers": [{
            "mediaType": BUNDLE_ARTIFACT_TYPE,
            "digest": bundle_digest,
            "size": bundle.len(),
        }],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": {
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": PREDICATE_TYPE,
        },
    });
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| Error::Other(format!("rendering the artifact manifest: {e}")))?;
    let digest = client::sha256_digest(&bytes);
    let indexed = registry.put_manifest(repo, &digest, image::OCI_MANIFEST, &bytes)?;
    if indexed
        || registry
            .referrers(repo, &subject.digest, BUNDLE_ARTIFACT_TYPE)?
            .is_some()
    {
        return Ok(Attached {
            manifest: digest,
            bundle: bundle_digest,
            via: "referrers-api".into(),
            tag: None,
        });
    }
    // The referrers tag scheme: an index under `sha256-<hex>` listing every referrer.
    let tag = referrers_tag(&subject.digest);
    let mut entries: Vec<serde_json::Value> = match registry.get_manifest(repo, &tag)? {
        None => Vec::new(),
        Some(f) => {
            let v: serde_json::Value = serde_json::from_slice(&f.bytes)
                .map_err(|e| Error::Other(format!("the referrers tag {tag} holds no JSON: {e}")))?;
            match v.get("manifests").and_then(|m| m.as_array()) {
                Some(m) if v.get("layers").is_none() => m.clone(),
                _ => {
                    return Err(Error::Other(format!(
                        "the tag {tag} holds something else than a referrers index; msign does \
                         not overwrite it"
                    )))
                }
            }
        }
    };
    if !entries
        .iter()
        .any(|e| e.get("digest").and_then(|d| d.as_str()) == Some(digest.as_str()))
    {
        entries.push(serde_json::json!({
            "mediaType": image::OCI_MANIFEST,
            "digest": digest,
            "size": bytes.len(),
            "artifactType": BUNDLE_ARTIFACT_TYPE,
            "annotations": manifest["annotations"],
        }));
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_INDEX,
        "manifests": entries,
    });
    let index_bytes = serde_json::to_vec(&index)
        .map_err(|e| Error::Other(format!("rendering the referrers index: {e}")))?;
    registry.put_manifest(repo, &tag, image::OCI_INDEX, &index_bytes)?;
    Ok(Attached {
        manifest: digest,
        bundle: bundle_digest,
        via: "tag-scheme".into(),
        tag: Some(tag),
    })
}

/// What `verify` checked.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Always `verified`.
    pub status: &'static str,
    /// The model: what was verified, as given (as every command's `model`).
    pub model: String,
    /// What was verified, as given.
    pub target: String,
    /// The verified OCI manifest's digest.
    pub manifest_digest: String,
    /// Its platform, for a manifest of an image index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The verification method.
    pub method: &'static str,
    /// Who signed.
    pub signer: String,
    /// Where the signature came from: a file, or the referrer's manifest digest.
    pub signature: String,
    /// Files checked (layers, and the config when it was signed).
    pub files: usize,
    /// Resources checked: the same as `files`.
    pub resources: usize,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// What [`check_signature`] found: a signature that verifies and matches the manifest.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Who signed.
    pub signer: String,
    /// Resources the signature names.
    pub resources: usize,
    /// Warnings.
    pub warnings: Vec<String>,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
}

/// The attached signatures of `resolved`: `(artifact manifest digest, bundle bytes)`, from
/// the referrers API or else the referrers tag. Referrers of another subject are skipped.
pub fn attached_signatures(resolved: &Resolved) -> Result<Vec<(String, Vec<u8>)>> {
    let (Some(registry), Some(reference)) = (&resolved.registry, &resolved.reference) else {
        return Ok(Vec::new());
    };
    let repo = &reference.repository;
    let subject = &resolved.descriptor.digest;
    let index = match registry.referrers(repo, subject, BUNDLE_ARTIFACT_TYPE)? {
        Some(i) => Some(i),
        None => match registry.get_manifest(repo, &referrers_tag(subject))? {
            None => None,
            Some(f) => match image::parse(&f.bytes, f.content_type.as_deref(), "referrers tag")? {
                image::Parsed::Index(i) => Some(i),
                image::Parsed::Manifest(_) => None,
            },
        },
    };
    let mut out = Vec::new();
    for d in index
        .map(|i| i.manifests)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.artifact_type.as_deref() == Some(BUNDLE_ARTIFACT_TYPE))
        .take(MAX_REFERRERS)
    {
        if reference::check_digest(&d.digest).is_err() {
            continue;
        }
        let Some(f) = registry.get_manifest(repo, &d.digest)? else {
            continue;
        };
        let image::Parsed::Manifest(m) =
            image::parse(&f.bytes, f.content_type.as_deref(), &d.digest)?
        else {
            continue;
        };
        if m.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject.as_str()) {
            continue;
        }
        if let Some(layer) = m
            .layers
            .iter()
            .find(|l| l.media_type == BUNDLE_ARTIFACT_TYPE)
        {
            out.push((
                d.digest.clone(),
                registry.get_blob(repo, &layer.digest, MAX_SIGNATURE)?,
            ));
        }
    }
    Ok(out)
}

/// Checks one signature against the resolved manifest: the bundle with `config`, then its
/// statement against the layers.
pub fn check_signature(
    resolved: &Resolved,
    config: &VerifyingConfig,
    signature: &[u8],
    what: &str,
) -> Result<Checked> {
    let signed = config.verify_signature(signature)?;
    let ser = &signed.manifest.serialization;
    if ser.method != Method::Files || ser.hash != HashAlgorithm::Sha256 {
        return Err(Error::Usage(format!(
            "the signature uses {} serialization with {}: a registry knows each layer's sha256 \
             only, so only files/sha256 signatures can be checked there; verify the pulled \
             folder with `msign verify` instead",
            match ser.method {
                Method::Files => "files",
                Method::Shards { .. } => "shard",
            },
            ser.hash
        )));
    }
    let options = LayerOptions {
        include_config: signed
            .manifest
            .resources
            .keys()
            .any(|k| k.path().as_str() == image::CONFIG_RESOURCE)
            && !resolved
                .image
                .layers
                .iter()
                .any(|l| image::layer_name(l) == Some(image::CONFIG_RESOURCE)),
        // What a pull unpacks was signed as one resource or not at all: either way the
        // comparison below decides.
        allow_archives: true,
        exclude: Vec::new(),
    };
    let actual = image::to_manifest(&resolved.image, &resolved.model_name, &options, what)
        .map_err(|e| match e {
            Error::Usage(m) => Error::InvalidSignature(m),
            e => e,
        })?;
    // The statement's own ignore rules (a signature of the pulled folder made by
    // model_signing records the git paths) leave the same names out here.
    let rules = IgnoreRules::from_recorded(ser.ignore_paths.iter().map(String::as_str))?;
    let actual = actual
        .resources
        .into_iter()
        .filter(|(k, _)| !rules.is_ignored(k.path().as_str(), false))
        .collect();
    let diff = ManifestDiff::between(&signed.manifest.resources, &actual);
    if !diff.is_empty() {
        return Err(Error::ModelMismatch(diff.into()));
    }
    Ok(Checked {
        digest: format!("sha256:{}", hex::encode(signed.manifest.root_digest())),
        signer: signed.signer,
        resources: signed.manifest.resources.len(),
        warnings: signed.warnings,
    })
}

/// Verifies the model `target` names against `signature`, or against the signatures
/// attached to it in the registry (one must verify). An image index needs
/// `options.platform`; [`verify_each`] checks every platform of one.
pub fn verify(
    target: &Target,
    options: &OciOptions,
    config: &VerifyingConfig,
    signature: Option<(&[u8], &str)>,
) -> Result<VerifyReport> {
    verify_resolved(&resolve(target, options)?, target, config, signature)
}

/// Verifies like [`verify`]; for an image index without `options.platform`, every
/// platform manifest it lists, each against the signatures attached to it. It succeeds
/// only if every platform verifies (a platform added or replaced since signing fails), and
/// the error names each platform that does not.
pub fn verify_each(
    target: &Target,
    options: &OciOptions,
    config: &VerifyingConfig,
    signature: Option<(&[u8], &str)>,
) -> Result<Vec<VerifyReport>> {
    let all = resolve_each(target, options, options.platform.is_none())?;
    if all.len() > 1 && signature.is_some() {
        return Err(Error::Usage(format!(
            "{target} is an image index of {} platforms and a signature file is one \
             platform's: name it with --platform, or leave --signature out to verify the \
             signatures attached to each",
            all.len()
        )));
    }
    let mut reports = Vec::with_capacity(all.len());
    let mut failures: Vec<(String, Error)> = Vec::new();
    for resolved in &all {
        match verify_resolved(resolved, target, config, signature) {
            Ok(r) => reports.push(r),
            Err(e) if all.len() == 1 => return Err(e),
            Err(e) => failures.push((
                format!(
                    "{} ({})",
                    resolved.platform.as_deref().unwrap_or("?"),
                    resolved.descriptor.digest
                ),
                e,
            )),
        }
    }
    if failures.is_empty() {
        return Ok(reports);
    }
    let listed = failures
        .iter()
        .map(|(p, e)| format!("{p}: {e}"))
        .collect::<Vec<_>>()
        .join("\n  ");
    let message = if failures.len() == all.len() {
        format!(
            "none of the {} platforms of {target} verifies:\n  {listed}",
            all.len()
        )
    } else {
        format!(
            "{} of the {} platforms of {target} fail to verify (the others verify):\n  {listed}",
            failures.len(),
            all.len()
        )
    };
    // A platform that fails to verify fails the index (exit 1); a failure to check one
    // (network, usage) keeps its own kind.
    Err(
        match failures.iter().find(|(_, e)| !e.is_verification_failure()) {
            None => Error::InvalidSignature(message),
            Some((_, Error::Usage(_))) => Error::Usage(message),
            // A platform with no signature is a missing signature: exit 3, as for every
            // other source.
            Some((_, Error::NotFound(_))) => Error::NotFound(message),
            Some(_) => Error::Other(message),
        },
    )
}

/// Verifies one resolved manifest against `signature` or its attached signatures.
fn verify_resolved(
    resolved: &Resolved,
    target: &Target,
    config: &VerifyingConfig,
    signature: Option<(&[u8], &str)>,
) -> Result<VerifyReport> {
    let what = match &resolved.platform {
        Some(p) => format!("{target} ({p})"),
        None => target.to_string(),
    };
    let report = |c: Checked, from: String| VerifyReport {
        status: "verified",
        model: target.to_string(),
        target: target.to_string(),
        manifest_digest: resolved.descriptor.digest.clone(),
        platform: resolved.platform.clone(),
        method: config.method(),
        signer: c.signer,
        signature: from,
        files: c.resources,
        resources: c.resources,
        digest: c.digest,
        warnings: c.warnings,
    };
    if let Some((bytes, name)) = signature {
        let checked = check_signature(resolved, config, bytes, &what)?;
        return Ok(report(checked, name.to_string()));
    }
    if resolved.registry.is_none() {
        return Err(Error::Usage(
            "a manifest file carries no attached signature: give --signature FILE".into(),
        ));
    }
    let found = attached_signatures(resolved)?;
    if found.is_empty() {
        // A missing signature is not evidence against the model: exit 3, as for a file,
        // the Hub and git (docs/cli.md, exit codes).
        return Err(Error::NotFound(format!(
            "no signature is attached to {what} ({}): it is unsigned, or it changed since it \
             was signed (a new manifest under the same tag); sign it with `msign oci sign \
             --attach`, or give --signature FILE",
            resolved.descriptor.digest
        )));
    }
    let mut failures = Vec::new();
    for (digest, bytes) in &found {
        match check_signature(resolved, config, bytes, &what) {
            Ok(checked) => return Ok(report(checked, format!("referrer {digest}"))),
            Err(e) if found.len() == 1 => return Err(e),
            Err(e) => failures.push(format!("referrer {digest}: {e}")),
        }
    }
    Err(Error::InvalidSignature(format!(
        "none of the {} signatures attached to {what} verifies:\n  {}",
        found.len(),
        failures.join("\n  ")
    )))
}
