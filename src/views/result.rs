//! Step 5: the tokens (masked until revealed), their expiry in local time, and the env block in three formats.
//! The tokens are the exchange's, or those of a later refresh or a pasted long-lived token ([`crate::Kept`]).

use leptos::prelude::*;

use kommo::env::{parse_prefix, render, EnvFormat, DEFAULT_PREFIX};

use crate::i18n::fill;
use crate::views::widgets::CopyButton;
use crate::{browser, use_ctx, KeptKind, SecretWas};

/// Everything the result view shows, computed from the tokens in hand.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    kind: KeptKind,
    host: String,
    received: String,
    access: String,
    refresh: String,
    expires: String,
    dotenv: String,
    shell: String,
    json: String,
}

/// The result step.
#[component]
pub fn ResultStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let shown = Memo::new(move |_| {
        let kept = ctx.current()?;
        let expires = kept
            .expires_ms()
            .map(browser::local_time)
            .unwrap_or_else(|| "unknown".to_string());
        let values = kept.env_values(&ctx.setup.secret.get(), &expires)?;
        let prefix = ctx
            .setup
            .fields
            .with(|s| parse_prefix(&s.prefix))
            .unwrap_or_else(|_| DEFAULT_PREFIX.to_string());
        Some(Shown {
            kind: kept.kind,
            host: kept.host.clone(),
            received: browser::local_time(kept.at as f64),
            access: kept.access_token.clone(),
            refresh: kept.refresh_token.clone(),
            expires,
            dotenv: render(EnvFormat::Dotenv, &prefix, &values),
            shell: render(EnvFormat::Shell, &prefix, &values),
            json: render(EnvFormat::Json, &prefix, &values),
        })
    });
    let get = move |f: fn(&Shown) -> String| {
        Signal::derive(move || shown.with(|s| s.as_ref().map(f).unwrap_or_default()))
    };
    let access = get(|s| s.access.clone());
    let refresh = get(|s| s.refresh.clone());
    let dotenv = get(|s| s.dotenv.clone());
    let shell = get(|s| s.shell.clone());
    let json = get(|s| s.json.clone());
    let kind = Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| s.kind)));
    let long_lived = move || kind.get() == Some(KeptKind::LongLived);
    let reveal = ctx.kept.revealed;
    let input_type = move || if reveal.get() { "text" } else { "password" };
    // The secret is unknown only when it matters: not for a long-lived token, not when the proxy held it.
    let secret_unknown = move || {
        ctx.setup.secret.with(|s| s.trim().is_empty())
            && ctx
                .kept
                .newer
                .with(|l| l.as_ref().map(|k| (k.kind, k.secret)))
                .map_or_else(
                    || {
                        ctx.exchange.answer.with(|a| {
                            a.as_ref()
                                .is_some_and(|a| a.secret != SecretWas::HeldByProxy)
                        })
                    },
                    |(kind, secret)| {
                        kind != KeptKind::LongLived && secret != SecretWas::HeldByProxy
                    },
                )
    };
    let intro = move || {
        shown.with(|s| {
            s.as_ref().map(|s| {
                let template = match s.kind {
                    KeptKind::Exchanged => t.result_intro,
                    KeptKind::Refreshed => t.result_intro_refreshed,
                    KeptKind::LongLived => t.result_intro_long_lived,
                };
                fill(template, &[&s.host, &s.received])
            })
        })
    };

    let block = move |format: EnvFormat,
                      id: &'static str,
                      copy_id: &'static str,
                      text: Signal<String>| {
        view! {
            <div class="codeblock">
                <div class="codehead">
                    <span id=format!("{id}-label")>{format.label()}</span>
                    <CopyButton id=copy_id text=text what=format.label() />
                </div>
                <pre id=id class="env" class:masked=move || !reveal.get() tabindex="0" aria-labelledby=format!("{id}-label")>{text}</pre>
            </div>
        }
    };

    view! {
        <section id="result" class="card" aria-labelledby="result-h">
            // Focusable from code: the keyboard lands here when the exchange succeeds (the button it was on is gone).
            <h2 id="result-h" tabindex="-1"><span class="n">"5"</span>{t.step_result}</h2>
            <p class="lead" id="result-intro">{intro}</p>
            <div class="field">
                <label for="access-token">{t.access_token}</label>
                <div class="row">
                    <input id="access-token" class="mono grow" readonly type=input_type prop:value=access />
                    <CopyButton id="copy-access-token" text=access what=t.access_token />
                </div>
            </div>
            <Show
                when=move || !long_lived()
                fallback=move || view! { <p id="long-lived-note" class="help">{t.long_lived_no_refresh}</p> }
            >
                <div class="field">
                    <label for="refresh-token">{t.refresh_token}</label>
                    <div class="row">
                        <input id="refresh-token" class="mono grow" readonly type=input_type prop:value=refresh />
                        <CopyButton id="copy-refresh-token" text=refresh what=t.refresh_token />
                    </div>
                </div>
            </Show>
            <div class="actions">
                <button
                    type="button"
                    id="reveal-tokens"
                    class="btn btn-small"
                    aria-pressed=move || reveal.get().to_string()
                    on:click=move |_| reveal.update(|r| *r = !*r)
                >
                    {move || if reveal.get() { t.hide_tokens } else { t.reveal_tokens }}
                </button>
            </div>
            <p>
                {t.expires} " "
                <strong id="expires-at">{move || shown.with(|s| s.as_ref().map(|s| s.expires.clone()))}</strong>
                ". " {move || if long_lived() { t.lifetimes_long_lived } else { t.lifetimes }}
            </p>
            <h3>{t.env_title}</h3>
            <p class="help">{t.env_help}</p>
            <Show when=secret_unknown>
                <p class="warn">{t.secret_missing_note}</p>
            </Show>
            <Show when=move || !reveal.get()>
                <p class="help">{t.env_masked}</p>
            </Show>
            {block(EnvFormat::Dotenv, "env-dotenv", "copy-dotenv", dotenv)}
            {block(EnvFormat::Shell, "env-shell", "copy-shell", shell)}
            {block(EnvFormat::Json, "env-json", "copy-json", json)}
        </section>
    }
    .into_any()
}
