//! The axum router: consent page, token endpoint, API, test controls, and the layer that logs every request and
//! refuses `OPTIONS`.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};

use crate::api;
use crate::keys::fingerprint;
use crate::pages;
use crate::store::{api_problem, HostKind, LogDetail, LogEntry, Refusal, TokenFields};
use crate::Double;

/// The account host a request was for, as resolved by the logging layer.
#[derive(Debug, Clone)]
struct ReqHost(Option<String>);

pub(crate) fn router(double: Double) -> Router {
    Router::new()
        .route("/oauth", get(consent_page).post(consent_decision))
        .route(kommo::token::TOKEN_PATH, post(token))
        .route("/api/v4/account", get(api_account))
        .route("/api/v4/users", get(api_users))
        .route("/api/v4/leads/pipelines", get(api_pipelines))
        .route("/api/v4/leads", get(api_leads))
        .route("/_double/log", get(control_log))
        .route("/_double/clock/advance", post(control_advance))
        .route("/_double/long-lived-token", post(control_long_lived))
        .route("/_double/issued", get(control_issued))
        .route("/_double/public-key", get(control_public_key))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(double.clone(), outer))
        .with_state(double)
}

/// Strip a `:port` (and IPv6 brackets keep their content with brackets).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map(|(h, _)| &host[..h.len() + 1])
            .unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// `X-Forwarded-Host` (first value) if present, else `Host`, else the URI's authority; without the port.
fn request_host(req: &Request) -> Option<String> {
    let header_value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let raw = header_value(kommo::proxy::FORWARDED_HOST_HEADER)
        .or_else(|| header_value(header::HOST.as_str()))
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()))?;
    Some(strip_port(&raw).to_ascii_lowercase())
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json_response(status: u16, content_type: &'static str, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

fn account_not_found(host: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::error(
            "Account not found",
            &format!("There is no account at {host}."),
        ),
    )
}

/// Every request: `OPTIONS` → 405 (Kommo has no CORS), unknown account hosts → 404, then the log entry.
async fn outer(State(d): State<Double>, mut req: Request, next: Next) -> Response {
    let arrived_us = d.since_start().as_micros() as u64;
    let host = request_host(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let kind = d.store().classify_host(host.as_deref());
    let response = if method == Method::OPTIONS {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        r
    } else if let (HostKind::Unknown(h), false) = (&kind, path.starts_with("/_double/")) {
        account_not_found(h)
    } else {
        req.extensions_mut().insert(ReqHost(host.clone()));
        next.run(req).await
    };
    let detail = response
        .extensions()
        .get::<LogDetail>()
        .cloned()
        .unwrap_or_default();
    let status = response.status().as_u16();
    tracing::info!(
        method = %method,
        path = %path,
        host = host.as_deref().unwrap_or("-"),
        status,
        grant_type = detail.grant_type.as_deref().unwrap_or(""),
        hint = detail.hint.as_deref().unwrap_or(""),
        "request"
    );
    let at = d.clock().now_unix();
    d.store().push_log(LogEntry {
        seq: 0,
        at,
        arrived_us,
        method: method.to_string(),
        path,
        host,
        grant_type: detail.grant_type,
        client_id: detail.client_id,
        credential_id: detail.credential_id,
        status,
        hint: detail.hint,
    });
    response
}

async fn not_found() -> Response {
    json_response(
        404,
        "application/problem+json",
        &api_problem(404, "Not Found", "Not Found"),
    )
}

// ---- consent ------------------------------------------------------------------------------------------------

async fn consent_page(
    State(d): State<Double>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let store = d.store();
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    let Some(i) = store.integration_index(client_id) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "Integration not found",
                "The client_id in this link does not belong to any integration.",
            ),
        );
    };
    if store.config.accounts.is_empty() {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("No account", "There is no account to install into."),
        );
    }
    let mode = q
        .get("mode")
        .and_then(|m| kommo::Mode::parse(m))
        .unwrap_or(kommo::Mode::PostMessage);
    html(
        StatusCode::OK,
        pages::consent(
            &store.config.integrations[i],
            &store.config.accounts,
            q.get("state").map(String::as_str),
            mode.as_str(),
            &store.config.scopes,
        ),
    )
}

/// Append query pairs to a URI that may already have a query (and keep a fragment at the end).
pub(crate) fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match uri.find('#') {
        Some(i) => (&uri[..i], &uri[i..]),
        None => (uri, ""),
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{sep}{query}{fragment}")
}

async fn consent_decision(State(d): State<Double>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let now = d.clock().now_millis();
    let mut store = d.store();
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let Some(i) = store.integration_index(client_id) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("Integration not found", "Unknown client_id."),
        );
    };
    let Some(account) = form
        .get("account")
        .and_then(|a| store.account_by_subdomain(a))
    else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("Account not found", "Choose one of your accounts."),
        );
    };
    let integration = store.config.integrations[i].clone();
    let state = form.get("state").map(String::as_str);
    let allow = form.get("decision").map(String::as_str) == Some("allow");
    let url = if allow {
        let code = store.issue_code(i, account, now);
        let referer = store.account(account).host();
        let mut pairs = vec![("code", code.as_str())];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        pairs.push(("referer", referer.as_str()));
        pairs.push(("client_id", integration.id.as_str()));
        append_query(&integration.redirect_uri, &pairs)
    } else {
        let mut pairs = vec![
            ("error", "access_denied"),
            ("client_id", integration.id.as_str()),
        ];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        append_query(&integration.redirect_uri, &pairs)
    };
    drop(store);
    let mut response = if form.get("mode").map(String::as_str) == Some("popup") {
        html(StatusCode::OK, pages::popup_return(&url))
    } else {
        let mut r = StatusCode::FOUND.into_response();
        match HeaderValue::from_str(&url) {
            Ok(v) => {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Err(_) => {
                return html(
                    StatusCode::BAD_REQUEST,
                    pages::error("Bad redirect URI", "Cannot redirect."),
                )
            }
        }
        r
    };
    response.extensions_mut().insert(LogDetail {
        client_id: Some(integration.id),
        ..LogDetail::default()
    });
    response
}

// ---- token endpoint -----------------------------------------------------------------------------------------

fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Read the token request body as JSON or as a form (by content type; without one, JSON then form).
fn parse_token_body(headers: &HeaderMap, body: &[u8]) -> Result<TokenFields, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let from_map = |get: &dyn Fn(&str) -> Option<String>| TokenFields {
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        grant_type: get("grant_type"),
        code: get("code"),
        refresh_token: get("refresh_token"),
        redirect_uri: get("redirect_uri"),
    };
    let as_form = || {
        let map: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        from_map(&|k| map.get(k).cloned())
    };
    let as_json = || -> Option<TokenFields> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let obj = value.as_object()?;
        Some(from_map(&|k| obj.get(k).and_then(value_to_string)))
    };
    let malformed = || {
        Refusal::other(
            400,
            "Check that all required parameters have been provided",
            "The request is missing a required parameter, includes an invalid parameter value, or is otherwise malformed.",
        )
    };
    if content_type.starts_with("application/x-www-form-urlencoded") {
        Ok(as_form())
    } else if content_type.contains("json") {
        as_json().ok_or_else(malformed)
    } else {
        as_json()
            .or_else(|| Some(as_form()).filter(|f| f.client_id.is_some()))
            .ok_or_else(malformed)
    }
}

async fn token(
    State(d): State<Double>,
    Extension(ReqHost(host)): Extension<ReqHost>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = parse_token_body(&headers, &body);
    let now = d.clock().now_millis();
    let (result, detail) = {
        let mut store = d.store();
        let kind = store.classify_host(host.as_deref());
        let fields = parsed.clone().unwrap_or_default();
        let credential = match fields.grant_type.as_deref() {
            Some("refresh_token") => fields.refresh_token.as_deref(),
            _ => fields.code.as_deref().or(fields.refresh_token.as_deref()),
        };
        let detail = LogDetail {
            grant_type: fields.grant_type.clone(),
            client_id: fields.client_id.clone(),
            credential_id: credential.map(fingerprint),
            hint: None,
        };
        let result = match (&kind, parsed) {
            (HostKind::Account(_), Err(refusal)) => Err(refusal),
            (_, parsed) => store.exchange(&kind, &parsed.unwrap_or_default(), now),
        };
        (result, detail)
    };
    let (mut response, hint) = match result {
        Ok(body) => (json_response(200, "application/json", &body), None),
        Err(r) => {
            let body = serde_json::to_value(&r.body).unwrap_or_default();
            (
                json_response(r.status, "application/json", &body),
                r.body.hint,
            )
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .extensions_mut()
        .insert(LogDetail { hint, ..detail });
    response
}

// ---- API ----------------------------------------------------------------------------------------------------

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Authorize an API call and build its answer from the account (with the store locked).
fn api_call(
    d: &Double,
    host: Option<String>,
    headers: &HeaderMap,
    answer: impl FnOnce(&crate::config::Account, bool, usize) -> Response,
) -> Response {
    let token = bearer(headers);
    let detail = LogDetail {
        credential_id: token.as_deref().map(fingerprint),
        ..LogDetail::default()
    };
    let now = d.clock().now_millis();
    let mut store = d.store();
    let mut response = match store.classify_host(host.as_deref()) {
        HostKind::Account(i) => match store.authorize(i, token.as_deref(), now) {
            Ok(authz) => {
                let account = store.account(authz.account).clone();
                let leads = store.config.leads_of(&account);
                drop(store);
                answer(
                    &account,
                    account.user_is_admin && authz.user_id == account.user_id,
                    leads,
                )
            }
            Err(refusal) => {
                json_response(refusal.status, "application/problem+json", &refusal.body)
            }
        },
        HostKind::Www => account_not_found(host.as_deref().unwrap_or("this address")),
        HostKind::Unknown(h) => account_not_found(&h),
    };
    response.extensions_mut().insert(detail);
    response
}

async fn api_account(
    State(d): State<Double>,
    Extension(ReqHost(host)): Extension<ReqHost>,
    headers: HeaderMap,
) -> Response {
    api_call(&d, host, &headers, |a, _, _| {
        json_response(200, "application/hal+json", &api::account(a))
    })
}

async fn api_users(
    State(d): State<Double>,
    Extension(ReqHost(host)): Extension<ReqHost>,
    headers: HeaderMap,
) -> Response {
    api_call(&d, host, &headers, |a, admin, _| {
        if admin {
            json_response(200, "application/hal+json", &api::users(a))
        } else {
            json_response(
                403,
                "application/problem+json",
                &api_problem(403, "Forbidden", "Access denied"),
            )
        }
    })
}

async fn api_pipelines(
    State(d): State<Double>,
    Extension(ReqHost(host)): Extension<ReqHost>,
    headers: HeaderMap,
) -> Response {
    api_call(&d, host, &headers, |a, _, _| {
        json_response(200, "application/hal+json", &api::pipelines(a))
    })
}

async fn api_leads(
    State(d): State<Double>,
    Extension(ReqHost(host)): Extension<ReqHost>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    api_call(&d, host, &headers, |a, _, total| {
        match api::leads_query(
            q.get("limit").map(String::as_str),
            q.get("page").map(String::as_str),
        ) {
            Err(body) => json_response(400, "application/problem+json", &body),
            Ok((limit, page)) => match api::leads_page(a, total, limit, page) {
                Some(body) => json_response(200, "application/hal+json", &body),
                None => StatusCode::NO_CONTENT.into_response(),
            },
        }
    })
}

// ---- test controls ------------------------------------------------------------------------------------------

async fn control_log(State(d): State<Double>) -> Response {
    json_response(200, "application/json", &json!(d.log()))
}

async fn control_issued(State(d): State<Double>) -> Response {
    json_response(200, "application/json", &json!(d.issued()))
}

async fn control_public_key(State(d): State<Double>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        d.public_key_pem(),
    )
        .into_response()
}

fn control_error(message: &str) -> Response {
    json_response(400, "application/json", &json!({"error": message}))
}

async fn control_advance(
    State(d): State<Double>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(secs) = q.get("secs").and_then(|s| s.parse::<u64>().ok()) else {
        return control_error("secs must be a whole number of seconds");
    };
    d.clock().advance(Duration::from_secs(secs));
    json_response(
        200,
        "application/json",
        &json!({"now": d.clock().now_unix()}),
    )
}

async fn control_long_lived(
    State(d): State<Double>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let account = q
        .get("account")
        .map(String::as_str)
        .unwrap_or(crate::config::DEMO_ACCOUNT);
    let days = match q.get("days").map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(n)) if (1..=crate::MAX_LONG_LIVED_DAYS).contains(&n) => n,
        Some(_) => return control_error("days must be between 1 and 1826 (5 years)"),
    };
    let client_id = match q.get("client_id") {
        Some(id) => id.clone(),
        None => match d.store().config.integrations.first() {
            Some(i) => i.id.clone(),
            None => return control_error("no integration is configured"),
        },
    };
    match d.try_mint_long_lived_token(account, &client_id, Duration::from_secs(days * 86_400)) {
        Ok(token) => {
            let claims = kommo::jwt::decode_payload(&token).unwrap_or_default();
            json_response(
                200,
                "application/json",
                &json!({"access_token": token, "expires_at": claims.exp, "client_id": client_id,
                        "account_id": claims.account_id}),
            )
        }
        Err(e) => control_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_query_keeps_existing_query_and_fragment() {
        assert_eq!(
            append_query("https://a.example/cb", &[("code", "x y")]),
            "https://a.example/cb?code=x+y"
        );
        assert_eq!(
            append_query("https://a.example/cb?v=1", &[("code", "c")]),
            "https://a.example/cb?v=1&code=c"
        );
        assert_eq!(
            append_query("https://a.example/cb?", &[("code", "c")]),
            "https://a.example/cb?code=c"
        );
        assert_eq!(
            append_query("https://a.example/cb?v=1#top", &[("a", "&")]),
            "https://a.example/cb?v=1&a=%26#top"
        );
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("demo.kommo.com:8081"), "demo.kommo.com");
        assert_eq!(strip_port("127.0.0.1"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
