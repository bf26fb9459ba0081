//! Argument groups shared by subcommands. Every flag of `model_signing` is accepted in
//! both spellings it has used (`--private_key` and `--private-key`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::error::{Error, Result};
use crate::hash::HashingConfig;
use crate::manifest::{HashAlgorithm, DEFAULT_SHARD_SIZE};
use crate::sign::Signer;
use crate::source::{GitLocation, ModelSpec};

/// The model and what to leave out of it. MODEL_PATH may be left out only with
/// `--git-rev`: the group makes the usage line say so (`<MODEL_PATH|--git-rev <REV>>`).
#[derive(Debug, Args, Clone)]
#[command(group(
    clap::ArgGroup::new("model_or_rev")
        .args(["model_path", "git_rev"])
        .required(true)
        .multiple(true)
))]
pub struct ModelArgs {
    /// The model: a folder, or a single file. With `--git-rev`: the model folder in the
    /// work tree (`:/SUBDIR` counts from the repository's top, as in git), and without
    /// it the whole repository, wherever you run from, as `git model-sign` does.
    #[arg(
        value_name = "MODEL_PATH",
        required = false,
        default_value_if("git_rev", clap::builder::ArgPredicate::IsPresent, ":/")
    )]
    pub model_path: PathBuf,

    /// Paths to leave out, relative to the current folder (as model_signing); a path
    /// outside the model leaves nothing out and is named in a warning. Repeatable.
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

    /// Also follow links that leave the model but land inside DIR (a folder of links
    /// into a Hugging Face cache's `blobs/`, as older huggingface_hub made for a local dir);
    /// implies --allow-symlinks; the target's content is hashed. Repeatable.
    #[arg(long = "allow-symlinks-outside", value_name = "DIR")]
    pub allow_symlinks_outside: Vec<PathBuf>,

    /// MODEL_PATH is `ORG/NAME[@REV]` in the Hugging Face cache; the signature path is
    /// taken inside its snapshot.
    #[arg(long = "hub-cache")]
    pub hub_cache: bool,

    /// A git revision as the model (`--git-rev`).
    #[command(flatten)]
    pub git: GitArgs,
}

impl ModelArgs {
    /// The model these flags describe, for the library.
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            path: self.model_path.clone(),
            git: self.git.git_rev.as_ref().map(|rev| GitLocation {
                rev: rev.clone(),
                dir: self.git.git_dir.clone(),
                subdir: self.git.git_path.clone(),
            }),
            allow_symlinks: self.allow_symlinks || !self.allow_symlinks_outside.is_empty(),
            symlinks_outside: self.allow_symlinks_outside.clone(),
            ignore_git_paths: self.ignore_git(),
            ignore_paths: self.ignore_paths.clone(),
        }
    }

    /// The model, for commands that cannot take `--hub-cache` (it is resolved to a
    /// snapshot folder by `msign verify` only).
    pub fn checked_spec(&self) -> Result<ModelSpec> {
        if self.hub_cache {
            return Err(Error::Usage(
                "--hub-cache works with `msign verify` only".into(),
            ));
        }
        Ok(self.spec())
    }

    /// Whether git paths are ignored.
    pub fn ignore_git(&self) -> bool {
        !self.no_ignore_git_paths
    }

    /// `--ignore-paths` plus `extra` (the signature file), relative to the model root.
    pub fn relative_ignores(&self, extra: &[&Path]) -> Result<Vec<String>> {
        self.spec().relative_ignores(extra)
    }
}

/// Sign or verify a git revision instead of files on disk.
#[derive(Debug, Args, Clone, Default)]
pub struct GitArgs {
    /// Use the tree of this git revision (commit, branch, tag), read from the object
    /// database, instead of the files on disk; Git LFS pointers stand for their content.
    /// MODEL_PATH then names the model folder in the work tree; without it the model is
    /// the whole repository (`:/`), wherever you run from.
    #[arg(long = "git-rev", value_name = "REV")]
    pub git_rev: Option<String>,

    /// The repository, or a folder in it; a relative MODEL_PATH is taken from there, as
    /// `git -C` does.
    #[arg(
        long = "git-dir",
        short = 'C',
        value_name = "DIR",
        requires = "git_rev"
    )]
    pub git_dir: Option<PathBuf>,

    /// The model folder inside the repository (default: MODEL_PATH relative to the work
    /// tree's root).
    #[arg(
        long = "git-path",
        visible_alias = "path",
        value_name = "SUBDIR",
        requires = "git_rev"
    )]
    pub git_path: Option<String>,
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

    /// Shard size in bytes for shard serialization (not with blake3, which has none).
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES")]
    pub shard_size: Option<u64>,

    /// Leave out paths matching a .gitignore-style pattern (recorded in the signature so
    /// verification applies it too). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Read `.msignignore` from the model root and leave out what its patterns match
    /// (recorded in the signature). Off by default, so that a file inside the model cannot
    /// decide on its own what is signed; when on, `.msignignore` itself is always signed
    /// and every path it leaves out is named.
    #[arg(long = "use-ignore-file", overrides_with = "no_ignore_file")]
    pub use_ignore_file: bool,

    /// Do not read `.msignignore` (the default).
    #[arg(long = "no-ignore-file")]
    pub no_ignore_file: bool,
}

impl HashArgs {
    /// Builds the hashing configuration for `model`, leaving out `ignores`.
    pub fn config(&self, model: &ModelArgs, ignores: &[String]) -> Result<HashingConfig> {
        let mut cfg = self
            .hashing()?
            .set_allow_symlinks(model.allow_symlinks)
            .set_ignore_git_paths(model.ignore_git());
        for p in ignores {
            cfg = cfg.add_ignored_path(p)?;
        }
        Ok(cfg)
    }

    /// The hashing these flags ask for, whatever the model (serialization, algorithm,
    /// excludes, ignore file).
    pub fn hashing(&self) -> Result<HashingConfig> {
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
        // model_signing quietly hashes BLAKE3 "shards" by file; a flag that is ignored would
        // sign something other than what was asked, so say so before hashing.
        if shards && alg == HashAlgorithm::Blake3 {
            return Err(Error::Usage(
                "--hash-algorithm blake3 has no shard serialization (model_signing would \
                 silently hash by file): drop --serialization shards and --shard-size \
                 (BLAKE3 already hashes each file in parallel), or choose sha256 or blake2 \
                 for shards"
                    .into(),
            ));
        }
        let mut cfg = HashingConfig::new();
        cfg = if shards {
            cfg.use_shard_serialization(alg, self.shard_size.unwrap_or(DEFAULT_SHARD_SIZE))?
        } else {
            cfg.use_file_serialization(alg)
        };
        cfg = cfg.use_ignore_file(self.use_ignore_file && !self.no_ignore_file);
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

impl PrivateKeyArgs {
    /// A signer from the key file, with `cert`'s certificate chain when given.
    pub fn signer(&self, cert: Option<&CertificateArgs>) -> Result<Box<dyn Signer>> {
        let password = self.resolved_password()?;
        self.signer_with(cert, password.as_deref())
    }

    /// The signer, with the key's password already resolved (asked for once by the caller).
    pub fn signer_with(
        &self,
        cert: Option<&CertificateArgs>,
        password: Option<&str>,
    ) -> Result<Box<dyn Signer>> {
        crate::sign::signer_from_files(
            &self.private_key,
            password,
            cert.map(|c| {
                (
                    c.signing_certificate.as_path(),
                    c.certificate_chain.as_slice(),
                )
            }),
        )
    }
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
