//! The hashing engine against independent implementations: coreutils `sha256sum` and
//! `b2sum`, Python's hashlib and the `blake3` package (installed with the reference), on
//! files whose sizes sit on every boundary of the engine (read buffer, mapping threshold,
//! mapped window), in file and shard serialization. Also: a file truncated while it is
//! being hashed through a memory map is reported, and the process survives.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The engine's window (16 MiB = 2 windows is the BLAKE3 window; a quarter is the window of
/// each of four files or shards hashed together on one core) and thresholds
/// (src/hash/engine.rs); sizes around them are tested.
const WINDOW: u64 = 8 << 20;
const MMAP_MIN: u64 = 256 << 10;
const READ_BUF: u64 = 1 << 20;

fn sizes() -> Vec<u64> {
    let mut v = vec![0, 1, 4095, 4096, 4097];
    for b in [MMAP_MIN, READ_BUF, WINDOW / 4, WINDOW, 2 * WINDOW] {
        v.extend([b - 1, b, b + 1]);
    }
    v.push(3 * WINDOW + 12345);
    v
}

/// Deterministic, non-repeating content so an offset error changes the digest.
fn content(size: u64, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn make_model(dir: &Path) -> Vec<(String, u64)> {
    let m = dir.join("model");
    std::fs::create_dir_all(&m).unwrap();
    let mut files = Vec::new();
    for (i, size) in sizes().into_iter().enumerate() {
        let name = format!("f{i:02}-{size}.bin");
        std::fs::write(m.join(&name), content(size, i as u64 + 1)).unwrap();
        files.push((name, size));
    }
    files
}

/// `msign digest --json` resources as name -> hex digest.
fn msign_digests(model: &Path, extra: &[&str]) -> BTreeMap<String, String> {
    let out = run_ok(msign().args(["digest", "--json"]).arg(model).args(extra));
    digests_by_name(&out.stdout)
}

/// Digests of each file by a coreutils tool (`sha256sum`, `b2sum -l 512`).
fn coreutils(
    model: &Path,
    tool: &str,
    args: &[&str],
    files: &[(String, u64)],
) -> BTreeMap<String, String> {
    let out = run_ok(
        Command::new(tool)
            .args(args)
            .args(files.iter().map(|(n, _)| n))
            .current_dir(model),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (digest, name) = l.split_once("  ").expect("coreutils line");
            (name.to_string(), digest.to_string())
        })
        .collect()
}

const PY_DIGESTS: &str = r#"
import hashlib, json, os, sys
import blake3
root, alg, shard = sys.argv[1], sys.argv[2], int(sys.argv[3])
def new():
    return {"sha256": hashlib.sha256, "blake2b": hashlib.blake2b, "blake3": blake3.blake3}[alg]()
out = {}
for name in sorted(os.listdir(root)):
    data = open(os.path.join(root, name), "rb").read()
    if shard == 0:
        h = new(); h.update(data); out[name] = h.hexdigest()
    else:
        for start in range(0, len(data), shard):
            end = min(start + shard, len(data))
            h = new(); h.update(data[start:end]); out[f"{name}:{start}:{end}"] = h.hexdigest()
print(json.dumps(out))
"#;

fn python_digests(model: &Path, alg: &str, shard: u64) -> BTreeMap<String, String> {
    let out = reference_py(
        PY_DIGESTS,
        &[model.to_str().unwrap(), alg, &shard.to_string()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn file_digests_match_coreutils_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let files = make_model(dir.path());
    let model = dir.path().join("model");

    let sha = msign_digests(&model, &["--hash-algorithm", "sha256"]);
    assert_eq!(sha.len(), files.len());
    assert_eq!(sha, coreutils(&model, "sha256sum", &[], &files));
    assert_eq!(sha, python_digests(&model, "sha256", 0));

    let b2 = msign_digests(&model, &["--hash-algorithm", "blake2"]);
    assert_eq!(b2, coreutils(&model, "b2sum", &["-l", "512"], &files));
    assert_eq!(b2, python_digests(&model, "blake2b", 0));

    let b3 = msign_digests(&model, &["--hash-algorithm", "blake3"]);
    assert_eq!(b3, python_digests(&model, "blake3", 0));
}

#[test]
fn shard_digests_match_python() {
    let dir = tempfile::tempdir().unwrap();
    make_model(dir.path());
    let model = dir.path().join("model");
    // Shard sizes below, at and across the window, unaligned to pages.
    for shard in [100_003u64, WINDOW - 1, WINDOW + 4097] {
        for alg in ["sha256", "blake2b"] {
            let got = msign_digests(
                &model,
                &["--hash-algorithm", alg, "--shard-size", &shard.to_string()],
            );
            assert_eq!(
                got,
                python_digests(&model, alg, shard),
                "{alg} shard {shard}"
            );
        }
    }
}

#[test]
fn single_big_file_model_matches_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    std::fs::write(&path, content(5 * WINDOW + 3, 99)).unwrap();
    let got = msign_digests(&path, &[]);
    let out = run_ok(Command::new("sha256sum").arg(&path));
    let expected = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    assert_eq!(got.get("."), Some(&expected));
}

/// Whether `pid` has a mapping of `file` (the engine is inside its mapped windows).
fn maps_file(pid: u32, file: &Path) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map(|m| m.contains(file.to_str().unwrap()))
        .unwrap_or(false)
}

#[test]
fn file_truncated_while_mapped_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    // Sparse: cheap to create, and BLAKE2b over 8 GiB of zeros takes seconds on any machine.
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(8 << 30).unwrap();
    let mut child = msign()
        .args(["--quiet", "digest", "--hash-algorithm", "blake2"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !maps_file(child.id(), &path) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "msign ended before it mapped the file"
        );
        assert!(Instant::now() < deadline, "msign never mapped the file");
        std::thread::sleep(Duration::from_millis(5));
    }
    f.set_len(4096).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "expected exit 3 (not a signal); stderr: {stderr}"
    );
    assert!(
        stderr.contains("changed while it was being hashed"),
        "stderr: {stderr}"
    );
}

/// A source that lists one name twice (as a crafted git tree or Hub listing could) is
/// refused before anything is read: the digests are keyed by name, so one entry would
/// silently stand for the other.
#[test]
fn a_listing_that_names_a_file_twice_is_refused_before_hashing() {
    use msign::ignore::IgnoreRules;
    use msign::manifest::ModelPath;
    use msign::source::{Content, Entry, Listing, ModelSource};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Twice(Arc<AtomicUsize>);
    impl ModelSource for Twice {
        fn model_name(&self) -> String {
            "twice".into()
        }
        fn list(&self, _: &IgnoreRules) -> msign::Result<Listing> {
            let entry = |bytes: &'static [u8]| {
                let opened = self.0.clone();
                Entry {
                    path: ModelPath::parse("loader.py").unwrap(),
                    size: bytes.len() as u64,
                    content: Content::Stream(Arc::new(move || {
                        opened.fetch_add(1, Ordering::SeqCst);
                        Ok(Box::new(bytes) as Box<dyn std::io::Read + Send>)
                    })),
                    known_sha256: None,
                }
            };
            Ok(Listing {
                entries: vec![
                    entry(b"print('signed')\n"),
                    entry(b"import os; os.system('x')\n"),
                ],
                warnings: Vec::new(),
                ignored: Vec::new(),
            })
        }
        fn read_small_file(&self, _: &str) -> msign::Result<Option<Vec<u8>>> {
            Ok(None)
        }
        fn describe(&self) -> String {
            "a source naming loader.py twice".into()
        }
    }

    let opened = Arc::new(AtomicUsize::new(0));
    for config in [
        msign::HashingConfig::new(),
        msign::HashingConfig::new()
            .use_shard_serialization(msign::HashAlgorithm::Sha256, 4)
            .unwrap(),
    ] {
        let err = config.hash(&Twice(opened.clone())).unwrap_err();
        assert!(
            matches!(err, msign::Error::UnsupportedEntry { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("loader.py") && err.to_string().contains("twice"),
            "{err}"
        );
    }
    assert_eq!(opened.load(Ordering::SeqCst), 0, "nothing was read");
}
