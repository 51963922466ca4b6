//! The env file's values: read with dotenvy, located with [`kommo::envfile`], the two checked against each other;
//! and every rewrite read back with dotenvy before it is written.

use kommo::envfile::{self, Definition};

use crate::fail::{Failure, Result};

/// A parsed env file.
#[derive(Debug, Clone)]
pub struct EnvText {
    pub text: String,
    defs: Vec<Definition>,
    pairs: Vec<(String, String)>,
}

const BOM: &str = "\u{feff}";

/// dotenvy's pairs, in file order (without substituting from this process's environment is not an option
/// dotenvy offers; the token variables never hold `$`).
fn dotenvy_pairs(text: &str) -> std::result::Result<Vec<(String, String)>, ()> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    dotenvy::from_read_iter(text.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        // dotenvy's error holds the offending line, which may hold a secret: never shown.
        .map_err(|_| ())
}

impl EnvText {
    /// Parse `text` (the file `shown`). Errors name the file and the line, never a value.
    pub fn parse(shown: &str, text: String) -> Result<EnvText> {
        let defs = envfile::scan(&text).map_err(|e| Failure::bad(format!("{shown}: {e}")))?;
        let pairs = dotenvy_pairs(&text).map_err(|()| {
            Failure::bad(format!(
                "{shown}: dotenvy cannot read the file; check its quoting"
            ))
        })?;
        let same =
            defs.len() == pairs.len() && defs.iter().zip(&pairs).all(|(d, (k, _))| &d.name == k);
        if !same {
            let line = defs
                .iter()
                .zip(&pairs)
                .find(|(d, (k, _))| &d.name != k)
                .map(|(d, _)| d.line)
                .or_else(|| defs.get(pairs.len()).map(|d| d.line))
                .unwrap_or(1);
            return Err(Failure::bad(format!(
                "{shown}: line {line}: read differently by dotenvy and by kommo-env's rewriter; quote the value on that line"
            )));
        }
        Ok(EnvText { text, defs, pairs })
    }

    /// The value of `name`: `None` when not in the file; an error when defined twice.
    pub fn get(&self, shown: &str, name: &str) -> Result<Option<&str>> {
        let found =
            envfile::find(&self.defs, name).map_err(|e| Failure::bad(format!("{shown}: {e}")))?;
        Ok(found.map(|d| {
            let i = self
                .defs
                .iter()
                .position(|x| std::ptr::eq(x, d))
                .expect("a definition of this file");
            self.pairs[i].1.as_str()
        }))
    }

    /// The line a variable is defined on.
    pub fn line_of(&self, name: &str) -> Option<usize> {
        self.defs.iter().find(|d| d.name == name).map(|d| d.line)
    }

    /// Rewrite: `changes` replace values in place (`append`: missing ones are added at the end), and the result is
    /// read back with dotenvy: every other variable must keep its value and each changed one must read as given.
    pub fn rewrite(&self, shown: &str, changes: &[(&str, &str)], append: bool) -> Result<String> {
        let out = if append {
            envfile::upsert_values(&self.text, changes)
        } else {
            envfile::set_values(&self.text, changes)
        }
        .map_err(|e| Failure::bad(format!("{shown}: {e}")))?;
        let after = EnvText::parse(shown, out.clone()).map_err(|_| unsafe_rewrite(shown))?;
        let mut expected: Vec<(String, String)> = self.pairs.clone();
        for (name, value) in changes {
            match expected.iter_mut().find(|(k, _)| k == name) {
                Some(pair) => pair.1 = value.to_string(),
                None => expected.push((name.to_string(), value.to_string())),
            }
        }
        if after.pairs != expected {
            return Err(unsafe_rewrite(shown));
        }
        Ok(out)
    }
}

fn unsafe_rewrite(shown: &str) -> Failure {
    Failure::bad(format!(
        "{shown}: the rewritten file would not read back with the same values; nothing was changed"
    ))
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    File,
    Environment,
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub struct Sourced {
    pub value: String,
    pub source: Source,
}

/// `name` from the file (non-empty), else from this process's environment (non-empty).
pub fn file_or_env(file: Option<&EnvText>, shown: &str, name: &str) -> Result<Option<Sourced>> {
    if let Some(f) = file {
        if let Some(v) = f.get(shown, name)?.filter(|v| !v.is_empty()) {
            return Ok(Some(Sourced {
                value: v.to_string(),
                source: Source::File,
            }));
        }
    }
    Ok(std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(|value| Sourced {
            value,
            source: Source::Environment,
        }))
}

/// Like [`file_or_env`], but missing is an error naming the variable.
pub fn required(file: Option<&EnvText>, shown: &str, name: &str) -> Result<Sourced> {
    file_or_env(file, shown, name)?.ok_or_else(|| {
        Failure::bad(format!(
            "{name} is missing: it is neither in {shown} nor in the environment"
        ))
    })
}

/// `name` from the file only (the tokens: an older copy in the environment must never win).
pub fn from_file(file: &EnvText, shown: &str, name: &str) -> Result<String> {
    match file.get(shown, name)? {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        Some(_) => Err(Failure::bad(format!(
            "{shown}: line {}: {name} is empty",
            file.line_of(name).unwrap_or(0)
        ))),
        None => Err(Failure::bad(format!("{shown}: {name} is missing"))),
    }
}
