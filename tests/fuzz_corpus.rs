//! Every file of the fuzz corpora (`fuzz/corpus/TARGET/`, seeds and the inputs of crashes
//! found and fixed) and every saved crash (`fuzz/artifacts/TARGET/`) goes through its fuzz
//! target's function once more, in a plain `cargo test`: a fixed crash stays fixed without
//! nightly or cargo-fuzz.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use msign::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    out.sort();
    out
}

fn run_target(name: &str) {
    let (_, f) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name} in msign::fuzzing::TARGETS"));
    let corpus = files_in(&fuzz_dir().join("corpus").join(name));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{name}/ has no seed; run fuzz/make_seeds.py"
    );
    let crashes = files_in(&fuzz_dir().join("artifacts").join(name));
    let mut failed = Vec::new();
    for p in corpus.iter().chain(&crashes) {
        let data = std::fs::read(p).expect("read corpus file");
        if catch_unwind(AssertUnwindSafe(|| f(&data))).is_err() {
            failed.push(p.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{name} panics on: {failed:#?}");
}

#[test]
fn every_fuzz_target_is_listed_and_has_a_corpus() {
    let mut on_disk: Vec<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fuzz/fuzz_targets/ and msign::fuzzing::TARGETS differ"
    );
}

macro_rules! corpus_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_target(stringify!($name));
            }
        )*
        #[test]
        fn every_target_has_a_corpus_test() {
            let tested = [$(stringify!($name)),*];
            for (n, _) in TARGETS {
                assert!(tested.contains(n), "add {n} to corpus_tests! in tests/fuzz_corpus.rs");
            }
        }
    };
}

corpus_tests!(
    bundle,
    dsse,
    statement,
    manifest_compare,
    keys,
    certificate,
    lfs_pointer,
    git_tree,
    hub_listing,
    sigstore_bundle,
    trusted_root,
    tuf,
    rfc3161,
    checkpoint,
);
