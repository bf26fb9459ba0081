//! Signed certificate timestamps embedded in Fulcio certificates (RFC 6962 section 3):
//! proof that the certificate was logged in a certificate transparency log.

use openssl::x509::X509;
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::X509Certificate;

use crate::error::Result;
use crate::sigstore::der::tbs_without_extension;
use crate::sigstore::keys::{spki_der, verify_signature};
use crate::sigstore::trust::TrustedRoot;
use crate::sigstore::{invalid, malformed};

/// DER content bytes of OID 1.3.6.1.4.1.11129.2.4.2 (embedded SCT list).
const SCT_LIST_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
const SCT_LIST_OID_STR: &str = "1.3.6.1.4.1.11129.2.4.2";

/// One SCT as the CT log issued it.
#[derive(Debug, Clone)]
pub struct Sct {
    /// SHA-256 of the CT log's key.
    pub log_id: Vec<u8>,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// Extensions (opaque; signed over).
    pub extensions: Vec<u8>,
    /// Hash algorithm (4 = SHA-256).
    pub hash_alg: u8,
    /// Signature algorithm (3 = ECDSA).
    pub sig_alg: u8,
    /// The signature.
    pub signature: Vec<u8>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(malformed("truncated SCT list"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn uint(&mut self, n: usize) -> Result<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &x| (a << 8) | x as u64))
    }
    fn vec(&mut self, len_bytes: usize) -> Result<&'a [u8]> {
        let n = self.uint(len_bytes)? as usize;
        self.take(n)
    }
}

/// The SCTs embedded in a certificate.
pub fn embedded_scts(leaf: &X509Certificate<'_>) -> Result<Vec<Sct>> {
    let ext = leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == SCT_LIST_OID_STR)
        .ok_or_else(|| {
            invalid("the signing certificate carries no signed certificate timestamp")
        })?;
    // The extension value is an OCTET STRING around the TLS-encoded list.
    let (inner, _) = crate::sigstore::der::read(ext.value)?;
    if inner.tag != 0x04 {
        return Err(malformed("SCT list extension is not an OCTET STRING"));
    }
    let mut list = Reader(inner.content);
    let mut body = Reader(list.vec(2)?);
    let mut out = Vec::new();
    while !body.0.is_empty() {
        let mut s = Reader(body.vec(2)?);
        if s.uint(1)? != 0 {
            continue; // only v1 SCTs exist; skip what we cannot check rather than trust it
        }
        let log_id = s.take(32)?.to_vec();
        let timestamp = s.uint(8)?;
        let extensions = s.vec(2)?.to_vec();
        let hash_alg = s.uint(1)? as u8;
        let sig_alg = s.uint(1)? as u8;
        let signature = s.vec(2)?.to_vec();
        out.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash_alg,
            sig_alg,
            signature,
        });
    }
    Ok(out)
}

/// What the CT log signed for a precertificate (RFC 6962 section 3.2).
fn signed_data(sct: &Sct, issuer_key_hash: &[u8], precert_tbs: &[u8]) -> Result<Vec<u8>> {
    if precert_tbs.len() >= 1 << 24 || sct.extensions.len() >= 1 << 16 {
        return Err(malformed("certificate too large for an SCT"));
    }
    let mut m = vec![0u8, 0u8];
    m.extend(sct.timestamp.to_be_bytes());
    m.extend(1u16.to_be_bytes());
    m.extend_from_slice(issuer_key_hash);
    m.extend(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(precert_tbs);
    m.extend((sct.extensions.len() as u16).to_be_bytes());
    m.extend_from_slice(&sct.extensions);
    Ok(m)
}

/// Checks that at least one embedded SCT verifies against a trusted CT log's key, valid at
/// the SCT's time. `issuer` is the certificate that issued `leaf_der`.
pub fn verify_embedded_sct(
    leaf_der: &[u8],
    leaf: &X509Certificate<'_>,
    issuer: &X509,
    trust: &TrustedRoot,
) -> Result<()> {
    let scts = embedded_scts(leaf)?;
    let issuer_key = issuer
        .public_key()
        .map_err(|e| malformed(format!("issuer key: {e}")))?;
    let issuer_key_hash = Sha256::digest(spki_der(&issuer_key)?);
    let tbs = tbs_without_extension(leaf_der, SCT_LIST_OID)?;
    let mut why = String::from("no SCT names a trusted CT log");
    for sct in &scts {
        let Some(log) = trust.ctlog(&sct.log_id) else {
            continue;
        };
        let t = (sct.timestamp / 1000) as i64;
        if !log.valid_for.contains(t) {
            why = "the SCT's CT log key was not valid at the SCT's time".into();
            continue;
        }
        if verify_signature(
            &log.key,
            &signed_data(sct, &issuer_key_hash, &tbs)?,
            &sct.signature,
        )? {
            return Ok(());
        }
        why = "the SCT signature does not verify with the CT log's key".into();
    }
    Err(invalid(format!("signed certificate timestamp: {why}")))
}
