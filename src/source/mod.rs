//! Where model content comes from.
//!
//! A source lists the model's entries: a model-relative path, a size, and either content
//! that can be read or a digest the source already knows (a Git LFS pointer's sha256, the
//! Hub's LFS metadata). Hashing never cares which source it is reading.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::ignore::{IgnoreRules, Ignored};
use crate::manifest::ModelPath;

pub(crate) mod attributes;
pub mod dir;
pub mod git;
pub mod lfs;
pub mod spec;

pub use dir::DirSource;
pub use git::GitSource;
pub use spec::{open, GitLocation, ModelSpec};

/// Opens a fresh reader over an entry's content each time it is called.
pub type OpenFn = Arc<dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// A check that must pass before an entry's bytes are trusted; cheap after the first call.
pub type CheckFn = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

/// How the bytes of an entry can be obtained.
#[derive(Clone)]
pub enum Content {
    /// A file on the local filesystem; hashed with positioned reads, in parallel ranges.
    File(PathBuf),
    /// A local file hashed like [`Content::File`], once `check` has passed (a Git LFS
    /// object checked against its pointer's SHA-256).
    CheckedFile {
        /// The file.
        path: PathBuf,
        /// Runs before any range of the file is hashed.
        check: CheckFn,
    },
    /// Bytes already in memory (a git blob, a small file fetched over HTTP).
    Bytes(Arc<[u8]>),
    /// A stream opened on demand (an object in another store).
    Stream(OpenFn),
    /// The bytes are not here; `hint` says how to get them.
    Unavailable {
        /// The command or step that makes the content available.
        hint: String,
    },
}

impl Content {
    /// The local file behind this content, if it is one (checked or not).
    pub fn local_file(&self) -> Option<&std::path::Path> {
        match self {
            Content::File(p) | Content::CheckedFile { path: p, .. } => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::File(p) => write!(f, "File({})", p.display()),
            Content::CheckedFile { path, .. } => write!(f, "CheckedFile({})", path.display()),
            Content::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Content::Stream(_) => f.write_str("Stream"),
            Content::Unavailable { hint } => write!(f, "Unavailable({hint})"),
        }
    }
}

/// One file of a model.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to the model root (`.` for a model that is a single file).
    pub path: ModelPath,
    /// Size in bytes.
    pub size: u64,
    /// How to read it.
    pub content: Content,
    /// The SHA-256 of the whole content, when the source knows it without reading
    /// (and has checked it as far as the source can).
    pub known_sha256: Option<[u8; 32]>,
}

/// What a source found: the entries to hash and anything the user should hear about.
#[derive(Debug, Default)]
pub struct Listing {
    /// The files of the model, not yet filtered by `--ignore-unsigned-files`.
    pub entries: Vec<Entry>,
    /// Things skipped on purpose that the user may not expect (e.g. symlinked folders).
    pub warnings: Vec<String>,
    /// What the rules left out, and which rule did (sources that can tell).
    pub ignored: Vec<Ignored>,
}

/// A model whose entries can be listed and read.
pub trait ModelSource: Send + Sync {
    /// The informative model name written as the statement's subject name.
    fn model_name(&self) -> String;

    /// Lists the entries that the rules do not ignore. Ignored folders are not entered.
    fn list(&self, rules: &IgnoreRules) -> Result<Listing>;

    /// Reads a small file at a model-relative path if it exists (used for `.msignignore`).
    fn read_small_file(&self, path: &str) -> Result<Option<Vec<u8>>>;

    /// A short description for messages ("folder ./model", "git HEAD:models/bert").
    fn describe(&self) -> String;
}
