//! Step 3: what came back from consent — a code for an account (with its 20-minute countdown), a denial, an
//! untrusted return (CSRF stop) or a malformed one.

use leptos::prelude::*;

use kommo::outcome::{format_mm_ss, Malformed, ReturnOutcome, Untrusted};
use kommo::CODE_LIFETIME_SECS;

use crate::i18n::{fill, Tx};
use crate::ids;
use crate::views::widgets::alert;
use crate::{browser, use_ctx, Received};

/// The return panel.
#[component]
pub fn ReturnStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let body = move || {
        let Some(Received { outcome, at }) = ctx.flow.received.get() else {
            return ().into_any();
        };
        match outcome {
            ReturnOutcome::Code { ret } => {
                let host = ret.account_host();
                let referer = ret.referer.clone();
                let returned_id = ret.client_id.clone();
                let from_widget = ret.from_widget;
                let countdown = move || {
                    if ctx.tokens().is_some_and(|r| r.is_ok()) {
                        return view! { <p id=ids::CODE_COUNTDOWN class="help" data-expired="0">{t.later().exchanged}</p> }.into_any();
                    }
                    let left = (at + CODE_LIFETIME_SECS * 1000 - ctx.now.get()) / 1000;
                    if left <= 0 {
                        view! { <p id=ids::CODE_COUNTDOWN class="warn" data-expired="1">{t.later().code_expired}</p> }.into_any()
                    } else {
                        let until = browser::local_time((at + CODE_LIFETIME_SECS * 1000) as f64);
                        let until = until.split(' ').nth(1).unwrap_or("").to_string();
                        view! {
                            <p id=ids::CODE_COUNTDOWN class="status" data-expired="0" data-seconds=left.to_string()>
                                {fill(t.later().code_left, &[&format_mm_ss(left), &until])}
                            </p>
                        }
                        .into_any()
                    }
                };
                let differs = move || {
                    let mine = ctx.client_id().ok()?;
                    let theirs = returned_id.clone()?;
                    (!theirs.eq_ignore_ascii_case(&mine))
                        .then(|| fill(t.later().client_id_differs, &[&theirs, &mine]))
                };
                match host {
                    Ok(h) => view! {
                        <p>{t.later().return_code_for} " " <strong id=ids::ACCOUNT_HOST class="mono">{h.to_string()}</strong></p>
                        {countdown}
                        {move || differs().map(|d| view! { <p class="warn">{d}</p> })}
                        {from_widget.then(|| view! { <p class="help">{t.later().widget_install}</p> })}
                    }
                    .into_any(),
                    Err(e) => view! {
                        <p>{t.later().return_code_for} " " <strong id=ids::ACCOUNT_HOST class="mono bad">{visible(&referer)}</strong></p>
                        <div id=ids::HOST_ERROR class="alert" role="alert">
                            <p>{move || fill(t.later().host_invalid, &[&e.explain(ctx.lang.get())])}</p>
                        </div>
                    }
                    .into_any(),
                }
            }
            ReturnOutcome::Declined { error } => {
                let denied = error.is_access_denied();
                let code = error.error.clone();
                view! {
                    <div id=ids::DENIED class="alert" role="alert">
                        <h3>{if denied { t.later().denied_title } else { t.later().consent_error_title }}</h3>
                        <p>{move || if denied { t.later().denied_body.to_string() } else { fill(t.later().consent_error, &[&code]) }}</p>
                        <button
                            type="button"
                            id=ids::RETRY
                            class="btn btn-primary"
                            on:click=move |_| {
                                ctx.start_over();
                                browser::scroll_to_id(ids::CONSENT_SECTION);
                                browser::focus_later(ids::GO_SAME_TAB);
                            }
                        >
                            {t.retry}
                        </button>
                    </div>
                }
                .into_any()
            }
            ReturnOutcome::Untrusted { problem, .. } => alert(
                ids::STATE_ERROR,
                Some(format!("{problem:?}")),
                t.later().state_title,
                untrusted_text(t, problem).to_string(),
                t.later().state_why.to_string(),
                ().into_any(),
            ),
            ReturnOutcome::Malformed { problem } => alert(
                ids::CALLBACK_ERROR,
                None,
                t.later().malformed_title,
                malformed_text(t, &problem),
                t.later().malformed_fix.to_string(),
                ().into_any(),
            ),
        }
    };
    view! {
        <section id=ids::RETURN_PANEL class="card" aria-labelledby=ids::RETURN_H>
            <h2 id=ids::RETURN_H><span class="n">"3"</span>{t.step_return}</h2>
            {body}
        </section>
    }
    .into_any()
}

/// `text` with control characters shown as escapes (`\0`, `\u{1b}`), so a crafted referer cannot hide parts of itself.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Why a return's `state` cannot be trusted, in words.
fn untrusted_text(t: &Tx, problem: Untrusted) -> &'static str {
    match problem {
        Untrusted::NothingStored => t.state_nothing_stored,
        Untrusted::Missing => t.state_missing,
        Untrusted::Mismatch => t.state_mismatch,
    }
}

/// Why a return could not be read, in words.
fn malformed_text(t: &Tx, problem: &Malformed) -> String {
    match problem {
        Malformed::Duplicate(p) => fill(t.malformed_duplicate, &[p]),
        Malformed::CodeAndError => t.malformed_code_and_error.to_string(),
        Malformed::Empty(p) => fill(t.malformed_empty, &[p]),
        Malformed::MissingReferer => t.malformed_no_referer.to_string(),
    }
}

/// The notice for a return that was set aside ([`crate::state::Flow::set_aside`]): why, and that nothing changed.
#[component]
pub fn SetAsideNotice() -> impl IntoView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    move || {
        let Some(Received { outcome, .. }) = ctx.flow.set_aside.get() else {
            return ().into_any();
        };
        let (kind, text, then) = match outcome {
            ReturnOutcome::Untrusted { problem, .. } => (
                format!("{problem:?}"),
                // Set aside in a tab holding a code or tokens: its own sign-in already came back.
                if problem == Untrusted::NothingStored {
                    t.set_aside_nothing_pending
                } else {
                    untrusted_text(t, problem)
                }
                .to_string(),
                format!("{} {}", t.set_aside_kept, t.set_aside_crafted),
            ),
            ReturnOutcome::Malformed { problem } => (
                "Malformed".to_string(),
                malformed_text(t, &problem),
                t.set_aside_kept.to_string(),
            ),
            _ => return ().into_any(),
        };
        let hide = view! {
            <button
                type="button"
                id=ids::SET_ASIDE_HIDE
                class="btn"
                on:click=move |_| {
                    ctx.flow.set_aside.set(None);
                    browser::focus_id(ids::STEPS);
                }
            >
                {t.hide}
            </button>
        };
        alert(
            ids::RETURN_SET_ASIDE,
            Some(kind),
            t.set_aside_title,
            text,
            then,
            hide.into_any(),
        )
    }
}
