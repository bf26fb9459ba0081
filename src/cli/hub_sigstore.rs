//! The Sigstore flags of `msign hub verify|download|sign`: the flag groups of
//! `msign verify sigstore` and `msign sign sigstore`, with the identity optional (the hub
//! commands choose their method by the flags given).

use clap::Args;

use crate::cli::sigstore::{SigstoreTokenArgs, SigstoreTrustArgs};
use crate::error::{Error, Result};
use crate::sign::Signer;
use crate::verify::VerifyingConfig;

/// How a Sigstore signature is checked, as in `msign verify sigstore`.
#[derive(Debug, Args, Clone)]
pub struct SigstoreVerifyArgs {
    /// Verify a Sigstore signature: the expected signer identity (e-mail or URI).
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// The OIDC issuer of that identity (with --identity).
    #[arg(
        long = "identity-provider",
        alias = "identity_provider",
        value_name = "URL"
    )]
    pub identity_provider: Option<String>,
    /// What is trusted.
    #[command(flatten)]
    pub trust: SigstoreTrustArgs,
}

impl SigstoreVerifyArgs {
    /// Whether any Sigstore flag was given.
    pub fn given(&self) -> bool {
        self.identity.is_some() || self.identity_provider.is_some() || self.trust.given()
    }

    /// The verifying configuration of `msign verify sigstore` for these flags.
    pub fn config(&self) -> Result<VerifyingConfig> {
        let (Some(identity), Some(issuer)) = (&self.identity, &self.identity_provider) else {
            return Err(Error::Usage(
                "Sigstore verification needs both --identity and --identity-provider".into(),
            ));
        };
        self.trust.verifying_config(identity, issuer)
    }
}

/// How to sign keyless with Sigstore, as in `msign sign sigstore`.
#[derive(Debug, Args, Clone)]
pub struct SigstoreSignArgs {
    /// Sign keyless with Sigstore (implied by the Sigstore flags below).
    #[arg(long)]
    pub sigstore: bool,
    /// The identity token and the instance.
    #[command(flatten)]
    pub token: SigstoreTokenArgs,
}

impl SigstoreSignArgs {
    /// Whether Sigstore signing was asked for, by `--sigstore` or any of its flags.
    pub fn given(&self) -> bool {
        self.sigstore || self.token.given()
    }

    /// The signer of `msign sign sigstore` for these flags.
    pub fn signer(&self) -> Result<Box<dyn Signer>> {
        self.token.signer()
    }
}
