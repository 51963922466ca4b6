//! `POST /oauth2/access_token`: the token exchange and refresh, forwarded to the account host.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use kommo::token::TOKEN_PATH;
use kommo::AccountHost;

use super::wrong_method;
use crate::admission::{admit, read_body};
use crate::error::Failure;
use crate::forward::{forward, request};
use crate::held_secret::fill_secret;
use crate::middleware::in_turn;
use crate::state::{AppState, Shared};
use crate::token_body::{is_form, refuse_repeated_fields};

pub fn router() -> Router<Shared> {
    Router::new().route(TOKEN_PATH, post(token).fallback(wrong_method))
}

async fn token(State(st): State<Shared>, req: Request) -> Response {
    in_turn(&st, token_turn(&st, req)).await
}

async fn token_turn(st: &AppState, req: Request) -> Result<Response, Failure> {
    let (parts, body) = req.into_parts();
    let account = admit(st, &parts)?;
    exchange(st, &parts.headers, body, &account)
        .await
        .map_err(|f| f.about(&account))
}

/// The body within its cap and its rules, the held secret filled in where the policy says, then forwarded.
async fn exchange(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
    account: &AccountHost,
) -> Result<Response, Failure> {
    let body = read_body(st.config.max_body_bytes, headers, body).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    refuse_repeated_fields(is_form(content_type.as_deref()), &body)?;
    let (body, content_type) = fill_secret(&st.config, content_type, body)?;
    let req = request(st, Method::POST, account, TOKEN_PATH, None, headers)?
        .header(header::CONTENT_TYPE, content_type)
        .body(body);
    forward(st, req, account).await
}
