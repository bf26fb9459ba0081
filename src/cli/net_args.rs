//! `--timeout`, on every command that talks to the network.

use std::time::Duration;

use clap::Args;

/// How long to wait for a server.
#[derive(Debug, Clone, Default, Args)]
pub struct NetArgs {
    /// Give up on a server that does not connect or answer within SECONDS (each attempt;
    /// failed requests are retried 3 times with backoff). Default: 10 s to connect; reads
    /// wait HF_HUB_ETAG_TIMEOUT (metadata) or HF_HUB_DOWNLOAD_TIMEOUT (files) on the Hub,
    /// 10 s each by default, and 60 s elsewhere.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0 and 86400 (e.g. 30 or 2.5)"
        )),
    }
}

/// Applies the `--timeout` of the command `matches` parsed (at any depth of subcommands)
/// before anything reaches the network.
pub fn apply(matches: &clap::ArgMatches) {
    let mut m = matches;
    loop {
        if let Ok(Some(t)) = m.try_get_one::<Duration>("timeout") {
            crate::net::set_timeout(*t);
            return;
        }
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => return,
        }
    }
}
