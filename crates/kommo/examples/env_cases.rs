//! Writes every case of the env value table (`tests/env_table`) in every format into a folder, for
//! `scripts/env-parsers/run.sh` to read back with the real parsers:
//!
//!     cargo run -p kommo --example env_cases -- DIR
//!
//! DIR gets `<case>.<format>` files and `cases.json`: per case its values (in order) and per format either the
//! file written and the render's notices (variable, hazard, readers) or the refusal (variable, hazard).

#[path = "../tests/env_table/mod.rs"]
mod env_table;

use kommo::env::{render_block, EnvFormat};
use serde_json::{json, Value};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: env_cases DIR");
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).expect("create DIR");
    let mut out = Vec::new();
    for case in env_table::cases() {
        let values: Vec<Value> = case
            .values
            .pairs(case.prefix)
            .into_iter()
            .map(|(k, v)| json!([k, v]))
            .collect();
        let mut formats = serde_json::Map::new();
        for format in EnvFormat::ALL {
            let spec = match render_block(format, case.prefix, &case.values) {
                Ok(block) => {
                    let file = format!("{}.{}", case.id, format.key());
                    std::fs::write(dir.join(&file), &block.text).expect("write a case");
                    let notices: Vec<Value> = block
                        .notices
                        .iter()
                        .map(|n| {
                            json!({
                                "variable": n.variable,
                                "hazard": n.hazard.key(),
                                "readers": n.readers.iter().map(|r| r.key()).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    json!({ "file": file, "notices": notices })
                }
                Err(refusal) => {
                    let problems: Vec<Value> = refusal
                        .problems
                        .iter()
                        .map(|p| json!({ "variable": p.variable, "hazard": p.hazard.key() }))
                        .collect();
                    json!({ "refused": problems })
                }
            };
            formats.insert(format.key().to_string(), spec);
        }
        out.push(json!({
            "id": case.id,
            "realistic": case.realistic,
            "values": values,
            "formats": formats,
        }));
    }
    let cases = serde_json::to_string_pretty(&json!({ "cases": out })).unwrap();
    std::fs::write(dir.join("cases.json"), cases).expect("write cases.json");
}
