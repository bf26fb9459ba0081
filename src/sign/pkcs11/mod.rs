//! Signing with an EC key held in a PKCS #11 token (`sign pkcs11-key`, `sign pkcs11-certificate`).
//!
//! The private key never leaves the token: msign hashes the DSSE PAE with the curve's digest
//! (SHA-256, SHA-384, SHA-512 for P-256, P-384, P-521, as model_signing does) and asks the
//! token for a raw `CKM_ECDSA` signature over that digest, then DER-encodes `r || s`. The
//! bundle is the one the key and certificate methods write, so `verify key` and
//! `verify certificate` accept it. Every signature is checked against the token's public
//! key before it is returned, so mismatched key objects fail here and not at verification.

use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, Public};

use crate::bundle::{Bundle, PublicKeyIdentifier, VerificationMaterial};
use crate::error::Result;
use crate::sign::certificate::{chain_for_key, chain_material, load_certificates};
use crate::sign::key::key_hint;
use crate::sign::Signer;

pub mod module;
pub mod pin;
mod token;
pub mod uri;

use token::TokenKey;

pub use pin::PinPrompt;
pub use uri::Pkcs11Uri;

/// How to reach the token beyond what the URI says.
#[derive(Default)]
pub struct Pkcs11Options<'a> {
    /// `--module-path`: the module file, or a folder searched for the URI's `module-name`.
    /// Used when the URI has no `module-path`.
    pub module_path: Option<PathBuf>,
    /// Folders searched for the URI's `module-name` instead of the usual ones, when neither
    /// the URI nor `module_path` names the module (model_signing's `module_paths`).
    pub module_directories: Vec<PathBuf>,
    /// Asked for the PIN when the URI gives none and the token needs one.
    pub prompt: Option<&'a PinPrompt>,
}

/// What the bundle says about the key.
enum Material {
    /// `publicKey.hint`, as `sign key` writes it.
    KeyHint(String),
    /// The certificate chain (leaf first, DER), as `sign certificate` writes it.
    Chain(Vec<Vec<u8>>),
}

/// Signs with a token-held EC key; see the module documentation.
pub struct Pkcs11Signer {
    token: TokenKey,
    material: Material,
}

impl Pkcs11Signer {
    /// Opens the token and finds the key for `sign pkcs11-key`.
    pub fn open_key(uri: &str, options: &Pkcs11Options<'_>) -> Result<Self> {
        let token = TokenKey::open(uri, options, None)?;
        let material = Material::KeyHint(key_hint(token.public_key())?);
        Ok(Pkcs11Signer { token, material })
    }

    /// Opens the token and finds the key for `sign pkcs11-certificate`; the signing
    /// certificate must certify the token's key.
    pub fn open_certificate(
        uri: &str,
        options: &Pkcs11Options<'_>,
        signing_certificate: &Path,
        certificate_chain: &[PathBuf],
    ) -> Result<Self> {
        let leaf = load_certificates(&[signing_certificate.to_path_buf()])?.remove(0);
        let chain = load_certificates(certificate_chain)?;
        let token = TokenKey::open(uri, options, Some(&leaf))?;
        let chain_der = chain_for_key(token.public_key(), &leaf, &chain, signing_certificate)?;
        Ok(Pkcs11Signer {
            token,
            material: Material::Chain(chain_der),
        })
    }

    /// The token key's public half.
    pub fn public_key(&self) -> &PKey<Public> {
        self.token.public_key()
    }
}

impl Signer for Pkcs11Signer {
    fn sign(&self, payload: &[u8]) -> Result<Bundle> {
        let sig = self.token.sign_pae(payload)?;
        let material = match &self.material {
            Material::KeyHint(hint) => VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: Some(hint.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Material::Chain(chain) => chain_material(chain),
        };
        Ok(Bundle::new_dsse(payload, &sig, material))
    }

    fn method(&self) -> &'static str {
        match self.material {
            Material::KeyHint(_) => "pkcs11-key",
            Material::Chain(_) => "pkcs11-certificate",
        }
    }
}
