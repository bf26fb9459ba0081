//! RFC 3161 signed timestamps from a timestamp authority of the trusted root: the time
//! source of Rekor v2 bundles (which carry no signed entry timestamp). A timestamp counts
//! when its CMS signature verifies with a trusted TSA certificate, that certificate chains to
//! the TSA's root at the timestamp's time, and its message imprint is the hash of the
//! bundle's signature.

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::{hash, MessageDigest};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::X509StoreContext;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};
use crate::sigstore::der::{children, read};
use crate::sigstore::time::parse_rfc3339;
use crate::sigstore::trust::{CertificateAuthority, TrustedRoot};
use crate::sigstore::{invalid, malformed};

/// DER content of OID 1.2.840.113549.1.7.2 (signedData).
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// What a timestamp says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// Hash algorithm OID (DER content) of the message imprint.
    pub imprint_alg: Vec<u8>,
    /// The hash of the timestamped message.
    pub imprint: Vec<u8>,
    /// `genTime`, Unix seconds.
    pub gen_time: i64,
}

/// The TimeStampToken (a CMS ContentInfo) of a TimeStampResp, or the token itself.
pub fn token_of(der: &[u8]) -> Result<&[u8]> {
    let (outer, _) = read(der)?;
    let parts = children(outer.content)?;
    match parts.first() {
        Some(first) if first.tag == 0x06 && first.content == SIGNED_DATA => Ok(outer.whole),
        Some(status) if status.tag == 0x30 => {
            let (st, _) = read(status.content)?;
            if st.tag != 0x02 || st.content.first().is_some_and(|&s| s > 1) {
                return Err(invalid("the timestamp response reports a failure status"));
            }
            parts
                .get(1)
                .map(|t| t.whole)
                .ok_or_else(|| malformed("the timestamp response holds no token"))
        }
        _ => Err(malformed("not an RFC 3161 timestamp")),
    }
}

fn generalized_time(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    if !s.is_ascii() || s.len() < 15 || !s.ends_with('Z') {
        return None;
    }
    let frac = &s[14..s.len() - 1];
    parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12],
        &s[12..14],
        frac
    ))
}

/// Reads the TSTInfo of a token (not yet verified).
pub fn tst_info(token: &[u8]) -> Result<(TstInfo, Vec<u8>)> {
    let bad = || malformed("malformed RFC 3161 timestamp token");
    let (ci, _) = read(token)?;
    let ci = children(ci.content)?;
    let explicit = ci.get(1).filter(|t| t.tag == 0xa0).ok_or_else(bad)?;
    let (sd, _) = read(explicit.content)?;
    let sd = children(sd.content)?;
    let encap = sd.get(2).filter(|t| t.tag == 0x30).ok_or_else(bad)?;
    let encap = children(encap.content)?;
    let econtent = encap.get(1).filter(|t| t.tag == 0xa0).ok_or_else(bad)?;
    let (octets, _) = read(econtent.content)?;
    let (tst, _) = read(octets.content)?;
    let f = children(tst.content)?;
    let imprint = f.get(2).filter(|t| t.tag == 0x30).ok_or_else(bad)?;
    let imprint = children(imprint.content)?;
    let alg = imprint.first().ok_or_else(bad)?;
    let (alg_oid, _) = read(alg.content)?;
    let hashed = imprint.get(1).filter(|t| t.tag == 0x04).ok_or_else(bad)?;
    let gen = f.get(4).filter(|t| t.tag == 0x18).ok_or_else(bad)?;
    Ok((
        TstInfo {
            imprint_alg: alg_oid.content.to_vec(),
            imprint: hashed.content.to_vec(),
            gen_time: generalized_time(gen.content).ok_or_else(bad)?,
        },
        octets.content.to_vec(),
    ))
}

fn digest_for_oid(oid: &[u8]) -> Option<MessageDigest> {
    const SHA2: [u8; 8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    match oid {
        [p @ .., 1] if p == SHA2 => Some(MessageDigest::sha256()),
        [p @ .., 2] if p == SHA2 => Some(MessageDigest::sha384()),
        [p @ .., 3] if p == SHA2 => Some(MessageDigest::sha512()),
        _ => None,
    }
}

fn ossl(e: openssl::error::ErrorStack) -> Error {
    Error::Other(format!("timestamp verification could not run: {e}"))
}

/// Checks the token's CMS signature with the TSA's signing certificate and the chain of
/// that certificate to the TSA's root at `at`.
fn verify_with_authority(
    token: &[u8],
    tsa: &CertificateAuthority,
    at: i64,
    tst_der: &[u8],
) -> Result<bool> {
    if tsa.chain.len() < 2 || !tsa.valid_for.contains(at) {
        return Ok(false);
    }
    let leaf = &tsa.chain[0];
    let mut cms =
        CmsContentInfo::from_der(token).map_err(|e| malformed(format!("timestamp token: {e}")))?;
    let mut signer = Stack::new().map_err(ossl)?;
    signer.push(leaf.clone()).map_err(ossl)?;
    let empty = X509StoreBuilder::new().map_err(ossl)?.build();
    let mut out = Vec::new();
    // The signer must be the trusted TSA certificate (NOINTERN); its chain is checked
    // below without OpenSSL's S/MIME purpose, which TSA certificates do not have.
    let flags = CMSOptions::NOINTERN | CMSOptions::NO_SIGNER_CERT_VERIFY | CMSOptions::BINARY;
    if cms
        .verify(Some(&signer), Some(&empty), None, Some(&mut out), flags)
        .is_err()
        || out != tst_der
    {
        return Ok(false);
    }
    let mut b = X509StoreBuilder::new().map_err(ossl)?;
    b.add_cert(tsa.chain[tsa.chain.len() - 1].clone())
        .map_err(ossl)?;
    let mut param = X509VerifyParam::new().map_err(ossl)?;
    param.set_time(at as libc::time_t);
    b.set_param(&param).map_err(ossl)?;
    let store = b.build();
    let mut inter = Stack::new().map_err(ossl)?;
    for c in &tsa.chain[1..tsa.chain.len() - 1] {
        inter.push(c.clone()).map_err(ossl)?;
    }
    let mut ctx = X509StoreContext::new().map_err(ossl)?;
    let chained = ctx
        .init(&store, leaf, &inter, |c| c.verify_cert())
        .map_err(ossl)?;
    let der = leaf.to_der().map_err(ossl)?;
    let eku_ok = X509Certificate::from_der(&der)
        .ok()
        .and_then(|(_, c)| {
            c.extended_key_usage()
                .ok()
                .flatten()
                .map(|e| e.value.time_stamping)
        })
        .unwrap_or(false);
    Ok(chained && eku_ok)
}

/// Verifies one timestamp (a TimeStampResp or token, DER) over `signature` and returns its
/// time.
pub fn verify_timestamp(der: &[u8], signature: &[u8], trust: &TrustedRoot) -> Result<i64> {
    let token = token_of(der)?;
    let (info, tst_der) = tst_info(token)?;
    let md = digest_for_oid(&info.imprint_alg)
        .ok_or_else(|| malformed("timestamp imprint uses an unsupported hash"))?;
    if hash(md, signature).map_err(ossl)?.as_ref() != info.imprint.as_slice() {
        return Err(invalid(
            "the timestamp is for another signature (message imprint differs)",
        ));
    }
    for tsa in &trust.timestamp_authorities {
        if verify_with_authority(token, tsa, info.gen_time, &tst_der)? {
            return Ok(info.gen_time);
        }
    }
    Err(invalid(
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root valid at its time",
    ))
}

#[cfg(test)]
mod tests {
    use super::generalized_time;

    #[test]
    fn generalized_times() {
        assert_eq!(generalized_time(b"19700101000010Z"), Some(10));
        assert_eq!(generalized_time(b"19700101000010.5Z"), Some(10));
        assert_eq!(generalized_time(b"19700101000010"), None);
        assert_eq!(generalized_time("1970010100001é0Z".as_bytes()), None);
    }
}
