//! Argument groups shared by subcommands. Every flag of `model_signing` is accepted in
//! both spellings it has used (`--private_key` and `--private-key`).

use std::path::{Component, Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::error::{Error, Result};
use crate::hash::HashingConfig;
use crate::manifest::{HashAlgorithm, DEFAULT_SHARD_SIZE};
use crate::source::{DirSource, ModelSource};

/// The model and what to leave out of it.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// The model: a folder, or a single file.
    #[arg(
        value_name = "MODEL_PATH",
        required = false,
        required_unless_present = "git_rev",
        default_value_if("git_rev", clap::builder::ArgPredicate::IsPresent, ".")
    )]
    pub model_path: PathBuf,

    /// Paths to leave out, relative to the current folder (as model_signing); paths
    /// outside the model are dropped. Repeatable.
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub ignore_paths: Vec<PathBuf>,

    /// Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (default).
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub ignore_git_paths: bool,

    /// Include the git paths in the signature.
    #[arg(
        long = "no-ignore-git-paths",
        alias = "no-ignore_git_paths",
        alias = "no_ignore_git_paths"
    )]
    pub no_ignore_git_paths: bool,

    /// Follow symbolic links to files, as long as they stay inside the model.
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub allow_symlinks: bool,

    /// MODEL_PATH is ORG/NAME[@REV] in the Hugging Face cache; the signature path is
    /// taken inside its snapshot.
    #[arg(long = "hub-cache")]
    pub hub_cache: bool,

    /// A git revision as the model (`--git-rev`).
    #[command(flatten)]
    pub git: crate::cli::git::GitArgs,
}

impl ModelArgs {
    /// The source of the model's content. Every subcommand gets its source here, so a new
    /// kind of source (a git revision, a Hub cache snapshot) is one more branch in one place.
    pub fn source(&self, allow_symlinks: bool) -> Result<Box<dyn ModelSource>> {
        if self.hub_cache {
            return Err(Error::Usage(
                "--hub-cache works with `msign verify` only".into(),
            ));
        }
        // A Hub cache snapshot is links into the repository's blobs/: follow those only.
        if let Some(blobs) = crate::hub::cache::blobs_of_snapshot(&self.model_path) {
            return Ok(Box::new(
                DirSource::new(&self.model_path)
                    .allow_symlinks(true)
                    .allow_links_into(blobs),
            ));
        }
        if let Some(rev) = &self.git.git_rev {
            return crate::cli::git::source(self, rev, allow_symlinks);
        }
        Ok(Box::new(
            DirSource::new(&self.model_path).allow_symlinks(allow_symlinks),
        ))
    }

    /// Whether git paths are ignored.
    pub fn ignore_git(&self) -> bool {
        !self.no_ignore_git_paths
    }

    /// `--ignore-paths` plus `extra` (the signature file), made relative to the model root
    /// the way the reference does; paths outside the model are dropped.
    pub fn relative_ignores(&self, extra: &[&Path]) -> Result<Vec<String>> {
        let root = crate::cli::git::model_root(self)?;
        let mut out = Vec::new();
        for p in self
            .ignore_paths
            .iter()
            .map(PathBuf::as_path)
            .chain(extra.iter().copied())
        {
            let mut candidate = resolve_lenient(p)?;
            if !candidate.starts_with(&root) {
                // A link inside the model (a Hub snapshot's model.sig -> blobs/...) names
                // the link itself, not its target.
                if let (Some(parent), Some(name)) = (p.parent(), p.file_name()) {
                    let parent = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                    let lexical = resolve_lenient(parent)?.join(name);
                    if lexical.starts_with(&root) {
                        candidate = lexical;
                    }
                }
            }
            if let Ok(rel) = candidate.strip_prefix(&root) {
                if rel.as_os_str().is_empty() {
                    continue;
                }
                let s = rel
                    .to_str()
                    .ok_or_else(|| Error::Usage(format!("{}: path is not UTF-8", p.display())))?;
                out.push(s.to_string());
            }
        }
        Ok(out)
    }
}

/// Python's `Path.resolve()` (non-strict): absolute, symlinks of the existing part
/// resolved, the rest normalised lexically.
pub fn resolve_lenient(p: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let comps: Vec<Component<'_>> = abs.components().collect();
    for split in (1..=comps.len()).rev() {
        let head: PathBuf = comps[..split].iter().collect();
        if let Ok(mut base) = std::fs::canonicalize(&head) {
            for c in &comps[split..] {
                match c {
                    Component::ParentDir => {
                        base.pop();
                    }
                    Component::CurDir => {}
                    other => base.push(other.as_os_str()),
                }
            }
            return Ok(base);
        }
    }
    Ok(abs)
}

/// Serialization method on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SerializationArg {
    /// One digest per file.
    Files,
    /// One digest per shard of each file (parallel within big files).
    Shards,
}

/// Hash algorithm on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum HashArg {
    /// SHA-256 (default; Git LFS and the Hub know it).
    Sha256,
    /// BLAKE2b-512.
    #[value(alias = "blake2b")]
    Blake2,
    /// BLAKE3 (fastest; parallel within a file).
    Blake3,
}

impl From<HashArg> for HashAlgorithm {
    fn from(h: HashArg) -> Self {
        match h {
            HashArg::Sha256 => HashAlgorithm::Sha256,
            HashArg::Blake2 => HashAlgorithm::Blake2b,
            HashArg::Blake3 => HashAlgorithm::Blake3,
        }
    }
}

/// How to hash when signing or computing a digest.
#[derive(Debug, Args, Clone)]
pub struct HashArgs {
    /// Serialization method. `--shard-size` alone implies shards.
    #[arg(long, value_enum)]
    pub serialization: Option<SerializationArg>,

    /// Hash algorithm.
    #[arg(
        long = "hash-algorithm",
        alias = "hash_algorithm",
        alias = "hashing-algorithm",
        value_enum,
        default_value = "sha256"
    )]
    pub hash_algorithm: HashArg,

    /// Shard size in bytes for shard serialization.
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES")]
    pub shard_size: Option<u64>,

    /// Leave out paths matching a .gitignore-style pattern (recorded in the signature so
    /// verification applies it too). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Do not read `.msignignore` from the model root.
    #[arg(long = "no-ignore-file")]
    pub no_ignore_file: bool,
}

impl HashArgs {
    /// Builds the hashing configuration.
    pub fn config(&self, model: &ModelArgs, ignores: &[String]) -> Result<HashingConfig> {
        let alg: HashAlgorithm = self.hash_algorithm.into();
        let shards = match self.serialization {
            Some(SerializationArg::Shards) => true,
            Some(SerializationArg::Files) if self.shard_size.is_some() => {
                return Err(Error::Usage(
                    "--shard-size needs --serialization shards".into(),
                ))
            }
            Some(SerializationArg::Files) => false,
            None => self.shard_size.is_some(),
        };
        let mut cfg = HashingConfig::new();
        cfg = if shards {
            cfg.use_shard_serialization(alg, self.shard_size.unwrap_or(DEFAULT_SHARD_SIZE))?
        } else {
            cfg.use_file_serialization(alg)
        };
        cfg = cfg
            .set_allow_symlinks(model.allow_symlinks)
            .set_ignore_git_paths(model.ignore_git())
            .use_ignore_file(!self.no_ignore_file);
        for p in ignores {
            cfg = cfg.add_ignored_path(p)?;
        }
        for g in &self.exclude {
            cfg = cfg.add_exclude(g)?;
        }
        Ok(cfg)
    }
}

/// A PEM private key, optionally encrypted.
#[derive(Debug, Args, Clone)]
pub struct PrivateKeyArgs {
    /// EC private key (PEM: SEC1 or PKCS#8, P-256/P-384/P-521).
    #[arg(
        long = "private-key",
        alias = "private_key",
        value_name = "PRIVATE_KEY"
    )]
    pub private_key: PathBuf,

    /// Password of an encrypted private key.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "MSIGN_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// File holding the password of an encrypted private key (one line). Without a
    /// password, an encrypted key is asked for on the terminal.
    #[arg(long = "password-file", alias = "password_file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// The certificate half of certificate signing.
#[derive(Debug, Args, Clone)]
pub struct CertificateArgs {
    /// The signing certificate (PEM) belonging to the private key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "CERTIFICATE_PATH"
    )]
    pub signing_certificate: PathBuf,

    /// Intermediate certificates to include in the signature (PEM, repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CERTIFICATE_PATH"
    )]
    pub certificate_chain: Vec<PathBuf>,
}
