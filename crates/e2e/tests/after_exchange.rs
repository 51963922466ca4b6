//! End-to-end, after the exchange: refresh rotation, the API check (non-admin 403, paging to 204, 429 back-off) and
//! the long-lived token path — the built release page in headless Chromium, through the exchange proxy, against the
//! Kommo double. Each test has its own proxy, double, chromedriver and browser profile.

use std::time::{Duration, Instant};

use kommo_double::{fingerprint, DEMO_CLIENT_ID, DEMO_SECRET};
use kommo_e2e::{env_value, stack_and_page, start_stack_with, Browser};

const DEMO_HOST: &str = "demo.kommo.com";
const SALES_HOST: &str = "sales.amocrm.ru";

/// Consent in this tab for `account` (the double's account chooser), Allow, and wait for the return.
async fn consent_for(b: &Browser, account_host: &str) {
    b.click("#go-same-tab").await;
    let chooser = b.wait("#account").await;
    if chooser.tag_name().await.unwrap_or_default() == "select" {
        chooser
            .select_by_value(account_host)
            .await
            .unwrap_or_else(|e| panic!("choose {account_host}: {e}"));
    }
    b.click("#allow").await;
    b.wait_ready().await;
    b.wait_text("#account-host", account_host).await;
}

/// Consent, exchange, and wait for the result.
async fn exchange_for(b: &Browser, account_host: &str) {
    consent_for(b, account_host).await;
    b.click("#exchange").await;
    b.wait("#result").await;
}

/// Run the API check and wait for its summary; returns the summary's text.
async fn api_check(b: &Browser) -> String {
    b.click("#api-check").await;
    b.wait("#api-summary").await;
    b.text("#api-summary").await
}

/// Save a screenshot of one element under artifacts/e2e/{name}.png.
async fn shot(b: &Browser, css: &str, name: &str) {
    let el = b.wait(css).await;
    let _ = b
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'start'});",
            vec![serde_json::to_value(&el).unwrap()],
        )
        .await;
    if let Ok(png) = el.screenshot().await {
        let _ = std::fs::write(kommo_e2e::artifacts_dir().join(format!("{name}.png")), png);
    }
}

/// Wait until the double's log satisfies `cond` (it is written by the double as requests arrive).
async fn until_log(
    double: &kommo_double::Double,
    what: &str,
    cond: impl Fn(&[kommo_double::LogEntry]) -> bool,
) {
    let deadline = Instant::now() + kommo_e2e::WAIT;
    while !cond(&double.log()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log: {:#?}",
            double.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_refresh_rotates_and_the_old_refresh_token_dies_once_the_new_pair_is_used() {
    let (_stack, double, b) = stack_and_page().await;
    exchange_for(&b, DEMO_HOST).await;
    let first = double.issued()[0].clone();
    let block = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&block, "KOMMO_TEST_REFRESH_TOKEN").as_deref(),
        Some(first.refresh_token.as_str())
    );

    // Refresh in the page: the new pair is the one the double issued for the old refresh token.
    b.click("#refresh").await;
    b.wait("#refresh-result").await;
    let issued = double.issued();
    assert_eq!(issued.len(), 2);
    let second = issued[1].clone();
    assert_eq!(second.grant_type, "refresh_token");
    assert_eq!(
        second.from,
        fingerprint(&first.refresh_token),
        "refreshed with the exchange's refresh token"
    );
    let block = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&block, "KOMMO_TEST_ACCESS_TOKEN").as_deref(),
        Some(second.access_token.as_str()),
        "{block}"
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_REFRESH_TOKEN").as_deref(),
        Some(second.refresh_token.as_str())
    );
    assert!(b.text("#refresh-result").await.contains("Save it now"));
    assert!(!b.text("#refresh-expires-at").await.is_empty());
    assert!(
        !double.issued()[0].revoked,
        "the old pair lives on until the new one is used"
    );
    shot(&b, "#refresh-section", "refresh-result").await;

    // Use the new pair (the API check): the old pair is revoked.
    let summary = api_check(&b).await;
    assert!(summary.contains("All checks passed"), "{summary}");
    let issued = double.issued();
    assert!(issued[1].used && issued[0].revoked, "{issued:#?}");

    // Later, someone pastes the old refresh token: Kommo says it was revoked, and the page explains why.
    b.fill("#paste-refresh-token", &first.refresh_token).await;
    b.fill("#refresh-host", DEMO_HOST).await;
    b.click("#use-refresh-token").await;
    b.wait("#refresh-error[data-hint='token_revoked']").await;
    let explained = b.text("#refresh-error").await;
    assert!(explained.contains("Token has been revoked"), "{explained}");
    assert!(
        explained.contains("spent") && explained.contains("uninstalled"),
        "{explained}"
    );
    let log = double.log();
    let refused = log
        .iter()
        .rfind(|e| e.grant_type.as_deref() == Some("refresh_token"))
        .expect("the pasted refresh was posted");
    assert_eq!(
        (refused.status, refused.hint.as_deref()),
        (401, Some("Token has been revoked"))
    );
    assert_eq!(
        refused.credential_id.as_deref(),
        Some(fingerprint(&first.refresh_token).as_str())
    );
    assert_eq!(refused.host.as_deref(), Some(DEMO_HOST));
    assert_eq!(double.issued().len(), 2, "nothing new was issued");
    // The page still holds the working pair.
    let block = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&block, "KOMMO_TEST_REFRESH_TOKEN").as_deref(),
        Some(second.refresh_token.as_str())
    );
    shot(&b, "#have-token", "refresh-revoked").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2_a_non_admin_account_on_amocrm_gets_needs_an_admin_from_its_own_host() {
    let (_stack, double, b) = stack_and_page().await;
    exchange_for(&b, SALES_HOST).await;
    let summary = api_check(&b).await;
    assert_eq!(
        b.wait("#api-users")
            .await
            .attr("data-state")
            .await
            .unwrap()
            .as_deref(),
        Some("needs-admin")
    );
    assert!(b.text("#api-users").await.contains("needs an admin"));
    assert!(
        summary.contains("All checks passed") && summary.contains("users: needs an admin"),
        "{summary}"
    );
    assert!(summary.contains(SALES_HOST), "{summary}");
    assert!(b.text("#api-leads").await.contains("40 in total"));
    assert!(b.text("#api-pipelines").await.contains("Воронка"));
    let api: Vec<_> = double
        .log()
        .into_iter()
        .filter(|e| e.path.starts_with("/api/v4/"))
        .collect();
    assert!(!api.is_empty());
    assert!(
        api.iter().all(|e| e.host.as_deref() == Some(SALES_HOST)),
        "every API call went to the referer's host (amocrm.ru), none to a guessed one: {api:#?}"
    );
    assert!(api
        .iter()
        .any(|e| e.path == "/api/v4/users" && e.status == 403));
    assert!(b
        .wait(".api-log-entry[data-status='403']")
        .await
        .text()
        .await
        .unwrap_or_default()
        .contains("users"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a3_leads_are_counted_across_pages_until_the_204() {
    let (_stack, double, b) = stack_and_page().await;
    exchange_for(&b, DEMO_HOST).await;
    let summary = api_check(&b).await;
    assert!(summary.contains("leads: 612"), "{summary}");
    assert!(b
        .text("#api-leads")
        .await
        .contains("612 in total (3 pages)"));
    let leads: Vec<_> = double
        .log()
        .into_iter()
        .filter(|e| e.path == "/api/v4/leads")
        .map(|e| e.status)
        .collect();
    assert_eq!(
        leads,
        [200, 200, 200, 204],
        "250 + 250 + 112, then the empty 204"
    );
    assert!(
        double.log().iter().all(|e| e.status != 429),
        "paced under the limit: no 429"
    );
    let entries = b
        .client
        .find_all(fantoccini::Locator::Css(".api-log-entry"))
        .await
        .unwrap();
    assert_eq!(entries.len(), 7);
    let log = b.text("#api-log").await;
    let token = &double.issued()[0].access_token;
    assert!(
        !log.contains(token.as_str()),
        "the token is masked in the request log"
    );
    // Open one entry to show its request and answer.
    b.click(".api-log-entry:nth-child(4) summary").await;
    shot(&b, "#api-section", "api-check").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a4_a_429_is_backed_off_and_the_check_recovers() {
    let (stack, double, b) = stack_and_page().await;
    let double_addr = stack.double_addr.unwrap();
    let token = double.mint_long_lived_token("demo", DEMO_CLIENT_ID, Duration::from_secs(86_400));
    b.fill("#long-lived-token", &token).await;
    b.fill("#long-lived-host", DEMO_HOST).await;
    b.click("#use-long-lived").await;
    b.wait("#result").await;

    // Stop the double's clock and use up this integration's 7 requests of the current second elsewhere: its
    // 1-second window cannot move on, so the page's first request gets 429.
    double.clock().freeze();
    let http = reqwest::Client::new();
    for _ in 0..7 {
        let status = http
            .get(format!("http://{double_addr}/api/v4/account"))
            .header("x-forwarded-host", DEMO_HOST)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    b.click("#api-check").await;
    b.wait(".api-log-entry[data-status='429']").await;
    let seen = Instant::now();
    let account_calls =
        |log: &[kommo_double::LogEntry]| log.iter().filter(|e| e.path == "/api/v4/account").count();
    let before = account_calls(&double.log());
    assert!(b.text("#api-log").await.contains("429: retrying in"));
    // The window moves on; the page must not have hammered meanwhile, and its retry comes after a back-off.
    double.clock().advance(Duration::from_secs(2));
    double.clock().unfreeze();
    until_log(&double, "the retry", |log| account_calls(log) > before).await;
    let waited = seen.elapsed();
    assert!(
        waited >= Duration::from_millis(500),
        "the retry came {waited:?} after the 429 was shown"
    );
    let summary = b.wait_text("#api-summary", "").await;
    assert!(summary.contains("All checks passed"), "{summary}");
    let log = double.log();
    let limited = log.iter().filter(|e| e.status == 429).count();
    assert!(
        (1..=2).contains(&limited),
        "{limited} requests answered 429: {log:#?}"
    );
    shot(&b, "#api-section", "api-check-429").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a5_a_long_lived_token_goes_straight_to_inspection_api_check_and_env_block() {
    let (_stack, double, b) = stack_and_page().await;
    let token =
        double.mint_long_lived_token("demo", DEMO_CLIENT_ID, Duration::from_secs(86_400 * 365));
    shot(&b, "#have-token", "long-lived-entry").await;
    b.fill("#long-lived-token", &token).await;
    b.fill("#long-lived-host", DEMO_HOST).await;
    b.click("#use-long-lived").await;
    b.wait("#result").await;
    assert!(
        !b.exists("#consent-section").await && !b.exists("#exchange").await,
        "consent and exchange skipped"
    );
    assert_eq!(b.text("#claim-account-id").await, "31000001");
    assert_eq!(b.text("#claim-user-id").await, "9000001");
    assert_eq!(b.text("#claim-base-domain").await, "kommo.com");
    assert_eq!(b.text("#claim-api-domain").await, "api-g.kommo.com");
    assert_eq!(b.text("#claim-aud").await, DEMO_CLIENT_ID);
    assert!(b.text("#jwt-unverified").await.contains("not verified"));
    assert!(
        b.text("#token-countdown").await.contains("364 d 23:"),
        "{}",
        b.text("#token-countdown").await
    );
    shot(&b, "#inspect", "inspection").await;
    let summary = api_check(&b).await;
    assert!(
        summary.contains("All checks passed") && summary.contains("leads: 612"),
        "{summary}"
    );
    let block = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&block, "KOMMO_TEST_ACCESS_TOKEN").as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_REFRESH_TOKEN").as_deref(),
        Some("")
    );
    assert!(
        block.contains("# REFRESH_TOKEN is empty: a long-lived token has no refresh token"),
        "{block}"
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_DOMAIN").as_deref(),
        Some("demo")
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_ACCOUNT_HOST").as_deref(),
        Some(DEMO_HOST)
    );
    assert_eq!(double.token_posts(), 0, "no consent, no exchange");
    b.click("#reveal-tokens").await;
    b.wait("#reveal-tokens[aria-pressed='true']").await;
    shot(&b, "#result", "long-lived-result").await;
    b.close().await;
}

/// kommo-proxy's own default, unlike the demo's: the held secret signs the code exchange but not a refresh. The page
/// learns that from /healthz, asks for the secret before sending, and the refresh goes out with the typed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a6_a_proxy_holding_the_secret_for_exchanges_only_gets_the_refresh_secret_from_the_user() {
    let stack = start_stack_with(|o| o.held_secret_signs_refresh = false).await;
    let double = stack.double.clone().unwrap();
    let b = Browser::start().await;
    b.open_page(&stack.page_url).await;
    b.wait_text("#secret-help", "code exchange").await;
    assert_eq!(
        b.value("#secret").await,
        "",
        "the demo page has no secret typed"
    );
    exchange_for(&b, DEMO_HOST).await;
    assert_eq!(
        double.issued().len(),
        1,
        "the proxy signed the code exchange"
    );
    let block = b.text("#env-dotenv").await;
    assert!(
        block.contains("your app needs it to refresh tokens"),
        "{block}"
    );

    // No secret in the page: the refresh is not sent, and the page says why. The page learns what the proxy signs
    // from /healthz, asked again after the return's reload: wait for that answer (before it, the refresh would go
    // out and the proxy's secret_required refusal would explain the same thing).
    b.wait("#proxy-status[data-state='ok']").await;
    b.click("#refresh").await;
    let why = b.wait_text("#refresh-blocked", "code exchanges only").await;
    assert!(why.contains("secret key"), "{why}");
    assert!(
        !double
            .log()
            .iter()
            .any(|e| e.grant_type.as_deref() == Some("refresh_token")),
        "nothing reached the token endpoint"
    );

    // With the secret typed, it goes through the real proxy as sent and Kommo rotates the pair.
    b.fill("#secret", DEMO_SECRET).await;
    b.click("#refresh").await;
    b.wait("#refresh-result").await;
    let issued = double.issued();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[1].grant_type, "refresh_token");
    b.close().await;
}
