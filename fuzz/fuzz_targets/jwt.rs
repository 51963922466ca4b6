//! The access token's JWT payload (read, not verified, to show expiry and scopes): the input as a whole token, and
//! as the payload of one.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kommo_fuzz::checks::jwt(&kommo_fuzz::text(data));
    kommo_fuzz::checks::jwt_payload(data);
});
