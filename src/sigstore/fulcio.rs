//! Fulcio certificates: the chain to a trusted CA, the signing identity (SAN) and the
//! OIDC issuer that vouched for it (Fulcio's extensions under 1.3.6.1.4.1.57264.1).

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509StoreContext, X509};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

use crate::error::{Error, Result};
use crate::sigstore::trust::{CertificateAuthority, TrustedRoot};
use crate::sigstore::{invalid, malformed};

/// Fulcio's OIDC issuer extension, v1 (raw UTF-8 bytes, deprecated but still written).
pub const OIDC_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio's OIDC issuer extension, v2 (a DER UTF8String).
pub const OIDC_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

fn ossl(e: openssl::error::ErrorStack) -> Error {
    Error::Other(format!("certificate verification could not run: {e}"))
}

/// Checks that `leaf` chains to a certificate authority of the trusted root, valid at
/// time `at` (Unix seconds), and returns the CA and the certificate that issued `leaf`.
pub fn verify_chain<'a>(
    leaf: &X509,
    trust: &'a TrustedRoot,
    at: i64,
) -> Result<(&'a CertificateAuthority, X509)> {
    let mut last =
        String::from("no certificate authority of the trusted root was valid at signing time");
    for ca in &trust.certificate_authorities {
        if !ca.valid_for.contains(at) {
            continue;
        }
        let mut b = X509StoreBuilder::new().map_err(ossl)?;
        let root = ca
            .chain
            .last()
            .expect("trusted root chains are never empty");
        b.add_cert(root.clone()).map_err(ossl)?;
        let mut param = X509VerifyParam::new().map_err(ossl)?;
        param.set_time(at as libc::time_t);
        b.set_param(&param).map_err(ossl)?;
        let store = b.build();
        let mut inter = Stack::new().map_err(ossl)?;
        for c in &ca.chain[..ca.chain.len() - 1] {
            inter.push(c.clone()).map_err(ossl)?;
        }
        let mut ctx = X509StoreContext::new().map_err(ossl)?;
        let res = ctx
            .init(&store, leaf, &inter, |c| {
                let ok = c.verify_cert()?;
                let issuer = c.chain().and_then(|ch| ch.get(1).map(|x| x.to_owned()));
                Ok((ok, c.error().error_string().to_string(), issuer))
            })
            .map_err(ossl)?;
        match res {
            (true, _, Some(issuer)) => return Ok((ca, issuer)),
            (_, why, _) => {
                last = format!(
                    "the certificate does not chain to a trusted Fulcio CA at signing time: {why}"
                )
            }
        }
    }
    Err(invalid(last))
}

/// Checks that time `at` lies within the certificate's validity.
pub fn check_time_in_certificate(leaf: &X509Certificate<'_>, at: i64) -> Result<()> {
    let v = leaf.validity();
    if at < v.not_before.timestamp() || at > v.not_after.timestamp() {
        return Err(invalid(format!(
            "the transparency log recorded the signature at {at}, outside the certificate's validity ({} to {})",
            v.not_before, v.not_after
        )));
    }
    Ok(())
}

/// Checks that the certificate is a signing certificate: code-signing extended key usage,
/// not a CA.
pub fn check_code_signing(leaf: &X509Certificate<'_>) -> Result<()> {
    let eku = leaf
        .extended_key_usage()
        .map_err(|e| malformed(format!("extended key usage unreadable: {e}")))?;
    if !eku.is_some_and(|e| e.value.code_signing) {
        return Err(invalid(
            "the signing certificate is not valid for code signing",
        ));
    }
    crate::verify::certificate::check_not_ca(leaf)
}

/// The identities the certificate names (e-mail addresses and URIs of its SAN).
pub fn identities(leaf: &X509Certificate<'_>) -> Result<Vec<String>> {
    let san = leaf
        .subject_alternative_name()
        .map_err(|e| malformed(format!("subject alternative name unreadable: {e}")))?
        .ok_or_else(|| invalid("the signing certificate names no identity (no SAN)"))?;
    Ok(san
        .value
        .general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::RFC822Name(s) | GeneralName::URI(s) => Some(s.to_string()),
            _ => None,
        })
        .collect())
}

/// Checks that the certificate's SAN names exactly `expected`.
pub fn check_identity(leaf: &X509Certificate<'_>, expected: &str) -> Result<()> {
    let ids = identities(leaf)?;
    if !ids.iter().any(|i| i == expected) {
        return Err(invalid(format!(
            "the certificate identity is {}, not '{expected}'",
            if ids.is_empty() {
                "empty".to_string()
            } else {
                ids.join(", ")
            }
        )));
    }
    Ok(())
}

/// The OIDC issuer recorded by Fulcio (v2 extension preferred, v1 as fallback).
pub fn oidc_issuer(leaf: &X509Certificate<'_>) -> Result<Option<String>> {
    let find = |oid: &str| {
        leaf.extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == oid)
    };
    if let Some(e) = find(OIDC_ISSUER_V2) {
        let (t, _) = crate::sigstore::der::read(e.value)?;
        if t.tag != 0x0c {
            return Err(malformed("OIDC issuer extension is not a UTF8String"));
        }
        return String::from_utf8(t.content.to_vec())
            .map(Some)
            .map_err(|_| malformed("OIDC issuer is not UTF-8"));
    }
    if let Some(e) = find(OIDC_ISSUER_V1) {
        return String::from_utf8(e.value.to_vec())
            .map(Some)
            .map_err(|_| malformed("OIDC issuer is not UTF-8"));
    }
    Ok(None)
}

/// Checks that the OIDC issuer recorded in the certificate is `expected`.
pub fn check_issuer(leaf: &X509Certificate<'_>, expected: &str) -> Result<()> {
    match oidc_issuer(leaf)? {
        Some(i) if i == expected => Ok(()),
        Some(i) => Err(invalid(format!(
            "the identity was vouched for by the OIDC issuer '{i}', not '{expected}'"
        ))),
        None => Err(invalid("the certificate records no OIDC issuer")),
    }
}
