//! The API check (the old guide's `test-kommo.ts`) as a pure state machine: which request comes next and what each
//! answer means — account (any user), users (admins only: a 403 after the account was read means "needs an
//! admin"), pipelines, and leads counted by paging to the empty 204. A 403 on anything any user may read is Kommo
//! blocking the caller's IP, and nothing more is asked; a 401 on the account means the token does not work, and
//! nothing more is asked either.
//!
//! The caller sends each request, paces them with [`crate::api::Pacer`], retries a 429 with
//! [`crate::api::Backoff`] before folding the answer in, and supplies the parser-free answer text. The page runs
//! the same sequence in its own loop (`src/check.rs`), with its own state for the view.

use serde::Serialize;

use crate::api::{
    problem_text, read_account, read_pipelines, read_users, Account, LeadPager, PageError,
    PageOutcome, Status, ACCOUNT_PATH, PIPELINES_PATH, USERS_PATH,
};

/// One part of the check. Serialized as `{"state": "ok", "value": …}` (the page's `data-state` keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "value", rename_all = "kebab-case")]
pub enum Part<T> {
    /// Not asked yet.
    Pending,
    Ok(T),
    /// Users only: 403, the token's user is not an admin.
    NeedsAdmin,
    /// 403 to a request any user may make: Kommo blocks the caller's IP. Nothing more is asked.
    Blocked,
    /// Not asked: an earlier part showed the token does not work.
    Skipped,
    Failed(Failure),
}

/// Why a part failed: the HTTP status (none when no answer came) and a one-line text without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub status: Option<u16>,
    pub text: String,
}

/// The check's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub account: Part<Account>,
    /// How many users (admins only).
    pub users: Part<u64>,
    pub pipelines: Part<Vec<String>>,
    /// How many leads.
    pub leads: Part<u64>,
    /// Leads pages that held leads.
    pub leads_pages: u32,
}

/// An answer to the request [`ApiCheck::next_path`] named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<'a> {
    Got {
        status: u16,
        body: &'a str,
    },
    /// No answer (connection refused, timed out, cut off): why, in one line.
    None(&'a str),
}

/// How the check ended, for an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every part worked (users may need an admin).
    Passed,
    /// Kommo refused: the token does not work (401), or the IP is blocked (403).
    Refused,
    /// No answer, an answer that could not be read, a 429 past the retries, a 5xx.
    Trouble,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Account,
    Users,
    Pipelines,
    Leads,
    Done,
}

/// The check in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCheck {
    stage: Stage,
    pager: LeadPager,
    account_read: bool,
    report: Report,
}

impl Default for ApiCheck {
    fn default() -> Self {
        ApiCheck::new()
    }
}

fn failure(answer: &Answer<'_>) -> Failure {
    match answer {
        Answer::Got { status, body } => Failure {
            status: Some(*status),
            text: problem_text(*status, body),
        },
        Answer::None(why) => Failure {
            status: None,
            text: why.to_string(),
        },
    }
}

fn status_of(answer: &Answer<'_>) -> Option<Status> {
    match answer {
        Answer::Got { status, .. } => Some(Status::of(*status)),
        Answer::None(_) => None,
    }
}

fn read<T, E: std::fmt::Display>(status: u16, r: Result<T, E>) -> Part<T> {
    r.map(Part::Ok).unwrap_or_else(|e| {
        Part::Failed(Failure {
            status: Some(status),
            text: e.to_string(),
        })
    })
}

impl ApiCheck {
    pub fn new() -> ApiCheck {
        ApiCheck {
            stage: Stage::Account,
            pager: LeadPager::default(),
            account_read: false,
            report: Report {
                account: Part::Pending,
                users: Part::Pending,
                pipelines: Part::Pending,
                leads: Part::Pending,
                leads_pages: 0,
            },
        }
    }

    /// The next request's path and query, or `None` when the check is over.
    pub fn next_path(&self) -> Option<String> {
        match self.stage {
            Stage::Account => Some(ACCOUNT_PATH.to_string()),
            Stage::Users => Some(USERS_PATH.to_string()),
            Stage::Pipelines => Some(PIPELINES_PATH.to_string()),
            Stage::Leads => self.pager.next_path(),
            Stage::Done => None,
        }
    }

    fn skip_rest(&mut self) {
        let r = &mut self.report;
        for p in [&mut r.users, &mut r.leads] {
            if *p == Part::Pending {
                *p = Part::Skipped;
            }
        }
        if r.pipelines == Part::Pending {
            r.pipelines = Part::Skipped;
        }
        self.stage = Stage::Done;
    }

    /// Fold in the answer to the request [`ApiCheck::next_path`] named.
    pub fn fold(&mut self, answer: Answer<'_>) {
        let ok = status_of(&answer) == Some(Status::Ok);
        let forbidden = status_of(&answer) == Some(Status::Forbidden);
        match self.stage {
            Stage::Account => {
                if let (true, Answer::Got { status, body }) = (ok, &answer) {
                    self.report.account = read(*status, read_account(body));
                    self.account_read = matches!(self.report.account, Part::Ok(_));
                    self.stage = Stage::Users;
                } else if forbidden {
                    self.report.account = Part::Blocked;
                    self.skip_rest();
                } else {
                    self.report.account = Part::Failed(failure(&answer));
                    if status_of(&answer) == Some(Status::Unauthorized) {
                        self.skip_rest();
                    } else {
                        self.stage = Stage::Users;
                    }
                }
            }
            Stage::Users => {
                self.report.users = match &answer {
                    Answer::Got { status, body } if ok => read(*status, read_users(body)),
                    _ if forbidden && self.account_read => Part::NeedsAdmin,
                    _ => Part::Failed(failure(&answer)),
                };
                self.stage = Stage::Pipelines;
            }
            Stage::Pipelines => match &answer {
                Answer::Got { status, body } if ok => {
                    self.report.pipelines = read(*status, read_pipelines(body));
                    self.stage = Stage::Leads;
                }
                _ if forbidden => {
                    self.report.pipelines = Part::Blocked;
                    self.skip_rest();
                }
                _ => {
                    self.report.pipelines = Part::Failed(failure(&answer));
                    self.stage = Stage::Leads;
                }
            },
            Stage::Leads => {
                let Answer::Got { status, body } = answer else {
                    self.report.leads = Part::Failed(failure(&answer));
                    self.stage = Stage::Done;
                    return;
                };
                match self.pager.fold(status, body) {
                    Ok(PageOutcome::More(_)) => self.report.leads_pages += 1,
                    Ok(PageOutcome::Done(total)) => {
                        self.report.leads = Part::Ok(total);
                        self.stage = Stage::Done;
                    }
                    Err(PageError::Status(403)) => {
                        self.report.leads = Part::Blocked;
                        self.stage = Stage::Done;
                    }
                    Err(e) => {
                        self.report.leads = Part::Failed(match e {
                            PageError::Status(_) => failure(&answer),
                            other => Failure {
                                status: Some(status),
                                text: other.to_string(),
                            },
                        });
                        self.stage = Stage::Done;
                    }
                }
            }
            Stage::Done => {}
        }
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Leads counted so far (while paging).
    pub fn leads_counted(&self) -> u64 {
        self.pager.total()
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    /// How it ended (meaningful once [`ApiCheck::is_done`]).
    pub fn verdict(&self) -> Verdict {
        let r = &self.report;
        let passed = self.is_done()
            && matches!(r.account, Part::Ok(_))
            && matches!(r.users, Part::Ok(_) | Part::NeedsAdmin)
            && matches!(r.pipelines, Part::Ok(_))
            && matches!(r.leads, Part::Ok(_));
        if passed {
            return Verdict::Passed;
        }
        let refused = |f: &Failure| matches!(f.status, Some(401 | 403));
        let parts: [Option<&Failure>; 4] = [
            part_failure(&r.account),
            part_failure(&r.users),
            part_failure(&r.pipelines),
            part_failure(&r.leads),
        ];
        let blocked = [
            r.account == Part::Blocked,
            r.pipelines == Part::Blocked,
            r.leads == Part::Blocked,
        ];
        if blocked.iter().any(|b| *b) || parts.iter().flatten().any(|f| refused(f)) {
            Verdict::Refused
        } else {
            Verdict::Trouble
        }
    }
}

fn part_failure<T>(p: &Part<T>) -> Option<&Failure> {
    match p {
        Part::Failed(f) => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = r#"{"id": 31000001, "name": "Demo", "subdomain": "demo", "current_user_id": 9, "country": "US"}"#;

    fn leads(n: usize) -> String {
        let list: Vec<_> = (0..n).map(|i| json!({"id": i})).collect();
        json!({"_embedded": {"leads": list}}).to_string()
    }

    fn got(status: u16, body: &str) -> Answer<'_> {
        Answer::Got { status, body }
    }

    /// Run the check against `answer(path)`; returns the paths asked.
    fn run(c: &mut ApiCheck, answer: impl Fn(&str) -> (u16, String)) -> Vec<String> {
        let mut asked = Vec::new();
        while let Some(path) = c.next_path() {
            let (status, body) = answer(&path);
            asked.push(path);
            c.fold(got(status, &body));
            assert!(asked.len() < 50);
        }
        asked
    }

    fn kommo(admin: bool, total_leads: usize) -> impl Fn(&str) -> (u16, String) {
        move |path: &str| match path {
            ACCOUNT_PATH => (200, ACCOUNT.to_string()),
            USERS_PATH if admin => (
                200,
                json!({"_total_items": 3, "_embedded": {"users": []}}).to_string(),
            ),
            USERS_PATH => (403, json!({"title": "Forbidden"}).to_string()),
            PIPELINES_PATH => (
                200,
                json!({"_embedded": {"pipelines": [{"name": "Sales"}]}}).to_string(),
            ),
            p => {
                let page: usize = p.rsplit('=').next().unwrap().parse().unwrap();
                let left = total_leads.saturating_sub((page - 1) * 250).min(250);
                if left == 0 {
                    (204, String::new())
                } else {
                    (200, leads(left))
                }
            }
        }
    }

    #[test]
    fn admin_passes_and_counts_leads_to_the_204() {
        let mut c = ApiCheck::new();
        let asked = run(&mut c, kommo(true, 612));
        assert_eq!(asked.len(), 3 + 4, "{asked:?}");
        assert_eq!(asked[3], "/api/v4/leads?limit=250&page=1");
        assert_eq!(c.verdict(), Verdict::Passed);
        let r = c.report();
        assert_eq!(r.users, Part::Ok(3));
        assert_eq!(r.leads, Part::Ok(612));
        assert_eq!(r.leads_pages, 3);
        assert_eq!(r.pipelines, Part::Ok(vec!["Sales".to_string()]));
        let Part::Ok(a) = &r.account else { panic!() };
        assert_eq!((a.id, a.subdomain.as_str()), (31000001, "demo"));
    }

    #[test]
    fn a_non_admin_passes_with_needs_admin() {
        let mut c = ApiCheck::new();
        run(&mut c, kommo(false, 40));
        assert_eq!(c.report().users, Part::NeedsAdmin);
        assert_eq!(c.report().leads, Part::Ok(40));
        assert_eq!(c.verdict(), Verdict::Passed);
    }

    #[test]
    fn a_dead_token_stops_after_the_account() {
        let mut c = ApiCheck::new();
        let asked = run(&mut c, |_| {
            (
                401,
                json!({"title": "Unauthorized", "detail": "Token has expired"}).to_string(),
            )
        });
        assert_eq!(asked, vec![ACCOUNT_PATH]);
        let r = c.report();
        assert_eq!(r.users, Part::Skipped);
        assert_eq!(r.leads, Part::Skipped);
        let Part::Failed(f) = &r.account else {
            panic!()
        };
        assert_eq!(f.status, Some(401));
        assert!(f.text.contains("Token has expired"), "{}", f.text);
        assert_eq!(c.verdict(), Verdict::Refused);
    }

    #[test]
    fn a_403_on_the_account_is_a_block_not_a_missing_admin() {
        let mut c = ApiCheck::new();
        let asked = run(&mut c, |_| (403, "{}".to_string()));
        assert_eq!(asked.len(), 1);
        assert_eq!(c.report().account, Part::Blocked);
        assert_eq!(c.verdict(), Verdict::Refused);
        // A 403 on users when the account could not be read is not "needs an admin".
        let mut c = ApiCheck::new();
        c.fold(got(500, "<html>"));
        c.fold(got(403, "{}"));
        assert!(matches!(c.report().users, Part::Failed(_)));
    }

    #[test]
    fn no_answer_and_garbage_are_trouble() {
        let mut c = ApiCheck::new();
        c.fold(Answer::None("could not connect"));
        assert!(!c.is_done());
        while let Some(p) = c.next_path() {
            if p.starts_with("/api/v4/leads?") {
                c.fold(got(200, "<html>"));
            } else {
                c.fold(got(
                    200,
                    if p == USERS_PATH {
                        "{\"_embedded\":{}}"
                    } else {
                        "{\"_embedded\":{\"pipelines\":[]}}"
                    },
                ));
            }
        }
        let r = c.report();
        assert_eq!(
            r.account,
            Part::Failed(Failure {
                status: None,
                text: "could not connect".into()
            })
        );
        assert!(matches!(&r.leads, Part::Failed(f) if f.text.contains("not JSON")));
        assert_eq!(c.verdict(), Verdict::Trouble);
    }

    #[test]
    fn serializes_with_state_keys() {
        let mut c = ApiCheck::new();
        run(&mut c, kommo(false, 0));
        let v = serde_json::to_value(c.report()).unwrap();
        assert_eq!(v["users"], json!({"state": "needs-admin"}));
        assert_eq!(v["leads"], json!({"state": "ok", "value": 0}));
        assert_eq!(v["account"]["value"]["subdomain"], "demo");
        assert_eq!(serde_json::to_value(Verdict::Passed).unwrap(), "passed");
    }
}
