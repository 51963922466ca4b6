//! One run of the API check: each request paced and logged, retried after 429, and the four parts in order.

use kommo::api::{
    mask_in, mask_token, problem_text_with, read_account_with, read_pipelines_with,
    read_users_with, Backoff, LeadPager, PageError, PageOutcome, Status, ACCOUNT_PATH,
    PIPELINES_PATH, USERS_PATH,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{AccountSeen, ApiCheck, Check, LogLine, Part, Why};
use crate::api::ApiError;
use crate::state::Io;
use crate::{browser, json};

/// How much of an answer body the request log keeps.
const LOG_BODY_MAX: usize = 3000;

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

pub(super) struct Run {
    pub(super) part: ApiCheck,
    pub(super) io: Io,
    pub(super) generation: u32,
    pub(super) base: String,
    pub(super) host: String,
    pub(super) token: String,
}

impl Run {
    /// Run the check in the background.
    pub(super) fn spawn(self) {
        spawn_local(async move {
            let mut run = self;
            let _ = check(&mut run).await;
            // Whatever happened, this run is over (unless a newer one took its place).
            run.update(|c| c.running = false);
        });
    }

    fn live(&self) -> bool {
        self.part.generation.try_get_value() == Some(self.generation)
    }

    fn update(&self, f: impl FnOnce(&mut Check)) {
        if self.live() {
            self.part.status.update(f);
        }
    }

    /// One GET, paced, retried after 429 with back-off. Every attempt goes to the log.
    async fn get(&mut self, path: &str) -> Result<Got, Halt> {
        let mut backoff = Backoff::new();
        loop {
            // One pacer for every run: a check started right after a stopped one still keeps the spacing.
            let wait = self.part.pacer.with_value(|p| p.wait_ms(browser::now_ms()));
            if wait > 0.0 {
                browser::sleep_ms(wait.ceil() as i32).await;
            }
            if !self.live() {
                return Err(Halt::Stopped);
            }
            let started = browser::now_ms();
            self.part.pacer.update_value(|p| p.sent(started));
            let api = self.io.api.get_value();
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
