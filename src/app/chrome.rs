//! The controls around the cards: the stepper, the language switch, "Start over", and what the consent popup shows
//! before it closes.

use kommo::outcome::ReturnOutcome;
use kommo::Lang;
use leptos::prelude::*;

use crate::browser;
use crate::i18n::tx;
use crate::ids;
use crate::state::{use_ctx, Received, Step};
use crate::storage::{keys, Area};

/// The progress list; the current step carries `aria-current="step"`.
#[component]
pub fn Stepper() -> impl IntoView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
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
pub fn LangSwitch() -> impl IntoView {
    let ctx = use_ctx();
    let on_change = move |ev| {
        let lang = if event_target_value(&ev) == "ru" {
            Lang::Ru
        } else {
            Lang::En
        };
        if lang == Lang::Ru {
            // The Russian strings may still have to be fetched: the switch happens when they are here.
            crate::lazy::use_parts().switch_to_russian(ctx);
            return;
        }
        ctx.store().set(Area::Local, keys::LANG, lang.code());
        ctx.lang.set(lang);
        // The content was re-rendered in the new language: keep the keyboard where it was.
        request_animation_frame(|| browser::focus_id(ids::LANG));
    };
    view! {
        <label class="lang">
            <span class="sr-only">{ctx.t_untracked().lang_label}</span>
            <select id=ids::LANG on:change=on_change prop:value=move || ctx.lang.get().code()>
                <option value="en">"English"</option>
                <option value="ru">"Русский"</option>
            </select>
        </label>
    }
}

/// The one "Start over" control, shown once a return has arrived (the declined panel has its own "Try again").
#[component]
pub fn StartOver() -> impl IntoView {
    let ctx = use_ctx();
    let visible = move || {
        let received = ctx.flow.received;
        let declined = received.with(|r| {
            matches!(
                r,
                Some(Received {
                    outcome: ReturnOutcome::Declined { .. },
                    ..
                })
            )
        });
        (received.with(|r| r.is_some())
            || ctx.exchange.answer.with(|a| a.is_some())
            || ctx.kept.newer.with(|l| l.is_some()))
            && !declined
    };
    view! {
        <Show when=visible>
            <div class="start-over">
                <button
                    type="button"
                    id=ids::START_OVER
                    class="btn"
                    disabled=move || ctx.exchange.in_flight.get()
                    on:click=move |_| {
                        // Tokens in hand cannot be fetched again (the code is spent): ask before discarding them.
                        if ctx.holds_tokens_untracked() && !browser::confirm(ctx.t_untracked().start_over_confirm) {
                            return;
                        }
                        ctx.start_over();
                        browser::scroll_to_id(ids::CONSENT_SECTION);
                        browser::focus_later(ids::GO_SAME_TAB);
                    }
                >
                    {ctx.t_untracked().start_over}
                </button>
            </div>
        </Show>
    }
}

/// What the consent popup shows for the moment before it closes itself.
#[component]
pub fn PopupDone(
    /// The language to say it in.
    lang: Lang,
) -> impl IntoView {
    view! {
        <div id=ids::APP data-ready="1" class="popup-done">
            <p role="status">{tx(lang).popup_done}</p>
        </div>
    }
}
