//! How to hash, on the command line: serialization, algorithm, excludes, ignore file.

use clap::{Args, ValueEnum};

use crate::error::Result;
use crate::hash::{HashOptions, HashingConfig};
use crate::manifest::HashAlgorithm;

/// Serialization method on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SerializationArg {
    /// One digest per file.
    Files,
    /// One digest per shard of each file (parallel within big files).
    Shards,
}

/// Hash algorithm on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum HashArg {
    /// SHA-256 (default; Git LFS and the Hub know it).
    Sha256,
    /// BLAKE2b-512.
    #[value(alias = "blake2b")]
    Blake2,
    /// BLAKE3 (fastest; parallel within a file).
    Blake3,
}

impl From<HashArg> for HashAlgorithm {
    fn from(h: HashArg) -> Self {
        match h {
            HashArg::Sha256 => HashAlgorithm::Sha256,
            HashArg::Blake2 => HashAlgorithm::Blake2b,
            HashArg::Blake3 => HashAlgorithm::Blake3,
        }
    }
}

/// How to hash when signing or computing a digest.
#[derive(Debug, Args, Clone)]
pub struct HashArgs {
    /// Serialization method. `--shard-size` alone implies shards.
    #[arg(long, value_enum)]
    pub serialization: Option<SerializationArg>,

    /// Hash algorithm.
    #[arg(
        long = "hash-algorithm",
        alias = "hash_algorithm",
        alias = "hashing-algorithm",
        value_enum,
        default_value = "sha256"
    )]
    pub hash_algorithm: HashArg,

    /// Shard size in bytes for shard serialization (not with blake3, which has none).
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES")]
    pub shard_size: Option<u64>,

    /// Leave out paths matching a .gitignore-style pattern (recorded in the signature so
    /// verification applies it too). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Read `.msignignore` from the model root and leave out what its patterns match
    /// (recorded in the signature). Off by default, so that a file inside the model cannot
    /// decide on its own what is signed; when on, `.msignignore` itself is always signed
    /// and every path it leaves out is named.
    #[arg(long = "use-ignore-file", overrides_with = "no_ignore_file")]
    pub use_ignore_file: bool,

    /// Do not read `.msignignore` (the default).
    #[arg(long = "no-ignore-file")]
    pub no_ignore_file: bool,
}

impl HashArgs {
    /// The hashing these flags ask for, whatever the model.
    pub fn hashing(&self) -> Result<HashingConfig> {
        HashOptions {
            shards: self.serialization.map(|s| s == SerializationArg::Shards),
            algorithm: self.hash_algorithm.into(),
            shard_size: self.shard_size,
            exclude: self.exclude.clone(),
            use_ignore_file: self.use_ignore_file && !self.no_ignore_file,
        }
        .config()
    }
}
