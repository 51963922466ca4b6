//! The consent page and the small pages around it. Plain HTML, no external resources; the one script (popup
//! mode) reads its target from a link on the same page, so no value is ever spliced into JavaScript.

use crate::config::{Account, Integration};

/// Escape text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f5f9;margin:0;padding:2rem}\
.card{max-width:32rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;box-shadow:0 2px 12px #0002}\
.brand{color:#5a6b85;font-size:.9rem;margin:0 0 1rem}h1{font-size:1.3rem}label{display:block;margin:1rem 0 .3rem}\
select{width:100%;padding:.4rem}ul{padding-left:1.2rem}.buttons{display:flex;gap:1rem;margin-top:1.5rem}\
button{flex:1;padding:.7rem;border-radius:8px;border:1px solid #4c8bf5;font-size:1rem;cursor:pointer}\
#allow{background:#4c8bf5;color:#fff}#deny{background:#fff;color:#4c8bf5}.err{color:#b00020}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
<body><main class=\"card\"><p class=\"brand\">Kommo — local double (not the real Kommo)</p>{body}</main></body></html>\n",
        esc(title)
    )
}

/// `GET /oauth`: ask the user to allow the integration, with an account chooser when there are several accounts.
pub(crate) fn consent(
    integration: &Integration,
    accounts: &[Account],
    state: Option<&str>,
    mode: &str,
    scopes: &[String],
) -> String {
    let mut form = String::new();
    form.push_str("<form method=\"post\" action=\"/oauth\">");
    form.push_str(&format!(
        "<input type=\"hidden\" name=\"client_id\" value=\"{}\">",
        esc(&integration.id)
    ));
    if let Some(state) = state {
        form.push_str(&format!(
            "<input type=\"hidden\" name=\"state\" value=\"{}\">",
            esc(state)
        ));
    }
    form.push_str(&format!(
        "<input type=\"hidden\" name=\"mode\" value=\"{}\">",
        esc(mode)
    ));
    if accounts.len() == 1 {
        let a = &accounts[0];
        form.push_str(&format!(
            "<p>Account: <strong>{}</strong> ({})</p><input type=\"hidden\" id=\"account\" name=\"account\" value=\"{}\">",
            esc(&a.name),
            esc(&a.host()),
            esc(&a.host())
        ));
    } else {
        form.push_str(
            "<label for=\"account\">Account</label><select id=\"account\" name=\"account\">",
        );
        for a in accounts {
            form.push_str(&format!(
                "<option value=\"{}\">{} ({})</option>",
                esc(&a.host()),
                esc(&a.name),
                esc(&a.host())
            ));
        }
        form.push_str("</select>");
    }
    form.push_str("<p>It will get access to:</p><ul>");
    for s in scopes {
        form.push_str(&format!("<li>{}</li>", esc(s)));
    }
    form.push_str("</ul><div class=\"buttons\">");
    form.push_str(
        "<button id=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>",
    );
    form.push_str(
        "<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>",
    );
    form.push_str("</div></form>");
    page(
        &format!("Grant access to {}", integration.name),
        &format!(
            "<h1>Allow <span id=\"integration\">{}</span> access to your account?</h1>{form}",
            esc(&integration.name)
        ),
    )
}

/// `mode=popup`: send the opener (the main window) to the redirect URL and close; without an opener, go there.
pub(crate) fn popup_return(url: &str) -> String {
    page(
        "Returning to the integration",
        &format!(
            "<p>Returning to the integration…</p><p><a id=\"continue\" href=\"{}\">Continue</a></p>\
<script>(function(){{var u=document.getElementById('continue').href;\
try{{if(window.opener&&!window.opener.closed){{window.opener.location.href=u;window.close();return;}}}}catch(e){{}}\
window.location.replace(u);}})();</script>",
            esc(url)
        ),
    )
}

/// An error page (no redirect happens).
pub(crate) fn error(title: &str, message: &str) -> String {
    page(
        title,
        &format!(
            "<h1 class=\"err\">{}</h1><p id=\"error\">{}</p>",
            esc(title),
            esc(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = popup_return("https://app.example/cb?code=1&state=\"><script>");
        assert!(page
            .contains("href=\"https://app.example/cb?code=1&amp;state=&quot;&gt;&lt;script&gt;\""));
        assert_eq!(page.matches("<script>").count(), 1);
    }
}
