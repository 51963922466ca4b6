//! Kommo's API answers in the API check (account, users, pipelines, leads pages, refusals) and the masking of the
//! token in what is shown. Input: an optional status line, then the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    let (status, body) = kommo_fuzz::status_and_body(&text);
    kommo_fuzz::checks::api_answer(status, body);
    let (token, rest) = kommo_fuzz::first_line(body);
    kommo_fuzz::checks::mask(rest.unwrap_or(body), token);
});
