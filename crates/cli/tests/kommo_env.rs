//! `kommo-env` run as a process against the Kommo double: refresh in place, races, crashes, the check, exchange, and
//! bad input.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use kommo_double::{DoubleConfig, DEMO_CLIENT_ID, DEMO_SECRET};

fn refresh_args(k: &Kommo) -> Vec<String> {
    vec!["refresh".into(), "--upstream-base".into(), k.base()]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

// ---- refresh --------------------------------------------------------------------------------------------------

#[test]
fn refresh_changes_only_the_two_token_lines_and_keeps_the_permissions() {
    let k = Kommo::demo();
    let s = k.saved("in-place", "demo");
    let (dir, file, old, before) = (&s.dir, &s.file, &s.old, &s.before);
    set_mode(file, 0o640);

    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(file).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(
        changed[0].1.starts_with("KOMMO_TEST_ACCESS_TOKEN=")
            && changed[0].1.ends_with("   # rotates daily")
    );
    assert!(changed[1].1.starts_with("export KOMMO_TEST_REFRESH_TOKEN="));
    assert_eq!(mode(file), 0o640);

    // The new pair, read back with dotenvy, is the one Kommo issued for the old refresh token, and it works.
    let issued = k.double.issued_for(&old.refresh_token);
    assert_eq!(issued.len(), 1);
    assert_eq!(
        value(file, "KOMMO_TEST_ACCESS_TOKEN"),
        issued[0].access_token
    );
    assert_eq!(
        value(file, "KOMMO_TEST_REFRESH_TOKEN"),
        issued[0].refresh_token
    );
    assert_eq!(
        value(file, "PRIVATE_KEY"),
        "-----BEGIN KEY-----\nKOMMO_TEST_REFRESH_TOKEN=not-this-one\n-----END KEY-----"
    );
    assert_eq!(k.api_status("demo", &issued[0].access_token), 200);

    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("account demo.kommo.com (from KOMMO_TEST_ACCOUNT_HOST)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&kommo::api::mask_token(&issued[0].access_token)),
        "{stdout}"
    );
    assert_no_secrets(
        &out,
        &[
            &old.access_token,
            &old.refresh_token,
            &issued[0].access_token,
            &issued[0].refresh_token,
            DEMO_SECRET,
        ],
    );
    assert!(!dir.path(".env.local.kommo-env.tmp").exists());
}

#[test]
fn an_older_file_without_account_host_uses_domain_and_the_tokens_base_domain() {
    let k = Kommo::demo();
    let dir = Scratch::new("old-file");
    let file = dir.path(".env");
    let old = k.pair("sales");
    let text_ =
        env_file("sales.amocrm.ru", &old).replace("KOMMO_TEST_ACCOUNT_HOST=sales.amocrm.ru\n", "");
    std::fs::write(&file, &text_).unwrap();
    let out = run(
        &dir.0,
        &[
            "refresh",
            "--env-file",
            ".env",
            "--upstream-base",
            &k.base(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "account sales.amocrm.ru (from KOMMO_TEST_DOMAIN and the access token's base_domain"
        ),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(k.double.posts_of(&old.refresh_token), 1);
}

#[test]
fn two_refreshes_at_once_spend_the_old_token_once_and_leave_a_valid_pair() {
    let k = Kommo::demo();
    let dir = Scratch::new("race");
    let file = dir.path(".env.local");
    let old = k.pair("demo");
    std::fs::write(&file, env_file("demo.kommo.com", &old)).unwrap();

    // The first run holds the lock a while after taking it, so the second surely arrives while it is held.
    let first = cmd(&dir.0)
        .args(args(&refresh_args(&k)))
        .env("KOMMO_ENV_TEST_HOLD_LOCK_MS", "800")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(250));
    let second = cmd(&dir.0)
        .args(args(&refresh_args(&k)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let said = text(&second.stdout);
    assert!(said.contains("waiting"), "{said}");
    assert!(said.contains("renewed by the other run"), "{said}");

    assert_eq!(
        k.double.posts_of(&old.refresh_token),
        1,
        "the old refresh token was spent twice"
    );
    assert_eq!(k.double.token_posts(), 2, "one exchange, one refresh");
    let rt = value(&file, "KOMMO_TEST_REFRESH_TOKEN");
    let at = value(&file, "KOMMO_TEST_ACCESS_TOKEN");
    assert_eq!(k.api_status("demo", &at), 200);
    assert!(!k.is_revoked(&rt));
    // And the pair in the file refreshes again.
    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file_and_its_pair_working() {
    let k = Kommo::demo();
    let s = k.saved("crash", "demo");
    let (dir, file, old) = (&s.dir, &s.file, &s.old);

    let out = cmd(&dir.0)
        .args(args(&refresh_args(&k)))
        .env("KOMMO_ENV_TEST_CRASH", "before-rename")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        out.status.code(),
        None,
        "killed by the abort, not an exit: {out:?}"
    );
    s.assert_untouched();
    assert_eq!(
        k.double.posts_of(&old.refresh_token),
        1,
        "the refresh happened at Kommo"
    );
    // The new pair was never used, so the old refresh token still works: the next run succeeds.
    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_ne!(value(file, "KOMMO_TEST_REFRESH_TOKEN"), old.refresh_token);
    assert!(
        !dir.path(".env.local.kommo-env.tmp").exists(),
        "the crash's leftover was replaced and renamed"
    );
}

#[test]
fn if_expires_within_skips_a_fresh_token_and_refreshes_one_that_is_close() {
    let k = Kommo::demo();
    let s = k.saved("within", "demo");
    let (dir, file, old, before) = (&s.dir, &s.file, &s.old, &s.before);
    let out = k.run_refresh(&dir.0, &["--if-expires-within", "2h"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not refreshed"),
        "{}",
        text(&out.stdout)
    );
    s.assert_untouched();
    assert_eq!(k.double.posts_of(&old.refresh_token), 0);

    // The access token lives 24 h: within 25 h it is due.
    let out = k.run_refresh(&dir.0, &["--if-expires-within", "25h", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "--quiet");
    assert_eq!(k.double.posts_of(&old.refresh_token), 1);
    assert_ne!(&std::fs::read_to_string(file).unwrap(), before);
}

#[test]
fn revoked_and_expired_refresh_tokens_are_explained_with_their_own_exit_codes() {
    let k = Kommo::demo();
    let s = k.saved("revoked", "demo");
    let (dir, old) = (&s.dir, &s.old);
    // Another copy refreshed and used the new pair: the file's refresh token is spent.
    let newer = k.refresh("demo", &old.refresh_token);
    assert_eq!(k.api_status("demo", &newer.access_token), 200);

    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("Token has been revoked"), "{err}");
    assert!(
        err.contains(kommo::Hint::TokenRevoked.explain(kommo::Lang::En).fix),
        "{err}"
    );
    s.assert_untouched();
    // In Russian on request.
    let out = k.run_refresh(&dir.0, &["--lang", "ru"]);
    assert!(text(&out.stderr).contains(kommo::Hint::TokenRevoked.explain(kommo::Lang::Ru).cause));

    // A refresh token unused for more than 3 months has expired.
    let s = k.saved("expired", "demo");
    let dir = &s.dir;
    k.double.clock().advance(Duration::from_secs(
        kommo::REFRESH_TOKEN_LIFETIME_SECS as u64 + 86_400,
    ));
    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("Token has expired") && err.contains("3 months"),
        "{err}"
    );
    s.assert_untouched();
}

#[test]
fn a_wrong_secret_is_refused_with_the_pages_explanation() {
    let k = Kommo::demo();
    let mut s = k.saved("secret", "demo");
    // The secret comes from the environment when the file has none.
    s.before = s
        .before
        .replace(&format!("KOMMO_TEST_CLIENT_SECRET='{DEMO_SECRET}'\n"), "");
    std::fs::write(&s.file, &s.before).unwrap();
    let (dir, old) = (&s.dir, &s.old);
    let out = cmd(&dir.0)
        .args(args(&refresh_args(&k)))
        .env("KOMMO_TEST_CLIENT_SECRET", "wrong-secret-value-1234567890")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(kommo::Hint::CheckClientSecret.explain(kommo::Lang::En).fix),
        "{err}"
    );
    assert_no_secrets(&out, &["wrong-secret-value-1234567890", &old.refresh_token]);
    s.assert_untouched();
    // With the right one from the environment it works, and says where the secret came from.
    let out = cmd(&dir.0)
        .args(args(&refresh_args(&k)))
        .env("KOMMO_TEST_CLIENT_SECRET", DEMO_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("KOMMO_TEST_CLIENT_SECRET from the environment"));
}

#[test]
fn no_connection_is_trouble_and_the_file_stays() {
    let k = Kommo::demo();
    let s = k.saved("offline", "demo");
    let dir = &s.dir;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = run(
        &dir.0,
        &["refresh", "--upstream-base", &format!("http://{closed}")],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("could not connect"),
        "{}",
        text(&out.stderr)
    );
    s.assert_untouched();
}

// ---- bad input ------------------------------------------------------------------------------------------------

#[test]
fn bad_input_gets_one_line_naming_the_variable_or_line_and_the_file_is_untouched() {
    let k = Kommo::demo();
    let good = env_file("demo.kommo.com", &k.pair("demo"));
    let posts = k.double.token_posts();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing refresh token",
            good.lines()
                .filter(|l| !l.contains("REFRESH_TOKEN=\""))
                .map(|l| format!("{l}\n"))
                .collect(),
            "KOMMO_TEST_REFRESH_TOKEN is missing",
        ),
        (
            "missing client id",
            good.lines()
                .filter(|l| !l.starts_with("KOMMO_TEST_CLIENT_ID"))
                .map(|l| format!("{l}\n"))
                .collect(),
            "KOMMO_TEST_CLIENT_ID is missing",
        ),
        (
            "malformed line",
            good.replacen("\n\n", "\nthis line is not a variable\n", 1),
            "line 7:",
        ),
        (
            "unknown account host",
            good.replace(
                "KOMMO_TEST_ACCOUNT_HOST=demo.kommo.com",
                "KOMMO_TEST_ACCOUNT_HOST=demo.evil.example",
            ),
            "KOMMO_TEST_ACCOUNT_HOST: the account host must end in one of",
        ),
        (
            "www host",
            good.replace(
                "KOMMO_TEST_ACCOUNT_HOST=demo.kommo.com",
                "KOMMO_TEST_ACCOUNT_HOST=www.kommo.com",
            ),
            "KOMMO_TEST_ACCOUNT_HOST: ",
        ),
        (
            "defined twice",
            format!("{good}KOMMO_TEST_REFRESH_TOKEN=def50200second\n"),
            "KOMMO_TEST_REFRESH_TOKEN is defined more than once (lines 16 and 18)",
        ),
        (
            "an open quote",
            format!("{good}BROKEN=\"no end\n"),
            "line 18:",
        ),
    ];
    for (what, content, needle) in cases {
        let dir = Scratch::new("bad");
        let file = dir.path(".env.local");
        std::fs::write(&file, &content).unwrap();
        let out = k.run_refresh(&dir.0, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
        assert!(err.contains(needle), "{what}: {err}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            content.as_bytes(),
            "{what}: untouched"
        );
        assert_eq!(text(&out.stdout), "", "{what}");
        assert_no_secrets(&out, &[DEMO_SECRET]);
    }
    let dir = Scratch::new("nofile");
    let out = k.run_refresh(&dir.0, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(".env.local: no such file"));
    assert!(
        std::fs::read_dir(&dir.0).unwrap().next().is_none(),
        "no lock file is left for a file that does not exist"
    );
    let out = run(&dir.0, &["refresh", "--prefix", "1BAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--prefix"));
    assert_eq!(k.double.token_posts(), posts, "nothing was sent");
}

#[test]
fn help_documents_the_exit_codes_and_takes_no_secret_flag() {
    let out = run(std::path::Path::new("."), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for code in [
        "0  done",
        "1  Kommo gave",
        "2  bad usage",
        "3  refused",
        "4  network",
        "5  the refresh token was revoked",
        "6  the refresh token expired",
    ] {
        assert!(help.contains(code), "{code}: {help}");
    }
    for sub in ["refresh", "check", "exchange"] {
        let out = run(std::path::Path::new("."), &[sub, "--help"]);
        let help = text(&out.stdout);
        assert!(
            !help.contains("--client-secret")
                && !help.contains("--refresh-token")
                && !help.contains("--access-token"),
            "{help}"
        );
    }
    // The README shows the same table.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let table = &help[help.find("Exit codes:").unwrap()..];
    assert!(
        readme.contains(table.trim_end()),
        "README's exit codes differ from --help:\n{table}"
    );
    let out = run(std::path::Path::new("."), &["refresh", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---- check ----------------------------------------------------------------------------------------------------

#[test]
fn check_passes_as_admin_and_as_non_admin() {
    let k = Kommo::demo();
    let dir = Scratch::new("check");
    let file = dir.path(".env.local");
    std::fs::write(&file, env_file("demo.kommo.com", &k.pair("demo"))).unwrap();
    let out = run(&dir.0, &["check", "--upstream-base", &k.base()]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    assert!(
        said.contains("account    ok  Demo Company (id 31000001"),
        "{said}"
    );
    assert!(said.contains("users      ok"), "{said}");
    assert!(said.contains("leads      ok  612 (3 pages"), "{said}");
    assert!(said.contains("passed"), "{said}");

    std::fs::write(&file, env_file("sales.amocrm.ru", &k.pair("sales"))).unwrap();
    let out = run(&dir.0, &["check", "--upstream-base", &k.base()]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    assert!(said.contains("users      needs an admin"), "{said}");
    assert!(said.contains("leads      ok  40 (1 pages"), "{said}");
}

#[test]
fn check_json_parses_and_backs_off_a_429_staying_under_the_pace() {
    let mut config = DoubleConfig::demo(REDIRECT);
    config.rate_limit_per_second = Some(2);
    let k = Kommo::with(config);
    let dir = Scratch::new("check-429");
    let file = dir.path(".env.local");
    let pair = k.pair("demo");
    std::fs::write(&file, env_file("demo.kommo.com", &pair)).unwrap();
    let out = run(&dir.0, &["check", "--json", "--upstream-base", &k.base()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["passed"], true);
    assert_eq!(v["verdict"], "passed");
    assert_eq!(v["account_host"], "demo.kommo.com");
    assert_eq!(
        v["report"]["leads"],
        serde_json::json!({"state": "ok", "value": 612})
    );
    assert_eq!(v["report"]["account"]["value"]["id"], 31000001);
    let requests = v["requests"].as_array().unwrap();
    let throttled: Vec<_> = requests.iter().filter(|r| r["status"] == 429).collect();
    assert!(
        !throttled.is_empty(),
        "the double's 2/s limit was hit: {requests:?}"
    );
    assert!(throttled
        .iter()
        .all(|r| r["retry_in_ms"].as_u64().unwrap() >= 1000));
    assert_eq!(
        v["retries_after_429"].as_u64().unwrap() as usize,
        throttled.len()
    );
    let ok = requests
        .iter()
        .filter(|r| r["status"] == 200 || r["status"] == 204)
        .count();
    assert_eq!(ok, 3 + 4, "account, users, pipelines, 3 pages and the 204");
    assert!(!text(&out.stdout).contains(&pair.access_token));
    assert_eq!(v["token"], kommo::api::mask_token(&pair.access_token));

    // Under the double's normal 7/s limit the check's own pace never trips it.
    let k = Kommo::demo();
    std::fs::write(&file, env_file("demo.kommo.com", &k.pair("demo"))).unwrap();
    let out = run(&dir.0, &["check", "--json", "--upstream-base", &k.base()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["retries_after_429"], 0, "{v}");
    assert!(k.double.log().iter().all(|e| e.status != 429));
}

#[test]
fn check_with_a_dead_token_is_refused() {
    let k = Kommo::demo();
    let dir = Scratch::new("check-dead");
    let file = dir.path(".env.local");
    let old = k.pair("demo");
    let newer = k.refresh("demo", &old.refresh_token);
    assert_eq!(k.api_status("demo", &newer.access_token), 200);
    std::fs::write(&file, env_file("demo.kommo.com", &old)).unwrap();
    let out = run(&dir.0, &["check", "--json", "--upstream-base", &k.base()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["report"]["account"]["value"]["status"], 401);
    assert_eq!(v["report"]["leads"]["state"], "skipped");
    assert!(text(&out.stderr).contains("kommo-env refresh"));
}

// ---- exchange -------------------------------------------------------------------------------------------------

#[test]
fn exchange_creates_a_file_then_updates_it_in_place() {
    let k = Kommo::demo();
    let dir = Scratch::new("exchange");
    let file = dir.path(".env.local");
    let code = k.double.grant_code("demo", DEMO_CLIENT_ID);
    let out = cmd(&dir.0)
        .args([
            "exchange",
            "--code",
            "-",
            "--account",
            "demo.kommo.com",
            "--client-id",
            DEMO_CLIENT_ID,
        ])
        .args(["--redirect-uri", REDIRECT, "--upstream-base", &k.base()])
        .env("KOMMO_TEST_CLIENT_SECRET", DEMO_SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            writeln!(c.stdin.take().unwrap(), "{code}")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(mode(&file), 0o600);
    let pairs = dotenv(&file);
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let want: Vec<String> = kommo::env::NAMES
        .iter()
        .map(|n| format!("KOMMO_TEST_{n}"))
        .collect();
    assert_eq!(names, want);
    let issued = k.double.issued_for(&code);
    assert_eq!(issued.len(), 1);
    assert_eq!(
        value(&file, "KOMMO_TEST_ACCESS_TOKEN"),
        issued[0].access_token
    );
    assert_eq!(value(&file, "KOMMO_TEST_ACCOUNT_HOST"), "demo.kommo.com");
    assert_eq!(value(&file, "KOMMO_TEST_DOMAIN"), "demo");
    assert_eq!(value(&file, "KOMMO_TEST_CLIENT_SECRET"), DEMO_SECRET);
    assert_no_secrets(
        &out,
        &[
            &code,
            DEMO_SECRET,
            &issued[0].access_token,
            &issued[0].refresh_token,
        ],
    );
    // The file it wrote refreshes.
    let out = run(&dir.0, &["refresh", "--upstream-base", &k.base()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Update a user's own file: only the token lines change (the rest is already right).
    let before = format!(
        "{}EXTRA=kept\n",
        env_file("demo.kommo.com", &k.pair("demo"))
    );
    std::fs::write(&file, &before).unwrap();
    set_mode(&file, 0o640);
    let code = k.double.grant_code("demo", DEMO_CLIENT_ID);
    let out = run(
        &dir.0,
        &["exchange", "--code", &code, "--upstream-base", &k.base()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&file).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert_eq!(mode(&file), 0o640);
    assert_eq!(
        value(&file, "KOMMO_TEST_REFRESH_TOKEN"),
        k.double.issued_for(&code)[0].refresh_token
    );

    // A code used twice is explained, and the file stays.
    let out = run(
        &dir.0,
        &["exchange", "--code", &code, "--upstream-base", &k.base()],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(kommo::Hint::CodeRevoked.explain(kommo::Lang::En).cause));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
}

#[test]
fn exchange_into_a_file_for_another_account_adds_what_is_missing() {
    let k = Kommo::demo();
    let dir = Scratch::new("exchange-2");
    let file = dir.path("app.env");
    let before = "# only the app's own settings\nAPP_NAME='my app'\nKOMMO_TEST_CLIENT_ID="
        .to_string()
        + DEMO_CLIENT_ID
        + "\n";
    std::fs::write(&file, &before).unwrap();
    let code = k.double.grant_code("sales", DEMO_CLIENT_ID);
    let out = cmd(&dir.0)
        .args([
            "exchange",
            "--env-file",
            "app.env",
            "--code",
            &code,
            "--account",
            "sales.amocrm.ru",
        ])
        .args(["--upstream-base", &k.base()])
        .env("KOMMO_TEST_CLIENT_SECRET", DEMO_SECRET)
        .env("KOMMO_TEST_REDIRECT_URI", REDIRECT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(&before), "{after}");
    assert_eq!(value(&file, "KOMMO_TEST_ACCOUNT_HOST"), "sales.amocrm.ru");
    assert_eq!(value(&file, "KOMMO_TEST_REDIRECT_URI"), REDIRECT);
    assert!(
        !after.contains(DEMO_SECRET),
        "a secret kept in the environment stays there"
    );
    let out = cmd(&dir.0)
        .args([
            "check",
            "--env-file",
            "app.env",
            "--upstream-base",
            &k.base(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // A bad --account is refused before the code is spent.
    let code = k.double.grant_code("sales", DEMO_CLIENT_ID);
    let out = cmd(&dir.0)
        .args([
            "exchange",
            "--env-file",
            "app.env",
            "--code",
            &code,
            "--account",
            "https://sales.amocrm.ru",
        ])
        .env("KOMMO_TEST_CLIENT_SECRET", DEMO_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--account: "));
    assert_eq!(k.double.posts_of(&code), 0);
}
