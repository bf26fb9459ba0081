//! The Hugging Face Hub: configuration from the environment, the HTTP API, the local cache
//! layout and verified downloads.
//!
//! The Hub's tree listing already carries each LFS file's SHA-256 (`lfs.oid`), which is
//! exactly what a file-serialized SHA-256 manifest records: a model can be checked against
//! its signature before a single weight byte is downloaded.
//!
//! The workflows ([`verify`], [`download`](fn@download), [`sign`]) take a [`HubModel`] and return typed
//! reports:
//!
//! ```no_run
//! use msign::hub::{HubConfig, HubModel};
//! use msign::{NoProgress, VerifyingConfig};
//! # fn main() -> msign::Result<()> {
//! let model = HubModel::new(HubConfig::from_env()?, "org/model", "main", "model.sig")?;
//! let verifier = VerifyingConfig::use_elliptic_key_verifier("key.pub".as_ref())?;
//! let report = msign::hub::verify(&model, verifier, &NoProgress)?;
//! println!("{}", serde_json::to_string(&report).unwrap());
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use crate::error::{Error, Result};

pub mod api;
pub mod cache;
pub mod download;
pub mod select;
pub mod source;
pub mod workflow;

pub use api::{HubClient, TreeEntry};
pub use source::HubSource;
pub use workflow::{
    download, metadata_suffices, resolve_hub_cache, sign, sign_and_upload, upload, verify,
    verify_folder, FolderVerified, HubDownloaded, HubModel, HubSignRequest, HubSigned,
    HubVerification, HubVerified, Uploaded,
};

/// The endpoint the Hub's own clients use when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Settings the Hub's own clients read from the environment.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Base URL, without a trailing slash (`HF_ENDPOINT`).
    pub endpoint: String,
    /// Access token (`HF_TOKEN`, else the token file).
    pub token: Option<String>,
    /// The cache root (`HF_HUB_CACHE`, else `$HF_HOME/hub`).
    pub cache_dir: PathBuf,
    /// `HF_HUB_OFFLINE=1`: no network at all.
    pub offline: bool,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "yes" | "true"
    )
}

/// Hub settings a caller gives explicitly (flags, arguments), over the environment's.
#[derive(Debug, Clone, Default)]
pub struct HubOverrides {
    /// The endpoint, instead of `HF_ENDPOINT`.
    pub endpoint: Option<String>,
    /// The access token, instead of `HF_TOKEN` or the token file; a blank one means none.
    pub token: Option<String>,
    /// The cache root, instead of `HF_HUB_CACHE` or `$HF_HOME/hub`.
    pub cache_dir: Option<PathBuf>,
}

impl HubConfig {
    /// [`HubConfig::from_env`], with what `overrides` gives in place of the environment's.
    pub fn from_env_with(overrides: HubOverrides) -> Result<Self> {
        let mut config = HubConfig::from_env()?;
        if let Some(e) = overrides.endpoint {
            config.endpoint = e.trim_end_matches('/').to_string();
        }
        if let Some(t) = overrides.token {
            config.token = Some(t.trim().to_string()).filter(|t| !t.is_empty());
        }
        if let Some(d) = overrides.cache_dir {
            config.cache_dir = d;
        }
        Ok(config)
    }

    /// Reads `HF_ENDPOINT`, `HF_TOKEN` (or `HF_TOKEN_PATH` / `$HF_HOME/token`), `HF_HOME`,
    /// `HF_HUB_CACHE` and `HF_HUB_OFFLINE` as `huggingface_hub` does.
    pub fn from_env() -> Result<Self> {
        let home = match env_nonempty("HF_HOME") {
            Some(h) => PathBuf::from(h),
            None => {
                let base = env_nonempty("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| env_nonempty("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .ok_or_else(|| {
                        Error::Usage("set HF_HOME or HOME to locate the Hugging Face cache".into())
                    })?;
                base.join("huggingface")
            }
        };
        let cache_dir = env_nonempty("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("hub"));
        let token = match env_nonempty("HF_TOKEN") {
            Some(t) => Some(t.trim().to_string()),
            None => {
                let path = env_nonempty("HF_TOKEN_PATH")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join("token"));
                std::fs::read_to_string(&path)
                    .ok()
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
            }
        };
        let endpoint = env_nonempty("HF_ENDPOINT")
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
            .trim_end_matches('/')
            .to_string();
        Ok(HubConfig {
            endpoint,
            token,
            cache_dir,
            offline: env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| truthy(&v)),
        })
    }
}

/// A model repository id (`org/name`, or `name` for the Hub's few unprefixed models).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId(String);

impl RepoId {
    /// Checks an id the way the Hub restricts them: one or two components of ASCII
    /// letters, digits, `-`, `_` and `.`, none of them `.` or `..`.
    pub fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = (1..=2).contains(&parts.len())
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 96
                    && *p != "."
                    && *p != ".."
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !ok {
            return Err(Error::Usage(format!(
                "{s:?} is not a Hub model id (expected ORG/NAME)"
            )));
        }
        Ok(RepoId(s.to_string()))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The model's name, the last component.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The cache folder name: `models--org--name`.
    pub fn cache_folder(&self) -> String {
        format!("models--{}", self.0.replace('/', "--"))
    }
}

impl std::fmt::Display for RepoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a revision is a full commit id (40 lowercase hex digits).
pub fn is_commit_id(rev: &str) -> bool {
    rev.len() == 40
        && rev
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks a revision name: no control characters, no `..` component, not empty.
pub fn check_revision(rev: &str) -> Result<()> {
    let bad = rev.is_empty()
        || rev.len() > 256
        || rev.chars().any(|c| c.is_control())
        || rev
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if bad {
        return Err(Error::Usage(format!("{rev:?} is not a usable revision")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        assert!(RepoId::parse("ProsusAI/finbert").is_ok());
        assert!(RepoId::parse("gpt2").is_ok());
        for bad in ["", "a/b/c", "../x", "a/..", "a b/c", "a/", "/a"] {
            assert!(RepoId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RepoId::parse("a/b").unwrap().cache_folder(), "models--a--b");
    }

    #[test]
    fn revisions() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(!is_commit_id("main"));
        assert!(check_revision("refs/pr/1").is_ok());
        assert!(check_revision("../x").is_err());
    }
}
