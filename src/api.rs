//! Calls to the exchange proxy. The [`Api`] trait lets tests mount the app with a fake that records requests.

use std::future::Future;
use std::pin::Pin;

use kommo::proxy::{HEALTH_PATH, ACCOUNT_HEADER};
use kommo::token::{read_token_answer, TOKEN_PATH};
use kommo::{Health, KommoError, ProxyError, TokenFailure, TokenRequest, TokenResponse};

/// A boxed future that need not be `Send` (browser futures never are).
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The proxy's answer as received: status and body, nothing interpreted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
}

/// What can go wrong talking to the proxy (and, through it, to Kommo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `fetch` itself failed (a `TypeError`): the proxy is not running, the URL is wrong, or it refuses this page
    /// (CORS). Kommo also refuses browser calls, which is why a proxy is needed at all.
    #[error("could not reach the proxy at {url}")]
    ProxyUnreachable { url: String },
    /// The request went out but its answer was lost mid-way: the code may already be spent.
    #[error("the answer from {url} was lost")]
    AnswerLost { url: String },
    /// Kommo answered with its OAuth error.
    #[error("Kommo refused the request ({status})")]
    Kommo { status: u16, error: KommoError },
    /// The proxy answered with its own error.
    #[error("the proxy refused the request: {}", .0.message)]
    Proxy(ProxyError),
    /// The answer was not JSON: the URL is probably not the exchange proxy.
    #[error("the answer ({status}) is not JSON")]
    NotJson { status: u16, content_type: Option<String> },
    /// JSON without tokens or a recognisable error.
    #[error("the answer ({status}) has no tokens and no error")]
    Unexpected { status: u16 },
}

impl ApiError {
    /// Interpret a token answer (from the proxy or pasted back from curl).
    pub fn read_answer(answer: &RawAnswer) -> Result<TokenResponse, ApiError> {
        read_token_answer(answer.status, &answer.body).map_err(|f| match f {
            TokenFailure::Kommo { status, error } => ApiError::Kommo { status, error },
            TokenFailure::Proxy(p) => ApiError::Proxy(p),
            TokenFailure::NotJson { status, .. } => {
                ApiError::NotJson { status, content_type: answer.content_type.clone() }
            }
            TokenFailure::Unexpected { status } => ApiError::Unexpected { status },
        })
    }
}

/// The proxy, as the page sees it.
pub trait Api {
    /// `GET {base}/healthz`.
    fn health(&self, base: &str) -> LocalFuture<Result<Health, ApiError>>;
    /// `POST {base}/oauth2/access_token` with `X-Kommo-Account: {host}` and the request as JSON.
    fn token(&self, base: &str, host: &str, request: &TokenRequest) -> LocalFuture<Result<RawAnswer, ApiError>>;
}

/// The real proxy over `fetch`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpApi;

impl Api for HttpApi {
    fn health(&self, base: &str) -> LocalFuture<Result<Health, ApiError>> {
        let url = format!("{base}{HEALTH_PATH}");
        Box::pin(async move {
            let resp = gloo_net::http::Request::get(&url)
                .send()
                .await
                .map_err(|_| ApiError::ProxyUnreachable { url: url.clone() })?;
            let status = resp.status();
            let content_type = resp.headers().get("content-type");
            let body = resp.text().await.unwrap_or_default();
            match serde_json::from_str::<Health>(&body) {
                Ok(h) if (200..300).contains(&status) && h.status == "ok" => Ok(h),
                _ => Err(ApiError::NotJson { status, content_type }),
            }
        })
    }

    fn token(&self, base: &str, host: &str, request: &TokenRequest) -> LocalFuture<Result<RawAnswer, ApiError>> {
        let url = format!("{base}{TOKEN_PATH}");
        let host = host.to_string();
        let body = request.to_json();
        Box::pin(async move {
            let req = gloo_net::http::Request::post(&url)
                .header("Content-Type", "application/json")
                .header(ACCOUNT_HEADER, &host)
                .body(body)
                .map_err(|_| ApiError::ProxyUnreachable { url: url.clone() })?;
            let resp = req.send().await.map_err(|_| ApiError::ProxyUnreachable { url: url.clone() })?;
            let status = resp.status();
            let content_type = resp.headers().get("content-type");
            let body = resp.text().await.map_err(|_| ApiError::AnswerLost { url: url.clone() })?;
            Ok(RawAnswer { status, body, content_type })
        })
    }
}
