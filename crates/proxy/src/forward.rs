//! Forwarding: the request to the account host (its URL built from the validated host only), sent, and Kommo's
//! answer read back within the cap and passed on when it is JSON.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use kommo::proxy::{ProxyError, ProxyErrorCode, FORWARDED_HOST_HEADER};
use kommo::AccountHost;

use crate::config::Config;
use crate::error::{AccessNote, Failure};
use crate::state::AppState;

/// A request to the account host (or to `--upstream-base`, which then learns the host from `X-Forwarded-Host`) with
/// the `Accept` the browser sent; the caller adds the rest.
pub fn request(
    st: &AppState,
    method: Method,
    account: &AccountHost,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> reqwest::RequestBuilder {
    let url = upstream_url(&st.config, account, path, query);
    let mut req = st
        .client
        .request(method, url)
        .header(header::ACCEPT, accept(headers));
    if st.config.upstream_base.is_some() {
        req = req.header(FORWARDED_HOST_HEADER, account.as_str());
    }
    req
}

fn upstream_url(config: &Config, account: &AccountHost, path: &str, query: Option<&str>) -> String {
    let base = match &config.upstream_base {
        Some(b) => b.clone(),
        None => account.https_origin(),
    };
    match query {
        Some(q) if !q.is_empty() => format!("{base}{path}?{q}"),
        _ => format!("{base}{path}"),
    }
}

/// The browser's `Accept` when it is short, else `application/json`.
fn accept(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(header::ACCEPT)
        .filter(|v| v.as_bytes().len() < 256)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/json"))
}

/// Send, and pass Kommo's answer on: a JSON body (or an empty 204/304) with its status, content type and
/// `Retry-After`; anything else becomes `upstream_not_json`, and a failure on the way one of the `upstream_*` errors.
pub async fn forward(
    st: &AppState,
    req: reqwest::RequestBuilder,
    account: &AccountHost,
) -> Result<Response, Failure> {
    let mut upstream = req.send().await.map_err(|e| send_error(&e, st, account))?;
    let status = upstream.status().as_u16();
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let retry_after = upstream.headers().get(header::RETRY_AFTER).cloned();
    let max = st.config.max_upstream_body_bytes;
    let mut body = Vec::new();
    while let Some(chunk) = upstream
        .chunk()
        .await
        .map_err(|e| send_error(&e, st, account))?
    {
        if body.len() + chunk.len() > max {
            return Err(Failure::new(
                ProxyErrorCode::Internal,
                format!("{account} answered with more than {max} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let mut resp = if body.is_empty() && (status == 204 || status == 304) {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
        r
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        let ct = content_type
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
            .unwrap_or_else(|| HeaderValue::from_static("application/json"));
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
        r
    } else {
        let text = String::from_utf8_lossy(&body);
        return Err(ProxyError::not_json(status, content_type.as_deref(), &text).into());
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(ra) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    resp.extensions_mut().insert(AccessNote {
        account: Some(account.to_string()),
        error: None,
    });
    Ok(resp)
}

fn send_error(e: &reqwest::Error, st: &AppState, account: &AccountHost) -> ProxyError {
    let err = ProxyError::new;
    // A connect timeout is a failure to connect (reqwest reports it as both): no request left, the code is unused.
    if e.is_timeout() && e.is_connect() {
        return err(
            ProxyErrorCode::UpstreamUnreachable,
            format!(
                "could not connect to {account} within {} ms",
                st.config.connect_timeout.as_millis()
            ),
        );
    }
    if e.is_timeout() {
        return err(
            ProxyErrorCode::UpstreamTimeout,
            format!(
                "{account} did not answer within {} ms",
                st.config.timeout.as_millis()
            ),
        );
    }
    // Never the URL (an API query string may carry data): only the error chain below it.
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let cause = if cause.is_empty() {
        "connection failed".to_string()
    } else {
        cause
    };
    // Only a failure to connect (DNS, TCP, TLS) proves the request never reached Kommo. A reset or close after
    // that may come after Kommo read the request and spent its code, so the page must not say "not used".
    if e.is_connect() {
        err(
            ProxyErrorCode::UpstreamUnreachable,
            format!("could not reach {account}: {cause}"),
        )
    } else {
        err(
            ProxyErrorCode::UpstreamInterrupted,
            format!("the connection to {account} broke before a full answer (the request may have arrived): {cause}"),
        )
    }
}
