//! The router as a Vercel function: configuration from the environment, the client IP from `X-Forwarded-For`, and the
//! original path restored from `vercel.json`'s rewrites.

use crate::cli::Cli;
use crate::config::Config;
use crate::router::router;
use crate::routes::api::API_PREFIX;

/// The router the Vercel function runs: configuration from the environment (same variables as the binary), the
/// client IP from `X-Forwarded-For` (Vercel overwrites it with the client's address), and the deployment's own URLs (`VERCEL_URL`,
/// `VERCEL_BRANCH_URL`, `VERCEL_PROJECT_PRODUCTION_URL`) allowed as origins.
pub fn vercel_router_from_env() -> Result<axum::Router, String> {
    vercel_config(std::env::vars()).map(vercel_router)
}

/// The query parameter `vercel.json`'s rewrites use to carry the original path to the function.
pub const VERCEL_PATH_PARAM: &str = "kommo_proxy_path";

/// [`router`] behind Vercel's rewrites: `vercel.json` sends `/oauth2/access_token`, `/api/v4/*` and `/healthz` to
/// `/api/exchange?kommo_proxy_path={original path}`. Whether the function then sees the original path or the
/// rewritten one, this restores the original path (only one of the three proxy routes) and drops the parameter, so
/// it is never forwarded upstream.
pub fn vercel_router(config: Config) -> axum::Router {
    let inner = router(config);
    axum::Router::new()
        .fallback_service(tower::util::MapRequest::new(inner, restore_rewritten_path))
}

fn restore_rewritten_path(mut req: axum::extract::Request) -> axum::extract::Request {
    use axum::http::uri::{PathAndQuery, Uri};
    let Some(query) = req.uri().query() else {
        return req;
    };
    if !query.split('&').any(|p| p.starts_with(VERCEL_PATH_PARAM)) {
        return req;
    }
    let mut original: Option<String> = None;
    let mut kept = Vec::new();
    for piece in query.split('&') {
        let name = piece.split('=').next().unwrap_or("");
        if name == VERCEL_PATH_PARAM {
            let value = piece.split_once('=').map(|(_, v)| v).unwrap_or("");
            let decoded: String = form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            original = Some(decoded);
        } else {
            kept.push(piece);
        }
    }
    let current = req.uri().path().to_string();
    let path = match original {
        Some(p)
            if current.starts_with("/api/exchange")
                && (p == kommo::token::TOKEN_PATH
                    || p == kommo::proxy::HEALTH_PATH
                    || (p.starts_with(API_PREFIX) && !p.contains(['?', '#']))) =>
        {
            p
        }
        _ => current,
    };
    let pq = if kept.is_empty() {
        path
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    if let Ok(pq) = PathAndQuery::try_from(pq) {
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// [`vercel_router_from_env`]'s configuration, from explicit variables (for tests).
pub fn vercel_config(vars: impl IntoIterator<Item = (String, String)>) -> Result<Config, String> {
    use clap::Parser;
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    // Parse the same options as the binary, from these variables only.
    let mut args = vec!["kommo-proxy".to_string()];
    for arg in <Cli as clap::CommandFactory>::command().get_arguments() {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let Some(value) = env.to_str().and_then(get) else {
            continue;
        };
        if arg.get_action().takes_values() {
            args.push(format!("--{long}={value}"));
        } else if matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ) {
            args.push(format!("--{long}"));
        }
    }
    // The deployment's own URLs are its public origins (so the local dev origins are not added).
    for name in [
        "VERCEL_URL",
        "VERCEL_BRANCH_URL",
        "VERCEL_PROJECT_PRODUCTION_URL",
    ] {
        if let Some(host) = get(name).filter(|h| !h.trim().is_empty()) {
            args.push(format!("--public-origin=https://{}", host.trim()));
        }
    }
    let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    let mut config = cli.into_config()?;
    config.trust_forwarded_for = true;
    Ok(config)
}
