//! The proxy's health, in one place: what `/healthz` said, the watch that asks it whenever the proxy URL settles,
//! the re-check after a failed request, and what it means for the secret key.

use std::time::Duration;

use kommo::Health;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::state::Ctx;

/// How long after the last edit of the proxy URL its `/healthz` is checked.
const HEALTH_DEBOUNCE: Duration = Duration::from_millis(400);

/// What `/healthz` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyHealth {
    Checking,
    Found(Health),
    Missing,
}

/// Ask `/healthz` whenever the proxy URL settles (a valid URL, unchanged for [`HEALTH_DEBOUNCE`]); only the answer
/// for the URL as it still is counts.
pub(crate) fn watch(ctx: Ctx) {
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
                let api = ctx.io.api.get_value();
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
}

impl Ctx {
    /// The proxy holds the secret for the integration in Setup.
    pub fn secret_held(&self) -> bool {
        match self.health.get() {
            ProxyHealth::Found(h) => h.holds_secret_for(self.client_id().ok().as_deref()),
            _ => false,
        }
    }

    /// Ask `/healthz` at `base` again, and take the answer if the proxy URL is still `base`: one dropped connection
    /// must not leave "no proxy answers" (and "enter the secret") on screen for good.
    pub(crate) fn recheck_health(&self, base: String) {
        let ctx = *self;
        let api = self.io.api.get_value();
        spawn_local(async move {
            if let Ok(h) = api.health(&base).await {
                if untrack(|| ctx.proxy_base()) == base {
                    ctx.health.try_set(ProxyHealth::Found(h));
                }
            }
        });
    }
}
