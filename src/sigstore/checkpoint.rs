//! Checkpoints: a log's signed statement of its size and root hash, in the signed-note
//! format (C2SP `signed-note`, `tlog-checkpoint`):
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]\n— <name> <base64(key hint || signature)>\n
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::Result;
use crate::sigstore::keys::verify_signature;
use crate::sigstore::trust::TransparencyLog;
use crate::sigstore::{invalid, malformed};

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root_hash: Vec<u8>,
    /// The signed text (everything before the blank line, with its final newline).
    pub body: String,
    /// Signatures: signer name, 4-byte key hint, signature.
    pub signatures: Vec<(String, [u8; 4], Vec<u8>)>,
}

/// Parses a signed note holding a checkpoint.
pub fn parse(note: &str) -> Result<Checkpoint> {
    let (body, sigs) = note
        .split_once("\n\n")
        .ok_or_else(|| malformed("checkpoint has no signature block"))?;
    let mut lines = body.split('\n');
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| malformed("checkpoint has no origin"))?;
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or_else(|| malformed("checkpoint tree size is not a number"))?;
    let root_hash = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .ok_or_else(|| malformed("checkpoint root hash is not base64"))?;
    let mut signatures = Vec::new();
    for line in sigs.split('\n').filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| malformed("checkpoint signature line does not start with an em dash"))?;
        let (name, sig) = rest
            .rsplit_once(' ')
            .ok_or_else(|| malformed("checkpoint signature line has no signature"))?;
        let raw = B64
            .decode(sig)
            .map_err(|_| malformed("checkpoint signature is not base64"))?;
        if raw.len() < 5 {
            return Err(malformed("checkpoint signature is too short"));
        }
        let hint = [raw[0], raw[1], raw[2], raw[3]];
        signatures.push((name.to_string(), hint, raw[4..].to_vec()));
    }
    if signatures.is_empty() {
        return Err(malformed("checkpoint carries no signature"));
    }
    Ok(Checkpoint {
        origin: origin.to_string(),
        size,
        root_hash,
        body: format!("{body}\n"),
        signatures,
    })
}

/// Checks that the checkpoint is signed by `log`: a signature whose key hint is the log's
/// (the first four bytes of its id) must verify over the note text with the log's key.
pub fn verify_checkpoint_signature(
    cp: &Checkpoint,
    log: &TransparencyLog,
    hint: [u8; 4],
) -> Result<()> {
    let mut candidates = cp
        .signatures
        .iter()
        .filter(|(_, h, _)| *h == hint)
        .peekable();
    if candidates.peek().is_none() {
        return Err(invalid(
            "the checkpoint is not signed by the transparency log of this entry (no signature with its key hint)",
        ));
    }
    for (_, _, sig) in candidates {
        if verify_signature(&log.key, cp.body.as_bytes(), sig)? {
            return Ok(());
        }
    }
    Err(invalid(
        "the checkpoint signature does not verify with the transparency log's key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rekor_checkpoint() {
        let cp = parse("rekor.sigstore.dev - 1193050959916656506\n476246825\nV0NA1ekHc4sMtyOk9+rSfb50+v1kFb/0QXYbxrm43gk=\n\n\u{2014} rekor.sigstore.dev wNI9ajBFAiBtV0gov0pC7kBG6WPaApxiUudh/9C4XyIybO93bBSVwQIhAIbRCl/2O4fJ83ik6SiLnFx3ipedmkvKoQ9ykKvQYdS4\n").unwrap();
        assert_eq!(cp.origin, "rekor.sigstore.dev - 1193050959916656506");
        assert_eq!(cp.size, 476246825);
        assert_eq!(cp.root_hash.len(), 32);
        assert_eq!(cp.signatures.len(), 1);
        assert_eq!(cp.signatures[0].1, [0xc0, 0xd2, 0x3d, 0x6a]);
        assert!(cp.body.ends_with("gk=\n"));
        assert!(parse("origin\n1\nAAAA\n").is_err());
        assert!(parse("origin\nx\nAAAA\n\n\u{2014} a AAAAAAAA\n").is_err());
    }
}
