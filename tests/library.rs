//! The git and hook workflows as library calls: the reports are what the CLI prints with
//! `--json`, and a signature made through the library is found and verified by the CLI.

mod common;
mod fakehub;
use common::*;

use std::path::Path;
use std::process::Command;

use msign::git::{find_signature, sign_revision, verify_revision, RevSpec, StoreKind};
use msign::{HashingConfig, NoProgress, VerifyingConfig};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A repository whose one commit holds the demo model under `models/demo`.
fn demo_repo(dir: &Path) {
    copy_dir(&fixtures().join("demo-model"), &dir.join("models/demo"));
    git(dir, &["init", "-q"]);
    git(dir, &["config", "user.name", "Model Signer"]);
    git(dir, &["config", "user.email", "signer@example.com"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "demo model"]);
}

#[test]
fn revision_signed_into_a_note_verifies_and_reports_what_the_cli_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().canonicalize().unwrap().join("repo");
    demo_repo(&repo);
    let keys = fixtures().join("keys");
    let rev = RevSpec::new(&repo, "HEAD").subdir("models/demo");

    let signer = msign::sign::signer_from_files(&keys.join("demo-p256.pem"), None, None).unwrap();
    let signed = sign_revision(
        &rev,
        HashingConfig::new(),
        signer,
        StoreKind::Notes,
        None,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(signed.status, "signed");
    assert_eq!(signed.files, 4);
    assert_eq!(signed.model_name, "demo");
    assert_eq!(signed.path, "models/demo");
    assert!(signed.describe().ends_with(":models/demo"));

    let found = find_signature(&rev, None).unwrap();
    assert_eq!(found.kind, "note");

    let config = VerifyingConfig::use_elliptic_key_verifier(&keys.join("demo-p256.pub")).unwrap();
    let verified = verify_revision(&rev, config, None, false, &NoProgress).unwrap();
    assert_eq!(verified.digest, signed.digest);
    assert_eq!(verified.signature_kind, "note");

    // The CLI renders the same report: its --json is the report, field for field.
    let out = run_ok(
        git_model_sign()
            .current_dir(&repo)
            .args([
                "verify",
                "key",
                "--path",
                "models/demo",
                "--json",
                "--public-key",
            ])
            .arg(keys.join("demo-p256.pub")),
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, serde_json::to_value(&verified).unwrap());
}

#[test]
fn hook_install_writes_the_shipped_script() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    demo_repo(&repo);
    let path = msign::hook::install(&repo, Some(msign::hook::HookMode::Sign), false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        msign::hook::PRE_PUSH_SCRIPT
    );
    let out = Command::new("git")
        .current_dir(&repo)
        .args(["config", "msign.mode"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "sign");
}

/// Builds and runs an example through cargo (examples have no `CARGO_BIN_EXE_*`), with the
/// Hub environment of `hf_home` pointing at `endpoint`.
fn run_example(
    name: &str,
    args: &[&std::ffi::OsStr],
    endpoint: &str,
    hf_home: &Path,
) -> std::process::Output {
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "-q", "--example", name, "--"])
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", hf_home);
    for v in [
        "HF_TOKEN",
        "HF_HUB_CACHE",
        "HF_HUB_OFFLINE",
        "HF_TOKEN_PATH",
    ] {
        c.env_remove(v);
    }
    c.output().unwrap()
}

#[test]
fn hub_example_verifies_before_download_and_refuses_a_tampered_weight() {
    use fakehub::{files_from_dir, regular, FakeHub};
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = ec_keypair(tmp.path(), "prime256v1");
    let model = sample_model(tmp.path());
    let weights: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(model.join("model.safetensors"), &weights).unwrap();
    let sig = tmp.path().join("model.sig");
    let signed = run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&model)
            .arg("--private-key")
            .arg(&key)
            .arg("--signature")
            .arg(&sig)
            .arg("--json"),
    );
    let sig = std::fs::read(&sig).unwrap();

    let hub = FakeHub::start();
    let mut files = files_from_dir(&model, |p, _| p.ends_with(".safetensors"));
    files.insert(
        ".gitattributes".into(),
        regular(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
    );
    let commit = hub.publish("acme/demo", "main", files.clone(), &[("model.sig", &sig)]);
    let mut tampered = weights.clone();
    tampered[1000] ^= 1;
    std::fs::write(model.join("model.safetensors"), &tampered).unwrap();
    let mut files = files_from_dir(&model, |p, _| p.ends_with(".safetensors"));
    files.insert(
        ".gitattributes".into(),
        regular(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
    );
    hub.publish("acme/demo", "tampered", files, &[("model.sig", &sig)]);

    let hf = tmp.path().join("hf");
    let dest = tmp.path().join("dest");
    let out = run_example(
        "verify_hub_before_download",
        &["acme/demo".as_ref(), public.as_os_str(), dest.as_os_str()],
        &hub.endpoint,
        &hf,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let signed: serde_json::Value = serde_json::from_str(&stdout(&signed)).unwrap();
    let n = signed["files"].as_u64().unwrap();
    assert!(
        text.contains(&format!("verified {n} file(s)")) && text.contains(&commit),
        "{text}"
    );
    assert!(text.contains(&format!("downloaded {n} file(s)")), "{text}");
    assert_eq!(
        std::fs::read(dest.join("model.safetensors")).unwrap(),
        weights
    );

    // The tampered weight is caught from the listing: nothing is downloaded.
    hub.clear_log();
    let dest2 = tmp.path().join("dest2");
    let out = run_example(
        "verify_hub_before_download",
        &[
            "acme/demo".as_ref(),
            public.as_os_str(),
            dest2.as_os_str(),
            "tampered".as_ref(),
        ],
        &hub.endpoint,
        &hf,
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("model.safetensors"),
        "{}",
        stderr(&out)
    );
    assert!(!dest2.join("model.safetensors").exists());
    assert!(hub.cdn_requests().is_empty(), "no LFS byte may be fetched");
}

/// The method builders every front end uses: a key signer and its verifier, and the
/// choice rules of the `hub` commands, from the library alone; the CLI accepts the result.
#[test]
fn signer_and_verifier_specs_build_what_the_commands_use() {
    use msign::hash::HashOptions;
    use msign::sign::{KeyFile, SignerSpec, SigstoreSigning};
    use msign::source::ModelSpec;
    use msign::verify::{VerifierChoice, VerifierSpec};
    use msign::workflow::{sign_model, verify_model, SignRequest, VerifyRequest};

    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    copy_dir(&fixtures().join("demo-model"), &model);
    let sig = tmp.path().join("model.sig");
    let keys = fixtures().join("keys");
    let (private, public) = (keys.join("demo-p256.pem"), keys.join("demo-p256.pub"));

    let hashing = HashOptions::default().config().unwrap();
    let req = SignRequest::new(ModelSpec::new(&model), hashing, sig.clone()).unwrap();
    let signer = SignerSpec::Key(KeyFile::new(&private)).build().unwrap();
    let signed = sign_model(&req, signer, &NoProgress).unwrap();
    assert_eq!((signed.method, signed.files), ("key", 4));

    let verifier = VerifierSpec::Key(public.clone()).build().unwrap();
    let req = VerifyRequest::new(ModelSpec::new(&model), sig.clone());
    let verified = verify_model(&req, verifier, &NoProgress).unwrap();
    assert_eq!(verified.digest, signed.digest);
    run_ok(
        msign()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--public-key")
            .arg(&public),
    );

    let two = VerifierChoice {
        public_key: Some(public.clone()),
        roots: vec![public.clone()],
        ..Default::default()
    };
    let err = two.spec().unwrap_err().to_string();
    assert!(err.contains("choose one verification method"), "{err}");
    let err = SignerSpec::choose(
        Some(KeyFile::new(&private)),
        None,
        Vec::new(),
        Some(SigstoreSigning::default()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("choose one signing method"), "{err}");
    let err = HashOptions {
        shards: Some(true),
        algorithm: msign::HashAlgorithm::Blake3,
        ..Default::default()
    }
    .config()
    .unwrap_err()
    .to_string();
    assert!(err.contains("blake3 has no shard serialization"), "{err}");
}

/// `msign sigstore verify-bundle` as a library call: the artifact must be a subject of
/// the statement, the signer the expected one; the report is the command's JSON.
#[test]
fn sigstore_bundle_verifies_against_its_artifact_from_the_library() {
    use base64::Engine as _;
    use msign::sigstore::{verify_bundle, BundleRequest, Expected, Instance};

    let sig = reference_fixtures().join("v1.0.0-sigstore/model.sig");
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let subject = st["subject"][0]["digest"]["sha256"].as_str().unwrap();
    let request = |artifact: String, identity: &str| BundleRequest {
        bundle: sig.clone(),
        artifact,
        expected: Expected::Identity {
            identity: identity.into(),
            issuer: "https://sigstore.verify.ibm.com/oauth2".into(),
        },
        instance: Instance::default(),
    };

    let r = verify_bundle(&request(format!("sha256:{subject}"), "stefanb@us.ibm.com")).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "verified");
    assert_eq!(json["signer"], r.signer.as_str());
    assert!(r.signer.contains("stefanb@us.ibm.com"), "{}", r.signer);

    let other = format!("sha256:{}", "0".repeat(64));
    let err = verify_bundle(&request(other, "stefanb@us.ibm.com")).unwrap_err();
    assert!(err.to_string().contains("not a subject"), "{err}");
    assert_eq!(err.exit_code(), 1);
    let err = verify_bundle(&request(format!("sha256:{subject}"), "x@y")).unwrap_err();
    assert!(err.to_string().contains("identity mismatch"), "{err}");

    // The command's flags choose the signer in the library: a key, or an identity with
    // its issuer; anything else is a usage error.
    assert!(
        matches!(Expected::choose(Some("k.pub".into()), None, None), Ok(Expected::Key(k)) if k == Path::new("k.pub"))
    );
    let identity = Expected::choose(None, Some("a@b".into()), Some("https://i".into()));
    assert!(
        matches!(&identity, Ok(Expected::Identity { identity, issuer }) if identity == "a@b" && issuer == "https://i")
    );
    for half in [
        Expected::choose(None, Some("a@b".into()), None),
        Expected::choose(None, None, Some("https://i".into())),
        Expected::choose(None, None, None),
    ] {
        let err = half.unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(err.to_string().contains("--certificate-identity"), "{err}");
    }
}

/// A [`msign::Progress`] that keeps the notices a workflow gives before its result.
#[derive(Default)]
struct Notices(std::sync::Mutex<Vec<msign::hash::Notice>>);

impl msign::Progress for Notices {
    fn advance(&self, _bytes: u64) {}
    fn notice(&self, notice: &msign::hash::Notice) {
        self.0.lock().unwrap().push(notice.clone());
    }
}

impl Notices {
    fn taken(&self) -> Vec<msign::hash::Notice> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// `hub download --token/--cache-dir` (and the Python package's keyword arguments) are
/// applied by the library: a blank token means none, not the environment's.
#[test]
fn hub_settings_given_explicitly_override_the_environment() {
    use msign::hub::{HubConfig, HubOverrides};
    let given = HubConfig::from_env_with(HubOverrides {
        endpoint: Some("http://127.0.0.1:9/".into()),
        token: Some(" hf_abc\n".into()),
        cache_dir: Some("/somewhere/hub".into()),
    })
    .unwrap();
    assert_eq!(given.endpoint, "http://127.0.0.1:9");
    assert_eq!(given.token.as_deref(), Some("hf_abc"));
    assert_eq!(given.cache_dir, Path::new("/somewhere/hub"));
    let blank = HubConfig::from_env_with(HubOverrides {
        token: Some("  ".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(blank.token, None);
    let env = HubConfig::from_env().unwrap();
    let none = HubConfig::from_env_with(HubOverrides::default()).unwrap();
    assert_eq!(
        (none.endpoint, none.token, none.cache_dir),
        (env.endpoint, env.token, env.cache_dir)
    );
}

/// `msign hub sign --upload` as one library call: the signature is announced, with its
/// ignore rules, as soon as it is written, so a failed upload does not hide it; a request
/// to upload without a token is refused before any signer is made.
#[test]
fn hub_sign_and_upload_announces_the_signature_before_the_upload() {
    use fakehub::{files_from_dir, regular, FakeHub, TOKEN};
    use msign::hash::Notice;
    use msign::hub::{sign_and_upload, HubConfig, HubModel, HubSignRequest};
    use msign::sign::{KeyFile, SignerSpec};

    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = ec_keypair(tmp.path(), "prime256v1");
    let model = sample_model(tmp.path());
    let hub = FakeHub::start();
    let mut files = files_from_dir(&model, |_, _| false);
    files.insert(".gitattributes".into(), regular(b""));
    hub.publish("acme/demo", "main", files, &[]);
    let config = HubConfig {
        endpoint: hub.endpoint.clone(),
        token: None,
        cache_dir: tmp.path().join("hf"),
        offline: false,
    };
    let at = |config: &HubConfig| HubModel::new(config.clone(), "acme/demo", "main", "model.sig");
    let out = tmp.path().join("hub.sig");
    let refused = HubSignRequest::new(at(&config).unwrap(), out.clone(), true).unwrap_err();
    assert!(matches!(refused, msign::Error::Usage(_)), "{refused}");
    assert!(refused.to_string().contains("HF_TOKEN"), "{refused}");

    let model = at(&HubConfig {
        token: Some(TOKEN.into()),
        ..config
    })
    .unwrap();
    let req = HubSignRequest::new(model, out.clone(), true).unwrap();
    let notices = Notices::default();
    let spec = || SignerSpec::Key(KeyFile::new(&key));
    hub.state().unavailable_posts = usize::MAX;
    let err = sign_and_upload(&req, spec(), &notices).unwrap_err();
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    let announced = notices.taken();
    let [Notice::Signed {
        summary,
        ignore_rules,
    }] = &announced[..]
    else {
        panic!("{announced:?}")
    };
    assert!(summary.starts_with("Signing succeeded: "), "{summary}");
    assert!(summary.contains(&out.display().to_string()), "{summary}");
    assert!(
        ignore_rules.iter().any(|r| r.rule == "model.sig"),
        "{ignore_rules:?}"
    );
    assert!(out.is_file());

    hub.state().unavailable_posts = 0;
    let signed = sign_and_upload(&req, spec(), &notices).unwrap();
    let uploaded = signed.uploaded.as_ref().expect("uploaded");
    assert_eq!(hub.state().repos["acme/demo"].refs["main"], uploaded.commit);
    assert!(
        matches!(&notices.taken()[..], [Notice::Signed { summary, .. }] if *summary == signed.to_string())
    );
}

/// `msign sign` and `msign verify` as one library call each, from the method's
/// description: the warnings and fingerprints the commands print before their result
/// come as notices, the digests of a previous signature are reused, and each report's
/// text is, byte for byte, what the command prints.
#[test]
fn sign_and_verify_with_specs_are_the_commands_as_library_calls() {
    use msign::hash::{HashOptions, Notice};
    use msign::sign::{KeyFile, SignerSpec};
    use msign::source::ModelSpec;
    use msign::verify::VerifierSpec;
    use msign::workflow::{sign_with_spec, verify_with_spec, Reuse, SignRequest, VerifyRequest};

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().canonicalize().unwrap();
    let model = d.join("model");
    copy_dir(&fixtures().join("demo-model"), &model);
    let keys = fixtures().join("keys");
    let (private, public) = (keys.join("demo-p256.pem"), keys.join("demo-p256.pub"));
    let (sig, cli_sig) = (d.join("lib.sig"), d.join("cli.sig"));
    let outside = d.join("elsewhere");
    let cache = d.join("cache");
    // Digests of files changed within the cache's racy margin are not trusted later.
    std::thread::sleep(std::time::Duration::from_millis(2_500));

    let notices = Notices::default();
    let mut spec = ModelSpec::new(&model);
    spec.ignore_paths = vec![outside.clone()];
    let hashing = HashOptions::default().config().unwrap();
    let mut req = SignRequest::new(spec.clone(), hashing.clone(), sig.clone()).unwrap();
    req.reuse = Reuse {
        from: Some(cache.clone()),
        no_cache: false,
    };
    std::fs::create_dir(&cache).unwrap();
    let signed = sign_with_spec(&req, SignerSpec::Key(KeyFile::new(&private)), &notices).unwrap();
    let warned = notices.taken();
    assert!(
        matches!(&warned[..], [Notice::Warning(w)] if w.contains("--ignore-paths") && w.contains("outside the model")),
        "{warned:?}"
    );
    let cli = run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&model)
            .arg("--private-key")
            .arg(&private)
            .arg("--signature")
            .arg(&cli_sig)
            .arg("--ignore-paths")
            .arg(&outside)
            .arg("--no-cache"),
    );
    assert_eq!(
        stdout(&cli),
        format!("{signed}\n").replace(&sig.display().to_string(), &cli_sig.display().to_string())
    );
    assert!(stderr(&cli).contains(&format!(
        "warning: {}",
        match &warned[0] {
            Notice::Warning(w) => w,
            other => panic!("{other:?}"),
        }
    )));

    // Signing again reuses what the cache folder recorded: nothing is hashed twice.
    let again = sign_with_spec(&req, SignerSpec::Key(KeyFile::new(&private)), &notices).unwrap();
    assert_eq!(again.digest, signed.digest);
    assert_eq!(again.reused_files, again.files, "{again:?}");
    assert_eq!(notices.taken(), warned);
    assert!(format!("{again}").starts_with(&format!(
        "{} file(s) unchanged: digests reused, not re-hashed\nSigning succeeded",
        again.files
    )));

    // Verification with fingerprints asked for announces them before checking the chain,
    // as the command prints them, and fails (the signature was made with a bare key).
    let pki = Pki::new(&d, "lib");
    let mut vreq = VerifyRequest::new(ModelSpec::new(&model), sig.clone());
    vreq.log_fingerprints = true;
    let roots = VerifierSpec::Certificate {
        roots: vec![pki.root.clone()],
        reject_expired: false,
    };
    let err = verify_with_spec(&vreq, &roots, &notices).unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    let fps = notices.taken();
    let cli = run_fails(
        msign()
            .args(["verify", "certificate"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--certificate-chain")
            .arg(&pki.root)
            .arg("--log-fingerprints"),
        1,
    );
    match &fps[..] {
        [Notice::Fingerprint(fp)] => assert!(
            stderr(&cli).starts_with(&format!("[  init  ] sha256 Fingerprint: {fp}\n")),
            "{}",
            stderr(&cli)
        ),
        other => panic!("{other:?}"),
    }

    // A missing signature fails before the key is read (the key path does not exist).
    let missing = VerifyRequest::new(ModelSpec::new(&model), d.join("missing.sig"));
    let err = verify_with_spec(&missing, &VerifierSpec::Key(d.join("no.pub")), &notices)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no signature at"), "{err}");

    let vreq = VerifyRequest::new(ModelSpec::new(&model), sig.clone());
    let mut verified =
        verify_with_spec(&vreq, &VerifierSpec::Key(public.clone()), &notices).unwrap();
    assert_eq!(verified.digest, signed.digest);
    let verify_cli = |extra: &[&str]| {
        stdout(&run_ok(
            msign()
                .env("XDG_CACHE_HOME", d.join("xdg"))
                .args(["verify", "key"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--public-key")
                .arg(&public)
                .args(extra),
        ))
    };
    assert_eq!(verify_cli(&[]), format!("{verified}\n"));
    // With the digest cache asked for (an empty one), the text says what it knew.
    verified.digest_cache = true;
    assert_eq!(verify_cli(&["--cache"]), format!("{verified}\n"));
    assert!(format!("{verified}").starts_with("0 file(s) unchanged since cached"));
}

/// `msign generate-key` as a library call: existing files are refused before a password
/// is asked for, and the report's text is what the command prints.
#[test]
fn key_pairs_are_created_as_generate_key_makes_them() {
    use msign::sign::keygen::{create, Curve, KeyPairRequest};

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let req = KeyPairRequest {
        curve: Curve::P384,
        prefix: d.join("lib"),
        encrypt: false,
        password_file: None,
        force: false,
    };
    let made = create(&req).unwrap();
    assert_eq!(made.private_key, d.join("lib.pem"));
    assert_eq!(made.public_key, d.join("lib.pub"));
    assert!(req.private_key().exists() && req.public_key().exists());

    // Asking for encryption from a password file that does not exist would fail; the
    // existing files are refused first.
    let again = KeyPairRequest {
        encrypt: true,
        password_file: Some(d.join("no-such-password")),
        ..req.clone()
    };
    let err = create(&again).unwrap_err().to_string();
    assert!(
        err.contains("exists; choose another --output-prefix"),
        "{err}"
    );

    let cli = run_ok(
        msign()
            .arg("generate-key")
            .args(["--curve", "p384", "--output-prefix"])
            .arg(d.join("cli")),
    );
    assert_eq!(
        stdout(&cli),
        format!("{made}\n").replace(
            &d.join("lib").display().to_string(),
            &d.join("cli").display().to_string()
        )
    );
}

/// `msign manifest merge` as a library call: the merged manifest written is what the
/// command prints, its report what the command prints with `--json`, and a signature of
/// it verifies against the whole model.
#[test]
fn manifests_hashed_apart_merge_as_the_command_merges_them() {
    use msign::workflow::merge_manifest_files;

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let model = d.join("model");
    copy_dir(&fixtures().join("demo-model"), &model);
    // Two "machines", each with the same layout holding only its half of the files.
    let names: Vec<String> = std::fs::read_dir(&model)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let (first, rest) = names.split_at(names.len() / 2);
    let mut parts = Vec::new();
    for (i, half) in [first, rest].iter().enumerate() {
        let root = d.join(format!("node{i}")).join("model");
        std::fs::create_dir_all(&root).unwrap();
        for n in half.iter() {
            if model.join(n).is_dir() {
                copy_dir(&model.join(n), &root.join(n));
            } else {
                std::fs::copy(model.join(n), root.join(n)).unwrap();
            }
        }
        let out = run_ok(msign().args(["digest", "--json", "--no-cache"]).arg(&root));
        let part = d.join(format!("part{i}.json"));
        std::fs::write(&part, out.stdout).unwrap();
        parts.push(part);
    }

    let out = d.join("merged.json");
    let merged = merge_manifest_files(&parts, None, Some(&out)).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), merged.manifest_json);
    assert_eq!((merged.files, merged.model_name.as_str()), (4, "model"));
    let cli = run_ok(msign().args(["manifest", "merge"]).args(&parts));
    assert_eq!(stdout(&cli), merged.manifest_json);
    let cli = run_ok(
        msign()
            .args(["--json", "manifest", "merge", "--output"])
            .arg(d.join("cli.json"))
            .args(&parts),
    );
    let mut report = serde_json::to_value(&merged).unwrap();
    report["output"] = d.join("cli.json").display().to_string().into();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&cli.stdout).unwrap(),
        report
    );

    let keys = fixtures().join("keys");
    let sig = d.join("model.sig");
    run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--private-key")
            .arg(keys.join("demo-p256.pem"))
            .arg("--from-manifest")
            .arg(&out),
    );
    let verified = run_ok(
        msign()
            .args(["--json", "verify", "key"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--public-key")
            .arg(keys.join("demo-p256.pub")),
    );
    let v: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(v["digest"], merged.digest.as_str());
}
