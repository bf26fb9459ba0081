//! A local stand-in for the Hugging Face Hub, speaking the endpoints msign uses the way the
//! Hub does: `/api/models/{repo}/revision/{rev}`, `/api/models/{repo}/tree/{rev}` (recursive,
//! paginated with `Link: <...>; rel="next"`), `/{repo}/resolve/{rev}/{path}` (regular files
//! served with `ETag` and `X-Repo-Commit`; LFS files answered with a 302 to a CDN on another
//! port, with `X-Linked-Etag` and `X-Linked-Size`), the NDJSON commit endpoint, 401 for
//! private repos without a valid token and 404s with `X-Error-Code`.
//!
//! It binds 127.0.0.1 only and stops when dropped, or after ten minutes at most.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The token the fake Hub accepts.
pub const TOKEN: &str = "hf_fakehub_test_token";

/// A file in a commit.
#[derive(Clone)]
pub struct FileObj {
    /// The content.
    pub content: Arc<Vec<u8>>,
    /// Stored with LFS (served through the CDN, listed with `lfs.oid`).
    pub lfs: bool,
    /// A SHA-256 the listing claims instead of the real one.
    pub listed_sha256: Option<String>,
    /// The real SHA-256, computed once (listings are served many times).
    real_sha256: Arc<std::sync::OnceLock<String>>,
}

impl FileObj {
    fn sha256(&self) -> String {
        self.real_sha256
            .get_or_init(|| hex::encode(Sha256::digest(self.content.as_slice())))
            .clone()
    }
    fn pointer(&self) -> Vec<u8> {
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize {}\n",
            self.listed_sha256.clone().unwrap_or_else(|| self.sha256()),
            self.content.len()
        )
        .into_bytes()
    }
    /// What git stores: the content, or the LFS pointer.
    fn git_bytes(&self) -> Vec<u8> {
        if self.lfs {
            self.pointer()
        } else {
            self.content.to_vec()
        }
    }
    fn blob_id(&self) -> String {
        git_blob_id(&self.git_bytes())
    }
    fn etag(&self) -> String {
        if self.lfs {
            self.listed_sha256.clone().unwrap_or_else(|| self.sha256())
        } else {
            self.blob_id()
        }
    }
}

/// The git blob id of some bytes.
pub fn git_blob_id(bytes: &[u8]) -> String {
    let mut h = openssl::sha::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finish())
}

/// A model repository.
#[derive(Default, Clone)]
pub struct Repo {
    /// Needs the token.
    pub private: bool,
    /// Commits by id.
    pub commits: HashMap<String, BTreeMap<String, FileObj>>,
    /// Branches and tags.
    pub refs: HashMap<String, String>,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `GET`, `POST`.
    pub method: String,
    /// The path and query, decoded.
    pub target: String,
    /// Whether it came to the CDN port.
    pub cdn: bool,
    /// The `Range` header.
    pub range: Option<String>,
    /// The `Authorization` header was present.
    pub authorized: bool,
    /// Body bytes the answer carries (fewer than the file when the answer is cut).
    pub sent: u64,
}

/// Shared server state.
#[derive(Default)]
pub struct State {
    /// Repositories by id.
    pub repos: HashMap<String, Repo>,
    /// Entries per listing page.
    pub page_size: usize,
    /// Serve these bytes on the CDN instead of the real ones (by SHA-256 etag).
    pub cdn_override: HashMap<String, Vec<u8>>,
    /// Cut the next CDN answer for this etag after that many body bytes.
    pub cut_after: Option<(String, usize)>,
    /// Point `Link: rel="next"` at this base URL instead of the Hub's own.
    pub next_link_base: Option<String>,
    /// Regular files `junk/NNNNNNN.txt` appended to every listing, as a hostile server
    /// would list them: generated page by page, never stored, their content served on GET.
    pub synthetic_files: usize,
    /// Answer this many of the next Hub (not CDN) requests with 503 Service Unavailable.
    pub unavailable: usize,
    /// Answer this many of the next POST requests (commits) with 503.
    pub unavailable_posts: usize,
    /// Every request.
    pub log: Vec<Logged>,
    commits_made: u64,
}

/// The running server: the Hub on one port, its CDN on another.
pub struct FakeHub {
    /// Shared state; tests edit repos and read the log through it.
    pub state: Arc<Mutex<State>>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

fn commit_id(files: &BTreeMap<String, FileObj>, salt: u64) -> String {
    let mut h = openssl::sha::Sha1::new();
    h.update(format!("commit {salt}\n").as_bytes());
    for (p, f) in files {
        h.update(format!("{} {}\n", f.blob_id(), p).as_bytes());
    }
    hex::encode(h.finish())
}

impl State {
    /// Adds a commit to `repo` and points `branch` at it; returns the commit id.
    pub fn commit(&mut self, repo: &str, branch: &str, files: BTreeMap<String, FileObj>) -> String {
        self.commits_made += 1;
        let id = commit_id(&files, self.commits_made);
        let r = self.repos.entry(repo.to_string()).or_default();
        r.commits.insert(id.clone(), files);
        r.refs.insert(branch.to_string(), id.clone());
        id
    }

    /// Files of a branch head.
    pub fn head(&self, repo: &str, branch: &str) -> BTreeMap<String, FileObj> {
        let r = &self.repos[repo];
        r.commits[&r.refs[branch]].clone()
    }

    fn cdn_requests(&self) -> Vec<Logged> {
        self.log.iter().filter(|l| l.cdn).cloned().collect()
    }
}

/// Reads a model folder into repository files: `lfs` decides which go through LFS.
pub fn files_from_dir(
    dir: &std::path::Path,
    lfs: impl Fn(&str, u64) -> bool,
) -> BTreeMap<String, FileObj> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
            let content = std::fs::read(&p).unwrap();
            let is_lfs = lfs(&rel, content.len() as u64);
            out.insert(
                rel,
                FileObj {
                    content: Arc::new(content),
                    lfs: is_lfs,
                    listed_sha256: None,
                    real_sha256: Default::default(),
                },
            );
        }
    }
    out
}

/// A regular (non-LFS) file.
pub fn regular(bytes: &[u8]) -> FileObj {
    FileObj {
        content: Arc::new(bytes.to_vec()),
        lfs: false,
        listed_sha256: None,
        real_sha256: Default::default(),
    }
}

impl FakeHub {
    /// Starts the Hub and its CDN on two loopback ports.
    pub fn start() -> FakeHub {
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://127.0.0.1:{}", hub.local_addr().unwrap().port());
        let cdn_base = format!("http://127.0.0.1:{}", cdn.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State {
            page_size: 3,
            ..Default::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (listener, is_cdn) in [(hub, false), (cdn, true)] {
            let ctx = Ctx {
                state: state.clone(),
                endpoint: endpoint.clone(),
                cdn_base: cdn_base.clone(),
                is_cdn,
            };
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || serve(listener, ctx, stop)));
        }
        FakeHub {
            state,
            endpoint,
            stop,
            threads,
        }
    }

    /// Locks the state.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Requests that reached the CDN.
    pub fn cdn_requests(&self) -> Vec<Logged> {
        self.state().cdn_requests()
    }

    /// Commits `files` plus `extra` regular files to `repo` on `branch`; the commit id.
    pub fn publish(
        &self,
        repo: &str,
        branch: &str,
        mut files: BTreeMap<String, FileObj>,
        extra: &[(&str, &[u8])],
    ) -> String {
        for (p, b) in extra {
            files.insert(p.to_string(), regular(b));
        }
        self.state().commit(repo, branch, files)
    }

    /// Clears the request log.
    pub fn clear_log(&self) {
        self.state().log.clear();
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[derive(Clone)]
struct Ctx {
    state: Arc<Mutex<State>>,
    endpoint: String,
    cdn_base: String,
    is_cdn: bool,
}

fn serve(listener: TcpListener, ctx: Ctx, stop: Arc<AtomicBool>) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let ctx = ctx.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &ctx);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(64 << 20)];
    r.read_exact(&mut body)?;
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    cut: Option<usize>,
}

impl Response {
    fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            cut: None,
        }
    }
    fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_string(), v.into()));
        self
    }
    fn json(self, v: serde_json::Value) -> Self {
        let mut r = self.header("Content-Type", "application/json; charset=utf-8");
        r.body = v.to_string().into_bytes();
        r
    }
    fn error(status: u16, code: &str, message: &str) -> Self {
        Response::new(status)
            .header("X-Error-Code", code)
            .header("X-Error-Message", message)
            .json(serde_json::json!({"error": message}))
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        412 => "Precondition Failed",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn handle(mut stream: TcpStream, ctx: &Ctx) -> std::io::Result<()> {
    let req = read_request(&stream)?;
    let down = {
        let mut st = ctx.state.lock().unwrap();
        if ctx.is_cdn {
            false
        } else if st.unavailable > 0 {
            st.unavailable -= 1;
            true
        } else if req.method == "POST" && st.unavailable_posts > 0 {
            st.unavailable_posts -= 1;
            true
        } else {
            false
        }
    };
    let resp = if down {
        Response::error(503, "", "Service Unavailable").header("Retry-After", "0")
    } else if ctx.is_cdn {
        cdn(ctx, &req)
    } else {
        route(ctx, &req)
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        resp.body.len()
    ));
    let body = match resp.cut {
        Some(n) => &resp.body[..n.min(resp.body.len())],
        None => &resp.body[..],
    };
    // Logged before answering: once the client has its answer, the log must already show the
    // request, or a test that clears the log right after could see it appear later.
    ctx.state.lock().unwrap().log.push(Logged {
        method: req.method.clone(),
        target: percent_decode(&req.target),
        cdn: ctx.is_cdn,
        range: req.headers.get("range").cloned(),
        authorized: req.headers.contains_key("authorization"),
        sent: body.len() as u64,
    });
    stream.write_all(head.as_bytes())?;
    let _ = stream.write_all(body);
    stream.flush()?;
    // A cut answer ends with the connection closing early, as a dropped download does.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Ok(())
}

fn authorized(req: &Request) -> bool {
    req.headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {TOKEN}"))
}

/// Finds the repo (`org/name`) and the rest of a path split into components.
fn split_repo(parts: &[&str]) -> Option<(String, Vec<String>)> {
    if parts.len() < 2 {
        return None;
    }
    Some((
        format!("{}/{}", parts[0], parts[1]),
        parts[2..].iter().map(|p| percent_decode(p)).collect(),
    ))
}

fn route(ctx: &Ctx, req: &Request) -> Response {
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut st = ctx.state.lock().unwrap();
    if parts.first() == Some(&"api") && parts.get(1) == Some(&"models") {
        let Some((repo_id, rest)) = split_repo(&parts[2..]) else {
            return Response::error(404, "RepoNotFound", "Repository not found");
        };
        let repo = match check_repo(&st, &repo_id, req) {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        match (req.method.as_str(), rest.first().map(String::as_str)) {
            ("GET", Some("revision")) => {
                let rev = rest[1..].join("/");
                let Some(commit) = resolve(&repo, &rev) else {
                    return Response::error(
                        404,
                        "RevisionNotFound",
                        &format!("Invalid rev id: {rev}"),
                    );
                };
                let files = &repo.commits[&commit];
                Response::new(200).json(serde_json::json!({
                    "_id": "0123456789abcdef01234567",
                    "id": repo_id,
                    "modelId": repo_id,
                    "private": repo.private,
                    "sha": commit,
                    "lastModified": "2026-11-20T10:00:00.000Z",
                    "siblings": files.keys().map(|k| serde_json::json!({"rfilename": k})).collect::<Vec<_>>(),
                }))
            }
            ("GET", Some("tree")) => {
                let rev = rest.get(1).cloned().unwrap_or_default();
                let Some(commit) = resolve(&repo, &rev) else {
                    return Response::error(
                        404,
                        "RevisionNotFound",
                        &format!("Invalid rev id: {rev}"),
                    );
                };
                tree(ctx, &st, &repo_id, &rev, &repo.commits[&commit], query)
            }
            ("POST", Some("commit")) => {
                if !authorized(req) {
                    return Response::error(
                        401,
                        "RepoNotFound",
                        "Invalid credentials in Authorization header",
                    );
                }
                let branch = rest[1..].join("/");
                commit_endpoint(ctx, &mut st, &repo_id, &branch, &req.body)
            }
            _ => Response::error(404, "EntryNotFound", "Not found"),
        }
    } else if parts.get(2) == Some(&"resolve") && parts.len() >= 5 {
        let repo_id = format!("{}/{}", parts[0], parts[1]);
        let repo = match check_repo(&st, &repo_id, req) {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let rev = percent_decode(parts[3]);
        let file = parts[4..]
            .iter()
            .map(|p| percent_decode(p))
            .collect::<Vec<_>>()
            .join("/");
        let Some(commit) = resolve(&repo, &rev) else {
            return Response::error(404, "RevisionNotFound", &format!("Invalid rev id: {rev}"));
        };
        let synthetic = file
            .strip_prefix("junk/")
            .and_then(|n| n.strip_suffix(".txt"))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < st.synthetic_files);
        if let Some(n) = synthetic {
            let mut r = Response::new(200).header("X-Repo-Commit", commit);
            r.body = synthetic_content(n);
            return r;
        }
        let Some(f) = repo.commits[&commit].get(&file) else {
            return Response::error(404, "EntryNotFound", "Entry not found");
        };
        if f.lfs {
            let etag = f.etag();
            // The CDN serves content by its real digest; a listing may claim another.
            let real = f.sha256();
            st.cdn_override
                .entry(format!("content:{real}"))
                .or_insert_with(|| f.content.to_vec());
            Response::new(302)
                .header(
                    "Location",
                    format!("{}/cdn/{real}?X-Amz-Signature=abc", ctx.cdn_base),
                )
                .header("X-Repo-Commit", commit)
                .header("X-Linked-Etag", format!("\"{etag}\""))
                .header("X-Linked-Size", f.content.len().to_string())
                .header("ETag", format!("\"{}\"", f.blob_id()))
        } else {
            let mut r = Response::new(200)
                .header("X-Repo-Commit", commit)
                .header("ETag", format!("\"{}\"", f.blob_id()));
            r.body = f.content.to_vec();
            r
        }
    } else {
        Response::error(404, "RepoNotFound", "Repository not found")
    }
}

fn check_repo(st: &State, repo_id: &str, req: &Request) -> Result<Repo, Response> {
    match st.repos.get(repo_id) {
        // As the Hub does, a private repo and a missing one look the same without a token.
        Some(r) if !r.private || authorized(req) => Ok(r.clone()),
        _ if !authorized(req) => Err(Response::error(
            401,
            "RepoNotFound",
            "Repository Not Found for url. Please make sure you specified the correct `repo_id` and `repo_type`. If you are trying to access a private or gated repo, make sure you are authenticated.",
        )),
        _ => Err(Response::error(404, "RepoNotFound", "Repository not found")),
    }
}

fn resolve(repo: &Repo, rev: &str) -> Option<String> {
    if repo.commits.contains_key(rev) {
        return Some(rev.to_string());
    }
    repo.refs.get(rev).cloned()
}

fn tree(
    ctx: &Ctx,
    st: &State,
    repo_id: &str,
    rev: &str,
    files: &BTreeMap<String, FileObj>,
    query: &str,
) -> Response {
    let mut entries = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for p in files.keys() {
        let comps: Vec<&str> = p.split('/').collect();
        for i in 1..comps.len() {
            dirs.insert(comps[..i].join("/"));
        }
    }
    for d in &dirs {
        entries.push((d.clone(), serde_json::json!({"type": "directory", "oid": git_blob_id(d.as_bytes()), "size": 0, "path": d})));
    }
    for (p, f) in files {
        let mut e = serde_json::json!({"type": "file", "oid": f.blob_id(), "size": f.content.len(), "path": p});
        if f.lfs {
            e["lfs"] = serde_json::json!({
                "oid": f.listed_sha256.clone().unwrap_or_else(|| f.sha256()),
                "size": f.content.len(),
                "pointerSize": f.pointer().len(),
            });
            e["xetHash"] = serde_json::json!(hex::encode(Sha256::digest(f.pointer())));
        }
        entries.push((p.clone(), e));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let cursor: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page_size = st.page_size.max(1);
    let total = entries.len() + st.synthetic_files;
    let page: Vec<serde_json::Value> = (cursor..total.min(cursor.saturating_add(page_size)))
        .map(|i| match entries.get(i) {
            Some(e) => e.1.clone(),
            None => {
                let n = i - entries.len();
                serde_json::json!({"type": "file", "oid": git_blob_id(&synthetic_content(n)),
                    "size": synthetic_content(n).len(), "path": format!("junk/{n:07}.txt")})
            }
        })
        .collect();
    let mut r = Response::new(200).json(serde_json::Value::Array(page));
    if cursor + page_size < total {
        r = r.header(
            "Link",
            format!(
                "<{}/api/models/{repo_id}/tree/{rev}?recursive=true&expand=false&cursor={}>; rel=\"next\"",
                st.next_link_base.as_deref().unwrap_or(&ctx.endpoint),
                cursor + page_size
            ),
        );
    }
    r
}

/// The content of synthetic file `n`.
fn synthetic_content(n: usize) -> Vec<u8> {
    format!("unsigned file {n}\n").into_bytes()
}

fn commit_endpoint(
    ctx: &Ctx,
    st: &mut State,
    repo_id: &str,
    branch: &str,
    body: &[u8],
) -> Response {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines
        .next()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    else {
        return Response::error(400, "BadRequest", "missing header");
    };
    if header["key"] != "header" || !header["value"]["summary"].is_string() {
        return Response::error(400, "BadRequest", "first line must be the header");
    }
    let repo = st.repos.get(repo_id).cloned().unwrap_or_default();
    let Some(head) = repo.refs.get(branch).cloned() else {
        return Response::error(
            404,
            "RevisionNotFound",
            &format!("Invalid rev id: {branch}"),
        );
    };
    if let Some(parent) = header["value"]["parentCommit"].as_str() {
        if parent != head {
            return Response::error(
                412,
                "PreconditionFailed",
                "A commit has happened since. Please refresh and try again.",
            );
        }
    }
    let mut files = repo.commits[&head].clone();
    for l in lines {
        let Ok(op) = serde_json::from_str::<serde_json::Value>(l) else {
            return Response::error(400, "BadRequest", "bad line");
        };
        if op["key"] != "file" || op["value"]["encoding"] != "base64" {
            return Response::error(400, "BadRequest", "unsupported operation");
        }
        let Some(content) = op["value"]["content"]
            .as_str()
            .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        else {
            return Response::error(400, "BadRequest", "bad base64");
        };
        let path = op["value"]["path"].as_str().unwrap_or("").to_string();
        files.insert(path, regular(&content));
    }
    let id = st.commit(repo_id, branch, files);
    Response::new(200).json(serde_json::json!({
        "success": true,
        "commitOid": id,
        "commitUrl": format!("{}/{repo_id}/commit/{id}", ctx.endpoint),
        "hookOutput": "",
    }))
}

fn cdn(ctx: &Ctx, req: &Request) -> Response {
    let path = req.target.split('?').next().unwrap_or("");
    let Some(sha) = path.strip_prefix("/cdn/") else {
        return Response::new(404);
    };
    let mut st = ctx.state.lock().unwrap();
    let content = match st.cdn_override.get(sha) {
        Some(b) => b.clone(),
        None => match st.cdn_override.get(&format!("content:{sha}")) {
            Some(b) => b.clone(),
            None => return Response::new(404),
        },
    };
    let cut = match &st.cut_after {
        Some((etag, n)) if etag == sha => {
            let n = *n;
            st.cut_after = None;
            Some(n)
        }
        _ => None,
    };
    let start = req
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok());
    let mut r = match start {
        Some(s) if s < content.len() => {
            let mut r = Response::new(206).header(
                "Content-Range",
                format!("bytes {s}-{}/{}", content.len() - 1, content.len()),
            );
            r.body = content[s..].to_vec();
            r
        }
        _ => {
            let mut r = Response::new(200);
            r.body = content;
            r
        }
    };
    r.cut = cut;
    r
}
