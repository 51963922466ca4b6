//! The env block: the result as a `.env` file, shell `export` lines, JSON, a Docker `--env-file`, a script of
//! `vercel env add` commands or a script of `gh secret set` commands — each written so that the tools it is meant for
//! read back exactly the values it was made from, and never a line or a variable more.
//!
//! [`render_block`] renders one format: the text and the [`Notice`]s to show beside it when some reader will still
//! read a value differently (a `$` that Next.js expands, say) — or a [`Refusal`] naming each variable the format
//! cannot carry (a line break in a Docker env file), so nothing is ever written wrong. Every rule here is checked
//! against the real parsers: `crates/kommo/tests/env_readback.rs` (dotenvy, serde_json, bash, sh) and
//! `scripts/env-parsers/run.sh` (python-dotenv, npm dotenv, dotenv-expand, @next/env, `node --env-file`, bash and sh,
//! the docker CLI's own env-file reader, and the vercel and gh command lines).

mod quote;
mod tools;
mod words;

use crate::hints::Lang;

pub use quote::{dotenv_quote, shell_quote, shell_quote_line};

/// The variables, in the old guide's order, with `ACCOUNT_HOST` (which the guide lacked) right after `DOMAIN`.
pub const NAMES: [&str; 8] = [
    "ENABLED",
    "DOMAIN",
    "ACCOUNT_HOST",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REDIRECT_URI",
    "ACCESS_TOKEN",
    "REFRESH_TOKEN",
];

/// The default prefix, as in the old guide.
pub const DEFAULT_PREFIX: &str = "KOMMO_TEST_";

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvFormat {
    /// A `.env` file for the dotenv family: Next.js, node, npm dotenv, python-dotenv, dotenvy, Docker Compose's
    /// `env_file:`, systemd — and `set -a; . .env.local` in a shell.
    Dotenv,
    /// `export NAME='value'` lines for a POSIX shell (bash, zsh, dash).
    Shell,
    /// A JSON object of strings, in [`NAMES`] order.
    Json,
    /// `docker run --env-file`: bare `NAME=value` lines, taken as written.
    Docker,
    /// A script of `vercel env add NAME ENVIRONMENT` commands, each value on standard input.
    Vercel,
    /// A script of `gh secret set NAME` commands (GitHub Actions secrets), each value on standard input.
    GitHub,
}

impl EnvFormat {
    pub const ALL: [EnvFormat; 6] = [
        EnvFormat::Dotenv,
        EnvFormat::Shell,
        EnvFormat::Json,
        EnvFormat::Docker,
        EnvFormat::Vercel,
        EnvFormat::GitHub,
    ];

    /// A stable lowercase name, for remembering the choice and for element ids.
    pub fn key(self) -> &'static str {
        match self {
            EnvFormat::Dotenv => "dotenv",
            EnvFormat::Shell => "shell",
            EnvFormat::Json => "json",
            EnvFormat::Docker => "docker",
            EnvFormat::Vercel => "vercel",
            EnvFormat::GitHub => "github",
        }
    }

    /// The format whose [`EnvFormat::key`] this is.
    pub fn from_key(key: &str) -> Option<EnvFormat> {
        EnvFormat::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The name shown on the picker (the same in every language).
    pub fn label(self) -> &'static str {
        match self {
            EnvFormat::Dotenv => ".env",
            EnvFormat::Shell => "shell export",
            EnvFormat::Json => "JSON",
            EnvFormat::Docker => "Docker --env-file",
            EnvFormat::Vercel => "Vercel",
            EnvFormat::GitHub => "GitHub Actions",
        }
    }

    /// The file name Download saves it as.
    pub fn file_name(self) -> &'static str {
        match self {
            EnvFormat::Dotenv => ".env.local",
            EnvFormat::Shell => "kommo-env.sh",
            EnvFormat::Json => "kommo-env.json",
            EnvFormat::Docker => "kommo.env",
            EnvFormat::Vercel => "vercel-env.sh",
            EnvFormat::GitHub => "gh-secrets.sh",
        }
    }

    /// The media type of the downloaded file.
    pub fn mime_type(self) -> &'static str {
        match self {
            EnvFormat::Json => "application/json",
            EnvFormat::Shell | EnvFormat::Vercel | EnvFormat::GitHub => "text/x-shellscript",
            EnvFormat::Dotenv | EnvFormat::Docker => "text/plain",
        }
    }

    /// One or two sentences on how to use the file, to show under the block.
    pub fn usage(self, lang: Lang) -> &'static str {
        words::usage(self, lang)
    }
}

/// One comment line of the block. Made only by [`Comment::new`], so it can never break a line: line breaks and
/// other control characters become spaces, and a trailing `\` (which systemd reads as "continued on the next line",
/// swallowing the variable after it) is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment(String);

impl Comment {
    pub fn new(text: impl AsRef<str>) -> Comment {
        let flat: String = text
            .as_ref()
            .chars()
            .map(|c| if quote::breaks_line(c) { ' ' } else { c })
            .collect();
        Comment(
            flat.trim_end_matches(|c: char| c == '\\' || c.is_whitespace())
                .to_string(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Comment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What goes into the block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvValues {
    /// The account subdomain (`kwid`), as the old guide had it. Not enough to build a URL: the base domain may be
    /// `kommo.com` or `amocrm.ru`.
    pub domain: String,
    /// The full account host as received in `referer` (`kwid.kommo.com`): what API and token URLs are built from.
    pub account_host: String,
    pub client_id: String,
    /// Empty when the proxy holds the secret.
    pub client_secret: String,
    pub redirect_uri: String,
    pub access_token: String,
    /// Empty for a long-lived token.
    pub refresh_token: String,
    /// Comment lines (account host, expiry, notes) above the variables; JSON has none.
    pub comments: Vec<Comment>,
}

impl EnvValues {
    /// The variables in [`NAMES`] order, each name with `prefix` in front.
    pub fn pairs(&self, prefix: &str) -> Vec<(String, &str)> {
        let values = [
            "1",
            &self.domain,
            &self.account_host,
            &self.client_id,
            &self.client_secret,
            &self.redirect_uri,
            &self.access_token,
            &self.refresh_token,
        ];
        NAMES
            .iter()
            .zip(values)
            .map(|(n, v)| (format!("{prefix}{n}"), v))
            .collect()
    }
}

/// Why a prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("the prefix may hold only A–Z, digits and _, and must not start with a digit")]
    Invalid,
}

/// A prefix: empty, or `[A-Z_][A-Z0-9_]*` (lowercase letters are upper-cased, surrounding space trimmed).
pub fn parse_prefix(input: &str) -> Result<String, PrefixError> {
    let p = input.trim().to_ascii_uppercase();
    let ok = p
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !p.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if ok {
        Ok(p)
    } else {
        Err(PrefixError::Invalid)
    }
}

/// A program that reads one of the formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reader {
    /// The Rust `dotenvy` crate.
    Dotenvy,
    PythonDotenv,
    /// npm `dotenv` (what `require('dotenv').config()` and most node apps use).
    NpmDotenv,
    /// npm `dotenv-expand` on top of dotenv.
    DotenvExpand,
    /// Next.js, through `@next/env`.
    NextEnv,
    /// `node --env-file`.
    NodeEnvFile,
    /// bash: `set -a; . FILE`, or sourcing the shell format.
    Bash,
    /// A POSIX sh (dash): `set -a; . FILE`, or sourcing the shell format.
    Sh,
    /// The docker CLI's `--env-file` reader.
    Docker,
    /// `vercel env add`, reading the value from standard input.
    Vercel,
    /// `gh secret set`, reading the value from standard input.
    Gh,
}

impl Reader {
    /// A stable name (what `scripts/env-parsers/check.py` calls it).
    pub fn key(self) -> &'static str {
        match self {
            Reader::Dotenvy => "dotenvy",
            Reader::PythonDotenv => "python-dotenv",
            Reader::NpmDotenv => "dotenv",
            Reader::DotenvExpand => "dotenv-expand",
            Reader::NextEnv => "next-env",
            Reader::NodeEnvFile => "node-env-file",
            Reader::Bash => "bash",
            Reader::Sh => "sh",
            Reader::Docker => "docker",
            Reader::Vercel => "vercel",
            Reader::Gh => "gh",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Reader::Dotenvy => "dotenvy",
            Reader::PythonDotenv => "python-dotenv",
            Reader::NpmDotenv => "dotenv (npm)",
            Reader::DotenvExpand => "dotenv-expand",
            Reader::NextEnv => "Next.js (@next/env)",
            Reader::NodeEnvFile => "node --env-file",
            Reader::Bash => "bash",
            Reader::Sh => "sh",
            Reader::Docker => "docker --env-file",
            Reader::Vercel => "vercel env add",
            Reader::Gh => "gh secret set",
        }
    }
}

/// A kind of value a format cannot carry exactly for some reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hazard {
    /// `$`: expanded as a variable reference by some dotenv readers.
    Dollar,
    /// `$(…)`: run as a command by dotenv-expand.
    Command,
    /// `\` in a value that must be double-quoted, written `\\`.
    Backslash,
    /// `\\` (two backslashes) in single quotes, which python-dotenv reads as one.
    BackslashPair,
    /// `"` in a value that must be double-quoted, written `\"`.
    DoubleQuote,
    /// `` ` `` in a value that must be double-quoted.
    Backtick,
    /// A line feed.
    LineBreak,
    /// A carriage return.
    CarriageReturn,
    /// A NUL character: no environment variable can hold one.
    Nul,
    /// A line break at the end, which the tool strips from standard input.
    TrailingLineBreak,
    /// Too long to pass on standard input in one piece.
    TooLong,
    /// An empty value, which the tool cannot set (the variable is left out).
    Empty,
    /// A name the tool does not allow.
    ReservedName,
}

impl Hazard {
    /// A stable snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            Hazard::Dollar => "dollar",
            Hazard::Command => "command",
            Hazard::Backslash => "backslash",
            Hazard::BackslashPair => "backslash_pair",
            Hazard::DoubleQuote => "double_quote",
            Hazard::Backtick => "backtick",
            Hazard::LineBreak => "line_break",
            Hazard::CarriageReturn => "carriage_return",
            Hazard::Nul => "nul",
            Hazard::TrailingLineBreak => "trailing_line_break",
            Hazard::TooLong => "too_long",
            Hazard::Empty => "empty",
            Hazard::ReservedName => "reserved_name",
        }
    }
}

/// Something to show beside a block: `readers` will read `variable` differently from the value it holds (or, for
/// [`Hazard::Empty`], not set it at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub variable: String,
    pub hazard: Hazard,
    pub readers: Vec<Reader>,
}

impl Notice {
    /// One sentence for the page.
    pub fn explain(&self, lang: Lang) -> String {
        words::notice(self, lang)
    }
}

/// One variable a format cannot carry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: String,
    pub hazard: Hazard,
}

/// A format that cannot carry these values: nothing is written, so nothing is written wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub format: EnvFormat,
    pub problems: Vec<Problem>,
}

impl Refusal {
    /// A sentence per problem naming the variable, then what to do instead.
    pub fn explain(&self, lang: Lang) -> String {
        words::refusal(self, lang)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.explain(Lang::En))
    }
}

impl std::error::Error for Refusal {}

/// A rendered block: the file's text, and what to say beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub format: EnvFormat,
    pub text: String,
    pub notices: Vec<Notice>,
}

/// What one value does in one format: the hazards that refuse it, and (when `notices` is set) those that are only
/// noticed.
#[derive(Debug, Default)]
pub(crate) struct Check {
    pub refuse: Vec<Hazard>,
    pub notice: Vec<(Hazard, Vec<Reader>)>,
    pub notices: bool,
}

impl Check {
    fn note(&mut self, hazard: Hazard, readers: &[Reader]) {
        if self.notices {
            self.notice.push((hazard, readers.to_vec()));
        }
    }
}

/// What `format` does with ONE variable: the notices to show for it, or the problems that make the format refuse
/// it. For a tool that writes single values (e.g. with [`dotenv_quote`]) and wants to warn as the page does.
pub fn check_value(
    format: EnvFormat,
    name: &str,
    value: &str,
) -> Result<Vec<Notice>, Vec<Problem>> {
    let check = tools::check(format, name, value, true);
    if check.refuse.is_empty() {
        Ok(check
            .notice
            .into_iter()
            .map(|(hazard, readers)| Notice {
                variable: name.to_string(),
                hazard,
                readers,
            })
            .collect())
    } else {
        Err(check
            .refuse
            .into_iter()
            .map(|hazard| Problem {
                variable: name.to_string(),
                hazard,
            })
            .collect())
    }
}

/// Render the block in `format`. `prefix` must come from [`parse_prefix`]. A [`Refusal`] lists every variable the
/// format cannot carry; otherwise the [`Block`]'s notices say which readers will read which variable differently
/// (none for realistic values: tokens, ids, secrets, URLs).
pub fn render_block(format: EnvFormat, prefix: &str, values: &EnvValues) -> Result<Block, Refusal> {
    let pairs = values.pairs(prefix);
    let mut problems = Vec::new();
    let mut notices = Vec::new();
    for (name, value) in &pairs {
        match check_value(format, name, value) {
            Ok(n) => notices.extend(n),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(Refusal { format, problems });
    }
    let text = tools::write(format, &values.comments, &pairs);
    Ok(Block {
        format,
        text,
        notices,
    })
}

/// The text of [`render_block`]; a refusal comes as one `#` comment line naming the variables it cannot carry. For
/// callers that show only text: the page should use [`render_block`] and show the notices and refusals
/// ([`Refusal::explain`]) in the user's language.
pub fn render(format: EnvFormat, prefix: &str, values: &EnvValues) -> String {
    // The refusals only: this caller shows no notices, so it does not pay for them.
    let pairs = values.pairs(prefix);
    let refused: Vec<&str> = pairs
        .iter()
        .filter(|(name, value)| !tools::check(format, name, value, false).refuse.is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    if refused.is_empty() {
        tools::write(format, &values.comments, &pairs)
    } else {
        format!(
            "# Not written: the {} format cannot carry {} exactly\n",
            format.label(),
            refused.join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
