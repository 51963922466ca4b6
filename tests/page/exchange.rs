//! The code exchange: what is posted, the env block, refusals by Kommo or the proxy, an unreachable proxy, and the
//! manual way (curl and a pasted answer).

use kommo::outcome::{env_values, SecretSource};
use kommo::{Hint, Lang, TokenRequest, TokenResponse};
use kommo_oauth_helper::{browser, ApiError};
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::fake_proxy::*;
use crate::harness::*;
// The integration ID the tests type, not the id of its field (`ids::CLIENT_ID`).
use crate::harness::CLIENT_ID;
use kommo_oauth_helper::ids::{self, *};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn env_values_are_the_ones_the_core_renders() {
    // Guard for `expected_dotenv`: the core's own rendering of the same values.
    let host = kommo::AccountHost::parse("kwid.kommo.com").unwrap();
    let tokens: TokenResponse = serde_json::from_str(&token_body()).unwrap();
    let v = env_values(
        &host,
        CLIENT_ID,
        SecretSource::Typed("s3cr3t"),
        "https://helper.example/",
        &tokens,
        &browser::local_time(EXP as f64 * 1000.0),
    );
    assert_eq!(
        kommo::env::render(kommo::env::EnvFormat::Dotenv, "KOMMO_TEST_", &v),
        expected_dotenv()
    );
}

#[wasm_bindgen_test]
async fn exchange_posts_once_and_renders_the_env_block() {
    let ns = "t-exchange:";
    code_returned(ns);
    let (m, calls) = mount_with_proxy(ns, false).await;
    m.type_into(&sel(SECRET), " s3cr3t ");
    // A double click posts once.
    m.click(&sel(EXCHANGE));
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(calls.borrow().len(), 1);
    // The keyboard lands on the result (the button it was on is gone), and the document order is the order on
    // screen: the result, the return, then Setup below them.
    until_focused(RESULT_H).await;
    let ids: Vec<String> = {
        let list = m
            .root
            .query_selector_all("main > section, main > div")
            .unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into::<Element>().id())
            .filter(|id| !id.is_empty())
            .collect()
    };
    let at = |id: &str| {
        ids.iter()
            .position(|x| x == id)
            .unwrap_or_else(|| panic!("{id} in {ids:?}"))
    };
    assert!(
        at(RESULT) < at(RETURN_PANEL) && at(RETURN_PANEL) < at(SETUP_SECTION),
        "{ids:?}"
    );
    assert!(at(SETUP_SECTION) < at(HAVE_TOKEN), "{ids:?}");
    // Walked through, so every earlier step is done and none skipped.
    assert_eq!(
        m.root
            .query_selector_all(".stepper li.done")
            .unwrap()
            .length(),
        4
    );
    assert!(m.q(".stepper li.skipped").is_none());
    let call = calls.borrow()[0].clone();
    assert_eq!(call.host, "kwid.kommo.com");
    assert_eq!(
        call.base,
        window().location().origin().unwrap(),
        "empty proxy URL means this origin"
    );
    assert_eq!(
        call.request,
        TokenRequest::authorization_code(CLIENT_ID, "s3cr3t", CODE, "https://helper.example/")
    );
    assert_eq!(
        session()
            .get_item(&format!("{ns}posted"))
            .unwrap()
            .as_deref(),
        Some(CODE)
    );
    assert_eq!(current_step(&m), "result");
    assert_eq!(m.text(&sel(ENV_DOTENV)), expected_dotenv());
    until("token in its field", || {
        m.input(&sel(ACCESS_TOKEN)).value() == access_token()
    })
    .await;
    assert_eq!(
        m.input(&sel(ACCESS_TOKEN)).type_(),
        "password",
        "masked until revealed"
    );
    m.click(&sel(REVEAL_TOKENS));
    until("revealed", || m.input(&sel(ACCESS_TOKEN)).type_() == "text").await;
    assert_eq!(m.input(&sel(REFRESH_TOKEN)).value(), "def50200refresh");
    assert_eq!(
        m.text(&sel(EXPIRES_AT)),
        browser::local_time(EXP as f64 * 1000.0)
    );
    // One format at a time: the picker shows the others.
    m.click(&format!("#{ENV_FORMAT_PREFIX}shell"));
    until("the shell block", || m.has(&sel(ENV_SHELL))).await;
    let shell = m.text(&sel(ENV_SHELL));
    assert!(
        shell.contains("export KOMMO_TEST_CLIENT_SECRET='s3cr3t'\n"),
        "{shell}"
    );
    m.click(&format!("#{ENV_FORMAT_PREFIX}json"));
    until("the JSON block", || m.has(&sel(ENV_JSON))).await;
    let json: serde_json::Value = serde_json::from_str(&m.text(&sel(ENV_JSON))).unwrap();
    assert_eq!(json["KOMMO_TEST_ACCESS_TOKEN"], access_token().as_str());
    assert_eq!(json["KOMMO_TEST_DOMAIN"], "kwid");
    assert_eq!(json["KOMMO_TEST_ACCOUNT_HOST"], "kwid.kommo.com");
    assert!(
        shell.contains("export KOMMO_TEST_ACCOUNT_HOST='kwid.kommo.com'\n"),
        "{shell}"
    );
    m.click(&format!("#{ENV_FORMAT_PREFIX}dotenv"));
    until("the .env block", || m.has(&sel(ENV_DOTENV))).await;
    // The secret stayed out of storage (remember is off), though the tokens are kept for a reload.
    assert!(!all_storage_values(ns).contains("s3cr3t"));

    // Reload: the result is shown again and nothing is posted.
    drop(m);
    let (m, calls2) = mount_with_proxy(ns, false).await;
    assert!(m.has(&sel(RESULT)));
    assert!(m
        .text(&sel(ENV_DOTENV))
        .contains("KOMMO_TEST_ACCESS_TOKEN="));
    assert!(m.has(&sel(START_OVER)));
    sleep(50).await;
    assert!(calls2.borrow().is_empty(), "a reload never posts again");
}

#[wasm_bindgen_test]
async fn proxy_holding_the_secret_gives_an_empty_secret_with_a_note() {
    let ns = "t-held:";
    code_returned(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    until_proxy(&m, "ok").await;
    assert!(m
        .text(&sel(PROXY_STATUS))
        .contains("holds the secret key for this integration"));
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(calls.borrow()[0].request.client_secret, "");
    let dotenv = m.text(&sel(ENV_DOTENV));
    assert!(
        dotenv.contains("# CLIENT_SECRET is empty: the exchange proxy holds the secret key; your app needs it to refresh tokens\n"),
        "{dotenv}"
    );
    assert!(dotenv.contains("KOMMO_TEST_CLIENT_SECRET=\n"));
}

#[wasm_bindgen_test]
async fn a_reload_renders_the_same_result_while_the_proxy_health_is_unknown() {
    let ns = "t-held-reload:";
    code_returned(ns);
    let (m, _) = mount_with_proxy(ns, true).await;
    until_proxy(&m, "ok").await;
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    let before = m.text(&sel(RESULT));
    assert!(
        before.contains("the exchange proxy holds the secret key"),
        "{before}"
    );
    // Reload: this time the proxy cannot be asked (its health is unknown, then missing). What was true at
    // exchange time still holds, so the result reads exactly the same.
    drop(m);
    let (api, calls) = FakeApi::new(None, ok_answer());
    let m = mounted(ns, api).await;
    assert_eq!(m.text(&sel(RESULT)), before);
    until_proxy(&m, "missing").await;
    assert_eq!(m.text(&sel(RESULT)), before);
    assert!(calls.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn without_a_secret_nothing_is_posted() {
    let ns = "t-nosecret:";
    code_returned(ns);
    let (m, calls) = mount_with_proxy(ns, false).await;
    until_proxy(&m, "ok").await;
    m.click(&sel(EXCHANGE));
    until("need secret", || {
        m.root
            .text_content()
            .unwrap()
            .contains("Enter the secret key in Setup")
    })
    .await;
    assert!(calls.borrow().is_empty());
    assert!(session()
        .get_item(&format!("{ns}posted"))
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn kommo_refusal_is_explained_and_inputs_are_kept() {
    let ns = "t-refused:";
    code_returned(ns);
    let body = serde_json::to_string(&Hint::CheckClientSecret.error()).unwrap();
    let (api, calls) = FakeApi::new(Some(health(false)), token_answer(401, body.clone(), None));
    let m = mounted(ns, api).await;
    m.type_into(&sel(SECRET), "wrong");
    m.click(&sel(EXCHANGE));
    until("exchange error", || m.has(&sel(EXCHANGE_ERROR))).await;
    assert_eq!(
        m.attr(&sel(EXCHANGE_ERROR), "data-hint").as_deref(),
        Some("check_client_secret")
    );
    assert_eq!(
        m.text(&sel(HINT_CAUSE)),
        Hint::CheckClientSecret.explain(Lang::En).cause
    );
    assert_eq!(
        m.text(&sel(HINT_FIX)),
        Hint::CheckClientSecret.explain(Lang::En).fix
    );
    assert!(m.text(&sel(RAW_ANSWER)).contains(&body));
    assert!(m.text(&sel(RAW_ANSWER)).starts_with("HTTP 401"));
    assert_eq!(m.input(&sel(SECRET)).value(), "wrong", "the input is kept");
    assert_eq!(m.input(&sel(ids::CLIENT_ID)).value(), CLIENT_ID);
    // A secret error does not spend the code: the user may fix it and try again, explicitly.
    assert!(m.has(&sel(EXCHANGE)));
    assert_eq!(calls.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_dead_code_offers_only_start_over() {
    let ns = "t-dead:";
    code_returned(ns);
    let body = serde_json::to_string(&Hint::CodeRevoked.error()).unwrap();
    let (api, _) = FakeApi::new(Some(health(true)), token_answer(400, body, None));
    let m = mounted(ns, api).await;
    m.click(&sel(EXCHANGE));
    until("exchange error", || m.has(&sel(EXCHANGE_ERROR))).await;
    assert_eq!(
        m.attr(&sel(EXCHANGE_ERROR), "data-hint").as_deref(),
        Some("code_revoked")
    );
    assert!(
        !m.has(&sel(EXCHANGE)),
        "a revoked code cannot be tried again"
    );
    assert_eq!(
        m.root
            .query_selector_all(&sel(START_OVER))
            .unwrap()
            .length(),
        1
    );
}

#[wasm_bindgen_test]
async fn one_dropped_connection_does_not_leave_the_proxy_marked_missing() {
    let ns = "t-blip:";
    code_returned(ns);
    // `/healthz` answers (the proxy holds the secret); the one token request is cut off on its way.
    let (api, _) = FakeApi::new(
        Some(health(true)),
        Err(ApiError::ProxyUnreachable {
            url: "http://127.0.0.1:9/oauth2/access_token".into(),
        }),
    );
    let m = mounted(ns, api).await;
    until_proxy(&m, "ok").await;
    m.click(&sel(EXCHANGE));
    until("proxy error", || m.has(&sel(PROXY_ERROR))).await;
    // Asked again, the proxy answers: Setup says so, and nothing claims the secret is missing.
    until_proxy(&m, "ok").await;
    assert!(m
        .text(&sel(PROXY_STATUS))
        .contains("holds the secret key for this integration"));
    assert!(!m.text(&sel(EXCHANGE_SECTION)).contains("No proxy answers"));
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn proxy_unreachable_is_explained_and_the_code_is_marked_posted() {
    let ns = "t-unreachable:";
    code_returned(ns);
    // The proxy answered /healthz, then went away before the exchange.
    let (api, _) = FakeApi::new(
        Some(health(false)),
        Err(ApiError::ProxyUnreachable {
            url: "http://127.0.0.1:9/oauth2/access_token".into(),
        }),
    );
    let m = mount(ns, api.clone());
    ready(&m).await;
    until_proxy(&m, "ok").await;
    assert!(
        m.q("details.manual")
            .unwrap()
            .get_attribute("open")
            .is_none(),
        "manual way folded while a proxy answers"
    );
    *api.health.borrow_mut() = None;
    m.type_into(&sel(SECRET), "s3cr3t");
    m.click(&sel(EXCHANGE));
    until("proxy error", || m.has(&sel(PROXY_ERROR))).await;
    until_proxy(&m, "missing").await;
    assert!(
        m.q("details.manual")
            .unwrap()
            .get_attribute("open")
            .is_some(),
        "the manual way opens"
    );
    assert_eq!(
        m.attr(&sel(PROXY_ERROR), "data-proxy-error").as_deref(),
        Some("unreachable")
    );
    assert!(m.text(&sel(PROXY_ERROR)).contains("CORS"));
    assert!(!m.has(&sel(EXCHANGE_ERROR)));
    assert_eq!(
        session()
            .get_item(&format!("{ns}posted"))
            .unwrap()
            .as_deref(),
        Some(CODE)
    );
    // The curl command targets the account host with the exact request.
    let curl = m.text(&sel(CURL_COMMAND));
    assert!(
        curl.starts_with("curl -sS -X POST 'https://kwid.kommo.com/oauth2/access_token'"),
        "{curl}"
    );
    assert!(
        curl.contains(&format!("\"code\":\"{CODE}\""))
            && curl.contains("\"client_secret\":\"s3cr3t\"")
    );

    // A reload while the answer never came: the page says the code may be spent and does not post by itself.
    drop(m);
    let (api, calls) = FakeApi::new(None, ok_answer());
    let m = mounted(ns, api).await;
    assert!(m.has(&sel(CODE_MAYBE_SPENT)));
    sleep(50).await;
    assert!(calls.borrow().is_empty());
}

/// A connection that broke after the proxy reached Kommo may have spent the code: the page must not say it was
/// not used (only `upstream_unreachable`, a failure to connect, may).
#[wasm_bindgen_test]
async fn a_connection_broken_mid_exchange_says_the_code_may_be_spent() {
    for (lang, maybe, not_used) in [
        ("en", "may have been used", "not used"),
        ("ru", "мог быть использован", "не использован"),
    ] {
        let m = refused_by_proxy(
            &format!("t-interrupted-{lang}:"),
            lang,
            kommo::ProxyError::new(
                kommo::ProxyErrorCode::UpstreamInterrupted,
                "the connection to kwid.kommo.com broke before a full answer",
            ),
        )
        .await;
        assert_eq!(
            m.attr(&sel(PROXY_ERROR), "data-proxy-error").as_deref(),
            Some("upstream_interrupted")
        );
        let fix = m.text(&format!("#{PROXY_ERROR} .fix"));
        assert!(fix.contains(maybe) && !fix.contains(not_used), "{fix}");
    }
    let m = refused_by_proxy(
        "t-unreachable-en:",
        "en",
        kommo::ProxyError::new(
            kommo::ProxyErrorCode::UpstreamUnreachable,
            "could not reach kwid.kommo.com: dns error",
        ),
    )
    .await;
    assert!(m
        .text(&format!("#{PROXY_ERROR} .fix"))
        .contains("the code was not used"));
}

/// A web page instead of JSON from the account host: the advice follows its status — 404 no such account, 403 a
/// blocked IP, anything else an outage — in both languages.
#[wasm_bindgen_test]
async fn an_html_answer_is_explained_by_its_status() {
    let cases = [
        (404, "en", "no account at this host"),
        (404, "ru", "аккаунта на этом хосте нет"),
        (403, "en", "blocked the proxy's IP"),
        (403, "ru", "заблокировал IP-адрес прокси"),
        (503, "en", "maintenance or an outage"),
        (503, "ru", "работы или сбой"),
        (502, "en", "maintenance or an outage"),
        (301, "en", "answered with a redirect"),
        (302, "ru", "ответил перенаправлением"),
    ];
    for (status, lang, want) in cases {
        let m = refused_by_proxy(
            &format!("t-html-{status}-{lang}:"),
            lang,
            kommo::ProxyError::not_json(status, Some("text/html"), "<html><h1>oops</h1></html>"),
        )
        .await;
        assert_eq!(
            m.attr(&sel(PROXY_ERROR), "data-proxy-error").as_deref(),
            Some("upstream_not_json")
        );
        let fix = m.text(&format!("#{PROXY_ERROR} .fix"));
        assert!(fix.contains(want), "{status} {lang}: {fix}");
    }
}

#[wasm_bindgen_test]
async fn pasted_answer_feeds_the_result() {
    let ns = "t-paste:";
    code_returned(ns);
    let (api, calls) = FakeApi::new(None, ok_answer());
    let m = mounted(ns, api).await;
    m.type_into(&sel(SECRET), "s3cr3t");
    m.type_into(&sel(PASTE_ANSWER), "not json");
    m.click(&sel(USE_PASTED));
    until("paste error", || {
        m.text(&sel(PASTE_ERROR)).contains("not JSON")
    })
    .await;
    m.type_into(&sel(PASTE_ANSWER), &format!("  {}\n", token_body()));
    m.click(&sel(USE_PASTED));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(m.text(&sel(ENV_DOTENV)), expected_dotenv());
    assert!(
        calls.borrow().is_empty(),
        "the manual way posts nothing through the page"
    );
}

#[wasm_bindgen_test]
async fn pasted_kommo_error_gets_the_same_hint() {
    let ns = "t-paste-err:";
    code_returned(ns);
    let m = mount_ready(ns).await;
    let body = serde_json::to_string_pretty(&Hint::CodeExpired.error()).unwrap();
    m.type_into(&sel(PASTE_ANSWER), &body);
    m.click(&sel(USE_PASTED));
    until("exchange error", || m.has(&sel(EXCHANGE_ERROR))).await;
    assert_eq!(
        m.attr(&sel(EXCHANGE_ERROR), "data-hint").as_deref(),
        Some("code_expired")
    );
    assert_eq!(
        m.text(&sel(HINT_CAUSE)),
        Hint::CodeExpired.explain(Lang::En).cause
    );
    assert!(m.text(&sel(RAW_ANSWER)).starts_with("HTTP 400"));
}

/// In the demo the manual curl goes to the Kommo double at the consent base and names the account in
/// `X-Forwarded-Host` (as the proxy does), never to the real Kommo; the text above it does not claim the command
/// holds the secret key while it holds the placeholder.
#[wasm_bindgen_test]
async fn the_demo_curl_goes_to_the_double_and_the_intro_fits_either_secret() {
    let ns = "t-demo-curl:";
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=demo.kommo.com"),
    );
    keep_setup(
        ns,
        serde_json::json!({
            "service": "custom", "consent_base": "http://127.0.0.1:8081/", "client_id": CLIENT_ID,
            "redirect_uri": "https://helper.example/", "proxy": "", "prefix": "KOMMO_TEST_", "demo": true
        }),
    );
    session().set_item(&format!("{ns}state"), STATE).unwrap();
    let m = mount_ready(ns).await;
    assert!(m.has(&sel(DEMO_BADGE)));
    until("curl", || !m.text(&sel(CURL_COMMAND)).is_empty()).await;
    let curl = m.text(&sel(CURL_COMMAND));
    assert!(
        curl.starts_with(
            "curl -sS -X POST 'http://127.0.0.1:8081/oauth2/access_token' \\\n  -H 'x-forwarded-host: demo.kommo.com' \\\n"
        ),
        "{curl}"
    );
    assert!(!curl.contains("https://demo.kommo.com"), "{curl}");
    assert!(curl.contains("\"client_secret\":\"PASTE-YOUR-SECRET-KEY\""));
    // The text above it is true with the placeholder and with a typed key.
    let intro = m.text(&sel(MANUAL_INTRO));
    assert!(
        intro.contains("put in place of PASTE-YOUR-SECRET-KEY")
            && intro.contains("once the key is in it, do not share")
            && !intro.contains("contains your secret key"),
        "{intro}"
    );
    m.type_into(&sel(SECRET), "s3cr3t");
    until("the typed key", || {
        m.text(&sel(CURL_COMMAND))
            .contains("\"client_secret\":\"s3cr3t\"")
    })
    .await;
}

/// The stepper knows an answer holds tokens from a flag kept with it (the answer's reading lives in a later part of
/// the split page); an answer kept by a page from before that flag is still taken as tokens when its status is 2xx.
#[wasm_bindgen_test]
async fn an_answer_kept_with_or_without_its_tokens_flag_reloads_into_the_result() {
    let ns = "t-flag:";
    let (api, _) = FakeApi::new(Some(health(true)), ok_answer());
    drop(exchanged(ns, api).await);
    let key = format!("{ns}answer");
    let kept: serde_json::Value = serde_json::from_str(
        &session()
            .get_item(&key)
            .unwrap()
            .expect("the answer is kept"),
    )
    .unwrap();
    assert_eq!(kept["tokens"], true, "{kept}");
    let mut old = kept.clone();
    old.as_object_mut().unwrap().remove("tokens");
    session().set_item(&key, &old.to_string()).unwrap();
    let (m, calls) = mount_with_proxy(ns, false).await;
    assert_eq!(current_step(&m), "result");
    assert!(m
        .text(&sel(ENV_DOTENV))
        .contains("KOMMO_TEST_ACCESS_TOKEN="));
    sleep(50).await;
    assert!(calls.borrow().is_empty(), "a reload never posts again");
}
