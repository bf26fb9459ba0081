//! Image references: `registry/repository:tag`, `registry/repository@sha256:HEX`, or both,
//! as the OCI distribution spec names repositories and tags.

use std::fmt;

use crate::error::{Error, Result};

/// The registry used when a reference names none (`ubuntu`, `org/model:tag`).
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Where the default registry's API answers.
const DEFAULT_REGISTRY_API: &str = "registry-1.docker.io";

/// A parsed reference to a manifest in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`, as written (or `docker.io`).
    pub registry: String,
    /// The repository name, e.g. `org/model`.
    pub repository: String,
    /// The tag, when one was given (or `latest` when neither tag nor digest was).
    pub tag: Option<String>,
    /// `sha256:HEX`, when the reference pins a digest.
    pub digest: Option<String>,
}

fn usage(reference: &str, why: &str) -> Error {
    Error::Usage(format!(
        "{reference:?} is not an image reference: {why} (expected REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:HEX)"
    ))
}

/// Checks `sha256:` followed by 64 lowercase hex digits, the only digest msign accepts: it
/// is the one a model_signing statement's `sha256` resources can carry.
pub fn check_digest(digest: &str) -> std::result::Result<[u8; 32], String> {
    let Some(hex_part) = digest.strip_prefix("sha256:") else {
        return Err(format!(
            "digest {digest:?} is not a sha256 digest (sha256:<64 hex digits>)"
        ));
    };
    if hex_part.len() != 64
        || !hex_part
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "digest {digest:?} is not sha256:<64 lowercase hex digits>"
        ));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|e| format!("digest {digest:?}: {e}"))?;
    Ok(out)
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ separated by '.', '_', '__' or runs of '-', as the distribution spec says.
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && matches!(b[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || i == start {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Splits `host[:port]` (`[v6]:port` for IPv6); `None` when malformed.
fn split_host_port(h: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = match h.strip_prefix('[') {
        Some(rest) => {
            let (ip, tail) = rest.split_once(']')?;
            match tail {
                "" => (ip, None),
                t => (ip, Some(t.strip_prefix(':')?)),
            }
        }
        None => match h.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (h, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) || host.is_empty() {
        return None;
    }
    Some((host, port))
}

fn valid_host(h: &str) -> bool {
    split_host_port(h).is_some_and(|(host, _)| {
        host.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':'))
    })
}

impl Reference {
    /// Parses a reference. A first component with a `.` or `:` (or `localhost`) names the
    /// registry; otherwise the reference is on Docker Hub, as `docker pull` reads it.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 4096 || s.chars().any(|c| c.is_whitespace()) {
            return Err(usage(s, "empty, too long, or contains white space"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                check_digest(d).map_err(|e| usage(s, &e))?;
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                if !valid_tag(tag) {
                    return Err(usage(s, &format!("bad tag {tag:?}")));
                }
                (&rest[..last_slash + i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                if !valid_host(first) {
                    return Err(usage(s, &format!("bad registry host {first:?}")));
                }
                (first.to_string(), path.to_string())
            }
            Some(_) => (DEFAULT_REGISTRY.to_string(), name.to_string()),
            None => (DEFAULT_REGISTRY.to_string(), format!("library/{name}")),
        };
        if repository.len() > 255 || !repository.split('/').all(valid_component) {
            return Err(usage(
                s,
                &format!("bad repository name {repository:?} (lowercase letters, digits, '.', '_', '-', '/')"),
            ));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `host[:port]` of the registry's API.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DEFAULT_REGISTRY_API
        } else {
            &self.registry
        }
    }

    /// What to ask the registry for: the digest when pinned, the tag otherwise.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same repository pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`, `::1`): plain
    /// HTTP is allowed there without `--plain-http`.
    pub fn is_loopback(&self) -> bool {
        let Some((host, _)) = split_host_port(&self.registry) else {
            return false;
        };
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_reads_them() {
        let r = Reference::parse("127.0.0.1:5000/org/model:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "org/model", Some("v1"))
        );
        assert!(r.is_loopback());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("localhost:5000/m@{d}")).unwrap();
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some(d.as_str())));
        let r = Reference::parse("ubuntu").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/ubuntu:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert!(!Reference::parse("ghcr.io/a/b").unwrap().is_loopback());
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "r.io/Upper/x",
            "r.io/a/b:",
            "r.io/a/b@sha256:abc",
            "r.io/a/b@sha512:00",
            "r.io/a//b",
            "r.io/a/-b",
            "r.io:99999/a",
            "r.io/a b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
