//! Step 5: the tokens (masked until revealed), their expiry in local time, and the env block in three formats.

use leptos::prelude::*;

use kommo::env::{parse_prefix, render, EnvFormat, DEFAULT_PREFIX};
use kommo::jwt::decode_payload;
use kommo::outcome::{env_values, SecretSource};

use crate::i18n::fill;
use crate::widgets::CopyButton;
use crate::{browser, use_ctx, SecretWas};

/// Everything the result view shows, computed from the kept answer.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    host: String,
    received: String,
    access: String,
    refresh: String,
    expires: String,
    claims: Option<String>,
    dotenv: String,
    shell: String,
    json: String,
}

/// The result step.
#[component]
pub fn ResultStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_now();
    let shown = Memo::new(move |_| {
        let tokens = ctx.tokens()?.ok()?;
        let answer = ctx.answer.get()?;
        let (code, _) = ctx.code_return()?;
        let host = code.account_host().ok()?;
        let claims = decode_payload(&tokens.access_token).ok();
        let expires_ms = match claims.as_ref().and_then(|c| c.exp) {
            Some(exp) => exp as f64 * 1000.0,
            None => answer.at as f64 + tokens.expires_in as f64 * 1000.0,
        };
        let expires = browser::local_time(expires_ms);
        // What was true at exchange time, not the proxy's health now (still loading after a reload).
        let typed = ctx.secret.get();
        let secret = if answer.secret == SecretWas::HeldByProxy {
            SecretSource::HeldByProxy
        } else if !typed.trim().is_empty() {
            SecretSource::Typed(typed.trim())
        } else {
            SecretSource::Unknown
        };
        let values = env_values(
            &host,
            &answer.client_id,
            secret,
            &answer.redirect_uri,
            &tokens,
            &expires,
        );
        let prefix = ctx
            .setup
            .with(|s| parse_prefix(&s.prefix))
            .unwrap_or_else(|_| DEFAULT_PREFIX.to_string());
        let claims = claims.map(|c| {
            let dash = "—".to_string();
            fill(
                t.claims,
                &[
                    c.sub.as_deref().unwrap_or("—"),
                    &c.account_id.map(|a| a.to_string()).unwrap_or(dash.clone()),
                    &if c.scopes.is_empty() {
                        dash
                    } else {
                        c.scopes.join(", ")
                    },
                ],
            )
        });
        Some(Shown {
            host: host.to_string(),
            received: browser::local_time(answer.at as f64),
            access: tokens.access_token.clone(),
            refresh: tokens.refresh_token.clone(),
            expires,
            claims,
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
    let reveal = ctx.reveal;
    let kind = move || if reveal.get() { "text" } else { "password" };
    let secret_unknown = move || {
        ctx.secret.with(|s| s.trim().is_empty())
            && ctx.answer.with(|a| {
                a.as_ref()
                    .is_some_and(|a| a.secret != SecretWas::HeldByProxy)
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
            <h2 id="result-h"><span class="n">"5"</span>{t.step_result}</h2>
            <p class="lead">
                {move || shown.with(|s| s.as_ref().map(|s| fill(t.result_intro, &[&s.host, &s.received])))}
            </p>
            <div class="field">
                <label for="access-token">{t.access_token}</label>
                <div class="row">
                    <input id="access-token" class="mono grow" readonly type=kind prop:value=access />
                    <CopyButton id="copy-access-token" text=access what=t.access_token />
                </div>
            </div>
            <div class="field">
                <label for="refresh-token">{t.refresh_token}</label>
                <div class="row">
                    <input id="refresh-token" class="mono grow" readonly type=kind prop:value=refresh />
                    <CopyButton id="copy-refresh-token" text=refresh what=t.refresh_token />
                </div>
            </div>
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
                ". " {t.lifetimes}
            </p>
            {move || shown.with(|s| s.as_ref().and_then(|s| s.claims.clone())).map(|c| view! {
                <p class="help">{c} " " {t.claims_unverified}</p>
            })}
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
