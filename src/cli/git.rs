//! Git revisions as model sources on the command line (`--git-rev`), and the signing and
//! verification steps `git model-sign` and the pre-push hook share.

use std::path::{Path, PathBuf};

use clap::Args;
use git2::{Oid, Repository};
use indicatif::HumanBytes;
use serde_json::json;

use crate::cli::args::{resolve_lenient, HashArgs, ModelArgs};
use crate::cli::progress::Bar;
use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::ignore::IgnoreRules;
use crate::sign::{Signer, SigningConfig};
use crate::source::git::{join as join_tree_path, open_repo, GitSource};
use crate::source::ModelSource;
use crate::store::git::{CommitStore, NotesStore, TreeFileStore, DEFAULT_SIGNATURE_NAME};
use crate::store::{FileStore, SignatureStore};
use crate::verify::VerifyingConfig;

/// Sign or verify a git revision instead of files on disk.
#[derive(Debug, Args, Clone, Default)]
pub struct GitArgs {
    /// Use the tree of this git revision (commit, branch, tag), read from the object
    /// database, instead of the files on disk; Git LFS pointers stand for their content.
    /// MODEL_PATH (default `.`) then names the model folder in the work tree.
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

/// Where a `--git-rev` model is: the repository, the subfolder, and the folder a checkout
/// of it would be (for paths given relative to the model, like the signature file).
pub struct GitTarget {
    /// The repository.
    pub repo: Repository,
    /// The model folder inside it.
    pub subdir: String,
    /// `<work tree>/<subdir>`, or the git directory of a bare repository.
    pub checkout_root: PathBuf,
}

impl GitArgs {
    fn model_path(&self, model: &Path) -> PathBuf {
        match &self.git_dir {
            Some(dir) if model.is_relative() => dir.join(model),
            _ => model.to_path_buf(),
        }
    }

    /// Finds the repository and the model folder.
    pub fn target(&self, model: &Path) -> Result<GitTarget> {
        let model = self.model_path(model);
        let repo = open_repo(self.git_dir.as_deref().unwrap_or(&model))?;
        let subdir = match (&self.git_path, repo.workdir()) {
            (Some(p), _) => crate::source::git::normalize_subdir(p)?,
            (None, Some(wd)) => {
                let wd = resolve_lenient(wd)?;
                let m = resolve_lenient(&model)?;
                match m.strip_prefix(&wd) {
                    Ok(rel) => rel
                        .to_str()
                        .ok_or_else(|| Error::Usage("model path is not UTF-8".into()))?
                        .to_string(),
                    Err(_) => String::new(),
                }
            }
            (None, None) => String::new(),
        };
        let checkout_root = match repo.workdir() {
            Some(wd) => resolve_lenient(&wd.join(&subdir))?,
            None => resolve_lenient(repo.path())?,
        };
        Ok(GitTarget {
            repo,
            subdir,
            checkout_root,
        })
    }
}

/// The `--git-rev` source of `model`.
pub fn source(model: &ModelArgs, rev: &str, allow_symlinks: bool) -> Result<Box<dyn ModelSource>> {
    let t = model.git.target(&model.model_path)?;
    Ok(Box::new(
        GitSource::new(&t.repo, rev, &t.subdir)?.allow_symlinks(allow_symlinks),
    ))
}

/// The folder paths given on the command line are made relative to.
pub fn model_root(model: &ModelArgs) -> Result<PathBuf> {
    if model.git.git_rev.is_some() {
        return Ok(model.git.target(&model.model_path)?.checkout_root);
    }
    resolve_lenient(&model.model_path)
}

/// Where `git model-sign sign` puts the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// A file (`--signature`, default `model.sig` in the current folder).
    File,
    /// A new commit on the current branch adding the signature file to the model folder.
    Commit,
    /// A git note on the signed commit under refs/notes/model-signing.
    Notes,
}

/// A revision to sign or verify.
#[derive(Debug, Clone)]
pub struct RevSpec {
    /// Options that describe the model (`--git-rev` etc. filled in).
    pub model: ModelArgs,
}

impl RevSpec {
    /// The model at `rev` of the repository found from `dir`, below `subdir`.
    pub fn new(
        dir: &Path,
        rev: &str,
        subdir: &str,
        allow_symlinks: bool,
        ignore_git: bool,
    ) -> Self {
        RevSpec {
            model: ModelArgs {
                model_path: PathBuf::from("."),
                ignore_paths: Vec::new(),
                ignore_git_paths: ignore_git,
                no_ignore_git_paths: !ignore_git,
                hub_cache: false,
                allow_symlinks,
                git: GitArgs {
                    git_rev: Some(rev.to_string()),
                    git_dir: Some(dir.to_path_buf()),
                    git_path: Some(subdir.to_string()),
                },
            },
        }
    }

    fn rev(&self) -> &str {
        self.model.git.git_rev.as_deref().unwrap_or("HEAD")
    }

    fn open(&self) -> Result<(GitTarget, GitSource)> {
        let t = self.model.git.target(&self.model.model_path)?;
        let src = GitSource::new(&t.repo, self.rev(), &t.subdir)?
            .allow_symlinks(self.model.allow_symlinks);
        Ok((t, src))
    }
}

/// Signs a revision and stores the signature; returns the JSON result.
pub fn sign_rev(
    ctx: &Ctx,
    spec: &RevSpec,
    hash: &HashArgs,
    signer: Box<dyn Signer>,
    store: StoreKind,
    signature: Option<&Path>,
) -> Result<serde_json::Value> {
    let (t, src) = spec.open()?;
    let git_dir = t.repo.path().to_path_buf();
    let sig_name = signature
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| DEFAULT_SIGNATURE_NAME.into());
    let (ignores, saver): (Vec<String>, Box<dyn SignatureStore>) = match store {
        StoreKind::File => {
            let path = PathBuf::from(&sig_name);
            let ignores = model_relative(&t.checkout_root, &path)?;
            (ignores, Box::new(FileStore::new(path)))
        }
        StoreKind::Commit => {
            let commit = need_commit(&src)?;
            let rel = crate::source::git::normalize_subdir(&sig_name)?;
            if rel.is_empty() {
                return Err(Error::Usage("--signature names no file".into()));
            }
            let s = CommitStore::new(
                &git_dir,
                commit,
                &join_tree_path(&t.subdir, &rel),
                &src.model_name(),
            );
            s.preflight()?;
            (vec![rel], Box::new(s))
        }
        StoreKind::Notes => (
            Vec::new(),
            Box::new(NotesStore::new(&git_dir, need_commit(&src)?)),
        ),
    };
    let hashing = hash.config(&spec.model, &ignores)?;
    let method = signer.method();
    let bar = Bar::new("hashing", ctx.quiet || ctx.json);
    let signed = SigningConfig::new()
        .set_hashing_config(hashing)
        .use_signer(signer)
        .sign(&src, &bar)?;
    for w in &signed.hashed.warnings {
        ctx.warn(w);
    }
    let written = saver.save(&signed.bundle.to_json())?;
    let m = &signed.hashed.manifest;
    if !ctx.json && !ctx.quiet {
        println!(
            "Signing succeeded: {} file(s) ({}) of '{}' at {} signed with {method} -> {written}",
            m.file_count(),
            HumanBytes(signed.hashed.bytes),
            m.model_name,
            describe_rev(&src),
        );
    }
    Ok(json!({
        "status": "signed",
        "revision": spec.rev(),
        "commit": src.commit().map(|c| c.to_string()),
        "tree": src.tree().to_string(),
        "path": src.subdir(),
        "model_name": m.model_name,
        "signature": written,
        "method": method,
        "files": m.file_count(),
        "resources": m.resources.len(),
        "bytes": signed.hashed.bytes,
        "digest": format!("sha256:{}", hex::encode(m.root_digest())),
        "warnings": signed.hashed.warnings,
    }))
}

fn describe_rev(src: &GitSource) -> String {
    let id = src
        .commit()
        .map(|c| c.to_string()[..12].to_string())
        .unwrap_or_else(|| src.rev().to_string());
    if src.subdir().is_empty() {
        id
    } else {
        format!("{id}:{}", src.subdir())
    }
}

fn need_commit(src: &GitSource) -> Result<Oid> {
    src.commit().ok_or_else(|| {
        Error::Usage(format!(
            "{} names a tree, not a commit; notes and commits attach to commits",
            src.rev()
        ))
    })
}

/// `path` relative to the model folder, when it is inside it (the reference leaves the
/// signature file out of a checkout's manifest the same way).
fn model_relative(root: &Path, path: &Path) -> Result<Vec<String>> {
    let p = resolve_lenient(path)?;
    Ok(match p.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            rel.to_str().map(str::to_string).into_iter().collect()
        }
        _ => Vec::new(),
    })
}

/// Where a verified signature was found.
pub struct Found {
    /// The bundle bytes.
    pub bytes: Vec<u8>,
    /// Where they came from, in words.
    pub origin: String,
    /// `file`, `tree` or `note`.
    pub kind: &'static str,
    /// Paths to leave out of the model (the signature file itself).
    pub ignore: Vec<String>,
}

/// Finds the signature of a revision: `--signature` if given, else the signature file in
/// the revision's model folder, else the note on the commit.
pub fn find_signature(t: &GitTarget, src: &GitSource, signature: Option<&Path>) -> Result<Found> {
    let git_dir = t.repo.path();
    if let Some(path) = signature {
        let s = FileStore::new(path);
        return Ok(Found {
            bytes: s.load()?,
            origin: format!("file {}", path.display()),
            kind: "file",
            ignore: model_relative(&t.checkout_root, path)?,
        });
    }
    let in_tree = join_tree_path(src.subdir(), DEFAULT_SIGNATURE_NAME);
    let repo_tree = t
        .repo
        .revparse_single(src.rev())
        .and_then(|o| o.peel_to_tree())
        .map_err(crate::source::git::git_err(src.rev()))?;
    let tf = TreeFileStore::new(git_dir, repo_tree.id(), &in_tree, src.rev());
    if tf.exists()? {
        return Ok(Found {
            bytes: tf.load()?,
            origin: format!("file {} in the revision's tree", tf.describe()),
            kind: "tree",
            ignore: vec![DEFAULT_SIGNATURE_NAME.to_string()],
        });
    }
    if let Some(c) = src.commit() {
        let ns = NotesStore::new(git_dir, c);
        if ns.exists()? {
            return Ok(Found {
                bytes: ns.load()?,
                origin: ns.describe(),
                kind: "note",
                ignore: Vec::new(),
            });
        }
    }
    Err(Error::InvalidSignature(format!(
        "no signature for {}: no {in_tree} in its tree and no note under {}",
        describe_rev(src),
        crate::store::git::NOTES_REF
    )))
}

/// The outcome of verifying a revision.
pub struct RevVerified {
    /// JSON result.
    pub json: serde_json::Value,
    /// Where the signature came from.
    pub origin: String,
}

/// Verifies a revision against its signature.
pub fn verify_rev(
    ctx: &Ctx,
    spec: &RevSpec,
    config: VerifyingConfig,
    signature: Option<&Path>,
    ignore_unsigned: bool,
) -> Result<RevVerified> {
    let (t, src) = spec.open()?;
    let found = find_signature(&t, &src, signature)?;
    let mut rules = IgnoreRules::new();
    for p in &found.ignore {
        rules.add_path(p)?;
    }
    let config = config
        .add_ignore_rules(&rules)?
        .set_ignore_git_paths(spec.model.ignore_git())
        .set_ignore_unsigned_files(ignore_unsigned)
        .set_allow_symlinks(spec.model.allow_symlinks);
    let signed = config.verify_signature(&found.bytes)?;
    let hashing = config.hashing_for(&signed.manifest)?;
    let src = src.allow_symlinks(hashing.allow_symlinks());
    let bar = Bar::new("verifying", ctx.quiet || ctx.json);
    let verified = config.verify_model(signed, &src, &bar)?;
    for w in &verified.warnings {
        ctx.warn(w);
    }
    let m = &verified.manifest;
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded: {} file(s) ({}) of {} match the signature by {} (signature: {})",
            m.file_count(),
            HumanBytes(verified.hashed.bytes),
            describe_rev(&src),
            verified.signer,
            found.origin
        );
    }
    Ok(RevVerified {
        json: json!({
            "status": "verified",
            "revision": spec.rev(),
            "commit": src.commit().map(|c| c.to_string()),
            "path": src.subdir(),
            "signature": found.origin,
            "signature_kind": found.kind,
            "method": config.method(),
            "signer": verified.signer,
            "files": m.file_count(),
            "resources": m.resources.len(),
            "bytes": verified.hashed.bytes,
            "digest": format!("sha256:{}", hex::encode(m.root_digest())),
            "warnings": verified.warnings,
        }),
        origin: found.origin,
    })
}
