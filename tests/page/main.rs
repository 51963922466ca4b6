//! Browser tests of the page: the whole app is mounted into a fresh element with a fake proxy
//! ([`fake_proxy::FakeApi`]) that records every request, and its own storage namespace. One test binary; a module
//! per area of the page, the harness (mounting, waiting, reading the page, storage) and the fake proxy apart.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p kommo-oauth-helper --target wasm32-unknown-unknown`
//! (one area: `-- exchange::`).
#![cfg(target_arch = "wasm32")]

mod fake_proxy;
mod harness;

mod accessibility;
mod after_exchange;
mod api_check;
mod env_picker;
mod exchange;
mod first_render;
mod language;
mod returns;
mod setup_link;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
