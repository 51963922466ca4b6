//! The tokens in hand — from the exchange, a refresh, or a pasted long-lived token — with everything needed to
//! render the result the same way after a reload.

use kommo::env::EnvValues;
use kommo::jwt::{decode_payload_with, Claims, JwtError};
use kommo::outcome::{env_values, long_lived_env_values, SecretSource};
use kommo::{AccountHost, TokenResponse};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{now, Answer, Refresh, SecretWas, TokenDraft};
use crate::json;
use crate::state::Ctx;
use crate::storage::{keys, Area, Store};

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

/// The kept-tokens part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct Tokens {
    /// Tokens newer than the exchange's, which they replace: a refresh, or a pasted long-lived token (mirrors
    /// sessionStorage `later`).
    pub newer: RwSignal<Option<Kept>>,
    /// The tab keeps an exchange answer or newer tokens that are not read yet: their reader (the records' derived
    /// `Deserialize`, 3 kB brotli) is in the result part, which the boot script fetches beside the main module when
    /// the tab keeps them; the page shows its content once they are read ([`crate::lazy::Parts::read_kept`]).
    pub unread: RwSignal<bool>,
    /// The result shows the tokens and the env block unmasked.
    pub revealed: RwSignal<bool>,
    /// "Already have a token?": a long-lived token and its account host as typed.
    pub long_lived: TokenDraft,
}

impl Tokens {
    /// Nothing read yet; `unread` says whether `store` keeps anything to read.
    pub(crate) fn new(store: &Store) -> Self {
        Tokens {
            newer: RwSignal::new(None),
            unread: RwSignal::new(Ctx::keeps_records(store)),
            revealed: RwSignal::new(false),
            long_lived: TokenDraft::default(),
        }
    }
}

/// What this tab keeps of the exchange and later tokens, as read by [`Ctx::read_kept`].
pub type KeptRecords = (Option<Answer>, Option<Kept>);

impl Ctx {
    /// Whether `store` keeps an exchange answer or newer tokens (without reading them).
    pub(crate) fn keeps_records(store: &Store) -> bool {
        [keys::ANSWER, keys::LATER]
            .iter()
            .any(|k| store.get(Area::Session, k).is_some())
    }

    /// The exchange answer and newer tokens this tab keeps (for a reload). Called from the result part only
    /// ([`crate::views::later::read_kept`]), so their derived `Deserialize` stays out of the first load.
    pub fn read_kept(store: &Store) -> KeptRecords {
        (
            store.get_json(Area::Session, keys::ANSWER),
            store.get_json(Area::Session, keys::LATER),
        )
    }

    /// Takes what [`Ctx::read_kept`] read: the page shows its content from now on.
    pub(crate) fn take_kept(&self, (answer, newer): KeptRecords) {
        self.exchange.answer.set(answer);
        self.kept.newer.set(newer);
        self.kept.unread.set(false);
    }

    /// The tokens in hand: a refresh or long-lived token if there is one, else the exchange's.
    pub fn current(&self) -> Option<Kept> {
        if let Some(k) = self.kept.newer.get() {
            return Some(k);
        }
        let tokens = self.tokens()?.ok()?;
        let (code, _) = self.code_return()?;
        let host = code.account_host().ok()?;
        self.exchange.answer.with(|a| {
            a.as_ref().map(|a| {
                Kept::from_tokens(
                    KeptKind::Exchanged,
                    host.as_str(),
                    &a.client_id,
                    &a.redirect_uri,
                    a.secret,
                    &tokens,
                    a.at,
                )
            })
        })
    }

    /// Drop refreshed or long-lived tokens, the last refresh and the API check.
    pub(crate) fn forget_newer(&self) {
        self.store().remove(Area::Session, keys::LATER);
        self.kept.newer.set(None);
        self.refresh.last.set(Refresh::default());
        self.reset_check();
    }

    /// New tokens replace the ones in hand (kept for a reload); the API check starts afresh.
    pub(crate) fn keep_newer(&self, kept: Kept) {
        self.store().set_json(Area::Session, keys::LATER, &kept);
        self.kept.newer.set(Some(kept));
        self.reset_check();
    }

    /// Take a pasted long-lived token for `host`: straight to inspection, API check and the env block.
    pub fn use_long_lived(&self, token: &str, host: &str) -> Result<(), &'static str> {
        untrack(|| {
            let t = self.t();
            let token = parse_pasted_token(token).ok_or(t.long_lived_token_needed)?;
            let host = parse_pasted_host(host).ok_or(t.pasted_host_invalid)?;
            let claims = kommo::jwt::decode_payload_with(&token, json::parse).ok();
            let at = now();
            let client_id = claims
                .as_ref()
                .and_then(|c| c.aud.clone())
                .or_else(|| self.client_id().ok())
                .unwrap_or_default();
            let expires_in = claims
                .as_ref()
                .and_then(|c| c.exp)
                .map(|exp| exp - at / 1000)
                .unwrap_or(0);
            let redirect_uri = if self.redirect_problem().is_none() {
                self.redirect_uri()
            } else {
                String::new()
            };
            self.keep_newer(Kept {
                kind: KeptKind::LongLived,
                host: host.to_string(),
                client_id,
                redirect_uri,
                secret: SecretWas::Unknown,
                access_token: token,
                refresh_token: String::new(),
                expires_in,
                at,
            });
            self.refresh.last.set(Refresh::default());
            Ok(())
        })
    }
}
