//! Accessibility: live regions, focus, labels and descriptions.

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::fake_proxy::*;
use crate::harness::*;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn copy_confirms_in_a_live_region_and_keeps_focus() {
    let ns = "t-copy:";
    set_up(ns);
    let m = mount_ready(ns).await;
    let button: HtmlElement = m.q(&sel(COPY_REDIRECT_URI)).unwrap().unchecked_into();
    button.focus().unwrap();
    button.click();
    let status = || {
        m.q(&format!("#{COPY_REDIRECT_URI} + .copy-status"))
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    until("a confirmation", || !status().is_empty()).await;
    // A scripted click carries no user activation, so headless Chrome may refuse the clipboard: then the page
    // must say so instead of pretending.
    assert!(
        [
            "Copied",
            "Could not copy — select the text and press Ctrl+C"
        ]
        .contains(&status().as_str()),
        "{}",
        status()
    );
    assert_eq!(
        m.attr(&format!("#{COPY_REDIRECT_URI} + .copy-status"), "aria-live")
            .as_deref(),
        Some("polite")
    );
    let active = window()
        .document()
        .unwrap()
        .active_element()
        .map(|e| e.id());
    assert_eq!(
        active.as_deref(),
        Some(COPY_REDIRECT_URI),
        "focus stays on the button"
    );
}

/// Each field of "Already have a token?" is described by its help and its error and says when it is invalid, and
/// no two fields on the page share a label (two "Account host", the result's "Refresh token"), in either language.
#[wasm_bindgen_test]
async fn already_have_a_token_fields_are_described_marked_invalid_and_named_apart() {
    let ns = "t-have-a11y:";
    let (api, _, _) = FakeApi::full(
        Some(health(true)),
        vec![pair(&full_token(now_secs() + 86400, "7"), "def50200r")],
        kommo_api(200, vec![]),
    );
    let m = exchanged(ns, api).await;
    assert!(
        m.has(&format!("label[for='{REFRESH_TOKEN}']")),
        "the result's field"
    );
    let fields = [
        LONG_LIVED_TOKEN,
        LONG_LIVED_HOST,
        PASTE_REFRESH_TOKEN,
        REFRESH_HOST,
    ]
    .map(sel);
    for f in &fields {
        let ids = m.attr(f, "aria-describedby").unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        assert_eq!(ids.len(), 2, "{f}: help and error");
        for id in &ids {
            assert!(m.has(&format!("#{id}")), "{f} names #{id}");
        }
        assert!(!m.text(&format!("#{}", ids[0])).is_empty(), "{f}: help");
        assert_eq!(m.attr(f, "aria-invalid").as_deref(), Some("false"), "{f}");
    }
    // Both forms sent empty: each field is invalid and its error (in its description) says why.
    m.click(&sel(USE_LONG_LIVED));
    m.click(&sel(USE_REFRESH_TOKEN));
    until("all invalid", || {
        fields
            .iter()
            .all(|f| m.attr(f, "aria-invalid").as_deref() == Some("true"))
    })
    .await;
    for f in &fields {
        let ids = m.attr(f, "aria-describedby").unwrap();
        let error = ids.split_whitespace().last().unwrap();
        assert!(!m.text(&format!("#{error}")).is_empty(), "{f}: #{error}");
    }
    for lang in ["en", "ru"] {
        set_lang(&m, lang).await;
        let labels = m.root.query_selector_all("label[for]").unwrap();
        let mut names: Vec<String> = (0..labels.length())
            .map(|i| {
                labels
                    .item(i)
                    .unwrap()
                    .text_content()
                    .unwrap()
                    .trim()
                    .to_string()
            })
            .collect();
        let count = names.len();
        assert!(count >= 10, "{names:?}");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "{lang}: a label is repeated: {names:?}");
    }
}
