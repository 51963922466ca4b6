//! The exchange proxy as a Vercel Rust function.
//!
//! `vercel.json` rewrites `/oauth2/access_token`, `/api/v4/*` and `/healthz` to this function; the request keeps
//! its original path, and the same router as the `kommo-proxy` binary answers it. Configuration comes from the
//! project's environment variables (`KOMMO_CLIENT_ID`, `KOMMO_CLIENT_SECRET`, `KOMMO_PROXY_ALLOW_ORIGIN`, … — see
//! crates/proxy/README.md); the deployment's own URLs are allowed as origins automatically.

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    let app = app()?;
    vercel_runtime::run(
        tower::ServiceBuilder::new()
            .layer(vercel_runtime::axum::VercelLayer::new())
            .service(app),
    )
    .await
}

/// The router the function serves.
#[cfg(not(target_arch = "wasm32"))]
fn app() -> Result<kommo_proxy::Router, vercel_runtime::Error> {
    kommo_proxy::vercel_router_from_env()
        .map_err(|e| format!("kommo-proxy configuration: {e}").into())
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn the_function_router_answers_health_and_refuses_bad_hosts() {
        let app = super::app().expect("configuration from an empty environment works");
        let resp = app
            .clone()
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(health["status"], "ok");

        let resp = app
            .oneshot(
                Request::post("/oauth2/access_token")
                    .header("x-kommo-account", "kommo.com.evil.net")
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(err["proxy_error"], "bad_account_host");
    }
}
