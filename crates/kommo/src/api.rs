//! The API check that replaces the old guide's `test-kommo.ts`: which requests to make, how to read their
//! answers, how to page through leads (there is no count endpoint: `limit=250&page=N` until an empty 204), how to
//! stay under Kommo's rate limit and back off on 429, and how to show a request without its token.
//!
//! No IO and no clock: the caller sends the requests and supplies the time.

use serde_json::Value;

use crate::json::Parse;

/// `GET /api/v4/account`: any user.
pub const ACCOUNT_PATH: &str = "/api/v4/account";
/// `GET /api/v4/users`: admins only (others get 403).
pub const USERS_PATH: &str = "/api/v4/users";
/// `GET /api/v4/leads/pipelines`: any user.
pub const PIPELINES_PATH: &str = "/api/v4/leads/pipelines";
/// `GET /api/v4/leads?limit=…&page=…`.
pub const LEADS_PATH: &str = "/api/v4/leads";
/// The largest page Kommo gives.
pub const LEADS_PAGE_LIMIT: u32 = 250;
/// How many requests per second the check sends: one under Kommo's limit
/// ([`crate::RATE_LIMIT_PER_SECOND`]), leaving room for network jitter.
pub const PACE_PER_SECOND: u32 = crate::RATE_LIMIT_PER_SECOND - 1;
/// How many times one request is retried after a 429 before the check gives up on it.
pub const MAX_RETRIES: u32 = 5;
/// The first back-off delay without `Retry-After`; it doubles on each retry.
pub const BACKOFF_BASE_MS: u64 = 1000;
/// No back-off waits longer than this (also caps a large `Retry-After`).
pub const BACKOFF_CAP_MS: u64 = 30_000;

/// Why an answer body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the answer is not JSON")]
    NotJson,
    #[error("the answer is JSON but not the expected shape: {0}")]
    Shape(String),
}

// The readers walk a parsed `serde_json::Value` rather than deriving `Deserialize` for each answer: just as
// tolerant of extra fields, and much smaller in the page's WebAssembly.
fn read_json(body: &str, json: Parse) -> Result<Value, ReadError> {
    json(body).ok_or(ReadError::NotJson)
}

fn shape(what: &str) -> ReadError {
    ReadError::Shape(what.to_string())
}

/// `_embedded.{key}`: required `_embedded`, the list itself may be missing (empty).
fn embedded<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], ReadError> {
    let e = v
        .get("_embedded")
        .filter(|e| e.is_object())
        .ok_or_else(|| shape("no _embedded object"))?;
    Ok(e.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]))
}

/// What the check shows of `/api/v4/account`. Extra fields are ignored. Serializable for `kommo-env check --json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub subdomain: String,
    pub current_user_id: Option<i64>,
    pub country: Option<String>,
    pub currency: Option<String>,
}

/// Read `/api/v4/account`.
pub fn read_account(body: &str) -> Result<Account, ReadError> {
    read_account_with(body, crate::json::parse)
}

/// [`read_account`] with the JSON parser given (see [`crate::json`]).
pub fn read_account_with(body: &str, json: Parse) -> Result<Account, ReadError> {
    let v = read_json(body, json)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Account {
        id: v
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| shape("no numeric id"))?,
        name: text("name").ok_or_else(|| shape("no name"))?,
        subdomain: text("subdomain").ok_or_else(|| shape("no subdomain"))?,
        current_user_id: v.get("current_user_id").and_then(Value::as_i64),
        country: text("country"),
        currency: text("currency"),
    })
}

/// Read `/api/v4/users`: how many users (`_total_items` when given, else the users listed).
pub fn read_users(body: &str) -> Result<u64, ReadError> {
    read_users_with(body, crate::json::parse)
}

/// [`read_users`] with the JSON parser given (see [`crate::json`]).
pub fn read_users_with(body: &str, json: Parse) -> Result<u64, ReadError> {
    let v = read_json(body, json)?;
    let listed = embedded(&v, "users")?.len() as u64;
    Ok(v.get("_total_items")
        .and_then(Value::as_u64)
        .unwrap_or(listed))
}

/// Read `/api/v4/leads/pipelines`: the pipelines' names, in order.
pub fn read_pipelines(body: &str) -> Result<Vec<String>, ReadError> {
    read_pipelines_with(body, crate::json::parse)
}

/// [`read_pipelines`] with the JSON parser given (see [`crate::json`]).
pub fn read_pipelines_with(body: &str, json: Parse) -> Result<Vec<String>, ReadError> {
    let v = read_json(body, json)?;
    Ok(embedded(&v, "pipelines")?
        .iter()
        .map(|p| {
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect())
}

/// Read one page of `/api/v4/leads`: how many leads it holds.
pub fn read_leads_page(body: &str) -> Result<u64, ReadError> {
    read_leads_page_with(body, crate::json::parse)
}

/// [`read_leads_page`] with the JSON parser given (see [`crate::json`]).
pub fn read_leads_page_with(body: &str, json: Parse) -> Result<u64, ReadError> {
    let v = read_json(body, json)?;
    Ok(embedded(&v, "leads")?.len() as u64)
}

/// How an API answer's status is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 2xx with a body.
    Ok,
    /// 204: nothing (past the last page of leads).
    Empty,
    /// 429: too many requests — wait and retry.
    RateLimited,
    /// 401: the token is wrong, expired or revoked.
    Unauthorized,
    /// 403: not allowed (users need an admin; also Kommo's block of an abusive IP).
    Forbidden,
    /// Anything else.
    Failed,
}

impl Status {
    pub fn of(status: u16) -> Status {
        match status {
            204 => Status::Empty,
            200..=299 => Status::Ok,
            429 => Status::RateLimited,
            401 => Status::Unauthorized,
            403 => Status::Forbidden,
            _ => Status::Failed,
        }
    }
}

/// Paging through `/api/v4/leads` to count them: `limit=250&page=1, 2, …` until a 204 (or, defensively, a page
/// with no leads). Only successful answers are folded in; the caller retries a 429 with [`Backoff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadPager {
    limit: u32,
    page: u32,
    total: u64,
    done: bool,
}

/// What a folded page means for the pager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// A page of this many leads; ask for the next one.
    More(u64),
    /// The end: the total.
    Done(u64),
}

/// Why a page could not be folded in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the leads page answered {0}")]
    Status(u16),
    #[error("the leads page could not be read: {0}")]
    Read(ReadError),
    #[error("paging is already done")]
    AlreadyDone,
}

impl Default for LeadPager {
    fn default() -> Self {
        LeadPager::new(LEADS_PAGE_LIMIT)
    }
}

impl LeadPager {
    /// A pager asking for `limit` leads per page (1..=250; clamped).
    pub fn new(limit: u32) -> LeadPager {
        LeadPager {
            limit: limit.clamp(1, LEADS_PAGE_LIMIT),
            page: 1,
            total: 0,
            done: false,
        }
    }

    /// The next request's path and query, or `None` once done.
    pub fn next_path(&self) -> Option<String> {
        (!self.done).then(|| format!("{LEADS_PATH}?limit={}&page={}", self.limit, self.page))
    }

    /// The page that [`LeadPager::next_path`] asks for (from 1).
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Leads counted so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fold in the answer to [`LeadPager::next_path`]. 200 with leads → next page; 204 (or a page without leads) →
    /// done. Any other status is an error and leaves the pager where it was (so the same page can be retried).
    pub fn fold(&mut self, status: u16, body: &str) -> Result<PageOutcome, PageError> {
        self.fold_with(status, body, crate::json::parse)
    }

    /// [`LeadPager::fold`] with the JSON parser given (see [`crate::json`]).
    pub fn fold_with(
        &mut self,
        status: u16,
        body: &str,
        json: Parse,
    ) -> Result<PageOutcome, PageError> {
        if self.done {
            return Err(PageError::AlreadyDone);
        }
        match Status::of(status) {
            Status::Empty => {
                self.done = true;
                Ok(PageOutcome::Done(self.total))
            }
            Status::Ok => {
                let n = read_leads_page_with(body, json).map_err(PageError::Read)?;
                if n == 0 {
                    self.done = true;
                    return Ok(PageOutcome::Done(self.total));
                }
                self.total += n;
                self.page += 1;
                Ok(PageOutcome::More(n))
            }
            _ => Err(PageError::Status(status)),
        }
    }
}

/// Back-off after 429: `Retry-After` (seconds) when the answer has it, otherwise 1 s, 2 s, 4 s, … — at most
/// [`BACKOFF_CAP_MS`], and at most [`MAX_RETRIES`] times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    attempts: u32,
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff::default()
    }

    /// How long to wait before retrying, or `None` to give up. Each call counts as one retry.
    pub fn next_delay_ms(&mut self, retry_after: Option<&str>) -> Option<u64> {
        if self.attempts >= MAX_RETRIES {
            return None;
        }
        let exponential = BACKOFF_BASE_MS.saturating_mul(1 << self.attempts.min(20));
        self.attempts += 1;
        let told = retry_after
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(1000).max(BACKOFF_BASE_MS));
        Some(told.unwrap_or(exponential).min(BACKOFF_CAP_MS))
    }

    /// Retries so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// Spaces requests at least `1000 / per_second` ms apart, from send times the caller supplies.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    spacing_ms: f64,
    last_ms: Option<f64>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(PACE_PER_SECOND)
    }
}

impl Pacer {
    pub fn new(per_second: u32) -> Pacer {
        Pacer {
            spacing_ms: 1000.0 / per_second.max(1) as f64,
            last_ms: None,
        }
    }

    /// The minimum gap between two requests.
    pub fn spacing_ms(&self) -> f64 {
        self.spacing_ms
    }

    /// How long to wait at `now_ms` before the next request may go.
    pub fn wait_ms(&self, now_ms: f64) -> f64 {
        match self.last_ms {
            Some(last) => (last + self.spacing_ms - now_ms).max(0.0),
            None => 0.0,
        }
    }

    /// A request went out at `now_ms`.
    pub fn sent(&mut self, now_ms: f64) {
        self.last_ms = Some(now_ms);
    }
}

/// A short description of a refused API answer: the proxy's own message, or Kommo's `title`/`detail`/`hint`, or
/// just the status (for HTML pages, empty bodies and other surprises).
pub fn problem_text(status: u16, body: &str) -> String {
    problem_text_with(status, body, crate::json::parse)
}

/// [`problem_text`] with the JSON parser given (see [`crate::json`]).
pub fn problem_text_with(status: u16, body: &str, json: Parse) -> String {
    let Some(value) = json(body) else {
        return format!("HTTP {status}");
    };
    if let Some(p) = crate::proxy::ProxyError::from_value(&value) {
        return format!("HTTP {status}: {}", p.message);
    }
    let field = |k: &str| {
        value
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let parts: Vec<&str> = [field("title"), field("detail"), field("hint")]
        .into_iter()
        .flatten()
        .fold(Vec::new(), |mut acc, p| {
            if !acc.contains(&p) {
                acc.push(p);
            }
            acc
        });
    if parts.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", parts.join(" — "))
    }
}

/// A token as the request log shows it: the first 3 and last 4 characters (`eyJ…x9Qw`); short ones entirely
/// hidden.
pub fn mask_token(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < 16 {
        return "…".to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// `text` with every occurrence of `token` replaced by its mask (for showing answers and headers). Copies that
/// overlap are masked as one stretch, so no copy survives: a plain `replace` masks the first of two overlapping
/// copies and leaves the second readable once the mask's last characters join it.
pub fn mask_in(text: &str, token: &str) -> String {
    if token.len() < 8 {
        return text.to_string();
    }
    let mask = mask_token(token);
    let mut out = String::with_capacity(text.len());
    // The end of the stretch being masked, and where the text after the last masked stretch begins.
    let mut stretch: Option<(usize, usize)> = None;
    let mut copied = 0;
    let mut from = 0;
    while let Some(i) = text[from..].find(token).map(|i| from + i) {
        let end = i + token.len();
        stretch = match stretch {
            Some((start, e)) if i < e => Some((start, end)),
            Some((start, e)) => {
                out.push_str(&text[copied..start]);
                out.push_str(&mask);
                copied = e;
                Some((i, end))
            }
            None => Some((i, end)),
        };
        // The next copy may start inside this one: search again one character on.
        from = i + text[i..].chars().next().map_or(1, char::len_utf8);
    }
    if let Some((start, e)) = stretch {
        out.push_str(&text[copied..start]);
        out.push_str(&mask);
        copied = e;
    }
    out.push_str(&text[copied..]);
    out
}

/// When an unused refresh token received at `issued_unix` expires (Unix seconds).
pub fn refresh_expires_at(issued_unix: i64) -> i64 {
    issued_unix + crate::REFRESH_TOKEN_LIFETIME_SECS
}

/// Seconds as `(days, hours, minutes, seconds)`; negative counts as zero.
pub fn split_duration(secs: i64) -> (i64, i64, i64, i64) {
    let s = secs.max(0);
    (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leads(n: usize) -> String {
        let list: Vec<_> = (0..n)
            .map(|i| json!({"id": i, "name": format!("Deal {i}"), "price": 1}))
            .collect();
        json!({"_page": 1, "_links": {"self": {"href": "x"}}, "_embedded": {"leads": list}})
            .to_string()
    }

    #[test]
    fn pages_until_204_and_counts_every_lead() {
        let mut p = LeadPager::default();
        assert_eq!(
            p.next_path().as_deref(),
            Some("/api/v4/leads?limit=250&page=1")
        );
        assert_eq!(p.fold(200, &leads(250)), Ok(PageOutcome::More(250)));
        assert_eq!(
            p.next_path().as_deref(),
            Some("/api/v4/leads?limit=250&page=2")
        );
        assert_eq!(p.fold(200, &leads(250)), Ok(PageOutcome::More(250)));
        assert_eq!(p.fold(200, &leads(112)), Ok(PageOutcome::More(112)));
        assert_eq!(p.page(), 4);
        assert_eq!(p.fold(204, ""), Ok(PageOutcome::Done(612)));
        assert!(p.is_done());
        assert_eq!(p.next_path(), None);
        assert_eq!(p.total(), 612);
        assert_eq!(p.fold(204, ""), Err(PageError::AlreadyDone));
    }

    #[test]
    fn no_leads_at_all_and_an_empty_page() {
        let mut p = LeadPager::default();
        assert_eq!(p.fold(204, ""), Ok(PageOutcome::Done(0)));
        let mut p = LeadPager::new(10);
        assert_eq!(
            p.next_path().as_deref(),
            Some("/api/v4/leads?limit=10&page=1")
        );
        assert_eq!(p.fold(200, &leads(3)), Ok(PageOutcome::More(3)));
        assert_eq!(p.fold(200, &leads(0)), Ok(PageOutcome::Done(3)));
        assert_eq!(
            LeadPager::new(1000).next_path().as_deref(),
            Some("/api/v4/leads?limit=250&page=1")
        );
    }

    #[test]
    fn errors_leave_the_page_for_a_retry() {
        let mut p = LeadPager::default();
        p.fold(200, &leads(250)).unwrap();
        assert_eq!(p.fold(429, "{}"), Err(PageError::Status(429)));
        assert_eq!(
            p.fold(200, "<html>"),
            Err(PageError::Read(ReadError::NotJson))
        );
        assert!(matches!(
            p.fold(200, "{\"x\":1}"),
            Err(PageError::Read(ReadError::Shape(_)))
        ));
        assert_eq!(
            p.next_path().as_deref(),
            Some("/api/v4/leads?limit=250&page=2")
        );
        assert_eq!(p.total(), 250);
        assert_eq!(p.fold(200, &leads(5)), Ok(PageOutcome::More(5)));
    }

    #[test]
    fn the_parser_is_the_callers() {
        let never: Parse = |_| None;
        let account = r#"{"id": 1, "name": "N", "subdomain": "kwid"}"#;
        assert_eq!(
            read_account_with(account, crate::json::parse),
            read_account(account)
        );
        assert_eq!(read_account_with(account, never), Err(ReadError::NotJson));
        assert_eq!(read_users_with("{}", never), Err(ReadError::NotJson));
        assert_eq!(read_pipelines_with("{}", never), Err(ReadError::NotJson));
        let mut p = LeadPager::default();
        assert_eq!(
            p.fold_with(200, &leads(2), never),
            Err(PageError::Read(ReadError::NotJson))
        );
        assert_eq!(
            p.fold_with(200, &leads(2), crate::json::parse),
            Ok(PageOutcome::More(2))
        );
        let body = r#"{"title": "Unauthorized"}"#;
        assert_eq!(
            problem_text_with(401, body, crate::json::parse),
            "HTTP 401: Unauthorized"
        );
        assert_eq!(problem_text_with(401, body, never), "HTTP 401");
    }

    #[test]
    fn backoff_follows_retry_after_or_doubles_and_gives_up() {
        let mut b = Backoff::new();
        assert_eq!(b.next_delay_ms(None), Some(1000));
        assert_eq!(b.next_delay_ms(None), Some(2000));
        assert_eq!(b.next_delay_ms(Some("3")), Some(3000));
        assert_eq!(b.next_delay_ms(Some("0")), Some(1000), "never a busy loop");
        assert_eq!(
            b.next_delay_ms(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(16_000)
        );
        assert_eq!(b.attempts(), 5);
        assert_eq!(b.next_delay_ms(None), None);
        let mut b = Backoff::new();
        assert_eq!(b.next_delay_ms(Some("3600")), Some(BACKOFF_CAP_MS));
    }

    #[test]
    fn pacer_keeps_requests_under_the_limit() {
        let mut p = Pacer::default();
        assert!(p.spacing_ms() > 1000.0 / crate::RATE_LIMIT_PER_SECOND as f64);
        assert_eq!(p.wait_ms(5000.0), 0.0);
        // Send as fast as the pacer allows for a while: no 1-second window ever holds more than the limit.
        let mut now = 5000.0;
        let mut sent = Vec::new();
        for _ in 0..40 {
            now += p.wait_ms(now);
            p.sent(now);
            sent.push(now);
            now += 3.0; // the request's own duration
        }
        for (i, t) in sent.iter().enumerate() {
            // A half-open second [t, t + 1000) (a little less, for float rounding).
            let in_window = sent[i..].iter().take_while(|u| **u < t + 999.99).count();
            assert!(
                in_window < crate::RATE_LIMIT_PER_SECOND as usize,
                "{in_window} requests within 1 s of {t}"
            );
        }
        let mut p = Pacer::new(7);
        p.sent(0.0);
        assert!((p.wait_ms(100.0) - (1000.0 / 7.0 - 100.0)).abs() < 1e-9);
        assert_eq!(p.wait_ms(1000.0), 0.0);
    }

    #[test]
    fn reads_real_shaped_answers_and_ignores_extra_fields() {
        let account = json!({"id": 31000001, "name": "Demo Company", "subdomain": "demo", "current_user_id": 9000001,
            "country": "US", "currency": "USD", "is_unsorted_on": true, "_links": {"self": {"href": "x"}}});
        let a = read_account(&account.to_string()).unwrap();
        assert_eq!(
            (a.id, a.name.as_str(), a.subdomain.as_str()),
            (31000001, "Demo Company", "demo")
        );
        assert_eq!(a.current_user_id, Some(9000001));
        let minimal = read_account(r#"{"id":1,"name":"n","subdomain":"s"}"#).unwrap();
        assert_eq!(minimal.current_user_id, None);
        assert!(matches!(
            read_account(r#"{"name":"n"}"#),
            Err(ReadError::Shape(_))
        ));
        assert_eq!(read_account("<html>"), Err(ReadError::NotJson));

        let users =
            json!({"_total_items": 12, "_page": 1, "_embedded": {"users": [{"id": 1}, {"id": 2}]}});
        assert_eq!(read_users(&users.to_string()), Ok(12));
        let users = json!({"_embedded": {"users": [{"id": 1, "rights": {}}, {"id": 2}]}});
        assert_eq!(read_users(&users.to_string()), Ok(2));

        let pipes = json!({"_total_items": 2, "_embedded": {"pipelines": [
            {"id": 1, "name": "Sales pipeline", "_embedded": {"statuses": []}}, {"id": 2, "name": "Partners"}]}});
        assert_eq!(
            read_pipelines(&pipes.to_string()).unwrap(),
            vec!["Sales pipeline", "Partners"]
        );
        assert!(read_pipelines("[]").is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(Status::of(200), Status::Ok);
        assert_eq!(Status::of(204), Status::Empty);
        assert_eq!(Status::of(429), Status::RateLimited);
        assert_eq!(Status::of(401), Status::Unauthorized);
        assert_eq!(Status::of(403), Status::Forbidden);
        assert_eq!(Status::of(502), Status::Failed);
    }

    #[test]
    fn problem_texts() {
        let body = json!({"title": "Unauthorized", "type": "https://httpstatus.es/401", "status": 401,
            "detail": "Token has been revoked"});
        assert_eq!(
            problem_text(401, &body.to_string()),
            "HTTP 401: Unauthorized — Token has been revoked"
        );
        let body = json!({"title": "Forbidden", "detail": "Forbidden"});
        assert_eq!(problem_text(403, &body.to_string()), "HTTP 403: Forbidden");
        let proxy =
            crate::proxy::ProxyError::new(crate::proxy::ProxyErrorCode::RateLimited, "slow down");
        assert_eq!(problem_text(429, &proxy.to_json()), "HTTP 429: slow down");
        assert_eq!(problem_text(502, "<html>"), "HTTP 502");
        assert_eq!(problem_text(500, "{}"), "HTTP 500");
    }

    #[test]
    fn masks_tokens() {
        let t = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2lnX9Qw";
        assert_eq!(mask_token(t), "eyJ…X9Qw");
        assert_eq!(mask_token("short"), "…");
        let shown = mask_in(
            &format!("Authorization: Bearer {t}\n{{\"echo\":\"{t}\"}}"),
            t,
        );
        assert!(!shown.contains(t));
        assert_eq!(shown.matches("eyJ…X9Qw").count(), 2);
        assert_eq!(mask_in("abc", ""), "abc");
    }

    /// Found by the property tests: the token, then the token without its first character. The old `replace`
    /// masked the first copy, and the mask's last character (the token's last, `_`) joined the rest into a
    /// whole visible token again.
    #[test]
    fn masking_leaves_no_copy_across_overlaps() {
        let t = "_AaaaA__0AA0aA0_";
        let text = format!("{t}{}", &t[1..]);
        let shown = mask_in(&text, t);
        assert!(!shown.contains(t), "{shown}");
        assert_eq!(shown, "_Aa…aA0_");
        // Overlapping and abutting copies each leave only masks.
        let t = "abababababababab";
        for text in [
            t.repeat(2),
            format!("x{t}ab{t}y"),
            format!("{t}{}", &t[2..]),
        ] {
            let shown = mask_in(&text, t);
            assert!(!shown.contains(t), "{text} → {shown}");
            assert!(shown.contains(&mask_token(t)));
        }
        assert_eq!(
            mask_in(&format!("a {t} b {t} c"), t),
            "a aba…abab b aba…abab c"
        );
    }

    #[test]
    fn refresh_expiry_and_durations() {
        assert_eq!(
            refresh_expires_at(1_700_000_000),
            1_700_000_000 + 90 * 86_400
        );
        assert_eq!(split_duration(86_400 + 3600 + 61), (1, 1, 1, 1));
        assert_eq!(split_duration(-3), (0, 0, 0, 0));
    }
}
