//! Account host validation.
//!
//! The account host comes back from Kommo in the `referer` query parameter (`kwid.kommo.com`) and is the only host
//! the token endpoint and the API live on. The proxy forwards to it, so it must never be talked into reaching any
//! other machine: the check here is strict on purpose. A host is accepted only when it is exactly one DNS label
//! followed by one of the allowed suffixes, written in lowercase ASCII with nothing else around it (no scheme, port,
//! user info, path, percent-encoding, trailing dot or IP literal).
//!
//! A host, and a configured suffix, must not *end in a number* in the sense of the WHATWG URL standard: a last label
//! that is all ASCII digits, or `0x` followed by hex digits (or nothing). A URL parser (the browser's, and the `url`
//! crate the proxy's HTTP client uses) reads any such host as an IPv4 address — `https://0x7f.0.0.1` is
//! `https://127.0.0.1` — or refuses it (`https://m.4`), so it can never name a Kommo account.

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
    #[error("{0:?} ends in a number, which a URL parser reads as an IP address: an account host (and an allowed suffix) must end in a name, like kwid.kommo.com")]
    EndsInNumber(String),
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
            HostError::EndsInNumber(h) => format!(
                "{h:?} оканчивается числом, а такой адрес URL-парсер читает как IP-адрес: хост аккаунта (и разрешённый \
                 суффикс) должен оканчиваться именем, например kwid.kommo.com"
            ),
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

    /// Validate against the given suffixes (each like `kommo.com`, lowercase, no leading dot: as [`parse_suffix`]
    /// gives them). A suffix that [`parse_suffix`] would refuse, or not give back unchanged, matches no host.
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
        if ends_in_number(input) {
            return Err(if input.split('.').all(is_ipv4_number) {
                HostError::IpLiteral
            } else {
                HostError::EndsInNumber(input.to_string())
            });
        }
        let suffixes: Vec<&str> = suffixes.into_iter().collect();
        for suffix in &suffixes {
            if !matches!(parse_suffix(suffix), Ok(s) if s == *suffix) {
                continue;
            }
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

/// Whether a URL parser takes `host` for an IPv4 address: the WHATWG URL standard's "ends in a number" — the last
/// label (or the one before an empty last label) is all ASCII digits or parses as an IPv4 number (`0x`/`0X` and hex
/// digits, or nothing after them). Such a host becomes an IPv4 address (`0x7f.0.0.1` is 127.0.0.1) or is refused.
pub fn ends_in_number(host: &str) -> bool {
    let mut labels: Vec<&str> = host.split('.').collect();
    if labels.last() == Some(&"") {
        if labels.len() == 1 {
            return false;
        }
        labels.pop();
    }
    labels.last().is_some_and(|last| is_ipv4_number(last))
}

/// A label the WHATWG IPv4 number parser accepts, or one of all ASCII digits (an octal number with an 8 or 9 is
/// not a number, but still "ends in a number"): `127`, `0177`, `0x7f`, `0x`.
fn is_ipv4_number(label: &str) -> bool {
    let b = label.as_bytes();
    if let Some(hex) = b.strip_prefix(b"0x").or_else(|| b.strip_prefix(b"0X")) {
        return hex.iter().all(u8::is_ascii_hexdigit);
    }
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// Parse a suffix given in configuration (`example.org`), with the same character rules as a host; nor may it end
/// in a number (see [`ends_in_number`]): every host under `4` or `0.0.1` would be an IP address or no host at all.
pub fn parse_suffix(input: &str) -> Result<String, HostError> {
    let s = input.trim().trim_start_matches('.');
    if s.is_empty() {
        return Err(HostError::Empty);
    }
    check_chars(s)?;
    if s.ends_with('.') || s.split('.').any(|l| !valid_label(l)) {
        return Err(HostError::BadLabel(s.to_string()));
    }
    if ends_in_number(s) {
        return Err(HostError::EndsInNumber(s.to_string()));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a refusal is the expected one.
    type Refusal = fn(&HostError) -> bool;

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
        let cases: &[(&str, Refusal)] = &[
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

    /// Issue 17: `--allow-suffix 4` made `m.4` an account host (no valid URL), and `--allow-suffix 0.0.1` made
    /// `0x7f.0.0.1` one, which a URL parser reads as 127.0.0.1.
    #[test]
    fn refuses_hosts_and_suffixes_that_end_in_a_number() {
        for suffix in [
            "4",
            "0.0.1",
            "0x1",
            "0x",
            "kommo.0x7f",
            "a.123",
            "  .8 ",
            "0177",
        ] {
            let err = parse_suffix(suffix).expect_err(suffix);
            assert!(
                matches!(err, HostError::EndsInNumber(_)),
                "{suffix:?} gave {err:?}"
            );
            assert!(err.to_string().contains("ends in a number"), "{err}");
            assert!(err.explain(Lang::Ru).contains("оканчивается числом"));
        }
        for suffix in ["0x7f.com", "4.example", "0xg", "x0", "a-1", "example.test"] {
            assert_eq!(parse_suffix(suffix).as_deref(), Ok(suffix));
        }
        // At parse time too, whatever suffixes the caller passes.
        let cases: &[(&str, &str, Refusal)] = &[
            ("m.4", "4", |e| matches!(e, HostError::EndsInNumber(_))),
            ("0x7f.0.0.1", "0.0.1", |e| matches!(e, HostError::IpLiteral)),
            ("a.0x7f", "0x7f", |e| {
                matches!(e, HostError::EndsInNumber(_))
            }),
            ("a.0x", "0x", |e| matches!(e, HostError::EndsInNumber(_))),
            ("0x7f.1", "1", |e| matches!(e, HostError::IpLiteral)),
            ("0177.1", "1", |e| matches!(e, HostError::IpLiteral)),
            ("kwid.kommo.09", "kommo.09", |e| {
                matches!(e, HostError::EndsInNumber(_))
            }),
        ];
        for (host, suffix, ok) in cases {
            let err = AccountHost::parse_with(host, [*suffix]).expect_err(host);
            assert!(ok(&err), "{host:?} under {suffix:?} gave {err:?}");
            assert_ne!(err.explain(Lang::Ru), err.to_string());
        }
        // A number-like label is fine anywhere but last.
        let h = AccountHost::parse_with("0x7f.0x7f.com", ["0x7f.com"]).unwrap();
        assert_eq!(h.subdomain(), "0x7f");
        assert!(AccountHost::parse("123.kommo.com").is_ok());
        // A suffix that parse_suffix refuses matches nothing.
        assert!(matches!(
            AccountHost::parse_with("a.xn--zz", ["xn--zz"]),
            Err(HostError::NotAllowedSuffix(_))
        ));
        assert!(matches!(
            AccountHost::parse_with("a.b..c", ["b..c"]),
            Err(HostError::NotAllowedSuffix(_))
        ));
    }

    #[test]
    fn ends_in_a_number_as_whatwg_says() {
        for h in ["1", "a.1", "a.0x", "a.0X1f", "a.1.", "0x7f.0.0.1", "a.0189"] {
            assert!(ends_in_number(h), "{h}");
        }
        for h in ["", ".", "a", "a.b1", "a.0xg", "a.1a", "a..", "1.a", "a.x0"] {
            assert!(!ends_in_number(h), "{h}");
        }
    }
}
