//! Step 5: the tokens (masked until revealed), their expiry in local time, and the env block in the format picked
//! (remembered on this device), with its usage line, its notices or its refusal, Copy and Download.
//! The tokens are the exchange's, or those of a later refresh or a pasted long-lived token ([`crate::Kept`]).

use leptos::prelude::*;

use kommo::env::{parse_prefix, render_block, EnvFormat, EnvValues, DEFAULT_PREFIX};

use crate::i18n::fill;
use crate::ids;
use crate::storage::{keys, Area};
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
    prefix: String,
    values: EnvValues,
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
            prefix,
            values,
        })
    });
    let get = move |f: fn(&Shown) -> String| {
        Signal::derive(move || shown.with(|s| s.as_ref().map(f).unwrap_or_default()))
    };
    let access = get(|s| s.access.clone());
    let refresh = get(|s| s.refresh.clone());
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
                    KeptKind::Exchanged => t.later().result_intro,
                    KeptKind::Refreshed => t.later().result_intro_refreshed,
                    KeptKind::LongLived => t.later().result_intro_long_lived,
                };
                fill(template, &[&s.host, &s.received])
            })
        })
    };

    // The env block: only the format picked is rendered.
    let lang = ctx.lang.get_untracked();
    let format = RwSignal::new(
        ctx.store()
            .get(Area::Local, keys::ENV_FORMAT)
            .and_then(|k| EnvFormat::from_key(&k))
            .unwrap_or(EnvFormat::Dotenv),
    );
    // One memo for the block as shown: its text and the notices' sentences (one each), or the refusal's sentence
    // instead of a text. The sentences name variables, never values.
    let rendered = Memo::new(move |_| {
        let f = format.get();
        shown.with(|s| {
            let s = s.as_ref()?;
            Some(match render_block(f, &s.prefix, &s.values) {
                Ok(b) => (
                    b.text,
                    Ok(b.notices.iter().map(|n| n.explain(lang)).collect()),
                ),
                Err(refusal) => (String::new(), Err(refusal.explain(lang))),
            })
        })
    });
    let text = Signal::derive(move || {
        rendered.with(|r| r.as_ref().map(|r| r.0.clone()).unwrap_or_default())
    });
    let said = move || -> Result<Vec<String>, String> {
        rendered.with(|r| r.as_ref().map_or(Ok(Vec::new()), |r| r.1.clone()))
    };
    let refused = Signal::derive(move || rendered.with(|r| matches!(r, Some((_, Err(_))))));
    let pick = move |f: EnvFormat| {
        ctx.store().set(Area::Local, keys::ENV_FORMAT, f.key());
        format.set(f);
    };
    let picker = EnvFormat::ALL
        .into_iter()
        .map(|f| {
            view! {
                <label class="seg">
                    <input
                        type="radio"
                        name="env-format"
                        id=format!("{}{}", ids::ENV_FORMAT_PREFIX, f.key())
                        value=f.key()
                        prop:checked=move || format.get() == f
                        on:change=move |_| pick(f)
                    />
                    <span>{f.label()}</span>
                </label>
            }
        })
        .collect_view();
    // Re-made when the format changes, so that the ids and the buttons' names are the format's.
    let block = move || {
        let f = format.get();
        let id = format!("{}{}", ids::ENV_BLOCK_PREFIX, f.key());
        let save = move |_| {
            rendered.with_untracked(|r| {
                if let Some((text, Ok(_))) = r {
                    browser::download(f.file_name(), f.mime_type(), text);
                }
            })
        };
        view! {
            <div class="codeblock">
                <div class="codehead">
                    <span id=ids::ENV_LABEL>{f.label()}</span>
                    <button
                        type="button"
                        id=ids::DOWNLOAD_ENV
                        class="btn btn-small"
                        disabled=refused
                        aria-label=format!("{} {}", t.later().download, f.file_name())
                        on:click=save
                    >
                        {t.later().download}
                    </button>
                    <CopyButton id=ids::COPY_ENV text=text what=f.label() disabled=refused />
                </div>
                {move || match rendered.with(|r| r.as_ref().and_then(|r| r.1.clone().err())) {
                    Some(why) => view! { <p id=ids::ENV_REFUSAL class="env-refusal">{why}</p> }.into_any(),
                    None => view! {
                        <pre id=id.clone() class="env" class:masked=move || !reveal.get() tabindex="0" aria-labelledby=ids::ENV_LABEL>{text}</pre>
                    }.into_any(),
                }}
            </div>
        }
    };
    let notices = move || {
        said()
            .unwrap_or_default()
            .into_iter()
            .map(|n| view! { <li>{n}</li> })
            .collect_view()
    };

    view! {
        <section id=ids::RESULT class="card" aria-labelledby=ids::RESULT_H>
            // Focusable from code: the keyboard lands here when the exchange succeeds (the button it was on is gone).
            <h2 id=ids::RESULT_H tabindex="-1"><span class="n">"5"</span>{t.step_result}</h2>
            <p class="lead" id=ids::RESULT_INTRO>{intro}</p>
            <div class="field">
                <label for=ids::ACCESS_TOKEN>{t.access_token}</label>
                <div class="row">
                    <input id=ids::ACCESS_TOKEN class="mono grow" readonly type=input_type prop:value=access />
                    <CopyButton id=ids::COPY_ACCESS_TOKEN text=access what=t.access_token />
                </div>
            </div>
            <Show
                when=move || !long_lived()
                fallback=move || view! { <p id=ids::LONG_LIVED_NOTE class="help">{t.later().long_lived_no_refresh}</p> }
            >
                <div class="field">
                    <label for=ids::REFRESH_TOKEN>{t.refresh_token}</label>
                    <div class="row">
                        <input id=ids::REFRESH_TOKEN class="mono grow" readonly type=input_type prop:value=refresh />
                        <CopyButton id=ids::COPY_REFRESH_TOKEN text=refresh what=t.refresh_token />
                    </div>
                </div>
            </Show>
            <div class="actions">
                <button
                    type="button"
                    id=ids::REVEAL_TOKENS
                    class="btn btn-small"
                    aria-pressed=move || reveal.get().to_string()
                    on:click=move |_| reveal.update(|r| *r = !*r)
                >
                    {move || if reveal.get() { t.later().hide_tokens } else { t.later().reveal_tokens }}
                </button>
            </div>
            <p>
                {t.later().expires} " "
                <strong id=ids::EXPIRES_AT>{move || shown.with(|s| s.as_ref().map(|s| s.expires.clone()))}</strong>
                ". " {move || if long_lived() { t.later().lifetimes_long_lived } else { t.later().lifetimes }}
            </p>
            <h3>{t.later().env_title}</h3>
            <p class="help">{t.later().env_help}</p>
            <Show when=secret_unknown>
                <p class="warn">{t.later().secret_missing_note}</p>
            </Show>
            <Show when=move || !reveal.get()>
                <p class="help">{t.later().env_masked}</p>
            </Show>
            <fieldset class="formats" id=ids::ENV_FORMATS>
                <legend>{t.later().env_format}</legend>
                {picker}
            </fieldset>
            {block}
            <p class="help" id=ids::ENV_USAGE>{move || format.get().usage(lang)}</p>
            <ul class="env-notices warn" id=ids::ENV_NOTICES hidden=move || rendered.with(|r| !matches!(r, Some((_, Ok(n))) if !n.is_empty()))>
                {notices}
            </ul>
        </section>
    }
    .into_any()
}
