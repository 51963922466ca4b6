//! What the app does besides rendering, as plain functions [`crate::AppWith`] calls once: the popup's hand-back,
//! the return on load, persistence, the popup `message` listener, the ticker and the first render in parts. (The
//! proxy's health watch lives with the rest of the health logic, in [`crate::state::health`].)

use std::time::Duration;

use kommo::callback::{looks_like_callback, parse_callback};
use kommo::Lang;
use leptos::prelude::*;

use crate::browser;
use crate::ids;
use crate::state::{now, Ctx, Popup, LAST_PART};
use crate::storage::{keys, Area};

/// Inside the consent popup (`search` is the address's query) with a return for a same-origin opener: post it there, clean the address and close.
/// `Some` is the language to say "done" in (the popup then shows only that).
pub(crate) fn hand_return_to_opener(search: &str) -> Option<Lang> {
    if looks_like_callback(search) && matches!(parse_callback(search), Ok(Some(_))) {
        if let Some(opener) = browser::same_origin_opener() {
            if browser::post_return(&opener, search) {
                browser::strip_query();
                browser::close_self();
                return Some(Lang::from_tag(&browser::browser_language()));
            }
        }
    }
    None
}

/// A return in the address (`search`) is read (and removed from it); with none in hand, any exchange record is stale and
/// consent needs a state.
pub(crate) fn take_return_on_load(ctx: Ctx, search: &str) {
    if looks_like_callback(search) {
        ctx.accept_return(search);
        browser::strip_query();
    }
    if ctx.flow.received.get_untracked().is_none() {
        ctx.forget_exchange();
        ctx.ensure_state();
    }
}

/// Keep the setup (never the secret) for the round trip to Kommo and reloads; the secret only while "remember" is
/// ticked; the page's `lang` attribute in step with the language.
pub(crate) fn persist(ctx: Ctx) {
    Effect::new(move |_| {
        let s = ctx.setup.fields.get();
        ctx.store().set_json(Area::Session, keys::SETUP, &s);
    });
    // The secret reaches localStorage only while "remember" is ticked; unticking deletes it.
    Effect::new(move |_| {
        let secret = ctx.setup.secret.get();
        if ctx.setup.remember.get() && !secret.trim().is_empty() {
            ctx.store().set(Area::Local, keys::SECRET, &secret);
        } else {
            ctx.store().remove(Area::Local, keys::SECRET);
        }
    });
    Effect::new(move |_| {
        let code = ctx.lang.get().code();
        if let Some(el) = browser::window()
            .document()
            .and_then(|d| d.document_element())
        {
            let _ = el.set_attribute("lang", code);
        }
    });
}

/// A return posted by the consent popup: same origin only, handled exactly like a return on load. Once a return is
/// being handled, further messages (a second popup, a race) are ignored until "Start over".
pub(crate) fn listen_for_popup(ctx: Ctx) {
    let listener = window_event_listener(leptos::ev::message, move |ev| {
        if ev.origin() != browser::origin() || ctx.flow.received.with_untracked(|r| r.is_some()) {
            return;
        }
        if let Some(query) = browser::message_to_query(&ev.data()) {
            ctx.flow.popup.set(Popup::Idle);
            ctx.accept_return(&query);
            browser::scroll_to_id(ids::RETURN_PANEL);
        }
    });
    on_cleanup(move || listener.remove());
}

/// Once a second: the clock the countdowns read, and whether the consent popup was closed without a return.
pub(crate) fn tick(ctx: Ctx) {
    let tick = move || {
        ctx.now.set(now());
        let flow = ctx.flow;
        if flow.popup.get_untracked() == Popup::Open
            && flow
                .popup_window
                .with_value(|w| w.as_ref().is_some_and(|w| w.closed().unwrap_or(false)))
        {
            flow.popup_window.set_value(None);
            flow.popup.set(Popup::Closed);
        }
    };
    if let Ok(ticker) = set_interval_with_handle(tick, Duration::from_secs(1)) {
        on_cleanup(move || ticker.clear());
    }
}

/// The rest of the first render, part by part (see [`Ctx::shown`]). The returned signal turns true once the whole
/// page is there (`data-ready`).
pub(crate) fn render_in_parts(ctx: Ctx) -> RwSignal<bool> {
    fn next_part(ctx: Ctx) {
        let part = ctx.parts.get_untracked();
        let next = move || {
            ctx.parts.set(part + 1);
            next_part(ctx);
        };
        match part {
            // Nothing is on screen yet: no frame to wait for.
            0 => set_timeout(next, Duration::ZERO),
            LAST_PART.. => {}
            _ => browser::after_paint(next),
        }
    }
    next_part(ctx);
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        if ctx.parts.get() >= LAST_PART && !ctx.kept.unread.get() {
            ready.set(true);
        }
    });
    ready
}
