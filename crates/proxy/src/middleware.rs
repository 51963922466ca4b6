//! The layers around the routes: CORS, turn-taking for forwarded requests, the configured answer headers and the
//! access log.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use kommo::proxy::ProxyErrorCode;
use kommo::token::TOKEN_PATH;

use crate::error::{AccessNote, Failure};
use crate::state::Shared;

/// Methods a browser may use (answered in preflight).
pub const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a browser may send (answered in preflight).
pub const ALLOW_HEADERS: &str = "content-type, authorization, x-kommo-account";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE: &str = "600";

fn is_proxy_path(path: &str) -> bool {
    path == TOKEN_PATH || path.starts_with("/api/") || path.starts_with("/oauth2/")
}

/// CORS: echo allowed origins only, answer preflights, refuse proxy calls from other origins. No credentials.
pub async fn cors(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .is_some_and(|o| o.to_str().is_ok_and(|o| st.config.origin_allowed(o)));
    let path = req.uri().path().to_string();
    let preflight = req.method() == Method::OPTIONS;
    let forbidden = || {
        Failure::new(
            ProxyErrorCode::OriginNotAllowed,
            "this page's origin may not use the proxy; start it with --allow-origin for that origin",
        )
        .into_response()
    };
    let mut resp = if preflight {
        if origin.is_some() && !allowed {
            forbidden()
        } else {
            preflight_answer(allowed)
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

/// `204` to a preflight: the allowed methods and headers for an allowed origin, else only `Allow`.
fn preflight_answer(allowed: bool) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    if allowed {
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
        h.insert(
            header::ALLOW,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
    }
    r
}

/// At most `max_in_flight` token and API requests at once; the rest wait for a turn. The turn is kept until the
/// answer has been sent (or dropped): the buffered upstream answer lives in its body, and a slow reader would
/// otherwise hold that memory outside the cap.
pub async fn take_a_turn(State(st): State<Shared>, req: Request, next: Next) -> Response {
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
pub async fn response_headers(State(st): State<Shared>, req: Request, next: Next) -> Response {
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
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let note = resp
        .extensions()
        .get::<AccessNote>()
        .cloned()
        .unwrap_or_default();
    let account = note.account.unwrap_or_else(|| "-".to_string());
    let error = note.error.map(|c| c.as_str()).unwrap_or("-");
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
