//! "Already have a token?": the two ways in that skip consent and exchange — a private integration's long-lived
//! token, or a refresh token saved earlier (refreshed with the setup above).

use leptos::prelude::*;

use crate::i18n::fill;
use crate::ids;
use crate::state::kept::{parse_pasted_host, parse_pasted_token};
use crate::views::refresh::refresh_problem;
use crate::views::widgets::{field_error, invalid};
use crate::{browser, use_ctx, RefreshFrom};

/// The card with both forms. What is typed lives in [`crate::Ctx`] (a language switch re-renders this card); the
/// errors are worded at render time from it, one under each field, after the form was sent once.
#[component]
pub fn HaveToken() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let long_lived = ctx.kept.long_lived;
    let pasted = ctx.refresh.pasted;

    let ll_token_error = field_error(
        long_lived.token,
        long_lived.tried,
        not_token,
        t.long_lived_token_needed,
    );
    let ll_host_error = field_error(
        long_lived.host,
        long_lived.tried,
        not_host,
        t.pasted_host_invalid,
    );
    let on_long_lived = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ok = ctx
            .use_long_lived(
                &long_lived.token.get_untracked(),
                &long_lived.host.get_untracked(),
            )
            .is_ok();
        long_lived.tried.set(!ok);
        if ok {
            long_lived.token.set(String::new());
            request_animation_frame(|| {
                browser::scroll_to_id(ids::RESULT);
                browser::focus_id(ids::RESULT_H);
            });
        }
    };

    let rt_token_error = field_error(
        pasted.token,
        pasted.tried,
        not_token,
        t.later().refresh_token_needed,
    );
    let rt_host_error = field_error(pasted.host, pasted.tried, not_host, t.pasted_host_invalid);
    let rt_in_flight = move || {
        ctx.refresh
            .last
            .with(|r| r.in_flight && r.from == RefreshFrom::Pasted)
    };
    let on_refresh = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let token = parse_pasted_token(&pasted.token.get_untracked());
        let host = parse_pasted_host(&pasted.host.get_untracked());
        pasted.tried.set(token.is_none() || host.is_none());
        if let (Some(token), Some(host)) = (token, host) {
            ctx.refresh_tokens(RefreshFrom::Pasted, host.as_str(), &token);
        }
    };
    let with_setup = move || {
        let id = ctx.client_id().unwrap_or_else(|_| "—".to_string());
        let redirect = ctx.setup.fields.with(|s| s.redirect_uri.trim().to_string());
        fill(t.later().paste_refresh_uses, &[&id, &redirect])
    };
    // One closure type for every field (each distinct closure costs wasm bytes).
    let value = |s: RwSignal<String>| move || s.get();
    let input = |s: RwSignal<String>| move |ev: leptos::ev::Event| s.set(event_target_value(&ev));

    view! {
        <section id=ids::HAVE_TOKEN class="card" aria-labelledby=ids::HAVE_TOKEN_H>
            <h2 id=ids::HAVE_TOKEN_H>{t.later().have_token_title}</h2>
            <p class="lead">{t.later().have_token_intro}</p>
            <form on:submit=on_long_lived novalidate>
                <h3>{t.later().long_lived_title}</h3>
                <p id=ids::LONG_LIVED_HELP class="help">{t.later().long_lived_help}</p>
                <div class="field">
                    <label for=ids::LONG_LIVED_TOKEN>{t.later().long_lived_token}</label>
                    <textarea
                        id=ids::LONG_LIVED_TOKEN
                        class="mono"
                        rows="3"
                        spellcheck="false"
                        autocomplete="off"
                        aria-describedby=ids::LONG_LIVED_TOKEN_DESCRIBED_BY
                        aria-invalid=invalid(ll_token_error)
                        prop:value=value(long_lived.token)
                        on:input=input(long_lived.token)
                    ></textarea>
                    <p id=ids::LONG_LIVED_TOKEN_ERROR class="error" aria-live="polite">{ll_token_error}</p>
                </div>
                <div class="field">
                    <label for=ids::LONG_LIVED_HOST>{t.later().long_lived_host}</label>
                    <input
                        id=ids::LONG_LIVED_HOST
                        class="mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="yourcompany.kommo.com"
                        aria-describedby=ids::LONG_LIVED_HOST_DESCRIBED_BY
                        aria-invalid=invalid(ll_host_error)
                        prop:value=value(long_lived.host)
                        on:input=input(long_lived.host)
                    />
                    <p id=ids::LONG_LIVED_HOST_HELP class="help">{t.later().account_host_help}</p>
                    <p id=ids::LONG_LIVED_HOST_ERROR class="error" aria-live="polite">{ll_host_error}</p>
                </div>
                <div class="actions">
                    <button type="submit" id=ids::USE_LONG_LIVED class="btn">{t.later().use_long_lived}</button>
                </div>
            </form>
            <form on:submit=on_refresh novalidate>
                <h3>{t.later().paste_refresh_title}</h3>
                <p id=ids::PASTE_REFRESH_HELP class="help">{with_setup}</p>
                <div class="field">
                    <label for=ids::PASTE_REFRESH_TOKEN>{t.later().saved_refresh_token}</label>
                    <textarea
                        id=ids::PASTE_REFRESH_TOKEN
                        class="mono"
                        rows="3"
                        spellcheck="false"
                        autocomplete="off"
                        aria-describedby=ids::PASTE_REFRESH_TOKEN_DESCRIBED_BY
                        aria-invalid=invalid(rt_token_error)
                        prop:value=value(pasted.token)
                        on:input=input(pasted.token)
                    ></textarea>
                    <p id=ids::PASTE_REFRESH_TOKEN_ERROR class="error" aria-live="polite">{rt_token_error}</p>
                </div>
                <div class="field">
                    <label for=ids::REFRESH_HOST>{t.later().refresh_host}</label>
                    <input
                        id=ids::REFRESH_HOST
                        class="mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="yourcompany.kommo.com"
                        aria-describedby=ids::REFRESH_HOST_DESCRIBED_BY
                        aria-invalid=invalid(rt_host_error)
                        prop:value=value(pasted.host)
                        on:input=input(pasted.host)
                    />
                    <p id=ids::REFRESH_HOST_HELP class="help">{t.later().account_host_help}</p>
                    <p id=ids::REFRESH_HOST_ERROR class="error" aria-live="polite">{rt_host_error}</p>
                </div>
                <div class="live" aria-live="assertive">{refresh_problem(ctx, RefreshFrom::Pasted)}</div>
                <div class="actions">
                    <button
                        type="submit"
                        id=ids::USE_REFRESH_TOKEN
                        class="btn"
                        disabled=rt_in_flight
                        aria-busy=move || rt_in_flight().to_string()
                    >
                        {move || if rt_in_flight() { t.later().refreshing } else { t.later().use_refresh_token }}
                    </button>
                </div>
            </form>
        </section>
    }
    .into_any()
}

fn not_token(v: &str) -> bool {
    parse_pasted_token(v).is_none()
}

fn not_host(v: &str) -> bool {
    parse_pasted_host(v).is_none()
}
