//! Rendering the result as a `.env` block, shell `export` lines or JSON — quoted so no value can break a line or
//! inject another variable.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFormat {
    Dotenv,
    Shell,
    Json,
}

impl EnvFormat {
    pub const ALL: [EnvFormat; 3] = [EnvFormat::Dotenv, EnvFormat::Shell, EnvFormat::Json];

    pub fn label(self) -> &'static str {
        match self {
            EnvFormat::Dotenv => ".env",
            EnvFormat::Shell => "shell export",
            EnvFormat::Json => "JSON",
        }
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
    /// Comment lines (account host, expiry, notes); control characters are flattened to spaces.
    pub comments: Vec<String>,
}

impl EnvValues {
    fn values(&self) -> [&str; 8] {
        [
            "1",
            &self.domain,
            &self.account_host,
            &self.client_id,
            &self.client_secret,
            &self.redirect_uri,
            &self.access_token,
            &self.refresh_token,
        ]
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

/// A character some reader may take as the end of a line: any control character, or the Unicode line and
/// paragraph separators.
fn breaks_line(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

fn flatten(comment: &str) -> String {
    comment
        .chars()
        .map(|c| if breaks_line(c) { ' ' } else { c })
        .collect()
}

/// Quote a value for a `.env` file: bare when it is plainly safe, single quotes when it holds no `'` or line
/// break, otherwise double quotes with `\`, `"`, `$`, `` ` `` and line breaks escaped.
pub fn dotenv_quote(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:@+=,".contains(&b));
    if bare {
        return value.to_string();
    }
    if !value.chars().any(|c| c == '\'' || breaks_line(c)) {
        return format!("'{value}'");
    }
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
            '\t' => out.push_str("\\t"),
            c if breaks_line(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quote a word for a POSIX shell: single quotes, with `'` written as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Quote a value for an `export` line that must stay one line: plain single quotes, or — when the value holds
/// control characters — bash/zsh `$'…'` quoting with those characters escaped.
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

/// A JSON object whose keys keep the order of [`NAMES`] (a `serde_json::Map` would sort them).
struct InOrder<'a>(&'a [(String, &'a str)]);

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Render the block. `prefix` must come from [`parse_prefix`].
pub fn render(format: EnvFormat, prefix: &str, values: &EnvValues) -> String {
    let vals = values.values();
    match format {
        EnvFormat::Dotenv | EnvFormat::Shell => {
            let mut out = String::new();
            for c in &values.comments {
                out.push_str("# ");
                out.push_str(&flatten(c));
                out.push('\n');
            }
            for (name, value) in NAMES.iter().zip(vals) {
                if format == EnvFormat::Shell {
                    out.push_str("export ");
                    out.push_str(&format!("{prefix}{name}={}\n", shell_quote_line(value)));
                } else {
                    out.push_str(&format!("{prefix}{name}={}\n", dotenv_quote(value)));
                }
            }
            out
        }
        EnvFormat::Json => {
            let pairs: Vec<(String, &str)> = NAMES
                .iter()
                .zip(vals)
                .map(|(name, value)| (format!("{prefix}{name}"), value))
                .collect();
            serde_json::to_string_pretty(&InOrder(&pairs)).unwrap_or_default() + "\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EnvValues {
        EnvValues {
            domain: "kwid".into(),
            account_host: "kwid.kommo.com".into(),
            client_id: "00000000-0000-0000-0000-000000000000".into(),
            client_secret: "s3cr3t".into(),
            redirect_uri: "https://example-app.vercel.app/integrations/kommo/oauth/callback".into(),
            access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln".into(),
            refresh_token: "def50200abc".into(),
            comments: vec![
                "Kommo account kwid.kommo.com, access token expires 2026-11-28 14:00".into(),
            ],
        }
    }

    #[test]
    fn dotenv_block_in_the_guides_order() {
        let out = render(EnvFormat::Dotenv, "KOMMO_TEST_", &sample());
        assert_eq!(
            out,
            "# Kommo account kwid.kommo.com, access token expires 2026-11-28 14:00\n\
             KOMMO_TEST_ENABLED=1\n\
             KOMMO_TEST_DOMAIN=kwid\n\
             KOMMO_TEST_ACCOUNT_HOST=kwid.kommo.com\n\
             KOMMO_TEST_CLIENT_ID=00000000-0000-0000-0000-000000000000\n\
             KOMMO_TEST_CLIENT_SECRET=s3cr3t\n\
             KOMMO_TEST_REDIRECT_URI=https://example-app.vercel.app/integrations/kommo/oauth/callback\n\
             KOMMO_TEST_ACCESS_TOKEN=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln\n\
             KOMMO_TEST_REFRESH_TOKEN=def50200abc\n"
        );
    }

    #[test]
    fn hostile_values_cannot_add_lines() {
        let mut v = sample();
        v.client_secret = "a\nKOMMO_TEST_ENABLED=0 # $HOME `id` \"q\" 'x'".into();
        v.comments = vec!["line1\nEVIL=1".into()];
        for format in [EnvFormat::Dotenv, EnvFormat::Shell] {
            let out = render(format, "P_", &v);
            assert_eq!(out.lines().count(), 9, "{format:?}: {out}");
            assert!(out
                .lines()
                .all(|l| l.starts_with('#') || l.starts_with("P_") || l.starts_with("export P_")));
        }
        let dot = render(EnvFormat::Dotenv, "P_", &v);
        assert!(
            dot.contains(r#"P_CLIENT_SECRET="a\nKOMMO_TEST_ENABLED=0 # \$HOME \`id\` \"q\" 'x'""#),
            "{dot}"
        );
        let sh = render(EnvFormat::Shell, "P_", &v);
        assert!(
            sh.contains(
                r#"export P_CLIENT_SECRET=$'a\nKOMMO_TEST_ENABLED=0 # $HOME `id` "q" \'x\''"#
            ),
            "{sh}"
        );
        assert_eq!(shell_quote_line("it's"), r"'it'\''s'");
        assert_eq!(dotenv_quote(""), "''");
        assert_eq!(dotenv_quote("a b"), "'a b'");
        assert_eq!(dotenv_quote("it's"), "\"it's\"");
    }

    #[test]
    fn json_holds_exact_values() {
        let mut v = sample();
        v.refresh_token = String::new();
        let out = render(EnvFormat::Json, "", &v);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["ENABLED"], "1");
        assert_eq!(parsed["ACCESS_TOKEN"], v.access_token.as_str());
        assert_eq!(parsed["REFRESH_TOKEN"], "");
        assert_eq!(parsed["ACCOUNT_HOST"], "kwid.kommo.com");
        assert_eq!(parsed.as_object().unwrap().len(), 8);
    }

    #[test]
    fn every_form_has_the_account_host_right_after_domain() {
        let v = sample();
        let shell = render(EnvFormat::Shell, "P_", &v);
        assert!(
            shell.contains("export P_DOMAIN='kwid'\nexport P_ACCOUNT_HOST='kwid.kommo.com'\n"),
            "{shell}"
        );
        let dot = render(EnvFormat::Dotenv, "P_", &v);
        assert!(
            dot.contains("P_DOMAIN=kwid\nP_ACCOUNT_HOST=kwid.kommo.com\n"),
            "{dot}"
        );
        // JSON keeps the same order as the other forms (not sorted).
        let json = render(EnvFormat::Json, "P_", &v);
        let keys: Vec<&str> = json
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .collect();
        let want: Vec<String> = NAMES.iter().map(|n| format!("P_{n}")).collect();
        assert_eq!(keys, want, "{json}");
    }

    #[test]
    fn prefixes() {
        assert_eq!(parse_prefix(" kommo_test_ "), Ok("KOMMO_TEST_".into()));
        assert_eq!(parse_prefix(""), Ok(String::new()));
        assert_eq!(parse_prefix("1X"), Err(PrefixError::Invalid));
        assert_eq!(parse_prefix("A-B"), Err(PrefixError::Invalid));
        assert_eq!(parse_prefix("A B"), Err(PrefixError::Invalid));
    }
}
