//! A model that is a folder (or a single file) on the local filesystem.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ignore::{IgnoreRules, Ignored};
use crate::manifest::ModelPath;
use crate::source::{Content, Entry, Listing, ModelSource};

/// A folder or a single file on disk.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    allow_symlinks: bool,
    link_roots: Vec<PathBuf>,
}

impl DirSource {
    /// A model at `root`; symbolic links are refused.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource {
            root: root.into(),
            allow_symlinks: false,
            link_roots: Vec::new(),
        }
    }

    /// Follow symbolic links to files. Targets must stay inside the model folder, or inside
    /// a folder added with [`DirSource::allow_links_into`].
    pub fn allow_symlinks(mut self, allow: bool) -> Self {
        self.allow_symlinks = allow;
        self
    }

    /// Also accept link targets inside `dir` (a Hub cache's `blobs/` folder, say).
    pub fn allow_links_into(mut self, dir: impl Into<PathBuf>) -> Self {
        self.link_roots.push(dir.into());
        self
    }

    /// The model path as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn meta(path: &Path) -> Result<fs::Metadata> {
        fs::symlink_metadata(path).map_err(|e| Error::io(path, e))
    }

    /// Resolves a symbolic link and checks that it may be followed.
    fn follow_link(&self, path: &Path, allowed: &[PathBuf]) -> Result<(PathBuf, fs::Metadata)> {
        let target = fs::canonicalize(path);
        if !self.allow_symlinks {
            let reason = match &target {
                Ok(t) if !allowed.iter().any(|root| t.starts_with(root)) => format!(
                    "is a symbolic link to {}, outside the model; pass --allow-symlinks-outside \
                     DIR to follow links into DIR (a Hugging Face cache's blobs/, say)",
                    t.display()
                ),
                _ => "is a symbolic link; pass --allow-symlinks to follow links that stay inside the model".into(),
            };
            return Err(Error::UnsupportedEntry {
                path: path.to_path_buf(),
                reason,
            });
        }
        let target = target.map_err(|e| Error::io(path, e))?;
        if !allowed.iter().any(|root| target.starts_with(root)) {
            return Err(Error::UnsupportedEntry {
                path: path.to_path_buf(),
                reason: format!(
                    "is a symbolic link to {}, outside the model; msign does not follow links out of the model unless told where they may go (--allow-symlinks-outside DIR)",
                    target.display()
                ),
            });
        }
        let meta = fs::metadata(&target).map_err(|e| Error::io(&target, e))?;
        Ok((target, meta))
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &mut Vec<String>,
        rules: &IgnoreRules,
        allowed: &[PathBuf],
        out: &mut Listing,
    ) -> Result<()> {
        let read = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for item in read {
            let item = item.map_err(|e| Error::io(dir, e))?;
            let path = item.path();
            let name = item
                .file_name()
                .into_string()
                .map_err(|_| Error::UnsupportedEntry {
                    path: path.clone(),
                    reason: "file name is not valid UTF-8; signatures name files in UTF-8".into(),
                })?;
            let ftype = item.file_type().map_err(|e| Error::io(&path, e))?;
            rel.push(name);
            let rel_str = rel.join("/");
            let result = (|| -> Result<()> {
                // Ignored paths are skipped before anything else, so a link or a socket
                // inside an ignored folder (`.git`, say) is no error.
                let is_link = ftype.is_symlink();
                let ignored = if is_link {
                    rules
                        .ignored_by(&rel_str, false)
                        .or_else(|| rules.ignored_by(&rel_str, true))
                } else {
                    rules.ignored_by(&rel_str, ftype.is_dir())
                };
                if let Some(rule) = ignored {
                    let slash = if ftype.is_dir() { "/" } else { "" };
                    out.ignored.push(Ignored {
                        path: format!("{rel_str}{slash}"),
                        rule: rule.to_string(),
                    });
                    return Ok(());
                }
                let meta = if is_link {
                    self.follow_link(&path, allowed)?.1
                } else {
                    Self::meta(&path)?
                };
                if meta.is_dir() {
                    if is_link {
                        // model_signing does not descend into linked folders either; saying so
                        // beats silently leaving content unsigned.
                        out.warnings.push(format!(
                            "{rel_str}: symbolic link to a folder, not followed (as model_signing)"
                        ));
                        return Ok(());
                    }
                    return self.walk(&path, rel, rules, allowed, out);
                }
                if !meta.is_file() {
                    return Err(Error::UnsupportedEntry {
                        path: path.clone(),
                        reason: "is not a regular file or folder (socket, FIFO or device)".into(),
                    });
                }
                out.entries.push(Entry {
                    path: ModelPath::parse(&rel_str).map_err(|_| Error::UnsupportedEntry {
                        path: path.clone(),
                        reason: "name cannot be written in a signature".into(),
                    })?,
                    size: meta.len(),
                    content: Content::File(path.clone()),
                    known_sha256: None,
                });
                Ok(())
            })();
            rel.pop();
            result?;
        }
        Ok(())
    }
}

/// The reference's model name: the last path component, or the resolved folder's name
/// when the path ends in `.` or `..`.
pub fn model_name_of(path: &Path) -> String {
    match path.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    }
}

impl ModelSource for DirSource {
    fn model_name(&self) -> String {
        model_name_of(&self.root)
    }

    fn list(&self, rules: &IgnoreRules) -> Result<Listing> {
        let mut listing = Listing::default();
        let root_meta = Self::meta(&self.root)?;
        let canonical_root = fs::canonicalize(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let mut allowed = vec![canonical_root.clone()];
        for r in &self.link_roots {
            allowed.push(fs::canonicalize(r).map_err(|e| Error::io(r, e))?);
        }
        let meta = if root_meta.file_type().is_symlink() {
            if !self.allow_symlinks {
                return Err(Error::UnsupportedEntry {
                    path: self.root.clone(),
                    reason: "the model path is a symbolic link; pass --allow-symlinks or give its target".into(),
                });
            }
            fs::metadata(&self.root).map_err(|e| Error::io(&self.root, e))?
        } else {
            root_meta
        };
        if meta.is_file() {
            listing.entries.push(Entry {
                path: ModelPath::single_file(),
                size: meta.len(),
                content: Content::File(self.root.clone()),
                known_sha256: None,
            });
            return Ok(listing);
        }
        if !meta.is_dir() {
            return Err(Error::UnsupportedEntry {
                path: self.root.clone(),
                reason: "is neither a file nor a folder".into(),
            });
        }
        self.walk(
            &canonical_root,
            &mut Vec::new(),
            rules,
            &allowed,
            &mut listing,
        )?;
        Ok(listing)
    }

    fn read_small_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.root.join(path);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() && m.len() <= 1 << 20 => {
                fs::read(&full).map(Some).map_err(|e| Error::io(&full, e))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(None),
            Err(e) => Err(Error::io(&full, e)),
        }
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }
}
