//! The `/api/v4` answers: account, users, pipelines and paged leads, made up deterministically per account.

use serde_json::{json, Value};

use crate::config::Account;

/// Largest `limit` the leads endpoint accepts.
pub const MAX_LIMIT: usize = 250;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 50;

fn href(host: &str, path: &str) -> Value {
    json!({"href": format!("https://{host}{path}")})
}

fn is_ru(a: &Account) -> bool {
    a.base_domain == "amocrm.ru"
}

pub(crate) fn account(a: &Account) -> Value {
    let host = a.host();
    let (country, currency, symbol) = if is_ru(a) {
        ("RU", "RUB", "₽")
    } else {
        ("US", "USD", "$")
    };
    json!({
        "id": a.id,
        "name": a.name,
        "subdomain": a.subdomain,
        "created_at": 1_650_000_000,
        "created_by": 0,
        "updated_at": 1_650_000_000,
        "updated_by": 0,
        "current_user_id": a.user_id,
        "country": country,
        "currency": currency,
        "currency_symbol": symbol,
        "customers_mode": "disabled",
        "is_unsorted_on": true,
        "is_loss_reason_enabled": true,
        "is_helpbot_enabled": false,
        "is_technical_account": false,
        "contact_name_display_order": 1,
        "_links": {"self": href(&host, "/api/v4/account")}
    })
}

pub(crate) fn users(a: &Account) -> Value {
    let host = a.host();
    let user = |id: i64, name: &str, admin: bool| {
        json!({
            "id": id,
            "name": name,
            "email": format!("user{id}@{}", a.base_domain),
            "lang": if is_ru(a) { "ru" } else { "en" },
            "rights": {"is_admin": admin, "is_free": false, "is_active": true},
            "_links": {"self": href(&host, &format!("/api/v4/users/{id}"))}
        })
    };
    let list = vec![
        user(a.user_id, "Account owner", a.user_is_admin),
        user(a.user_id + 1, "Manager", false),
    ];
    json!({
        "_total_items": list.len(),
        "_page": 1,
        "_page_count": 1,
        "_links": {"self": href(&host, "/api/v4/users?page=1&limit=250")},
        "_embedded": {"users": list}
    })
}

/// Pipeline ids of an account: the main one and a second.
fn pipeline_ids(a: &Account) -> [i64; 2] {
    let base = (a.id % 1_000_000) * 10 + 7_000_000;
    [base + 1, base + 2]
}

fn status_ids(pipeline: i64) -> [i64; 3] {
    [pipeline * 10 + 1, pipeline * 10 + 2, pipeline * 10 + 3]
}

pub(crate) fn pipelines(a: &Account) -> Value {
    let host = a.host();
    let names = if is_ru(a) {
        ["Воронка", "Партнёры"]
    } else {
        ["Sales pipeline", "Partners"]
    };
    let status_names = ["Incoming leads", "First contact", "Negotiation"];
    let list: Vec<Value> = pipeline_ids(a)
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (&id, name))| {
            let mut statuses: Vec<Value> = status_ids(id)
                .iter()
                .zip(status_names)
                .enumerate()
                .map(|(sort, (&sid, sname))| {
                    json!({"id": sid, "name": sname, "sort": (sort + 1) * 10, "is_editable": sort > 0,
                           "pipeline_id": id, "color": "#99ccff", "type": if sort == 0 { 1 } else { 0 },
                           "account_id": a.id})
                })
                .collect();
            for (sid, sname) in [(142, "Closed - won"), (143, "Closed - lost")] {
                statuses.push(json!({"id": sid, "name": sname, "sort": 10000 + sid, "is_editable": false,
                                     "pipeline_id": id, "color": "#ccc", "type": 0, "account_id": a.id}));
            }
            json!({
                "id": id, "name": name, "sort": (i + 1) * 1000, "is_main": i == 0, "is_unsorted_on": true,
                "is_archive": false, "account_id": a.id,
                "_links": {"self": href(&host, &format!("/api/v4/leads/pipelines/{id}"))},
                "_embedded": {"statuses": statuses}
            })
        })
        .collect();
    json!({
        "_total_items": list.len(),
        "_links": {"self": href(&host, "/api/v4/leads/pipelines")},
        "_embedded": {"pipelines": list}
    })
}

/// Why a leads query was refused (400).
pub(crate) fn leads_validation_error(path: &str, detail: &str) -> Value {
    json!({
        "validation-errors": [{"request_id": "0", "errors": [{"code": "NotSupportedChoice", "path": path, "detail": detail}]}],
        "title": "Bad Request",
        "type": "https://httpstatus.es/400",
        "status": 400,
        "detail": "Request validation failed"
    })
}

/// Parse `limit` and `page` (both optional). `limit` is 1..=250, `page` from 1.
pub(crate) fn leads_query(
    limit: Option<&str>,
    page: Option<&str>,
) -> Result<(usize, usize), Value> {
    let limit = match limit {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(leads_validation_error(
                    "limit",
                    "The value must be between 1 and 250",
                ))
            }
        },
    };
    let page = match page {
        None | Some("") => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(leads_validation_error(
                    "page",
                    "The value must be a positive integer",
                ))
            }
        },
    };
    Ok((limit, page))
}

/// One page of leads, or `None` past the end (the endpoint then answers 204 with no body).
pub(crate) fn leads_page(a: &Account, total: usize, limit: usize, page: usize) -> Option<Value> {
    let start = (page - 1).checked_mul(limit)?;
    if start >= total {
        return None;
    }
    let end = (start + limit).min(total);
    let host = a.host();
    let pipelines = pipeline_ids(a);
    let leads: Vec<Value> = (start + 1..=end)
        .map(|n| {
            let id = a.id % 1_000_000 * 100_000 + n as i64;
            let pipeline = pipelines[n % 2];
            let status = status_ids(pipeline)[n % 3];
            json!({
                "id": id, "name": format!("Deal #{n}"), "price": (n * 137) % 10_000,
                "responsible_user_id": a.user_id, "group_id": 0, "status_id": status, "pipeline_id": pipeline,
                "loss_reason_id": null, "created_by": a.user_id, "updated_by": a.user_id,
                "created_at": 1_680_000_000 + n as i64 * 3_600, "updated_at": 1_680_000_000 + n as i64 * 3_600,
                "closed_at": null, "closest_task_at": null, "is_deleted": false, "custom_fields_values": null,
                "score": null, "account_id": a.id, "labor_cost": null,
                "_links": {"self": href(&host, &format!("/api/v4/leads/{id}"))},
                "_embedded": {"tags": [], "companies": []}
            })
        })
        .collect();
    let mut links = serde_json::Map::new();
    links.insert(
        "self".into(),
        href(&host, &format!("/api/v4/leads?limit={limit}&page={page}")),
    );
    if end < total {
        links.insert(
            "next".into(),
            href(
                &host,
                &format!("/api/v4/leads?limit={limit}&page={}", page + 1),
            ),
        );
    }
    Some(json!({"_page": page, "_links": links, "_embedded": {"leads": leads}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DoubleConfig;

    #[test]
    fn leads_pages_cover_every_lead_once() {
        let a = &DoubleConfig::demo("x").accounts[0];
        let mut seen = std::collections::HashSet::new();
        let mut page = 1;
        while let Some(p) = leads_page(a, 612, 250, page) {
            for l in p["_embedded"]["leads"].as_array().unwrap() {
                assert!(seen.insert(l["id"].as_i64().unwrap()));
            }
            page += 1;
        }
        assert_eq!(seen.len(), 612);
        assert_eq!(page, 4);
        assert!(leads_page(a, 0, 250, 1).is_none());
        assert!(leads_page(a, 10, 250, usize::MAX).is_none());
    }

    #[test]
    fn leads_query_bounds() {
        assert_eq!(leads_query(None, None), Ok((50, 1)));
        assert_eq!(leads_query(Some("250"), Some("3")), Ok((250, 3)));
        assert!(leads_query(Some("251"), None).is_err());
        assert!(leads_query(Some("0"), None).is_err());
        assert!(leads_query(Some("x"), None).is_err());
        assert!(leads_query(None, Some("0")).is_err());
    }
}
