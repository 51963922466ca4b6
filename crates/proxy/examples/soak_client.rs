//! The client side of `faults.sh`: sends token posts and API reads through a running `kommo-proxy` whose
//! `--upstream-base` is `fault_upstream`, and checks every answer against the proxy's documented contract.
//!
//! ```text
//! soak_client faults PROXY_URL     # each fault once (token POST and API GET), concurrently, plus a rate-limit burst
//! soak_client soak PROXY_URL       # SOAK_SECS (600) at SOAK_RATE (50) requests/s, faults mixed in, bursts every 5 s
//! ```
//!
//! The proxy must run with `--trust-forwarded-for` (each request names a client IP in `X-Forwarded-For`, so that the
//! rate limits stay on while one process sends 50 requests a second) and hold `SOAK_CLIENT_ID` with some secret.
//! Environment: `SOAK_CLIENT_ID` (the held integration id), `SOAK_MARK` (a unique marker: every code, token, secret
//! and query value sent contains it, so the caller can grep the proxy's log for it), `SOAK_TIMEOUT_MS` (the proxy's
//! `--timeout-ms`, default 20000), `SOAK_RATE_LIMIT` (the proxy's `--rate-limit`, default 7).
//!
//! Expected answers (crates/proxy/README.md): `ok` 200 with tokens; `html` 502 `upstream_not_json` carrying the
//! upstream's 502 and `text/html`; `reset` 502 `upstream_interrupted`; `big` 500 `internal` (over the 8 MiB cap);
//! `slow` and `trickle` 504 `upstream_timeout` at the proxy's timeout; a burst of limit + 1 requests from one client
//! for one account: `limit` answered, one 429 `rate_limited` with `Retry-After`. Prints counts, the status and error
//! mix and p50/p99/max per kind; exits 1 when any answer broke the contract or its time bound.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Ok,
    Html,
    Reset,
    Big,
    Slow,
    Trickle,
    Burst,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Ok | Kind::Burst => "ok",
            Kind::Html => "html",
            Kind::Reset => "reset",
            Kind::Big => "big",
            Kind::Slow => "slow",
            Kind::Trickle => "trickle",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Burst => "burst",
            k => k.label(),
        }
    }
    /// (status, proxy_error) the contract asks for; `Burst` is checked as a group.
    fn expected(self) -> (u16, Option<&'static str>) {
        match self {
            Kind::Ok | Kind::Burst => (200, None),
            Kind::Html => (502, Some("upstream_not_json")),
            Kind::Reset => (502, Some("upstream_interrupted")),
            Kind::Big => (500, Some("internal")),
            Kind::Slow | Kind::Trickle => (504, Some("upstream_timeout")),
        }
    }
    /// The time window an answer must arrive in.
    fn bounds(self, timeout: Duration) -> (Duration, Duration) {
        match self {
            Kind::Slow | Kind::Trickle => (
                timeout.saturating_sub(Duration::from_millis(500)),
                timeout + Duration::from_secs(3),
            ),
            Kind::Big => (Duration::ZERO, Duration::from_secs(10)),
            _ => (Duration::ZERO, Duration::from_secs(5)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Method {
    Token,
    TokenForm,
    Api,
}

struct Outcome {
    kind: Kind,
    method: Method,
    status: Option<u16>,
    code: Option<String>,
    elapsed: Duration,
    problem: Option<String>,
}

struct Ctx {
    http: reqwest::Client,
    proxy: String,
    client_id: String,
    mark: String,
    timeout: Duration,
    rate_limit: usize,
    seq: AtomicU64,
    results: Mutex<Vec<Outcome>>,
}

impl Ctx {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Send one request of `kind` by `method` as client `ip`; record and return its outcome.
    async fn send(
        &self,
        kind: Kind,
        method: Method,
        ip: &str,
        account: &str,
    ) -> (Option<u16>, Option<String>) {
        let n = self.next();
        let mark = &self.mark;
        let req = match method {
            Method::Token => {
                // Odd requests carry their own secret and refresh; even ones leave the secret to the proxy.
                let body = if n & 1 == 0 {
                    format!(
                        r#"{{"client_id":"{}","client_secret":"","grant_type":"authorization_code","code":"def502code{mark}{n}","redirect_uri":"https://helper.example/callback"}}"#,
                        self.client_id
                    )
                } else {
                    format!(
                        r#"{{"client_id":"{}","client_secret":"sec{mark}{n}","grant_type":"refresh_token","refresh_token":"def502refresh{mark}{n}","redirect_uri":"https://helper.example/callback"}}"#,
                        self.client_id
                    )
                };
                self.http
                    .post(format!("{}/oauth2/access_token", self.proxy))
                    .header("content-type", "application/json")
                    .body(body)
            }
            Method::TokenForm => {
                let body = format!(
                    "client_id={}&client_secret=&grant_type=authorization_code&code=def502form{mark}{n}&redirect_uri=https%3A%2F%2Fhelper.example%2Fcallback",
                    self.client_id
                );
                self.http
                    .post(format!("{}/oauth2/access_token", self.proxy))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
            }
            Method::Api => self
                .http
                .get(format!(
                    "{}/api/v4/leads?with=contacts&filter%5Bquery%5D=q{mark}{n}",
                    self.proxy
                ))
                .header("authorization", format!("Bearer eyJtoken{mark}{n}")),
        };
        let started = Instant::now();
        let sent = req
            .header("x-kommo-account", account)
            .header("x-forwarded-for", ip)
            .send()
            .await;
        let (status, code, retry_after, body) = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp.headers().contains_key("retry-after");
                let body = resp.bytes().await.map(|b| b.to_vec());
                match body {
                    Ok(body) => (Some(status), None, retry_after, Ok(body)),
                    Err(e) => (Some(status), None, retry_after, Err(e.to_string())),
                }
            }
            Err(e) => (None, None::<String>, false, Err(e.to_string())),
        };
        let elapsed = started.elapsed();
        let mut problem = None;
        let mut code = code;
        match &body {
            Err(e) => problem = Some(format!("transport error: {e}")),
            Ok(body) => match serde_json::from_slice::<serde_json::Value>(body) {
                Err(_) => problem = Some(format!("answer is not JSON ({} bytes)", body.len())),
                Ok(v) => {
                    code = v
                        .get("proxy_error")
                        .and_then(|c| c.as_str())
                        .map(str::to_string);
                    let status = status.unwrap_or(0);
                    if kind == Kind::Burst && status == 429 {
                        if code.as_deref() != Some("rate_limited") || !retry_after {
                            problem = Some("429 without rate_limited and Retry-After".to_string());
                        }
                    } else {
                        let (want_status, want_code) = kind.expected();
                        if status != want_status || code.as_deref() != want_code {
                            problem = Some(format!(
                                "got {status} {code:?}, want {want_status} {want_code:?}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(300)])
                            ));
                        } else if kind == Kind::Html
                            && (v["upstream_status"] != 502
                                || v["upstream_content_type"] != "text/html")
                        {
                            problem = Some(format!(
                                "upstream_not_json without the upstream's 502 text/html: {v}"
                            ));
                        } else if want_status == 200 && v.get("access_token").is_none() {
                            problem = Some(format!("200 without tokens: {v}"));
                        }
                    }
                }
            },
        }
        let (lo, hi) = kind.bounds(self.timeout);
        if problem.is_none() && (elapsed < lo || elapsed > hi) {
            problem = Some(format!(
                "answered after {:.2} s, outside {:.1}–{:.1} s",
                elapsed.as_secs_f64(),
                lo.as_secs_f64(),
                hi.as_secs_f64()
            ));
        }
        let out = (status, code.clone());
        self.results.lock().unwrap().push(Outcome {
            kind,
            method,
            status,
            code,
            elapsed,
            problem,
        });
        out
    }

    /// `rate_limit + 1` requests at once from one fresh client for one account: exactly one must be refused.
    async fn burst(self: &Arc<Self>, ip: String) -> Option<String> {
        let account = format!("ok-{}.kommo.com", ip.replace([':', '.'], "x"));
        let mut tasks = Vec::new();
        for i in 0..=self.rate_limit {
            let ctx = self.clone();
            let ip = ip.clone();
            let account = account.clone();
            let method = if i % 2 == 0 {
                Method::Token
            } else {
                Method::Api
            };
            tasks.push(tokio::spawn(async move {
                ctx.send(Kind::Burst, method, &ip, &account).await
            }));
        }
        let mut refused = 0;
        let mut answered = 0;
        for t in tasks {
            match t.await.ok()?.0 {
                Some(429) => refused += 1,
                Some(200) => answered += 1,
                _ => {}
            }
        }
        (refused != 1 || answered != self.rate_limit).then(|| {
            format!(
                "burst of {} from {ip}: {answered} answered, {refused} refused (want {} and 1)",
                self.rate_limit + 1,
                self.rate_limit
            )
        })
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The client IP of paced request `i`: 4096 addresses in 198.18.0.0/15 (the benchmarking range), so that no one
/// client comes near the per-client limits at 50 requests a second.
fn client_ip(i: u64) -> String {
    let i = i % 4096;
    format!("198.18.{}.{}", i / 256, i % 256)
}

/// The kind of paced request `i`: out of every 100, 84 fine (token and API alternating), 4 each `html`, `reset`
/// and `big`, 2 each `slow` and `trickle`.
fn mix(i: u64) -> (Kind, Method) {
    let slot = i % 100;
    let kind = match slot {
        10 | 35 | 60 | 85 => Kind::Html,
        15 | 40 | 65 | 90 => Kind::Reset,
        20 | 45 | 70 | 95 => Kind::Big,
        25 | 75 => Kind::Slow,
        30 | 80 => Kind::Trickle,
        _ => Kind::Ok,
    };
    let method = match (i / 100 + slot) % 3 {
        0 => Method::Token,
        1 => Method::Api,
        _ if kind == Kind::Ok => Method::TokenForm,
        _ => Method::Api,
    };
    (kind, method)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `sending`: how long requests were being sent (their rate); `wall`: until the last answer.
fn report(
    results: &[Outcome],
    burst_problems: &[String],
    sending: Duration,
    wall: Duration,
) -> bool {
    let total = results.len();
    let answered = results.iter().filter(|r| r.status.is_some()).count();
    println!(
        "requests {total} sent over {:.1} s ({:.1}/s), last answer after {:.1} s, answered {answered}, transport errors {}",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64().max(0.001),
        wall.as_secs_f64(),
        total - answered
    );
    let mut mix: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        let key = match (r.status, &r.code) {
            (Some(s), Some(c)) => format!("{s} {c}"),
            (Some(s), None) => s.to_string(),
            (None, _) => "no answer".to_string(),
        };
        *mix.entry(key).or_default() += 1;
    }
    let mix: Vec<String> = mix.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    println!("status mix: {}", mix.join(", "));
    println!(
        "{:<8} {:>7} {:>10} {:>10} {:>10}   (latency ms)",
        "kind", "count", "p50", "p99", "max"
    );
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    for r in results {
        by_kind.entry(r.kind).or_default().push(r.elapsed);
    }
    for (kind, mut lat) in by_kind {
        lat.sort();
        println!(
            "{:<8} {:>7} {:>10} {:>10} {:>10}",
            kind.name(),
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(*lat.last().unwrap_or(&Duration::ZERO))
        );
    }
    let mut ok_lat: Vec<Duration> = results
        .iter()
        .filter(|r| r.kind == Kind::Ok)
        .map(|r| r.elapsed)
        .collect();
    ok_lat.sort();
    if !ok_lat.is_empty() {
        for m in [Method::Token, Method::TokenForm, Method::Api] {
            let mut l: Vec<Duration> = results
                .iter()
                .filter(|r| r.kind == Kind::Ok && r.method == m)
                .map(|r| r.elapsed)
                .collect();
            l.sort();
            if !l.is_empty() {
                println!(
                    "  ok {:<10} {:>7} {:>10} {:>10} {:>10}",
                    format!("{m:?}"),
                    l.len(),
                    ms(percentile(&l, 0.5)),
                    ms(percentile(&l, 0.99)),
                    ms(*l.last().unwrap())
                );
            }
        }
    }
    let problems: Vec<&Outcome> = results.iter().filter(|r| r.problem.is_some()).collect();
    println!(
        "contract violations {} (+ {} bursts)",
        problems.len(),
        burst_problems.len()
    );
    for p in problems.iter().take(10) {
        println!(
            "  {} {:?}: {}",
            p.kind.name(),
            p.method,
            p.problem.as_deref().unwrap_or("")
        );
    }
    for b in burst_problems.iter().take(10) {
        println!("  {b}");
    }
    problems.is_empty() && burst_problems.is_empty() && total > 0
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(proxy)) = (args.next(), args.next()) else {
        eprintln!("usage: soak_client faults|soak PROXY_URL");
        return std::process::ExitCode::from(2);
    };
    let timeout = Duration::from_millis(env_or("SOAK_TIMEOUT_MS", 20_000u64));
    let ctx = Arc::new(Ctx {
        http: reqwest::Client::builder()
            .timeout(timeout + Duration::from_secs(30))
            .build()
            .expect("client"),
        proxy: proxy.trim_end_matches('/').to_string(),
        client_id: std::env::var("SOAK_CLIENT_ID").unwrap_or_else(|_| "bench-client".to_string()),
        mark: std::env::var("SOAK_MARK").unwrap_or_else(|_| "MARK".to_string()),
        timeout,
        rate_limit: env_or("SOAK_RATE_LIMIT", 7usize),
        seq: AtomicU64::new(0),
        results: Mutex::new(Vec::new()),
    });
    let started = Instant::now();
    let sending;
    let mut burst_problems = Vec::new();
    match mode.as_str() {
        "faults" => {
            let mut tasks = Vec::new();
            let kinds = [
                Kind::Ok,
                Kind::Html,
                Kind::Reset,
                Kind::Big,
                Kind::Slow,
                Kind::Trickle,
            ];
            for (i, kind) in kinds.into_iter().enumerate() {
                for (j, method) in [Method::Token, Method::TokenForm, Method::Api]
                    .into_iter()
                    .enumerate()
                {
                    let ctx = ctx.clone();
                    let ip = format!("198.19.0.{}", i * 3 + j + 1);
                    tasks.push(tokio::spawn(async move {
                        let account = format!("{}.kommo.com", kind.label());
                        ctx.send(kind, method, &ip, &account).await;
                    }));
                }
            }
            if let Some(p) = ctx.burst("198.19.1.1".to_string()).await {
                burst_problems.push(p);
            }
            sending = started.elapsed();
            for t in tasks {
                let _ = t.await;
            }
        }
        "soak" => {
            let secs: f64 = env_or("SOAK_SECS", 600.0);
            let rate: f64 = env_or("SOAK_RATE", 50.0);
            let n = (secs * rate).round() as u64;
            let bursts = Arc::new(Mutex::new(Vec::new()));
            let mut tasks = Vec::with_capacity(n as usize);
            let t0 = tokio::time::Instant::now();
            let mut next_report = 60.0;
            for i in 0..n {
                let at = t0 + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(at).await;
                let (kind, method) = mix(i);
                let ctx2 = ctx.clone();
                let ip = client_ip(i);
                tasks.push(tokio::spawn(async move {
                    let account = format!("{}.kommo.com", kind.label());
                    ctx2.send(kind, method, &ip, &account).await;
                }));
                // Every 5 s, a burst from a fresh client: the limiter must refuse exactly one.
                if i % (rate as u64 * 5).max(1) == 0 {
                    let ctx3 = ctx.clone();
                    let bursts = bursts.clone();
                    let ip = format!("198.19.{}.{}", 2 + (i / 65536) % 200, (i / 256) % 256);
                    tasks.push(tokio::spawn(async move {
                        if let Some(p) = ctx3.burst(ip).await {
                            bursts.lock().unwrap().push(p);
                        }
                    }));
                }
                let t = started.elapsed().as_secs_f64();
                if t >= next_report {
                    next_report += 60.0;
                    let done = ctx.results.lock().unwrap().len();
                    println!("  … {t:.0} s: {} sent, {done} answered", i + 1);
                }
            }
            sending = started.elapsed();
            for t in tasks {
                let _ = t.await;
            }
            burst_problems = bursts.lock().unwrap().clone();
        }
        other => {
            eprintln!("soak_client: unknown mode {other:?} (faults or soak)");
            return std::process::ExitCode::from(2);
        }
    }
    let results = std::mem::take(&mut *ctx.results.lock().unwrap());
    if report(&results, &burst_problems, sending, started.elapsed()) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}
