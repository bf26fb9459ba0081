//! The model argument groups shared by subcommands. Every flag of `model_signing` is
//! accepted in both spellings it has used (`--private_key` and `--private-key`).

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::source::{GitLocation, ModelSpec};

/// The model and what to leave out of it.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// The model: a folder, or a single file. With `--git-rev`: the model folder in the
    /// work tree (`:/SUBDIR` counts from the repository's top, as in git), and without
    /// it the whole repository, wherever you run from, as `git model-sign` does.
    #[arg(
        value_name = "MODEL_PATH",
        required = false,
        required_unless_present = "git_rev",
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
            allow_symlinks: self.allow_symlinks,
            ignore_git_paths: !self.no_ignore_git_paths,
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
    #[arg(long = "git-path", value_name = "SUBDIR", requires = "git_rev")]
    pub git_path: Option<String>,
}
