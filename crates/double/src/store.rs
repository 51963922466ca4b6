//! The double's memory and rules: codes, token pairs and their rotation, long-lived tokens, the rate-limit window
//! and the request log. Everything takes the time as an argument, so the rules are tested without HTTP.

use std::collections::{HashMap, VecDeque};

use kommo::{Hint, KommoError};
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{Account, DoubleConfig};
use crate::keys;

const PROBLEM_TYPE: &str = "https://developers.kommo.com/v3/errors/OAuthProblemJson";

/// One request the double received. Codes and tokens never appear here, only their [`keys::fingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// The double's clock, Unix seconds.
    pub at: i64,
    /// When the request reached the double, in microseconds since the double started, on the real monotonic clock
    /// (not the injectable one): the spacing of arrivals as an account host would see it.
    pub arrived_us: u64,
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The account host the request was for (`X-Forwarded-Host`, else `Host` without the port), if any.
    pub host: Option<String>,
    /// For token posts: `authorization_code`, `refresh_token`, or whatever was sent.
    pub grant_type: Option<String>,
    /// For token posts: the `client_id` sent (not secret).
    pub client_id: Option<String>,
    /// For token posts: the fingerprint of the `code` or `refresh_token` posted; for API calls, of the bearer token.
    pub credential_id: Option<String>,
    pub status: u16,
    /// The error hint answered, if any.
    pub hint: Option<String>,
}

/// Per-request details a handler hands to the logging layer (through response extensions).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetail {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub credential_id: Option<String>,
    pub hint: Option<String>,
}

/// A token pair the double issued, with where it came from and what happened to it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedPair {
    /// Issue order, from 1.
    pub seq: u64,
    /// `authorization_code` or `refresh_token`: what was exchanged for this pair.
    pub grant_type: String,
    /// Fingerprint of the code or refresh token that was exchanged (compare with [`keys::fingerprint`]).
    pub from: String,
    pub client_id: String,
    /// `{subdomain}.{base_domain}`.
    pub account_host: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    /// The pair was used (API call with its access token, or refresh with its refresh token).
    pub used: bool,
    /// Its refresh token was exchanged at least once.
    pub refreshed: bool,
    /// Revoked: a successor (of it or of its predecessor) was used. Both its tokens answer 401.
    pub revoked: bool,
}

/// How the request's host relates to the configured accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKind {
    /// A configured account (index into `config.accounts`).
    Account(usize),
    /// `www.kommo.com`, a bare base domain, or the double's own address: no account.
    Www,
    /// A well-formed account host that is not configured.
    Unknown(String),
}

/// A refusal from the token endpoint: status and Kommo error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub body: KommoError,
}

impl Refusal {
    fn hint(hint: Hint) -> Refusal {
        Refusal {
            status: hint.status(),
            body: hint.error(),
        }
    }

    /// A hint outside the catalogue, in the same body shape.
    pub(crate) fn other(status: u16, hint: &str, detail: &str) -> Refusal {
        Refusal {
            status,
            body: KommoError {
                hint: Some(hint.to_string()),
                title: Some(
                    if status == 401 {
                        "Unauthorized"
                    } else {
                        "Bad Request"
                    }
                    .to_string(),
                ),
                kind: Some(PROBLEM_TYPE.to_string()),
                status: Some(status),
                detail: Some(detail.to_string()),
            },
        }
    }

    fn missing(param: &str) -> Refusal {
        Refusal::other(
            400,
            &format!("Check the `{param}` parameter"),
            "The request is missing a required parameter, includes an invalid parameter value, or is otherwise malformed.",
        )
    }

    fn bad_refresh(hint: &str) -> Refusal {
        Refusal::other(401, hint, "The refresh token is invalid.")
    }
}

/// The fields of a token request, from JSON or a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenFields {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub refresh_token: Option<String>,
    pub redirect_uri: Option<String>,
}

/// Who an API request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authz {
    pub account: usize,
    pub user_id: i64,
}

/// An API refusal: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiRefusal {
    pub status: u16,
    pub body: Value,
}

pub(crate) fn api_problem(status: u16, title: &str, detail: &str) -> Value {
    json!({"title": title, "type": format!("https://httpstatus.es/{status}"), "status": status, "detail": detail})
}

#[derive(Debug, Clone)]
struct CodeRec {
    integration: String,
    account: usize,
    issued_ms: i64,
    used: bool,
}

#[derive(Debug, Clone)]
struct PairRec {
    public: IssuedPair,
    integration: String,
    account: usize,
    predecessor: Option<usize>,
}

#[derive(Debug, Clone)]
struct LongLived {
    account: usize,
    integration: String,
    expires_at: i64,
}

#[derive(Debug, Clone, Copy)]
enum AccessRef {
    Pair(usize),
    LongLived(usize),
}

pub(crate) struct Store {
    pub config: DoubleConfig,
    codes: HashMap<String, CodeRec>,
    pairs: Vec<PairRec>,
    long_lived: Vec<LongLived>,
    by_access: HashMap<String, AccessRef>,
    by_refresh: HashMap<String, usize>,
    rate: HashMap<(i64, String), VecDeque<i64>>,
    log: Vec<LogEntry>,
}

/// `api-g.kommo.com`-style API domain for a base domain.
fn api_domain(base_domain: &str) -> String {
    match base_domain {
        "amocrm.ru" => "api-b.amocrm.ru".to_string(),
        other => format!("api-g.{other}"),
    }
}

impl Store {
    pub fn new(config: DoubleConfig) -> Store {
        Store {
            config,
            codes: HashMap::new(),
            pairs: Vec::new(),
            long_lived: Vec::new(),
            by_access: HashMap::new(),
            by_refresh: HashMap::new(),
            rate: HashMap::new(),
            log: Vec::new(),
        }
    }

    pub fn account(&self, i: usize) -> &Account {
        &self.config.accounts[i]
    }

    pub fn account_by_subdomain(&self, subdomain: &str) -> Option<usize> {
        self.config
            .accounts
            .iter()
            .position(|a| a.subdomain == subdomain || a.host() == subdomain)
    }

    pub fn integration_index(&self, client_id: &str) -> Option<usize> {
        self.config
            .integrations
            .iter()
            .position(|i| i.id == client_id)
    }

    /// Classify the host a request was for (already without port, may be any case).
    pub fn classify_host(&self, host: Option<&str>) -> HostKind {
        let Some(host) = host
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
        else {
            return HostKind::Www;
        };
        if let Some(i) = self.config.accounts.iter().position(|a| a.host() == host) {
            return HostKind::Account(i);
        }
        if kommo::AccountHost::parse(&host).is_ok() {
            return HostKind::Unknown(host);
        }
        HostKind::Www
    }

    // ---- consent ---------------------------------------------------------------------------------------------

    /// Issue an authorization code for an integration and account.
    pub fn issue_code(&mut self, integration: usize, account: usize, now_ms: i64) -> String {
        let code = keys::opaque_token(160);
        let integration = self.config.integrations[integration].id.clone();
        self.codes.insert(
            code.clone(),
            CodeRec {
                integration,
                account,
                issued_ms: now_ms,
                used: false,
            },
        );
        code
    }

    // ---- tokens ----------------------------------------------------------------------------------------------

    fn mint_access(&self, integration: &str, account: usize, now: i64, exp: i64) -> String {
        let a = self.account(account);
        keys::sign_jwt(&json!({
            "aud": integration,
            "jti": keys::random_hex(40),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "sub": a.user_id.to_string(),
            "grant_type": "",
            "account_id": a.id,
            "base_domain": a.base_domain,
            "version": 2,
            "scopes": self.config.scopes,
            "hash_uuid": keys::random_uuid(),
            "api_domain": api_domain(&a.base_domain),
        }))
    }

    fn new_pair(
        &mut self,
        integration: &str,
        account: usize,
        grant_type: &str,
        from: &str,
        predecessor: Option<usize>,
        now_ms: i64,
    ) -> usize {
        let now = now_ms.div_euclid(1000);
        let access_exp = now + kommo::ACCESS_TOKEN_LIFETIME_SECS;
        let access_token = self.mint_access(integration, account, now, access_exp);
        let refresh_token = keys::opaque_token(480);
        let idx = self.pairs.len();
        self.pairs.push(PairRec {
            public: IssuedPair {
                seq: idx as u64 + 1,
                grant_type: grant_type.to_string(),
                from: keys::fingerprint(from),
                client_id: integration.to_string(),
                account_host: self.account(account).host(),
                access_token: access_token.clone(),
                refresh_token: refresh_token.clone(),
                issued_at: now,
                access_expires_at: access_exp,
                refresh_expires_at: now + kommo::REFRESH_TOKEN_LIFETIME_SECS,
                used: false,
                refreshed: false,
                revoked: false,
            },
            integration: integration.to_string(),
            account,
            predecessor,
        });
        self.by_access.insert(access_token, AccessRef::Pair(idx));
        self.by_refresh.insert(refresh_token, idx);
        idx
    }

    /// First use of a pair retires its predecessor and every other successor of that predecessor (the successor
    /// used first is the one that counts).
    fn use_pair(&mut self, idx: usize) {
        if self.pairs[idx].public.used {
            return;
        }
        self.pairs[idx].public.used = true;
        if let Some(pred) = self.pairs[idx].predecessor {
            self.pairs[pred].public.revoked = true;
            for (i, p) in self.pairs.iter_mut().enumerate() {
                if i != idx && p.predecessor == Some(pred) && !p.public.used {
                    p.public.revoked = true;
                }
            }
        }
    }

    fn pair_json(&self, idx: usize, now: i64) -> Value {
        let p = &self.pairs[idx].public;
        json!({
            "token_type": "Bearer",
            "expires_in": kommo::ACCESS_TOKEN_LIFETIME_SECS,
            "access_token": p.access_token,
            "refresh_token": p.refresh_token,
            "server_time": now,
        })
    }

    /// `POST /oauth2/access_token` on the given host.
    pub fn exchange(
        &mut self,
        host: &HostKind,
        f: &TokenFields,
        now_ms: i64,
    ) -> Result<Value, Refusal> {
        let account = match host {
            HostKind::Account(i) => *i,
            HostKind::Www | HostKind::Unknown(_) => {
                return Err(Refusal::hint(Hint::SendRequestToAccount))
            }
        };
        let client_id = f.client_id.as_deref().unwrap_or("");
        let integration = self
            .integration_index(client_id)
            .ok_or(Refusal::hint(Hint::CheckClientId))?;
        let integ = self.config.integrations[integration].clone();
        let secret = f.client_secret.as_deref().unwrap_or("");
        if !constant_time_eq(secret.as_bytes(), integ.secret.as_bytes()) {
            return Err(Refusal::hint(Hint::CheckClientSecret));
        }
        let grant =
            match f.grant_type.as_deref() {
                None | Some("") => return Err(Refusal::missing("grant_type")),
                Some(g @ ("authorization_code" | "refresh_token")) => g.to_string(),
                Some(_) => return Err(Refusal::other(
                    400,
                    "Check that all required parameters have been provided",
                    "The authorization grant type is not supported by the authorization server.",
                )),
            };
        match f.redirect_uri.as_deref() {
            None | Some("") => return Err(Refusal::missing("redirect_uri")),
            Some(uri) if uri != integ.redirect_uri => {
                return Err(Refusal::hint(Hint::RedirectUriMismatch))
            }
            Some(_) => {}
        }
        let now = now_ms.div_euclid(1000);
        if grant == "authorization_code" {
            let code = f
                .code
                .as_deref()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Refusal::missing("code"))?;
            let rec = match self.codes.get(code) {
                Some(rec) if rec.integration == integ.id => rec.clone(),
                _ => return Err(Refusal::hint(Hint::CannotDecrypt)),
            };
            if rec.account != account {
                return Err(Refusal::hint(Hint::InvalidAccount));
            }
            if now_ms - rec.issued_ms > kommo::CODE_LIFETIME_SECS * 1000 {
                return Err(Refusal::hint(Hint::CodeExpired));
            }
            if rec.used {
                return Err(Refusal::hint(Hint::CodeRevoked));
            }
            if let Some(r) = self.codes.get_mut(code) {
                r.used = true;
            }
            let idx = self.new_pair(&integ.id, account, "authorization_code", code, None, now_ms);
            Ok(self.pair_json(idx, now))
        } else {
            let token = f
                .refresh_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Refusal::missing("refresh_token"))?;
            let Some(&old) = self.by_refresh.get(token) else {
                return Err(Refusal::bad_refresh("Cannot decrypt the refresh token"));
            };
            let rec = &self.pairs[old];
            if rec.integration != integ.id {
                return Err(Refusal::bad_refresh("Token is not linked to client"));
            }
            if rec.account != account {
                return Err(Refusal::hint(Hint::InvalidAccount));
            }
            if rec.public.revoked {
                return Err(Refusal::hint(Hint::TokenRevoked));
            }
            if now > rec.public.refresh_expires_at {
                return Err(Refusal::bad_refresh("Token has expired"));
            }
            self.use_pair(old);
            self.pairs[old].public.refreshed = true;
            let idx = self.new_pair(
                &integ.id,
                account,
                "refresh_token",
                token,
                Some(old),
                now_ms,
            );
            Ok(self.pair_json(idx, now))
        }
    }

    /// A long-lived token (private integrations): a JWT valid for `valid_secs`, no refresh token.
    pub fn mint_long_lived(
        &mut self,
        account: usize,
        integration: usize,
        valid_secs: i64,
        now_ms: i64,
    ) -> String {
        let now = now_ms.div_euclid(1000);
        let integ = self.config.integrations[integration].id.clone();
        let token = self.mint_access(&integ, account, now, now + valid_secs);
        let idx = self.long_lived.len();
        self.long_lived.push(LongLived {
            account,
            integration: integ,
            expires_at: now + valid_secs,
        });
        self.by_access
            .insert(token.clone(), AccessRef::LongLived(idx));
        token
    }

    // ---- API -------------------------------------------------------------------------------------------------

    /// Check a bearer token for an API request to `account`, apply the rate limit and mark the pair used.
    pub fn authorize(
        &mut self,
        account: usize,
        bearer: Option<&str>,
        now_ms: i64,
    ) -> Result<Authz, ApiRefusal> {
        let unauthorized = |detail: &str| ApiRefusal {
            status: 401,
            body: api_problem(401, "Unauthorized", detail),
        };
        let Some(token) = bearer.filter(|t| !t.is_empty()) else {
            return Err(unauthorized("Unauthorized"));
        };
        let Some(&r) = self.by_access.get(token) else {
            return Err(unauthorized("Unauthorized"));
        };
        let now = now_ms.div_euclid(1000);
        let (token_account, integration, expires_at, revoked) = match r {
            AccessRef::Pair(i) => {
                let p = &self.pairs[i];
                (
                    p.account,
                    p.integration.clone(),
                    p.public.access_expires_at,
                    p.public.revoked,
                )
            }
            AccessRef::LongLived(i) => {
                let l = &self.long_lived[i];
                (l.account, l.integration.clone(), l.expires_at, false)
            }
        };
        if revoked {
            return Err(unauthorized("Token has been revoked"));
        }
        if now >= expires_at {
            return Err(unauthorized("Token has expired"));
        }
        if token_account != account {
            return Err(unauthorized("Account does not match the token"));
        }
        if let Some(limit) = self.config.rate_limit_per_second {
            let key = (self.account(account).id, integration);
            let window = self.rate.entry(key).or_default();
            while window.front().is_some_and(|&t| t <= now_ms - 1000) {
                window.pop_front();
            }
            if window.len() >= limit as usize {
                return Err(ApiRefusal {
                    status: 429,
                    body: api_problem(
                        429,
                        "Too Many Requests",
                        "Too many requests: at most 7 per second",
                    ),
                });
            }
            window.push_back(now_ms);
        }
        if let AccessRef::Pair(i) = r {
            self.use_pair(i);
        }
        Ok(Authz {
            account,
            user_id: self.account(account).user_id,
        })
    }

    // ---- views -----------------------------------------------------------------------------------------------

    pub fn issued(&self) -> Vec<IssuedPair> {
        self.pairs.iter().map(|p| p.public.clone()).collect()
    }

    pub fn push_log(&mut self, mut entry: LogEntry) {
        entry.seq = self.log.len() as u64 + 1;
        self.log.push(entry);
    }

    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEMO_CLIENT_ID, DEMO_SECRET};

    const URI: &str = "https://app.example/cb";
    const T0: i64 = 1_700_000_000_000;

    fn store() -> Store {
        Store::new(DoubleConfig::demo(URI))
    }

    fn code_fields(code: &str) -> TokenFields {
        TokenFields {
            client_id: Some(DEMO_CLIENT_ID.into()),
            client_secret: Some(DEMO_SECRET.into()),
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            refresh_token: None,
            redirect_uri: Some(URI.into()),
        }
    }

    fn refresh_fields(rt: &str) -> TokenFields {
        TokenFields {
            grant_type: Some("refresh_token".into()),
            code: None,
            refresh_token: Some(rt.into()),
            ..code_fields("")
        }
    }

    fn hint_of(r: Result<Value, Refusal>) -> (u16, String) {
        let e = r.expect_err("expected a refusal");
        (e.status, e.body.hint.unwrap_or_default())
    }

    #[test]
    fn host_classification() {
        let s = store();
        assert_eq!(
            s.classify_host(Some("demo.kommo.com")),
            HostKind::Account(0)
        );
        assert_eq!(
            s.classify_host(Some("DEMO.kommo.com")),
            HostKind::Account(0)
        );
        assert_eq!(
            s.classify_host(Some("sales.amocrm.ru")),
            HostKind::Account(1)
        );
        assert_eq!(
            s.classify_host(Some("sales.kommo.com")),
            HostKind::Unknown("sales.kommo.com".into())
        );
        assert_eq!(s.classify_host(Some("www.kommo.com")), HostKind::Www);
        assert_eq!(s.classify_host(Some("127.0.0.1")), HostKind::Www);
        assert_eq!(s.classify_host(None), HostKind::Www);
    }

    #[test]
    fn refresh_rotation_rules() {
        let mut s = store();
        let code = s.issue_code(0, 0, T0);
        let a = s
            .exchange(&HostKind::Account(0), &code_fields(&code), T0)
            .unwrap();
        let (a_rt, a_at) = (
            a["refresh_token"].as_str().unwrap().to_string(),
            a["access_token"].as_str().unwrap(),
        );
        let a_at = a_at.to_string();
        // Refresh twice with the same token before using either successor: both allowed.
        let b = s
            .exchange(&HostKind::Account(0), &refresh_fields(&a_rt), T0 + 1)
            .unwrap();
        let c = s
            .exchange(&HostKind::Account(0), &refresh_fields(&a_rt), T0 + 2)
            .unwrap();
        assert_ne!(b["refresh_token"], c["refresh_token"]);
        // The old access token still works until a successor is used.
        s.authorize(0, Some(&a_at), T0 + 3).unwrap();
        // Use C first: it counts; A and B are retired.
        s.authorize(0, c["access_token"].as_str(), T0 + 4).unwrap();
        assert_eq!(
            hint_of(s.exchange(&HostKind::Account(0), &refresh_fields(&a_rt), T0 + 5)).1,
            "Token has been revoked"
        );
        let b_rt = b["refresh_token"].as_str().unwrap();
        assert_eq!(
            hint_of(s.exchange(&HostKind::Account(0), &refresh_fields(b_rt), T0 + 6)).0,
            401
        );
        assert_eq!(s.authorize(0, Some(&a_at), T0 + 7).unwrap_err().status, 401);
        assert_eq!(
            s.authorize(0, b["access_token"].as_str(), T0 + 8)
                .unwrap_err()
                .status,
            401
        );
        // C's refresh works; refreshing with it counts as its use too.
        let c_rt = c["refresh_token"].as_str().unwrap();
        let d = s
            .exchange(&HostKind::Account(0), &refresh_fields(c_rt), T0 + 9)
            .unwrap();
        let d_rt = d["refresh_token"].as_str().unwrap();
        let e = s
            .exchange(&HostKind::Account(0), &refresh_fields(d_rt), T0 + 10)
            .unwrap();
        // Using D (via its refresh) retired C.
        assert_eq!(
            hint_of(s.exchange(&HostKind::Account(0), &refresh_fields(c_rt), T0 + 11)).1,
            "Token has been revoked"
        );
        assert!(e["access_token"].is_string());
        let issued = s.issued();
        assert_eq!(issued.len(), 5);
        assert_eq!(issued[0].from, keys::fingerprint(&code));
        let revoked: Vec<bool> = issued.iter().map(|p| p.revoked).collect();
        assert_eq!(revoked, [true, true, true, false, false]);
        assert!(issued[3].used && !issued[4].used);
    }

    #[test]
    fn refresh_token_expires_after_three_months() {
        let mut s = store();
        let code = s.issue_code(0, 0, T0);
        let a = s
            .exchange(&HostKind::Account(0), &code_fields(&code), T0)
            .unwrap();
        let rt = a["refresh_token"].as_str().unwrap();
        let late = T0 + (kommo::REFRESH_TOKEN_LIFETIME_SECS + 1) * 1000;
        assert_eq!(
            hint_of(s.exchange(&HostKind::Account(0), &refresh_fields(rt), late)),
            (401, "Token has expired".into())
        );
        let ok = T0 + (kommo::REFRESH_TOKEN_LIFETIME_SECS - 10) * 1000;
        assert!(s
            .exchange(&HostKind::Account(0), &refresh_fields(rt), ok)
            .is_ok());
    }

    #[test]
    fn rate_limit_is_a_sliding_second() {
        let mut s = store();
        let token = s.mint_long_lived(0, 0, 86_400, T0);
        for i in 0..7 {
            s.authorize(0, Some(&token), T0 + i * 100).unwrap();
        }
        assert_eq!(
            s.authorize(0, Some(&token), T0 + 700).unwrap_err().status,
            429
        );
        // The first request leaves the window at T0 + 1000.
        assert_eq!(
            s.authorize(0, Some(&token), T0 + 999).unwrap_err().status,
            429
        );
        s.authorize(0, Some(&token), T0 + 1000).unwrap();
        let mut off = Store::new(DoubleConfig {
            rate_limit_per_second: None,
            ..DoubleConfig::demo(URI)
        });
        let token = off.mint_long_lived(0, 0, 86_400, T0);
        for _ in 0..20 {
            off.authorize(0, Some(&token), T0).unwrap();
        }
    }
}
