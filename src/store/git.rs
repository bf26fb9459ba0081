//! Signatures kept in a git repository: a note on the signed commit, a file committed on
//! top of it, or a file in a revision's tree (read only).
//!
//! Commit mode builds the new commit from tree objects and moves the current branch; then
//! it adds the signature file, and only it, to the index and the work tree, so `git status`
//! reads as before and the checkout matches the branch. It refuses up front when a
//! different file already sits at that path in the work tree.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Tree};

use crate::bundle::MAX_BUNDLE_BYTES;
use crate::error::{Error, Result};
use crate::source::git::git_err;
use crate::store::file::write_atomic;
use crate::store::SignatureStore;

/// The notes ref holding model signatures.
pub const NOTES_REF: &str = "refs/notes/model-signing";

/// The signature file's default name in a tree.
pub const DEFAULT_SIGNATURE_NAME: &str = "model.sig";

fn open(git_dir: &Path) -> Result<Repository> {
    Repository::open(git_dir).map_err(git_err(git_dir.display()))
}

/// Who a new commit or note is by: its author or its committer.
#[derive(Clone, Copy)]
enum Role {
    Author,
    Committer,
}

impl Role {
    fn env(self, what: &str) -> String {
        match self {
            Role::Author => format!("GIT_AUTHOR_{what}"),
            Role::Committer => format!("GIT_COMMITTER_{what}"),
        }
    }

    fn config(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Committer => "committer",
        }
    }
}

/// The identity git itself would record (git-commit-tree(1), "Commit information"): name
/// from `GIT_<ROLE>_NAME`, else `<role>.name`, else `user.name`; email from
/// `GIT_<ROLE>_EMAIL`, else `<role>.email`, else `user.email`, else `EMAIL`; date from
/// `GIT_<ROLE>_DATE` in git's internal format, else now. Empty values count as unset.
/// libgit2's `Repository::signature` reads only the configuration, so CI machines that
/// configure git through the environment would otherwise have no identity.
fn identity(repo: &Repository, role: Role) -> Result<git2::Signature<'static>> {
    let config = repo.config().ok();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let conf = |key: &str| {
        config
            .as_ref()
            .and_then(|c| c.get_string(key).ok())
            .filter(|v| !v.is_empty())
    };
    let name = env(&role.env("NAME"))
        .or_else(|| conf(&format!("{}.name", role.config())))
        .or_else(|| conf("user.name"));
    let email = env(&role.env("EMAIL"))
        .or_else(|| conf(&format!("{}.email", role.config())))
        .or_else(|| conf("user.email"))
        .or_else(|| env("EMAIL"));
    let (Some(name), Some(email)) = (name.clone(), email) else {
        return Err(Error::Usage(format!(
            "git needs an identity to record the signature (no {} {} found); set user.name and user.email with git config, or GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL",
            role.config(),
            if name.is_none() { "name" } else { "email" }
        )));
    };
    let bad = |e: git2::Error| {
        Error::Usage(format!(
            "git identity {name:?} <{email}> cannot be recorded: {}",
            e.message()
        ))
    };
    let date_var = role.env("DATE");
    match env(&date_var) {
        None => git2::Signature::now(&name, &email).map_err(bad),
        Some(date) => {
            let time = parse_git_date(&date).ok_or_else(|| {
                Error::Usage(format!(
                    "{date_var}={date:?}: msign reads git's internal date format, seconds since 1970 and a UTC offset (`1700000000 +0100`, `@1700000000 -0500`); use it or unset {date_var}"
                ))
            })?;
            git2::Signature::new(&name, &email, &time).map_err(bad)
        }
    }
}

/// git's internal date format: `[@]<seconds since 1970> <+|-><hhmm>`.
fn parse_git_date(date: &str) -> Option<git2::Time> {
    let (secs, zone) = date.trim().split_once(' ')?;
    let secs: i64 = secs.strip_prefix('@').unwrap_or(secs).parse().ok()?;
    let (sign, hhmm) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (hhmm[..2].parse().ok()?, hhmm[2..].parse().ok()?);
    if m > 59 {
        return None;
    }
    Some(git2::Time::new(secs, sign * (h * 60 + m)))
}

/// A git note on the signed commit under [`NOTES_REF`].
///
/// A note holds one signature per signer: each bundle is one line of compact JSON, so
/// a second signer adds a line instead of replacing the first signer's signature, and
/// signing again with the same key or certificate replaces that signer's own line.
/// msign versions from before multi-signer notes read a note as one bundle: they read a
/// note with one signature as before, and refuse one with several as malformed.
#[derive(Debug, Clone)]
pub struct NotesStore {
    git_dir: PathBuf,
    commit: Oid,
}

impl NotesStore {
    /// The note of `commit` in the repository at `git_dir`.
    pub fn new(git_dir: impl Into<PathBuf>, commit: Oid) -> Self {
        NotesStore {
            git_dir: git_dir.into(),
            commit,
        }
    }

    /// Whether the commit has a note (valid or not).
    pub fn exists(&self) -> Result<bool> {
        let repo = open(&self.git_dir)?;
        let found = repo.find_note(Some(NOTES_REF), self.commit).is_ok();
        Ok(found)
    }

    /// Every signature the note holds, in the order they were added (see
    /// [`split_bundles`]).
    pub fn load_all(&self) -> Result<Vec<Vec<u8>>> {
        let note = self.load()?;
        Ok(split_bundles(&note)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect())
    }

    /// Moves [`NOTES_REF`] from the commit libgit2 just wrote (whose message is always
    /// "Notes added by 'git_note_create' from libgit2") to the same change with a message
    /// that says what it records, unless someone moved the ref meanwhile.
    fn reword_notes_commit(&self, repo: &Repository, message: &str) -> Result<()> {
        let written = repo.refname_to_id(NOTES_REF).map_err(git_err(NOTES_REF))?;
        let commit = repo.find_commit(written).map_err(git_err(NOTES_REF))?;
        let reworded = commit
            .amend(None, None, None, None, Some(message), None)
            .map_err(git_err(format!("rewording the {NOTES_REF} commit")))?;
        repo.reference_matching(NOTES_REF, reworded, true, written, message)
            .map_err(git_err(format!("updating {NOTES_REF}")))?;
        Ok(())
    }
}

/// The signatures in a note: every JSON document in it, as the bytes that hold it (one
/// per line as msign writes them; pretty-printed documents one after the other work
/// too). A note that is not a sequence of JSON documents is returned whole, so the
/// bundle parser reports what is wrong with it.
pub fn split_bundles(note: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(note).into_iter::<serde_json::Value>();
    let mut start = 0;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(_)) => {
                let end = stream.byte_offset();
                let doc = &note[start..end];
                let lead = doc.iter().take_while(|b| b.is_ascii_whitespace()).count();
                out.push(&doc[lead..]);
                start = end;
            }
            Some(Err(_)) => return vec![note],
        }
    }
    if out.is_empty() {
        return vec![note];
    }
    out
}

/// Who made a bundle, from its verification material (unverified: it names the signer
/// in messages and tells one signer's note line from another's, nothing more).
pub fn bundle_signer(bundle: &[u8]) -> Option<String> {
    let b = crate::bundle::Bundle::from_json(bundle).ok()?;
    let m = &b.verification_material;
    if let Some(hint) = m.public_key.as_ref().and_then(|k| k.hint.as_ref()) {
        return Some(format!("key {hint}"));
    }
    let leaf = m
        .x509_certificate_chain
        .as_ref()
        .and_then(|c| c.certificates.first())
        .or(m.certificate.as_ref())?
        .decode()
        .ok()?;
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(&leaf).ok()?;
    // Fulcio certificates have an empty subject: the identity is the alternative name.
    if cert.subject().iter_attributes().next().is_none() {
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            if let Some(name) = san.value.general_names.first() {
                return Some(format!("certificate {}", general_name(name)));
            }
        }
    }
    Some(format!("certificate {}", cert.subject()))
}

fn general_name(name: &x509_parser::extensions::GeneralName) -> String {
    use x509_parser::extensions::GeneralName as G;
    match name {
        G::RFC822Name(s) | G::URI(s) | G::DNSName(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A JSON document on one line: as it is when it already is (the signed bytes inside a
/// bundle are base64 strings, so re-serializing changes nothing that is verified).
fn one_line(doc: &[u8]) -> String {
    let text = String::from_utf8_lossy(doc).trim().to_string();
    if !text.contains('\n') {
        return text;
    }
    serde_json::from_str::<serde_json::Value>(&text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.replace('\n', " "))
}

impl SignatureStore for NotesStore {
    fn save(&self, bundle: &[u8]) -> Result<String> {
        let repo = open(&self.git_dir)?;
        let new = std::str::from_utf8(bundle)
            .map_err(|_| Error::Other("signature bundle is not UTF-8".into()))?
            .trim();
        if new.contains('\n') {
            return Err(Error::Other(
                "signature bundle spans several lines; a note holds one bundle per line".into(),
            ));
        }
        let signer = bundle_signer(bundle);
        // Other signers' signatures stay; this signer's earlier one is replaced. Lines
        // that are no signature at all are dropped.
        let existing = match repo.find_note(Some(NOTES_REF), self.commit) {
            Ok(note) => note.message_bytes().to_vec(),
            Err(_) => Vec::new(),
        };
        let mut lines: Vec<String> = split_bundles(&existing)
            .into_iter()
            .filter_map(|b| {
                let other = bundle_signer(b)?;
                (Some(&other) != signer.as_ref()).then(|| one_line(b))
            })
            .collect();
        let kept = lines.len();
        lines.push(new.to_string());
        let text = lines.join("\n") + "\n";
        let author = identity(&repo, Role::Author)?;
        let committer = identity(&repo, Role::Committer)?;
        repo.note(
            &author,
            &committer,
            Some(NOTES_REF),
            self.commit,
            &text,
            true,
        )
        .map_err(git_err(format!("writing note on {}", self.commit)))?;
        let by = signer.as_deref().unwrap_or("an unknown signer");
        self.reword_notes_commit(
            &repo,
            &format!("msign: signature of {} by {by}\n", self.commit),
        )?;
        Ok(match kept {
            0 => self.describe(),
            n => format!(
                "{}, next to {n} other signer(s)' signature(s)",
                self.describe()
            ),
        })
    }

    fn load(&self) -> Result<Vec<u8>> {
        let repo = open(&self.git_dir)?;
        let note = repo.find_note(Some(NOTES_REF), self.commit).map_err(|_| {
            Error::InvalidSignature(format!("no note on {} under {NOTES_REF}", self.commit))
        })?;
        let bytes = note.message_bytes();
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(Error::MalformedSignature(format!(
                "note on {} is larger than 256 MiB",
                self.commit
            )));
        }
        Ok(bytes.to_vec())
    }

    fn describe(&self) -> String {
        format!("git note on {} ({NOTES_REF})", self.commit)
    }
}

/// A signature file inside a revision's tree (read only).
#[derive(Debug, Clone)]
pub struct TreeFileStore {
    git_dir: PathBuf,
    tree: Oid,
    path: String,
    rev: String,
}

impl TreeFileStore {
    /// The file at `path` (repository-relative) in `tree`; `rev` names it in messages.
    pub fn new(git_dir: impl Into<PathBuf>, tree: Oid, path: &str, rev: &str) -> Self {
        TreeFileStore {
            git_dir: git_dir.into(),
            tree,
            path: path.to_string(),
            rev: rev.to_string(),
        }
    }

    /// Whether the tree holds a file at the path.
    pub fn exists(&self) -> Result<bool> {
        let repo = open(&self.git_dir)?;
        let tree = repo.find_tree(self.tree).map_err(git_err("tree"))?;
        let found = tree.get_path(Path::new(&self.path)).ok();
        Ok(found.is_some_and(|e| e.kind() == Some(ObjectType::Blob)))
    }
}

impl SignatureStore for TreeFileStore {
    fn save(&self, _bundle: &[u8]) -> Result<String> {
        Err(Error::Usage(
            "a revision's tree cannot be changed; use --store commit".into(),
        ))
    }

    fn load(&self) -> Result<Vec<u8>> {
        let repo = open(&self.git_dir)?;
        let tree = repo.find_tree(self.tree).map_err(git_err("tree"))?;
        let entry = tree
            .get_path(Path::new(&self.path))
            .map_err(|_| Error::InvalidSignature(format!("no {} in {}", self.path, self.rev)))?;
        if entry.filemode() & 0o170000 != 0o100000 {
            return Err(Error::MalformedSignature(format!(
                "{} in {} is not a regular file",
                self.path, self.rev
            )));
        }
        let odb = repo.odb().map_err(git_err("object database"))?;
        let (size, _) = odb.read_header(entry.id()).map_err(git_err(&self.path))?;
        if size as u64 > MAX_BUNDLE_BYTES {
            return Err(Error::MalformedSignature(format!(
                "{} is larger than 256 MiB",
                self.path
            )));
        }
        let blob = repo.find_blob(entry.id()).map_err(git_err(&self.path))?;
        Ok(blob.content().to_vec())
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.rev, self.path)
    }
}

/// A new commit on the current branch that adds the signature file.
#[derive(Debug, Clone)]
pub struct CommitStore {
    git_dir: PathBuf,
    signed: Oid,
    path: String,
    model_name: String,
}

impl CommitStore {
    /// Commits the signature at `path` (repository-relative) on top of `signed`, which must
    /// be the tip of the current branch.
    pub fn new(git_dir: impl Into<PathBuf>, signed: Oid, path: &str, model_name: &str) -> Self {
        CommitStore {
            git_dir: git_dir.into(),
            signed,
            path: path.to_string(),
            model_name: model_name.to_string(),
        }
    }

    /// Checks, before anything is hashed, that the commit can be made.
    pub fn preflight(&self) -> Result<()> {
        let repo = open(&self.git_dir)?;
        self.branch(&repo)?;
        self.check_worktree(&repo)
    }

    fn branch(&self, repo: &Repository) -> Result<String> {
        let head = repo.head().map_err(git_err("HEAD"))?;
        if !head.is_branch() {
            return Err(Error::Usage(
                "--store commit needs a branch checked out (HEAD is detached)".into(),
            ));
        }
        let tip = head.peel_to_commit().map_err(git_err("HEAD"))?.id();
        if tip != self.signed {
            return Err(Error::Usage(format!(
                "--store commit signs the tip of the current branch ({tip}), not {}; check that revision out first or use --store notes",
                self.signed
            )));
        }
        head.name()
            .map(str::to_string)
            .map_err(|_| Error::Other("branch name is not UTF-8".into()))
    }

    fn check_worktree(&self, repo: &Repository) -> Result<()> {
        let Some(wd) = repo.workdir() else {
            return Ok(());
        };
        let on_disk = wd.join(&self.path);
        let Ok(bytes) = std::fs::read(&on_disk) else {
            return Ok(());
        };
        let committed = repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .ok()
            .and_then(|t| t.get_path(Path::new(&self.path)).ok())
            .and_then(|e| repo.find_blob(e.id()).ok())
            .map(|b| b.content().to_vec());
        if committed.as_deref() != Some(&bytes[..]) {
            return Err(Error::Usage(format!(
                "{} exists in the work tree with uncommitted content; remove it or choose another --signature name",
                on_disk.display()
            )));
        }
        Ok(())
    }
}

/// `base` with `blob` at `parts`, creating folders as needed; returns the new tree.
fn tree_with(repo: &Repository, base: Option<&Tree<'_>>, parts: &[&str], blob: Oid) -> Result<Oid> {
    let mut b = repo.treebuilder(base).map_err(git_err("tree builder"))?;
    let (name, rest) = parts.split_first().expect("non-empty path");
    if rest.is_empty() {
        b.insert(name, blob, 0o100644)
            .map_err(git_err(format!("adding {name}")))?;
    } else {
        let sub = match base.and_then(|t| t.get_name(name)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => {
                Some(repo.find_tree(e.id()).map_err(git_err(name))?)
            }
            Some(_) => {
                return Err(Error::Usage(format!(
                    "{name} is a file in the tree; the signature cannot go below it"
                )))
            }
            None => None,
        };
        let id = tree_with(repo, sub.as_ref(), rest, blob)?;
        b.insert(name, id, 0o040000)
            .map_err(git_err(format!("adding {name}")))?;
    }
    b.write().map_err(git_err("writing tree"))
}

impl SignatureStore for CommitStore {
    fn save(&self, bundle: &[u8]) -> Result<String> {
        let repo = open(&self.git_dir)?;
        let branch = self.branch(&repo)?;
        self.check_worktree(&repo)?;
        let parent = repo.find_commit(self.signed).map_err(git_err("commit"))?;
        let parent_tree = parent.tree().map_err(git_err("tree"))?;
        let blob = repo.blob(bundle).map_err(git_err("writing blob"))?;
        let parts: Vec<&str> = self.path.split('/').collect();
        let tree_id = tree_with(&repo, Some(&parent_tree), &parts, blob)?;
        let tree = repo.find_tree(tree_id).map_err(git_err("tree"))?;
        let author = identity(&repo, Role::Author)?;
        let committer = identity(&repo, Role::Committer)?;
        let message = format!(
            "Sign model {} at {}\n\nmsign signature of commit {} (tree {}), stored in {}.\n",
            self.model_name,
            &self.signed.to_string()[..12],
            self.signed,
            parent_tree.id(),
            self.path
        );
        let new = repo
            .commit(None, &author, &committer, &message, &tree, &[&parent])
            .map_err(git_err("creating commit"))?;
        // Moves the branch only if nobody moved it meanwhile.
        repo.reference_matching(
            &branch,
            new,
            true,
            self.signed,
            &format!("msign: sign model at {}", self.signed),
        )
        .map_err(git_err(format!("updating {branch}")))?;
        if let Some(wd) = repo.workdir() {
            write_atomic(&wd.join(&self.path), bundle)?;
            let mut index = repo.index().map_err(git_err("index"))?;
            index
                .add_path(Path::new(&self.path))
                .map_err(git_err(format!("adding {} to the index", self.path)))?;
            index.write().map_err(git_err("writing the index"))?;
        }
        Ok(format!(
            "commit {} on {} ({})",
            &new.to_string()[..12],
            branch.trim_start_matches("refs/heads/"),
            self.path
        ))
    }

    fn load(&self) -> Result<Vec<u8>> {
        let repo = open(&self.git_dir)?;
        let head = repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .map_err(git_err("HEAD"))?;
        TreeFileStore::new(&self.git_dir, head.id(), &self.path, "HEAD").load()
    }

    fn describe(&self) -> String {
        format!("a new commit adding {}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_git_date;

    #[test]
    fn git_internal_dates() {
        for (text, secs, offset) in [
            ("1700000000 +0100", 1_700_000_000, 60),
            ("@1700000000 -0530", 1_700_000_000, -330),
            ("0 +0000", 0, 0),
        ] {
            let t = parse_git_date(text).unwrap();
            assert_eq!((t.seconds(), t.offset_minutes()), (secs, offset), "{text}");
        }
        for bad in [
            "",
            "1700000000",
            "1700000000 0100",
            "1700000000 +01:00",
            "1700000000 +0160",
            "1700000000 +éé",
            "x +0000",
            "2026-11-29T12:00:00Z",
        ] {
            assert!(parse_git_date(bad).is_none(), "{bad:?}");
        }
    }
}
