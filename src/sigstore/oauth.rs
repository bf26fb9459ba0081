//! The interactive OAuth 2.0 flow that gets an identity token from a person: authorization
//! code with PKCE (RFC 7636), redirected to a loopback listener (RFC 8252), or out of band
//! (the user pastes the code), as the Sigstore clients do.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::net::{self, Purpose};
use crate::sigstore::oidc::IdentityToken;

const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";
/// How long to wait for the browser to come back.
const WAIT: Duration = Duration::from_secs(300);

fn random_token() -> Result<String> {
    let mut b = [0u8; 32];
    openssl::rand::rand_bytes(&mut b).map_err(|e| Error::Other(format!("randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

fn other(msg: impl Into<String>) -> Error {
    Error::Other(format!("OAuth: {}", msg.into()))
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn dec(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 1) && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| dec(v))
    })
}

/// The most an OAuth or OIDC answer may weigh.
const MAX_ANSWER: u64 = 1 << 20;

/// Sends `req` and reads its JSON answer; any status but 2xx is a failure naming `what`.
pub(crate) fn json_answer(req: reqwest::blocking::RequestBuilder, what: &str) -> Result<Value> {
    let ctx = net::Context {
        what,
        hint: "",
        purpose: Purpose::Other,
    };
    let resp = net::send(req, &ctx)?;
    let status = resp.status();
    let body = net::read_limited(resp, MAX_ANSWER, what, Purpose::Other)?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        return Err(Error::Other(format!(
            "{what}: HTTP {status}: {}",
            text.trim()
        )));
    }
    serde_json::from_slice(&body)
        .map_err(|e| Error::Other(format!("{what}: the answer is not JSON: {e}")))
}

/// Runs the flow against `issuer` and returns the identity token.
pub fn interactive(
    issuer: Option<&str>,
    client_id: &str,
    client_secret: &str,
    force_oob: bool,
) -> Result<IdentityToken> {
    let issuer = issuer.ok_or_else(|| {
        Error::Usage("no identity token: give --identity-token, set SIGSTORE_ID_TOKEN, or use a signing config with an OIDC issuer".into())
    })?;
    let what = format!("OAuth discovery at {issuer}");
    let req = net::client(true)?.get(format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ));
    let disc: Value = json_answer(req, &what)?;
    let auth_ep = disc["authorization_endpoint"]
        .as_str()
        .ok_or_else(|| other("no authorization_endpoint"))?;
    let token_ep = disc["token_endpoint"]
        .as_str()
        .ok_or_else(|| other("no token_endpoint"))?;

    let verifier = random_token()?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_token()?;
    let nonce = random_token()?;
    let listener = if force_oob {
        None
    } else {
        Some(
            TcpListener::bind("127.0.0.1:0")
                .map_err(|e| other(format!("cannot listen on loopback: {e}")))?,
        )
    };
    let redirect = match &listener {
        Some(l) => format!(
            "http://localhost:{}/auth/callback",
            l.local_addr().map_err(|e| other(e.to_string()))?.port()
        ),
        None => OOB_REDIRECT.to_string(),
    };
    let url = format!(
        "{auth_ep}?response_type=code&client_id={}&scope=openid%20email&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&state={state}&nonce={nonce}",
        enc(client_id),
        enc(&redirect)
    );
    eprintln!("Open this URL in a browser to sign in:\n\n  {url}\n");
    let code = match listener {
        Some(l) => wait_for_code(&l, &state)?,
        None => {
            eprint!("Enter the verification code: ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| other(format!("reading the code: {e}")))?;
            line.trim().to_string()
        }
    };
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("redirect_uri", &redirect),
            ("code", &code),
            ("code_verifier", &verifier),
            ("client_id", client_id),
        ])
        .finish();
    let mut req = net::client(true)?
        .post(token_ep)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form);
    if !client_secret.is_empty() {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{client_id}:{client_secret}"));
        req = req.header("Authorization", format!("Basic {basic}"));
    }
    let resp: Value = json_answer(req, &format!("OAuth token request to {token_ep}"))?;
    let t = resp["id_token"]
        .as_str()
        .ok_or_else(|| other("the token answer has no id_token"))?;
    IdentityToken::parse(t)
}

/// Accepts loopback connections until one carries the code for `state` (bounded in time).
fn wait_for_code(l: &TcpListener, state: &str) -> Result<String> {
    l.set_nonblocking(true).map_err(|e| other(e.to_string()))?;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let (mut s, _) = match l.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(other(format!("loopback listener: {e}"))),
        };
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let mut line = String::new();
        let _ = BufReader::new((&s).take(8192)).read_line(&mut line);
        let target = line.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let ok = target.starts_with("/auth/callback")
            && query_param(query, "state").as_deref() == Some(state);
        let code = query_param(query, "code").filter(|_| ok);
        let body = if code.is_some() {
            "Authenticated. You can close this page and return to msign."
        } else {
            "This is not the answer msign is waiting for."
        };
        let _ = write!(
            s,
            "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            if code.is_some() { "200 OK" } else { "400 Bad Request" },
            body.len()
        );
        if let Some(c) = code {
            return Ok(c);
        }
    }
    Err(other("no answer from the browser within 5 minutes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        assert_eq!(
            query_param("a=1&code=x%2Fy+z&state=s", "code").as_deref(),
            Some("x/y z")
        );
        assert_eq!(query_param("a=1", "code"), None);
        assert_eq!(dec("%zz%4"), "%zz%4");
        assert_eq!(enc("http://a b"), "http%3A%2F%2Fa%20b");
    }
}
