//! Step 4: exchange the code through the proxy — once — or by hand with curl and a pasted answer.

use leptos::prelude::*;

use kommo::curl::{token_curl, token_curl_via};

use crate::i18n::fill;
use crate::ids;
use crate::state::Manual;
use crate::views::widgets::{error_view, CopyButton, ErrorIds};
use crate::{browser, use_ctx, ApiError, ProxyHealth};

/// The exchange step's error ids.
pub const EXCHANGE_IDS: ErrorIds = ErrorIds {
    kommo: ids::EXCHANGE_ERROR,
    cause: ids::HINT_CAUSE,
    fix: ids::HINT_FIX,
    proxy: ids::PROXY_ERROR,
};

/// The exchange step.
#[component]
pub fn ExchangeStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let host = move || {
        ctx.code_return()
            .and_then(|(c, _)| c.account_host().ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    };
    let proxy_found = move || matches!(ctx.health.get(), ProxyHealth::Found(_));
    let proxy_missing = move || matches!(ctx.health.get(), ProxyHealth::Missing);
    // The proxy answered and does not hold the secret: a click without one cannot work, so it only points to the
    // field. Without a proxy the click still goes out (its error explains more than a guess) and curl needs it.
    let secret_blocked = move || {
        ctx.setup.secret.with(|s| s.trim().is_empty())
            && matches!(ctx.health.get(), ProxyHealth::Found(_))
            && !ctx.secret_held()
    };
    let secret_missing = move || {
        ctx.setup.secret.with(|s| s.trim().is_empty())
            && !matches!(ctx.health.get(), ProxyHealth::Checking)
            && !ctx.secret_held()
    };
    // Posted, but neither an answer nor a failure came back (a reload mid-request, a dropped connection).
    let lost = move || {
        ctx.exchange.code_sent.get()
            && !ctx.exchange.in_flight.get()
            && ctx.exchange.answer.with(|a| a.is_none())
            && ctx.exchange.failure.with(|f| f.is_none())
    };
    let error = Memo::new(move |_| {
        ctx.exchange.failure.get().or_else(|| match ctx.tokens() {
            Some(Err(e)) => Some(e),
            _ => None,
        })
    });
    // A refused code that cannot work again: only "Start over" is offered.
    let code_dead = move || {
        error.with(|e| matches!(e, Some(ApiError::Kommo { error, .. }) if error.classify().needs_new_code()))
    };
    let on_exchange = move |_| {
        if secret_blocked() {
            browser::scroll_to_id(ids::SECRET);
            browser::focus_id(ids::SECRET);
            return;
        }
        ctx.exchange();
    };
    let label = move || {
        if ctx.exchange.in_flight.get() {
            t.later().exchanging
        } else if lost() {
            t.later().exchange_anyway
        } else if error.with(|e| e.is_some()) {
            t.later().exchange_again
        } else {
            t.exchange
        }
    };
    let raw = move || {
        let a = ctx.exchange.answer.get()?;
        error.with(|e| e.is_some()).then(|| {
            let ct = a
                .content_type
                .clone()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            format!("HTTP {}{}\n\n{}", a.status, ct, a.body)
        })
    };
    let curl = Signal::derive(move || {
        let make = || {
            let (c, _) = ctx.code_return()?;
            let host = c.account_host().ok()?;
            let typed = ctx.setup.secret.get();
            let secret = if typed.trim().is_empty() {
                t.later().manual_secret_placeholder.to_string()
            } else {
                typed.trim().to_string()
            };
            let request = ctx.token_request(&secret)?;
            // The demo's token endpoint is the Kommo double at the consent base, which serves every account at one
            // address: the command goes there, never to the real Kommo the account host names.
            Some(if ctx.demo() {
                let base = ctx.setup.fields.with(|s| s.consent_base.trim().to_string());
                token_curl_via(&base, &host, &request)
            } else {
                token_curl(&host, &request)
            })
        };
        make().unwrap_or_default()
    });
    // The pasted answer lives in `Ctx` (a language switch re-renders this step); its error is worded at render time,
    // by the same reading `Ctx::use_pasted` takes it with.
    let on_paste = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let failed = ctx
            .use_pasted(&ctx.exchange.pasted.text.get_untracked())
            .is_err();
        ctx.exchange.pasted.tried.set(failed);
    };
    let paste_error = move || {
        ctx.exchange
            .pasted
            .tried
            .get()
            .then(|| ctx.exchange.pasted.text.with(|p| ctx.read_pasted(p).err()))
            .flatten()
    };
    // Open while no proxy answers, unless the user unfolded or folded it against that ([`Manual`]), which
    // survives a language switch.
    let manual_open = move || match ctx.exchange.manual.get() {
        Manual::Opened => true,
        Manual::Closed => false,
        Manual::FollowsHealth => !proxy_found(),
    };
    // `toggle` comes as a task of its own, also when `open` is set from code.
    let on_toggle = move |ev: web_sys::Event| {
        let open = event_target::<web_sys::Element>(&ev).has_attribute("open");
        let by_hand = match open {
            // What the proxy's health says anyway (also what setting `open` from code fires).
            _ if open != matches!(ctx.health.get_untracked(), ProxyHealth::Found(_)) => {
                Manual::FollowsHealth
            }
            true => Manual::Opened,
            false => Manual::Closed,
        };
        if by_hand != ctx.exchange.manual.get_untracked() {
            ctx.exchange.manual.set(by_hand);
        }
    };

    view! {
        <section id=ids::EXCHANGE_SECTION class="card" aria-labelledby=ids::EXCHANGE_H>
            <h2 id=ids::EXCHANGE_H><span class="n">"4"</span>{t.step_exchange}</h2>
            <p class="lead">{move || fill(t.later().exchange_intro, &[&host()])}</p>
            <Show when=proxy_missing>
                <p class="warn">{t.later().exchange_no_proxy}</p>
            </Show>
            <div class="live" aria-live="assertive">
                {move || error.get().map(|e| error_view(ctx.lang.get(), e, EXCHANGE_IDS))}
            </div>
            {move || raw().map(|r| view! {
                <details class="raw">
                    <summary>{t.later().raw_answer}</summary>
                    <pre id=ids::RAW_ANSWER>{r}</pre>
                </details>
            })}
            <div class="live" aria-live="polite">
                <Show when=secret_missing>
                    <div class="warn row">
                        <span class="grow">{t.later().need_secret}</span>
                        <button type="button" class="btn btn-small" on:click=move |_| {
                            browser::scroll_to_id(ids::SECRET);
                            browser::focus_id(ids::SECRET);
                        }>
                            {t.later().go_secret}
                        </button>
                    </div>
                </Show>
                <Show when=lost>
                    <p id=ids::CODE_MAYBE_SPENT class="warn">{t.code_maybe_spent}</p>
                </Show>
            </div>
            <Show when=move || !code_dead()>
                <div class="actions">
                    <button
                        type="button"
                        id=ids::EXCHANGE
                        class=move || if proxy_found() { "btn btn-primary" } else { "btn" }
                        disabled=move || ctx.exchange.in_flight.get() || ctx.client_id().is_err()
                        aria-busy=move || ctx.exchange.in_flight.get().to_string()
                        on:click=on_exchange
                    >
                        {label}
                    </button>
                </div>
            </Show>
            <details class="manual" prop:open=manual_open on:toggle=on_toggle>
                <summary>{t.later().manual_summary}</summary>
                <p id=ids::MANUAL_INTRO>{fill(t.later().manual_intro, &[t.later().manual_secret_placeholder])}</p>
                <div class="codeblock">
                    <div class="codehead">
                        <span>"curl"</span>
                        <CopyButton id=ids::COPY_CURL text=curl what="curl" />
                    </div>
                    <pre id=ids::CURL_COMMAND class="masked-secret">{curl}</pre>
                </div>
                <form on:submit=on_paste>
                    <div class="field">
                        <label for=ids::PASTE_ANSWER>{t.later().paste_label}</label>
                        <textarea
                            id=ids::PASTE_ANSWER
                            class="mono"
                            rows="5"
                            spellcheck="false"
                            placeholder=r#"{"token_type":"Bearer","expires_in":86400,"access_token":"…","refresh_token":"…"}"#
                            aria-describedby=ids::PASTE_ERROR
                            aria-invalid=move || paste_error().is_some().to_string()
                            prop:value=move || ctx.exchange.pasted.text.get()
                            on:input=move |ev| ctx.exchange.pasted.text.set(event_target_value(&ev))
                        ></textarea>
                        <p id=ids::PASTE_ERROR class="error" aria-live="polite">{paste_error}</p>
                    </div>
                    <div class="actions">
                        <button type="submit" id=ids::USE_PASTED class="btn">{t.later().use_pasted}</button>
                    </div>
                </form>
            </details>
        </section>
    }
    .into_any()
}
