//! Options of `sign pkcs11-key` / `sign pkcs11-certificate`, and the terminal PIN prompt.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::CertificateArgs;
use crate::cli::prompt::{read_secret, stdin_is_terminal};
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

/// Asks for the token's PIN on the terminal.
fn prompt_pin(token: &str) -> std::io::Result<Vec<u8>> {
    read_secret(&format!("PIN for token '{token}': "))
}
