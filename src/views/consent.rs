//! Step 2: the consent URL with a fresh `state`, in this tab or in a popup; and, when Kommo sent the user to
//! another address (a Redirect URI that is not this page), that address pasted back.

use leptos::prelude::*;

use kommo::callback::{read_pasted_return, same_redirect, PasteError, PastedReturn};
use kommo::consent::{consent_url, Way};

use crate::i18n::{fill, Tx};
use crate::ids;
use crate::views::widgets::CopyButton;
use crate::{browser, use_ctx, Ctx, Popup};

/// The pasted return address, read and checked against the Redirect URI in Setup; the error in words.
fn read_landed(ctx: Ctx, t: &Tx) -> Result<PastedReturn, String> {
    let pasted = read_pasted_return(&ctx.flow.landed.text.get()).map_err(|e| match e {
        PasteError::Empty => t.landed_empty.to_string(),
        PasteError::NoReturn => t.landed_no_return.to_string(),
    })?;
    let configured = ctx.setup.fields.with(|s| s.redirect_uri.trim().to_string());
    match &pasted.landed {
        Some(l) if !same_redirect(l, &configured) => {
            Err(fill(t.landed_other_redirect, &[l, &configured, l]))
        }
        _ => Ok(pasted),
    }
}

/// The consent step. Both ways use `mode=post_message` (see `kommo::consent::Way`).
#[component]
pub fn ConsentStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let url_for = move |way: Way| -> Option<String> {
        let state = ctx.flow.pending_state.get()?;
        let client_id = ctx.client_id().ok()?;
        ctx.setup_problems()
            .is_empty()
            .then(|| consent_url(&ctx.service(), &client_id, &state, way.mode()))
    };
    let url = Signal::derive(move || url_for(Way::SameTab).unwrap_or_default());
    let custom_host = move || {
        (ctx.setup.fields.with(|s| s.service == "custom") && !ctx.demo())
            .then(|| browser::parse_url(&url.get()).map(|(_, h, _)| h))
            .flatten()
    };
    let go_same_tab = move |_| {
        if ctx.ensure_state().is_none() {
            return;
        }
        if let Some(u) = url_for(Way::SameTab) {
            browser::navigate(&u);
        }
    };
    let go_popup = move |_| {
        if ctx.ensure_state().is_none() {
            return;
        }
        if let Some(u) = url_for(Way::Popup) {
            // The state is already in sessionStorage; the popup gets a copy of it and this tab keeps its own.
            let opened = browser::open_popup(&u);
            ctx.flow.popup.set(if opened.is_some() {
                Popup::Open
            } else {
                Popup::Blocked
            });
            ctx.flow.popup_window.set_value(opened);
        }
    };
    let no_crypto = move || ctx.flow.pending_state.get().is_none();
    // A return read here goes through exactly what a return on load does (state check, set aside if not ours).
    let on_landed = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match read_landed(ctx, t) {
            Ok(pasted) => {
                ctx.flow.landed.text.set(String::new());
                ctx.flow.landed.tried.set(false);
                ctx.accept_return(&pasted.query);
                browser::scroll_to_id(ids::RETURN_PANEL);
            }
            Err(_) => ctx.flow.landed.tried.set(true),
        }
    };
    let landed_error = move || {
        ctx.flow
            .landed
            .tried
            .get()
            .then(|| read_landed(ctx, t).err())
            .flatten()
    };

    view! {
        <section id=ids::CONSENT_SECTION class="card" aria-labelledby=ids::CONSENT_H>
            <h2 id=ids::CONSENT_H><span class="n">"2"</span>{t.step_consent}</h2>
            <p class="lead">
                {move || if ctx.redirect_elsewhere() { t.consent_intro_elsewhere } else { t.consent_intro }}
            </p>
            <Show
                when=move || ctx.setup_problems().is_empty()
                fallback=move || {
                    view! {
                        <div class="note">
                            <p>{t.consent_blocked}</p>
                            <ul>{move || ctx.setup_problems().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                        </div>
                    }
                }
            >
                <Show when=no_crypto>
                    <p class="error" role="alert">{t.no_crypto}</p>
                </Show>
                <div class="field">
                    <span class="label" id=ids::CONSENT_URL_LABEL>{t.consent_url}</span>
                    <div class="row">
                        <code id=ids::CONSENT_URL class="url grow" aria-labelledby=ids::CONSENT_URL_LABEL>{url}</code>
                        <CopyButton id=ids::COPY_CONSENT_URL text=url what=t.consent_url />
                    </div>
                    <p class="help">{t.consent_url_help}</p>
                    {move || custom_host().map(|h| view! { <p class="warn">{fill(t.consent_custom_warn, &[&h])}</p> })}
                </div>
                <Show when=move || {
                    ctx.setup.secret.with(|s| !s.trim().is_empty()) && !ctx.setup.remember.get() && !ctx.secret_held()
                }>
                    <p class="help">{t.secret_not_kept}</p>
                </Show>
                <div class="actions">
                    <button type="button" id=ids::GO_SAME_TAB class="btn btn-primary" disabled=no_crypto on:click=go_same_tab>
                        {t.go_same_tab}
                    </button>
                    <button type="button" id=ids::GO_POPUP class="btn" disabled=no_crypto on:click=go_popup>
                        {t.go_popup}
                    </button>
                </div>
                <div aria-live="polite" class="live">
                    <Show when=move || ctx.flow.popup.get() == Popup::Blocked>
                        <p id=ids::POPUP_BLOCKED class="warn">{t.popup_blocked}</p>
                    </Show>
                    <Show when=move || ctx.flow.popup.get() == Popup::Open>
                        <p id=ids::POPUP_WAITING class="status">{t.popup_waiting}</p>
                    </Show>
                    <Show when=move || ctx.flow.popup.get() == Popup::Closed>
                        <p id=ids::POPUP_CLOSED class="warn">{t.popup_closed}</p>
                    </Show>
                </div>
                <details
                    id=ids::LANDED_DETAILS
                    class="landed"
                    open=move || ctx.redirect_elsewhere() || ctx.flow.landed.text.with(|l| !l.is_empty())
                >
                    <summary>{t.landed_summary}</summary>
                    <form id=ids::LANDED_FORM class="field" novalidate on:submit=on_landed>
                        <label for=ids::LANDED class="label">{t.landed_label}</label>
                        <div class="row">
                            <input
                                id=ids::LANDED
                                class="mono grow"
                                type="text"
                                autocomplete="off"
                                spellcheck="false"
                                aria-describedby=ids::LANDED_DESCRIBED_BY
                                aria-invalid=move || landed_error().is_some().to_string()
                                prop:value=move || ctx.flow.landed.text.get()
                                on:input=move |ev| ctx.flow.landed.text.set(event_target_value(&ev))
                            />
                            <button type="submit" id=ids::LANDED_READ class="btn">{t.landed_read}</button>
                        </div>
                        <p id=ids::LANDED_HELP class="help">{t.landed_help}</p>
                        <p id=ids::LANDED_ERROR class="error" aria-live="polite">{landed_error}</p>
                    </form>
                </details>
            </Show>
        </section>
    }
    .into_any()
}
