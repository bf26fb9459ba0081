//! `msign sign METHOD MODEL`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::args::ModelArgs;
use crate::cli::hash_args::HashArgs;
use crate::cli::key_args::{
    KeyCertificateArgs, Pkcs11Args, Pkcs11CertificateArgs, PrivateKeyArgs, SignerFlags,
};
use crate::cli::progress::Bar;
use crate::cli::render::{conclude, ignore_rules, report, warnings};
use crate::cli::sigstore_args::SigstoreTokenArgs;
use crate::cli::Ctx;
use crate::error::Result;
use crate::sign::SignerSpec;
use crate::workflow::{sign_with_spec, Reuse, SignRequest};

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
        signer: PrivateKeyArgs,
    },
    /// Sign with a private key and its X.509 certificate chain.
    Certificate {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        signer: KeyCertificateArgs,
    },
    /// Sign with an EC key held in a PKCS #11 token (HSM, smart card, SoftHSM).
    #[command(name = "pkcs11-key")]
    Pkcs11Key {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        signer: Pkcs11Args,
    },
    /// Sign with a PKCS #11 token key and its X.509 certificate chain.
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        signer: Pkcs11CertificateArgs,
    },
    /// Sign keyless with Sigstore (OIDC identity, Fulcio certificate, Rekor entry).
    Sigstore {
        #[command(flatten)]
        common: SignCommon,
        #[command(flatten)]
        signer: SigstoreTokenArgs,
    },
}

impl SignMethod {
    /// The options every method has, and the method's own flags.
    fn parts(&self) -> (&SignCommon, &dyn SignerFlags) {
        match self {
            SignMethod::Key { common, signer } => (common, signer),
            SignMethod::Certificate { common, signer } => (common, signer),
            SignMethod::Pkcs11Key { common, signer } => (common, signer),
            SignMethod::Pkcs11Certificate { common, signer } => (common, signer),
            SignMethod::Sigstore { common, signer } => (common, signer),
        }
    }
}

/// Runs `sign`.
pub fn run(ctx: &Ctx, method: SignMethod) -> ExitCode {
    let (common, signer) = method.parts();
    let extra = json!({"model": common.model.model_path, "signature": common.signature});
    conclude(ctx, sign(ctx, signer.spec(), common), extra)
}

fn sign(ctx: &Ctx, spec: SignerSpec, common: &SignCommon) -> Result<serde_json::Value> {
    let hashing = common.hash.hashing()?;
    let model = common.model.checked_spec()?;
    let mut req = SignRequest::new(model, hashing, common.signature.clone())?;
    req.from_manifest = common.reuse.from_manifest.clone();
    req.reuse = Reuse {
        from: common.reuse.reuse.clone(),
        no_cache: common.reuse.no_cache,
    };
    let r = sign_with_spec(&req, spec, &Bar::for_command("hashing", ctx))?;
    ignore_rules(ctx, &r.ignore_rules);
    warnings(ctx, &r.warnings);
    report(ctx, &r)
}
