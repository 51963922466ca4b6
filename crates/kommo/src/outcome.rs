//! What the page makes of a return from consent and of a token answer — pure glue over [`crate::callback`],
//! [`crate::token`] and [`crate::env`], kept here so it is tested natively.

use serde::{Deserialize, Serialize};

use crate::callback::{
    check_state, parse_callback, Callback, CallbackError, CodeReturn, ErrorReturn, StateProblem,
};
use crate::env::{Comment, EnvValues};
use crate::hints::Hint;
use crate::host::AccountHost;
use crate::token::TokenResponse;

/// A return from consent, read and checked. Serializable so the page can keep it across a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnOutcome {
    /// A code whose `state` matched. The account host still has to be checked ([`CodeReturn::account_host`]).
    Code { ret: CodeReturn },
    /// The consent page returned an error (normally `access_denied`).
    Declined { error: ErrorReturn },
    /// The `state` check failed: never exchange this code.
    Untrusted {
        problem: Untrusted,
        referer: Option<String>,
    },
    /// The query could not be read.
    Malformed { problem: Malformed },
}

/// A serializable [`StateProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Untrusted {
    NothingStored,
    Missing,
    Mismatch,
}

impl From<StateProblem> for Untrusted {
    fn from(p: StateProblem) -> Self {
        match p {
            StateProblem::NothingStored => Untrusted::NothingStored,
            StateProblem::Missing => Untrusted::Missing,
            StateProblem::Mismatch => Untrusted::Mismatch,
        }
    }
}

/// A serializable [`CallbackError`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    Duplicate(String),
    CodeAndError,
    Empty(String),
    MissingReferer,
}

impl From<CallbackError> for Malformed {
    fn from(e: CallbackError) -> Self {
        match e {
            CallbackError::Duplicate(p) => Malformed::Duplicate(p.to_string()),
            CallbackError::CodeAndError => Malformed::CodeAndError,
            CallbackError::Empty(p) => Malformed::Empty(p.to_string()),
            CallbackError::MissingReferer => Malformed::MissingReferer,
        }
    }
}

/// Read `location.search` against the `state` stored before leaving for consent. `None` for an ordinary visit.
/// A code is only ever returned as [`ReturnOutcome::Code`] when the state matched.
pub fn read_return(query: &str, stored_state: Option<&str>) -> Option<ReturnOutcome> {
    match parse_callback(query) {
        Err(e) => Some(ReturnOutcome::Malformed { problem: e.into() }),
        Ok(None) => None,
        Ok(Some(Callback::Error(error))) => Some(ReturnOutcome::Declined { error }),
        Ok(Some(Callback::Code(ret))) => {
            Some(match check_state(stored_state, ret.state.as_deref()) {
                Ok(()) => ReturnOutcome::Code { ret },
                Err(p) => ReturnOutcome::Untrusted {
                    problem: p.into(),
                    referer: Some(ret.referer),
                },
            })
        }
    }
}

/// Why a return was set aside instead of replacing what the tab holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAside {
    /// It does not carry the `state` of the consent this tab started.
    State(Untrusted),
    /// It could not be read.
    Malformed(Malformed),
}

impl ReturnOutcome {
    /// `None` when this return answers the consent this tab started: a code whose `state` matched, or a denial
    /// carrying that `state` (Kommo sends it back with `error=access_denied`). Otherwise why not. A return that is
    /// not this tab's own must not displace a pending consent, a code or tokens: a crafted link would otherwise wipe
    /// them.
    pub fn not_ours(&self, stored_state: Option<&str>) -> Option<SetAside> {
        match self {
            ReturnOutcome::Code { .. } => None,
            ReturnOutcome::Declined { error } => check_state(stored_state, error.state.as_deref())
                .err()
                .map(|p| SetAside::State(p.into())),
            ReturnOutcome::Untrusted { problem, .. } => Some(SetAside::State(*problem)),
            ReturnOutcome::Malformed { problem } => Some(SetAside::Malformed(problem.clone())),
        }
    }
}

/// The snake_case name of a hint (the page's `data-hint` attribute).
pub fn hint_key(hint: Hint) -> &'static str {
    match hint {
        Hint::CodeExpired => "code_expired",
        Hint::CodeRevoked => "code_revoked",
        Hint::CannotDecrypt => "cannot_decrypt",
        Hint::CheckClientId => "check_client_id",
        Hint::CheckClientSecret => "check_client_secret",
        Hint::RedirectUriMismatch => "redirect_uri_mismatch",
        Hint::InvalidAccount => "invalid_account",
        Hint::TokenRevoked => "token_revoked",
        Hint::SendRequestToAccount => "send_request_to_account",
        Hint::ClientAuthFailed => "client_auth_failed",
        Hint::Unknown => "unknown",
    }
}

/// Seconds as `m:ss` (negative counts as zero).
pub fn format_mm_ss(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}", s / 60, s % 60)
}

/// Where the env block's `CLIENT_SECRET` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource<'a> {
    /// The secret the user typed.
    Typed(&'a str),
    /// Left empty because the exchange proxy holds the secret.
    HeldByProxy,
    /// Not known to the page (not typed, e.g. after a reload without "remember"); left empty with a note.
    Unknown,
}

/// The values of the env block after a successful exchange. `expires_local` is the access token's expiry, already
/// formatted in the user's local time.
pub fn env_values(
    host: &AccountHost,
    client_id: &str,
    secret: SecretSource<'_>,
    redirect_uri: &str,
    tokens: &TokenResponse,
    expires_local: &str,
) -> EnvValues {
    let mut comments = vec![
        Comment::new(format!("Account host: {host}")),
        Comment::new(format!(
            "Access token expires: {expires_local}; the refresh token rotates, save the new one after each refresh"
        )),
    ];
    let client_secret = match secret {
        SecretSource::Typed(s) if !s.is_empty() => s,
        SecretSource::Typed(_) | SecretSource::Unknown => {
            comments.push(Comment::new(
                "CLIENT_SECRET is empty: fill in the integration's secret key",
            ));
            ""
        }
        SecretSource::HeldByProxy => {
            comments.push(Comment::new(
                "CLIENT_SECRET is empty: the exchange proxy holds the secret key; your app needs it to refresh tokens",
            ));
            ""
        }
    };
    EnvValues {
        domain: host.subdomain().to_string(),
        account_host: host.to_string(),
        client_id: client_id.to_string(),
        client_secret: client_secret.to_string(),
        redirect_uri: redirect_uri.to_string(),
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
        comments,
    }
}

/// The env block for a private integration's long-lived token: no refresh token (and no secret needed), each
/// said in a comment. `client_id` is the token's `aud` when known; `expires_local` its expiry in local time.
pub fn long_lived_env_values(
    host: &AccountHost,
    client_id: &str,
    redirect_uri: &str,
    token: &str,
    expires_local: &str,
) -> EnvValues {
    EnvValues {
        domain: host.subdomain().to_string(),
        account_host: host.to_string(),
        client_id: client_id.to_string(),
        client_secret: String::new(),
        redirect_uri: redirect_uri.to_string(),
        access_token: token.to_string(),
        refresh_token: String::new(),
        comments: vec![
            Comment::new(format!("Account host: {host}")),
            Comment::new(format!(
                "Long-lived token expires: {expires_local}; generate a new one in the integration's Keys and scopes tab before then"
            )),
            Comment::new("REFRESH_TOKEN is empty: a long-lived token has no refresh token"),
            Comment::new("CLIENT_SECRET is empty: API calls with a long-lived token do not need it"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{render, EnvFormat};

    const S: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_matching_state_gives_a_code() {
        let q = format!("?code=c0de&state={S}&referer=kwid.kommo.com&client_id=cid");
        let Some(ReturnOutcome::Code { ret }) = read_return(&q, Some(S)) else {
            panic!()
        };
        assert_eq!(ret.code, "c0de");
        assert_eq!(ret.account_host().unwrap().as_str(), "kwid.kommo.com");
    }

    #[test]
    fn any_state_problem_withholds_the_code() {
        let q = format!("?code=c0de&state={S}&referer=kwid.kommo.com");
        for (stored, want) in [
            (None, Untrusted::NothingStored),
            (Some(""), Untrusted::NothingStored),
            (
                Some("ffffffffffffffffffffffffffffffff"),
                Untrusted::Mismatch,
            ),
        ] {
            let out = read_return(&q, stored).unwrap();
            assert_eq!(
                out,
                ReturnOutcome::Untrusted {
                    problem: want,
                    referer: Some("kwid.kommo.com".into())
                }
            );
        }
        let out = read_return("?code=c0de&referer=kwid.kommo.com", Some(S)).unwrap();
        assert!(matches!(
            out,
            ReturnOutcome::Untrusted {
                problem: Untrusted::Missing,
                ..
            }
        ));
        // The serialized form of an untrusted return holds no code.
        assert!(!serde_json::to_string(&out).unwrap().contains("c0de"));
    }

    #[test]
    fn denials_malformed_and_ordinary_visits() {
        let Some(ReturnOutcome::Declined { error }) =
            read_return("?error=access_denied&state=x", Some(S))
        else {
            panic!()
        };
        assert!(error.is_access_denied());
        assert_eq!(
            read_return("?code=a&code=b&referer=k.kommo.com", Some(S)),
            Some(ReturnOutcome::Malformed {
                problem: Malformed::Duplicate("code".into())
            })
        );
        assert_eq!(
            read_return("?code=a&state=x", Some(S)),
            Some(ReturnOutcome::Malformed {
                problem: Malformed::MissingReferer
            })
        );
        assert_eq!(read_return("", Some(S)), None);
        assert_eq!(read_return("?utm=1", None), None);
    }

    #[test]
    fn only_this_tabs_own_return_is_ours() {
        let ours = |q: &str, stored: Option<&str>| read_return(q, stored).unwrap().not_ours(stored);
        let code = format!("?code=c&state={S}&referer=k.kommo.com");
        assert_eq!(ours(&code, Some(S)), None);
        assert_eq!(
            ours(&code, Some("ffffffffffffffffffffffffffffffff")),
            Some(SetAside::State(Untrusted::Mismatch))
        );
        assert_eq!(
            ours(&code, None),
            Some(SetAside::State(Untrusted::NothingStored))
        );
        // A denial is ours only with our state.
        let denied = format!("?error=access_denied&state={S}");
        assert_eq!(ours(&denied, Some(S)), None);
        assert_eq!(
            ours("?error=access_denied&state=x", Some(S)),
            Some(SetAside::State(Untrusted::Mismatch))
        );
        assert_eq!(
            ours("?error=access_denied", Some(S)),
            Some(SetAside::State(Untrusted::Missing))
        );
        assert_eq!(
            ours(&denied, None),
            Some(SetAside::State(Untrusted::NothingStored))
        );
        // A return that cannot be read is never ours, whatever state it carries.
        assert_eq!(
            ours(&format!("?code=a&state={S}"), Some(S)),
            Some(SetAside::Malformed(Malformed::MissingReferer))
        );
    }

    #[test]
    fn outcomes_survive_serialization() {
        let outs = [
            read_return(
                &format!("?code=c&state={S}&referer=k.kommo.com&from_widget=1"),
                Some(S),
            )
            .unwrap(),
            read_return("?error=access_denied", None).unwrap(),
            read_return("?code=c&referer=k.kommo.com", Some(S)).unwrap(),
            read_return("?code=&referer=k.kommo.com", None).unwrap(),
            read_return("?code=a&error=b&referer=k.kommo.com", None).unwrap(),
        ];
        for out in outs {
            let json = serde_json::to_string(&out).unwrap();
            assert_eq!(
                serde_json::from_str::<ReturnOutcome>(&json).unwrap(),
                out,
                "{json}"
            );
        }
    }

    #[test]
    fn hint_keys_are_distinct_snake_case() {
        let mut keys: Vec<&str> = Hint::ALL.iter().map(|h| hint_key(*h)).collect();
        keys.push(hint_key(Hint::Unknown));
        assert!(keys
            .iter()
            .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(hint_key(Hint::CodeExpired), "code_expired");
    }

    #[test]
    fn countdown_format() {
        assert_eq!(format_mm_ss(1200), "20:00");
        assert_eq!(format_mm_ss(61), "1:01");
        assert_eq!(format_mm_ss(-5), "0:00");
    }

    #[test]
    fn env_block_for_a_known_answer() {
        let host = AccountHost::parse("kwid.kommo.com").unwrap();
        let tokens = TokenResponse {
            token_type: "Bearer".into(),
            expires_in: 86400,
            access_token: "a.b.c".into(),
            refresh_token: "def502".into(),
            server_time: None,
        };
        let v = env_values(
            &host,
            "cid",
            SecretSource::HeldByProxy,
            "https://app.example/",
            &tokens,
            "2026-11-28 14:00 (UTC+03:00)",
        );
        assert_eq!(
            render(EnvFormat::Dotenv, "KOMMO_TEST_", &v),
            "# Account host: kwid.kommo.com\n\
             # Access token expires: 2026-11-28 14:00 (UTC+03:00); the refresh token rotates, save the new one after each refresh\n\
             # CLIENT_SECRET is empty: the exchange proxy holds the secret key; your app needs it to refresh tokens\n\
             KOMMO_TEST_ENABLED=1\n\
             KOMMO_TEST_DOMAIN=kwid\n\
             KOMMO_TEST_ACCOUNT_HOST=kwid.kommo.com\n\
             KOMMO_TEST_CLIENT_ID=cid\n\
             KOMMO_TEST_CLIENT_SECRET=\n\
             KOMMO_TEST_REDIRECT_URI=https://app.example/\n\
             KOMMO_TEST_ACCESS_TOKEN=a.b.c\n\
             KOMMO_TEST_REFRESH_TOKEN=def502\n"
        );
        let v = env_values(
            &host,
            "cid",
            SecretSource::Typed("s3"),
            "https://app.example/",
            &tokens,
            "x",
        );
        assert_eq!(v.comments.len(), 2);
        assert_eq!(v.client_secret, "s3");
        for unknown in [SecretSource::Typed(""), SecretSource::Unknown] {
            let v = env_values(&host, "cid", unknown, "https://app.example/", &tokens, "x");
            assert_eq!(v.client_secret, "");
            assert_eq!(
                v.comments[2].as_str(),
                "CLIENT_SECRET is empty: fill in the integration's secret key"
            );
        }
    }

    #[test]
    fn env_block_for_a_long_lived_token() {
        let host = AccountHost::parse("kwid.amocrm.ru").unwrap();
        let v = long_lived_env_values(&host, "cid", "", "a.b.c", "2027-01-01 10:00 (UTC+03:00)");
        let out = render(EnvFormat::Dotenv, "P_", &v);
        assert!(
            out.contains("# REFRESH_TOKEN is empty: a long-lived token has no refresh token\n"),
            "{out}"
        );
        assert!(out.contains("P_REFRESH_TOKEN=\n"), "{out}");
        assert!(out.contains("P_ACCESS_TOKEN=a.b.c\n"), "{out}");
        assert!(
            out.contains("P_DOMAIN=kwid\nP_ACCOUNT_HOST=kwid.amocrm.ru\n"),
            "{out}"
        );
        assert!(
            out.contains("Long-lived token expires: 2027-01-01 10:00 (UTC+03:00)"),
            "{out}"
        );
    }
}
