//! Mounting the page, waiting for it, reading and driving it as a user does, and the storage namespaces each test
//! keeps to itself (`t-<name>:`).

use std::cell::RefCell;
use std::rc::Rc;

use kommo_oauth_helper::ids::*;
use kommo_oauth_helper::{Api, ApiError, AppConfig, AppWith, Store};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

use crate::fake_proxy::{full_token, health, ok_answer, pair, ApiCall, ApiScript, Call, FakeApi};

/// The `state` this tab sent to the consent page.
pub const STATE: &str = "0123456789abcdef0123456789abcdef";
/// A `state` this tab never sent.
pub const OTHER_STATE: &str = "ffffffffffffffffffffffffffffffff";
/// The integration's ID in Setup.
pub const CLIENT_ID: &str = "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e";
/// The code Kommo sends back.
pub const CODE: &str = "def50200c0de";
/// The account host in the return's `referer`.
pub const HOST: &str = "kwid.kommo.com";

pub fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

pub fn session() -> web_sys::Storage {
    window().session_storage().unwrap().unwrap()
}

pub fn local() -> web_sys::Storage {
    window().local_storage().unwrap().unwrap()
}

/// Start from a clean address and a clean namespace, in English.
pub fn fresh(ns: &str, url: &str) {
    Store::new(ns).clear_all();
    local().set_item(&format!("{ns}lang"), "en").unwrap();
    at_url(url);
}

/// Put `url` (a query and/or fragment) after the test page's path, keeping what storage holds: the same tab
/// navigating to that address.
pub fn at_url(url: &str) {
    let path = window().location().pathname().unwrap();
    window()
        .history()
        .unwrap()
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{url}")),
        )
        .unwrap();
}

/// A valid setup in sessionStorage, as the page keeps it.
pub fn store_setup(ns: &str) {
    keep_setup(
        ns,
        serde_json::json!({
            "service": "kommo", "consent_base": "", "client_id": CLIENT_ID,
            "redirect_uri": "https://helper.example/", "proxy": "", "prefix": "KOMMO_TEST_", "demo": false
        }),
    );
}

/// This setup in sessionStorage, where the page keeps it.
pub fn keep_setup(ns: &str, setup: serde_json::Value) {
    session()
        .set_item(&format!("{ns}setup"), &setup.to_string())
        .unwrap();
}

/// A valid setup and this tab's pending consent `state`, as the page keeps them before leaving for consent.
pub fn setup_pending(ns: &str) {
    store_setup(ns);
    session().set_item(&format!("{ns}state"), STATE).unwrap();
}

/// A clean tab (see [`fresh`]) holding a valid setup: consent is the next step.
pub fn set_up(ns: &str) {
    fresh(ns, "");
    store_setup(ns);
}

/// A clean tab that has left for consent: it holds a valid setup and its pending `state`.
pub fn awaiting_return(ns: &str) {
    fresh(ns, "");
    setup_pending(ns);
}

/// Back from consent in the tab that started it: a code for kwid.kommo.com with this tab's `state`.
pub fn code_returned(ns: &str) {
    fresh(
        ns,
        &format!("?code={CODE}&state={STATE}&referer=kwid.kommo.com"),
    );
    setup_pending(ns);
}

/// The CSS selector of the element with this id (one of [`ids`]).
pub fn sel(id: &str) -> String {
    format!("#{id}")
}

pub struct Mounted {
    pub root: HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Mounted {
    pub fn q(&self, sel: &str) -> Option<Element> {
        self.root.query_selector(sel).unwrap()
    }
    pub fn has(&self, sel: &str) -> bool {
        self.q(sel).is_some()
    }
    pub fn text(&self, sel: &str) -> String {
        self.q(sel)
            .unwrap_or_else(|| panic!("{sel} not found"))
            .text_content()
            .unwrap_or_default()
    }
    pub fn attr(&self, sel: &str, name: &str) -> Option<String> {
        self.q(sel)?.get_attribute(name)
    }
    pub fn input(&self, sel: &str) -> HtmlInputElement {
        self.q(sel)
            .unwrap_or_else(|| panic!("{sel} not found"))
            .unchecked_into()
    }
    pub fn click(&self, sel: &str) {
        self.q(sel)
            .unwrap_or_else(|| panic!("{sel} not found"))
            .unchecked_into::<HtmlElement>()
            .click();
    }
    /// Type into an input or textarea the way a user does (value + `input` event).
    pub fn type_into(&self, sel: &str, value: &str) {
        let el = self.q(sel).unwrap_or_else(|| panic!("{sel} not found"));
        if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
            t.set_value(value);
        } else {
            el.unchecked_ref::<HtmlInputElement>().set_value(value);
        }
        let ev = web_sys::Event::new("input").unwrap();
        el.dispatch_event(&ev).unwrap();
    }
    pub fn tick_box(&self, sel: &str, on: bool) {
        let input = self.input(sel);
        input.set_checked(on);
        input
            .dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
    }
}

/// The value of an input or textarea.
pub fn value_of(m: &Mounted, sel: &str) -> String {
    let el = m.q(sel).unwrap_or_else(|| panic!("{sel} not found"));
    match el.dyn_ref::<HtmlTextAreaElement>() {
        Some(t) => t.value(),
        None => el.unchecked_into::<HtmlInputElement>().value(),
    }
}

/// Make the browser's `confirm()` answer `yes` without a dialog; the returned cell collects the questions asked.
pub fn answer_confirm(yes: bool) -> Rc<RefCell<Vec<String>>> {
    let asked = Rc::new(RefCell::new(Vec::new()));
    let log = asked.clone();
    let f = wasm_bindgen::closure::Closure::<dyn Fn(String) -> bool>::new(move |q: String| {
        log.borrow_mut().push(q);
        yes
    });
    js_sys::Reflect::set(&window(), &"confirm".into(), f.as_ref()).unwrap();
    f.forget();
    asked
}

pub fn mount(ns: &str, api: Rc<dyn Api>) -> Mounted {
    let doc = window().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    let store = Store::new(ns);
    let handle = leptos::mount::mount_to(
        root.clone(),
        move || view! { <AppWith config=AppConfig { api, store } /> },
    );
    Mounted {
        root,
        _handle: Box::new(handle),
    }
}

pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Wait until a condition holds (polling, with a generous limit).
pub async fn until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..300 {
        leptos::task::tick().await;
        if cond() {
            return;
        }
        sleep(10).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Wait until Setup's proxy status line says `state` (`checking`, `ok`, `missing`, …).
pub async fn until_proxy(m: &Mounted, state: &str) {
    until(&format!("the proxy status {state}"), || {
        m.attr(&sel(PROXY_STATUS), "data-state").as_deref() == Some(state)
    })
    .await;
}

/// Wait until the keyboard focus is on the element with this id.
pub async fn until_focused(id: &str) {
    until(&format!("focus on #{id}"), || {
        window()
            .document()
            .unwrap()
            .active_element()
            .map(|e| e.id())
            .as_deref()
            == Some(id)
    })
    .await;
}

/// Mount with this fake proxy and wait until the page is whole.
pub async fn mounted(ns: &str, api: Rc<dyn Api>) -> Mounted {
    let m = mount(ns, api);
    ready(&m).await;
    m
}

/// Mount with a fake proxy whose `/healthz` answers (holding the secret or not) and whose token requests get
/// [`ok_answer`], and wait until the page is whole; returns the page and the token requests the proxy saw.
pub async fn mount_with_proxy(ns: &str, holds_secret: bool) -> (Mounted, Rc<RefCell<Vec<Call>>>) {
    let (api, calls) = FakeApi::new(Some(health(holds_secret)), ok_answer());
    (mounted(ns, api).await, calls)
}

/// Mount with a fake proxy that is not asked about (no health; any token request would succeed) and wait until the
/// page is whole: for tests about setup, links and storage.
pub async fn mount_ready(ns: &str) -> Mounted {
    let (api, _) = FakeApi::new(None, ok_answer());
    mounted(ns, api).await
}

pub async fn ready(m: &Mounted) {
    until("data-ready", || {
        m.attr(&sel(APP), "data-ready").as_deref() == Some("1")
    })
    .await;
}

/// Exchange a code for `HOST` through a fake proxy that holds the secret; returns the mounted page at the result.
pub async fn exchanged(ns: &str, api: Rc<FakeApi>) -> Mounted {
    fresh(ns, &format!("?code={CODE}&state={STATE}&referer={HOST}"));
    setup_pending(ns);
    let m = mounted(ns, api).await;
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    m
}

/// [`exchanged`] with a token for user 7 valid for a day, the proxy's Kommo API answering from `script`; returns
/// the page at the result and the API calls the proxy saw.
pub async fn exchanged_with_api(
    ns: &str,
    script: ApiScript,
) -> (Mounted, Rc<RefCell<Vec<ApiCall>>>) {
    let (api, _, api_calls) = FakeApi::full(
        Some(health(true)),
        vec![pair(&full_token(now_secs() + 86400, "7"), "r")],
        script,
    );
    (exchanged(ns, api).await, api_calls)
}

/// Exchange through a proxy that answers with its own error `refusal`, in the page language `lang`.
pub async fn refused_by_proxy(ns: &str, lang: &str, refusal: kommo::ProxyError) -> Mounted {
    fresh(ns, &format!("?code={CODE}&state={STATE}&referer={HOST}"));
    local().set_item(&format!("{ns}lang"), lang).unwrap();
    setup_pending(ns);
    let (api, _) = FakeApi::new(Some(health(true)), Err(ApiError::Proxy(refusal)));
    let m = mounted(ns, api).await;
    m.click(&sel(EXCHANGE));
    until("proxy error", || m.has(&sel(PROXY_ERROR))).await;
    m
}

/// Switch the page's language with its select, as a user does, and wait for the re-render.
pub async fn set_lang(m: &Mounted, code: &str) {
    let select: web_sys::HtmlSelectElement = m.q(&sel(LANG)).unwrap().unchecked_into();
    select.set_value(code);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    let h1 = if code == "ru" {
        "Помощник"
    } else {
        "Kommo OAuth Helper"
    };
    until("the language switch", || m.text("h1").contains(h1)).await;
}

pub fn current_step(m: &Mounted) -> String {
    m.q("[aria-current=\"step\"]")
        .and_then(|e| e.get_attribute("data-step"))
        .unwrap_or_default()
}

/// Every key and value of one namespace, in both storage areas.
pub fn all_storage_values(ns: &str) -> String {
    let mut out = String::new();
    for s in [session(), local()] {
        for i in 0..s.length().unwrap() {
            let k = s.key(i).unwrap().unwrap();
            if !k.starts_with(ns) {
                continue;
            }
            out.push_str(&k);
            out.push('=');
            out.push_str(&s.get_item(&k).unwrap().unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
