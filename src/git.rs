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
    /// Also try the signature file `--store file` writes by default, `model.sig` in the
    /// model folder of the work tree. On by default; the pre-push hook turns it off, since
    /// a file that is not pushed proves nothing to the remote.
    pub look_in_work_tree: bool,
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
            look_in_work_tree: true,
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
            symlinks_outside: Vec::new(),
            ignore_git_paths: self.ignore_git_paths,
            ignore_paths: Vec::new(),
        }
    }

    /// The model as a path (what reports call `model`): the model folder in the work tree
    /// (the git directory of a bare repository), however the repository was named; the
    /// folder given joined with the model folder when no repository is found there.
    pub fn model_path(&self) -> PathBuf {
        match self.location().locate(Path::new(".")) {
            Ok(t) => t.checkout_root,
            Err(_) => self.dir.join(&self.subdir),
        }
    }

    /// The commit the revision names, when it names one in a repository that opens: lets
    /// a failure say which commit it was about.
    pub fn commit_id(&self) -> Option<String> {
        let (_, src) = self.open().ok()?;
        src.commit().map(|c| c.to_string())
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
    /// The model: the model folder in the work tree (the git directory of a bare
    /// repository).
    pub model: PathBuf,
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
    /// Who signed, as verification will name them (key hint, certificate subject).
    pub signer: String,
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
    /// The model: the model folder in the work tree (the git directory of a bare
    /// repository).
    pub model: PathBuf,
    /// The revision as given.
    pub revision: String,
    /// The commit it resolved to (none for a tree).
    pub commit: Option<String>,
    /// The model folder inside the repository.
    pub path: String,
    /// Where the signature came from, in words.
    pub signature: String,
    /// `file` (`--signature`), `tree` (in the revision), `note`, or `work-tree` (the
    /// default `--store file` place).
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
    /// The other signatures found for the revision, tried before the one that verified,
    /// and why each did not.
    pub rejected: Vec<RejectedSignature>,
}

/// A signature found for a revision that did not verify.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedSignature {
    /// Where it came from, in words.
    pub signature: String,
    /// `file`, `tree`, `note` or `work-tree`.
    pub signature_kind: &'static str,
    /// Why it did not verify.
    pub reason: String,
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
            let path = match (signature, t.repo.workdir()) {
                (Some(p), _) => p.to_path_buf(),
                // Where `verify` looks for it, and where a checkout-based verifier
                // (`model_signing verify DIR`) expects it.
                (None, Some(_)) => t.checkout_root.join(DEFAULT_SIGNATURE_NAME),
                (None, None) => PathBuf::from(DEFAULT_SIGNATURE_NAME),
            };
            let ignores = model_relative(&t.checkout_root, &path)?;
            let store = FileStore::new(path);
            let saver: Box<dyn SignatureStore> = if ignores.is_empty() {
                Box::new(store)
            } else {
                Box::new(WorkTreeFile(store))
            };
            (ignores, saver)
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
    let bundle = signed.bundle.to_json();
    let written = saver.save(&bundle)?;
    let m = &signed.hashed.manifest;
    Ok(RevisionSigned {
        status: "signed",
        model: t.checkout_root.clone(),
        signer: crate::store::git::bundle_signer(&bundle).unwrap_or_default(),
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

/// A signature file in the model folder of the work tree: saved like any file, and
/// described so the user knows git does not hold it.
struct WorkTreeFile(FileStore);

impl SignatureStore for WorkTreeFile {
    fn save(&self, bundle: &[u8]) -> Result<String> {
        self.0.save(bundle)?;
        Ok(self.describe())
    }

    fn load(&self) -> Result<Vec<u8>> {
        self.0.load()
    }

    fn describe(&self) -> String {
        format!(
            "{} (in the work tree, not in git: `git model-sign verify` finds it there; commit it, or sign with --store notes or --store commit to publish the signature)",
            self.0.describe()
        )
    }
}

/// A revision's signature, as [`find_signatures`] found it.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    /// The bundle bytes.
    pub bytes: Vec<u8>,
    /// Where they came from, in words.
    pub origin: String,
    /// `file` (`--signature`), `tree`, `note` or `work-tree`.
    pub kind: &'static str,
    /// Paths to leave out of the model (the signature file itself).
    pub ignore: Vec<String>,
}

/// Finds the signature of the model at `rev`: the first of [`find_signatures`].
pub fn find_signature(rev: &RevSpec, signature: Option<&Path>) -> Result<FoundSignature> {
    Ok(find_signatures(rev, signature)?.remove(0))
}

/// Finds every signature of the model at `rev`: `signature` alone if given; else the
/// signature file in the revision's model folder, each signature in the commit's note,
/// and (with [`RevSpec::look_in_work_tree`]) `model.sig` in the model folder of the work
/// tree, in that order, each once. Finding none is an error (exit 3 in the CLI, as for a
/// missing signature file) that says where it looked and how to fetch notes.
pub fn find_signatures(rev: &RevSpec, signature: Option<&Path>) -> Result<Vec<FoundSignature>> {
    let (t, src) = rev.open()?;
    find_in(&t, &src, signature, rev.look_in_work_tree)
}

fn find_in(
    t: &GitTarget,
    src: &GitSource,
    signature: Option<&Path>,
    work_tree: bool,
) -> Result<Vec<FoundSignature>> {
    let git_dir = t.repo.path();
    if let Some(path) = signature {
        let s = FileStore::new(path);
        return Ok(vec![FoundSignature {
            bytes: s.load()?,
            origin: format!("file {}", path.display()),
            kind: "file",
            ignore: model_relative(&t.checkout_root, path)?,
        }]);
    }
    let mut found: Vec<FoundSignature> = Vec::new();
    let mut add = |f: FoundSignature| {
        if !found
            .iter()
            .any(|g| g.bytes == f.bytes && g.ignore == f.ignore)
        {
            found.push(f);
        }
    };
    let in_tree = crate::source::git::join(src.subdir(), DEFAULT_SIGNATURE_NAME);
    let repo_tree = t
        .repo
        .revparse_single(src.rev())
        .and_then(|o| o.peel_to_tree())
        .map_err(crate::source::git::git_err(src.rev()))?;
    let tf = TreeFileStore::new(git_dir, repo_tree.id(), &in_tree, src.rev());
    if tf.exists()? {
        add(FoundSignature {
            bytes: tf.load()?,
            origin: format!("file {} in the revision's tree", tf.describe()),
            kind: "tree",
            ignore: vec![DEFAULT_SIGNATURE_NAME.to_string()],
        });
    }
    let mut notes_state = NotesState::NoRef;
    if let Some(c) = src.commit() {
        let ns = NotesStore::new(git_dir, c);
        if ns.exists()? {
            let all = ns.load_all()?;
            let n = all.len();
            for (i, bytes) in all.into_iter().enumerate() {
                let origin = if n == 1 {
                    ns.describe()
                } else {
                    format!("{}, signature {} of {n}", ns.describe(), i + 1)
                };
                add(FoundSignature {
                    bytes,
                    origin,
                    kind: "note",
                    ignore: Vec::new(),
                });
            }
        } else if t.repo.find_reference(NOTES_REF).is_ok() {
            notes_state = NotesState::NoNote;
        }
    }
    let on_disk = t.checkout_root.join(DEFAULT_SIGNATURE_NAME);
    if work_tree && t.repo.workdir().is_some() && on_disk.is_file() {
        add(FoundSignature {
            bytes: FileStore::new(&on_disk).load()?,
            origin: format!("file {} in the work tree", on_disk.display()),
            kind: "work-tree",
            ignore: vec![DEFAULT_SIGNATURE_NAME.to_string()],
        });
    }
    if !found.is_empty() {
        return Ok(found);
    }
    let mut msg = format!(
        "no signature for {}: no {in_tree} in its tree and no note under {NOTES_REF}",
        describe_src(src),
    );
    if work_tree && t.repo.workdir().is_some() {
        msg.push_str(&format!(", nor {} in the work tree", on_disk.display()));
    }
    msg.push_str(&notes_hint(&t.repo, notes_state));
    Err(Error::NotFound(msg))
}

/// What the repository knows of the notes ref, for the hint when no signature is found.
enum NotesState {
    /// No `refs/notes/model-signing` at all: the usual state of a fresh clone.
    NoRef,
    /// The ref exists but has no note on this commit.
    NoNote,
}

/// The remote notes most likely come from: the current branch's, else `origin`, else the
/// only one.
fn likely_remote(repo: &git2::Repository) -> Option<String> {
    let from_branch = repo.head().ok().and_then(|h| {
        let name = h.name().ok()?.to_string();
        let remote = repo.branch_upstream_remote(&name).ok()?;
        remote.as_str().ok().map(str::to_string)
    });
    if from_branch.is_some() {
        return from_branch;
    }
    let remotes = repo.remotes().ok()?;
    let names: Vec<&str> = remotes.iter().flatten().flatten().collect();
    if names.contains(&"origin") {
        return Some("origin".into());
    }
    match names[..] {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

fn notes_hint(repo: &git2::Repository, state: NotesState) -> String {
    let Some(remote) = likely_remote(repo) else {
        return String::new();
    };
    let fetch = format!("git fetch {remote} {NOTES_REF}:{NOTES_REF}");
    match state {
        NotesState::NoRef => format!(
            ".\nThis repository has no {NOTES_REF}: git clone and git fetch do not fetch notes by default. If the signature is a note, fetch it with `{fetch}` (or have every fetch bring the notes: `msign hook install --fetch-notes`)"
        ),
        NotesState::NoNote => format!(
            ".\nIf the signature is a note made elsewhere, fetch the latest notes with `{fetch}`"
        ),
    }
}

/// Verifies the model at `rev` against its signatures (`signature`, or every one
/// [`find_signatures`] finds) and passes when one of them verifies with `config`; the
/// report names it and says why the others did not. With `ignore_unsigned`, files the
/// signature does not name are allowed.
///
/// When none verifies: with one signature found, its error; with several, an error that
/// lists each and why, a verification failure unless one could not be checked at all
/// (content not available, I/O).
pub fn verify_revision(
    rev: &RevSpec,
    config: VerifyingConfig,
    signature: Option<&Path>,
    ignore_unsigned: bool,
    progress: &dyn Progress,
) -> Result<RevisionVerified> {
    let (t, src) = rev.open()?;
    let found = find_in(&t, &src, signature, rev.look_in_work_tree)?;
    let config = config
        .set_ignore_git_paths(rev.ignore_git_paths)
        .set_ignore_unsigned_files(ignore_unsigned)
        .set_allow_symlinks(rev.allow_symlinks);
    let mut rejected: Vec<(FoundSignature, Error)> = Vec::new();
    for f in found {
        match verify_one(&config, &f, &src, progress) {
            Ok(verified) => {
                let m = &verified.manifest;
                return Ok(RevisionVerified {
                    status: "verified",
                    model: t.checkout_root.clone(),
                    revision: rev.rev.clone(),
                    commit: src.commit().map(|c| c.to_string()),
                    path: src.subdir().to_string(),
                    signature: f.origin,
                    signature_kind: f.kind,
                    method: config.method(),
                    signer: verified.signer.clone(),
                    files: m.file_count(),
                    resources: m.resources.len(),
                    bytes: verified.hashed.bytes,
                    digest: format!("sha256:{}", hex::encode(m.root_digest())),
                    warnings: verified.warnings.clone(),
                    rejected: rejected
                        .into_iter()
                        .map(|(f, e)| RejectedSignature {
                            signature: f.origin,
                            signature_kind: f.kind,
                            reason: e.to_string(),
                        })
                        .collect(),
                });
            }
            Err(e) => rejected.push((f, e)),
        }
    }
    if rejected.len() == 1 {
        return Err(rejected.remove(0).1);
    }
    let all_failed_verification = rejected.iter().all(|(_, e)| e.is_verification_failure());
    let mut msg = format!(
        "none of the {} signatures found for {} verifies:",
        rejected.len(),
        describe_src(&src)
    );
    for (f, e) in &rejected {
        let reason = e.to_string().trim_end().replace('\n', "\n    ");
        msg.push_str(&format!("\n  {}:\n    {reason}", f.origin));
    }
    Err(if all_failed_verification {
        Error::InvalidSignature(msg)
    } else {
        Error::Other(msg)
    })
}

/// Verifies one candidate signature of the revision: its signature, then the model with
/// the candidate's own ignore rules (a tree or work-tree file leaves itself out; a note
/// covers the whole folder, a stale `model.sig` included).
fn verify_one(
    config: &VerifyingConfig,
    found: &FoundSignature,
    src: &GitSource,
    progress: &dyn Progress,
) -> Result<crate::verify::Verified> {
    let mut rules = IgnoreRules::new();
    for p in &found.ignore {
        rules.add_path(p)?;
    }
    let config = config.clone().add_ignore_rules(&rules)?;
    let signed = config.verify_signature(&found.bytes)?;
    let hashing = config.hashing_for(&signed.manifest)?;
    let src = src.clone().allow_symlinks(hashing.allow_symlinks());
    config.verify_model(signed, &src, progress)
}
