//! Forwarding: the request to the account host (its URL built from the validated host only), sent, and Kommo's
//! answer read back within the cap and passed on when it is JSON.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use kommo::proxy::{ProxyError, ProxyErrorCode, FORWARDED_HOST_HEADER};
use kommo::AccountHost;
use reqwest::Url;

use crate::error::{AccessNote, Failure};
use crate::middleware::access_log_on;
use crate::state::AppState;

/// A request to the account host (or to `--upstream-base`, which then learns the host from `X-Forwarded-Host`) with
/// the `Accept` the browser sent; the caller adds the rest. Nothing is sent yet: a URL that cannot be built is the
/// proxy's own refusal here, never a failure "on the way".
pub fn request(
    st: &AppState,
    method: Method,
    account: &AccountHost,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<reqwest::RequestBuilder, ProxyError> {
    let base = st.config.upstream_base.as_deref();
    let url = upstream_url(base, account.as_str(), path, query)?;
    let mut req = st
        .client
        .request(method, url)
        .header(header::ACCEPT, accept(headers));
    if base.is_some() {
        req = req.header(FORWARDED_HOST_HEADER, account.as_str());
    }
    Ok(req)
}

/// `https://{account}{path}[?{query}]`, or the same path and query under `base`. Parsed as the HTTP client will
/// parse it (WHATWG URL rules); refused when that fails or when the parser reads the account host as anything but
/// that very host name — `0x7f.0.0.1`, say, is 127.0.0.1 to it. A host the account-host check let through but no URL
/// names is the request's fault (`400 bad_account_host`); a URL under the configured base that does not parse is the
/// proxy's own (`500 internal`).
pub fn upstream_url(
    base: Option<&str>,
    account: &str,
    path: &str,
    query: Option<&str>,
) -> Result<Url, ProxyError> {
    let tail = match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_string(),
    };
    if let Some(base) = base {
        return Url::parse(&format!("{base}{tail}")).map_err(|e| {
            ProxyError::new(
                ProxyErrorCode::Internal,
                format!(
                    "could not build the URL for {account} under the upstream base {base}: {e}"
                ),
            )
        });
    }
    let refused = |why: String| {
        ProxyError::new(
            ProxyErrorCode::BadAccountHost,
            format!("{account} cannot be forwarded to: {why}; nothing was sent. Send the account host Kommo returned, like kwid.kommo.com"),
        )
    };
    let url = Url::parse(&format!("https://{account}{tail}"))
        .map_err(|e| refused(format!("an https:// URL cannot name it as a host ({e})")))?;
    // `domain()` is the host when it is a name, `None` for an IP address.
    match (url.domain(), url.host_str()) {
        (Some(host), _) if host == account => Ok(url),
        (Some(host), _) => Err(refused(format!("a URL reads it as the host {host}"))),
        (None, Some(ip)) => Err(refused(format!("a URL reads it as the IP address {ip}"))),
        (None, None) => Err(refused("a URL reads no host in it".to_string())),
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
    wait_for_room(st, account).await?;
    let mut upstream = req.send().await.map_err(|e| send_error(&e, st, account))?;
    let status = upstream.status().as_u16();
    // The content type passed on as Kommo sent it (when it is text, as a JSON answer's is).
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .filter(|v| v.to_str().is_ok())
        .cloned();
    let retry_after = upstream.headers().get(header::RETRY_AFTER).cloned();
    let max = st.config.max_upstream_body_bytes;
    // Kept as the client's buffers: a one-chunk answer (the usual) is passed on without a copy.
    let mut body = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    while let Some(chunk) = upstream
        .chunk()
        .await
        .map_err(|e| send_error(&e, st, account))?
    {
        let len = joined.as_ref().map_or(body.len(), Vec::len);
        if len + chunk.len() > max {
            return Err(Failure::new(
                ProxyErrorCode::Internal,
                format!("{account} answered with more than {max} bytes"),
            ));
        }
        match &mut joined {
            Some(v) => v.extend_from_slice(&chunk),
            None if body.is_empty() => body = chunk,
            None => {
                let mut v = Vec::with_capacity(body.len() + chunk.len());
                v.extend_from_slice(&body);
                v.extend_from_slice(&chunk);
                joined = Some(v);
            }
        }
    }
    let body = joined.map_or(body, Bytes::from);
    let mut resp = if body.is_empty() && (status == 204 || status == 304) {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
        r
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        let ct = content_type.unwrap_or_else(|| HeaderValue::from_static("application/json"));
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
        r
    } else {
        let text = String::from_utf8_lossy(&body);
        let content_type = content_type.as_ref().and_then(|v| v.to_str().ok());
        return Err(ProxyError::not_json(status, content_type, &text).into());
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(ra) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    if access_log_on() {
        resp.extensions_mut().insert(AccessNote {
            account: Some(account.to_string()),
            error: None,
        });
    }
    Ok(resp)
}

/// Hold the request until the pacing window of its account host has room (at once when it has), so that the host
/// never gets more than [`crate::config::Config::pace_per_second`] in a window; refused when the wait would be
/// longer than `pace_max_wait`. Booked right before sending, so that nothing else delays the request after its turn.
async fn wait_for_room(st: &AppState, account: &AccountHost) -> Result<(), Failure> {
    let config = &st.config;
    let slot = st
        .pacer
        .reserve(&account.as_str().to_string(), config.pace_max_wait)
        .map_err(|wait| {
            Failure::rate_limited(
                &format!(
                    "more requests for {account} than this proxy sends on within {} ms (at most {} in any {} ms, \
                     under Kommo's limit of {} a second)",
                    config.pace_max_wait.as_millis(),
                    config.pace_per_second,
                    st.pacer.window().as_millis(),
                    kommo::RATE_LIMIT_PER_SECOND
                ),
                wait,
            )
        })?;
    if slot > std::time::Instant::now() {
        tokio::time::sleep_until(slot.into()).await;
    }
    Ok(())
}

fn send_error(e: &reqwest::Error, st: &AppState, account: &AccountHost) -> ProxyError {
    let err = ProxyError::new;
    // The request could not be put together (a header or URL the client refused): nothing was sent.
    if e.is_builder() {
        return err(
            ProxyErrorCode::Internal,
            format!("could not build the request to {account}; nothing was sent"),
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_account_host_itself_or_nothing_is_sent() {
        let url = |account, path, query| upstream_url(None, account, path, query);
        assert_eq!(
            url("kwid.kommo.com", "/api/v4/leads", Some("limit=250&page=2"))
                .unwrap()
                .as_str(),
            "https://kwid.kommo.com/api/v4/leads?limit=250&page=2"
        );
        assert_eq!(
            url("kwid.kommo.com", "/oauth2/access_token", Some(""))
                .unwrap()
                .as_str(),
            "https://kwid.kommo.com/oauth2/access_token"
        );
        // Hosts a too-wide suffix (`4`, `0.0.1`, `1`) would let through — no URL, an IP address — and, should a
        // check upstream ever slip, ones a URL reads as another host.
        for (account, why) in [
            ("m.4", "cannot name it as a host"),
            ("0x7f.0.0.1", "IP address 127.0.0.1"),
            ("a.0x10", "cannot name it as a host"),
            ("0x7f.1", "IP address 127.0.0.1"),
            ("1.2.3.0", "IP address 1.2.3.0"),
            ("KWID.kommo.com", "the host kwid.kommo.com"),
            ("kwid.kommo.com:1", "the host kwid.kommo.com"),
            ("evil.net#.kommo.com", "the host evil.net"),
            ("u@kwid.kommo.com", "the host kwid.kommo.com"),
        ] {
            let e = url(account, "/api/v4/account", None).unwrap_err();
            assert_eq!(e.proxy_error, ProxyErrorCode::BadAccountHost, "{account}");
            assert_eq!(e.status(), 400);
            assert!(e.message.contains(why), "{account}: {}", e.message);
            assert!(e.message.contains("nothing was sent"), "{}", e.message);
        }
    }

    #[test]
    fn under_an_upstream_base_the_path_and_query_follow_it() {
        let base = Some("http://127.0.0.1:9100/prefix");
        assert_eq!(
            upstream_url(base, "kwid.kommo.com", "/api/v4/account", Some("with=x"))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9100/prefix/api/v4/account?with=x"
        );
        let e = upstream_url(Some("http://[::1"), "kwid.kommo.com", "/x", None).unwrap_err();
        assert_eq!(e.proxy_error, ProxyErrorCode::Internal);
        assert_eq!(e.status(), 500);
    }
}
