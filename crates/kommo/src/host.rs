//! Account host validation.
//!
//! The account host comes back from Kommo in the `referer` query parameter (`kwid.kommo.com`) and is the only host
//! the token endpoint and the API live on. The proxy forwards to it, so it must never be talked into reaching any
//! other machine: the check here is strict on purpose. A host is accepted only when it is exactly one DNS label
//! followed by one of the allowed suffixes, written in lowercase ASCII with nothing else around it (no scheme, port,
//! user info, path, percent-encoding, trailing dot or IP literal).

use std::fmt;

use crate::hints::Lang;

/// The account-host suffixes accepted by default: Kommo and the two amoCRM zones.
pub const DEFAULT_SUFFIXES: &[&str] = &["kommo.com", "amocrm.ru", "amocrm.com"];

/// Why an account host was refused. The `Display` text says what was wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("the account host is empty")]
    Empty,
    #[error("the account host is too long")]
    TooLong,
    #[error("the account host must be a bare host like kwid.kommo.com, without scheme, path, port, user or query (found {0:?})")]
    ForbiddenCharacter(char),
    #[error("the account host must be written in lowercase")]
    Uppercase,
    #[error("the account host must not end with a dot")]
    TrailingDot,
    #[error("an IP address is not a Kommo account host")]
    IpLiteral,
    #[error("the account host must end in one of: {0}")]
    NotAllowedSuffix(String),
    #[error("the account host must be exactly one label under {suffix} (like kwid.{suffix}), not {host}")]
    NotOneLabel { host: String, suffix: String },
    #[error("{0:?} is Kommo's own site, not an account: send requests to your account host (like kwid.kommo.com)")]
    WwwHost(String),
    #[error("the account subdomain {0:?} is not a valid DNS label (letters, digits and inner hyphens, at most 63)")]
    BadLabel(String),
}

impl HostError {
    /// The same reason in the page's language: English is the `Display` text, Russian says the same thing.
    pub fn explain(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            HostError::Empty => "хост аккаунта пуст".to_string(),
            HostError::TooLong => "хост аккаунта слишком длинный".to_string(),
            HostError::ForbiddenCharacter(c) => format!(
                "хост аккаунта должен быть просто хостом вроде kwid.kommo.com, без схемы, пути, порта, пользователя и \
                 параметров (найдено {c:?})"
            ),
            HostError::Uppercase => "хост аккаунта должен быть написан строчными буквами".to_string(),
            HostError::TrailingDot => "хост аккаунта не должен заканчиваться точкой".to_string(),
            HostError::IpLiteral => "IP-адрес не может быть хостом аккаунта Kommo".to_string(),
            HostError::NotAllowedSuffix(list) => format!("хост аккаунта должен оканчиваться на одно из: {list}"),
            HostError::NotOneLabel { host, suffix } => format!(
                "хост аккаунта должен быть ровно одним именем перед {suffix} (например kwid.{suffix}), а не {host}"
            ),
            HostError::WwwHost(h) => format!(
                "{h:?} — сайт самого Kommo, а не аккаунт: запросы идут на хост вашего аккаунта (например kwid.kommo.com)"
            ),
            HostError::BadLabel(l) => format!(
                "имя аккаунта {l:?} не годится для DNS (латинские буквы, цифры и дефисы внутри, не больше 63 знаков)"
            ),
        }
    }
}

/// A validated account host such as `kwid.kommo.com`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountHost {
    host: String,
    label_len: usize,
}

impl AccountHost {
    /// Validate against [`DEFAULT_SUFFIXES`].
    pub fn parse(input: &str) -> Result<Self, HostError> {
        Self::parse_with(input, DEFAULT_SUFFIXES.iter().copied())
    }

    /// Validate against the given suffixes (each like `kommo.com`, lowercase, no leading dot).
    pub fn parse_with<'a>(
        input: &str,
        suffixes: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, HostError> {
        if input.is_empty() {
            return Err(HostError::Empty);
        }
        if input.len() > 253 {
            return Err(HostError::TooLong);
        }
        check_chars(input)?;
        if input.ends_with('.') {
            return Err(HostError::TrailingDot);
        }
        if input
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(HostError::IpLiteral);
        }
        let suffixes: Vec<&str> = suffixes.into_iter().collect();
        for suffix in &suffixes {
            let Some(label) = input
                .strip_suffix(suffix)
                .and_then(|rest| rest.strip_suffix('.'))
            else {
                if input == *suffix {
                    return Err(HostError::NotOneLabel {
                        host: input.to_string(),
                        suffix: suffix.to_string(),
                    });
                }
                continue;
            };
            if label.contains('.') || label.is_empty() {
                return Err(HostError::NotOneLabel {
                    host: input.to_string(),
                    suffix: suffix.to_string(),
                });
            }
            if label == "www" {
                return Err(HostError::WwwHost(input.to_string()));
            }
            if !valid_label(label) {
                return Err(HostError::BadLabel(label.to_string()));
            }
            return Ok(AccountHost {
                host: input.to_string(),
                label_len: label.len(),
            });
        }
        Err(HostError::NotAllowedSuffix(suffixes.join(", ")))
    }

    /// The whole host, e.g. `kwid.kommo.com`.
    pub fn as_str(&self) -> &str {
        &self.host
    }

    /// The account subdomain, e.g. `kwid` — what the old guide called `DOMAIN`.
    pub fn subdomain(&self) -> &str {
        &self.host[..self.label_len]
    }

    /// The base domain after the subdomain, e.g. `kommo.com`.
    pub fn base_domain(&self) -> &str {
        &self.host[self.label_len + 1..]
    }

    /// `https://{host}`.
    pub fn https_origin(&self) -> String {
        format!("https://{}", self.host)
    }
}

impl fmt::Display for AccountHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host)
    }
}

/// Only lowercase ASCII letters, digits, `-` and `.`; uppercase is named separately since it is a common slip.
fn check_chars(s: &str) -> Result<(), HostError> {
    for c in s.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' | '.' => {}
            'A'..='Z' => return Err(HostError::Uppercase),
            other => return Err(HostError::ForbiddenCharacter(other)),
        }
    }
    Ok(())
}

/// A DNS label: 1–63 of `[a-z0-9-]`, not starting or ending with a hyphen, and not an IDNA `xn--` punycode label.
fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.starts_with("xn--")
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parse a suffix given in configuration (`example.org`), with the same character rules as a host.
pub fn parse_suffix(input: &str) -> Result<String, HostError> {
    let s = input.trim().trim_start_matches('.');
    if s.is_empty() {
        return Err(HostError::Empty);
    }
    check_chars(s)?;
    if s.ends_with('.') || s.split('.').any(|l| !valid_label(l)) {
        return Err(HostError::BadLabel(s.to_string()));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_label_under_known_suffixes() {
        for h in [
            "kwid.kommo.com",
            "kwid.amocrm.ru",
            "kwid.amocrm.com",
            "a-1.kommo.com",
            "x.kommo.com",
        ] {
            let host = AccountHost::parse(h).unwrap_or_else(|e| panic!("{h}: {e}"));
            assert_eq!(host.as_str(), h);
        }
        let h = AccountHost::parse("kwid.amocrm.ru").unwrap();
        assert_eq!(h.subdomain(), "kwid");
        assert_eq!(h.base_domain(), "amocrm.ru");
        assert_eq!(h.https_origin(), "https://kwid.amocrm.ru");
    }

    #[test]
    fn refuses_the_ssrf_table() {
        let cases: &[(&str, fn(&HostError) -> bool)] = &[
            ("", |e| matches!(e, HostError::Empty)),
            ("kommo.com", |e| matches!(e, HostError::NotOneLabel { .. })),
            ("www.kommo.com", |e| matches!(e, HostError::WwwHost(_))),
            ("www.amocrm.ru", |e| matches!(e, HostError::WwwHost(_))),
            ("a.b.kommo.com", |e| {
                matches!(e, HostError::NotOneLabel { .. })
            }),
            ("kommo.com.evil.net", |e| {
                matches!(e, HostError::NotAllowedSuffix(_))
            }),
            ("evil.net#.kommo.com", |e| {
                matches!(e, HostError::ForbiddenCharacter('#'))
            }),
            ("user@kwid.kommo.com", |e| {
                matches!(e, HostError::ForbiddenCharacter('@'))
            }),
            ("kwid.kommo.com:8443", |e| {
                matches!(e, HostError::ForbiddenCharacter(':'))
            }),
            ("127.0.0.1", |e| matches!(e, HostError::IpLiteral)),
            ("[::1]", |e| matches!(e, HostError::ForbiddenCharacter('['))),
            ("kwid%2ekommo.com", |e| {
                matches!(e, HostError::ForbiddenCharacter('%'))
            }),
            ("KWID.kommo.com", |e| matches!(e, HostError::Uppercase)),
            ("kwid.KOMMO.com", |e| matches!(e, HostError::Uppercase)),
            ("kwid.kommo.com.", |e| matches!(e, HostError::TrailingDot)),
            (".kommo.com", |e| matches!(e, HostError::NotOneLabel { .. })),
            ("-kwid.kommo.com", |e| matches!(e, HostError::BadLabel(_))),
            ("kwid-.kommo.com", |e| matches!(e, HostError::BadLabel(_))),
            ("xn--80ak6aa92e.kommo.com", |e| {
                matches!(e, HostError::BadLabel(_))
            }),
            ("https://kwid.kommo.com", |e| {
                matches!(e, HostError::ForbiddenCharacter(':'))
            }),
            ("kwid.kommo.com/api", |e| {
                matches!(e, HostError::ForbiddenCharacter('/'))
            }),
            ("kwid.kommo.com\\@evil.net", |e| {
                matches!(e, HostError::ForbiddenCharacter('\\'))
            }),
            (" kwid.kommo.com", |e| {
                matches!(e, HostError::ForbiddenCharacter(' '))
            }),
            ("kwid.kommo.com\n", |e| {
                matches!(e, HostError::ForbiddenCharacter('\n'))
            }),
            ("kwid.kommo\u{3002}com", |e| {
                matches!(e, HostError::ForbiddenCharacter('\u{3002}'))
            }),
            ("kwidkommo.com", |e| {
                matches!(e, HostError::NotAllowedSuffix(_))
            }),
            ("evilkommo.com", |e| {
                matches!(e, HostError::NotAllowedSuffix(_))
            }),
            ("kwid.kommo.co", |e| {
                matches!(e, HostError::NotAllowedSuffix(_))
            }),
        ];
        for (input, ok) in cases {
            let err = AccountHost::parse(input).expect_err(input);
            assert!(ok(&err), "{input:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
            assert_eq!(err.explain(Lang::En), err.to_string());
            let ru = err.explain(Lang::Ru);
            assert!(
                ru.chars().any(|c| ('а'..='я').contains(&c)),
                "{input:?}: no Russian in {ru:?}"
            );
            assert_ne!(ru, err.to_string());
        }
        let long = format!("{}.kommo.com", "a".repeat(64));
        assert!(matches!(
            AccountHost::parse(&long),
            Err(HostError::BadLabel(_))
        ));
        let too_long = AccountHost::parse(&"a".repeat(300)).expect_err("300 characters");
        assert_eq!(too_long, HostError::TooLong);
        assert_eq!(too_long.explain(Lang::Ru), "хост аккаунта слишком длинный");
    }

    #[test]
    fn extra_suffixes_by_configuration() {
        let suffix = parse_suffix(".example.test").unwrap();
        assert_eq!(suffix, "example.test");
        let h =
            AccountHost::parse_with("acme.example.test", ["kommo.com", suffix.as_str()]).unwrap();
        assert_eq!(h.subdomain(), "acme");
        assert!(AccountHost::parse("acme.example.test").is_err());
        assert!(parse_suffix("Example.test").is_err());
        assert!(parse_suffix("ex ample.test").is_err());
    }
}
