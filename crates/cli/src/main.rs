//! `kommo-env`: refresh, check and exchange Kommo/amoCRM tokens in your own env file. The protocol (token requests,
//! hints, JWT reading, the API check, paging, pacing, back-off, host validation, env names and quoting) is
//! `crates/kommo`'s, shared with the page; this crate is the IO around it.

mod args;
mod check;
mod exchange;
mod fail;
mod file;
mod net;
mod refresh;
mod tokens;
mod values;

use std::process::ExitCode;

use clap::Parser;
use kommo::Lang;

use crate::args::{Cli, Command};
use crate::fail::{Exit, Failure};
use crate::file::Target;
use crate::net::Upstream;

/// What every command works with.
pub struct Ctx {
    pub target: Target,
    pub prefix: String,
    pub upstream: Upstream,
    pub lang: Lang,
    pub quiet: bool,
}

impl Ctx {
    /// A variable's full name.
    pub fn var(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The file as the user named it.
    pub fn shown(&self) -> &str {
        &self.target.shown
    }

    /// A line of normal output (not with `--quiet`).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", line.as_ref());
        }
    }
}

fn lang(flag: Option<&str>) -> Lang {
    if let Some(l) = flag {
        return Lang::from_tag(l);
    }
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map(|v| Lang::from_tag(&v))
        .unwrap_or_default()
}

fn run(cli: Cli) -> Result<(), Failure> {
    let prefix = kommo::env::parse_prefix(&cli.prefix)
        .map_err(|e| Failure::bad(format!("--prefix {:?}: {e}", cli.prefix)))?;
    let ctx = Ctx {
        target: Target::resolve(&cli.env_file)?,
        prefix,
        upstream: Upstream::new(cli.upstream_base.as_deref(), cli.timeout)?,
        lang: lang(cli.lang.as_deref()),
        quiet: cli.quiet,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Trouble, format!("cannot start: {e}")))?;
    runtime.block_on(async {
        match &cli.command {
            Command::Refresh(a) => refresh::run(&ctx, a).await,
            Command::Check(a) => check::run(&ctx, a).await,
            Command::Exchange(a) => exchange::run(&ctx, a).await,
        }
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::BadInput as u8
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{f}");
            ExitCode::from(f.exit as u8)
        }
    }
}
