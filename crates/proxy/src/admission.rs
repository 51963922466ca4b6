//! What a forwarded request passes before anything else: exactly one allowed account host, then the rate limits for
//! its client IP; and for a token request, a body within the cap.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use kommo::proxy::{ProxyError, ProxyErrorCode, ACCOUNT_HEADER};
use kommo::AccountHost;

use crate::error::Failure;
use crate::state::AppState;

/// A valid account host, then the rate limits for it: the account host a forwarded request is for.
pub fn admit(st: &AppState, parts: &Parts) -> Result<AccountHost, Failure> {
    let account = account_host(&st.suffixes, &parts.headers)?;
    let ip = client_ip(st.config.trust_forwarded_for, parts);
    rate_limit(st, ip, &account).map_err(|f| f.about(&account))?;
    Ok(account)
}

/// Exactly one `X-Kommo-Account` header, valid UTF-8, an account host under one of `suffixes`.
pub fn account_host(suffixes: &[String], headers: &HeaderMap) -> Result<AccountHost, ProxyError> {
    let refused = |message: &str| ProxyError::new(ProxyErrorCode::BadAccountHost, message);
    let mut values = headers.get_all(ACCOUNT_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(ProxyError::new(
            ProxyErrorCode::MissingAccount,
            "send the account host (like kwid.kommo.com, from the `referer` Kommo returned) in the X-Kommo-Account header",
        ));
    };
    if values.next().is_some() {
        return Err(refused("send exactly one X-Kommo-Account header"));
    }
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| refused("the X-Kommo-Account header is not plain text (UTF-8)"))?;
    AccountHost::parse_with(value, suffixes.iter().map(String::as_str))
        .map_err(|e| refused(&e.to_string()))
}

/// The client IP for the rate limits. With `--trust-forwarded-for` the front proxy must be the last hop: the
/// rightmost entry of the last `X-Forwarded-For` header is the address that proxy saw (entries to its left came from
/// the client and prove nothing); `X-Real-IP` only when there is no `X-Forwarded-For` at all. Anything unparsable
/// falls back to the socket's peer address.
pub fn client_ip(trust_forwarded_for: bool, parts: &Parts) -> Option<IpAddr> {
    let socket = || {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    };
    if !trust_forwarded_for {
        return socket();
    }
    let forwarded = match parts.headers.get_all("x-forwarded-for").iter().next_back() {
        Some(last) => last
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| parse_ip(v.trim())),
        None => parts
            .headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_ip(v.trim())),
    };
    forwarded.or_else(socket)
}

/// An IP address, also with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`) as some proxies write it.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The per-account limit first (the one a well-behaved page meets), then the per-client limit across accounts. A
/// request the first refuses is not counted by the second; one the second refuses has used its account's slot.
fn rate_limit(st: &AppState, ip: Option<IpAddr>, account: &AccountHost) -> Result<(), Failure> {
    st.limiter
        .check(&(ip, account.as_str().to_string()))
        .map_err(|wait| {
            let per_second = st.config.rate_limit_per_second;
            Failure::rate_limited(
                &format!("more than {per_second} requests per second for {account}"),
                wait,
            )
        })?;
    st.client_limiter.check(&ip).map_err(|wait| {
        let per_second = st.config.client_rate_limit_per_second;
        Failure::rate_limited(
            &format!(
                "more than {per_second} requests per second from this client across all accounts (the per-client limit of this proxy)"
            ),
            wait,
        )
    })
}

/// The request body, refused when it is (or declares to be) over `max` bytes.
pub async fn read_body(max: usize, headers: &HeaderMap, body: Body) -> Result<Bytes, ProxyError> {
    let too_large = || {
        ProxyError::new(
            ProxyErrorCode::BodyTooLarge,
            format!("the request body is over {max} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            source = s.source();
        }
        ProxyError::new(
            ProxyErrorCode::BadRequest,
            "could not read the request body",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Request;
    use axum::http::HeaderValue;

    fn parts(headers: &[(&str, &[u8])]) -> Parts {
        let mut req = Request::builder();
        for (k, v) in headers {
            req = req.header(*k, HeaderValue::from_bytes(v).unwrap());
        }
        req.body(()).unwrap().into_parts().0
    }

    fn ip(trust: bool, headers: &[(&str, &str)]) -> Option<IpAddr> {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        let mut parts = parts(&headers);
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 5555))));
        client_ip(trust, &parts)
    }

    type Headers<'a> = &'a [(&'a str, &'a str)];

    fn addr(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_client_ip_is_the_entry_the_trusted_front_proxy_added() {
        const SOCKET: &str = "192.0.2.1";
        let xff = "x-forwarded-for";
        let real = "x-real-ip";
        // (trusted?, headers, the client IP)
        let cases: &[(bool, Headers, &str)] = &[
            // Not trusted: the socket, whatever the headers say.
            (false, &[(xff, "203.0.113.1")], SOCKET),
            (false, &[(real, "203.0.113.1")], SOCKET),
            // Trusted: the rightmost entry of the last header; what the client wrote to its left does not count.
            (true, &[(xff, "203.0.113.1")], "203.0.113.1"),
            (true, &[(xff, "198.51.100.9, 203.0.113.1")], "203.0.113.1"),
            (
                true,
                &[(xff, "198.51.100.9"), (xff, "10.0.0.1, 203.0.113.2")],
                "203.0.113.2",
            ),
            (true, &[(xff, "203.0.113.3:4711")], "203.0.113.3"),
            (true, &[(xff, "[2001:db8::1]:4711")], "2001:db8::1"),
            (true, &[(xff, " 2001:db8::2 ")], "2001:db8::2"),
            // X-Real-IP only without any X-Forwarded-For.
            (true, &[(real, "203.0.113.4")], "203.0.113.4"),
            (
                true,
                &[(xff, "203.0.113.5"), (real, "203.0.113.4")],
                "203.0.113.5",
            ),
            // Unparsable: the socket, never a client-chosen fallback.
            (true, &[(xff, "junk"), (real, "203.0.113.4")], SOCKET),
            (
                true,
                &[(xff, "203.0.113.1, junk"), (real, "203.0.113.4")],
                SOCKET,
            ),
            (
                true,
                &[(xff, "203.0.113.1,"), (real, "203.0.113.4")],
                SOCKET,
            ),
            (true, &[(xff, ""), (real, "203.0.113.4")], SOCKET),
            (true, &[(xff, "unknown"), (real, "203.0.113.4")], SOCKET),
            (true, &[(real, "203.0.113.4, 1.2.3.4")], SOCKET),
            (true, &[(real, "nope")], SOCKET),
            (true, &[], SOCKET),
        ];
        for (trust, headers, expected) in cases {
            assert_eq!(ip(*trust, headers), addr(expected), "{trust} {headers:?}");
        }
    }

    #[test]
    fn exactly_one_plain_text_allowed_account_host() {
        let suffixes = vec!["kommo.com".to_string(), "example.test".to_string()];
        let host = |headers: &[(&str, &[u8])]| account_host(&suffixes, &parts(headers).headers);
        let h = ACCOUNT_HEADER;
        assert_eq!(
            host(&[(h, b"kwid.kommo.com")]).unwrap().as_str(),
            "kwid.kommo.com"
        );
        assert_eq!(
            host(&[(h, b"a.example.test")]).unwrap().as_str(),
            "a.example.test",
            "a configured suffix"
        );
        for (headers, code) in [
            (&[][..], ProxyErrorCode::MissingAccount),
            (
                &[(h, &b"a.kommo.com"[..]), (h, b"b.kommo.com")][..],
                ProxyErrorCode::BadAccountHost,
            ),
            (
                &[(h, &b"\xffa.kommo.com"[..])][..],
                ProxyErrorCode::BadAccountHost,
            ),
            (
                &[(h, &b"kommo.com.evil.net"[..])][..],
                ProxyErrorCode::BadAccountHost,
            ),
            (
                &[(h, &b"a.amocrm.ru"[..])][..],
                ProxyErrorCode::BadAccountHost,
            ),
        ] {
            let e = host(headers).unwrap_err();
            assert_eq!(e.proxy_error, code, "{headers:?}: {}", e.message);
        }
    }

    #[tokio::test]
    async fn bodies_over_the_cap_are_refused_declared_or_not() {
        let read = |declared: Option<&str>, len: usize| {
            let mut headers = HeaderMap::new();
            if let Some(d) = declared {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from_str(d).unwrap());
            }
            async move { read_body(16, &headers, Body::from(vec![b'x'; len])).await }
        };
        assert_eq!(read(None, 16).await.unwrap().len(), 16);
        assert_eq!(read(Some("16"), 16).await.unwrap().len(), 16);
        for (declared, len) in [(None, 17), (Some("17"), 1), (Some("99999999999"), 0)] {
            let e = read(declared, len).await.unwrap_err();
            assert_eq!(
                e.proxy_error,
                ProxyErrorCode::BodyTooLarge,
                "{declared:?} {len}"
            );
            assert!(e.message.contains("over 16 bytes"), "{}", e.message);
        }
    }
}
