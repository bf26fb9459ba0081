//! `msign oci sign|verify METHOD REFERENCE`: models stored as OCI artifacts, signed from
//! their manifests; the work is in [`crate::oci`].

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::HumanBytes;
use serde_json::json;

use crate::cli::args::{CertificateArgs, PrivateKeyArgs};
use crate::cli::pkcs11::Pkcs11Args;
use crate::cli::sigstore::{SigstoreTokenArgs, SigstoreTrustArgs};
use crate::cli::{conclude, report_json, Ctx};
use crate::error::{Error, Result};
use crate::oci::{auth, Credentials, LayerOptions, OciOptions, RegistryOptions, Target};
use crate::sign::Signer;
use crate::store::{FileStore, SignatureStore};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

/// `oci` subcommands.
#[derive(Debug, Subcommand)]
pub enum OciCommand {
    /// Sign a model stored in an OCI registry from its manifest (no layer is downloaded);
    /// write the signature to a file, attach it to the registry as a referrer, or both.
    #[command(subcommand)]
    Sign(OciSignMethod),
    /// Verify a model in an OCI registry from its manifest, against a signature file or
    /// the signatures attached to it.
    #[command(subcommand)]
    Verify(OciVerifyMethod),
}

/// The manifest and how to reach it.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:HEX, or a manifest JSON file.
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// For an image index: the platform whose manifest is meant (OS/ARCH[/VARIANT]).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Talk plain HTTP to a registry that is not on this machine (loopback always may).
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// Registry user name (the password is read from standard input with --password-stdin);
    /// without it, credentials come from the Docker config, else access is anonymous.
    #[arg(long, value_name = "NAME", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long = "password-stdin", requires = "username")]
    pub password_stdin: bool,
    /// Sign the config blob too, as the resource `config.json` (model-transparency-go's
    /// option; the pulled folder then lacks that file).
    #[arg(long = "include-config")]
    pub include_config: bool,
}

impl TargetArgs {
    fn target(&self) -> Result<Target> {
        Target::parse(&self.reference)
    }

    fn options(&self, target: &Target, layers: LayerOptions) -> Result<OciOptions> {
        let credentials = match (&self.username, target) {
            (Some(user), _) => {
                let mut password = String::new();
                std::io::stdin()
                    .take(64 << 10)
                    .read_to_string(&mut password)
                    .map_err(|e| Error::Usage(format!("--password-stdin: {e}")))?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                if password.is_empty() {
                    return Err(Error::Usage(
                        "--password-stdin: standard input holds no password".into(),
                    ));
                }
                Some(Credentials {
                    username: user.clone(),
                    password,
                })
            }
            (None, Target::Registry(r)) => match auth::docker_config_path() {
                Some(p) => auth::from_docker_config(&p, &r.registry)?,
                None => None,
            },
            (None, Target::File(_)) => None,
        };
        Ok(OciOptions {
            registry: RegistryOptions {
                plain_http: self.plain_http,
                credentials,
            },
            platform: self.platform.clone(),
            layers: LayerOptions {
                include_config: self.include_config,
                ..layers
            },
        })
    }
}

/// Options of every `oci sign` method.
#[derive(Debug, Args, Clone)]
pub struct OciSignCommon {
    #[command(flatten)]
    target: TargetArgs,
    /// Write the signature to this file.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    signature: Option<PathBuf>,
    /// Attach the signature to the registry as an OCI 1.1 referrer of the signed manifest
    /// (the referrers tag `sha256-<hex>` where the registry has no referrers API).
    #[arg(long)]
    attach: bool,
    /// Sign layers that a pull unpacks (folders pushed by ORAS, ModelPack tar layers) as
    /// one resource each, by the archive's digest, as model-transparency-go does: the
    /// registry then verifies, the pulled folder does not.
    #[arg(long = "allow-archives")]
    allow_archives: bool,
    /// Leave this layer (a name, or a folder of names) out of the signature. Repeatable.
    #[arg(long = "exclude-layer", value_name = "NAME")]
    exclude_layer: Vec<String>,
}

/// Signing methods of `oci sign`, as for `msign sign`.
#[derive(Debug, Subcommand)]
pub enum OciSignMethod {
    /// Sign with an EC private key.
    Key {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
    },
    /// Sign with a private key and its X.509 certificate chain.
    Certificate {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
        #[command(flatten)]
        cert: CertificateArgs,
    },
    /// Sign with an EC key held in a PKCS #11 token.
    #[command(name = "pkcs11-key")]
    Pkcs11Key {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        pkcs11: Pkcs11Args,
    },
    /// Sign with a PKCS #11 token key and its X.509 certificate chain.
    #[command(name = "pkcs11-certificate")]
    Pkcs11Certificate {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        pkcs11: Pkcs11Args,
        #[command(flatten)]
        cert: CertificateArgs,
    },
    /// Sign keyless with Sigstore.
    Sigstore {
        #[command(flatten)]
        common: OciSignCommon,
        #[command(flatten)]
        sigstore: SigstoreTokenArgs,
    },
}

impl OciSignMethod {
    fn common(&self) -> &OciSignCommon {
        match self {
            OciSignMethod::Key { common, .. }
            | OciSignMethod::Certificate { common, .. }
            | OciSignMethod::Pkcs11Key { common, .. }
            | OciSignMethod::Pkcs11Certificate { common, .. }
            | OciSignMethod::Sigstore { common, .. } => common,
        }
    }

    fn signer(&self) -> Result<Box<dyn Signer>> {
        match self {
            OciSignMethod::Key { key, .. } => key.signer(None),
            OciSignMethod::Certificate { key, cert, .. } => key.signer(Some(cert)),
            OciSignMethod::Pkcs11Key { pkcs11, .. } => Ok(Box::new(pkcs11.key_signer()?)),
            OciSignMethod::Pkcs11Certificate { pkcs11, cert, .. } => {
                Ok(Box::new(pkcs11.certificate_signer(cert)?))
            }
            OciSignMethod::Sigstore { sigstore, .. } => sigstore.signer(),
        }
    }
}

/// Options of every `oci verify` method.
#[derive(Debug, Args, Clone)]
pub struct OciVerifyCommon {
    #[command(flatten)]
    target: TargetArgs,
    /// Verify against this signature file instead of the signatures attached in the registry.
    #[arg(long, value_name = "SIGNATURE_PATH")]
    signature: Option<PathBuf>,
}

/// Verification methods of `oci verify`, as for `msign verify`.
#[derive(Debug, Subcommand)]
pub enum OciVerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: OciVerifyCommon,
        /// The public key (PEM) paired with the signing key.
        #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
        public_key: PathBuf,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: OciVerifyCommon,
        /// Trusted root certificate(s) (PEM, repeatable); the system's roots when absent.
        #[arg(
            long = "certificate-chain",
            alias = "certificate_chain",
            value_name = "CERTIFICATE_PATH"
        )]
        certificate_chain: Vec<PathBuf>,
        /// Refuse an expired signing certificate.
        #[arg(long = "reject-expired")]
        reject_expired: bool,
    },
    /// Verify a Sigstore signature against an identity and its OIDC issuer.
    Sigstore {
        #[command(flatten)]
        common: OciVerifyCommon,
        #[command(flatten)]
        signer: crate::cli::sigstore::SigstoreIdentityArgs,
        #[command(flatten)]
        trust: SigstoreTrustArgs,
    },
}

impl OciVerifyMethod {
    fn common(&self) -> &OciVerifyCommon {
        match self {
            OciVerifyMethod::Key { common, .. }
            | OciVerifyMethod::Certificate { common, .. }
            | OciVerifyMethod::Sigstore { common, .. } => common,
        }
    }

    fn config(&self) -> Result<VerifyingConfig> {
        Ok(match self {
            OciVerifyMethod::Key { public_key, .. } => {
                VerifyingConfig::new(Box::new(KeyVerifier::from_pem_file(public_key)?))
            }
            OciVerifyMethod::Certificate {
                certificate_chain,
                reject_expired,
                ..
            } => VerifyingConfig::new(Box::new(
                CertificateVerifier::from_root_files(certificate_chain)?
                    .reject_expired(*reject_expired),
            )),
            OciVerifyMethod::Sigstore { signer, trust, .. } => signer.verifying_config(trust)?,
        })
    }
}

/// Runs an `oci` subcommand.
pub fn run(ctx: &Ctx, cmd: OciCommand) -> ExitCode {
    match cmd {
        OciCommand::Sign(m) => {
            let extra = json!({"model": m.common().target.reference, "reference": m.common().target.reference});
            conclude(ctx, sign(ctx, &m), extra)
        }
        OciCommand::Verify(m) => {
            let extra = json!({"model": m.common().target.reference, "reference": m.common().target.reference});
            conclude(ctx, verify(ctx, &m), extra)
        }
    }
}

fn sign(ctx: &Ctx, method: &OciSignMethod) -> Result<serde_json::Value> {
    let c = method.common();
    let target = c.target.target()?;
    let options = c.target.options(
        &target,
        LayerOptions {
            allow_archives: c.allow_archives,
            exclude: c.exclude_layer.clone(),
            ..Default::default()
        },
    )?;
    let report = crate::oci::sign(
        &target,
        &options,
        method.signer()?,
        c.signature.as_deref(),
        c.attach,
    )?;
    if !ctx.json && !ctx.quiet {
        let mut to = Vec::new();
        if let Some(s) = &report.signature {
            to.push(s.clone());
        }
        if let Some(a) = &report.attached {
            to.push(format!(
                "attached as {} ({}{})",
                a.manifest,
                a.via,
                a.tag.as_ref().map(|t| format!(" {t}")).unwrap_or_default()
            ));
        }
        println!(
            "Signing succeeded: {} layer(s) ({}, none downloaded) of {} ({}) signed with {} -> {}",
            report.resources,
            HumanBytes(report.bytes),
            report.target,
            report.manifest_digest,
            report.method,
            to.join(", ")
        );
    }
    report_json(&report)
}

fn verify(ctx: &Ctx, method: &OciVerifyMethod) -> Result<serde_json::Value> {
    let c = method.common();
    let target = c.target.target()?;
    let options = c.target.options(&target, LayerOptions::default())?;
    let config = method.config()?;
    let sig = match &c.signature {
        Some(p) => Some((FileStore::new(p).load()?, p.display().to_string())),
        None => None,
    };
    let report = crate::oci::verify(
        &target,
        &options,
        &config,
        sig.as_ref().map(|(b, n)| (b.as_slice(), n.as_str())),
    )?;
    for w in &report.warnings {
        ctx.warn(w);
    }
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded: {} layer(s) of {} ({}) match the signature ({}) by {}",
            report.resources,
            report.target,
            report.manifest_digest,
            report.signature,
            report.signer
        );
    }
    report_json(&report)
}
