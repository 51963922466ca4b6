#![allow(dead_code)]
//! Helpers shared by the double's integration tests: a double on a loopback port and a client that names the
//! account host the way the proxy does (`X-Forwarded-Host`).

use std::collections::HashMap;
use std::net::SocketAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kommo_double::{Double, DoubleConfig, DEMO_CLIENT_ID, DEMO_SECRET};
use reqwest::{Client, Response, StatusCode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::{json, Value};
use sha2::Sha256;

pub const REDIRECT: &str = "https://helper.example/callback?from=kommo";
pub const DEMO_HOST: &str = "demo.kommo.com";
pub const SALES_HOST: &str = "sales.amocrm.ru";

pub struct Env {
    pub double: Double,
    pub addr: SocketAddr,
    pub client: Client,
}

impl Env {
    pub async fn start() -> Env {
        Env::with(DoubleConfig::demo(REDIRECT)).await
    }

    pub async fn with(config: DoubleConfig) -> Env {
        let double = Double::new(config);
        let addr = double.clone().spawn().await.expect("bind loopback");
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Env {
            double,
            addr,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POST a JSON token request to the given account host (`None`: the double's bare address).
    pub async fn token(&self, host: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(self.url("/oauth2/access_token"))
            .json(&body);
        if let Some(h) = host {
            req = req.header("x-forwarded-host", h);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn exchange(&self, host: &str, code: &str) -> (StatusCode, Value) {
        self.token(Some(host), code_body(code)).await
    }

    pub async fn refresh(&self, host: &str, refresh_token: &str) -> (StatusCode, Value) {
        self.token(Some(host), refresh_body(refresh_token)).await
    }

    pub async fn api(&self, host: &str, path: &str, token: Option<&str>) -> Response {
        let mut req = self
            .client
            .get(self.url(path))
            .header("x-forwarded-host", host);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Go through consent over HTTP (Allow, post_message mode) and return the redirect's query.
    pub async fn consent_code(&self, account_host: &str) -> HashMap<String, String> {
        let r = self
            .client
            .post(self.url("/oauth"))
            .form(&[
                ("client_id", DEMO_CLIENT_ID),
                ("state", "s1"),
                ("mode", "post_message"),
                ("account", account_host),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        query_of(r.headers()["location"].to_str().unwrap())
    }

    pub async fn fresh_pair(&self, host: &str) -> (String, String) {
        let code = self.consent_code(host).await["code"].clone();
        let (status, body) = self.exchange(host, &code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (
            body["access_token"].as_str().unwrap().into(),
            body["refresh_token"].as_str().unwrap().into(),
        )
    }
}

pub fn code_body(code: &str) -> Value {
    json!({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET, "grant_type": "authorization_code",
           "code": code, "redirect_uri": REDIRECT})
}

pub fn refresh_body(refresh_token: &str) -> Value {
    json!({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET, "grant_type": "refresh_token",
           "refresh_token": refresh_token, "redirect_uri": REDIRECT})
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub fn hint(body: &Value) -> &str {
    body["hint"].as_str().unwrap_or("")
}

/// Verify an RS256 JWT with a SPKI PEM; return its claims.
pub fn verify_jwt(token: &str, pem: &str) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("not three parts".into());
    }
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[0])
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    if header != json!({"alg": "RS256", "typ": "JWT"}) {
        return Err(format!("header {header}"));
    }
    let key = RsaPublicKey::from_public_key_pem(pem).map_err(|e| e.to_string())?;
    let sig_bytes = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|e| e.to_string())?;
    let sig = Signature::try_from(sig_bytes.as_slice()).map_err(|e| e.to_string())?;
    VerifyingKey::<Sha256>::new(key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[1])
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}
