//! The cards the first screen does not show, as parts of their own: Return and Exchange (the part after Consent: a
//! return from Kommo needs them at once), Result and the three cards under it (the result part: needed only once
//! the code is exchanged, so a return does not wait for them), "Already have a token?" in a third. In a split build
//! (`--features split`, the served page) the functions behind [`after_card`] and [`have_token_card`] and all that
//! only they reach are moved into their own wasm parts, fetched on the first call or by the `preload_*` functions;
//! `crate::lazy` decides when, and what shows meanwhile.

use leptos::prelude::*;

use crate::part::PartMissing;
use crate::state::{Ctx, KeptRecords};
use crate::storage::Store;
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

impl AfterCard {
    /// Whether it is in the result part (else in the part after Consent: Return and Exchange).
    pub fn in_result_part(self) -> bool {
        !matches!(self, AfterCard::Return | AfterCard::Exchange)
    }
}

/// The view of one card after Consent, from its part.
pub async fn after_card(card: AfterCard) -> Result<AnyView, PartMissing> {
    #[cfg(feature = "split")]
    return if card.in_result_part() {
        result_part(card).await
    } else {
        after_part(card).await
    };
    #[cfg(not(feature = "split"))]
    return if card.in_result_part() {
        result_part(card)
    } else {
        after_part(card)
    };
}

/// Fetches the part after Consent (Return and Exchange) without showing it.
pub async fn preload_after() -> Result<(), PartMissing> {
    #[cfg(feature = "split")]
    return preload_after_part().await.map_err(PartMissing::from);
    #[cfg(not(feature = "split"))]
    return Ok(());
}

/// Fetches the result part (Result, Refresh, the inspection, the API check) without showing it.
pub async fn preload_result() -> Result<(), PartMissing> {
    #[cfg(feature = "split")]
    return preload_result_part().await.map_err(PartMissing::from);
    #[cfg(not(feature = "split"))]
    return Ok(());
}

/// What the tab keeps of the exchange and later tokens ([`crate::state::Ctx::read_kept`]), read by the result part.
pub async fn read_kept(store: Store) -> Result<KeptRecords, PartMissing> {
    #[cfg(feature = "split")]
    return kept_part(store).await;
    #[cfg(not(feature = "split"))]
    return kept_part(store);
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
        AfterCard::Exchange => view! { <views::exchange::ExchangeStep /> }.into_any(),
        _ => view! { <views::return_panel::ReturnStep /> }.into_any(),
    })
}

#[cfg_attr(
    feature = "split",
    leptos::wasm_split::wasm_split(
        result,
        wasm_split_path = ::leptos::wasm_split,
        fallible,
        preload(preload_result_part)
    )
)]
fn result_part(card: AfterCard) -> Result<AnyView, PartMissing> {
    Ok(match card {
        AfterCard::Refresh => view! { <views::refresh::RefreshStep /> }.into_any(),
        AfterCard::Inspect => view! { <views::inspect::InspectStep /> }.into_any(),
        AfterCard::Check => view! { <views::api_check::CheckStep /> }.into_any(),
        _ => view! { <views::result::ResultStep /> }.into_any(),
    })
}

// In the result part too: a tab that keeps tokens fetches that part at once (the boot script starts it), and the
// records' derived `Deserialize` is not needed before.
#[cfg_attr(
    feature = "split",
    leptos::wasm_split::wasm_split(result, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn kept_part(store: Store) -> Result<KeptRecords, PartMissing> {
    Ok(Ctx::read_kept(&store))
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
