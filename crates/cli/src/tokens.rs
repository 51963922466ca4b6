//! Reading a token endpoint answer into tokens or a failure with the right exit code and the page's explanation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kommo::refresh::{classify_refusal, Refusal};
use kommo::token::read_token_answer;
use kommo::{Lang, TokenFailure, TokenResponse};

use crate::fail::{Exit, Failure, Result};
use crate::net::{NoAnswer, Reply};

/// Which grant was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Refresh,
    Code,
}

/// Now, Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix seconds as RFC 3339 UTC (`2026-12-03T14:28:16Z`).
pub fn rfc3339(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// `1d 2h`, `3h 5m`, `42s`: a rough span for messages.
pub fn span(secs: i64) -> String {
    let (d, h, m, s) = kommo::api::split_duration(secs.abs());
    let text = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    };
    if secs < 0 {
        format!("{text} ago")
    } else {
        text
    }
}

/// The access token's expiry as shown: `2026-12-03T14:28:16Z (in 23h 59m)`.
pub fn expiry(access_token: &str) -> Option<String> {
    let exp = kommo::jwt::decode_payload(access_token).ok()?.exp?;
    let left = exp - unix_now();
    Some(if left >= 0 {
        format!("{} (in {})", rfc3339(exp), span(left))
    } else {
        format!("{} ({})", rfc3339(exp), span(left))
    })
}

/// The answer to a token request, read.
pub fn read(
    answer: std::result::Result<Reply, NoAnswer>,
    grant: Grant,
    origin: &str,
    lang: Lang,
) -> Result<TokenResponse> {
    let unchanged = match grant {
        Grant::Refresh => "the file is unchanged and its pair still works: run again later",
        Grant::Code => "the file is unchanged",
    };
    let reply = match answer {
        Ok(r) => r,
        Err(n) => {
            let mut f = Failure::new(Exit::Trouble, n.text).with(unchanged);
            if grant == Grant::Code && n.may_have_arrived {
                f = f.with("the code may have been used by this request; if a retry says it was revoked, get a new one");
            }
            return Err(f);
        }
    };
    match read_token_answer(reply.status, &reply.body) {
        Ok(t) if grant == Grant::Refresh && t.refresh_token.is_empty() => Err(Failure::new(
            Exit::Trouble,
            format!("{origin} answered with an access token but no refresh token"),
        )
        .with(unchanged)),
        Ok(t) => Ok(t),
        Err(TokenFailure::Kommo { status, error }) => {
            let said = error
                .hint
                .as_deref()
                .or(error.detail.as_deref())
                .or(error.title.as_deref())
                .unwrap_or("no hint")
                .to_string();
            let (exit, explanation) = match grant {
                Grant::Refresh => {
                    let refusal = classify_refusal(&error);
                    let exit = match refusal {
                        Refusal::Revoked => Exit::Revoked,
                        Refusal::Expired => Exit::Expired,
                        Refusal::Other(_) => Exit::Refused,
                    };
                    (exit, refusal.explain(lang))
                }
                Grant::Code => (Exit::Refused, error.classify().explain(lang)),
            };
            let what = match grant {
                Grant::Refresh => "the refresh",
                Grant::Code => "the code",
            };
            Err(Failure::new(exit, format!("Kommo refused {what} (HTTP {status}): {said}"))
                .with(explanation.cause)
                .with(explanation.fix)
                .with("the file is unchanged"))
        }
        Err(TokenFailure::Proxy(p)) => Err(Failure::new(
            Exit::Trouble,
            format!("{origin} answered with an exchange-proxy error ({}): {}", p.proxy_error.as_str(), p.message),
        )
        .with(unchanged)),
        Err(TokenFailure::NotJson { status, .. }) => Err(Failure::new(
            Exit::Trouble,
            format!("the answer from {origin} (HTTP {status}) is not Kommo's JSON: is the account host right, and is Kommo up?"),
        )
        .with(unchanged)),
        Err(TokenFailure::Unexpected { status }) => Err(Failure::new(
            Exit::Trouble,
            format!("the answer from {origin} (HTTP {status}) has neither tokens nor a Kommo error"),
        )
        .with(unchanged)),
    }
}
