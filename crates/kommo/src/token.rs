//! Token endpoint: request and answer types, and reading an answer that may be a token, a Kommo error, the
//! proxy's own error, or something that is not JSON at all.

use serde::{Deserialize, Serialize};

use crate::hints::Hint;
pub use crate::kommo_error::KommoError;
use crate::proxy::ProxyError;

/// The token endpoint path on the account host.
pub const TOKEN_PATH: &str = "/oauth2/access_token";

/// `grant_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

/// The JSON body posted to `https://{account}/oauth2/access_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub client_id: String,
    /// May be empty when the proxy holds the secret and fills it in.
    #[serde(default)]
    pub client_secret: String,
    pub grant_type: GrantType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub redirect_uri: String,
}

impl TokenRequest {
    /// Exchange an authorization code.
    pub fn authorization_code(
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Self {
        TokenRequest {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            grant_type: GrantType::AuthorizationCode,
            code: Some(code.to_string()),
            refresh_token: None,
            redirect_uri: redirect_uri.to_string(),
        }
    }

    /// Refresh: Kommo wants `redirect_uri` here too.
    pub fn refresh(
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        redirect_uri: &str,
    ) -> Self {
        TokenRequest {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            grant_type: GrantType::RefreshToken,
            code: None,
            refresh_token: Some(refresh_token.to_string()),
            redirect_uri: redirect_uri.to_string(),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A successful token answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub expires_in: i64,
    pub access_token: String,
    pub refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<i64>,
}

/// Why a token request did not give tokens. Each variant keeps what was received so the page can show it raw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFailure {
    /// Kommo answered with its JSON error.
    #[error("Kommo refused the request ({status}): {}", .error.hint.as_deref().or(.error.title.as_deref()).unwrap_or("no hint"))]
    Kommo { status: u16, error: KommoError },
    /// Our proxy answered with its own error (bad host, upstream down, …).
    #[error("the proxy could not complete the request: {}", .0.message)]
    Proxy(ProxyError),
    /// The answer was not JSON (an HTML error page, an empty body, garbage).
    #[error("the answer ({status}) is not JSON{}", content_type.as_deref().map(|c| format!(" but {c}")).unwrap_or_default())]
    NotJson {
        status: u16,
        content_type: Option<String>,
    },
    /// JSON, but neither tokens nor a recognisable error.
    #[error("the answer ({status}) is JSON but has no tokens and no error hint")]
    Unexpected { status: u16 },
}

impl TokenFailure {
    /// The catalogue entry for this failure, if it is a Kommo error.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            TokenFailure::Kommo { error, .. } => Some(error.classify()),
            _ => None,
        }
    }
}

/// Read the token endpoint's answer as the page receives it (through the proxy).
pub fn read_token_answer(status: u16, body: &str) -> Result<TokenResponse, TokenFailure> {
    read_token_answer_with(status, body, crate::json::parse)
}

/// [`read_token_answer`] with the JSON parser given (see [`crate::json`]).
pub fn read_token_answer_with(
    status: u16,
    body: &str,
    parse: crate::json::Parse,
) -> Result<TokenResponse, TokenFailure> {
    let Some(value) = parse(body) else {
        return Err(TokenFailure::NotJson {
            status,
            content_type: None,
        });
    };
    if let Some(err) = ProxyError::from_value(&value) {
        return Err(TokenFailure::Proxy(err));
    }
    if (200..300).contains(&status) {
        if let Ok(tokens) = serde_json::from_value::<TokenResponse>(value.clone()) {
            if !tokens.access_token.is_empty() {
                return Ok(tokens);
            }
        }
    }
    match serde_json::from_value::<KommoError>(value) {
        Ok(error) if error.is_meaningful() => Err(TokenFailure::Kommo { status, error }),
        _ => Err(TokenFailure::Unexpected { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ProxyErrorCode;

    #[test]
    fn request_bodies_match_the_doc() {
        let r = TokenRequest::authorization_code("id", "sec", "c0de", "https://app.example/cb");
        assert_eq!(
            r.to_json(),
            r#"{"client_id":"id","client_secret":"sec","grant_type":"authorization_code","code":"c0de","redirect_uri":"https://app.example/cb"}"#
        );
        let r = TokenRequest::refresh("id", "", "rt", "https://app.example/cb");
        assert_eq!(
            r.to_json(),
            r#"{"client_id":"id","client_secret":"","grant_type":"refresh_token","refresh_token":"rt","redirect_uri":"https://app.example/cb"}"#
        );
        let back: TokenRequest = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn reads_tokens() {
        let body = r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a.b.c","refresh_token":"def","server_time":1}"#;
        let t = read_token_answer(200, body).unwrap();
        assert_eq!(t.access_token, "a.b.c");
        assert_eq!(t.refresh_token, "def");
        assert_eq!(t.expires_in, 86400);
        assert_eq!(t.server_time, Some(1));
    }

    #[test]
    fn reads_kommo_errors() {
        let body = r#"{"hint":"Authorization code has expired","title":"Некорректный запрос","type":"https://developers.kommo.com/v3/errors/OAuthProblemJson","status":400,"detail":"Incorrect request"}"#;
        let err = read_token_answer(400, body).unwrap_err();
        assert_eq!(err.hint(), Some(Hint::CodeExpired));
        let TokenFailure::Kommo { status, error } = err else {
            panic!()
        };
        assert_eq!(status, 400);
        assert_eq!(
            error.kind.as_deref(),
            Some("https://developers.kommo.com/v3/errors/OAuthProblemJson")
        );
    }

    #[test]
    fn html_garbage_and_proxy_errors() {
        assert_eq!(
            read_token_answer(502, "<html><body>Bad Gateway</body></html>"),
            Err(TokenFailure::NotJson {
                status: 502,
                content_type: None
            })
        );
        assert_eq!(
            read_token_answer(200, ""),
            Err(TokenFailure::NotJson {
                status: 200,
                content_type: None
            })
        );
        assert_eq!(
            read_token_answer(200, "[1,2]"),
            Err(TokenFailure::Unexpected { status: 200 })
        );
        assert_eq!(
            read_token_answer(200, r#"{"access_token":""}"#),
            Err(TokenFailure::Unexpected { status: 200 })
        );
        let proxy = ProxyError::new(ProxyErrorCode::UpstreamUnreachable, "could not connect");
        let err = read_token_answer(502, &proxy.to_json()).unwrap_err();
        assert_eq!(err, TokenFailure::Proxy(proxy));
        assert!(err.hint().is_none());
    }

    #[test]
    fn the_parser_is_the_callers() {
        let body =
            r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a","refresh_token":"r"}"#;
        assert_eq!(
            read_token_answer_with(200, body, crate::json::parse),
            read_token_answer(200, body)
        );
        assert_eq!(
            read_token_answer_with(200, body, |_| None),
            Err(TokenFailure::NotJson {
                status: 200,
                content_type: None
            })
        );
        let kommo = |_: &str| Some(serde_json::json!({"hint": "Authorization code has expired"}));
        assert_eq!(
            read_token_answer_with(400, "anything", kommo)
                .unwrap_err()
                .hint(),
            Some(Hint::CodeExpired)
        );
    }
}
