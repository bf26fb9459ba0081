//! Verifying Sigstore model signatures (`verify sigstore`): the bundle checks of
//! [`crate::sigstore`], then the statement goes on to the manifest check.

use crate::bundle::Bundle;
use crate::error::Result;
use crate::sigstore::verify::{dsse_content, verify_bundle, Policy};
use crate::sigstore::TrustedRoot;
use crate::verify::{check_envelope, check_method, BundleVerifier, VerifiedStatement};

/// Verifies model signatures made with Sigstore against a trusted root and a policy.
pub struct SigstoreVerifier {
    trust: TrustedRoot,
    policy: Policy,
}

impl SigstoreVerifier {
    /// Trusts `trust` and accepts only signatures by `identity` vouched for by `issuer`.
    pub fn new(trust: TrustedRoot, identity: &str, issuer: &str) -> Self {
        SigstoreVerifier {
            trust,
            policy: Policy::Identity {
                identity: identity.into(),
                issuer: issuer.into(),
            },
        }
    }
}

impl BundleVerifier for SigstoreVerifier {
    fn verify(&self, bundle: &Bundle) -> Result<VerifiedStatement> {
        let (payload, _) = check_envelope(bundle)?;
        check_method(bundle, "sigstore")?;
        let v = verify_bundle(&self.trust, bundle, &dsse_content(bundle)?, &self.policy)?;
        Ok(VerifiedStatement {
            payload,
            signer: v.signer,
            warnings: Vec::new(),
        })
    }

    fn method(&self) -> &'static str {
        "sigstore"
    }
}
