//! The workflows behind `msign sign`, `msign verify` and `msign digest` of a model named by
//! a [`ModelSpec`] (a folder, a file, a Hub cache snapshot or a git revision), as library
//! calls with typed, serializable reports.
//!
//! ```no_run
//! use msign::source::ModelSpec;
//! use msign::workflow::{sign_model, verify_model, SignRequest, VerifyRequest};
//! use msign::{HashingConfig, NoProgress, VerifyingConfig};
//! # fn main() -> msign::Result<()> {
//! let req = SignRequest::new(ModelSpec::new("model"), HashingConfig::new(), "model.sig".into())?;
//! let signer = msign::sign::signer_from_files("key.pem".as_ref(), None, None)?;
//! let signed = sign_model(&req, signer, &NoProgress)?;
//! let verifier = VerifyingConfig::use_elliptic_key_verifier("key.pub".as_ref())?;
//! let req = VerifyRequest::new(ModelSpec::new("model"), "model.sig".into());
//! let verified = verify_model(&req, verifier, &NoProgress)?;
//! assert_eq!(signed.digest, verified.digest);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::cache::DigestCache;
use crate::hash::{Hashed, HashingConfig, Notice, Progress};
use crate::ignore::{IgnoreRules, RuleUse};
use crate::manifest::Manifest;
use crate::sign::{Signed, Signer, SignerSpec, SigningConfig};
use crate::source::ModelSpec;
use crate::store::{FileStore, SignatureStore};
use crate::verify::{VerifierSpec, VerifyingConfig};

pub mod reuse;

pub use reuse::Reuse;

/// What to sign and where the signature goes.
#[derive(Debug, Clone)]
pub struct SignRequest {
    /// The model.
    pub model: ModelSpec,
    /// How to hash it, with the model's link and git-path choices and its ignored paths
    /// (the signature file among them) applied by [`SignRequest::new`]. Add a digest
    /// cache or a previous signature here to skip re-hashing.
    pub hashing: HashingConfig,
    /// Where the signature is written (atomically).
    pub signature: PathBuf,
    /// Sign this manifest file (as `msign digest --json` writes it) instead of hashing.
    pub from_manifest: Option<PathBuf>,
    /// Where [`sign_with_spec`] may reuse digests from: by default the user's digest
    /// cache, as `msign sign` does. Not read by [`sign_model`], whose caller plugs them
    /// into [`SignRequest::hashing`].
    pub reuse: Reuse,
}

impl SignRequest {
    /// Applies `model`'s options and ignored paths, and leaves `signature` out when it is
    /// inside the model. Fails first, before anything is read, when the signature cannot
    /// be written there.
    pub fn new(model: ModelSpec, hashing: HashingConfig, signature: PathBuf) -> Result<Self> {
        crate::store::file::check_writable(&signature)?;
        let hashing = model_hashing(&model, hashing, &[signature.as_path()])?;
        Ok(SignRequest {
            model,
            hashing,
            signature,
            from_manifest: None,
            reuse: Reuse::default(),
        })
    }
}

/// Signs as `msign sign` does, from the method's description: warns (through
/// [`Progress::notice`]) of ignored paths outside the model, asks for the key's password
/// once, opens the signer, plugs in the digests [`SignRequest::reuse`] offers (unless
/// [`SignRequest::from_manifest`] is signed), then [`sign_model`]. The identity token or
/// password is only asked for once the request is known to be good.
pub fn sign_with_spec(
    req: &SignRequest,
    spec: SignerSpec,
    progress: &dyn Progress,
) -> Result<ModelSigned> {
    for w in req.model.ignore_paths_outside()? {
        progress.notice(&Notice::Warning(w));
    }
    // Asked once: the signer and a reused signature both open the key.
    let spec = spec.with_resolved_password()?;
    let signer = spec.build()?;
    let mut req = req.clone();
    if req.from_manifest.is_none() {
        req.hashing = req.reuse.apply(req.hashing, spec.private_key())?;
    }
    sign_model(&req, signer, progress)
}

/// `hashing` with `model`'s link and git-path choices and its ignored paths plus `extra`.
fn model_hashing(
    model: &ModelSpec,
    hashing: HashingConfig,
    extra: &[&Path],
) -> Result<HashingConfig> {
    let ignores = model.relative_ignores(extra)?;
    let mut hashing = hashing
        .set_allow_symlinks(model.allow_symlinks)
        .set_ignore_git_paths(model.ignore_git_paths);
    for p in &ignores {
        hashing = hashing.add_ignored_path(p)?;
    }
    Ok(hashing)
}

/// What [`sign_model`] did.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSigned {
    /// Always `signed`.
    pub status: &'static str,
    /// The model as given.
    pub model: PathBuf,
    /// The model name in the statement.
    pub model_name: String,
    /// Where the signature went, in words.
    pub signature: String,
    /// The signing method.
    pub method: &'static str,
    /// Who signed, as verification names them (key hint, certificate subject, Sigstore
    /// identity).
    pub signer: String,
    /// Files signed.
    pub files: usize,
    /// Resources signed (files, or shards).
    pub resources: usize,
    /// Bytes covered; unknown when signing a manifest file that does not record them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Files whose digests were reused (digest cache, previous signature), not hashed.
    pub reused_files: usize,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
    /// Every ignore rule applied, where it came from and what it left out.
    pub ignore_rules: Vec<RuleUse>,
}

/// Hashes the model (or reads [`SignRequest::from_manifest`]), signs it with `signer` and
/// writes the signature.
pub fn sign_model(
    req: &SignRequest,
    signer: Box<dyn Signer>,
    progress: &dyn Progress,
) -> Result<ModelSigned> {
    crate::store::file::check_writable(&req.signature)?;
    let source = crate::source::open(&req.model)?;
    let method = signer.method();
    let (signed, bytes) = match &req.from_manifest {
        Some(path) => {
            let (manifest, bytes) = read_manifest_file_with_size(path)?;
            (sign_manifest(manifest, signer)?, bytes)
        }
        None => {
            let signed = SigningConfig::new()
                .set_hashing_config(req.hashing.clone())
                .use_signer(signer)
                .sign(source.as_ref(), progress)?;
            let bytes = signed.hashed.bytes;
            (signed, Some(bytes))
        }
    };
    let bundle = signed.bundle.to_json();
    let written = FileStore::new(&req.signature).save(&bundle)?;
    let m = &signed.hashed.manifest;
    Ok(ModelSigned {
        status: "signed",
        model: req.model.path.clone(),
        model_name: m.model_name.clone(),
        signature: written,
        method,
        signer: crate::store::git::bundle_signer(&bundle).unwrap_or_default(),
        files: m.file_count(),
        resources: m.resources.len(),
        bytes,
        reused_files: signed.hashed.reused_files,
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: signed.hashed.warnings,
        ignore_rules: signed.hashed.ignore_rules,
    })
}

/// Signs a manifest file computed elsewhere (`msign digest --json`, `msign manifest merge`).
pub fn sign_manifest_file(path: &Path, signer: Box<dyn Signer>) -> Result<Signed> {
    sign_manifest(read_manifest_file(path)?, signer)
}

fn sign_manifest(manifest: Manifest, signer: Box<dyn Signer>) -> Result<Signed> {
    let bundle = SigningConfig::new()
        .use_signer(signer)
        .sign_manifest(&manifest)?;
    Ok(Signed {
        bundle,
        hashed: Hashed {
            manifest,
            warnings: Vec::new(),
            bytes: 0,
            reused_files: 0,
            ignore_rules: Vec::new(),
        },
    })
}

/// Reads and checks a manifest file (`msign digest --json` output) of bounded size.
pub fn read_manifest_file(path: &Path) -> Result<Manifest> {
    read_manifest_file_with_size(path).map(|(m, _)| m)
}

/// Reads a manifest file with the bytes of model it covers, when it says
/// ([`crate::manifest_json::parse_with_size`]).
pub fn read_manifest_file_with_size(path: &Path) -> Result<(Manifest, Option<u64>)> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    f.take(crate::manifest_json::MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, e))?;
    if out.len() as u64 > crate::manifest_json::MAX_MANIFEST_BYTES {
        return Err(Error::Usage(format!(
            "{}: manifest too large",
            path.display()
        )));
    }
    crate::manifest_json::parse_with_size(&out)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// What [`merge_manifest_files`] made.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestsMerged {
    /// Always `merged`.
    pub status: &'static str,
    /// Where the merged manifest was written, if anywhere.
    pub output: Option<PathBuf>,
    /// The model name it records.
    pub model_name: String,
    /// Files it covers.
    pub files: usize,
    /// Resources it covers (files, or shards).
    pub resources: usize,
    /// `sha256:<hex>` of the statement's subject it would be signed as.
    pub digest: String,
    /// The manifests merged.
    pub inputs: Vec<PathBuf>,
    /// The merged manifest, in the shape `msign digest --json` prints, ending with a
    /// newline: what was written to `output`.
    #[serde(skip)]
    pub manifest_json: String,
}

/// Merges manifests of disjoint parts of one model (`msign manifest merge`), hashed on
/// several machines, into one ready for [`SignRequest::from_manifest`]; writes it to
/// `output` (atomically) when given. `model_name` is needed when the parts name different
/// models.
pub fn merge_manifest_files(
    inputs: &[PathBuf],
    model_name: Option<String>,
    output: Option<&Path>,
) -> Result<ManifestsMerged> {
    let merged = crate::manifest_json::merge(
        inputs
            .iter()
            .map(|p| read_manifest_file(p))
            .collect::<Result<_>>()?,
        model_name,
    )?;
    let text = serde_json::to_string_pretty(&crate::bundle::statement::manifest_json(&merged))
        .map_err(|e| Error::Other(format!("rendering the manifest: {e}")))?
        + "\n";
    if let Some(p) = output {
        crate::store::file::write_atomic(p, text.as_bytes())?;
    }
    Ok(ManifestsMerged {
        status: "merged",
        output: output.map(Path::to_path_buf),
        model_name: merged.model_name.clone(),
        files: merged.file_count(),
        resources: merged.resources.len(),
        digest: format!("sha256:{}", hex::encode(merged.root_digest())),
        inputs: inputs.to_vec(),
        manifest_json: text,
    })
}

/// What to verify, against which signature file.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The model.
    pub model: ModelSpec,
    /// The signature file (left out of the model when inside it).
    pub signature: PathBuf,
    /// Only check the files the signature names; other files in the model are fine.
    pub ignore_unsigned_files: bool,
    /// Skip re-hashing files the user's digest cache knows unchanged; record the others.
    pub digest_cache: bool,
    /// The model path is `ORG/NAME[@REV]` in the Hugging Face cache, resolved by
    /// [`verify_with_spec`] as [`VerifyRequest::in_hub_cache`] does.
    pub hub_cache: bool,
    /// Announce the SHA-256 fingerprints of the trusted root certificates
    /// ([`Notice::Fingerprint`]) before verifying (the certificate method).
    pub log_fingerprints: bool,
}

impl VerifyRequest {
    /// Every file must be signed; no digest cache.
    pub fn new(model: ModelSpec, signature: PathBuf) -> Self {
        VerifyRequest {
            model,
            signature,
            ignore_unsigned_files: false,
            digest_cache: false,
            hub_cache: false,
            log_fingerprints: false,
        }
    }

    /// For a model named `ORG/NAME[@REV]` in the Hugging Face cache (`--hub-cache`): the
    /// model becomes its snapshot folder, and a relative signature path is taken inside it.
    pub fn in_hub_cache(mut self) -> Result<Self> {
        let spec = self
            .model
            .path
            .to_str()
            .ok_or_else(|| Error::Usage("--hub-cache needs ORG/NAME[@REV]".into()))?;
        let cache_dir = crate::hub::HubConfig::from_env()?.cache_dir;
        let (snapshot, signature) =
            crate::hub::resolve_hub_cache(&cache_dir, spec, &self.signature)?;
        self.model.path = snapshot;
        self.signature = signature;
        Ok(self)
    }

    /// Fails early, before keys or trust roots are loaded, when the signature file is
    /// missing (a git revision's signature is looked for in the repository instead).
    pub fn check_signature_exists(&self) -> Result<()> {
        if self.model.git.is_none() && std::fs::symlink_metadata(&self.signature).is_err() {
            return Err(Error::Other(format!(
                "no signature at {}: give its path with --signature (`msign sign` writes \
                 model.sig in the current folder unless told otherwise)",
                self.signature.display()
            )));
        }
        Ok(())
    }
}

/// Verifies as `msign verify` does, from the method's description: resolves a Hub cache
/// model, fails early when the signature file is missing (before keys or trust roots are
/// loaded), warns of ignored paths outside the model and announces fingerprints (through
/// [`Progress::notice`]), then [`verify_model`].
pub fn verify_with_spec(
    req: &VerifyRequest,
    spec: &VerifierSpec,
    progress: &dyn Progress,
) -> Result<ModelVerified> {
    let mut req = req.clone();
    if req.hub_cache {
        req = req.in_hub_cache()?;
        req.hub_cache = false;
    }
    req.check_signature_exists()?;
    for w in req.model.ignore_paths_outside()? {
        progress.notice(&Notice::Warning(w));
    }
    if let (true, VerifierSpec::Certificate { roots, .. }) = (req.log_fingerprints, spec) {
        for fp in crate::verify::spec::fingerprints(roots)? {
            progress.notice(&Notice::Fingerprint(fp));
        }
    }
    verify_model(&req, spec.build()?, progress)
}

/// What [`verify_model`] found.
#[derive(Debug, Clone, Serialize)]
pub struct ModelVerified {
    /// Always `verified`.
    pub status: &'static str,
    /// The model as given.
    pub model: PathBuf,
    /// The signature file.
    pub signature: PathBuf,
    /// The verification method.
    pub method: &'static str,
    /// Who signed (key hint, certificate subject, Sigstore identity).
    pub signer: String,
    /// Files verified.
    pub files: usize,
    /// Resources verified (files, or shards).
    pub resources: usize,
    /// Bytes covered.
    pub bytes: u64,
    /// Files the digest cache knew unchanged, not re-hashed.
    pub cached_files: usize,
    /// Whether the digest cache was asked for (the summary then says how many files it
    /// knew).
    #[serde(skip)]
    pub digest_cache: bool,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
}

/// Verifies the model against its signature file with `verifier`; fails with
/// [`Error::ModelMismatch`] naming every difference.
pub fn verify_model(
    req: &VerifyRequest,
    verifier: VerifyingConfig,
    progress: &dyn Progress,
) -> Result<ModelVerified> {
    let sig_bytes = FileStore::new(&req.signature).load()?;
    let mut rules = IgnoreRules::new();
    for p in req.model.relative_ignores(&[req.signature.as_path()])? {
        rules.add_path(&p)?;
    }
    let config = verifier
        .add_ignore_rules(&rules)?
        .set_ignore_git_paths(req.model.ignore_git_paths)
        .set_ignore_unsigned_files(req.ignore_unsigned_files)
        .set_allow_symlinks(req.model.allow_symlinks)
        .set_digest_cache(if req.digest_cache {
            Some(Arc::new(DigestCache::user_default()?))
        } else {
            None
        });
    let signed = config.verify_signature(&sig_bytes)?;
    let hashing = config.hashing_for(&signed.manifest)?;
    let source = crate::source::open(&ModelSpec {
        allow_symlinks: hashing.allow_symlinks(),
        ..req.model.clone()
    })?;
    let verified = config.verify_model(signed, source.as_ref(), progress)?;
    let m = &verified.manifest;
    Ok(ModelVerified {
        status: "verified",
        model: req.model.path.clone(),
        signature: req.signature.clone(),
        method: config.method(),
        signer: verified.signer.clone(),
        files: m.file_count(),
        resources: m.resources.len(),
        bytes: verified.hashed.bytes,
        cached_files: verified.hashed.reused_files,
        digest_cache: req.digest_cache,
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: verified.warnings.clone(),
    })
}

/// Hashes the model as signing would (its options and ignored paths applied to
/// `hashing`), without signing: its manifest and digest.
pub fn digest_model(
    model: &ModelSpec,
    hashing: HashingConfig,
    progress: &dyn Progress,
) -> Result<Hashed> {
    let hashing = model_hashing(model, hashing, &[])?;
    let source = crate::source::open(model)?;
    hashing.hash_with_progress(source.as_ref(), progress)
}
