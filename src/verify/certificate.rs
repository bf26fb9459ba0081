//! Verifying signatures made with a certificate chain (`verify certificate`).
//!
//! As the reference: the chain in the bundle must lead to one of the given roots, checked
//! at the time the leaf became valid (signatures outlive certificates); the leaf must be
//! fit for signing. msign reads that last rule strictly: the leaf must not be a CA (one
//! also issued for code signing passes with a warning, see [`acceptable_signing_leaf`]),
//! key usage, when present, must allow digital signatures, and extended key usage, when
//! present, must allow code signing. `sign certificate` applies the same rule
//! ([`acceptable_signing_leaf`]) so it never writes a signature this module would refuse.
//! A leaf that has expired still verifies, as in the reference, but with a warning naming
//! the date; [`CertificateVerifier::reject_expired`] makes it an error.

use std::path::PathBuf;

use openssl::hash::MessageDigest;
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509StoreContext, X509};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
pub use crate::sign::certificate::acceptable_signing_leaf;
use crate::sign::certificate::load_certificates;
use crate::verify::key::verify_dsse;
use crate::verify::{check_envelope, BundleVerifier, VerifiedStatement};

/// Verifies certificate-chain signatures against a set of trusted roots.
pub struct CertificateVerifier {
    roots: Vec<X509>,
    reject_expired: bool,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidSignature(msg.into())
}

impl CertificateVerifier {
    /// Trusts the certificates in these PEM files; the system's roots when none is given.
    pub fn from_root_files(paths: &[PathBuf]) -> Result<Self> {
        Ok(CertificateVerifier {
            roots: load_certificates(paths)?,
            reject_expired: false,
        })
    }

    /// Refuse a signing certificate whose validity has ended (`--reject-expired`) instead
    /// of accepting it with a warning.
    pub fn reject_expired(mut self, yes: bool) -> Self {
        self.reject_expired = yes;
        self
    }

    fn store(&self, at: i64) -> Result<X509Store> {
        let err = |e: openssl::error::ErrorStack| Error::Other(format!("certificate store: {e}"));
        let mut b = X509StoreBuilder::new().map_err(err)?;
        if self.roots.is_empty() {
            b.set_default_paths().map_err(err)?;
        }
        for r in &self.roots {
            b.add_cert(r.clone()).map_err(err)?;
        }
        let mut param = X509VerifyParam::new().map_err(err)?;
        param.set_time(at as libc::time_t);
        b.set_param(&param).map_err(err)?;
        Ok(b.build())
    }
}

/// A warning for a leaf whose validity ended before `now` (or an error when expiry is
/// refused). The chain itself was checked at the leaf's notBefore, as the reference does.
fn check_expiry(leaf: &X509Certificate<'_>, now: i64, reject: bool) -> Result<Option<String>> {
    let not_after = leaf.validity().not_after;
    if now <= not_after.timestamp() {
        return Ok(None);
    }
    if reject {
        return Err(invalid(format!(
            "the signing certificate expired on {not_after} (--reject-expired)"
        )));
    }
    Ok(Some(format!(
        "the signing certificate expired on {not_after}; accepted because the chain is checked at the time the certificate became valid, as model_signing does (refuse it with --reject-expired)"
    )))
}

impl BundleVerifier for CertificateVerifier {
    fn verify(&self, bundle: &Bundle) -> Result<VerifiedStatement> {
        let (payload, sig) = check_envelope(bundle)?;
        let chain = bundle
            .verification_material
            .x509_certificate_chain
            .as_ref()
            .filter(|c| !c.certificates.is_empty())
            .ok_or_else(|| {
                Error::MalformedSignature("the bundle carries no certificate chain; was it signed with a key or Sigstore?".into())
            })?;
        let ders = chain
            .certificates
            .iter()
            .map(|c| c.decode())
            .collect::<Result<Vec<_>>>()?;
        let certs = ders
            .iter()
            .map(|d| {
                X509::from_der(d).map_err(|e| {
                    Error::MalformedSignature(format!("bad certificate in bundle: {e}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (_, leaf_parsed) = X509Certificate::from_der(&ders[0])
            .map_err(|e| Error::MalformedSignature(format!("bad signing certificate: {e}")))?;
        let not_before = leaf_parsed.validity().not_before.timestamp();

        let store = self.store(not_before)?;
        let mut intermediates = Stack::new().map_err(|e| Error::Other(e.to_string()))?;
        for c in &certs[1..] {
            intermediates
                .push(c.clone())
                .map_err(|e| Error::Other(e.to_string()))?;
        }
        let mut ctx = X509StoreContext::new().map_err(|e| Error::Other(e.to_string()))?;
        let (ok, why) = ctx
            .init(&store, &certs[0], &intermediates, |c| {
                let ok = c.verify_cert()?;
                Ok((ok, c.error().error_string().to_string()))
            })
            .map_err(|e| Error::Other(format!("certificate verification could not run: {e}")))?;
        if !ok {
            return Err(invalid(format!(
                "the certificate chain does not lead to a trusted root: {why}"
            )));
        }
        let mut warnings: Vec<String> =
            acceptable_signing_leaf(&leaf_parsed)?.into_iter().collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        warnings.extend(check_expiry(&leaf_parsed, now, self.reject_expired)?);
        let key = certs[0]
            .public_key()
            .map_err(|e| Error::MalformedSignature(format!("signing certificate key: {e}")))?;
        if !verify_dsse(&key, &payload, &sig, Some(MessageDigest::sha256()))? {
            return Err(invalid(
                "the signature does not match the statement and the signing certificate",
            ));
        }
        Ok(VerifiedStatement {
            payload,
            signer: format!("certificate {}", leaf_parsed.subject()),
            warnings,
        })
    }

    fn method(&self) -> &'static str {
        "certificate"
    }
}
