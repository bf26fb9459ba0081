//! `msign verify METHOD MODEL --signature SIG`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use serde_json::json;

use crate::cli::args::ModelArgs;
use crate::cli::progress::Bar;
use crate::cli::{conclude, report_json, Ctx};
use crate::error::{Error, Result};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};
use crate::workflow::{verify_model, VerifyRequest};

/// Options of every verification method.
#[derive(Debug, Args, Clone)]
pub struct VerifyCommon {
    #[command(flatten)]
    model: ModelArgs,

    /// The signature to verify (the default is where `sign` writes it; with `--hub-cache`,
    /// a relative path is taken inside the snapshot).
    #[arg(long, value_name = "SIGNATURE_PATH", default_value = "model.sig")]
    signature: PathBuf,

    /// Only check the files the signature names; other files in the model are fine.
    #[arg(
        long = "ignore-unsigned-files",
        alias = "ignore_unsigned_files",
        overrides_with = "no_ignore_unsigned_files"
    )]
    ignore_unsigned_files: bool,

    /// Every file in the model must be signed (default).
    #[arg(
        long = "no-ignore-unsigned-files",
        alias = "no-ignore_unsigned_files",
        alias = "no_ignore_unsigned_files"
    )]
    no_ignore_unsigned_files: bool,

    /// Skip re-hashing files whose entry in the local digest cache ($XDG_CACHE_HOME/msign)
    /// matches their device, inode, size and times; hashed files are recorded there.
    #[arg(long)]
    cache: bool,
}

/// Verification methods.
#[derive(Debug, Subcommand)]
pub enum VerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: VerifyCommon,
        /// The public key (PEM) paired with the signing key.
        #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
        public_key: PathBuf,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: VerifyCommon,
        /// Trusted root certificate(s) (PEM, repeatable); the system's roots when absent.
        #[arg(
            long = "certificate-chain",
            alias = "certificate_chain",
            value_name = "CERTIFICATE_PATH"
        )]
        certificate_chain: Vec<PathBuf>,
        /// Print the SHA-256 fingerprints of the certificates involved.
        #[arg(long = "log-fingerprints", alias = "log_fingerprints")]
        log_fingerprints: bool,
        /// Refuse a signing certificate that has expired (by default it verifies, as in
        /// model_signing, with a warning naming the expiry date).
        #[arg(long = "reject-expired")]
        reject_expired: bool,
    },
    /// Verify a Sigstore signature against an identity and its OIDC issuer.
    Sigstore {
        #[command(flatten)]
        common: VerifyCommon,
        #[command(flatten)]
        signer: crate::cli::sigstore::SigstoreIdentityArgs,
        #[command(flatten)]
        trust: crate::cli::sigstore::SigstoreTrustArgs,
    },
}

impl VerifyMethod {
    fn common(&self) -> &VerifyCommon {
        match self {
            VerifyMethod::Key { common, .. }
            | VerifyMethod::Certificate { common, .. }
            | VerifyMethod::Sigstore { common, .. } => common,
        }
    }

    fn config(&self) -> Result<VerifyingConfig> {
        match self {
            VerifyMethod::Key { public_key, .. } => Ok(VerifyingConfig::new(Box::new(
                KeyVerifier::from_pem_file(public_key)?,
            ))),
            VerifyMethod::Certificate {
                certificate_chain,
                log_fingerprints,
                reject_expired,
                ..
            } => {
                if *log_fingerprints {
                    for c in crate::sign::certificate::load_certificates(certificate_chain)? {
                        let fp = c
                            .digest(openssl::hash::MessageDigest::sha256())
                            .map_err(|e| Error::Other(e.to_string()))?;
                        eprintln!(
                            "[  init  ] sha256 Fingerprint: {}",
                            hex::encode_upper(fp)
                                .as_bytes()
                                .chunks(2)
                                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                                .collect::<Vec<_>>()
                                .join(":")
                        );
                    }
                }
                Ok(VerifyingConfig::new(Box::new(
                    CertificateVerifier::from_root_files(certificate_chain)?
                        .reject_expired(*reject_expired),
                )))
            }
            VerifyMethod::Sigstore { signer, trust, .. } => signer.verifying_config(trust),
        }
    }
}

/// Runs `verify`.
pub fn run(ctx: &Ctx, method: VerifyMethod) -> ExitCode {
    let common = method.common().clone();
    let extra = json!({"model": common.model.model_path, "signature": common.signature});
    conclude(ctx, verify(ctx, &method, &common), extra)
}

fn verify(ctx: &Ctx, method: &VerifyMethod, common: &VerifyCommon) -> Result<serde_json::Value> {
    let resolved;
    let common = if common.model.hub_cache {
        let spec = common
            .model
            .model_path
            .to_str()
            .ok_or_else(|| Error::Usage("--hub-cache needs ORG/NAME[@REV]".into()))?;
        let cache_dir = crate::hub::HubConfig::from_env()?.cache_dir;
        let (snapshot, signature) =
            crate::hub::resolve_hub_cache(&cache_dir, spec, &common.signature)?;
        let mut model = common.model.clone();
        model.model_path = snapshot;
        model.hub_cache = false;
        resolved = VerifyCommon {
            model,
            signature,
            ..common.clone()
        };
        &resolved
    } else {
        common
    };
    if common.model.git.git_rev.is_none() && std::fs::symlink_metadata(&common.signature).is_err() {
        return Err(Error::Other(format!(
            "no signature at {}: give its path with --signature (`msign sign` writes \
             model.sig in the current folder unless told otherwise)",
            common.signature.display()
        )));
    }
    let spec = common.model.spec();
    for w in spec.ignore_paths_outside()? {
        ctx.warn(&w);
    }
    let req = VerifyRequest {
        model: spec,
        signature: common.signature.clone(),
        ignore_unsigned_files: common.ignore_unsigned_files && !common.no_ignore_unsigned_files,
        digest_cache: common.cache,
    };
    let bar = Bar::new("verifying", ctx.quiet || ctx.json);
    let r = verify_model(&req, method.config()?, &bar)?;
    for w in &r.warnings {
        ctx.warn(w);
    }
    if !ctx.json && !ctx.quiet && common.cache {
        println!(
            "{} file(s) unchanged since cached: not re-hashed",
            r.cached_files
        );
    }
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded: {} file(s) ({}) match the signature by {}",
            r.files,
            HumanBytes(r.bytes),
            r.signer
        );
    }
    report_json(&r)
}
