//! The token endpoint's answer through the proxy, and a curl answer pasted back: tokens, Kommo's error, the
//! proxy's error or neither, each read for what it is. Input: an optional status line, then the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    let (status, body) = kommo_fuzz::status_and_body(&text);
    kommo_fuzz::checks::token_answer(status, body);
    kommo_fuzz::checks::token_answer(status, body.trim());
});
