//! Mounts the page.

fn main() {
    leptos::mount::mount_to_body(kommo_oauth_helper::App);
}
