//! A minimal upstream for `bench.sh`: answers every request with a small token-like JSON body, so the benchmark
//! measures the proxy rather than the upstream. `bench_upstream [ADDR]` (default 127.0.0.1:0) prints its address.

use axum::http::header;
use axum::response::IntoResponse;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let body = r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a.b.c","refresh_token":"def502"}"#;
    let app = axum::Router::new().fallback(move || async move {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    });
    axum::serve(listener, app).await
}
