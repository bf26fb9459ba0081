//! Key material on the command line: a PEM private key and its password, a signing
//! certificate and its chain, a PKCS #11 token key.

use std::path::PathBuf;

use clap::Args;

use crate::cli::sigstore_args::SigstoreTokenArgs;
use crate::sign::{CertificateFiles, KeyFile, Pkcs11Key, SignerSpec};
use crate::verify::VerifierSpec;

/// A PEM private key, optionally encrypted.
#[derive(Debug, Args, Clone)]
pub struct PrivateKeyArgs {
    /// EC private key (PEM: SEC1 or PKCS#8, P-256/P-384/P-521).
    #[arg(
        long = "private-key",
        alias = "private_key",
        value_name = "PRIVATE_KEY"
    )]
    pub private_key: PathBuf,

    /// Password of an encrypted private key.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "MSIGN_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// File holding the password of an encrypted private key (one line). Without a
    /// password, an encrypted key is asked for on the terminal.
    #[arg(long = "password-file", alias = "password_file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl PrivateKeyArgs {
    /// The key file and its password flags, for the library.
    pub fn key(&self) -> KeyFile {
        KeyFile {
            path: self.private_key.clone(),
            password: self.password.clone(),
            password_file: self.password_file.clone(),
        }
    }
}

/// The certificate half of certificate signing.
#[derive(Debug, Args, Clone)]
pub struct CertificateArgs {
    /// The signing certificate (PEM) belonging to the private key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "CERTIFICATE_PATH"
    )]
    pub signing_certificate: PathBuf,

    /// Intermediate certificates to include in the signature (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
}

impl CertificateArgs {
    /// The certificate files, for the library.
    pub fn files(&self) -> CertificateFiles {
        CertificateFiles {
            signing_certificate: self.signing_certificate.clone(),
            chain: self.certificate_chain.clone(),
        }
    }
}

/// Where the token key is.
#[derive(Debug, Args, Clone)]
pub struct Pkcs11Args {
    /// PKCS #11 URI (RFC 7512) of the private key, e.g.
    /// `pkcs11:token=ml;object=key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin`.
    #[arg(long = "pkcs11-uri", alias = "pkcs11_uri", value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,

    /// The PKCS #11 module, or a folder searched for the URI's module-name; used when the
    /// URI has no module-path.
    #[arg(long = "module-path", alias = "module_path", value_name = "PATH")]
    pub module_path: Option<PathBuf>,
}

impl Pkcs11Args {
    /// The token key, for the library.
    pub fn key(&self) -> Pkcs11Key {
        Pkcs11Key {
            uri: self.pkcs11_uri.clone(),
            module_path: self.module_path.clone(),
            ..Default::default()
        }
    }
}

/// A private key and its certificate chain: `certificate` signing.
#[derive(Debug, Args, Clone)]
pub struct KeyCertificateArgs {
    #[command(flatten)]
    key: PrivateKeyArgs,
    #[command(flatten)]
    cert: CertificateArgs,
}

/// A token key and its certificate chain: `pkcs11-certificate` signing.
#[derive(Debug, Args, Clone)]
pub struct Pkcs11CertificateArgs {
    #[command(flatten)]
    pkcs11: Pkcs11Args,
    #[command(flatten)]
    cert: CertificateArgs,
}

/// The flags of one signing method, whichever command takes them (`sign`, `oci sign`,
/// `git model-sign sign`): each group says which signer it describes, in one place.
pub trait SignerFlags {
    /// The signer, for the library.
    fn spec(&self) -> SignerSpec;
}

impl SignerFlags for PrivateKeyArgs {
    fn spec(&self) -> SignerSpec {
        SignerSpec::Key(self.key())
    }
}

impl SignerFlags for KeyCertificateArgs {
    fn spec(&self) -> SignerSpec {
        SignerSpec::Certificate(self.key.key(), self.cert.files())
    }
}

impl SignerFlags for Pkcs11Args {
    fn spec(&self) -> SignerSpec {
        SignerSpec::Pkcs11Key(self.key())
    }
}

impl SignerFlags for Pkcs11CertificateArgs {
    fn spec(&self) -> SignerSpec {
        SignerSpec::Pkcs11Certificate(self.pkcs11.key(), self.cert.files())
    }
}

impl SignerFlags for SigstoreTokenArgs {
    fn spec(&self) -> SignerSpec {
        SignerSpec::Sigstore(self.signing())
    }
}

/// The public key of `verify key` and `oci verify key`.
#[derive(Debug, Args, Clone)]
pub struct PublicKeyArgs {
    /// The public key (PEM) paired with the signing key.
    #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
    pub public_key: PathBuf,
}

impl PublicKeyArgs {
    /// The verifier, for the library.
    pub fn spec(&self) -> VerifierSpec {
        VerifierSpec::Key(self.public_key.clone())
    }
}

/// The trusted roots of certificate verification.
#[derive(Debug, Args, Clone)]
pub struct RootsArgs {
    /// Trusted root certificate(s) (PEM, repeatable); the system's roots when absent.
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
}

impl RootsArgs {
    /// The verifier, for the library.
    pub fn spec(&self, reject_expired: bool) -> VerifierSpec {
        VerifierSpec::Certificate {
            roots: self.certificate_chain.clone(),
            reject_expired,
        }
    }
}
