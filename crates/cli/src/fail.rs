//! Exit codes and the one failure type every command returns.

use std::fmt;

/// What the process exits with. Documented in `--help` ([`EXIT_CODES`]) and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done: refreshed, skipped (still fresh, or renewed by another run), check passed, exchanged.
    Ok = 0,
    /// Kommo answered with new tokens but they could not be saved. The old pair in the file still works: a new pair
    /// does not spend the old one until it is used.
    NotSaved = 1,
    /// Bad usage or a bad env file (a missing or malformed variable, an unknown account host, a file that cannot be
    /// read or replaced). Nothing was sent to Kommo and the file is untouched.
    BadInput = 2,
    /// Kommo refused (wrong id, secret or redirect URI, a spent or expired code; in `check`, a token that does not
    /// work or a blocked IP).
    Refused = 3,
    /// Network or upstream trouble: no connection, a timeout, an answer that is not Kommo's JSON, 429 after every
    /// retry. The file is untouched and the old pair still works: run again later.
    Trouble = 4,
    /// The refresh token was revoked: already spent (another copy of the file, another process) or the
    /// integration was uninstalled.
    Revoked = 5,
    /// The refresh token expired: unused for 3 months. Go through consent again.
    Expired = 6,
}

/// The exit codes as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done: refreshed, skipped (still fresh, or renewed by another run), check passed, exchanged
  1  Kommo gave new tokens but they could not be saved; the old pair in the file still works
  2  bad usage or env file (missing or malformed variable, unknown account host); nothing was sent
  3  refused by Kommo (wrong id/secret/redirect URI, spent or expired code; check: token refused, IP blocked)
  4  network or upstream trouble (no connection, timeout, not Kommo's answer, 429 after retries); try again
  5  the refresh token was revoked (spent by another copy or process, or the integration was uninstalled)
  6  the refresh token expired (unused for 3 months): go through consent again";

/// A failed command: a one-line message, then optional explanation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    pub more: Vec<String>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// Bad usage or env file: nothing was sent.
    pub fn bad(message: impl Into<String>) -> Failure {
        Failure::new(Exit::BadInput, message)
    }

    pub fn with(mut self, line: impl Into<String>) -> Failure {
        self.more.push(line.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kommo-env: {}", self.message)?;
        for line in &self.more {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
