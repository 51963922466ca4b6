//! What is typed into a form and not yet taken: kept in [`crate::Ctx`] (memory only — drafts hold codes and
//! tokens), so a language switch, which re-renders the content, keeps them.

use leptos::prelude::*;

/// One field as typed, and whether its form was sent (its error shows from then on).
#[derive(Clone, Copy, Default)]
pub struct Draft {
    pub text: RwSignal<String>,
    pub tried: RwSignal<bool>,
}

impl Draft {
    /// Empty, and not tried.
    pub fn clear(&self) {
        self.text.set(String::new());
        self.tried.set(false);
    }
}

/// A token and its account host as typed (the two fields of one form), and whether the form was sent.
#[derive(Clone, Copy, Default)]
pub struct TokenDraft {
    pub token: RwSignal<String>,
    pub host: RwSignal<String>,
    pub tried: RwSignal<bool>,
}
