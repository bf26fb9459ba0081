//! New EC signing keys (`msign generate-key`): a private key as PKCS#8 PEM, encrypted with
//! a password when asked, and its public key as SubjectPublicKeyInfo PEM, the forms
//! `sign key` and `verify key` (and model_signing) read.

use std::path::{Path, PathBuf};

use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::symm::Cipher;

use crate::error::{Error, Result};
use crate::sign::key::key_hint;
use crate::store::file::write_atomic_as;

/// The curves msign signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (signatures use SHA-256).
    P256,
    /// NIST P-384 (SHA-384).
    P384,
    /// NIST P-521 (SHA-512).
    P521,
}

impl Curve {
    fn nid(self) -> Nid {
        match self {
            Curve::P256 => Nid::X9_62_PRIME256V1,
            Curve::P384 => Nid::SECP384R1,
            Curve::P521 => Nid::SECP521R1,
        }
    }

    /// The curve's usual name (`P-256`).
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
}

/// A new key pair, PEM-encoded.
pub struct KeyPair {
    /// PKCS#8 PEM of the private key; `ENCRYPTED PRIVATE KEY` when a password was given.
    pub private_pem: Vec<u8>,
    /// SubjectPublicKeyInfo PEM of the public key.
    pub public_pem: Vec<u8>,
    /// The public key's hint, as signatures made with this key name it.
    pub hint: String,
}

/// Generates a key on `curve`; with `password`, the private key is encrypted PKCS#8
/// (PBES2: PBKDF2 and AES-256-CBC).
pub fn generate(curve: Curve, password: Option<&[u8]>) -> Result<KeyPair> {
    let fail = |e: openssl::error::ErrorStack| Error::Other(format!("key generation failed: {e}"));
    let group = EcGroup::from_curve_name(curve.nid()).map_err(fail)?;
    let key = PKey::from_ec_key(EcKey::generate(&group).map_err(fail)?).map_err(fail)?;
    let private_pem = match password {
        Some(p) => key
            .private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), p)
            .map_err(fail)?,
        None => key.private_key_to_pem_pkcs8().map_err(fail)?,
    };
    Ok(KeyPair {
        private_pem,
        public_pem: key.public_key_to_pem().map_err(fail)?,
        hint: key_hint(&key)?,
    })
}

/// What [`write_pair`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyPairWritten {
    /// Always `generated`.
    pub status: &'static str,
    /// The curve's name.
    pub curve: &'static str,
    /// Whether the private key is encrypted.
    pub encrypted: bool,
    /// The private key file (mode 0600).
    pub private_key: PathBuf,
    /// The public key file.
    pub public_key: PathBuf,
    /// Who signs with this key, as verification names them (`key` and the hint).
    pub signer: String,
    /// The public key's hint, as signatures made with this key name it.
    pub key_hint: String,
}

/// Refuses to go on when either key file exists (checked before a password is asked for
/// or a key generated).
pub fn check_free(private: &Path, public: &Path) -> Result<()> {
    for p in [private, public] {
        if p.symlink_metadata().is_ok() {
            return Err(Error::Usage(format!(
                "{} exists; choose another --output-prefix, or pass --force to replace it \
                 (a replaced private key is lost for good)",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Generates a key pair and writes it to `private` (mode 0600) and `public`. Without
/// `force`, existing files are refused before anything is written, so a refusal leaves no
/// half pair; a pair that cannot be written whole leaves neither file behind.
pub fn write_pair(
    curve: Curve,
    password: Option<&str>,
    private: &Path,
    public: &Path,
    force: bool,
) -> Result<KeyPairWritten> {
    if !force {
        check_free(private, public)?;
    }
    let pair = generate(curve, password.map(str::as_bytes))?;
    let exists = |p: &Path, e: Error| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            Error::Usage(format!(
                "{} appeared while the key was generated; nothing was replaced",
                p.display()
            ))
        }
        e => e,
    };
    write_atomic_as(private, &pair.private_pem, 0o600, force).map_err(|e| exists(private, e))?;
    if let Err(e) = write_atomic_as(public, &pair.public_pem, 0o644, force) {
        // A private key without its public half is of no use; leave neither behind.
        let _ = std::fs::remove_file(private);
        return Err(exists(public, e));
    }
    Ok(KeyPairWritten {
        status: "generated",
        curve: curve.name(),
        encrypted: password.is_some(),
        private_key: private.to_path_buf(),
        public_key: public.to_path_buf(),
        signer: format!("key {}", pair.hint),
        key_hint: pair.hint,
    })
}

/// A new key pair as `msign generate-key` makes it: files named by a prefix, the private
/// key optionally encrypted.
#[derive(Debug, Clone)]
pub struct KeyPairRequest {
    /// The curve.
    pub curve: Curve,
    /// Writes `PREFIX.pem` (private key) and `PREFIX.pub` (public key).
    pub prefix: PathBuf,
    /// Encrypt the private key with a password typed twice on the terminal, or read from
    /// [`KeyPairRequest::password_file`] (which implies it).
    pub encrypt: bool,
    /// The file holding the password (one line).
    pub password_file: Option<PathBuf>,
    /// Replace existing key files.
    pub force: bool,
}

impl KeyPairRequest {
    /// `PREFIX.pem`.
    pub fn private_key(&self) -> PathBuf {
        with_extension(&self.prefix, ".pem")
    }

    /// `PREFIX.pub`.
    pub fn public_key(&self) -> PathBuf {
        with_extension(&self.prefix, ".pub")
    }
}

fn with_extension(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Makes the key pair `req` asks for: existing files are refused before the password is
/// asked for, so a refusal costs nothing; then [`write_pair`].
pub fn create(req: &KeyPairRequest) -> Result<KeyPairWritten> {
    let (private, public) = (req.private_key(), req.public_key());
    if !req.force {
        check_free(&private, &public)?;
    }
    let password = if req.encrypt || req.password_file.is_some() {
        Some(crate::sign::password::new_password(
            req.password_file.as_deref(),
        )?)
    } else {
        None
    };
    write_pair(req.curve, password.as_deref(), &private, &public, req.force)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::key::{is_encrypted, load_private_key};

    #[test]
    fn generated_keys_load_back_with_their_password_only() {
        let dir = tempfile::tempdir().unwrap();
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let plain = generate(curve, None).unwrap();
            assert!(!is_encrypted(&plain.private_pem));
            let f = dir.path().join("plain.pem");
            std::fs::write(&f, &plain.private_pem).unwrap();
            let k = load_private_key(&f, None).unwrap();
            assert_eq!(k.public_key_to_pem().unwrap(), plain.public_pem);

            let locked = generate(curve, Some(b"s3cret")).unwrap();
            assert!(is_encrypted(&locked.private_pem), "{}", curve.name());
            let f = dir.path().join("locked.pem");
            std::fs::write(&f, &locked.private_pem).unwrap();
            assert!(load_private_key(&f, None).is_err());
            assert!(load_private_key(&f, Some("wrong")).is_err());
            let k = load_private_key(&f, Some("s3cret")).unwrap();
            assert_eq!(key_hint(&k).unwrap(), locked.hint);
        }
    }
}
