//! OIDC identity tokens for Fulcio: given, from the CI environment, and the claim whose
//! value proves possession of the signing key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::error::{Error, Result};

/// Issuers whose tokens Fulcio binds by e-mail rather than `sub` (as the Sigstore clients).
const EMAIL_ISSUERS: [&str; 3] = [
    "https://accounts.google.com",
    "https://oauth2.sigstore.dev/auth",
    "https://oauth2.sigstage.dev/auth",
];

/// An identity token (a JWT whose signature Fulcio checks; msign reads its claims only).
#[derive(Debug, Clone)]
pub struct IdentityToken {
    /// The token as sent to Fulcio.
    pub raw: String,
    /// `iss`.
    pub issuer: String,
    /// The claim Fulcio expects signed as proof of possession (`email` or `sub`).
    pub proof_claim: String,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Usage(format!("identity token: {}", msg.into()))
}

impl IdentityToken {
    /// Reads the claims of a JWT (compact serialization).
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let mut parts = raw.split('.');
        let (_, claims, _) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(c), Some(s), None) => (h, c, s),
            _ => return Err(bad("not a JWT (three dot-separated parts expected)")),
        };
        let claims: Value = URL_SAFE_NO_PAD
            .decode(claims.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("claims are not base64url JSON"))?;
        let issuer = claims["iss"]
            .as_str()
            .ok_or_else(|| bad("no 'iss' claim"))?
            .to_string();
        if let Some(exp) = claims["exp"].as_i64() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            if exp < now {
                return Err(bad("the token has expired; get a fresh one"));
            }
        }
        let claim = if EMAIL_ISSUERS.contains(&issuer.as_str()) {
            "email"
        } else {
            "sub"
        };
        let proof_claim = claims[claim]
            .as_str()
            .ok_or_else(|| bad(format!("no '{claim}' claim")))?
            .to_string();
        Ok(IdentityToken {
            raw: raw.to_string(),
            issuer,
            proof_claim,
        })
    }

    /// A token from the environment: `SIGSTORE_ID_TOKEN`, or GitHub Actions' OIDC endpoint
    /// (`ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`, audience `sigstore`). `None` when
    /// neither is present.
    pub fn ambient() -> Result<Option<Self>> {
        if let Ok(t) = std::env::var("SIGSTORE_ID_TOKEN") {
            if !t.trim().is_empty() {
                return Self::parse(&t).map(Some);
            }
        }
        let (Ok(url), Ok(bearer)) = (
            std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) else {
            return Ok(None);
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let req = crate::net::client(true)?
            .get(format!("{url}{sep}audience=sigstore"))
            .header("Authorization", format!("bearer {bearer}"));
        let v: Value =
            crate::sigstore::oauth::json_answer(req, "GitHub Actions OIDC token request")?;
        let t = v["value"]
            .as_str()
            .ok_or_else(|| Error::Other("GitHub Actions OIDC answer has no 'value'".into()))?;
        Self::parse(t).map(Some)
    }
}
