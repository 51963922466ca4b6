//! Thin wrappers over the browser APIs the page uses. Everything here degrades to a harmless default when an API
//! is missing (a locked-down browser, a test page), so the components never have to unwrap.

use js_sys::{Object, Reflect};
use kommo::callback::RETURN_PARAMS;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Window;

pub fn window() -> Window {
    web_sys::window().expect("the page runs in a window")
}

/// `location.origin`, e.g. `https://helper.example`.
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// `location.search` including the `?`, or empty.
pub fn search() -> String {
    window().location().search().unwrap_or_default()
}

/// `location.hash` including the `#`, or empty.
pub fn hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// This page's address without query and fragment: the default redirect URI.
pub fn page_url() -> String {
    let loc = window().location();
    format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    )
}

/// Replace the address bar's URL without a navigation (removes a read code from history).
pub fn replace_url(url: &str) {
    if let Ok(h) = window().history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(url));
    }
}

/// Remove the query from the address bar, keeping path and fragment.
pub fn strip_query() {
    replace_path_and(window().location().hash());
}

/// Remove the fragment from the address bar, keeping path and query.
pub fn strip_fragment() {
    replace_path_and(window().location().search());
}

/// The address bar becomes this page's path followed by `tail` (a `location.hash` or `location.search`).
fn replace_path_and(tail: Result<String, JsValue>) {
    let path = window().location().pathname().unwrap_or_default();
    replace_url(&format!("{path}{}", tail.unwrap_or_default()));
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// 16 bytes from `crypto.getRandomValues`. `None` when the browser has no crypto (then no state is made and the
/// page refuses to start consent rather than use a weak one).
pub fn random_16() -> Option<[u8; 16]> {
    let crypto = window().crypto().ok()?;
    let mut bytes = [0u8; 16];
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(bytes)
}

/// `navigator.language`.
pub fn browser_language() -> String {
    window().navigator().language().unwrap_or_default()
}

/// A point in time as local `YYYY-MM-DD HH:MM (UTC±hh:mm)`.
pub fn local_time(ms: f64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms));
    let offset = -(d.get_timezone_offset() as i32);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.abs();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} (UTC{}{:02}:{:02})",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        sign,
        off / 60,
        off % 60
    )
}

/// Copy text with the asynchronous clipboard API. `false` when it is missing or refused.
pub async fn copy_text(text: &str) -> bool {
    let clipboard = window().navigator().clipboard();
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
}

/// Parse an absolute URL with the browser's URL API: `(protocol, hostname, origin)`.
pub fn parse_url(s: &str) -> Option<(String, String, String)> {
    let u = web_sys::Url::new(s).ok()?;
    Some((u.protocol(), u.hostname(), u.origin()))
}

/// The origin of `url` when it is a URL on another origin than this page's.
pub fn foreign_origin(url: &str) -> Option<String> {
    let (_, _, origin) = parse_url(url)?;
    (origin != self::origin()).then_some(origin)
}

/// Go to a URL in this tab.
pub fn navigate(url: &str) {
    let _ = window().location().assign(url);
}

/// Open a popup; `None` when the browser blocked it.
pub fn open_popup(url: &str) -> Option<Window> {
    window()
        .open_with_url_and_target_and_features(url, "kommo_consent", "popup,width=560,height=720")
        .ok()
        .flatten()
}

/// The window that opened this one, when there is one and it shows a page of this same origin.
pub fn same_origin_opener() -> Option<Window> {
    let opener = window().opener().ok()?;
    if opener.is_null() || opener.is_undefined() {
        return None;
    }
    let opener: Window = opener.unchecked_into();
    // Reading a cross-origin window's location throws; that is the test.
    let theirs = opener.location().origin().ok()?;
    (theirs == origin()).then_some(opener)
}

/// What a popup's message to its opener says it is; its fields are [`RETURN_PARAMS`].
pub const MESSAGE_KIND: &str = "kommo-oauth-helper/return";

/// Post `{kind, code, state, referer, client_id, from_widget, error}` (values from the query, missing ones
/// `null`) to `target`, restricted to this page's own origin.
pub fn post_return(target: &Window, query: &str) -> bool {
    let msg = Object::new();
    let _ = Reflect::set(&msg, &"kind".into(), &MESSAGE_KIND.into());
    let q = query.strip_prefix('?').unwrap_or(query);
    for field in RETURN_PARAMS {
        let value = form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == field)
            .map(|(_, v)| JsValue::from_str(&v))
            .unwrap_or(JsValue::NULL);
        let _ = Reflect::set(&msg, &field.into(), &value);
    }
    target.post_message(&msg, &origin()).is_ok()
}

/// Read a posted return back into a query string, or `None` if the message is not one of ours.
pub fn message_to_query(data: &JsValue) -> Option<String> {
    let kind = Reflect::get(data, &"kind".into()).ok()?.as_string()?;
    if kind != MESSAGE_KIND {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for field in RETURN_PARAMS {
        if let Some(v) = Reflect::get(data, &field.into())
            .ok()
            .and_then(|v| v.as_string())
        {
            out.append_pair(field, &v);
        }
    }
    Some(format!("?{}", out.finish()))
}

/// Close this window (works for popups the page opened).
pub fn close_self() {
    let _ = window().close();
}

/// [`focus_id`] after the next frame, for an element the current change is about to render.
pub fn focus_later(id: &'static str) {
    leptos::prelude::request_animation_frame(move || focus_id(id));
}

/// Ask the user to confirm (the browser's own dialog); `false` if it cannot be shown.
pub fn confirm(message: &str) -> bool {
    window().confirm_with_message(message).unwrap_or(false)
}

/// Move keyboard focus to an element by id (without scrolling it away from view).
pub fn focus_id(id: &str) {
    if let Some(el) = window().document().and_then(|d| d.get_element_by_id(id)) {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// Smoothly scroll an element by id into view.
pub fn scroll_to_id(id: &str) {
    if let Some(el) = window().document().and_then(|d| d.get_element_by_id(id)) {
        let opts = web_sys::ScrollIntoViewOptions::new();
        opts.set_behavior(web_sys::ScrollBehavior::Smooth);
        opts.set_block(web_sys::ScrollLogicalPosition::Start);
        el.scroll_into_view_with_scroll_into_view_options(&opts);
    }
}

/// Copy through a temporary off-screen textarea and `execCommand("copy")` (browsers without the clipboard API
/// or without permission). Focus goes back to where it was.
pub fn copy_text_fallback(text: &str) -> bool {
    let Some(doc) = window().document() else {
        return false;
    };
    let Some(body) = doc.body() else { return false };
    let previous = doc.active_element();
    let Ok(el) = doc.create_element("textarea") else {
        return false;
    };
    let area: web_sys::HtmlTextAreaElement = el.unchecked_into();
    area.set_value(text);
    let _ = area.set_attribute("readonly", "");
    // A class, not a style attribute: the page's CSP (`style-src 'self'`) refuses inline styles.
    area.set_class_name("offscreen-copy");
    let _ = body.append_child(&area);
    area.select();
    let ok = doc
        .unchecked_ref::<web_sys::HtmlDocument>()
        .exec_command("copy")
        .unwrap_or(false);
    area.remove();
    if let Some(p) = previous.and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = p.focus();
    }
    ok
}

/// How long an object URL made by [`download`] stays valid: the browser reads the Blob after the click returns.
pub const DOWNLOAD_URL_LIFETIME_MS: u64 = 10_000;

/// Save `text` as a file called `name` of type `mime`: a Blob, an object URL, a click on a hidden `<a download>`
/// (removed at once), and the URL revoked [`DOWNLOAD_URL_LIFETIME_MS`] later. False when the browser refused.
pub fn download(name: &str, mime: &str, text: &str) -> bool {
    let Some(doc) = window().document() else {
        return false;
    };
    let Some(body) = doc.body() else { return false };
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return false;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return false;
    };
    let Ok(a) = doc.create_element("a") else {
        return false;
    };
    let _ = a.set_attribute("href", &url);
    let _ = a.set_attribute("download", name);
    let _ = a.set_attribute("hidden", "");
    let _ = body.append_child(&a);
    a.unchecked_ref::<web_sys::HtmlElement>().click();
    a.remove();
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_millis(DOWNLOAD_URL_LIFETIME_MS),
    );
    true
}

/// A future that resolves after `ms` milliseconds (`setTimeout`); no timer crate needed.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.max(0));
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Run `f` in a task of its own once the next frame is painted (a frame callback, then a zero timeout), or at once
/// in a task of its own when the page is hidden (a hidden page paints no frames and runs no frame callbacks). A
/// timeout runs it anyway after [`PAINT_WAIT_LIMIT`] if no frame comes (frames can stop without the page being
/// hidden, e.g. in headless screenshot tools); it runs once either way.
pub fn after_paint(f: impl FnOnce() + 'static) {
    use leptos::prelude::{request_animation_frame, set_timeout};
    let f = std::rc::Rc::new(std::cell::Cell::new(Some(f)));
    let run = move || {
        if let Some(f) = f.take() {
            f()
        }
    };
    let hidden = window().document().is_some_and(|d| d.hidden());
    if hidden {
        set_timeout(run, std::time::Duration::ZERO);
    } else {
        let after_frame = run.clone();
        request_animation_frame(move || set_timeout(after_frame, std::time::Duration::ZERO));
        set_timeout(run, PAINT_WAIT_LIMIT);
    }
}

/// How long [`after_paint`] waits for a frame at most.
pub const PAINT_WAIT_LIMIT: std::time::Duration = std::time::Duration::from_millis(100);
