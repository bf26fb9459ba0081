//! The Hub workflows behind `msign hub verify|download|sign` and `msign verify --hub-cache`,
//! as library calls with typed, serializable reports.
//!
//! A [`HubModel`] names the repository, revision and signature path, with the Hub settings
//! (endpoint, token, cache) to use; [`verify`], [`download`] and [`sign`] take it with a
//! verifier or a signer and return what they found.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::{HashingConfig, Notice, Progress};
use crate::hub::cache::{parse_repo_at, CachedRepo};
use crate::hub::download::{precheck, Destination, DownloadProgress, Downloader};
use crate::hub::select::Selection;
use crate::hub::source::HubSource;
use crate::hub::{check_revision, is_commit_id, HubClient, HubConfig, RepoId};
use crate::ignore::IgnoreRules;
use crate::manifest::{HashAlgorithm, Manifest, Method, ModelPath};
use crate::sign::{Signer, SignerSpec, SigningConfig};
use crate::source::DirSource;
use crate::store::file::write_atomic;
use crate::verify::{ManifestDiff, SignedManifest, VerifyingConfig};

/// Where a Hub model's signature is, unless told otherwise.
pub const DEFAULT_SIGNATURE: &str = "model.sig";

/// A model on the Hub: the repository, the revision, the path of its signature in the
/// repository, and the Hub settings to reach it with.
#[derive(Debug, Clone)]
pub struct HubModel {
    /// Endpoint, token, cache folder, offline mode.
    pub hub: HubConfig,
    /// The model repository.
    pub repo: RepoId,
    /// Branch, tag or commit.
    pub revision: String,
    /// Path of the signature inside the repository (left out of the signed files).
    pub signature: ModelPath,
}

impl HubModel {
    /// Checks the repository id, the revision and the signature path.
    pub fn new(hub: HubConfig, repo: &str, revision: &str, signature: &str) -> Result<Self> {
        let repo = RepoId::parse(repo)?;
        check_revision(revision)?;
        let signature = ModelPath::parse(signature)
            .ok()
            .filter(|p| p.as_str() != ".")
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--signature {signature:?} is not a path in the repository"
                ))
            })?;
        Ok(HubModel {
            hub,
            repo,
            revision: revision.to_string(),
            signature,
        })
    }

    /// Fails unless [`upload`] can commit: it needs a token with write access. Check it
    /// before making a signer, since a Sigstore signer may start an interactive login.
    pub fn check_can_upload(&self) -> Result<()> {
        if self.hub.token.is_none() {
            return Err(Error::Usage(
                "--upload needs a Hub token with write access: set HF_TOKEN".into(),
            ));
        }
        Ok(())
    }

    /// The branch an upload commits to: the revision, or `main` for a commit id.
    pub fn upload_branch(&self) -> &str {
        if is_commit_id(&self.revision) {
            "main"
        } else {
            &self.revision
        }
    }

    fn client(&self) -> Result<Arc<HubClient>> {
        Ok(Arc::new(HubClient::new(&self.hub)?))
    }

    fn verifier(&self, config: VerifyingConfig) -> Result<VerifyingConfig> {
        let mut rules = IgnoreRules::new();
        rules.add_path(self.signature.as_str())?;
        config.add_ignore_rules(&rules)
    }
}

/// What [`verify`] found on the Hub.
#[derive(Debug, Clone, Serialize)]
pub struct HubVerified {
    /// Always `verified`.
    pub status: &'static str,
    /// The model: the repository, as for every command's `model`.
    pub model: String,
    /// The repository.
    pub repo: String,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to.
    pub commit: String,
    /// The signature's path in the repository.
    pub signature: String,
    /// The verification method.
    pub method: &'static str,
    /// Who signed (key hint, certificate subject, Sigstore identity).
    pub signer: String,
    /// Files verified.
    pub files: usize,
    /// Bytes the signature covers.
    pub bytes: u64,
    /// Bytes fetched from the Hub to check them (the signature and small files).
    pub bytes_downloaded: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
    /// Offline (`HF_HUB_OFFLINE`): the cache snapshot that was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
}

impl HubVerified {
    /// `bytes_downloaded` as a percentage of `bytes`.
    pub fn downloaded_percent(&self) -> f64 {
        if self.bytes == 0 {
            0.0
        } else {
            self.bytes_downloaded as f64 * 100.0 / self.bytes as f64
        }
    }
}

/// What [`verify_folder`] found: a downloaded model or a Hub cache snapshot, offline.
#[derive(Debug, Clone, Serialize)]
pub struct FolderVerified {
    /// Always `verified`.
    pub status: &'static str,
    /// The folder verified.
    pub folder: PathBuf,
    /// Who signed.
    pub signer: String,
    /// Files verified.
    pub files: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// Always 0: nothing is fetched.
    pub bytes_downloaded: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
}

/// What [`verify`] did: checked the Hub's metadata, or, offline (`HF_HUB_OFFLINE`), the
/// cached snapshot of the revision.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum HubVerification {
    /// Verified from the Hub.
    Online(HubVerified),
    /// Verified from the local cache ([`HubVerified::folder`] names the snapshot).
    Offline(HubVerified),
}

impl HubVerification {
    /// Things the user may want to know.
    pub fn warnings(&self) -> &[String] {
        match self {
            HubVerification::Online(v) | HubVerification::Offline(v) => &v.warnings,
        }
    }
}

/// What [`download`] did.
#[derive(Debug, Clone, Serialize)]
pub struct HubDownloaded {
    /// Always `verified`.
    pub status: &'static str,
    /// The model: the repository, as for every command's `model`.
    pub model: String,
    /// The repository.
    pub repo: String,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to.
    pub commit: String,
    /// The folder holding the model (the cache snapshot, or the local dir).
    pub folder: PathBuf,
    /// The signature's path in the repository.
    pub signature: String,
    /// The verification method.
    pub method: &'static str,
    /// Who signed.
    pub signer: String,
    /// Files checked.
    pub files: usize,
    /// Total size of the checked files.
    pub bytes: u64,
    /// Bytes received over the network (the signature and listing included).
    pub bytes_downloaded: u64,
    /// Bytes already on disk, re-hashed rather than downloaded.
    pub bytes_reused: u64,
    /// Signed files that `--include` / `--exclude` left out: not downloaded, and so not
    /// checked (the listing still had to agree with the signature about them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_downloaded: Vec<String>,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
}

/// What [`sign`] did.
#[derive(Debug, Clone, Serialize)]
pub struct HubSigned {
    /// Always `signed`.
    pub status: &'static str,
    /// The model: the repository, as for every command's `model`.
    pub model: String,
    /// The repository.
    pub repo: String,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to.
    pub commit: String,
    /// The local file the signature was written to.
    pub signature: PathBuf,
    /// The signing method.
    pub method: &'static str,
    /// Who signed, as verification names them.
    pub signer: String,
    /// Files signed.
    pub files: usize,
    /// Bytes covered.
    pub bytes: u64,
    /// Bytes fetched from the Hub to sign (small files).
    pub bytes_downloaded: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
    /// Every ignore rule applied, where it came from and what it left out.
    pub ignore_rules: Vec<crate::ignore::RuleUse>,
    /// Set once [`upload`] committed the signature.
    #[serde(flatten)]
    pub uploaded: Option<Uploaded>,
    /// The signature (Sigstore bundle JSON), as written.
    #[serde(skip)]
    pub bundle: Vec<u8>,
}

/// What [`upload`] committed.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    /// The new commit.
    #[serde(rename = "uploaded_commit")]
    pub commit: String,
    /// Its URL on the Hub, when the Hub gives one.
    #[serde(rename = "commit_url")]
    pub url: Option<String>,
    /// The branch committed to.
    #[serde(skip)]
    pub branch: String,
    /// The signature's path in the repository.
    #[serde(skip)]
    pub path: String,
}

/// The largest signature taken from the Hub. A signature costs about 200 bytes a file, so
/// this is some 80,000 files; the bound keeps what a server can make msign hold in memory
/// (the signature, then its decoded statement) well under 100 MB.
const MAX_HUB_SIGNATURE: u64 = 16 << 20;

/// Fetches the signature at the source's commit and verifies it cryptographically.
fn fetch_and_verify_signature(
    source: &HubSource,
    sig: &ModelPath,
    config: &VerifyingConfig,
) -> Result<(Vec<u8>, SignedManifest)> {
    let bytes = source.fetch(sig.as_str(), MAX_HUB_SIGNATURE)?.ok_or_else(|| {
        Error::NotFound(format!(
            "{}@{} has no signature at {sig}: the model is not signed there (name another file with --signature, or sign it with `msign hub sign`)",
            source.repo(),
            source.commit()
        ))
    })?;
    let signed = config.verify_signature(&bytes)?;
    Ok((bytes, signed))
}

/// Lists the repository against the signed manifest ([`HubSource::list_signed`]) and
/// fails, before any file is fetched, when it names files the signature does not: those
/// (the first thousand by name, all by count) with what else the listing alone shows.
fn list_against_signature(
    source: &mut HubSource,
    manifest: &Manifest,
    rules: &IgnoreRules,
) -> Result<()> {
    source.list_signed(manifest, rules)?;
    let unsigned = source.unsigned();
    if unsigned.count == 0 {
        return Ok(());
    }
    let mut diff = match precheck(source.files(), manifest) {
        Ok(()) => ManifestDiff::default(),
        Err(Error::ModelMismatch(d)) => *d,
        Err(e) => return Err(e),
    };
    diff.extra.extend(unsigned.names.iter().cloned());
    diff.extra_not_named = unsigned.count - unsigned.names.len();
    Err(Error::ModelMismatch(diff.into()))
}

/// Whether the Hub's metadata (one SHA-256 per LFS file) can reproduce this manifest.
pub fn metadata_suffices(m: &Manifest) -> bool {
    m.serialization.method == Method::Files && m.serialization.hash == HashAlgorithm::Sha256
}

/// Verifies `model` against its signature from the Hub's metadata: LFS files by the
/// SHA-256 the Hub lists, without downloading them; small files are fetched. Offline
/// (`HF_HUB_OFFLINE`), verifies the revision's snapshot in the local cache instead.
/// `verifier` says how the signature is checked; the signature file is left out for it.
pub fn verify(
    model: &HubModel,
    verifier: VerifyingConfig,
    progress: &dyn Progress,
) -> Result<HubVerification> {
    let config = model.verifier(verifier)?;
    let repo = &model.repo;
    if model.hub.offline {
        let cache = CachedRepo::new(&model.hub.cache_dir, repo);
        let Some(snapshot) = cached_snapshot(model) else {
            return Err(Error::NotFound(format!(
                "{repo}@{} is not in the Hub cache ({}), and HF_HUB_OFFLINE is set, so nothing is fetched: unset HF_HUB_OFFLINE, then `msign hub download {repo} --revision {}` or `msign hub verify` it online",
                model.revision,
                cache.root().display(),
                model.revision
            )));
        };
        let commit = cache.commit_of(&model.revision)?;
        let sig = snapshot.join(model.signature.as_str());
        let f = verify_folder(&config, &snapshot, &sig, Some(&cache), progress)?;
        return Ok(HubVerification::Offline(HubVerified {
            status: "verified",
            model: repo.to_string(),
            repo: repo.to_string(),
            revision: model.revision.clone(),
            commit,
            signature: model.signature.to_string(),
            method: config.method(),
            signer: f.signer,
            files: f.files,
            bytes: f.bytes,
            bytes_downloaded: 0,
            digest: f.digest,
            warnings: f.warnings,
            folder: Some(f.folder),
        }));
    }
    verify_online(model, config, progress).map_err(|e| offline_hint(model, e))
}

/// The snapshot folder of `model`'s revision in the local cache, when there is one.
pub fn cached_snapshot(model: &HubModel) -> Option<PathBuf> {
    let cache = CachedRepo::new(&model.hub.cache_dir, &model.repo);
    let commit = cache.commit_of(&model.revision).ok()?;
    let snapshot = cache.snapshot(&commit).ok()?;
    snapshot.is_dir().then_some(snapshot)
}

/// Adds to a network failure that the revision is in the cache, when it is, and how to
/// verify it there.
fn offline_hint(model: &HubModel, e: Error) -> Error {
    match e {
        Error::Network(m) if cached_snapshot(model).is_some() => Error::Network(format!(
            "{m}; {}@{} is in the Hub cache: `HF_HUB_OFFLINE=1 msign hub verify {} --revision {} ...` (same key flags) verifies it there without the network",
            model.repo, model.revision, model.repo, model.revision
        )),
        e => e,
    }
}

fn verify_online(
    model: &HubModel,
    config: VerifyingConfig,
    progress: &dyn Progress,
) -> Result<HubVerification> {
    let repo = &model.repo;
    let mut source = HubSource::resolve(model.client()?, repo.clone(), &model.revision)?;
    let (_, signed) = fetch_and_verify_signature(&source, &model.signature, &config)?;
    let hashing = config.hashing_for(&signed.manifest)?;
    let rules = hashing.effective_rules(&source)?;
    list_against_signature(&mut source, &signed.manifest, &rules)?;
    if !metadata_suffices(&signed.manifest) {
        let big: Vec<String> = source
            .kept_files(&rules)
            .iter()
            .filter(|f| f.sha256.is_some() || f.xet_hash.is_some())
            .map(|f| f.path.to_string())
            .collect();
        if !big.is_empty() {
            return Err(Error::ContentUnavailable {
                names: big,
                hint: format!(
                    "this signature uses {} with {}, but the Hub's metadata gives one SHA-256 per whole file, so it cannot be checked without the content; download and verify instead: msign hub download {repo} --revision {} (with the same key flags)",
                    match signed.manifest.serialization.method {
                        Method::Files => "file serialization".to_string(),
                        Method::Shards { shard_size } => format!("shards of {shard_size} bytes"),
                    },
                    signed.manifest.serialization.hash,
                    source.commit()
                ),
            });
        }
    }
    let verified = config.verify_model(signed, &source, progress)?;
    let m = &verified.manifest;
    Ok(HubVerification::Online(HubVerified {
        status: "verified",
        repo: repo.to_string(),
        model: repo.to_string(),
        revision: model.revision.clone(),
        commit: source.commit().to_string(),
        signature: model.signature.to_string(),
        method: config.method(),
        signer: verified.signer.clone(),
        files: m.file_count(),
        bytes: verified.hashed.bytes,
        bytes_downloaded: source.bytes_downloaded(),
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: verified.warnings.clone(),
        folder: None,
    }))
}

/// Verifies a folder (a downloaded model, or a Hub cache snapshot: then `cache` allows its
/// links into the repository's `blobs/`) against the signature file `signature`.
pub fn verify_folder(
    config: &VerifyingConfig,
    folder: &Path,
    signature: &Path,
    cache: Option<&CachedRepo>,
    progress: &dyn Progress,
) -> Result<FolderVerified> {
    let bytes = crate::store::file::read_limited(signature)?;
    let signed = config.verify_signature(&bytes)?;
    let mut source = DirSource::new(folder);
    if let Some(c) = cache {
        source = source.allow_symlinks(true).allow_links_into(c.blobs());
    }
    let verified = config.verify_model(signed, &source, progress)?;
    let m = &verified.manifest;
    Ok(FolderVerified {
        status: "verified",
        folder: folder.to_path_buf(),
        signer: verified.signer.clone(),
        files: m.file_count(),
        bytes: verified.hashed.bytes,
        bytes_downloaded: 0,
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: verified.warnings.clone(),
    })
}

/// Verifies the signature of `model`, then downloads the files it names into the Hugging
/// Face cache (or `local_dir`), checking every byte as it arrives; files already there are
/// re-hashed, not fetched again. Nothing unverified is left in place. Only the files
/// `selection` takes are fetched; the others are reported as not downloaded.
pub fn download(
    model: &HubModel,
    verifier: VerifyingConfig,
    local_dir: Option<&Path>,
    selection: &Selection,
    progress: &dyn DownloadProgress,
) -> Result<HubDownloaded> {
    if model.hub.offline {
        let what = match cached_snapshot(model) {
            Some(_) => format!(
                "{}@{} is in the cache already: `msign hub verify` checks it there while HF_HUB_OFFLINE is set",
                model.repo, model.revision
            ),
            None => format!(
                "{}@{} is not in the cache: unset HF_HUB_OFFLINE to download it",
                model.repo, model.revision
            ),
        };
        return Err(Error::Usage(format!(
            "HF_HUB_OFFLINE is set, so nothing can be downloaded; {what}"
        )));
    }
    download_online(model, verifier, local_dir, selection, progress)
        .map_err(|e| offline_hint(model, e))
}

fn download_online(
    model: &HubModel,
    verifier: VerifyingConfig,
    local_dir: Option<&Path>,
    selection: &Selection,
    progress: &dyn DownloadProgress,
) -> Result<HubDownloaded> {
    let config = model.verifier(verifier)?;
    let repo = &model.repo;
    let hub = model.client()?;
    let mut source = HubSource::resolve(hub.clone(), repo.clone(), &model.revision)?;
    let (sig_bytes, signed) = fetch_and_verify_signature(&source, &model.signature, &config)?;
    let rules = config
        .hashing_for(&signed.manifest)?
        .effective_rules(&source)?;
    list_against_signature(&mut source, &signed.manifest, &rules)?;
    let files = source.kept_files(&rules);
    let dest = match local_dir {
        Some(d) => Destination::Dir(d.to_path_buf()),
        None => Destination::Cache(CachedRepo::new(&model.hub.cache_dir, repo)),
    };
    let downloader = Downloader {
        client: &hub,
        repo,
        commit: source.commit(),
        manifest: &signed.manifest,
        dest: dest.clone(),
    };
    let report = downloader.run(&files, selection, progress)?;
    downloader.place_bytes(&model.signature, &sig_bytes)?;
    if let Destination::Cache(c) = &dest {
        c.write_ref(&model.revision, source.commit())?;
    }
    Ok(HubDownloaded {
        status: "verified",
        model: repo.to_string(),
        repo: repo.to_string(),
        revision: model.revision.clone(),
        commit: source.commit().to_string(),
        folder: report.folder,
        signature: model.signature.to_string(),
        method: config.method(),
        digest: format!("sha256:{}", hex::encode(signed.manifest.root_digest())),
        signer: signed.signer,
        files: report.files,
        bytes: report.bytes,
        bytes_downloaded: report.bytes_downloaded + source.bytes_downloaded(),
        bytes_reused: report.bytes_reused,
        not_downloaded: report.not_downloaded,
        warnings: report.warnings,
    })
}

/// Signs `model` from the Hub's metadata (LFS files by their listed SHA-256; small files
/// fetched) with `signer`, leaving its signature path out, and writes the signature to
/// `output`. [`upload`] then commits it, if wanted.
pub fn sign(
    model: &HubModel,
    signer: Box<dyn Signer>,
    output: &Path,
    progress: &dyn Progress,
) -> Result<HubSigned> {
    let source = HubSource::open(model.client()?, model.repo.clone(), &model.revision)?;
    let hashing = HashingConfig::new().add_ignored_path(model.signature.as_str())?;
    let method = signer.method();
    let signed = SigningConfig::new()
        .set_hashing_config(hashing)
        .use_signer(signer)
        .sign(&source, progress)?;
    let bundle = signed.bundle.to_json();
    write_atomic(output, &bundle)?;
    let m = &signed.hashed.manifest;
    Ok(HubSigned {
        status: "signed",
        model: model.repo.to_string(),
        signer: crate::store::git::bundle_signer(&bundle).unwrap_or_default(),
        warnings: signed.hashed.warnings.clone(),
        repo: model.repo.to_string(),
        revision: model.revision.clone(),
        commit: source.commit().to_string(),
        signature: output.to_path_buf(),
        method,
        files: m.file_count(),
        bytes: signed.hashed.bytes,
        bytes_downloaded: source.bytes_downloaded(),
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        ignore_rules: signed.hashed.ignore_rules.clone(),
        uploaded: None,
        bundle,
    })
}

/// What `msign hub sign` does: sign a model on the Hub into a local file and, when asked,
/// commit the signature to the repository.
#[derive(Debug, Clone)]
pub struct HubSignRequest {
    /// The model, and where its signature goes in the repository.
    pub model: HubModel,
    /// Where the signature is written locally (atomically).
    pub output: PathBuf,
    /// Commit the signature to the repository ([`upload`]).
    pub upload: bool,
}

impl HubSignRequest {
    /// Fails first when the upload cannot be done (no token), before a signer is made: a
    /// Sigstore signer may start an interactive login.
    pub fn new(model: HubModel, output: PathBuf, upload: bool) -> Result<Self> {
        if upload {
            model.check_can_upload()?;
        }
        Ok(HubSignRequest {
            model,
            output,
            upload,
        })
    }
}

/// Signs as `msign hub sign` does: opens the signer `spec` describes, [`sign`]s, then
/// [`upload`]s when asked. Once the signature is written, it is announced through
/// [`Progress::notice`] ([`Notice::Signed`]), so that a failed upload still lets the user
/// know the local file is good.
pub fn sign_and_upload(
    req: &HubSignRequest,
    spec: SignerSpec,
    progress: &dyn Progress,
) -> Result<HubSigned> {
    let mut signed = sign(&req.model, spec.build()?, &req.output, progress)?;
    progress.notice(&Notice::Signed {
        summary: signed.to_string(),
        ignore_rules: signed.ignore_rules.clone(),
    });
    if req.upload {
        signed.uploaded = Some(upload(&req.model, &signed)?);
    }
    Ok(signed)
}

/// Commits the signature [`sign`] made to `model`'s repository at its signature path, on
/// the revision's branch (`main` for a commit id), on top of the commit that was signed:
/// if the branch moved meanwhile, the commit fails.
pub fn upload(model: &HubModel, signed: &HubSigned) -> Result<Uploaded> {
    model.check_can_upload()?;
    let branch = model.upload_branch();
    let sig = &model.signature;
    let committed = model.client()?.commit_file(
        &model.repo,
        branch,
        &signed.commit,
        sig.as_str(),
        &signed.bundle,
        &format!("Add model signature {sig} (msign)"),
    )?;
    Ok(Uploaded {
        commit: committed.commit,
        url: committed.url,
        branch: branch.to_string(),
        path: sig.to_string(),
    })
}

/// For `msign verify --hub-cache ORG/NAME[@REV]`: the revision's snapshot folder in the
/// cache under `cache_dir`, and the signature (a path inside the snapshot when relative).
pub fn resolve_hub_cache(
    cache_dir: &Path,
    spec: &str,
    signature: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let (repo, rev) = parse_repo_at(spec)?;
    let cache = CachedRepo::new(cache_dir, &repo);
    let commit = cache.commit_of(&rev)?;
    let snapshot = cache.snapshot(&commit)?;
    if !snapshot.is_dir() {
        return Err(Error::NotFound(format!(
            "{}: {repo}@{rev} is not in the Hub cache; download it with `msign hub download {repo} --revision {rev}`",
            snapshot.display()
        )));
    }
    let sig = if signature.is_relative() {
        snapshot.join(signature)
    } else {
        signature.to_path_buf()
    };
    Ok((snapshot, sig))
}
