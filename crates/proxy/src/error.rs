//! The proxy's own answers when something goes wrong: [`Failure`], an error that is [`IntoResponse`] so that checks
//! and handlers return `Result<_, Failure>` and use `?`; and [`AccessNote`], what an answer tells the access log.
//!
//! The pure checks (admission, token-body rules, held-secret policy, URL building) return a
//! [`kommo::proxy::ProxyError`]; `?` turns it into a [`Failure`], and a handler names the account host once with
//! [`Failure::about`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kommo::proxy::{ProxyError, ProxyErrorCode};
use kommo::AccountHost;

use crate::limit::retry_after_secs;

/// What the access log reports about a request, left on the answer as a response extension (by a [`Failure`], and by
/// the forwarding of Kommo's answers).
#[derive(Clone, Debug, Default)]
pub struct AccessNote {
    /// The validated account host, once known.
    pub account: Option<String>,
    /// The proxy's own error, if it answered one.
    pub error: Option<ProxyErrorCode>,
}

/// A refusal or failure of the proxy's own: the [`ProxyError`] JSON body with its status, `Cache-Control: no-store`,
/// `Retry-After` when set, and the account host for the access log once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    error: ProxyError,
    account: Option<String>,
    retry_after_secs: Option<u64>,
}

impl Failure {
    pub fn new(code: ProxyErrorCode, message: impl Into<String>) -> Self {
        ProxyError::new(code, message).into()
    }

    /// `rate_limited` with `Retry-After` for `wait` (whole seconds, at least 1), said in the message too.
    pub fn rate_limited(why: &str, wait: std::time::Duration) -> Self {
        let secs = retry_after_secs(wait);
        let mut failure = Failure::new(
            ProxyErrorCode::RateLimited,
            format!("{why}; Kommo blocks clients that keep going — retry after {secs} s"),
        );
        failure.retry_after_secs = Some(secs);
        failure
    }

    /// Name the account host the request was for (a host named before is kept).
    pub fn about(mut self, account: &AccountHost) -> Self {
        self.account.get_or_insert_with(|| account.to_string());
        self
    }

    /// The error as it goes on the wire.
    pub fn error(&self) -> &ProxyError {
        &self.error
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after_secs
    }
}

impl From<ProxyError> for Failure {
    fn from(error: ProxyError) -> Self {
        Failure {
            error,
            account: None,
            retry_after_secs: None,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.error.to_json(),
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.extensions_mut().insert(AccessNote {
            account: self.account,
            error: Some(self.error.proxy_error),
        });
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_failure_answers_its_json_with_status_retry_after_and_note() {
        let account = AccountHost::parse("kwid.kommo.com").unwrap();
        let other = AccountHost::parse("other.kommo.com").unwrap();
        let failure = Failure::rate_limited("too many", Duration::from_millis(1500))
            .about(&account)
            .about(&other);
        assert_eq!(failure.retry_after(), Some(2));
        assert!(failure.error().message.contains("retry after 2 s"));
        let resp = failure.clone().into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let h = resp.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::RETRY_AFTER], "2");
        let note = resp.extensions().get::<AccessNote>().unwrap();
        assert_eq!(
            note.account.as_deref(),
            Some("kwid.kommo.com"),
            "the first host named stays"
        );
        assert_eq!(note.error, Some(ProxyErrorCode::RateLimited));

        let plain: Failure = ProxyError::new(ProxyErrorCode::Internal, "x").into();
        let resp = plain.into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(resp.extensions().get::<AccessNote>().unwrap().account, None);
    }
}
