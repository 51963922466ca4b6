//! Refresh: `grant_type=refresh_token` through the proxy, from the result's "Refresh now" or a refresh token pasted
//! into "Already have a token?"; the new pair replaces the tokens in hand.

use kommo::TokenRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{now, Answer, Kept, KeptKind, ProxyHealth, SecretWas, TokenDraft};
use crate::api::ApiError;
use crate::i18n::Tx;
use crate::state::Ctx;

/// Where a refresh was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshFrom {
    /// "Refresh now" in the result.
    #[default]
    Result,
    /// A refresh token pasted into "Already have a token?".
    Pasted,
}

/// The last refresh request and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refresh {
    pub from: RefreshFrom,
    pub in_flight: bool,
    /// What went wrong, with the raw answer when there was one.
    pub error: Option<(ApiError, Option<Answer>)>,
    /// Why the page did not send it (worded at render time, in the page's current language).
    pub blocked: Option<RefreshBlocked>,
}

/// Why a refresh was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshBlocked {
    /// No valid integration ID to refresh for.
    NeedsClientId,
    /// No secret typed, and the proxy does not hold it.
    NeedsSecret,
    /// No secret typed, and the proxy holds it for code exchanges only.
    NeedsSecretCodeOnly,
}

impl RefreshBlocked {
    pub fn text(self, t: &'static Tx) -> &'static str {
        match self {
            RefreshBlocked::NeedsClientId => t.refresh_needs_client_id,
            RefreshBlocked::NeedsSecret => t.refresh_needs_secret,
            RefreshBlocked::NeedsSecretCodeOnly => t.refresh_needs_secret_code_only,
        }
    }
}

/// The refresh part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct Refreshing {
    /// The last refresh request.
    pub last: RwSignal<Refresh>,
    /// "Already have a token?": a saved refresh token and its account host as typed.
    pub pasted: TokenDraft,
}

impl Refreshing {
    pub(crate) fn new() -> Self {
        Refreshing {
            last: RwSignal::new(Refresh::default()),
            pasted: TokenDraft::default(),
        }
    }
}

impl Ctx {
    /// Refresh: `grant_type=refresh_token` through the proxy, for `host`, with the setup's secret (or the proxy's).
    /// From the result the integration and redirect URI are the ones the tokens were obtained with; from a pasted
    /// refresh token they are the setup's.
    pub fn refresh_tokens(&self, from: RefreshFrom, host: &str, refresh_token: &str) {
        untrack(|| self.refresh_untracked(from, host, refresh_token))
    }

    fn refresh_untracked(&self, from: RefreshFrom, host: &str, refresh_token: &str) {
        let last = self.refresh.last;
        if last.with(|r| r.in_flight) {
            return;
        }
        let block = |msg: RefreshBlocked| {
            last.set(Refresh {
                from,
                blocked: Some(msg),
                ..Refresh::default()
            })
        };
        let (client_id, redirect_uri) = match (from, self.current()) {
            (RefreshFrom::Result, Some(k)) => (k.client_id, k.redirect_uri),
            _ => match self.client_id() {
                Ok(id) => (id, self.redirect_uri()),
                Err(_) => return block(RefreshBlocked::NeedsClientId),
            },
        };
        let secret = self.setup.secret.get_untracked().trim().to_string();
        if secret.is_empty() {
            if let ProxyHealth::Found(h) = self.health.get() {
                if !h.signs_refresh_for(&client_id) {
                    // A proxy that holds the secret may still sign code exchanges only (kommo-proxy's default).
                    return block(if h.holds_for_exchanges_only(Some(&client_id)) {
                        RefreshBlocked::NeedsSecretCodeOnly
                    } else {
                        RefreshBlocked::NeedsSecret
                    });
                }
            }
        }
        let request = TokenRequest::refresh(&client_id, &secret, refresh_token, &redirect_uri);
        last.set(Refresh {
            from,
            in_flight: true,
            ..Refresh::default()
        });
        let api = self.io.api.get_value();
        let base = self.proxy_base();
        let host = host.to_string();
        let ctx = *self;
        spawn_local(async move {
            let result = api.token(&base, &host, &request).await;
            let at = now();
            let done = |error: Option<(ApiError, Option<Answer>)>| {
                last.try_set(Refresh {
                    from,
                    error,
                    ..Refresh::default()
                });
            };
            match result {
                Err(e) => done(Some((e, None))),
                Ok(raw) => match ApiError::read_answer(&raw) {
                    Ok(tokens) => {
                        let secret = if request.client_secret.is_empty() {
                            SecretWas::HeldByProxy
                        } else {
                            SecretWas::Typed
                        };
                        ctx.keep_newer(Kept::from_tokens(
                            KeptKind::Refreshed,
                            &host,
                            &client_id,
                            &redirect_uri,
                            secret,
                            &tokens,
                            at,
                        ));
                        done(None);
                    }
                    Err(e) => {
                        let answer = Answer {
                            status: raw.status,
                            body: raw.body,
                            content_type: raw.content_type,
                            at,
                            pasted: false,
                            client_id: client_id.clone(),
                            redirect_uri: redirect_uri.clone(),
                            secret: SecretWas::Unknown,
                            tokens: Some(false),
                        };
                        done(Some((e, Some(answer))));
                    }
                },
            }
        });
    }
}
