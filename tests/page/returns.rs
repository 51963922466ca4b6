//! Back from consent: returns that are this tab's own, foreign, crafted, declined, malformed, pasted back, posted by
//! the popup, or old.

use kommo::TokenRequest;
use kommo_oauth_helper::browser;

use crate::fake_proxy::*;
use crate::harness::*;
// The integration ID the tests type, not the id of its field (`ids::CLIENT_ID`).
use crate::harness::CLIENT_ID;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn a_return_with_another_state_is_set_aside_and_the_pending_consent_stays() {
    let ns = "t-mismatch:";
    fresh(
        ns,
        &format!("?code={CODE}&state={OTHER_STATE}&referer=kwid.kommo.com"),
    );
    setup_pending(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert_eq!(
        m.attr(&sel(RETURN_SET_ASIDE), "data-problem").as_deref(),
        Some("Mismatch"),
        "the CSRF stop is shown"
    );
    let notice = m.text(&sel(RETURN_SET_ASIDE));
    assert!(
        notice.contains("differs from the one this page sent"),
        "{notice}"
    );
    assert!(notice.contains("crafted link"), "{notice}");
    assert!(
        !m.has(&sel(EXCHANGE)),
        "no way to exchange an untrusted code"
    );
    assert!(!m.has(&sel(CURL_COMMAND)), "no curl either");
    assert!(!m.has(&sel(RETURN_PANEL)) && !m.has(&sel(START_OVER)));
    assert_eq!(
        current_step(&m),
        "consent",
        "the consent this tab started is still pending"
    );
    assert!(m
        .text(&sel(CONSENT_URL))
        .contains(&format!("state={STATE}")));
    sleep(50).await;
    assert!(calls.borrow().is_empty(), "nothing was posted");
    let stored = all_storage_values(ns);
    assert!(
        !stored.contains(CODE),
        "the untrusted code is not kept: {stored}"
    );
    assert_eq!(
        session()
            .get_item(&format!("{ns}state"))
            .unwrap()
            .as_deref(),
        Some(STATE),
        "the pending state is not used up by a return that is not its own"
    );
    assert_eq!(window().location().search().unwrap(), "");
    // "Hide" removes the notice and leaves the keyboard on the steps below it.
    m.click(&sel(SET_ASIDE_HIDE));
    until("notice hidden", || !m.has(&sel(RETURN_SET_ASIDE))).await;
    until_focused(STEPS).await;
    // The genuine return, arriving next in this tab, is still accepted.
    drop(m);
    at_url(&format!(
        "?code={CODE}&state={STATE}&referer=kwid.kommo.com"
    ));
    let (m, _) = mount_with_proxy(ns, true).await;
    assert!(m.has(&sel(EXCHANGE)), "the genuine return is exchangeable");
    assert!(!m.has(&sel(RETURN_SET_ASIDE)));
    assert_eq!(current_step(&m), "exchange");
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn a_crafted_return_after_the_exchange_keeps_the_tokens() {
    let ns = "t-crafted:";
    let (api, _) = FakeApi::new(Some(health(true)), ok_answer());
    let mut m = exchanged(ns, api).await;
    let env = m.text(&sel(ENV_DOTENV));
    assert!(env.contains("ACCESS_TOKEN="), "{env}");
    // The same tab opens crafted returns: another account's code, a denial, an unreadable one.
    // Back to the consent page and "Allow" again: a new code with this tab's own, already used-up state.
    let again = format!("?code=again&state={STATE}&referer={HOST}");
    for (query, problem) in [
        (again.as_str(), "NothingStored"),
        ("?code=evil&state=x&referer=evil.kommo.com", "NothingStored"),
        ("?error=access_denied", "NothingStored"),
        ("?code=a&code=b&referer=evil.kommo.com", "Malformed"),
    ] {
        drop(m);
        at_url(query);
        let (api, calls) = FakeApi::new(Some(health(true)), ok_answer());
        let m2 = mount(ns, api);
        ready(&m2).await;
        assert_eq!(
            m2.attr(&sel(RETURN_SET_ASIDE), "data-problem").as_deref(),
            Some(problem),
            "{query}"
        );
        assert!(m2
            .text(&sel(RETURN_SET_ASIDE))
            .contains("Nothing in this tab changed"));
        assert!(m2.has(&sel(RESULT)), "{query}: the result stays");
        if query == again {
            assert!(m2
                .text(&sel(RETURN_SET_ASIDE))
                .contains("not waiting for a return"));
        }
        assert_eq!(m2.text(&sel(ENV_DOTENV)), env, "{query}: the same tokens");
        assert_eq!(m2.text(&sel(ACCOUNT_HOST)), HOST);
        assert!(!m2.has(&sel(DENIED)) && !m2.has(&sel(CALLBACK_ERROR)));
        sleep(50).await;
        assert!(calls.borrow().is_empty(), "{query}: nothing was posted");
        let stored = all_storage_values(ns);
        assert!(
            !stored.contains("evil"),
            "{query}: nothing of it is kept: {stored}"
        );
        m = m2;
    }
    // Start over would discard tokens that cannot be fetched again: it asks first, and "no" keeps everything.
    let asked = answer_confirm(false);
    m.click(&sel(START_OVER));
    sleep(50).await;
    assert_eq!(asked.borrow().len(), 1);
    assert!(
        asked.borrow()[0].contains("cannot be fetched again"),
        "{:?}",
        asked.borrow()
    );
    assert_eq!(m.text(&sel(ENV_DOTENV)), env, "declined: the tokens stay");
    // "Yes" starts over, clearing the notice with everything else, and puts the keyboard on the consent button.
    let asked = answer_confirm(true);
    m.click(&sel(START_OVER));
    until("consent step", || m.has(&sel(CONSENT_URL))).await;
    assert_eq!(asked.borrow().len(), 1);
    assert!(!m.has(&sel(RETURN_SET_ASIDE)) && !m.has(&sel(RESULT)));
    until_focused(GO_SAME_TAB).await;
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn a_return_in_a_tab_that_started_nothing_is_refused() {
    let ns = "t-nothing:";
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com"),
    );
    store_setup(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert_eq!(
        m.attr(&sel(STATE_ERROR), "data-problem").as_deref(),
        Some("NothingStored")
    );
    assert!(!m.has(&sel(EXCHANGE)));
    assert!(calls.borrow().is_empty());
    // A reload reads the kept return again and comes to the same verdict: never a code to exchange.
    drop(m);
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert_eq!(
        m.attr(&sel(STATE_ERROR), "data-problem").as_deref(),
        Some("NothingStored")
    );
    assert!(!m.has(&sel(EXCHANGE)));
    assert!(calls.borrow().is_empty());
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn declined_consent_says_so_and_offers_retry() {
    let ns = "t-denied:";
    fresh(
        ns,
        &format!("?error=access_denied&state={STATE}&client_id={CLIENT_ID}"),
    );
    setup_pending(ns);
    let (api, calls) = FakeApi::new(None, ok_answer());
    let m = mounted(ns, api).await;
    assert!(
        m.text(&sel(DENIED)).contains("Decline"),
        "{}",
        m.text(&sel(DENIED))
    );
    assert!(
        !m.has(&sel(START_OVER)),
        "the declined panel has its own Try again"
    );
    assert!(!m.has(&sel(EXCHANGE)));
    m.click(&sel(RETRY));
    until("consent again", || m.has(&sel(GO_SAME_TAB))).await;
    assert!(!m.has(&sel(DENIED)));
    assert!(
        session().get_item(&format!("{ns}state")).unwrap().is_some(),
        "a fresh state for the retry"
    );
    assert!(calls.borrow().is_empty());
    // Another error from the consent page is not called a decline.
    drop(m);
    fresh(
        ns,
        &format!("?error=server_error&state={STATE}&client_id={CLIENT_ID}"),
    );
    setup_pending(ns);
    let m = mount_ready(ns).await;
    let title = m
        .q(&format!("#{DENIED} h3"))
        .unwrap()
        .text_content()
        .unwrap_or_default();
    assert_eq!(title, "The consent page returned an error");
    assert!(m.text(&sel(DENIED)).contains("“server_error”"));
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn malformed_return_names_the_problem() {
    let ns = "t-malformed:";
    fresh(ns, "?code=a&code=b&referer=kwid.kommo.com");
    setup_pending(ns);
    let (api, calls) = FakeApi::new(None, ok_answer());
    let m = mounted(ns, api).await;
    // This tab has a consent pending: the unreadable return is set aside, naming the problem.
    let msg = m.text(&sel(RETURN_SET_ASIDE));
    assert!(msg.contains("“code” appears more than once"), "{msg}");
    assert!(!m.has(&sel(EXCHANGE)) && !m.has(&sel(CALLBACK_ERROR)));
    assert!(calls.borrow().is_empty());
    drop(m);
    // In a tab that holds nothing it is the return itself.
    fresh(ns, "?code=a&code=b&referer=kwid.kommo.com");
    let m = mount_ready(ns).await;
    let msg = m.text(&sel(CALLBACK_ERROR));
    assert!(msg.contains("“code” appears more than once"), "{msg}");
    assert!(!m.has(&sel(EXCHANGE)) && !m.has(&sel(RETURN_SET_ASIDE)));

    // A code without referer.
    drop(m);
    fresh(ns, &format!("?code=a&state={STATE}"));
    let m = mount_ready(ns).await;
    assert!(m.text(&sel(CALLBACK_ERROR)).contains("no “referer”"));
}

#[wasm_bindgen_test]
async fn query_is_stripped_and_the_return_survives_a_reload() {
    let ns = "t-strip:";
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com&client_id={CLIENT_ID}#top"),
    );
    setup_pending(ns);
    let (m, _) = mount_with_proxy(ns, true).await;
    assert_eq!(
        window().location().search().unwrap(),
        "",
        "the code left the address bar"
    );
    assert_eq!(
        window().location().hash().unwrap(),
        "#top",
        "the fragment stays"
    );
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid.kommo.com");
    let countdown = m.text(&sel(CODE_COUNTDOWN));
    assert!(
        countdown.contains("20:00") || countdown.contains("19:5"),
        "{countdown}"
    );
    assert_eq!(current_step(&m), "exchange");
    assert!(
        session().get_item(&format!("{ns}state")).unwrap().is_none(),
        "the state is used up"
    );
    // A reload (re-mount without the query) still knows the return, and when it came.
    drop(m);
    let (m, _) = mount_with_proxy(ns, true).await;
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid.kommo.com");
    assert!(m.has(&sel(EXCHANGE)));
    let countdown = m.text(&sel(CODE_COUNTDOWN));
    assert!(
        countdown.contains("20:00") || countdown.contains("19:5"),
        "{countdown}"
    );
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn an_address_kommo_sent_elsewhere_is_pasted_back_and_exchanged() {
    let ns = "t-landed:";
    // The Redirect URI is https://helper.example/, not this page: Kommo sends the code there.
    awaiting_return(ns);
    let (m, calls) = mount_with_proxy(ns, false).await;
    assert!(
        m.q(&sel(LANDED_DETAILS)).unwrap().has_attribute("open"),
        "open when the Redirect URI is not this page"
    );
    assert!(m
        .text(&format!("#{CONSENT_SECTION} .lead"))
        .contains("copy that address and paste it below"));
    // Nothing, an address without a code, another address than Setup's Redirect URI: each says what to do.
    m.click(&sel(LANDED_READ));
    until("empty", || {
        m.text(&sel(LANDED_ERROR))
            .contains("Paste the address first")
    })
    .await;
    m.type_into(&sel(LANDED), "https://helper.example/?utm_source=x");
    until("no code", || {
        m.text(&sel(LANDED_ERROR)).contains("carries no code")
    })
    .await;
    let other = format!("https://app.example/cb?code={CODE}&state={STATE}&referer=kwid.kommo.com");
    m.type_into(&sel(LANDED), &other);
    m.click(&sel(LANDED_READ));
    until("other redirect", || {
        m.text(&sel(LANDED_ERROR))
            .contains("You landed on https://app.example/cb, but the Redirect URI in Setup is https://helper.example/")
    })
    .await;
    assert_eq!(
        m.attr(&sel(LANDED), "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        m.input(&sel(LANDED)).value(),
        other,
        "what was pasted stays"
    );
    assert!(!m.has(&sel(EXCHANGE)) && !m.has(&sel(RETURN_PANEL)));
    assert_eq!(
        session()
            .get_item(&format!("{ns}state"))
            .unwrap()
            .as_deref(),
        Some(STATE),
        "nothing was read yet"
    );
    // The address Kommo really sent the user to.
    m.type_into(
        &sel(LANDED),
        &format!("https://helper.example/?code={CODE}&state={STATE}&referer=kwid.kommo.com&client_id={CLIENT_ID}"),
    );
    until("error gone", || m.text(&sel(LANDED_ERROR)).is_empty()).await;
    m.click(&sel(LANDED_READ));
    until("return read", || m.has(&sel(EXCHANGE))).await;
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid.kommo.com");
    assert!(
        session().get_item(&format!("{ns}state")).unwrap().is_none(),
        "the state is used up"
    );
    m.type_into(&sel(SECRET), "s3cr3t");
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(
        calls.borrow()[0].request,
        TokenRequest::authorization_code(CLIENT_ID, "s3cr3t", CODE, "https://helper.example/")
    );
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn a_pasted_address_with_another_state_is_set_aside() {
    let ns = "t-landed-foreign:";
    awaiting_return(ns);
    let m = mount_ready(ns).await;
    m.type_into(
        &sel(LANDED),
        &format!("https://helper.example/?code={CODE}&state={OTHER_STATE}&referer=kwid.kommo.com"),
    );
    m.click(&sel(LANDED_READ));
    until("set aside", || m.has(&sel(RETURN_SET_ASIDE))).await;
    assert_eq!(
        m.attr(&sel(RETURN_SET_ASIDE), "data-problem").as_deref(),
        Some("Mismatch")
    );
    assert!(!m.has(&sel(EXCHANGE)));
    assert_eq!(
        session()
            .get_item(&format!("{ns}state"))
            .unwrap()
            .as_deref(),
        Some(STATE)
    );
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn a_return_posted_by_the_popup_is_handled_like_a_return_and_foreign_messages_are_ignored() {
    let ns = "t-popup:";
    awaiting_return(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert!(m.has(&sel(GO_POPUP)));

    // Another origin posting a perfectly shaped return is ignored.
    let data = js_sys::Object::new();
    js_sys::Reflect::set(&data, &"kind".into(), &browser::MESSAGE_KIND.into()).unwrap();
    for (k, v) in [
        ("code", CODE),
        ("state", STATE),
        ("referer", "kwid.kommo.com"),
    ] {
        js_sys::Reflect::set(&data, &k.into(), &v.into()).unwrap();
    }
    let init = web_sys::MessageEventInit::new();
    init.set_data(&data);
    init.set_origin("https://evil.example");
    let ev = web_sys::MessageEvent::new_with_event_init_dict("message", &init).unwrap();
    window().dispatch_event(&ev).unwrap();
    sleep(50).await;
    leptos::task::tick().await;
    assert!(
        !m.has(&sel(RETURN_PANEL)),
        "a message from another origin changes nothing"
    );
    assert_eq!(
        session()
            .get_item(&format!("{ns}state"))
            .unwrap()
            .as_deref(),
        Some(STATE)
    );

    // What the popup really sends: postMessage to its opener, restricted to this origin.
    assert!(browser::post_return(
        &window(),
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com&client_id={CLIENT_ID}")
    ));
    until("return from the popup", || m.has(&sel(ACCOUNT_HOST))).await;
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid.kommo.com");
    assert_eq!(current_step(&m), "exchange");
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(calls.borrow().len(), 1);
    assert_eq!(calls.borrow()[0].request.code.as_deref(), Some(CODE));

    // The same message again (a popup race) neither replaces the result nor posts again.
    assert!(browser::post_return(
        &window(),
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com")
    ));
    sleep(50).await;
    leptos::task::tick().await;
    assert!(m.has(&sel(RESULT)));
    assert_eq!(calls.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_referer_that_is_not_an_account_host_is_shown_and_never_used() {
    let ns = "t-badhost:";
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com.evil.example"),
    );
    setup_pending(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid.kommo.com.evil.example");
    assert!(m
        .text(&sel(HOST_ERROR))
        .contains("not a Kommo or amoCRM account host"));
    assert!(!m.has(&sel(EXCHANGE)));
    assert!(!m.has(&sel(CURL_COMMAND)));
    assert_eq!(current_step(&m), "return");
    sleep(50).await;
    assert!(calls.borrow().is_empty());
    // A control character in it is shown, not hidden.
    drop(m);
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=kwid%00.kommo.com"),
    );
    setup_pending(ns);
    let m = mount_ready(ns).await;
    assert_eq!(m.text(&sel(ACCOUNT_HOST)), "kwid\\0.kommo.com");
    // Nor can Setup take a Redirect URI with a fragment, where Kommo's ?code=… would land after the #.
    m.type_into(&sel(REDIRECT_URI), "https://helper.example/#cb");
    until("fragment refused", || {
        m.text(&sel(REDIRECT_ERROR)).contains("#fragment")
    })
    .await;
    fresh(ns, "");
}

#[wasm_bindgen_test]
async fn an_old_code_is_called_expired_but_can_still_be_tried() {
    let ns = "t-old:";
    set_up(ns);
    // A return accepted 21 minutes ago, as the tab keeps it: the query, the state it matched and when it came.
    let at = js_sys::Date::now() as i64 - 21 * 60 * 1000;
    let query = format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com&client_id={CLIENT_ID}");
    for (key, value) in [
        ("return_query", query.as_str()),
        ("return_state", STATE),
        ("return_at", &at.to_string()),
    ] {
        session().set_item(&format!("{ns}{key}"), value).unwrap();
    }
    let (m, calls) = mount_with_proxy(ns, true).await;
    assert_eq!(
        m.attr(&sel(CODE_COUNTDOWN), "data-expired").as_deref(),
        Some("1")
    );
    assert!(m
        .text(&sel(CODE_COUNTDOWN))
        .contains("older than 20 minutes"));
    assert!(m.has(&sel(START_OVER)));
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    assert_eq!(calls.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_crafted_return_in_a_tab_holding_only_a_long_lived_token_is_set_aside() {
    let ns = "t-crafted-long-lived:";
    set_up(ns);
    let (api, _) = FakeApi::new(Some(health(false)), ok_answer());
    let m = mounted(ns, api).await;
    let token = jwt(
        serde_json::json!({"aud": CLIENT_ID, "exp": now_secs() + 86400, "account_id": "31000001"}),
    );
    m.type_into(&sel(LONG_LIVED_TOKEN), &token);
    m.type_into(&sel(LONG_LIVED_HOST), "kwid.kommo.com");
    m.click(&sel(USE_LONG_LIVED));
    until("result", || m.has(&sel(RESULT))).await;
    let env = m.text(&sel(ENV_DOTENV));
    drop(m);
    // No consent pending and no code: only the kept token, which the page reads after the return is weighed.
    session().remove_item(&format!("{ns}state")).unwrap();
    at_url("?code=evil&state=x&referer=evil.kommo.com");
    let (api, calls) = FakeApi::new(Some(health(false)), ok_answer());
    let m2 = mount(ns, api);
    ready(&m2).await;
    assert_eq!(
        m2.attr(&sel(RETURN_SET_ASIDE), "data-problem").as_deref(),
        Some("NothingStored")
    );
    assert!(m2.has(&sel(RESULT)), "the result stays");
    assert_eq!(m2.text(&sel(ENV_DOTENV)), env, "the same token");
    assert!(
        !m2.has(&sel(RETURN_PANEL)),
        "the crafted return is not shown as this tab's"
    );
    sleep(50).await;
    assert!(calls.borrow().is_empty(), "nothing was posted");
    assert!(!all_storage_values(ns).contains("evil"));
    fresh(ns, "");
}
