//! The repository, verifier and signer flags of `msign hub verify|download|sign`, and what
//! they build.
//! The Sigstore flag groups are those of `msign verify sigstore` and `msign sign sigstore`,
//! with the identity optional: the hub commands choose their method by the flags given.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::sigstore_args::{SigstoreTokenArgs, SigstoreTrustArgs};
use crate::error::Result;
use crate::sign::{KeyFile, SignerSpec};
use crate::verify::{MethodKind, VerifierChoice, VerifierSpec};

/// The repository and revision.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The model repository, ORG/NAME.
    #[arg(value_name = "ORG/NAME")]
    pub repo: String,
    /// Branch, tag or commit.
    #[arg(long, default_value = "main", value_name = "REV")]
    pub revision: String,
}

/// Where the signature is in the repository (`hub verify`, `hub download`).
#[derive(Debug, Args, Clone)]
pub struct SignatureInRepo {
    /// Path of the signature inside the repository.
    #[arg(long, default_value = "model.sig", value_name = "PATH_IN_REPO")]
    pub signature: String,
}

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
}

/// Which signature method to verify with.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum HubMethod {
    /// An EC public key (`--public-key`).
    Key,
    /// A certificate chain to trusted roots (`--certificate-chain`, or the system's).
    Certificate,
    /// A Sigstore identity (`--identity`, `--identity-provider`).
    Sigstore,
}

/// How the signature is checked, as in `msign verify key|certificate|sigstore`.
#[derive(Debug, Args, Clone)]
pub struct VerifierArgs {
    /// Verify with this EC public key (PEM).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
    pub public_key: Option<PathBuf>,
    /// Verify a certificate signature against these root certificates (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
    /// With a certificate signature: refuse an expired signing certificate (by default it
    /// verifies with a warning naming the expiry date, as in model_signing).
    #[arg(long = "reject-expired")]
    pub reject_expired: bool,
    #[command(flatten)]
    pub sigstore: SigstoreVerifyArgs,
    /// The method; inferred from the flags above when absent.
    #[arg(long, value_enum)]
    pub method: Option<HubMethod>,
}

impl VerifierArgs {
    /// The verifier these flags choose.
    pub fn spec(&self) -> Result<VerifierSpec> {
        VerifierChoice {
            public_key: self.public_key.clone(),
            roots: self.certificate_chain.clone(),
            reject_expired: self.reject_expired,
            identity: self.sigstore.identity.clone(),
            issuer: self.sigstore.identity_provider.clone(),
            sigstore_trust_given: self.sigstore.trust.given(),
            instance: self.sigstore.trust.instance(),
            method: self.method.map(|m| match m {
                HubMethod::Key => MethodKind::Key,
                HubMethod::Certificate => MethodKind::Certificate,
                HubMethod::Sigstore => MethodKind::Sigstore,
            }),
        }
        .spec()
    }
}

/// How `msign hub sign` signs: a key (with a certificate), or Sigstore.
#[derive(Debug, Args, Clone)]
pub struct SignerArgs {
    /// EC private key (PEM).
    #[arg(
        long = "private-key",
        alias = "private_key",
        value_name = "PRIVATE_KEY"
    )]
    pub private_key: Option<PathBuf>,
    /// Password of an encrypted private key.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "MSIGN_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// File holding the password of an encrypted private key (one line).
    #[arg(long = "password-file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Sign with a certificate: the signing certificate (PEM) of the key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "CERTIFICATE_PATH"
    )]
    pub signing_certificate: Option<PathBuf>,
    /// Intermediate certificates to include (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
    #[command(flatten)]
    pub sigstore: SigstoreSignArgs,
}

impl SignerArgs {
    /// The signer the flags choose: a key (with a certificate), or Sigstore; exactly one.
    pub fn spec(&self) -> Result<SignerSpec> {
        SignerSpec::choose(
            self.private_key.as_ref().map(|k| KeyFile {
                path: k.clone(),
                password: self.password.clone(),
                password_file: self.password_file.clone(),
            }),
            self.signing_certificate.clone(),
            self.certificate_chain.clone(),
            self.sigstore.given().then(|| self.sigstore.token.signing()),
        )
    }
}
