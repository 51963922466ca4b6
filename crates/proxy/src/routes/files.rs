//! Everything no other route takes: a clear `bad_request` for unknown proxy paths, else the built page (`--static`)
//! with the SPA fallback to `index.html`, compression, and the page's headers from [`crate::page`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kommo::proxy::{ProxyErrorCode, HEALTH_PATH};
use kommo::token::TOKEN_PATH;
use tower::ServiceExt;
use tower_http::compression::{Compression, CompressionLevel};
use tower_http::services::{ServeDir, ServeFile};

use super::api::API_PREFIX;
use crate::error::Failure;
use crate::page;
use crate::state::Shared;

/// Compression level of the served page (see [`fallback`]).
const STATIC_COMPRESSION: CompressionLevel = CompressionLevel::Precise(5);

/// The router's fallback.
pub async fn fallback(State(st): State<Shared>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let is_proxy_path = path.starts_with("/api/") || path.starts_with("/oauth2/") || path == "/api";
    if is_proxy_path {
        return Failure::new(
            ProxyErrorCode::BadRequest,
            format!(
                "no such endpoint: {path}; the proxy serves POST {TOKEN_PATH}, GET {API_PREFIX}… and GET {HEALTH_PATH}"
            ),
        )
        .into_response();
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
