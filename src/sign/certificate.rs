//! Signing with a private key and its X.509 certificate chain (`sign certificate`).

use std::fs;
use std::path::{Path, PathBuf};

use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use openssl::x509::X509;
use x509_parser::prelude::{FromDer, X509Certificate};

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
    acceptable_signing_leaf(&parsed).map_err(|e| {
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

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidSignature(msg.into())
}

/// Refuses a certificate that is a CA (`basicConstraints CA:TRUE`): a CA certifies keys,
/// it does not sign artifacts.
fn check_not_ca(leaf: &X509Certificate<'_>) -> Result<()> {
    let bc = leaf.basic_constraints().map_err(|e| {
        invalid(format!(
            "the signing certificate's basic constraints are unreadable: {e}"
        ))
    })?;
    if bc.is_some_and(|b| b.value.ca) {
        return Err(invalid(
            "the signing certificate is a CA certificate (basicConstraints CA:TRUE); a CA certifies keys and cannot sign models",
        ));
    }
    Ok(())
}

/// Whether `leaf` can sign models, as msign's verification decides it: key usage /
/// extended key usage, when present, allowing digital signatures / code signing, and not
/// a CA. Signing and verifying both ask this one function; the error says why not.
///
/// One exception, for compatibility: a CA certificate that was explicitly issued for code
/// signing too (extended key usage codeSigning, key usage digitalSignature) is accepted
/// with the warning returned. model_signing's own cross-version test certificates
/// (fixtures/model-transparency) are such certificates, and the reference accepts them;
/// `sign certificate` accepts them too, since its verification does.
pub fn acceptable_signing_leaf(leaf: &X509Certificate<'_>) -> Result<Option<String>> {
    let ku = leaf
        .key_usage()
        .map_err(|e| invalid(format!("leaf key usage unreadable: {e}")))?;
    let eku = leaf
        .extended_key_usage()
        .map_err(|e| invalid(format!("leaf extended key usage unreadable: {e}")))?;
    if ku.is_none() && eku.is_none() {
        return Err(invalid("the signing certificate has neither key usage nor extended key usage; it is not a signing certificate"));
    }
    if let Some(ku) = &ku {
        if !ku.value.digital_signature() {
            return Err(invalid(
                "the signing certificate's key usage does not allow digital signatures",
            ));
        }
    }
    if let Some(eku) = &eku {
        if !(eku.value.code_signing || eku.value.any) {
            return Err(invalid(
                "the signing certificate's extended key usage does not include code signing",
            ));
        }
    }
    if let Err(refused) = check_not_ca(leaf) {
        let issued_for_code_signing = eku.is_some_and(|e| e.value.code_signing)
            && ku.is_some_and(|k| k.value.digital_signature());
        if !issued_for_code_signing {
            return Err(refused);
        }
        return Ok(Some(
            "the signing certificate is a CA certificate (basicConstraints CA:TRUE); accepted because it was also issued for code signing (extended key usage codeSigning), as model_signing accepts it, but a CA should not sign models"
                .into(),
        ));
    }
    Ok(None)
}
