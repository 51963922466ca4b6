//! The proxy in front of the Kommo double (real loopback HTTP both sides): the exchange, refresh, API reads, and every
//! error hint passing through unchanged.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use kommo::{Hint, ProxyErrorCode, TokenRequest};
use kommo_double::{Double, DEMO_ACCOUNT, DEMO_CLIENT_ID, DEMO_SECRET};
use kommo_proxy::Config;

const REDIRECT: &str = "https://helper.example/callback";
const DEMO_HOST: &str = "demo.kommo.com";
const SALES_HOST: &str = "sales.amocrm.ru";

async fn setup() -> (Double, SocketAddr, SocketAddr) {
    let double = Double::demo(REDIRECT);
    let up = double.clone().spawn().await.unwrap();
    let proxy = spawn_proxy(config_for(up)).await;
    (double, up, proxy)
}

/// The same request sent straight to the double, as the account host would receive it.
async fn direct(up: SocketAddr, account: &str, body: &str) -> Answer {
    answer(
        client()
            .post(format!("http://{up}/oauth2/access_token"))
            .header("x-forwarded-host", account)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

/// Through the proxy and straight to the double: the same status, body and content type.
async fn same_both_ways(up: SocketAddr, proxy: SocketAddr, account: &str, body: &str) -> Answer {
    let straight = direct(up, account, body).await;
    let proxied = answer(token_post(proxy, account, body)).await;
    assert_eq!(proxied.status, straight.status, "{}", proxied.body);
    assert_eq!(proxied.body, straight.body);
    assert_eq!(
        proxied.header("content-type"),
        straight.header("content-type")
    );
    proxied
}

fn hint_of(a: &Answer) -> Hint {
    match kommo::token::read_token_answer(a.status, &a.body) {
        Err(kommo::TokenFailure::Kommo { error, .. }) => error.classify(),
        other => panic!("expected a Kommo error, got {other:?}"),
    }
}

#[tokio::test]
async fn exchange_then_api_then_refresh_through_the_proxy() {
    let (double, _up, proxy) = setup().await;
    let code = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    let req = TokenRequest::authorization_code(DEMO_CLIENT_ID, DEMO_SECRET, &code, REDIRECT);
    let a = answer(token_post(proxy, DEMO_HOST, &req.to_json())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let tokens = kommo::token::read_token_answer(a.status, &a.body).expect("tokens");
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(double.posts_of(&code), 1);
    assert_eq!(
        double.log().last().unwrap().host.as_deref(),
        Some(DEMO_HOST),
        "the double saw the account host"
    );

    let a = answer(
        api_get(proxy, DEMO_HOST, "account")
            .header("authorization", format!("Bearer {}", tokens.access_token)),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["subdomain"], DEMO_ACCOUNT);

    // Paging past the last page answers 204 with no body, as Kommo does.
    let a = answer(
        api_get(proxy, DEMO_HOST, "leads?limit=250&page=4")
            .header("authorization", format!("Bearer {}", tokens.access_token)),
    )
    .await;
    assert_eq!(a.status, 204);
    assert_eq!(a.body, "");

    // Refresh: a new pair, and the refresh token rotates.
    let refresh =
        TokenRequest::refresh(DEMO_CLIENT_ID, DEMO_SECRET, &tokens.refresh_token, REDIRECT);
    let a = answer(token_post(proxy, DEMO_HOST, &refresh.to_json())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let next = kommo::token::read_token_answer(a.status, &a.body).unwrap();
    assert_ne!(next.refresh_token, tokens.refresh_token);
    assert_ne!(next.access_token, tokens.access_token);
    assert_eq!(double.issued_for(&tokens.refresh_token).len(), 1);
}

#[tokio::test]
async fn form_encoded_exchange_and_held_secret_against_the_double() {
    let double = Double::demo(REDIRECT);
    let up = double.clone().spawn().await.unwrap();
    let proxy = spawn_proxy(config_for(up).with_credentials(DEMO_CLIENT_ID, DEMO_SECRET)).await;

    // The browser sends an empty secret; the proxy fills it in and Kommo accepts.
    let code = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    let req = TokenRequest::authorization_code(DEMO_CLIENT_ID, "", &code, REDIRECT);
    let a = answer(token_post(proxy, DEMO_HOST, &req.to_json())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(kommo::token::read_token_answer(a.status, &a.body).is_ok());

    // Form encoding, empty secret.
    let code = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("client_secret", "")
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", REDIRECT)
        .finish();
    let a = answer(
        client()
            .post(format!("http://{proxy}/oauth2/access_token"))
            .header("x-kommo-account", DEMO_HOST)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);

    // A wrong secret typed by the user is theirs: passed as sent, and Kommo says so.
    let code = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    let req = TokenRequest::authorization_code(DEMO_CLIENT_ID, "typo", &code, REDIRECT);
    let a = answer(token_post(proxy, DEMO_HOST, &req.to_json())).await;
    assert_eq!(hint_of(&a), Hint::CheckClientSecret);
}

#[tokio::test]
async fn every_error_hint_passes_through_unchanged() {
    let (double, up, proxy) = setup().await;
    let code = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    let ok = |c: &str| TokenRequest::authorization_code(DEMO_CLIENT_ID, DEMO_SECRET, c, REDIRECT);

    let mut wrong_id = ok(&code);
    wrong_id.client_id = "00000000-0000-0000-0000-000000000000".into();
    let a = same_both_ways(up, proxy, DEMO_HOST, &wrong_id.to_json()).await;
    assert_eq!(hint_of(&a), Hint::CheckClientId);

    let mut wrong_secret = ok(&code);
    wrong_secret.client_secret = "nope".into();
    let a = same_both_ways(up, proxy, DEMO_HOST, &wrong_secret.to_json()).await;
    assert_eq!(hint_of(&a), Hint::CheckClientSecret);
    assert_eq!(a.status, 401);

    let mut wrong_redirect = ok(&code);
    wrong_redirect.redirect_uri = format!("{REDIRECT}/");
    let a = same_both_ways(up, proxy, DEMO_HOST, &wrong_redirect.to_json()).await;
    assert_eq!(hint_of(&a), Hint::RedirectUriMismatch);

    let a = same_both_ways(up, proxy, DEMO_HOST, &ok("def502-not-a-code").to_json()).await;
    assert_eq!(hint_of(&a), Hint::CannotDecrypt);

    let a = same_both_ways(up, proxy, SALES_HOST, &ok(&code).to_json()).await;
    assert_eq!(hint_of(&a), Hint::InvalidAccount);

    // Spend the code, then both ways see it revoked.
    let a = answer(token_post(proxy, DEMO_HOST, &ok(&code).to_json())).await;
    assert_eq!(a.status, 200);
    let first = kommo::token::read_token_answer(a.status, &a.body).unwrap();
    let a = same_both_ways(up, proxy, DEMO_HOST, &ok(&code).to_json()).await;
    assert_eq!(hint_of(&a), Hint::CodeRevoked);

    // Expired: 21 minutes on the double's clock.
    let late = double.grant_code(DEMO_ACCOUNT, DEMO_CLIENT_ID);
    double.clock().advance(Duration::from_secs(21 * 60));
    let a = same_both_ways(up, proxy, DEMO_HOST, &ok(&late).to_json()).await;
    assert_eq!(hint_of(&a), Hint::CodeExpired);

    // Revoked refresh token: rotate twice, then the first refresh token is dead.
    let refresh =
        |rt: &str| TokenRequest::refresh(DEMO_CLIENT_ID, DEMO_SECRET, rt, REDIRECT).to_json();
    let a = answer(token_post(proxy, DEMO_HOST, &refresh(&first.refresh_token))).await;
    let second = kommo::token::read_token_answer(a.status, &a.body).unwrap();
    let a = answer(token_post(
        proxy,
        DEMO_HOST,
        &refresh(&second.refresh_token),
    ))
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = same_both_ways(up, proxy, DEMO_HOST, &refresh(&first.refresh_token)).await;
    assert_eq!(hint_of(&a), Hint::TokenRevoked);
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn api_errors_pass_and_html_from_unknown_accounts_is_reported() {
    let (double, _up, proxy) = setup().await;
    let code = double.grant_code(kommo_double::SALES_ACCOUNT, DEMO_CLIENT_ID);
    let req = TokenRequest::authorization_code(DEMO_CLIENT_ID, DEMO_SECRET, &code, REDIRECT);
    let a = answer(token_post(proxy, SALES_HOST, &req.to_json())).await;
    let tokens = kommo::token::read_token_answer(a.status, &a.body).unwrap();

    // Non-admin: 403 from /users passes unchanged.
    let a = answer(
        api_get(proxy, SALES_HOST, "users")
            .header("authorization", format!("Bearer {}", tokens.access_token)),
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);

    // No token: 401 problem+json, content type kept.
    let a = answer(api_get(proxy, SALES_HOST, "account")).await;
    assert_eq!(a.status, 401);
    assert!(a.header("content-type").unwrap().contains("json"));
    assert!(
        kommo::ProxyError::from_value(&a.json()).is_none(),
        "Kommo's error, not the proxy's"
    );

    // A well-formed but unknown account: the double answers an HTML 404, the proxy says so in JSON.
    let a = answer(token_post(proxy, "nobody.kommo.com", &req.to_json())).await;
    let err = a.proxy_error();
    assert_eq!(err.proxy_error, ProxyErrorCode::UpstreamNotJson);
    assert_eq!(err.upstream_status, Some(404));
    assert!(err.upstream_content_type.unwrap().starts_with("text/html"));
}

// ---- pacing --------------------------------------------------------------------------------------------------

/// The most of these arrival instants (µs, in order) that fall within one span shorter than a second.
fn most_in_one_second(arrived_us: &[u64]) -> usize {
    (0..arrived_us.len())
        .map(|i| {
            arrived_us[i..]
                .iter()
                .take_while(|t| **t - arrived_us[i] < 1_000_000)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The page's API check through the proxy, as the account host sees it. The requests go one at a time, spaced by
/// the page's own pacer (`kommo::api::Pacer`: 1/6 s from start to start), and each is held up on its way to the
/// proxy by a different 0–80 ms (network jitter, from a fixed pseudo-random sequence) — so 7 of them can reach the
/// proxy within less than a second. The account host must never see more than 6 in any one second (one under
/// Kommo's 7), and the page must never see a refusal.
#[tokio::test]
async fn the_account_host_never_sees_more_than_six_requests_in_a_second() {
    const REQUESTS: usize = 36;
    let double = Double::demo(REDIRECT);
    let up = double.clone().spawn().await.unwrap();
    // The proxy as deployed: its default limits and pacing.
    let proxy = spawn_proxy(Config::default().with_upstream_base(format!("http://{up}"))).await;
    let token =
        double.mint_long_lived_token(DEMO_ACCOUNT, DEMO_CLIENT_ID, Duration::from_secs(86_400));
    let mut pacer = kommo::api::Pacer::default();
    let mut jitter: u64 = 0x2545_f491_4f6c_dd1d;
    let started = std::time::Instant::now();
    let now_ms = || started.elapsed().as_secs_f64() * 1000.0;
    for i in 0..REQUESTS {
        // As the page does (src/check.rs): wait for the pacer, note the start, send, await the answer.
        let wait = pacer.wait_ms(now_ms());
        tokio::time::sleep(Duration::from_millis(wait.ceil() as u64)).await;
        pacer.sent(now_ms());
        jitter ^= jitter << 13;
        jitter ^= jitter >> 7;
        jitter ^= jitter << 17;
        tokio::time::sleep(Duration::from_millis(jitter % 81)).await;
        let a = answer(api_get(proxy, DEMO_HOST, "account").bearer_auth(&token)).await;
        assert_eq!(a.status, 200, "request {i}: {}", a.body);
    }
    let took = started.elapsed();
    let arrived: Vec<u64> = double
        .log()
        .iter()
        .filter(|e| e.path.starts_with("/api/v4/"))
        .map(|e| e.arrived_us)
        .collect();
    assert_eq!(arrived.len(), REQUESTS);
    let most = most_in_one_second(&arrived);
    let tightest_seven = arrived.windows(7).map(|w| w[6] - w[0]).min().unwrap_or(0);
    eprintln!(
        "pacing: {REQUESTS} requests in {took:.2?}; at most {most} arrived within one second; the tightest 7 in a \
         row spanned {:.3} s",
        tightest_seven as f64 / 1e6
    );
    assert!(
        most <= 6,
        "{most} requests reached the account host within one second (the tightest 7 spanned {} µs)",
        tightest_seven
    );
}
