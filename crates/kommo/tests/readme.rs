//! The README's troubleshooting table must name every hint in the catalogue, with its explanation in both
//! languages, so the page and the documentation cannot drift apart.

use kommo::hints::{Hint, Lang};

#[test]
fn readme_troubleshooting_table_matches_the_catalogue() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    for hint in Hint::ALL {
        assert!(
            readme.contains(hint.text()),
            "README lacks the hint {:?}",
            hint.text()
        );
        for lang in [Lang::En, Lang::Ru] {
            let e = hint.explain(lang);
            assert!(
                readme.contains(e.cause),
                "README lacks the {lang:?} cause of {hint:?}"
            );
            assert!(
                readme.contains(e.fix),
                "README lacks the {lang:?} fix of {hint:?}"
            );
        }
    }
}
