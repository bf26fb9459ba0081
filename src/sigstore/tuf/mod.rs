//! Refreshing Sigstore's `trusted_root.json` over TUF (The Update Framework, specification
//! 1.0, section 5 "Detailed client workflow").
//!
//! The walk starts from a root the user already trusts (the cached one from the last
//! update, or the root.json shipped in this binary, or `--tuf-root`), follows root
//! rotations one version at a time, then timestamp, snapshot and targets, each signed by a
//! threshold of the keys the current root names and protected against rollback and freeze
//! attacks, and finally downloads the `trusted_root.json` target and checks it against the
//! length and hashes the targets metadata signs. Every download is bounded in size.
//!
//! Verified metadata is cached under `$XDG_CACHE_HOME/msign/tuf/<repository>/` so that the
//! next update starts from the newest root (rotation history is not fetched again) and
//! rollback is detected across runs.
//!
//! ```no_run
//! use msign::sigstore::tuf::{update, Repository};
//! let repo = Repository::public_good();
//! let fresh = update(&repo, &repo.default_cache_dir()?)?;
//! println!("targets v{}, expires {}", fresh.targets_version, fresh.targets_expires);
//! # Ok::<(), msign::Error>(())
//! ```

mod canonical;
mod metadata;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::sigstore::TrustedRoot;
use metadata::{check_length_and_hashes, hashes_of, Envelope, MetaFile, Root};

pub use canonical::{encode as canonical_json, NotCanonical};

/// Root metadata of Sigstore's public-good TUF repository (from sigstore-python).
pub(crate) const PROD_ROOT: &str = include_str!("../tuf_root.json");
/// Root metadata of Sigstore's staging TUF repository (from sigstore-python).
pub(crate) const STAGING_ROOT: &str = include_str!("../tuf_root_staging.json");

/// Sigstore's public-good TUF repository.
pub const PUBLIC_GOOD_URL: &str = "https://tuf-repo-cdn.sigstore.dev";
/// Sigstore's staging TUF repository.
pub const STAGING_URL: &str = "https://tuf-repo-cdn.sigstage.dev";

/// The target this client needs: the trusted root.
pub const TARGET: &str = "trusted_root.json";
/// The target naming the instance's services (Fulcio, Rekor, TSA, OIDC); optional.
pub const SIGNING_CONFIG: &str = "signing_config.v0.2.json";

// Download bounds. Sigstore's files today: root ~6 KiB, timestamp ~1 KiB, snapshot ~1 KiB,
// targets ~5 KiB, trusted_root.json ~7 KiB; the bounds leave room without letting a
// hostile server fill memory.
const MAX_ROOT: u64 = 512 << 10;
const MAX_TIMESTAMP: u64 = 16 << 10;
const MAX_METADATA: u64 = 2 << 20;
const MAX_TARGET: u64 = 16 << 20;
/// Root versions followed in one update; the public-good root is at v15 after five years.
const MAX_ROOT_ROTATIONS: u32 = 256;

pub(crate) fn fail(msg: impl Into<String>) -> Error {
    Error::TrustUpdate(msg.into())
}

/// A TUF repository and the root metadata to start from when nothing is cached.
#[derive(Debug, Clone)]
pub struct Repository {
    /// Base URL of the metadata; targets live under `<url>/targets/`.
    pub url: String,
    /// The initial root.json.
    pub initial_root: Vec<u8>,
}

impl Repository {
    /// Sigstore's public-good repository with the root shipped in this binary.
    pub fn public_good() -> Self {
        Repository {
            url: PUBLIC_GOOD_URL.into(),
            initial_root: PROD_ROOT.as_bytes().to_vec(),
        }
    }

    /// Sigstore's staging repository with the root shipped in this binary.
    pub fn staging() -> Self {
        Repository {
            url: STAGING_URL.into(),
            initial_root: STAGING_ROOT.as_bytes().to_vec(),
        }
    }

    /// The repository the CLI flags describe: `url` (default: public-good, or staging with
    /// `use_staging`) starting from `initial_root` (default: the embedded root of
    /// public-good or staging, which also fits a mirror of those).
    pub fn choose(
        use_staging: bool,
        url: Option<&str>,
        initial_root: Option<&Path>,
    ) -> Result<Self> {
        let mut repo = if use_staging {
            Self::staging()
        } else {
            Self::public_good()
        };
        if let Some(u) = url {
            let parsed = url::Url::parse(u)
                .map_err(|e| Error::Usage(format!("--tuf-url '{u}' is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(Error::Usage(format!(
                    "--tuf-url '{u}' must be an http(s) URL with a host"
                )));
            }
            repo.url = u.trim_end_matches('/').to_string();
        }
        if let Some(p) = initial_root {
            let bytes = read_bounded(p, MAX_ROOT)?;
            Root::parse(&bytes)
                .map_err(|e| Error::Usage(format!("--tuf-root {}: {e}", p.display())))?;
            repo.initial_root = bytes;
        }
        Ok(repo)
    }

    /// Where this repository's metadata is cached: `$XDG_CACHE_HOME/msign/tuf/<name>`, else
    /// `$HOME/.cache/msign/tuf/<name>`; `<name>` is the host (and port), followed by a hash
    /// of the URL when it has a path, so two repositories never share a cache.
    pub fn default_cache_dir(&self) -> Result<PathBuf> {
        let base = match std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
            // The XDG spec says relative values are to be ignored.
            Some(p) if p.is_absolute() => p,
            _ => match std::env::var_os("HOME") {
                Some(h) if !h.is_empty() => PathBuf::from(h).join(".cache"),
                _ => {
                    return Err(Error::Usage(
                        "no cache directory for TUF metadata: set XDG_CACHE_HOME or HOME".into(),
                    ))
                }
            },
        };
        Ok(base.join("msign").join("tuf").join(cache_name(&self.url)))
    }

    fn metadata_url(&self, name: &str) -> String {
        format!("{}/{name}", self.url.trim_end_matches('/'))
    }

    fn target_url(&self, name: &str) -> String {
        format!("{}/targets/{name}", self.url.trim_end_matches('/'))
    }
}

fn cache_name(url: &str) -> String {
    let (mut name, has_path) = match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("repository").to_string();
            let host = match u.port() {
                Some(p) => format!("{host}_{p}"),
                None => host,
            };
            (host, !matches!(u.path(), "" | "/") || u.query().is_some())
        }
        Err(_) => ("repository".to_string(), true),
    };
    name = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if has_path {
        let h = hex::encode(Sha256::digest(url.trim_end_matches('/').as_bytes()));
        name = format!("{name}-{}", &h[..16]);
    }
    name
}

/// What an update verified.
#[derive(Debug, Clone)]
pub struct Update {
    /// The repository.
    pub repository: String,
    /// Version of the newest trusted root.
    pub root_version: u64,
    /// Its expiry as written (RFC 3339).
    pub root_expires: String,
    /// Version of the timestamp metadata.
    pub timestamp_version: u64,
    /// Its expiry.
    pub timestamp_expires: String,
    /// Version of the snapshot metadata.
    pub snapshot_version: u64,
    /// Its expiry.
    pub snapshot_expires: String,
    /// Version of the targets metadata.
    pub targets_version: u64,
    /// Its expiry.
    pub targets_expires: String,
    /// The verified `trusted_root.json`, byte for byte.
    pub trusted_root_json: Vec<u8>,
    /// The same, parsed.
    pub trusted_root: TrustedRoot,
    /// The verified `signing_config.v0.2.json` (the instance's service endpoints), when the
    /// repository lists one.
    pub signing_config_json: Option<Vec<u8>>,
}

/// Runs the TUF client workflow against `repo`, caching metadata in `cache_dir`, and
/// returns the verified `trusted_root.json` (and `signing_config.v0.2.json` when the
/// repository has one).
pub fn update(repo: &Repository, cache_dir: &Path) -> Result<Update> {
    // 5.1: one reference time for every expiry check of this update.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let cache = Cache::open(cache_dir)?;
    let net = Net;

    let start = starting_root(repo, &cache)?;
    let root = update_root(&net, repo, &cache, start.clone())?;
    root.env.check_not_expired(now)?;
    if start.role_changed(&root, "timestamp") || start.role_changed(&root, "snapshot") {
        // 5.3.11: metadata signed by replaced keys must not serve as a rollback baseline,
        // or a compromise recovery would lock clients out.
        cache.remove("timestamp.json");
        cache.remove("snapshot.json");
    }
    let timestamp = update_timestamp(&net, repo, &cache, &root, now)?;
    let snapshot_meta = MetaFile::of(&timestamp, "snapshot.json")?
        .ok_or_else(|| fail("timestamp metadata names no snapshot.json"))?;
    let snapshot = update_snapshot(&net, repo, &cache, &root, &snapshot_meta, now)?;
    let targets_meta = MetaFile::of(&snapshot, "targets.json")?
        .ok_or_else(|| fail("snapshot metadata names no targets.json"))?;
    let targets = update_targets(&net, repo, &cache, &root, &targets_meta, now)?;
    let trusted_root_json = fetch_target(&net, repo, &root, &targets, TARGET)?
        .ok_or_else(|| fail(format!("the repository has no target named {TARGET}")))?;
    let signing_config_json = fetch_target(&net, repo, &root, &targets, SIGNING_CONFIG)?;
    let trusted_root = TrustedRoot::from_json(&trusted_root_json).map_err(|e| {
        fail(format!(
            "the {TARGET} target verified but is not a Sigstore trusted root: {e}"
        ))
    })?;
    Ok(Update {
        repository: repo.url.clone(),
        root_version: root.env.version,
        root_expires: root.env.expires_text.clone(),
        timestamp_version: timestamp.version,
        timestamp_expires: timestamp.expires_text,
        snapshot_version: snapshot.version,
        snapshot_expires: snapshot.expires_text,
        targets_version: targets.version,
        targets_expires: targets.expires_text,
        trusted_root_json,
        trusted_root,
        signing_config_json,
    })
}

/// A root signed by a threshold of its own root keys.
fn self_signed_root(bytes: &[u8]) -> Result<Root> {
    let r = Root::parse(bytes)?;
    r.verify(&r.env, "root", "its own root")?;
    Ok(r)
}

/// 5.2: the cached root from the last update, unless the initial root is newer (a newer
/// binary, or a newer `--tuf-root`) or the cache does not verify.
fn starting_root(repo: &Repository, cache: &Cache) -> Result<Root> {
    let initial = self_signed_root(&repo.initial_root)
        .map_err(|e| fail(format!("the initial root metadata is unusable: {e}")))?;
    let cached = cache
        .read("root.json", MAX_ROOT)
        .and_then(|b| self_signed_root(&b).ok());
    Ok(match cached {
        Some(c) if c.env.version >= initial.env.version => c,
        _ => initial,
    })
}

/// 5.3: follows `N+1.root.json` until the repository has no newer root.
fn update_root(net: &Net, repo: &Repository, cache: &Cache, mut root: Root) -> Result<Root> {
    for _ in 0..MAX_ROOT_ROTATIONS {
        let next = root.env.version + 1;
        let url = repo.metadata_url(&format!("{next}.root.json"));
        let Some(bytes) = net.get(&url, MAX_ROOT, "root metadata")? else {
            break;
        };
        let new = Root::parse(&bytes)?;
        root.verify(
            &new.env,
            "root",
            &format!("trusted root v{}", root.env.version),
        )?;
        new.verify(&new.env, "root", "its own root")?;
        check_root_version(&new, next)?;
        cache.write("root.json", &bytes)?;
        root = new;
    }
    Ok(root)
}

fn check_root_version(new: &Root, expected: u64) -> Result<()> {
    if new.env.version != expected {
        return Err(fail(format!(
            "{expected}.root.json holds root version {}",
            new.env.version
        )));
    }
    Ok(())
}

/// Loads a cached metadata file that still verifies under `root`; anything else is no
/// baseline at all.
fn cached(cache: &Cache, role: &'static str, root: &Root, max: u64) -> Option<Envelope> {
    let b = cache.read(&format!("{role}.json"), max)?;
    let env = Envelope::parse(role, &b).ok()?;
    root.verify(&env, role, "").ok()?;
    Some(env)
}

/// 5.4: timestamp.json, never versioned in its name.
fn update_timestamp(
    net: &Net,
    repo: &Repository,
    cache: &Cache,
    root: &Root,
    now: i64,
) -> Result<Envelope> {
    let trusted = cached(cache, "timestamp", root, MAX_TIMESTAMP);
    let url = repo.metadata_url("timestamp.json");
    let bytes = net
        .get(&url, MAX_TIMESTAMP, "timestamp metadata")?
        .ok_or_else(|| fail(format!("{url} does not exist")))?;
    let new = Envelope::parse("timestamp", &bytes)?;
    root.verify(&new, "timestamp", "root's timestamp")?;
    if let Some(old) = &trusted {
        check_timestamp_rollback(old, &new)?;
    }
    new.check_not_expired(now)?;
    cache.write("timestamp.json", &bytes)?;
    Ok(new)
}

fn check_timestamp_rollback(old: &Envelope, new: &Envelope) -> Result<()> {
    if new.version < old.version {
        return Err(fail(format!(
            "timestamp rollback: the repository offers v{}, v{} was trusted before",
            new.version, old.version
        )));
    }
    let (Some(o), Some(n)) = (
        MetaFile::of(old, "snapshot.json").ok().flatten(),
        MetaFile::of(new, "snapshot.json")?,
    ) else {
        return Ok(());
    };
    if n.version < o.version {
        return Err(fail(format!(
            "snapshot rollback: the timestamp names snapshot v{}, v{} was trusted before",
            n.version, o.version
        )));
    }
    Ok(())
}

/// 5.5: the snapshot the timestamp names.
fn update_snapshot(
    net: &Net,
    repo: &Repository,
    cache: &Cache,
    root: &Root,
    meta: &MetaFile,
    now: i64,
) -> Result<Envelope> {
    let trusted = cached(cache, "snapshot", root, MAX_METADATA);
    let bytes = fetch_metadata(net, repo, root, "snapshot", meta)?;
    let new = Envelope::parse("snapshot", &bytes)?;
    root.verify(&new, "snapshot", "root's snapshot")?;
    check_version_named(&new, meta, "timestamp")?;
    if let Some(old) = &trusted {
        check_snapshot_rollback(old, &new)?;
    }
    new.check_not_expired(now)?;
    cache.write("snapshot.json", &bytes)?;
    Ok(new)
}

fn check_version_named(new: &Envelope, meta: &MetaFile, by: &str) -> Result<()> {
    if new.version != meta.version {
        return Err(fail(format!(
            "{} metadata is v{}, the {by} names v{}",
            new.role, new.version, meta.version
        )));
    }
    Ok(())
}

/// Every targets file the trusted snapshot listed must still be listed, at the same or a
/// newer version.
fn check_snapshot_rollback(old: &Envelope, new: &Envelope) -> Result<()> {
    let now = MetaFile::all(new)?;
    for (name, o) in MetaFile::all(old).unwrap_or_default() {
        match now.get(&name) {
            None => {
                return Err(fail(format!(
                    "snapshot v{} no longer lists {name}",
                    new.version
                )))
            }
            Some(n) if n.version < o.version => {
                return Err(fail(format!(
                    "targets rollback: snapshot v{} names {name} v{}, v{} was trusted before",
                    new.version, n.version, o.version
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// 5.6: the top-level targets the snapshot names (delegations are not followed).
fn update_targets(
    net: &Net,
    repo: &Repository,
    cache: &Cache,
    root: &Root,
    meta: &MetaFile,
    now: i64,
) -> Result<Envelope> {
    let bytes = fetch_metadata(net, repo, root, "targets", meta)?;
    let new = Envelope::parse("targets", &bytes)?;
    root.verify(&new, "targets", "root's targets")?;
    check_version_named(&new, meta, "snapshot")?;
    new.check_not_expired(now)?;
    cache.write("targets.json", &bytes)?;
    Ok(new)
}

/// Downloads `<version>.<role>.json` (or `<role>.json` without consistent snapshots)
/// and checks it against the length and hashes its parent lists.
fn fetch_metadata(
    net: &Net,
    repo: &Repository,
    root: &Root,
    role: &str,
    meta: &MetaFile,
) -> Result<Vec<u8>> {
    let name = if root.consistent_snapshot {
        format!("{}.{role}.json", meta.version)
    } else {
        format!("{role}.json")
    };
    let url = repo.metadata_url(&name);
    let max = meta.length.unwrap_or(MAX_METADATA).min(MAX_METADATA);
    let bytes = net
        .get(&url, max, &format!("{role} metadata"))?
        .ok_or_else(|| fail(format!("{url} does not exist")))?;
    check_length_and_hashes(&bytes, meta.length, false, &meta.hashes, &name)?;
    Ok(bytes)
}

/// 5.7: the `trusted_root.json` target, checked against the signed length and hashes.
fn fetch_target(
    net: &Net,
    repo: &Repository,
    root: &Root,
    targets: &Envelope,
    target: &str,
) -> Result<Option<Vec<u8>>> {
    let listed = targets
        .signed
        .get("targets")
        .and_then(|t| t.as_object())
        .ok_or_else(|| fail("targets metadata has no 'targets' object"))?;
    let Some(t) = listed.get(target) else {
        if target != TARGET {
            return Ok(None);
        }
        let delegates = targets
            .signed
            .get("delegations")
            .is_some_and(|d| !d.is_null());
        return Err(fail(if delegates {
            format!("{target} is not among the top-level targets, and delegated targets are not supported")
        } else {
            format!("the repository has no target named {target}")
        }));
    };
    let length = t
        .get("length")
        .and_then(|l| l.as_u64())
        .ok_or_else(|| fail(format!("target {target} has no length")))?;
    if length > MAX_TARGET {
        return Err(fail(format!(
            "target {target} is {length} bytes, more than the {MAX_TARGET} accepted"
        )));
    }
    let hashes = hashes_of(t.get("hashes"), &format!("target {target}"))?;
    let name = if root.consistent_snapshot {
        // sha256 when listed, as Sigstore's repositories name their targets by it.
        let h = hashes
            .get("sha256")
            .or_else(|| hashes.values().next())
            .ok_or_else(|| fail(format!("target {target} has no hashes")))?;
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(fail(format!("target {target}: hash '{h}' is not hex")));
        }
        format!("{h}.{target}")
    } else {
        if hashes.is_empty() {
            return Err(fail(format!("target {target} has no hashes")));
        }
        target.to_string()
    };
    let url = repo.target_url(&name);
    let bytes = net
        .get(&url, length, "target")?
        .ok_or_else(|| fail(format!("{url} does not exist")))?;
    check_length_and_hashes(
        &bytes,
        Some(length),
        true,
        &hashes,
        &format!("target {target}"),
    )?;
    Ok(Some(bytes))
}

/// The repository's HTTP side, through msign's client (src/net.rs).
struct Net;

impl Net {
    /// GETs `url`, reading at most `max` bytes. `None` when the server says the file does
    /// not exist (404, or 403 as S3-style storage answers for a missing key).
    fn get(&self, url: &str, max: u64, what: &str) -> Result<Option<Vec<u8>>> {
        use crate::net::{self, Purpose};
        let desc = format!("{url} ({what})");
        let ctx = net::Context {
            what: &desc,
            hint: "",
            purpose: Purpose::Other,
        };
        let req = net::client(true).map_err(|e| fail(e.to_string()))?.get(url);
        let resp = match net::send(req, &ctx) {
            Ok(r) => r,
            Err(e) => return Err(fail(format!("the repository cannot be reached: {e}"))),
        };
        match resp.status().as_u16() {
            200..=299 => {}
            404 | 403 => return Ok(None),
            code => return Err(fail(format!("{url}: HTTP {code} for {what}"))),
        }
        let buf =
            net::read_limited(resp, max, &desc, Purpose::Other).map_err(|e| fail(e.to_string()))?;
        Ok(Some(buf))
    }
}

/// The metadata cache: verified files only, each replaced atomically.
struct Cache {
    dir: PathBuf,
}

impl Cache {
    fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Cache {
            dir: dir.to_path_buf(),
        })
    }

    fn read(&self, name: &str, max: u64) -> Option<Vec<u8>> {
        read_bounded(&self.dir.join(name), max).ok()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.dir.join(name), bytes)
    }

    fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
    }
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > max {
        return Err(fail(format!(
            "{}: larger than the {max} bytes accepted",
            path.display()
        )));
    }
    Ok(buf)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename,
/// so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names() {
        assert_eq!(cache_name(PUBLIC_GOOD_URL), "tuf-repo-cdn.sigstore.dev");
        assert_eq!(cache_name("http://127.0.0.1:8080/"), "127.0.0.1_8080");
        let a = cache_name("https://mirror.example/a/");
        let b = cache_name("https://mirror.example/b");
        assert!(a.starts_with("mirror.example-") && b.starts_with("mirror.example-"));
        assert_ne!(a, b);
    }

    #[test]
    fn choose_defaults_and_refusals() {
        let r = Repository::choose(true, None, None).unwrap();
        assert_eq!(r.url, STAGING_URL);
        assert_eq!(r.initial_root, STAGING_ROOT.as_bytes());
        let r = Repository::choose(false, Some("http://127.0.0.1:1/"), None).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:1");
        assert!(matches!(
            Repository::choose(false, Some("file:///tmp"), None),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn timestamp_rollback_is_refused() {
        let ts = |v: u64, snap: u64| {
            let doc = serde_json::json!({"signatures": [], "signed": {
                "_type": "timestamp", "spec_version": "1.0.31", "version": v,
                "expires": "2030-01-01T00:00:00Z",
                "meta": {"snapshot.json": {"version": snap}}}});
            Envelope::parse("timestamp", &serde_json::to_vec(&doc).unwrap()).unwrap()
        };
        check_timestamp_rollback(&ts(2, 2), &ts(2, 2)).unwrap();
        check_timestamp_rollback(&ts(2, 2), &ts(3, 3)).unwrap();
        let e = check_timestamp_rollback(&ts(2, 2), &ts(1, 2)).unwrap_err();
        assert!(e.to_string().contains("timestamp rollback"), "{e}");
        let e = check_timestamp_rollback(&ts(2, 2), &ts(3, 1)).unwrap_err();
        assert!(e.to_string().contains("snapshot rollback"), "{e}");
    }

    #[test]
    fn snapshot_rollback_is_refused() {
        let snap = |targets: Option<u64>| {
            let meta = match targets {
                Some(t) => serde_json::json!({"targets.json": {"version": t}}),
                None => serde_json::json!({}),
            };
            let doc = serde_json::json!({"signatures": [], "signed": {
                "_type": "snapshot", "spec_version": "1.0", "version": 1,
                "expires": "2030-01-01T00:00:00Z", "meta": meta}});
            Envelope::parse("snapshot", &serde_json::to_vec(&doc).unwrap()).unwrap()
        };
        check_snapshot_rollback(&snap(Some(2)), &snap(Some(3))).unwrap();
        assert!(check_snapshot_rollback(&snap(Some(2)), &snap(Some(1))).is_err());
        assert!(check_snapshot_rollback(&snap(Some(2)), &snap(None)).is_err());
    }

    #[test]
    fn version_must_be_the_one_named() {
        let doc = serde_json::json!({"signatures": [], "signed": {
            "_type": "targets", "spec_version": "1.0", "version": 4,
            "expires": "2030-01-01T00:00:00Z", "targets": {}}});
        let env = Envelope::parse("targets", &serde_json::to_vec(&doc).unwrap()).unwrap();
        let named = |version| MetaFile {
            version,
            length: None,
            hashes: Default::default(),
        };
        check_version_named(&env, &named(4), "snapshot").unwrap();
        let e = check_version_named(&env, &named(5), "snapshot").unwrap_err();
        assert!(
            e.to_string()
                .contains("targets metadata is v4, the snapshot names v5"),
            "{e}"
        );
    }

    #[test]
    fn key_rotation_is_noticed() {
        let prod = Root::parse(PROD_ROOT.as_bytes()).unwrap();
        let staging = Root::parse(STAGING_ROOT.as_bytes()).unwrap();
        assert!(!prod.role_changed(&prod, "timestamp"));
        assert!(prod.role_changed(&staging, "timestamp"));
        let mut v: serde_json::Value = serde_json::from_str(PROD_ROOT).unwrap();
        v["signed"]["roles"]["snapshot"]["threshold"] = 2.into();
        let changed = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(prod.role_changed(&changed, "snapshot"));
        assert!(!prod.role_changed(&changed, "timestamp"));
    }

    #[test]
    fn root_version_must_follow() {
        let r = Root::parse(PROD_ROOT.as_bytes()).unwrap();
        check_root_version(&r, r.env.version).unwrap();
        assert!(check_root_version(&r, r.env.version + 1).is_err());
    }
}
