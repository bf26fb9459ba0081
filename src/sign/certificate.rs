//! Signing with a private key and its X.509 certificate chain (`sign certificate`).

use std::fs;
use std::path::{Path, PathBuf};

use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use openssl::x509::X509;
use x509_parser::prelude::FromDer;

use crate::bundle::{Bundle, CertificateChain, RawBytes, VerificationMaterial};
use crate::error::{Error, Result};
use crate::sign::key::{load_private_key, sign_pae};
use crate::sign::Signer;

/// Reads every PEM certificate in the given files, in order.
pub fn load_certificates(paths: &[PathBuf]) -> Result<Vec<X509>> {
    let mut out = Vec::new();
    for p in paths {
        let pem = fs::read(p).map_err(|e| Error::KeyMaterial {
            what: p.display().to_string(),
            reason: format!("cannot read the certificate file ({e})"),
        })?;
        let certs = X509::stack_from_pem(&pem).map_err(|e| Error::KeyMaterial {
            what: p.display().to_string(),
            reason: format!("not a PEM certificate file ({e})"),
        })?;
        if certs.is_empty() {
            return Err(Error::KeyMaterial {
                what: p.display().to_string(),
                reason: "holds no PEM certificate".into(),
            });
        }
        out.extend(certs);
    }
    Ok(out)
}

/// Signs with a key whose certificate (and chain) travel in the bundle.
pub struct CertificateSigner {
    key: PKey<Private>,
    chain_der: Vec<Vec<u8>>,
}

impl CertificateSigner {
    /// Loads the key, the signing certificate and the chain; checks that the certificate
    /// belongs to the key.
    pub fn from_files(
        private_key: &Path,
        password: Option<&str>,
        signing_certificate: &Path,
        chain: &[PathBuf],
    ) -> Result<Self> {
        let key = load_private_key(private_key, password)?;
        let leaf = load_certificates(&[signing_certificate.to_path_buf()])?.remove(0);
        Self::from_parts(key, leaf, load_certificates(chain)?, signing_certificate)
    }

    /// Builds a signer from loaded parts.
    pub fn from_parts(
        key: PKey<Private>,
        leaf: X509,
        chain: Vec<X509>,
        leaf_path: &Path,
    ) -> Result<Self> {
        let chain_der = chain_for_key(&key, &leaf, &chain, leaf_path)?;
        Ok(CertificateSigner { key, chain_der })
    }
}

/// Checks that `leaf` certifies `key` and returns the bundle's chain: the leaf, then
/// `chain` in order, DER-encoded. Shared with signers whose private key is not in memory.
pub(crate) fn chain_for_key<T: HasPublic>(
    key: &PKeyRef<T>,
    leaf: &X509,
    chain: &[X509],
    leaf_path: &Path,
) -> Result<Vec<Vec<u8>>> {
    let leaf_key = leaf.public_key().map_err(|e| Error::KeyMaterial {
        what: leaf_path.display().to_string(),
        reason: format!("certificate key unreadable ({e})"),
    })?;
    if !leaf_key.public_eq(key) {
        return Err(Error::KeyMaterial {
            what: leaf_path.display().to_string(),
            reason: "the certificate's public key does not match the private key".into(),
        });
    }
    // Refused here, before any hashing, rather than written into a signature that
    // `verify certificate` would then refuse.
    let leaf_der = leaf.to_der().map_err(|e| Error::KeyMaterial {
        what: leaf_path.display().to_string(),
        reason: format!("cannot encode the certificate ({e})"),
    })?;
    let (_, parsed) = x509_parser::prelude::X509Certificate::from_der(&leaf_der).map_err(|e| {
        Error::KeyMaterial {
            what: leaf_path.display().to_string(),
            reason: format!("not a readable X.509 certificate ({e})"),
        }
    })?;
    crate::verify::certificate::acceptable_signing_leaf(&parsed).map_err(|e| {
        let why = match e {
            Error::InvalidSignature(m) => m,
            other => other.to_string(),
        };
        Error::KeyMaterial {
            what: leaf_path.display().to_string(),
            reason: format!(
                "cannot sign models: {why}; msign's verification would refuse the signature (use a certificate issued for code signing)"
            ),
        }
    })?;
    let mut chain_der = Vec::with_capacity(chain.len() + 1);
    for c in std::iter::once(leaf).chain(chain.iter()) {
        chain_der.push(
            c.to_der()
                .map_err(|e| Error::Other(format!("cannot encode certificate: {e}")))?,
        );
    }
    Ok(chain_der)
}

/// The verification material naming a certificate chain (leaf first).
pub(crate) fn chain_material(chain_der: &[Vec<u8>]) -> VerificationMaterial {
    VerificationMaterial {
        x509_certificate_chain: Some(CertificateChain {
            certificates: chain_der.iter().map(|d| RawBytes::new(d)).collect(),
        }),
        ..Default::default()
    }
}

impl Signer for CertificateSigner {
    fn sign(&self, payload: &[u8]) -> Result<Bundle> {
        let sig = sign_pae(&self.key, payload)?;
        Ok(Bundle::new_dsse(
            payload,
            &sig,
            chain_material(&self.chain_der),
        ))
    }

    fn method(&self) -> &'static str {
        "certificate"
    }
}
