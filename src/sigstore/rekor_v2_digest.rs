//! Rekor v2 `hashedrekord/0.0.2` entries whose digest follows a signing key other than
//! P-256: SHA2_384 for P-384, SHA2_512 for P-521, as the Sigstore spec defines them (and
//! sigstore-python 4.5.1 checks them). sigstore-verify 0.15.1 refuses every such entry on
//! purpose ("v0.0.2 is currently defined only for SHA-256/P-256 entries"), and its entry
//! body type cannot even read a `keyDetails` other than `PKIX_ECDSA_P256_SHA_256`. (P-521
//! is mapped for completeness; sigstore-crypto 0.15.1 has no P-521 key algorithm, so the
//! crate's own steps cannot take such a signer.)
//!
//! Only a bundle whose entry is `hashedrekord/0.0.2` and whose digest algorithm, logged key
//! type or signing key is not the SHA2_256/P-256 kind the crate checks comes here
//! ([`is_one`]); every other bundle goes through sigstore-verify alone. For these, msign runs
//! sigstore-verify on the bundle without its tlog entry, with the tlog step skipped, and
//! checks the entry itself. Step by step of the crate's `Verifier::verify`:
//!
//! 0. Verified times: the crate's, from the RFC 3161 timestamps only. A Rekor v2 entry has
//!    no integrated time, so removing it loses none; a SET or `integratedTime` in it is not
//!    read, so none is gained. At least one timestamp is required (`verify_bundle`).
//! 1. to 3. Certificate chain at every time, SCT, identity and issuer: the crate's.
//! 4. Inclusion proof and signed checkpoint: `verify::rekor_v2_inclusion` (the
//!    checkpoint signed by the entry's log with its key valid at every timestamp; the body
//!    the leaf at the entry's index of the tree the checkpoint signs).
//! 5. Inclusion promise (SET): Rekor v2 has none; nothing is taken from one.
//! 6. Timely insertion against the certificate's validity: only for Rekor v1 integrated
//!    times; the certificate is checked at every timestamp in step 1.
//! 7. The DSSE signature over the PAE with the certificate's or managed key (SHA-384 for
//!    P-384), and the statement binding the artifact: the crate's.
//! 8. Consistency of the entry with the bundle ([`verify`]): the body is `hashedrekord`
//!    0.0.2; its digest algorithm and key type are the ones the signing key calls for; its
//!    digest is that hash of the envelope's PAE; its signature is the envelope's; its
//!    verifier is the bundle's certificate (or the managed key).

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use serde_json::Value;

use crate::bundle::Bundle;
use crate::error::Result;
use crate::sigstore::verify::{b64, entry_body, rekor_v2_inclusion, Policy, Signed, TAMPERED};
use crate::sigstore::{invalid, malformed};

/// The signing key of a bundle (its leaf certificate's, or the managed key of the policy)
/// and the leaf certificate's DER, when it has one.
pub type SigningKey = (PKey<Public>, Option<Vec<u8>>);

/// What a signing key calls for in a Rekor v2 entry (Sigstore's algorithm registry).
struct Prehash {
    curve: &'static str,
    digest: &'static str,
    key_details: &'static str,
    md: MessageDigest,
}

fn prehash(key: &PKey<Public>) -> Option<Prehash> {
    let (curve, digest, key_details, md) = match key.ec_key().ok()?.group().curve_name()? {
        Nid::X9_62_PRIME256V1 => (
            "P-256",
            "SHA2_256",
            "PKIX_ECDSA_P256_SHA_256",
            MessageDigest::sha256(),
        ),
        Nid::SECP384R1 => (
            "P-384",
            "SHA2_384",
            "PKIX_ECDSA_P384_SHA_384",
            MessageDigest::sha384(),
        ),
        Nid::SECP521R1 => (
            "P-521",
            "SHA2_512",
            "PKIX_ECDSA_P521_SHA_512",
            MessageDigest::sha512(),
        ),
        _ => return None,
    };
    Some(Prehash {
        curve,
        digest,
        key_details,
        md,
    })
}

/// The key that signed `bundle` under `policy`; `None` when the certificate cannot be read
/// (sigstore-verify then says why).
pub fn signing_key(bundle: &Bundle, policy: &Policy) -> Option<SigningKey> {
    if let Policy::Key(key) = policy {
        return Some((key.clone(), None));
    }
    let m = &bundle.verification_material;
    let leaf = m
        .certificate
        .as_ref()
        .or_else(|| m.x509_certificate_chain.as_ref()?.certificates.first())?
        .decode()
        .ok()?;
    let key = openssl::x509::X509::from_der(&leaf)
        .ok()?
        .public_key()
        .ok()?;
    Some((key, Some(leaf)))
}

/// Whether `entry` is a `hashedrekord/0.0.2` entry that sigstore-verify does not check:
/// its digest is not SHA2_256, its key type not P-256, or the signing key not P-256.
pub fn is_one(entry: &Value, signer: Option<&PKey<Public>>) -> bool {
    if entry["kindVersion"]["kind"] != "hashedrekord" || entry["kindVersion"]["version"] != "0.0.2"
    {
        return false;
    }
    let not_p256 = signer.is_some_and(|k| prehash(k).is_none_or(|p| p.digest != "SHA2_256"));
    // A body that cannot be read is the shim's too when the signer is not P-256, so that
    // [`verify`] says what is wrong with it rather than the crate's parser.
    let Ok((_, body)) = entry_body(entry) else {
        return not_p256;
    };
    let spec = &body["spec"]["hashedRekordV002"];
    spec["data"]["algorithm"] != "SHA2_256"
        || spec["signature"]["verifier"]["keyDetails"] != "PKIX_ECDSA_P256_SHA_256"
        || not_p256
}

/// Why a message signature whose Rekor v2 entry [`is_one`] is refused: the entry records a
/// digest of the artifact other than the SHA-256 msign holds, or one of another key than
/// P-256, which sigstore-verify does not check and msign cannot.
pub fn message_signature_refused(entry: &Value) -> crate::error::Error {
    let spec = entry_body(entry)
        .map(|(_, body)| body["spec"]["hashedRekordV002"].clone())
        .unwrap_or_default();
    let name = |v: &Value, none: &str| v.as_str().unwrap_or(none).to_string();
    invalid(format!(
        "the Rekor v2 entry of this message signature records a {} digest of the artifact by \
         a {} key, and msign checks such entries of message signatures only for SHA2_256 and \
         P-256 (it holds only the artifact's SHA-256); verify it with sigstore-python or \
         sigstore-go",
        name(&spec["data"]["algorithm"], "no algorithm's"),
        name(
            &spec["signature"]["verifier"]["keyDetails"],
            "no key type's"
        ),
    ))
}

/// Checks the entry of `bundle` (step 8, then step 4, of the module doc); `times` are the
/// RFC 3161 times sigstore-verify verified.
pub fn verify(
    trust: &crate::sigstore::TrustedRoot,
    bundle: &Bundle,
    signed: &Signed,
    signer: Option<&SigningKey>,
    times: &[i64],
) -> Result<()> {
    let entry = &bundle.verification_material.tlog_entries[0];
    let Signed::Dsse {
        payload_type,
        payload,
        sig,
    } = signed
    else {
        return Err(message_signature_refused(entry));
    };
    if times.is_empty() {
        return Err(invalid(
            "the Rekor v2 entry has no verified RFC 3161 timestamp",
        ));
    }
    let (body_bytes, body) = entry_body(entry)?;
    if body["kind"] != "hashedrekord" || body["apiVersion"] != "0.0.2" {
        return Err(invalid(format!(
            "the transparency-log entry's body is not the hashedrekord 0.0.2 entry its \
             kindVersion names; {TAMPERED}"
        )));
    }
    let spec = &body["spec"]["hashedRekordV002"];
    let (key, leaf) =
        signer.ok_or_else(|| malformed("the bundle's signing certificate cannot be read"))?;
    let want = prehash(key).ok_or_else(|| {
        invalid(
            "the bundle is signed with a key other than ECDSA P-256, P-384 or P-521, and msign \
             checks Rekor v2 entries of those keys only; verify it with sigstore-python or \
             sigstore-go",
        )
    })?;
    let algorithm = spec["data"]["algorithm"].as_str();
    if algorithm != Some(want.digest) {
        let recorded = algorithm.map_or("no digest algorithm".into(), |a| format!("a {a} digest"));
        return Err(invalid(format!(
            "the transparency-log entry records {recorded}, but the signing key ({}) calls \
             for {} (in a Rekor v2 entry the digest follows the key); {TAMPERED}",
            want.curve, want.digest
        )));
    }
    let key_details = spec["signature"]["verifier"]["keyDetails"].as_str();
    if key_details != Some(want.key_details) {
        let named = key_details.map_or("no key type".into(), |k| format!("the key type {k}"));
        return Err(invalid(format!(
            "the transparency-log entry names {named}, but the signing key is {} ({}); \
             {TAMPERED}",
            want.curve, want.key_details
        )));
    }
    let pae = crate::bundle::pae(payload_type, payload);
    let digest = openssl::hash::hash(want.md, &pae)
        .map_err(|e| crate::error::Error::Other(format!("hashing the PAE: {e}")))?;
    if b64(&spec["data"]["digest"], "digest")? != *digest {
        return Err(invalid(format!(
            "the transparency-log entry records another artifact than the bundle's envelope \
             (its digest is not the {} of the envelope's PAE); {TAMPERED}",
            want.digest
        )));
    }
    if b64(&spec["signature"]["content"], "signature")? != *sig {
        return Err(invalid(format!(
            "the transparency-log entry records another signature than the bundle's \
             envelope; {TAMPERED}"
        )));
    }
    let verifier = &spec["signature"]["verifier"];
    match leaf {
        Some(leaf) => {
            if b64(
                &verifier["x509Certificate"]["rawBytes"],
                "verifier certificate",
            )? != *leaf
            {
                return Err(invalid(format!(
                    "the transparency-log entry records another signing certificate than the \
                     bundle's; {TAMPERED}"
                )));
            }
        }
        None => {
            let der = key
                .public_key_to_der()
                .map_err(|e| crate::error::Error::Other(format!("public key: {e}")))?;
            if b64(&verifier["publicKey"]["rawBytes"], "verifier key")? != der {
                return Err(invalid(
                    "the transparency-log entry records another key than the managed key; check \
                     the key given: it must be the one that signed",
                ));
            }
        }
    }
    rekor_v2_inclusion(trust, entry, &body_bytes, times)
}
