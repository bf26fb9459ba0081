//! The method word of `sign`/`verify` may be left out: the flags imply it, as `git
//! model-sign` infers it (`sign --private-key K` is `sign key`), and without any,
//! `msign sign MODEL` means Sigstore, as `model_signing sign MODEL` does.

use std::ffi::OsString;

/// The flags after `sign`/`verify`, asked whether one of them is given.
struct Flags<'a>(&'a [OsString]);

impl Flags<'_> {
    fn has(&self, names: &[&str]) -> bool {
        self.0.iter().any(|a| {
            let a = a.to_str().unwrap_or("");
            let flag = a.split_once('=').map_or(a, |(f, _)| f);
            names.contains(&flag)
        })
    }
}

/// Inserts the method `imply` chooses after the first of `words` when that is `sign` or
/// `verify` and no method of `known` follows (a word after `hook install --mode` is a
/// value, not the subcommand).
fn insert_method(
    mut args: Vec<OsString>,
    words: &[&str],
    known: &[&str],
    imply: fn(bool, &Flags) -> &'static str,
) -> Vec<OsString> {
    let is = |a: &OsString, names: &[&str]| names.contains(&a.to_str().unwrap_or(""));
    let Some(i) = args
        .iter()
        .position(|a| is(a, words))
        .filter(|&i| is(&args[i], &["sign", "verify"]))
    else {
        return args;
    };
    let next = args.get(i + 1).and_then(|a| a.to_str()).unwrap_or("");
    if known.contains(&next) || matches!(next, "-h" | "--help" | "help" | "") {
        return args;
    }
    let method = imply(args[i] == "sign", &Flags(&args[i + 1..]));
    args.insert(i + 1, OsString::from(method));
    args
}

/// `msign`: a PKCS #11 URI, a signing certificate, a private key; a public key, a
/// certificate chain; otherwise Sigstore, the reference's default.
pub fn msign(args: Vec<OsString>) -> Vec<OsString> {
    let words = [
        "sign",
        "verify",
        "digest",
        "hook",
        "hub",
        "manifest",
        "sigstore",
        "help",
        "generate-key",
        "completions",
        "man",
    ];
    let methods = [
        "sigstore",
        "key",
        "certificate",
        "pkcs11-key",
        "pkcs11-certificate",
    ];
    insert_method(args, &words, &methods, |sign, f| {
        let sigstore = f.has(&["--identity", "--identity-provider", "--identity_provider"]);
        let certificate = f.has(&["--signing-certificate", "--signing_certificate"]);
        if !sign {
            if f.has(&["--public-key", "--public_key"]) {
                "key"
            } else if f.has(&["--certificate-chain", "--certificate_chain"]) && !sigstore {
                "certificate"
            } else {
                "sigstore"
            }
        } else if f.has(&["--pkcs11-uri", "--pkcs11_uri"]) {
            if certificate {
                "pkcs11-certificate"
            } else {
                "pkcs11-key"
            }
        } else if certificate {
            "certificate"
        } else if f.has(&["--private-key", "--private_key"]) {
            "key"
        } else {
            "sigstore"
        }
    })
}

/// `git model-sign`: a certificate method when the certificate flags say so, else a key.
pub fn git(args: Vec<OsString>) -> Vec<OsString> {
    let words = ["sign", "verify", "hook", "help"];
    insert_method(args, &words, &["key", "certificate"], |sign, f| {
        let certificate = if sign {
            f.has(&["--signing-certificate", "--signing_certificate"])
        } else {
            f.has(&["--certificate-chain", "--certificate_chain"])
                && !f.has(&["--public-key", "--public_key"])
        };
        if certificate {
            "certificate"
        } else {
            "key"
        }
    })
}
