//! The exchange proxy's own answers: its error body (`{"proxy_error":…}`) and `/healthz`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kommo_fuzz::checks::proxy_answer(&kommo_fuzz::text(data));
});
