//! `kommo-env check`: the page's API check in a terminal (the old guide's `test-kommo.ts`).

use std::time::{Duration, Instant};

use kommo::api::{mask_token, Backoff, Pacer};
use kommo::apicheck::{Answer, ApiCheck, Part, Report, Verdict};
use serde::Serialize;

use crate::args::CheckArgs;
use crate::fail::{Exit, Failure, Result};
use crate::refresh::account_host;
use crate::tokens;
use crate::values::{from_file, EnvText};
use crate::Ctx;

/// One request as the check log shows it.
#[derive(Debug, Serialize)]
struct Sent {
    path: String,
    /// `None`: no answer.
    status: Option<u16>,
    ms: u64,
    /// After a 429: how long the check waited before retrying; 0: it gave up.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_in_ms: Option<u64>,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Output<'a> {
    passed: bool,
    verdict: Verdict,
    env_file: &'a str,
    account_host: String,
    account_host_from: String,
    /// The masked access token.
    token: String,
    token_expires_at: Option<String>,
    report: &'a Report,
    requests: &'a [Sent],
    retries_after_429: usize,
}

fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

pub async fn run(ctx: &Ctx, args: &CheckArgs) -> Result<()> {
    let shown = ctx.shown().to_string();
    let text = ctx
        .target
        .read()?
        .ok_or_else(|| Failure::bad(format!("{shown}: no such file")))?;
    let env = EnvText::parse(&shown, text)?;
    let at_name = ctx.var("ACCESS_TOKEN");
    let token = from_file(&env, &shown, &at_name)?;
    let (host, host_said) = account_host(ctx, Some(&env), Some(&token))?;
    let expires = kommo::jwt::decode_payload(&token).ok().and_then(|c| c.exp);
    let human = !args.json;
    if human {
        ctx.say(format!(
            "Checking {host} ({host_said}) with {at_name} {}{}",
            mask_token(&token),
            tokens::expiry(&token)
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ));
    }

    let start = Instant::now();
    let mut pacer = Pacer::default();
    let mut check = ApiCheck::new();
    let mut sent: Vec<Sent> = Vec::new();
    while let Some(path) = check.next_path() {
        let mut backoff = Backoff::new();
        loop {
            let wait = pacer.wait_ms(elapsed_ms(start));
            if wait > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
            }
            pacer.sent(elapsed_ms(start));
            let t0 = Instant::now();
            let answer = ctx.upstream.api_get(&host, &path, &token).await;
            let ms = t0.elapsed().as_millis() as u64;
            match answer {
                Ok(reply) if reply.status == 429 => {
                    let delay = backoff.next_delay_ms(reply.retry_after.as_deref());
                    sent.push(Sent {
                        path: path.clone(),
                        status: Some(429),
                        ms,
                        retry_in_ms: Some(delay.unwrap_or(0)),
                    });
                    if human {
                        match delay {
                            Some(d) => ctx.say(format!(
                                "  429 Too Many Requests on {path}: waiting {:.1} s (retry {} of {})",
                                d as f64 / 1000.0,
                                backoff.attempts(),
                                kommo::api::MAX_RETRIES
                            )),
                            None => ctx.say(format!("  429 Too Many Requests on {path}: giving up")),
                        }
                    }
                    if let Some(d) = delay {
                        tokio::time::sleep(Duration::from_millis(d)).await;
                        continue;
                    }
                    check.fold(Answer::Got {
                        status: 429,
                        body: &reply.body,
                    });
                }
                Ok(reply) => {
                    sent.push(Sent {
                        path: path.clone(),
                        status: Some(reply.status),
                        ms,
                        retry_in_ms: None,
                    });
                    check.fold(Answer::Got {
                        status: reply.status,
                        body: &reply.body,
                    });
                }
                Err(no) => {
                    sent.push(Sent {
                        path: path.clone(),
                        status: None,
                        ms,
                        retry_in_ms: None,
                    });
                    check.fold(Answer::None(&no.text));
                }
            }
            break;
        }
    }

    let report = check.report();
    let verdict = check.verdict();
    let retries = sent.iter().filter(|s| s.status == Some(429)).count();
    if args.json {
        let out = Output {
            passed: verdict == Verdict::Passed,
            verdict,
            env_file: &shown,
            account_host: host.to_string(),
            account_host_from: host_said.clone(),
            token: mask_token(&token),
            token_expires_at: expires.map(tokens::rfc3339),
            report,
            requests: &sent,
            retries_after_429: retries,
        };
        // Printed even with --quiet: it is what was asked for.
        println!(
            "{}",
            serde_json::to_string(&out).expect("the check's output serializes")
        );
    } else {
        print_report(ctx, report);
        ctx.say(format!(
            "{} ({} requests, {} retried after 429, {:.1} s)",
            match verdict {
                Verdict::Passed => "passed",
                _ => "FAILED",
            },
            sent.len(),
            retries,
            start.elapsed().as_secs_f64()
        ));
    }
    match verdict {
        Verdict::Passed => Ok(()),
        Verdict::Refused => Err(Failure::new(
            Exit::Refused,
            format!("check failed: Kommo refused ({})", first_problem(report)),
        )
        .with(match &report.account {
            Part::Failed(f) if f.status == Some(401) => {
                "the access token does not work: run `kommo-env refresh`, then check again"
            }
            _ => "a 403 to what any user may read means Kommo blocks this IP for a while (too many requests)",
        })),
        Verdict::Trouble => Err(Failure::new(
            Exit::Trouble,
            format!("check failed: {}", first_problem(report)),
        )),
    }
}

fn first_problem(r: &Report) -> String {
    fn p<T>(name: &str, part: &Part<T>) -> Option<String> {
        match part {
            Part::Failed(f) => Some(format!("{name}: {}", f.text)),
            Part::Blocked => Some(format!("{name}: 403, the IP is blocked")),
            _ => None,
        }
    }
    p("account", &r.account)
        .or_else(|| p("users", &r.users))
        .or_else(|| p("pipelines", &r.pipelines))
        .or_else(|| p("leads", &r.leads))
        .unwrap_or_else(|| "not finished".to_string())
}

fn print_report(ctx: &Ctx, r: &Report) {
    fn line<T>(ctx: &Ctx, name: &str, part: &Part<T>, ok: impl Fn(&T) -> String) {
        let text = match part {
            Part::Pending => "not asked".to_string(),
            Part::Ok(v) => format!("ok  {}", ok(v)),
            Part::NeedsAdmin => {
                "needs an admin (403: this token's user is not an account admin; the rest works)"
                    .to_string()
            }
            Part::Blocked => "BLOCKED (403: Kommo blocks this IP for a while)".to_string(),
            Part::Skipped => "skipped".to_string(),
            Part::Failed(f) => format!("FAILED  {}", f.text),
        };
        ctx.say(format!("  {name:<10} {text}"));
    }
    line(ctx, "account", &r.account, |a| {
        let mut s = format!("{} (id {}, subdomain {}", a.name, a.id, a.subdomain);
        if let Some(u) = a.current_user_id {
            s.push_str(&format!(", user {u}"));
        }
        s + ")"
    });
    line(ctx, "users", &r.users, |n| n.to_string());
    line(ctx, "pipelines", &r.pipelines, |names| {
        if names.is_empty() {
            "0".to_string()
        } else {
            format!("{}: {}", names.len(), names.join(", "))
        }
    });
    line(ctx, "leads", &r.leads, |n| {
        format!(
            "{n} ({} pages of up to {})",
            r.leads_pages,
            kommo::api::LEADS_PAGE_LIMIT
        )
    });
}
