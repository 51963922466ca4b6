//! Logs never carry codes, secrets, tokens, Authorization, query strings or bodies — proved by capturing every
//! log line (all targets, TRACE) while exchanging unique markers through the proxy.
//!
//! The test runs on a current-thread runtime so the per-thread subscriber sees the proxy's and the client's tasks.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const CODE: &str = "CODE-MARKER-7f3a9c";
const SECRET: &str = "SECRET-MARKER-b41e02";
const HELD: &str = "HELD-MARKER-5d8c11";
const ACCESS: &str = "ACCESS-MARKER-e92f4d";
const REFRESH: &str = "REFRESH-MARKER-0a6b3e";
const QUERY: &str = "QUERY-MARKER-c7d2aa";
const BEARER: &str = "BEARER-MARKER-19fe7b";
const COOKIE: &str = "COOKIE-MARKER-33aa01";

#[tokio::test(flavor = "current_thread")]
async fn logs_have_one_line_per_request_and_no_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::info!("capture works");

    let up = stub(|rec| {
        if rec.target.starts_with("/oauth2") {
            json_response(
                200,
                &format!(
                    r#"{{"token_type":"Bearer","expires_in":86400,"access_token":"{ACCESS}","refresh_token":"{REFRESH}"}}"#
                ),
            )
        } else {
            json_response(401, &format!(r#"{{"title":"Unauthorized","detail":"{BEARER} is not valid"}}"#))
        }
    })
    .await;
    let mut config = config_for(up.addr).with_credentials("cid", HELD);
    config.held_secret_signs_refresh = true;
    let proxy = spawn_proxy(config).await;

    // The user's own secret.
    let body = format!(
        r#"{{"client_id":"cid","client_secret":"{SECRET}","grant_type":"authorization_code","code":"{CODE}","redirect_uri":"https://a.example/cb?x={QUERY}"}}"#
    );
    let a =
        answer(token_post(proxy, "kwid.kommo.com", &body).header("cookie", format!("s={COOKIE}")))
            .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains(ACCESS),
        "the answer itself carries the token"
    );

    // The held secret filled in.
    let body = format!(
        r#"{{"client_id":"cid","client_secret":"","grant_type":"refresh_token","refresh_token":"{REFRESH}","redirect_uri":"r"}}"#
    );
    let a = answer(token_post(proxy, "kwid.kommo.com", &body)).await;
    assert_eq!(a.status, 200);
    assert_eq!(up.last().json()["client_secret"], HELD);

    // An API read with a bearer token and a query string.
    let a = answer(
        api_get(
            proxy,
            "kwid.kommo.com",
            &format!("leads?query={QUERY}&page=1"),
        )
        .header("authorization", format!("Bearer {BEARER}")),
    )
    .await;
    assert_eq!(a.status, 401);

    // Refused requests log too, without what they carried.
    let a = answer(token_post(proxy, "evil.net", &body)).await;
    assert_eq!(a.status, 400);
    let dead = closed_port().await;
    let dead_proxy = spawn_proxy(config_for(dead)).await;
    let a = answer(
        api_get(dead_proxy, "kwid.kommo.com", &format!("x?q={QUERY}"))
            .header("authorization", format!("Bearer {BEARER}")),
    )
    .await;
    assert_eq!(a.status, 502);

    let text = captured.text();
    assert!(
        text.contains("capture works"),
        "the capture is live:\n{text}"
    );
    for marker in [CODE, SECRET, HELD, ACCESS, REFRESH, QUERY, BEARER, COOKIE] {
        assert!(
            !text.contains(marker),
            "{marker} leaked into the logs:\n{text}"
        );
    }
    assert!(
        !text.to_ascii_lowercase().contains("bearer "),
        "no Authorization value:\n{text}"
    );

    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("kommo_proxy::access"))
        .collect();
    assert_eq!(access.len(), 5, "one line per request:\n{text}");
    let first = access[0];
    for part in [
        "method=POST",
        "path=/oauth2/access_token",
        "account=kwid.kommo.com",
        "status=200",
        "duration_ms=",
    ] {
        assert!(first.contains(part), "{part} missing in {first}");
    }
    let api = access[2];
    for part in ["method=GET", "path=/api/v4/leads", "status=401"] {
        assert!(api.contains(part), "{part} missing in {api}");
    }
    assert!(
        access[3].contains("status=400") && access[3].contains("error=bad_account_host"),
        "{}",
        access[3]
    );
    assert!(
        access[4].contains("status=502") && access[4].contains("error=upstream_unreachable"),
        "{}",
        access[4]
    );
}
