//! `msign oci verify METHOD REFERENCE`: a model in an OCI registry verified from its
//! manifest, against a signature file or the signatures attached to it.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::key_args::{PublicKeyArgs, RootsArgs};
use crate::cli::net_args::NetArgs;
use crate::cli::oci_args::TargetArgs;
use crate::cli::render::{each_json, warnings};
use crate::cli::sigstore_args::{SigstoreIdentityArgs, SigstoreTrustArgs};
use crate::cli::Ctx;
use crate::error::Result;
use crate::oci::LayerOptions;
use crate::store::{FileStore, SignatureStore};
use crate::verify::VerifierSpec;

/// Options of every `oci verify` method.
#[derive(Debug, Args, Clone)]
pub struct OciVerifyCommon {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Verify against this signature file instead of the signatures attached in the registry.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    signature: Option<PathBuf>,
}

/// Verification methods of `oci verify`, as for `msign verify`.
#[derive(Debug, Subcommand)]
pub enum OciVerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: OciVerifyCommon,
        #[command(flatten)]
        key: PublicKeyArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: OciVerifyCommon,
        #[command(flatten)]
        roots: RootsArgs,
        /// Refuse an expired signing certificate.
        #[arg(long = "reject-expired")]
        reject_expired: bool,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Verify a Sigstore signature against an identity and its OIDC issuer.
    Sigstore {
        #[command(flatten)]
        common: OciVerifyCommon,
        #[command(flatten)]
        signer: SigstoreIdentityArgs,
        #[command(flatten)]
        trust: SigstoreTrustArgs,
    },
}

impl OciVerifyMethod {
    /// The options every method has.
    pub fn common(&self) -> &OciVerifyCommon {
        match self {
            OciVerifyMethod::Key { common, .. }
            | OciVerifyMethod::Certificate { common, .. }
            | OciVerifyMethod::Sigstore { common, .. } => common,
        }
    }

    fn spec(&self) -> VerifierSpec {
        match self {
            OciVerifyMethod::Key { key, .. } => key.spec(),
            OciVerifyMethod::Certificate {
                roots,
                reject_expired,
                ..
            } => roots.spec(*reject_expired),
            OciVerifyMethod::Sigstore { signer, trust, .. } => signer.spec(trust),
        }
    }
}

/// Runs `oci verify`.
pub fn verify(ctx: &Ctx, method: &OciVerifyMethod) -> Result<serde_json::Value> {
    let c = method.common();
    let target = c.target.target()?;
    let options = c.target.options(&target, LayerOptions::default())?;
    let config = method.spec().build()?;
    let sig = match &c.signature {
        Some(p) => Some((FileStore::new(p).load()?, p.display().to_string())),
        None => None,
    };
    let reports = crate::oci::verify_each(
        &target,
        &options,
        &config,
        sig.as_ref().map(|(b, n)| (b.as_slice(), n.as_str())),
    )?;
    for report in &reports {
        warnings(ctx, &report.warnings);
        if ctx.text() {
            println!("{report}");
        }
    }
    each_json(&reports, "verified")
}
