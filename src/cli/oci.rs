//! `msign oci sign|verify METHOD REFERENCE`: models stored as OCI artifacts, signed from
//! their manifests; the work is in [`crate::oci`].

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use crate::cli::oci_sign::{self, OciSignMethod};
use crate::cli::oci_verify::{self, OciVerifyMethod};
use crate::cli::render::conclude;
use crate::cli::Ctx;

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

/// Runs an `oci` subcommand.
pub fn run(ctx: &Ctx, cmd: OciCommand) -> ExitCode {
    match cmd {
        OciCommand::Sign(m) => {
            let r = &m.parts().0.target.reference;
            let extra = json!({"model": r, "reference": r});
            conclude(ctx, oci_sign::sign(ctx, &m), extra)
        }
        OciCommand::Verify(m) => {
            let r = &m.common().target.reference;
            let extra = json!({"model": r, "reference": r});
            conclude(ctx, oci_verify::verify(ctx, &m), extra)
        }
    }
}
