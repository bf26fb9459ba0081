//! Where the token PIN comes from: `pin-value`, `pin-source` (a file), or a prompt.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Asks the user for a PIN; gets the token label for the prompt.
pub type PinPrompt = dyn Fn(&str) -> std::io::Result<Vec<u8>> + Send + Sync;

/// Secret files are small; anything bigger is not a PIN or password file.
const MAX_PIN_FILE: u64 = 4096;

/// Reads the PIN named by a `pin-source` value: `file:/abs/path`, `file:///abs/path`,
/// `file://localhost/abs/path` or `/abs/path`. One trailing newline is dropped.
pub fn read_pin_source(source: &[u8]) -> Result<Vec<u8>> {
    let text =
        std::str::from_utf8(source).map_err(|_| Error::Usage("pin-source is not UTF-8".into()))?;
    let path = if let Some(rest) = text.strip_prefix("file://") {
        // An authority, if any, must be the local host.
        match rest.find('/') {
            Some(0) => rest,
            Some(i) if &rest[..i] == "localhost" => &rest[i..],
            _ => {
                return Err(Error::Usage(format!(
                    "pin-source '{text}' names a remote host; only local files are supported"
                )))
            }
        }
    } else if let Some(rest) = text.strip_prefix("file:") {
        rest
    } else {
        text
    };
    if !path.starts_with('/') {
        return Err(Error::Usage(format!(
            "pin-source '{text}' is not supported: give an absolute file path or a file: URI"
        )));
    }
    read_secret_file(Path::new(path), "pin-source file")
}

/// Reads a secret (a PIN, a key password) kept in a file: at most 4 KiB, one trailing
/// newline dropped. `what` names the file in errors ("--password-file").
pub fn read_secret_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PIN_FILE + 1).read_to_end(&mut buf))
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > MAX_PIN_FILE {
        return Err(Error::KeyMaterial {
            what: path.display().to_string(),
            reason: format!("{what} is larger than 4 KiB; it should hold one line"),
        });
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_files_in_every_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pin");
        std::fs::write(&f, b"1234\r\n").unwrap();
        let p = f.display().to_string();
        for src in [
            p.clone(),
            format!("file:{p}"),
            format!("file://{p}"),
            format!("file://localhost{p}"),
        ] {
            assert_eq!(read_pin_source(src.as_bytes()).unwrap(), b"1234", "{src}");
        }
        for src in [
            "pin".to_string(),
            format!("file://evil.example{p}"),
            "|/bin/echo 1234".into(),
            "https://example.com/pin".into(),
        ] {
            assert!(read_pin_source(src.as_bytes()).is_err(), "{src}");
        }
        std::fs::write(&f, vec![b'1'; 5000]).unwrap();
        assert!(read_pin_source(p.as_bytes()).is_err());
    }
}
