//! The flags of `git model-sign sign|verify`: the revision and folder, where the
//! signature goes, and the key or certificates of each method.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::hash_args::HashArgs;
use crate::cli::key_args::{KeyCertificateArgs, PrivateKeyArgs, RootsArgs, SignerFlags};
use crate::git::{RevSpec, StoreKind};

/// Which revision, which folder.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// The revision (commit, branch, tag).
    #[arg(value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// The model folder inside the repository, from its top (default: the whole
    /// repository). The folder you run from does not matter, as for `msign --git-rev`
    /// without MODEL_PATH.
    #[arg(
        long = "git-path",
        visible_alias = "path",
        value_name = "SUBDIR",
        default_value = "",
        hide_default_value = true
    )]
    pub path: String,
    /// The repository, or a folder in it.
    #[arg(short = 'C', long = "git-dir", value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Follow symbolic links (tree entries) that stay inside the model.
    #[arg(long = "allow-symlinks")]
    pub allow_symlinks: bool,
    /// Include `.gitattributes`, `.gitignore`, `.github` in the signature.
    #[arg(long = "no-ignore-git-paths")]
    pub no_ignore_git_paths: bool,
}

impl Target {
    /// The revision and folder, for the library.
    pub fn spec(&self) -> RevSpec {
        RevSpec {
            allow_symlinks: self.allow_symlinks,
            ignore_git_paths: !self.no_ignore_git_paths,
            ..RevSpec::new(&self.repo, &self.rev).subdir(&self.path)
        }
    }
}

/// Options of every signing method.
#[derive(Debug, Args, Clone)]
pub struct GitSignCommon {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub hash: HashArgs,
    /// Where the signature goes: `file` (default) writes `model.sig` in the model folder
    /// of the work tree, not committed, where `verify` also looks; `notes` and `commit`
    /// keep it in git, so it travels with a push.
    #[arg(long, value_enum, default_value = "file")]
    pub store: StoreKind,
    /// The signature file: a path for `--store file` (default `model.sig` in the model
    /// folder of the work tree), a name in the model folder for `--store commit`
    /// (default `model.sig`).
    #[arg(long, value_name = "PATH")]
    pub signature: Option<PathBuf>,
}

/// Signing methods.
#[derive(Debug, Subcommand)]
pub enum GitSignMethod {
    /// Sign with an EC private key.
    Key {
        #[command(flatten)]
        common: GitSignCommon,
        #[command(flatten)]
        signer: PrivateKeyArgs,
    },
    /// Sign with a private key and its certificate chain.
    Certificate {
        #[command(flatten)]
        common: GitSignCommon,
        #[command(flatten)]
        signer: KeyCertificateArgs,
    },
}

/// Options of every verification method.
#[derive(Debug, Args, Clone)]
pub struct GitVerifyCommon {
    #[command(flatten)]
    pub target: Target,
    /// A signature file to use instead of looking in the revision's tree, its note and the
    /// work tree (by default every signature found there is tried, and one that verifies
    /// is enough).
    #[arg(long, value_name = "PATH")]
    pub signature: Option<PathBuf>,
    /// Only check the files the signature names.
    #[arg(long = "ignore-unsigned-files")]
    pub ignore_unsigned_files: bool,
}

/// Verification methods.
#[derive(Debug, Subcommand)]
pub enum GitVerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: GitVerifyCommon,
        /// The public key (PEM).
        #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
        public_key: PathBuf,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: GitVerifyCommon,
        #[command(flatten)]
        roots: RootsArgs,
    },
}

impl GitSignMethod {
    /// The options every method has, and the method's own flags.
    pub fn parts(&self) -> (&GitSignCommon, &dyn SignerFlags) {
        match self {
            GitSignMethod::Key { common, signer } => (common, signer),
            GitSignMethod::Certificate { common, signer } => (common, signer),
        }
    }

    /// The revision to sign.
    pub fn target(&self) -> &Target {
        &self.parts().0.target
    }
}

impl GitVerifyMethod {
    /// The revision to verify.
    pub fn target(&self) -> &Target {
        match self {
            GitVerifyMethod::Key { common, .. } | GitVerifyMethod::Certificate { common, .. } => {
                &common.target
            }
        }
    }
}
