//! The hashing a user asks for in words (serialization, algorithm, shard size, excludes,
//! the ignore file), checked and turned into a [`HashingConfig`].

use crate::error::{Error, Result};
use crate::hash::HashingConfig;
use crate::manifest::{HashAlgorithm, DEFAULT_SHARD_SIZE};

/// How to hash, before any model is known.
#[derive(Debug, Clone)]
pub struct HashOptions {
    /// `Some(true)` shards, `Some(false)` whole files; `None`: shards when a shard size
    /// is given.
    pub shards: Option<bool>,
    /// The hash algorithm.
    pub algorithm: HashAlgorithm,
    /// Shard size in bytes (shards only).
    pub shard_size: Option<u64>,
    /// `.gitignore`-style patterns to leave out (recorded in the signature).
    pub exclude: Vec<String>,
    /// Read `.msignignore` from the model root.
    pub use_ignore_file: bool,
}

impl Default for HashOptions {
    fn default() -> Self {
        HashOptions {
            shards: None,
            algorithm: HashAlgorithm::Sha256,
            shard_size: None,
            exclude: Vec::new(),
            use_ignore_file: false,
        }
    }
}

impl HashOptions {
    /// The hashing configuration; refuses combinations that would hash other than asked.
    pub fn config(&self) -> Result<HashingConfig> {
        let alg = self.algorithm;
        let shards = match self.shards {
            Some(true) => true,
            Some(false) if self.shard_size.is_some() => {
                return Err(Error::Usage(
                    "--shard-size needs --serialization shards".into(),
                ))
            }
            Some(false) => false,
            None => self.shard_size.is_some(),
        };
        // model_signing quietly hashes BLAKE3 "shards" by file; a flag that is ignored would
        // sign something other than what was asked, so say so before hashing.
        if shards && alg == HashAlgorithm::Blake3 {
            return Err(Error::Usage(
                "--hash-algorithm blake3 has no shard serialization (model_signing would \
                 silently hash by file): drop --serialization shards and --shard-size \
                 (BLAKE3 already hashes each file in parallel), or choose sha256 or blake2 \
                 for shards"
                    .into(),
            ));
        }
        let mut cfg = HashingConfig::new();
        cfg = if shards {
            cfg.use_shard_serialization(alg, self.shard_size.unwrap_or(DEFAULT_SHARD_SIZE))?
        } else {
            cfg.use_file_serialization(alg)
        };
        cfg = cfg.use_ignore_file(self.use_ignore_file);
        for g in &self.exclude {
            cfg = cfg.add_exclude(g)?;
        }
        Ok(cfg)
    }
}
