//! "Already have a token?": the two ways in that skip consent and exchange — a private integration's long-lived
//! token, or a refresh token saved earlier (refreshed with the setup above).

use leptos::prelude::*;

use crate::i18n::fill;
use crate::kept::{parse_pasted_host, parse_pasted_token};
use crate::steps::refresh::refresh_problem;
use crate::{browser, use_ctx, RefreshFrom};

/// The card with both forms.
#[component]
pub fn HaveToken() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_now();

    let ll_token = RwSignal::new(String::new());
    let ll_host = RwSignal::new(String::new());
    let ll_error = RwSignal::new(None::<&'static str>);
    let on_long_lived = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match ctx.use_long_lived(&ll_token.get_untracked(), &ll_host.get_untracked()) {
            Ok(()) => {
                ll_error.set(None);
                ll_token.set(String::new());
                request_animation_frame(|| browser::scroll_to_id("result"));
            }
            Err(e) => ll_error.set(Some(e)),
        }
    };

    let rt_token = RwSignal::new(String::new());
    let rt_host = RwSignal::new(String::new());
    let rt_error = RwSignal::new(None::<&'static str>);
    let rt_in_flight = move || {
        ctx.refresh
            .with(|r| r.in_flight && r.from == RefreshFrom::Pasted)
    };
    let on_refresh = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = parse_pasted_token(&rt_token.get_untracked()) else {
            rt_error.set(Some(t.refresh_token_needed));
            return;
        };
        let Some(host) = parse_pasted_host(&rt_host.get_untracked()) else {
            rt_error.set(Some(t.pasted_host_invalid));
            return;
        };
        rt_error.set(None);
        ctx.refresh_tokens(RefreshFrom::Pasted, host.as_str(), &token);
    };
    let with_setup = move || {
        let id = ctx.client_id().unwrap_or_else(|_| "—".to_string());
        let redirect = ctx.setup.with(|s| s.redirect_uri.trim().to_string());
        fill(t.paste_refresh_uses, &[&id, &redirect])
    };

    view! {
        <section id="have-token" class="card" aria-labelledby="have-token-h">
            <h2 id="have-token-h">{t.have_token_title}</h2>
            <p class="lead">{t.have_token_intro}</p>
            <form on:submit=on_long_lived novalidate>
                <h3>{t.long_lived_title}</h3>
                <p class="help">{t.long_lived_help}</p>
                <div class="field">
                    <label for="long-lived-token">{t.long_lived_token}</label>
                    <textarea
                        id="long-lived-token"
                        class="mono"
                        rows="3"
                        spellcheck="false"
                        autocomplete="off"
                        prop:value=move || ll_token.get()
                        on:input=move |ev| ll_token.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <div class="field">
                    <label for="long-lived-host">{t.account_host}</label>
                    <input
                        id="long-lived-host"
                        class="mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="yourcompany.kommo.com"
                        prop:value=move || ll_host.get()
                        on:input=move |ev| ll_host.set(event_target_value(&ev))
                    />
                    <p class="help">{t.account_host_help}</p>
                </div>
                <p id="long-lived-error" class="error" aria-live="polite">{move || ll_error.get()}</p>
                <div class="actions">
                    <button type="submit" id="use-long-lived" class="btn">{t.use_long_lived}</button>
                </div>
            </form>
            <form on:submit=on_refresh novalidate>
                <h3>{t.paste_refresh_title}</h3>
                <p class="help">{with_setup}</p>
                <div class="field">
                    <label for="paste-refresh-token">{t.refresh_token}</label>
                    <textarea
                        id="paste-refresh-token"
                        class="mono"
                        rows="3"
                        spellcheck="false"
                        autocomplete="off"
                        prop:value=move || rt_token.get()
                        on:input=move |ev| rt_token.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <div class="field">
                    <label for="refresh-host">{t.account_host}</label>
                    <input
                        id="refresh-host"
                        class="mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="yourcompany.kommo.com"
                        prop:value=move || rt_host.get()
                        on:input=move |ev| rt_host.set(event_target_value(&ev))
                    />
                </div>
                <p id="paste-refresh-error" class="error" aria-live="polite">{move || rt_error.get()}</p>
                <div class="live" aria-live="assertive">{refresh_problem(ctx, RefreshFrom::Pasted)}</div>
                <div class="actions">
                    <button
                        type="submit"
                        id="use-refresh-token"
                        class="btn"
                        disabled=rt_in_flight
                        aria-busy=move || rt_in_flight().to_string()
                    >
                        {move || if rt_in_flight() { t.refreshing } else { t.use_refresh_token }}
                    </button>
                </div>
            </form>
        </section>
    }
    .into_any()
}
