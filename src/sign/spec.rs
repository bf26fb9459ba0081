//! Which signer to use, as data: [`SignerSpec`] names a method and its inputs (files, a
//! token URI, Sigstore options) and [`SignerSpec::build`] opens it. Every front end (the
//! `sign`, `oci sign`, `hub sign` and `git model-sign sign` commands, Rust callers, the
//! Python binding) builds its signer here, so a method behaves the same everywhere.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::sign::password::{key_password, read_secret, stdin_is_terminal};
use crate::sign::pkcs11::{Pkcs11Options, Pkcs11Signer};
use crate::sign::sigstore::SigstoreSigner;
use crate::sign::{signer_from_files, Signer};
use crate::sigstore::oidc::IdentityToken;
use crate::sigstore::Instance;

/// An EC private key file (PEM) and how to get its password.
#[derive(Debug, Clone, Default)]
pub struct KeyFile {
    /// The key.
    pub path: PathBuf,
    /// Its password, when given.
    pub password: Option<String>,
    /// A file holding its password (one line); read before `password`.
    pub password_file: Option<PathBuf>,
}

impl KeyFile {
    /// A key file without a password (one is asked for on a terminal if it is encrypted).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeyFile {
            path: path.into(),
            ..Default::default()
        }
    }

    /// The key's password: from the password file, else the password given, else, when the
    /// key is encrypted, asked on the terminal. `None` for a key without one.
    pub fn resolve_password(&self) -> Result<Option<String>> {
        key_password(
            &self.path,
            self.password.as_deref(),
            self.password_file.as_deref(),
        )
    }

    /// The password to open the key with; without `prompts` a key whose password was not
    /// given is opened without one (an encrypted key then fails, naming the key).
    fn password(&self, prompts: bool) -> Result<Option<String>> {
        if prompts || self.password_file.is_some() {
            self.resolve_password()
        } else {
            Ok(self.password.clone())
        }
    }

    /// The same key with its password resolved now, so it is asked for only once.
    pub fn resolved(&self) -> Result<KeyFile> {
        Ok(KeyFile {
            path: self.path.clone(),
            password: self.resolve_password()?,
            password_file: None,
        })
    }
}

/// A signing certificate (PEM) and the intermediates to ship with it.
#[derive(Debug, Clone, Default)]
pub struct CertificateFiles {
    /// The signing certificate of the key.
    pub signing_certificate: PathBuf,
    /// Intermediate certificates to include in the signature.
    pub chain: Vec<PathBuf>,
}

/// A key in a PKCS #11 token.
#[derive(Debug, Clone, Default)]
pub struct Pkcs11Key {
    /// The RFC 7512 URI of the private key.
    pub uri: String,
    /// The module, or a folder searched for the URI's module-name.
    pub module_path: Option<PathBuf>,
    /// Folders searched for the URI's module-name instead of the usual ones, when neither
    /// the URI nor `module_path` names the module (model_signing's `module_paths`).
    pub module_directories: Vec<PathBuf>,
}

impl Pkcs11Key {
    fn open<T>(&self, prompts: bool, f: impl FnOnce(&Pkcs11Options<'_>) -> Result<T>) -> Result<T> {
        let prompt = |token: &str| read_secret(&format!("PIN for token '{token}': "));
        f(&Pkcs11Options {
            module_path: self.module_path.clone(),
            module_directories: self.module_directories.clone(),
            prompt: if prompts && stdin_is_terminal() {
                Some(&prompt)
            } else {
                None
            },
        })
    }
}

/// Keyless signing with Sigstore: where the identity token comes from and the instance.
#[derive(Debug, Clone, Default)]
pub struct SigstoreSigning {
    /// The instance to sign on.
    pub instance: Instance,
    /// A fixed OIDC identity token.
    pub identity_token: Option<String>,
    /// Insist on the CI environment's token (an error when there is none).
    pub use_ambient_credentials: bool,
    /// model_signing's order instead: the CI environment's token is looked for only when
    /// `use_ambient_credentials` is set, and without one the interactive flow follows.
    pub ambient_only_when_asked: bool,
    /// The OIDC issuer of the interactive flow, instead of the instance's.
    pub oidc_issuer: Option<String>,
    /// Out-of-band OAuth flow: print a URL instead of opening a browser.
    pub oauth_force_oob: bool,
    /// OIDC client id (default `sigstore`).
    pub client_id: Option<String>,
    /// OIDC client secret.
    pub client_secret: Option<String>,
}

impl SigstoreSigning {
    /// The signer: the identity token first (given, then the CI environment, then the
    /// interactive flow), then the instance.
    pub fn signer(&self) -> Result<SigstoreSigner> {
        let (trust, endpoints) = self.instance.signing()?;
        // The CLI always looks in the environment and, with `use_ambient_credentials`,
        // insists; model_signing looks only when asked and otherwise logs in.
        let look_for_ambient = self.use_ambient_credentials || !self.ambient_only_when_asked;
        let insist = self.use_ambient_credentials && !self.ambient_only_when_asked;
        let token = match self.identity_token.as_deref() {
            Some(t) => IdentityToken::parse(t)?,
            None => {
                let ambient = if look_for_ambient {
                    IdentityToken::ambient()?
                } else {
                    None
                };
                match ambient {
                    Some(t) => t,
                    None if insist => {
                        return Err(Error::Usage(
                            "--use-ambient-credentials: no SIGSTORE_ID_TOKEN and no GitHub Actions OIDC variables (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) in the environment".into(),
                        ))
                    }
                    None => crate::sigstore::oauth::interactive(
                        self.oidc_issuer.as_deref().or(endpoints.oidc.as_deref()),
                        self.client_id.as_deref().unwrap_or("sigstore"),
                        self.client_secret.as_deref().unwrap_or(""),
                        self.oauth_force_oob,
                    )?,
                }
            }
        };
        Ok(SigstoreSigner::new(token, endpoints, trust))
    }
}

/// A signing method and its inputs.
#[derive(Debug, Clone)]
pub enum SignerSpec {
    /// An EC private key (`key`).
    Key(KeyFile),
    /// A private key and its certificate chain (`certificate`).
    Certificate(KeyFile, CertificateFiles),
    /// A key in a PKCS #11 token (`pkcs11-key`).
    Pkcs11Key(Pkcs11Key),
    /// A token key and its certificate chain (`pkcs11-certificate`).
    Pkcs11Certificate(Pkcs11Key, CertificateFiles),
    /// Keyless, with Sigstore (`sigstore`).
    Sigstore(SigstoreSigning),
}

impl SignerSpec {
    /// The method `hub sign` means by its flags: Sigstore when asked for, else a key, with
    /// a certificate when a signing certificate is given; exactly one of them.
    pub fn choose(
        key: Option<KeyFile>,
        signing_certificate: Option<PathBuf>,
        chain: Vec<PathBuf>,
        sigstore: Option<SigstoreSigning>,
    ) -> Result<SignerSpec> {
        if let Some(s) = sigstore {
            if key.is_some() || signing_certificate.is_some() || !chain.is_empty() {
                return Err(Error::Usage(
                    "choose one signing method: Sigstore (--sigstore, --identity-token, ...) or a key (--private-key, --signing-certificate, --certificate-chain), not both".into(),
                ));
            }
            return Ok(SignerSpec::Sigstore(s));
        }
        let key = key.ok_or_else(|| {
            Error::Usage(
                "say how to sign: --private-key KEY (with --signing-certificate CERT for a certificate), or --sigstore".into(),
            )
        })?;
        Ok(match signing_certificate {
            Some(signing_certificate) => SignerSpec::Certificate(
                key,
                CertificateFiles {
                    signing_certificate,
                    chain,
                },
            ),
            None => SignerSpec::Key(key),
        })
    }

    /// The private key file, for methods that have one.
    pub fn private_key(&self) -> Option<&KeyFile> {
        match self {
            SignerSpec::Key(k) | SignerSpec::Certificate(k, _) => Some(k),
            _ => None,
        }
    }

    /// The same method with the private key's password resolved now (asked for at most
    /// once, however often the key is opened afterwards).
    pub fn with_resolved_password(self) -> Result<SignerSpec> {
        Ok(match self {
            SignerSpec::Key(k) => SignerSpec::Key(k.resolved()?),
            SignerSpec::Certificate(k, c) => SignerSpec::Certificate(k.resolved()?, c),
            other => other,
        })
    }

    /// Opens the signer: reads the key, opens the token or gets the identity token. A key
    /// password or token PIN that was not given is asked for on the terminal.
    pub fn build(&self) -> Result<Box<dyn Signer>> {
        self.open(true)
    }

    /// As [`SignerSpec::build`], but never asks on the terminal, as model_signing's API
    /// does not: a missing key password or token PIN is an error. (Sigstore's interactive
    /// login still runs when no identity token is found.)
    pub fn build_without_prompts(&self) -> Result<Box<dyn Signer>> {
        self.open(false)
    }

    fn open(&self, prompts: bool) -> Result<Box<dyn Signer>> {
        Ok(match self {
            SignerSpec::Key(k) => {
                signer_from_files(&k.path, k.password(prompts)?.as_deref(), None)?
            }
            SignerSpec::Certificate(k, c) => signer_from_files(
                &k.path,
                k.password(prompts)?.as_deref(),
                Some((c.signing_certificate.as_path(), c.chain.as_slice())),
            )?,
            SignerSpec::Pkcs11Key(p) => {
                Box::new(p.open(prompts, |o| Pkcs11Signer::open_key(&p.uri, o))?)
            }
            SignerSpec::Pkcs11Certificate(p, c) => Box::new(p.open(prompts, |o| {
                Pkcs11Signer::open_certificate(&p.uri, o, &c.signing_certificate, &c.chain)
            })?),
            SignerSpec::Sigstore(s) => Box::new(s.signer()?),
        })
    }
}
