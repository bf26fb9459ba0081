//! The HTTP agent of msign's own Sigstore calls (TUF, OIDC). Fulcio, Rekor and the
//! timestamp authorities are reached by sigstore-sign.

use std::time::Duration;

/// The HTTP agent: bounded timeouts, TLS with the platform's web PKI roots.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("msign/", env!("CARGO_PKG_VERSION")))
        .build()
}
