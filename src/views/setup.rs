//! Step 1: service, integration ID, secret key, redirect URI, proxy, prefix, and a shareable link.

use leptos::prelude::*;

use crate::i18n::fill;
use crate::ids;
use crate::views::widgets::CopyButton;
use crate::{browser, use_ctx, Piece, ProxyHealth, Setup};

/// The setup form. Enter anywhere moves on to consent.
#[component]
pub fn SetupStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let field = move |f: fn(&Setup) -> String| move || ctx.setup.fields.with(f);
    let demo = move || ctx.demo();
    let custom = move || ctx.setup.fields.with(|s| s.service == "custom");
    let show_secret = RwSignal::new(false);
    // Show "not a UUID" only once something was typed; an empty field just keeps consent closed.
    let client_id_error = move || {
        let typed = ctx.setup.fields.with(|s| !s.client_id.trim().is_empty());
        typed.then(|| ctx.client_id_problem()).flatten()
    };
    let cross_origin_proxy = move || {
        let p = ctx.setup.fields.with(|s| s.proxy.trim().to_string());
        if p.is_empty() || ctx.proxy_problem().is_some() {
            return None;
        }
        browser::foreign_origin(&p)
    };
    let share = Signal::derive(move || {
        let link = ctx
            .setup
            .fields
            .with(|s| s.to_link(&ctx.setup.page_url.get_value()));
        format!("{}#{}", ctx.setup.page_url.get_value(), link.to_fragment())
    });
    let redirect = Signal::derive(move || ctx.setup.fields.with(|s| s.redirect_uri.clone()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if ctx.setup_problems().is_empty() && ctx.flow.received.with_untracked(|r| r.is_none()) {
            browser::scroll_to_id(ids::CONSENT_SECTION);
            browser::focus_id(ids::GO_SAME_TAB);
        }
    };
    let proxy_state = move || match ctx.health.get() {
        ProxyHealth::Checking => "checking",
        ProxyHealth::Found(_) => "ok",
        ProxyHealth::Missing => "missing",
    };
    let proxy_text = move || match ctx.health.get() {
        ProxyHealth::Checking => t.proxy_checking.to_string(),
        ProxyHealth::Missing => fill(
            if cross_origin_proxy().is_some() {
                t.proxy_missing_other_origin
            } else {
                t.proxy_missing
            },
            &[&ctx.proxy_base()],
        ),
        ProxyHealth::Found(h) => {
            let mut s = fill(t.proxy_ok, &[&ctx.proxy_base(), &h.version]);
            s.push(' ');
            if ctx.secret_held() {
                s.push_str(t.proxy_holds_this);
            } else if let (true, Some(other)) = (h.holds_secret, h.client_id.as_deref()) {
                // "Another integration" only once there is an integration ID to compare with.
                let mine = ctx.client_id().is_ok();
                s.push_str(&fill(
                    if mine {
                        t.proxy_holds_other
                    } else {
                        t.proxy_holds_some
                    },
                    &[other],
                ));
            } else {
                s.push_str(t.proxy_holds_none);
            }
            s
        }
    };

    view! {
        <section id=ids::SETUP_SECTION class="card" aria-labelledby=ids::SETUP_H>
            <h2 id=ids::SETUP_H><span class="n">"1"</span>{t.step_setup}</h2>
            <p class="lead">{t.setup_intro}</p>
            <form on:submit=on_submit novalidate>
                <div class="field">
                    <label for=ids::SERVICE>
                        {t.service}
                        <Show when=demo>" "<span class="tag">{t.demo_tag}</span></Show>
                    </label>
                    <select
                        id=ids::SERVICE
                        prop:value=field(|s| s.service.clone())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            ctx.setup.fields.update(|s| s.service = v);
                        }
                    >
                        <option value="kommo">{t.service_kommo}</option>
                        <option value="amocrm">{t.service_amocrm}</option>
                        <option value="custom">{t.service_custom}</option>
                    </select>
                </div>
                <Show when=custom>
                    <div class="field">
                        <label for=ids::CONSENT_BASE>{t.consent_base}</label>
                        <input
                            id=ids::CONSENT_BASE
                            type="url"
                            inputmode="url"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="http://127.0.0.1:8081"
                            aria-describedby=ids::CONSENT_BASE_DESCRIBED_BY
                            aria-invalid=move || ctx.consent_base_problem().is_some().to_string()
                            prop:value=field(|s| s.consent_base.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                ctx.setup.fields.update(|s| s.consent_base = v);
                            }
                        />
                        <p id=ids::CONSENT_BASE_HELP class="help">{t.consent_base_help}</p>
                        <p id=ids::CONSENT_BASE_ERROR class="error" aria-live="polite">
                            {move || ctx.consent_base_problem()}
                        </p>
                    </div>
                </Show>
                <div class="field">
                    <label for=ids::CLIENT_ID>
                        {t.client_id}
                        <Show when=demo>" "<span class="tag">{t.demo_tag}</span></Show>
                    </label>
                    <input
                        id=ids::CLIENT_ID
                        class="mono"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="00000000-0000-0000-0000-000000000000"
                        aria-describedby=ids::CLIENT_ID_DESCRIBED_BY
                        aria-invalid=move || client_id_error().is_some().to_string()
                        prop:value=field(|s| s.client_id.clone())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            ctx.setup.fields.update(|s| s.client_id = v);
                        }
                        on:change=move |ev| {
                            let v = event_target_value(&ev).trim().to_string();
                            ctx.setup.fields.update(|s| s.client_id = v);
                        }
                    />
                    <p id=ids::CLIENT_ID_HELP class="help">{t.client_id_help}</p>
                    <p id=ids::CLIENT_ID_ERROR class="error" aria-live="polite">{client_id_error}</p>
                </div>
                <div class="field">
                    <label for=ids::SECRET>{t.secret}</label>
                    <div class="row">
                        <input
                            id=ids::SECRET
                            class="mono grow"
                            type=move || if show_secret.get() { "text" } else { "password" }
                            autocomplete="off"
                            spellcheck="false"
                            aria-describedby=ids::SECRET_HELP
                            prop:value=move || ctx.setup.secret.get()
                            on:input=move |ev| ctx.setup.secret.set(event_target_value(&ev))
                        />
                        <button
                            type="button"
                            id=ids::SECRET_TOGGLE
                            class="btn btn-small"
                            aria-controls=ids::SECRET
                            aria-pressed=move || show_secret.get().to_string()
                            on:click=move |_| show_secret.update(|v| *v = !*v)
                        >
                            {move || if show_secret.get() { t.hide } else { t.show }}
                        </button>
                    </div>
                    <p id=ids::SECRET_HELP class="help">
                        {move || match ctx.health.get() {
                            ProxyHealth::Found(h) if h.holds_for_exchanges_only(ctx.client_id().ok().as_deref()) => t.secret_held_code_only,
                            _ if ctx.secret_held() => t.secret_held,
                            _ => t.secret_help,
                        }}
                    </p>
                    <label class="check">
                        <input
                            type="checkbox"
                            id=ids::REMEMBER_SECRET
                            prop:checked=move || ctx.setup.remember.get()
                            on:change=move |ev| ctx.setup.remember.set(event_target_checked(&ev))
                        />
                        <span>{t.remember_secret}</span>
                    </label>
                </div>
                // The rest renders one task later (`Ctx::shown`).
                <Show when=move || ctx.shown(Piece::SetupRest)>
                    <div class="field">
                        <label for=ids::REDIRECT_URI>{t.redirect_uri}</label>
                        <div class="row">
                            <input
                                id=ids::REDIRECT_URI
                                class="mono grow"
                                type="url"
                                inputmode="url"
                                autocomplete="off"
                                spellcheck="false"
                                aria-describedby=ids::REDIRECT_URI_DESCRIBED_BY
                                aria-invalid=move || ctx.redirect_problem().is_some().to_string()
                                prop:value=field(|s| s.redirect_uri.clone())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    ctx.setup.fields.update(|s| s.redirect_uri = v);
                                }
                            />
                            <CopyButton id=ids::COPY_REDIRECT_URI text=redirect what=t.redirect_uri />
                        </div>
                        <p id=ids::REDIRECT_HELP class="help">{t.redirect_help}</p>
                        <p id=ids::REDIRECT_ERROR class="error" aria-live="polite">{move || ctx.redirect_problem()}</p>
                        <Show when=move || ctx.redirect_elsewhere()>
                            <p class="warn">{t.redirect_elsewhere}</p>
                        </Show>
                    </div>
                    <div class="field">
                        <label for=ids::PROXY_URL>
                            {t.proxy_url}
                            <Show when=demo>" "<span class="tag">{t.demo_tag}</span></Show>
                        </label>
                        <input
                            id=ids::PROXY_URL
                            class="mono"
                            type="url"
                            inputmode="url"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder=browser::origin()
                            aria-describedby=ids::PROXY_URL_DESCRIBED_BY
                            aria-invalid=move || ctx.proxy_problem().is_some().to_string()
                            prop:value=field(|s| s.proxy.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                ctx.setup.fields.update(|s| s.proxy = v);
                            }
                        />
                        <p id=ids::PROXY_HELP class="help">{t.proxy_help}</p>
                        <p class="error" aria-live="polite">{move || ctx.proxy_problem()}</p>
                        <p id=ids::PROXY_STATUS class="status" data-state=proxy_state role="status" aria-live="polite">
                            {proxy_text}
                        </p>
                        {move || cross_origin_proxy().map(|o| view! { <p class="warn">{fill(t.proxy_cross_origin, &[&o])}</p> })}
                        {move || ctx.setup.offered_proxy.get().map(|p| {
                            let take = p.clone();
                            view! {
                                <div id=ids::PROXY_OFFER class="warn" role="status">
                                    <p>{fill(t.proxy_offered, &[&p])}</p>
                                    <button
                                        type="button"
                                        id=ids::PROXY_OFFER_USE
                                        class="btn"
                                        on:click=move |_| {
                                            let p = take.clone();
                                            ctx.setup.fields.update(|s| s.proxy = p);
                                            ctx.setup.offered_proxy.set(None);
                                        }
                                    >
                                        {t.proxy_offered_use}
                                    </button>
                                </div>
                            }
                        })}
                    </div>
                    <div class="field">
                        <label for=ids::PREFIX>{t.prefix}</label>
                        <input
                            id=ids::PREFIX
                            class="mono"
                            autocomplete="off"
                            spellcheck="false"
                            aria-describedby=ids::PREFIX_DESCRIBED_BY
                            aria-invalid=move || ctx.prefix_problem().is_some().to_string()
                            prop:value=field(|s| s.prefix.clone())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                ctx.setup.fields.update(|s| s.prefix = v);
                            }
                        />
                        <p id=ids::PREFIX_HELP class="help">{t.prefix_help}</p>
                        <p id=ids::PREFIX_ERROR class="error" aria-live="polite">{move || ctx.prefix_problem()}</p>
                    </div>
                    <div class="field">
                        <span class="label" id=ids::SHARE_LABEL>{t.share_link}</span>
                        <div class="row">
                            <code id=ids::SHARE_LINK class="url grow" aria-labelledby=ids::SHARE_LABEL>{share}</code>
                            <CopyButton id=ids::COPY_SHARE_LINK text=share what=t.share_link />
                        </div>
                        <p class="help">{t.share_help}</p>
                    </div>
                    <Show when=move || ctx.flow.received.with(|r| r.is_none())>
                        <div class="actions">
                            <button
                                type="submit"
                                class="btn btn-primary"
                                disabled=move || !ctx.setup_problems().is_empty()
                            >
                                {t.setup_next}
                            </button>
                        </div>
                    </Show>
                </Show>
            </form>
        </section>
    }
    .into_any()
}
