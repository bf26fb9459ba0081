//! Which verifier to use, as data: [`VerifierSpec`] names a method and what it trusts, and
//! [`VerifierSpec::build`] gives the [`VerifyingConfig`]. The `verify`, `oci verify`,
//! `hub` and `git model-sign verify` commands, Rust callers and the Python binding all
//! build their verifier here.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::sigstore::Instance;
use crate::verify::sigstore::SigstoreVerifier;
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

/// A verification method and what it trusts.
#[derive(Debug, Clone)]
pub enum VerifierSpec {
    /// An EC public key (PEM) paired with the signing key.
    Key(PathBuf),
    /// Root certificates (PEM; the system's roots when empty) for certificate signatures.
    Certificate {
        /// The trusted roots.
        roots: Vec<PathBuf>,
        /// Refuse an expired signing certificate instead of warning.
        reject_expired: bool,
    },
    /// A Sigstore signer: an identity and the OIDC issuer that vouched for it.
    Sigstore {
        /// The expected identity (e-mail or URI in the certificate).
        identity: String,
        /// Its OIDC issuer.
        issuer: String,
        /// The instance whose trusted root is used.
        instance: Instance,
    },
}

/// The method names, for choosing among flags given together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// `key`.
    Key,
    /// `certificate`.
    Certificate,
    /// `sigstore`.
    Sigstore,
}

impl MethodKind {
    fn flags(self) -> &'static str {
        match self {
            MethodKind::Key => "--public-key",
            MethodKind::Certificate => "--certificate-chain",
            MethodKind::Sigstore => "--identity/--identity-provider",
        }
    }
}

/// Everything a command that infers its method (`hub verify`, `hub download`) was given.
#[derive(Debug, Clone, Default)]
pub struct VerifierChoice {
    /// `--public-key`.
    pub public_key: Option<PathBuf>,
    /// `--certificate-chain`.
    pub roots: Vec<PathBuf>,
    /// `--reject-expired`.
    pub reject_expired: bool,
    /// `--identity`.
    pub identity: Option<String>,
    /// `--identity-provider`.
    pub issuer: Option<String>,
    /// Whether any Sigstore trust flag was given.
    pub sigstore_trust_given: bool,
    /// The Sigstore instance.
    pub instance: Instance,
    /// An explicit method, choosing among the flags given.
    pub method: Option<MethodKind>,
}

impl VerifierChoice {
    /// The method the flags name: the explicit one, else the only one given.
    pub fn spec(self) -> Result<VerifierSpec> {
        let sigstore =
            self.identity.is_some() || self.issuer.is_some() || self.sigstore_trust_given;
        let given: Vec<MethodKind> = [
            (self.public_key.is_some(), MethodKind::Key),
            (!self.roots.is_empty(), MethodKind::Certificate),
            (sigstore, MethodKind::Sigstore),
        ]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect();
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
        Ok(match method {
            MethodKind::Key => VerifierSpec::Key(
                self.public_key
                    .ok_or_else(|| Error::Usage("--method key needs --public-key".into()))?,
            ),
            MethodKind::Certificate => VerifierSpec::Certificate {
                roots: self.roots,
                reject_expired: self.reject_expired,
            },
            MethodKind::Sigstore => {
                let (Some(identity), Some(issuer)) = (self.identity, self.issuer) else {
                    return Err(Error::Usage(
                        "Sigstore verification needs both --identity and --identity-provider"
                            .into(),
                    ));
                };
                VerifierSpec::Sigstore {
                    identity,
                    issuer,
                    instance: self.instance,
                }
            }
        })
    }
}

impl VerifierSpec {
    /// Loads what the method trusts (the key, the roots, the trusted root).
    pub fn build(&self) -> Result<VerifyingConfig> {
        Ok(VerifyingConfig::new(match self {
            VerifierSpec::Key(k) => Box::new(KeyVerifier::from_pem_file(k)?),
            VerifierSpec::Certificate {
                roots,
                reject_expired,
            } => Box::new(
                CertificateVerifier::from_root_files(roots)?.reject_expired(*reject_expired),
            ),
            VerifierSpec::Sigstore {
                identity,
                issuer,
                instance,
            } => Box::new(SigstoreVerifier::new(
                instance.trusted_root()?,
                identity,
                issuer,
            )),
        }))
    }
}

/// The SHA-256 fingerprints (colon-separated upper-case hex) of the certificates in these
/// PEM files, as model_signing's `--log_fingerprints` prints them.
pub fn fingerprints(paths: &[PathBuf]) -> Result<Vec<String>> {
    crate::sign::certificate::load_certificates(paths)?
        .iter()
        .map(|c| {
            let fp = c
                .digest(openssl::hash::MessageDigest::sha256())
                .map_err(|e| Error::Other(e.to_string()))?;
            Ok(hex::encode_upper(fp)
                .as_bytes()
                .chunks(2)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(":"))
        })
        .collect()
}
