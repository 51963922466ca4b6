//! The proxy's token-body rules (repeated fields refused, the held secret filled in): the held secret goes only to
//! a request Kommo reads as the held integration's code exchange (or an allowed refresh). Input: one byte of options
//! (bit 0: a form, else JSON; bit 1: the held secret signs refreshes; bit 2: other integrations pass through), then
//! the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&options, body)) = data.split_first() else {
        return;
    };
    kommo_fuzz::checks_body::token_body(options & 1 == 1, options & 2 == 2, options & 4 == 4, body);
});
