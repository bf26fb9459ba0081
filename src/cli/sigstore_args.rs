//! The Sigstore flag groups: the instance and its trusted root (shared by signing and
//! verifying), the expected signer, and the identity token of keyless signing.

use std::path::PathBuf;

use crate::sign::SigstoreSigning;
use crate::sigstore::{Instance, TufSource};
use crate::verify::VerifierSpec;

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
    /// Network timeouts (every command that chooses a trusted root may reach a server).
    #[command(flatten)]
    pub net: crate::cli::net_args::NetArgs,
}

impl TufArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.update_trust_root || self.tuf_url.is_some() || self.tuf_root.is_some()
    }

    /// The TUF repository to refresh from, when a refresh was asked for.
    pub fn source(&self) -> Option<TufSource> {
        self.update_trust_root.then(|| TufSource {
            url: self.tuf_url.clone(),
            root: self.tuf_root.clone(),
        })
    }
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

    /// Keyless signing as these flags describe it.
    pub fn signing(&self) -> SigstoreSigning {
        SigstoreSigning {
            instance: self.instance.instance(),
            identity_token: self.identity_token.clone(),
            use_ambient_credentials: self.use_ambient_credentials,
            oauth_force_oob: self.oauth_force_oob,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            ..Default::default()
        }
    }
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
    /// The verifier for this signer under `trust`.
    pub fn spec(&self, trust: &SigstoreTrustArgs) -> VerifierSpec {
        VerifierSpec::Sigstore {
            identity: self.identity.clone(),
            issuer: self.identity_provider.clone(),
            instance: trust.instance(),
        }
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
    pub trusted_root: Option<PathBuf>,
}

impl SigstoreTrustArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.instance.given() || self.trusted_root.is_some()
    }

    /// The instance, with the trusted root given.
    pub fn instance(&self) -> Instance {
        Instance {
            trusted_root: self.trusted_root.clone(),
            ..self.instance.instance()
        }
    }
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
    pub trust_config: Option<PathBuf>,
    /// Refreshing the trusted root over TUF.
    #[command(flatten)]
    pub tuf: TufArgs,
}

impl SigstoreInstanceArgs {
    /// Whether any of these flags was given.
    pub fn given(&self) -> bool {
        self.use_staging || self.trust_config.is_some() || self.tuf.given()
    }

    /// The instance these flags name.
    pub fn instance(&self) -> Instance {
        Instance {
            use_staging: self.use_staging,
            trust_config: self.trust_config.clone(),
            trusted_root: None,
            tuf: self.tuf.source(),
        }
    }
}
