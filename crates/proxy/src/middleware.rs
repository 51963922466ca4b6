//! The layers around the routes: CORS, turn-taking for forwarded requests, the configured answer headers and the
//! access log.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kommo::proxy::ProxyErrorCode;
use kommo::token::TOKEN_PATH;
use tower::{Layer, Service};

use crate::error::{AccessNote, Failure};
use crate::state::{AppState, Shared};

/// Methods a browser may use (answered in preflight).
pub const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a browser may send (answered in preflight).
pub const ALLOW_HEADERS: &str = "content-type, authorization, x-kommo-account";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE: &str = "600";

fn is_proxy_path(path: &str) -> bool {
    path == TOKEN_PATH || path.starts_with("/api/") || path.starts_with("/oauth2/")
}

/// Whether the access log is on (`RUST_LOG` lets `kommo_proxy::access` at info through): when it is off, nothing
/// is gathered for it.
pub fn access_log_on() -> bool {
    tracing::enabled!(target: "kommo_proxy::access", tracing::Level::INFO)
}

/// The one layer around every route: the access log outermost, then the configured answer headers, then CORS (see
/// [`cors`]). One layer, one boxed future per request (instead of one per concern).
#[derive(Clone)]
pub struct EdgeLayer {
    state: Shared,
}

impl EdgeLayer {
    pub fn new(state: Shared) -> Self {
        EdgeLayer { state }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;
    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            state: self.state.clone(),
            inner,
        }
    }
}

/// The service [`EdgeLayer`] makes.
#[derive(Clone)]
pub struct Edge<S> {
    state: Shared,
    inner: S,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone is the one not yet polled ready; the one that was goes into the future (tower's usual swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let st = self.state.clone();
        Box::pin(async move {
            let log = access_log_on().then(|| {
                (
                    Instant::now(),
                    req.method().clone(),
                    req.uri().path().to_owned(),
                )
            });
            let mut resp = cors(&st, req, inner).await;
            add_response_headers(&st, &mut resp);
            if let Some((started, method, path)) = log {
                access_log(started, &method, &path, &resp);
            }
            Ok(resp)
        })
    }
}

/// CORS: echo allowed origins only, answer preflights, refuse proxy calls from other origins. No credentials.
async fn cors<S>(st: &AppState, req: Request, mut inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .is_some_and(|o| o.to_str().is_ok_and(|o| st.config.origin_allowed(o)));
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
    } else if origin.is_some() && !allowed && is_proxy_path(req.uri().path()) {
        forbidden()
    } else {
        match inner.call(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        }
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

/// `work` (a token or API request) run in a turn: at most `max_in_flight` of them at once, the rest wait (no cap
/// when it is 0). The turn is kept until the answer has been sent (or dropped): the buffered upstream answer lives
/// in its body, and a slow reader would otherwise hold that memory outside the cap. Only the token and API handlers
/// take turns: health and the page never wait.
pub async fn in_turn(
    st: &AppState,
    work: impl Future<Output = Result<Response, Failure>>,
) -> Response {
    // Never closed, so `ok()` only drops the impossible error.
    let turn = match st.in_flight.clone() {
        Some(turns) => turns.acquire_owned().await.ok(),
        None => None,
    };
    let resp = work.await.into_response();
    match turn {
        None => resp,
        Some(turn) => resp.map(|body| Body::new(HeldTurn { body, _turn: turn })),
    }
}

/// An answer's body that keeps its turn until it has been sent or dropped. It states the length of the body it
/// holds (http-body-util's `map_frame` does not, and hyper then sent every answer chunked: a chunk header and
/// trailer around each body, for the proxy to write and every client to parse — issue 17's benchmark).
struct HeldTurn {
    body: Body,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

impl hyper::body::Body for HeldTurn {
    type Data = hyper::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Configured headers (security headers) on every answer, unless the handler set them.
fn add_response_headers(st: &AppState, resp: &mut Response) {
    for (name, value) in st.response_headers.iter() {
        if !resp.headers().contains_key(name) {
            resp.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

/// One line per request: method, path (never the query), account host, status, duration, proxy error code.
fn access_log(started: Instant, method: &Method, path: &str, resp: &Response) {
    let note = resp.extensions().get::<AccessNote>();
    let account = note.and_then(|n| n.account.as_deref()).unwrap_or("-");
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
}
