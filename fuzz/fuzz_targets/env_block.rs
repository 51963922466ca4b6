//! The env block: rendered as `.env`, read back by dotenvy, the same values and no other variable. Input: the
//! prefix, then the seven values after ENABLED, separated by NUL bytes (a NUL is in no environment variable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    let mut parts = text.split('\0');
    let prefix = parts.next().unwrap_or_default();
    let mut values = [""; 7];
    for (slot, part) in values.iter_mut().zip(parts) {
        *slot = part;
    }
    kommo_fuzz::checks_env::env_block(prefix, values);
});
