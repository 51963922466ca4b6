//! The app's state: one [`Ctx`], provided as context, made of one small `Copy` part per concern. Each part and the
//! `impl Ctx` methods of its concern (validation, state changes, the IO they start) live in the part's own file;
//! what is typed into a form is a [`Draft`].
//!
//! All state lives here, none in the components, because a language switch re-renders everything under the root
//! (see the README, "How the code is laid out").

pub mod api_check;
pub mod draft;
pub mod exchange;
pub mod flow;
pub mod health;
pub mod kept;
pub mod refresh;
pub mod setup;

use std::rc::Rc;

use kommo::Lang;
use leptos::prelude::*;

use crate::api::Api;
use crate::browser;
use crate::i18n::{tx, Tx};
use crate::storage::{keys, Area, Store};

pub use api_check::{ApiCheck, Check};
pub use draft::{Draft, TokenDraft};
pub use exchange::{Answer, Exchange, Manual, ManualWay, SecretWas};
pub use flow::{Flow, Popup, Received};
pub use health::ProxyHealth;
pub use kept::{Kept, KeptKind, KeptRecords, Tokens};
pub use refresh::{Refresh, RefreshBlocked, RefreshFrom, Refreshing};
pub use setup::{Setup, SetupState};

/// The pieces of the page the first render puts on screen one task apart, in this order (see [`Ctx::shown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Piece {
    /// The header, the stepper and, after a return, the current step's cards (they come first on screen then).
    Top = 1,
    /// The Setup card down to the secret key (what a phone shows of it at first).
    SetupTop = 2,
    /// The rest of the Setup card: redirect URI, proxy, prefix, shareable link.
    SetupRest = 3,
    /// The Consent card.
    Consent = 4,
    /// "Already have a token?" and the footer.
    Tail = 5,
}

/// The last part of the first render ([`Ctx::parts`]).
pub const LAST_PART: u8 = Piece::Tail as u8;

/// The five steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Setup,
    Consent,
    Return,
    Exchange,
    Result,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Setup,
        Step::Consent,
        Step::Return,
        Step::Exchange,
        Step::Result,
    ];

    /// The `data-step` value.
    pub fn key(self) -> &'static str {
        match self {
            Step::Setup => "setup",
            Step::Consent => "consent",
            Step::Return => "return",
            Step::Exchange => "exchange",
            Step::Result => "result",
        }
    }

    pub fn label(self, t: &Tx) -> &'static str {
        match self {
            Step::Setup => t.step_setup,
            Step::Consent => t.step_consent,
            Step::Return => t.step_return,
            Step::Exchange => t.step_exchange,
            Step::Result => t.step_result,
        }
    }
}

/// Where the app talks to the world: the proxy client and the storage namespace.
#[derive(Clone, Copy)]
pub struct Io {
    pub api: StoredValue<Rc<dyn Api>, LocalStorage>,
    pub store: StoredValue<Store>,
}

/// The app's shared state, provided as context: one part per concern.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    /// What the user fills in: setup, secret key, an offered proxy.
    pub setup: SetupState,
    /// What the proxy's `/healthz` said ([`health`]).
    pub health: RwSignal<ProxyHealth>,
    /// Consent and the return from it.
    pub flow: Flow,
    /// The code exchange, through the proxy or by hand.
    pub exchange: Exchange,
    /// Tokens that replaced the exchange's, and the result's reveal toggle.
    pub kept: Tokens,
    /// "Refresh now" and a pasted refresh token.
    pub refresh: Refreshing,
    /// The API check.
    pub check: ApiCheck,
    pub io: Io,
    /// The clock the countdowns read (ms since the epoch), ticked once a second.
    pub now: RwSignal<i64>,
    /// The part of the first render reached so far: 0 (the root alone) to [`LAST_PART`] (all); see [`Ctx::shown`].
    pub parts: RwSignal<u8>,
}

/// The context, from inside a component of the app.
pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// Milliseconds since the epoch.
pub(crate) fn now() -> i64 {
    browser::now_ms() as i64
}

impl Ctx {
    /// The state as storage, the page's address and a setup link leave it; requests go through `api`.
    pub(crate) fn new(api: Rc<dyn Api>, store: Store) -> Self {
        let lang = store
            .get(Area::Local, keys::LANG)
            .map(|c| if c == "ru" { Lang::Ru } else { Lang::En })
            .unwrap_or_else(|| Lang::from_tag(&browser::browser_language()));
        let ctx = Ctx {
            lang: RwSignal::new(lang),
            setup: SetupState::new(&store),
            health: RwSignal::new(ProxyHealth::Checking),
            flow: Flow::new(&store),
            exchange: Exchange::new(),
            kept: Tokens::new(&store),
            refresh: Refreshing::new(),
            check: ApiCheck::new(),
            io: Io {
                api: StoredValue::new_local(api),
                store: StoredValue::new(store),
            },
            now: RwSignal::new(now()),
            parts: RwSignal::new(0),
        };
        let sent = ctx.store().get(Area::Session, keys::POSTED);
        ctx.exchange
            .code_sent
            .set(sent.is_some() && sent == ctx.code_return().map(|(c, _)| c.code));
        ctx
    }

    pub fn store(&self) -> Store {
        self.io.store.get_value()
    }

    /// A return or tokens are in hand: the current step is shown on top, Setup below it (CSS `order`).
    pub fn after_return(&self) -> bool {
        self.flow.received.with(|r| r.is_some()) || self.kept.newer.with(|l| l.is_some())
    }

    /// Whether `piece` of the page is rendered yet. The first render comes in parts, one task apart, each after the
    /// previous one was painted (`app::effects::render_in_parts`): rendering the whole page in one go
    /// blocked a mid-range phone's main thread for about 200 ms (much of it V8 compiling wasm functions on their
    /// first call). Part 0 is the app's state and effects with an empty root, then the [`Piece`]s follow in the
    /// page's visual order — after a return the current step's cards come first and Setup moves below them — so
    /// each lands below everything already on screen and nothing moves.
    pub fn shown(&self, piece: Piece) -> bool {
        self.parts.get() >= piece as u8
    }

    /// The strings in the current language (tracked).
    pub fn t(&self) -> &'static Tx {
        tx(self.lang.get())
    }

    /// The strings in the current language, untracked: components read this once; the app re-renders its content
    /// when the language changes, so static text costs no reactive closures.
    pub fn t_untracked(&self) -> &'static Tx {
        tx(self.lang.get_untracked())
    }

    /// Tokens came from "I already have a token" (a pasted long-lived or refresh token): consent, return and
    /// exchange were not walked through, so the stepper must not call them done.
    pub fn consent_bypassed(&self) -> bool {
        self.flow.received.with(|r| r.is_none()) && self.kept.newer.with(|l| l.is_some())
    }

    /// Whether tokens are in hand (a kept refresh or long-lived token, or an exchange answer holding tokens), read
    /// without tracking: for an event handler.
    pub fn holds_tokens_untracked(&self) -> bool {
        untrack(|| self.kept.newer.with(|l| l.is_some()) || self.answer_holds_tokens())
    }

    pub fn step(&self) -> Step {
        if self.kept.newer.with(|l| l.is_some()) || self.answer_holds_tokens() {
            return Step::Result;
        }
        if self.flow.received.with(|r| r.is_some()) {
            return match self.code_return() {
                Some((c, _)) if c.account_host().is_ok() => Step::Exchange,
                _ => Step::Return,
            };
        }
        if self.setup_problems().is_empty() {
            Step::Consent
        } else {
            Step::Setup
        }
    }
}
