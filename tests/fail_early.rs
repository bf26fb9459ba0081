//! Failing early and saying what is wrong: differences reported as the user sees them
//! (a changed file, not shards; a name in another Unicode form), byte counts that are
//! true, help that matches behaviour, one exit code for a missing signature.

mod common;
mod fakehub;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// `msign sign key MODEL --private-key KEY --signature SIG`.
fn sign_key(model: &Path, key: &Path, sig: &Path) -> Command {
    let mut c = msign();
    c.args(["sign", "key"])
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

/// `msign [--json] verify key MODEL --signature SIG --public-key PUB`.
fn verify_key(json: bool, model: &Path, sig: &Path, public: &Path) -> Command {
    let mut c = msign();
    if json {
        c.arg("--json");
    }
    c.args(["verify", "key"])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--public-key")
        .arg(public)
        .stdin(Stdio::null());
    c
}

/// A folder `model` in `d` holding `files`, and a P-256 key pair: (model, key, public).
fn model_with(d: &Path, files: &[(&str, &[u8])]) -> (PathBuf, PathBuf, PathBuf) {
    let model = d.join("model");
    std::fs::create_dir(&model).unwrap();
    for (name, content) in files {
        std::fs::write(model.join(name), content).unwrap();
    }
    let (key, public) = ec_keypair(d, "prime256v1");
    (model, key, public)
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

// 1. A file signed by shards that changed is one changed file.

#[test]
fn an_edited_file_signed_by_shards_is_reported_as_changed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[("big.bin", &[7u8; 2500]), ("small", b"s")]);
    let sig = d.join("m.sig");
    run_ok(sign_key(&model, &key, &sig).args(["--shard-size", "1000"]));

    // Grown by 4 bytes: the last shard 2000..2500 is gone and 2000..2504 appeared.
    let mut grown = vec![7u8; 2500];
    grown.extend_from_slice(b"more");
    std::fs::write(model.join("big.bin"), &grown).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("changed (1):")
            && err.contains("big.bin (2500 B signed, 2504 B now): bytes 2000..2504 differ"),
        "{err}"
    );
    assert!(
        !err.contains("missing") && !err.contains("not signed") && !err.contains(":2000:"),
        "{err}"
    );
    let v = json_of(&run_fails(&mut verify_key(true, &model, &sig, &public), 1));
    let diff = &v["differences"];
    assert_eq!(
        diff["changed_files"],
        serde_json::json!([{"name": "big.bin", "signed_bytes": 2500, "bytes": 2504,
                            "ranges": [[2000, 2504]]}]),
        "{v}"
    );
    assert_eq!(diff["missing"], serde_json::json!([]), "{v}");
    assert_eq!(diff["extra"], serde_json::json!([]), "{v}");

    // Same size, two bytes changed in two shards: both ranges, merged where they touch.
    let mut edited = vec![7u8; 2500];
    edited[5] = 0;
    edited[1500] = 0;
    std::fs::write(model.join("big.bin"), &edited).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("big.bin (2500 B, same size): bytes 0..2000 differ"),
        "{err}"
    );
    assert!(!err.contains("content differs"), "{err}");

    // A file gone altogether is still missing, by shard.
    std::fs::remove_file(model.join("big.bin")).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("signed but missing from the model (3)") && !err.contains("changed ("),
        "{err}"
    );
}

// 2. A name signed in one Unicode normalisation form and found in another.

#[test]
fn a_name_in_another_unicode_form_is_named_as_such_and_still_fails() {
    let nfc = "caf\u{e9}.bin";
    let nfd = "cafe\u{301}.bin";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[(nfc, b"weights"), ("other", b"o")]);
    let sig = d.join("m.sig");
    run_ok(&mut sign_key(&model, &key, &sig));
    std::fs::rename(model.join(nfc), model.join(nfd)).unwrap();

    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{nfc} is signed in NFC form but the name in the model is NFD"
        )),
        "{err}"
    );
    assert!(
        !err.contains("missing") && !err.contains("not signed"),
        "{err}"
    );
    let v = json_of(&run_fails(&mut verify_key(true, &model, &sig, &public), 1));
    assert_eq!(
        v["differences"]["unicode_forms"],
        serde_json::json!([{"signed": nfc, "signed_form": "NFC", "found": nfd,
                            "found_form": "NFD"}]),
        "{v}"
    );

    // With shards too, each shard's name pairs the same way.
    std::fs::rename(model.join(nfd), model.join(nfc)).unwrap();
    run_ok(sign_key(&model, &key, &sig).args(["--shard-size", "4"]));
    std::fs::rename(model.join(nfc), model.join(nfd)).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("is signed in NFC form but the name in the model is NFD")
            && !err.contains("missing"),
        "{err}"
    );
}

// 3. `--from-manifest` says how much it signs, or nothing when the manifest cannot say.

/// `msign [--json] sign key --from-manifest MANIFEST MODEL ...`.
fn sign_from_manifest(
    json: bool,
    manifest: &Path,
    model: &Path,
    key: &Path,
    sig: &Path,
) -> Command {
    let mut c = msign();
    if json {
        c.arg("--json");
    }
    c.args(["sign", "key", "--from-manifest"])
        .arg(manifest)
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

#[test]
fn signing_a_manifest_reports_its_real_size_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[("big.bin", &[7u8; 2500]), ("small", b"s")]);
    let sig = d.join("m.sig");
    for (name, flags) in [
        ("files", &[][..]),
        ("shards", &["--shard-size", "1000"][..]),
    ] {
        let manifest = d.join(format!("{name}.json"));
        let out = run_ok(msign().args(["digest", "--json"]).args(flags).arg(&model));
        std::fs::write(&manifest, &out.stdout).unwrap();
        let out = run_ok(&mut sign_from_manifest(
            false, &manifest, &model, &key, &sig,
        ));
        let text = stdout(&out);
        assert!(
            text.contains("2 file(s) (2.44 KiB)") && !text.contains("0 B"),
            "{name}: {text}"
        );
        let v = json_of(&run_ok(&mut sign_from_manifest(
            true, &manifest, &model, &key, &sig,
        )));
        assert_eq!(v["bytes"], 2501, "{name}: {v}");
        run_ok(&mut verify_key(false, &model, &sig, &public));

        // Merged: shards still tell the size; a file manifest no longer does, and the
        // report says nothing rather than 0 B.
        let merged = d.join(format!("{name}-merged.json"));
        let out = run_ok(msign().args(["manifest", "merge"]).arg(&manifest));
        std::fs::write(&merged, &out.stdout).unwrap();
        let out = run_ok(&mut sign_from_manifest(false, &merged, &model, &key, &sig));
        let text = stdout(&out);
        let v = json_of(&run_ok(&mut sign_from_manifest(
            true, &merged, &model, &key, &sig,
        )));
        if name == "shards" {
            assert!(text.contains("2 file(s) (2.44 KiB)"), "{name}: {text}");
            assert_eq!(v["bytes"], 2501, "{name}: {v}");
        } else {
            assert!(text.contains("2 file(s) of 'model'"), "{name}: {text}");
            assert!(v.get("bytes").is_none(), "{name}: {v}");
        }
    }
}

// 4. Help says what is true.

/// The `--help` pages as docs/cli.md holds them (`tests/docs.rs` keeps it in step), one
/// `(command, text)` per command.
fn help_pages() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docs/cli.md")).unwrap();
    text.split("\n### `")
        .skip(1)
        .map(|sec| {
            let name = sec.split('`').next().unwrap().to_string();
            let body = sec.split("```text").nth(1).unwrap_or("");
            (name, body.split("```").next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn help_says_what_is_required_and_defaults_nothing_empty() {
    let pages = help_pages();
    assert!(pages.len() > 40, "{} pages", pages.len());
    for (name, text) in &pages {
        let usage = text.lines().find(|l| l.starts_with("Usage:")).unwrap_or("");
        // MODEL_PATH can be left out only with --git-rev, and the usage line says so.
        assert!(!usage.contains("[MODEL_PATH]"), "{name}: {usage}");
        assert!(!text.contains("[default: \"\"]"), "{name}");
        // A flag a page names is one the command has, unless the line names another
        // command (`msign sign key ... --private-key`) or model_signing's spelling.
        let lines: Vec<&str> = text.lines().collect();
        let defined: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| {
                w.trim_end_matches(|c: char| !c.is_alphanumeric())
                    .to_string()
            })
            .filter(|w| {
                lines.iter().any(|l| {
                    let t = l.trim_start();
                    t.starts_with(&format!("{w} "))
                        || t == w
                        || t.contains(&format!(", {w} "))
                        || t.contains(&format!(", {w}\n"))
                        || l.contains(&format!("alias: {w}"))
                        || l.contains(&format!("aliases: {w}"))
                        || (t.starts_with("-") && t.ends_with(&format!(" {w}")))
                })
            })
            .collect();
        for (i, l) in lines.iter().enumerate() {
            let context = format!("{} {l}", if i > 0 { lines[i - 1] } else { "" });
            if context.contains("msign ") || context.contains("model_signing") {
                continue;
            }
            for w in l.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
                if w.starts_with("--") && w.len() > 2 {
                    assert!(
                        defined.iter().any(|d| d == w),
                        "{name}: names {w}, which it does not take: {l}"
                    );
                }
            }
        }
    }
}

#[test]
fn model_path_is_required_without_git_rev_and_says_so() {
    let out = run_fails(msign().args(["digest"]).stdin(Stdio::null()), 2);
    assert!(
        stderr(&out).contains("<MODEL_PATH|--git-rev <REV>>"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_bundle_takes_use_staging_as_its_help_says() {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&run_ok(msign().args([
        "sigstore",
        "verify-bundle",
        "--help",
    ])));
    assert!(help.contains("--use-staging"), "{help}");
    // Accepted: the failure is about the bundle, not the flag.
    let out = run_fails(
        msign()
            .args(["sigstore", "verify-bundle", "--use-staging", "--bundle"])
            .arg(dir.path().join("none.json"))
            .args(["--key"])
            .arg(dir.path().join("none.pub"))
            .arg("sha256:00"),
        3,
    );
    assert!(
        !stderr(&out).contains("unexpected argument"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_bundle_without_a_signer_says_which_flags_name_one() {
    let out = run_fails(
        msign().args([
            "sigstore",
            "verify-bundle",
            "--bundle",
            "none.json",
            "sha256:00",
        ]),
        2,
    );
    assert!(
        stderr(&out)
            .contains("give --key, or --certificate-identity with --certificate-oidc-issuer"),
        "{}",
        stderr(&out)
    );
}

/// A file written atomically into a folder that does not exist names the folder and says
/// to create it, not the random temporary file that could not be made there.
#[test]
fn writing_into_a_missing_folder_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = sample_model(d);
    let part = d.join("part.json");
    let out = run_ok(msign().arg("digest").arg(&model).arg("--json"));
    std::fs::write(&part, &out.stdout).unwrap();
    let missing = d.join("no/such");
    let merge = |to: &Path| {
        let mut c = msign();
        c.args(["manifest", "merge", "-o"]).arg(to).arg(&part);
        c
    };
    let mut keygen = msign();
    keygen
        .args(["generate-key", "--output-prefix"])
        .arg(missing.join("k"));
    for mut c in [merge(&missing.join("x.json")), keygen] {
        let err = stderr(&run_fails(&mut c, 3));
        assert!(
            err.contains(&format!(
                "{}: the folder does not exist; create it",
                missing.display()
            )),
            "{err}"
        );
        assert!(!err.contains(".msign-"), "{err}");
    }
    let err = stderr(&run_fails(&mut merge(&part.join("x.json")), 3));
    assert!(
        err.contains(&format!("{}: not a folder", part.display())),
        "{err}"
    );
    assert!(!err.contains(".msign-"), "{err}");

    let out = run_fails(merge(&missing.join("x.json")).arg("--json"), 3);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "io", "{v}");
    assert_eq!(v["error"]["path"], missing.display().to_string(), "{v}");
    assert!(!missing.exists());
}

/// A git repository in `d` with `sub/a.bin` and `top.txt` committed; git's identity and
/// configuration come from the environment `git_env` sets.
fn git_repo(d: &Path) -> PathBuf {
    let repo = d.join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(repo.join("sub/a.bin"), b"weights").unwrap();
    std::fs::write(repo.join("top.txt"), b"top").unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &["commit", "-qm", "model"],
    ] {
        run_ok(git_env(
            Command::new("git").current_dir(&repo).args(args),
            d,
        ));
    }
    repo
}

fn git_env<'a>(c: &'a mut Command, d: &Path) -> &'a mut Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_msign")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.env("GIT_CONFIG_GLOBAL", d.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", d)
        .env("PATH", path)
        .env("GIT_AUTHOR_NAME", "Signer")
        .env("GIT_AUTHOR_EMAIL", "signer@example.com")
        .env("GIT_COMMITTER_NAME", "Signer")
        .env("GIT_COMMITTER_EMAIL", "signer@example.com")
        .stdin(Stdio::null())
}

#[test]
fn git_path_and_path_are_one_flag_in_both_front_ends() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = git_repo(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    let digest = |flag: &str| {
        stdout(&run_ok(
            msign()
                .args(["digest", "--git-rev", "HEAD", "-C"])
                .arg(&repo)
                .args([flag, "sub"]),
        ))
    };
    assert_eq!(digest("--git-path"), digest("--path"));
    // git model-sign: sign with one spelling, verify with the other.
    let gms = |args: &[&str]| {
        let mut c = Command::new("git");
        git_env(&mut c, d)
            .current_dir(&repo)
            .arg("model-sign")
            .args(args);
        c
    };
    run_ok(
        gms(&[
            "sign",
            "key",
            "--git-path",
            "sub",
            "--store",
            "notes",
            "--private-key",
        ])
        .arg(&key),
    );
    let out = run_ok(gms(&["verify", "key", "--path", "sub", "--public-key"]).arg(&public));
    assert!(stdout(&out).contains(":sub"), "{}", stdout(&out));
    let help = stdout(&run_ok(&mut gms(&["sign", "key", "--help"])));
    assert!(
        help.contains("--git-path <SUBDIR>") && help.contains("[alias: --path]"),
        "{help}"
    );
}

// 7. A missing signature is exit 3 whatever the source (OCI: tests/oci.rs).

#[test]
fn a_missing_signature_is_exit_3_for_a_file_the_hub_and_git() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, _, public) = model_with(d, &[("a.bin", b"weights")]);

    // A file.
    let out = run_fails(
        &mut verify_key(false, &model, &d.join("none.sig"), &public),
        3,
    );
    assert!(stderr(&out).contains("no signature at"), "{}", stderr(&out));

    // The Hub: a repository without model.sig.
    let hub = fakehub::FakeHub::start();
    hub.publish(
        "acme/unsigned",
        "main",
        BTreeMap::new(),
        &[("a.bin", b"weights")],
    );
    let out = run_fails(
        msign()
            .env("HF_ENDPOINT", &hub.endpoint)
            .env("HF_HOME", d.join("hf"))
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_HUB_CACHE")
            .args(["hub", "verify", "acme/unsigned", "--public-key"])
            .arg(&public)
            .stdin(Stdio::null()),
        3,
    );
    assert!(
        stderr(&out).contains("has no signature"),
        "{}",
        stderr(&out)
    );

    // Git: nothing in the tree, no note, nothing in the work tree; both front ends.
    let repo = git_repo(d);
    let mut gms = Command::new("git");
    git_env(&mut gms, d)
        .current_dir(&repo)
        .args(["model-sign", "verify", "key", "--public-key"])
        .arg(&public);
    let out = run_fails(&mut gms, 3);
    assert!(
        stderr(&out).contains("no signature for"),
        "{}",
        stderr(&out)
    );
    let out = run_fails(
        git_env(&mut msign(), d)
            .args(["verify", "key", "--git-rev", "HEAD", "-C"])
            .arg(&repo)
            .arg("--public-key")
            .arg(&public),
        3,
    );
    assert_no_panic(&out);
}

// 6. Completions for `git model-sign`, through git's own bash completion.

/// Runs `script` in bash after git's completion and msign's script for git-model-sign,
/// each `(words, index)` completed as `git <words>` at `index`; the candidates of each.
fn complete_in_bash(completion: &Path, cases: &[(&str, usize)]) -> Vec<String> {
    let git_completion = "/usr/share/bash-completion/completions/git";
    assert!(
        Path::new(git_completion).is_file(),
        "git's bash completion is part of Debian's git package"
    );
    let mut script = format!(
        "source {git_completion}; source '{}'\n",
        completion.display()
    );
    for (words, index) in cases {
        let list: Vec<String> = words.split(' ').map(|w| format!("'{w}'")).collect();
        let words: Vec<&str> = words.split(' ').collect();
        let line = words.join(" ");
        script.push_str(&format!(
            "COMP_WORDS=({}); COMP_CWORD={index}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
             __git_wrap__git_main git '{}' '{}'; echo \"${{COMPREPLY[*]}}\"\n",
            list.join(" "),
            words[*index],
            words[index - 1],
        ));
    }
    let out = run_ok(Command::new("bash").arg("-c").arg(script));
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn git_model_sign_completes_as_a_git_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("git-model-sign");
    let out = run_ok(msign().args(["completions", "bash", "--for", "git-model-sign"]));
    std::fs::write(&script, &out.stdout).unwrap();
    let text = stdout(&out);
    assert!(text.contains("_git_model_sign()"), "no git completion hook");
    assert!(
        text.contains("git-model-sign\n"),
        "not bound to git-model-sign"
    );
    let got = complete_in_bash(
        &script,
        &[
            ("git model-sign ", 2),
            ("git model-sign ve", 2),
            ("git -C . model-sign verify k", 5),
            ("git model-sign sign key --pr", 4),
        ],
    );
    let words = |i: usize| got[i].split(' ').collect::<Vec<_>>();
    for sub in ["sign", "verify", "hook"] {
        assert!(words(0).contains(&sub), "{got:?}");
    }
    assert_eq!(words(1), ["verify"], "{got:?}");
    assert_eq!(words(2), ["key"], "{got:?}");
    assert_eq!(words(3), ["--private-key"], "{got:?}");

    // zsh: git's zsh completion calls `_git-model-sign` for `git model-sign`.
    let out = run_ok(msign().args(["completions", "zsh", "--for", "git-model-sign"]));
    let text = stdout(&out);
    assert!(
        text.starts_with("#compdef git-model-sign") && text.contains("_git-model-sign()"),
        "{}",
        &text[..200.min(text.len())]
    );
}

#[test]
fn completions_to_a_closed_pipe_do_not_panic() {
    let mut child = msign()
        .args(["completions", "bash"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the script is written (as `| head -1` does).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_no_panic(&out);
}

// 5. Links out of the model, into one named folder only.

/// A Hugging Face cache for `acme/bert` (`blobs/` + `snapshots/REV/` links) and a folder
/// `bert` of links to the snapshot's files, as older `huggingface_hub --local-dir` made:
/// (the folder, the cache's `blobs/`, the blobs' contents by file name).
fn hf_local_dir_of_links(d: &Path) -> (PathBuf, PathBuf, Vec<(&'static str, Vec<u8>)>) {
    use std::os::unix::fs::symlink;
    let repo = d.join("hf/hub/models--acme--bert");
    let blobs = repo.join("blobs");
    let snapshot = repo.join("snapshots/0123456789abcdef0123456789abcdef01234567");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    let local = d.join("bert");
    std::fs::create_dir(&local).unwrap();
    let files = vec![
        ("config.json", b"{\"hidden\": 768}".to_vec()),
        ("model.safetensors", vec![3u8; 5000]),
    ];
    for (name, content) in &files {
        let blob = hex_sha256(content);
        std::fs::write(blobs.join(&blob), content).unwrap();
        symlink(format!("../../blobs/{blob}"), snapshot.join(name)).unwrap();
        symlink(snapshot.join(name), local.join(name)).unwrap();
    }
    (local, blobs, files)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn links_into_a_named_folder_outside_the_model_need_an_explicit_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = &dir.path().canonicalize().unwrap();
    let (local, blobs, files) = hf_local_dir_of_links(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    let sig = d.join("bert.sig");
    let outside = ["--allow-symlinks-outside", blobs.to_str().unwrap()];

    // Refused by default, even with --allow-symlinks: the links leave the model.
    for flags in [&[][..], &["--allow-symlinks"][..]] {
        let out = run_fails(sign_key(&local, &key, &sig).args(flags), 3);
        let err = stderr(&out);
        assert!(
            err.contains("outside the model") && err.contains("--allow-symlinks-outside"),
            "{flags:?}: {err}"
        );
        assert!(!sig.exists());
    }

    // With the folder named: signed, the targets' content hashed.
    run_ok(sign_key(&local, &key, &sig).args(outside));
    let statement = statement_of(&sig);
    let digests: BTreeMap<String, String> = statement["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statement["predicate"]["serialization"]["allow_symlinks"],
        true
    );
    for (name, content) in &files {
        assert_eq!(
            digests.get(*name).map(String::as_str),
            Some(hex_sha256(content).as_str()),
            "{name}: {digests:?}"
        );
    }
    run_ok(verify_key(false, &local, &sig, &public).args(outside));
    // The reference follows links wherever they go when told --allow_symlinks: it verifies
    // the same signature.
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&local)
            .arg("--signature")
            .arg(&sig)
            .arg("--public_key")
            .arg(&public)
            .arg("--allow_symlinks"),
    );
    // Verifying needs the same opt-in.
    let out = run_fails(&mut verify_key(false, &local, &sig, &public), 3);
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );

    // A link leaving to anywhere else is refused even with the flag.
    std::fs::write(d.join("secret.txt"), b"not a model file").unwrap();
    std::os::unix::fs::symlink(d.join("secret.txt"), local.join("extra.txt")).unwrap();
    let out = run_fails(
        sign_key(&local, &key, &d.join("other.sig")).args(outside),
        3,
    );
    let err = stderr(&out);
    assert!(
        err.contains("extra.txt") && err.contains("outside the model"),
        "{err}"
    );
    let out = run_fails(verify_key(false, &local, &sig, &public).args(outside), 3);
    assert!(stderr(&out).contains("extra.txt"), "{}", stderr(&out));
}
