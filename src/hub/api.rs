//! A small blocking client for the parts of the Hub's HTTP API msign needs.
//!
//! Written against what the Hub sends rather than through `hf-hub`, whose 1.0 types drop
//! `lfs.oid` (the SHA-256 this whole module exists to read). Everything the server says is
//! treated as hostile: paths are validated, digests must be well-formed hex, bodies are
//! read with limits, pagination and redirects are bounded, and the token is only ever sent
//! to the configured endpoint's origin.

use std::io::Read;

use reqwest::blocking::{RequestBuilder, Response};
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::hub::{check_revision, is_commit_id, HubConfig, RepoId};
use crate::manifest::ModelPath;
use crate::net::{self, Purpose};

/// The most a JSON answer (a revision's info, a commit's answer) may weigh. Answers are
/// parsed as they stream in, keeping only the fields msign reads, so the size bounds time,
/// not memory.
const MAX_JSON: u64 = 64 << 20;
/// The most one page of a tree listing may weigh. The Hub's pages hold 1000 entries, well
/// under 1 MiB; one string as large as the page costs twice the page in memory while it is
/// parsed, so this bound also bounds memory.
pub const MAX_PAGE_BYTES: u64 = 16 << 20;
/// The most all pages of one listing may weigh together.
pub const MAX_LISTING_BYTES: u64 = 1 << 30;
/// The most entries (files and folders) one listing may name.
pub const MAX_LISTED_ENTRIES: usize = 1_000_000;
/// The Hub stores regular (non-LFS) files up to 10 MB; anything larger claimed as regular
/// is refused instead of being read into memory.
pub const MAX_REGULAR_FILE: u64 = 10 << 20;
/// Pages of a tree listing followed before giving up (1000 entries a page on the Hub).
const MAX_PAGES: usize = 10_000;
/// Redirect hops followed for one download.
const MAX_REDIRECTS: usize = 10;

/// A file's Git LFS metadata in a tree listing.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct LfsInfo {
    /// SHA-256 of the file content, hex.
    pub oid: String,
    /// Size of the content.
    pub size: u64,
    /// Size of the pointer file stored in git.
    #[serde(rename = "pointerSize", default)]
    pub pointer_size: Option<u64>,
}

/// One entry of `GET /api/models/{repo}/tree/{rev}`, as the Hub sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct TreeEntry {
    /// `file` or `directory`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The git object id (a blob's SHA-1 for files).
    pub oid: String,
    /// Size of the content (for LFS files, the real file's size).
    #[serde(default)]
    pub size: u64,
    /// Repository-relative path.
    pub path: String,
    /// LFS metadata, present for files stored with LFS (and with Xet, which keeps it).
    #[serde(default)]
    pub lfs: Option<LfsInfo>,
    /// Xet content hash, present for files stored with Xet.
    #[serde(rename = "xetHash", default)]
    pub xet_hash: Option<String>,
}

/// A file of the listing, checked.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    /// Validated path.
    pub path: ModelPath,
    /// Size in bytes.
    pub size: u64,
    /// The git blob id (SHA-1 hex), the etag of regular files.
    pub blob_id: String,
    /// SHA-256 of the content when the Hub knows it (LFS and Xet files).
    pub sha256: Option<[u8; 32]>,
    /// Xet content hash, informative.
    pub xet_hash: Option<String>,
}

impl RemoteFile {
    /// The etag the Hub uses for the file: the SHA-256 for LFS files, the blob id otherwise.
    /// It names the blob in the local cache.
    pub fn etag(&self) -> String {
        match &self.sha256 {
            Some(d) => hex::encode(d),
            None => self.blob_id.clone(),
        }
    }
}

fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s.to_ascii_lowercase(), &mut out).ok()?;
    Some(out)
}

impl TreeEntry {
    /// Checks the entry: a safe path, a 40-hex blob id, and for LFS files a 64-hex SHA-256
    /// whose size agrees with the entry's size. Returns `None` for folders.
    pub fn check(&self) -> Result<Option<RemoteFile>> {
        let bad = |why: String| Err(Error::Other(format!("the Hub listing is invalid: {why}")));
        match self.kind.as_str() {
            "directory" => return Ok(None),
            "file" => {}
            other => return bad(format!("{:?} has unknown type {other:?}", self.path)),
        }
        let path = match ModelPath::parse(&self.path) {
            Ok(p) if p.as_str() != "." && !self.path.contains('\\') => p,
            _ => return bad(format!("unsafe file path {:?}", self.path)),
        };
        if parse_hex::<20>(&self.oid).is_none() {
            return bad(format!("{path}: blob id {:?} is not a SHA-1", self.oid));
        }
        let sha256 = match &self.lfs {
            None => None,
            Some(lfs) => {
                let Some(d) = parse_hex::<32>(&lfs.oid) else {
                    return bad(format!("{path}: lfs.oid {:?} is not a SHA-256", lfs.oid));
                };
                if lfs.size != self.size {
                    return bad(format!(
                        "{path}: size {} but lfs.size {}",
                        self.size, lfs.size
                    ));
                }
                Some(d)
            }
        };
        Ok(Some(RemoteFile {
            path,
            size: self.size,
            blob_id: self.oid.to_ascii_lowercase(),
            sha256,
            xet_hash: self.xet_hash.clone(),
        }))
    }
}

#[derive(Deserialize)]
struct RevisionInfo {
    sha: Option<String>,
}

#[derive(Deserialize)]
struct CommitAnswer {
    #[serde(rename = "commitOid")]
    commit_oid: Option<String>,
    #[serde(rename = "commitUrl")]
    commit_url: Option<String>,
}

/// The result of a commit.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The new commit id.
    pub commit: String,
    /// Its URL on the Hub, when given.
    pub url: Option<String>,
}

/// An open download: headers of the resolve step and a body reader.
pub struct Download {
    /// The commit the Hub resolved the file at (`X-Repo-Commit`).
    pub repo_commit: Option<String>,
    /// `X-Linked-Etag` (LFS files) or `ETag`, quotes removed.
    pub etag: Option<String>,
    /// `X-Linked-Size` (LFS files) or `Content-Length`.
    pub linked_size: Option<u64>,
    /// Where the body starts in the file (non-zero when a range was honoured).
    pub offset: u64,
    /// Bytes the body is announced to have.
    pub content_length: Option<u64>,
    /// The body.
    pub body: Box<dyn Read + Send + Sync>,
}

/// Percent-encodes everything but unreserved characters (and `/` when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn origin(u: &Url) -> (String, Option<String>, Option<u16>) {
    (
        u.scheme().to_string(),
        u.host_str().map(str::to_string),
        u.port_or_known_default(),
    )
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

/// A reader that fails once more than `limit` bytes come through, instead of reading on.
struct Limited<R> {
    inner: R,
    limit: u64,
    read: u64,
    exceeded: bool,
}

impl<R: Read> Limited<R> {
    fn new(inner: R, limit: u64) -> Self {
        Limited {
            inner,
            limit,
            read: 0,
            exceeded: false,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let too_large =
            || std::io::Error::other(format!("answer larger than {} MiB", self.limit >> 20));
        if self.exceeded {
            return Err(too_large());
        }
        // One byte past the limit tells "exactly at the limit" from "over it".
        let room = self.limit.saturating_sub(self.read).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.limit {
            self.exceeded = true;
            return Err(too_large());
        }
        Ok(n)
    }
}

/// The message for an answer that did not parse, or was too large to read.
fn json_error(what: &str, e: &serde_json::Error) -> Error {
    if e.is_io() {
        Error::Other(format!("{what}: reading the answer failed: {e}; refused"))
    } else {
        Error::Other(format!("{what}: unexpected answer from the Hub: {e}"))
    }
}

/// Visits a JSON array of tree entries one element at a time. An error of the callback
/// stops the parse and is kept in the slot, so its message reaches the user unchanged.
struct EachEntry<'a, F: FnMut(TreeEntry) -> Result<()>>(&'a mut F, &'a mut Option<Error>);

impl<'de, F: FnMut(TreeEntry) -> Result<()>> serde::de::Visitor<'de> for EachEntry<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of tree entries")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<TreeEntry>()? {
            if let Err(err) = (self.0)(e) {
                *self.1 = Some(err);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// A client for one endpoint.
pub struct HubClient {
    endpoint: Url,
    token: Option<String>,
    offline: bool,
}

impl HubClient {
    /// A client for the configured endpoint and token.
    pub fn new(config: &HubConfig) -> Result<Self> {
        let endpoint = Url::parse(&config.endpoint).map_err(|e| {
            Error::Usage(format!(
                "HF_ENDPOINT {:?} is not a URL: {e}",
                config.endpoint
            ))
        })?;
        if !matches!(endpoint.scheme(), "https" | "http") {
            return Err(Error::Usage(format!(
                "HF_ENDPOINT {:?} must be an http(s) URL",
                config.endpoint
            )));
        }
        Ok(HubClient {
            endpoint,
            token: config.token.clone(),
            offline: config.offline,
        })
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &str) -> Result<Url> {
        let base = self.endpoint.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::Other(format!("cannot build a URL for {path}: {e}")))
    }

    fn same_origin(&self, u: &Url) -> bool {
        origin(u) == origin(&self.endpoint)
    }

    fn request(&self, method: reqwest::Method, u: &Url) -> Result<RequestBuilder> {
        if self.offline {
            return Err(Error::Other(
                "HF_HUB_OFFLINE is set: msign makes no network request (verify a cached snapshot with `msign verify ... --hub-cache ORG/NAME`)".into(),
            ));
        }
        let mut req = net::client(false)?.request(method, u.as_str());
        // The token goes to the Hub only, never to a CDN or a host a Link header names.
        if let (Some(t), true) = (&self.token, self.same_origin(u)) {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        Ok(req)
    }

    /// Sends `req`; an error status (4xx, 5xx once retries ran out) becomes an error
    /// that says what to do.
    fn call(&self, req: RequestBuilder, what: &str, purpose: Purpose) -> Result<Response> {
        let ctx = net::Context {
            what,
            hint: "",
            purpose,
        };
        let method = req
            .try_clone()
            .and_then(|r| r.build().ok())
            .map(|r| r.method().clone())
            .unwrap_or(reqwest::Method::POST);
        let resp = net::send(req, &ctx)?;
        let code = resp.status().as_u16();
        if code >= 400 {
            let err = self.status_error(code, &resp, what);
            let tries = net::attempts(&method, resp.status());
            return Err(match err {
                Error::Other(m) if tries > 1 => Error::Other(format!(
                    "{m}; {tries} attempts failed: the Hub is down or busy, try again later"
                )),
                e => e,
            });
        }
        Ok(resp)
    }

    /// Turns an error answer into a message that says what to do.
    fn status_error(&self, code: u16, resp: &Response, what: &str) -> Error {
        let err_code = net::header(resp, "X-Error-Code").unwrap_or("").to_string();
        let server_msg = net::header(resp, "X-Error-Message")
            .unwrap_or("")
            .to_string();
        let detail = if server_msg.is_empty() {
            String::new()
        } else {
            format!(" (server: {server_msg})")
        };
        let auth_hint = if self.token.is_some() {
            "the token in HF_TOKEN (or the token file) was not accepted for it"
        } else {
            "it may be private or gated: set HF_TOKEN (or log in so $HF_HOME/token exists)"
        };
        let msg = match (code, err_code.as_str()) {
            (401, _) => format!("{what}: authentication required (HTTP 401); {auth_hint}{detail}"),
            (403, _) => format!(
                "{what}: access denied (HTTP 403); gated models need their conditions accepted on the Hub and a token{detail}"
            ),
            (404, "RepoNotFound") => {
                format!("{what}: repository not found (HTTP 404); {auth_hint}{detail}")
            }
            (404, "RevisionNotFound") => format!("{what}: revision not found (HTTP 404){detail}"),
            (404, "EntryNotFound") => format!("{what}: file not found (HTTP 404){detail}"),
            _ => format!("{what}: the Hub answered HTTP {code}{detail}"),
        };
        Error::Other(msg)
    }

    fn read_json<T: for<'de> Deserialize<'de>>(resp: Response, what: &str) -> Result<T> {
        let reader = std::io::BufReader::new(Limited::new(resp, MAX_JSON));
        serde_json::from_reader(reader).map_err(|e| json_error(what, &e))
    }

    /// Resolves a branch, tag or commit to a commit id.
    pub fn resolve_revision(&self, repo: &RepoId, revision: &str) -> Result<String> {
        check_revision(revision)?;
        let u = self.url(&format!(
            "/api/models/{}/revision/{}",
            repo.as_str(),
            encode(revision, false)
        ))?;
        let what = format!("{repo}@{revision}");
        let resp = self.call(
            self.request(reqwest::Method::GET, &u)?,
            &what,
            Purpose::HubMetadata,
        )?;
        let info: RevisionInfo = Self::read_json(resp, &what)?;
        match info.sha {
            Some(s) if is_commit_id(&s) => Ok(s),
            other => Err(Error::Other(format!(
                "{what}: the Hub gave no commit id for the revision ({other:?})"
            ))),
        }
    }

    /// Lists every file of the repository at `commit`, following `Link` pagination.
    pub fn list_files(&self, repo: &RepoId, commit: &str) -> Result<Vec<RemoteFile>> {
        let what = format!("listing {repo}@{commit}");
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.for_each_file(repo, commit, |f| {
            if !seen.insert(f.path.as_str().to_string()) {
                return Err(Error::Other(format!(
                    "{what}: the listing names {} twice",
                    f.path
                )));
            }
            out.push(f);
            Ok(())
        })?;
        Ok(out)
    }

    /// Lists the repository at `commit`, following `Link` pagination, and hands each file
    /// to `each` as soon as its entry is parsed. Nothing of the listing is kept here: what
    /// a hostile server sends costs memory only as far as `each` keeps it. Pages, bytes and
    /// entries are bounded ([`MAX_PAGE_BYTES`], [`MAX_LISTING_BYTES`],
    /// [`MAX_LISTED_ENTRIES`]).
    pub fn for_each_file(
        &self,
        repo: &RepoId,
        commit: &str,
        mut each: impl FnMut(RemoteFile) -> Result<()>,
    ) -> Result<()> {
        let what = format!("listing {repo}@{commit}");
        let mut next = Some(self.url(&format!(
            "/api/models/{}/tree/{}?recursive=true&expand=false",
            repo.as_str(),
            encode(commit, false)
        ))?);
        let mut pages = 0;
        let mut entries = 0usize;
        let mut bytes_left = MAX_LISTING_BYTES;
        while let Some(u) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(Error::Other(format!("{what}: more than {MAX_PAGES} pages")));
            }
            let resp = self.call(
                self.request(reqwest::Method::GET, &u)?,
                &what,
                Purpose::HubMetadata,
            )?;
            if let Some(link) = net::header(&resp, "Link").and_then(next_link) {
                let n = u
                    .join(&link)
                    .map_err(|e| Error::Other(format!("{what}: bad Link header: {e}")))?;
                if !self.same_origin(&n) {
                    return Err(Error::Other(format!(
                        "{what}: the next page is on another host ({n}); refused"
                    )));
                }
                next = Some(n);
            }
            let limit = MAX_PAGE_BYTES.min(bytes_left);
            let mut body = Limited::new(resp, limit);
            let mut failed = None;
            let parsed = {
                let mut de =
                    serde_json::Deserializer::from_reader(std::io::BufReader::new(&mut body));
                let visitor = EachEntry(
                    &mut |e: TreeEntry| -> Result<()> {
                        entries += 1;
                        if entries > MAX_LISTED_ENTRIES {
                            return Err(Error::Other(format!(
                            "{what}: more than {MAX_LISTED_ENTRIES} entries; refused (no model repository is that large)"
                        )));
                        }
                        match e.check()? {
                            Some(f) => each(f),
                            None => Ok(()),
                        }
                    },
                    &mut failed,
                );
                serde::Deserializer::deserialize_seq(&mut de, visitor).and_then(|()| de.end())
            };
            if let Some(e) = failed {
                return Err(e);
            }
            parsed.map_err(|e| {
                if body.exceeded && limit < MAX_PAGE_BYTES {
                    Error::Other(format!(
                        "{what}: the listing's pages weigh more than {} MiB together; refused",
                        MAX_LISTING_BYTES >> 20
                    ))
                } else {
                    json_error(&what, &e)
                }
            })?;
            bytes_left -= body.read;
        }
        Ok(())
    }

    /// Opens `/{repo}/resolve/{commit}/{path}`, following redirects (to a CDN) and asking
    /// for the bytes from `from` on.
    pub fn open_file(
        &self,
        repo: &RepoId,
        commit: &str,
        path: &str,
        from: u64,
    ) -> Result<Download> {
        let what = format!("{repo}@{commit}: {path}");
        let mut u = self.url(&format!(
            "/{}/resolve/{}/{}",
            repo.as_str(),
            encode(commit, false),
            encode(path, true)
        ))?;
        let mut first: Option<(Option<String>, Option<String>, Option<u64>)> = None;
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.request(reqwest::Method::GET, &u)?;
            if from > 0 {
                req = req.header("Range", format!("bytes={from}-"));
            }
            let resp = self.call(req, &what, Purpose::HubDownload)?;
            let header = |name: &str| net::header(&resp, name);
            if first.is_none() {
                let unquote = |s: &str| {
                    s.trim()
                        .trim_start_matches("W/")
                        .trim_matches('"')
                        .to_string()
                };
                first = Some((
                    header("X-Repo-Commit").map(str::to_string),
                    header("X-Linked-Etag")
                        .or_else(|| header("ETag"))
                        .map(unquote),
                    header("X-Linked-Size")
                        .or_else(|| header("Content-Length"))
                        .and_then(|s| s.trim().parse().ok()),
                ));
            }
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                let loc = header("Location")
                    .ok_or_else(|| Error::Other(format!("{what}: redirect without a Location")))?;
                u = u
                    .join(loc)
                    .map_err(|e| Error::Other(format!("{what}: bad redirect {loc:?}: {e}")))?;
                // No redirect off http(s), and none from https down to plain http.
                let downgrade = self.endpoint.scheme() == "https" && u.scheme() != "https";
                if !matches!(u.scheme(), "https" | "http") || downgrade {
                    return Err(Error::Other(format!("{what}: redirect to {u} refused")));
                }
                continue;
            }
            let content_length = header("Content-Length").and_then(|s| s.trim().parse().ok());
            let offset = if status == 206 {
                let range = header("Content-Range").unwrap_or("");
                let start = range
                    .trim()
                    .strip_prefix("bytes ")
                    .and_then(|r| r.split('-').next())
                    .and_then(|s| s.parse::<u64>().ok());
                match start {
                    Some(s) if s == from => s,
                    _ => {
                        return Err(Error::Other(format!(
                            "{what}: asked for bytes from {from}, got Content-Range {range:?}"
                        )))
                    }
                }
            } else {
                0
            };
            let (repo_commit, etag, linked_size) = first.unwrap_or_default();
            return Ok(Download {
                repo_commit,
                etag,
                linked_size,
                offset,
                content_length,
                body: Box::new(resp),
            });
        }
        Err(Error::Other(format!(
            "{what}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// Downloads a small file into memory; `None` when the repository has no such file.
    pub fn fetch_small(
        &self,
        repo: &RepoId,
        commit: &str,
        path: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>> {
        let d = match self.open_file(repo, commit, path, 0) {
            Ok(d) => d,
            Err(Error::Other(m)) if m.contains("file not found (HTTP 404)") => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut buf = Vec::new();
        d.body.take(limit + 1).read_to_end(&mut buf).map_err(|e| {
            Error::Network(format!(
                "{repo}@{commit}: {path}: download failed: {}",
                net::body_error(&e, Purpose::HubDownload)
            ))
        })?;
        if buf.len() as u64 > limit {
            return Err(Error::Other(format!(
                "{repo}@{commit}: {path} is larger than {limit} bytes"
            )));
        }
        Ok(Some(buf))
    }

    /// Commits one small file to `branch` through the commit API (NDJSON, base64 content),
    /// on top of `parent` so a branch that moved meanwhile makes the commit fail.
    pub fn commit_file(
        &self,
        repo: &RepoId,
        branch: &str,
        parent: &str,
        path: &str,
        content: &[u8],
        summary: &str,
    ) -> Result<Committed> {
        use base64::Engine as _;
        check_revision(branch)?;
        if self.token.is_none() {
            return Err(Error::Usage(
                "uploading needs a Hub token with write access: set HF_TOKEN".into(),
            ));
        }
        let header = serde_json::json!({
            "key": "header",
            "value": {"summary": summary, "description": "", "parentCommit": parent},
        });
        let file = serde_json::json!({
            "key": "file",
            "value": {
                "content": base64::engine::general_purpose::STANDARD.encode(content),
                "path": path,
                "encoding": "base64",
            },
        });
        let body = format!("{header}\n{file}\n");
        let u = self.url(&format!(
            "/api/models/{}/commit/{}",
            repo.as_str(),
            encode(branch, false)
        ))?;
        let what = format!("committing {path} to {repo}@{branch}");
        let req = self
            .request(reqwest::Method::POST, &u)?
            .header("Content-Type", "application/x-ndjson");
        let resp = self.call(req.body(body), &what, Purpose::HubMetadata)?;
        let answer: CommitAnswer = Self::read_json(resp, &what)?;
        match answer.commit_oid {
            Some(c) if is_commit_id(&c) => Ok(Committed {
                commit: c,
                url: answer.commit_url,
            }),
            other => Err(Error::Other(format!(
                "{what}: the Hub gave no commit id ({other:?})"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lfs_oid_as_the_hub_sends_it() {
        let page = r#"[
          {"type":"directory","oid":"1111111111111111111111111111111111111111","size":0,"path":"1_Pooling"},
          {"type":"file","oid":"a0fb5c4ab6ad53a5a2df6ae6c9c6e9e0e4bd1b09","size":90868376,"path":"model.safetensors",
           "lfs":{"oid":"53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db","size":90868376,"pointerSize":135},
           "xetHash":"abc"}
        ]"#;
        let entries: Vec<TreeEntry> = serde_json::from_str(page).unwrap();
        assert!(entries[0].check().unwrap().is_none());
        let f = entries[1].check().unwrap().unwrap();
        assert_eq!(
            hex::encode(f.sha256.unwrap()),
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
        );
        assert_eq!(entries[1].lfs.as_ref().unwrap().pointer_size, Some(135));
        assert_eq!(f.xet_hash.as_deref(), Some("abc"));
    }

    #[test]
    fn refuses_hostile_entries() {
        for (path, lfs) in [
            ("../x", r#"null"#),
            ("/etc/passwd", r#"null"#),
            ("a//b", r#"null"#),
            ("a", r#"{"oid":"zz","size":1}"#),
            (
                "a",
                r#"{"oid":"53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db","size":2}"#,
            ),
        ] {
            let json = format!(
                r#"{{"type":"file","oid":"a0fb5c4ab6ad53a5a2df6ae6c9c6e9e0e4bd1b09","size":1,"path":{path:?},"lfs":{lfs}}}"#
            );
            let e: TreeEntry = serde_json::from_str(&json).unwrap();
            assert!(e.check().is_err(), "{json}");
        }
    }

    #[test]
    fn link_header() {
        assert_eq!(
            next_link(r#"<https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=xyz>; rel="next""#)
                .as_deref(),
            Some("https://huggingface.co/api/models/a/b/tree/main?recursive=true&cursor=xyz")
        );
        assert_eq!(next_link(r#"<https://x/y>; rel="prev""#), None);
        assert_eq!(encode("refs/pr/1", false), "refs%2Fpr%2F1");
        assert_eq!(encode("a b/c.json", true), "a%20b/c.json");
    }
}
