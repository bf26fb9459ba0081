//! Signing and verifying what a git revision holds: the workflows behind `git model-sign`,
//! `msign --git-rev` and the pre-push hook, as library calls with typed reports.
//!
//! The model is read from the object database (no checkout; Git LFS pointers stand for
//! their content), and the signature goes to a file, a git note on the commit, or a new
//! commit that adds it ([`StoreKind`]).
//!
//! ```no_run
//! use msign::git::{sign_revision, RevSpec, StoreKind};
//! use msign::{HashingConfig, NoProgress};
//! # fn main() -> msign::Result<()> {
//! let signer = msign::sign::signer_from_files("key.pem".as_ref(), None, None)?;
//! let rev = RevSpec::new("path/to/repo", "HEAD");
//! let report = sign_revision(&rev, HashingConfig::new(), signer, StoreKind::Notes, None, &NoProgress)?;
//! println!("{} files signed into {}", report.files, report.signature);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use git2::Oid;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::{HashingConfig, Progress};
use crate::ignore::IgnoreRules;
use crate::sign::{Signer, SigningConfig};
use crate::source::git::{normalize_subdir, GitSource};
use crate::source::spec::{model_relative, GitTarget};
use crate::source::{GitLocation, ModelSource, ModelSpec};
use crate::store::git::{
    CommitStore, NotesStore, TreeFileStore, DEFAULT_SIGNATURE_NAME, NOTES_REF,
};
use crate::store::{FileStore, SignatureStore};
use crate::verify::VerifyingConfig;

/// Where a revision's signature is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A file (`--signature`, default `model.sig` in the current folder).
    File,
    /// A new commit on the current branch adding the signature file to the model folder.
    Commit,
    /// A git note on the signed commit under refs/notes/model-signing.
    Notes,
}

/// A model at a git revision: the repository, the revision, the folder inside it.
#[derive(Debug, Clone)]
pub struct RevSpec {
    /// The repository, or a folder in it.
    pub dir: PathBuf,
    /// The revision (commit, branch, tag; a tree also works for `file` signatures).
    pub rev: String,
    /// The model folder inside the repository (`""`: the whole tree).
    pub subdir: String,
    /// Follow symbolic links (tree entries) that stay inside the model.
    pub allow_symlinks: bool,
    /// Leave out `.git*` paths (the reference's default).
    pub ignore_git_paths: bool,
}

impl RevSpec {
    /// The whole tree of `rev` in the repository found from `dir`, with the reference's
    /// defaults (git paths ignored, links refused).
    pub fn new(dir: impl Into<PathBuf>, rev: &str) -> Self {
        RevSpec {
            dir: dir.into(),
            rev: rev.to_string(),
            subdir: String::new(),
            allow_symlinks: false,
            ignore_git_paths: true,
        }
    }

    /// The model folder inside the repository.
    pub fn subdir(mut self, subdir: &str) -> Self {
        self.subdir = subdir.to_string();
        self
    }

    fn location(&self) -> GitLocation {
        GitLocation {
            rev: self.rev.clone(),
            dir: Some(self.dir.clone()),
            subdir: Some(self.subdir.clone()),
        }
    }

    /// The same model as a [`ModelSpec`] (for [`crate::source::open`]).
    pub fn model(&self) -> ModelSpec {
        ModelSpec {
            path: PathBuf::from("."),
            git: Some(self.location()),
            allow_symlinks: self.allow_symlinks,
            ignore_git_paths: self.ignore_git_paths,
            ignore_paths: Vec::new(),
        }
    }

    fn open(&self) -> Result<(GitTarget, GitSource)> {
        let t = self.location().locate(Path::new("."))?;
        let src =
            GitSource::new(&t.repo, &self.rev, &t.subdir)?.allow_symlinks(self.allow_symlinks);
        Ok((t, src))
    }
}

/// What [`sign_revision`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionSigned {
    /// Always `signed`.
    pub status: &'static str,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to (none for a tree).
    pub commit: Option<String>,
    /// The tree signed.
    pub tree: String,
    /// The model folder inside the repository.
    pub path: String,
    /// The model name in the statement.
    pub model_name: String,
    /// Where the signature went, in words.
    pub signature: String,
    /// The signing method.
    pub method: &'static str,
    /// Files signed.
    pub files: usize,
    /// Resources signed (files, or shards).
    pub resources: usize,
    /// Bytes covered.
    pub bytes: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
    /// Every ignore rule applied, where it came from and what it left out.
    pub ignore_rules: Vec<crate::ignore::RuleUse>,
}

impl RevisionSigned {
    /// `<commit>` or `<commit>:<path>`, as messages name the revision.
    pub fn describe(&self) -> String {
        describe(self.commit.as_deref(), &self.revision, &self.path)
    }
}

/// What [`verify_revision`] found.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionVerified {
    /// Always `verified`.
    pub status: &'static str,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to (none for a tree).
    pub commit: Option<String>,
    /// The model folder inside the repository.
    pub path: String,
    /// Where the signature came from, in words.
    pub signature: String,
    /// `file`, `tree` or `note`.
    pub signature_kind: &'static str,
    /// The verification method.
    pub method: &'static str,
    /// Who signed (key hint, certificate subject, Sigstore identity).
    pub signer: String,
    /// Files verified.
    pub files: usize,
    /// Resources verified (files, or shards).
    pub resources: usize,
    /// Bytes covered.
    pub bytes: u64,
    /// `sha256:<hex>` of the statement's subject.
    pub digest: String,
    /// Things the user may want to know.
    pub warnings: Vec<String>,
}

impl RevisionVerified {
    /// `<commit>` or `<commit>:<path>`, as messages name the revision.
    pub fn describe(&self) -> String {
        describe(self.commit.as_deref(), &self.revision, &self.path)
    }
}

fn describe(commit: Option<&str>, rev: &str, subdir: &str) -> String {
    let id = commit
        .map(|c| c[..12].to_string())
        .unwrap_or_else(|| rev.to_string());
    if subdir.is_empty() {
        id
    } else {
        format!("{id}:{subdir}")
    }
}

fn describe_src(src: &GitSource) -> String {
    describe(
        src.commit().map(|c| c.to_string()).as_deref(),
        src.rev(),
        src.subdir(),
    )
}

fn need_commit(src: &GitSource) -> Result<Oid> {
    src.commit().ok_or_else(|| {
        Error::Usage(format!(
            "{} names a tree, not a commit; notes and commits attach to commits",
            src.rev()
        ))
    })
}

/// Signs the model at `rev` with `hashing` (serialization, algorithm, excludes; the
/// revision's link and git-path choices are applied here) and stores the signature.
/// `signature` is the file for [`StoreKind::File`] (default `model.sig`), or the name in
/// the model folder for [`StoreKind::Commit`].
pub fn sign_revision(
    rev: &RevSpec,
    hashing: HashingConfig,
    signer: Box<dyn Signer>,
    store: StoreKind,
    signature: Option<&Path>,
    progress: &dyn Progress,
) -> Result<RevisionSigned> {
    let (t, src) = rev.open()?;
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
            let rel = normalize_subdir(&sig_name)?;
            if rel.is_empty() {
                return Err(Error::Usage("--signature names no file".into()));
            }
            let s = CommitStore::new(
                &git_dir,
                commit,
                &crate::source::git::join(&t.subdir, &rel),
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
    let mut hashing = hashing
        .set_allow_symlinks(rev.allow_symlinks)
        .set_ignore_git_paths(rev.ignore_git_paths);
    for p in &ignores {
        hashing = hashing.add_ignored_path(p)?;
    }
    let method = signer.method();
    let signed = SigningConfig::new()
        .set_hashing_config(hashing)
        .use_signer(signer)
        .sign(&src, progress)?;
    let written = saver.save(&signed.bundle.to_json())?;
    let m = &signed.hashed.manifest;
    Ok(RevisionSigned {
        status: "signed",
        revision: rev.rev.clone(),
        commit: src.commit().map(|c| c.to_string()),
        tree: src.tree().to_string(),
        path: src.subdir().to_string(),
        model_name: m.model_name.clone(),
        signature: written,
        method,
        files: m.file_count(),
        resources: m.resources.len(),
        bytes: signed.hashed.bytes,
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: signed.hashed.warnings.clone(),
        ignore_rules: signed.hashed.ignore_rules.clone(),
    })
}

/// A revision's signature, as [`find_signature`] found it.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    /// The bundle bytes.
    pub bytes: Vec<u8>,
    /// Where they came from, in words.
    pub origin: String,
    /// `file`, `tree` or `note`.
    pub kind: &'static str,
    /// Paths to leave out of the model (the signature file itself).
    pub ignore: Vec<String>,
}

/// Finds the signature of the model at `rev`: `signature` if given, else the signature
/// file in the revision's model folder, else the note on the commit.
pub fn find_signature(rev: &RevSpec, signature: Option<&Path>) -> Result<FoundSignature> {
    let (t, src) = rev.open()?;
    find_in(&t, &src, signature)
}

fn find_in(t: &GitTarget, src: &GitSource, signature: Option<&Path>) -> Result<FoundSignature> {
    let git_dir = t.repo.path();
    if let Some(path) = signature {
        let s = FileStore::new(path);
        return Ok(FoundSignature {
            bytes: s.load()?,
            origin: format!("file {}", path.display()),
            kind: "file",
            ignore: model_relative(&t.checkout_root, path)?,
        });
    }
    let in_tree = crate::source::git::join(src.subdir(), DEFAULT_SIGNATURE_NAME);
    let repo_tree = t
        .repo
        .revparse_single(src.rev())
        .and_then(|o| o.peel_to_tree())
        .map_err(crate::source::git::git_err(src.rev()))?;
    let tf = TreeFileStore::new(git_dir, repo_tree.id(), &in_tree, src.rev());
    if tf.exists()? {
        return Ok(FoundSignature {
            bytes: tf.load()?,
            origin: format!("file {} in the revision's tree", tf.describe()),
            kind: "tree",
            ignore: vec![DEFAULT_SIGNATURE_NAME.to_string()],
        });
    }
    if let Some(c) = src.commit() {
        let ns = NotesStore::new(git_dir, c);
        if ns.exists()? {
            return Ok(FoundSignature {
                bytes: ns.load()?,
                origin: ns.describe(),
                kind: "note",
                ignore: Vec::new(),
            });
        }
    }
    Err(Error::InvalidSignature(format!(
        "no signature for {}: no {in_tree} in its tree and no note under {NOTES_REF}",
        describe_src(src),
    )))
}

/// Verifies the model at `rev` against its signature (`signature`, or the one
/// [`find_signature`] finds). With `ignore_unsigned`, files the signature does not name
/// are allowed.
pub fn verify_revision(
    rev: &RevSpec,
    config: VerifyingConfig,
    signature: Option<&Path>,
    ignore_unsigned: bool,
    progress: &dyn Progress,
) -> Result<RevisionVerified> {
    let (t, src) = rev.open()?;
    let found = find_in(&t, &src, signature)?;
    let mut rules = IgnoreRules::new();
    for p in &found.ignore {
        rules.add_path(p)?;
    }
    let config = config
        .add_ignore_rules(&rules)?
        .set_ignore_git_paths(rev.ignore_git_paths)
        .set_ignore_unsigned_files(ignore_unsigned)
        .set_allow_symlinks(rev.allow_symlinks);
    let signed = config.verify_signature(&found.bytes)?;
    let hashing = config.hashing_for(&signed.manifest)?;
    let src = src.allow_symlinks(hashing.allow_symlinks());
    let verified = config.verify_model(signed, &src, progress)?;
    let m = &verified.manifest;
    Ok(RevisionVerified {
        status: "verified",
        revision: rev.rev.clone(),
        commit: src.commit().map(|c| c.to_string()),
        path: src.subdir().to_string(),
        signature: found.origin,
        signature_kind: found.kind,
        method: config.method(),
        signer: verified.signer.clone(),
        files: m.file_count(),
        resources: m.resources.len(),
        bytes: verified.hashed.bytes,
        digest: format!("sha256:{}", hex::encode(m.root_digest())),
        warnings: verified.warnings.clone(),
    })
}
