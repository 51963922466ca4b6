//! Per format: what a value may hold ([`check`]) and the text ([`write`]).
//!
//! Docker's `--env-file` (docker/cli `pkg/kvfile`, checked through the real CLI by `scripts/env-parsers/run.sh`):
//! the file is read line by line (Go `bufio.ScanLines`: a line ends at LF, and one CR right before it or before the
//! end of the file is dropped); a line whose first non-space character is `#` is a comment; otherwise the name runs
//! to the first `=` and the value is the rest of the line, "passed through, no trimming" — no quotes, escapes or
//! expansion. So a value may hold anything but a line feed, a NUL, or a CR at its end; leading and trailing spaces
//! and `#`, quotes and `$` are kept exactly.
//!
//! `vercel env add NAME ENVIRONMENT` (vercel/vercel `packages/cli`): the value comes from standard input when it is
//! not a terminal — only the first chunk read (`readStandardInput`), and one trailing LF or CRLF is dropped from a
//! value with no other line break (`normalizeStdinEnvValue`); an empty input makes it prompt. `--force` replaces a
//! variable that is already there.
//!
//! `gh secret set NAME` (cli/cli `pkg/cmd/secret/set`): without `--body` and with standard input not a terminal,
//! the value is all of standard input with trailing CR and LF characters trimmed (`bytes.TrimRight(body, "\r\n")`).
//! GitHub refuses secret names that start with `GITHUB_`. An unset secret reads as an empty string in a workflow.
//!
//! Both scripts pass each value as `printf '%s' 'value' | tool …`: `printf` is a builtin in bash, dash and zsh, so the
//! value is in no process's arguments (`ps`), and run as a file the script leaves nothing in the shell's history.

use super::quote::{dotenv_check, dotenv_quote, has_any, shell_quote};
use super::{Check, Comment, EnvFormat, Hazard, Reader};

/// The longest value the Vercel script passes: a pipe delivers up to `PIPE_BUF` (4096) bytes in one write, and
/// `vercel env add` keeps only the first chunk it reads.
pub(crate) const VERCEL_MAX: usize = 4096;

/// What `vercel env add` keeps of a value written to its standard input.
pub(crate) fn vercel_reads(value: &str) -> &str {
    for end in ["\r\n", "\n"] {
        if let Some(rest) = value.strip_suffix(end) {
            return if has_any(rest, b"\n\r") { value } else { rest };
        }
    }
    value
}

/// The refusals for `value` in `format`, and the notices when `notices` is set.
pub(crate) fn check(format: EnvFormat, name: &str, value: &str, notices: bool) -> Check {
    let mut check = Check {
        notices,
        ..Check::default()
    };
    if format != EnvFormat::Json && has_any(value, b"\0") {
        check.refuse.push(Hazard::Nul);
        return check;
    }
    match format {
        EnvFormat::Json | EnvFormat::Shell => {}
        EnvFormat::Dotenv => dotenv_check(value, &mut check),
        EnvFormat::Docker => {
            if has_any(value, b"\n") {
                check.refuse.push(Hazard::LineBreak);
            }
            if value.ends_with('\r') {
                check.refuse.push(Hazard::CarriageReturn);
            }
        }
        EnvFormat::Vercel => {
            if value.is_empty() {
                check.note(Hazard::Empty, &[Reader::Vercel]);
            } else if vercel_reads(value) != value {
                check.refuse.push(Hazard::TrailingLineBreak);
            } else if value.len() > VERCEL_MAX {
                check.refuse.push(Hazard::TooLong);
            }
        }
        EnvFormat::GitHub => {
            if name.to_ascii_uppercase().starts_with("GITHUB_") {
                check.refuse.push(Hazard::ReservedName);
            }
            if value.is_empty() {
                check.note(Hazard::Empty, &[Reader::Gh]);
            } else if value.ends_with('\r') || value.ends_with('\n') {
                check.refuse.push(Hazard::TrailingLineBreak);
            }
        }
    }
    check
}

/// A JSON object whose keys keep the order of the pairs (a `serde_json::Map` would sort them).
struct InOrder<'a>(&'a [(String, &'a str)]);

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn comment_lines(out: &mut String, comments: &[Comment]) {
    for c in comments {
        out.push_str("# ");
        out.push_str(c.as_str());
        out.push('\n');
    }
}

const VERCEL_HEAD: &str = "#!/bin/sh
# Adds these variables to your Vercel project with `vercel env add` (Vercel CLI, logged in). In the project's
# folder, linked with `vercel link`, run:   sh vercel-env.sh [production|preview|development] [git-branch]
# (production when not given). Run it as a file and delete it afterwards: it holds your secrets, and pasted into
# a terminal the values would land in your shell history. Each value reaches `vercel env add` on standard input,
# never as an argument (arguments show in `ps`); --force replaces a variable that is already there.
set -eu
target=${1:-production}
branch=${2:-}
case $target in
  production | preview | development) ;;
  *) echo \"usage: sh $0 [production|preview|development] [git-branch]\" >&2; exit 2 ;;
esac
";

const GH_HEAD: &str = "#!/bin/sh
# Stores these variables as GitHub Actions secrets with `gh secret set` (GitHub CLI, logged in). In a clone of the
# repository run:   sh gh-secrets.sh [gh secret set options, e.g. --repo OWNER/NAME or --env ENVIRONMENT]
# Run it as a file and delete it afterwards: it holds your secrets, and pasted into a terminal the values would
# land in your shell history. Each value reaches `gh secret set` on standard input, never as an argument
# (arguments show in `ps`); a secret that is already there is replaced.
set -eu
";

pub(crate) fn write(format: EnvFormat, comments: &[Comment], pairs: &[(String, &str)]) -> String {
    let mut out = String::new();
    match format {
        EnvFormat::Json => {
            return serde_json::to_string_pretty(&InOrder(pairs)).unwrap_or_default() + "\n";
        }
        EnvFormat::Dotenv | EnvFormat::Shell | EnvFormat::Docker => {
            comment_lines(&mut out, comments);
            for (name, value) in pairs {
                let line = match format {
                    EnvFormat::Dotenv => format!("{name}={}\n", dotenv_quote(value)),
                    EnvFormat::Shell => format!("export {name}={}\n", shell_quote(value)),
                    _ => format!("{name}={value}\n"),
                };
                out.push_str(&line);
            }
        }
        EnvFormat::Vercel | EnvFormat::GitHub => {
            let vercel = format == EnvFormat::Vercel;
            out.push_str(if vercel { VERCEL_HEAD } else { GH_HEAD });
            comment_lines(&mut out, comments);
            let mut set = 0;
            for (name, value) in pairs {
                if value.is_empty() {
                    let why = if vercel {
                        "vercel env add takes no empty value; unset, it reads as undefined"
                    } else {
                        "an unset secret reads as an empty string in a workflow"
                    };
                    out.push_str(&format!("# {name} is empty, so it is not set: {why}\n"));
                    continue;
                }
                set += 1;
                let value = shell_quote(value);
                if vercel {
                    out.push_str(&format!(
                        "printf '%s' {value} | vercel env add {name} \"$target\" ${{branch:+\"$branch\"}} --force\n"
                    ));
                } else {
                    out.push_str(&format!(
                        "printf '%s' {value} | gh secret set {name} \"$@\"\n"
                    ));
                }
            }
            let done = if vercel {
                format!("echo \"Done: {set} variables added to $target. Delete this file now: it holds your secrets.\" >&2\n")
            } else {
                format!("echo \"Done: {set} secrets set. Delete this file now: it holds your secrets.\" >&2\n")
            };
            out.push_str(&done);
        }
    }
    out
}
