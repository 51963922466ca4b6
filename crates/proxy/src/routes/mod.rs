//! The proxy's endpoints, one module per concern, each with its own `router()`, merged by `router.rs`.

pub mod api;
pub mod files;
pub mod health;
pub mod token;

use axum::http::{Method, Uri};
use kommo::proxy::ProxyErrorCode;
use kommo::token::TOKEN_PATH;

use crate::error::Failure;

/// A method an endpoint does not serve: `400 bad_request` naming the one it does.
pub async fn wrong_method(method: Method, uri: Uri) -> Failure {
    let allowed = if uri.path() == TOKEN_PATH {
        "POST"
    } else {
        "GET"
    };
    Failure::new(
        ProxyErrorCode::BadRequest,
        format!("{method} is not served at {}; use {allowed}", uri.path()),
    )
}
