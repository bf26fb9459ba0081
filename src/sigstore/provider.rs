//! The cryptography under the sigstore-rust crates, backed by OpenSSL.
//!
//! The crates take their hashing, signature checks and ephemeral keys from a process-wide
//! provider. Their default one is aws-lc-rs, a second copy of a C crypto library that
//! takes minutes to build; msign already links OpenSSL, so it installs this provider
//! instead ([`install`]) before any Sigstore call.

use std::sync::Once;

use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::hash::{Hasher, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Verifier};
use sigstore_verify::crypto::{
    install_default_provider, CryptoProvider, Error, HashContext, KeyAlgorithm, Result,
    SigningKeyPair, SigningScheme,
};
use sigstore_verify::types::HashAlgorithm;

#[derive(Debug)]
struct OpenSsl;

static PROVIDER: OpenSsl = OpenSsl;

/// Makes OpenSSL the crypto provider of the sigstore-rust crates (idempotent).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only msign installs a provider in this process; a second install is a no-op.
        let _ = install_default_provider(&PROVIDER);
    });
}

fn digest_of(algorithm: HashAlgorithm) -> Result<MessageDigest> {
    match algorithm {
        HashAlgorithm::Sha2256 => Ok(MessageDigest::sha256()),
        HashAlgorithm::Sha2384 => Ok(MessageDigest::sha384()),
        HashAlgorithm::Sha2512 => Ok(MessageDigest::sha512()),
        other => Err(Error::UnsupportedAlgorithm(format!(
            "cannot compute {other} digests"
        ))),
    }
}

fn md_of(algorithm: HashAlgorithm) -> &'static openssl::md::MdRef {
    match algorithm {
        HashAlgorithm::Sha2384 => openssl::md::Md::sha384(),
        HashAlgorithm::Sha2512 => openssl::md::Md::sha512(),
        _ => openssl::md::Md::sha256(),
    }
}

fn failed(what: &str) -> impl Fn(openssl::error::ErrorStack) -> Error + '_ {
    move |e| Error::Verification(format!("{what}: {e}"))
}

struct OpenSslHash(Hasher);

impl HashContext for OpenSslHash {
    fn update(&mut self, data: &[u8]) {
        // Hasher::update fails only on allocation failure inside OpenSSL.
        self.0.update(data).expect("OpenSSL hash update");
    }

    fn finalize(mut self: Box<Self>) -> Vec<u8> {
        self.0.finish().expect("OpenSSL hash finish").to_vec()
    }
}

/// The public key of `scheme` from the raw `subjectPublicKey` bytes the crates hand over.
fn public_key(scheme: SigningScheme, raw: &[u8]) -> Result<PKey<Public>> {
    let bad = |e: openssl::error::ErrorStack| Error::InvalidKey(e.to_string());
    let ec = |nid: Nid| -> Result<PKey<Public>> {
        let group = EcGroup::from_curve_name(nid).map_err(bad)?;
        let mut ctx = BigNumContext::new().map_err(bad)?;
        let point = EcPoint::from_bytes(&group, raw, &mut ctx).map_err(bad)?;
        PKey::from_ec_key(EcKey::from_public_key(&group, &point).map_err(bad)?).map_err(bad)
    };
    match scheme.key_algorithm() {
        KeyAlgorithm::EcdsaP256 => ec(Nid::X9_62_PRIME256V1),
        KeyAlgorithm::EcdsaP384 => ec(Nid::SECP384R1),
        KeyAlgorithm::Ed25519 => PKey::public_key_from_raw_bytes(raw, Id::ED25519).map_err(bad),
        KeyAlgorithm::Rsa => {
            PKey::from_rsa(Rsa::public_key_from_der_pkcs1(raw).map_err(bad)?).map_err(bad)
        }
        other => Err(Error::UnsupportedAlgorithm(format!(
            "{other:?} keys are not supported with OpenSSL"
        ))),
    }
}

fn is_pss(scheme: SigningScheme) -> bool {
    matches!(
        scheme,
        SigningScheme::RsaPssSha256 | SigningScheme::RsaPssSha384 | SigningScheme::RsaPssSha512
    )
}

fn invalid(scheme: SigningScheme) -> Error {
    Error::Verification(format!("{} signature invalid", scheme.name()))
}

impl CryptoProvider for OpenSsl {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>> {
        let hasher = Hasher::new(digest_of(algorithm)?).map_err(failed("hash"))?;
        Ok(Box::new(OpenSslHash(hasher)))
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let key = public_key(scheme, spki_pubkey_bytes)?;
        let ok = match scheme.hash_algorithm() {
            // Ed25519 (and the ML-DSA schemes, refused above) sign the message itself.
            None => Verifier::new_without_digest(&key)
                .and_then(|mut v| v.verify_oneshot(signature, data))
                .unwrap_or(false),
            Some(h) => {
                let mut v = Verifier::new(digest_of(h)?, &key).map_err(failed("verify"))?;
                if is_pss(scheme) {
                    v.set_rsa_padding(Padding::PKCS1_PSS)
                        .and_then(|_| v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH))
                        .map_err(failed("verify"))?;
                }
                v.update(data).map_err(failed("verify"))?;
                v.verify(signature).unwrap_or(false)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(invalid(scheme))
        }
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let key = public_key(scheme, spki_pubkey_bytes)?;
        let h = scheme.hash_algorithm().ok_or_else(|| {
            Error::UnsupportedAlgorithm(format!("{scheme:?} does not sign digests"))
        })?;
        let mut ctx = PkeyCtx::new(&key).map_err(failed("verify"))?;
        ctx.verify_init().map_err(failed("verify"))?;
        if scheme.key_algorithm() == KeyAlgorithm::Rsa {
            ctx.set_rsa_padding(if is_pss(scheme) {
                Padding::PKCS1_PSS
            } else {
                Padding::PKCS1
            })
            .and_then(|_| ctx.set_signature_md(md_of(h)))
            .map_err(failed("verify"))?;
        }
        if ctx.verify(digest, signature).unwrap_or(false) {
            Ok(())
        } else {
            Err(invalid(scheme))
        }
    }

    fn generate_key_pair(&self, algorithm: KeyAlgorithm) -> Result<Box<dyn SigningKeyPair>> {
        if algorithm != KeyAlgorithm::EcdsaP256 {
            return Err(Error::UnsupportedAlgorithm(format!(
                "key generation is not supported for {algorithm:?}"
            )));
        }
        let gen = |e: openssl::error::ErrorStack| Error::KeyGeneration(e.to_string());
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(gen)?;
        let ec = EcKey::generate(&group).map_err(gen)?;
        let mut ctx = BigNumContext::new().map_err(gen)?;
        let point = ec
            .public_key()
            .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
            .map_err(gen)?;
        Ok(Box::new(P256 {
            key: PKey::from_ec_key(ec).map_err(gen)?,
            point,
        }))
    }
}

/// An ephemeral P-256 key for keyless signing.
struct P256 {
    key: PKey<Private>,
    point: Vec<u8>,
}

impl SigningKeyPair for P256 {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn public_key_bytes(&self) -> &[u8] {
        &self.point
    }

    fn sign_raw(&self, data: &[u8]) -> Result<Vec<u8>> {
        let e = |e: openssl::error::ErrorStack| Error::Signing(e.to_string());
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &self.key).map_err(e)?;
        s.update(data).map_err(e)?;
        s.sign_to_vec().map_err(e)
    }

    fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let e = |e: openssl::error::ErrorStack| Error::Signing(e.to_string());
        if digest.len() != 32 {
            return Err(Error::Signing("invalid SHA-256 digest".into()));
        }
        let mut ctx = PkeyCtx::new(&self.key).map_err(e)?;
        ctx.sign_init().map_err(e)?;
        let mut sig = Vec::new();
        ctx.sign_to_vec(digest, &mut sig).map_err(e)?;
        Ok(sig)
    }
}
