//! The API check (the old guide's `test-kommo.ts`): account, users, pipelines and the leads total, through the
//! proxy to the account host from `referer`, paced under Kommo's rate limit, backing off on 429, every request
//! logged with its token masked. The rules are in [`kommo::api`]; the browser's loop around them is in `run.rs`.

mod run;

use leptos::prelude::*;

use crate::i18n::{fill, Tx};
use crate::state::Ctx;
use run::Run;

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
    pub fn text(&self, t: &Tx) -> String {
        match self {
            Why::NoProxy(url) => fill(t.api_no_proxy, &[url]),
            Why::AnswerLost(url) => fill(t.api_answer_lost, &[url]),
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

/// The API check part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct ApiCheck {
    /// The check as shown.
    pub status: RwSignal<Check>,
    /// Bumped to stop a running check (a run only acts while the generation is still its own).
    pub generation: StoredValue<u32>,
    /// Spaces API requests under Kommo's rate limit, across checks.
    pub pacer: StoredValue<kommo::api::Pacer>,
}

impl ApiCheck {
    pub(crate) fn new() -> Self {
        ApiCheck {
            status: RwSignal::new(Check::default()),
            generation: StoredValue::new(0),
            pacer: StoredValue::new(kommo::api::Pacer::default()),
        }
    }
}

impl Ctx {
    /// Start the API check with the tokens in hand (a running one is replaced).
    pub fn run_check(&self) {
        untrack(|| self.run_check_untracked())
    }

    fn run_check_untracked(&self) {
        let Some(kept) = self.current() else { return };
        let part = self.check;
        part.generation.update_value(|g| *g += 1);
        let generation = part.generation.get_value();
        part.status.set(Check {
            running: true,
            host: kept.host.clone(),
            ..Check::default()
        });
        let run = Run {
            part,
            io: self.io,
            generation,
            base: self.proxy_base(),
            host: kept.host,
            token: kept.access_token,
        };
        run.spawn();
    }

    /// Stop the running check: nothing more is sent once the request in flight (if any) is back.
    pub fn stop_check(&self) {
        self.check.generation.update_value(|g| *g += 1);
        self.check.status.update(|c| {
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
        self.check.generation.update_value(|g| *g += 1);
        self.check.status.set(Check::default());
    }
}
