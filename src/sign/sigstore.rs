//! Keyless signing with Sigstore through sigstore-sign: an ephemeral P-256 key, a Fulcio
//! certificate binding it to an OIDC identity, a DSSE signature over the statement, a
//! Rekor entry (v1: `dsse`; v2: `hashedrekord/0.0.2` over the PAE's SHA-256) and an RFC
//! 3161 timestamp when the signing config names a timestamp authority, all in a v0.3
//! bundle. The bundle is verified against the trusted root before it is returned, so a
//! misbehaving instance cannot make msign write a signature nobody can verify.

use sigstore_sign::oidc::IdentityToken as Token;
use sigstore_sign::rekor::RekorApiVersion;
use sigstore_sign::{SigningContext, SigningServices};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::sign::Signer;
use crate::sigstore::oidc::IdentityToken;
use crate::sigstore::signing_config::Endpoints;
use crate::sigstore::verify::{dsse_content, verify_bundle, Policy};
use crate::sigstore::TrustedRoot;

/// Signs with a fresh key certified by Fulcio for `token`'s identity.
pub struct SigstoreSigner {
    token: IdentityToken,
    endpoints: Endpoints,
    trust: TrustedRoot,
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

    fn services(&self) -> Result<SigningServices> {
        let e = &self.endpoints;
        let version = match e.rekor_api {
            1 => RekorApiVersion::V1,
            2 => RekorApiVersion::V2,
            n => {
                return Err(Error::Other(format!(
                    "the signing config selects Rekor API version {n}; msign signs with v1 or v2"
                )))
            }
        };
        let mut s = SigningServices::new(&e.fulcio, &e.rekor).with_rekor(&e.rekor, version);
        // One timestamp is what the spec asks for (a signing config's TSA selector is ANY
        // unless it says otherwise); the first valid authority gives it.
        if let Some(tsa) = e.tsa.first() {
            s = s.with_tsa_url(tsa);
        } else if matches!(version, RekorApiVersion::V2) {
            // Rekor v2 gives no signing time of its own: only a TSA's timestamp dates it.
            return Err(Error::Other(
                "the signing config selects a Rekor v2 log but names no timestamp authority".into(),
            ));
        }
        Ok(s)
    }
}

impl Signer for SigstoreSigner {
    fn sign(&self, payload: &[u8]) -> Result<Bundle> {
        crate::sigstore::provider::install();
        let services = self.services()?;
        let token = Token::from_jwt(&self.token.raw)
            .map_err(|e| Error::Usage(format!("the identity token is not usable: {e}")))?;
        let signer = SigningContext::new(services)
            .with_http_client(crate::net::async_client()?)
            .signer(token);
        let signed = crate::sigstore::block_on(signer.sign_raw_statement(payload))?
            .map_err(|e| explain(&e, &self.endpoints))?;
        let json = signed
            .to_json()
            .map_err(|e| Error::Other(format!("Sigstore signing gave no bundle: {e}")))?;
        let bundle = Bundle::from_json(json.as_bytes())?;

        let leaf = signed
            .signing_certificate()
            .ok_or_else(|| Error::Other("Fulcio returned no certificate".into()))?;
        let info = sigstore_sign::crypto::parse_certificate_info(leaf)
            .map_err(|e| Error::Other(format!("Fulcio certificate: {e}")))?;
        let identity = info
            .identity
            .as_ref()
            .map(|i| i.as_str().to_string())
            .ok_or_else(|| Error::Other("Fulcio certificate names no identity".into()))?;
        let issuer = info
            .issuer
            .clone()
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

/// sigstore-sign's error in msign's words: which service failed (and at which URL), and what
/// to do; the crate's own text follows, for the detail.
fn explain(e: &sigstore_sign::Error, at: &Endpoints) -> Error {
    use sigstore_sign::{fulcio::Error as F, rekor::Error as R, tsa::Error as T, Error as E};
    let tsa = at.tsa.first().map_or("(none)", String::as_str);
    let what = match e {
        E::Fulcio(F::Http(_)) => format!(
            "Fulcio at {} cannot be reached; check the network, or the Fulcio URL of the \
             signing config",
            at.fulcio
        ),
        E::Fulcio(F::Status {
            status: 401 | 403, ..
        }) => format!(
            "Fulcio at {} refused the identity token; get a fresh token (it may have expired, \
             or be meant for another audience than `sigstore`)",
            at.fulcio
        ),
        E::Fulcio(F::Status { .. }) => format!(
            "Fulcio at {} refused the certificate request; check that the identity token \
             comes from an issuer this Fulcio trusts",
            at.fulcio
        ),
        E::Fulcio(_) => format!(
            "Fulcio at {} answered with no usable certificate; check the Fulcio URL of the \
             signing config",
            at.fulcio
        ),
        E::Rekor(R::Http(_)) => format!(
            "the Rekor log at {} cannot be reached; check the network, or the Rekor URL of \
             the signing config",
            at.rekor
        ),
        E::Rekor(R::Status { .. }) => format!(
            "the Rekor log at {} refused the entry; check that the signing config names its \
             API version ({})",
            at.rekor, at.rekor_api
        ),
        E::Rekor(_) => format!(
            "the Rekor log at {} answered with an entry that does not check out; do not use \
             this log, or ask its operator",
            at.rekor
        ),
        E::Tsa(T::Http(_)) => format!(
            "the timestamp authority at {tsa} cannot be reached; check the network, or the \
             TSA URL of the signing config"
        ),
        E::Tsa(_) => format!(
            "the timestamp authority at {tsa} gave no usable timestamp; check the TSA URL of \
             the signing config"
        ),
        E::Oidc(_) => "the identity token is not usable; get a fresh one".to_string(),
        E::Config(_) => "the signing config cannot be used for signing; check the file given \
                         with --trust-config"
            .to_string(),
        _ => "Sigstore signing failed".to_string(),
    };
    if matches!(
        e,
        E::Fulcio(F::Http(_)) | E::Rekor(R::Http(_)) | E::Tsa(T::Http(_))
    ) {
        // sigstore-sign keeps only the text of its HTTP errors, so the advice is general.
        let advice = crate::net::unreachable_advice();
        return Error::Network(format!("{what}; {advice} (sigstore-sign: {e})"));
    }
    Error::Other(format!("{what} (sigstore-sign: {e})"))
}
