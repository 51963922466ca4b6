//! The cards the first screen does not show, as parts of their own: Return, Exchange, Result and the three cards
//! under it in one part (a return from Kommo needs the first two at once and the rest a moment later), "Already have
//! a token?" in another. In a split build (`--features split`, the served page) the functions behind
//! [`after_card`] and [`have_token_card`] and all that only they reach are moved into their own wasm parts, fetched
//! on the first call or by the `preload_*` functions; `crate::lazy` decides when, and what shows meanwhile.

use leptos::prelude::*;

use crate::part::PartMissing;
use crate::views;

/// A card of the part after Consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterCard {
    /// What came back from Kommo.
    Return,
    /// The code's exchange.
    Exchange,
    /// The tokens and the env block.
    Result,
    /// Refreshing the tokens.
    Refresh,
    /// What the access token says.
    Inspect,
    /// The API check.
    Check,
}

/// The view of one card of the part after Consent.
pub async fn after_card(card: AfterCard) -> Result<AnyView, PartMissing> {
    #[cfg(feature = "split")]
    return after_part(card).await;
    #[cfg(not(feature = "split"))]
    return after_part(card);
}

/// Fetches the part after Consent without showing it.
pub async fn preload_after() -> Result<(), PartMissing> {
    #[cfg(feature = "split")]
    return preload_after_part().await.map_err(PartMissing::from);
    #[cfg(not(feature = "split"))]
    return Ok(());
}

/// The "Already have a token?" card.
pub async fn have_token_card() -> Result<AnyView, PartMissing> {
    #[cfg(feature = "split")]
    return have_token_part().await;
    #[cfg(not(feature = "split"))]
    return have_token_part();
}

/// Fetches the "Already have a token?" part without showing it.
pub async fn preload_have_token() -> Result<(), PartMissing> {
    #[cfg(feature = "split")]
    return preload_have_token_part().await.map_err(PartMissing::from);
    #[cfg(not(feature = "split"))]
    return Ok(());
}

#[cfg_attr(
    feature = "split",
    leptos::wasm_split::wasm_split(
        after,
        wasm_split_path = ::leptos::wasm_split,
        fallible,
        preload(preload_after_part)
    )
)]
fn after_part(card: AfterCard) -> Result<AnyView, PartMissing> {
    Ok(match card {
        AfterCard::Return => view! { <views::return_panel::ReturnStep /> }.into_any(),
        AfterCard::Exchange => view! { <views::exchange::ExchangeStep /> }.into_any(),
        AfterCard::Result => view! { <views::result::ResultStep /> }.into_any(),
        AfterCard::Refresh => view! { <views::refresh::RefreshStep /> }.into_any(),
        AfterCard::Inspect => view! { <views::inspect::InspectStep /> }.into_any(),
        AfterCard::Check => view! { <views::api_check::CheckStep /> }.into_any(),
    })
}

#[cfg_attr(
    feature = "split",
    leptos::wasm_split::wasm_split(
        have_token,
        wasm_split_path = ::leptos::wasm_split,
        fallible,
        preload(preload_have_token_part)
    )
)]
fn have_token_part() -> Result<AnyView, PartMissing> {
    Ok(view! { <views::have_token::HaveToken /> }.into_any())
}
