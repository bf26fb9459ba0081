//! A model as a git revision holds it: the tree at a commit, read from the object
//! database, never from the work tree or the index.
//!
//! The manifest equals the one of a checkout of that revision with its Git LFS content
//! present: same names (tree paths below the model root), same digests (LFS pointers stand
//! for their content), same ignore rules, same symlink policy. Git LFS pointers give their
//! SHA-256 without any LFS bytes; other hash algorithms and shards read the object from the
//! local LFS store, checked against the pointer.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository, Tree};

use crate::error::{Error, Result};
use crate::ignore::IgnoreRules;
use crate::manifest::ModelPath;
use crate::source::lfs::{self, LfsStore, Pointer, PointerError};
use crate::source::{Content, Entry, Listing, ModelSource, OpenFn};

/// Tree entry modes that matter (the executable bit does not).
const MODE_TREE: i32 = 0o040000;
const MODE_LINK: i32 = 0o120000;
const MODE_SUBMODULE: i32 = 0o160000;

/// Link hops followed before giving up on a cycle (the kernel's limit is 40 too).
const MAX_LINK_HOPS: usize = 40;

/// Longest link target followed (PATH_MAX).
const MAX_LINK_TARGET: usize = 4096;

/// Largest committed file `read_small_file` returns.
const SMALL_FILE: usize = 1 << 20;

/// Turns a libgit2 error into the library's error, saying what was being done.
pub fn git_err(what: impl std::fmt::Display) -> impl FnOnce(git2::Error) -> Error {
    move |e| Error::Other(format!("git: {what}: {}", e.message()))
}

/// Opens the repository that contains `path` (a work tree folder, a `.git` folder or a
/// bare repository).
pub fn open_repo(path: &Path) -> Result<Repository> {
    Repository::discover(path).map_err(|e| {
        Error::Usage(format!(
            "{}: not in a git repository ({})",
            path.display(),
            e.message()
        ))
    })
}

/// The local Git LFS store of a repository: `lfs.storage` when configured (relative to the
/// git directory), else `<git-common-dir>/lfs`, as git-lfs itself decides.
pub fn lfs_store(repo: &Repository) -> LfsStore {
    let common = repo.commondir().to_path_buf();
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("lfs.storage").ok());
    LfsStore::new(match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => common.join(p),
        None => common.join("lfs"),
    })
}

/// The name a checkout of the repository would give the model: the work tree's folder
/// name (a bare repository's name without `.git`), or the last component of the subfolder.
pub fn checkout_name(repo: &Repository, subdir: &str) -> String {
    if let Some(last) = subdir.rsplit('/').find(|c| !c.is_empty()) {
        return last.to_string();
    }
    let base = repo.workdir().unwrap_or_else(|| repo.path());
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match (repo.workdir(), name.strip_suffix(".git")) {
        (None, Some(stripped)) if !stripped.is_empty() => stripped.to_string(),
        _ => name,
    }
}

/// Normalises a model subfolder given on the command line: `./a//b/` -> `a/b`.
pub fn normalize_subdir(subdir: &str) -> Result<String> {
    let mut parts = Vec::new();
    for c in subdir.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(Error::Usage(format!(
                    "--path {subdir:?} must stay inside the repository"
                )))
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// The model at a revision of a git repository.
#[derive(Debug, Clone)]
pub struct GitSource {
    git_dir: PathBuf,
    rev: String,
    commit: Option<Oid>,
    tree: Oid,
    subdir: String,
    name: String,
    lfs: LfsStore,
    allow_symlinks: bool,
    fetch_hint: String,
}

impl GitSource {
    /// The model at `rev` (a commit, branch, tag or tree) of `repo`, below `subdir`
    /// (empty: the whole tree).
    pub fn new(repo: &Repository, rev: &str, subdir: &str) -> Result<Self> {
        let subdir = normalize_subdir(subdir)?;
        let obj = repo
            .revparse_single(rev)
            .map_err(|e| Error::Usage(format!("git revision {rev:?}: {}", e.message())))?;
        let commit = obj.peel_to_commit().ok().map(|c| c.id());
        let root = obj
            .peel_to_tree()
            .map_err(|e| Error::Usage(format!("git revision {rev:?}: {}", e.message())))?;
        let tree = if subdir.is_empty() {
            root.id()
        } else {
            let entry = root
                .get_path(Path::new(&subdir))
                .map_err(|_| Error::Usage(format!("{subdir}: no such folder at revision {rev}")))?;
            if entry.kind() != Some(ObjectType::Tree) {
                return Err(Error::Usage(format!(
                    "{subdir}: not a folder at revision {rev}"
                )));
            }
            entry.id()
        };
        let remote = default_remote(repo);
        let dir = repo.workdir().unwrap_or_else(|| repo.path());
        Ok(GitSource {
            git_dir: repo.path().to_path_buf(),
            rev: rev.to_string(),
            commit,
            tree,
            name: checkout_name(repo, &subdir),
            subdir,
            lfs: lfs_store(repo),
            allow_symlinks: false,
            fetch_hint: format!(
                "fetch the Git LFS objects with `git -C {} lfs fetch {remote} {rev}` (or `git lfs pull` in a checkout), then run again",
                dir.display()
            ),
        })
    }

    /// Follow symbolic links to files that stay inside the model (as `--allow-symlinks`
    /// does for a folder).
    pub fn allow_symlinks(mut self, allow: bool) -> Self {
        self.allow_symlinks = allow;
        self
    }

    /// The commit the revision names (None when it names a tree).
    pub fn commit(&self) -> Option<Oid> {
        self.commit
    }

    /// The model root's tree.
    pub fn tree(&self) -> Oid {
        self.tree
    }

    /// The model folder inside the repository (`""` for the root).
    pub fn subdir(&self) -> &str {
        &self.subdir
    }

    /// The revision as given.
    pub fn rev(&self) -> &str {
        &self.rev
    }

    fn open(&self) -> Result<Repository> {
        Repository::open(&self.git_dir).map_err(git_err(self.git_dir.display()))
    }
}

fn default_remote(repo: &Repository) -> String {
    let names: Vec<String> = repo
        .remotes()
        .map(|r| {
            r.iter()
                .filter_map(|n| n.ok().flatten())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if names.iter().any(|n| n == "origin") || names.is_empty() {
        "origin".into()
    } else {
        names[0].clone()
    }
}

/// What a path inside the model tree is, after following links.
enum Resolved {
    Blob(Oid),
    Tree,
}

struct Walker<'a> {
    src: &'a GitSource,
    repo: &'a Repository,
    root: Tree<'a>,
    rules: &'a IgnoreRules,
    out: Listing,
}

impl Walker<'_> {
    fn unsupported(&self, rel: &str, reason: impl Into<String>) -> Error {
        Error::UnsupportedEntry {
            path: PathBuf::from(format!("{}:{}", self.src.rev, self.src.full_path(rel))),
            reason: reason.into(),
        }
    }

    fn walk(&mut self, tree: &Tree<'_>, prefix: &str) -> Result<()> {
        let mut previous: Option<Vec<u8>> = None;
        for e in tree.iter() {
            // git itself never writes such trees; a crafted one must not smuggle a path
            // past the ignore rules or name one file twice.
            let raw = e.name_bytes();
            if raw.is_empty() || raw == b"." || raw == b".." || raw.contains(&b'/') {
                return Err(self.unsupported(
                    &format!("{prefix}{}", String::from_utf8_lossy(raw)),
                    "tree entry has an invalid name (corrupt or crafted tree)",
                ));
            }
            if previous.as_deref() == Some(raw) {
                return Err(self.unsupported(
                    &format!("{prefix}{}", String::from_utf8_lossy(raw)),
                    "tree names this entry twice (corrupt or crafted tree)",
                ));
            }
            previous = Some(raw.to_vec());
            let name = e.name().map_err(|_| {
                self.unsupported(
                    &format!("{prefix}{}", String::from_utf8_lossy(e.name_bytes())),
                    "file name is not valid UTF-8; signatures name files in UTF-8",
                )
            })?;
            let rel = format!("{prefix}{name}");
            let mode = e.filemode();
            let ignored = match mode {
                MODE_TREE => self.rules.is_ignored(&rel, true),
                MODE_LINK | MODE_SUBMODULE => {
                    self.rules.is_ignored(&rel, false) || self.rules.is_ignored(&rel, true)
                }
                _ => self.rules.is_ignored(&rel, false),
            };
            if ignored {
                continue;
            }
            match mode {
                MODE_TREE => {
                    let sub = self
                        .repo
                        .find_tree(e.id())
                        .map_err(git_err(format!("tree {rel}")))?;
                    self.walk(&sub, &format!("{rel}/"))?;
                }
                MODE_SUBMODULE => {
                    return Err(self.unsupported(
                        &rel,
                        "is a git submodule; msign does not sign another repository's content (leave it out with --ignore-paths or --exclude)",
                    ))
                }
                MODE_LINK => {
                    if !self.src.allow_symlinks {
                        return Err(self.unsupported(
                            &rel,
                            "is a symbolic link; pass --allow-symlinks to follow links that stay inside the model",
                        ));
                    }
                    match self.resolve_link(&rel, e.id())? {
                        Resolved::Blob(oid) => self.push_blob(&rel, oid)?,
                        Resolved::Tree => self.out.warnings.push(format!(
                            "{rel}: symbolic link to a folder, not followed (as model_signing)"
                        )),
                    }
                }
                m if m & 0o170000 == 0o100000 => self.push_blob(&rel, e.id())?,
                m => return Err(self.unsupported(&rel, format!("has unknown tree mode {m:o}"))),
            }
        }
        Ok(())
    }

    /// Follows a link the way the filesystem would in a checkout, refusing targets outside
    /// the model root.
    fn resolve_link(&self, rel: &str, mut blob: Oid) -> Result<Resolved> {
        let mut at: Vec<String> = rel.split('/').map(str::to_string).collect();
        for _ in 0..MAX_LINK_HOPS {
            let odb = self.repo.odb().map_err(git_err("object database"))?;
            let (len, _) = odb
                .read_header(blob)
                .map_err(git_err(format!("link {rel}")))?;
            if len > MAX_LINK_TARGET {
                return Err(self.unsupported(rel, "symbolic link target is implausibly long"));
            }
            let target = self
                .repo
                .find_blob(blob)
                .map_err(git_err(format!("link {rel}")))?;
            let target = std::str::from_utf8(target.content())
                .map_err(|_| self.unsupported(rel, "link target is not UTF-8"))?
                .to_string();
            if target.starts_with('/') {
                return Err(self.unsupported(
                    rel,
                    format!("is a symbolic link to {target}, outside the model; msign does not follow links out of the model"),
                ));
            }
            at.pop();
            for c in target.split('/') {
                match c {
                    "" | "." => {}
                    ".." => {
                        if at.pop().is_none() {
                            return Err(self.unsupported(
                                rel,
                                format!("is a symbolic link to {target}, outside the model; msign does not follow links out of the model"),
                            ));
                        }
                    }
                    c => at.push(c.to_string()),
                }
            }
            if at.is_empty() {
                return Ok(Resolved::Tree);
            }
            let joined = at.join("/");
            let entry = self.root.get_path(Path::new(&joined)).map_err(|_| {
                self.unsupported(rel, format!("is a dangling symbolic link to {target}"))
            })?;
            match entry.filemode() {
                MODE_TREE => return Ok(Resolved::Tree),
                MODE_LINK => blob = entry.id(),
                MODE_SUBMODULE => {
                    return Err(self.unsupported(rel, "is a symbolic link to a git submodule"))
                }
                _ => return Ok(Resolved::Blob(entry.id())),
            }
        }
        Err(self.unsupported(rel, "too many levels of symbolic links"))
    }

    fn push_blob(&mut self, rel: &str, oid: Oid) -> Result<()> {
        let path = ModelPath::parse(rel)
            .map_err(|_| self.unsupported(rel, "name cannot be written in a signature"))?;
        let odb = self.repo.odb().map_err(git_err("object database"))?;
        let (size, _) = odb
            .read_header(oid)
            .map_err(git_err(format!("blob {oid} of {rel}")))?;
        if size < lfs::MAX_POINTER_SIZE {
            let blob = self
                .repo
                .find_blob(oid)
                .map_err(git_err(format!("blob {oid} of {rel}")))?;
            match Pointer::parse(blob.content()) {
                Ok(p) => {
                    let content = match self.src.lfs.present(&p) {
                        Some(obj) => lfs::checked_object(obj, &p),
                        None => Content::Unavailable {
                            hint: self.src.fetch_hint.clone(),
                        },
                    };
                    self.out.entries.push(Entry {
                        path,
                        size: p.size,
                        content,
                        known_sha256: Some(p.oid),
                    });
                    return Ok(());
                }
                Err(PointerError::Extensions) => {
                    return Err(self.unsupported(
                        rel,
                        "is a Git LFS pointer using extensions, which msign cannot reproduce; sign a checkout instead",
                    ))
                }
                Err(PointerError::NotPointer) => {
                    self.out.entries.push(Entry {
                        path,
                        size: size as u64,
                        content: Content::Bytes(Arc::from(blob.content())),
                        known_sha256: None,
                    });
                    return Ok(());
                }
            }
        }
        // Larger blobs are read when hashed, one at a time per worker, so memory follows
        // the number of threads rather than the size of the model.
        self.out.entries.push(Entry {
            path,
            size: size as u64,
            content: Content::Stream(blob_stream(self.src.git_dir.clone(), oid)),
            known_sha256: None,
        });
        Ok(())
    }
}

fn blob_stream(git_dir: PathBuf, oid: Oid) -> OpenFn {
    Arc::new(move || {
        let io = |e: git2::Error| std::io::Error::other(e.message().to_string());
        let repo = Repository::open(&git_dir).map_err(io)?;
        let blob = repo.find_blob(oid).map_err(io)?;
        Ok(Box::new(Cursor::new(blob.content().to_vec())) as Box<dyn std::io::Read + Send>)
    })
}

impl GitSource {
    fn full_path(&self, rel: &str) -> String {
        match (self.subdir.is_empty(), rel.is_empty()) {
            (true, _) => rel.to_string(),
            (false, true) => self.subdir.clone(),
            (false, false) => format!("{}/{rel}", self.subdir),
        }
    }
}

impl ModelSource for GitSource {
    fn model_name(&self) -> String {
        self.name.clone()
    }

    fn list(&self, rules: &IgnoreRules) -> Result<Listing> {
        let repo = self.open()?;
        let root = repo
            .find_tree(self.tree)
            .map_err(git_err(format!("tree {}", self.tree)))?;
        let mut w = Walker {
            src: self,
            repo: &repo,
            root: root.clone(),
            rules,
            out: Listing::default(),
        };
        w.walk(&root, "")?;
        Ok(w.out)
    }

    fn read_small_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let repo = self.open()?;
        let root = repo
            .find_tree(self.tree)
            .map_err(git_err(format!("tree {}", self.tree)))?;
        let Ok(entry) = root.get_path(Path::new(path)) else {
            return Ok(None);
        };
        if entry.filemode() & 0o170000 != 0o100000 {
            return Ok(None);
        }
        let blob = repo
            .find_blob(entry.id())
            .map_err(git_err(format!("blob of {path}")))?;
        if blob.size() > SMALL_FILE {
            return Ok(None);
        }
        Ok(Some(blob.content().to_vec()))
    }

    fn describe(&self) -> String {
        if self.subdir.is_empty() {
            format!("git {}", self.rev)
        } else {
            format!("git {}:{}", self.rev, self.subdir)
        }
    }
}
