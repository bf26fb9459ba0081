//! What the command line says about itself: the environment variables each command reads,
//! in its `--help` and man page (completions and man pages: [`crate::cli::man`]).

use clap::CommandFactory;

const CACHE: (&str, &str) = (
    "XDG_CACHE_HOME",
    "digest cache, Sigstore trust root: $XDG_CACHE_HOME/msign (~/.cache)",
);
const PASSWORD: (&str, &str) = ("MSIGN_KEY_PASSWORD", "password of an encrypted private key");
const SIGSTORE: [(&str, &str); 3] = [
    (
        "SIGSTORE_ID_TOKEN",
        "OIDC identity token for keyless signing",
    ),
    (
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "GitHub Actions: where to ask for an identity token",
    ),
    (
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GitHub Actions: the token for that request",
    ),
];
const HUB: [(&str, &str); 8] = [
    (
        "HF_ENDPOINT",
        "the Hub's address (default https://huggingface.co)",
    ),
    ("HF_TOKEN", "Hub access token"),
    (
        "HF_TOKEN_PATH",
        "file holding the token (default $HF_HOME/token)",
    ),
    (
        "HF_HOME",
        "Hugging Face home (default ~/.cache/huggingface)",
    ),
    ("HF_HUB_CACHE", "the Hub cache (default $HF_HOME/hub)"),
    ("HF_HUB_OFFLINE", "1: use the cache only, no network"),
    (
        "HF_HUB_ETAG_TIMEOUT",
        "seconds to wait for metadata (default 10; --timeout wins)",
    ),
    (
        "HF_HUB_DOWNLOAD_TIMEOUT",
        "seconds to wait for file data (default 10; --timeout wins)",
    ),
];
const PROXY: (&str, &str) = (
    "HTTPS_PROXY",
    "proxy for HTTPS requests (also HTTP_PROXY, ALL_PROXY, NO_PROXY)",
);
const DOCKER: (&str, &str) = (
    "DOCKER_CONFIG",
    "registry credentials: $DOCKER_CONFIG/config.json (default ~/.docker/config.json)",
);
const SSL: (&str, &str) = (
    "SSL_CERT_FILE",
    "roots used without --certificate-chain (also SSL_CERT_DIR)",
);

/// The environment variables a command reads, by its path below `msign`.
fn env_vars(path: &[&str]) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    match path {
        ["sign", method] | ["hub", "sign", method] => {
            v.push(CACHE);
            match *method {
                "key" | "certificate" => v.push(PASSWORD),
                "sigstore" => v.extend(SIGSTORE),
                _ => {}
            }
        }
        ["hub", "sign"] => v.extend([CACHE, PASSWORD].into_iter().chain(SIGSTORE)),
        ["verify", method] => {
            v.push(CACHE);
            if *method == "certificate" {
                v.push(SSL);
            }
        }
        ["digest"] | ["sigstore", _] => v.push(CACHE),
        ["hook", _] => v.push(PASSWORD),
        ["oci", action, method] => {
            v.push(DOCKER);
            match (*action, *method) {
                ("sign", "key" | "certificate") => v.push(PASSWORD),
                ("sign", "sigstore") => v.extend([CACHE].into_iter().chain(SIGSTORE)),
                ("verify", "certificate") => v.push(SSL),
                ("verify", "sigstore") => v.push(CACHE),
                _ => {}
            }
        }
        _ => {}
    }
    match path {
        // `verify --hub-cache` reads the cache, offline.
        ["verify", ..] => v.extend(
            HUB.into_iter()
                .filter(|(n, _)| n.starts_with("HF_H") && !n.ends_with("_TIMEOUT")),
        ),
        // The timeouts defer to --timeout, which only the subcommands take.
        ["hub"] => v.extend(HUB.into_iter().filter(|(n, _)| !n.ends_with("_TIMEOUT"))),
        ["hub", ..] => v.extend(HUB),
        _ => {}
    }
    // Commands that may reach a server (those with --timeout).
    if matches!(
        path,
        ["hub", ..] | ["oci", ..] | ["sigstore", _] | ["sign" | "verify", "sigstore"]
    ) {
        v.push(PROXY);
    }
    v
}

/// Appends an "Environment:" section to each command that reads variables.
fn with_env_help(mut cmd: clap::Command, path: &mut Vec<String>) -> clap::Command {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let vars = env_vars(&names);
    if !vars.is_empty() {
        let width = vars.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut text = String::from("Environment:");
        for (name, what) in vars {
            text.push_str(&format!("\n  {name:width$}  {what}"));
        }
        let before = cmd.get_after_help().map(|h| h.to_string());
        cmd = cmd.after_help(match before {
            Some(b) => format!("{b}\n\n{text}"),
            None => text,
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(&name, |sub| {
            path.push(name.clone());
            let sub = with_env_help(sub, path);
            path.pop();
            sub
        });
    }
    cmd
}

/// The `msign` command as `--help`, completions and man pages show it.
pub fn command() -> clap::Command {
    with_env_help(crate::cli::Cli::command(), &mut Vec::new())
}
