//! `msign sigstore ...`: Sigstore tools that are not about models, and the trust-root
//! choice shared by `sign sigstore` and `verify sigstore`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use openssl::pkey::PKey;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::bundle::Bundle;
use crate::cli::{report_error, Ctx};
use crate::error::{Error, Result};
use crate::sigstore::verify::{dsse_content, message_content, verify_bundle, Policy, Signed};
use crate::sigstore::{tuf, TrustedRoot};

/// The trusted root to verify against: refreshed over TUF with `--update-trust-root`,
/// else `--trusted-root`, else the trust config's, else the embedded staging or public-good
/// root.
pub fn trusted_root(
    use_staging: bool,
    trust_config: Option<&Path>,
    trusted_root: Option<&Path>,
    tuf: &TufArgs,
) -> Result<TrustedRoot> {
    if tuf.update_trust_root {
        if trusted_root.is_some() || trust_config.is_some() {
            return Err(Error::Usage(
                "--update-trust-root fetches the trusted root over TUF; it cannot be combined with --trusted-root or --trust-config".into(),
            ));
        }
        return Ok(tuf.update(use_staging)?.trusted_root);
    }
    match (trusted_root, trust_config) {
        (Some(_), Some(_)) => Err(Error::Usage(
            "give either --trusted-root or --trust-config, not both".into(),
        )),
        (Some(p), None) | (None, Some(p)) => {
            if use_staging {
                return Err(Error::Usage(
                    "--use-staging selects a built-in trust root; it cannot be combined with a trust file".into(),
                ));
            }
            TrustedRoot::from_file(p)
        }
        (None, None) if use_staging => TrustedRoot::staging(),
        (None, None) => TrustedRoot::public_good(),
    }
}

/// The flags that refresh the trusted root over TUF; flattened into every command that
/// chooses a trusted root.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TufArgs {
    /// Refresh the trusted root from Sigstore's TUF repository (staging with
    /// --use-staging) before use, instead of the embedded one.
    #[arg(long = "update-trust-root", alias = "update_trust_root")]
    pub update_trust_root: bool,
    /// The TUF repository to refresh from (a mirror, a private Sigstore instance).
    #[arg(
        long = "tuf-url",
        alias = "tuf_url",
        value_name = "URL",
        requires = "update_trust_root"
    )]
    pub tuf_url: Option<String>,
    /// The initial root.json of a TUF repository that is not Sigstore's public-good or
    /// staging one.
    #[arg(
        long = "tuf-root",
        alias = "tuf_root",
        value_name = "FILE",
        requires = "update_trust_root"
    )]
    pub tuf_root: Option<PathBuf>,
}

impl TufArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.update_trust_root || self.tuf_url.is_some() || self.tuf_root.is_some()
    }

    /// Runs a TUF update against the repository these flags name.
    pub fn update(&self, use_staging: bool) -> Result<tuf::Update> {
        update_from(
            use_staging,
            self.tuf_url.as_deref(),
            self.tuf_root.as_deref(),
        )
    }
}

fn update_from(use_staging: bool, url: Option<&str>, root: Option<&Path>) -> Result<tuf::Update> {
    let repo = tuf::Repository::choose(use_staging, url, root)?;
    tuf::update(&repo, &repo.default_cache_dir()?)
}

/// Sigstore tools.
#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// Verify any Sigstore bundle for a file or a digest (the conformance-test command form).
    VerifyBundle(VerifyBundleArgs),
    /// Refresh Sigstore's trusted root over TUF and report what was verified.
    UpdateTrustRoot(UpdateTrustRootArgs),
}

/// `msign sigstore update-trust-root`.
#[derive(Debug, Args)]
pub struct UpdateTrustRootArgs {
    /// Use Sigstore's staging TUF repository.
    #[arg(long = "use-staging", alias = "use_staging")]
    use_staging: bool,
    /// The TUF repository (default: Sigstore's public-good or staging one).
    #[arg(long = "tuf-url", alias = "tuf_url", value_name = "URL")]
    tuf_url: Option<String>,
    /// The initial root.json of a repository that is not public-good or staging.
    #[arg(long = "tuf-root", alias = "tuf_root", value_name = "FILE")]
    tuf_root: Option<PathBuf>,
    /// Write the verified trusted_root.json here.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `msign sigstore verify-bundle`.
#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The bundle (JSON).
    #[arg(long)]
    bundle: PathBuf,
    /// A managed public key (PEM) instead of a certificate identity.
    #[arg(long, conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    key: Option<PathBuf>,
    /// Expected identity (SAN) of the signing certificate.
    #[arg(long = "certificate-identity", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// Expected OIDC issuer of the signing certificate.
    #[arg(long = "certificate-oidc-issuer", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// A trusted_root.json (or ClientTrustConfig); the embedded public-good root otherwise.
    #[arg(long = "trusted-root", conflicts_with = "update_trust_root")]
    trusted_root: Option<PathBuf>,
    /// Use the embedded staging root (or, with --update-trust-root, staging's TUF repository).
    #[arg(long = "staging")]
    staging: bool,
    #[command(flatten)]
    tuf: TufArgs,
    /// The artifact: a path, or `sha256:<hex>`.
    file_or_digest: String,
}

/// Runs `msign sigstore ...`.
pub fn run(ctx: &Ctx, cmd: SigstoreCommand) -> ExitCode {
    match cmd {
        SigstoreCommand::VerifyBundle(a) => {
            let extra = json!({
                "signature": a.bundle,
                "bundle": a.bundle,
                "artifact": a.file_or_digest
            });
            match verify_bundle_cmd(&a) {
                Ok(signer) => {
                    if ctx.json {
                        println!(
                            "{}",
                            json!({
                                "status": "verified",
                                "method": "sigstore",
                                "signature": a.bundle,
                                "signer": signer,
                                "artifact": a.file_or_digest,
                            })
                        );
                    } else if !ctx.quiet {
                        println!("OK: bundle verified, signed by {signer}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(ctx, &e, extra),
            }
        }
        SigstoreCommand::UpdateTrustRoot(a) => {
            let extra = json!({"output": a.output});
            let result = update_trust_root_cmd(ctx, &a);
            crate::cli::conclude(ctx, result, extra)
        }
    }
}

fn update_trust_root_cmd(ctx: &Ctx, a: &UpdateTrustRootArgs) -> Result<serde_json::Value> {
    let u = update_from(a.use_staging, a.tuf_url.as_deref(), a.tuf_root.as_deref())?;
    if let Some(out) = &a.output {
        tuf::write_atomic(out, &u.trusted_root_json)?;
    }
    let digest = hex::encode(Sha256::digest(&u.trusted_root_json));
    let config_digest = u
        .signing_config_json
        .as_ref()
        .map(|b| hex::encode(Sha256::digest(b)));
    if !ctx.json && !ctx.quiet {
        println!("OK: trusted root refreshed from {}", u.repository);
        println!(
            "  root      v{} (expires {})",
            u.root_version, u.root_expires
        );
        println!(
            "  timestamp v{} (expires {})",
            u.timestamp_version, u.timestamp_expires
        );
        println!(
            "  snapshot  v{} (expires {})",
            u.snapshot_version, u.snapshot_expires
        );
        println!(
            "  targets   v{} (expires {})",
            u.targets_version, u.targets_expires
        );
        println!("  {} sha256:{digest}", tuf::TARGET);
        match &config_digest {
            Some(d) => println!("  {} sha256:{d}", tuf::SIGNING_CONFIG),
            None => println!("  no {} in the repository", tuf::SIGNING_CONFIG),
        }
        if let Some(out) = &a.output {
            println!("  written to {}", out.display());
        }
    }
    let meta = |v: u64, e: &str| json!({"version": v, "expires": e});
    Ok(json!({
        "status": "updated",
        "repository": u.repository,
        "root": meta(u.root_version, &u.root_expires),
        "timestamp": meta(u.timestamp_version, &u.timestamp_expires),
        "snapshot": meta(u.snapshot_version, &u.snapshot_expires),
        "targets": meta(u.targets_version, &u.targets_expires),
        "trusted_root_sha256": digest,
        "signing_config_sha256": config_digest,
        "output": a.output,
    }))
}

fn artifact_digest(arg: &str) -> Result<[u8; 32]> {
    if let Some(h) = arg.strip_prefix("sha256:") {
        return hex::decode(h)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| Error::Usage(format!("'{arg}' is not sha256:<64 hex digits>")));
    }
    let path = Path::new(arg);
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize().into())
}

/// For DSSE bundles, the artifact must be a subject of the in-toto statement.
fn check_statement_subject(payload_type: &str, payload: &[u8], digest: &[u8; 32]) -> Result<()> {
    if payload_type != crate::bundle::PAYLOAD_TYPE {
        return Err(Error::InvalidSignature(format!(
            "the envelope holds '{payload_type}', not an in-toto statement naming the artifact"
        )));
    }
    let st: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| Error::MalformedSignature(format!("statement is not JSON: {e}")))?;
    let want = hex::encode(digest);
    let found = st["subject"].as_array().is_some_and(|subjects| {
        subjects.iter().any(|s| {
            s["digest"]["sha256"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(&want))
        })
    });
    if !found {
        return Err(Error::InvalidSignature(
            "the artifact's digest is not a subject of the signed statement".into(),
        ));
    }
    Ok(())
}

fn verify_bundle_cmd(a: &VerifyBundleArgs) -> Result<String> {
    let trust = trusted_root(a.staging, None, a.trusted_root.as_deref(), &a.tuf)?;
    let policy = match (&a.key, &a.certificate_identity, &a.certificate_oidc_issuer) {
        (Some(k), _, _) => {
            let pem = fs::read(k).map_err(|e| Error::io(k, e))?;
            Policy::Key(
                PKey::public_key_from_pem(&pem).map_err(|e| Error::KeyMaterial {
                    what: k.display().to_string(),
                    reason: format!("not a PEM public key ({e})"),
                })?,
            )
        }
        (None, Some(i), Some(o)) => Policy::Identity {
            identity: i.clone(),
            issuer: o.clone(),
        },
        _ => {
            return Err(Error::Usage(
                "give --key, or --certificate-identity with --certificate-oidc-issuer".into(),
            ))
        }
    };
    let bytes = fs::read(&a.bundle).map_err(|e| Error::io(&a.bundle, e))?;
    let bundle = Bundle::from_json(&bytes)?;
    let digest = artifact_digest(&a.file_or_digest)?;
    let signed = if bundle.dsse_envelope.is_some() {
        dsse_content(&bundle)?
    } else {
        message_content(&bundle)?
    };
    match &signed {
        Signed::Dsse {
            payload_type,
            payload,
            ..
        } => check_statement_subject(payload_type, payload, &digest)?,
        Signed::Message {
            digest: signed_digest,
            ..
        } => {
            if signed_digest != &digest {
                return Err(Error::InvalidSignature(
                    "the bundle signs another artifact (message digest differs)".into(),
                ));
            }
        }
    }
    Ok(verify_bundle(&trust, &bundle, &signed, &policy)?.signer)
}

/// The flags of `sign sigstore` that choose the identity token and the instance; also
/// flattened into `hub sign`.
#[derive(Debug, Clone, clap::Args)]
pub struct SigstoreTokenArgs {
    /// The instance to sign on.
    #[command(flatten)]
    pub instance: SigstoreInstanceArgs,
    /// Take the identity token from the CI environment.
    #[arg(long = "use-ambient-credentials", alias = "use_ambient_credentials")]
    pub use_ambient_credentials: bool,
    /// A fixed OIDC identity token.
    #[arg(
        long = "identity-token",
        alias = "identity_token",
        value_name = "TOKEN"
    )]
    pub identity_token: Option<String>,
    /// Out-of-band OAuth flow: print a URL instead of opening a browser.
    #[arg(long = "oauth-force-oob", alias = "oauth_force_oob")]
    pub oauth_force_oob: bool,
    /// OIDC client id.
    #[arg(long = "client-id", alias = "client_id", value_name = "ID")]
    pub client_id: Option<String>,
    /// OIDC client secret.
    #[arg(long = "client-secret", alias = "client_secret", value_name = "SECRET")]
    pub client_secret: Option<String>,
}

/// The signer a Sigstore verification expects: an identity and its OIDC issuer, as
/// `verify sigstore` and `oci verify sigstore` take them.
#[derive(Debug, Clone, clap::Args)]
pub struct SigstoreIdentityArgs {
    /// Expected signer identity (e-mail or URI in the certificate).
    #[arg(long)]
    pub identity: String,
    /// Expected OIDC issuer of that identity.
    #[arg(
        long = "identity-provider",
        alias = "identity_provider",
        value_name = "URL"
    )]
    pub identity_provider: String,
}

impl SigstoreIdentityArgs {
    /// The verifying configuration for this signer under `trust`.
    pub fn verifying_config(
        &self,
        trust: &SigstoreTrustArgs,
    ) -> crate::error::Result<crate::verify::VerifyingConfig> {
        trust.verifying_config(&self.identity, &self.identity_provider)
    }
}

/// The flags of `verify sigstore` that choose what is trusted; also flattened into the
/// `hub` commands.
#[derive(Debug, Clone, clap::Args)]
pub struct SigstoreTrustArgs {
    /// The instance whose trusted root is used.
    #[command(flatten)]
    pub instance: SigstoreInstanceArgs,
    /// A Sigstore trusted_root.json to trust instead of the embedded public-good root.
    #[arg(
        long = "trusted-root",
        alias = "trusted_root",
        value_name = "TRUSTED_ROOT_PATH",
        conflicts_with = "update_trust_root"
    )]
    pub trusted_root: Option<std::path::PathBuf>,
}

/// The flags that name a Sigstore instance, shared by signing and verifying: staging, a
/// client trust configuration, or a trusted root refreshed over TUF.
#[derive(Debug, Clone, clap::Args)]
pub struct SigstoreInstanceArgs {
    /// Use Sigstore's staging instance.
    #[arg(long = "use-staging", alias = "use_staging")]
    pub use_staging: bool,
    /// Client trust configuration (JSON) naming the instance.
    #[arg(
        long = "trust-config",
        alias = "trust_config",
        value_name = "TRUST_CONFIG_PATH",
        conflicts_with = "update_trust_root"
    )]
    pub trust_config: Option<std::path::PathBuf>,
    /// Refreshing the trusted root over TUF.
    #[command(flatten)]
    pub tuf: TufArgs,
}

impl SigstoreInstanceArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.use_staging || self.trust_config.is_some() || self.tuf.given()
    }
}

impl SigstoreTrustArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.instance.given() || self.trusted_root.is_some()
    }

    /// The verifying configuration of `verify sigstore` for an identity and its issuer.
    pub fn verifying_config(
        &self,
        identity: &str,
        issuer: &str,
    ) -> Result<crate::verify::VerifyingConfig> {
        let i = &self.instance;
        let trust = trusted_root(
            i.use_staging,
            i.trust_config.as_deref(),
            self.trusted_root.as_deref(),
            &i.tuf,
        )?;
        Ok(crate::verify::VerifyingConfig::new(Box::new(
            crate::verify::sigstore::SigstoreVerifier::new(trust, identity, issuer),
        )))
    }
}

impl SigstoreTokenArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.instance.given()
            || self.use_ambient_credentials
            || self.identity_token.is_some()
            || self.oauth_force_oob
            || self.client_id.is_some()
            || self.client_secret.is_some()
    }

    /// The Sigstore signer the flags describe: the identity token first (flag, then the
    /// CI environment, then the interactive flow), then the instance.
    pub fn signer(&self) -> Result<Box<dyn crate::sign::Signer>> {
        let o = self;
        use crate::sigstore::oidc::IdentityToken;
        use crate::sigstore::signing_config::Endpoints;
        let (trust, endpoints) = if o.instance.tuf.update_trust_root {
            // One update gives both: the root to check against and the services to use.
            let update = o.instance.tuf.update(o.instance.use_staging)?;
            let endpoints = match &update.signing_config_json {
                Some(bytes) => Endpoints::from_json(bytes)?,
                None if o.instance.tuf.tuf_url.is_some() => {
                    return Err(Error::Usage(format!(
                        "the TUF repository {} lists no {}: msign cannot tell which Fulcio and Rekor to sign with",
                        update.repository,
                        crate::sigstore::tuf::SIGNING_CONFIG
                    )))
                }
                None if o.instance.use_staging => Endpoints::staging()?,
                None => Endpoints::public_good()?,
            };
            (update.trusted_root, endpoints)
        } else {
            let trust = trusted_root(
                o.instance.use_staging,
                o.instance.trust_config.as_deref(),
                None,
                &o.instance.tuf,
            )?;
            let endpoints = match o.instance.trust_config.as_deref() {
                Some(p) => Endpoints::from_file(p)?,
                None if o.instance.use_staging => Endpoints::staging()?,
                None => Endpoints::public_good()?,
            };
            (trust, endpoints)
        };
        let token = match o.identity_token.as_deref() {
        Some(t) => IdentityToken::parse(t)?,
        None => match IdentityToken::ambient()? {
            Some(t) => t,
            None if o.use_ambient_credentials => {
                return Err(Error::Usage(
                    "--use-ambient-credentials: no SIGSTORE_ID_TOKEN and no GitHub Actions OIDC variables (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) in the environment".into(),
                ))
            }
            None => crate::sigstore::oauth::interactive(
                endpoints.oidc.as_deref(),
                o.client_id.as_deref().unwrap_or("sigstore"),
                o.client_secret.as_deref().unwrap_or(""),
                o.oauth_force_oob,
            )?,
        },
    };
        Ok(Box::new(crate::sign::sigstore::SigstoreSigner::new(
            token, endpoints, trust,
        )))
    }
}
