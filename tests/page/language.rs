//! The language: the switch is remembered, keeps what was typed and what was shown, and the Russian page speaks
//! Russian throughout.

use crate::fake_proxy::*;
use crate::harness::*;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn language_switch_is_remembered() {
    let ns = "t-lang:";
    fresh(ns, "");
    let m = mount_ready(ns).await;
    assert!(m.text("h1").contains("Kommo OAuth Helper"));
    set_lang(&m, "ru").await;
    until("russian", || m.text("h1").contains("Помощник")).await;
    assert_eq!(
        local().get_item(&format!("{ns}lang")).unwrap().as_deref(),
        Some("ru")
    );
    assert!(m.has("[data-step=\"setup\"][aria-current=\"step\"]"));
}

#[wasm_bindgen_test]
async fn the_new_views_speak_russian_and_keep_their_state_across_a_language_switch() {
    let ns = "t-api-ru:";
    let (m, _) = exchanged_with_api(ns, kommo_api(403, vec![2])).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    set_lang(&m, "ru").await;
    until("russian", || {
        m.text(&sel(API_SUMMARY)).contains("Все проверки пройдены")
    })
    .await;
    assert!(m.text(&sel(API_USERS)).contains("нужен администратор"));
    assert!(m.text(&sel(JWT_UNVERIFIED)).contains("без проверки"));
    assert!(m.text(&sel(REFRESH_ROTATION)).contains("3 месяца"));
    assert!(m.text(&sel(HAVE_TOKEN)).contains("Долгосрочный токен"));
    assert_eq!(
        m.root
            .query_selector_all(".api-log-entry")
            .unwrap()
            .length(),
        5
    );
}

/// In the Russian page, a refused account host is explained in Russian (the core's `HostError::explain`), not with
/// the English reason inside a Russian sentence.
#[wasm_bindgen_test]
async fn a_refused_account_host_is_explained_in_russian() {
    let ns = "t-badhost-ru:";
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=www.kommo.com"),
    );
    local().set_item(&format!("{ns}lang"), "ru").unwrap();
    setup_pending(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    let text = m.text(&sel(HOST_ERROR));
    assert!(text.contains("Это не хост аккаунта"), "{text}");
    assert!(text.contains("сайт самого Kommo"), "{text}");
    assert!(!text.contains("own site"), "English reason leaked: {text}");
    assert!(!m.has(&sel(EXCHANGE)));
    assert!(calls.borrow().is_empty());
}

/// The proxy's own message stays as it was said (English, marked `lang="en"`), after a Russian sentence, and the fix
/// for its error code is in Russian.
#[wasm_bindgen_test]
async fn a_proxy_refusal_in_the_russian_page_quotes_the_proxy_and_says_the_fix_in_russian() {
    let refusal = kommo::ProxyError {
        proxy_error: kommo::ProxyErrorCode::ClientNotAllowed,
        message: "this proxy only exchanges codes for its own integration".into(),
        upstream_status: None,
        upstream_content_type: None,
        upstream_body: None,
    };
    let m = refused_by_proxy("t-proxyref-ru:", "ru", refusal).await;
    assert_eq!(
        m.attr(&sel(PROXY_ERROR), "data-proxy-error").as_deref(),
        Some("client_not_allowed")
    );
    let quote = m
        .q(&format!("#{PROXY_ERROR} q"))
        .expect("the proxy's words are quoted");
    assert_eq!(quote.get_attribute("lang").as_deref(), Some("en"));
    assert_eq!(
        quote.text_content().unwrap_or_default(),
        "this proxy only exchanges codes for its own integration"
    );
    let cause = m.text(&format!("#{PROXY_ERROR} .cause"));
    assert!(cause.starts_with("Прокси отказал"), "{cause}");
    let fix = m.text(&format!("#{PROXY_ERROR} .fix"));
    assert!(fix.chars().any(|c| ('а'..='я').contains(&c)), "{fix}");
}

/// A language switch re-renders the page: what was typed into "Already have a token?" stays, and the field errors
/// are worded again in the new language.
#[wasm_bindgen_test]
async fn already_have_a_token_keeps_what_was_typed_across_a_language_switch() {
    let ns = "t-have-lang:";
    set_up(ns);
    let m = mount_ready(ns).await;
    m.type_into(&sel(LONG_LIVED_TOKEN), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    m.type_into(&sel(LONG_LIVED_HOST), "kwid.example.com");
    m.type_into(&sel(PASTE_REFRESH_TOKEN), "def50200saved");
    m.type_into(&sel(REFRESH_HOST), "kwid.amocrm.ru");
    set_lang(&m, "ru").await;
    // The re-rendered fields get their values set a moment after the new text is there.
    let values = |m: &Mounted, expected: [&str; 4]| {
        let fields = [
            LONG_LIVED_TOKEN,
            LONG_LIVED_HOST,
            PASTE_REFRESH_TOKEN,
            REFRESH_HOST,
        ];
        fields.map(|f| value_of(m, &sel(f))) == expected
    };
    let typed = [
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        "kwid.example.com",
        "def50200saved",
        "kwid.amocrm.ru",
    ];
    until("all four kept", || values(&m, typed)).await;
    // The host is refused; its error follows the language.
    m.click(&sel(USE_LONG_LIVED));
    until("host error", || {
        m.text(&sel(LONG_LIVED_HOST_ERROR))
            .contains("Введите хост аккаунта")
    })
    .await;
    assert_eq!(
        m.attr(&sel(LONG_LIVED_HOST), "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        m.attr(&sel(LONG_LIVED_TOKEN), "aria-invalid").as_deref(),
        Some("false")
    );
    set_lang(&m, "en").await;
    until("all four kept again", || values(&m, typed)).await;
    assert!(
        m.text(&sel(LONG_LIVED_HOST_ERROR))
            .contains("Enter the account host"),
        "{}",
        m.text(&sel(LONG_LIVED_HOST_ERROR))
    );
    // Fixing the host clears its error; the token is then used (and cleared), the rest stays.
    m.type_into(&sel(LONG_LIVED_HOST), "kwid.kommo.com");
    until("error gone", || {
        m.text(&sel(LONG_LIVED_HOST_ERROR)).is_empty()
    })
    .await;
    m.click(&sel(USE_LONG_LIVED));
    until("result", || m.has(&sel(RESULT))).await;
    let after = ["", "kwid.kommo.com", "def50200saved", "kwid.amocrm.ru"];
    until("a used token is cleared, the rest stays", || {
        values(&m, after)
    })
    .await;
    set_lang(&m, "ru").await;
    until("still there", || values(&m, after)).await;
}

/// The curl answer pasted in the exchange step, its error and the manual way unfolded or folded by hand all survive a
/// language switch.
#[wasm_bindgen_test]
async fn the_pasted_curl_answer_and_the_manual_way_survive_a_language_switch() {
    let ns = "t-paste-lang:";
    code_returned(ns);
    let (m, calls) = mount_with_proxy(ns, true).await;
    until_proxy(&m, "ok").await;
    let open = || m.q("details.manual").unwrap().has_attribute("open");
    assert!(!open(), "folded while a proxy answers");
    m.click("details.manual summary");
    until("unfolded", open).await;
    // The `toggle` event comes in a task of its own (as it does before a user's next action).
    sleep(20).await;
    m.type_into(&sel(PASTE_ANSWER), "{not json");
    m.click(&sel(USE_PASTED));
    until("paste error", || {
        m.text(&sel(PASTE_ERROR)).contains("not JSON")
    })
    .await;
    set_lang(&m, "ru").await;
    // The re-render's own `toggle` events come a task later: they must not undo the user's choice.
    sleep(50).await;
    assert!(open(), "still unfolded by hand");
    assert_eq!(value_of(&m, &sel(PASTE_ANSWER)), "{not json");
    assert!(
        m.text(&sel(PASTE_ERROR)).contains("Это не JSON"),
        "{}",
        m.text(&sel(PASTE_ERROR))
    );
    assert_eq!(
        m.attr(&sel(PASTE_ANSWER), "aria-invalid").as_deref(),
        Some("true")
    );
    // Folded by hand stays folded too.
    m.click("details.manual summary");
    until("folded", || !open()).await;
    sleep(20).await;
    set_lang(&m, "en").await;
    sleep(50).await;
    assert!(!open(), "still folded by hand");
    assert_eq!(value_of(&m, &sel(PASTE_ANSWER)), "{not json");
    assert!(m.text(&sel(PASTE_ERROR)).contains("not JSON"));
    assert!(calls.borrow().is_empty());
}

/// The Russian API check: "Пользователи: найдено 3" (one colon), and the request log times in "мс".
#[wasm_bindgen_test]
async fn the_russian_api_check_has_one_colon_and_says_ms_in_russian() {
    let ns = "t-api-ru-words:";
    let (m, _) = exchanged_with_api(ns, kommo_api(200, vec![1])).await;
    set_lang(&m, "ru").await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(m.text(&sel(API_USERS)), "Пользователи: найдено 3");
    let times = m.root.query_selector_all(".log-ms").unwrap();
    assert_eq!(times.length(), 5);
    for i in 0..times.length() {
        let text = times.item(i).unwrap().text_content().unwrap();
        assert!(text.ends_with(" мс"), "{text}");
    }
}
