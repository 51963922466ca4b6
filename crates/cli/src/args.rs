//! The command line. Every option can also come from an environment variable; secrets never come from a flag (a
//! flag shows in `ps`): the client secret and the tokens are read from the env file or the environment only.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::fail::EXIT_CODES;

/// Keep Kommo/amoCRM tokens fresh in your own env file, from a terminal, a cron job or CI.
///
/// Reads the variables the Kommo OAuth helper page writes ({PREFIX}CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
/// ACCOUNT_HOST, ACCESS_TOKEN, REFRESH_TOKEN; the prefix is KOMMO_TEST_ unless --prefix says otherwise). A variable
/// missing from the file is taken from the environment, except the tokens, which only the file holds. Secrets are
/// never printed: tokens are shown masked (eyJ…x9Qw).
#[derive(Debug, Parser)]
#[command(name = "kommo-env", version, about, long_about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// The env file to read and update.
    #[arg(
        long,
        global = true,
        env = "KOMMO_ENV_FILE",
        default_value = ".env.local",
        value_name = "PATH"
    )]
    pub env_file: PathBuf,

    /// The variable-name prefix (empty for none).
    #[arg(long, global = true, env = "KOMMO_ENV_PREFIX", default_value = kommo::env::DEFAULT_PREFIX)]
    pub prefix: String,

    /// Send every account host's requests to this base URL instead of https://{account host} (tests, the demo's
    /// Kommo double); the account host travels in X-Forwarded-Host.
    #[arg(
        long,
        global = true,
        env = "KOMMO_ENV_UPSTREAM_BASE",
        value_name = "URL"
    )]
    pub upstream_base: Option<String>,

    /// How long one request to Kommo may take (e.g. 30s).
    #[arg(long, global = true, env = "KOMMO_ENV_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,

    /// The language of Kommo error explanations: en or ru (default: from LC_ALL / LANG).
    #[arg(long, global = true, env = "KOMMO_ENV_LANG", value_parser = ["en", "ru"])]
    pub lang: Option<String>,

    /// Print nothing on success (errors still go to stderr).
    #[arg(short, long, global = true, env = "KOMMO_ENV_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refresh the token pair and write the new one back into the file, in place.
    ///
    /// Posts grant_type=refresh_token to https://{account host}/oauth2/access_token and replaces only the values of
    /// ACCESS_TOKEN and REFRESH_TOKEN: every other line, comment and the file's permissions stay as they were. The
    /// file is replaced atomically (a temporary file beside it, flushed, renamed) under an exclusive lock on
    /// .{file}.kommo-env.lock beside it, so a second refresh waits and then finds the pair already renewed instead
    /// of spending the old refresh token.
    Refresh(RefreshArgs),
    /// Check that the access token works: account, users (or "needs an admin"), pipelines, and leads counted by
    /// paging to the end, paced under Kommo's 7 requests per second, backing off on 429. Exit 0 only if it passes.
    Check(CheckArgs),
    /// Exchange an authorization code obtained elsewhere (your app's own callback) and write or update the file.
    ///
    /// The code is single-use, valid for 20 minutes and useless without the client secret; give `--code -` to read
    /// it from standard input instead of the command line.
    Exchange(ExchangeArgs),
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Refresh only when the access token expires within this long (e.g. 2h, 90m, 1d); otherwise do nothing and
    /// exit 0. For cron: run it hourly with --if-expires-within 2h.
    #[arg(long, env = "KOMMO_ENV_IF_EXPIRES_WITHIN", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub if_expires_within: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the result as one JSON object (for CI logs).
    #[arg(long, env = "KOMMO_ENV_JSON")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// The authorization code from the redirect (`code=`), or `-` to read it from standard input.
    #[arg(
        long,
        env = "KOMMO_ENV_CODE",
        hide_env_values = true,
        value_name = "CODE"
    )]
    pub code: String,

    /// The account host from the redirect's `referer` (e.g. kwid.kommo.com). Default: the file's ACCOUNT_HOST.
    #[arg(long, env = "KOMMO_ENV_ACCOUNT", value_name = "HOST")]
    pub account: Option<String>,

    /// The integration id (default: {PREFIX}CLIENT_ID from the file, else from the environment); saved in the file.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// The Redirect URI saved in the integration (default: {PREFIX}REDIRECT_URI from the file, else from the
    /// environment); saved in the file.
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
}
