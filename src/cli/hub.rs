//! `msign hub verify|download|sign ORG/NAME`: models on the Hugging Face Hub.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::args::ModelArgs;
use crate::cli::hub_sigstore::{SigstoreSignArgs, SigstoreVerifyArgs};
use crate::cli::{conclude, Ctx};
use crate::error::{Error, Result};
use crate::hash::{HashingConfig, NoProgress};
use crate::hub::cache::{parse_repo_at, CachedRepo};
use crate::hub::download::{precheck, Destination, DownloadProgress, Downloader};
use crate::hub::{check_revision, is_commit_id, HubClient, HubConfig, RepoId};
use crate::ignore::IgnoreRules;
use crate::manifest::{HashAlgorithm, Manifest, Method, ModelPath};
use crate::sign::{CertificateSigner, KeySigner, Signer, SigningConfig};
use crate::source::{DirSource, HubSource};
use crate::store::file::write_atomic;
use crate::verify::{
    CertificateVerifier, KeyVerifier, ManifestDiff, SignedManifest, VerifyingConfig,
};

/// Hub subcommands.
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Check a model on the Hub against its signature, from the Hub's metadata: LFS files
    /// by the SHA-256 the Hub lists, without downloading them.
    Verify(HubVerifyArgs),
    /// Verify the signature, then download the model, checking every byte as it arrives.
    Download(HubDownloadArgs),
    /// Sign a model on the Hub from its metadata; optionally commit the signature to it.
    Sign(HubSignArgs),
}

/// The repository and revision.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The model repository, ORG/NAME.
    #[arg(value_name = "ORG/NAME")]
    pub repo: String,
    /// Branch, tag or commit.
    #[arg(long, default_value = "main", value_name = "REV")]
    pub revision: String,
}

/// Which signature method to verify with.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum HubMethod {
    /// An EC public key (`--public-key`).
    Key,
    /// A certificate chain to trusted roots (`--certificate-chain`, or the system's).
    Certificate,
    /// A Sigstore identity (`--identity`, `--identity-provider`).
    Sigstore,
}

impl HubMethod {
    fn flags(self) -> &'static str {
        match self {
            HubMethod::Key => "--public-key",
            HubMethod::Certificate => "--certificate-chain",
            HubMethod::Sigstore => "--identity/--identity-provider",
        }
    }
}

/// How the signature is checked, as in `msign verify key|certificate|sigstore`.
#[derive(Debug, Args, Clone)]
pub struct VerifierArgs {
    /// Verify with this EC public key (PEM).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
    pub public_key: Option<PathBuf>,
    /// Verify a certificate signature against these root certificates (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
    /// With a certificate signature: refuse an expired signing certificate (by default it
    /// verifies with a warning naming the expiry date, as in model_signing).
    #[arg(long = "reject-expired")]
    pub reject_expired: bool,
    #[command(flatten)]
    pub sigstore: SigstoreVerifyArgs,
    /// The method; inferred from the flags above when absent.
    #[arg(long, value_enum)]
    pub method: Option<HubMethod>,
}

impl VerifierArgs {
    /// The verifying configuration these flags describe.
    pub fn config(&self) -> Result<VerifyingConfig> {
        let given: Vec<HubMethod> = [
            (self.public_key.is_some(), HubMethod::Key),
            (!self.certificate_chain.is_empty(), HubMethod::Certificate),
            (self.sigstore.given(), HubMethod::Sigstore),
        ]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect();
        // An explicit --method chooses among the flags given; without it, they must name one.
        let method = match (self.method, given.as_slice()) {
            (Some(m), _) => m,
            (None, [m]) => *m,
            (None, [_, _, ..]) => {
                return Err(Error::Usage(format!(
                    "choose one verification method, not several: {} (or say which with --method)",
                    given.iter().map(|m| m.flags()).collect::<Vec<_>>().join(", ")
                )))
            }
            (None, []) => {
                return Err(Error::Usage(
                    "say how to verify: --public-key KEY, --certificate-chain ROOT (or --method certificate for the system's roots), or --identity ID --identity-provider URL for Sigstore".into(),
                ))
            }
        };
        match method {
            HubMethod::Key => {
                let key = self
                    .public_key
                    .as_ref()
                    .ok_or_else(|| Error::Usage("--method key needs --public-key".into()))?;
                Ok(VerifyingConfig::new(Box::new(KeyVerifier::from_pem_file(
                    key,
                )?)))
            }
            HubMethod::Certificate => Ok(VerifyingConfig::new(Box::new(
                CertificateVerifier::from_root_files(&self.certificate_chain)?
                    .reject_expired(self.reject_expired),
            ))),
            HubMethod::Sigstore => self.sigstore.config(),
        }
    }
}

/// `msign hub verify`.
#[derive(Debug, Args, Clone)]
pub struct HubVerifyArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Path of the signature inside the repository.
    #[arg(long, default_value = "model.sig", value_name = "PATH_IN_REPO")]
    signature: String,
    #[command(flatten)]
    verifier: VerifierArgs,
}

/// `msign hub download`.
#[derive(Debug, Args, Clone)]
pub struct HubDownloadArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Path of the signature inside the repository.
    #[arg(long, default_value = "model.sig", value_name = "PATH_IN_REPO")]
    signature: String,
    #[command(flatten)]
    verifier: VerifierArgs,
    /// Download into this folder instead of the Hugging Face cache.
    #[arg(long = "local-dir", value_name = "DIR")]
    local_dir: Option<PathBuf>,
}

/// `msign hub sign`.
#[derive(Debug, Args, Clone)]
pub struct HubSignArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Path of the signature inside the repository (left out of the signed files).
    #[arg(long, default_value = "model.sig", value_name = "PATH_IN_REPO")]
    signature: String,
    /// Where to write the signature locally.
    #[arg(long, default_value = "model.sig", value_name = "FILE")]
    output: PathBuf,
    /// EC private key (PEM).
    #[arg(
        long = "private-key",
        alias = "private_key",
        value_name = "PRIVATE_KEY"
    )]
    private_key: Option<PathBuf>,
    /// Password of an encrypted private key.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "MSIGN_KEY_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// File holding the password of an encrypted private key (one line).
    #[arg(long = "password-file", value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Sign with a certificate: the signing certificate (PEM) of the key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "CERTIFICATE_PATH"
    )]
    signing_certificate: Option<PathBuf>,
    /// Intermediate certificates to include (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    certificate_chain: Vec<PathBuf>,
    #[command(flatten)]
    sigstore: SigstoreSignArgs,
    /// Commit the signature to the repository (needs HF_TOKEN with write access).
    #[arg(long)]
    upload: bool,
}

/// Runs a `hub` subcommand.
pub fn run(ctx: &Ctx, cmd: HubCommand) -> ExitCode {
    let (result, repo) = match &cmd {
        HubCommand::Verify(a) => (verify(ctx, a), a.repo.repo.clone()),
        HubCommand::Download(a) => (download(ctx, a), a.repo.repo.clone()),
        HubCommand::Sign(a) => (sign(ctx, a), a.repo.repo.clone()),
    };
    conclude(ctx, result, json!({"repo": repo}))
}

fn client(cfg: &HubConfig) -> Result<Arc<HubClient>> {
    Ok(Arc::new(HubClient::new(cfg)?))
}

fn signature_path(path: &str) -> Result<ModelPath> {
    ModelPath::parse(path)
        .ok()
        .filter(|p| p.as_str() != ".")
        .ok_or_else(|| {
            Error::Usage(format!(
                "--signature {path:?} is not a path in the repository"
            ))
        })
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
        Error::Other(format!(
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
        Err(Error::ModelMismatch(d)) => d,
        Err(e) => return Err(e),
    };
    diff.extra.extend(unsigned.names.iter().cloned());
    diff.extra_not_named = unsigned.count - unsigned.names.len();
    Err(Error::ModelMismatch(diff))
}

/// Whether the Hub's metadata (one SHA-256 per LFS file) can reproduce this manifest.
fn metadata_suffices(m: &Manifest) -> bool {
    m.serialization.method == Method::Files && m.serialization.hash == HashAlgorithm::Sha256
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn verify(ctx: &Ctx, a: &HubVerifyArgs) -> Result<serde_json::Value> {
    let cfg = HubConfig::from_env()?;
    let repo = RepoId::parse(&a.repo.repo)?;
    check_revision(&a.repo.revision)?;
    let sig = signature_path(&a.signature)?;
    let mut rules = IgnoreRules::new();
    rules.add_path(sig.as_str())?;
    let config = a.verifier.config()?.add_ignore_rules(&rules)?;
    if cfg.offline {
        let cache = CachedRepo::new(&cfg.cache_dir, &repo);
        let commit = cache.commit_of(&a.repo.revision)?;
        let snapshot = cache.snapshot(&commit)?;
        return verify_folder(
            ctx,
            &config,
            &snapshot,
            &snapshot.join(sig.as_str()),
            Some(&cache),
        );
    }
    let mut source = HubSource::resolve(client(&cfg)?, repo.clone(), &a.repo.revision)?;
    let (_, signed) = fetch_and_verify_signature(&source, &sig, &config)?;
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
    let verified = config.verify_model(signed, &source, &NoProgress)?;
    for w in &verified.warnings {
        ctx.warn(w);
    }
    let m = &verified.manifest;
    let downloaded = source.bytes_downloaded();
    let total = verified.hashed.bytes;
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded: {} file(s) ({}) of {repo}@{} match the signature by {}",
            m.file_count(),
            HumanBytes(total),
            source.commit(),
            verified.signer
        );
        println!(
            "Downloaded {downloaded} bytes ({}) to check it: {:.3}% of the model's {total} bytes",
            HumanBytes(downloaded),
            percent(downloaded, total)
        );
    }
    Ok(json!({
        "status": "verified",
        "repo": repo.as_str(),
        "revision": a.repo.revision,
        "commit": source.commit(),
        "signature": sig.as_str(),
        "method": config.method(),
        "signer": verified.signer,
        "files": m.file_count(),
        "bytes": total,
        "bytes_downloaded": downloaded,
        "digest": format!("sha256:{}", hex::encode(m.root_digest())),
        "warnings": verified.warnings,
    }))
}

/// Verifies a folder (a cache snapshot or a downloaded dir) with links into `blobs/`
/// allowed when it is a snapshot.
fn verify_folder(
    ctx: &Ctx,
    config: &VerifyingConfig,
    folder: &Path,
    signature: &Path,
    cache: Option<&CachedRepo>,
) -> Result<serde_json::Value> {
    let bytes = crate::store::file::read_limited(signature)?;
    let signed = config.verify_signature(&bytes)?;
    let mut source = DirSource::new(folder);
    if let Some(c) = cache {
        source = source.allow_symlinks(true).allow_links_into(c.blobs());
    }
    let verified = config.verify_model(signed, &source, &NoProgress)?;
    for w in &verified.warnings {
        ctx.warn(w);
    }
    let m = &verified.manifest;
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded (offline, from {}): {} file(s) ({}) match the signature by {}",
            folder.display(),
            m.file_count(),
            HumanBytes(verified.hashed.bytes),
            verified.signer
        );
    }
    Ok(json!({
        "status": "verified",
        "folder": folder,
        "signer": verified.signer,
        "files": m.file_count(),
        "bytes": verified.hashed.bytes,
        "bytes_downloaded": 0,
        "digest": format!("sha256:{}", hex::encode(m.root_digest())),
    }))
}

fn download(ctx: &Ctx, a: &HubDownloadArgs) -> Result<serde_json::Value> {
    let cfg = HubConfig::from_env()?;
    if cfg.offline {
        return Err(Error::Usage(
            "HF_HUB_OFFLINE is set: nothing can be downloaded (verify the cache with `msign hub verify`)".into(),
        ));
    }
    let repo = RepoId::parse(&a.repo.repo)?;
    let sig = signature_path(&a.signature)?;
    let mut rules = IgnoreRules::new();
    rules.add_path(sig.as_str())?;
    let config = a.verifier.config()?.add_ignore_rules(&rules)?;
    let hub = client(&cfg)?;
    let mut source = HubSource::resolve(hub.clone(), repo.clone(), &a.repo.revision)?;
    let (sig_bytes, signed) = fetch_and_verify_signature(&source, &sig, &config)?;
    let rules = config
        .hashing_for(&signed.manifest)?
        .effective_rules(&source)?;
    list_against_signature(&mut source, &signed.manifest, &rules)?;
    let files = source.kept_files(&rules);
    let dest = match &a.local_dir {
        Some(d) => Destination::Dir(d.clone()),
        None => Destination::Cache(CachedRepo::new(&cfg.cache_dir, &repo)),
    };
    let downloader = Downloader {
        client: &hub,
        repo: &repo,
        commit: source.commit(),
        manifest: &signed.manifest,
        dest: dest.clone(),
    };
    let bars = Bars::new(ctx.quiet || ctx.json);
    let report = downloader.run(&files, &bars)?;
    downloader.place_bytes(&sig, &sig_bytes)?;
    if let Destination::Cache(c) = &dest {
        c.write_ref(&a.repo.revision, source.commit())?;
    }
    for w in &report.warnings {
        ctx.warn(w);
    }
    let downloaded = report.bytes_downloaded + source.bytes_downloaded();
    if !ctx.json && !ctx.quiet {
        println!(
            "Downloaded and verified {} file(s) ({}) of {repo}@{} signed by {} into {}",
            report.files,
            HumanBytes(report.bytes),
            source.commit(),
            signed.signer,
            report.folder.display()
        );
        println!(
            "{downloaded} bytes downloaded, {} bytes already on disk re-checked",
            report.bytes_reused
        );
    }
    Ok(json!({
        "status": "verified",
        "repo": repo.as_str(),
        "revision": a.repo.revision,
        "commit": source.commit(),
        "folder": report.folder,
        "signer": signed.signer,
        "files": report.files,
        "bytes": report.bytes,
        "bytes_downloaded": downloaded,
        "bytes_reused": report.bytes_reused,
        "warnings": report.warnings,
    }))
}

fn sign(ctx: &Ctx, a: &HubSignArgs) -> Result<serde_json::Value> {
    let cfg = HubConfig::from_env()?;
    let repo = RepoId::parse(&a.repo.repo)?;
    let sig = signature_path(&a.signature)?;
    // Before choosing the signer: Sigstore may start an interactive login.
    if a.upload && cfg.token.is_none() {
        return Err(Error::Usage(
            "--upload needs a Hub token with write access: set HF_TOKEN".into(),
        ));
    }
    let signer = hub_signer(a)?;
    let hub = client(&cfg)?;
    let source = HubSource::open(hub.clone(), repo.clone(), &a.repo.revision)?;
    let hashing = HashingConfig::new().add_ignored_path(sig.as_str())?;
    let method = signer.method();
    let signed = SigningConfig::new()
        .set_hashing_config(hashing)
        .use_signer(signer)
        .sign(&source, &NoProgress)?;
    let bundle = signed.bundle.to_json();
    write_atomic(&a.output, &bundle)?;
    let m = &signed.hashed.manifest;
    let mut out = json!({
        "status": "signed",
        "repo": repo.as_str(),
        "revision": a.repo.revision,
        "commit": source.commit(),
        "signature": a.output,
        "method": method,
        "files": m.file_count(),
        "bytes": signed.hashed.bytes,
        "bytes_downloaded": source.bytes_downloaded(),
        "digest": format!("sha256:{}", hex::encode(m.root_digest())),
    });
    if !ctx.json && !ctx.quiet {
        println!(
            "Signing succeeded: {} file(s) ({}) of {repo}@{} signed with {method} -> {} ({} bytes downloaded)",
            m.file_count(),
            HumanBytes(signed.hashed.bytes),
            source.commit(),
            a.output.display(),
            source.bytes_downloaded()
        );
    }
    if a.upload {
        let branch = if is_commit_id(&a.repo.revision) {
            "main"
        } else {
            a.repo.revision.as_str()
        };
        let committed = hub.commit_file(
            &repo,
            branch,
            source.commit(),
            sig.as_str(),
            &bundle,
            &format!("Add model signature {sig} (msign)"),
        )?;
        if !ctx.json && !ctx.quiet {
            println!(
                "Uploaded {sig} to {repo}@{branch}: commit {}",
                committed.commit
            );
        }
        out["uploaded_commit"] = json!(committed.commit);
        out["commit_url"] = json!(committed.url);
    }
    Ok(out)
}

/// The signer the flags choose: a key (with a certificate), or Sigstore; exactly one.
fn hub_signer(a: &HubSignArgs) -> Result<Box<dyn Signer>> {
    let keyed = a.private_key.is_some()
        || a.signing_certificate.is_some()
        || !a.certificate_chain.is_empty();
    if a.sigstore.given() {
        if keyed {
            return Err(Error::Usage(
                "choose one signing method: Sigstore (--sigstore, --identity-token, ...) or a key (--private-key, --signing-certificate, --certificate-chain), not both".into(),
            ));
        }
        return a.sigstore.signer();
    }
    let key = a.private_key.as_ref().ok_or_else(|| {
        Error::Usage(
            "say how to sign: --private-key KEY (with --signing-certificate CERT for a certificate), or --sigstore".into(),
        )
    })?;
    let password =
        crate::cli::password::key_password(key, a.password.as_deref(), a.password_file.as_deref())?;
    Ok(match &a.signing_certificate {
        Some(cert) => Box::new(CertificateSigner::from_files(
            key,
            password.as_deref(),
            cert,
            &a.certificate_chain,
        )?),
        None => Box::new(KeySigner::from_pem_file(key, password.as_deref())?),
    })
}

/// For `msign verify --hub-cache ORG/NAME[@REV]`: the snapshot folder, and the signature
/// (a path inside the snapshot when relative).
pub fn resolve_hub_cache(model: &ModelArgs, signature: &Path) -> Result<(ModelArgs, PathBuf)> {
    let spec = model
        .model_path
        .to_str()
        .ok_or_else(|| Error::Usage("--hub-cache needs ORG/NAME[@REV]".into()))?;
    let (repo, rev) = parse_repo_at(spec)?;
    let cfg = HubConfig::from_env()?;
    let cache = CachedRepo::new(&cfg.cache_dir, &repo);
    let commit = cache.commit_of(&rev)?;
    let snapshot = cache.snapshot(&commit)?;
    if !snapshot.is_dir() {
        return Err(Error::Other(format!(
            "{}: {repo}@{rev} is not in the Hub cache; download it with `msign hub download {repo} --revision {rev}`",
            snapshot.display()
        )));
    }
    let sig = if signature.is_relative() {
        snapshot.join(signature)
    } else {
        signature.to_path_buf()
    };
    let mut resolved = model.clone();
    resolved.model_path = snapshot;
    resolved.hub_cache = false;
    Ok((resolved, sig))
}

/// A total bar and a bar for the file being downloaded, on stderr, only on a terminal.
struct Bars {
    multi: Option<MultiProgress>,
    total: Mutex<Option<ProgressBar>>,
    file: Mutex<Option<ProgressBar>>,
}

fn slot(m: &Mutex<Option<ProgressBar>>) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bars {
    fn new(quiet: bool) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal();
        Bars {
            multi: shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            total: Mutex::new(None),
            file: Mutex::new(None),
        }
    }

    fn bar(&self, len: u64, msg: &str) -> Option<ProgressBar> {
        let m = self.multi.as_ref()?;
        let b = m.add(ProgressBar::new(len));
        b.set_style(
            ProgressStyle::with_template(
                "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(msg.to_string());
        Some(b)
    }
}

impl DownloadProgress for Bars {
    fn start(&self, total: u64) {
        *slot(&self.total) = self.bar(total, "total");
    }

    fn file_start(&self, name: &str, size: u64) {
        *slot(&self.file) = self.bar(size, name);
    }

    fn advance(&self, bytes: u64) {
        for s in [&self.file, &self.total] {
            if let Some(b) = &*slot(s) {
                b.inc(bytes);
            }
        }
    }

    fn file_done(&self) {
        if let Some(b) = slot(&self.file).take() {
            b.finish_and_clear();
        }
    }

    fn finish(&self) {
        if let Some(b) = slot(&self.total).take() {
            b.finish_and_clear();
        }
    }
}
