//! Rendering in one place: a command's result as JSON on stdout with `--json`, its error
//! as text (with a hint) on stderr or as JSON, and the pieces of text reports several
//! commands share.

use std::ffi::OsString;
use std::process::ExitCode;

use serde_json::json;

use crate::cli::{Ctx, EXIT_USAGE};
use crate::error::Error;

/// Ends a command: its JSON result on stdout with `--json` (text was printed already), or
/// its error reported with `extra` context.
pub fn conclude(
    ctx: &Ctx,
    result: crate::Result<serde_json::Value>,
    extra: serde_json::Value,
) -> ExitCode {
    conclude_hinted(ctx, result, extra, Error::hint)
}

/// [`conclude`] for a command whose hints differ from the common ones (they may name
/// only flags the command has).
pub fn conclude_hinted(
    ctx: &Ctx,
    result: crate::Result<serde_json::Value>,
    extra: serde_json::Value,
    hint: impl Fn(&Error) -> Option<&'static str>,
) -> ExitCode {
    match result {
        Ok(v) => {
            if ctx.json {
                println!("{v}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_error_hinted(ctx, &e, extra, hint(&e)),
    }
}

/// A library report as the command's JSON result.
pub fn report_json(report: &impl serde::Serialize) -> crate::Result<serde_json::Value> {
    serde_json::to_value(report).map_err(|e| Error::Other(format!("rendering the report: {e}")))
}

/// A library report as the command's result: its text summary on stdout unless `--json`
/// or `--quiet`, and its JSON form for [`conclude`].
pub fn report(
    ctx: &Ctx,
    r: &(impl std::fmt::Display + serde::Serialize),
) -> crate::Result<serde_json::Value> {
    if ctx.text() {
        println!("{r}");
    }
    report_json(r)
}

/// One report as it always was; the platforms of an OCI index as `platforms`.
pub fn each_json<T: serde::Serialize>(
    reports: &[T],
    status: &str,
) -> crate::Result<serde_json::Value> {
    match reports {
        [one] => report_json(one),
        all => Ok(json!({
            "status": status,
            "platforms": all.iter().map(report_json).collect::<crate::Result<Vec<_>>>()?,
        })),
    }
}

/// Reports an error the way the user asked (text on stderr or JSON on stdout).
pub fn report_error(ctx: &Ctx, e: &Error, extra: serde_json::Value) -> ExitCode {
    report_error_hinted(ctx, e, extra, e.hint())
}

fn report_error_hinted(
    ctx: &Ctx,
    e: &Error,
    extra: serde_json::Value,
    hint: Option<&str>,
) -> ExitCode {
    if ctx.json {
        let mut v = json!({
            "status": "error",
            "error": {"kind": e.kind(), "message": e.to_string(), "exit_code": e.exit_code()},
        });
        // What the error carries beyond its message, for scripts to act on.
        match e {
            Error::Io { path, .. }
            | Error::UnsupportedEntry { path, .. }
            | Error::ChangedWhileHashing { path } => v["error"]["path"] = json!(path),
            Error::ContentUnavailable { names, hint } => {
                v["error"]["names"] = json!(names);
                v["error"]["hint"] = json!(hint);
            }
            Error::KeyMaterial { what, .. } => v["error"]["what"] = json!(what),
            _ => {}
        }
        if let Some(hint) = e.hint() {
            v["error"]["hint"] = json!(hint);
        }
        if let Error::ModelMismatch(diff) = e {
            v["status"] = json!("failed");
            v["differences"] = serde_json::to_value(diff).unwrap_or_default();
        } else if e.is_verification_failure() {
            v["status"] = json!("failed");
        }
        if let (Some(obj), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in extra {
                obj.insert(k.clone(), val.clone());
            }
        }
        println!("{v}");
    } else {
        eprintln!("error: {e}");
        if let Some(hint) = hint {
            eprintln!("hint: {hint}");
        }
    }
    ExitCode::from(e.exit_code())
}

/// True when `--json` is among the options (before a `--`), so that a command line clap
/// refuses is still answered in JSON.
pub fn json_asked(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// Ends a command line clap refused, or answers `--help`/`--version` (their text is the
/// payload, JSON or not). A refusal is a usage error: with `--json`, the error object on
/// stdout as every other error; otherwise clap's text on stderr.
pub fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if json {
        let text = e.render().to_string();
        let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
        let v = json!({
            "status": "error",
            "error": {"kind": "usage", "message": message, "exit_code": EXIT_USAGE},
        });
        println!("{v}");
    } else {
        let _ = e.print();
    }
    ExitCode::from(EXIT_USAGE)
}

/// Shows on stderr every ignore rule signing applied, where it came from and what it left
/// out, so nothing is left out of a signature without a word.
pub fn ignore_rules(ctx: &Ctx, rules: &[crate::ignore::RuleUse]) {
    if ctx.quiet || rules.is_empty() {
        return;
    }
    eprintln!("ignore rules applied (recorded in the signature):");
    for r in rules {
        let left_out: Vec<&str> = r.left_out.iter().map(String::as_str).collect();
        let what = if left_out.is_empty() {
            "nothing left out".to_string()
        } else {
            format!(
                "left out {}: {}",
                left_out.len(),
                crate::ignore::shorten(&left_out)
            )
        };
        eprintln!("  {:<24} from {}: {what}", r.rule, r.origin);
    }
}

/// Prints each warning on stderr unless quiet.
pub fn warnings<'a>(ctx: &Ctx, warnings: impl IntoIterator<Item = &'a String>) {
    for w in warnings {
        ctx.warn(w);
    }
}
