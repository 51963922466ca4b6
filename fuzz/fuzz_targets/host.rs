//! Account hosts (the `referer` of a return, the proxy's `X-Kommo-Account`) and configured suffixes
//! (`--allow-suffix`): property 1 of issue 17. Input: the host, then one suffix per line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = kommo_fuzz::text(data);
    let mut lines = text.split('\n');
    let host = lines.next().unwrap_or_default();
    let suffixes: Vec<&str> = lines.take(8).collect();
    kommo_fuzz::checks::host(host, &suffixes);
});
