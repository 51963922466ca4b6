//! Small shared controls.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

use crate::{browser, use_ctx};

/// A "Copy" button with a polite live region that says "Copied" (focus stays on the button).
#[component]
pub fn CopyButton(
    /// The button's id, e.g. `copy-dotenv`.
    id: &'static str,
    /// The text to copy, read when clicked.
    #[prop(into)]
    text: Signal<String>,
    /// What is copied, for screen readers (e.g. ".env block").
    #[prop(optional)]
    what: &'static str,
    /// Greyed out while true (nothing right to copy).
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let t = use_ctx().t_now();
    // 0: nothing to say, 1: copied, 2: failed.
    let status = RwSignal::new(0u8);
    let on_click = move |_| {
        let value = text.get_untracked();
        spawn_local(async move {
            let ok = browser::copy_text(&value).await || browser::copy_text_fallback(&value);
            status.try_set(if ok { 1 } else { 2 });
            set_timeout(move || _ = status.try_set(0), Duration::from_secs(3));
        });
    };
    view! {
        <button
            type="button"
            id=id
            class="btn btn-small"
            disabled=disabled
            aria-label=if what.is_empty() { t.copy.to_string() } else { format!("{} {}", t.copy, what) }
            on:click=on_click
        >
            {t.copy}
        </button>
        <span class="copy-status" role="status" aria-live="polite">
            {move || match status.get() {
                1 => t.copied,
                2 => t.copy_failed,
                _ => "",
            }}
        </span>
    }
}
