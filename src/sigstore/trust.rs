//! The trusted root: which CAs, transparency logs, CT logs and timestamp authorities to
//! trust, and when (Sigstore's `trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`). Parsed and checked by
//! sigstore-trust-root; msign adds the ClientTrustConfig wrapper and the embedded roots.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use sigstore_verify::trust_root::TrustedRoot as Root;
use sigstore_verify::Verifier;

use crate::error::{Error, Result};

const PUBLIC_GOOD: &str = include_str!("trusted_root.json");
const STAGING: &str = include_str!("trusted_root_staging.json");

/// A parsed trusted root, with the verifier built from it (keys and anchors decoded once).
#[derive(Clone)]
pub struct TrustedRoot {
    root: Root,
    verifier: Arc<Verifier>,
}

impl std::fmt::Debug for TrustedRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedRoot")
            .field("tlogs", &self.root.tlogs.len())
            .field("ctlogs", &self.root.ctlogs.len())
            .field(
                "certificate_authorities",
                &self.root.certificate_authorities.len(),
            )
            .field(
                "timestamp_authorities",
                &self.root.timestamp_authorities.len(),
            )
            .finish()
    }
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::KeyMaterial {
        what: "trusted root".into(),
        reason: why.to_string(),
    }
}

impl TrustedRoot {
    /// Sigstore's public-good instance, as shipped in this binary.
    pub fn public_good() -> Result<Self> {
        Self::from_json(PUBLIC_GOOD.as_bytes())
    }

    /// Sigstore's staging instance, as shipped in this binary.
    pub fn staging() -> Result<Self> {
        Self::from_json(STAGING.as_bytes())
    }

    /// Parses a `trusted_root.json`, or a ClientTrustConfig holding one (`trustedRoot`).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        crate::sigstore::provider::install();
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
        let v = match v.get("trustedRoot") {
            Some(inner) => inner.clone(),
            None => v,
        };
        if let Some(mt) = v.get("mediaType") {
            let mt = mt.as_str().unwrap_or_default();
            if !mt.starts_with("application/vnd.dev.sigstore.trustedroot") {
                return Err(bad(format!("unexpected mediaType '{mt}'")));
            }
        }
        let root: Root = serde_json::from_value(v).map_err(bad)?;
        let verifier = Verifier::new(&root).map_err(bad)?;
        Ok(TrustedRoot {
            root,
            verifier: Arc::new(verifier),
        })
    }

    /// Reads a `trusted_root.json` or ClientTrustConfig file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&bytes).map_err(|e| match e {
            Error::KeyMaterial { what, reason } => Error::KeyMaterial {
                what: format!("{}: {what}", path.display()),
                reason,
            },
            e => e,
        })
    }

    /// The root as sigstore-trust-root parsed it.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The sigstore-verify verifier for this root.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_parse() {
        let r = TrustedRoot::public_good().unwrap();
        assert!(r.root().tlogs.len() >= 2 && r.root().ctlogs.len() >= 2);
        assert!(r.root().certificate_authorities.len() >= 2);
        TrustedRoot::staging().unwrap();
    }

    #[test]
    fn a_trust_config_holds_a_root_and_a_wrong_media_type_is_refused() {
        let cfg = format!(r#"{{"trustedRoot": {PUBLIC_GOOD}}}"#);
        TrustedRoot::from_json(cfg.as_bytes()).unwrap();
        let other = PUBLIC_GOOD.replacen(
            "application/vnd.dev.sigstore.trustedroot",
            "application/x-other",
            1,
        );
        assert!(TrustedRoot::from_json(other.as_bytes()).is_err());
        assert!(TrustedRoot::from_json(b"{").is_err());
    }
}
