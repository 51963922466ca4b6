//! Shared helpers: a proxy on a loopback port, recording upstream stubs, a client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kommo_proxy::Config;
use serde_json::Value;

/// Start the proxy on `127.0.0.1:0` with ConnectInfo, as the binary does.
pub async fn spawn_proxy(config: Config) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        kommo_proxy::serve(config, listener).await.unwrap();
    });
    addr
}

/// A config that sends everything to `upstream`, with no rate limits unless a test sets them.
pub fn config_for(upstream: SocketAddr) -> Config {
    let mut c = Config::default().with_upstream_base(format!("http://{upstream}"));
    c.rate_limit_per_second = 0;
    c.client_rate_limit_per_second = 0;
    c
}

/// What an upstream stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Path and query as received.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("upstream body is JSON")
    }
}

/// A recording upstream that answers every request with `respond`.
pub struct Stub {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Stub {
    pub fn seen(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    pub fn last(&self) -> Recorded {
        self.seen().pop().expect("the upstream received a request")
    }
}

pub async fn stub<F>(respond: F) -> Stub
where
    F: Fn(&Recorded) -> Response + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let respond = Arc::new(respond);
    let seen2 = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let seen = seen2.clone();
        let respond = respond.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
            let rec = Recorded {
                method: parts.method,
                target: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                headers: parts.headers,
                body,
            };
            let resp = respond(&rec);
            seen.lock().unwrap().push(rec);
            resp
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Stub { addr, seen }
}

/// A stub answering `{"ok":true}` 200 JSON to everything.
pub async fn ok_stub() -> Stub {
    stub(|_| json_response(200, r#"{"ok":true}"#)).await
}

pub fn json_response(status: u16, body: &str) -> Response {
    raw_response(status, Some("application/json"), body)
}

pub fn raw_response(status: u16, content_type: Option<&str>, body: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    if let Some(ct) = content_type {
        r.headers_mut().insert("content-type", ct.parse().unwrap());
    }
    r
}

pub fn status_only(status: u16) -> Response {
    StatusCode::from_u16(status).unwrap().into_response()
}

/// A client that never follows redirects and uses no system proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// A finished answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The proxy's own error code, asserting the body is a ProxyError with the matching status.
    pub fn proxy_error(&self) -> kommo::ProxyError {
        let err = kommo::ProxyError::from_value(&self.json())
            .unwrap_or_else(|| panic!("not a proxy error: {}", self.body));
        assert_eq!(
            err.status(),
            self.status,
            "status follows ProxyErrorCode::status()"
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/json")
        );
        err
    }
}

pub async fn answer(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("the proxy answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// `POST /oauth2/access_token` with a JSON body for `account`.
pub fn token_post(proxy: SocketAddr, account: &str, body: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("http://{proxy}/oauth2/access_token"))
        .header("x-kommo-account", account)
        .header("content-type", "application/json")
        .body(body.to_string())
}

/// `GET /api/v4/{path}` for `account`.
pub fn api_get(proxy: SocketAddr, account: &str, path_and_query: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("http://{proxy}/api/v4/{path_and_query}"))
        .header("x-kommo-account", account)
}

/// An address where nothing listens (bound then released).
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// An upstream that accepts connections and never answers.
pub async fn silent_upstream() -> SocketAddr {
    stalled_upstream(b"").await
}

/// An upstream that reads each request, writes `head` (the start of an answer, possibly empty) and then holds
/// the connection open without another byte.
pub async fn stalled_upstream(head: &'static [u8]) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(head).await;
            held.push(sock);
        }
    });
    addr
}

/// Send a request line exactly as written (no client-side URL normalisation); returns status and body.
pub async fn raw_request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    let status = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
