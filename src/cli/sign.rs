//! `msign sign METHOD MODEL`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use serde_json::json;

use crate::cli::args::ModelArgs;
use crate::cli::hash_args::HashArgs;
use crate::cli::key_args::{CertificateArgs, Pkcs11Args, PrivateKeyArgs};
use crate::cli::progress::Bar;
use crate::cli::render::{conclude, ignore_rules, report_json, warnings};
use crate::cli::Ctx;
use crate::error::Result;
use crate::sign::SignerSpec;
use crate::workflow::{sign_model, Reuse, SignRequest};

/// Options of every signing method.
#[derive(Debug, Args, Clone)]
pub struct SignCommon {
    #[command(flatten)]
    model: ModelArgs,

    #[command(flatten)]
    hash: HashArgs,

    /// Where to write the signature. Written atomically; left out of the model when inside it.
    #[arg(long, value_name = "SIGNATURE_PATH", default_value = "model.sig")]
    signature: PathBuf,

    #[command(flatten)]
    reuse: ReuseArgs,
}

/// Options that let signing skip hashing.
#[derive(Debug, Args, Clone, Default)]
pub struct ReuseArgs {
    /// Reuse digests: from a previous signature of this model (it must verify with the
    /// signing key; files changed after it was written are re-hashed), or from a digest
    /// cache folder.
    #[arg(long, value_name = "SIG_OR_CACHE")]
    pub reuse: Option<PathBuf>,

    /// Do not read or write the local digest cache ($XDG_CACHE_HOME/msign).
    #[arg(long = "no-cache")]
    pub no_cache: bool,

    /// Sign this manifest (as `msign digest --json` writes it) instead of hashing the model.
    #[arg(long = "from-manifest", value_name = "MANIFEST_JSON", conflicts_with_all = ["reuse"])]
    pub from_manifest: Option<PathBuf>,
}

/// Signing methods. Without one, `sign MODEL` uses Sigstore, as model_signing does.
#[derive(Debug, Subcommand)]
pub enum SignMethod {
    /// Sign with an EC private key (P-256, P-384, P-521).
    Key {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
    },
    /// Sign with a private key and its X.509 certificate chain.
    Certificate {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
        #[command(flatten)]
        cert: CertificateArgs,
    },
    /// Sign with an EC key held in a PKCS #11 token (HSM, smart card, SoftHSM).
    #[command(name = "pkcs11-key")]
    Pkcs11Key {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        pkcs11: Pkcs11Args,
    },
    /// Sign with a PKCS #11 token key and its X.509 certificate chain.
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        pkcs11: Pkcs11Args,
        #[command(flatten)]
        cert: CertificateArgs,
    },
    /// Sign keyless with Sigstore (OIDC identity, Fulcio certificate, Rekor entry).
    Sigstore {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        sigstore: crate::cli::sigstore_args::SigstoreTokenArgs,
    },
}

impl SignMethod {
    fn common(&self) -> &SignCommon {
        match self {
            SignMethod::Key { common, .. }
            | SignMethod::Certificate { common, .. }
            | SignMethod::Sigstore { common, .. }
            | SignMethod::Pkcs11Key { common, .. }
            | SignMethod::Pkcs11Certificate { common, .. } => common,
        }
    }

    /// The signing method for the library.
    pub fn spec(&self) -> SignerSpec {
        match self {
            SignMethod::Key { key, .. } => SignerSpec::Key(key.key()),
            SignMethod::Certificate { key, cert, .. } => {
                SignerSpec::Certificate(key.key(), cert.files())
            }
            SignMethod::Pkcs11Key { pkcs11, .. } => SignerSpec::Pkcs11Key(pkcs11.key()),
            SignMethod::Pkcs11Certificate { pkcs11, cert, .. } => {
                SignerSpec::Pkcs11Certificate(pkcs11.key(), cert.files())
            }
            SignMethod::Sigstore { sigstore, .. } => SignerSpec::Sigstore(sigstore.signing()),
        }
    }
}

/// Runs `sign`.
pub fn run(ctx: &Ctx, method: SignMethod) -> ExitCode {
    let common = method.common().clone();
    let extra = json!({"model": common.model.model_path, "signature": common.signature});
    conclude(ctx, sign(ctx, method.spec(), &common), extra)
}

fn sign(ctx: &Ctx, spec: SignerSpec, common: &SignCommon) -> Result<serde_json::Value> {
    let hashing = common.hash.hashing()?;
    // Before the key's password is asked for or a Sigstore identity fetched.
    crate::store::file::check_writable(&common.signature)?;
    let model = common.model.checked_spec()?;
    warnings(ctx, &model.ignore_paths_outside()?);
    let mut req = SignRequest::new(model, hashing, common.signature.clone())?;
    // Asked once: the signer and --reuse both open the key.
    let spec = spec.with_resolved_password()?;
    let signer = spec.build()?;
    req.from_manifest = common.reuse.from_manifest.clone();
    if req.from_manifest.is_none() {
        let reuse = Reuse {
            from: common.reuse.reuse.clone(),
            no_cache: common.reuse.no_cache,
        };
        req.hashing = reuse.apply(req.hashing, spec.private_key())?;
    }
    let r = sign_model(&req, signer, &Bar::new("hashing", !ctx.text()))?;
    ignore_rules(ctx, &r.ignore_rules);
    warnings(ctx, &r.warnings);
    if ctx.text() && r.reused_files > 0 {
        println!(
            "{} file(s) unchanged: digests reused, not re-hashed",
            r.reused_files
        );
    }
    if ctx.text() {
        println!(
            "Signing succeeded: {} file(s) ({}) of '{}' signed with {} -> {}",
            r.files,
            HumanBytes(r.bytes),
            r.model_name,
            r.method,
            r.signature
        );
    }
    report_json(&r)
}
