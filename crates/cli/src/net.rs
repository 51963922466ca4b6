//! HTTP to the account host (or to `--upstream-base`). The CLI needs no proxy: there is no browser, so no CORS.

use std::time::Duration;

use kommo::proxy::FORWARDED_HOST_HEADER;
use kommo::token::TOKEN_PATH;
use kommo::{AccountHost, TokenRequest};

use crate::fail::{Exit, Failure, Result};

/// Where requests go.
pub struct Upstream {
    client: reqwest::Client,
    base: Option<String>,
}

/// An answer: status, `Retry-After`, body.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// No answer: why, in one line without secrets.
#[derive(Debug, Clone)]
pub struct NoAnswer {
    pub text: String,
    /// The request may have arrived (a timeout or a connection cut after sending).
    pub may_have_arrived: bool,
}

/// `http(s)://host[:port]` without query (like the proxy's `--upstream-base`), without the trailing `/`.
pub fn check_upstream_base(base: &str) -> Result<String> {
    let bad = || {
        Failure::bad(format!(
            "--upstream-base {base:?}: expected http(s)://host[:port]"
        ))
    };
    let url = reqwest::Url::parse(base.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || url.query().is_some() {
        return Err(bad());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

impl Upstream {
    pub fn new(base: Option<&str>, timeout: Duration) -> Result<Upstream> {
        let base = base
            .filter(|b| !b.trim().is_empty())
            .map(check_upstream_base)
            .transpose()?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("kommo-env/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            // Never follow a redirect with a token or secret in the request.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::new(Exit::Trouble, format!("cannot start HTTP: {e}")))?;
        Ok(Upstream { client, base })
    }

    /// Where requests for `host` go, for messages.
    pub fn origin(&self, host: &AccountHost) -> String {
        self.base.clone().unwrap_or_else(|| host.https_origin())
    }

    fn request(
        &self,
        method: reqwest::Method,
        host: &AccountHost,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.origin(host));
        let mut req = self
            .client
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if self.base.is_some() {
            req = req.header(FORWARDED_HOST_HEADER, host.as_str());
        }
        req
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        host: &AccountHost,
    ) -> std::result::Result<Reply, NoAnswer> {
        let origin = self.origin(host);
        let failed = |e: reqwest::Error| {
            let cause = root_cause(&e);
            if e.is_timeout() {
                NoAnswer {
                    text: format!("{origin} did not answer in time ({cause})"),
                    may_have_arrived: true,
                }
            } else if e.is_connect() {
                NoAnswer {
                    text: format!("could not connect to {origin}: {cause}"),
                    may_have_arrived: false,
                }
            } else {
                NoAnswer {
                    text: format!("the exchange with {origin} broke off: {cause}"),
                    may_have_arrived: true,
                }
            }
        };
        let resp = req.send().await.map_err(failed)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.text().await.map_err(failed)?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// `POST /oauth2/access_token` with the request as JSON.
    pub async fn token(
        &self,
        host: &AccountHost,
        request: &TokenRequest,
    ) -> std::result::Result<Reply, NoAnswer> {
        let req = self
            .request(reqwest::Method::POST, host, TOKEN_PATH)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.to_json());
        self.send(req, host).await
    }

    /// `GET {path_and_query}` with the bearer token.
    pub async fn api_get(
        &self,
        host: &AccountHost,
        path: &str,
        token: &str,
    ) -> std::result::Result<Reply, NoAnswer> {
        let req = self
            .request(reqwest::Method::GET, host, path)
            .bearer_auth(token);
        self.send(req, host).await
    }
}
