//! "Refresh now": `grant_type=refresh_token` through the proxy. The new pair replaces the old one in the result and
//! the env block; the page says plainly that the refresh token rotates.

use leptos::prelude::*;

use kommo::api::refresh_expires_at;

use crate::i18n::fill;
use crate::ids;
use crate::views::widgets::{error_view, ErrorIds};
use crate::{browser, use_ctx, Ctx, KeptKind, RefreshFrom};

/// The refresh error's ids: `#refresh-error[data-hint=…]` for Kommo's refusals, `[data-proxy-error=…]` otherwise.
pub const REFRESH_IDS: ErrorIds = ErrorIds {
    kommo: ids::REFRESH_ERROR,
    cause: ids::REFRESH_CAUSE,
    fix: ids::REFRESH_FIX,
    proxy: ids::REFRESH_ERROR,
};

/// The outcome of the last refresh started from `from`: a message from the page, or the refusal with its raw
/// answer.
pub fn refresh_problem(ctx: Ctx, from: RefreshFrom) -> impl IntoView {
    let t = ctx.t_untracked();
    move || {
        let r = ctx.refresh.last.get();
        if r.from != from {
            return None;
        }
        if let Some(why) = r.blocked {
            return Some(
                view! { <p id=ids::REFRESH_BLOCKED class="warn" role="alert">{why.text(t)}</p> }
                    .into_any(),
            );
        }
        let (e, answer) = r.error?;
        let raw = answer.map(|a| {
            let ct = a
                .content_type
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            format!("HTTP {}{}\n\n{}", a.status, ct, a.body)
        });
        Some(
            view! {
                {error_view(ctx.lang.get(), e, REFRESH_IDS)}
                {raw.map(|r| view! {
                    <details class="raw">
                        <summary>{t.later().raw_answer}</summary>
                        <pre id=ids::REFRESH_RAW>{r}</pre>
                    </details>
                })}
            }
            .into_any(),
        )
    }
}

/// The refresh card (not for long-lived tokens, which have no refresh token).
#[component]
pub fn RefreshStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let kept = Memo::new(move |_| ctx.current());
    let has_refresh =
        move || kept.with(|k| k.as_ref().is_some_and(|k| !k.refresh_token.is_empty()));
    let in_flight = move || {
        ctx.refresh
            .last
            .with(|r| r.in_flight && r.from == RefreshFrom::Result)
    };
    let refreshed_at = move || {
        kept.with(|k| {
            k.as_ref()
                .filter(|k| k.kind == KeptKind::Refreshed)
                .map(|k| browser::local_time(k.at as f64))
        })
    };
    let refresh_expires = move || {
        kept.with(|k| {
            k.as_ref()
                .map(|k| browser::local_time(refresh_expires_at(k.at / 1000) as f64 * 1000.0))
        })
    };
    let on_refresh = move |_| {
        if let Some(k) = kept.get_untracked() {
            ctx.refresh_tokens(RefreshFrom::Result, &k.host, &k.refresh_token);
        }
    };
    view! {
        <Show when=has_refresh>
            <section id=ids::REFRESH_SECTION class="card" aria-labelledby=ids::REFRESH_H>
                <h2 id=ids::REFRESH_H>{t.later().refresh_title}</h2>
                <p class="lead">{move || fill(t.later().refresh_intro, &[&kept.with(|k| k.as_ref().map(|k| k.host.clone()).unwrap_or_default())])}</p>
                <p id=ids::REFRESH_ROTATION>{t.later().refresh_rotation}</p>
                <p>
                    {t.later().refresh_unused_until} " "
                    <strong id=ids::REFRESH_EXPIRES_AT>{refresh_expires}</strong>
                    "."
                </p>
                <div class="live" aria-live="polite">
                    {move || refreshed_at().map(|at| view! {
                        <div id=ids::REFRESH_RESULT class="ok-note" role="status">
                            <p><strong>{fill(t.later().refresh_done, &[&at])}</strong></p>
                            <p>{t.later().refresh_save_now}</p>
                        </div>
                    })}
                </div>
                <div class="live" aria-live="assertive">{refresh_problem(ctx, RefreshFrom::Result)}</div>
                <div class="actions">
                    <button
                        type="button"
                        id=ids::REFRESH
                        class="btn btn-primary"
                        disabled=in_flight
                        aria-busy=move || in_flight().to_string()
                        on:click=on_refresh
                    >
                        {move || if in_flight() { t.later().refreshing } else { t.later().refresh_now }}
                    </button>
                </div>
            </section>
        </Show>
    }
    .into_any()
}
