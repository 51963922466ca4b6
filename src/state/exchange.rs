//! Step 4's state: the code posted once through the proxy (recorded before it leaves), the answer kept for a
//! reload, or Kommo's answer pasted back from curl.

use kommo::{TokenRequest, TokenResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use super::{now, Draft, ProxyHealth};
use crate::api::{ApiError, RawAnswer};
use crate::ids;
use crate::state::Ctx;
use crate::storage::{keys, Area};
use crate::{browser, json};

/// A token answer, from the proxy or pasted back from curl, with what it was requested with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
    pub at: i64,
    pub pasted: bool,
    pub client_id: String,
    pub redirect_uri: String,
    /// Where `CLIENT_SECRET` stood when the request went out, kept so that the result renders the same after a
    /// reload (when the proxy's health is not yet known again).
    #[serde(default)]
    pub secret: SecretWas,
    /// Whether it holds tokens ([`ApiError::read_answer`] is `Ok`), decided when it was kept, so that the stepper and
    /// "Start over" know without reading the answer: the reading (JSON, Kommo's and the proxy's errors) lives in the
    /// part after Consent, with the cards that show it — 5 kB gzip off the first load. `None` for an answer kept
    /// before this field existed: then a 2xx status stands for it (Kommo and the proxy answer errors with 4xx/5xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<bool>,
}

impl Answer {
    /// Whether it holds tokens (see [`Answer::tokens`]).
    pub fn holds_tokens(&self) -> bool {
        self.tokens.unwrap_or((200..300).contains(&self.status))
    }

    pub fn raw(&self) -> RawAnswer {
        RawAnswer {
            status: self.status,
            body: self.body.clone(),
            content_type: self.content_type.clone(),
        }
    }
}

/// Where the secret key stood for a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretWas {
    /// Typed into the page and sent.
    Typed,
    /// Sent empty and the request succeeded: the proxy filled in the secret it holds.
    HeldByProxy,
    /// Not known (pasted from curl, or an older record).
    #[default]
    Unknown,
}

/// The manual way's disclosure ("exchange by hand with curl") as the user left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Manual {
    /// Open while no proxy answers, closed while one does.
    FollowsHealth = 0,
    /// Opened by hand against what the proxy's health says.
    Opened = 1,
    /// Closed by hand against what the proxy's health says.
    Closed = 2,
}

/// Where the manual way's disclosure stands: a [`Manual`], kept in a `RwSignal<u8>` (the page has one already; a
/// signal of a new type would add its own copy of the signal code to the wasm).
#[derive(Clone, Copy)]
pub struct ManualWay(RwSignal<u8>);

impl ManualWay {
    fn new() -> Self {
        ManualWay(RwSignal::new(Manual::FollowsHealth as u8))
    }

    fn from(v: u8) -> Manual {
        match v {
            1 => Manual::Opened,
            2 => Manual::Closed,
            _ => Manual::FollowsHealth,
        }
    }

    /// Tracked.
    pub fn get(&self) -> Manual {
        Self::from(self.0.get())
    }

    pub fn get_untracked(&self) -> Manual {
        Self::from(self.0.get_untracked())
    }

    pub fn set(&self, m: Manual) {
        self.0.set(m as u8);
    }
}

/// The exchange part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct Exchange {
    /// The current code was sent for exchange (recorded before sending; mirrors sessionStorage).
    pub code_sent: RwSignal<bool>,
    pub in_flight: RwSignal<bool>,
    /// The token answer (mirrors sessionStorage).
    pub answer: RwSignal<Option<Answer>>,
    /// A failure with no answer to keep (proxy unreachable, answer lost).
    pub failure: RwSignal<Option<ApiError>>,
    /// Kommo's answer pasted back from curl (memory only: it holds tokens).
    pub pasted: Draft,
    pub manual: ManualWay,
}

impl Exchange {
    /// No answer yet: a kept one is read with the result part ([`Tokens::unread`](super::Tokens::unread));
    /// `code_sent` is set by [`Ctx::new`] once the return is known.
    pub(crate) fn new() -> Self {
        Exchange {
            code_sent: RwSignal::new(false),
            in_flight: RwSignal::new(false),
            answer: RwSignal::new(None),
            failure: RwSignal::new(None),
            pasted: Draft::default(),
            manual: ManualWay::new(),
        }
    }
}

impl Ctx {
    /// Whether the kept answer holds tokens, without reading it ([`Answer::holds_tokens`]).
    pub fn answer_holds_tokens(&self) -> bool {
        self.exchange
            .answer
            .with(|a| a.as_ref().is_some_and(Answer::holds_tokens))
    }

    /// The token answer, interpreted.
    pub fn tokens(&self) -> Option<Result<TokenResponse, ApiError>> {
        self.exchange
            .answer
            .with(|a| a.as_ref().map(|a| ApiError::read_answer(&a.raw())))
    }

    pub(crate) fn forget_exchange(&self) {
        let store = self.store();
        store.remove(Area::Session, keys::POSTED);
        store.remove(Area::Session, keys::ANSWER);
        // A return-less load drops an answer before it was read: nothing may be left to wait for.
        if self.kept.unread.get_untracked() && !Ctx::keeps_records(&store) {
            self.kept.unread.set(false);
        }
        let x = self.exchange;
        x.code_sent.set(false);
        x.answer.set(None);
        x.failure.set(None);
        // What was pasted for the manual way belongs to the exchange being forgotten.
        x.pasted.clear();
        x.manual.set(Manual::FollowsHealth);
    }

    /// The token request for the current code and setup (`secret` as typed; may be empty).
    pub fn token_request(&self, secret: &str) -> Option<TokenRequest> {
        let (code, _) = self.code_return()?;
        let client_id = self.client_id().ok()?;
        let redirect = self.redirect_uri();
        Some(TokenRequest::authorization_code(
            &client_id, secret, &code.code, &redirect,
        ))
    }

    /// Post the code through the proxy, once: the code is recorded as sent before the request leaves.
    pub fn exchange(&self) {
        untrack(|| self.exchange_untracked())
    }

    fn exchange_untracked(&self) {
        let x = self.exchange;
        if x.in_flight.get_untracked() {
            return;
        }
        let Some((code, _)) = self.code_return() else {
            return;
        };
        let Ok(host) = code.account_host() else {
            return;
        };
        let Some(request) = self.token_request(self.setup.secret.get_untracked().trim()) else {
            return;
        };
        let store = self.store();
        store.set(Area::Session, keys::POSTED, &code.code);
        store.remove(Area::Session, keys::ANSWER);
        x.code_sent.set(true);
        x.answer.set(None);
        x.failure.set(None);
        x.in_flight.set(true);
        let api = self.io.api.get_value();
        let base = self.proxy_base();
        let ctx = *self;
        spawn_local(async move {
            let result = api.token(&base, host.as_str(), &request).await;
            x.in_flight.set(false);
            match result {
                Ok(raw) => {
                    if ctx.health.get_untracked() == ProxyHealth::Missing {
                        ctx.recheck_health(base);
                    }
                    ctx.keep_answer(raw, false, &request);
                    browser::focus_later(ids::RESULT_H);
                }
                Err(e) => {
                    // Whatever `/healthz` said before, there is no proxy answering now: say so in Setup and open
                    // the manual way.
                    if matches!(e, ApiError::ProxyUnreachable { .. }) {
                        ctx.health.set(ProxyHealth::Missing);
                        ctx.recheck_health(base);
                    }
                    x.failure.set(Some(e));
                }
            }
        });
    }

    fn keep_answer(&self, raw: RawAnswer, pasted: bool, request: &TokenRequest) {
        let succeeded = ApiError::read_answer(&raw).is_ok();
        let secret = if pasted {
            SecretWas::Unknown
        } else if !request.client_secret.is_empty() {
            SecretWas::Typed
        } else if succeeded {
            // Kommo never gives tokens without the secret: the proxy filled it in.
            SecretWas::HeldByProxy
        } else {
            SecretWas::Unknown
        };
        let answer = Answer {
            secret,
            tokens: Some(succeeded),
            status: raw.status,
            body: raw.body,
            content_type: raw.content_type,
            at: now(),
            pasted,
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
        };
        self.store().set_json(Area::Session, keys::ANSWER, &answer);
        self.exchange.answer.set(Some(answer));
    }

    /// An answer pasted back from curl, read as JSON, with the token request it answers. `Err` is what to say, in
    /// the page's language: the exchange step words its error with this at render time, and [`Ctx::use_pasted`]
    /// takes the answer with it.
    pub fn read_pasted(
        &self,
        text: &str,
    ) -> Result<(serde_json::Value, TokenRequest), &'static str> {
        let t = self.t();
        let text = text.trim();
        if text.is_empty() {
            return Err(t.paste_empty);
        }
        let value = json::parse(text).ok_or(t.paste_not_json)?;
        let request = self
            .token_request("")
            .ok_or_else(|| self.client_id_problem().unwrap_or(t.paste_empty))?;
        Ok((value, request))
    }

    /// Take an answer pasted back from curl. `Err` holds the message to show.
    pub fn use_pasted(&self, text: &str) -> Result<(), &'static str> {
        untrack(|| self.use_pasted_untracked(text))
    }

    fn use_pasted_untracked(&self, text: &str) -> Result<(), &'static str> {
        let (value, request) = self.read_pasted(text)?;
        let text = text.trim();
        let has_token = value
            .get("access_token")
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty());
        let status = if has_token {
            200
        } else {
            value
                .get("status")
                .and_then(|s| s.as_u64())
                .map(|s| s as u16)
                .filter(|s| *s >= 400)
                .unwrap_or(400)
        };
        self.exchange.failure.set(None);
        self.keep_answer(
            RawAnswer {
                status,
                body: text.to_string(),
                content_type: None,
            },
            true,
            &request,
        );
        Ok(())
    }
}
