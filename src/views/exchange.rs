//! Step 4: exchange the code through the proxy — once — or by hand with curl and a pasted answer.

use leptos::prelude::*;

use kommo::curl::{token_curl, token_curl_via};
use kommo::outcome::hint_key;
use kommo::{Hint, ProxyErrorCode};

use crate::i18n::{fill, tx};
use crate::views::widgets::CopyButton;
use crate::{browser, use_ctx, ApiError, ProxyHealth};
use kommo::Lang;

/// The exchange step.
#[component]
pub fn ExchangeStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_now();
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
        ctx.secret.with(|s| s.trim().is_empty())
            && matches!(ctx.health.get(), ProxyHealth::Found(_))
            && !ctx.secret_held()
    };
    let secret_missing = move || {
        ctx.secret.with(|s| s.trim().is_empty())
            && !matches!(ctx.health.get(), ProxyHealth::Checking)
            && !ctx.secret_held()
    };
    // Posted, but neither an answer nor a failure came back (a reload mid-request, a dropped connection).
    let lost = move || {
        ctx.posted.get()
            && !ctx.in_flight.get()
            && ctx.answer.with(|a| a.is_none())
            && ctx.failure.with(|f| f.is_none())
    };
    let error = Memo::new(move |_| {
        ctx.failure.get().or_else(|| match ctx.tokens() {
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
            browser::scroll_to_id("secret");
            browser::focus_id("secret");
            return;
        }
        ctx.exchange();
    };
    let label = move || {
        if ctx.in_flight.get() {
            t.exchanging
        } else if lost() {
            t.exchange_anyway
        } else if error.with(|e| e.is_some()) {
            t.exchange_again
        } else {
            t.exchange
        }
    };
    let raw = move || {
        let a = ctx.answer.get()?;
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
            let typed = ctx.secret.get();
            let secret = if typed.trim().is_empty() {
                t.manual_secret_placeholder.to_string()
            } else {
                typed.trim().to_string()
            };
            let request = ctx.token_request(&secret)?;
            // The demo's token endpoint is the Kommo double at the consent base, which serves every account at one
            // address: the command goes there, never to the real Kommo the account host names.
            Some(if ctx.demo() {
                let base = ctx.setup.with(|s| s.consent_base.trim().to_string());
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
        let failed = ctx.use_pasted(&ctx.pasted.get_untracked()).is_err();
        ctx.pasted_tried.set(failed);
    };
    let paste_error = move || {
        ctx.pasted_tried
            .get()
            .then(|| ctx.pasted.with(|p| ctx.read_pasted(p).err()))
            .flatten()
    };
    // Open while no proxy answers, unless the user unfolded or folded it against that (`Ctx::manual`), which
    // survives a language switch.
    let manual_open = move || match ctx.manual.get() {
        1 => true,
        2 => false,
        _ => !proxy_found(),
    };
    // `toggle` comes as a task of its own, also when `open` is set from code.
    let on_toggle = move |ev: web_sys::Event| {
        let open = event_target::<web_sys::Element>(&ev).has_attribute("open");
        let by_hand = match open {
            // What the proxy's health says anyway (also what setting `open` from code fires).
            _ if open != matches!(ctx.health.get_untracked(), ProxyHealth::Found(_)) => 0,
            true => 1,
            false => 2,
        };
        if by_hand != ctx.manual.get_untracked() {
            ctx.manual.set(by_hand);
        }
    };

    view! {
        <section id="exchange-section" class="card" aria-labelledby="exchange-h">
            <h2 id="exchange-h"><span class="n">"4"</span>{t.step_exchange}</h2>
            <p class="lead">{move || fill(t.exchange_intro, &[&host()])}</p>
            <Show when=proxy_missing>
                <p class="warn">{t.exchange_no_proxy}</p>
            </Show>
            <div class="live" aria-live="assertive">
                {move || error.get().map(|e| error_view(ctx.lang.get(), e, EXCHANGE_IDS))}
            </div>
            {move || raw().map(|r| view! {
                <details class="raw">
                    <summary>{t.raw_answer}</summary>
                    <pre id="raw-answer">{r}</pre>
                </details>
            })}
            <div class="live" aria-live="polite">
                <Show when=secret_missing>
                    <div class="warn row">
                        <span class="grow">{t.need_secret}</span>
                        <button type="button" class="btn btn-small" on:click=move |_| {
                            browser::scroll_to_id("secret");
                            browser::focus_id("secret");
                        }>
                            {t.go_secret}
                        </button>
                    </div>
                </Show>
                <Show when=lost>
                    <p id="code-maybe-spent" class="warn">{t.code_maybe_spent}</p>
                </Show>
            </div>
            <Show when=move || !code_dead()>
                <div class="actions">
                    <button
                        type="button"
                        id="exchange"
                        class=move || if proxy_found() { "btn btn-primary" } else { "btn" }
                        disabled=move || ctx.in_flight.get() || ctx.client_id().is_err()
                        aria-busy=move || ctx.in_flight.get().to_string()
                        on:click=on_exchange
                    >
                        {label}
                    </button>
                </div>
            </Show>
            <details class="manual" prop:open=manual_open on:toggle=on_toggle>
                <summary>{t.manual_summary}</summary>
                <p id="manual-intro">{fill(t.manual_intro, &[t.manual_secret_placeholder])}</p>
                <div class="codeblock">
                    <div class="codehead">
                        <span>"curl"</span>
                        <CopyButton id="copy-curl" text=curl what="curl" />
                    </div>
                    <pre id="curl-command" class="masked-secret">{curl}</pre>
                </div>
                <form on:submit=on_paste>
                    <div class="field">
                        <label for="paste-answer">{t.paste_label}</label>
                        <textarea
                            id="paste-answer"
                            class="mono"
                            rows="5"
                            spellcheck="false"
                            placeholder=r#"{"token_type":"Bearer","expires_in":86400,"access_token":"…","refresh_token":"…"}"#
                            aria-describedby="paste-error"
                            aria-invalid=move || paste_error().is_some().to_string()
                            prop:value=move || ctx.pasted.get()
                            on:input=move |ev| ctx.pasted.set(event_target_value(&ev))
                        ></textarea>
                        <p id="paste-error" class="error" aria-live="polite">{paste_error}</p>
                    </div>
                    <div class="actions">
                        <button type="submit" id="use-pasted" class="btn">{t.use_pasted}</button>
                    </div>
                </form>
            </details>
        </section>
    }
    .into_any()
}

/// The element ids an error is shown with.
#[derive(Debug, Clone, Copy)]
pub struct ErrorIds {
    /// Kommo's refusal (carries `data-hint`).
    pub kommo: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
    /// Everything about the proxy (carries `data-proxy-error`).
    pub proxy: &'static str,
}

/// The exchange step's ids.
pub const EXCHANGE_IDS: ErrorIds = ErrorIds {
    kommo: "exchange-error",
    cause: "hint-cause",
    fix: "hint-fix",
    proxy: "proxy-error",
};

/// Kommo's refusals go to `#exchange-error` (with the catalogue's cause and fix); everything about the proxy
/// to `#proxy-error` (other ids for other requests, see [`ErrorIds`]).
pub fn error_view(lang: Lang, e: ApiError, ids: ErrorIds) -> AnyView {
    let t = tx(lang);
    // The proxy's own words (`quoted`) are English — a server log speaks one language — so they are quoted as such,
    // after a cause in the page's language; the fix is in the page's language too.
    let (kind, cause, quoted, fix): (&str, String, Option<String>, &str) = match e {
        ApiError::Kommo { status, error } => {
            let hint = error.classify();
            let said = error
                .hint
                .clone()
                .or(error.title.clone())
                .unwrap_or_else(|| format!("HTTP {status}"));
            let ex = hint.explain(lang);
            return view! {
                <div id=ids.kommo class="alert" role="alert" data-hint=hint_key(hint)>
                    <h3>{fill(t.kommo_refused, &[&said])}</h3>
                    <p id=ids.cause>{ex.cause}</p>
                    <p id=ids.fix class="fix">{ex.fix}</p>
                </div>
            }
            .into_any();
        }
        ApiError::Unexpected { .. } => {
            return view! {
                <div id=ids.kommo class="alert" role="alert" data-hint=hint_key(Hint::Unknown)>
                    <p id=ids.cause>{t.unexpected_cause}</p>
                    <p id=ids.fix class="fix">{t.unexpected_fix}</p>
                </div>
            }
            .into_any()
        }
        ApiError::ProxyUnreachable { ref url } => (
            "unreachable",
            fill(t.unreachable_cause, &[url]),
            None,
            t.unreachable_fix,
        ),
        ApiError::AnswerLost { ref url } => (
            "answer_lost",
            fill(t.lost_cause, &[url]),
            None,
            t.code_maybe_spent,
        ),
        ApiError::NotJson {
            status,
            ref content_type,
        } => (
            "not_json",
            fill(
                t.not_json_cause,
                &[&status.to_string(), content_type.as_deref().unwrap_or("?")],
            ),
            None,
            t.not_json_fix,
        ),
        ApiError::Proxy(p) => (
            p.proxy_error.as_str(),
            t.proxy_said.to_string(),
            Some(p.message),
            match p.proxy_error {
                ProxyErrorCode::MissingAccount | ProxyErrorCode::BadAccountHost => {
                    t.proxy_fix_account
                }
                ProxyErrorCode::BodyTooLarge | ProxyErrorCode::BadRequest => t.proxy_fix_request,
                ProxyErrorCode::ClientNotAllowed => t.proxy_fix_client,
                ProxyErrorCode::RateLimited => t.proxy_fix_rate,
                ProxyErrorCode::UpstreamUnreachable => t.proxy_fix_upstream,
                ProxyErrorCode::UpstreamTimeout | ProxyErrorCode::UpstreamInterrupted => {
                    t.proxy_fix_maybe_used
                }
                // What a web page instead of JSON means depends on its status.
                ProxyErrorCode::UpstreamNotJson => match p.upstream_status {
                    Some(404) => t.proxy_fix_upstream_404,
                    Some(403) => t.ip_blocked,
                    // The proxy does not follow redirects: that would leave the checked account host.
                    Some(300..=399) => t.proxy_fix_upstream_redirect,
                    _ => t.proxy_fix_upstream_html,
                },
                ProxyErrorCode::OriginNotAllowed => t.proxy_fix_origin,
                ProxyErrorCode::SecretRequired => t.proxy_fix_secret_required,
                ProxyErrorCode::Internal => t.proxy_fix_internal,
            },
        ),
    };
    let kind = kind.to_string();
    view! {
        <div id=ids.proxy class="alert" role="alert" data-proxy-error=kind>
            <p class="cause">{cause} {quoted.map(|q| view! { " " <q lang="en">{q}</q> })}</p>
            <p class="fix">{fix}</p>
        </div>
    }
    .into_any()
}
