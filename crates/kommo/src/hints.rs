//! The catalogue of Kommo OAuth error hints: how to recognise each one, what it means and what to do, in English
//! and Russian. The Kommo double uses [`Hint::error`] to answer with the same bodies.
//!
//! The catalogue depends on the error body ([`crate::kommo_error`]), never the other way round.

use crate::kommo_error::KommoError;

/// A language for user-facing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// From a BCP 47 tag such as `ru-RU` or `en-US`; Russian for `ru`, `be`, `uk`, `kk`, English otherwise.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "ru" | "be" | "uk" | "kk" => Lang::Ru,
            _ => Lang::En,
        }
    }
}

/// A known Kommo OAuth error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hint {
    CodeExpired,
    CodeRevoked,
    CannotDecrypt,
    CheckClientId,
    CheckClientSecret,
    RedirectUriMismatch,
    InvalidAccount,
    TokenRevoked,
    SendRequestToAccount,
    ClientAuthFailed,
    /// A Kommo error that is not in the catalogue.
    Unknown,
}

/// Cause and fix of a hint, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    pub cause: &'static str,
    pub fix: &'static str,
}

impl Hint {
    /// Every catalogued hint (not `Unknown`).
    pub const ALL: [Hint; 10] = [
        Hint::CodeExpired,
        Hint::CodeRevoked,
        Hint::CannotDecrypt,
        Hint::CheckClientId,
        Hint::CheckClientSecret,
        Hint::RedirectUriMismatch,
        Hint::InvalidAccount,
        Hint::TokenRevoked,
        Hint::SendRequestToAccount,
        Hint::ClientAuthFailed,
    ];

    /// The `hint` text Kommo sends.
    pub fn text(self) -> &'static str {
        match self {
            Hint::CodeExpired => "Authorization code has expired",
            Hint::CodeRevoked => "Authorization code has been revoked",
            Hint::CannotDecrypt => "Cannot decrypt the authorization code",
            Hint::CheckClientId => "Check the `client_id` parameter",
            Hint::CheckClientSecret => "Check the `client_secret` parameter",
            Hint::RedirectUriMismatch => "Redirect URI is not associated with client",
            Hint::InvalidAccount => "Invalid account",
            Hint::TokenRevoked => "Token has been revoked",
            Hint::SendRequestToAccount => "Send request to account",
            Hint::ClientAuthFailed => "Client authentication failed",
            Hint::Unknown => "",
        }
    }

    /// The HTTP status Kommo answers with.
    pub fn status(self) -> u16 {
        match self {
            Hint::TokenRevoked | Hint::CheckClientSecret | Hint::ClientAuthFailed => 401,
            _ => 400,
        }
    }

    /// Recognise an error body. The `hint` decides; without one, `title`/`detail` are searched for the phrases.
    pub fn classify(error: &KommoError) -> Hint {
        let norm = |s: &str| s.to_ascii_lowercase().replace('`', "");
        let fields = [
            error.hint.as_deref(),
            error.detail.as_deref(),
            error.title.as_deref(),
        ];
        for field in fields.into_iter().flatten() {
            let f = norm(field);
            for hint in Hint::ALL {
                if f.contains(&norm(hint.text())) {
                    return hint;
                }
            }
        }
        let any = fields
            .into_iter()
            .flatten()
            .map(norm)
            .collect::<Vec<_>>()
            .join(" ");
        if any.contains("client authentication failed")
            || (any.contains("client") && any.contains("authentication"))
        {
            return Hint::ClientAuthFailed;
        }
        Hint::Unknown
    }

    /// The error body Kommo sends for this hint (used by the Kommo double).
    pub fn error(self) -> KommoError {
        let status = self.status();
        KommoError {
            hint: Some(self.text().to_string()).filter(|h| !h.is_empty()),
            title: Some(if status == 401 { "Unauthorized" } else { "Bad Request" }.to_string()),
            kind: Some("https://developers.kommo.com/v3/errors/OAuthProblemJson".to_string()),
            status: Some(status),
            detail: Some(
                match self {
                    Hint::ClientAuthFailed | Hint::CheckClientSecret => "Client authentication failed",
                    Hint::TokenRevoked => "The refresh token is invalid.",
                    _ => "The request is missing a required parameter, includes an invalid parameter value, or is otherwise malformed.",
                }
                .to_string(),
            ),
        }
    }

    /// What it means and what to do.
    pub fn explain(self, lang: Lang) -> Explanation {
        use Lang::*;
        let (cause, fix) = match (self, lang) {
            (Hint::CodeExpired, En) => (
                "More than 20 minutes passed between consent and the exchange; the code is no longer valid.",
                "Start again from the consent step and exchange the new code within 20 minutes.",
            ),
            (Hint::CodeExpired, Ru) => (
                "С момента согласия прошло больше 20 минут — код больше не действует.",
                "Начните заново с шага согласия и обменяйте новый код в течение 20 минут.",
            ),
            (Hint::CodeRevoked, En) => (
                "This code was already exchanged (a reload, a double click, or another tool used it first). A code works once.",
                "If the first exchange succeeded, use the tokens it gave. Otherwise start again from the consent step for a new code.",
            ),
            (Hint::CodeRevoked, Ru) => (
                "Этот код уже обменяли (перезагрузка, двойной клик или другой инструмент успел первым). Код одноразовый.",
                "Если первый обмен прошёл, используйте полученные тогда токены. Иначе начните заново с шага согласия.",
            ),
            (Hint::CannotDecrypt, En) => (
                "Kommo cannot read this code: it was cut or changed while copying, or it belongs to another integration.",
                "Check the integration ID, then start again from the consent step; do not edit the code by hand.",
            ),
            (Hint::CannotDecrypt, Ru) => (
                "Kommo не может прочитать код: он обрезан или изменён при копировании, либо выдан другой интеграции.",
                "Проверьте ID интеграции и начните заново с шага согласия; не правьте код вручную.",
            ),
            (Hint::CheckClientId, En) => (
                "The integration ID is wrong or does not belong to this account.",
                "Copy the integration ID again from the integration's \"Keys and scopes\" tab.",
            ),
            (Hint::CheckClientId, Ru) => (
                "ID интеграции неверный или не относится к этому аккаунту.",
                "Скопируйте ID интеграции заново на вкладке «Ключи и доступы» интеграции.",
            ),
            (Hint::CheckClientSecret, En) => (
                "The secret key does not match the integration.",
                "Copy the secret key again from the integration's \"Keys and scopes\" tab (no spaces), or let the proxy hold it.",
            ),
            (Hint::CheckClientSecret, Ru) => (
                "Секретный ключ не подходит к интеграции.",
                "Скопируйте секретный ключ заново на вкладке «Ключи и доступы» (без пробелов) или храните его в прокси.",
            ),
            (Hint::RedirectUriMismatch, En) => (
                "The redirect URI sent differs from the one saved in the integration, even if only by a slash or http/https.",
                "Paste the redirect URI shown in Setup into the integration settings exactly, save, and start again.",
            ),
            (Hint::RedirectUriMismatch, Ru) => (
                "Отправленный Redirect URI отличается от сохранённого в интеграции — хотя бы слешем или http/https.",
                "Вставьте Redirect URI из шага «Настройка» в настройки интеграции точно как есть, сохраните и начните заново.",
            ),
            (Hint::InvalidAccount, En) => (
                "The code belongs to another account than the host it was posted to.",
                "Exchange at the account host from the return (referer); start again if you changed it.",
            ),
            (Hint::InvalidAccount, Ru) => (
                "Код принадлежит другому аккаунту, чем тот, куда его отправили.",
                "Обменивайте код на хосте аккаунта из возврата (referer); если меняли его — начните заново.",
            ),
            (Hint::TokenRevoked, En) => (
                "This refresh token is spent (a newer pair was already used) or the integration was uninstalled from the account.",
                "Use the newest refresh token you saved; if none works, install the integration again and go through consent.",
            ),
            (Hint::TokenRevoked, Ru) => (
                "Этот refresh-токен уже израсходован (новая пара уже использовалась) или интеграцию удалили из аккаунта.",
                "Возьмите самый новый сохранённый refresh-токен; если ни один не работает — установите интеграцию заново и пройдите согласие.",
            ),
            (Hint::SendRequestToAccount, En) => (
                "The request went to Kommo's own site (www) instead of the account host.",
                "Send it to https://{account host from referer}/oauth2/access_token, e.g. kwid.kommo.com or kwid.amocrm.ru.",
            ),
            (Hint::SendRequestToAccount, Ru) => (
                "Запрос ушёл на общий сайт (www), а не на хост аккаунта.",
                "Отправляйте на https://{хост аккаунта из referer}/oauth2/access_token, например kwid.kommo.com или kwid.amocrm.ru.",
            ),
            (Hint::ClientAuthFailed, En) => (
                "Kommo could not authenticate the integration: usually the secret key or the redirect URI does not match.",
                "Check the secret key and that the redirect URI is exactly the one in the integration settings.",
            ),
            (Hint::ClientAuthFailed, Ru) => (
                "Kommo не смог проверить интеграцию: обычно не совпадает секретный ключ или Redirect URI.",
                "Проверьте секретный ключ и что Redirect URI точно совпадает с настройками интеграции.",
            ),
            (Hint::Unknown, En) => (
                "Kommo refused the request with an error this helper does not know.",
                "Read the raw answer below; if unsure, start again from the consent step.",
            ),
            (Hint::Unknown, Ru) => (
                "Kommo отклонил запрос с ошибкой, которую помощник не знает.",
                "Посмотрите ответ ниже; если не ясно — начните заново с шага согласия.",
            ),
        };
        Explanation { cause, fix }
    }

    /// Whether the fix is to go through consent again (the code can no longer be used).
    pub fn needs_new_code(self) -> bool {
        matches!(
            self,
            Hint::CodeExpired | Hint::CodeRevoked | Hint::CannotDecrypt | Hint::InvalidAccount
        )
    }
}

impl KommoError {
    /// The catalogue entry this error maps to ([`Hint::classify`]).
    pub fn classify(&self) -> Hint {
        Hint::classify(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_round_trips_through_its_own_error_body() {
        for hint in Hint::ALL {
            let body = hint.error();
            assert_eq!(Hint::classify(&body), hint, "{hint:?}");
            assert_eq!(body.status, Some(hint.status()));
            for lang in [Lang::En, Lang::Ru] {
                let e = hint.explain(lang);
                assert!(e.cause.len() > 20 && e.fix.len() > 20);
            }
        }
        assert_ne!(
            Hint::CodeExpired.explain(Lang::En),
            Hint::CodeExpired.explain(Lang::Ru)
        );
    }

    #[test]
    fn classifies_real_world_variants() {
        let e = KommoError {
            hint: Some("Check the client_id parameter".into()),
            ..Default::default()
        };
        assert_eq!(Hint::classify(&e), Hint::CheckClientId);
        let e = KommoError {
            detail: Some("client authentication failed".into()),
            ..Default::default()
        };
        assert_eq!(Hint::classify(&e), Hint::ClientAuthFailed);
        let e = KommoError {
            title: Some("Something else".into()),
            ..Default::default()
        };
        assert_eq!(Hint::classify(&e), Hint::Unknown);
        assert!(Hint::CodeExpired.needs_new_code());
        assert!(!Hint::CheckClientSecret.needs_new_code());
    }

    #[test]
    fn the_account_host_fix_fits_kommo_and_amocrm() {
        // amoCRM accounts live on .amocrm.ru: the fix must not send them to a .kommo.com host.
        for lang in [Lang::En, Lang::Ru] {
            let fix = Hint::SendRequestToAccount.explain(lang).fix;
            assert!(fix.contains("referer}/oauth2/access_token"), "{fix}");
            assert!(
                fix.contains("kwid.kommo.com") && fix.contains("kwid.amocrm.ru"),
                "{fix}"
            );
            assert!(!fix.contains("}.kommo.com"), "{fix}");
        }
    }

    #[test]
    fn language_from_browser_tags() {
        assert_eq!(Lang::from_tag("ru-RU"), Lang::Ru);
        assert_eq!(Lang::from_tag("RU"), Lang::Ru);
        assert_eq!(Lang::from_tag("en-US"), Lang::En);
        assert_eq!(Lang::from_tag("de"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
    }
}
