//! msign's one HTTP client: the Hub, OCI registries, OIDC and TUF all go through here.
//!
//! The client (reqwest, blocking, TLS through OpenSSL) is built once per process, with
//! msign's user agent and the proxies of the environment (`HTTPS_PROXY`, `NO_PROXY`, ...).
//! Every request gets a connect and a read timeout, and is retried a bounded number of
//! times with exponential backoff and jitter when that cannot do harm: connect errors
//! (nothing was sent), and, for idempotent methods only, timeouts, broken connections,
//! 429 and 5xx answers. A POST whose request may have reached the server is retried only
//! on 429, which says it was not processed. `Retry-After` is honoured.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{Method, StatusCode};

use crate::error::{Error, Result};

pub use reqwest::blocking::Response as HttpResponse;

/// Default connect timeout.
const CONNECT: Duration = Duration::from_secs(10);
/// Default read timeout of requests that are not Hub requests (OCI, OIDC, TUF).
const READ: Duration = Duration::from_secs(60);
/// Default of `HF_HUB_ETAG_TIMEOUT` and `HF_HUB_DOWNLOAD_TIMEOUT`, as in huggingface_hub.
const HF_DEFAULT: Duration = Duration::from_secs(10);
/// Retries after the first attempt.
const RETRIES: u32 = 3;
/// First backoff; doubled at each retry, with jitter.
const BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait msign accepts from a `Retry-After`; a longer one ends the command.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What a request is for; it chooses the read timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Hub metadata (revisions, listings, resolve headers, commits): `HF_HUB_ETAG_TIMEOUT`.
    HubMetadata,
    /// Hub file content: `HF_HUB_DOWNLOAD_TIMEOUT`.
    HubDownload,
    /// Anything else: registries, OIDC, TUF.
    Other,
}

/// `--timeout`, when given: connect and read timeout of every request.
static TIMEOUT: OnceLock<Duration> = OnceLock::new();
static CLIENT: OnceLock<std::result::Result<Client, String>> = OnceLock::new();
static FOLLOWING: OnceLock<std::result::Result<Client, String>> = OnceLock::new();

/// Sets the timeout of `--timeout` for the rest of the process (first call wins).
pub fn set_timeout(t: Duration) {
    let _ = TIMEOUT.set(t);
}

/// Reads a timeout in seconds from the environment, as huggingface_hub does.
fn env_seconds(name: &str) -> Option<Duration> {
    let v = std::env::var(name).ok()?;
    let s: f64 = v.trim().parse().ok()?;
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s.min(86_400.0)))
}

/// The read timeout of a request for `purpose`: `--timeout`, else the Hub's variables,
/// else the default.
pub fn read_timeout(purpose: Purpose) -> Duration {
    if let Some(t) = TIMEOUT.get() {
        return *t;
    }
    match purpose {
        Purpose::HubMetadata => env_seconds("HF_HUB_ETAG_TIMEOUT").unwrap_or(HF_DEFAULT),
        Purpose::HubDownload => env_seconds("HF_HUB_DOWNLOAD_TIMEOUT").unwrap_or(HF_DEFAULT),
        Purpose::Other => READ,
    }
}

fn connect_timeout() -> Duration {
    TIMEOUT.get().copied().unwrap_or(CONNECT)
}

fn build(follow: bool) -> std::result::Result<Client, String> {
    let redirects = if follow {
        reqwest::redirect::Policy::limited(5)
    } else {
        reqwest::redirect::Policy::none()
    };
    Client::builder()
        .user_agent(concat!("msign/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout())
        .timeout(READ)
        .redirect(redirects)
        // Bytes are hashed as served: never let the client decode them.
        .no_gzip()
        .no_deflate()
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// The client. With `follow_redirects`, it follows up to 5 redirects (dropping
/// credentials when one leaves the origin); without, 3xx answers come back to the caller.
pub fn client(follow_redirects: bool) -> Result<&'static Client> {
    let slot = if follow_redirects {
        &FOLLOWING
    } else {
        &CLIENT
    };
    slot.get_or_init(|| build(follow_redirects))
        .as_ref()
        .map_err(|e| Error::Other(e.clone()))
}

/// An async client with the same user agent, proxies and timeouts, for the crates that
/// speak to Fulcio, Rekor and the timestamp authorities (sigstore-sign). They run their
/// own requests, so these are not retried here.
pub fn async_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("msign/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout())
        .read_timeout(read_timeout(Purpose::Other))
        .timeout(read_timeout(Purpose::Other))
        .no_gzip()
        .no_deflate()
        .build()
        .map_err(|e| Error::Other(format!("cannot set up the HTTP client: {e}")))
}

/// What to say when a client that keeps only the text of its errors could not complete
/// a request: the timeouts that applied and what to do.
pub fn unreachable_advice() -> String {
    format!(
        "the server did not connect within {} or did not answer within {}: check the network, or allow more time with --timeout SECONDS",
        seconds(connect_timeout()),
        seconds(read_timeout(Purpose::Other))
    )
}

/// How to describe a request that failed for good.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// What was being fetched, e.g. "listing org/model@main".
    pub what: &'a str,
    /// What to do besides raising `--timeout` and checking the network.
    pub hint: &'a str,
    /// Which timeout applies.
    pub purpose: Purpose,
}

fn idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

fn retryable_status(s: StatusCode, idempotent: bool) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS
        || (idempotent
            && matches!(
                s.as_u16(),
                500 | 502 | 503 | 504 // not 501 (never) nor 505
            ))
}

/// The wait a `Retry-After` header asks for (seconds or an HTTP date).
fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp.headers().get("Retry-After")?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let now = jiff::Timestamp::now();
    let secs = (when.as_second() - now.as_second()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// Exponential backoff with jitter (between half and all of the doubled step), so many
/// clients failing together do not come back together.
fn backoff(retry: u32) -> Duration {
    let step = BACKOFF * 2u32.saturating_pow(retry);
    let mut b = [0u8; 2];
    let r = if openssl::rand::rand_bytes(&mut b).is_ok() {
        u16::from_le_bytes(b)
    } else {
        u16::MAX / 2
    };
    step / 2 + step.mul_f64(f64::from(r) / f64::from(u16::MAX) / 2.0)
}

fn host_of(u: &reqwest::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => u.as_str().to_string(),
    }
}

/// The innermost cause of a reqwest error, which is where its useful words are.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    inner.to_string()
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

fn failure(e: &reqwest::Error, host: &str, ctx: &Context, timeout: Duration, tries: u32) -> Error {
    let attempts = if tries > 1 {
        format!(" ({tries} attempts)")
    } else {
        String::new()
    };
    let what = if e.is_timeout() {
        if e.is_connect() {
            format!(
                "cannot connect to {host} within {}",
                seconds(connect_timeout())
            )
        } else {
            format!("{host} did not answer within {}", seconds(timeout))
        }
    } else if e.is_connect() {
        format!("cannot connect to {host}: {}", cause(e))
    } else {
        format!("the connection to {host} failed: {}", cause(e))
    };
    let hint = if ctx.hint.is_empty() {
        String::new()
    } else {
        format!("; {}", ctx.hint)
    };
    let todo = if e.is_timeout() {
        "check the network, or allow more time with --timeout SECONDS"
    } else {
        "check the network and the server's address"
    };
    Error::Network(format!("{}: {what}{attempts}; {todo}{hint}", ctx.what))
}

/// Sends `req` with the timeout of `ctx.purpose`, retrying as the module says. Every
/// status comes back as a response (after retries of 429 and 5xx ran out); transport
/// failures become [`Error::Network`] naming the host, what was fetched and the timeout.
pub fn send(req: RequestBuilder, ctx: &Context) -> Result<Response> {
    let timeout = read_timeout(ctx.purpose);
    let probe = req
        .try_clone()
        .ok_or_else(|| Error::Other(format!("{}: the request cannot be repeated", ctx.what)))?
        .build()
        .map_err(|e| Error::Other(format!("{}: cannot build the request: {e}", ctx.what)))?;
    let host = host_of(probe.url());
    let idem = idempotent(probe.method());
    let mut tries = 0;
    loop {
        tries += 1;
        let attempt = req
            .try_clone()
            .ok_or_else(|| Error::Other(format!("{}: the request cannot be repeated", ctx.what)))?
            .timeout(timeout);
        let last = tries > RETRIES;
        match attempt.send() {
            Ok(resp) => {
                if last || !retryable_status(resp.status(), idem) {
                    return Ok(resp);
                }
                let wait = match retry_after(&resp) {
                    Some(w) if w > MAX_RETRY_AFTER => return Ok(resp),
                    Some(w) => w,
                    None => backoff(tries - 1),
                };
                drop(resp);
                std::thread::sleep(wait);
            }
            Err(e) => {
                // A failed connect sent nothing; anything else may have reached the server.
                let retry =
                    !last && (e.is_connect() || (idem && (e.is_timeout() || e.is_request())));
                if !retry {
                    return Err(failure(&e, &host, ctx, timeout, tries));
                }
                std::thread::sleep(backoff(tries - 1));
            }
        }
    }
}

/// How many times [`send`] tried a request of `method` that ended with `status`.
pub fn attempts(method: &Method, status: StatusCode) -> u32 {
    if retryable_status(status, idempotent(method)) {
        1 + RETRIES
    } else {
        1
    }
}

/// A header of `resp` as text, when present and readable.
pub fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads an answer's body, refusing one larger than `limit` bytes (announced or sent)
/// instead of reading on.
pub fn read_limited(resp: Response, limit: u64, what: &str, purpose: Purpose) -> Result<Vec<u8>> {
    use std::io::Read as _;
    if let Some(len) = header(&resp, "Content-Length").and_then(|l| l.trim().parse::<u64>().ok()) {
        if len > limit {
            return Err(Error::Other(format!(
                "{what}: the server announces {len} bytes, larger than the {limit} bytes accepted"
            )));
        }
    }
    let mut buf = Vec::new();
    resp.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| {
            Error::Network(format!(
                "{what}: reading the answer failed: {}",
                body_error(&e, purpose)
            ))
        })?;
    if buf.len() as u64 > limit {
        return Err(Error::Other(format!(
            "{what}: the answer is larger than the {limit} bytes accepted"
        )));
    }
    Ok(buf)
}

/// Says what went wrong while reading an answer's body: the server stopped sending
/// within the read timeout, or the connection broke.
pub fn body_error(e: &std::io::Error, purpose: Purpose) -> String {
    let timed_out = e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|i| i.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if timed_out {
        format!(
            "no data for {} (raise it with --timeout SECONDS)",
            seconds(read_timeout(purpose))
        )
    } else {
        cause(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter() {
        for r in 0..4 {
            let step = BACKOFF * 2u32.pow(r);
            let b = backoff(r);
            assert!(b >= step / 2 && b <= step, "{b:?} for retry {r}");
        }
    }

    #[test]
    fn which_answers_are_retried() {
        assert!(retryable_status(StatusCode::SERVICE_UNAVAILABLE, true));
        assert!(!retryable_status(StatusCode::SERVICE_UNAVAILABLE, false));
        assert!(retryable_status(StatusCode::TOO_MANY_REQUESTS, false));
        assert!(!retryable_status(StatusCode::NOT_IMPLEMENTED, true));
        assert!(!retryable_status(StatusCode::NOT_FOUND, true));
        assert!(!idempotent(&Method::POST));
        assert!(idempotent(&Method::PUT));
    }
}
