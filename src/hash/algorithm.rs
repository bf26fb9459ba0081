//! Streaming hashers behind one type.

use blake2::{Blake2b512, Digest as _};

use crate::hash::sha256::{self, Sha256};
use crate::manifest::HashAlgorithm;

/// Below this many bytes per `update`, BLAKE3's multithreaded path costs more than it saves.
const BLAKE3_RAYON_MIN: usize = 1 << 20;

/// A running hash of one resource.
pub(crate) enum Hasher {
    Sha256(Box<Sha256>),
    Blake2b(Box<Blake2b512>),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    pub(crate) fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha256 => Hasher::Sha256(Box::default()),
            HashAlgorithm::Blake2b => Hasher::Blake2b(Box::default()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::default()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Blake2b(h) => h.update(data),
            Hasher::Blake3(h) if data.len() >= BLAKE3_RAYON_MIN => {
                h.update_rayon(data);
            }
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// Hashes `data[i]` into `hashers[i]` for every `i`: SHA-256 messages interleaved on this
    /// core ([`sha256::update_many`]), anything else one after the other.
    pub(crate) fn update_together(hashers: &mut [&mut Hasher], data: &[&[u8]]) {
        if hashers.iter().all(|h| matches!(h, Hasher::Sha256(_))) {
            let mut sha: Vec<&mut Sha256> = hashers
                .iter_mut()
                .map(|h| match h {
                    Hasher::Sha256(s) => &mut **s,
                    _ => unreachable!("all checked to be SHA-256"),
                })
                .collect();
            sha256::update_many(&mut sha, data);
        } else {
            for (h, d) in hashers.iter_mut().zip(data) {
                h.update(d);
            }
        }
    }

    /// How many resources one core should hash together with this algorithm.
    pub(crate) fn lanes(alg: HashAlgorithm) -> usize {
        match alg {
            HashAlgorithm::Sha256 => sha256::lanes(),
            HashAlgorithm::Blake2b | HashAlgorithm::Blake3 => 1,
        }
    }

    pub(crate) fn finalize(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Blake2b(h) => h.finalize().to_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Hashes a buffer in one call.
#[cfg(test)]
pub(crate) fn hash_bytes(alg: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(alg);
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            hex::encode(hash_bytes(HashAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(hash_bytes(HashAlgorithm::Blake3, b"")),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert!(
            hex::encode(hash_bytes(HashAlgorithm::Blake2b, b"")).starts_with("786a02f742015903")
        );
    }
}
