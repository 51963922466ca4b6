//! The proxy's router: the per-concern routers of [`crate::routes`] merged, turn-taking around the forwarded ones,
//! and the layers of [`crate::middleware`] around everything.

use std::sync::Arc;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

use crate::config::Config;
use crate::middleware::{access_log, cors, response_headers, take_a_turn};
use crate::routes::{api, files, health, token};
use crate::state::{AppState, Shared};

/// Build the proxy's router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so the rate limit
/// can key on the client IP (without ConnectInfo it falls back to `X-Forwarded-For` when trusted, else one shared
/// key per account host).
pub fn router(config: Config) -> Router {
    let state: Shared = Arc::new(AppState::new(config));
    // Only the requests that go on to Kommo wait for a turn: health and the page never do.
    let forwarded = token::router()
        .merge(api::router())
        .route_layer(from_fn_with_state(state.clone(), take_a_turn));
    Router::new()
        .merge(forwarded)
        .merge(health::router())
        .fallback(files::fallback)
        .layer(from_fn_with_state(state.clone(), cors))
        .layer(from_fn_with_state(state.clone(), response_headers))
        .layer(from_fn(access_log))
        .with_state(state)
}
