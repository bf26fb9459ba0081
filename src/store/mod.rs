//! Where signatures live. A store saves a bundle and finds it again.

use crate::error::Result;

pub mod file;
pub mod git;

pub use file::FileStore;

/// A place that holds one model signature.
pub trait SignatureStore {
    /// Saves the bundle bytes; returns where they went, in words for the user.
    fn save(&self, bundle: &[u8]) -> Result<String>;

    /// Loads the bundle bytes.
    fn load(&self) -> Result<Vec<u8>>;

    /// Where the signature is, in words.
    fn describe(&self) -> String;
}
