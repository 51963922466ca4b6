//! When the page's later parts are fetched, and what a card's place shows meanwhile. The parts themselves are in
//! [`crate::views::later`] (the cards) and [`crate::i18n::russian`] (the Russian strings); see [`crate::part`].
//!
//! - A part is fetched when a card of it is about to show ([`Later`]) or the language switches to Russian
//!   ([`Parts::switch_to_russian`]), and, once the first screen is done, the card parts are prefetched ([`Parts::prefetch`]).
//! - The boot script (`scripts/post-build.pl` writes it) starts fetching, together with the main module, the part
//!   after Consent when the address carries Kommo's return or the tab keeps one, the result part when the tab keeps
//!   tokens, and the Russian part when Russian is the language the page starts in, so none waits for the main module.
//! - While a part loads its card's place keeps the card's usual height; a part that fails says so and offers to
//!   fetch it again. All state stays in [`crate::Ctx`], in the main module, so nothing typed or received is lost.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{self, Lang};
use crate::part::{now, PartMissing};
use crate::state::Ctx;
use crate::storage::{keys, Area};
use crate::views::later::{self, AfterCard};
use crate::{browser, ids};
use kommo::outcome::ReturnOutcome;

/// A part of the page fetched later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Return and Exchange.
    After,
    /// Result and the cards under it.
    Result,
    /// "Already have a token?".
    HaveToken,
    /// The Russian strings.
    Russian,
}

/// Where a part's fetch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// Not asked for yet.
    Idle,
    /// Being fetched.
    Loading,
    /// Here: its functions return at once.
    Ready,
    /// The last fetch failed; asking again fetches again.
    Failed,
}

/// Where each part's fetch stands (context, provided by the app).
#[derive(Clone, Copy)]
pub struct Parts {
    after: RwSignal<Load>,
    result: RwSignal<Load>,
    have_token: RwSignal<Load>,
    russian: RwSignal<Load>,
}

impl Parts {
    /// Fresh state for one mount of the app, provided as context.
    pub fn provide() -> Self {
        // Without the split (`cargo test`, plain builds) every part is in the main module: here from the start, so
        // the page renders as one, at once.
        if !cfg!(feature = "split") && !i18n::has_russian() {
            if let Some(Ok(strings)) = now(i18n::russian()) {
                i18n::install_russian(strings);
            }
        }
        let here = if cfg!(feature = "split") {
            Load::Idle
        } else {
            Load::Ready
        };
        let parts = Parts {
            after: RwSignal::new(here),
            result: RwSignal::new(here),
            have_token: RwSignal::new(here),
            russian: RwSignal::new(if i18n::has_russian() {
                Load::Ready
            } else {
                Load::Idle
            }),
        };
        provide_context(parts);
        parts
    }

    fn signal(self, part: Part) -> RwSignal<Load> {
        match part {
            Part::After => self.after,
            Part::Result => self.result,
            Part::HaveToken => self.have_token,
            Part::Russian => self.russian,
        }
    }

    /// Where `part`'s fetch stands (tracked).
    pub fn status(self, part: Part) -> Load {
        self.signal(part).get()
    }

    /// Fetches `part` unless it is here or on its way; resolves to whether it is here.
    pub async fn load(self, part: Part) -> bool {
        let status = self.signal(part);
        match status.get_untracked() {
            Load::Ready => return true,
            Load::Loading => {}
            Load::Idle | Load::Failed => status.set(Load::Loading),
        }
        let fetched: Result<(), PartMissing> = match part {
            Part::After => later::preload_after().await,
            Part::Result => later::preload_result().await,
            Part::HaveToken => later::preload_have_token().await,
            Part::Russian => i18n::russian().await.map(i18n::install_russian),
        };
        // Another call may have finished first; the outcome is the same part either way.
        status.set(if fetched.is_ok() {
            Load::Ready
        } else {
            Load::Failed
        });
        // Return and Exchange are on screen: the result is one click away, so its part comes next — a moment later,
        // once they have painted (requested in the same task, its 85 kB counted into Lighthouse's LCP of the return:
        // 2.3–2.6 s against 2.1), and before a proxy that also serves the page might go away.
        if part == Part::After && fetched.is_ok() {
            self.want_soon(&[Part::Result]);
        }
        fetched.is_ok()
    }

    /// Starts fetching `part` (see [`Parts::load`]).
    pub fn want(self, part: Part) {
        if matches!(self.signal(part).get_untracked(), Load::Idle | Load::Failed) {
            spawn_local(async move {
                self.load(part).await;
            });
        }
    }

    /// Once the first screen is on screen and the page has had a moment: fetch the card parts not asked for yet, so
    /// a click on "Open the consent page" or "Already have a token?" finds them here.
    pub fn prefetch(self) {
        self.want_soon(&[Part::After, Part::HaveToken, Part::Result]);
    }

    /// [`PREFETCH_AFTER`] from now, starts fetching those of `parts` not asked for yet. A part whose fetch failed is
    /// left to the person's "Try again": its card says so already.
    fn want_soon(self, parts: &'static [Part]) {
        set_timeout(
            move || {
                for &part in parts {
                    if self.signal(part).get_untracked() == Load::Idle {
                        self.want(part);
                    }
                }
            },
            PREFETCH_AFTER,
        );
    }

    /// Reads what the tab keeps of the exchange and later tokens ([`crate::state::Tokens::unread`]) with the result
    /// part, which holds their reader: at once, unsplit; else once the part is here — after the fetch the boot
    /// script started, or one that "Try again" started after a failure ([`kept_failed`]).
    pub fn read_kept(self, ctx: Ctx) {
        if !ctx.kept.unread.get_untracked() {
            return;
        }
        if !cfg!(feature = "split") {
            // A plain function here: it answers in its first poll, before the first render.
            if let Some(Ok(records)) = now(later::read_kept(ctx.store())) {
                ctx.take_kept(records);
            }
            return;
        }
        self.want(Part::Result);
        Effect::new(move |_| {
            if self.result.get() == Load::Ready && ctx.kept.unread.get_untracked() {
                // The part is here; its function still answers through its own loader, a moment later.
                spawn_local(async move {
                    if let Ok(records) = later::read_kept(ctx.store()).await {
                        if ctx.kept.unread.get_untracked() {
                            ctx.take_kept(records);
                        }
                    }
                });
            }
        });
    }

    /// Switches the page to Russian once its strings are here (at once when they are), keeping the choice; when
    /// they cannot be fetched the page stays in English and [`RussianFailed`] says so.
    pub fn switch_to_russian(self, ctx: Ctx) {
        spawn_local(async move {
            if self.load(Part::Russian).await {
                ctx.store().set(Area::Local, keys::LANG, Lang::Ru.code());
                ctx.lang.set(Lang::Ru);
                // The content was re-rendered in the new language: keep the keyboard where it was.
                request_animation_frame(|| browser::focus_id(ids::LANG));
            } else if ctx.lang.get_untracked() == Lang::En {
                // The switch still shows "Русский": put it back.
                ctx.lang.set(Lang::En);
            }
        });
    }
}

/// How long after the first screen is complete the card parts are prefetched: late enough not to compete with what
/// the first screen still paints (Lighthouse counts every request started before the largest paint into it; at 300 ms
/// the prefetch added 0.6 s to its simulated mobile LCP), and long before a person can be back from Kommo's consent.
pub const PREFETCH_AFTER: Duration = Duration::from_millis(1000);

/// The page's [`Parts`].
pub fn use_parts() -> Parts {
    expect_context::<Parts>()
}

impl AfterCard {
    /// The height its place keeps while its part loads (the card's usual height, in CSS).
    fn placeholder_class(self) -> &'static str {
        match self {
            AfterCard::Return => "card later later-return",
            AfterCard::Exchange => "card later later-exchange",
            AfterCard::Result => "card later later-result",
            AfterCard::Refresh => "card later later-refresh",
            AfterCard::Inspect => "card later later-inspect",
            AfterCard::Check => "card later later-check",
        }
    }
}

/// A card of the part after Consent: the card itself when its part is here, else a placeholder of its height, or
/// what failed and a button that fetches it again.
#[component]
pub fn Later(
    /// Which card.
    card: AfterCard,
) -> impl IntoView {
    let parts = use_parts();
    let part = if card.in_result_part() {
        Part::Result
    } else {
        Part::After
    };
    parts.want(part);
    // Return's height depends on what came back: a return set aside or malformed explains itself at length.
    let class = match card {
        AfterCard::Return => crate::use_ctx().flow.received.with_untracked(|r| {
            match r.as_ref().map(|r| &r.outcome) {
                Some(ReturnOutcome::Untrusted { .. }) => {
                    "card later later-return later-return-untrusted"
                }
                Some(ReturnOutcome::Malformed { .. }) => {
                    "card later later-return later-return-malformed"
                }
                _ => card.placeholder_class(),
            }
        }),
        _ => card.placeholder_class(),
    };
    in_place(parts, part, class, move || now(later::after_card(card)))
}

/// The "Already have a token?" card, fetched as [`Later`] fetches the others.
#[component]
pub fn LaterHaveToken() -> impl IntoView {
    // Not fetched at mount: the card is at the foot of the first screen, below the fold, and its part arrives with
    // the prefetch ([`Parts::prefetch`]) once the first screen has painted, rather than competing with it.
    let parts = use_parts();
    in_place(
        parts,
        Part::HaveToken,
        "card later later-have-token",
        || now(later::have_token_card()),
    )
}

/// What stands in a card's place: the card (`card`, once `part` is here), else a placeholder with `class`, or what
/// failed and a button that fetches it again.
fn in_place(
    parts: Parts,
    part: Part,
    class: &'static str,
    card: impl Fn() -> Option<Result<AnyView, PartMissing>> + Send + Sync + 'static,
) -> impl Fn() -> AnyView + Send + Sync + 'static {
    move || match parts.status(part) {
        Load::Ready => match card() {
            Some(Ok(view)) => view,
            // Not reached: a part that is here answers at once.
            _ => placeholder(class),
        },
        Load::Failed => failed(class, parts, part),
        Load::Idle | Load::Loading => placeholder(class),
    }
}

fn placeholder(class: &'static str) -> AnyView {
    let t = crate::use_ctx().t_untracked();
    view! {
        <section class=class aria-busy="true">
            <p class="muted later-loading">{t.part_loading}</p>
        </section>
    }
    .into_any()
}

fn failed(class: &'static str, parts: Parts, part: Part) -> AnyView {
    let t = crate::use_ctx().t_untracked();
    view! {
        <section class=class>
            <p class="error" role="alert">{t.part_failed}</p>
            <button type="button" class="btn later-retry" on:click=move |_| parts.want(part)>{t.retry}</button>
        </section>
    }
    .into_any()
}

/// Stands for the page while the result part, which reads the tokens this tab keeps, cannot be fetched: what failed
/// and a button that fetches it again (the tokens stay in the tab meanwhile).
pub fn kept_failed() -> AnyView {
    failed("card later", use_parts(), Part::Result)
}

/// Says that the Russian strings did not load, in both languages, with a button that fetches them again.
#[component]
pub fn RussianFailed() -> impl IntoView {
    let parts = use_parts();
    let ctx = crate::use_ctx();
    move || {
        (parts.status(Part::Russian) == Load::Failed).then(|| {
            let t = ctx.t_untracked();
            view! {
                <div class="note russian-failed" role="alert">
                    <p>{t.russian_failed}</p>
                    <button type="button" id=ids::RUSSIAN_RETRY class="btn" on:click=move |_| parts.switch_to_russian(ctx)>
                        {t.russian_retry}
                    </button>
                </div>
            }
        })
    }
}
