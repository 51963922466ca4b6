//! The exchange proxy of the Kommo OAuth helper.
//!
//! Kommo refuses browser (CORS) calls to its token endpoint and API, so the page sends them here with the account
//! host in `X-Kommo-Account`; the proxy checks the host against a strict allowlist ([`kommo::AccountHost`]) and
//! forwards:
//!
//! - `POST /oauth2/access_token` → `https://{account}/oauth2/access_token` (JSON or form body, passed on as sent,
//!   except that a held secret is filled into an empty `client_secret` for the held integration);
//! - `GET /api/v4/{path}?{query}` → `https://{account}/api/v4/{path}?{query}` with the `Authorization` header;
//! - `GET /healthz` → [`kommo::proxy::Health`].
//!
//! Kommo's JSON answers pass back unchanged (status, body, content type); everything that goes wrong inside the proxy
//! (bad host, upstream down, not JSON, …) is a [`kommo::proxy::ProxyError`] JSON body. See `README.md` beside this
//! crate for the contract with examples.
//!
//! ## How the code is laid out
//! - [`router()`] merges the per-concern routers of [`routes`] ([`routes::token`], [`routes::api`],
//!   [`routes::health`], and [`routes::files`] for the page and unknown paths) and puts the layers of
//!   [`middleware`] around them (CORS, turn-taking, answer headers, access log);
//! - a forwarded request passes [`admission`] (account host, client IP, rate limits, body cap), the
//!   [`token_body`] rules and the [`held_secret`] policy, and then [`forward`]ing;
//! - [`error::Failure`] is the proxy's own error answer (`IntoResponse`, so handlers use `?`);
//! - [`state`] holds what handlers share, [`limit`] the sliding windows, [`config`] and [`cli`] the options,
//!   [`page`] the served page's headers, [`vercel`] the Vercel function's router, [`workers`] the binary's threads.

pub mod admission;
pub mod cli;
pub mod config;
pub mod error;
pub mod forward;
pub mod held_secret;
pub mod limit;
pub mod middleware;
pub mod page;
pub mod router;
pub mod routes;
pub mod state;
pub mod token_body;
pub mod vercel;
pub mod workers;

use std::future::Future;
use std::net::SocketAddr;

pub use axum::Router;
pub use cli::Cli;
pub use config::Config;
pub use router::router;
pub use routes::api::API_PREFIX;
pub use vercel::{vercel_config, vercel_router, vercel_router_from_env, VERCEL_PATH_PARAM};

/// Serve the proxy on `listener` until the process ends (with ConnectInfo, so the rate limit keys on client IPs).
pub async fn serve(config: Config, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Serve the proxy on `listener` until `shutdown` completes; open requests are finished first.
pub async fn serve_with_shutdown(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Install the `tracing` subscriber the binary uses: `RUST_LOG` filter (default `info`), text or JSON lines.
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
