//! Vercel's Rust builder compiles `api/exchange.rs` with `cargo build --bin exchange --release` at the repository
//! root, without `-p`: that only finds the bin when this crate is one of the workspace's default members.

#[test]
fn the_exchange_function_is_found_by_a_bare_cargo_build_at_the_root() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let defaults: Vec<&str> = meta["workspace_default_members"]
        .as_array()
        .expect("workspace_default_members (cargo 1.71+)")
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    let packages = meta["packages"].as_array().expect("packages");
    let package = packages
        .iter()
        .find(|p| p["name"] == "kommo-proxy-vercel")
        .expect("the function's package is in the workspace");
    let id = package["id"].as_str().unwrap();
    assert!(
        defaults.contains(&id),
        "kommo-proxy-vercel is not a default member: {defaults:?}"
    );
    let exchange = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "exchange" && t["kind"][0] == "bin")
        .expect("a bin named exchange");
    let src = exchange["src_path"].as_str().unwrap().replace('\\', "/");
    assert!(src.ends_with("/api/exchange.rs"), "{src}");
    // The page stays a default member, so `trunk build` and `cargo run` at the root work as before.
    let page = packages
        .iter()
        .find(|p| p["name"] == "kommo-oauth-helper")
        .expect("the page");
    assert!(defaults.contains(&page["id"].as_str().unwrap()));
}

/// Vercel's Rust builder (@vercel/rust up to 20.0.1) parses `.cargo/config.toml` at the workspace root and reads
/// `build.target` from it unguarded: when the file exists without a `[build]` table the deploy fails with
/// "Cannot read properties of undefined (reading 'target')" — reproduced with `vercel build` (scripts/vercel-build.sh).
#[test]
fn the_cargo_config_has_the_build_table_vercels_builder_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(".cargo/config.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return; // no config file: the builder skips it
    };
    let config: toml::Table = text.parse().expect(".cargo/config.toml is TOML");
    assert!(
        config.get("build").is_some_and(|b| b.is_table()),
        ".cargo/config.toml needs a [build] table (it may be empty) for Vercel's Rust builder"
    );
}
