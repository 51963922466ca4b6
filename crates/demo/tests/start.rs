//! The demo launcher: a busy port is named in a clear error, and the printed URL carries the demo setup (never a
//! secret) and opens the page served by the proxy.

use kommo_demo::{start, DemoOptions, StartError};

#[tokio::test]
async fn a_busy_port_is_reported_by_name() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = start(DemoOptions {
        port,
        double_port: 0,
        ..DemoOptions::default()
    })
    .await
    .err()
    .expect("must fail");
    assert!(
        matches!(err, StartError::PortBusy { port: p, .. } if p == port),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&port.to_string()) && msg.contains("busy") && msg.contains("PORT="),
        "{msg}"
    );

    let err = start(DemoOptions {
        port: 0,
        double_port: port,
        ..DemoOptions::default()
    })
    .await
    .err()
    .expect("must fail");
    assert!(err.to_string().contains("Kommo double"), "{err}");
}

#[tokio::test]
async fn a_missing_page_is_explained() {
    let dir = std::env::temp_dir().join(format!("kommo-demo-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = start(DemoOptions {
        port: 0,
        double_port: 0,
        static_dir: Some(dir),
        ..DemoOptions::default()
    })
    .await
    .err()
    .expect("must fail");
    assert!(err.to_string().contains("trunk build"), "{err}");
}

#[tokio::test]
async fn the_demo_url_carries_the_setup_and_the_proxy_holds_the_secret() {
    let running = start(DemoOptions {
        port: 0,
        double_port: 0,
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    let double = running.double_addr.unwrap();
    let url = &running.page_url;
    assert!(
        url.starts_with(&format!("http://{}/#", running.proxy_addr)),
        "{url}"
    );
    let link = kommo::setup::SetupLink::from_fragment(url.split_once('#').unwrap().1).unwrap();
    assert!(link.demo);
    assert_eq!(link.service.as_deref(), Some("custom"));
    assert_eq!(link.consent_base, Some(format!("http://{double}")));
    assert_eq!(
        link.client_id.as_deref(),
        Some(kommo_double::DEMO_CLIENT_ID)
    );
    assert!(!url.contains(kommo_double::DEMO_SECRET));

    let health: kommo::Health = reqwest::get(format!("http://{}/healthz", running.proxy_addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(health.holds_secret);
    assert_eq!(
        health.client_id.as_deref(),
        Some(kommo_double::DEMO_CLIENT_ID)
    );
}
