//! The router the Vercel function serves, called in-process (no sockets on the proxy side, no ConnectInfo).

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use tower::ServiceExt;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn call(app: &axum::Router, req: Request<Body>) -> (u16, axum::http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn configuration_comes_from_environment_variables() {
    let c = kommo_proxy::vercel_config(vars(&[
        ("KOMMO_CLIENT_ID", "cid"),
        ("KOMMO_CLIENT_SECRET", "sec"),
        (
            "KOMMO_PROXY_ALLOW_ORIGIN",
            "https://a.example,https://b.example",
        ),
        ("KOMMO_PROXY_ALLOW_SUFFIX", "example.test"),
        ("KOMMO_PROXY_PASS_THROUGH_OTHER_CLIENTS", "true"),
        ("KOMMO_PROXY_HELD_SECRET_SIGNS_REFRESH", "1"),
        ("KOMMO_PROXY_RATE_LIMIT", "5"),
        ("KOMMO_PROXY_CLIENT_RATE_LIMIT", "11"),
        ("VERCEL_URL", "helper-abc123.vercel.app"),
        ("VERCEL_PROJECT_PRODUCTION_URL", "helper.vercel.app"),
        ("UNRELATED", "x"),
    ]))
    .unwrap();
    assert_eq!(c.held(), Some(("cid", "sec")));
    assert!(c.pass_through_other_clients);
    assert!(c.held_secret_signs_refresh);
    assert!(c.trust_forwarded_for, "Vercel sets X-Forwarded-For");
    assert_eq!(c.rate_limit_per_second, 5);
    assert_eq!(c.client_rate_limit_per_second, 11);
    assert_eq!(c.extra_suffixes, ["example.test"]);
    for o in [
        "https://a.example",
        "https://b.example",
        "https://helper-abc123.vercel.app",
        "https://helper.vercel.app",
    ] {
        assert!(c.origin_allowed(o), "{o} in {:?}", c.allow_origins);
    }
    assert!(
        !c.origin_allowed("http://localhost:8080"),
        "no dev origins once origins are configured"
    );

    let c =
        kommo_proxy::vercel_config(vars(&[("KOMMO_PROXY_PASS_THROUGH_OTHER_CLIENTS", "false")]))
            .unwrap();
    assert!(!c.pass_through_other_clients);
    assert!(!c.held_secret_signs_refresh, "off unless set");
    assert_eq!(c.held(), None);

    let err = kommo_proxy::vercel_config(vars(&[("KOMMO_CLIENT_SECRET", "only-the-secret")]))
        .unwrap_err();
    assert!(err.contains("client-id"), "{err}");
}

#[tokio::test]
async fn rewritten_requests_reach_the_right_route() {
    let up = ok_stub().await;
    let mut c = kommo_proxy::vercel_config(vars(&[("VERCEL_URL", "helper.vercel.app")])).unwrap();
    c.upstream_base = Some(format!("http://{}", up.addr));
    let app = kommo_proxy::vercel_router(c);

    // The function sees the rewritten path: the original comes back from the parameter.
    let req = Request::get("/api/exchange?kommo_proxy_path=%2Fapi%2Fv4%2Faccount&with=amojo_id")
        .header("x-kommo-account", "kwid.kommo.com")
        .header("origin", "https://helper.vercel.app")
        .header("x-forwarded-for", "198.51.100.7")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers.get("access-control-allow-origin").unwrap(),
        "https://helper.vercel.app"
    );
    assert_eq!(
        up.last().target,
        "/api/v4/account?with=amojo_id",
        "the parameter is not forwarded"
    );

    // The function sees the original path plus the parameter.
    let req = Request::get("/api/v4/leads?kommo_proxy_path=/api/v4/leads&page=2")
        .header("x-kommo-account", "kwid.kommo.com")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = call(&app, req).await;
    assert_eq!(status, 200);
    assert_eq!(up.last().target, "/api/v4/leads?page=2");

    let req = Request::post("/api/exchange?kommo_proxy_path=/oauth2/access_token")
        .header("x-kommo-account", "kwid.kommo.com")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"client_id":"c"}"#))
        .unwrap();
    let (status, _, _) = call(&app, req).await;
    assert_eq!(status, 200);
    assert_eq!(up.last().target, "/oauth2/access_token");
    assert_eq!(up.last().body_str(), r#"{"client_id":"c"}"#);

    let req = Request::get("/api/exchange?kommo_proxy_path=/healthz")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(&app, req).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""));

    // Only the three proxy routes can be named; anything else stays where it was and is refused.
    for target in [
        "/api/exchange?kommo_proxy_path=/etc/passwd",
        "/api/exchange?kommo_proxy_path=http://evil.example/",
        "/api/exchange?kommo_proxy_path=/_double/log",
    ] {
        let req = Request::get(target)
            .header("x-kommo-account", "kwid.kommo.com")
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = call(&app, req).await;
        assert_eq!(status, 400, "{target}: {body}");
        assert!(body.contains("bad_request"));
    }
    assert_eq!(up.count(), 3);
}
