//! The binary and its options: `--help` documents every option and its environment variable, configuration
//! errors stop it with a clear message, and it serves when started.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clap::{CommandFactory, Parser};
use kommo_proxy::Cli;

const BIN: &str = env!("CARGO_BIN_EXE_kommo-proxy");

#[test]
fn help_mentions_every_option_and_env_var_and_no_secret_value() {
    let out = Command::new(BIN)
        .arg("--help")
        .env("KOMMO_CLIENT_SECRET", "SECRET-IN-HELP-MARKER")
        .env("KOMMO_CLIENT_ID", "cid")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let cmd = Cli::command();
    let mut checked = 0;
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" || long == "version" {
            continue;
        }
        assert!(
            help.contains(&format!("--{long}")),
            "--{long} missing from --help:\n{help}"
        );
        let env = arg
            .get_env()
            .unwrap_or_else(|| panic!("--{long} has no environment variable"));
        let env = env.to_str().unwrap();
        assert!(help.contains(env), "{env} missing from --help");
        checked += 1;
    }
    assert!(checked >= 17, "{checked}");
    for flag in [
        "--bind",
        "--allow-origin",
        "--allow-suffix",
        "--client-id",
        "--client-secret",
        "--static",
        "--upstream-base",
        "--pass-through-other-clients",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
    assert!(
        help.contains("ps"),
        "says why the env var is preferred for the secret"
    );
    assert!(
        !help.contains("SECRET-IN-HELP-MARKER"),
        "--help never shows the secret's value"
    );
}

#[test]
fn configuration_errors_stop_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["--allow-suffix", "Bad.Suffix"], "lowercase"),
        (&["--allow-origin", "https://a.example/path"], "origin"),
        (&["--upstream-base", "ftp://x"], "upstream-base"),
        (
            &["--static", "/nonexistent-dir-for-kommo-proxy"],
            "index.html",
        ),
        (&["--client-secret", "x"], "client-id"),
        (&["--header", "no colon"], "Name: value"),
        (&["--timeout-ms", "0"], "timeouts"),
    ];
    for (args, needle) in cases {
        let out = Command::new(BIN)
            .args(*args)
            .env_remove("KOMMO_CLIENT_ID")
            .env_remove("KOMMO_CLIENT_SECRET")
            .env("KOMMO_PROXY_BIND", "127.0.0.1:0")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn options_build_the_config() {
    let cli = Cli::try_parse_from([
        "kommo-proxy",
        "--bind",
        "127.0.0.1:9000",
        "--allow-origin",
        "https://A.example/",
        "--allow-origin",
        "https://b.example",
        "--allow-suffix",
        ".example.test",
        "--client-id",
        "cid",
        "--client-secret",
        "sec",
        "--upstream-base",
        "http://127.0.0.1:7000/",
        "--rate-limit",
        "3",
        "--client-rate-limit",
        "9",
        "--max-in-flight",
        "12",
        "--header",
        "Content-Security-Policy: default-src 'self'",
        "--timeout-ms",
        "1500",
    ])
    .unwrap();
    let c = cli.into_config().unwrap();
    assert_eq!(
        c.allow_origins,
        [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "https://a.example",
            "https://b.example"
        ],
        "own origins plus the given ones; no dev origins once origins are configured"
    );
    assert_eq!(c.extra_suffixes, ["example.test"]);
    assert_eq!(c.held(), Some(("cid", "sec")));
    assert_eq!(c.upstream_base.as_deref(), Some("http://127.0.0.1:7000"));
    assert_eq!(c.rate_limit_per_second, 3);
    assert_eq!(c.client_rate_limit_per_second, 9);
    assert_eq!(c.max_in_flight, 12);
    assert_eq!(c.timeout, std::time::Duration::from_millis(1500));
    assert!(c
        .response_headers
        .iter()
        .any(|(n, v)| n == "content-security-policy" && v == "default-src 'self'"));
    assert!(c
        .response_headers
        .iter()
        .any(|(n, _)| n == "referrer-policy"));
    assert!(
        !format!("{c:?}").contains("sec\""),
        "Debug hides the secret: {c:?}"
    );

    let by_hand = kommo_proxy::Config {
        allow_origins: vec!["HTTP://Example.ORG:9080/".to_string()],
        ..Default::default()
    };
    assert!(
        by_hand.origin_allowed("http://example.org:9080"),
        "hand-written entries are normalised too"
    );
    assert!(!by_hand.origin_allowed("http://example.org:9081"));

    let c = Cli::try_parse_from(["kommo-proxy"])
        .unwrap()
        .into_config()
        .unwrap();
    assert_eq!(
        c.allow_origins,
        ["http://127.0.0.1:8080", "http://localhost:8080"]
    );
    assert_eq!(c.held(), None);

    let c = Cli::try_parse_from(["kommo-proxy", "--public-origin", "https://oauth.example"])
        .unwrap()
        .into_config()
        .unwrap();
    assert_eq!(
        c.allow_origins,
        ["https://oauth.example"],
        "a public deployment allows only its origin"
    );
}

#[test]
fn the_binary_serves_with_env_configuration() {
    let mut child = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0"])
        .env("KOMMO_CLIENT_ID", "cid-from-env")
        .env("KOMMO_CLIENT_SECRET", "SECRET-FROM-ENV-MARKER")
        .env("KOMMO_PROXY_UPSTREAM_BASE", "http://127.0.0.1:9")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("the proxy exited before listening:\n{seen}");
        }
        seen.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health = rt.block_on(async {
        common::answer(common::client().get(format!("http://{addr}/healthz"))).await
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.status, 200);
    let h: kommo::Health = serde_json::from_str(&health.body).unwrap();
    assert!(h.holds_secret);
    assert_eq!(h.client_id.as_deref(), Some("cid-from-env"));
    assert!(
        !seen.contains("SECRET-FROM-ENV-MARKER"),
        "the start line never shows the secret:\n{seen}"
    );
}

/// Start the binary with `args` and the environment `env`, and read its start line: (child, address, start line).
/// The caller kills and waits for the child.
#[allow(clippy::zombie_processes)]
fn start(args: &[&str], env: &[(&str, &str)]) -> (std::process::Child, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the proxy exited before listening:\n{seen}");
        }
        seen.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            // Keep draining its log so it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, addr, line);
        }
    }
}

#[test]
fn workers_share_one_set_of_limits_and_a_taken_port_is_refused() {
    let (mut child, addr, line) = start(
        &[
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--rate-limit",
            "3",
            "--client-rate-limit",
            "0",
            "--pace",
            "0",
            "--upstream-base",
            "http://127.0.0.1:9",
        ],
        &[("RUST_LOG", "info")],
    );
    assert!(line.contains("workers=2"), "{line}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Eight requests for one account from one client, each on a connection of its own, so the kernel spreads them
    // over both workers: the limit of 3 a second still counts them together.
    let statuses: Vec<u16> = rt.block_on(async {
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let a = common::answer(
                common::client()
                    .get(format!("http://{addr}/api/v4/account"))
                    .header("x-kommo-account", "kwid.kommo.com")
                    .header("authorization", "Bearer t"),
            )
            .await;
            statuses.push(a.status);
        }
        statuses
    });
    // Another process on the same port is refused, as with one socket, instead of joining and sharing connections.
    let second = Command::new(BIN)
        .args(["--bind", &addr, "--workers", "2"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "3 forwarded (502: nothing listens upstream), the rest 429: {statuses:?}"
    );
    assert!(statuses[..3].iter().all(|s| *s == 502), "{statuses:?}");
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains("in use"),
        "{err}"
    );
}
