//! Setup and the shared setup link: what is kept across a reload, what a link may set, the demo.

use wasm_bindgen::JsCast;

use crate::harness::*;
// The integration ID the tests type, not the id of its field (`ids::CLIENT_ID`).
use crate::harness::CLIENT_ID;
use kommo_oauth_helper::ids::{self, *};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn setup_survives_a_remount_and_the_secret_only_with_remember() {
    let ns = "t-inputs:";
    fresh(ns, "");
    let m = mount_ready(ns).await;
    assert_eq!(current_step(&m), "setup");
    m.type_into(
        &sel(ids::CLIENT_ID),
        &format!("  {}  ", CLIENT_ID.to_uppercase()),
    );
    m.type_into(&sel(PREFIX), "my_app_");
    m.type_into(&sel(PROXY_URL), "http://127.0.0.1:8082");
    m.type_into(&sel(SECRET), "s3cr3t-value");
    until("consent step", || current_step(&m) == "consent").await;
    let url = m.text(&sel(CONSENT_URL));
    assert!(
        url.starts_with(&format!(
            "https://www.kommo.com/oauth?client_id={CLIENT_ID}&state="
        )),
        "{url}"
    );
    assert!(url.ends_with("&mode=post_message"));
    let state = session().get_item(&format!("{ns}state")).unwrap().unwrap();
    assert!(url.contains(&state));
    let share = m.text(&sel(SHARE_LINK));
    assert!(
        share.contains("prefix=my_app_") && share.contains("proxy=http%3A%2F%2F127.0.0.1%3A8082"),
        "{share}"
    );
    assert!(!share.contains("s3cr3t"));
    assert!(
        !all_storage_values(ns).contains("s3cr3t-value"),
        "no secret in storage without remember"
    );
    drop(m);

    let m = mount_ready(ns).await;
    assert_eq!(
        m.input(&sel(ids::CLIENT_ID)).value().trim(),
        CLIENT_ID.to_uppercase()
    );
    assert_eq!(m.input(&sel(PREFIX)).value(), "my_app_");
    assert_eq!(m.input(&sel(PROXY_URL)).value(), "http://127.0.0.1:8082");
    assert_eq!(m.input(&sel(SECRET)).value(), "", "the secret is not kept");

    m.type_into(&sel(SECRET), "s3cr3t-value");
    m.tick_box(&sel(REMEMBER_SECRET), true);
    until("remembered", || {
        local().get_item(&format!("{ns}secret")).unwrap().as_deref() == Some("s3cr3t-value")
    })
    .await;
    assert!(!session()
        .get_item(&format!("{ns}setup"))
        .unwrap()
        .unwrap()
        .contains("s3cr3t"));
    drop(m);
    let m = mount_ready(ns).await;
    assert_eq!(m.input(&sel(SECRET)).value(), "s3cr3t-value");
    assert!(m.input(&sel(REMEMBER_SECRET)).checked());
    m.tick_box(&sel(REMEMBER_SECRET), false);
    until("forgotten", || {
        local().get_item(&format!("{ns}secret")).unwrap().is_none()
    })
    .await;
    assert!(!all_storage_values(ns).contains("s3cr3t-value"));
}

#[wasm_bindgen_test]
async fn a_shared_link_prefills_the_demo_and_use_real_leaves_it() {
    let ns = "t-link:";
    fresh(
        ns,
        &format!("#service=custom&consent_base=http%3A%2F%2F127.0.0.1%3A8081&client_id={CLIENT_ID}&demo=1&secret=leak"),
    );
    let m = mount_ready(ns).await;
    assert_eq!(
        window().location().hash().unwrap(),
        "",
        "the setup fragment is taken and removed"
    );
    assert!(m.has(&sel(DEMO_BADGE)));
    // The demo tag is a word of its own for screen readers, not glued to the label.
    assert_eq!(m.text(&format!("label[for='{SERVICE}']")), "Service demo");
    assert_eq!(
        m.q(&sel(SERVICE))
            .unwrap()
            .unchecked_into::<web_sys::HtmlSelectElement>()
            .value(),
        "custom"
    );
    assert_eq!(m.input(&sel(CONSENT_BASE)).value(), "http://127.0.0.1:8081");
    assert_eq!(m.input(&sel(ids::CLIENT_ID)).value(), CLIENT_ID);
    assert_eq!(
        m.input(&sel(SECRET)).value(),
        "",
        "a link never sets the secret"
    );
    assert!(m
        .text(&sel(CONSENT_URL))
        .starts_with("http://127.0.0.1:8081/oauth?client_id="));
    m.click(&sel(USE_REAL));
    until("demo gone", || !m.has(&sel(DEMO_BADGE))).await;
    assert!(!m.has(&sel(USE_REAL)));
    assert_eq!(
        m.q(&sel(SERVICE))
            .unwrap()
            .unchecked_into::<web_sys::HtmlSelectElement>()
            .value(),
        "kommo"
    );
    assert_eq!(m.input(&sel(ids::CLIENT_ID)).value(), "");
    assert!(!m.has(&sel(CONSENT_BASE)));
}

#[wasm_bindgen_test]
async fn a_link_cannot_dress_another_consent_page_as_the_demo() {
    // demo=1 with someone else's consent page: no demo badge, and the "not Kommo's" warning names the host.
    let ns = "t-link-evil:";
    fresh(
        ns,
        &format!("#service=custom&consent_base=https%3A%2F%2Fkommo-login.evil&client_id={CLIENT_ID}&demo=1"),
    );
    let m = mount_ready(ns).await;
    assert!(!m.has(&sel(DEMO_BADGE)));
    assert!(!m.has(&sel(USE_REAL)));
    let warn = m.text(&format!("#{CONSENT_SECTION} .warn"));
    assert!(warn.contains("not Kommo's (kommo-login.evil)"), "{warn}");
    drop(m);

    // The real demo link (the double on this machine) still gets the badge and no warning.
    let ns = "t-link-local:";
    fresh(
        ns,
        &format!("#service=custom&consent_base=http%3A%2F%2Flocalhost%3A8081&client_id={CLIENT_ID}&demo=1"),
    );
    let m = mount_ready(ns).await;
    assert!(m.has(&sel(DEMO_BADGE)));
    assert!(!m.has(&format!("#{CONSENT_SECTION} .warn")));
}

#[wasm_bindgen_test]
async fn a_link_offers_a_proxy_on_another_origin_and_applies_only_on_click() {
    let ns = "t-link-proxy:";
    fresh(
        ns,
        &format!("#client_id={CLIENT_ID}&proxy=https%3A%2F%2Fproxy.evil.example%2Fx"),
    );
    let m = mount_ready(ns).await;
    assert_eq!(m.input(&sel(ids::CLIENT_ID)).value(), CLIENT_ID);
    assert_eq!(
        m.input(&sel(PROXY_URL)).value(),
        "",
        "another origin's proxy is not applied from a link"
    );
    let offer = m.text(&sel(PROXY_OFFER));
    assert!(
        offer.contains("https://proxy.evil.example/x") && offer.contains("not used yet"),
        "{offer}"
    );
    m.click(&sel(PROXY_OFFER_USE));
    until("applied", || {
        m.input(&sel(PROXY_URL)).value() == "https://proxy.evil.example/x"
    })
    .await;
    assert!(!m.has(&sel(PROXY_OFFER)));
    drop(m);

    // The page's own origin is applied at once.
    let ns = "t-link-proxy-own:";
    let own = format!("{}/proxy", window().location().origin().unwrap());
    let encoded: String = form_urlencoded::byte_serialize(own.as_bytes()).collect();
    fresh(ns, &format!("#client_id={CLIENT_ID}&proxy={encoded}"));
    let m = mount_ready(ns).await;
    assert_eq!(m.input(&sel(PROXY_URL)).value(), own);
    assert!(!m.has(&sel(PROXY_OFFER)));
}
