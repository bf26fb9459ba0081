//! The Sigstore flags of `msign hub verify|download|sign`: the same flags, and the same
//! verifier and signer, as `msign verify sigstore` and `msign sign sigstore`.

use std::path::PathBuf;

use clap::Args;

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
    /// Sigstore: use the staging instance's trust root.
    #[arg(long = "use-staging", alias = "use_staging")]
    pub use_staging: bool,
    /// Sigstore: client trust configuration (JSON).
    #[arg(
        long = "trust-config",
        alias = "trust_config",
        value_name = "TRUST_CONFIG_PATH"
    )]
    pub trust_config: Option<PathBuf>,
    /// Sigstore: a trusted_root.json to trust instead of the embedded public-good root.
    #[arg(
        long = "trusted-root",
        alias = "trusted_root",
        value_name = "TRUSTED_ROOT_PATH"
    )]
    pub trusted_root: Option<PathBuf>,
}

impl SigstoreVerifyArgs {
    /// Whether any Sigstore flag was given.
    pub fn given(&self) -> bool {
        self.identity.is_some()
            || self.identity_provider.is_some()
            || self.use_staging
            || self.trust_config.is_some()
            || self.trusted_root.is_some()
    }

    /// The verifying configuration of `msign verify sigstore` for these flags.
    pub fn config(&self) -> Result<VerifyingConfig> {
        let (Some(identity), Some(issuer)) = (&self.identity, &self.identity_provider) else {
            return Err(Error::Usage(
                "Sigstore verification needs both --identity and --identity-provider".into(),
            ));
        };
        crate::cli::sigstore::verifying_config(
            identity,
            issuer,
            self.use_staging,
            self.trust_config.as_deref(),
            self.trusted_root.as_deref(),
        )
    }
}

/// How to sign keyless with Sigstore, as in `msign sign sigstore`.
#[derive(Debug, Args, Clone)]
pub struct SigstoreSignArgs {
    /// Sign keyless with Sigstore (implied by the Sigstore flags below).
    #[arg(long)]
    pub sigstore: bool,
    /// Sigstore: use the staging instance.
    #[arg(long = "use-staging", alias = "use_staging")]
    pub use_staging: bool,
    /// Sigstore: client trust configuration (JSON) naming the instance to use.
    #[arg(
        long = "trust-config",
        alias = "trust_config",
        value_name = "TRUST_CONFIG_PATH"
    )]
    pub trust_config: Option<PathBuf>,
    /// Sigstore: take the identity token from the CI environment.
    #[arg(long = "use-ambient-credentials", alias = "use_ambient_credentials")]
    pub use_ambient_credentials: bool,
    /// Sigstore: a fixed OIDC identity token.
    #[arg(
        long = "identity-token",
        alias = "identity_token",
        value_name = "TOKEN"
    )]
    pub identity_token: Option<String>,
    /// Sigstore: out-of-band OAuth flow (print a URL instead of opening a browser).
    #[arg(long = "oauth-force-oob", alias = "oauth_force_oob")]
    pub oauth_force_oob: bool,
    /// Sigstore: OIDC client id.
    #[arg(long = "client-id", alias = "client_id", value_name = "ID")]
    pub client_id: Option<String>,
    /// Sigstore: OIDC client secret.
    #[arg(long = "client-secret", alias = "client_secret", value_name = "SECRET")]
    pub client_secret: Option<String>,
}

impl SigstoreSignArgs {
    /// Whether Sigstore signing was asked for, by `--sigstore` or any of its flags.
    pub fn given(&self) -> bool {
        self.sigstore
            || self.use_staging
            || self.trust_config.is_some()
            || self.use_ambient_credentials
            || self.identity_token.is_some()
            || self.oauth_force_oob
            || self.client_id.is_some()
            || self.client_secret.is_some()
    }

    /// The signer of `msign sign sigstore` for these flags.
    pub fn signer(&self) -> Result<Box<dyn Signer>> {
        crate::cli::sigstore::signer(&crate::cli::sigstore::SignOptions {
            use_staging: self.use_staging,
            trust_config: self.trust_config.as_deref(),
            use_ambient_credentials: self.use_ambient_credentials,
            identity_token: self.identity_token.as_deref(),
            oauth_force_oob: self.oauth_force_oob,
            client_id: self.client_id.as_deref(),
            client_secret: self.client_secret.as_deref(),
        })
    }
}
