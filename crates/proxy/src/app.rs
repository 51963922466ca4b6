//! The router: token exchange, API reads, health, CORS, limits, access log, static page.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use kommo::proxy::{
    ProxyError, ProxyErrorCode, ACCOUNT_HEADER, FORWARDED_HOST_HEADER, HEALTH_PATH,
};
use kommo::token::TOKEN_PATH;
use kommo::{AccountHost, Health};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::compression::{Compression, CompressionLevel};
use tower_http::services::{ServeDir, ServeFile};

use crate::config::Config;
use crate::limit::{retry_after_secs, SlidingWindow};
use crate::page;

/// The path prefix forwarded to the account's API.
pub const API_PREFIX: &str = "/api/v4/";
/// Methods a browser may use (answered in preflight).
pub const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a browser may send (answered in preflight).
pub const ALLOW_HEADERS: &str = "content-type, authorization, x-kommo-account";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE: &str = "600";
/// Compression level of the served page (see `fallback`).
const STATIC_COMPRESSION: CompressionLevel = CompressionLevel::Precise(5);
/// The User-Agent the proxy sends upstream.
pub const USER_AGENT: &str = concat!("kommo-oauth-helper-proxy/", env!("CARGO_PKG_VERSION"));

struct AppState {
    config: Config,
    client: reqwest::Client,
    suffixes: Vec<String>,
    limiter: SlidingWindow<(Option<IpAddr>, String)>,
    client_limiter: SlidingWindow<Option<IpAddr>>,
    /// Turns for token and API requests (`Config::max_in_flight`); `None` without a cap.
    in_flight: Option<Arc<Semaphore>>,
}

/// What the access log reports about a request, set by the handlers as a response extension.
#[derive(Clone, Debug)]
struct LogNote {
    account: Option<String>,
    error: Option<ProxyErrorCode>,
}

/// Build the proxy's router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so the rate limit
/// can key on the client IP (without ConnectInfo it falls back to `X-Forwarded-For` when trusted, else one shared
/// key per account host).
pub fn router(config: Config) -> Router {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .user_agent(USER_AGENT)
        .build()
        .expect("the HTTP client builds with a rustls backend");
    let suffixes = kommo::host::DEFAULT_SUFFIXES
        .iter()
        .map(|s| s.to_string())
        .chain(config.extra_suffixes.iter().cloned())
        .collect();
    let limiter = SlidingWindow::new(config.rate_limit_per_second);
    let client_limiter = SlidingWindow::new(config.client_rate_limit_per_second);
    let in_flight = (config.max_in_flight > 0).then(|| {
        Arc::new(Semaphore::new(
            config.max_in_flight.min(Semaphore::MAX_PERMITS),
        ))
    });
    let state = Arc::new(AppState {
        config,
        client,
        suffixes,
        limiter,
        client_limiter,
        in_flight,
    });

    Router::new()
        .route(TOKEN_PATH, post(token).fallback(wrong_method))
        .route("/api/v4/{*rest}", get(api).fallback(wrong_method))
        .route_layer(middleware::from_fn_with_state(state.clone(), take_a_turn))
        .route(HEALTH_PATH, get(health).fallback(wrong_method))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            response_headers,
        ))
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

fn error_response(err: ProxyError, account: Option<&AccountHost>) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        err.to_json(),
    )
        .into_response();
    resp.extensions_mut().insert(LogNote {
        account: account.map(|a| a.to_string()),
        error: Some(err.proxy_error),
    });
    resp
}

fn err(code: ProxyErrorCode, message: impl Into<String>) -> ProxyError {
    ProxyError::new(code, message)
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers

async fn health(State(st): State<Arc<AppState>>) -> Response {
    let held = st.config.held();
    let body = Health {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        holds_secret: held.is_some(),
        client_id: held.map(|(id, _)| id.to_string()),
        signs_refresh: held.map(|_| st.config.held_secret_signs_refresh),
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    let allowed = if uri.path() == TOKEN_PATH {
        "POST"
    } else {
        "GET"
    };
    error_response(
        err(
            ProxyErrorCode::BadRequest,
            format!("{method} is not served at {}; use {allowed}", uri.path()),
        ),
        None,
    )
}

async fn token(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let account = match admit(&st, &parts) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let body = match read_body(&st, &parts.headers, body).await {
        Ok(b) => b,
        Err(e) => return error_response(e, Some(&account)),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Err(e) = refuse_repeated_fields(is_form(content_type.as_deref()), &body) {
        return error_response(e, Some(&account));
    }
    let (body, content_type) = match fill_secret(&st.config, content_type, body) {
        Ok(x) => x,
        Err(e) => return error_response(e, Some(&account)),
    };
    let url = upstream_url(&st.config, &account, TOKEN_PATH, None);
    let mut req = st
        .client
        .post(url)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, accept(&parts.headers))
        .body(body);
    if st.config.upstream_base.is_some() {
        req = req.header(FORWARDED_HOST_HEADER, account.as_str());
    }
    forward(&st, req, &account).await
}

async fn api(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let account = match admit(&st, &parts) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let path = parts.uri.path();
    if let Err(e) = check_api_path(path) {
        return error_response(e, Some(&account));
    }
    let url = upstream_url(&st.config, &account, path, parts.uri.query());
    let mut req = st
        .client
        .get(url)
        .header(header::ACCEPT, accept(&parts.headers));
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        req = req.header(header::AUTHORIZATION, auth.clone());
    }
    if st.config.upstream_base.is_some() {
        req = req.header(FORWARDED_HOST_HEADER, account.as_str());
    }
    forward(&st, req, &account).await
}

async fn fallback(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let is_proxy_path = path.starts_with("/api/") || path.starts_with("/oauth2/") || path == "/api";
    if is_proxy_path {
        return error_response(
            err(
                ProxyErrorCode::BadRequest,
                format!(
                    "no such endpoint: {path}; the proxy serves POST {TOKEN_PATH}, GET {API_PREFIX}… and GET {HEALTH_PATH}"
                ),
            ),
            None,
        );
    }
    let Some(dir) = st.config.static_dir.clone() else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Not Found\n",
        )
            .into_response();
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "",
        )
            .into_response();
    }
    // A page path (no extension in the last segment) falls back to index.html so the redirect URI path works.
    let last = path.rsplit('/').next().unwrap_or("");
    let spa = !last.contains('.');
    let (parts, _) = req.into_parts();
    let fresh = || {
        let mut r = Request::new(Body::empty());
        *r.method_mut() = parts.method.clone();
        *r.uri_mut() = parts.uri.clone();
        *r.headers_mut() = parts.headers.clone();
        r
    };
    // Compressed (brotli or gzip, as the browser accepts): the wasm shrinks to about a third. A content-hashed file
    // comes precompressed when the build left NAME.br / NAME.gz beside it (brotli 11 and gzip 9, written once by
    // scripts/precompress.mjs: the wasm is 188 kB instead of 214 kB); its name never changes with its content, so
    // those copies cannot be stale. Anything else is compressed per request at level 5, not tower-http's default 4:
    // on the page's 546 kB wasm brotli gives 193 kB instead of 206 kB in the same ~35 ms (levels 6-9 gain under 2%
    // more and cost up to 3x the time; 10-11 take 0.7-1.8 s a request). Compression leaves an answer that already
    // has a Content-Encoding alone.
    let mut files = ServeDir::new(&dir).append_index_html_on_directories(true);
    if page::is_hashed_asset(&path) {
        files = files.precompressed_br().precompressed_gzip();
    }
    let served = Compression::new(files)
        .quality(STATIC_COMPRESSION)
        .oneshot(fresh())
        .await;
    let resp = match served {
        Ok(r) => r.map(Body::new),
        Err(e) => match e {},
    };
    let mut resp = if resp.status() == StatusCode::NOT_FOUND && spa {
        match Compression::new(ServeFile::new(dir.join("index.html")))
            .quality(STATIC_COMPRESSION)
            .oneshot(fresh())
            .await
        {
            Ok(r) => r.map(Body::new),
            Err(e) => match e {},
        }
    } else {
        resp
    };
    // The page's headers: its CSP, and caching — a year for content-hashed files (only when found), revalidation
    // for index.html, the SPA fallback and anything else.
    let cache = if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
        page::cache_control(&path)
    } else {
        page::CACHE_REVALIDATE
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Every answer of the page depends on Accept-Encoding (a precompressed one gets no Vary from Compression).
    let varies = h.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|n| n.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !varies {
        h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Ok(csp) = HeaderValue::from_str(&st.config.page_csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    resp
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

/// Exactly one `X-Kommo-Account` header, valid UTF-8, an allowed account host.
/// What every forwarded request passes first: a valid account host, then the rate limit for it.
// The refusal is the finished answer the handler returns at once; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn admit(st: &AppState, parts: &axum::http::request::Parts) -> Result<AccountHost, Response> {
    let account = account_host(st, &parts.headers).map_err(|e| error_response(e, None))?;
    match rate_limit(st, parts, &account) {
        Some(refused) => Err(refused),
        None => Ok(account),
    }
}

fn account_host(st: &AppState, headers: &HeaderMap) -> Result<AccountHost, ProxyError> {
    let mut values = headers.get_all(ACCOUNT_HEADER).iter();
    let Some(value) = values.next() else {
        return Err(err(
            ProxyErrorCode::MissingAccount,
            "send the account host (like kwid.kommo.com, from the `referer` Kommo returned) in the X-Kommo-Account header",
        ));
    };
    if values.next().is_some() {
        return Err(err(
            ProxyErrorCode::BadAccountHost,
            "send exactly one X-Kommo-Account header",
        ));
    }
    let value = std::str::from_utf8(value.as_bytes()).map_err(|_| {
        err(
            ProxyErrorCode::BadAccountHost,
            "the X-Kommo-Account header is not plain text (UTF-8)",
        )
    })?;
    AccountHost::parse_with(value, st.suffixes.iter().map(String::as_str))
        .map_err(|e| err(ProxyErrorCode::BadAccountHost, e.to_string()))
}

/// The client IP for the rate limits. With `--trust-forwarded-for` the front proxy must be the last hop: the
/// rightmost entry of the last `X-Forwarded-For` header is the address that proxy saw (entries to its left came from
/// the client and prove nothing); `X-Real-IP` only when there is no `X-Forwarded-For` at all. Anything unparsable
/// falls back to the socket's peer address.
fn client_ip(trust_forwarded_for: bool, parts: &axum::http::request::Parts) -> Option<IpAddr> {
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
fn rate_limit(
    st: &AppState,
    parts: &axum::http::request::Parts,
    account: &AccountHost,
) -> Option<Response> {
    let ip = client_ip(st.config.trust_forwarded_for, parts);
    let refused = |wait, message: String| {
        let secs = retry_after_secs(wait);
        let mut resp = error_response(
            err(
                ProxyErrorCode::RateLimited,
                format!("{message}; Kommo blocks clients that keep going — retry after {secs} s"),
            ),
            Some(account),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        resp
    };
    if let Err(wait) = st.limiter.check(&(ip, account.as_str().to_string())) {
        return Some(refused(
            wait,
            format!(
                "more than {} requests per second for {account}",
                st.config.rate_limit_per_second
            ),
        ));
    }
    if let Err(wait) = st.client_limiter.check(&ip) {
        return Some(refused(
            wait,
            format!(
                "more than {} requests per second from this client across all accounts (the per-client limit of this proxy)",
                st.config.client_rate_limit_per_second
            ),
        ));
    }
    None
}

async fn read_body(st: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, ProxyError> {
    let max = st.config.max_body_bytes;
    let too_large = || {
        err(
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
        err(
            ProxyErrorCode::BadRequest,
            "could not read the request body",
        )
    })
}

/// The API path must stay under `/api/v4/`: no dot segments, no encoded slashes or backslashes, no `;` path
/// parameters (`..;/` climbs out on Java servers), no segment starting with `..`. Kommo's API paths have none.
fn check_api_path(path: &str) -> Result<(), ProxyError> {
    let rest = path.strip_prefix(API_PREFIX).unwrap_or("");
    let bad = rest.is_empty()
        || rest.contains('\\')
        || rest.split('/').any(|seg| {
            let s = seg.to_ascii_lowercase();
            s.contains("%2f")
                || s.contains("%5c")
                || s.contains("%00")
                || s.contains(';')
                || s.contains("%3b")
                || {
                    let d = s.replace("%2e", ".");
                    d == "." || d.starts_with("..")
                }
        });
    if bad {
        return Err(err(
            ProxyErrorCode::BadRequest,
            format!("{path} is not an API path the proxy forwards"),
        ));
    }
    Ok(())
}

fn accept(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(header::ACCEPT)
        .filter(|v| v.as_bytes().len() < 256)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/json"))
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

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// The token request fields a repeat of which is refused (see [`refuse_repeated_fields`]).
pub const SINGLE_FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "grant_type",
    "code",
    "refresh_token",
    "redirect_uri",
];

/// Refuse a token request body that names one of [`SINGLE_FIELDS`] twice. We would read one copy (the first, for
/// the held-secret check) and Kommo's PHP another (the last): `client_id=<held>&client_id=<other>&client_secret=`
/// would get the held secret sent along with another integration's id. A repeat is never a valid request, so it is
/// refused with or without a held secret. A form field name PHP reads as one of these (`client.id`, `client id`,
/// `client_id[]`) counts as that field. A body that is neither a form nor a JSON object is left to the rest.
fn refuse_repeated_fields(form: bool, body: &[u8]) -> Result<(), ProxyError> {
    let repeated = if form {
        let mut seen = Vec::new();
        let mut repeated = None;
        for (key, _) in form_urlencoded::parse(body) {
            let name = php_field_name(&key);
            if let Some(field) = SINGLE_FIELDS.iter().find(|f| **f == name) {
                if seen.contains(field) {
                    repeated = Some(*field);
                    break;
                }
                seen.push(*field);
            }
        }
        repeated
    } else {
        json_repeated_field(body)
    };
    match repeated {
        Some(field) => Err(err(
            ProxyErrorCode::BadRequest,
            format!("the token request names {field} more than once; send each field once"),
        )),
        None => Ok(()),
    }
}

/// The name PHP files a form field under: leading spaces dropped, a `[…]` suffix cut off (an array), `.` and ` `
/// (and a `[` without its `]`) read as `_`.
fn php_field_name(key: &str) -> String {
    let key = key.trim_start_matches(' ');
    let base = match key.find('[') {
        Some(i) if key[i..].contains(']') => &key[..i],
        _ => key,
    };
    base.replace(['.', ' ', '['], "_")
}

/// The first of [`SINGLE_FIELDS`] a JSON object body names twice at its top level (serde_json's own map keeps the
/// last copy silently); `None` for a body that repeats none or is not a JSON object.
fn json_repeated_field(body: &[u8]) -> Option<&'static str> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    struct Repeats;
    impl<'de> Visitor<'de> for Repeats {
        type Value = Option<&'static str>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = Vec::new();
            let mut repeated = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if repeated.is_some() {
                    continue;
                }
                if let Some(field) = SINGLE_FIELDS.iter().find(|f| **f == key) {
                    if seen.contains(field) {
                        repeated = Some(*field);
                    }
                    seen.push(*field);
                }
            }
            Ok(repeated)
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let repeated = de.deserialize_map(Repeats).ok()?;
    de.end().ok()?;
    repeated
}

/// With held credentials: fill the secret into a request for the held integration that came with an empty one,
/// pass a non-empty one as sent, refuse other integrations unless configured. Without: pass everything as sent.
fn fill_secret(
    config: &Config,
    content_type: Option<String>,
    body: Bytes,
) -> Result<(Bytes, String), ProxyError> {
    let form = is_form(content_type.as_deref());
    let content_type = content_type.unwrap_or_else(|| "application/json".to_string());
    let Some((held_id, held_secret)) = config.held() else {
        return Ok((body, content_type));
    };
    let not_a_token_request = || {
        err(
            ProxyErrorCode::BadRequest,
            "the body is not a token request (JSON or form with client_id, client_secret, grant_type, …)",
        )
    };
    let refuse = |id: &str| {
        err(
            ProxyErrorCode::ClientNotAllowed,
            format!("this proxy holds the secret of integration {held_id} and does not pass requests for {id}"),
        )
    };
    if form {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let id = pairs
            .iter()
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v.clone())
            .ok_or_else(not_a_token_request)?;
        if id != held_id {
            return if config.pass_through_other_clients {
                Ok((body, content_type))
            } else {
                Err(refuse(&id))
            };
        }
        let secret_empty = pairs
            .iter()
            .find(|(k, _)| k == "client_secret")
            .is_none_or(|(_, v)| v.is_empty());
        if !secret_empty {
            return Ok((body, content_type));
        }
        let grant = pairs
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.as_str());
        may_sign(config, grant)?;
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "client_secret") {
            out.append_pair(k, v);
        }
        out.append_pair("client_secret", held_secret);
        return Ok((Bytes::from(out.finish()), content_type));
    }
    let mut value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&body).map_err(|_| not_a_token_request())?;
    let id = match value.get("client_id") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => return Err(not_a_token_request()),
    };
    if id != held_id {
        return if config.pass_through_other_clients {
            Ok((body, content_type))
        } else {
            Err(refuse(&id))
        };
    }
    let secret_empty = match value.get("client_secret") {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::String(s)) => s.is_empty(),
        Some(_) => return Err(not_a_token_request()),
    };
    if !secret_empty {
        return Ok((body, content_type));
    }
    may_sign(config, value.get("grant_type").and_then(|g| g.as_str()))?;
    value.insert(
        "client_secret".to_string(),
        serde_json::Value::String(held_secret.to_string()),
    );
    let body = serde_json::to_vec(&value).map_err(|_| not_a_token_request())?;
    Ok((Bytes::from(body), content_type))
}

/// Whether the held secret may be filled into a request of this grant type: code exchanges always; refreshes only
/// with `held_secret_signs_refresh`, so that a leaked refresh token alone is no key to the account.
fn may_sign(config: &Config, grant_type: Option<&str>) -> Result<(), ProxyError> {
    match grant_type {
        Some("authorization_code") => Ok(()),
        Some("refresh_token") if config.held_secret_signs_refresh => Ok(()),
        other => Err(err(
            ProxyErrorCode::SecretRequired,
            format!(
                "this proxy fills in the secret it holds for code exchanges only, not for grant_type {}: send the secret key",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Forwarding

async fn forward(st: &AppState, req: reqwest::RequestBuilder, account: &AccountHost) -> Response {
    let mut upstream = match req.send().await {
        Ok(r) => r,
        Err(e) => return error_response(send_error(&e, st, account), Some(account)),
    };
    let status = upstream.status().as_u16();
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let retry_after = upstream.headers().get(header::RETRY_AFTER).cloned();
    let max = st.config.max_upstream_body_bytes;
    let mut body = Vec::new();
    loop {
        match upstream.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return error_response(
                        err(
                            ProxyErrorCode::Internal,
                            format!("{account} answered with more than {max} bytes"),
                        ),
                        Some(account),
                    );
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return error_response(send_error(&e, st, account), Some(account)),
        }
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
        return error_response(
            ProxyError::not_json(status, content_type.as_deref(), &text),
            Some(account),
        );
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(ra) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    resp.extensions_mut().insert(LogNote {
        account: Some(account.to_string()),
        error: None,
    });
    resp
}

fn send_error(e: &reqwest::Error, st: &AppState, account: &AccountHost) -> ProxyError {
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

// ---------------------------------------------------------------------------------------------------------------
// Middleware

fn is_proxy_path(path: &str) -> bool {
    path == TOKEN_PATH || path.starts_with("/api/") || path.starts_with("/oauth2/")
}

/// CORS: echo allowed origins only, answer preflights, refuse proxy calls from other origins. No credentials.
async fn cors(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .is_some_and(|o| o.to_str().is_ok_and(|o| st.config.origin_allowed(o)));
    let path = req.uri().path().to_string();
    let preflight = req.method() == Method::OPTIONS;
    let forbidden = || {
        error_response(
            err(
                ProxyErrorCode::OriginNotAllowed,
                "this page's origin may not use the proxy; start it with --allow-origin for that origin",
            ),
            None,
        )
    };
    let mut resp = if preflight {
        if origin.is_some() && !allowed {
            forbidden()
        } else {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            if allowed {
                let h = r.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOW_METHODS),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOW_HEADERS),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
            } else {
                r.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, POST, OPTIONS"),
                );
            }
            r
        }
    } else if origin.is_some() && !allowed && is_proxy_path(&path) {
        forbidden()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    if allowed {
        if let Some(o) = origin {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        }
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("origin"));
    resp
}

/// At most `max_in_flight` token and API requests at once; the rest wait for a turn. The turn is kept until the
/// answer has been sent (or dropped): the buffered upstream answer lives in its body, and a slow reader would
/// otherwise hold that memory outside the cap.
async fn take_a_turn(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(turns) = st.in_flight.clone() else {
        return next.run(req).await;
    };
    let Ok(turn) = turns.acquire_owned().await else {
        // Never closed.
        return next.run(req).await;
    };
    next.run(req).await.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _kept = &turn;
            frame
        }))
    })
}

/// Configured headers (security headers) on every answer, unless the handler set them.
async fn response_headers(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    for (name, value) in &st.config.response_headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            continue;
        };
        if !resp.headers().contains_key(&name) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// One line per request: method, path (never the query), account host, status, duration, proxy error code.
async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let note = resp.extensions().get::<LogNote>().cloned();
    let account = note
        .as_ref()
        .and_then(|n| n.account.clone())
        .unwrap_or_else(|| "-".to_string());
    let error = note
        .and_then(|n| n.error)
        .map(|c| c.as_str())
        .unwrap_or("-");
    tracing::info!(
        target: "kommo_proxy::access",
        method = %method,
        path = %path,
        account = %account,
        status = resp.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        error = %error,
        "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(trust: bool, headers: &[(&str, &str)]) -> Option<IpAddr> {
        let mut req = Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, _) = req.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 5555))));
        client_ip(trust, &parts)
    }

    fn addr(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_client_ip_is_the_entry_the_trusted_front_proxy_added() {
        let socket = addr("192.0.2.1");
        // Not trusted: the socket, whatever the headers say.
        assert_eq!(ip(false, &[("x-forwarded-for", "203.0.113.1")]), socket);
        assert_eq!(ip(false, &[("x-real-ip", "203.0.113.1")]), socket);
        // Trusted: the rightmost entry of the last header; what the client wrote to its left does not count.
        assert_eq!(
            ip(true, &[("x-forwarded-for", "203.0.113.1")]),
            addr("203.0.113.1")
        );
        assert_eq!(
            ip(true, &[("x-forwarded-for", "198.51.100.9, 203.0.113.1")]),
            addr("203.0.113.1")
        );
        assert_eq!(
            ip(
                true,
                &[
                    ("x-forwarded-for", "198.51.100.9"),
                    ("x-forwarded-for", "10.0.0.1, 203.0.113.2")
                ]
            ),
            addr("203.0.113.2")
        );
        assert_eq!(
            ip(true, &[("x-forwarded-for", "203.0.113.3:4711")]),
            addr("203.0.113.3")
        );
        assert_eq!(
            ip(true, &[("x-forwarded-for", "[2001:db8::1]:4711")]),
            addr("2001:db8::1")
        );
        assert_eq!(
            ip(true, &[("x-forwarded-for", " 2001:db8::2 ")]),
            addr("2001:db8::2")
        );
        // X-Real-IP only without any X-Forwarded-For.
        assert_eq!(
            ip(true, &[("x-real-ip", "203.0.113.4")]),
            addr("203.0.113.4")
        );
        assert_eq!(
            ip(
                true,
                &[
                    ("x-forwarded-for", "203.0.113.5"),
                    ("x-real-ip", "203.0.113.4")
                ]
            ),
            addr("203.0.113.5")
        );
        // Unparsable: the socket, never a client-chosen fallback.
        for junk in ["junk", "203.0.113.1, junk", "203.0.113.1,", "", "unknown"] {
            assert_eq!(
                ip(
                    true,
                    &[("x-forwarded-for", junk), ("x-real-ip", "203.0.113.4")]
                ),
                socket,
                "{junk:?}"
            );
        }
        assert_eq!(ip(true, &[("x-real-ip", "203.0.113.4, 1.2.3.4")]), socket);
        assert_eq!(ip(true, &[("x-real-ip", "nope")]), socket);
        assert_eq!(ip(true, &[]), socket);
    }
}
