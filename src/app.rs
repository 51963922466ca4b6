//! The app: [`App`] as served, [`AppWith`] as tests mount it, and the view tree. The app's effects are plain
//! functions in [`effects`]; the controls around the cards in [`chrome`].

pub mod chrome;
pub mod effects;

use std::rc::Rc;

use leptos::prelude::*;

use crate::i18n::{tx, Lang};
use crate::ids;
use crate::lazy::{kept_failed, Later, LaterHaveToken, Load, Part, Parts, RussianFailed};
use crate::state::{Ctx, Piece, Step};
use crate::storage::Store;
use crate::views;
use crate::views::later::AfterCard;
use crate::{browser, Api, HttpApi};
use chrome::{LangSwitch, PopupDone, StartOver, Stepper};

/// The storage namespace of the real page.
pub const STORE_NS: &str = "kommo-oauth-helper:";

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
    if let Some(lang) = effects::hand_return_to_opener(&search) {
        return view! { <PopupDone lang=lang /> }.into_any();
    }

    let ctx = Ctx::new(config.api, config.store);
    provide_context(ctx);
    effects::take_return_on_load(ctx, &search);
    effects::persist(ctx);
    crate::state::health::watch(ctx);
    effects::listen_for_popup(ctx);
    effects::tick(ctx);
    let ready = effects::render_in_parts(ctx);
    let parts = Parts::provide();
    if ctx.lang.get_untracked() == Lang::Ru {
        parts.want(Part::Russian);
    }
    parts.read_kept(ctx);
    Effect::new(move |_| {
        if ready.get() {
            parts.prefetch();
        }
    });

    // Everything but the root re-renders when the language changes (all state lives in `ctx`).
    let content = move || {
        let lang = ctx.lang.get();
        // Russian is fetched as a part of its own, started with the main module: show nothing until it is here
        // rather than a moment of English (if it fails, the page shows in English and says so).
        if lang == Lang::Ru && matches!(parts.status(Part::Russian), Load::Idle | Load::Loading) {
            return ().into_any();
        }
        // Likewise until the tokens this tab keeps are read (their reader is in the result part): the steps they
        // decide would otherwise show a moment of Setup and Consent.
        if ctx.kept.unread.get() {
            return if parts.status(Part::Result) == Load::Failed {
                kept_failed()
            } else {
                ().into_any()
            };
        }
        let t = tx(lang);
        view! {
            <header class="top">
                <div class="brand">
                    <h1>{t.title}</h1>
                    <Show when=move || ctx.demo()>
                        <span id=ids::DEMO_BADGE class="badge">{t.demo_badge}</span>
                    </Show>
                </div>
                <LangSwitch />
            </header>
            <RussianFailed />
            <p class="subtitle">{t.subtitle}</p>
            <Show when=move || ctx.demo()>
                <div class="note demo-note">
                    <p>{t.demo_intro}</p>
                    <button type="button" id=ids::USE_REAL class="btn" on:click=move |_| ctx.use_real()>
                        {t.use_real}
                    </button>
                </div>
            </Show>
            <views::return_panel::SetAsideNotice />
            <Stepper />
            // Focusable from code only (`tabindex=-1`): where the keyboard lands when a notice above it goes away.
            // The document order is the visual order (keyboard and screen readers follow it): after a return the
            // result and the current step come first and Setup moves below them.
            <main id=ids::STEPS tabindex="-1">
                <Show when=move || !ctx.after_return() && ctx.shown(Piece::SetupTop)>
                    <views::setup::SetupStep />
                </Show>
                <Show when=move || !ctx.after_return() && ctx.shown(Piece::Consent)>
                    <views::consent::ConsentStep />
                </Show>
                <Show when=move || ctx.step() == Step::Result>
                    <Later card=AfterCard::Result />
                    <Later card=AfterCard::Refresh />
                    <Later card=AfterCard::Inspect />
                    <Later card=AfterCard::Check />
                </Show>
                <Show when=move || ctx.flow.received.with(|r| r.is_some())>
                    <Later card=AfterCard::Return />
                </Show>
                <Show when=move || ctx.step() == Step::Exchange>
                    <Later card=AfterCard::Exchange />
                </Show>
                <StartOver />
                <Show when=move || ctx.after_return() && ctx.shown(Piece::SetupTop)>
                    <views::setup::SetupStep />
                </Show>
                <Show when=move || ctx.shown(Piece::Tail)>
                    <LaterHaveToken />
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
        <div id=ids::APP data-ready=move || if ready.get() { "1" } else { "0" }>
            {move || top.get().then(content)}
        </div>
    }
    .into_any()
}
