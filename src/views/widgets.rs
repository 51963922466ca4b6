//! The widgets the cards share: the copy button, the error view for a failed request, and a form field's error.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

use kommo::outcome::hint_key;
use kommo::{Hint, Lang, ProxyErrorCode};

use crate::i18n::{fill, tx};
use crate::{browser, use_ctx, ApiError};

/// A "Copy" button with a polite live region that says "Copied" (focus stays on the button).
#[component]
pub fn CopyButton(
    /// The button's id, e.g. [`crate::ids::COPY_ENV`].
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
    let t = use_ctx().t_untracked();
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

/// A failed token request: Kommo's refusals go to `ids.kommo` (with the catalogue's cause and fix), everything
/// about the proxy to `ids.proxy` (each request has its own [`ErrorIds`]).
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

/// One `role="alert"` box about a return: `id`, an optional `data-problem`, a title, two paragraphs and what
/// follows them. The CSRF stop, the unreadable return and the set-aside notice share it (each distinct view costs
/// wasm).
pub fn alert(
    id: &'static str,
    problem: Option<String>,
    title: &'static str,
    what: String,
    then: String,
    tail: AnyView,
) -> AnyView {
    view! {
        <div id=id class="alert" role="alert" data-problem=problem>
            <h3>{title}</h3>
            <p>{what}</p>
            <p>{then}</p>
            {tail}
        </div>
    }
    .into_any()
}

/// A field's error, worded at render time in the page's language: shown once its form was sent, while `bad` says
/// the value will not do.
pub fn field_error(
    value: RwSignal<String>,
    tried: RwSignal<bool>,
    bad: fn(&str) -> bool,
    text: &'static str,
) -> impl Fn() -> Option<&'static str> + Copy + Send + Sync + 'static {
    move || (tried.get() && value.with(|v| bad(v))).then_some(text)
}

/// `aria-invalid` for a field with this error.
pub fn invalid(
    error: impl Fn() -> Option<&'static str> + Send + Sync + 'static,
) -> impl Fn() -> &'static str + Send + Sync + 'static {
    move || if error().is_some() { "true" } else { "false" }
}
