//! What the lazily loaded parts of the page have in common. In the served page (`--features split`) the cards
//! after Consent, the "Already have a token?" card and the Russian strings are wasm parts of their own, fetched when
//! needed (`crate::lazy` decides when); a function that lives in a part is async and fails with [`PartMissing`] when
//! its part cannot be fetched. Unsplit (the browser tests, `cargo check`), the same functions are plain and never fail.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A part of the page could not be fetched: the network failed, or a new deploy replaced the files this page was
/// built with. Fetching again is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartMissing;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for PartMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        PartMissing
    }
}

/// Runs `f` to its end if it does not wait: a part's function, once its part was fetched, returns in its first
/// poll, so a view it builds can be placed without a frame of placeholder. `None` when it would wait.
pub fn now<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}
