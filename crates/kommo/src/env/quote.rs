//! Quoting one value for a `.env` line or a POSIX shell word, and what the dotenv-family readers make of it.
//!
//! The `.env` rules, as the real parsers read them (checked by `tests/env_readback.rs` and
//! `scripts/env-parsers/run.sh`):
//! - `NAME=` is empty for everyone (`''` is not: Docker's `--env-file` keeps the two quotes).
//! - Bare `[A-Za-z0-9_-./:@+=,]+` is the same for everyone, bash included.
//! - Single quotes keep every character for everyone — TAB and other control characters included — except a `'`
//!   (ends the value), a line break, and a `\` before the closing quote, which python-dotenv and dotenvy read as an
//!   escaped quote and run on into the next line: a value ending in `\` takes double quotes. python-dotenv also
//!   reads `\\` in single quotes as one backslash (noticed; every other reader keeps both).
//! - Anything else takes double quotes with `\\`, `\"`, `\$` and `\n` escapes. dotenvy, python-dotenv and bash undo
//!   them; npm dotenv, dotenv-expand, Next.js and `node --env-file` keep the backslashes (node also cuts the value
//!   at `\"`), and bash reads `\n` as two characters. Each of these is a [`Notice`](super::Notice), never a broken
//!   line. A CR or a `` ` `` in such a value has no safe writing (dotenvy rejects `\r` and `` \` ``, raw they are a
//!   line break to npm dotenv and python-dotenv, or a command to bash), so the `.env` form refuses it.
//! - `$` is expanded by dotenv-expand and Next.js even in single quotes, `${…}` also by python-dotenv, and
//!   dotenv-expand (1000.x) runs `$(…)` as a command: no writing is exact for all, so it is noticed.

use super::{Check, Hazard, Reader};

/// A character some reader may take as the end of a line: any control character, or the Unicode line and
/// paragraph separators.
pub(crate) fn breaks_line(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// How a value is written on a `.env` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Empty,
    Bare,
    Single,
    Double,
}

fn form(value: &str) -> Form {
    if value.is_empty() {
        return Form::Empty;
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-./:@+=,".contains(&b))
    {
        return Form::Bare;
    }
    let single = !has_any(value, b"'\n\r\0") && !value.ends_with('\\');
    if single {
        Form::Single
    } else {
        Form::Double
    }
}

/// Quote ONE value for a `NAME=value` line of a `.env` file, so that no value can end the line early or start
/// another variable in any dotenv-family parser (dotenvy, python-dotenv, npm dotenv, dotenv-expand, Next.js,
/// `node --env-file`, Docker Compose, systemd) or in a shell that sources the file: nothing for an empty value, bare
/// when plainly safe, single quotes when they keep it exactly, otherwise double quotes with `\\`, `\"`, `\$`, `\n`
/// escapes. Tokens, ids, secrets and URLs always come out exact for all of them; for other values
/// [`render_block`](super::render_block) says which readers read them differently, and refuses the few (a CR, a
/// `` ` `` that needs double quotes, a NUL) that no `.env` writing carries safely — this function still returns its
/// best writing for those (CR as `\r`, `` ` `` as `` \` ``), which never breaks a line in any of them.
pub fn dotenv_quote(value: &str) -> String {
    match form(value) {
        Form::Empty => String::new(),
        Form::Bare => value.to_string(),
        Form::Single => format!("'{value}'"),
        Form::Double => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '$' => out.push_str("\\$"),
                    '`' => out.push_str("\\`"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    }
}

/// Whether `value` holds any of these ASCII bytes. (Byte loops rather than `str::contains`: no string searcher
/// in the page's wasm.)
pub(crate) fn has_any(value: &str, set: &[u8]) -> bool {
    value.bytes().any(|b| set.contains(&b))
}

/// Whether `value` holds `first` right before a byte for which `then` holds.
fn has_pair(value: &str, first: u8, then: impl Fn(u8) -> bool) -> bool {
    value
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == first && then(w[1]))
}

/// The readers of a `.env` file that read `value`, written by [`dotenv_quote`], differently.
pub(crate) fn dotenv_check(value: &str, check: &mut Check) {
    use Reader::*;
    const KEEP_ESCAPES: [Reader; 4] = [NpmDotenv, DotenvExpand, NextEnv, NodeEnvFile];
    match form(value) {
        Form::Empty | Form::Bare => {}
        Form::Single => {
            if has_pair(value, b'\\', |b| b == b'\\') {
                check.note(Hazard::BackslashPair, &[PythonDotenv]);
            }
            // `$NAME` or `${…}`: a variable reference to dotenv-expand and Next.js, `${…}` to python-dotenv too.
            if has_pair(value, b'$', |b| b == b'{') {
                check.note(Hazard::Dollar, &[PythonDotenv, DotenvExpand, NextEnv]);
            } else if has_pair(value, b'$', |b| b == b'_' || b.is_ascii_alphabetic()) {
                check.note(Hazard::Dollar, &[DotenvExpand, NextEnv]);
            }
        }
        Form::Double => {
            if has_any(value, b"\r") {
                check.refuse.push(Hazard::CarriageReturn);
            }
            if has_any(value, b"`") {
                check.refuse.push(Hazard::Backtick);
            }
            if has_any(value, b"\\") {
                check.note(Hazard::Backslash, &KEEP_ESCAPES);
            }
            if has_any(value, b"\"") {
                check.note(Hazard::DoubleQuote, &KEEP_ESCAPES);
            }
            if has_any(value, b"$") {
                // Written `\$`: these keep the backslash (dotenv-expand and Next.js undo it).
                check.note(Hazard::Dollar, &[PythonDotenv, NpmDotenv, NodeEnvFile]);
            }
            if has_any(value, b"\n") {
                check.note(Hazard::LineBreak, &[Bash, Sh]);
            }
        }
    }
    if has_pair(value, b'$', |b| b == b'(') {
        check.note(Hazard::Command, &[DotenvExpand]);
    }
}

/// Quote a word for a POSIX shell: single quotes, with `'` written as `'\''`. Every other character — line breaks
/// included — stands for itself, so bash, zsh and dash read the word back exactly.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Quote a word that must stay on one line: [`shell_quote`], or — when the value holds control characters — bash/zsh
/// `$'…'` quoting with those characters escaped. Not POSIX (dash reads `$'…'` as `$` and a quoted word), so the
/// shell format does not use it; kept for one-line commands meant for bash or zsh.
pub fn shell_quote_line(value: &str) -> String {
    if !value.chars().any(breaks_line) {
        return shell_quote(value);
    }
    let mut out = String::from("$'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if breaks_line(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
