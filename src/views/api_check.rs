//! The API check's view: one line per part, a progress bar and a Stop button for the leads, a summary like the
//! old `test-kommo.ts` printed, and the request log.

use leptos::prelude::*;

use crate::i18n::{fill, Tx};
use crate::ids;
use crate::state::api_check::{LogLine, Part};
use crate::{use_ctx, Check};

fn part_text<T>(t: &'static Tx, part: &Part<T>, done: impl Fn(&T) -> String) -> String {
    match part {
        Part::Idle => String::new(),
        Part::Running => t.later().api_running.to_string(),
        Part::Done(v) => done(v),
        Part::NeedsAdmin => t.later().api_users_need_admin.to_string(),
        Part::Blocked => t.ip_blocked.to_string(),
        Part::Skipped => t.later().api_skipped.to_string(),
        Part::Failed(why) => fill(t.later().api_failed, &[&why.text(t)]),
    }
}

fn summary(t: &'static Tx, c: &Check) -> Option<(bool, String)> {
    if c.running || !(c.finished || c.stopped) {
        return None;
    }
    if c.stopped {
        return Some((
            false,
            fill(
                t.later().api_summary_stopped,
                &[&c.leads.counted.to_string()],
            ),
        ));
    }
    if !c.passed() {
        return Some((false, t.later().api_summary_failed.to_string()));
    }
    let account = match &c.account {
        Part::Done(a) => a.name.clone(),
        _ => String::new(),
    };
    let users = match &c.users {
        Part::Done(n) => n.to_string(),
        _ => t.later().api_summary_users_admin.to_string(),
    };
    let pipelines = match &c.pipelines {
        Part::Done(p) => p.len().to_string(),
        _ => String::new(),
    };
    Some((
        true,
        fill(
            t.later().api_summary_ok,
            &[
                &account,
                &c.host,
                &users,
                &pipelines,
                &c.leads.counted.to_string(),
            ],
        ),
    ))
}

fn log_entry(t: &'static Tx, l: LogLine, host: String) -> impl IntoView {
    let status = l
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "—".into());
    let status_attr = status.clone();
    let retry = l.retry_in.map(|ms| {
        if ms == 0 {
            t.later().api_log_gave_up.to_string()
        } else {
            fill(
                t.later().api_log_retry,
                &[&format!("{}.{}", ms / 1000, ms % 1000 / 100)],
            )
        }
    });
    let request = format!("GET https://{host}{}\nAuthorization: {}", l.path, l.auth);
    let answer = match l.status {
        Some(s) => format!(
            "HTTP {s}{}{}\n\n{}",
            l.content_type
                .map(|c| format!(" · {c}"))
                .unwrap_or_default(),
            l.retry_after
                .map(|r| format!(" · Retry-After: {r}"))
                .unwrap_or_default(),
            l.body
        ),
        None => l.no_answer.map(|w| w.text(t)).unwrap_or(l.body),
    };
    view! {
        <li class="api-log-entry" data-status=status_attr data-ms=l.ms.to_string()>
            <details>
                <summary>
                    <span class="mono">{format!("#{} GET {}", l.n, l.path)}</span>
                    " · " <span class="log-status">{status}</span>
                    " · " <span class="log-ms">{fill(t.later().api_log_ms, &[&l.ms.to_string()])}</span>
                    {retry.map(|r| view! { " · " <span class="log-retry">{r}</span> })}
                </summary>
                <pre class="log-request">{request}</pre>
                <pre class="log-answer">{answer}</pre>
            </details>
        </li>
    }
}

/// The API check card.
#[component]
pub fn CheckStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let c = ctx.check.status;
    let running = move || c.with(|c| c.running);
    let leads_running = move || c.with(|c| c.running && matches!(c.leads.part, Part::Running));
    let host = move || ctx.current().map(|k| k.host).unwrap_or_default();
    let account = move || {
        c.with(|c| {
            part_text(t, &c.account, |a| {
                let user = a
                    .current_user_id
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "—".into());
                fill(
                    t.later().api_account_ok,
                    &[&a.name, &a.subdomain, &a.id.to_string(), &user],
                )
            })
        })
    };
    let users = move || {
        c.with(|c| {
            part_text(t, &c.users, |n| {
                fill(t.later().api_users_ok, &[&n.to_string()])
            })
        })
    };
    let pipelines = move || {
        c.with(|c| {
            part_text(t, &c.pipelines, |p| {
                fill(
                    t.later().api_pipelines_ok,
                    &[&p.len().to_string(), &p.join(", ")],
                )
            })
        })
    };
    let leads = move || {
        c.with(|c| match &c.leads.part {
            Part::Running => fill(
                t.later().api_leads_progress,
                &[
                    &c.leads.counted.to_string(),
                    &(c.leads.pages + 1).to_string(),
                ],
            ),
            Part::Skipped if c.leads.stopped => {
                fill(t.later().api_leads_stopped, &[&c.leads.counted.to_string()])
            }
            other => part_text(t, other, |n| {
                fill(
                    t.later().api_leads_ok,
                    &[&n.to_string(), &c.leads.pages.to_string()],
                )
            }),
        })
    };
    let line = |id: &'static str,
                label: &'static str,
                key: fn(&Check) -> &'static str,
                text: Box<dyn Fn() -> String + Send + Sync>| {
        view! {
            <li id=id data-state=move || c.with(key)>
                <span class="api-label">{label}</span>
                " "
                <span class="api-value">{text}</span>
            </li>
        }
    };
    let on_stop = move |_| ctx.stop_check();
    view! {
        <section id=ids::API_SECTION class="card" aria-labelledby=ids::API_H>
            <h2 id=ids::API_H>{t.later().api_title}</h2>
            <p class="lead">{move || fill(t.later().api_intro, &[&host()])}</p>
            <p class="help">{t.later().api_pacing}</p>
            <div class="actions">
                <button
                    type="button"
                    id=ids::API_CHECK
                    class="btn btn-primary"
                    disabled=running
                    aria-busy=move || running().to_string()
                    on:click=move |_| ctx.run_check()
                >
                    {move || if running() { t.later().api_checking } else if c.with(|c| c.finished || c.stopped) { t.later().api_check_again } else { t.later().api_check }}
                </button>
            </div>
            <ul class="api-parts" aria-live="polite">
                {line(ids::API_ACCOUNT, t.later().api_account, |c| c.account.key(), Box::new(account))}
                {line(ids::API_USERS, t.later().api_users, |c| c.users.key(), Box::new(users))}
                {line(ids::API_PIPELINES, t.later().api_pipelines, |c| c.pipelines.key(), Box::new(pipelines))}
                <li id=ids::API_LEADS data-state=move || c.with(|c| if c.leads.stopped { "stopped" } else { c.leads.part.key() })>
                    <span class="api-label">{t.later().api_leads}</span>
                    " "
                    <span class="api-value">{leads}</span>
                    <Show when=move || c.with(|c| !matches!(c.leads.part, Part::Idle))>
                        <div class="row leads-row">
                            // Indeterminate while paging (there is no count endpoint); full once the 204 came.
                            <progress
                                id=ids::LEADS_PROGRESS
                                class="grow"
                                max="1"
                                aria-label=t.later().api_leads
                                data-pages=move || c.with(|c| c.leads.pages.to_string())
                                value=move || c.with(|c| (!matches!(c.leads.part, Part::Running)).then_some("1"))
                            ></progress>
                            <Show when=leads_running>
                                <button type="button" id=ids::LEADS_STOP class="btn btn-small" on:click=on_stop>
                                    {t.later().api_stop}
                                </button>
                            </Show>
                        </div>
                    </Show>
                </li>
            </ul>
            {move || c.with(|c| summary(t, c)).map(|(ok, text)| view! {
                <p id=ids::API_SUMMARY class=if ok { "ok-note" } else { "warn" } data-ok=if ok { "1" } else { "0" } role="status">
                    {text}
                </p>
            })}
            <Show when=move || c.with(|c| !c.log.is_empty())>
                <h3 id=ids::API_LOG_H>{t.later().api_log_title}</h3>
                <p class="help">{t.later().api_log_help}</p>
                <ol id=ids::API_LOG class="api-log" aria-labelledby=ids::API_LOG_H>
                    <For
                        each=move || c.with(|c| c.log.clone())
                        key=|l| l.n
                        children=move |l| log_entry(t, l, c.with_untracked(|c| c.host.clone()))
                    />
                </ol>
            </Show>
        </section>
    }
    .into_any()
}
