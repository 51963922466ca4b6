//! The API check: account, users, pipelines and leads across pages, paced, logged masked; 403s, 429s, Stop.

use kommo_oauth_helper::{ApiAnswer, ApiError};
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::fake_proxy::*;
use crate::harness::*;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn api_check_counts_leads_across_pages_to_204_paced_and_logged_masked() {
    let ns = "t-api:";
    let access = full_token(now_secs() + 86400, "7");
    let (api, _, api_calls) = FakeApi::full(
        Some(health(true)),
        vec![pair(&access, "def50200r")],
        kommo_api(200, vec![250, 250, 112]),
    );
    let m = exchanged(ns, api).await;
    assert_eq!(
        m.attr(&sel(API_ACCOUNT), "data-state").as_deref(),
        Some("idle")
    );
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    let paths: Vec<String> = api_calls.borrow().iter().map(|c| c.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/api/v4/account",
            "/api/v4/users",
            "/api/v4/leads/pipelines",
            "/api/v4/leads?limit=250&page=1",
            "/api/v4/leads?limit=250&page=2",
            "/api/v4/leads?limit=250&page=3",
            "/api/v4/leads?limit=250&page=4",
        ]
    );
    for c in api_calls.borrow().iter() {
        assert_eq!(c.host, HOST, "the host from referer");
        assert_eq!(c.token, access);
        assert_eq!(c.base, window().location().origin().unwrap());
    }
    // Paced under 7 per second.
    let at: Vec<f64> = api_calls.borrow().iter().map(|c| c.at).collect();
    for w in at.windows(2) {
        assert!(
            w[1] - w[0] >= 1000.0 / 7.0,
            "requests {} ms apart",
            w[1] - w[0]
        );
    }
    assert!(m.text(&sel(API_ACCOUNT)).contains("Kwid Ltd"));
    assert!(m.text(&sel(API_ACCOUNT)).contains("31000001"));
    assert!(m.text(&sel(API_USERS)).contains('3'));
    assert_eq!(m.attr(&sel(API_USERS), "data-state").as_deref(), Some("ok"));
    assert!(m
        .text(&sel(API_PIPELINES))
        .contains("Sales pipeline, Partners"));
    assert_eq!(m.attr(&sel(API_LEADS), "data-state").as_deref(), Some("ok"));
    assert!(
        m.text(&sel(API_LEADS)).contains("612 in total (3 pages)"),
        "{}",
        m.text(&sel(API_LEADS))
    );
    assert_eq!(m.attr(&sel(LEADS_PROGRESS), "value").as_deref(), Some("1"));
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("1"));
    let summary = m.text(&sel(API_SUMMARY));
    assert!(summary.contains("All checks passed"), "{summary}");
    assert!(
        summary.contains("leads: 612")
            && summary.contains("users: 3")
            && summary.contains("pipelines: 2")
    );
    // The request log: every request with status and time; the token never in full.
    let entries = m.root.query_selector_all(".api-log-entry").unwrap();
    assert_eq!(entries.length(), 7);
    let statuses: Vec<String> = (0..7)
        .map(|i| {
            entries
                .item(i)
                .unwrap()
                .unchecked_into::<Element>()
                .get_attribute("data-status")
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, ["200", "200", "200", "200", "200", "200", "204"]);
    let log = m.text(&sel(API_LOG));
    assert!(log.contains("ms"));
    assert!(!log.contains(&access), "the token is masked in the log");
    let masked = kommo::api::mask_token(&access);
    assert!(
        log.contains(&format!("Authorization: Bearer {masked}")),
        "{log}"
    );
    assert!(log.contains(&format!("GET https://{HOST}/api/v4/account")));
    assert!(log.contains("Kwid Ltd"), "answers are viewable");
}

#[wasm_bindgen_test]
async fn users_403_means_needs_an_admin_and_the_rest_still_passes() {
    let ns = "t-api-403:";
    let (m, _) = exchanged_with_api(ns, kommo_api(403, vec![40])).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(
        m.attr(&sel(API_USERS), "data-state").as_deref(),
        Some("needs-admin")
    );
    assert!(m.text(&sel(API_USERS)).contains("needs an admin"));
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("1"));
    assert!(m.text(&sel(API_SUMMARY)).contains("users: needs an admin"));
    assert!(m.text(&sel(API_LEADS)).contains("40 in total"));
    // A 500 on users is a failure, not "needs an admin".
    drop(m);
    let ns = "t-api-500:";
    let (m, _) = exchanged_with_api(ns, kommo_api(500, vec![1])).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(
        m.attr(&sel(API_USERS), "data-state").as_deref(),
        Some("failed")
    );
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
}

#[wasm_bindgen_test]
async fn api_check_waits_out_a_429_and_retries() {
    let ns = "t-api-429:";
    let ok = kommo_api(200, vec![5]);
    let script: ApiScript = Box::new(move |path, n| {
        if n == 0 {
            return Ok(ApiAnswer {
                status: 429,
                body: r#"{"title":"Too Many Requests","status":429}"#.into(),
                content_type: Some("application/problem+json".into()),
                retry_after: Some("1".into()),
            });
        }
        ok(path, n)
    });
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("the 429 is logged", || {
        m.has(".api-log-entry[data-status='429']")
    })
    .await;
    assert!(m.text(&sel(API_LOG)).contains("retrying in 1.0 s"));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    let calls = api_calls.borrow().clone();
    assert_eq!(calls[0].path, "/api/v4/account");
    assert_eq!(calls[1].path, "/api/v4/account", "the same request again");
    assert!(
        calls[1].at - calls[0].at >= 990.0,
        "waited {} ms",
        calls[1].at - calls[0].at
    );
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("1"));
    assert!(m.text(&sel(API_LEADS)).contains("5 in total"));
}

#[wasm_bindgen_test]
async fn stop_really_stops_paging() {
    let ns = "t-api-stop:";
    // An account whose leads never end.
    let script: ApiScript = Box::new(|path, n| {
        if path.starts_with("/api/v4/leads?") {
            Ok(json_answer(200, leads_page(250)))
        } else {
            kommo_api(200, vec![])(path, n)
        }
    });
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    let leads_calls = || {
        api_calls
            .borrow()
            .iter()
            .filter(|c| c.path.starts_with("/api/v4/leads?"))
            .count()
    };
    until("paging", || leads_calls() >= 2 && m.has(&sel(LEADS_STOP))).await;
    assert!(
        m.attr(&sel(LEADS_PROGRESS), "value").is_none(),
        "indeterminate while paging"
    );
    m.click(&sel(LEADS_STOP));
    let at_stop = api_calls.borrow().len();
    // Several pacing intervals later, nothing more was asked.
    sleep(800).await;
    assert_eq!(api_calls.borrow().len(), at_stop, "no request after Stop");
    assert_eq!(
        m.attr(&sel(API_LEADS), "data-state").as_deref(),
        Some("stopped")
    );
    assert!(m.text(&sel(API_LEADS)).contains("stopped"));
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
    assert!(m.text(&sel(API_SUMMARY)).contains("Stopped"));
    assert!(!m.has(&sel(LEADS_STOP)));
    assert!(
        m.attr(&sel(API_CHECK), "disabled").is_none(),
        "can check again"
    );
    // Stop and check again at once: the new check still keeps its distance from the last request.
    m.click(&sel(API_CHECK));
    until("paging again", || {
        leads_calls() >= 4 && m.has(&sel(LEADS_STOP))
    })
    .await;
    // Stop just after a request went out.
    let m0 = api_calls.borrow().len();
    until("a request", || api_calls.borrow().len() > m0).await;
    m.click(&sel(LEADS_STOP));
    let n = api_calls.borrow().len();
    until("enabled", || m.attr(&sel(API_CHECK), "disabled").is_none()).await;
    m.click(&sel(API_CHECK));
    until("the new check's first request", || {
        api_calls.borrow().len() > n
    })
    .await;
    let calls = api_calls.borrow().clone();
    assert_eq!(calls[n].path, "/api/v4/account");
    let gap = calls[n].at - calls[n - 1].at;
    assert!(
        gap >= 1000.0 / 7.0,
        "only {gap} ms after the stopped check's last request"
    );
}

#[wasm_bindgen_test]
async fn a_refused_token_stops_the_check_after_the_account() {
    let ns = "t-api-401:";
    let script: ApiScript = Box::new(|_, _| {
        Ok(ApiAnswer {
            status: 401,
            body: r#"{"title":"Unauthorized","type":"https://httpstatus.es/401","status":401,"detail":"Token has been revoked"}"#.into(),
            content_type: Some("application/problem+json".into()),
            retry_after: None,
        })
    });
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(api_calls.borrow().len(), 1);
    assert!(m.text(&sel(API_ACCOUNT)).contains("Token has been revoked"));
    assert_eq!(
        m.attr(&sel(API_LEADS), "data-state").as_deref(),
        Some("skipped")
    );
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
}

/// Any user may read `/api/v4/account`, so a 403 there is Kommo blocking the proxy's IP: the check stops at once
/// (asking more would prolong the block) and says so in both languages — never "needs an admin".
#[wasm_bindgen_test]
async fn an_account_403_means_the_ip_is_blocked_and_stops_the_check() {
    let ns = "t-api-blocked:";
    let script = kommo_api_blocking(vec![3], |path| path == "/api/v4/account");
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(api_calls.borrow().len(), 1, "nothing after the 403");
    assert_eq!(
        m.attr(&sel(API_ACCOUNT), "data-state").as_deref(),
        Some("blocked")
    );
    let text = m.text(&sel(API_ACCOUNT));
    assert!(
        text.contains("blocked the proxy's IP") && text.contains("do not retry in a loop"),
        "{text}"
    );
    for part in [API_USERS, API_PIPELINES, API_LEADS] {
        assert_eq!(
            m.attr(&sel(part), "data-state").as_deref(),
            Some("skipped"),
            "{part}"
        );
    }
    assert!(!m.text(&sel(API_USERS)).contains("admin"));
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
    set_lang(&m, "ru").await;
    until("russian", || {
        m.text(&sel(API_ACCOUNT))
            .contains("заблокировал IP-адрес прокси")
    })
    .await;
    assert!(m.text(&sel(API_ACCOUNT)).contains("не повторяйте в цикле"));

    // "Needs an admin" only once the account was read: after a failed account, a 403 on users is a failure.
    drop(m);
    let ns = "t-api-users-403-no-account:";
    let rest = kommo_api(403, vec![3]);
    let script: ApiScript = Box::new(move |path, n| {
        if path == "/api/v4/account" {
            return Ok(status(500));
        }
        rest(path, n)
    });
    let (m, _) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(
        m.attr(&sel(API_ACCOUNT), "data-state").as_deref(),
        Some("failed")
    );
    assert_eq!(
        m.attr(&sel(API_USERS), "data-state").as_deref(),
        Some("failed")
    );
}

#[wasm_bindgen_test]
async fn a_403_on_pipelines_or_leads_is_the_ip_block_and_a_silent_proxy_is_named_in_the_pages_language(
) {
    // Pipelines are readable by any user: a 403 there is the IP block, and no lead page is asked for.
    let ns = "t-api-pipelines-403:";
    let script = kommo_api_blocking(vec![3], |path| path == "/api/v4/leads/pipelines");
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(
        api_calls.borrow().len(),
        3,
        "account, users, pipelines; no leads"
    );
    assert_eq!(m.attr(&sel(API_USERS), "data-state").as_deref(), Some("ok"));
    assert_eq!(
        m.attr(&sel(API_PIPELINES), "data-state").as_deref(),
        Some("blocked")
    );
    assert!(m
        .text(&sel(API_PIPELINES))
        .contains("blocked the proxy's IP"));
    assert_eq!(
        m.attr(&sel(API_LEADS), "data-state").as_deref(),
        Some("skipped")
    );
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
    drop(m);

    // A 403 on the second lead page (after many requests) is the block too, not a generic failure.
    let ns = "t-api-leads-403:";
    let script = kommo_api_blocking(vec![250, 250, 12], |path| path.ends_with("&page=2"));
    let (m, api_calls) = exchanged_with_api(ns, script).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    assert_eq!(
        api_calls.borrow().len(),
        5,
        "account, users, pipelines, leads pages 1 and 2"
    );
    assert_eq!(
        m.attr(&sel(API_LEADS), "data-state").as_deref(),
        Some("blocked")
    );
    assert!(m.text(&sel(API_LEADS)).contains("do not retry in a loop"));
    assert_eq!(m.attr(&sel(API_SUMMARY), "data-ok").as_deref(), Some("0"));
    drop(m);

    // The proxy stops answering mid-check: the line says so in the page's language, with the proxy's address.
    let ns = "t-api-no-proxy-ru:";
    let script: ApiScript = Box::new(move |_, _| {
        Err(ApiError::ProxyUnreachable {
            url: "http://127.0.0.1:9/api".into(),
        })
    });
    let (m, _) = exchanged_with_api(ns, script).await;
    set_lang(&m, "ru").await;
    until("russian", || m.text(&sel(API_CHECK)).contains("Проверить")).await;
    m.click(&sel(API_CHECK));
    until("summary", || m.has(&sel(API_SUMMARY))).await;
    let text = m.text(&sel(API_ACCOUNT));
    assert!(
        text.contains("прокси по адресу http://127.0.0.1:9/api не отвечает"),
        "{text}"
    );
    assert!(!text.contains("could not reach"), "English leaked: {text}");
    // Switching back re-words the failure and the log entry: they are kept as data, not as Russian text.
    set_lang(&m, "en").await;
    until("english", || m.text(&sel(API_CHECK)).contains("Check")).await;
    let text = m.text(&sel(API_ACCOUNT));
    assert!(
        text.contains("could not reach the proxy at http://127.0.0.1:9/api"),
        "{text}"
    );
    let log = m.text(".api-log-entry .log-answer");
    assert!(log.contains("could not reach the proxy"), "{log}");
    assert!(!log.contains("прокси"), "Russian left in the log: {log}");
}
