//! A blocking client for the few OCI distribution API calls msign needs: manifests (GET,
//! PUT), small blobs (GET, monolithic upload), and the referrers API. Everything a registry
//! sends is hostile: answers are read with size limits, every manifest and blob is checked
//! against the sha256 it was asked by (or that the registry claims), and credentials go
//! only to the registry and the token realm it names.

use std::io::Read;
use std::sync::Mutex;

use reqwest::blocking::Response;
use reqwest::Method;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::error::{Error, Result};
use crate::net::{self, Purpose};
use crate::oci::auth::{parse_challenge, Credentials};
use crate::oci::image::{
    self, ImageIndex, Parsed, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
};
use crate::oci::reference::{check_digest, Reference};

/// The most a manifest or index may weigh (the distribution spec's 4 MiB).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The most a token answer may weigh.
const MAX_TOKEN: u64 = 1 << 20;
/// The most an error body shown to the user may weigh.
const MAX_ERROR_BODY: u64 = 2000;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Allow plain HTTP to a registry that is not on loopback (loopback always may).
    pub plain_http: bool,
    /// Credentials; without them, anonymous (tokens are still asked for when challenged).
    pub credentials: Option<Credentials>,
}

/// A manifest as fetched, with the sha256 of its bytes.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bytes, exactly as served.
    pub bytes: Vec<u8>,
    /// The media type the registry said.
    pub content_type: Option<String>,
    /// `sha256:HEX` of `bytes`.
    pub digest: String,
}

/// A registry.
pub struct Registry {
    base: Url,
    name: String,
    plain_http: bool,
    credentials: Option<Credentials>,
    authorization: Mutex<Option<String>>,
}

/// The sha256 of bytes as `sha256:HEX`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn read_limited(resp: Response, limit: u64, what: &str) -> Result<Vec<u8>> {
    net::read_limited(resp, limit, what, Purpose::Other)
}

fn error_body(resp: Response) -> String {
    let mut text = String::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Registry {
    /// A client for the registry of `reference`: HTTPS, or plain HTTP on loopback or with
    /// `plain_http`.
    pub fn new(reference: &Reference, options: &RegistryOptions) -> Result<Self> {
        let scheme = if reference.is_loopback() || options.plain_http {
            "http"
        } else {
            "https"
        };
        let base = Url::parse(&format!("{scheme}://{}", reference.api_host())).map_err(|e| {
            Error::Usage(format!(
                "registry {:?} is not a host name: {e}",
                reference.registry
            ))
        })?;
        Ok(Registry {
            base,
            name: reference.registry.clone(),
            plain_http: options.plain_http,
            credentials: options.credentials.clone(),
            authorization: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Other(format!("cannot build a URL for {path}: {e}")))
    }

    fn auth_header(&self) -> Option<String> {
        self.authorization
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends a request; on a 401 answers the challenge once and sends it again. Every
    /// status comes back as a response (the caller decides what a 404 means).
    fn send(
        &self,
        method: Method,
        url: &Url,
        repo: &str,
        push: bool,
        accept: Option<&str>,
        body: Option<(&[u8], &str)>,
    ) -> Result<Response> {
        let what = format!("registry {} ({method} {url})", self.name);
        for attempt in 0..2 {
            let mut req = net::client(true)?.request(method.clone(), url.as_str());
            if url.origin() == self.base.origin() {
                if let Some(a) = self.auth_header() {
                    req = req.header("Authorization", a);
                }
            }
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            if let Some((bytes, content_type)) = body {
                req = req
                    .header("Content-Type", content_type)
                    .body(bytes.to_vec());
            }
            let resp = net::send(
                req,
                &net::Context {
                    what: &what,
                    hint: "",
                    purpose: Purpose::Other,
                },
            )?;
            if resp.status() != 401 || attempt == 1 {
                return Ok(resp);
            }
            let challenge = net::header(&resp, "WWW-Authenticate")
                .map(str::to_string)
                .unwrap_or_default();
            self.authenticate(&challenge, repo, push)?;
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Answers a `WWW-Authenticate` challenge: basic credentials as they are, or a bearer
    /// token from the realm (asked with the credentials when there are some).
    fn authenticate(&self, header: &str, repo: &str, push: bool) -> Result<()> {
        let login_hint = "give --username NAME --password-stdin, or log in with `docker login` \
                          (msign reads $DOCKER_CONFIG/config.json or ~/.docker/config.json)";
        let challenge = parse_challenge(header).ok_or_else(|| {
            Error::Other(format!(
                "registry {} asks for authentication with a challenge msign cannot read: {header:?}",
                self.name
            ))
        })?;
        let value = match challenge.scheme.as_str() {
            "basic" => match &self.credentials {
                Some(c) => c.basic(),
                None => {
                    return Err(Error::Usage(format!(
                        "registry {} needs credentials: {login_hint}",
                        self.name
                    )))
                }
            },
            "bearer" => format!("Bearer {}", self.token(&challenge, repo, push, login_hint)?),
            other => {
                return Err(Error::Other(format!(
                    "registry {} asks for {other} authentication, which msign does not speak",
                    self.name
                )))
            }
        };
        *self.authorization.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        Ok(())
    }

    fn token(
        &self,
        challenge: &crate::oci::auth::Challenge,
        repo: &str,
        push: bool,
        login_hint: &str,
    ) -> Result<String> {
        let realm = challenge.param("realm").ok_or_else(|| {
            Error::Other(format!(
                "registry {} asks for a bearer token but names no realm",
                self.name
            ))
        })?;
        let mut url = Url::parse(realm).map_err(|e| {
            Error::Other(format!(
                "registry {}: token realm {realm:?} is not a URL: {e}",
                self.name
            ))
        })?;
        // Credentials travel to the realm: never in clear over the network.
        let clear_ok = self.plain_http || is_loopback_host(&url);
        if !(url.scheme() == "https" || (url.scheme() == "http" && clear_ok)) {
            return Err(Error::Other(format!(
                "registry {}: token realm {realm} is not HTTPS; msign sends no credentials \
                 there (use --plain-http only for a registry you trust on your network)",
                self.name
            )));
        }
        let wanted = format!(
            "repository:{repo}:{}",
            if push { "pull,push" } else { "pull" }
        );
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = challenge.param("service") {
                q.append_pair("service", service);
            }
            if let Some(scope) = challenge.param("scope").filter(|s| *s != wanted) {
                q.append_pair("scope", scope);
            }
            q.append_pair("scope", &wanted);
        }
        let mut req = net::client(true)?.get(url.as_str());
        if let Some(c) = &self.credentials {
            req = req.header("Authorization", c.basic());
        }
        let what = format!("registry {}: the token service at {realm}", self.name);
        let resp = net::send(
            req,
            &net::Context {
                what: &what,
                hint: "",
                purpose: Purpose::Other,
            },
        )?;
        match resp.status().as_u16() {
            200..=299 => {}
            code @ (401 | 403) => {
                let why = error_body(resp);
                return Err(match &self.credentials {
                    Some(c) => {
                        self.refused(&format!("the token service at {realm}"), c, code, &why)
                    }
                    None => Error::Usage(format!(
                        "{what} refused anonymous access (HTTP {code}){why}; {login_hint}"
                    )),
                });
            }
            code => {
                return Err(Error::Other(format!(
                    "{what} failed (HTTP {code}){}",
                    error_body(resp)
                )))
            }
        }
        let body = read_limited(resp, MAX_TOKEN, "token answer")?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            Error::Other(format!(
                "registry {}: the token answer is not JSON: {e}",
                self.name
            ))
        })?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                Error::Other(format!(
                    "registry {}: the token answer holds no usable token",
                    self.name
                ))
            })?;
        Ok(token.to_string())
    }

    /// Credentials that were given and refused: not a usage mistake msign can point at
    /// (the flags were right, the password or the account is not), so exit 3 like any
    /// other failure of the remote side.
    fn refused(&self, by: &str, credentials: &Credentials, code: u16, why: &str) -> Error {
        Error::Other(format!(
            "registry {}: {by} refused the credentials of {} (HTTP {code}){why}; check the \
             user name and password given with --username/--password-stdin or stored for \
             {} in the Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json)",
            self.name, credentials.username, self.name
        ))
    }

    fn failed(&self, what: &str, resp: Response) -> Error {
        let code = resp.status().as_u16();
        // A token the registry finds short of the scope (distribution's
        // `error="insufficient_scope"`): the account is known, its rights are not enough.
        let short = net::header(&resp, "WWW-Authenticate")
            .and_then(parse_challenge)
            .filter(|c| c.param("error") == Some("insufficient_scope"))
            .map(|c| c.param("scope").unwrap_or("").to_string());
        let body = error_body(resp);
        match (code, &self.credentials) {
            (401, Some(c)) if short.is_some() => Error::Other(format!(
                "{what}: registry {} does not grant {} the access this needs ({}) (HTTP 401); \
                 ask for it, or use an account that has it",
                self.name,
                c.username,
                short.unwrap_or_default()
            )),
            (401, Some(c)) => self.refused(&format!("{what}: the registry"), c, code, &body),
            (401, None) => Error::Usage(format!(
                "{what}: registry {} refuses anonymous access (HTTP 401){body}; give \
                 --username NAME --password-stdin, or log in with `docker login`",
                self.name
            )),
            (403, _) => Error::Usage(format!(
                "{what}: registry {} denies access (HTTP 403){body}",
                self.name
            )),
            _ => Error::Other(format!(
                "{what}: registry {} answered HTTP {code}{body}",
                self.name
            )),
        }
    }

    /// Fetches a manifest or index by tag or digest; `None` when the registry has none.
    /// Its bytes' sha256 must equal the digest asked for, and the `Docker-Content-Digest`
    /// the registry claims, when it claims one.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<Fetched>> {
        let what = format!("{}/{repo}:{reference}", self.name);
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"))?;
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(", ");
        let resp = self.send(Method::GET, &url, repo, false, Some(&accept), None)?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            _ => return Err(self.failed(&format!("fetching the manifest of {what}"), resp)),
        }
        let content_type = net::header(&resp, "Content-Type").map(str::to_string);
        let claimed = net::header(&resp, "Docker-Content-Digest").map(str::to_string);
        let bytes = read_limited(resp, MAX_MANIFEST, &what)?;
        let digest = sha256_digest(&bytes);
        let lie = |claim: &str| {
            Error::InvalidSignature(format!(
                "registry {} served a manifest for {what} whose sha256 is {digest}, not {claim}: \
                 it does not hold what was asked for, or it lies",
                self.name
            ))
        };
        if reference.starts_with("sha256:") && reference != digest {
            return Err(lie(reference));
        }
        if let Some(c) = claimed.as_deref() {
            if c.starts_with("sha256:") && c != digest {
                return Err(lie(c));
            }
        }
        Ok(Some(Fetched {
            bytes,
            content_type,
            digest,
        }))
    }

    /// Fetches a small blob, checked against its digest.
    pub fn get_blob(&self, repo: &str, digest: &str, limit: u64) -> Result<Vec<u8>> {
        check_digest(digest).map_err(Error::Other)?;
        let what = format!("blob {digest} of {}/{repo}", self.name);
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"))?;
        let resp = self.send(Method::GET, &url, repo, false, None, None)?;
        if resp.status() != 200 {
            return Err(self.failed(&format!("fetching {what}"), resp));
        }
        let bytes = read_limited(resp, limit, &what)?;
        let got = sha256_digest(&bytes);
        if got != digest {
            return Err(Error::InvalidSignature(format!(
                "registry {} served {what} with sha256 {got}",
                self.name
            )));
        }
        Ok(bytes)
    }

    /// The referrers of `digest` with `artifact_type`, through the referrers API; `None`
    /// when the registry has no such API (distribution 2.8 answers 404).
    pub fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: &str,
    ) -> Result<Option<ImageIndex>> {
        let mut url = self.url(&format!("/v2/{repo}/referrers/{digest}"))?;
        url.query_pairs_mut()
            .append_pair("artifactType", artifact_type);
        let resp = self.send(Method::GET, &url, repo, false, Some(OCI_INDEX), None)?;
        match resp.status().as_u16() {
            200 => {}
            404 | 405 => return Ok(None),
            _ => return Err(self.failed("listing referrers", resp)),
        }
        let what = format!("the referrers of {digest}");
        let bytes = read_limited(resp, MAX_MANIFEST, &what)?;
        match image::parse(&bytes, Some(OCI_INDEX), &what)? {
            Parsed::Index(i) => Ok(Some(i)),
            Parsed::Manifest(_) => Err(Error::Other(format!(
                "{what}: the registry sent a manifest, not an index"
            ))),
        }
    }

    fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"))?;
        let resp = self.send(Method::HEAD, &url, repo, true, None, None)?;
        Ok(resp.status() == 200)
    }

    /// Uploads a blob in one request (POST, then PUT with the digest), unless the
    /// repository has it already. Returns its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        let digest = sha256_digest(bytes);
        if self.blob_exists(repo, &digest)? {
            return Ok(digest);
        }
        let what = format!("uploading blob {digest} to {}/{repo}", self.name);
        let url = self.url(&format!("/v2/{repo}/blobs/uploads/"))?;
        let resp = self.send(
            Method::POST,
            &url,
            repo,
            true,
            None,
            Some((&[], "application/octet-stream")),
        )?;
        if resp.status() != 202 {
            return Err(self.failed(&what, resp));
        }
        let location = net::header(&resp, "Location")
            .ok_or_else(|| Error::Other(format!("{what}: the registry gave no upload location")))?;
        let mut put = self.base.join(location).map_err(|e| {
            Error::Other(format!(
                "{what}: upload location {location:?} is not a URL: {e}"
            ))
        })?;
        if put.origin() != self.base.origin() {
            return Err(Error::Other(format!(
                "{what}: the registry sends the upload to another server ({}), which msign does \
                 not follow",
                put.origin().ascii_serialization()
            )));
        }
        put.query_pairs_mut().append_pair("digest", &digest);
        let resp = self.send(
            Method::PUT,
            &put,
            repo,
            true,
            None,
            Some((bytes, "application/octet-stream")),
        )?;
        if resp.status() != 201 {
            return Err(self.failed(&what, resp));
        }
        Ok(digest)
    }

    /// Stores a manifest under a tag or its digest. Returns whether the registry answered
    /// with `OCI-Subject`, i.e. indexed it for the referrers API.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<bool> {
        let what = format!("storing manifest {}/{repo}:{reference}", self.name);
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"))?;
        let resp = self.send(
            Method::PUT,
            &url,
            repo,
            true,
            None,
            Some((bytes, media_type)),
        )?;
        if resp.status() != 201 {
            return Err(self.failed(&what, resp));
        }
        Ok(net::header(&resp, "OCI-Subject").is_some())
    }
}
