//! The built page, served by the proxy with its CSP, runs in headless Chromium: it mounts (`#app[data-ready="1"]`)
//! and the browser reports no Content-Security-Policy violation. The same check sees the page blocked when the CSP
//! lacks what the page needs — so it can fail.
//!
//! Needs the built page (`trunk build --release --offline` → `dist/`, or the directory in `KOMMO_E2E_DIST`) and
//! Chromium (`/usr/bin/chromium`, or `CHROME_PATH`); `scripts/test.sh` provides both. Without them it fails and
//! says so.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::spawn_proxy;
use kommo_proxy::page::content_security_policy;
use kommo_proxy::Config;

fn dist() -> PathBuf {
    let dir = std::env::var_os("KOMMO_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dist"));
    assert!(
        dir.join("index.html").is_file(),
        "no built page in {}: run `trunk build --release --offline` (scripts/test.sh does)",
        dir.display()
    );
    dir
}

struct Visit {
    dom: String,
    console: String,
}

/// Open `url` in a fresh headless Chromium profile and return the DOM once the page settled, with the console log.
async fn visit(url: &str) -> Visit {
    let chrome = std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(&chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("Chromium finished within 90 s")
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {chrome} ({e}): install Chromium (scripts/ensure-tools.sh --browser)"
            )
        });
    Visit {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn csp_violations(console: &str) -> Vec<&str> {
    console
        .lines()
        .filter(|l| l.contains("Content Security Policy") || l.contains("Content-Security-Policy"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_runs_under_its_csp() {
    let proxy = spawn_proxy(Config::default().with_static_dir(dist())).await;
    let page = visit(&format!("http://{proxy}/")).await;
    let violations = csp_violations(&page.console);
    assert!(
        violations.is_empty(),
        "CSP violations:\n{}",
        violations.join("\n")
    );
    assert!(
        page.dom.contains(r#"id="app" data-ready="1""#),
        "the page did not mount under its CSP. Console:\n{}\nDOM:\n{}",
        page.console,
        page.dom
    );
    // The redirect path (SPA fallback) too.
    let page = visit(&format!(
        "http://{proxy}/callback?error=access_denied&state=x"
    ))
    .await;
    assert!(csp_violations(&page.console).is_empty(), "{}", page.console);
    assert!(page.dom.contains(r#"data-ready="1""#), "{}", page.console);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_sees_a_page_its_csp_blocks() {
    // Without 'wasm-unsafe-eval' the browser refuses to compile the wasm: the page never mounts.
    let mut config = Config::default().with_static_dir(dist());
    config.response_headers.push((
        "content-security-policy".into(),
        content_security_policy(&[]).replace(" 'wasm-unsafe-eval'", ""),
    ));
    let proxy = spawn_proxy(config).await;
    let page = visit(&format!("http://{proxy}/")).await;
    assert!(
        !csp_violations(&page.console).is_empty(),
        "no violation reported:\n{}",
        page.console
    );
    assert!(!page.dom.contains(r#"data-ready="1""#));
}
