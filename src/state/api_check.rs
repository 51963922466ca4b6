//! The API check (the old guide's `test-kommo.ts`): account, users, pipelines and the leads total, through the
//! proxy to the account host from `referer`, paced under Kommo's rate limit, backing off on 429, every request
//! logged with its token masked. The rules are in [`kommo::api`]; this is the browser's loop around them.

use kommo::api::{
    mask_in, mask_token, problem_text_with, read_account_with, read_pipelines_with,
    read_users_with, Backoff, LeadPager, PageError, PageOutcome, Status, ACCOUNT_PATH,
    PIPELINES_PATH, USERS_PATH,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::{browser, json, ApiError, Ctx};

/// How much of an answer body the request log keeps.
const LOG_BODY_MAX: usize = 3000;

/// One part of the check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Part<T> {
    #[default]
    Idle,
    Running,
    Done(T),
    /// Users only: 403, the token's user is not an admin.
    NeedsAdmin,
    /// 403 to a request any user may make (account, pipelines, leads) — Kommo has blocked the proxy's IP. Nothing
    /// more is asked.
    Blocked,
    /// Not asked: an earlier part showed the token does not work, or the check was stopped.
    Skipped,
    Failed(Why),
}

/// Why a part failed. Kept as data, not text, so a language switch re-words the page's own messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The proxy at this address did not answer.
    NoProxy(String),
    /// The answer from this address was lost on the way.
    AnswerLost(String),
    /// Kommo's problem, or what in its answer could not be read: Kommo's words and protocol terms, as they are.
    Said(String),
}

impl Why {
    /// The text in the language of `t`.
    pub fn text(&self, t: &crate::i18n::Tx) -> String {
        match self {
            Why::NoProxy(url) => crate::i18n::fill(t.api_no_proxy, &[url]),
            Why::AnswerLost(url) => crate::i18n::fill(t.api_answer_lost, &[url]),
            Why::Said(text) => text.clone(),
        }
    }
}

impl<T> Part<T> {
    /// The `data-state` value.
    pub fn key(&self) -> &'static str {
        match self {
            Part::Idle => "idle",
            Part::Running => "running",
            Part::Done(_) => "ok",
            Part::NeedsAdmin => "needs-admin",
            Part::Blocked => "blocked",
            Part::Skipped => "skipped",
            Part::Failed(_) => "failed",
        }
    }
}

/// What `/api/v4/account` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSeen {
    pub id: i64,
    pub name: String,
    pub subdomain: String,
    pub current_user_id: Option<i64>,
}

/// Paging through leads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Leads {
    pub part: Part<u64>,
    /// Pages received so far.
    pub pages: u32,
    /// Leads counted so far.
    pub counted: u64,
    /// Stopped by the user before the end.
    pub stopped: bool,
}

/// One request of the log, as shown (token masked, body cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub n: u32,
    pub path: String,
    /// `None`: no answer (proxy unreachable, answer lost).
    pub status: Option<u16>,
    pub ms: u32,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    /// The masked `Authorization` header.
    pub auth: String,
    pub body: String,
    /// No answer: why (shown instead of a body, in the page's current language).
    pub no_answer: Option<Why>,
    /// After a 429: how long the check waits before retrying (ms); `Some(0)` means it gave up.
    pub retry_in: Option<u64>,
}

/// The whole check's state (lives in [`Ctx`], so a language switch keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Check {
    pub running: bool,
    /// The account host the check ran against.
    pub host: String,
    pub account: Part<AccountSeen>,
    pub users: Part<u64>,
    pub pipelines: Part<Vec<String>>,
    pub leads: Leads,
    pub log: Vec<LogLine>,
    /// The check reached its end (not stopped).
    pub finished: bool,
    pub stopped: bool,
}

impl Check {
    /// Every part succeeded (users may need an admin).
    pub fn passed(&self) -> bool {
        self.finished
            && matches!(self.account, Part::Done(_))
            && matches!(self.users, Part::Done(_) | Part::NeedsAdmin)
            && matches!(self.pipelines, Part::Done(_))
            && matches!(self.leads.part, Part::Done(_))
    }
}

/// Why the loop stopped asking.
enum Halt {
    /// Stop was pressed, or a newer check / new tokens replaced this one.
    Stopped,
}

/// A request's result as the check sees it.
enum Got {
    Answer { status: u16, body: String },
    NoAnswer(Why),
}

struct Run {
    ctx: Ctx,
    generation: u32,
    base: String,
    host: String,
    token: String,
}

impl Run {
    fn live(&self) -> bool {
        self.ctx.check_gen.try_get_value() == Some(self.generation)
    }

    fn update(&self, f: impl FnOnce(&mut Check)) {
        if self.live() {
            self.ctx.check.update(f);
        }
    }

    /// One GET, paced, retried after 429 with back-off. Every attempt goes to the log.
    async fn get(&mut self, path: &str) -> Result<Got, Halt> {
        let mut backoff = Backoff::new();
        loop {
            // One pacer for every run: a check started right after a stopped one still keeps the spacing.
            let wait = self.ctx.pacer.with_value(|p| p.wait_ms(browser::now_ms()));
            if wait > 0.0 {
                browser::sleep_ms(wait.ceil() as i32).await;
            }
            if !self.live() {
                return Err(Halt::Stopped);
            }
            let started = browser::now_ms();
            self.ctx.pacer.update_value(|p| p.sent(started));
            let api = self.ctx.api.get_value();
            let result = api.api_get(&self.base, &self.host, path, &self.token).await;
            let ms = (browser::now_ms() - started).max(0.0) as u32;
            if !self.live() {
                return Err(Halt::Stopped);
            }
            let auth = format!("Bearer {}", mask_token(&self.token));
            let mut line = LogLine {
                n: 0,
                path: path.to_string(),
                status: None,
                ms,
                content_type: None,
                retry_after: None,
                auth,
                body: String::new(),
                no_answer: None,
                retry_in: None,
            };
            let got = match result {
                Ok(a) => {
                    line.status = Some(a.status);
                    line.content_type = a.content_type.clone();
                    line.retry_after = a.retry_after.clone();
                    let masked = mask_in(&a.body, &self.token);
                    line.body = if masked.chars().count() > LOG_BODY_MAX {
                        let cut: String = masked.chars().take(LOG_BODY_MAX).collect();
                        format!("{cut}…")
                    } else {
                        masked
                    };
                    if a.status == 429 {
                        let delay = backoff.next_delay_ms(a.retry_after.as_deref());
                        line.retry_in = Some(delay.unwrap_or(0));
                        self.push(line);
                        if let Some(d) = delay {
                            browser::sleep_ms(d as i32).await;
                            continue;
                        }
                        return Ok(Got::Answer {
                            status: a.status,
                            body: a.body,
                        });
                    }
                    Got::Answer {
                        status: a.status,
                        body: a.body,
                    }
                }
                Err(e) => {
                    let why = match e {
                        ApiError::ProxyUnreachable { url } => Why::NoProxy(url),
                        ApiError::AnswerLost { url } => Why::AnswerLost(url),
                        other => Why::Said(other.to_string()),
                    };
                    line.no_answer = Some(why.clone());
                    Got::NoAnswer(why)
                }
            };
            self.push(line);
            return Ok(got);
        }
    }

    fn push(&self, mut line: LogLine) {
        self.update(|c| {
            line.n = c.log.len() as u32 + 1;
            c.log.push(line);
        });
    }
}

fn failure(got: &Got) -> Why {
    match got {
        Got::Answer { status, body } => Why::Said(problem_text_with(*status, body, json::parse)),
        Got::NoAnswer(why) => why.clone(),
    }
}

fn status_is(got: &Got, want: Status) -> bool {
    matches!(got, Got::Answer { status, .. } if Status::of(*status) == want)
}

impl Ctx {
    /// Start the API check with the tokens in hand (a running one is replaced).
    pub fn run_check(&self) {
        untrack(|| self.run_check_untracked())
    }

    fn run_check_untracked(&self) {
        let Some(kept) = self.current() else { return };
        self.check_gen.update_value(|g| *g += 1);
        let generation = self.check_gen.get_value();
        self.check.set(Check {
            running: true,
            host: kept.host.clone(),
            ..Check::default()
        });
        let run = Run {
            ctx: *self,
            generation,
            base: self.proxy_base(),
            host: kept.host,
            token: kept.access_token,
        };
        spawn_local(async move {
            let mut run = run;
            let _ = check(&mut run).await;
            // Whatever happened, this run is over (unless a newer one took its place).
            run.update(|c| c.running = false);
        });
    }

    /// Stop the running check: nothing more is sent once the request in flight (if any) is back.
    pub fn stop_check(&self) {
        self.check_gen.update_value(|g| *g += 1);
        self.check.update(|c| {
            if c.running {
                c.running = false;
                c.stopped = true;
                fn skip<T>(p: &mut Part<T>) {
                    if matches!(p, Part::Idle | Part::Running) {
                        *p = Part::Skipped;
                    }
                }
                skip(&mut c.account);
                skip(&mut c.users);
                skip(&mut c.pipelines);
                if matches!(c.leads.part, Part::Idle | Part::Running) {
                    c.leads.part = Part::Skipped;
                    c.leads.stopped = true;
                }
            }
        });
    }

    /// Forget a check (new tokens, start over).
    pub fn reset_check(&self) {
        self.check_gen.update_value(|g| *g += 1);
        self.check.set(Check::default());
    }
}

async fn check(run: &mut Run) -> Result<(), Halt> {
    // 1. Account: any user may read it.
    run.update(|c| c.account = Part::Running);
    let got = run.get(ACCOUNT_PATH).await?;
    // Go on? And was the account read (so a 403 on users can only mean "not an admin")?
    let (account_ok, account_read) = match &got {
        Got::Answer { status, body } if Status::of(*status) == Status::Ok => {
            match read_account_with(body, json::parse) {
                Ok(a) => {
                    run.update(|c| {
                        c.account = Part::Done(AccountSeen {
                            id: a.id,
                            name: a.name,
                            subdomain: a.subdomain,
                            current_user_id: a.current_user_id,
                        })
                    });
                    (true, true)
                }
                Err(e) => {
                    run.update(|c| c.account = Part::Failed(Why::Said(e.to_string())));
                    (true, false)
                }
            }
        }
        // Any user may read the account, so a 403 here is Kommo blocking the proxy's IP (too many requests):
        // asking more would only prolong the block.
        _ if status_is(&got, Status::Forbidden) => {
            run.update(|c| c.account = Part::Blocked);
            (false, false)
        }
        _ => {
            let why = failure(&got);
            run.update(|c| c.account = Part::Failed(why));
            // 401: the token does not work at all, the later parts are not asked.
            (!status_is(&got, Status::Unauthorized), false)
        }
    };
    if !account_ok {
        run.update(|c| {
            c.users = Part::Skipped;
            c.pipelines = Part::Skipped;
            c.leads.part = Part::Skipped;
            c.finished = true;
        });
        return Ok(());
    }

    // 2. Users: admins only.
    run.update(|c| c.users = Part::Running);
    let got = run.get(USERS_PATH).await?;
    let part = match &got {
        Got::Answer { status, body } => match Status::of(*status) {
            Status::Ok => read_users_with(body, json::parse)
                .map(Part::Done)
                .unwrap_or_else(|e| Part::Failed(Why::Said(e.to_string()))),
            Status::Forbidden if account_read => Part::NeedsAdmin,
            _ => Part::Failed(failure(&got)),
        },
        Got::NoAnswer(_) => Part::Failed(failure(&got)),
    };
    run.update(|c| c.users = part);

    // 3. Pipelines.
    run.update(|c| c.pipelines = Part::Running);
    let got = run.get(PIPELINES_PATH).await?;
    let part = match &got {
        Got::Answer { status, body } if Status::of(*status) == Status::Ok => {
            read_pipelines_with(body, json::parse)
                .map(Part::Done)
                .unwrap_or_else(|e| Part::Failed(Why::Said(e.to_string())))
        }
        // Any user may read pipelines: a 403 is the IP block, and asking for leads would only prolong it.
        _ if status_is(&got, Status::Forbidden) => {
            run.update(|c| {
                c.pipelines = Part::Blocked;
                c.leads.part = Part::Skipped;
                c.finished = true;
            });
            return Ok(());
        }
        _ => Part::Failed(failure(&got)),
    };
    run.update(|c| c.pipelines = part);

    // 4. Leads: there is no count endpoint, so page through them until the empty 204.
    run.update(|c| c.leads.part = Part::Running);
    let mut pager = LeadPager::default();
    while let Some(path) = pager.next_path() {
        let got = run.get(&path).await?;
        let (status, body) = match &got {
            Got::Answer { status, body } => (*status, body.as_str()),
            Got::NoAnswer(_) => {
                let why = failure(&got);
                run.update(|c| c.leads.part = Part::Failed(why));
                break;
            }
        };
        match pager.fold_with(status, body, json::parse) {
            Ok(PageOutcome::More(_)) => {
                let (pages, counted) = (pager.page() - 1, pager.total());
                run.update(|c| {
                    c.leads.pages = pages;
                    c.leads.counted = counted;
                });
            }
            Ok(PageOutcome::Done(total)) => {
                run.update(|c| {
                    c.leads.counted = total;
                    c.leads.part = Part::Done(total);
                });
            }
            // Any user may read leads: a 403 is the IP block (often after many pages).
            Err(PageError::Status(403)) => {
                run.update(|c| c.leads.part = Part::Blocked);
                break;
            }
            Err(PageError::Status(_)) => {
                let why = failure(&got);
                run.update(|c| c.leads.part = Part::Failed(why));
                break;
            }
            Err(e) => {
                let why = Why::Said(e.to_string());
                run.update(|c| c.leads.part = Part::Failed(why));
                break;
            }
        }
    }
    run.update(|c| c.finished = true);
    Ok(())
}
