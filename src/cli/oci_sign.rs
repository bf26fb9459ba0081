//! `msign oci sign METHOD REFERENCE`: a model in an OCI registry signed from its manifest.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::key_args::{
    KeyCertificateArgs, Pkcs11Args, Pkcs11CertificateArgs, PrivateKeyArgs, SignerFlags,
};
use crate::cli::net_args::NetArgs;
use crate::cli::oci_args::TargetArgs;
use crate::cli::render::each_json;
use crate::cli::sigstore_args::SigstoreTokenArgs;
use crate::cli::Ctx;
use crate::error::Result;
use crate::oci::{LayerOptions, OciOptions};

/// Options of every `oci sign` method.
#[derive(Debug, Args, Clone)]
pub struct OciSignCommon {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the signature to this file.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    signature: Option<PathBuf>,
    /// Attach the signature to the registry as an OCI 1.1 referrer of the signed manifest
    /// (the referrers tag `sha256-<hex>` where the registry has no referrers API).
    #[arg(long)]
    attach: bool,
    /// For an image index: sign every platform manifest it lists, each with its own
    /// signature attached as a referrer of that manifest (what cosign calls recursive signing).
    #[arg(
        long = "all-platforms",
        requires = "attach",
        conflicts_with = "platform"
    )]
    all_platforms: bool,
    /// Sign layers that a pull unpacks (folders pushed by ORAS, ModelPack tar layers) as
    /// one resource each, by the archive's digest, as model-transparency-go does: the
    /// registry then verifies, the pulled folder does not.
    #[arg(long = "allow-archives")]
    allow_archives: bool,
    /// Leave this layer (a name, or a folder of names) out of the signature. Repeatable.
    #[arg(long = "exclude-layer", value_name = "NAME")]
    exclude_layer: Vec<String>,
}

/// Signing methods of `oci sign`, as for `msign sign`.
#[derive(Debug, Subcommand)]
pub enum OciSignMethod {
    /// Sign with an EC private key.
    Key {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        signer: PrivateKeyArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Sign with a private key and its X.509 certificate chain.
    Certificate {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        signer: KeyCertificateArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Sign with an EC key held in a PKCS #11 token.
    #[command(name = "pkcs11-key")]
    Pkcs11Key {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        signer: Pkcs11Args,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Sign with a PKCS #11 token key and its X.509 certificate chain.
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        signer: Pkcs11CertificateArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Sign keyless with Sigstore.
    Sigstore {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        signer: SigstoreTokenArgs,
    },
}

impl OciSignMethod {
    /// The options every method has, and the method's own flags.
    pub fn parts(&self) -> (&OciSignCommon, &dyn SignerFlags) {
        match self {
            OciSignMethod::Key { common, signer, .. } => (common, signer),
            OciSignMethod::Certificate { common, signer, .. } => (common, signer),
            OciSignMethod::Pkcs11Key { common, signer, .. } => (common, signer),
            OciSignMethod::Pkcs11Certificate { common, signer, .. } => (common, signer),
            OciSignMethod::Sigstore { common, signer } => (common, signer),
        }
    }
}

/// Runs `oci sign`.
pub fn sign(ctx: &Ctx, method: &OciSignMethod) -> Result<serde_json::Value> {
    let (c, signer) = method.parts();
    let target = c.target.target()?;
    let options = OciOptions {
        all_platforms: c.all_platforms,
        ..c.target.options(
            &target,
            LayerOptions {
                allow_archives: c.allow_archives,
                exclude: c.exclude_layer.clone(),
                ..Default::default()
            },
        )?
    };
    let reports = crate::oci::sign_each(
        &target,
        &options,
        signer.spec().build()?,
        c.signature.as_deref(),
        c.attach,
    )?;
    if ctx.text() {
        for report in &reports {
            println!("{report}");
        }
    }
    each_json(&reports, "signed")
}
