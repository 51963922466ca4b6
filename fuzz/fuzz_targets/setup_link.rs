//! The setup link's fragment (`#service=…&client_id=…`): read without a panic or a secret, and round-tripped. The
//! same bytes cut at newlines also make a `SetupLink` to write and read back.
#![no_main]
use kommo::setup::SetupLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    kommo_fuzz::checks::setup_fragment(&text);
    let mut parts = text
        .split('\n')
        .map(|p| (!p.is_empty()).then(|| p.to_string()));
    let mut next = || parts.next().flatten();
    let link = SetupLink {
        service: next(),
        consent_base: next(),
        client_id: next(),
        redirect_uri: next(),
        proxy: next(),
        prefix: next(),
        demo: data.first().is_some_and(|b| b & 1 == 1),
    };
    kommo_fuzz::checks::setup_round_trip(link);
});
