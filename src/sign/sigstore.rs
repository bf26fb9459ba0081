//! Keyless signing with Sigstore: an ephemeral P-256 key, a Fulcio certificate binding it to
//! an OIDC identity, a DSSE signature, RFC 3161 timestamps over it when the signing config
//! names timestamp authorities (as sigstore-python does), a Rekor `dsse` entry, all in a v0.3
//! bundle. The bundle is verified against the trusted root before it is returned, so a
//! misbehaving instance cannot make msign write a signature nobody can verify.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bundle::{pae, Bundle, RawBytes, VerificationMaterial, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::sign::Signer;
use crate::sigstore::oidc::IdentityToken;
use crate::sigstore::signing_config::Endpoints;
use crate::sigstore::verify::{dsse_content, verify_bundle, Policy};
use crate::sigstore::{client, client_v2, fulcio, TrustedRoot};

/// Signs with a fresh key certified by Fulcio for `token`'s identity.
pub struct SigstoreSigner {
    token: IdentityToken,
    endpoints: Endpoints,
    trust: TrustedRoot,
}

fn ossl(e: openssl::error::ErrorStack) -> Error {
    Error::Other(format!("signing failed: {e}"))
}

impl SigstoreSigner {
    /// A signer for this identity, these services and this trusted root.
    pub fn new(token: IdentityToken, endpoints: Endpoints, trust: TrustedRoot) -> Self {
        SigstoreSigner {
            token,
            endpoints,
            trust,
        }
    }

    fn sign_with(&self, key: &PKey<Private>, msg: &[u8]) -> Result<Vec<u8>> {
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), key).map_err(ossl)?;
        s.update(msg).map_err(ossl)?;
        s.sign_to_vec().map_err(ossl)
    }
}

impl Signer for SigstoreSigner {
    fn sign(&self, payload: &[u8]) -> Result<Bundle> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(ossl)?;
        let key = PKey::from_ec_key(EcKey::generate(&group).map_err(ossl)?).map_err(ossl)?;
        let pub_pem = String::from_utf8(key.public_key_to_pem().map_err(ossl)?)
            .map_err(|_| Error::Other("public key PEM is not UTF-8".into()))?;
        let proof = self.sign_with(&key, self.token.proof_claim.as_bytes())?;
        let leaf =
            client::fulcio_signing_cert(&self.endpoints.fulcio, &self.token.raw, &pub_pem, &proof)?;
        let cert = X509::from_der(&leaf).map_err(ossl)?;
        let cert_key = cert.public_key().map_err(ossl)?;
        if !cert_key.public_eq(&key) {
            return Err(Error::Other(
                "Fulcio certified another key than the one msign sent".into(),
            ));
        }

        let sig = self.sign_with(&key, &pae(PAYLOAD_TYPE, payload))?;
        let mut bundle = Bundle::new_dsse(
            payload,
            &sig,
            VerificationMaterial {
                certificate: Some(RawBytes::new(&leaf)),
                ..Default::default()
            },
        );
        if let Some(env) = bundle.dsse_envelope.as_mut() {
            env.signatures[0].keyid = None;
        }
        if !self.endpoints.tsa.is_empty() {
            let stamps = self
                .endpoints
                .tsa
                .iter()
                .map(|u| {
                    client::tsa_timestamp(u, &sig)
                        .map(|d| serde_json::json!({"signedTimestamp": B64.encode(d)}))
                })
                .collect::<Result<Vec<_>>>()?;
            bundle.verification_material.timestamp_verification_data =
                Some(serde_json::json!({ "rfc3161Timestamps": stamps }));
        }
        let entry = if self.endpoints.rekor_api == 2 {
            // Rekor v2 gives no signing time of its own: only the TSA's timestamps date it.
            if self.endpoints.tsa.is_empty() {
                return Err(Error::Other(
                    "the signing config selects a Rekor v2 log but names no timestamp authority"
                        .into(),
                ));
            }
            let envelope = serde_json::to_value(&bundle.dsse_envelope)
                .map_err(|e| Error::Other(format!("envelope: {e}")))?;
            client_v2::rekor_v2_dsse_entry(
                &self.endpoints.rekor,
                &envelope,
                &leaf,
                "PKIX_ECDSA_P256_SHA_256",
            )?
        } else {
            let envelope_json = serde_json::to_string(&bundle.dsse_envelope)
                .map_err(|e| Error::Other(format!("envelope: {e}")))?;
            client::rekor_dsse_entry(
                &self.endpoints.rekor,
                &envelope_json,
                &cert.to_pem().map_err(ossl)?,
            )?
        };
        bundle.verification_material.tlog_entries = vec![entry];

        let (_, parsed) = X509Certificate::from_der(&leaf)
            .map_err(|e| Error::Other(format!("Fulcio certificate: {e}")))?;
        let identity = fulcio::identities(&parsed)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Other("Fulcio certificate names no identity".into()))?;
        let issuer = fulcio::oidc_issuer(&parsed)?
            .ok_or_else(|| Error::Other("Fulcio certificate records no OIDC issuer".into()))?;
        let policy = Policy::Identity { identity, issuer };
        verify_bundle(&self.trust, &bundle, &dsse_content(&bundle)?, &policy).map_err(|e| {
            Error::Other(format!("the Sigstore instance returned material that does not verify against the trusted root: {e}"))
        })?;
        Ok(bundle)
    }

    fn method(&self) -> &'static str {
        "sigstore"
    }
}
