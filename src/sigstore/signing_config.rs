//! Where to sign: the SigningConfig (media type
//! `application/vnd.dev.sigstore.signingconfig.v0.2+json`) of a ClientTrustConfig, or the
//! embedded public-good / staging one.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::sigstore::time::parse_rfc3339;

const PUBLIC_GOOD: &str = include_str!("signing_config.json");
const STAGING: &str = include_str!("signing_config_staging.json");

/// The services a signer talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Fulcio base URL.
    pub fulcio: String,
    /// Rekor base URL.
    pub rekor: String,
    /// The Rekor API major version at `rekor`: 1, or 2 when the config names no v1 log.
    pub rekor_api: i64,
    /// OIDC issuer for the interactive flow.
    pub oidc: Option<String>,
    /// RFC 3161 timestamp authorities to ask for a timestamp over the signature.
    pub tsa: Vec<String>,
}

fn bad(why: impl Into<String>) -> Error {
    Error::KeyMaterial {
        what: "signing config".into(),
        reason: why.into(),
    }
}

/// The first service of `list` with API major version `major`, valid now.
fn pick(cfg: &Value, list: &str, major: i64, now: i64) -> Option<String> {
    cfg[list].as_array()?.iter().find_map(|s| {
        let start = s["validFor"]["start"].as_str().and_then(parse_rfc3339)?;
        let end = s["validFor"]["end"].as_str().and_then(parse_rfc3339);
        let valid = start <= now && end.is_none_or(|e| now <= e);
        (valid && s["majorApiVersion"].as_i64() == Some(major)).then(|| {
            s["url"]
                .as_str()
                .map(|u| u.trim_end_matches('/').to_string())
        })?
    })
}

impl Endpoints {
    /// From a SigningConfig JSON, or a ClientTrustConfig holding one (`signingConfig`).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let cfg = v.get("signingConfig").unwrap_or(&v);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        // A v1 log when there is one (what msign always did); else a Rekor v2 log.
        let (rekor, rekor_api) = pick(cfg, "rekorTlogUrls", 1, now)
            .map(|u| (u, 1))
            .or_else(|| pick(cfg, "rekorTlogUrls", 2, now).map(|u| (u, 2)))
            .ok_or_else(|| bad("no valid Rekor log (rekorTlogUrls, majorApiVersion 1 or 2)"))?;
        Ok(Endpoints {
            fulcio: pick(cfg, "caUrls", 1, now)
                .ok_or_else(|| bad("no valid Fulcio (caUrls, API v1)"))?,
            rekor,
            rekor_api,
            oidc: pick(cfg, "oidcUrls", 1, now),
            tsa: pick(cfg, "tsaUrls", 1, now).into_iter().collect(),
        })
    }

    /// From a ClientTrustConfig file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&bytes)
    }

    /// The public-good instance.
    pub fn public_good() -> Result<Self> {
        Self::from_json(PUBLIC_GOOD.as_bytes())
    }

    /// The staging instance.
    pub fn staging() -> Result<Self> {
        Self::from_json(STAGING.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(logs: &[(&str, i64)]) -> Vec<u8> {
        let svc = |url: &str, v: i64| {
            serde_json::json!({"url": url, "majorApiVersion": v,
                               "validFor": {"start": "2020-01-01T00:00:00Z"}})
        };
        serde_json::json!({
            "caUrls": [svc("https://ca", 1)],
            "rekorTlogUrls": logs.iter().map(|(u, v)| svc(u, *v)).collect::<Vec<_>>(),
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn rekor_v1_first_else_v2() {
        let e = Endpoints::from_json(&config(&[("https://v2", 2), ("https://v1", 1)])).unwrap();
        assert_eq!((e.rekor.as_str(), e.rekor_api), ("https://v1", 1));
        let e = Endpoints::from_json(&config(&[("https://v2", 2)])).unwrap();
        assert_eq!((e.rekor.as_str(), e.rekor_api), ("https://v2", 2));
        assert!(Endpoints::from_json(&config(&[("https://v3", 3)])).is_err());
    }
}
