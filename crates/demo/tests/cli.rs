//! The `kommo-demo` binary warns when the Kommo double would listen on an address other machines can reach.
//!
//! The address is TEST-NET-1 (192.0.2.1, RFC 5737), which no interface has, so the demo cannot start and nothing is
//! ever exposed.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kommo-demo");

fn run(args: &[&str]) -> (bool, String) {
    let page = std::env::temp_dir().join(format!("kommo-demo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&page).unwrap();
    std::fs::write(page.join("index.html"), "<!doctype html>").unwrap();
    let out = Command::new(BIN)
        .args(args)
        .arg("--static")
        .arg(&page)
        .args(["--port", "0", "--double-port", "0"])
        .env("RUST_LOG", "warn")
        .env_remove("NO_DOUBLE")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_non_loopback_double_is_warned_about() {
    assert!(
        std::net::TcpListener::bind("192.0.2.1:0").is_err(),
        "this machine has 192.0.2.1; the test would start a reachable demo"
    );
    let (ok, out) = run(&["--ip", "192.0.2.1"]);
    assert!(!ok, "the bind cannot succeed: {out}");
    assert!(out.contains("not a loopback address"), "{out}");
    assert!(out.contains("/_double/"), "{out}");

    // Without the double there is nothing of it to expose.
    let (ok, out) = run(&["--ip", "192.0.2.1", "--no-double"]);
    assert!(!ok, "{out}");
    assert!(!out.contains("not a loopback address"), "{out}");
}
