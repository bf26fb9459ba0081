//! The verifier and signer flags of `msign hub verify|download|sign`, and what they build.
//! The Sigstore flag groups are those of `msign verify sigstore` and `msign sign sigstore`,
//! with the identity optional: the hub commands choose their method by the flags given.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::sigstore::{SigstoreTokenArgs, SigstoreTrustArgs};
use crate::error::{Error, Result};
use crate::sign::{CertificateSigner, KeySigner, Signer};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

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

impl HubMethod {
    fn flags(self) -> &'static str {
        match self {
            HubMethod::Key => "--public-key",
            HubMethod::Certificate => "--certificate-chain",
            HubMethod::Sigstore => "--identity/--identity-provider",
        }
    }
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
    /// The verifying configuration these flags describe.
    pub fn config(&self) -> Result<VerifyingConfig> {
        let given: Vec<HubMethod> = [
            (self.public_key.is_some(), HubMethod::Key),
            (!self.certificate_chain.is_empty(), HubMethod::Certificate),
            (self.sigstore.given(), HubMethod::Sigstore),
        ]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect();
        // An explicit --method chooses among the flags given; without it, they must name one.
        let method = match (self.method, given.as_slice()) {
            (Some(m), _) => m,
            (None, [m]) => *m,
            (None, [_, _, ..]) => {
                return Err(Error::Usage(format!(
                    "choose one verification method, not several: {} (or say which with --method)",
                    given.iter().map(|m| m.flags()).collect::<Vec<_>>().join(", ")
                )))
            }
            (None, []) => {
                return Err(Error::Usage(
                    "say how to verify: --public-key KEY, --certificate-chain ROOT (or --method certificate for the system's roots), or --identity ID --identity-provider URL for Sigstore".into(),
                ))
            }
        };
        match method {
            HubMethod::Key => {
                let key = self
                    .public_key
                    .as_ref()
                    .ok_or_else(|| Error::Usage("--method key needs --public-key".into()))?;
                Ok(VerifyingConfig::new(Box::new(KeyVerifier::from_pem_file(
                    key,
                )?)))
            }
            HubMethod::Certificate => Ok(VerifyingConfig::new(Box::new(
                CertificateVerifier::from_root_files(&self.certificate_chain)?
                    .reject_expired(self.reject_expired),
            ))),
            HubMethod::Sigstore => self.sigstore.config(),
        }
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
    pub fn signer(&self) -> Result<Box<dyn Signer>> {
        let a = self;
        let keyed = a.private_key.is_some()
            || a.signing_certificate.is_some()
            || !a.certificate_chain.is_empty();
        if a.sigstore.given() {
            if keyed {
                return Err(Error::Usage(
                "choose one signing method: Sigstore (--sigstore, --identity-token, ...) or a key (--private-key, --signing-certificate, --certificate-chain), not both".into(),
            ));
            }
            return a.sigstore.signer();
        }
        let key = a.private_key.as_ref().ok_or_else(|| {
        Error::Usage(
            "say how to sign: --private-key KEY (with --signing-certificate CERT for a certificate), or --sigstore".into(),
        )
    })?;
        let password = crate::cli::password::key_password(
            key,
            a.password.as_deref(),
            a.password_file.as_deref(),
        )?;
        Ok(match &a.signing_certificate {
            Some(cert) => Box::new(CertificateSigner::from_files(
                key,
                password.as_deref(),
                cert,
                &a.certificate_chain,
            )?),
            None => Box::new(KeySigner::from_pem_file(key, password.as_deref())?),
        })
    }
}
