//! After the exchange: token inspection, long-lived tokens, refresh (the rotated pair, the env block, what may be
//! sent).

use kommo::{Health, Hint, TokenRequest};
use kommo_oauth_helper::browser;

use crate::fake_proxy::*;
use crate::harness::*;
// The integration ID the tests type, not the id of its field (`ids::CLIENT_ID`).
use crate::harness::CLIENT_ID;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn inspection_reads_every_claim_says_unverified_and_counts_down() {
    let ns = "t-inspect:";
    let exp = now_secs() + 3 * 3600 + 5;
    let access = full_token(exp, "9000001");
    let (api, _, _) = FakeApi::full(
        Some(health(true)),
        vec![pair(&access, "def50200r1")],
        kommo_api(200, vec![]),
    );
    let m = exchanged(ns, api).await;
    until("inspect", || m.has(&sel(CLAIM_ACCOUNT_ID))).await;
    assert_eq!(m.text(&sel(CLAIM_ACCOUNT_ID)), "31000001");
    assert_eq!(m.text(&sel(CLAIM_USER_ID)), "9000001");
    assert_eq!(m.text(&sel(CLAIM_BASE_DOMAIN)), "kommo.com");
    assert_eq!(m.text(&sel(CLAIM_API_DOMAIN)), "api-g.kommo.com");
    assert_eq!(m.text(&sel(CLAIM_AUD)), CLIENT_ID);
    assert_eq!(m.text(&sel(CLAIM_SCOPES)), "crm, files, notifications");
    assert_eq!(
        m.text(&sel(CLAIM_EXP)),
        browser::local_time(exp as f64 * 1000.0)
    );
    assert_eq!(
        m.text(&sel(CLAIM_IAT)),
        browser::local_time((exp - 86400) as f64 * 1000.0)
    );
    assert_eq!(m.text(&sel(CLAIM_NBF)), m.text(&sel(CLAIM_IAT)));
    assert!(m.text(&sel(JWT_UNVERIFIED)).contains("not verified"));
    assert!(!m.has(&sel(JWT_ERROR)));
    // The countdown is live: about 3 hours, and it moves.
    let first: i64 = m
        .attr(&sel(TOKEN_COUNTDOWN), "data-seconds")
        .unwrap()
        .parse()
        .unwrap();
    assert!((3 * 3600 - 5..=3 * 3600 + 5).contains(&first), "{first}");
    assert!(
        m.text(&sel(TOKEN_COUNTDOWN)).contains("03:0"),
        "{}",
        m.text(&sel(TOKEN_COUNTDOWN))
    );
    until("the countdown ticks", || {
        m.attr(&sel(TOKEN_COUNTDOWN), "data-seconds")
            .and_then(|s| s.parse::<i64>().ok())
            .is_some_and(|s| s < first)
    })
    .await;
}

#[wasm_bindgen_test]
async fn an_older_token_without_api_domain_and_an_expired_one() {
    let ns = "t-inspect-old:";
    let access = jwt(
        serde_json::json!({"aud": CLIENT_ID, "exp": now_secs() - 60, "sub": 7, "account_id": "31000001",
        "base_domain": "amocrm.ru", "scopes": "crm"}),
    );
    let (api, _, _) = FakeApi::full(
        Some(health(true)),
        vec![pair(&access, "def50200r1")],
        kommo_api(200, vec![]),
    );
    let m = exchanged(ns, api).await;
    until("inspect", || m.has(&sel(CLAIM_ACCOUNT_ID))).await;
    assert_eq!(m.text(&sel(CLAIM_USER_ID)), "7");
    assert!(m.text(&sel(CLAIM_API_DOMAIN)).contains("older tokens"));
    assert_eq!(m.text(&sel(CLAIM_SCOPES)), "crm");
    assert_eq!(
        m.attr(&sel(TOKEN_COUNTDOWN), "data-expired").as_deref(),
        Some("1")
    );
    // The token says amocrm.ru but the return's host is kommo.com: the page names both and points at the host
    // (it does not claim the calls must fail: the service's rule for legacy hosts is not documented).
    assert!(m.text(&sel(CLAIM_HOST_MISMATCH)).contains("amocrm.ru"));
}

#[wasm_bindgen_test]
async fn a_long_lived_token_skips_consent_and_gets_an_env_block_without_refresh_token() {
    let ns = "t-long-lived:";
    set_up(ns);
    let exp = now_secs() + 365 * 86400;
    let token = full_token(exp, "9000001");
    let (api, calls, api_calls) = FakeApi::full(
        Some(health(false)),
        vec![ok_answer()],
        kommo_api(200, vec![3]),
    );
    let m = mounted(ns, api).await;
    assert_eq!(current_step(&m), "consent");
    // A bad host is refused with a message; nothing is kept.
    m.type_into(&sel(LONG_LIVED_TOKEN), &token);
    m.type_into(&sel(LONG_LIVED_HOST), "kwid.example.com");
    m.click(&sel(USE_LONG_LIVED));
    until("host error", || {
        !m.text(&sel(LONG_LIVED_HOST_ERROR)).is_empty()
    })
    .await;
    assert_eq!(
        m.text(&sel(LONG_LIVED_TOKEN_ERROR)),
        "",
        "the token is fine"
    );
    assert!(!m.has(&sel(RESULT)));
    // A host as people paste it (scheme, trailing slash) is fine.
    m.type_into(&sel(LONG_LIVED_HOST), " https://Kwid.Kommo.com/ ");
    m.click(&sel(USE_LONG_LIVED));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(current_step(&m), "result");
    assert!(!m.has(&sel(CONSENT_SECTION)), "consent is skipped");
    assert!(!m.has(&sel(EXCHANGE)), "exchange is skipped");
    // The stepper says so too: setup done, consent/return/exchange skipped (not "done"), result current.
    let class_of = |step: &str| {
        m.q(&format!(".stepper li[data-step='{step}']"))
            .map(|li| li.class_name())
            .unwrap_or_default()
    };
    assert!(class_of("setup").contains("done"), "{}", class_of("setup"));
    for step in ["consent", "return", "exchange"] {
        let class = class_of(step);
        assert!(
            class.contains("skipped") && !class.contains("done"),
            "{step}: {class}"
        );
    }
    assert!(!class_of("result").contains("skipped"));
    assert!(m
        .text(".stepper li[data-step='exchange']")
        .contains("skipped"));
    assert!(!m.has(&sel(REFRESH_SECTION)), "nothing to refresh");
    assert!(m.has(&sel(LONG_LIVED_NOTE)));
    assert!(!m.has(&sel(REFRESH_TOKEN)));
    let dotenv = m.text(&sel(ENV_DOTENV));
    assert!(
        dotenv.contains("# REFRESH_TOKEN is empty: a long-lived token has no refresh token\n"),
        "{dotenv}"
    );
    assert!(dotenv.contains("KOMMO_TEST_REFRESH_TOKEN=\n"), "{dotenv}");
    assert!(
        dotenv.contains(&format!("KOMMO_TEST_ACCESS_TOKEN={token}\n")),
        "{dotenv}"
    );
    assert!(dotenv.contains("KOMMO_TEST_DOMAIN=kwid\n"), "{dotenv}");
    assert!(
        dotenv.contains("KOMMO_TEST_ACCOUNT_HOST=kwid.kommo.com\n"),
        "{dotenv}"
    );
    assert!(
        dotenv.contains(&format!("KOMMO_TEST_CLIENT_ID={CLIENT_ID}\n")),
        "{dotenv}"
    );
    assert!(
        !dotenv.contains("fill in the integration's secret"),
        "a long-lived token needs no secret: {dotenv}"
    );
    assert!(!m
        .root
        .text_content()
        .unwrap()
        .contains("CLIENT_SECRET is empty: type the secret key"));
    assert_eq!(
        m.text(&sel(EXPIRES_AT)),
        browser::local_time(exp as f64 * 1000.0)
    );
    assert_eq!(m.text(&sel(CLAIM_USER_ID)), "9000001");
    // The API check uses it, on the pasted host.
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("1"));
    assert!(api_calls
        .borrow()
        .iter()
        .all(|c| c.host == HOST && c.token == token));
    assert!(calls.borrow().is_empty(), "no token request at all");
    // A reload keeps it; start over drops it.
    drop(m);
    let (api, _, _) = FakeApi::full(None, vec![ok_answer()], kommo_api(200, vec![]));
    let m = mounted(ns, api).await;
    assert!(m.text(&sel(ENV_DOTENV)).contains(&token));
    let asked = answer_confirm(true);
    m.click(&sel(START_OVER));
    until("consent again", || m.has(&sel(CONSENT_SECTION))).await;
    assert_eq!(
        asked.borrow().len(),
        1,
        "a long-lived token in hand is asked about too"
    );
    assert!(!m.has(&sel(RESULT)));
    assert!(session().get_item(&format!("{ns}later")).unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_token_that_is_not_a_jwt_gets_a_clear_message() {
    let ns = "t-not-jwt:";
    set_up(ns);
    let (api, _, _) = FakeApi::full(
        Some(health(false)),
        vec![ok_answer()],
        kommo_api(200, vec![]),
    );
    let m = mounted(ns, api).await;
    for garbage in [
        "def50200abcdefabcdef",
        "a.!!!.c",
        "Bearer x.eyJub3QganNvbg.y",
    ] {
        m.type_into(&sel(LONG_LIVED_TOKEN), garbage);
        m.type_into(&sel(LONG_LIVED_HOST), "kwid.amocrm.ru");
        m.click(&sel(USE_LONG_LIVED));
        until("jwt error", || m.has(&sel(JWT_ERROR))).await;
        assert!(!m.has(&sel(CLAIM_ACCOUNT_ID)));
        assert!(m.has(&sel(RESULT)), "the env block is still there");
        assert!(m
            .text(&sel(ENV_DOTENV))
            .contains("KOMMO_TEST_DOMAIN=kwid\nKOMMO_TEST_ACCOUNT_HOST=kwid.amocrm.ru\n"));
        assert_eq!(m.text(&sel(EXPIRES_AT)), "unknown");
    }
    assert!(m.text(&sel(JWT_ERROR)).contains("cannot be decoded"));
    m.type_into(&sel(LONG_LIVED_TOKEN), "def50200abcdefabcdef");
    m.click(&sel(USE_LONG_LIVED));
    until("not a JWT", || {
        m.text(&sel(JWT_ERROR)).contains("not a JWT")
    })
    .await;
    // Spaces inside a token are refused outright.
    m.type_into(&sel(LONG_LIVED_TOKEN), "two words");
    m.click(&sel(USE_LONG_LIVED));
    until("token error", || {
        !m.text(&sel(LONG_LIVED_TOKEN_ERROR)).is_empty()
    })
    .await;
}

#[wasm_bindgen_test]
async fn refresh_rotates_the_pair_updates_the_env_block_and_says_so() {
    let ns = "t-refresh:";
    let a1 = full_token(now_secs() + 86400, "7");
    let a2 = full_token(now_secs() + 2 * 86400, "7");
    let (api, calls, _) = FakeApi::full(
        Some(health(true)),
        vec![pair(&a1, "def50200first"), pair(&a2, "def50200second")],
        kommo_api(200, vec![]),
    );
    let m = exchanged(ns, api).await;
    assert!(m
        .text(&sel(ENV_DOTENV))
        .contains("KOMMO_TEST_REFRESH_TOKEN=def50200first\n"));
    assert!(m
        .text(&sel(REFRESH_ROTATION))
        .contains("old refresh token dies once the new pair is used"));
    assert!(!m.has(&sel(REFRESH_RESULT)));
    m.click(&sel(REFRESH));
    until("refreshed", || m.has(&sel(REFRESH_RESULT))).await;
    assert_eq!(calls.borrow().len(), 2);
    let call = calls.borrow()[1].clone();
    assert_eq!(call.host, HOST);
    assert_eq!(
        call.request,
        TokenRequest::refresh(CLIENT_ID, "", "def50200first", "https://helper.example/"),
        "refresh_token grant, with the redirect URI, the secret left to the proxy"
    );
    let dotenv = m.text(&sel(ENV_DOTENV));
    assert!(
        dotenv.contains("KOMMO_TEST_REFRESH_TOKEN=def50200second\n"),
        "{dotenv}"
    );
    assert!(
        dotenv.contains(&format!("KOMMO_TEST_ACCESS_TOKEN={a2}\n")),
        "{dotenv}"
    );
    assert!(
        dotenv.contains("# CLIENT_SECRET is empty: the exchange proxy holds the secret key; your app needs it to refresh tokens\n"),
        "{dotenv}"
    );
    until("fields", || {
        m.input(&sel(REFRESH_TOKEN)).value() == "def50200second"
    })
    .await;
    assert!(m.text(&sel(RESULT_INTRO)).contains("refreshed"));
    assert!(m.text(&sel(REFRESH_RESULT)).contains("Save it now"));
    assert!(m
        .text(&sel(REFRESH_RESULT))
        .contains("Token has been revoked"));
    // The unused refresh token's expiry: 3 months from when the new pair arrived.
    let later: serde_json::Value =
        serde_json::from_str(&session().get_item(&format!("{ns}later")).unwrap().unwrap()).unwrap();
    let at = later["at"].as_i64().unwrap();
    let want = browser::local_time(kommo::api::refresh_expires_at(at / 1000) as f64 * 1000.0);
    assert_eq!(m.text(&sel(REFRESH_EXPIRES_AT)), want);
    let days = (kommo::api::refresh_expires_at(at / 1000) - at / 1000) / 86400;
    assert_eq!(days, 90);
    // Refreshing again posts the newest refresh token.
    m.click(&sel(REFRESH));
    until("third call", || calls.borrow().len() == 3).await;
    assert_eq!(
        calls.borrow()[2].request.refresh_token.as_deref(),
        Some("def50200second")
    );
    // A reload keeps the refreshed pair.
    let before = m.text(&sel(ENV_DOTENV));
    drop(m);
    let (api, _, _) = FakeApi::full(None, vec![ok_answer()], kommo_api(200, vec![]));
    let m = mounted(ns, api).await;
    assert_eq!(m.text(&sel(ENV_DOTENV)), before);
    assert!(m.has(&sel(REFRESH_RESULT)));
}

#[wasm_bindgen_test]
async fn a_revoked_refresh_token_is_explained_on_the_paste_path() {
    let ns = "t-refresh-revoked:";
    set_up(ns);
    let revoked = Hint::TokenRevoked.error();
    let (api, calls, _) = FakeApi::full(
        Some(health(true)),
        vec![token_answer(
            401,
            serde_json::to_string(&revoked).unwrap(),
            Some("application/json"),
        )],
        kommo_api(200, vec![]),
    );
    let m = mounted(ns, api).await;
    until_proxy(&m, "ok").await;
    m.type_into(&sel(PASTE_REFRESH_TOKEN), "  def50200old  ");
    m.type_into(&sel(REFRESH_HOST), "kwid.kommo.com");
    m.click(&sel(USE_REFRESH_TOKEN));
    until("refresh error", || m.has(&sel(REFRESH_ERROR))).await;
    assert_eq!(
        m.attr(&sel(REFRESH_ERROR), "data-hint").as_deref(),
        Some("token_revoked")
    );
    let text = m.text(&sel(REFRESH_ERROR));
    assert!(text.contains("Token has been revoked"), "{text}");
    assert!(
        text.contains("spent") && text.contains("uninstalled"),
        "{text}"
    );
    assert!(m.text(&sel(REFRESH_RAW)).contains("HTTP 401"));
    let call = calls.borrow()[0].clone();
    assert_eq!(call.host, HOST);
    assert_eq!(
        call.request,
        TokenRequest::refresh(CLIENT_ID, "", "def50200old", "https://helper.example/")
    );
    assert!(!m.has(&sel(RESULT)), "no tokens, no result");
    // A wrong host is caught before anything is sent.
    m.type_into(&sel(REFRESH_HOST), "kwid.kommo.com.evil.net");
    m.click(&sel(USE_REFRESH_TOKEN));
    until("host error", || {
        !m.text(&sel(REFRESH_HOST_ERROR)).is_empty()
    })
    .await;
    assert_eq!(m.text(&sel(PASTE_REFRESH_TOKEN_ERROR)), "");
    assert_eq!(calls.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_refresh_the_proxy_cannot_sign_is_not_sent() {
    let ns = "t-refresh-secret:";
    let (api, calls, _) = FakeApi::full(
        Some(health(false)),
        vec![pair(&access_token(), "def50200first")],
        kommo_api(200, vec![]),
    );
    // The exchange itself went out with a typed secret; after a reload the secret is gone.
    code_returned(ns);
    let m = mounted(ns, api).await;
    m.type_into(&sel(SECRET), "s3cr3t");
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    drop(m);
    let (api, calls2, _) = FakeApi::full(
        Some(health(false)),
        vec![pair("x.y.z", "r")],
        kommo_api(200, vec![]),
    );
    let m = mounted(ns, api).await;
    until_proxy(&m, "ok").await;
    m.click(&sel(REFRESH));
    until("blocked", || m.has(&sel(REFRESH_BLOCKED))).await;
    assert!(m.text(&sel(REFRESH_BLOCKED)).contains("secret key"));
    assert!(calls2.borrow().is_empty());
    // With the secret typed again, it goes out with it.
    m.type_into(&sel(SECRET), "s3cr3t");
    m.click(&sel(REFRESH));
    until("sent", || calls2.borrow().len() == 1).await;
    assert_eq!(calls2.borrow()[0].request.client_secret, "s3cr3t");
    assert_eq!(calls.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_proxy_holding_the_secret_for_exchanges_only_gets_no_secretless_refresh() {
    let ns = "t-refresh-code-only:";
    let code_only = Health {
        signs_refresh: Some(false),
        ..health(true)
    };
    let (api, calls, _) = FakeApi::full(
        Some(code_only),
        vec![pair(&access_token(), "def50200first"), pair("x.y.z", "r")],
        kommo_api(200, vec![]),
    );
    code_returned(ns);
    let m = mounted(ns, api).await;
    until("held", || {
        m.text(&sel(SECRET_HELP)).contains("code exchange")
    })
    .await;
    // The exchange goes out without a secret: the proxy fills it in.
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(calls.borrow()[0].request.client_secret, "");
    // A refresh without the secret is not sent, and the page says why.
    m.click(&sel(REFRESH));
    until("blocked", || m.has(&sel(REFRESH_BLOCKED))).await;
    let text = m.text(&sel(REFRESH_BLOCKED));
    assert!(text.contains("code exchanges only"), "{text}");
    assert_eq!(calls.borrow().len(), 1);
    // The reason is re-worded by a language switch, like the rest of the page.
    set_lang(&m, "ru").await;
    until("russian reason", || {
        m.has(&sel(REFRESH_BLOCKED))
            && m.text(&sel(REFRESH_BLOCKED))
                .contains("только для обмена кода")
    })
    .await;
    m.type_into(&sel(SECRET), "s3cr3t");
    m.click(&sel(REFRESH));
    until("sent", || calls.borrow().len() == 2).await;
    assert_eq!(calls.borrow()[1].request.client_secret, "s3cr3t");
}
