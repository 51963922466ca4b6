//! A pasted return address (the page an app's callback showed, copied from the address bar): read as the page
//! reads it, and checked against the callback readers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    kommo_fuzz::checks::pasted(&text);
    let (landed, configured) = kommo_fuzz::first_line(&text);
    let configured = configured.unwrap_or(landed);
    assert_eq!(
        kommo::callback::same_redirect(landed, configured),
        kommo::callback::same_redirect(configured, landed)
    );
});
