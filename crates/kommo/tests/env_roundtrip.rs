//! The env block read back by `dotenvy`, for arbitrary values without `$` (see `checks_env`).

mod checks_env;

use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9._:/?&=+-]{0,24}",
        2 => "[ -~]{0,16}",
        1 => "[ \\t\\r\\n\\\\'\"`#=]{0,6}",
        1 => "\\PC{0,12}",
        1 => ".{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Failed before issue 15's fix: a value ending in `\` was written `'…\'`, which dotenvy refuses ("Error
    /// parsing line"), and a TAB or another control character inside double quotes was written as an escape dotenvy
    /// does not read.
    #[test]
    fn dotenv_block_reads_back_exactly(
        prefix in prop_oneof![Just("KOMMO_TEST_".to_string()), Just(String::new()), "[a-z_]{1,6}"],
        values in prop::array::uniform7(value()),
    ) {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        checks_env::env_block(&prefix, values.try_into().expect("seven"));
    }
}

/// Realistic values read back (the cases the hostile property above goes beyond).
#[test]
fn realistic_values_read_back() {
    checks_env::env_block(
        "KOMMO_TEST_",
        [
            "kwid",
            "kwid.kommo.com",
            "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e",
            "Zm9vYmFyYmF6cXV4c2VjcmV0a2V5MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A",
            "https://app.example/cb?a=1&b=2",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln",
            "def50200abc",
        ],
    );
}
