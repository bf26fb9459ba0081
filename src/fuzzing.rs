//! One function per fuzz target, shared by the cargo-fuzz targets in `fuzz/` and by
//! `tests/fuzz_corpus.rs`, which runs every saved corpus file and crash through them so a
//! fixed crash stays fixed.
//!
//! Each function feeds outside data to the highest-level library call that parses it, the
//! one the CLI uses (a signature to `VerifyingConfig::verify_signature`, a git tree to
//! hashing a `GitSource`, a Hub listing to `HubSource::open` over loopback HTTP, a TUF
//! repository to `tuf::update`), so the targets follow the code when its insides change.
//! Errors are the expected outcome; only a panic, an overflow, a hang or a runaway
//! allocation is a finding. The fixed material the targets verify against (keys, roots,
//! bundles to tamper with) comes from `fixtures/`, read once per process.
//!
//! Inputs made of several files (two manifests, a TUF repository's answers, a Hub's pages)
//! are split at [`SPLIT`].

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

use crate::bundle::BUNDLE_MEDIA_TYPE;
use crate::bundle::{statement, Bundle, Envelope, PublicKeyIdentifier, VerificationMaterial};
use crate::hash::HashingConfig;
use crate::ignore::IgnoreRules;
use crate::manifest_json;
use crate::sigstore::signing_config::Endpoints;
use crate::sigstore::tuf;
use crate::sigstore::TrustedRoot;
use crate::source::lfs::Pointer;
use crate::verify::sigstore::SigstoreVerifier;
use crate::verify::{CertificateVerifier, KeyVerifier, ManifestDiff, VerifyingConfig};

/// Separates the files of a multi-file input.
pub const SPLIT: &[u8] = b"\n--split--\n";

/// A fuzz target's function.
pub type Target = fn(&[u8]);

/// Every target: its name (the `fuzz/fuzz_targets/NAME.rs` file and the
/// `fuzz/corpus/NAME/` folder) and its function.
pub const TARGETS: &[(&str, Target)] = &[
    ("bundle", bundle),
    ("dsse", dsse),
    ("statement", statement),
    ("manifest_compare", manifest_compare),
    ("keys", keys),
    ("certificate", certificate),
    ("lfs_pointer", lfs_pointer),
    ("git_tree", git_tree),
    ("hub_listing", hub_listing),
    ("sigstore_bundle", sigstore_bundle),
    ("trusted_root", trusted_root),
    ("tuf", tuf),
    ("rfc3161", rfc3161),
    ("checkpoint", checkpoint),
];

/// The parts of a multi-file input.
pub fn parts(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SPLIT.len()).position(|w| w == SPLIT) {
        out.push(&rest[..i]);
        rest = &rest[i + SPLIT.len()..];
    }
    out.push(rest);
    out
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn fixture_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

fn fixture_json(rel: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

const MT_KEYS: &str = "model-transparency/keys/certificate";
/// A model signature on Sigstore's public-good instance (Rekor v1, with a checkpoint).
const PUBLIC_GOOD_SIG: &str = "model-transparency/v1.1.0-sigstore/model.sig";
const PUBLIC_GOOD_IDENTITY: (&str, &str) = (
    "stefanb@us.ibm.com",
    "https://sigstore.verify.ibm.com/oauth2",
);
/// A DSSE bundle on a Rekor v2 log with an RFC 3161 timestamp (sigstore-conformance).
const REKOR2_DIR: &str = "sigstore-conformance/rekor2-dsse-happy-path";
const REKOR2_IDENTITY: (&str, &str) = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    "https://token.actions.githubusercontent.com",
);

/// A P-384 signer's DSSE bundle on the loopback test instance's Rekor v2 log, its entry
/// `hashedrekord/0.0.2` over SHA2_384: the one fixture whose inputs reach the shim
/// `sigstore::rekor_v2_digest` (made by `fixtures/msign-p384-rekor-v2/make.py`).
const P384_DIR: &str = "msign-p384-rekor-v2";
const P384_IDENTITY: &str = "alice@example.com";

fn key_config() -> &'static VerifyingConfig {
    static C: OnceLock<VerifyingConfig> = OnceLock::new();
    C.get_or_init(|| {
        VerifyingConfig::use_elliptic_key_verifier(&fixture(&format!(
            "{MT_KEYS}/signing-key-pub.pem"
        )))
        .expect("fixture key")
    })
}

fn certificate_config() -> &'static VerifyingConfig {
    static C: OnceLock<VerifyingConfig> = OnceLock::new();
    C.get_or_init(|| {
        VerifyingConfig::new(Box::new(
            CertificateVerifier::from_root_files(&[fixture(&format!("{MT_KEYS}/ca-cert.pem"))])
                .expect("fixture root"),
        ))
    })
}

fn public_good_config() -> &'static VerifyingConfig {
    static C: OnceLock<VerifyingConfig> = OnceLock::new();
    C.get_or_init(|| {
        sigstore_config(
            TrustedRoot::public_good().expect("embedded root"),
            PUBLIC_GOOD_IDENTITY,
        )
    })
}

fn rekor2_config() -> &'static VerifyingConfig {
    static C: OnceLock<VerifyingConfig> = OnceLock::new();
    C.get_or_init(|| {
        let root = TrustedRoot::from_file(&fixture(&format!("{REKOR2_DIR}/trusted_root.json")))
            .expect("fixture trusted root");
        sigstore_config(root, REKOR2_IDENTITY)
    })
}

fn p384_config() -> &'static VerifyingConfig {
    static C: OnceLock<VerifyingConfig> = OnceLock::new();
    C.get_or_init(|| {
        let root = TrustedRoot::from_file(&fixture(&format!("{P384_DIR}/trust_config_v2.json")))
            .expect("fixture trust config");
        let issuer = String::from_utf8(fixture_bytes(&format!("{P384_DIR}/issuer")))
            .expect("fixture issuer");
        sigstore_config(root, (P384_IDENTITY, issuer.trim()))
    })
}

fn sigstore_config(root: TrustedRoot, (identity, issuer): (&str, &str)) -> VerifyingConfig {
    VerifyingConfig::new(Box::new(SigstoreVerifier::new(root, identity, issuer)))
}

/// A private scratch file per thread (the corpus test runs targets on several threads).
fn scratch_file(data: &[u8]) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temporary folder"));
    let p = dir
        .path()
        .join(format!("input-{:?}", std::thread::current().id()));
    std::fs::write(&p, data).expect("write scratch file");
    p
}

/// A signature file: parsed, then checked by the key and the certificate verifiers.
pub fn bundle(data: &[u8]) {
    if let Ok(b) = Bundle::from_json(data) {
        // What msign reads it can write back unchanged.
        assert_eq!(Bundle::from_json(&b.to_json()).ok().as_ref(), Some(&b));
    }
    let _ = key_config().verify_signature(data);
    let _ = certificate_config().verify_signature(data);
}

/// A DSSE envelope (JSON), put in a bundle that names the verifying key.
pub fn dsse(data: &[u8]) {
    let Ok(env) = serde_json::from_slice::<Envelope>(data) else {
        return;
    };
    let hint = key_hint_of_fixture();
    let b = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.into(),
        verification_material: VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: Some(hint.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        },
        dsse_envelope: Some(env),
        message_signature: None,
    };
    let _ = key_config().verify_signature(&b.to_json());
}

fn key_hint_of_fixture() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let b = Bundle::from_json(&fixture_bytes(
            "model-transparency/v1.1.0-elliptic-key/model.sig",
        ))
        .expect("fixture bundle");
        b.verification_material
            .public_key
            .and_then(|k| k.hint)
            .expect("fixture key hint")
    })
}

/// An in-toto statement (the DSSE payload) and its predicate.
pub fn statement(data: &[u8]) {
    let Ok(m) = statement::from_payload(data) else {
        return;
    };
    // A statement msign accepts is one it can write and read back to the same manifest.
    let again = statement::from_payload(&statement::to_payload(&m))
        .unwrap_or_else(|e| panic!("msign cannot read back the statement it wrote: {e}"));
    assert_eq!(again, m);
    let _ = manifest_json::parse(
        serde_json::to_string(&statement::manifest_json(&m))
            .expect("JSON")
            .as_bytes(),
    );
}

/// Two manifests (statements or `digest --json` files), compared as verification compares
/// them and merged as `manifest merge` does.
pub fn manifest_compare(data: &[u8]) {
    let p = parts(data);
    let manifests: Vec<_> = p
        .iter()
        .take(2)
        .filter_map(|b| {
            statement::from_payload(b)
                .or_else(|_| manifest_json::parse(b))
                .ok()
        })
        .collect();
    if let [a, b] = &manifests[..] {
        let diff = ManifestDiff::between(&a.resources, &b.resources);
        let _ = diff.to_string();
        assert_eq!(diff.is_empty(), a.resources == b.resources);
    }
    let _ = manifest_json::merge(manifests, None);
}

/// Key and certificate files (PEM, as the command line takes them) and DER public keys.
pub fn keys(data: &[u8]) {
    let path = scratch_file(data);
    let _ = KeyVerifier::from_pem_file(&path);
    let _ = crate::sign::key::load_private_key(&path, None);
    let _ = crate::sign::certificate::load_certificates(std::slice::from_ref(&path));
    let _ = CertificateVerifier::from_root_files(std::slice::from_ref(&path));
    // DER public keys of bundles and trusted roots are parsed by the sigstore-rust crates.
    let der = sigstore_verify::types::DerPublicKey::new(data.to_vec());
    let _ = sigstore_verify::crypto::VerificationKey::from_spki(&der);
}

/// A DER certificate as the signing certificate of a certificate-chain signature and of a
/// Sigstore signature.
pub fn certificate(data: &[u8]) {
    static BASES: OnceLock<(Value, Value)> = OnceLock::new();
    let (chain, sigstore) = BASES.get_or_init(|| {
        (
            fixture_json("model-transparency/v1.1.0-certificate/model.sig"),
            fixture_json(PUBLIC_GOOD_SIG),
        )
    });
    let der = B64.encode(data);
    let mut b = chain.clone();
    b["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] =
        der.clone().into();
    let _ = certificate_config().verify_signature(&json_bytes(&b));
    let mut b = sigstore.clone();
    b["verificationMaterial"]["certificate"]["rawBytes"] = der.into();
    let _ = public_good_config().verify_signature(&json_bytes(&b));
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON")
}

/// A blob that may be a Git LFS pointer.
pub fn lfs_pointer(data: &[u8]) {
    if let Ok(p) = Pointer::parse(data) {
        // A pointer parses only in its one canonical form.
        let text = format!(
            "version {}\noid sha256:{}\nsize {}\n",
            crate::source::lfs::VERSION_V1,
            p.oid_hex(),
            p.size
        );
        assert_eq!(text.as_bytes(), data);
    }
}

/// A scratch repository holding the blobs the git tree corpus names (see
/// `fuzz/corpus/git_tree/README.md`); the fuzzed tree objects are written next to them.
struct GitFixture {
    dir: tempfile::TempDir,
    kept: std::collections::HashSet<git2::Oid>,
}

/// The blobs of the scratch repository, by the names the seed trees give them.
pub const GIT_BLOBS: &[(&str, &[u8])] = &[
    ("loader.py", b"print('hello')\n"),
    ("weights.bin", b"\x00\x01\x02\x03weights"),
    (
        "lfs.bin",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    ),
    (".gitattributes", b"*.bin filter=lfs diff=lfs merge=lfs -text\n"),
    ("link", b"weights.bin"),
];

fn git_fixture() -> &'static GitFixture {
    static F: OnceLock<GitFixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let repo = git2::Repository::init_bare(dir.path()).expect("git init");
        let mut kept = std::collections::HashSet::new();
        let mut tb = repo.treebuilder(None).expect("tree builder");
        for (name, content) in GIT_BLOBS {
            let oid = repo.blob(content).expect("blob");
            kept.insert(oid);
            let mode = if *name == "link" { 0o120000 } else { 0o100644 };
            tb.insert(name, oid, mode).expect("tree entry");
        }
        let sub = tb.write().expect("tree");
        kept.insert(sub);
        GitFixture { dir, kept }
    })
}

/// A raw git tree object, hashed as `msign sign --git-rev` hashes a revision.
pub fn git_tree(data: &[u8]) {
    let fx = git_fixture();
    let Ok(repo) = git2::Repository::open_bare(fx.dir.path()) else {
        return;
    };
    let Ok(oid) = repo
        .odb()
        .and_then(|o| o.write(git2::ObjectType::Tree, data))
    else {
        return;
    };
    if let Ok(src) = crate::source::git::GitSource::new(&repo, &oid.to_string(), "") {
        let _ = HashingConfig::new().hash(&src);
        let _ = HashingConfig::new()
            .use_shard_serialization(crate::manifest::HashAlgorithm::Sha256, 4)
            .map(|h| h.hash(&src.clone().allow_symlinks(true)));
    }
    if !fx.kept.contains(&oid) {
        // Fuzzing writes millions of trees; keep the scratch repository small.
        let hex = oid.to_string();
        let _ = std::fs::remove_file(repo.path().join("objects").join(&hex[..2]).join(&hex[2..]));
    }
}

/// A Hub that answers with the input's parts: the revision, then pages of the listing
/// (each part `STATUS\nHeader: value\n...\n\nbody`, see [`serve`]).
pub fn hub_listing(data: &[u8]) {
    let responses = parts(data);
    serve(&responses, |url| {
        let config = crate::hub::HubConfig {
            endpoint: url.to_string(),
            token: Some("secret".into()),
            cache_dir: std::env::temp_dir(),
            offline: false,
        };
        let Ok(client) = crate::hub::api::HubClient::new(&config) else {
            return;
        };
        let repo = crate::hub::RepoId::parse("org/model").expect("repo id");
        if let Ok(src) = crate::hub::HubSource::open(Arc::new(client), repo, "main") {
            let _ = src.kept_files(&IgnoreRules::new().with_git_paths());
        }
    });
}

/// A Sigstore model signature, verified against the public-good root, a Rekor v2 fixture's
/// root, and the P-384 Rekor v2 fixture's (whose inputs reach the P-384 shim).
pub fn sigstore_bundle(data: &[u8]) {
    let _ = public_good_config().verify_signature(data);
    let _ = rekor2_config().verify_signature(data);
    let _ = p384_config().verify_signature(data);
}

/// A trusted root or ClientTrustConfig (`--trusted-root`, `--trust-config`): parsed, its
/// services read, and a public-good signature verified against it.
pub fn trusted_root(data: &[u8]) {
    let _ = Endpoints::from_json(data);
    let Ok(root) = TrustedRoot::from_json(data) else {
        return;
    };
    static SIG: OnceLock<Vec<u8>> = OnceLock::new();
    let sig = SIG.get_or_init(|| fixture_bytes(PUBLIC_GOOD_SIG));
    let _ = sigstore_config(root, PUBLIC_GOOD_IDENTITY).verify_signature(sig);
}

/// A TUF repository: the first part is the initial root, the others are the answers to
/// the client's requests in order (next root versions, timestamp, snapshot, targets, the
/// trusted root target).
pub fn tuf(data: &[u8]) {
    let p = parts(data);
    let Ok(cache) = tempfile::tempdir() else {
        return;
    };
    serve(&p[1..], |url| {
        let repo = tuf::Repository {
            url: url.to_string(),
            initial_root: p[0].to_vec(),
        };
        let _ = tuf::update(&repo, cache.path());
    });
}

/// An RFC 3161 timestamp token (DER) in place of the one of a Rekor v2 bundle.
pub fn rfc3161(data: &[u8]) {
    static BASE: OnceLock<Value> = OnceLock::new();
    let base = BASE.get_or_init(|| fixture_json(&format!("{REKOR2_DIR}/bundle.sigstore.json")));
    let mut b = base.clone();
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"] = B64.encode(data).into();
    let _ = rekor2_config().verify_signature(&json_bytes(&b));
}

/// A transparency-log checkpoint (signed note) in place of the one of a Rekor v1 and of a
/// Rekor v2 bundle.
pub fn checkpoint(data: &[u8]) {
    static BASES: OnceLock<(Value, Value)> = OnceLock::new();
    let (v1, v2) = BASES.get_or_init(|| {
        (
            fixture_json(PUBLIC_GOOD_SIG),
            fixture_json(&format!("{REKOR2_DIR}/bundle.sigstore.json")),
        )
    });
    let note: Value = String::from_utf8_lossy(data).into_owned().into();
    for (base, config) in [(v1, public_good_config()), (v2, rekor2_config())] {
        let mut b = base.clone();
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
            note.clone();
        let _ = config.verify_signature(&json_bytes(&b));
    }
}

/// Runs `client` with the URL of an HTTP server on loopback that answers the n-th request
/// with `responses[n]` (404 once they run out), one connection per request.
///
/// A response is `STATUS\nName: value\n...\n\nbody`; without a status line and a blank
/// line the whole part is a 200 body. `Location` headers are dropped, so a fuzzed redirect
/// never leaves loopback.
pub fn serve<T>(responses: &[&[u8]], client: impl FnOnce(&str) -> T) -> T {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("loopback address");
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut next = responses.iter();
            for conn in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = answer(&mut conn, next.next().copied());
            }
        });
        let out = client(&format!("http://{addr}"));
        done.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(addr);
        out
    })
}

fn answer(conn: &mut TcpStream, response: Option<&[u8]>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 1 << 16 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let (status, headers, body): (u16, Vec<&[u8]>, &[u8]) = match response {
        None => (404, Vec::new(), b"not found"),
        Some(r) => match r.windows(2).position(|w| w == b"\n\n") {
            Some(i) => {
                let mut lines = r[..i].split(|&c| c == b'\n');
                let status = lines
                    .next()
                    .and_then(|l| std::str::from_utf8(l).ok())
                    .and_then(|l| l.trim().parse().ok())
                    .filter(|s| (100..600).contains(s));
                match status {
                    Some(s) => (s, lines.collect(), &r[i + 2..]),
                    None => (200, Vec::new(), r),
                }
            }
            None => (200, Vec::new(), r),
        },
    };
    let mut out = format!("HTTP/1.1 {status} Fuzz\r\n").into_bytes();
    for h in headers {
        let h: Vec<u8> = h.iter().copied().filter(|&c| c != b'\r').collect();
        if h.len() >= 9 && h[..9].eq_ignore_ascii_case(b"location:") {
            continue;
        }
        out.extend_from_slice(&h);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    conn.write_all(&out)
}
