//! Registry credentials and the `WWW-Authenticate` challenge (the Docker token protocol
//! the OCI distribution spec leaves to registries: anonymous or basic credentials traded
//! at the challenge's realm for a bearer token).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::{Error, Result};

/// A user name and password (or identity token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <hidden>)", self.username)
    }
}

impl Credentials {
    /// The `Authorization: Basic` value.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            B64.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// The most a Docker config file may weigh.
const MAX_CONFIG: u64 = 4 << 20;

/// The credentials `msign oci` uses for `target`: `username` with the password read from
/// `password` (`--password-stdin`: at most 64 KiB, the line end dropped), else those the
/// Docker config holds for its registry, else none (anonymous). A manifest file needs none.
pub fn for_target(
    target: &crate::oci::Target,
    username: Option<&str>,
    password: &mut dyn std::io::Read,
) -> Result<Option<Credentials>> {
    use std::io::Read as _;
    match (username, target) {
        (Some(user), _) => {
            let mut text = String::new();
            password
                .take(64 << 10)
                .read_to_string(&mut text)
                .map_err(|e| Error::Usage(format!("--password-stdin: {e}")))?;
            let text = text.trim_end_matches(['\r', '\n']).to_string();
            if text.is_empty() {
                return Err(Error::Usage(
                    "--password-stdin: standard input holds no password".into(),
                ));
            }
            Ok(Some(Credentials {
                username: user.to_string(),
                password: text,
            }))
        }
        (None, crate::oci::Target::Registry(r)) => match docker_config_path() {
            Some(p) => from_docker_config(&p, &r.registry),
            None => Ok(None),
        },
        (None, crate::oci::Target::File(_)) => Ok(None),
    }
}

/// The Docker client config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The credentials the Docker config at `path` holds for `registry` (`host[:port]`), from
/// `auths` (`auth` as base64 `user:password`, or `username`/`password`). Credential helpers
/// are not run: a registry whose credentials live in one needs `--username`.
pub fn from_docker_config(path: &Path, registry: &str) -> Result<Option<Credentials>> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut bytes = Vec::new();
    f.take(MAX_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_CONFIG {
        return Err(Error::Usage(format!(
            "{}: larger than {MAX_CONFIG} bytes, not a Docker config",
            path.display()
        )));
    }
    let bad = |why: String| Error::Usage(format!("{}: {why}", path.display()));
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    // Docker writes keys as `host`, `https://host` or `https://host/v1/`; Docker Hub's is
    // `https://index.docker.io/v1/`.
    let key_host = |k: &str| {
        let k = k
            .strip_prefix("https://")
            .or_else(|| k.strip_prefix("http://"))
            .unwrap_or(k);
        k.split('/').next().unwrap_or("").to_string()
    };
    let wanted = if registry == crate::oci::reference::DEFAULT_REGISTRY {
        "index.docker.io"
    } else {
        registry
    };
    let Some((key, entry)) = auths.iter().find(|(k, _)| key_host(k) == wanted) else {
        return Ok(None);
    };
    if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
        if !auth.is_empty() {
            let decoded = B64
                .decode(auth)
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or_else(|| bad(format!("auths.{key}.auth is not base64 of user:password")))?;
            let (u, p) = decoded
                .split_once(':')
                .ok_or_else(|| bad(format!("auths.{key}.auth is not user:password")))?;
            return Ok(Some(Credentials {
                username: u.to_string(),
                password: p.to_string(),
            }));
        }
    }
    let field = |f: &str| entry.get(f).and_then(|x| x.as_str()).map(str::to_string);
    Ok(match (field("username"), field("password")) {
        (Some(username), Some(password)) => Some(Credentials { username, password }),
        _ => None,
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic` (lowercase).
    pub scheme: String,
    /// Parameters (`realm`, `service`, `scope`), names lowercase.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `Scheme k=v, k="quoted, value"` (RFC 7235, one challenge).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return None;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_reader_only_when_a_user_is_named() {
        let target = crate::oci::Target::parse("registry.example/models/bert:v1").unwrap();
        let c = for_target(&target, Some("alice"), &mut &b"s3cret\r\n"[..])
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "s3cret")
        );
        let err = for_target(&target, Some("alice"), &mut &b"\n"[..]).unwrap_err();
        assert!(err.to_string().contains("holds no password"), "{err}");
        // No user: the reader is not touched (standard input stays the caller's).
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.json");
        std::fs::write(&manifest, "{}").unwrap();
        let file = crate::oci::Target::parse(manifest.to_str().unwrap()).unwrap();
        let mut untouched = &b"not read"[..];
        assert!(for_target(&file, None, &mut untouched).unwrap().is_none());
        assert_eq!(untouched, b"not read");
    }

    #[test]
    fn challenges_parse_with_quoted_commas() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example/token"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(
            parse_challenge(r#"Basic realm="x""#).unwrap().scheme,
            "basic"
        );
        assert!(parse_challenge(r#"Bearer realm="open"#).is_none());
    }

    #[test]
    fn docker_config_auths_are_read_by_host() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        let auth = B64.encode("alice:s3cret");
        std::fs::write(
            &p,
            format!(r#"{{"auths":{{"https://reg.example:5000/v1/":{{"auth":"{auth}"}},"other.example":{{"username":"bob","password":"pw"}}}}}}"#),
        )
        .unwrap();
        let c = from_docker_config(&p, "reg.example:5000").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "s3cret")
        );
        let c = from_docker_config(&p, "other.example").unwrap().unwrap();
        assert_eq!(c.username, "bob");
        assert!(from_docker_config(&p, "none.example").unwrap().is_none());
    }
}
