//! The fake proxy: an [`Api`] that answers from a script and records what it was asked, and the answers the tests
//! give through it (token pairs, Kommo's API).

use std::cell::RefCell;
use std::rc::Rc;

use kommo::{Health, TokenRequest, TokenResponse};
use kommo_oauth_helper::api::LocalFuture;
use kommo_oauth_helper::{browser, Api, ApiAnswer, ApiError, RawAnswer};

use crate::harness::CLIENT_ID;

/// A request the fake proxy received.
#[derive(Debug, Clone)]
pub struct Call {
    pub base: String,
    pub host: String,
    pub request: TokenRequest,
}

/// An API request the fake proxy received, and when (ms since the epoch).
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub base: String,
    pub host: String,
    pub path: String,
    pub token: String,
    pub at: f64,
}

/// Answers `api_get` from the path and the number of API calls before this one.
pub type ApiScript = Box<dyn Fn(&str, usize) -> Result<ApiAnswer, ApiError>>;

/// A proxy that answers from a script and records what it was asked.
pub struct FakeApi {
    /// What `/healthz` answers (`None`: unreachable); a test may change it midway.
    pub health: RefCell<Option<Health>>,
    /// Token answers in order; the last one repeats.
    token: RefCell<Vec<Result<RawAnswer, ApiError>>>,
    calls: Rc<RefCell<Vec<Call>>>,
    api: ApiScript,
    api_calls: Rc<RefCell<Vec<ApiCall>>>,
}

impl FakeApi {
    pub fn new(
        health: Option<Health>,
        token: Result<RawAnswer, ApiError>,
    ) -> (Rc<Self>, Rc<RefCell<Vec<Call>>>) {
        let (api, calls, _) = FakeApi::full(health, vec![token], Box::new(|_, _| Ok(status(404))));
        (api, calls)
    }

    /// Token answers in order, and an API script.
    #[allow(clippy::type_complexity)]
    pub fn full(
        health: Option<Health>,
        tokens: Vec<Result<RawAnswer, ApiError>>,
        api: ApiScript,
    ) -> (Rc<Self>, Rc<RefCell<Vec<Call>>>, Rc<RefCell<Vec<ApiCall>>>) {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let api_calls = Rc::new(RefCell::new(Vec::new()));
        (
            Rc::new(FakeApi {
                health: RefCell::new(health),
                token: RefCell::new(tokens),
                calls: calls.clone(),
                api,
                api_calls: api_calls.clone(),
            }),
            calls,
            api_calls,
        )
    }
}

/// An API answer with this status and no body.
pub fn status(status: u16) -> ApiAnswer {
    ApiAnswer {
        status,
        ..ApiAnswer::default()
    }
}

/// An API answer with a JSON body.
pub fn json_answer(status: u16, body: serde_json::Value) -> ApiAnswer {
    ApiAnswer {
        status,
        body: body.to_string(),
        content_type: Some("application/hal+json".into()),
        retry_after: None,
    }
}

impl Api for FakeApi {
    fn health(&self, base: &str) -> LocalFuture<Result<Health, ApiError>> {
        let r = self
            .health
            .borrow()
            .clone()
            .ok_or(ApiError::ProxyUnreachable {
                url: base.to_string(),
            });
        Box::pin(async move { r })
    }

    fn token(
        &self,
        base: &str,
        host: &str,
        request: &TokenRequest,
    ) -> LocalFuture<Result<RawAnswer, ApiError>> {
        self.calls.borrow_mut().push(Call {
            base: base.into(),
            host: host.into(),
            request: request.clone(),
        });
        let r = {
            let mut answers = self.token.borrow_mut();
            if answers.len() > 1 {
                answers.remove(0)
            } else {
                answers[0].clone()
            }
        };
        Box::pin(async move { r })
    }

    fn api_get(
        &self,
        base: &str,
        host: &str,
        path_and_query: &str,
        token: &str,
    ) -> LocalFuture<Result<ApiAnswer, ApiError>> {
        let n = self.api_calls.borrow().len();
        self.api_calls.borrow_mut().push(ApiCall {
            base: base.into(),
            host: host.into(),
            path: path_and_query.into(),
            token: token.into(),
            at: js_sys::Date::now(),
        });
        let r = (self.api)(path_and_query, n);
        Box::pin(async move { r })
    }
}

pub fn health(holds_secret: bool) -> Health {
    Health {
        status: "ok".into(),
        version: "0.1.0".into(),
        holds_secret,
        client_id: holds_secret.then(|| CLIENT_ID.to_string()),
        signs_refresh: holds_secret.then_some(true),
    }
}

/// A JWT-shaped access token with a known expiry.
pub const EXP: i64 = 1_900_000_000;

pub fn access_token() -> String {
    let payload = serde_json::json!({"aud": CLIENT_ID, "exp": EXP, "sub": "7", "account_id": 31000001, "scopes": ["crm", "files"]});
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
        kommo::jwt::encode_segment(&payload)
    )
}

pub fn token_body() -> String {
    serde_json::to_string(&TokenResponse {
        token_type: "Bearer".into(),
        expires_in: 86400,
        access_token: access_token(),
        refresh_token: "def50200refresh".into(),
        server_time: None,
    })
    .unwrap()
}

pub fn ok_answer() -> Result<RawAnswer, ApiError> {
    token_answer(200, token_body(), Some("application/json"))
}

/// The dotenv block the page must show for [`token_body`] with the secret typed as `s3cr3t`.
pub fn expected_dotenv() -> String {
    let expires = browser::local_time(EXP as f64 * 1000.0);
    format!(
        "# Account host: kwid.kommo.com\n\
         # Access token expires: {expires}; the refresh token rotates, save the new one after each refresh\n\
         KOMMO_TEST_ENABLED=1\n\
         KOMMO_TEST_DOMAIN=kwid\n\
         KOMMO_TEST_ACCOUNT_HOST=kwid.kommo.com\n\
         KOMMO_TEST_CLIENT_ID={CLIENT_ID}\n\
         KOMMO_TEST_CLIENT_SECRET=s3cr3t\n\
         KOMMO_TEST_REDIRECT_URI=https://helper.example/\n\
         KOMMO_TEST_ACCESS_TOKEN={}\n\
         KOMMO_TEST_REFRESH_TOKEN=def50200refresh\n",
        access_token()
    )
}

/// What the proxy passes on from Kommo's token endpoint: this status, body and content type.
pub fn token_answer(
    status: u16,
    body: String,
    content_type: Option<&str>,
) -> Result<RawAnswer, ApiError> {
    Ok(RawAnswer {
        status,
        body,
        content_type: content_type.map(Into::into),
    })
}

pub fn jwt(payload: serde_json::Value) -> String {
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJl",
        kommo::jwt::encode_segment(&payload)
    )
}

/// An access token with every claim Kommo puts in, expiring `exp`.
pub fn full_token(exp: i64, user: &str) -> String {
    jwt(serde_json::json!({
        "aud": CLIENT_ID, "jti": "j1", "iat": exp - 86400, "nbf": exp - 86400, "exp": exp, "sub": user,
        "grant_type": "", "account_id": 31000001, "base_domain": "kommo.com", "version": 2,
        "scopes": ["crm", "files", "notifications"], "hash_uuid": "h", "api_domain": "api-g.kommo.com"
    }))
}

pub fn pair(access: &str, refresh: &str) -> Result<RawAnswer, ApiError> {
    let body = serde_json::json!({"token_type": "Bearer", "expires_in": 86400, "access_token": access,
        "refresh_token": refresh, "server_time": 1});
    token_answer(200, body.to_string(), Some("application/json"))
}

/// Kommo as the API check sees it: account, users (`users_status`), pipelines, then leads in pages of the given
/// sizes and a 204.
pub fn kommo_api(users_status: u16, pages: Vec<usize>) -> ApiScript {
    Box::new(move |path, _| {
        Ok(match path {
            "/api/v4/account" => json_answer(200, account_body()),
            "/api/v4/users" if users_status == 200 => json_answer(
                200,
                serde_json::json!({"_total_items": 3, "_embedded": {"users": [{"id": 1}, {"id": 2}, {"id": 3}]}}),
            ),
            "/api/v4/users" => json_answer(
                users_status,
                serde_json::json!({"title": "Forbidden", "status": users_status, "detail": "Access denied"}),
            ),
            "/api/v4/leads/pipelines" => json_answer(200, pipelines_body()),
            p if p.starts_with("/api/v4/leads?limit=250&page=") => {
                let page: usize = p.rsplit('=').next().unwrap().parse().unwrap();
                match pages.get(page - 1) {
                    Some(n) => json_answer(200, leads_page(*n)),
                    None => status(204),
                }
            }
            _ => status(404),
        })
    })
}

/// The Kommo API of [`kommo_api`] (users readable, `pages` of leads), except that the paths `blocked` picks answer
/// 403: Kommo's IP block.
pub fn kommo_api_blocking(pages: Vec<usize>, blocked: fn(&str) -> bool) -> ApiScript {
    let rest = kommo_api(200, pages);
    Box::new(move |path, n| {
        if blocked(path) {
            return Ok(json_answer(
                403,
                serde_json::json!({"title": "Forbidden", "status": 403, "detail": "Forbidden"}),
            ));
        }
        rest(path, n)
    })
}

pub fn leads_page(n: usize) -> serde_json::Value {
    let leads: Vec<_> = (0..n)
        .map(
            |i| serde_json::json!({"id": i, "name": format!("Deal {i}"), "price": 0, "_links": {}}),
        )
        .collect();
    serde_json::json!({"_page": 1, "_links": {}, "_embedded": {"leads": leads}})
}

pub fn account_body() -> serde_json::Value {
    serde_json::json!({"id": 31000001, "name": "Kwid Ltd", "subdomain": "kwid", "current_user_id": 7,
        "country": "US", "currency": "USD", "is_helpbot_enabled": false, "_links": {"self": {"href": "x"}}})
}

pub fn pipelines_body() -> serde_json::Value {
    serde_json::json!({"_total_items": 2, "_embedded": {"pipelines": [
        {"id": 1, "name": "Sales pipeline", "is_main": true, "_embedded": {"statuses": []}},
        {"id": 2, "name": "Partners"}]}})
}
