//! Calls to the exchange proxy. The [`Api`] trait lets tests mount the app with a fake that records requests.

use std::future::Future;
use std::pin::Pin;

use kommo::proxy::{ACCOUNT_HEADER, HEALTH_PATH};
use kommo::token::{read_token_answer_with, TOKEN_PATH};
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

/// An API answer through the proxy: status, body and the `Retry-After` header (for 429).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiAnswer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
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
    NotJson {
        status: u16,
        content_type: Option<String>,
    },
    /// JSON without tokens or a recognisable error.
    #[error("the answer ({status}) has no tokens and no error")]
    Unexpected { status: u16 },
}

impl ApiError {
    /// Interpret a token answer (from the proxy or pasted back from curl).
    pub fn read_answer(answer: &RawAnswer) -> Result<TokenResponse, ApiError> {
        read_token_answer_with(answer.status, &answer.body, crate::json::parse).map_err(|f| match f
        {
            TokenFailure::Kommo { status, error } => ApiError::Kommo { status, error },
            TokenFailure::Proxy(p) => ApiError::Proxy(p),
            TokenFailure::NotJson { status, .. } => ApiError::NotJson {
                status,
                content_type: answer.content_type.clone(),
            },
            TokenFailure::Unexpected { status } => ApiError::Unexpected { status },
        })
    }
}

/// The proxy, as the page sees it.
pub trait Api {
    /// `GET {base}/healthz`.
    fn health(&self, base: &str) -> LocalFuture<Result<Health, ApiError>>;
    /// `POST {base}/oauth2/access_token` with `X-Kommo-Account: {host}` and the request as JSON.
    fn token(
        &self,
        base: &str,
        host: &str,
        request: &TokenRequest,
    ) -> LocalFuture<Result<RawAnswer, ApiError>>;
    /// `GET {base}{path_and_query}` (a `/api/v4/…` path) with `X-Kommo-Account: {host}` and
    /// `Authorization: Bearer {token}`.
    fn api_get(
        &self,
        base: &str,
        host: &str,
        path_and_query: &str,
        token: &str,
    ) -> LocalFuture<Result<ApiAnswer, ApiError>>;
}

/// The real proxy over `fetch` (web-sys directly: smaller than an HTTP client crate).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpApi;

/// `fetch(url, {method, headers, body})` → status, content type, `Retry-After`, body text. A `fetch` rejection is
/// [`ApiError::ProxyUnreachable`]; a body that cannot be read is [`ApiError::AnswerLost`].
async fn fetch(
    url: String,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<ApiAnswer, ApiError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let unreachable = || ApiError::ProxyUnreachable { url: url.clone() };
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    let h = web_sys::Headers::new().map_err(|_| unreachable())?;
    for (k, v) in headers {
        h.set(k, v).map_err(|_| unreachable())?;
    }
    init.set_headers(&h);
    if let Some(b) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(&b));
    }
    let promise = crate::browser::window().fetch_with_str_and_init(&url, &init);
    let resp: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|_| unreachable())?
        .dyn_into()
        .map_err(|_| unreachable())?;
    let status = resp.status();
    let content_type = resp.headers().get("content-type").ok().flatten();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    let lost = || ApiError::AnswerLost { url: url.clone() };
    let text = JsFuture::from(resp.text().map_err(|_| lost())?)
        .await
        .map_err(|_| lost())?;
    Ok(ApiAnswer {
        status,
        body: text.as_string().unwrap_or_default(),
        content_type,
        retry_after,
    })
}

impl Api for HttpApi {
    fn health(&self, base: &str) -> LocalFuture<Result<Health, ApiError>> {
        let url = format!("{base}{HEALTH_PATH}");
        Box::pin(async move {
            let a = fetch(url, "GET", &[], None).await?;
            match crate::json::parse(&a.body)
                .as_ref()
                .and_then(Health::from_value)
            {
                Some(h) if (200..300).contains(&a.status) && h.status == "ok" => Ok(h),
                _ => Err(ApiError::NotJson {
                    status: a.status,
                    content_type: a.content_type,
                }),
            }
        })
    }

    fn token(
        &self,
        base: &str,
        host: &str,
        request: &TokenRequest,
    ) -> LocalFuture<Result<RawAnswer, ApiError>> {
        let url = format!("{base}{TOKEN_PATH}");
        let host = host.to_string();
        let body = request.to_json();
        Box::pin(async move {
            let a = fetch(
                url,
                "POST",
                &[
                    ("Content-Type", "application/json"),
                    (ACCOUNT_HEADER, &host),
                ],
                Some(body),
            )
            .await?;
            Ok(RawAnswer {
                status: a.status,
                body: a.body,
                content_type: a.content_type,
            })
        })
    }

    fn api_get(
        &self,
        base: &str,
        host: &str,
        path_and_query: &str,
        token: &str,
    ) -> LocalFuture<Result<ApiAnswer, ApiError>> {
        let url = format!("{base}{path_and_query}");
        let host = host.to_string();
        let auth = format!("Bearer {token}");
        Box::pin(async move {
            fetch(
                url,
                "GET",
                &[
                    ("Accept", "application/json"),
                    (ACCOUNT_HEADER, &host),
                    ("Authorization", &auth),
                ],
                None,
            )
            .await
        })
    }
}
