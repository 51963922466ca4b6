//! The `kommo-double` binary warns when it is told to listen on an address other machines can reach.
//!
//! The address is TEST-NET-1 (192.0.2.1, RFC 5737), which no interface has, so the bind fails right after the
//! warning and nothing is ever exposed; the loopback case uses a port the test holds, so it fails too.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kommo-double");

fn run(bind: &str) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["--bind", bind])
        .env("RUST_LOG", "warn")
        .env_remove("KOMMO_DOUBLE_CONFIG")
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
fn a_non_loopback_bind_is_warned_about() {
    assert!(
        std::net::TcpListener::bind("192.0.2.1:0").is_err(),
        "this machine has 192.0.2.1; the test would start a reachable double"
    );
    let (ok, out) = run("192.0.2.1:0");
    assert!(!ok, "the bind cannot succeed: {out}");
    assert!(out.contains("WARN"), "{out}");
    assert!(out.contains("not a loopback address"), "{out}");
    assert!(out.contains("/_double/"), "{out}");

    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (ok, out) = run(&held.local_addr().unwrap().to_string());
    assert!(!ok, "the port is held: {out}");
    assert!(!out.contains("not a loopback address"), "{out}");
}
