//! Choosing the model source: a folder or file on disk, a Hugging Face cache snapshot, or a
//! git revision, from one typed description ([`ModelSpec`]) that every front end fills in.

use std::fs;
use std::path::{Component, Path, PathBuf};

use git2::Repository;

use crate::error::{Error, Result};
use crate::source::git::{normalize_subdir, open_repo, GitSource};
use crate::source::{DirSource, ModelSource};

/// A model as a user names it: a path, and optionally the git revision it is read from.
#[derive(Debug, Clone, Default)]
pub struct ModelSpec {
    /// The model folder or file; for a git revision, the model folder in the work tree
    /// (relative paths are taken from [`GitLocation::dir`] when given, as `git -C` does).
    pub path: PathBuf,
    /// Read the model from a git revision's tree instead of the files on disk.
    pub git: Option<GitLocation>,
    /// Follow symbolic links that stay inside the model.
    pub allow_symlinks: bool,
    /// Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (the reference's default).
    pub ignore_git_paths: bool,
    /// Paths to leave out, relative to the current folder as the reference takes them;
    /// paths outside the model are dropped (see [`ModelSpec::relative_ignores`]).
    pub ignore_paths: Vec<PathBuf>,
}

/// Where a git model is read from.
#[derive(Debug, Clone, Default)]
pub struct GitLocation {
    /// The revision (commit, branch, tag).
    pub rev: String,
    /// The repository, or a folder in it (default: the model path).
    pub dir: Option<PathBuf>,
    /// The model folder inside the repository (default: the model path relative to the
    /// work tree's root).
    pub subdir: Option<String>,
}

/// A located git model: the repository, the subfolder, and the folder a checkout of it
/// would be (for paths given relative to the model, like the signature file).
pub struct GitTarget {
    /// The repository.
    pub repo: Repository,
    /// The model folder inside it.
    pub subdir: String,
    /// `<work tree>/<subdir>`, or the git directory of a bare repository.
    pub checkout_root: PathBuf,
}

/// Opens the source `spec` describes. A Hub cache snapshot (links into the repository's
/// `blobs/`) follows those links only; a git revision reads the object database.
pub fn open(spec: &ModelSpec) -> Result<Box<dyn ModelSource>> {
    if let Some(blobs) = blobs_of_snapshot(&spec.path) {
        return Ok(Box::new(
            DirSource::new(&spec.path)
                .allow_symlinks(true)
                .allow_links_into(blobs),
        ));
    }
    if let Some(git) = &spec.git {
        let t = git.locate(&spec.path)?;
        return Ok(Box::new(
            GitSource::new(&t.repo, &git.rev, &t.subdir)?.allow_symlinks(spec.allow_symlinks),
        ));
    }
    Ok(Box::new(
        DirSource::new(&spec.path).allow_symlinks(spec.allow_symlinks),
    ))
}

impl ModelSpec {
    /// A model on disk with the reference's defaults (git paths ignored, links refused).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ModelSpec {
            path: path.into(),
            ignore_git_paths: true,
            ..ModelSpec::default()
        }
    }

    /// The folder paths given by the user are made relative to: the model folder, or for a
    /// git revision where a checkout of it would be.
    pub fn root(&self) -> Result<PathBuf> {
        match &self.git {
            Some(git) => Ok(git.locate(&self.path)?.checkout_root),
            None => resolve_lenient(&self.path),
        }
    }

    /// [`ModelSpec::ignore_paths`] plus `extra` (the signature file), made relative to the
    /// model root the way the reference does; paths outside the model are dropped.
    pub fn relative_ignores(&self, extra: &[&Path]) -> Result<Vec<String>> {
        let root = self.root()?;
        let mut out = Vec::new();
        for p in self
            .ignore_paths
            .iter()
            .map(PathBuf::as_path)
            .chain(extra.iter().copied())
        {
            match relative_to(&root, p)? {
                Some(rel) if !rel.is_empty() => out.push(rel),
                _ => {}
            }
        }
        Ok(out)
    }

    /// One warning for each [`ModelSpec::ignore_paths`] entry outside the model, which
    /// leaves nothing out. The usual slip is a path given from the model folder instead
    /// of the current one, so `MODEL/PATH` is suggested when it exists.
    pub fn ignore_paths_outside(&self) -> Result<Vec<String>> {
        let root = self.root()?;
        let mut out = Vec::new();
        for p in &self.ignore_paths {
            if relative_to(&root, p)?.is_some() {
                continue;
            }
            let mut msg = format!(
                "--ignore-paths {}: outside the model {}, so it leaves nothing out (paths \
                 count from the current folder)",
                p.display(),
                self.path.display()
            );
            let guess = self.path.join(p);
            if p.is_relative() && self.git.is_none() && guess.symlink_metadata().is_ok() {
                msg += &format!("; did you mean {}?", guess.display());
            }
            out.push(msg);
        }
        Ok(out)
    }
}

/// `p` (from the current folder) relative to the model `root`: `None` when outside it,
/// an empty string for the root itself.
fn relative_to(root: &Path, p: &Path) -> Result<Option<String>> {
    let mut candidate = resolve_lenient(p)?;
    if !candidate.starts_with(root) {
        // A link inside the model (a Hub snapshot's model.sig -> blobs/...) names
        // the link itself, not its target.
        if let (Some(parent), Some(name)) = (p.parent(), p.file_name()) {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            let lexical = resolve_lenient(parent)?.join(name);
            if lexical.starts_with(root) {
                candidate = lexical;
            }
        }
    }
    let Ok(rel) = candidate.strip_prefix(root) else {
        return Ok(None);
    };
    let s = rel
        .to_str()
        .ok_or_else(|| Error::Usage(format!("{}: path is not UTF-8", p.display())))?;
    Ok(Some(s.to_string()))
}

impl GitLocation {
    fn model_path(&self, model: &Path) -> PathBuf {
        match &self.dir {
            Some(dir) if model.is_relative() => dir.join(model),
            _ => model.to_path_buf(),
        }
    }

    /// Finds the repository and the model folder of `model` (the model path). A model
    /// path `:/` or `:/SUBDIR` counts from the top of the repository, as git's pathspecs
    /// do, wherever the current folder is in it.
    pub fn locate(&self, model: &Path) -> Result<GitTarget> {
        if let Some(top) = model.to_str().and_then(|m| m.strip_prefix(":/")) {
            let from_top = GitLocation {
                subdir: Some(self.subdir.clone().unwrap_or_else(|| top.to_string())),
                dir: Some(self.dir.clone().unwrap_or_else(|| PathBuf::from("."))),
                rev: self.rev.clone(),
            };
            return from_top.locate(Path::new("."));
        }
        let model = self.model_path(model);
        let repo = open_repo(self.dir.as_deref().unwrap_or(&model))?;
        let subdir = match (&self.subdir, repo.workdir()) {
            (Some(p), _) => normalize_subdir(p)?,
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

/// `path` relative to the model folder `root` when it lies inside it (the reference leaves
/// the signature file out of a checkout's manifest the same way).
pub fn model_relative(root: &Path, path: &Path) -> Result<Vec<String>> {
    let p = resolve_lenient(path)?;
    Ok(match p.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            rel.to_str().map(str::to_string).into_iter().collect()
        }
        _ => Vec::new(),
    })
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

/// When `dir` is a cache snapshot (`.../models--x--y/snapshots/<commit>`), the repository
/// folder's `blobs/`, which its links may point into.
pub fn blobs_of_snapshot(dir: &Path) -> Option<PathBuf> {
    let abs = fs::canonicalize(dir).ok()?;
    let commit = abs.file_name()?.to_str()?;
    let snapshots = abs.parent()?;
    if !is_commit_id(commit) || snapshots.file_name()? != "snapshots" {
        return None;
    }
    let repo = snapshots.parent()?;
    let name = repo.file_name()?.to_str()?;
    let blobs = repo.join("blobs");
    (name.starts_with("models--") && blobs.is_dir()).then_some(blobs)
}

/// A full commit id, as the Hub cache names snapshot folders (40 lowercase hex digits).
fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
