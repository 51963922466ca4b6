//! The return query (`location.search`, a popup's message, a pasted address): the callback readers agree and
//! never panic. Input: the query, then optionally a newline and the state this tab stored.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    let (query, stored) = kommo_fuzz::first_line(&text);
    kommo_fuzz::checks::callback(query, stored);
    kommo_fuzz::checks::callback(&text, None);
});
