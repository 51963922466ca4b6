//! End-to-end: the built release page in headless Chromium, served by the exchange proxy, in front of the Kommo
//! double. Each test has its own proxy, double, chromedriver and fresh browser profile.

use std::time::Duration;

use kommo_double::{DEMO_CLIENT_ID, DEMO_SECRET};
use kommo_e2e::{env_value, free_port, stack_and_page, start_stack, start_stack_with, Browser};

/// The account host of the double's demo account.
const DEMO_HOST: &str = "demo.kommo.com";

/// From the page: "Continue in this tab" and wait for the double's consent page. Returns the consent URL.
async fn go_to_consent(b: &Browser) -> String {
    b.click("#go-same-tab").await;
    b.wait("#allow").await;
    b.url().await
}

/// Press Allow and wait for the page to have read the return.
async fn allow_and_return(b: &Browser) {
    b.click("#allow").await;
    b.wait_ready().await;
    b.wait_text("#account-host", DEMO_HOST).await;
}

/// Exchange the code in hand and check that the env block holds what the double issued, from one token request.
async fn exchange_once(b: &Browser, double: &kommo_double::Double) {
    b.click("#exchange").await;
    b.wait("#result").await;
    assert_env_holds_issued(b, double, "authorization_code").await;
    assert_eq!(double.token_posts(), 1);
}

fn state_of(consent_url: &str) -> String {
    let query = consent_url.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("state="))
        .expect("the consent URL carries a state")
        .to_string()
}

/// Post a token request body to the double's token endpoint for the demo account, as a tool other than the page
/// would (curl, another tab). Returns the status and the body.
async fn post_to_double(double_addr: std::net::SocketAddr, body: String) -> (u16, String) {
    let answer = reqwest::Client::new()
        .post(format!("http://{double_addr}/oauth2/access_token"))
        .header("x-forwarded-host", DEMO_HOST)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post to the double");
    let status = answer.status().as_u16();
    (status, answer.text().await.expect("the double's answer"))
}

/// Exchange a code directly at the double, as another tool (or an earlier tab) would.
async fn exchange_directly(
    double_addr: std::net::SocketAddr,
    code: &str,
    redirect_uri: &str,
) -> u16 {
    let body =
        kommo::TokenRequest::authorization_code(DEMO_CLIENT_ID, DEMO_SECRET, code, redirect_uri)
            .to_json();
    post_to_double(double_addr, body).await.0
}

async fn assert_env_holds_issued(b: &Browser, double: &kommo_double::Double, grant_type: &str) {
    let block = b.text("#env-dotenv").await;
    let issued = double.issued();
    let pair = issued
        .iter()
        .rev()
        .find(|p| p.grant_type == grant_type)
        .expect("the double issued a pair");
    assert_eq!(
        env_value(&block, "KOMMO_TEST_ACCESS_TOKEN").as_deref(),
        Some(pair.access_token.as_str()),
        "{block}"
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_REFRESH_TOKEN").as_deref(),
        Some(pair.refresh_token.as_str()),
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
    assert_eq!(
        env_value(&block, "KOMMO_TEST_CLIENT_ID").as_deref(),
        Some(DEMO_CLIENT_ID)
    );
    assert_eq!(
        env_value(&block, "KOMMO_TEST_ENABLED").as_deref(),
        Some("1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t1_happy_path_same_tab() {
    let (stack, double, b) = stack_and_page().await;
    b.wait("#demo-badge").await;
    assert_eq!(b.value("#client-id").await, DEMO_CLIENT_ID);
    assert_eq!(b.value("#redirect-uri").await, stack.redirect_uri);
    b.screenshot("flow-1-setup").await;

    let consent_url = b.text("#consent-url").await;
    assert!(consent_url.contains("/oauth?client_id="), "{consent_url}");
    assert!(consent_url.contains("mode=post_message"), "{consent_url}");
    let state = state_of(&consent_url);
    assert_eq!(state.len(), 32, "a 128-bit hex state: {state}");

    let at_consent = go_to_consent(&b).await;
    assert_eq!(state_of(&at_consent), state);
    b.screenshot("flow-2-kommo-consent").await;

    allow_and_return(&b).await;
    let url = b.url().await;
    assert!(
        !url.contains("code="),
        "the code must leave the address bar: {url}"
    );
    b.wait("#code-countdown").await;
    b.screenshot("flow-3-return").await;

    assert_eq!(
        double.token_posts(),
        0,
        "nothing is exchanged before the click"
    );
    exchange_once(&b, &double).await;
    // Tokens are masked until revealed.
    let shown = b.text("#access-token").await;
    assert!(
        !shown.contains(&double.issued()[0].access_token),
        "the access token is shown masked"
    );
    b.screenshot("flow-4-result").await;
    // One format at a time: pick the shell's, then JSON.
    b.click("#env-format-shell").await;
    b.wait("#env-shell").await;
    let shell = b.text("#env-shell").await;
    assert!(shell.contains("export KOMMO_TEST_ACCESS_TOKEN="), "{shell}");
    b.click("#env-format-json").await;
    b.wait("#env-json").await;
    let json: serde_json::Value =
        serde_json::from_str(&b.text("#env-json").await).expect("the JSON block parses");
    assert_eq!(
        json["KOMMO_TEST_ACCESS_TOKEN"],
        double.issued()[0].access_token.as_str()
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_happy_path_through_the_popup() {
    let (_stack, double, b) = stack_and_page().await;
    let main = b.client.window().await.unwrap();
    b.click("#go-popup").await;
    let deadline = tokio::time::Instant::now() + kommo_e2e::WAIT;
    let popup = loop {
        let windows = b.client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != main) {
            break w;
        }
        assert!(tokio::time::Instant::now() < deadline, "no popup opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    b.client.switch_to_window(popup).await.unwrap();
    b.wait("#allow").await;
    b.click("#allow").await;
    // The popup posts the return to its opener and closes itself.
    let deadline = tokio::time::Instant::now() + kommo_e2e::WAIT;
    while b.client.windows().await.unwrap().len() > 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the popup did not close itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.client.switch_to_window(main).await.unwrap();
    b.wait_text("#account-host", DEMO_HOST).await;
    exchange_once(&b, &double).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t3_deny_then_retry() {
    let (_stack, double, b) = stack_and_page().await;
    go_to_consent(&b).await;
    b.click("#deny").await;
    b.wait_ready().await;
    b.wait("#denied").await;
    assert!(
        !b.exists("#exchange").await,
        "nothing to exchange after a denial"
    );
    assert!(
        !b.url().await.contains("error="),
        "the query leaves the address bar"
    );
    b.screenshot("deny").await;
    b.click("#retry").await;
    if !b.exists("#allow").await {
        b.click("#go-same-tab").await;
    }
    allow_and_return(&b).await;
    b.click("#exchange").await;
    b.wait("#result").await;
    assert_env_holds_issued(&b, &double, "authorization_code").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t4_tampered_state_never_reaches_the_token_endpoint_nor_spoils_the_real_consent() {
    let (stack, double, b) = stack_and_page().await;
    let double_addr = stack.double_addr.unwrap();
    let consent_url = go_to_consent(&b).await;
    let real_state = state_of(&consent_url);
    // A real code, but for a consent that this tab did not start (another state) …
    let mut tampered = real_state.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'f' { 'e' } else { 'f' });
    assert_ne!(tampered, real_state);
    b.goto(&format!(
        "http://{double_addr}/oauth?client_id={DEMO_CLIENT_ID}&state={tampered}&mode=post_message"
    ))
    .await;
    b.click("#allow").await;
    b.wait_ready().await;
    b.wait("#return-set-aside[data-problem=Mismatch]").await;
    assert!(
        !b.exists("#exchange").await,
        "no exchange is offered for an untrusted return"
    );
    assert!(!b.url().await.contains("code="));
    b.screenshot("tampered-state").await;
    // … and a return with no state at all.
    let code = double.grant_code("demo", DEMO_CLIENT_ID);
    b.goto(&format!(
        "{}?code={code}&referer={DEMO_HOST}&client_id={DEMO_CLIENT_ID}",
        stack.redirect_uri
    ))
    .await;
    b.wait_ready().await;
    b.wait("#return-set-aside[data-problem=Missing]").await;
    assert!(!b.exists("#exchange").await);
    assert_eq!(
        double.token_posts(),
        0,
        "the double's log: {:?}",
        double.log()
    );
    // The consent this tab started is still pending, with its state, and goes through.
    let again = go_to_consent(&b).await;
    assert_eq!(state_of(&again), real_state);
    allow_and_return(&b).await;
    assert!(!b.exists("#return-set-aside").await);
    exchange_once(&b, &double).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t11_a_redirect_uri_elsewhere_is_pasted_back_and_exchanged() {
    // The integration's Redirect URI is "the app's callback" on another origin (the double answers it with a
    // 404): the old guide's setup, where the user copies the return from the address bar.
    let double_port = free_port();
    let app_callback = format!("http://127.0.0.1:{double_port}/app/kommo/callback");
    let stack = start_stack_with(|o| {
        o.double_port = double_port;
        o.redirect_uri = Some(app_callback.clone());
    })
    .await;
    let double = stack.double.clone().unwrap();
    let b = Browser::start().await;
    b.open_page(&stack.page_url).await;
    b.fill("#redirect-uri", &app_callback).await;
    assert!(
        b.js("return document.querySelector('#landed-details').open")
            .await
            == serde_json::json!(true),
        "the paste-back way is open when the Redirect URI is elsewhere"
    );
    let consent_url = go_to_consent(&b).await;
    let state = state_of(&consent_url);
    b.click("#allow").await;
    // Landed on the app's callback, code in the address bar (wait for the navigation: the click returns first).
    b.wait_js(
        "the app's callback",
        &format!(
            "location.href.startsWith({:?})",
            format!("{app_callback}?code=")
        ),
    )
    .await;
    let landed = b.url().await;
    assert!(
        landed.starts_with(&format!("{app_callback}?code="))
            && landed.contains(&format!("state={state}")),
        "{landed}"
    );
    // Back to the helper in this tab (its sessionStorage holds the pending state) and paste the address.
    b.goto(&format!("http://{}/", stack.proxy_addr)).await;
    b.wait_ready().await;
    b.fill("#landed", &landed).await;
    b.click("#landed-read").await;
    b.wait_text("#account-host", DEMO_HOST).await;
    b.screenshot("landed-elsewhere").await;
    b.click("#exchange").await;
    b.wait("#result").await;
    assert_eq!(double.token_posts(), 1);
    let env = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&env, "KOMMO_TEST_REDIRECT_URI").as_deref(),
        Some(app_callback.as_str()),
        "the exchange and the env block use the app's callback: {env}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t5_reload_after_exchange_keeps_the_result_and_posts_once() {
    let (_stack, double, b) = stack_and_page().await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    b.click("#exchange").await;
    b.wait("#result").await;
    let before = b.text("#env-dotenv").await;
    b.client.refresh().await.unwrap();
    b.wait_ready().await;
    b.wait("#result").await;
    assert_eq!(b.text("#env-dotenv").await, before);
    assert!(
        !b.exists("#exchange:not([disabled])").await,
        "no second exchange is offered for the same code"
    );
    assert_eq!(double.token_posts(), 1, "the code was posted exactly once");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t6_expired_and_reused_codes_are_explained() {
    let (stack, double, b) = stack_and_page().await;
    let double_addr = stack.double_addr.unwrap();
    b.fill("#prefix", "MY_APP_").await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    double.clock().advance(Duration::from_secs(21 * 60));
    b.click("#exchange").await;
    b.wait("#exchange-error[data-hint='code_expired']").await;
    assert!(!b.text("#hint-fix").await.is_empty());
    assert!(b
        .text("#raw-answer")
        .await
        .contains("Authorization code has expired"));
    assert_eq!(b.value("#prefix").await, "MY_APP_", "inputs are kept");
    assert_eq!(b.value("#client-id").await, DEMO_CLIENT_ID);
    b.screenshot("expired-code").await;

    // A code someone else exchanged first.
    b.click("#start-over").await;
    let consent_url = go_to_consent(&b).await;
    let state = state_of(&consent_url);
    let code = double.grant_code("demo", DEMO_CLIENT_ID);
    assert_eq!(
        exchange_directly(double_addr, &code, &stack.redirect_uri).await,
        200
    );
    b.goto(&format!(
        "{}?code={code}&state={state}&referer={DEMO_HOST}&client_id={DEMO_CLIENT_ID}",
        stack.redirect_uri
    ))
    .await;
    b.wait_ready().await;
    b.wait_text("#account-host", DEMO_HOST).await;
    b.click("#exchange").await;
    b.wait("#exchange-error[data-hint='code_revoked']").await;
    assert_eq!(b.value("#prefix").await, "MY_APP_");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t7_wrong_secret_and_wrong_redirect_uri_are_explained() {
    let stack = start_stack().await;
    let b = Browser::start().await;
    b.open_page(&stack.page_url).await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    // The secret is not kept across the trip to Kommo (no browser storage unless "remember" is ticked): it is
    // typed after the return.
    assert_eq!(
        b.value("#secret").await,
        "",
        "the secret must not survive the same-tab round trip unasked"
    );
    b.fill("#secret", "not-the-secret").await;
    b.click("#exchange").await;
    b.wait("#exchange-error[data-hint='check_client_secret']")
        .await;
    assert_eq!(
        b.value("#secret").await,
        "not-the-secret",
        "the typed secret is kept"
    );
    b.screenshot("wrong-secret").await;

    b.click("#start-over").await;
    b.fill("#secret", "").await;
    let wrong_uri = format!("{}callback", stack.redirect_uri);
    b.fill("#redirect-uri", &wrong_uri).await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    b.click("#exchange").await;
    b.wait("#exchange-error[data-hint='redirect_uri_mismatch']")
        .await;
    assert_eq!(b.value("#redirect-uri").await, wrong_uri);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t8_proxy_stopped_then_the_no_proxy_path() {
    let mut stack = start_stack().await;
    let double = stack.double.clone().unwrap();
    let double_addr = stack.double_addr.unwrap();
    let b = Browser::start().await;
    b.open_page(&stack.page_url).await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    b.fill("#secret", DEMO_SECRET).await;
    // The proxy serves the page too: let the page fetch its result part (it does right after Return and Exchange
    // show) before the proxy goes; a part that cannot be fetched is tests/lazy.rs's case.
    b.wait_js(
        "the result part fetched",
        "performance.getEntriesByType('resource').some(e => e.name.includes('/split_result-') && e.responseEnd > 0)",
    )
    .await;
    stack.stop_proxy();
    b.click("#exchange").await;
    let msg = b.text("#proxy-error").await;
    assert!(!msg.is_empty());
    b.screenshot("proxy-unreachable").await;
    assert_eq!(double.token_posts(), 0);

    // No proxy: run the shown curl command's request ourselves, paste the answer back. In the demo the command goes
    // to the double (the demo's Kommo), naming the account the way the proxy does; never to the real Kommo.
    let curl = b.text("#curl-command").await;
    assert!(
        curl.starts_with(&format!(
            "curl -sS -X POST 'http://{double_addr}/oauth2/access_token' \\\n  -H 'x-forwarded-host: {DEMO_HOST}' \\\n"
        )),
        "{curl}"
    );
    let json = curl
        .split("--data-raw '")
        .nth(1)
        .and_then(|s| s.strip_suffix('\''))
        .expect("a quoted JSON body");
    let request: kommo::TokenRequest =
        serde_json::from_str(&json.replace("'\\''", "'")).expect("the body is a token request");
    assert_eq!(request.client_secret, DEMO_SECRET);
    let (status, answer) =
        post_to_double(double_addr, serde_json::to_string(&request).unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    b.fill("#paste-answer", &answer).await;
    b.click("#use-pasted").await;
    b.wait("#result").await;
    assert_env_holds_issued(&b, &double, "authorization_code").await;
    let block = b.text("#env-dotenv").await;
    assert_eq!(
        env_value(&block, "KOMMO_TEST_CLIENT_SECRET").as_deref(),
        Some(DEMO_SECRET)
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t9_direct_calls_are_blocked_by_cors_and_the_page_says_why() {
    let (stack, double, b) = stack_and_page().await;
    let double_addr = stack.double_addr.unwrap();
    // Point the page straight at "Kommo" (the double), as if no proxy existed.
    b.fill("#proxy-url", &format!("http://{double_addr}")).await;
    b.wait("#proxy-status[data-state='missing']").await;
    go_to_consent(&b).await;
    allow_and_return(&b).await;
    b.click("#exchange").await;
    let msg = b.text("#proxy-error").await;
    assert!(
        msg.to_lowercase().contains("cors") || msg.to_lowercase().contains("proxy"),
        "{msg}"
    );
    assert_eq!(
        double.token_posts(),
        0,
        "the browser never got a token request through"
    );
    let log = double.log();
    assert!(
        log.iter().any(|e| e.method == "OPTIONS" && e.status == 405),
        "the browser's preflight was refused by the double: {log:?}"
    );
    b.screenshot("cors-blocked").await;
    b.close().await;
}

/// A return naming an account host that does not exist: the double (like Kommo) answers a 404 web page, the proxy
/// passes it on as upstream_not_json with the status, and the page says to check the host — not "outage, retry".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_an_unknown_account_host_gets_check_the_host_advice() {
    let (stack, double, b) = stack_and_page().await;
    let state = state_of(&go_to_consent(&b).await);
    let code = double.grant_code("demo", DEMO_CLIENT_ID);
    b.goto(&format!(
        "{}?code={code}&state={state}&referer=nosuch.kommo.com&client_id={DEMO_CLIENT_ID}",
        stack.redirect_uri
    ))
    .await;
    b.wait_ready().await;
    b.click("#exchange").await;
    b.wait("#proxy-error[data-proxy-error='upstream_not_json']")
        .await;
    let fix = b.text("#proxy-error .fix").await;
    assert!(fix.contains("no account at this host"), "{fix}");
    assert!(double.issued().is_empty(), "no tokens were issued");
    b.close().await;
}
