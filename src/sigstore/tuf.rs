//! Refreshing Sigstore's `trusted_root.json` over TUF (The Update Framework).
//!
//! The TUF client workflow itself (root rotation with thresholds of the old and the new
//! keys, timestamp, snapshot and targets with rollback and freeze protection, length and
//! hash pinning of the targets) is sigstore-tuf's [`Updater`]. msign supplies what is its
//! own: which repository and initial root (the embedded public-good or staging root, or
//! `--tuf-url`/`--tuf-root`), the cache folder, the download bounds, the HTTP transport (the
//! same agent as msign's other Sigstore calls, so TUF brings no second HTTP client), and
//! error messages that say which file of which repository failed which check.
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

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use sigstore_tuf::transport::FetchFuture;
use sigstore_tuf::{FileStore, Metadata, Role as _, Updater, UpdaterConfig};

use crate::error::{Error, Result};
use crate::sigstore::TrustedRoot;

/// Root metadata of Sigstore's public-good TUF repository (from sigstore-python).
pub(crate) const PROD_ROOT: &str = include_str!("tuf_root.json");
/// Root metadata of Sigstore's staging TUF repository (from sigstore-python).
pub(crate) const STAGING_ROOT: &str = include_str!("tuf_root_staging.json");

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

fn fail(msg: impl Into<String>) -> Error {
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
            Metadata::<sigstore_tuf::Root>::from_slice(&bytes).map_err(|e| {
                Error::Usage(format!(
                    "--tuf-root {}: not TUF root metadata: {}",
                    p.display(),
                    chain(&e)
                ))
            })?;
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
    /// Its expiry (RFC 3339, UTC).
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
    crate::sigstore::provider::install();
    std::fs::create_dir_all(cache_dir).map_err(|e| Error::io(cache_dir, e))?;
    // One reference time for every expiry check of this update (TUF 1.0 section 5.1).
    let now = jiff::Timestamp::now();
    let http = Http {
        base: repo.url.trim_end_matches('/').to_string(),
        last: Arc::default(),
    };
    let last = Arc::clone(&http.last);
    let mut config = UpdaterConfig::default();
    config.root_max_length = MAX_ROOT;
    config.timestamp_max_length = MAX_TIMESTAMP;
    config.snapshot_max_length = MAX_METADATA;
    config.targets_max_length = MAX_METADATA;
    config.target_max_length = MAX_TARGET;
    config.max_root_rotations = MAX_ROOT_ROTATIONS;
    let mut updater = Updater::new(http, &repo.initial_root)
        .map_err(|e| {
            fail(format!(
                "the initial root metadata is unusable: {}; give the repository's root.json \
                 with --tuf-root",
                chain(&e)
            ))
        })?
        .with_config(config)
        .with_store(FileStore::new(cache_dir));

    let (trusted_root_json, signing_config_json) = crate::sigstore::block_on(async {
        updater.refresh(now).await?;
        let root = updater.get_target(TARGET, now).await?;
        let config = match updater.get_target(SIGNING_CONFIG, now).await {
            Ok(b) => Some(b),
            Err(sigstore_tuf::Error::TargetNotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok((root, config))
    })?
    .map_err(|e| explain(&e, repo, &updater, &last))?;

    let trusted_root = TrustedRoot::from_json(&trusted_root_json).map_err(|e| {
        fail(format!(
            "the {TARGET} target of {} verified but is not a Sigstore trusted root: {e}",
            repo.url
        ))
    })?;
    let t = updater.trusted();
    let (Some(timestamp), Some(snapshot), Some(targets)) =
        (t.timestamp(), t.snapshot(), t.targets_role("targets"))
    else {
        // get_target succeeded, which needs all three.
        return Err(fail(
            "the update ended without timestamp, snapshot or targets",
        ));
    };
    Ok(Update {
        repository: repo.url.clone(),
        root_version: t.root().version,
        root_expires: t.root().expires.to_string(),
        timestamp_version: timestamp.version,
        timestamp_expires: timestamp.expires.to_string(),
        snapshot_version: snapshot.version,
        snapshot_expires: snapshot.expires.to_string(),
        targets_version: targets.version,
        targets_expires: targets.expires.to_string(),
        trusted_root_json,
        trusted_root,
        signing_config_json,
    })
}

/// The last metadata file the updater downloaded: sigstore-tuf's errors name the role but
/// not the file or its version, which a user needs to see what the repository served.
#[derive(Default)]
struct Last {
    name: String,
    bytes: Vec<u8>,
}

impl Last {
    /// The role of the file (`2.root.json` -> `root`).
    fn role(&self) -> &str {
        let n = self.name.strip_suffix(".json").unwrap_or(&self.name);
        n.split_once('.')
            .filter(|(v, _)| v.bytes().all(|c| c.is_ascii_digit()))
            .map_or(n, |(_, r)| r)
    }

    /// The version it claims, read loosely (it may not verify).
    fn version(&self) -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(&self.bytes).ok()?;
        v.get("signed")?.get("version")?.as_u64()
    }
}

/// The HTTP transport of the updater, through msign's client (src/net.rs).
struct Http {
    base: String,
    last: Arc<Mutex<Last>>,
}

impl Http {
    /// GETs `url`, reading at most `max` bytes. `None` when the server says the file does
    /// not exist (404, or 403 as S3-style storage answers for a missing key).
    fn get(&self, url: &str, max: u64) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        // The updater is polled inside a tokio runtime, where reqwest's blocking client
        // must not wait; a thread of its own has no runtime.
        std::thread::scope(|s| {
            s.spawn(|| fetch(url, max))
                .join()
                .unwrap_or_else(|_| Err(format!("fetching {url} failed")))
        })
        .map_err(sigstore_tuf::Error::transport)
    }
}

/// One GET of the repository, with msign's timeouts, retries and size limit.
fn fetch(url: &str, max: u64) -> std::result::Result<Option<Vec<u8>>, String> {
    use crate::net::{self, Purpose};
    let ctx = net::Context {
        what: url,
        hint: "",
        purpose: Purpose::Other,
    };
    let req = net::client(true).map_err(|e| e.to_string())?.get(url);
    let resp =
        net::send(req, &ctx).map_err(|e| format!("the repository cannot be reached: {e}"))?;
    match resp.status().as_u16() {
        200..=299 => {}
        404 | 403 => return Ok(None),
        code => return Err(format!("{url} answered HTTP {code}")),
    }
    net::read_limited(resp, max, url, Purpose::Other)
        .map(Some)
        .map_err(|e| e.to_string())
}

impl sigstore_tuf::Repository for Http {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        let got = self.get(&format!("{}/{name}", self.base), max_length);
        if let Ok(mut last) = self.last.lock() {
            last.name = name.to_string();
            last.bytes = match &got {
                Ok(Some(b)) => b.clone(),
                _ => Vec::new(),
            };
        }
        Box::pin(async move { got })
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        let got = self.get(&format!("{}/targets/{path}", self.base), max_length);
        Box::pin(async move { got })
    }
}

/// sigstore-tuf's error, its causes joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(&format!(": {c}"));
        source = c.source();
    }
    s
}

/// Says what failed in msign's words: which file of which repository, which check, and
/// what to do; sigstore-tuf's own text follows where it adds detail.
fn explain(
    e: &sigstore_tuf::Error,
    repo: &Repository,
    updater: &Updater,
    last: &Mutex<Last>,
) -> Error {
    use sigstore_tuf::Error as E;
    let last = last.lock().map(|l| Last {
        name: l.name.clone(),
        bytes: l.bytes.clone(),
    });
    let last = last.unwrap_or_default();
    let url = repo.url.trim_end_matches('/');
    let at = format!("{url}/{}", last.name);
    let trusted = updater.trusted();
    let root_v = trusted.root().version;
    // The version of `role`: the file just downloaded when it is that role's, else the one
    // already trusted.
    let version = |role: &str| -> String {
        let v = if last.role() == role {
            last.version()
        } else {
            match role {
                "root" => Some(root_v),
                "timestamp" => trusted.timestamp().map(|t| t.version),
                "snapshot" => trusted.snapshot().map(|s| s.version),
                _ => trusted.targets_role(role).map(|t| t.version),
            }
        };
        v.map_or_else(String::new, |v| format!(" v{v}"))
    };
    let broken = "the repository serves broken metadata; ask its operator, or use another \
                  --tuf-url";
    let distrust = "do not use this repository until its operator fixes it (an attack or a \
                    misconfiguration)";
    fail(match e {
        E::Transport { .. } => match e.to_string().strip_prefix("transport error: ") {
            Some(m) if m.ends_with(" not found") => format!(
                "{url}/{} does not exist; check --tuf-url",
                m.trim_end_matches(" not found")
                    .trim_start_matches("target ")
            ),
            Some(m) => m.to_string(),
            None => chain(e),
        },
        E::Json(j) if j.is_syntax() || j.is_eof() => {
            format!("{at}: {} metadata is not JSON ({j}); {broken}", last.role())
        }
        E::Json(j) => format!(
            "{at}: {} metadata is not valid TUF metadata ({j}); {broken}",
            last.role()
        ),
        E::Malformed(m) => format!("{at}: {} metadata is malformed: {m}; {broken}", last.role()),
        E::NonIntegerNumber => format!(
            "{at}: {} metadata holds a number that is not an integer, and canonical JSON has \
             no floats; {broken}",
            last.role()
        ),
        E::ThresholdNotMet {
            role,
            found,
            threshold,
        } => {
            let whose = if role == "root" && last.role() == "root" {
                root_signers(&last.bytes, trusted.root())
            } else {
                format!("the root's {role} keys")
            };
            format!(
                "{at}: {role} metadata{} has {found} valid signature(s) of {whose}, \
                 {threshold} required; {distrust}",
                version(role)
            )
        }
        E::Rollback { role, trusted, new } => format!(
            "{at}: {role} rollback: the repository offers v{new}, v{trusted} was trusted \
             before; {distrust}"
        ),
        E::BadRootVersion { trusted, new } => format!(
            "{at} holds root version {new}, v{} expected; {distrust}",
            trusted + 1
        ),
        E::Expired { role, expires } => format!(
            "{role} metadata{} expired at {expires} ({at}); the repository has not been \
             refreshed: ask its operator, or check this machine's clock",
            version(role)
        ),
        E::IntegrityMismatch(m) => format!(
            "{url} serves a file that does not match what the signed metadata says ({m}); \
             {distrust}"
        ),
        E::TargetNotFound(t) => format!(
            "the repository {url} has no target named {t}; it is not a Sigstore TUF \
             repository, check --tuf-url"
        ),
        E::UnusableKey { .. } | E::UnsupportedScheme { .. } | E::Crypto(_) => format!(
            "{at}: the root v{root_v} names a key msign cannot use: {}",
            chain(e)
        ),
        _ => format!("{at}: {}", chain(e)),
    })
}

/// Which keys a new root failed to reach a threshold of: the trusted root's (a rotation
/// must be approved by the old keys) or its own.
fn root_signers(new: &[u8], trusted: &sigstore_tuf::Root) -> String {
    let by_old =
        Metadata::<sigstore_tuf::Root>::from_slice(new).is_ok_and(|m| match trusted.role("root") {
            Some(keys) => m.verify_threshold(&trusted.keys, keys, "root").is_ok(),
            None => false,
        });
    if by_old {
        "its own root keys".into()
    } else {
        format!("the trusted root v{} keys", trusted.version())
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
    fn embedded_roots_verify_with_their_own_keys() {
        crate::sigstore::provider::install();
        for root in [PROD_ROOT, STAGING_ROOT] {
            sigstore_tuf::TrustedMetadataSet::from_root(root.as_bytes()).unwrap();
        }
    }

    #[test]
    fn file_roles() {
        let l = |n: &str| Last {
            name: n.into(),
            bytes: br#"{"signed": {"version": 7}}"#.to_vec(),
        };
        assert_eq!(l("2.root.json").role(), "root");
        assert_eq!(l("timestamp.json").role(), "timestamp");
        assert_eq!(l("12.snapshot.json").role(), "snapshot");
        assert_eq!(l("timestamp.json").version(), Some(7));
    }
}
