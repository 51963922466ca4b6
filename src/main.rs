//! Mounts the page.

fn main() {
    // One task later: finishing the wasm compilation and instantiating it is a task of its own, and the first
    // render (itself in parts, see `Ctx::shown`) starts in the next, so no single task blocks the main thread long.
    leptos::prelude::set_timeout(
        || leptos::mount::mount_to_body(kommo_oauth_helper::App),
        std::time::Duration::ZERO,
    );
}
