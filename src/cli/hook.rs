//! The pre-push hook: `msign hook install` and `msign hook pre-push` (what the installed
//! script runs).
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
use std::process::{Command, ExitCode};

use clap::{Subcommand, ValueEnum};
use git2::{Commit, ConfigLevel, Oid, Repository, Sort};

use crate::cli::args::{CertificateArgs, HashArg, HashArgs, PrivateKeyArgs};
use crate::cli::git::{sign_rev, verify_rev, RevSpec, StoreKind};
use crate::cli::gitcmd::make_signer;
use crate::cli::{report_error, Ctx, EXIT_VERIFY_FAILED};
use crate::error::{Error, Result};
use crate::source::git::{git_err, normalize_subdir};
use crate::store::file::write_atomic;
use crate::store::git::{NotesStore, DEFAULT_SIGNATURE_NAME, NOTES_REF};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

/// The hook script shipped in `hooks/pre-push`.
pub const PRE_PUSH_SCRIPT: &str = include_str!("../../hooks/pre-push");

/// What the hook does with pushed model commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookMode {
    /// Refuse the push unless every model change is signed.
    Verify,
    /// Sign unsigned model changes with `msign.key` and push the notes along.
    Sign,
}

/// `hook` subcommands.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-push hook into a repository (and set `msign.mode`).
    Install {
        /// Verify (default) or sign pushed model commits; stored as `git config msign.mode`.
        #[arg(long, value_enum)]
        mode: Option<HookMode>,
        /// Replace a different existing pre-push hook.
        #[arg(long)]
        force: bool,
        /// The repository, or a folder in it.
        #[arg(short = 'C', long = "git-dir", value_name = "DIR", default_value = ".")]
        repo: PathBuf,
    },
    /// Run as git's pre-push hook (reads git's ref lines on stdin). Settings from git
    /// config: msign.mode (verify|sign), msign.path (model folder), msign.method
    /// (key|certificate), msign.publicKey, msign.rootCertificate (verify),
    /// msign.key, msign.signingCertificate, msign.certificateChain (sign).
    #[command(name = "pre-push")]
    PrePush {
        /// The remote's name (or URL).
        remote: String,
        /// The remote's URL.
        url: Option<String>,
    },
}

/// Runs a `hook` subcommand.
pub fn run(ctx: &Ctx, cmd: HookCommand) -> ExitCode {
    let result = match cmd {
        HookCommand::Install { mode, force, repo } => install(ctx, &repo, mode, force),
        HookCommand::PrePush { remote, .. } => {
            let stdin = std::io::stdin();
            pre_push(ctx, &remote, &mut stdin.lock())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => report_error(ctx, &e, serde_json::json!({})),
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

fn install(ctx: &Ctx, dir: &Path, mode: Option<HookMode>, force: bool) -> Result<ExitCode> {
    let repo = crate::source::git::open_repo(dir)?;
    let hooks = hooks_dir(&repo)?;
    let path = hooks.join("pre-push");
    match std::fs::read(&path) {
        Ok(existing) if existing == PRE_PUSH_SCRIPT.as_bytes() => {}
        Ok(existing) if !force && !is_git_lfs_hook(&existing) => {
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
    if let Some(m) = mode {
        let mut cfg = repo
            .config()
            .and_then(|c| c.open_level(ConfigLevel::Local))
            .map_err(git_err("config"))?;
        let v = match m {
            HookMode::Verify => "verify",
            HookMode::Sign => "sign",
        };
        cfg.set_str("msign.mode", v).map_err(git_err("config"))?;
    }
    if !ctx.quiet {
        println!("Installed the msign pre-push hook at {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
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
struct Settings {
    mode: HookMode,
    subdir: String,
    method: String,
    cfg: git2::Config,
}

impl Settings {
    fn load(repo: &Repository) -> Result<Self> {
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
        Ok(Settings {
            mode,
            subdir,
            method,
            cfg,
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        self.cfg.get_path(key).map_err(|_| {
            Error::Usage(format!(
                "the msign pre-push hook needs `git config {key} <file>` ({} mode, method {})",
                match self.mode {
                    HookMode::Verify => "verify",
                    HookMode::Sign => "sign",
                },
                self.method
            ))
        })
    }

    fn paths(&self, key: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(mut entries) = self.cfg.multivar(key, None) {
            while let Some(Ok(e)) = entries.next() {
                if let Ok(v) = e.value() {
                    out.push(PathBuf::from(v));
                }
            }
        }
        out
    }

    fn verifier(&self) -> Result<VerifyingConfig> {
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

    fn signer(&self) -> Result<Box<dyn crate::sign::Signer>> {
        let key = PrivateKeyArgs {
            private_key: self.path("msign.key")?,
            password: std::env::var("MSIGN_KEY_PASSWORD").ok(),
            password_file: None,
        };
        match self.method.as_str() {
            "key" => make_signer(&key, None),
            "certificate" => make_signer(
                &key,
                Some(&CertificateArgs {
                    signing_certificate: self.path("msign.signingCertificate")?,
                    certificate_chain: self.paths("msign.certificateChain"),
                }),
            ),
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

/// The commits a push sends, oldest first.
fn pushed_commits(repo: &Repository, remote: &str, input: &mut dyn BufRead) -> Result<Vec<Oid>> {
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

fn pre_push(ctx: &Ctx, remote: &str, input: &mut dyn BufRead) -> Result<ExitCode> {
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
    let inner = Ctx {
        json: false,
        quiet: true,
    };
    let spec = |id: Oid| RevSpec::new(&dir, &id.to_string(), &settings.subdir, false, true);
    let say = |m: String| {
        if !ctx.quiet {
            eprintln!("{m}");
        }
    };
    if needing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    match settings.mode {
        HookMode::Verify => {
            let mut verdicts: HashMap<Oid, std::result::Result<String, String>> = HashMap::new();
            let mut failed = Vec::new();
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
                        settings
                            .verifier()
                            .and_then(|cfg| verify_rev(&inner, &spec(c), cfg, None, false))
                            .map(|v| v.origin)
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
                    Some(origin) => say(format!(
                        "msign: {} model signature verified ({origin})",
                        short(id)
                    )),
                    None => failed.push((id, last_err)),
                }
            }
            if failed.is_empty() {
                let used_notes = verdicts
                    .values()
                    .any(|v| v.as_ref().is_ok_and(|o| o.starts_with("git note")));
                if used_notes {
                    say(format!(
                        "msign: signatures are in notes; publish them with `git push {remote} {NOTES_REF}`"
                    ));
                }
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "msign pre-push: refusing to push {} commit(s) that change the model without a valid signature:",
                failed.len()
            );
            for (id, why) in &failed {
                let summary = repo
                    .find_commit(*id)
                    .ok()
                    .and_then(|c| c.summary().ok().flatten().map(str::to_string))
                    .unwrap_or_default();
                eprintln!(
                    "  {} {summary}\n    {}",
                    short(*id),
                    why.replace('\n', "\n    ")
                );
            }
            eprintln!(
                "hint: sign them with `git model-sign sign key <commit> --store notes --private-key KEY` and push refs/notes/model-signing, or set `git config msign.mode sign`"
            );
            Ok(ExitCode::from(EXIT_VERIFY_FAILED))
        }
        HookMode::Sign => {
            let hash = HashArgs {
                serialization: None,
                hash_algorithm: HashArg::Sha256,
                shard_size: None,
                exclude: Vec::new(),
                no_ignore_file: false,
            };
            for &id in &needing {
                if NotesStore::new(repo.path(), id).exists()? {
                    continue;
                }
                sign_rev(
                    &inner,
                    &spec(id),
                    &hash,
                    settings.signer()?,
                    StoreKind::Notes,
                    None,
                )?;
                say(format!(
                    "msign: signed {} (note under {NOTES_REF})",
                    short(id)
                ));
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
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn short(id: Oid) -> String {
    id.to_string()[..12].to_string()
}
