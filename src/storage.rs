//! sessionStorage (this tab, survives the trip to Kommo and reloads) and localStorage (this device, only the
//! language, the env block's format and — if the user ticks "remember" — the secret key). Keys are namespaced so
//! tests can run side by side.

use serde::{de::DeserializeOwned, Serialize};
use web_sys::Storage;

/// Which storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `sessionStorage`: setup, the pending state, the read return, the exchange record.
    Session,
    /// `localStorage`: language, and the secret only when the user asked to remember it.
    Local,
}

/// Keys in sessionStorage.
pub mod keys {
    pub const SETUP: &str = "setup";
    pub const STATE: &str = "state";
    /// The accepted return's query ([`crate::state::Received`] keeps it with the next two).
    pub const RETURN: &str = "return_query";
    /// The `state` that return was checked against (absent when there was none).
    pub const RETURN_STATE: &str = "return_state";
    /// When it arrived, ms since the epoch.
    pub const RETURN_AT: &str = "return_at";
    /// The code that was posted for exchange (written *before* sending).
    pub const POSTED: &str = "posted";
    pub const ANSWER: &str = "answer";
    /// Tokens from a refresh or a pasted long-lived token (replace the exchange's).
    pub const LATER: &str = "later";
    /// localStorage.
    pub const LANG: &str = "lang";
    /// localStorage, only with "remember on this device".
    pub const SECRET: &str = "secret";
    /// localStorage: the env block's format last picked ([`kommo::env::EnvFormat::key`]; not a secret).
    pub const ENV_FORMAT: &str = "env_format";
}

/// The namespaced store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    ns: String,
}

impl Store {
    /// `ns` is prepended to every key (the app uses `kommo-oauth-helper:`).
    pub fn new(ns: impl Into<String>) -> Self {
        Store { ns: ns.into() }
    }

    fn area(area: Area) -> Option<Storage> {
        let w = web_sys::window()?;
        match area {
            Area::Session => w.session_storage().ok().flatten(),
            Area::Local => w.local_storage().ok().flatten(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.ns, key)
    }

    pub fn get(&self, area: Area, key: &str) -> Option<String> {
        Self::area(area)?.get_item(&self.key(key)).ok().flatten()
    }

    pub fn set(&self, area: Area, key: &str, value: &str) {
        if let Some(s) = Self::area(area) {
            let _ = s.set_item(&self.key(key), value);
        }
    }

    pub fn remove(&self, area: Area, key: &str) {
        if let Some(s) = Self::area(area) {
            let _ = s.remove_item(&self.key(key));
        }
    }

    pub fn get_json<T: DeserializeOwned>(&self, area: Area, key: &str) -> Option<T> {
        crate::json::from_str(&self.get(area, key)?)
    }

    pub fn set_json<T: Serialize>(&self, area: Area, key: &str, value: &T) {
        if let Ok(s) = serde_json::to_string(value) {
            self.set(area, key, &s);
        }
    }

    /// Remove every key of this namespace in both areas (tests).
    pub fn clear_all(&self) {
        for area in [Area::Session, Area::Local] {
            let Some(s) = Self::area(area) else { continue };
            let n = s.length().unwrap_or(0);
            let mine: Vec<String> = (0..n)
                .filter_map(|i| s.key(i).ok().flatten())
                .filter(|k| k.starts_with(&self.ns))
                .collect();
            for k in mine {
                let _ = s.remove_item(&k);
            }
        }
    }
}
