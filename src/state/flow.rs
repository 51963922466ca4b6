//! Consent and the return from it: the pending `state`, the return read (from the address, a popup or a pasted
//! address), one set aside, the popup's progress; "Start over".

use kommo::outcome::{read_return, ReturnOutcome, SetAside};
use kommo::CodeReturn;
use leptos::prelude::*;

use super::{now, Draft};
use crate::browser;
use crate::state::Ctx;
use crate::storage::{keys, Area, Store};

/// A return from consent and when it arrived (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub outcome: ReturnOutcome,
    pub at: i64,
}

impl Received {
    /// The return this tab accepted, as sessionStorage keeps it for a reload: not the outcome itself but what it was
    /// read from — the query and the `state` it was checked against — read again with the same [`read_return`],
    /// which is pure, so a reload sees exactly the outcome first read. (Storing the outcome as JSON needed its
    /// derived `Deserialize` in the first load: 10 kB of the main module, for a record only a reload reads.)
    fn load(store: &Store) -> Option<Received> {
        let query = store.get(Area::Session, keys::RETURN)?;
        let state = store.get(Area::Session, keys::RETURN_STATE);
        let at = store.get(Area::Session, keys::RETURN_AT)?.parse().ok()?;
        let outcome = read_return(&query, state.as_deref())?;
        Some(Received { outcome, at })
    }

    fn save(store: &Store, query: &str, state: Option<&str>, at: i64) {
        store.set(Area::Session, keys::RETURN, query);
        match state {
            Some(s) => store.set(Area::Session, keys::RETURN_STATE, s),
            None => store.remove(Area::Session, keys::RETURN_STATE),
        }
        store.set(Area::Session, keys::RETURN_AT, &at.to_string());
    }

    fn forget(store: &Store) {
        for key in [keys::RETURN, keys::RETURN_STATE, keys::RETURN_AT] {
            store.remove(Area::Session, key);
        }
    }
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

/// The consent-and-return part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct Flow {
    /// The consent `state` waiting for its return (mirrors sessionStorage).
    pub pending_state: RwSignal<Option<String>>,
    /// The return being handled (mirrors sessionStorage).
    pub received: RwSignal<Option<Received>>,
    /// A return that was not this tab's own and arrived while the tab held a consent, a code or tokens: shown as a
    /// notice and otherwise ignored (in memory only).
    /// (As a [`Received`] holding [`ReturnOutcome::Untrusted`] or [`ReturnOutcome::Malformed`]: one signal type
    /// fewer in the wasm.)
    pub set_aside: RwSignal<Option<Received>>,
    pub popup: RwSignal<Popup>,
    /// The consent popup this page opened, to notice when it is closed without a return.
    pub popup_window: StoredValue<Option<web_sys::Window>, LocalStorage>,
    /// A return address pasted in the consent step (memory only: it holds a code).
    pub landed: Draft,
}

impl Flow {
    pub(crate) fn new(store: &Store) -> Self {
        Flow {
            pending_state: RwSignal::new(store.get(Area::Session, keys::STATE)),
            received: RwSignal::new(Received::load(store)),
            set_aside: RwSignal::new(None),
            popup: RwSignal::new(Popup::Idle),
            popup_window: StoredValue::new_local(None),
            landed: Draft::default(),
        }
    }
}

impl Ctx {
    /// The verified code return and when it arrived.
    pub fn code_return(&self) -> Option<(CodeReturn, i64)> {
        self.flow.received.with(|r| match r {
            Some(Received {
                outcome: ReturnOutcome::Code { ret },
                at,
            }) => Some((ret.clone(), *at)),
            _ => None,
        })
    }

    /// Make a consent `state` if none is pending.
    pub fn ensure_state(&self) -> Option<String> {
        if let Some(s) = self.flow.pending_state.get_untracked() {
            return Some(s);
        }
        let s = kommo::consent::state_from_bytes(browser::random_16()?);
        self.store().set(Area::Session, keys::STATE, &s);
        self.flow.pending_state.set(Some(s.clone()));
        Some(s)
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
            // Kept tokens count before they are read (`unread`: the result part reads them after this runs).
            let holds = stored.is_some()
                || self.code_return().is_some()
                || self.kept.newer.with_untracked(|l| l.is_some())
                || self.kept.unread.get_untracked();
            if holds {
                let outcome = match why {
                    SetAside::State(problem) => ReturnOutcome::Untrusted {
                        problem,
                        referer: None,
                    },
                    SetAside::Malformed(problem) => ReturnOutcome::Malformed { problem },
                };
                self.flow
                    .set_aside
                    .set(Some(Received { outcome, at: now() }));
                return;
            }
        }
        self.flow.set_aside.set(None);
        store.remove(Area::Session, keys::STATE);
        self.flow.pending_state.set(None);
        self.forget_exchange();
        let received = Received { outcome, at: now() };
        Received::save(&store, query, stored.as_deref(), received.at);
        self.flow.received.set(Some(received));
    }

    /// Back to consent with a fresh state; setup and secret stay.
    pub fn start_over(&self) {
        untrack(|| self.start_over_untracked())
    }

    fn start_over_untracked(&self) {
        let store = self.store();
        self.forget_newer();
        Received::forget(&store);
        store.remove(Area::Session, keys::STATE);
        self.forget_exchange();
        self.flow.received.set(None);
        self.flow.set_aside.set(None);
        self.flow.pending_state.set(None);
        self.flow.popup.set(Popup::Idle);
        self.kept.revealed.set(false);
        self.ensure_state();
    }
}
