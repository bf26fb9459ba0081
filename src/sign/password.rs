//! Passwords of encrypted private keys and token PINs: given, read from a file, or typed
//! on the terminal (asked on stderr, read with echo off, only when stdin is a terminal),
//! so a secret never has to be on the command line.

use std::io::{BufRead, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::sign::key::is_encrypted;
use crate::sign::pkcs11::pin::read_secret_file;

/// The flags that give a password, for errors that ask for one.
pub const PASSWORD_FLAGS: &str =
    "pass --password-file FILE (or set MSIGN_KEY_PASSWORD), or run on a terminal to be asked";

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{what} is not UTF-8 text")))
}

fn from_file(file: &Path) -> Result<String> {
    utf8(
        read_secret_file(file, "--password-file")?,
        "--password-file",
    )
}

/// The password for the private key at `key`: from `--password-file`, else `--password`,
/// else, when the key is encrypted, asked on the terminal. `None` for a key without one.
/// Without a terminal an encrypted key fails here, naming the flags.
pub fn key_password(
    key: &Path,
    password: Option<&str>,
    password_file: Option<&Path>,
) -> Result<Option<String>> {
    if let Some(file) = password_file {
        return from_file(file).map(Some);
    }
    if let Some(p) = password {
        return Ok(Some(p.to_string()));
    }
    // An unreadable key is reported by the loader, with the path.
    let Ok(pem) = std::fs::read(key) else {
        return Ok(None);
    };
    if !is_encrypted(&pem) {
        return Ok(None);
    }
    if !stdin_is_terminal() {
        return Err(Error::KeyMaterial {
            what: key.display().to_string(),
            reason: format!("the key is encrypted and no password was given; {PASSWORD_FLAGS}"),
        });
    }
    let typed = read_secret(&format!("Password for {}: ", key.display()))
        .map_err(|e| Error::Usage(format!("cannot read the password from the terminal: {e}")))?;
    utf8(typed, "the password").map(Some)
}

/// A password for a new encrypted key: from `--password-file`, else typed twice on the
/// terminal. Empty passwords are refused: they protect nothing.
pub fn new_password(password_file: Option<&Path>) -> Result<String> {
    let password = match password_file {
        Some(file) => from_file(file)?,
        None if stdin_is_terminal() => {
            let ask = |prompt: &str| {
                read_secret(prompt).map_err(|e| {
                    Error::Usage(format!("cannot read the password from the terminal: {e}"))
                })
            };
            let first = ask("Password for the new key: ")?;
            let second = ask("The same password again: ")?;
            if first != second {
                return Err(Error::Usage(
                    "the two passwords differ; run the command again".into(),
                ));
            }
            utf8(first, "the password")?
        }
        None => {
            return Err(Error::Usage(
                "--encrypt needs a password: pass --password-file FILE, or run on a terminal \
                 to be asked"
                    .into(),
            ))
        }
    };
    if password.is_empty() {
        return Err(Error::Usage(
            "the password is empty; an encrypted key needs a password".into(),
        ));
    }
    Ok(password)
}

/// True when stdin is a terminal, so a prompt can be answered.
pub fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

/// Shows `prompt` on stderr and reads one line from the terminal on stdin with echo off;
/// echo is restored even on error. The line ending is dropped.
pub fn read_secret(prompt: &str) -> std::io::Result<Vec<u8>> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    // SAFETY: termios is plain data; tcgetattr fills it for descriptor 0.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: same descriptor, a copy of the settings just read.
    if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    read?;
    // No copy: the bytes move to the caller, which owns the secret from here.
    let mut secret = line.into_bytes();
    while matches!(secret.last(), Some(b'\n' | b'\r')) {
        secret.pop();
    }
    Ok(secret)
}
