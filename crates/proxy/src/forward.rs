//! Forwarding: the request to the account host (its URL built from the validated host only), sent, and Kommo's
//! answer read back within the cap and passed on when it is JSON.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::Response;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use kommo::proxy::{ProxyError, ProxyErrorCode, FORWARDED_HOST_HEADER};
use kommo::AccountHost;

use crate::error::{AccessNote, Failure};
use crate::middleware::access_log_on;
use crate::state::{AppState, USER_AGENT};

/// A request to the account host (or to `--upstream-base`, which then learns the host from `X-Forwarded-Host`) with
/// the `Accept` the browser sent and the proxy's `User-Agent`; the caller adds the rest. Nothing is sent yet: a URL
/// that cannot be built is the proxy's own refusal here, never a failure "on the way".
pub fn request(
    st: &AppState,
    method: Method,
    account: &AccountHost,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Upstream, ProxyError> {
    let base = st.config.upstream_base.as_deref();
    let uri = upstream_url(base, account.as_str(), path, query)?;
    let mut req = Request::new(Full::new(Bytes::new()));
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    let h = req.headers_mut();
    h.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    h.insert(header::ACCEPT, accept(headers));
    if base.is_some() {
        // The account host passed the host check, so it is a valid header value.
        if let Ok(v) = HeaderValue::from_str(account.as_str()) {
            h.insert(FORWARDED_HOST_HEADER, v);
        }
    }
    Ok(Upstream {
        req,
        unbuildable: false,
    })
}

/// The request [`request`] began, for the caller to add headers and a body to (the client adds `Host` from the URL
/// and `Content-Length` from the body).
pub struct Upstream {
    req: Request<Full<Bytes>>,
    /// A header value that is no valid header value was given: the request is not sent.
    unbuildable: bool,
}

impl Upstream {
    pub fn header<V: TryInto<HeaderValue>>(mut self, name: HeaderName, value: V) -> Self {
        match value.try_into() {
            Ok(v) => {
                self.req.headers_mut().insert(name, v);
            }
            Err(_) => self.unbuildable = true,
        }
        self
    }

    pub fn body(mut self, body: Bytes) -> Self {
        *self.req.body_mut() = Full::new(body);
        self
    }
}

/// `https://{account}{path}[?{query}]`, or the same path and query under `base`. The host must be the one a WHATWG
/// URL parser (a browser's, reqwest's) reads in it: refused when that parser fails or reads the account host as
/// anything but that very host name — `0x7f.0.0.1`, say, is 127.0.0.1 to it. A lower-case name of letters, digits and
/// hyphens that does not end in a number is read as itself, so such a host (every real account host) skips the
/// parser; anything else goes through it. A host the account-host check let through but no URL names is the
/// request's fault (`400 bad_account_host`); a URL under the configured base that does not parse is the proxy's own
/// (`500 internal`).
pub fn upstream_url(
    base: Option<&str>,
    account: &str,
    path: &str,
    query: Option<&str>,
) -> Result<Uri, ProxyError> {
    let tail = match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_string(),
    };
    let internal = |under: &str, e: &dyn std::fmt::Display| {
        ProxyError::new(
            ProxyErrorCode::Internal,
            format!("could not build the URL for {account}{under}: {e}"),
        )
    };
    if let Some(base) = base {
        return Uri::try_from(format!("{base}{tail}"))
            .map_err(|e| internal(&format!(" under the upstream base {base}"), &e));
    }
    if plain_host(account) {
        return Uri::try_from(format!("https://{account}{tail}")).map_err(|e| internal("", &e));
    }
    let refused = |why: String| {
        ProxyError::new(
            ProxyErrorCode::BadAccountHost,
            format!("{account} cannot be forwarded to: {why}; nothing was sent. Send the account host Kommo returned, like kwid.kommo.com"),
        )
    };
    let url = url::Url::parse(&format!("https://{account}{tail}"))
        .map_err(|e| refused(format!("an https:// URL cannot name it as a host ({e})")))?;
    // `domain()` is the host when it is a name, `None` for an IP address.
    match (url.domain(), url.host_str()) {
        (Some(host), _) if host == account => {
            Uri::try_from(url.as_str()).map_err(|e| internal("", &e))
        }
        (Some(host), _) => Err(refused(format!("a URL reads it as the host {host}"))),
        (None, Some(ip)) => Err(refused(format!("a URL reads it as the IP address {ip}"))),
        (None, None) => Err(refused("a URL reads no host in it".to_string())),
    }
}

/// Labels of lower-case ASCII letters, digits and hyphens, none empty, none an IDNA (`xn--`) label, the last neither
/// all digits nor `0x` and hex digits (the WHATWG "ends in a number" rule that makes a host an IPv4 address): a URL
/// parser reads such a host as exactly itself (UTS #46 maps these characters to themselves).
fn plain_host(host: &str) -> bool {
    let mut last = "";
    for label in host.split('.') {
        if label.is_empty()
            || label.starts_with("xn--")
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return false;
        }
        last = label;
    }
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    !numeric
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
/// The configured timeout covers the whole exchange, the answer's body included; the pacing wait comes before it.
pub async fn forward(
    st: &AppState,
    req: Upstream,
    account: &AccountHost,
) -> Result<Response, Failure> {
    if req.unbuildable {
        return Err(ProxyError::new(
            ProxyErrorCode::Internal,
            format!("could not build the request to {account}; nothing was sent"),
        )
        .into());
    }
    wait_for_room(st, account).await?;
    let timeout = st.config.timeout;
    match tokio::time::timeout(timeout, exchange(st, req.req, account)).await {
        Ok(answer) => answer,
        Err(_) => Err(ProxyError::new(
            ProxyErrorCode::UpstreamTimeout,
            format!("{account} did not answer within {} ms", timeout.as_millis()),
        )
        .into()),
    }
}

async fn exchange(
    st: &AppState,
    req: Request<Full<Bytes>>,
    account: &AccountHost,
) -> Result<Response, Failure> {
    let upstream = st
        .client
        .request(req)
        .await
        .map_err(|e| send_error(&e, e.is_connect(), st, account))?;
    let status = upstream.status().as_u16();
    // The content type passed on as Kommo sent it (when it is text, as a JSON answer's is).
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .filter(|v| v.to_str().is_ok())
        .cloned();
    let retry_after = upstream.headers().get(header::RETRY_AFTER).cloned();
    let max = st.config.max_upstream_body_bytes;
    // `to_bytes` keeps a one-chunk answer (the usual) as the client's buffer, without a copy.
    let body = match Limited::new(upstream.into_body(), max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Err(Failure::new(
                ProxyErrorCode::Internal,
                format!("{account} answered with more than {max} bytes"),
            ));
        }
        Err(e) => return Err(send_error(&*e, false, st, account).into()),
    };
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

/// A failure on the way: `e` is the client's error (`connect` when it says so: no connection was made) or the
/// answer body's.
fn send_error(
    e: &(dyn std::error::Error + 'static),
    connect: bool,
    st: &AppState,
    account: &AccountHost,
) -> ProxyError {
    let err = ProxyError::new;
    let timed_out = chain(e).any(|s| {
        s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || s.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout)
    });
    // A connect timeout is a failure to connect: no request left, the code is unused.
    if timed_out && connect {
        return err(
            ProxyErrorCode::UpstreamUnreachable,
            format!(
                "could not connect to {account} within {} ms",
                st.config.connect_timeout.as_millis()
            ),
        );
    }
    if timed_out {
        return err(
            ProxyErrorCode::UpstreamTimeout,
            format!(
                "{account} did not answer within {} ms",
                st.config.timeout.as_millis()
            ),
        );
    }
    // Never the URL (an API query string may carry data): only the innermost error of the chain (the client's
    // errors never name the URL).
    let cause = chain(e).last().map(|s| s.to_string()).unwrap_or_default();
    let cause = if cause.is_empty() {
        "connection failed".to_string()
    } else {
        cause
    };
    // Only a failure to connect (DNS, TCP, TLS) proves the request never reached Kommo. A reset or close after
    // that may come after Kommo read the request and spent its code, so the page must not say "not used".
    if connect {
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

/// `e` and its sources, outermost first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |s| s.source())
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
                .to_string(),
            "https://kwid.kommo.com/api/v4/leads?limit=250&page=2"
        );
        assert_eq!(
            url("kwid.kommo.com", "/oauth2/access_token", Some(""))
                .unwrap()
                .to_string(),
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
                .to_string(),
            "http://127.0.0.1:9100/prefix/api/v4/account?with=x"
        );
        let e = upstream_url(Some("http://[::1"), "kwid.kommo.com", "/x", None).unwrap_err();
        assert_eq!(e.proxy_error, ProxyErrorCode::Internal);
        assert_eq!(e.status(), 500);
    }

    /// The hosts that skip the URL parser are read by it as exactly themselves (and a few near misses go to it).
    #[test]
    fn a_plain_host_is_what_a_url_parser_reads() {
        for host in [
            "kwid.kommo.com",
            "a-b.amocrm.ru",
            "x1.kommo.com",
            "1a.kommo.com",
            "k.0xg",
            "-a-.kommo.com",
            "ab--cd.kommo.com",
            "localhost",
        ] {
            assert!(plain_host(host), "{host}");
            let url = url::Url::parse(&format!("https://{host}/")).unwrap();
            assert_eq!(url.domain(), Some(host));
        }
        for host in [
            "",
            "KWID.kommo.com",
            "kwid.kommo.com.",
            ".kommo.com",
            "a..kommo.com",
            "xn--80ak6aa92e.com",
            "m.4",
            "0x7f.0.0.1",
            "a.0x10",
            "a.0x",
            "1.2.3.0",
            "kwid.kommo.com:1",
            "u@kwid.kommo.com",
            "a_b.kommo.com",
            "k\u{f6}.kommo.com",
        ] {
            assert!(!plain_host(host), "{host}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_plain_host_parses_as_itself(host in "[a-z0-9x.-]{1,24}") {
            if plain_host(&host) {
                let url = url::Url::parse(&format!("https://{host}/")).unwrap();
                proptest::prop_assert_eq!(url.domain(), Some(host.as_str()));
                let uri = upstream_url(None, &host, "/api/v4/account", Some("a=1")).unwrap();
                proptest::prop_assert_eq!(uri.host(), Some(host.as_str()));
                proptest::prop_assert_eq!(uri.port(), None);
            }
        }
    }
}
