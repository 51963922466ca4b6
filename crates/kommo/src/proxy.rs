//! The contract between the page and the exchange proxy: header names, the proxy's own error body and `/healthz`.

use serde::{Deserialize, Serialize};

/// The header that names the account host the proxy must forward to.
pub const ACCOUNT_HEADER: &str = "x-kommo-account";
/// When the proxy sends every account to one upstream (tests, the demo), it tells the upstream which account host
/// the request was for in this header.
pub const FORWARDED_HOST_HEADER: &str = "x-forwarded-host";
/// The proxy's health path.
pub const HEALTH_PATH: &str = "/healthz";

/// What went wrong inside the proxy (as opposed to an answer from Kommo, which the proxy passes on unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyErrorCode {
    /// No `X-Kommo-Account` header.
    MissingAccount,
    /// The account host is not an allowed Kommo/amoCRM account host.
    BadAccountHost,
    /// The request body is over the size cap.
    BodyTooLarge,
    /// The body is not a token request.
    BadRequest,
    /// The proxy holds credentials for another integration and does not pass others through.
    ClientNotAllowed,
    /// Too many requests from this client; wait and retry.
    RateLimited,
    /// The upstream could not be reached (DNS, connection refused or timed out, TLS): the request never left, so
    /// a code in it was not used.
    UpstreamUnreachable,
    /// The upstream was connected but did not answer in time: the request may have arrived.
    UpstreamTimeout,
    /// The upstream answered with something that is not JSON (an HTML error page, garbage).
    UpstreamNotJson,
    /// The connection broke after it was made (reset or closed while sending or while reading the answer): the
    /// request may have arrived, so a code in it may have been used — like [`ProxyErrorCode::UpstreamTimeout`].
    UpstreamInterrupted,
    /// The request's origin is not allowed.
    OriginNotAllowed,
    /// A refresh with the secret left out, to a proxy whose held secret signs code exchanges only
    /// ([`Health::signs_refresh`]): send the secret.
    SecretRequired,
    /// Any other failure.
    Internal,
}

impl ProxyErrorCode {
    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyErrorCode::MissingAccount => "missing_account",
            ProxyErrorCode::BadAccountHost => "bad_account_host",
            ProxyErrorCode::BodyTooLarge => "body_too_large",
            ProxyErrorCode::BadRequest => "bad_request",
            ProxyErrorCode::ClientNotAllowed => "client_not_allowed",
            ProxyErrorCode::RateLimited => "rate_limited",
            ProxyErrorCode::UpstreamUnreachable => "upstream_unreachable",
            ProxyErrorCode::UpstreamTimeout => "upstream_timeout",
            ProxyErrorCode::UpstreamNotJson => "upstream_not_json",
            ProxyErrorCode::UpstreamInterrupted => "upstream_interrupted",
            ProxyErrorCode::OriginNotAllowed => "origin_not_allowed",
            ProxyErrorCode::SecretRequired => "secret_required",
            ProxyErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status the proxy answers with.
    pub fn status(self) -> u16 {
        match self {
            ProxyErrorCode::MissingAccount
            | ProxyErrorCode::BadAccountHost
            | ProxyErrorCode::BadRequest => 400,
            ProxyErrorCode::BodyTooLarge => 413,
            ProxyErrorCode::ClientNotAllowed
            | ProxyErrorCode::OriginNotAllowed
            | ProxyErrorCode::SecretRequired => 403,
            ProxyErrorCode::RateLimited => 429,
            ProxyErrorCode::UpstreamUnreachable
            | ProxyErrorCode::UpstreamNotJson
            | ProxyErrorCode::UpstreamInterrupted => 502,
            ProxyErrorCode::UpstreamTimeout => 504,
            ProxyErrorCode::Internal => 500,
        }
    }
}

/// The proxy's own error body: `{"proxy_error":"upstream_unreachable","message":"…", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyError {
    pub proxy_error: ProxyErrorCode,
    pub message: String,
    /// For `upstream_not_json`: what the upstream answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_content_type: Option<String>,
    /// The first bytes of a non-JSON upstream body (at most [`ProxyError::SNIPPET_MAX`] characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_body: Option<String>,
}

impl ProxyError {
    /// How much of a non-JSON upstream body the proxy passes back.
    pub const SNIPPET_MAX: usize = 2000;

    pub fn new(code: ProxyErrorCode, message: impl Into<String>) -> Self {
        ProxyError {
            proxy_error: code,
            message: message.into(),
            upstream_status: None,
            upstream_content_type: None,
            upstream_body: None,
        }
    }

    /// `upstream_not_json`, keeping the start of what was received.
    pub fn not_json(status: u16, content_type: Option<&str>, body: &str) -> Self {
        let snippet: String = body.chars().take(Self::SNIPPET_MAX).collect();
        ProxyError {
            proxy_error: ProxyErrorCode::UpstreamNotJson,
            message: format!(
                "the account host answered {status} with {} instead of JSON",
                content_type.unwrap_or("no content type")
            ),
            upstream_status: Some(status),
            upstream_content_type: content_type.map(str::to_string),
            upstream_body: Some(snippet),
        }
    }

    pub fn status(&self) -> u16 {
        self.proxy_error.status()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Recognise a proxy error in a parsed JSON body.
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        value.get("proxy_error")?;
        serde_json::from_value(value.clone()).ok()
    }
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"`.
    pub status: String,
    /// The proxy's version.
    pub version: String,
    /// Whether the proxy holds a client secret (never the secret itself).
    pub holds_secret: bool,
    /// The integration id the held secret belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Whether the held secret also signs refreshes (`grant_type=refresh_token`), not only code exchanges. `None`
    /// from proxies older than this field, which signed both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signs_refresh: Option<bool>,
}

impl Health {
    /// `/healthz`'s answer from parsed JSON: an object with `status`, `version` (strings) and `holds_secret` (a
    /// boolean), and, each absent or `null` for `None`, `client_id` (a string) and `signs_refresh` (a boolean);
    /// other keys are ignored. `None` for anything else. The same as the derived `Deserialize` on every object
    /// (`health_reader_agrees_with_serde` in the tests); read by hand so that the page's first load does without
    /// serde's value deserializer.
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        let map = value.as_object()?;
        let text = |key: &str| map.get(key)?.as_str().map(str::to_string);
        // Absent or null: None; a value of another type: the whole answer is refused.
        fn optional<T>(v: Option<&Value>, read: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
            match v {
                None | Some(Value::Null) => Some(None),
                Some(v) => read(v).map(Some),
            }
        }
        Some(Health {
            status: text("status")?,
            version: text("version")?,
            holds_secret: map.get("holds_secret")?.as_bool()?,
            client_id: optional(map.get("client_id"), |v| v.as_str().map(str::to_string))?,
            signs_refresh: optional(map.get("signs_refresh"), Value::as_bool)?,
        })
    }

    /// The proxy holds the secret of this integration (`None`: no valid integration id known), so a code exchange
    /// may leave the secret out. A proxy that names no integration holds it for any.
    pub fn holds_secret_for(&self, client_id: Option<&str>) -> bool {
        self.holds_secret
            && match (self.client_id.as_deref(), client_id) {
                (None, _) => true,
                (Some(held), Some(mine)) => held.eq_ignore_ascii_case(mine),
                (Some(_), None) => false,
            }
    }

    /// The proxy holds this integration's secret but signs code exchanges only: a refresh must bring the secret.
    pub fn holds_for_exchanges_only(&self, client_id: Option<&str>) -> bool {
        self.holds_secret_for(client_id) && self.signs_refresh == Some(false)
    }

    /// A refresh with the secret left out will be signed by the proxy.
    pub fn signs_refresh_for(&self, client_id: &str) -> bool {
        self.holds_secret_for(Some(client_id)) && self.signs_refresh != Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_documented() {
        let e = ProxyError::new(ProxyErrorCode::BadAccountHost, "nope");
        assert_eq!(
            e.to_json(),
            r#"{"proxy_error":"bad_account_host","message":"nope"}"#
        );
        for code in [
            ProxyErrorCode::MissingAccount,
            ProxyErrorCode::BadAccountHost,
            ProxyErrorCode::BodyTooLarge,
            ProxyErrorCode::BadRequest,
            ProxyErrorCode::ClientNotAllowed,
            ProxyErrorCode::RateLimited,
            ProxyErrorCode::UpstreamUnreachable,
            ProxyErrorCode::UpstreamTimeout,
            ProxyErrorCode::UpstreamNotJson,
            ProxyErrorCode::UpstreamInterrupted,
            ProxyErrorCode::OriginNotAllowed,
            ProxyErrorCode::SecretRequired,
            ProxyErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(code.status() >= 400);
        }
    }

    #[test]
    fn upstream_interrupted_reads_back() {
        let v = serde_json::json!({"proxy_error": "upstream_interrupted", "message": "reset"});
        let e = ProxyError::from_value(&v).unwrap();
        assert_eq!(e.proxy_error, ProxyErrorCode::UpstreamInterrupted);
        assert_eq!(e.status(), 502);
    }

    #[test]
    fn not_json_keeps_a_bounded_snippet() {
        let body = "<html>".repeat(1000);
        let e = ProxyError::not_json(502, Some("text/html"), &body);
        assert_eq!(e.status(), 502);
        assert_eq!(
            e.upstream_body.as_ref().unwrap().chars().count(),
            ProxyError::SNIPPET_MAX
        );
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(ProxyError::from_value(&v), Some(e));
        assert_eq!(
            ProxyError::from_value(&serde_json::json!({"hint": "x"})),
            None
        );
    }

    #[test]
    fn refresh_signing_follows_the_health_answer() {
        let id = "2f1c0b8e-0000-4000-8000-000000000001";
        let h = |holds: bool, client: Option<&str>, signs: Option<bool>| Health {
            status: "ok".into(),
            version: "1".into(),
            holds_secret: holds,
            client_id: client.map(str::to_string),
            signs_refresh: signs,
        };
        assert!(h(true, Some(id), Some(true)).signs_refresh_for(id));
        assert!(h(true, Some(&id.to_uppercase()), Some(true)).signs_refresh_for(id));
        assert!(
            h(true, Some(id), None).signs_refresh_for(id),
            "older proxies signed refreshes"
        );
        assert!(!h(true, Some(id), Some(false)).signs_refresh_for(id));
        assert!(!h(false, None, None).signs_refresh_for(id));
        assert!(!h(true, Some("another"), Some(true)).signs_refresh_for(id));
        assert!(h(true, Some(id), Some(false)).holds_secret_for(Some(id)));
        assert!(!h(true, Some(id), None).holds_secret_for(None));
        assert!(h(true, None, None).holds_secret_for(None));
        assert!(!h(false, None, None).holds_secret_for(Some(id)));
        assert!(h(true, Some(id), Some(false)).holds_for_exchanges_only(Some(id)));
        assert!(!h(true, Some(id), None).holds_for_exchanges_only(Some(id)));
        assert!(
            !h(true, Some("another"), Some(false)).holds_for_exchanges_only(Some(id)),
            "another integration's secret is not held for this one at all"
        );
        let old: Health =
            serde_json::from_str(r#"{"status":"ok","version":"0.1.0","holds_secret":true}"#)
                .unwrap();
        assert_eq!(old.signs_refresh, None);
        assert_eq!(
            serde_json::to_string(&h(true, Some(id), Some(false))).unwrap(),
            format!(
                r#"{{"status":"ok","version":"1","holds_secret":true,"client_id":"{id}","signs_refresh":false}}"#
            )
        );
    }
}
