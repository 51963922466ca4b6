//! The tokens in hand — from the exchange, a refresh, or a pasted long-lived token — with everything needed to
//! render the result the same way after a reload.

use kommo::env::EnvValues;
use kommo::jwt::{decode_payload_with, Claims, JwtError};
use kommo::outcome::{env_values, long_lived_env_values, SecretSource};
use kommo::{AccountHost, TokenResponse};
use serde::{Deserialize, Serialize};

use crate::SecretWas;

/// How the tokens were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptKind {
    /// Code exchange (step 4).
    Exchanged,
    /// `grant_type=refresh_token`, from the result's "Refresh now" or a pasted refresh token.
    Refreshed,
    /// A private integration's long-lived token, pasted (no refresh token).
    LongLived,
}

/// The tokens and their context. Kept in sessionStorage (this tab only), like the exchange answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub kind: KeptKind,
    /// The account host (`referer`), where the API and the token endpoint live.
    pub host: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub secret: SecretWas,
    pub access_token: String,
    /// Empty for a long-lived token.
    pub refresh_token: String,
    /// Seconds, as the token endpoint said (0 when unknown).
    pub expires_in: i64,
    /// When the tokens arrived, ms since the epoch.
    pub at: i64,
}

impl Kept {
    /// Tokens from the token endpoint.
    pub fn from_tokens(
        kind: KeptKind,
        host: &str,
        client_id: &str,
        redirect_uri: &str,
        secret: SecretWas,
        tokens: &TokenResponse,
        at: i64,
    ) -> Kept {
        Kept {
            kind,
            host: host.to_string(),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            secret,
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
            expires_in: tokens.expires_in,
            at,
        }
    }

    /// The access token's claims (not verified).
    pub fn claims(&self) -> Result<Claims, JwtError> {
        decode_payload_with(&self.access_token, crate::json::parse)
    }

    /// When the access token expires (ms since the epoch): its `exp` claim, else `at + expires_in`; `None` when
    /// neither is known (a long-lived token that is not a JWT).
    pub fn expires_ms(&self) -> Option<f64> {
        match self.claims().ok().and_then(|c| c.exp) {
            Some(exp) => Some(exp as f64 * 1000.0),
            None if self.expires_in > 0 => Some(self.at as f64 + self.expires_in as f64 * 1000.0),
            None => None,
        }
    }

    /// The env block's values. `typed` is the secret currently in Setup; `expires_local` the expiry as shown.
    pub fn env_values(&self, typed: &str, expires_local: &str) -> Option<EnvValues> {
        let host = AccountHost::parse(&self.host).ok()?;
        if self.kind == KeptKind::LongLived {
            return Some(long_lived_env_values(
                &host,
                &self.client_id,
                &self.redirect_uri,
                &self.access_token,
                expires_local,
            ));
        }
        // What was true when the tokens came, not the proxy's health now (still loading after a reload).
        let secret = if self.secret == SecretWas::HeldByProxy {
            SecretSource::HeldByProxy
        } else if !typed.trim().is_empty() {
            SecretSource::Typed(typed.trim())
        } else {
            SecretSource::Unknown
        };
        let tokens = TokenResponse {
            token_type: "Bearer".into(),
            expires_in: self.expires_in,
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            server_time: None,
        };
        Some(env_values(
            &host,
            &self.client_id,
            secret,
            &self.redirect_uri,
            &tokens,
            expires_local,
        ))
    }
}

/// Normalise what someone pastes as an account host: surrounding space, a scheme and a trailing slash are
/// dropped; the rest must pass the strict [`AccountHost`] check.
pub fn parse_pasted_host(input: &str) -> Option<AccountHost> {
    let s = input.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.strip_suffix('/').unwrap_or(s);
    AccountHost::parse(&s.to_ascii_lowercase()).ok()
}

/// Normalise a pasted token: surrounding space and a `Bearer ` prefix are dropped; a token with inner spaces or
/// line breaks is refused.
pub fn parse_pasted_token(input: &str) -> Option<String> {
    let s = input.trim();
    let s = s
        .strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))
        .unwrap_or(s)
        .trim();
    (!s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| s.to_string())
}
