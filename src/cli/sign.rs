//! `msign sign METHOD MODEL`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use serde_json::json;

use crate::cli::args::{CertificateArgs, HashArgs, ModelArgs, PrivateKeyArgs};
use crate::cli::pkcs11::Pkcs11Args;
use crate::cli::progress::Bar;
use crate::cli::{conclude, report_json, Ctx};
use crate::error::Result;
use crate::sign::Signer;
use crate::workflow::{sign_model, SignRequest};

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
    reuse: crate::cli::reuse::ReuseArgs,
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
        sigstore: crate::cli::sigstore::SigstoreTokenArgs,
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

    /// The private key file and its password flags, for methods that have one.
    fn private_key(&self) -> Option<&PrivateKeyArgs> {
        match self {
            SignMethod::Key { key, .. } | SignMethod::Certificate { key, .. } => Some(key),
            SignMethod::Sigstore { .. }
            | SignMethod::Pkcs11Key { .. }
            | SignMethod::Pkcs11Certificate { .. } => None,
        }
    }

    /// The signer; `password` is the private key's, asked for once by the caller.
    fn signer(&self, password: Option<&str>) -> Result<Box<dyn Signer>> {
        match self {
            SignMethod::Key { key, .. } => key.signer_with(None, password),
            SignMethod::Certificate { key, cert, .. } => key.signer_with(Some(cert), password),
            SignMethod::Pkcs11Key { pkcs11, .. } => Ok(Box::new(pkcs11.key_signer()?)),
            SignMethod::Pkcs11Certificate { pkcs11, cert, .. } => {
                Ok(Box::new(pkcs11.certificate_signer(cert)?))
            }
            SignMethod::Sigstore { sigstore, .. } => sigstore.signer(),
        }
    }
}

/// Runs `sign`.
pub fn run(ctx: &Ctx, method: SignMethod) -> ExitCode {
    let common = method.common().clone();
    let extra = json!({"model": common.model.model_path, "signature": common.signature});
    conclude(ctx, sign(ctx, &method, &common), extra)
}

fn sign(ctx: &Ctx, method: &SignMethod, common: &SignCommon) -> Result<serde_json::Value> {
    let hashing = common.hash.hashing()?;
    // Before the key's password is asked for or a Sigstore identity fetched.
    crate::store::file::check_writable(&common.signature)?;
    let spec = common.model.checked_spec()?;
    for w in spec.ignore_paths_outside()? {
        ctx.warn(&w);
    }
    let mut req = SignRequest::new(spec, hashing, common.signature.clone())?;
    // Asked once: the signer and --reuse both open the key.
    let password = match method.private_key() {
        Some(k) => k.resolved_password()?,
        None => None,
    };
    let signer = method.signer(password.as_deref())?;
    req.from_manifest = common.reuse.from_manifest.clone();
    if req.from_manifest.is_none() {
        let key = method
            .private_key()
            .map(|k| (k.private_key.as_path(), password.as_deref()));
        req.hashing = common.reuse.apply(req.hashing, key)?;
    }
    let r = sign_model(&req, signer, &Bar::new("hashing", ctx.quiet || ctx.json))?;
    report_ignore_rules(ctx, &r.ignore_rules);
    for w in &r.warnings {
        ctx.warn(w);
    }
    if !ctx.json && !ctx.quiet && r.reused_files > 0 {
        println!(
            "{} file(s) unchanged: digests reused, not re-hashed",
            r.reused_files
        );
    }
    if !ctx.json && !ctx.quiet {
        let size = r.bytes.map(|b| format!(" ({})", HumanBytes(b)));
        println!(
            "Signing succeeded: {} file(s){} of '{}' signed with {} -> {}",
            r.files,
            size.unwrap_or_default(),
            r.model_name,
            r.method,
            r.signature
        );
    }
    report_json(&r)
}

/// Shows on stderr every ignore rule signing applied, where it came from and what it left
/// out, so nothing is left out of a signature without a word.
pub fn report_ignore_rules(ctx: &Ctx, rules: &[crate::ignore::RuleUse]) {
    if ctx.quiet || rules.is_empty() {
        return;
    }
    eprintln!("ignore rules applied (recorded in the signature):");
    for r in rules {
        let left_out: Vec<&str> = r.left_out.iter().map(String::as_str).collect();
        let what = if left_out.is_empty() {
            "nothing left out".to_string()
        } else {
            format!(
                "left out {}: {}",
                left_out.len(),
                crate::ignore::shorten(&left_out)
            )
        };
        eprintln!("  {:<24} from {}: {what}", r.rule, r.origin);
    }
}
