//! Keeping a saved pair fresh outside the browser (the `kommo-env` CLI): whether a refresh is due, which account
//! host a saved env file points at, and what a refused refresh means. Pure: the caller reads the file, supplies the
//! clock and sends the request.

use crate::hints::{Explanation, Hint, Lang};
use crate::host::{AccountHost, HostError};
use crate::token::KommoError;

/// Whether to refresh now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// No margin was asked for: refresh.
    Always,
    /// The access token expires within the margin, or has expired (`expires_in` < 0): refresh.
    Expiring { expires_in: i64 },
    /// The access token's expiry cannot be read (not a JWT, or no `exp`): refresh, to be safe.
    Unknown,
    /// The access token is good for longer than the margin: nothing to do.
    Fresh { expires_in: i64 },
}

impl Due {
    pub fn should_refresh(self) -> bool {
        !matches!(self, Due::Fresh { .. })
    }
}

/// Decide from the access token's `exp` (read, not verified) whether a refresh is due at `now_unix`, with a margin
/// of `within_secs` (`None`: always refresh).
pub fn due(access_token: &str, now_unix: i64, within_secs: Option<u64>) -> Due {
    let Some(within) = within_secs else {
        return Due::Always;
    };
    let exp = crate::jwt::decode_payload(access_token)
        .ok()
        .and_then(|c| c.exp);
    match exp {
        None => Due::Unknown,
        Some(exp) => {
            let expires_in = exp - now_unix;
            if expires_in > i64::try_from(within).unwrap_or(i64::MAX) {
                Due::Fresh { expires_in }
            } else {
                Due::Expiring { expires_in }
            }
        }
    }
}

/// Where the account host came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// The `ACCOUNT_HOST` variable.
    AccountHost,
    /// `DOMAIN` (the subdomain, as the old guide wrote it) and the access token's `base_domain` claim: files written
    /// before `ACCOUNT_HOST` existed.
    DomainAndToken,
    /// `DOMAIN` holding a whole account host.
    Domain,
}

/// Why no account host could be found. Each message names the variable (with its prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostLookupError {
    #[error("{var}: {error}")]
    Bad { var: String, error: HostError },
    #[error("{account_host} is not set, and {domain} {why}: add {account_host}=yourname.kommo.com (or .amocrm.ru)")]
    Missing {
        account_host: String,
        domain: String,
        why: &'static str,
    },
}

/// The account host a saved file points at: `{prefix}ACCOUNT_HOST` when set, else `{prefix}DOMAIN` as a whole host,
/// else `{prefix}DOMAIN` (the subdomain) joined with the access token's `base_domain`. Every candidate goes through
/// [`AccountHost::parse`].
pub fn account_host(
    prefix: &str,
    account_host: Option<&str>,
    domain: Option<&str>,
    access_token: Option<&str>,
) -> Result<(AccountHost, HostSource), HostLookupError> {
    let var = |name: &str| format!("{prefix}{name}");
    let bad = |name: &str, error| HostLookupError::Bad {
        var: var(name),
        error,
    };
    if let Some(h) = account_host.filter(|h| !h.is_empty()) {
        return AccountHost::parse(h)
            .map(|h| (h, HostSource::AccountHost))
            .map_err(|e| bad("ACCOUNT_HOST", e));
    }
    let missing = |why| HostLookupError::Missing {
        account_host: var("ACCOUNT_HOST"),
        domain: var("DOMAIN"),
        why,
    };
    let Some(domain) = domain.filter(|d| !d.is_empty()) else {
        return Err(missing("is not set either"));
    };
    if domain.contains('.') {
        return AccountHost::parse(domain)
            .map(|h| (h, HostSource::Domain))
            .map_err(|e| bad("DOMAIN", e));
    }
    let base = access_token
        .and_then(|t| crate::jwt::decode_payload(t).ok())
        .and_then(|c| c.base_domain)
        .filter(|b| !b.is_empty());
    let Some(base) = base else {
        return Err(missing(
            "holds only the subdomain while the access token names no base_domain",
        ));
    };
    AccountHost::parse(&format!("{domain}.{base}"))
        .map(|h| (h, HostSource::DomainAndToken))
        .map_err(|e| bad("DOMAIN", e))
}

/// What a refused refresh means for the saved pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Token has been revoked`: the refresh token was spent (a newer pair exists somewhere, or was used) or the
    /// integration was uninstalled.
    Revoked,
    /// `Token has expired`: the refresh token went unused for 3 months.
    Expired,
    /// Anything else Kommo said, as the catalogue reads it (wrong secret, redirect URI, …).
    Other(Hint),
}

/// The hint Kommo sends for a refresh token past its 3 months (the OAuth server's wording, as for `Token has been
/// revoked`). Not yet in [`Hint`]'s catalogue, which the page shares.
pub const TOKEN_EXPIRED_HINT: &str = "Token has expired";

/// Read a refused refresh.
pub fn classify_refusal(error: &KommoError) -> Refusal {
    match error.classify() {
        Hint::TokenRevoked => Refusal::Revoked,
        Hint::Unknown => {
            let says_expired = [&error.hint, &error.detail, &error.title]
                .into_iter()
                .flatten()
                .any(|f| {
                    f.to_ascii_lowercase()
                        .contains(&TOKEN_EXPIRED_HINT.to_ascii_lowercase())
                });
            if says_expired {
                Refusal::Expired
            } else {
                Refusal::Other(Hint::Unknown)
            }
        }
        hint => Refusal::Other(hint),
    }
}

impl Refusal {
    /// Cause and fix: the catalogue's for every hint it knows; its own for an expired refresh token.
    pub fn explain(self, lang: Lang) -> Explanation {
        match (self, lang) {
            (Refusal::Revoked, _) => Hint::TokenRevoked.explain(lang),
            (Refusal::Other(hint), _) => hint.explain(lang),
            (Refusal::Expired, Lang::En) => Explanation {
                cause: "The refresh token was not used for 3 months, so Kommo let it expire.",
                fix: "Go through consent again (the helper page, or `kommo-env exchange` with a new code) and refresh at least every few weeks, e.g. from cron.",
            },
            (Refusal::Expired, Lang::Ru) => Explanation {
                cause: "Refresh-токен не использовался 3 месяца, и Kommo его погасил.",
                fix: "Пройдите согласие заново (страница помощника или `kommo-env exchange` с новым кодом) и обновляйте токены хотя бы раз в несколько недель, например из cron.",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            crate::jwt::encode_segment(&claims)
        )
    }

    #[test]
    fn refreshes_only_when_the_margin_is_reached() {
        let t = token(json!({"exp": 10_000}));
        assert_eq!(due(&t, 5_000, None), Due::Always);
        assert_eq!(
            due(&t, 5_000, Some(7_200)),
            Due::Expiring { expires_in: 5_000 }
        );
        assert_eq!(
            due(&t, 1_000, Some(7_200)),
            Due::Fresh { expires_in: 9_000 }
        );
        assert_eq!(
            due(&t, 2_800, Some(7_200)),
            Due::Expiring { expires_in: 7_200 }
        );
        assert_eq!(
            due(&t, 12_000, Some(60)),
            Due::Expiring { expires_in: -2_000 }
        );
        assert_eq!(due("def50200", 0, Some(60)), Due::Unknown);
        assert_eq!(due(&token(json!({"sub": "1"})), 0, Some(60)), Due::Unknown);
        assert!(!Due::Fresh { expires_in: 1 }.should_refresh());
        assert!(Due::Unknown.should_refresh());
        assert_eq!(
            due(&t, 0, Some(u64::MAX)),
            Due::Expiring { expires_in: 10_000 }
        );
    }

    #[test]
    fn account_host_from_the_variable_or_the_token() {
        let t = token(json!({"base_domain": "amocrm.ru"}));
        assert_eq!(
            account_host("P_", Some("kwid.kommo.com"), Some("other"), Some(&t)),
            Ok((
                AccountHost::parse("kwid.kommo.com").unwrap(),
                HostSource::AccountHost
            ))
        );
        assert_eq!(
            account_host("P_", None, Some("kwid"), Some(&t)),
            Ok((
                AccountHost::parse("kwid.amocrm.ru").unwrap(),
                HostSource::DomainAndToken
            ))
        );
        assert_eq!(
            account_host("P_", Some(""), Some("kwid.kommo.com"), None),
            Ok((
                AccountHost::parse("kwid.kommo.com").unwrap(),
                HostSource::Domain
            ))
        );
    }

    #[test]
    fn host_problems_name_the_variable() {
        let e = account_host("P_", Some("evil.example.com"), None, None).unwrap_err();
        assert!(e.to_string().starts_with("P_ACCOUNT_HOST: "), "{e}");
        let e = account_host("P_", None, Some("a.b.kommo.com"), None).unwrap_err();
        assert!(e.to_string().starts_with("P_DOMAIN: "), "{e}");
        let e = account_host("P_", None, None, None).unwrap_err();
        assert!(e.to_string().contains("P_ACCOUNT_HOST is not set"), "{e}");
        let e = account_host("P_", None, Some("kwid"), Some("not-a-jwt")).unwrap_err();
        assert!(e.to_string().contains("base_domain"), "{e}");
        let t = token(json!({"base_domain": "example.org"}));
        let e = account_host("", None, Some("kwid"), Some(&t)).unwrap_err();
        assert!(e.to_string().starts_with("DOMAIN: "), "{e}");
    }

    #[test]
    fn refusals_revoked_expired_and_the_rest() {
        assert_eq!(
            classify_refusal(&Hint::TokenRevoked.error()),
            Refusal::Revoked
        );
        let expired = KommoError {
            hint: Some("Token has expired".into()),
            title: Some("Unauthorized".into()),
            status: Some(401),
            ..Default::default()
        };
        assert_eq!(classify_refusal(&expired), Refusal::Expired);
        assert_eq!(
            classify_refusal(&Hint::CheckClientSecret.error()),
            Refusal::Other(Hint::CheckClientSecret)
        );
        let unknown = KommoError {
            hint: Some("Cannot decrypt the refresh token".into()),
            ..Default::default()
        };
        assert_eq!(classify_refusal(&unknown), Refusal::Other(Hint::Unknown));
        for r in [
            Refusal::Revoked,
            Refusal::Expired,
            Refusal::Other(Hint::Unknown),
        ] {
            assert_ne!(r.explain(Lang::En), r.explain(Lang::Ru));
        }
        assert_eq!(
            Refusal::Revoked.explain(Lang::En),
            Hint::TokenRevoked.explain(Lang::En)
        );
        assert_ne!(
            Refusal::Expired.explain(Lang::En),
            Refusal::Revoked.explain(Lang::En)
        );
    }
}
