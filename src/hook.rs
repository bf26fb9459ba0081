//! The git pre-push hook's engine: which pushed commits change the model, and whether
//! each one is signed (verify mode) or gets signed into a note (sign mode).
//!
//! Git feeds the hook one line per pushed ref: `<local ref> <local sha> <remote ref>
//! <remote sha>`. For each pushed commit whose model folder differs from its parent's, a
//! valid signature must exist (verify mode), or one is made and stored as a note (sign
//! mode), and the notes ref is pushed along. What is being pushed is never rewritten.
//!
//! A commit that only adds the signature file (`--store commit`) changes nothing of the
//! model, and it covers the commit it signs: commits with the same model content share
//! a signature.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Commit, ConfigLevel, Oid, Repository, Sort};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::{sign_revision, verify_revision, RevSpec, StoreKind};
use crate::hash::{HashingConfig, NoProgress};
use crate::sign::signer_from_files;
use crate::source::git::{git_err, normalize_subdir};
use crate::store::file::write_atomic;
use crate::store::git::{NotesStore, DEFAULT_SIGNATURE_NAME, NOTES_REF};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

/// The hook script shipped in `hooks/pre-push`.
pub const PRE_PUSH_SCRIPT: &str = include_str!("../hooks/pre-push");

/// What the hook does with pushed model commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HookMode {
    /// Refuse the push unless every model change is signed.
    Verify,
    /// Sign unsigned model changes with `msign.key` and push the notes along.
    Sign,
}

impl HookMode {
    /// The word `git config msign.mode` holds.
    pub fn as_str(self) -> &'static str {
        match self {
            HookMode::Verify => "verify",
            HookMode::Sign => "sign",
        }
    }
}

fn hooks_dir(repo: &Repository) -> Result<PathBuf> {
    let cfg = repo.config().map_err(git_err("config"))?;
    if let Ok(p) = cfg.get_path("core.hooksPath") {
        if p.is_absolute() {
            return Ok(p);
        }
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(base.join(p));
    }
    Ok(repo.commondir().join("hooks"))
}

/// Installs msign's pre-push hook into the repository found from `dir` (replacing Git
/// LFS's own, whose job it also does; another hook only with `force`) and, when given,
/// sets `msign.mode`. Returns the hook's path. [`install_with`] does more and reports
/// what the hook still needs.
pub fn install(dir: &Path, mode: Option<HookMode>, force: bool) -> Result<PathBuf> {
    let options = InstallOptions {
        mode,
        force,
        fetch_notes: false,
    };
    Ok(install_with(dir, &options)?.path)
}

/// What [`install_with`] does.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Set `msign.mode` to this.
    pub mode: Option<HookMode>,
    /// Replace a different existing pre-push hook.
    pub force: bool,
    /// Add `refs/notes/model-signing` to every remote's fetch refspecs, so `git fetch`
    /// and `git pull` bring the signatures kept in notes.
    pub fetch_notes: bool,
}

/// What [`install_with`] did, and what the hook still needs.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// Always `installed`.
    pub status: &'static str,
    /// The hook's path.
    pub path: PathBuf,
    /// The mode the hook will run in (`msign.mode`).
    pub mode: HookMode,
    /// Remotes whose fetch now brings `refs/notes/model-signing`.
    pub fetch_notes: Vec<String>,
    /// Configuration the hook needs and does not have: it would refuse pushes for it.
    pub warnings: Vec<String>,
    /// Things worth knowing (Git LFS's commands and this hook).
    pub notes: Vec<String>,
}

/// Installs msign's pre-push hook as [`install`] does, optionally sets up fetching the
/// notes, and checks the configuration the hook will read.
pub fn install_with(dir: &Path, options: &InstallOptions) -> Result<Installed> {
    let repo = crate::source::git::open_repo(dir)?;
    let hooks = hooks_dir(&repo)?;
    let path = hooks.join("pre-push");
    match std::fs::read(&path) {
        Ok(existing) if existing == PRE_PUSH_SCRIPT.as_bytes() => {}
        Ok(existing) if !options.force && !is_git_lfs_hook(&existing) => {
            return Err(Error::Usage(format!(
                "{} exists and is not msign's hook; pass --force to replace it, or call `git model-sign hook pre-push \"$@\"` from it",
                path.display()
            )))
        }
        _ => {
            std::fs::create_dir_all(&hooks).map_err(|e| Error::io(&hooks, e))?;
            write_atomic(&path, PRE_PUSH_SCRIPT.as_bytes())?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    let local = || {
        repo.config()
            .and_then(|c| c.open_level(ConfigLevel::Local))
            .map_err(git_err("config"))
    };
    if let Some(m) = options.mode {
        local()?
            .set_str("msign.mode", m.as_str())
            .map_err(git_err("config"))?;
    }
    let fetch_notes = if options.fetch_notes {
        add_notes_refspecs(&repo)?
    } else {
        Vec::new()
    };
    let mut warnings = Vec::new();
    if options.fetch_notes && fetch_notes.is_empty() {
        warnings.push(
            "--fetch-notes: the repository has no remote yet; run `msign hook install --fetch-notes` again once it has one".into(),
        );
    }
    let settings = Settings::load(&repo)?;
    warnings.extend(settings.problems());
    let mut notes = Vec::new();
    if git_lfs_available() {
        notes.push(
            "Git LFS: this hook runs `git lfs pre-push` itself. `git lfs install` and `git lfs update` in this repository now stop with \"Hook already exists: pre-push\" and skip LFS's other hooks (post-checkout, post-commit, post-merge: file locking); to have all of them, run `git lfs update --force` and then `msign hook install` again"
                .to_string(),
        );
    }
    Ok(Installed {
        status: "installed",
        path,
        mode: settings.mode,
        fetch_notes,
        warnings,
        notes,
    })
}

/// The fetch refspec that brings signatures kept in notes. Not forced: a remote's notes
/// that do not contain the local ones (signatures made here and not pushed yet) are
/// refused by `git fetch`, not silently dropped.
fn notes_refspec() -> String {
    format!("{NOTES_REF}:{NOTES_REF}")
}

/// Adds [`notes_refspec`] to every remote that does not fetch it yet; returns the
/// remotes that fetch it now.
fn add_notes_refspecs(repo: &Repository) -> Result<Vec<String>> {
    let spec = notes_refspec();
    let names = repo.remotes().map_err(git_err("remotes"))?;
    let mut out = Vec::new();
    for name in names.iter().flatten().flatten() {
        let remote = repo.find_remote(name).map_err(git_err(name))?;
        let specs = remote.fetch_refspecs().map_err(git_err(name))?;
        let has = specs
            .iter()
            .flatten()
            .flatten()
            .any(|s| s.trim_start_matches('+') == spec);
        if !has {
            repo.remote_add_fetch(name, &spec)
                .map_err(git_err(format!("adding {spec} to remote {name}")))?;
        }
        out.push(name.to_string());
    }
    Ok(out)
}

fn git_lfs_available() -> bool {
    Command::new("git-lfs")
        .arg("version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Git LFS's own pre-push hook (`git lfs install` writes it), whose one job, `git lfs
/// pre-push`, msign's hook also does; replacing it loses nothing.
fn is_git_lfs_hook(script: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(script) else {
        return false;
    };
    let commands: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    text.len() < 1024
        && commands
            .iter()
            .any(|l| l.starts_with("git lfs pre-push \"$@\""))
        && commands
            .iter()
            .all(|l| l.contains("git-lfs") || l.contains("git lfs pre-push"))
}

/// The settings the hook reads from git config.
pub struct Settings {
    /// `msign.mode`: verify (default) or sign.
    pub mode: HookMode,
    /// `msign.path`: the model folder in the repository (default: the whole tree).
    pub subdir: String,
    /// `msign.method`: key (default) or certificate.
    pub method: String,
    cfg: git2::Config,
    /// Relative paths in the settings are taken from here, the work tree's top folder,
    /// where git runs hooks.
    base: PathBuf,
}

impl Settings {
    /// Reads the settings of `repo`.
    pub fn load(repo: &Repository) -> Result<Self> {
        let cfg = repo
            .config()
            .and_then(|mut c| c.snapshot())
            .map_err(git_err("config"))?;
        let mode = match cfg.get_string("msign.mode").ok().as_deref() {
            None | Some("verify") => HookMode::Verify,
            Some("sign") => HookMode::Sign,
            Some(other) => {
                return Err(Error::Usage(format!(
                    "git config msign.mode is {other:?}; use verify or sign"
                )))
            }
        };
        let subdir = normalize_subdir(&cfg.get_string("msign.path").unwrap_or_default())?;
        let method = cfg
            .get_string("msign.method")
            .unwrap_or_else(|_| "key".into());
        let base = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
        Ok(Settings {
            mode,
            subdir,
            method,
            cfg,
            base,
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        self.cfg
            .get_path(key)
            .map(|p| self.base.join(p))
            .map_err(|_| {
                Error::Usage(format!(
                    "the msign pre-push hook needs `git config {key} <file>` ({} mode, method {})",
                    self.mode.as_str(),
                    self.method
                ))
            })
    }

    fn paths(&self, key: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(mut entries) = self.cfg.multivar(key, None) {
            while let Some(Ok(e)) = entries.next() {
                if let Ok(v) = e.value() {
                    out.push(self.base.join(v));
                }
            }
        }
        out
    }

    /// What keeps the hook from working in its mode: an unset or unreadable key, an
    /// unknown method. Each would make it refuse every push that changes the model.
    pub fn problems(&self) -> Vec<String> {
        let problem = match self.mode {
            HookMode::Verify => self.verifier().err(),
            HookMode::Sign => self.signing_files_problem(),
        };
        problem
            .map(|e| format!("the pre-push hook cannot work yet: {e}"))
            .into_iter()
            .collect()
    }

    /// Sign mode's files, checked without reading the key (it may need a password the
    /// hook gets only at push time).
    fn signing_files_problem(&self) -> Option<Error> {
        let mut keys = vec!["msign.key"];
        match self.method.as_str() {
            "key" => {}
            "certificate" => keys.push("msign.signingCertificate"),
            m => {
                return Some(Error::Usage(format!(
                    "git config msign.method is {m:?}; use key or certificate"
                )))
            }
        }
        for key in keys {
            match self.path(key) {
                Err(e) => return Some(e),
                Ok(p) if !p.is_file() => {
                    return Some(Error::Usage(format!(
                        "git config {key} names {}, which is not a readable file",
                        p.display()
                    )))
                }
                Ok(_) => {}
            }
        }
        None
    }

    /// The verifier the settings name (`msign.publicKey`, `msign.rootCertificate`).
    pub fn verifier(&self) -> Result<VerifyingConfig> {
        match self.method.as_str() {
            "key" => Ok(VerifyingConfig::new(Box::new(KeyVerifier::from_pem_file(
                &self.path("msign.publicKey")?,
            )?))),
            "certificate" => Ok(VerifyingConfig::new(Box::new(
                CertificateVerifier::from_root_files(&self.paths("msign.rootCertificate"))?,
            ))),
            m => Err(Error::Usage(format!(
                "git config msign.method is {m:?}; use key or certificate"
            ))),
        }
    }

    /// The signer the settings name (`msign.key`, password from `MSIGN_KEY_PASSWORD`;
    /// `msign.signingCertificate`, `msign.certificateChain`).
    pub fn signer(&self) -> Result<Box<dyn crate::sign::Signer>> {
        let key = self.path("msign.key")?;
        let password = std::env::var("MSIGN_KEY_PASSWORD").ok();
        match self.method.as_str() {
            "key" => signer_from_files(&key, password.as_deref(), None),
            "certificate" => {
                let leaf = self.path("msign.signingCertificate")?;
                let chain = self.paths("msign.certificateChain");
                signer_from_files(&key, password.as_deref(), Some((&leaf, &chain)))
            }
            m => Err(Error::Usage(format!(
                "git config msign.method is {m:?}; use key or certificate"
            ))),
        }
    }
}

/// The model folder's entries, minus the signature file: equal keys mean equal models.
type ModelKey = Option<Vec<(Vec<u8>, i32, Oid)>>;

fn model_key(repo: &Repository, commit: &Commit<'_>, subdir: &str) -> ModelKey {
    let root = commit.tree().ok()?;
    let tree = if subdir.is_empty() {
        root
    } else {
        let e = root.get_path(Path::new(subdir)).ok()?;
        repo.find_tree(e.id()).ok()?
    };
    Some(
        tree.iter()
            .filter(|e| e.name_bytes() != DEFAULT_SIGNATURE_NAME.as_bytes())
            .map(|e| (e.name_bytes().to_vec(), e.filemode(), e.id()))
            .collect(),
    )
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

/// The commits a push to `remote` sends, oldest first, from git's pre-push input
/// (`<local ref> <local sha> <remote ref> <remote sha>` lines); deletions and notes refs
/// are skipped.
pub fn pushed_commits(
    repo: &Repository,
    remote: &str,
    input: &mut dyn BufRead,
) -> Result<Vec<Oid>> {
    let mut out: Vec<Oid> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        let n = input
            .read_line(&mut line)
            .map_err(|e| Error::io("<stdin>", e))?;
        if n == 0 {
            break;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_local_ref, local_sha, remote_ref, remote_sha] = fields[..] else {
            if fields.is_empty() {
                continue;
            }
            return Err(Error::Usage(format!(
                "unexpected pre-push input line {:?}",
                line.trim_end()
            )));
        };
        if is_zero(local_sha) || remote_ref.starts_with("refs/notes/") {
            continue;
        }
        let bad = |s: &str| Error::Usage(format!("pre-push input has a bad object id {s:?}"));
        let local = Oid::from_str(local_sha).map_err(|_| bad(local_sha))?;
        let Ok(local) = repo
            .find_object(local, None)
            .and_then(|o| o.peel_to_commit())
        else {
            continue; // a tag of a tree or blob: no model history to check
        };
        let mut walk = repo.revwalk().map_err(git_err("revwalk"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(git_err("revwalk"))?;
        walk.push(local.id()).map_err(git_err("revwalk"))?;
        let remote_oid = Oid::from_str(remote_sha).map_err(|_| bad(remote_sha))?;
        if !is_zero(remote_sha) && repo.find_commit(remote_oid).is_ok() {
            walk.hide(remote_oid).map_err(git_err("revwalk"))?;
        } else {
            // A new branch (or an unknown remote tip): everything the remote is not known
            // to have already.
            let _ = walk.hide_glob(&format!("refs/remotes/{remote}/*"));
        }
        for c in walk {
            let c = c.map_err(git_err("revwalk"))?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// One pushed commit whose model has a valid signature.
#[derive(Debug, Clone, Serialize)]
pub struct CommitVerified {
    /// The commit.
    pub commit: String,
    /// Where its signature was found, in words.
    pub origin: String,
}

/// One pushed commit that changes the model without a valid signature.
#[derive(Debug, Clone, Serialize)]
pub struct CommitRefused {
    /// The commit.
    pub commit: String,
    /// Its summary line.
    pub summary: String,
    /// Why no signature covers it.
    pub reason: String,
}

/// What [`pre_push`] did.
#[derive(Debug, Clone, Serialize)]
pub struct PrePush {
    /// The mode it ran in.
    pub mode: HookMode,
    /// The remote pushed to.
    pub remote: String,
    /// Verify mode: commits whose signature verified, in push order.
    pub verified: Vec<CommitVerified>,
    /// Verify mode: commits refused; the push must not proceed unless this is empty.
    pub refused: Vec<CommitRefused>,
    /// Verify mode: some signatures are notes, which the remote needs too.
    pub signatures_in_notes: bool,
    /// Sign mode: commits signed into notes (the notes ref was pushed along).
    pub signed: Vec<String>,
}

impl PrePush {
    /// Whether the push may proceed.
    pub fn passed(&self) -> bool {
        self.refused.is_empty()
    }
}

/// Runs the hook for a push to `remote` in the repository git's environment names, with
/// git's pre-push lines on `input`.
pub fn pre_push(remote: &str, input: &mut dyn BufRead) -> Result<PrePush> {
    let repo = Repository::open_from_env().map_err(git_err("opening the repository"))?;
    let settings = Settings::load(&repo)?;
    let commits = pushed_commits(&repo, remote, input)?;
    let mut keys: HashMap<Oid, ModelKey> = HashMap::new();
    let mut needing = Vec::new();
    for &id in &commits {
        let c = repo.find_commit(id).map_err(git_err(id))?;
        let key = model_key(&repo, &c, &settings.subdir);
        let parent_key = c
            .parent(0)
            .ok()
            .and_then(|p| model_key(&repo, &p, &settings.subdir));
        if key.is_some() && key != parent_key {
            needing.push(id);
        }
        keys.insert(id, key);
    }
    let dir = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    // Only what is pushed counts: a signature file left in the work tree is not.
    let spec = |id: Oid| RevSpec {
        look_in_work_tree: false,
        ..RevSpec::new(&dir, &id.to_string()).subdir(&settings.subdir)
    };
    let mut report = PrePush {
        mode: settings.mode,
        remote: remote.to_string(),
        verified: Vec::new(),
        refused: Vec::new(),
        signatures_in_notes: false,
        signed: Vec::new(),
    };
    if needing.is_empty() {
        return Ok(report);
    }
    match settings.mode {
        HookMode::Verify => {
            // A configuration problem is reported as one, before any commit is judged:
            // it is not the commits' fault.
            let config = settings.verifier().map_err(|e| {
                Error::Usage(format!(
                    "the msign pre-push hook is not configured to verify (no commit was checked): {e}"
                ))
            })?;
            let mut verdicts: HashMap<Oid, std::result::Result<String, String>> = HashMap::new();
            for &id in &needing {
                // This commit, or a pushed commit with the same model (one that only adds
                // the signature file), must carry a valid signature.
                let candidates: Vec<Oid> = std::iter::once(id)
                    .chain(
                        commits
                            .iter()
                            .copied()
                            .filter(|c| *c != id && keys[c] == keys[&id]),
                    )
                    .collect();
                let mut ok = None;
                let mut last_err = String::new();
                for c in candidates {
                    let v = verdicts.entry(c).or_insert_with(|| {
                        verify_revision(&spec(c), config.clone(), None, false, &NoProgress)
                            .map(|v| v.signature)
                            .map_err(|e| e.to_string())
                    });
                    match v {
                        Ok(origin) => {
                            ok = Some(origin.clone());
                            break;
                        }
                        Err(e) => last_err = e.clone(),
                    }
                }
                match ok {
                    Some(origin) => report.verified.push(CommitVerified {
                        commit: id.to_string(),
                        origin,
                    }),
                    None => {
                        let summary = repo
                            .find_commit(id)
                            .ok()
                            .and_then(|c| c.summary().ok().flatten().map(str::to_string))
                            .unwrap_or_default();
                        report.refused.push(CommitRefused {
                            commit: id.to_string(),
                            summary,
                            reason: last_err,
                        })
                    }
                }
            }
            report.signatures_in_notes = verdicts
                .values()
                .any(|v| v.as_ref().is_ok_and(|o| o.starts_with("git note")));
        }
        HookMode::Sign => {
            for &id in &needing {
                if NotesStore::new(repo.path(), id).exists()? {
                    continue;
                }
                sign_revision(
                    &spec(id),
                    HashingConfig::new(),
                    settings.signer()?,
                    StoreKind::Notes,
                    None,
                    &NoProgress,
                )?;
                report.signed.push(id.to_string());
            }
            let status = Command::new("git")
                .arg("push")
                .arg("--no-verify")
                .arg("--quiet")
                .arg(remote)
                .arg(format!("{NOTES_REF}:{NOTES_REF}"))
                .status()
                .map_err(|e| Error::Other(format!("running git push for the notes: {e}")))?;
            if !status.success() {
                return Err(Error::Other(format!(
                    "pushing {NOTES_REF} to {remote} failed; the signatures are stored locally, push them with `git push {remote} {NOTES_REF}`"
                )));
            }
        }
    }
    Ok(report)
}
