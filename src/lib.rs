//! The Kommo OAuth helper page: a Leptos client-side app that walks a developer from a new Kommo/amoCRM
//! integration to a ready env block (Setup → Consent → Return → Exchange → Result), then refreshes the tokens,
//! inspects the access token and checks the API with them ([`state::api_check`]); a long-lived token or a saved refresh token
//! skips straight to the result ([`state::kept`]).
//!
//! The protocol lives in the `kommo` crate; this crate is the thin browser layer. [`AppWith`] takes an
//! [`AppConfig`] so tests can mount the whole app with a fake [`Api`] and their own storage namespace.

pub mod api;
pub mod browser;
pub mod i18n;
pub mod json;
pub mod state;
pub mod storage;
pub mod views;

use std::rc::Rc;
use std::time::Duration;

use kommo::callback::{looks_like_callback, parse_callback};
use kommo::consent::{parse_client_id, ClientIdError};
use kommo::env::parse_prefix;
use kommo::outcome::{read_return, ReturnOutcome, SetAside};
use kommo::setup::SetupLink;
use kommo::{CodeReturn, Health, Lang, Service, TokenRequest, TokenResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

pub use api::{Api, ApiAnswer, ApiError, HttpApi, RawAnswer};
pub use state::api_check::Check;
use i18n::{tx, Tx};
pub use state::kept::{Kept, KeptKind};
use state::kept;
pub use storage::{keys, Area, Store};

/// The storage namespace of the real page.
pub const STORE_NS: &str = "kommo-oauth-helper:";

/// How long after the last edit of the proxy URL its `/healthz` is checked.
const HEALTH_DEBOUNCE: Duration = Duration::from_millis(400);

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

/// What the app is mounted with.
#[derive(Clone)]
pub struct AppConfig {
    /// The proxy client ([`HttpApi`] in the page, a fake in tests).
    pub api: Rc<dyn Api>,
    /// Where setup, state and results are kept.
    pub store: Store,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            api: Rc::new(HttpApi),
            store: Store::new(STORE_NS),
        }
    }
}

/// The setup the user fills in (everything but the secret key). Kept in sessionStorage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// `kommo`, `amocrm` or `custom`.
    pub service: String,
    /// For `custom` only.
    pub consent_base: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Empty: this page's own origin.
    pub proxy: String,
    pub prefix: String,
    pub demo: bool,
}

impl Setup {
    /// The defaults for a page at `page_url`.
    pub fn defaults(page_url: &str) -> Self {
        Setup {
            service: "kommo".into(),
            consent_base: String::new(),
            client_id: String::new(),
            redirect_uri: page_url.to_string(),
            proxy: String::new(),
            prefix: kommo::env::DEFAULT_PREFIX.into(),
            demo: false,
        }
    }

    /// Take every value a link carries.
    pub fn apply_link(&mut self, link: SetupLink) {
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        if let Some(s) = link
            .service
            .filter(|s| matches!(s.as_str(), "kommo" | "amocrm" | "custom"))
        {
            self.service = s;
        }
        set(&mut self.consent_base, link.consent_base);
        set(&mut self.client_id, link.client_id);
        set(&mut self.redirect_uri, link.redirect_uri);
        set(&mut self.proxy, link.proxy);
        set(&mut self.prefix, link.prefix);
        self.demo = link.demo;
    }

    /// The shareable link (values equal to the defaults are left out).
    pub fn to_link(&self, page_url: &str) -> SetupLink {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        SetupLink {
            service: Some(self.service.clone()),
            consent_base: if self.service == "custom" {
                some(&self.consent_base)
            } else {
                None
            },
            client_id: some(&self.client_id),
            redirect_uri: some(&self.redirect_uri).filter(|r| r != page_url),
            proxy: some(&self.proxy),
            prefix: some(&self.prefix).filter(|p| p != kommo::env::DEFAULT_PREFIX),
            demo: self.demo,
        }
    }
}

/// A return from consent and when it arrived (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub outcome: ReturnOutcome,
    pub at: i64,
}

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

impl Answer {
    pub fn raw(&self) -> RawAnswer {
        RawAnswer {
            status: self.status,
            body: self.body.clone(),
            content_type: self.content_type.clone(),
        }
    }
}

/// What `/healthz` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyHealth {
    Checking,
    Found(Health),
    Missing,
}

/// The popup way's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Popup {
    Idle,
    Open,
    Blocked,
    /// Closed before a return arrived.
    Closed,
}

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

/// The app's shared state, provided as context.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub setup: RwSignal<Setup>,
    /// A proxy on another origin that a link named: not applied until the user says so (the secret key and the code
    /// would go there).
    pub offered_proxy: RwSignal<Option<String>>,
    /// Never in sessionStorage; in localStorage only while `remember` is on.
    pub secret: RwSignal<String>,
    pub remember: RwSignal<bool>,
    pub health: RwSignal<ProxyHealth>,
    /// The pending consent `state` (mirrors sessionStorage).
    pub state: RwSignal<Option<String>>,
    pub ret: RwSignal<Option<Received>>,
    /// A return that was not this tab's own and arrived while the tab held a consent, a code or tokens: shown as a
    /// notice and otherwise ignored (in memory only).
    /// (As a [`Received`] holding [`ReturnOutcome::Untrusted`] or [`ReturnOutcome::Malformed`]: one signal type
    /// fewer in the wasm.)
    pub set_aside: RwSignal<Option<Received>>,
    /// A return address pasted in the consent step (memory only: it holds a code), and whether reading it was tried.
    pub landed: RwSignal<String>,
    pub landed_tried: RwSignal<bool>,
    /// "Already have a token?" as typed, and whether each form was sent (memory only: they hold tokens). Here, not
    /// in the component, so that a language switch (it re-renders the content) keeps them.
    pub long_lived: RwSignal<String>,
    pub long_lived_host: RwSignal<String>,
    pub long_lived_tried: RwSignal<bool>,
    pub pasted_refresh: RwSignal<String>,
    pub pasted_refresh_host: RwSignal<String>,
    pub pasted_refresh_tried: RwSignal<bool>,
    /// Kommo's answer pasted back from curl (memory only), whether using it was tried, and the manual way's
    /// disclosure as the user left it: 0 follows the proxy's health, 1 opened by hand, 2 closed by hand.
    pub pasted: RwSignal<String>,
    pub pasted_tried: RwSignal<bool>,
    pub manual: RwSignal<u8>,
    /// The current code was posted for exchange (recorded before sending).
    pub posted: RwSignal<bool>,
    pub in_flight: RwSignal<bool>,
    pub answer: RwSignal<Option<Answer>>,
    /// A failure with no answer to keep (proxy unreachable, answer lost).
    pub failure: RwSignal<Option<ApiError>>,
    pub now: RwSignal<i64>,
    pub popup: RwSignal<Popup>,
    pub reveal: RwSignal<bool>,
    pub api: StoredValue<Rc<dyn Api>, LocalStorage>,
    /// The consent popup this page opened, to notice when it is closed without a return.
    pub popup_window: StoredValue<Option<web_sys::Window>, LocalStorage>,
    pub store: StoredValue<Store>,
    pub page_url: StoredValue<String>,
    /// Tokens that replaced the exchange's: a refresh, or a pasted long-lived token (sessionStorage `later`).
    pub later: RwSignal<Option<Kept>>,
    /// The last refresh request.
    pub refresh: RwSignal<Refresh>,
    /// The API check.
    pub check: RwSignal<Check>,
    /// Bumped to stop a running check (a run only acts while the generation is still its own).
    pub check_gen: StoredValue<u32>,
    /// Spaces API requests under Kommo's rate limit, across checks.
    pub pacer: StoredValue<kommo::api::Pacer>,
    /// The part of the first render reached so far: 0 (the root alone) to [`LAST_PART`] (all); see [`Ctx::shown`].
    pub parts: RwSignal<u8>,
}

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

/// The context, from inside a component of the app.
pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

fn now() -> i64 {
    browser::now_ms() as i64
}

/// Is this an `http(s)` URL, with plain http only for the loopback host?
fn url_problem(t: &'static Tx, s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Some(t.err_url_required);
    }
    let Some((protocol, host, _)) = browser::parse_url(s) else {
        return Some(t.err_not_url);
    };
    match protocol.as_str() {
        "https:" => None,
        "http:" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => None,
        "http:" => Some(t.err_insecure_http),
        _ => Some(t.err_not_url),
    }
}

impl Ctx {
    fn new(config: AppConfig) -> Self {
        let store = config.store;
        let page_url = browser::page_url();
        let lang = store
            .get(Area::Local, keys::LANG)
            .map(|c| if c == "ru" { Lang::Ru } else { Lang::En })
            .unwrap_or_else(|| Lang::from_tag(&browser::browser_language()));
        let mut setup: Setup = store
            .get_json(Area::Session, keys::SETUP)
            .unwrap_or_else(|| Setup::defaults(&page_url));
        let mut offered_proxy = None;
        if let Some(mut link) = SetupLink::from_fragment(&browser::hash()) {
            // Anyone can send a link: a proxy on another origin would receive the secret key and the code, so it is
            // offered, not applied.
            offered_proxy = link
                .proxy
                .take_if(|p| browser::foreign_origin(p.trim()).is_some());
            setup.apply_link(link);
            browser::strip_fragment();
        }
        let remembered = store
            .get(Area::Local, keys::SECRET)
            .filter(|s| !s.is_empty());
        let later = store.get_json(Area::Session, keys::LATER);
        let ctx = Ctx {
            lang: RwSignal::new(lang),
            remember: RwSignal::new(remembered.is_some()),
            secret: RwSignal::new(remembered.unwrap_or_default()),
            setup: RwSignal::new(setup),
            offered_proxy: RwSignal::new(offered_proxy),
            health: RwSignal::new(ProxyHealth::Checking),
            state: RwSignal::new(store.get(Area::Session, keys::STATE)),
            ret: RwSignal::new(store.get_json(Area::Session, keys::RETURN)),
            set_aside: RwSignal::new(None),
            landed: RwSignal::new(String::new()),
            landed_tried: RwSignal::new(false),
            long_lived: RwSignal::new(String::new()),
            long_lived_host: RwSignal::new(String::new()),
            long_lived_tried: RwSignal::new(false),
            pasted_refresh: RwSignal::new(String::new()),
            pasted_refresh_host: RwSignal::new(String::new()),
            pasted_refresh_tried: RwSignal::new(false),
            pasted: RwSignal::new(String::new()),
            pasted_tried: RwSignal::new(false),
            manual: RwSignal::new(0),
            posted: RwSignal::new(false),
            in_flight: RwSignal::new(false),
            answer: RwSignal::new(store.get_json(Area::Session, keys::ANSWER)),
            failure: RwSignal::new(None),
            now: RwSignal::new(now()),
            popup: RwSignal::new(Popup::Idle),
            reveal: RwSignal::new(false),
            api: StoredValue::new_local(config.api),
            popup_window: StoredValue::new_local(None),
            store: StoredValue::new(store),
            page_url: StoredValue::new(page_url),
            later: RwSignal::new(later),
            refresh: RwSignal::new(Refresh::default()),
            check: RwSignal::new(Check::default()),
            check_gen: StoredValue::new(0),
            pacer: StoredValue::new(kommo::api::Pacer::default()),
            parts: RwSignal::new(0),
        };
        let posted = ctx.store().get(Area::Session, keys::POSTED);
        ctx.posted
            .set(posted.is_some() && posted == ctx.code_return().map(|(c, _)| c.code));
        ctx
    }

    pub fn store(&self) -> Store {
        self.store.get_value()
    }

    /// A return or tokens are in hand: the current step is shown on top, Setup below it (CSS `order`).
    pub fn after_return(&self) -> bool {
        self.ret.with(|r| r.is_some()) || self.later.with(|l| l.is_some())
    }

    /// Whether `piece` of the page is rendered yet. The first render comes in parts, one task apart, each after the
    /// previous one was painted ([`AppWith`]): rendering the whole page in one go blocked a mid-range phone's main
    /// thread for about 200 ms (much of it V8 compiling wasm functions on their first call). Part 0 is the app's
    /// state and effects with an empty root, then the [`Piece`]s follow in the page's visual order — after a return
    /// the current step's cards come first and Setup moves below them — so each lands below everything already on
    /// screen and nothing moves.
    pub fn shown(&self, piece: Piece) -> bool {
        self.parts.get() >= piece as u8
    }

    /// The strings in the current language (tracked).
    pub fn t(&self) -> &'static Tx {
        tx(self.lang.get())
    }

    /// The strings in the current language, untracked: components read this once; the app re-renders its content
    /// when the language changes, so static text costs no reactive closures.
    pub fn t_now(&self) -> &'static Tx {
        tx(self.lang.get_untracked())
    }

    /// The no-account demo: asked for by the setup (a link's `demo=1`) *and* with a consent base on this machine,
    /// where the local Kommo double runs. A link naming another host gets no demo badge and keeps the "not Kommo's
    /// consent page" warning.
    pub fn demo(&self) -> bool {
        self.setup.with(|s| {
            s.demo
                && s.service == "custom"
                && browser::parse_url(s.consent_base.trim()).is_some_and(|(scheme, host, _)| {
                    matches!(scheme.as_str(), "http:" | "https:")
                        && kommo::setup::is_loopback_host(&host)
                })
        })
    }

    pub fn service(&self) -> Service {
        self.setup.with(|s| {
            Service::from_key(&s.service, s.consent_base.trim()).unwrap_or(Service::Kommo)
        })
    }

    pub fn client_id(&self) -> Result<String, ClientIdError> {
        self.setup.with(|s| parse_client_id(&s.client_id))
    }

    pub fn client_id_problem(&self) -> Option<&'static str> {
        let t = self.t();
        match self.client_id() {
            Ok(_) => None,
            Err(ClientIdError::Empty) => Some(t.err_client_id_empty),
            Err(ClientIdError::NotUuid) => Some(t.err_client_id_uuid),
        }
    }

    pub fn consent_base_problem(&self) -> Option<&'static str> {
        let (custom, base) = self
            .setup
            .with(|s| (s.service == "custom", s.consent_base.clone()));
        custom.then(|| url_problem(self.t(), &base)).flatten()
    }

    pub fn redirect_problem(&self) -> Option<&'static str> {
        let r = self.setup.with(|s| s.redirect_uri.clone());
        url_problem(self.t(), &r)
            .or_else(|| r.contains('#').then_some(self.t().err_redirect_fragment))
    }

    /// A valid Redirect URI that is not this page: Kommo sends the code there, and the user pastes the address back.
    pub fn redirect_elsewhere(&self) -> bool {
        let r = self.setup.with(|s| s.redirect_uri.trim().to_string());
        self.redirect_problem().is_none() && r != self.page_url.get_value()
    }

    pub fn proxy_problem(&self) -> Option<&'static str> {
        let p = self.setup.with(|s| s.proxy.trim().to_string());
        (!p.is_empty()).then(|| url_problem(self.t(), &p)).flatten()
    }

    pub fn prefix_problem(&self) -> Option<&'static str> {
        self.setup
            .with(|s| parse_prefix(&s.prefix))
            .err()
            .map(|_| self.t().err_prefix)
    }

    /// Everything that keeps the consent step closed, in the order of the fields.
    pub fn setup_problems(&self) -> Vec<&'static str> {
        [
            self.consent_base_problem(),
            self.client_id_problem(),
            self.redirect_problem(),
            self.proxy_problem(),
            self.prefix_problem(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The proxy's base URL without a trailing slash (this page's origin when the field is empty).
    pub fn proxy_base(&self) -> String {
        let p = self
            .setup
            .with(|s| s.proxy.trim().trim_end_matches('/').to_string());
        if p.is_empty() {
            browser::origin()
        } else {
            p
        }
    }

    /// The proxy holds the secret for the integration in Setup.
    pub fn secret_held(&self) -> bool {
        match self.health.get() {
            ProxyHealth::Found(h) => h.holds_secret_for(self.client_id().ok().as_deref()),
            _ => false,
        }
    }

    /// The verified code return and when it arrived.
    pub fn code_return(&self) -> Option<(CodeReturn, i64)> {
        self.ret.with(|r| match r {
            Some(Received {
                outcome: ReturnOutcome::Code { ret },
                at,
            }) => Some((ret.clone(), *at)),
            _ => None,
        })
    }

    /// The token answer, interpreted.
    pub fn tokens(&self) -> Option<Result<TokenResponse, ApiError>> {
        self.answer
            .with(|a| a.as_ref().map(|a| ApiError::read_answer(&a.raw())))
    }

    /// The tokens in hand: a refresh or long-lived token if there is one, else the exchange's.
    pub fn current(&self) -> Option<Kept> {
        if let Some(k) = self.later.get() {
            return Some(k);
        }
        let tokens = self.tokens()?.ok()?;
        let (code, _) = self.code_return()?;
        let host = code.account_host().ok()?;
        self.answer.with(|a| {
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

    /// Tokens came from "I already have a token" (a pasted long-lived or refresh token): consent, return and
    /// exchange were not walked through, so the stepper must not call them done.
    pub fn consent_bypassed(&self) -> bool {
        self.ret.with(|r| r.is_none()) && self.later.with(|l| l.is_some())
    }

    pub fn step(&self) -> Step {
        if self.later.with(|l| l.is_some()) || matches!(self.tokens(), Some(Ok(_))) {
            return Step::Result;
        }
        if self.ret.with(|r| r.is_some()) {
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

    /// Make a consent `state` if none is pending.
    pub fn ensure_state(&self) -> Option<String> {
        if let Some(s) = self.state.get_untracked() {
            return Some(s);
        }
        let s = kommo::consent::state_from_bytes(browser::random_16()?);
        self.store().set(Area::Session, keys::STATE, &s);
        self.state.set(Some(s.clone()));
        Some(s)
    }

    fn forget_exchange(&self) {
        let store = self.store();
        store.remove(Area::Session, keys::POSTED);
        store.remove(Area::Session, keys::ANSWER);
        self.posted.set(false);
        self.answer.set(None);
        self.failure.set(None);
        // What was pasted for the manual way belongs to the exchange being forgotten.
        self.pasted.set(String::new());
        self.pasted_tried.set(false);
        self.manual.set(0);
    }

    /// Read a return (`location.search` on load, or what a popup posted). A return that answers this tab's consent
    /// uses up the stored state, so it can never be checked twice, and replaces any earlier return and tokens. One
    /// that does not (another `state`, none, unreadable) is set aside while the tab holds a pending consent, a code
    /// or tokens, so a crafted link cannot wipe them; in a tab holding nothing it is shown as the return.
    pub fn accept_return(&self, query: &str) {
        untrack(|| self.accept_return_untracked(query))
    }

    fn accept_return_untracked(&self, query: &str) {
        let store = self.store();
        let stored = store.get(Area::Session, keys::STATE);
        let Some(outcome) = read_return(query, stored.as_deref()) else {
            return;
        };
        if let Some(why) = outcome.not_ours(stored.as_deref()) {
            let holds = stored.is_some()
                || self.code_return().is_some()
                || self.later.with_untracked(|l| l.is_some());
            if holds {
                let outcome = match why {
                    SetAside::State(problem) => ReturnOutcome::Untrusted {
                        problem,
                        referer: None,
                    },
                    SetAside::Malformed(problem) => ReturnOutcome::Malformed { problem },
                };
                self.set_aside.set(Some(Received { outcome, at: now() }));
                return;
            }
        }
        self.set_aside.set(None);
        store.remove(Area::Session, keys::STATE);
        self.state.set(None);
        self.forget_exchange();
        let received = Received { outcome, at: now() };
        store.set_json(Area::Session, keys::RETURN, &received);
        self.ret.set(Some(received));
    }

    /// Back to consent with a fresh state; setup and secret stay.
    pub fn start_over(&self) {
        untrack(|| self.start_over_untracked())
    }

    fn start_over_untracked(&self) {
        let store = self.store();
        self.forget_later();
        store.remove(Area::Session, keys::RETURN);
        store.remove(Area::Session, keys::STATE);
        self.forget_exchange();
        self.ret.set(None);
        self.set_aside.set(None);
        self.state.set(None);
        self.popup.set(Popup::Idle);
        self.reveal.set(false);
        self.ensure_state();
    }

    /// Drop refreshed or long-lived tokens, the last refresh and the API check.
    fn forget_later(&self) {
        self.store().remove(Area::Session, keys::LATER);
        self.later.set(None);
        self.refresh.set(Refresh::default());
        self.reset_check();
    }

    /// New tokens replace the ones in hand (kept for a reload); the API check starts afresh.
    fn keep_later(&self, kept: Kept) {
        self.store().set_json(Area::Session, keys::LATER, &kept);
        self.later.set(Some(kept));
        self.reset_check();
    }

    /// Refresh: `grant_type=refresh_token` through the proxy, for `host`, with the setup's secret (or the proxy's).
    /// From the result the integration and redirect URI are the ones the tokens were obtained with; from a pasted
    /// refresh token they are the setup's.
    pub fn refresh_tokens(&self, from: RefreshFrom, host: &str, refresh_token: &str) {
        untrack(|| self.refresh_untracked(from, host, refresh_token))
    }

    fn refresh_untracked(&self, from: RefreshFrom, host: &str, refresh_token: &str) {
        if self.refresh.with(|r| r.in_flight) {
            return;
        }
        let block = |msg: RefreshBlocked| {
            self.refresh.set(Refresh {
                from,
                blocked: Some(msg),
                ..Refresh::default()
            })
        };
        let (client_id, redirect_uri) = match (from, self.current()) {
            (RefreshFrom::Result, Some(k)) => (k.client_id, k.redirect_uri),
            _ => match self.client_id() {
                Ok(id) => (id, self.setup.with(|s| s.redirect_uri.trim().to_string())),
                Err(_) => return block(RefreshBlocked::NeedsClientId),
            },
        };
        let secret = self.secret.get_untracked().trim().to_string();
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
        self.refresh.set(Refresh {
            from,
            in_flight: true,
            ..Refresh::default()
        });
        let api = self.api.get_value();
        let base = self.proxy_base();
        let host = host.to_string();
        let ctx = *self;
        spawn_local(async move {
            let result = api.token(&base, &host, &request).await;
            let at = now();
            let done = |error: Option<(ApiError, Option<Answer>)>| {
                ctx.refresh.try_set(Refresh {
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
                        ctx.keep_later(Kept::from_tokens(
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
                        };
                        done(Some((e, Some(answer))));
                    }
                },
            }
        });
    }

    /// Take a pasted long-lived token for `host`: straight to inspection, API check and the env block.
    pub fn use_long_lived(&self, token: &str, host: &str) -> Result<(), &'static str> {
        untrack(|| {
            let t = self.t();
            let token = kept::parse_pasted_token(token).ok_or(t.long_lived_token_needed)?;
            let host = kept::parse_pasted_host(host).ok_or(t.pasted_host_invalid)?;
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
                self.setup.with(|s| s.redirect_uri.trim().to_string())
            } else {
                String::new()
            };
            self.keep_later(Kept {
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
            self.refresh.set(Refresh::default());
            Ok(())
        })
    }

    /// Leave the demo for a real account.
    pub fn use_real(&self) {
        self.setup.update(|s| {
            s.demo = false;
            s.service = "kommo".into();
            s.consent_base.clear();
            s.client_id.clear();
            s.proxy.clear();
        });
        self.start_over();
    }

    /// The token request for the current code and setup (`secret` as typed; may be empty).
    pub fn token_request(&self, secret: &str) -> Option<TokenRequest> {
        let (code, _) = self.code_return()?;
        let client_id = self.client_id().ok()?;
        let redirect = self.setup.with(|s| s.redirect_uri.trim().to_string());
        Some(TokenRequest::authorization_code(
            &client_id, secret, &code.code, &redirect,
        ))
    }

    /// Post the code through the proxy, once: the code is recorded as posted before the request leaves.
    pub fn exchange(&self) {
        untrack(|| self.exchange_untracked())
    }

    fn exchange_untracked(&self) {
        if self.in_flight.get_untracked() {
            return;
        }
        let Some((code, _)) = self.code_return() else {
            return;
        };
        let Ok(host) = code.account_host() else {
            return;
        };
        let Some(request) = self.token_request(self.secret.get_untracked().trim()) else {
            return;
        };
        let store = self.store();
        store.set(Area::Session, keys::POSTED, &code.code);
        store.remove(Area::Session, keys::ANSWER);
        self.posted.set(true);
        self.answer.set(None);
        self.failure.set(None);
        self.in_flight.set(true);
        let api = self.api.get_value();
        let base = self.proxy_base();
        let ctx = *self;
        spawn_local(async move {
            let result = api.token(&base, host.as_str(), &request).await;
            ctx.in_flight.set(false);
            match result {
                Ok(raw) => {
                    if ctx.health.get_untracked() == ProxyHealth::Missing {
                        ctx.recheck_health(base);
                    }
                    ctx.keep_answer(raw, false, &request);
                    browser::focus_later("result-h");
                }
                Err(e) => {
                    // Whatever `/healthz` said before, there is no proxy answering now: say so in Setup and open
                    // the manual way.
                    if matches!(e, ApiError::ProxyUnreachable { .. }) {
                        ctx.health.set(ProxyHealth::Missing);
                        ctx.recheck_health(base);
                    }
                    ctx.failure.set(Some(e));
                }
            }
        });
    }

    /// Ask `/healthz` at `base` again, and take the answer if the proxy URL is still `base`: one dropped connection
    /// must not leave "no proxy answers" (and "enter the secret") on screen for good.
    fn recheck_health(&self, base: String) {
        let ctx = *self;
        let api = self.api.get_value();
        spawn_local(async move {
            if let Ok(h) = api.health(&base).await {
                if untrack(|| ctx.proxy_base()) == base {
                    ctx.health.try_set(ProxyHealth::Found(h));
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
            status: raw.status,
            body: raw.body,
            content_type: raw.content_type,
            at: now(),
            pasted,
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
        };
        self.store().set_json(Area::Session, keys::ANSWER, &answer);
        self.answer.set(Some(answer));
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
        self.failure.set(None);
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

/// The page as served: real proxy, real storage namespace.
#[component]
pub fn App() -> impl IntoView {
    view! { <AppWith config=AppConfig::default() /> }
}

/// The page with an injected [`AppConfig`] (tests mount this).
#[component]
pub fn AppWith(
    /// The proxy client and the storage namespace.
    config: AppConfig,
) -> impl IntoView {
    let search = browser::search();
    // Inside the consent popup: hand the return to the page that opened it and close.
    if looks_like_callback(&search) && matches!(parse_callback(&search), Ok(Some(_))) {
        if let Some(opener) = browser::same_origin_opener() {
            if browser::post_return(&opener, &search) {
                browser::strip_query();
                browser::close_self();
                return view! { <PopupDone lang=Lang::from_tag(&browser::browser_language()) /> }
                    .into_any();
            }
        }
    }

    let ctx = Ctx::new(config);
    provide_context(ctx);
    if looks_like_callback(&search) {
        ctx.accept_return(&search);
        browser::strip_query();
    }
    if ctx.ret.get_untracked().is_none() {
        // No return in hand: any exchange record is stale, and consent needs a state.
        ctx.forget_exchange();
        ctx.ensure_state();
    }

    // Keep the setup (never the secret) for the round trip to Kommo and reloads.
    Effect::new(move |_| {
        let s = ctx.setup.get();
        ctx.store().set_json(Area::Session, keys::SETUP, &s);
    });
    // The secret reaches localStorage only while "remember" is ticked; unticking deletes it.
    Effect::new(move |_| {
        let secret = ctx.secret.get();
        if ctx.remember.get() && !secret.trim().is_empty() {
            ctx.store().set(Area::Local, keys::SECRET, &secret);
        } else {
            ctx.store().remove(Area::Local, keys::SECRET);
        }
    });
    Effect::new(move |_| {
        let code = ctx.lang.get().code();
        if let Some(el) = browser::window()
            .document()
            .and_then(|d| d.document_element())
        {
            let _ = el.set_attribute("lang", code);
        }
    });

    // `/healthz` whenever the proxy URL settles.
    let generation = StoredValue::new(0u32);
    let target = Memo::new(move |_| (ctx.proxy_base(), ctx.proxy_problem().is_none()));
    Effect::new(move |_| {
        let (base, valid) = target.get();
        ctx.health.set(ProxyHealth::Checking);
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if !valid {
            ctx.health.set(ProxyHealth::Missing);
            return;
        }
        set_timeout(
            move || {
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                let api = ctx.api.get_value();
                spawn_local(async move {
                    let result = api.health(&base).await;
                    if generation.try_get_value() == Some(mine) {
                        ctx.health.try_set(match result {
                            Ok(h) => ProxyHealth::Found(h),
                            Err(_) => ProxyHealth::Missing,
                        });
                    }
                });
            },
            HEALTH_DEBOUNCE,
        );
    });

    // A return posted by the consent popup: same origin only, handled exactly like a return on load. Once a
    // return is being handled, further messages (a second popup, a race) are ignored until "Start over".
    let listener = window_event_listener(leptos::ev::message, move |ev| {
        if ev.origin() != browser::origin() || ctx.ret.with_untracked(|r| r.is_some()) {
            return;
        }
        if let Some(query) = browser::message_to_query(&ev.data()) {
            ctx.popup.set(Popup::Idle);
            ctx.accept_return(&query);
            browser::scroll_to_id("return-panel");
        }
    });
    on_cleanup(move || listener.remove());

    let tick = move || {
        ctx.now.set(now());
        if ctx.popup.get_untracked() == Popup::Open
            && ctx
                .popup_window
                .with_value(|w| w.as_ref().is_some_and(|w| w.closed().unwrap_or(false)))
        {
            ctx.popup_window.set_value(None);
            ctx.popup.set(Popup::Closed);
        }
    };
    if let Ok(ticker) = set_interval_with_handle(tick, Duration::from_secs(1)) {
        on_cleanup(move || ticker.clear());
    }

    // The rest of the first render, part by part (see `Ctx::shown`); `data-ready` says the whole page is there.
    fn next_part(ctx: Ctx) {
        let part = ctx.parts.get_untracked();
        let next = move || {
            ctx.parts.set(part + 1);
            next_part(ctx);
        };
        match part {
            // Nothing is on screen yet: no frame to wait for.
            0 => set_timeout(next, Duration::ZERO),
            LAST_PART.. => {}
            _ => browser::after_paint(next),
        }
    }
    next_part(ctx);
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        if ctx.parts.get() >= LAST_PART {
            ready.set(true);
        }
    });

    // Everything but the root re-renders when the language changes (all state lives in `ctx`).
    let content = move || {
        let t = tx(ctx.lang.get());
        view! {
            <header class="top">
                <div class="brand">
                    <h1>{t.title}</h1>
                    <Show when=move || ctx.demo()>
                        <span id="demo-badge" class="badge">{t.demo_badge}</span>
                    </Show>
                </div>
                <LangSwitch />
            </header>
            <p class="subtitle">{t.subtitle}</p>
            <Show when=move || ctx.demo()>
                <div class="note demo-note">
                    <p>{t.demo_intro}</p>
                    <button type="button" id="use-real" class="btn" on:click=move |_| ctx.use_real()>
                        {t.use_real}
                    </button>
                </div>
            </Show>
            <views::return_panel::SetAsideNotice />
            <Stepper />
            // Focusable from code only (`tabindex=-1`): where the keyboard lands when a notice above it goes away.
            // The document order is the visual order (keyboard and screen readers follow it): after a return the
            // result and the current step come first and Setup moves below them.
            <main id="steps" tabindex="-1">
                <Show when=move || !ctx.after_return() && ctx.shown(Piece::SetupTop)>
                    <views::setup::SetupStep />
                </Show>
                <Show when=move || !ctx.after_return() && ctx.shown(Piece::Consent)>
                    <views::consent::ConsentStep />
                </Show>
                <Show when=move || ctx.step() == Step::Result>
                    <views::result::ResultStep />
                    <views::refresh::RefreshStep />
                    <views::inspect::InspectStep />
                    <views::api_check::CheckStep />
                </Show>
                <Show when=move || ctx.ret.with(|r| r.is_some())>
                    <views::return_panel::ReturnStep />
                </Show>
                <Show when=move || ctx.step() == Step::Exchange>
                    <views::exchange::ExchangeStep />
                </Show>
                <StartOver />
                <Show when=move || ctx.after_return() && ctx.shown(Piece::SetupTop)>
                    <views::setup::SetupStep />
                </Show>
                <Show when=move || ctx.shown(Piece::Tail)>
                    <views::have_token::HaveToken />
                </Show>
            </main>
            <Show when=move || ctx.shown(Piece::Tail)>
                <footer class="foot">{t.footer}</footer>
            </Show>
        }
        .into_any()
    };
    let top = Memo::new(move |_| ctx.shown(Piece::Top));
    view! {
        <div id="app" data-ready=move || if ready.get() { "1" } else { "0" }>
            {move || top.get().then(content)}
        </div>
    }
    .into_any()
}

/// The progress list; the current step carries `aria-current="step"`.
#[component]
fn Stepper() -> impl IntoView {
    let ctx = use_ctx();
    let t = ctx.t_now();
    let current = Memo::new(move |_| ctx.step());
    view! {
        <nav class="stepper" aria-label=t.steps_label>
            <ol>
                {Step::ALL
                    .into_iter()
                    .enumerate()
                    .map(|(i, step)| {
                        let pos = move || Step::ALL.iter().position(|s| *s == current.get()).unwrap_or(0);
                        let skipped = move || {
                            matches!(step, Step::Consent | Step::Return | Step::Exchange) && ctx.consent_bypassed()
                        };
                        view! {
                            <li
                                data-step=step.key()
                                aria-current=move || (current.get() == step).then_some("step")
                                class:done=move || i < pos() && !skipped()
                                class:skipped=skipped
                            >
                                <span class="num">{i + 1}</span>
                                <span class="lbl">{step.label(t)}</span>
                                {move || skipped().then(|| view! { <span class="sr-only">{t.step_skipped}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}

/// English / Russian, remembered on this device.
#[component]
fn LangSwitch() -> impl IntoView {
    let ctx = use_ctx();
    let on_change = move |ev| {
        let lang = if event_target_value(&ev) == "ru" {
            Lang::Ru
        } else {
            Lang::En
        };
        ctx.store().set(Area::Local, keys::LANG, lang.code());
        ctx.lang.set(lang);
        // The content was re-rendered in the new language: keep the keyboard where it was.
        request_animation_frame(|| browser::focus_id("lang"));
    };
    view! {
        <label class="lang">
            <span class="sr-only">{ctx.t_now().lang_label}</span>
            <select id="lang" on:change=on_change prop:value=move || ctx.lang.get().code()>
                <option value="en">"English"</option>
                <option value="ru">"Русский"</option>
            </select>
        </label>
    }
}

/// The one "Start over" control, shown once a return has arrived (the declined panel has its own "Try again").
#[component]
fn StartOver() -> impl IntoView {
    let ctx = use_ctx();
    let visible = move || {
        let declined = ctx.ret.with(|r| {
            matches!(
                r,
                Some(Received {
                    outcome: ReturnOutcome::Declined { .. },
                    ..
                })
            )
        });
        (ctx.ret.with(|r| r.is_some())
            || ctx.answer.with(|a| a.is_some())
            || ctx.later.with(|l| l.is_some()))
            && !declined
    };
    view! {
        <Show when=visible>
            <div class="start-over">
                <button
                    type="button"
                    id="start-over"
                    class="btn"
                    disabled=move || ctx.in_flight.get()
                    on:click=move |_| {
                        // Tokens in hand cannot be fetched again (the code is spent): ask before discarding them.
                        if ctx.current().is_some() && !browser::confirm(ctx.t_now().start_over_confirm) {
                            return;
                        }
                        ctx.start_over();
                        browser::scroll_to_id("consent-section");
                        browser::focus_later("go-same-tab");
                    }
                >
                    {ctx.t_now().start_over}
                </button>
            </div>
        </Show>
    }
}

/// What the consent popup shows for the moment before it closes itself.
#[component]
fn PopupDone(
    /// The language to say it in.
    lang: Lang,
) -> impl IntoView {
    view! {
        <div id="app" data-ready="1" class="popup-done">
            <p role="status">{tx(lang).popup_done}</p>
        </div>
    }
}
