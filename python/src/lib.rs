//! The native half of the `msign` Python package (`msign._msign`).
//!
//! The public API (`msign.hashing`, `msign.signing`, `msign.verifying`, ...) is written in
//! Python so that it matches `model_signing`'s signatures exactly; it hands this module
//! plain values (paths, and the configurations as small JSON documents) and gets JSON
//! back. Every call here goes to the msign library, never to its command-line code. Work
//! runs with the GIL released, on a helper thread, while the calling thread watches for
//! Ctrl-C and asks the hashing workers to stop when it comes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use msign::bundle::statement::manifest_json;
use msign::git::{RevSpec, StoreKind};
use msign::hash::Progress;
use msign::ignore::IgnoreRules;
use msign::manifest::ModelPath;
use msign::sign::{CertificateFiles, KeyFile, Pkcs11Key, SignerSpec, SigstoreSigning};
use msign::sigstore::Instance;
use msign::source::spec::{model_relative, resolve_lenient};
use msign::source::ModelSpec;
use msign::store::{FileStore, SignatureStore};
use msign::verify::VerifierSpec;
use msign::{Error, HashAlgorithm, HashingConfig, SigningConfig};
use pyo3::exceptions::{
    PyConnectionError, PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError,
    PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use serde::Deserialize;

pyo3::create_exception!(
    msign,
    ModelMismatchError,
    PyValueError,
    "The model differs from what its signature covers; `missing`, `extra` and \
     `mismatched` say how."
);

/// How to hash, as `msign.hashing.Config` describes it.
#[derive(Deserialize)]
struct HashOpts {
    method: String,
    hash_type: String,
    shard_size: u64,
    allow_symlinks: bool,
    /// Model-relative paths (the Python side resolves them against the model).
    ignore_paths: Vec<String>,
    ignore_git_paths: bool,
    /// Model-relative names of the only files to hash.
    files_to_hash: Option<Vec<String>>,
    /// At most this many hashing threads (model_signing's `max_workers`); all cores when
    /// absent.
    #[serde(default)]
    max_workers: Option<usize>,
}

impl HashOpts {
    fn config(&self) -> msign::Result<HashingConfig> {
        let alg = HashAlgorithm::parse(&self.hash_type)?;
        let mut cfg = match self.method.as_str() {
            "files" => HashingConfig::new().use_file_serialization(alg),
            "shards" => HashingConfig::new().use_shard_serialization(alg, self.shard_size)?,
            other => {
                return Err(Error::Usage(format!(
                    "unknown serialization method '{other}' (expected files or shards)"
                )))
            }
        };
        cfg = cfg
            .set_allow_symlinks(self.allow_symlinks)
            .set_ignore_git_paths(self.ignore_git_paths);
        for p in &self.ignore_paths {
            cfg = cfg.add_ignored_path(p)?;
        }
        if let Some(files) = &self.files_to_hash {
            let only = files
                .iter()
                .map(|f| ModelPath::parse(f))
                .collect::<msign::Result<BTreeSet<_>>>()?;
            cfg = cfg.restrict_to(only);
        }
        Ok(cfg)
    }

    /// Runs `work` with hashing bounded to `max_workers` threads. The engine starts one
    /// worker per thread of the current rayon pool (and BLAKE3 splits files on that pool),
    /// so a pool of that size bounds both.
    fn bounded<T: Send>(&self, work: impl FnOnce() -> msign::Result<T> + Send) -> msign::Result<T> {
        match self.max_workers {
            None => work(),
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .thread_name(|i| format!("msign-hash-{i}"))
                .build()
                .map_err(|e| Error::Other(format!("cannot start {n} hashing threads: {e}")))?
                .install(work),
        }
    }
}

/// A signing method and its parameters, as `msign.signing.Config` records them
/// (model_signing's parameter names).
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
enum SignerJson {
    Key {
        private_key: PathBuf,
        password: Option<String>,
    },
    Certificate {
        private_key: PathBuf,
        signing_certificate: PathBuf,
        certificate_chain: Vec<PathBuf>,
    },
    Pkcs11 {
        pkcs11_uri: String,
        module_paths: Vec<PathBuf>,
    },
    Pkcs11Certificate {
        pkcs11_uri: String,
        signing_certificate: PathBuf,
        certificate_chain: Vec<PathBuf>,
        module_paths: Vec<PathBuf>,
    },
    Sigstore {
        oidc_issuer: Option<String>,
        use_ambient_credentials: bool,
        use_staging: bool,
        force_oob: bool,
        identity_token: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        trust_config: Option<PathBuf>,
    },
}

impl SignerJson {
    /// The library's description of the same signer, with model_signing's semantics.
    fn spec(self) -> SignerSpec {
        let key = |path: PathBuf, password: Option<String>| KeyFile {
            path,
            password,
            password_file: None,
        };
        let token = |uri: String, module_paths: Vec<PathBuf>| Pkcs11Key {
            uri,
            module_path: None,
            module_directories: module_paths,
        };
        let certificate = |signing_certificate: PathBuf, chain: Vec<PathBuf>| CertificateFiles {
            signing_certificate,
            chain,
        };
        match self {
            SignerJson::Key {
                private_key,
                password,
            } => SignerSpec::Key(key(private_key, password)),
            SignerJson::Certificate {
                private_key,
                signing_certificate,
                certificate_chain,
            } => SignerSpec::Certificate(
                key(private_key, None),
                certificate(signing_certificate, certificate_chain),
            ),
            SignerJson::Pkcs11 {
                pkcs11_uri,
                module_paths,
            } => SignerSpec::Pkcs11Key(token(pkcs11_uri, module_paths)),
            SignerJson::Pkcs11Certificate {
                pkcs11_uri,
                signing_certificate,
                certificate_chain,
                module_paths,
            } => SignerSpec::Pkcs11Certificate(
                token(pkcs11_uri, module_paths),
                certificate(signing_certificate, certificate_chain),
            ),
            SignerJson::Sigstore {
                oidc_issuer,
                use_ambient_credentials,
                use_staging,
                force_oob,
                identity_token,
                client_id,
                client_secret,
                trust_config,
            } => SignerSpec::Sigstore(SigstoreSigning {
                // model_signing's signer takes staging over a trust configuration.
                instance: Instance {
                    use_staging,
                    trust_config: trust_config.filter(|_| !use_staging),
                    ..Default::default()
                },
                identity_token,
                use_ambient_credentials,
                ambient_only_when_asked: true,
                oidc_issuer,
                oauth_force_oob: force_oob,
                client_id,
                client_secret,
            }),
        }
    }
}

/// A verification method and its parameters, as `msign.verifying.Config` records them.
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
enum VerifierJson {
    Key {
        public_key: PathBuf,
    },
    Certificate {
        certificate_chain: Vec<PathBuf>,
    },
    Sigstore {
        identity: String,
        oidc_issuer: String,
        use_staging: bool,
        trust_config: Option<PathBuf>,
    },
}

impl VerifierJson {
    /// The library's description of the same verifier, with model_signing's semantics.
    fn spec(self) -> VerifierSpec {
        match self {
            VerifierJson::Key { public_key } => VerifierSpec::Key(public_key),
            // model_signing accepts an expired signing certificate, with a warning.
            VerifierJson::Certificate { certificate_chain } => VerifierSpec::Certificate {
                roots: certificate_chain,
                reject_expired: false,
            },
            VerifierJson::Sigstore {
                identity,
                oidc_issuer,
                use_staging,
                trust_config,
            } => VerifierSpec::Sigstore {
                identity,
                issuer: oidc_issuer,
                // model_signing's verifier takes a trust configuration over staging.
                instance: Instance {
                    use_staging: use_staging && trust_config.is_none(),
                    trust_config,
                    ..Default::default()
                },
            },
        }
    }
}

fn from_json<T: for<'a> Deserialize<'a>>(what: &str, text: &str) -> PyResult<T> {
    serde_json::from_str(text)
        .map_err(|e| PyValueError::new_err(format!("internal: bad {what} description: {e}")))
}

fn signer_spec(text: &str) -> PyResult<SignerSpec> {
    from_json("signer", text).map(SignerJson::spec)
}

fn verifier_spec(text: &str) -> PyResult<VerifierSpec> {
    from_json("verifier", text).map(VerifierJson::spec)
}

/// Progress that only carries the stop request of the watching thread.
#[derive(Default)]
struct Watch {
    stop: AtomicBool,
}

impl Progress for Watch {
    fn advance(&self, _bytes: u64) {}
    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl msign::hub::download::DownloadProgress for Watch {
    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Runs `work` without the GIL on a helper thread. The calling thread checks for signals
/// every 50 ms (Python runs handlers only on the main thread, and only when asked); when a
/// handler raises (Ctrl-C), hashing is told to stop and that exception is raised here.
fn run<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&Watch) -> msign::Result<T> + Send,
) -> PyResult<T> {
    let watch = Watch::default();
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let watch = &watch;
            let worker = s.spawn(move || {
                let _ = tx.send(work(watch));
            });
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(r) => return Some(r),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if raised.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                raised = Some(e);
                                watch.stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        // The worker panicked: let the scope re-raise it.
                        if let Err(p) = worker.join() {
                            std::panic::resume_unwind(p);
                        }
                        return None;
                    }
                }
            }
        })
    });
    if let Some(e) = raised {
        return Err(e);
    }
    match result {
        Some(r) => r.map_err(|e| to_py(py, e)),
        None => Err(PyRuntimeError::new_err("internal error: no result")),
    }
}

/// The exception model_signing raises for the same failure, with msign's message.
fn to_py(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::ModelMismatch(diff) => {
            let err = ModelMismatchError::new_err(format!("Signature mismatch:\n{diff}"));
            let value = err.value(py);
            let mismatched: Vec<(String, String, String)> = diff
                .mismatched
                .iter()
                .map(|m| (m.name.clone(), m.expected.clone(), m.actual.clone()))
                .collect();
            let set = || -> PyResult<()> {
                value.setattr("missing", diff.missing.clone())?;
                value.setattr("extra", diff.extra.clone())?;
                value.setattr("extra_not_named", diff.extra_not_named)?;
                value.setattr("mismatched", mismatched)?;
                Ok(())
            };
            match set() {
                Ok(()) => err,
                Err(e) => e,
            }
        }
        Error::Io { ref source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(e.to_string()),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(e.to_string()),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(e.to_string()),
            _ => PyOSError::new_err(e.to_string()),
        },
        Error::ChangedWhileHashing { .. } => PyOSError::new_err(e.to_string()),
        Error::NotFound(_) => PyFileNotFoundError::new_err(e.to_string()),
        Error::Network(_) => PyConnectionError::new_err(e.to_string()),
        Error::TrustUpdate(_) | Error::Other(_) => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn spec(model_path: &Path, allow_symlinks: bool) -> ModelSpec {
    let mut spec = ModelSpec::new(model_path);
    spec.allow_symlinks = allow_symlinks;
    spec
}

/// A signature file inside the model is left out of what is signed and verified, as the
/// command line does.
fn signature_rules(model_path: &Path, signature_path: &Path) -> msign::Result<IgnoreRules> {
    let mut rules = IgnoreRules::new();
    let root = resolve_lenient(model_path)?;
    if root.is_dir() {
        for p in model_relative(&root, signature_path)? {
            rules.add_path(&p)?;
        }
    }
    Ok(rules)
}

fn manifest_text(m: &msign::Manifest) -> String {
    manifest_json(m).to_string()
}

/// Hashes a model; returns the manifest as JSON (`msign digest --json`).
#[pyfunction]
fn hash(py: Python<'_>, model_path: PathBuf, hashing: &str) -> PyResult<String> {
    let opts: HashOpts = from_json("hashing", hashing)?;
    run(py, |progress| {
        let cfg = opts.config()?;
        let source = msign::source::open(&spec(&model_path, opts.allow_symlinks))?;
        let hashed = opts.bounded(|| cfg.hash_with_progress(source.as_ref(), progress))?;
        Ok(manifest_text(&hashed.manifest))
    })
}

/// Hashes and signs a model, writes the signature; returns the manifest as JSON.
#[pyfunction]
fn sign(
    py: Python<'_>,
    model_path: PathBuf,
    signature_path: PathBuf,
    hashing: &str,
    signer: &str,
) -> PyResult<String> {
    let opts: HashOpts = from_json("hashing", hashing)?;
    let signer = signer_spec(signer)?;
    run(py, |progress| {
        let cfg = opts
            .config()?
            .add_rules(&signature_rules(&model_path, &signature_path)?)?;
        let signing = SigningConfig::new()
            .set_hashing_config(cfg)
            .use_signer(signer.build_without_prompts()?);
        let source = msign::source::open(&spec(&model_path, opts.allow_symlinks))?;
        let signed = opts.bounded(|| signing.sign(source.as_ref(), progress))?;
        FileStore::new(&signature_path).save(&signed.bundle.to_json())?;
        Ok(manifest_text(&signed.hashed.manifest))
    })
}

/// Signs a manifest computed earlier (`msign digest --json`, `manifest merge`).
#[pyfunction]
fn sign_manifest(
    py: Python<'_>,
    manifest: &str,
    signature_path: PathBuf,
    signer: &str,
) -> PyResult<()> {
    let signer = signer_spec(signer)?;
    let manifest = manifest.as_bytes().to_vec();
    run(py, |_| {
        let m = msign::manifest_json::parse(&manifest)?;
        let bundle = SigningConfig::new()
            .use_signer(signer.build_without_prompts()?)
            .sign_manifest(&m)?;
        FileStore::new(&signature_path).save(&bundle.to_json())?;
        Ok(())
    })
}

/// Verifies a model against its signature; returns what was verified as JSON.
#[pyfunction]
#[pyo3(signature = (model_path, signature_path, verifier, hashing, ignore_unsigned_files))]
fn verify(
    py: Python<'_>,
    model_path: PathBuf,
    signature_path: PathBuf,
    verifier: &str,
    hashing: Option<&str>,
    ignore_unsigned_files: bool,
) -> PyResult<String> {
    let verifier = verifier_spec(verifier)?;
    let opts: Option<HashOpts> = hashing.map(|h| from_json("hashing", h)).transpose()?;
    run(py, |progress| {
        let bytes = FileStore::new(&signature_path).load()?;
        let mut config = verifier
            .build()?
            .set_ignore_unsigned_files(ignore_unsigned_files)
            .add_ignore_rules(&signature_rules(&model_path, &signature_path)?)?;
        let signed = config.verify_signature(&bytes)?;
        if let Some(opts) = &opts {
            // model_signing adds the signature's recorded ignore paths to a given config.
            let recorded = IgnoreRules::from_recorded(
                signed
                    .manifest
                    .serialization
                    .ignore_paths
                    .iter()
                    .map(String::as_str),
            )?;
            config = config.set_hashing_config(opts.config()?.add_rules(&recorded)?);
        }
        let allow = config.hashing_for(&signed.manifest)?.allow_symlinks();
        let source = msign::source::open(&spec(&model_path, allow))?;
        let verify = || config.verify_model(signed, source.as_ref(), progress);
        let v = match &opts {
            Some(opts) => opts.bounded(verify)?,
            None => verify()?,
        };
        Ok(serde_json::json!({
            "signer": v.signer,
            "warnings": v.warnings,
            "files": v.manifest.file_count(),
            "resources": v.manifest.resources.len(),
            "digest": format!("sha256:{}", hex_digest(&v.manifest)),
        })
        .to_string())
    })
}

fn hex_digest(m: &msign::Manifest) -> String {
    m.root_digest().iter().map(|b| format!("{b:02x}")).collect()
}

/// Merges manifests of disjoint parts of one model; returns the merged manifest JSON.
#[pyfunction]
#[pyo3(signature = (parts, model_name=None))]
fn merge(parts: Vec<String>, model_name: Option<String>) -> PyResult<String> {
    Python::attach(|py| {
        let parsed = parts
            .iter()
            .map(|p| msign::manifest_json::parse(p.as_bytes()))
            .collect::<msign::Result<Vec<_>>>()
            .map_err(|e| to_py(py, e))?;
        let m = msign::manifest_json::merge(parsed, model_name).map_err(|e| to_py(py, e))?;
        Ok(manifest_text(&m))
    })
}

fn rev_spec(
    repo: PathBuf,
    revision: &str,
    path: &str,
    allow_symlinks: bool,
    ignore_git_paths: bool,
) -> RevSpec {
    let mut rev = RevSpec::new(repo, revision).subdir(path);
    rev.allow_symlinks = allow_symlinks;
    rev.ignore_git_paths = ignore_git_paths;
    rev
}

fn store_kind(store: &str) -> PyResult<StoreKind> {
    match store {
        "file" => Ok(StoreKind::File),
        "commit" => Ok(StoreKind::Commit),
        "notes" => Ok(StoreKind::Notes),
        other => Err(PyValueError::new_err(format!(
            "unknown signature store '{other}' (expected 'file', 'commit' or 'notes')"
        ))),
    }
}

/// Signs the model at a git revision and stores the signature; returns the report JSON.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (repo, revision, path, hashing, signer, store, signature))]
fn git_sign_revision(
    py: Python<'_>,
    repo: PathBuf,
    revision: &str,
    path: &str,
    hashing: &str,
    signer: &str,
    store: &str,
    signature: Option<PathBuf>,
) -> PyResult<String> {
    let opts: HashOpts = from_json("hashing", hashing)?;
    let signer = signer_spec(signer)?;
    let store = store_kind(store)?;
    let rev = rev_spec(
        repo,
        revision,
        path,
        opts.allow_symlinks,
        opts.ignore_git_paths,
    );
    run(py, |progress| {
        let report = opts.bounded(|| {
            msign::git::sign_revision(
                &rev,
                opts.config()?,
                signer.build_without_prompts()?,
                store,
                signature.as_deref(),
                progress,
            )
        })?;
        Ok(serde_json::to_string(&report).expect("a report is JSON"))
    })
}

/// Verifies the model at a git revision; returns the report JSON.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (repo, revision, path, verifier, signature, ignore_unsigned_files, allow_symlinks, ignore_git_paths))]
fn git_verify_revision(
    py: Python<'_>,
    repo: PathBuf,
    revision: &str,
    path: &str,
    verifier: &str,
    signature: Option<PathBuf>,
    ignore_unsigned_files: bool,
    allow_symlinks: bool,
    ignore_git_paths: bool,
) -> PyResult<String> {
    let verifier = verifier_spec(verifier)?;
    let rev = rev_spec(repo, revision, path, allow_symlinks, ignore_git_paths);
    run(py, |progress| {
        let config = verifier.build()?;
        let report = msign::git::verify_revision(
            &rev,
            config,
            signature.as_deref(),
            ignore_unsigned_files,
            progress,
        )?;
        Ok(serde_json::to_string(&report).expect("a report is JSON"))
    })
}

/// Opens the signer a configuration names and drops it: model_signing reads keys,
/// certificates and PKCS #11 tokens when the signer is configured, so a bad one fails
/// there. Sigstore signers are left alone (they may log in interactively).
#[pyfunction]
fn check_signer(py: Python<'_>, signer: &str) -> PyResult<()> {
    let signer = signer_spec(signer)?;
    if matches!(signer, SignerSpec::Sigstore(_)) {
        return Ok(());
    }
    run(py, |_| signer.build_without_prompts().map(drop))
}

/// Loads the keys or certificates a verifier configuration names, as model_signing does
/// when the verifier is configured.
#[pyfunction]
fn check_verifier(py: Python<'_>, verifier: &str) -> PyResult<()> {
    let verifier = verifier_spec(verifier)?;
    run(py, |_| verifier.build().map(drop))
}

/// The Hub settings from the environment (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`,
/// `HF_HUB_CACHE`, `HF_HUB_OFFLINE`), with the caller's explicit values over them.
fn hub_model(
    repo_id: &str,
    revision: &str,
    signature: &str,
    endpoint: Option<String>,
    token: Option<String>,
    cache_dir: Option<PathBuf>,
) -> msign::Result<msign::hub::HubModel> {
    let hub = msign::hub::HubConfig::from_env_with(msign::hub::HubOverrides {
        endpoint,
        token,
        cache_dir,
    })?;
    msign::hub::HubModel::new(hub, repo_id, revision, signature)
}

/// Verifies a Hub model from the Hub's metadata (or, offline, its cached snapshot);
/// returns the report JSON (`msign hub verify --json`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (repo_id, revision, signature, verifier, ignore_unsigned_files, endpoint, token, cache_dir))]
fn hub_verify(
    py: Python<'_>,
    repo_id: &str,
    revision: &str,
    signature: &str,
    verifier: &str,
    ignore_unsigned_files: bool,
    endpoint: Option<String>,
    token: Option<String>,
    cache_dir: Option<PathBuf>,
) -> PyResult<String> {
    let verifier = verifier_spec(verifier)?;
    run(py, |progress| {
        let model = hub_model(repo_id, revision, signature, endpoint, token, cache_dir)?;
        let report = msign::hub::verify(
            &model,
            verifier
                .build()?
                .set_ignore_unsigned_files(ignore_unsigned_files),
            progress,
        )?;
        Ok(serde_json::to_string(&report).expect("a report is JSON"))
    })
}

/// Downloads a Hub model checked against its signature as the bytes arrive, into the
/// Hub cache or `local_dir`; returns the report JSON (`msign hub download --json`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (repo_id, revision, signature, verifier, ignore_unsigned_files, local_dir, endpoint, token, cache_dir, allow_patterns, ignore_patterns))]
fn hub_download(
    py: Python<'_>,
    repo_id: &str,
    revision: &str,
    signature: &str,
    verifier: &str,
    ignore_unsigned_files: bool,
    local_dir: Option<PathBuf>,
    endpoint: Option<String>,
    token: Option<String>,
    cache_dir: Option<PathBuf>,
    allow_patterns: Vec<String>,
    ignore_patterns: Vec<String>,
) -> PyResult<String> {
    let verifier = verifier_spec(verifier)?;
    let selection = msign::hub::select::Selection::new(&allow_patterns, &ignore_patterns);
    run(py, |watch| {
        let model = hub_model(repo_id, revision, signature, endpoint, token, cache_dir)?;
        let report = msign::hub::download(
            &model,
            verifier
                .build()?
                .set_ignore_unsigned_files(ignore_unsigned_files),
            local_dir.as_deref(),
            &selection,
            watch,
        )?;
        Ok(serde_json::to_string(&report).expect("a report is JSON"))
    })
}

/// The native module; see the package's Python files for the public API.
#[pymodule]
fn _msign(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add(
        "ModelMismatchError",
        m.py().get_type::<ModelMismatchError>(),
    )?;
    m.add_function(wrap_pyfunction!(hash, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(sign_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(git_sign_revision, m)?)?;
    m.add_function(wrap_pyfunction!(git_verify_revision, m)?)?;
    m.add_function(wrap_pyfunction!(check_signer, m)?)?;
    m.add_function(wrap_pyfunction!(check_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(hub_verify, m)?)?;
    m.add_function(wrap_pyfunction!(hub_download, m)?)?;
    Ok(())
}
