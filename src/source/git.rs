//! A model as a git revision holds it: the tree at a commit, read from the object
//! database, never from the work tree or the index.
//!
//! The manifest equals the one of a checkout of that revision with its Git LFS content
//! present: same names (tree paths below the model root), same digests (LFS pointers stand
//! for their content where the revision's `.gitattributes` route the path through
//! `filter=lfs`, see `source/attributes.rs`; elsewhere a checkout holds the pointer text, and
//! so does the manifest), same ignore rules, same symlink policy. Git LFS pointers give
//! their SHA-256 without any LFS bytes; other hash algorithms and shards read the object
//! from the local LFS store, checked against the pointer.
//!
//! Every tree read is first checked with `git fsck`'s rules (no name twice, strict git
//! order, valid names): git never writes other trees, and for a crafted one a checkout
//! could hold another file than the one read here.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Oid, Repository, Tree};

use crate::error::{Error, Result};
use crate::ignore::{IgnoreRules, Ignored};
use crate::manifest::ModelPath;
use crate::source::attributes::{self, AttrFile, Attributes};
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
    /// The revision's root tree.
    top: Oid,
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
        let at = TreeAt { rev, commit };
        let tree = if subdir.is_empty() {
            root.id()
        } else {
            match at.lookup(repo, &root, "", &subdir)? {
                None => {
                    return Err(Error::Usage(format!(
                        "{subdir}: no such folder at revision {rev}"
                    )))
                }
                Some((MODE_TREE, id)) => id,
                Some(_) => {
                    return Err(Error::Usage(format!(
                        "{subdir}: not a folder at revision {rev}"
                    )))
                }
            }
        };
        let remote = default_remote(repo);
        let dir = repo.workdir().unwrap_or_else(|| repo.path());
        Ok(GitSource {
            git_dir: repo.path().to_path_buf(),
            rev: rev.to_string(),
            commit,
            top: root.id(),
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

    fn at(&self) -> TreeAt<'_> {
        TreeAt {
            rev: &self.rev,
            commit: self.commit,
        }
    }

    /// The attribute files that apply to the files of `folder` (repository-relative):
    /// those of the root and of every folder down to `folder` itself.
    fn attributes_at(&self, repo: &Repository, folder: &str) -> Result<Attributes> {
        let mut attrs = Attributes::default();
        let mut tree = repo
            .find_tree(self.top)
            .map_err(git_err(format!("tree {}", self.top)))?;
        let mut done = String::new();
        let mut parts = folder.split('/').filter(|c| !c.is_empty());
        loop {
            self.at().check(&tree, &done)?;
            if let Some(file) = self.attr_file(repo, &tree, &done)? {
                attrs.push(file);
            }
            let Some(part) = parts.next() else {
                return Ok(attrs);
            };
            match self.at().lookup(repo, &tree, &done, part)? {
                Some((MODE_TREE, id)) => {
                    tree = repo.find_tree(id).map_err(git_err(format!("tree {id}")))?;
                }
                // Not a folder at this revision: nothing below it has attributes.
                _ => return Ok(attrs),
            }
            done = join(&done, part);
        }
    }

    /// The `.gitattributes` of `tree` (the folder `folder`), if it holds one as a file.
    fn attr_file(
        &self,
        repo: &Repository,
        tree: &Tree<'_>,
        folder: &str,
    ) -> Result<Option<AttrFile>> {
        let Some(entry) = tree.get_name(attributes::FILE_NAME) else {
            return Ok(None);
        };
        // git does not follow a symbolic link for an in-tree .gitattributes.
        if entry.filemode() & 0o170000 != 0o100000 {
            return Ok(None);
        }
        let what = join(folder, attributes::FILE_NAME);
        let odb = repo.odb().map_err(git_err("object database"))?;
        let (size, _) = odb
            .read_header(entry.id())
            .map_err(git_err(format!("blob of {what}")))?;
        if size > attributes::MAX_FILE {
            return Ok(None);
        }
        let blob = repo
            .find_blob(entry.id())
            .map_err(git_err(format!("blob of {what}")))?;
        Ok(Some(AttrFile::parse(folder, blob.content())))
    }
}

/// `name` inside the repository folder `folder` (`""` for the root).
pub(crate) fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// What `git fsck` reports about a tree's list of entries; each lets a checkout hold
/// something other than what a reader of the tree object sees.
#[derive(Debug, PartialEq, Eq)]
enum TreeDefect {
    /// A name git never writes: empty, `.`, `..`, or containing `/`.
    BadName,
    /// A name listed twice (`duplicateEntries`), a file and a folder of one name included.
    Duplicate,
    /// Entries out of git's order (`treeNotSorted`).
    Unsorted,
}

/// git's tree order: names compared bytewise, a folder's name as if followed by `/`.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        let end =
            |name: &[u8], tree: bool| name.get(n).copied().unwrap_or(if tree { b'/' } else { 0 });
        end(a, a_tree).cmp(&end(b, b_tree))
    })
}

/// Checks entries (name, is a folder) in tree order with `git fsck`'s rules; the first
/// defect and the index of the entry it was found at.
fn fsck_entries(entries: &[(&[u8], bool)]) -> Option<(usize, TreeDefect)> {
    // Strict order alone misses `a`, `a.b`, `a/`: a file and a folder of one name are
    // apart in git's order, so every name is also checked against all earlier ones.
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    for (i, &(name, tree)) in entries.iter().enumerate() {
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
            return Some((i, TreeDefect::BadName));
        }
        if !seen.insert(name) {
            return Some((i, TreeDefect::Duplicate));
        }
        if let Some(&(prev, prev_tree)) = i.checked_sub(1).and_then(|p| entries.get(p)) {
            if git_order(prev, prev_tree, name, tree) != std::cmp::Ordering::Less {
                return Some((i, TreeDefect::Unsorted));
            }
        }
    }
    None
}

/// A revision, to name it in errors about its trees.
#[derive(Clone, Copy)]
struct TreeAt<'a> {
    rev: &'a str,
    commit: Option<Oid>,
}

impl TreeAt<'_> {
    /// Refuses a tree git would never write (`git fsck`'s rules), before anything is read
    /// from it; `folder` is its repository-relative path.
    fn check(&self, tree: &Tree<'_>, folder: &str) -> Result<()> {
        let names: Vec<(Vec<u8>, bool)> = tree
            .iter()
            .map(|e| (e.name_bytes().to_vec(), e.filemode() == MODE_TREE))
            .collect();
        let entries: Vec<(&[u8], bool)> = names.iter().map(|(n, t)| (&n[..], *t)).collect();
        let Some((i, defect)) = fsck_entries(&entries) else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(entries[i].0);
        let whose = match self.commit {
            Some(c) => format!("tree {} of commit {c}", tree.id()),
            None => format!("tree {}", tree.id()),
        };
        let what = match defect {
            TreeDefect::BadName => "has an entry with an invalid name".to_string(),
            TreeDefect::Duplicate => {
                "lists this name twice (git fsck: duplicateEntries); a checkout holds only one of the entries, which need not be the one msign would read".to_string()
            }
            TreeDefect::Unsorted => {
                "lists its entries out of git's order at this name (git fsck: treeNotSorted), which can hide a second entry of one name".to_string()
            }
        };
        Err(Error::UnsupportedEntry {
            path: PathBuf::from(format!("{}:{}", self.rev, join(folder, &name))),
            reason: format!(
                "{whose} {what}; git never writes such a tree (corrupt or crafted tree): do not use this revision, and fetch it again from a trusted remote"
            ),
        })
    }

    /// The (mode, object) at `path` below `tree` (the folder `folder`), checking every tree
    /// on the way.
    fn lookup(
        &self,
        repo: &Repository,
        tree: &Tree<'_>,
        folder: &str,
        path: &str,
    ) -> Result<Option<(i32, Oid)>> {
        let mut parts = path.split('/').filter(|c| !c.is_empty()).peekable();
        let mut tree = tree.clone();
        let mut at = folder.to_string();
        while let Some(part) = parts.next() {
            self.check(&tree, &at)?;
            let Some(found) = tree.get_name(part).map(|e| (e.filemode(), e.id())) else {
                return Ok(None);
            };
            if parts.peek().is_none() {
                return Ok(Some(found));
            }
            if found.0 != MODE_TREE {
                return Ok(None);
            }
            at = join(&at, part);
            tree = repo
                .find_tree(found.1)
                .map_err(git_err(format!("tree {at}")))?;
        }
        Ok(None)
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
    /// A file: its blob and its model-relative path.
    Blob(Oid, String),
    Tree,
}

/// Whose attributes decide whether a blob is LFS content.
enum AttrsFor<'a> {
    /// The blob's own path in the walk: the walk's attribute files.
    Walk,
    /// A link's target: its path (repository-relative) and the attribute files above it.
    Target(&'a Attributes, &'a str),
}

struct Walker<'a> {
    src: &'a GitSource,
    repo: &'a Repository,
    root: Tree<'a>,
    rules: &'a IgnoreRules,
    attrs: Attributes,
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
        let folder = self.src.full_path(prefix.trim_end_matches('/'));
        self.src.at().check(tree, &folder)?;
        let attrs = self.src.attr_file(self.repo, tree, &folder)?;
        let entered = attrs.is_some();
        if let Some(file) = attrs {
            self.attrs.push(file);
        }
        let walked = self.walk_entries(tree, prefix);
        if entered {
            self.attrs.pop();
        }
        walked
    }

    fn walk_entries(&mut self, tree: &Tree<'_>, prefix: &str) -> Result<()> {
        for e in tree.iter() {
            let name = e.name().map_err(|_| {
                self.unsupported(
                    &format!("{prefix}{}", String::from_utf8_lossy(e.name_bytes())),
                    "file name is not valid UTF-8; signatures name files in UTF-8",
                )
            })?;
            let rel = format!("{prefix}{name}");
            let mode = e.filemode();
            let ignored = match mode {
                MODE_TREE => self.rules.ignored_by(&rel, true),
                MODE_LINK | MODE_SUBMODULE => self
                    .rules
                    .ignored_by(&rel, false)
                    .or_else(|| self.rules.ignored_by(&rel, true)),
                _ => self.rules.ignored_by(&rel, false),
            };
            if let Some(rule) = ignored {
                // Named as the folder source names them, so signing reports what each rule
                // left out whatever the source.
                let slash = if mode == MODE_TREE { "/" } else { "" };
                self.out.ignored.push(Ignored {
                    path: format!("{rel}{slash}"),
                    rule: rule.to_string(),
                });
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
                        Resolved::Blob(oid, target) => {
                            // A checkout gives the link its target's content, filtered
                            // by the attributes of the target's path.
                            let target = self.src.full_path(&target);
                            let folder = target.rsplit_once('/').map_or("", |(f, _)| f);
                            let attrs = self.src.attributes_at(self.repo, folder)?;
                            self.push_blob(&rel, oid, AttrsFor::Target(&attrs, &target))?
                        }
                        Resolved::Tree => self.out.warnings.push(format!(
                            "{rel}: symbolic link to a folder, not followed (as model_signing)"
                        )),
                    }
                }
                m if m & 0o170000 == 0o100000 => self.push_blob(&rel, e.id(), AttrsFor::Walk)?,
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
            let entry = self
                .src
                .at()
                .lookup(self.repo, &self.root, &self.src.subdir, &joined)?
                .ok_or_else(|| {
                    self.unsupported(rel, format!("is a dangling symbolic link to {target}"))
                })?;
            match entry.0 {
                MODE_TREE => return Ok(Resolved::Tree),
                MODE_LINK => blob = entry.1,
                MODE_SUBMODULE => {
                    return Err(self.unsupported(rel, "is a symbolic link to a git submodule"))
                }
                _ => return Ok(Resolved::Blob(entry.1, joined)),
            }
        }
        Err(self.unsupported(rel, "too many levels of symbolic links"))
    }

    fn push_blob(&mut self, rel: &str, oid: Oid, attrs: AttrsFor<'_>) -> Result<()> {
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
            // Only the LFS filter turns a pointer into content; without it a checkout
            // holds the pointer text, and so does the manifest.
            let filtered = match attrs {
                AttrsFor::Walk => self.attrs.is_lfs(&self.src.full_path(rel)),
                AttrsFor::Target(a, target) => a.is_lfs(target),
            };
            let parsed = Pointer::parse(blob.content());
            if !filtered && parsed.is_ok() {
                self.out.warnings.push(format!(
                    "{rel}: has the form of a Git LFS pointer, but the revision's .gitattributes do not route it through filter=lfs; hashed as its bytes, which is what a checkout holds"
                ));
            }
            let as_pointer = if filtered {
                parsed
            } else {
                Err(PointerError::NotPointer)
            };
            match as_pointer {
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
        // Files above the model folder can route its files through LFS too.
        let attrs = match self.subdir.rsplit_once('/') {
            _ if self.subdir.is_empty() => Attributes::default(),
            Some((parent, _)) => self.attributes_at(&repo, parent)?,
            None => self.attributes_at(&repo, "")?,
        };
        let mut w = Walker {
            src: self,
            repo: &repo,
            root: root.clone(),
            rules,
            attrs,
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
        let Some((mode, id)) = self.at().lookup(&repo, &root, &self.subdir, path)? else {
            return Ok(None);
        };
        if mode & 0o170000 != 0o100000 {
            return Ok(None);
        }
        let blob = repo
            .find_blob(id)
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

#[cfg(test)]
mod tests {
    use super::{fsck_entries, TreeDefect};

    fn check(entries: &[(&str, bool)]) -> Option<(usize, TreeDefect)> {
        let e: Vec<(&[u8], bool)> = entries.iter().map(|(n, t)| (n.as_bytes(), *t)).collect();
        fsck_entries(&e)
    }

    #[test]
    fn trees_in_git_order_pass() {
        // A folder sorts as if its name ended in '/': after `a.b`, before `a0`.
        assert_eq!(check(&[("a", false), ("a.b", false), ("a0", true)]), None);
        assert_eq!(check(&[("a.b", false), ("a", true), ("a0", false)]), None);
        assert_eq!(check(&[("loader.py", false), ("weights.bin", false)]), None);
    }

    #[test]
    fn git_fsck_defects_are_found() {
        use TreeDefect::*;
        type Case<'a> = (&'a [(&'a str, bool)], (usize, TreeDefect));
        let cases: &[Case<'_>] = &[
            (
                &[
                    ("loader.py", false),
                    ("weights.bin", false),
                    ("loader.py", false),
                ],
                (2, Duplicate),
            ),
            (&[("a", false), ("a", false)], (1, Duplicate)),
            // A file and a folder of one name are apart in git's order.
            (&[("a", false), ("a.b", false), ("a", true)], (2, Duplicate)),
            (&[("b", false), ("a", false)], (1, Unsorted)),
            (&[("a", true), ("a.b", false)], (1, Unsorted)),
            (&[("a", false), ("x/y", false)], (1, BadName)),
            (&[("..", true)], (0, BadName)),
            (&[("", false)], (0, BadName)),
        ];
        for (entries, want) in cases {
            assert_eq!(check(entries).as_ref(), Some(want), "{entries:?}");
        }
    }
}
