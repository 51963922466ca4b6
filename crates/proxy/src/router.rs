//! The proxy's router: the per-concern routers of [`crate::routes`] merged (the forwarded ones take turns), and the
//! layer of [`crate::middleware`] around everything.

use std::sync::Arc;

use axum::Router;

use crate::config::Config;
use crate::middleware::EdgeLayer;
use crate::routes::{api, files, health, token};
use crate::state::{AppState, Shared};

/// Build the proxy's router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so the rate limit
/// can key on the client IP (without ConnectInfo it falls back to `X-Forwarded-For` when trusted, else one shared
/// key per account host).
pub fn router(config: Config) -> Router {
    router_with_state(AppState::new(config))
}

/// [`router`] on a given state (each worker runtime gets one from [`AppState::for_worker`]).
pub fn router_with_state(state: AppState) -> Router {
    let state: Shared = Arc::new(state);
    // Only the requests that go on to Kommo wait for a turn (the token and API handlers take one): health and the
    // page never do.
    Router::new()
        .merge(token::router())
        .merge(api::router())
        .merge(health::router())
        .fallback(files::fallback)
        .layer(EdgeLayer::new(state.clone()))
        .with_state(state)
}
