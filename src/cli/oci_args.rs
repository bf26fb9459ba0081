//! How `msign oci` reaches a manifest: the reference, the platform, plain HTTP and the
//! registry credentials (given on standard input, else from the Docker config).

use clap::Args;

use crate::error::Result;
use crate::oci::{auth, LayerOptions, OciOptions, RegistryOptions, Target};

/// The manifest and how to reach it.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:HEX, or a manifest JSON file.
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// For an image index: the platform whose manifest is meant (OS/ARCH[/VARIANT]);
    /// without it, `oci verify` checks every platform of the index.
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
    /// The parsed reference.
    pub fn target(&self) -> Result<Target> {
        Target::parse(&self.reference)
    }

    /// The options for `target`, `layers` completed by the flags.
    pub fn options(&self, target: &Target, layers: LayerOptions) -> Result<OciOptions> {
        let credentials =
            auth::for_target(target, self.username.as_deref(), &mut std::io::stdin())?;
        Ok(OciOptions {
            registry: RegistryOptions {
                plain_http: self.plain_http,
                credentials,
            },
            platform: self.platform.clone(),
            all_platforms: false,
            layers: LayerOptions {
                include_config: self.include_config,
                ..layers
            },
        })
    }
}
