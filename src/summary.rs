//! The text summary of each workflow's report, as `msign` prints it on success: one
//! `impl Display` per report type, in one place, so the CLI, the Python binding and Rust
//! callers say the same thing (`println!("{report}")`). The JSON form is the report's
//! `Serialize`. Lines are separated by `\n`, with none at the end.

use std::fmt::{self, Display, Formatter};
use std::path::Path;

use indicatif::HumanBytes;

use crate::git::{RejectedSignature, RevisionSigned, RevisionVerified};
use crate::hook::{Installed, PrePush};
use crate::hub::{HubDownloaded, HubSigned, HubVerification, Uploaded};
use crate::oci::{SignReport, VerifyReport};
use crate::sign::keygen::KeyPairWritten;
use crate::sigstore::{tuf, BundleReport, TrustRootUpdated};
use crate::store::git::NOTES_REF;
use crate::workflow::{ModelSigned, ModelVerified};

impl Display for ModelSigned {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.reused_files > 0 {
            writeln!(
                f,
                "{} file(s) unchanged: digests reused, not re-hashed",
                self.reused_files
            )?;
        }
        let size = self.bytes.map(|b| format!(" ({})", HumanBytes(b)));
        write!(
            f,
            "Signing succeeded: {} file(s){} of '{}' signed with {} -> {}",
            self.files,
            size.unwrap_or_default(),
            self.model_name,
            self.method,
            self.signature
        )
    }
}

impl Display for ModelVerified {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.digest_cache {
            writeln!(
                f,
                "{} file(s) unchanged since cached: not re-hashed",
                self.cached_files
            )?;
        }
        write!(
            f,
            "Verification succeeded: {} file(s) ({}) match the signature by {}",
            self.files,
            HumanBytes(self.bytes),
            self.signer
        )
    }
}

impl Display for HubVerification {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            HubVerification::Online(r) => write!(
                f,
                "Verification succeeded: {} file(s) ({}) of {}@{} match the signature by {}\n\
                 Downloaded {} bytes ({}) to check it: {:.3}% of the model's {} bytes",
                r.files,
                HumanBytes(r.bytes),
                r.repo,
                r.commit,
                r.signer,
                r.bytes_downloaded,
                HumanBytes(r.bytes_downloaded),
                r.downloaded_percent(),
                r.bytes
            ),
            HubVerification::Offline(r) => write!(
                f,
                "Verification succeeded (offline, from {}): {} file(s) ({}) match the signature by {}",
                r.folder.as_deref().unwrap_or(Path::new(&r.repo)).display(),
                r.files,
                HumanBytes(r.bytes),
                r.signer
            ),
        }
    }
}

impl Display for HubDownloaded {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Downloaded and verified {} file(s) ({}) of {}@{} signed by {} into {}\n\
             {} bytes downloaded, {} bytes already on disk re-checked",
            self.files,
            HumanBytes(self.bytes),
            self.repo,
            self.commit,
            self.signer,
            self.folder.display(),
            self.bytes_downloaded,
            self.bytes_reused
        )?;
        if !self.not_downloaded.is_empty() {
            write!(
                f,
                "\n{} signed file(s) not downloaded (left out by --include/--exclude): {}",
                self.not_downloaded.len(),
                self.not_downloaded.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The signing only: the upload, which comes after, is [`Uploaded::summary`].
impl Display for HubSigned {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signing succeeded: {} file(s) ({}) of {}@{} signed with {} -> {} ({} bytes downloaded)",
            self.files,
            HumanBytes(self.bytes),
            self.repo,
            self.commit,
            self.method,
            self.signature.display(),
            self.bytes_downloaded
        )
    }
}

impl Uploaded {
    /// What the upload of `signed`'s signature did, in one line.
    pub fn summary(&self, signed: &HubSigned) -> String {
        format!(
            "Uploaded {} to {}@{}: commit {}",
            self.path, signed.repo, self.branch, self.commit
        )
    }
}

impl Display for RevisionSigned {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signing succeeded: {} file(s) ({}) of '{}' at {} signed with {} -> {}",
            self.files,
            HumanBytes(self.bytes),
            self.model_name,
            self.describe(),
            self.method,
            self.signature,
        )
    }
}

impl Display for RevisionVerified {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Verification succeeded: {} file(s) ({}) of {} match the signature by {} (signature: {})",
            self.files,
            HumanBytes(self.bytes),
            self.describe(),
            self.signer,
            self.signature
        )
    }
}

/// As a warning: another signature of the revision that does not verify.
impl Display for RejectedSignature {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "also found {}, which does not verify: {}",
            self.signature,
            self.reason.trim_end().replace('\n', "\n  ")
        )
    }
}

/// With ` [PLATFORM]` when the manifest is one of an index's.
fn platform(p: &Option<String>) -> String {
    p.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default()
}

impl Display for SignReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut to = Vec::new();
        if let Some(s) = &self.signature {
            to.push(s.clone());
        }
        if let Some(a) = &self.attached {
            to.push(format!(
                "attached as {} ({}{})",
                a.manifest,
                a.via,
                a.tag.as_ref().map(|t| format!(" {t}")).unwrap_or_default()
            ));
        }
        write!(
            f,
            "Signing succeeded: {} layer(s) ({}, none downloaded) of {}{} ({}) signed with {} -> {}",
            self.resources,
            HumanBytes(self.bytes),
            self.target,
            platform(&self.platform),
            self.manifest_digest,
            self.method,
            to.join(", ")
        )
    }
}

impl Display for VerifyReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Verification succeeded: {} layer(s) of {}{} ({}) match the signature ({}) by {}",
            self.resources,
            self.target,
            platform(&self.platform),
            self.manifest_digest,
            self.signature,
            self.signer
        )
    }
}

impl Display for BundleReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "OK: bundle verified, signed by {}", self.signer)
    }
}

impl Display for TrustRootUpdated {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "OK: trusted root refreshed from {}", self.repository)?;
        for (name, m) in [
            ("root     ", &self.root),
            ("timestamp", &self.timestamp),
            ("snapshot ", &self.snapshot),
            ("targets  ", &self.targets),
        ] {
            write!(f, "\n  {name} v{} (expires {})", m.version, m.expires)?;
        }
        write!(f, "\n  {} sha256:{}", tuf::TARGET, self.trusted_root_sha256)?;
        match &self.signing_config_sha256 {
            Some(d) => write!(f, "\n  {} sha256:{d}", tuf::SIGNING_CONFIG)?,
            None => write!(f, "\n  no {} in the repository", tuf::SIGNING_CONFIG)?,
        }
        if let Some(out) = &self.output {
            write!(f, "\n  written to {}", out.display())?;
        }
        Ok(())
    }
}

impl Display for KeyPairWritten {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Generated a {} key{}: {} (private: keep it secret) and {} (public: give it to \
             verifiers)",
            self.curve,
            if self.encrypted { ", encrypted" } else { "" },
            self.private_key.display(),
            self.public_key.display()
        )
    }
}

/// What was installed; [`Installed::warnings`] and [`Installed::notes`] are left to the
/// caller (`msign` prints them on stderr).
impl Display for Installed {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Installed the msign pre-push hook at {} ({} mode)",
            self.path.display(),
            self.mode.as_str()
        )?;
        if !self.fetch_notes.is_empty() {
            write!(
                f,
                "\ngit fetch from {} now brings {NOTES_REF}",
                self.fetch_notes.join(", ")
            )?;
        }
        Ok(())
    }
}

/// A commit id as the hook names commits: its first 12 digits.
fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

impl PrePush {
    /// Why the push is refused, each commit with its reason, and how to sign them; `None`
    /// when the push may proceed. The hook prints this on stderr even when quiet.
    pub fn refusal(&self) -> Option<String> {
        if self.passed() {
            return None;
        }
        let mut out = format!(
            "msign pre-push: refusing to push {} commit(s) that change the model without a valid signature:",
            self.refused.len()
        );
        for c in &self.refused {
            out += &format!(
                "\n  {} {}\n    {}",
                short(&c.commit),
                c.summary,
                c.reason.replace('\n', "\n    ")
            );
        }
        out += "\nhint: sign them with `git model-sign sign key <commit> --store notes --private-key KEY` and push refs/notes/model-signing, or set `git config msign.mode sign`";
        Some(out)
    }
}

/// What the hook did, commit by commit, then what is left to do or why the push is
/// refused ([`PrePush::refusal`]); empty when nothing was pushed that touches the model.
impl Display for PrePush {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut lines = Vec::new();
        for v in &self.verified {
            lines.push(format!(
                "msign: {} model signature verified ({})",
                short(&v.commit),
                v.origin
            ));
        }
        for c in &self.signed {
            lines.push(format!(
                "msign: signed {} (note under {NOTES_REF})",
                short(c)
            ));
        }
        match self.refusal() {
            Some(refusal) => lines.push(refusal),
            None if self.signatures_in_notes => lines.push(format!(
                "msign: signatures are in notes; publish them with `git push {} {NOTES_REF}`",
                self.remote
            )),
            None => {}
        }
        write!(f, "{}", lines.join("\n"))
    }
}
