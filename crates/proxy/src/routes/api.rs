//! `GET /api/v4/…`: API reads, forwarded to the account host with the `Authorization` header.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kommo::proxy::{ProxyError, ProxyErrorCode};

use super::wrong_method;
use crate::admission::admit;
use crate::error::Failure;
use crate::forward::{forward, request};
use crate::middleware::in_turn;
use crate::state::{AppState, Shared};

/// The path prefix forwarded to the account's API.
pub const API_PREFIX: &str = "/api/v4/";

pub fn router() -> Router<Shared> {
    Router::new().route("/api/v4/{*rest}", get(api).fallback(wrong_method))
}

async fn api(State(st): State<Shared>, req: Request) -> Response {
    in_turn(&st, api_turn(&st, req)).await
}

async fn api_turn(st: &AppState, req: Request) -> Result<Response, Failure> {
    let (parts, _body) = req.into_parts();
    let account = admit(st, &parts)?;
    let path = parts.uri.path();
    check_api_path(path).map_err(|e| Failure::from(e).about(&account))?;
    let mut req = request(
        st,
        Method::GET,
        &account,
        path,
        parts.uri.query(),
        &parts.headers,
    )
    .map_err(|e| Failure::from(e).about(&account))?;
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        req = req.header(header::AUTHORIZATION, auth.clone());
    }
    forward(st, req, &account)
        .await
        .map_err(|f| f.about(&account))
}

/// The API path must stay under `/api/v4/`: no dot segments, no encoded slashes or backslashes, no `;` path
/// parameters (`..;/` climbs out on Java servers), no segment starting with `..`. Kommo's API paths have none.
pub fn check_api_path(path: &str) -> Result<(), ProxyError> {
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
        return Err(ProxyError::new(
            ProxyErrorCode::BadRequest,
            format!("{path} is not an API path the proxy forwards"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_stay_under_api_v4() {
        for ok in [
            "/api/v4/account",
            "/api/v4/leads/pipelines",
            "/api/v4/leads/123/notes",
            "/api/v4/a.b",
            "/api/v4/x..y",
        ] {
            assert!(check_api_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/api/v4/",
            "/api/v3/account",
            "/api/v4/../oauth2/access_token",
            "/api/v4/%2e%2E/x",
            "/api/v4/./account",
            "/api/v4/a%2Fb",
            "/api/v4/a%5cb",
            "/api/v4/a\\b",
            "/api/v4/..;/admin",
            "/api/v4/a%3bb",
            "/api/v4/a%00",
            "/api/v4/...",
        ] {
            let e = check_api_path(bad).unwrap_err();
            assert_eq!(e.proxy_error, ProxyErrorCode::BadRequest, "{bad}");
            assert!(e.message.contains(bad), "{}", e.message);
        }
    }
}
