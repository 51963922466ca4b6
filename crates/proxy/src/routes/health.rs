//! `GET /healthz`: the proxy's health, and whether (and for which integration) it holds a secret — never the secret.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kommo::proxy::HEALTH_PATH;
use kommo::Health;

use super::wrong_method;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new().route(HEALTH_PATH, get(health).fallback(wrong_method))
}

async fn health(State(st): State<Shared>) -> Response {
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
