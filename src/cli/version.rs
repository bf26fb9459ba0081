//! What `--version` says: msign's version, the commit it was built from (see build.rs)
//! and the signature format it writes.

/// `-V`: the version and the commit.
pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MSIGN_GIT_COMMIT"),
    ")"
);

/// `--version`: also the format, so a signature's reader knows what to expect.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("MSIGN_GIT_COMMIT"),
    "\nsignature format: model_signing v1.0 (in-toto predicate type ",
    "https://model_signing/signature/v1.0), compatible with model_signing 1.1.1; ",
    "Sigstore bundle v0.3"
);

#[cfg(test)]
mod tests {
    #[test]
    fn long_version_names_the_predicate_type_written() {
        assert!(super::LONG.contains(crate::bundle::statement::PREDICATE_TYPE));
    }
}
