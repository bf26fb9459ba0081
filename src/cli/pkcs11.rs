//! Options of `sign pkcs11-key` / `sign pkcs11-certificate`, and the terminal PIN prompt.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use crate::cli::args::CertificateArgs;
use crate::error::Result;
use crate::sign::pkcs11::{Pkcs11Options, Pkcs11Signer};

/// Where the token key is.
#[derive(Debug, Args, Clone)]
pub struct Pkcs11Args {
    /// PKCS #11 URI (RFC 7512) of the private key, e.g.
    /// `pkcs11:token=ml;object=key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin`.
    #[arg(long = "pkcs11-uri", alias = "pkcs11_uri", value_name = "PKCS11_URI")]
    pub pkcs11_uri: String,

    /// The PKCS #11 module, or a folder searched for the URI's module-name; used when the
    /// URI has no module-path.
    #[arg(long = "module-path", alias = "module_path", value_name = "PATH")]
    pub module_path: Option<PathBuf>,
}

impl Pkcs11Args {
    fn with_options<T>(&self, f: impl FnOnce(&Pkcs11Options<'_>) -> Result<T>) -> Result<T> {
        let prompt = prompt_pin;
        let options = Pkcs11Options {
            module_path: self.module_path.clone(),
            prompt: if stdin_is_terminal() {
                Some(&prompt)
            } else {
                None
            },
        };
        f(&options)
    }

    /// Opens the token for `sign pkcs11-key`.
    pub fn key_signer(&self) -> Result<Pkcs11Signer> {
        self.with_options(|o| Pkcs11Signer::open_key(&self.pkcs11_uri, o))
    }

    /// Opens the token for `sign pkcs11-certificate`.
    pub fn certificate_signer(&self, cert: &CertificateArgs) -> Result<Pkcs11Signer> {
        self.with_options(|o| {
            Pkcs11Signer::open_certificate(
                &self.pkcs11_uri,
                o,
                &cert.signing_certificate,
                &cert.certificate_chain,
            )
        })
    }
}

fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

/// Reads a PIN from the terminal on stdin with echo off; echo is restored even on error.
fn prompt_pin(token: &str) -> std::io::Result<Vec<u8>> {
    eprint!("PIN for token '{token}': ");
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
    // No copy: the bytes move into the PIN buffer that is zeroed after login.
    let mut pin = line.into_bytes();
    while matches!(pin.last(), Some(b'\n' | b'\r')) {
        pin.pop();
    }
    Ok(pin)
}
