//! The first render: in parts, one task apart, and nothing on screen moves.

use std::rc::Rc;

use kommo_oauth_helper::browser;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::fake_proxy::*;
use crate::harness::*;
use kommo_oauth_helper::ids::*;
use wasm_bindgen_test::*;

/// An element's top left corner in page coordinates.
fn page_pos(e: &Element) -> (f64, f64) {
    let rect = js_sys::Reflect::get(e, &"getBoundingClientRect".into())
        .unwrap()
        .unchecked_into::<js_sys::Function>()
        .call0(e)
        .unwrap();
    let get = |k: &str| {
        js_sys::Reflect::get(&rect, &k.into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    (
        get("left") + window().scroll_x().unwrap(),
        get("top") + window().scroll_y().unwrap(),
    )
}

fn page_top(e: &Element) -> f64 {
    page_pos(e).1
}

/// `after_paint` runs its function in a later task, once, whether the frame or its time limit comes first.
#[wasm_bindgen_test]
async fn after_paint_runs_once_in_a_later_task() {
    let runs = Rc::new(std::cell::Cell::new(0));
    let counted = runs.clone();
    browser::after_paint(move || counted.set(counted.get() + 1));
    assert_eq!(runs.get(), 0, "not in the calling task");
    until("after_paint ran", || runs.get() > 0).await;
    // A timer set now fires after the time limit's (timers run in deadline order): both ways have come by then.
    sleep(browser::PAINT_WAIT_LIMIT.as_millis() as i32).await;
    assert_eq!(runs.get(), 1, "once");
}

/// The first render comes in parts, one task apart, so no task is long on a slow phone: mounting renders only the
/// root, then the parts follow the page's visual order (after a return the current step is on top and Setup below
/// it), so nothing that is on screen moves when the next part arrives; `data-ready` says the page is whole.
#[wasm_bindgen_test]
async fn the_first_render_comes_in_parts_and_nothing_on_screen_moves() {
    // Laid out as the page is: its stylesheet puts the current step above Setup after a return.
    let doc = window().document().unwrap();
    let style = doc.create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../../style/main.css")));
    doc.head().unwrap().append_child(&style).unwrap();
    for after_return in [false, true] {
        let ns = "t-parts:";
        if after_return {
            code_returned(ns);
        } else {
            fresh(ns, "");
        }
        let (api, _) = FakeApi::new(Some(health(false)), ok_answer());
        let m = mount(ns, api);
        assert_eq!(m.attr(&sel(APP), "data-ready").as_deref(), Some("0"));
        assert!(
            !m.has("h1") && !m.has(&sel(SETUP_SECTION)),
            "only the root at first"
        );

        let watched: [&str; 11] = [
            "h1",
            ".stepper",
            &sel(RETURN_PANEL),
            &sel(EXCHANGE_SECTION),
            &sel(SETUP_SECTION),
            &sel(SECRET),
            &sel(REDIRECT_URI),
            &sel(SHARE_LINK),
            &sel(CONSENT_SECTION),
            &sel(HAVE_TOKEN),
            "footer",
        ];
        let mut seen: Vec<(&str, (f64, f64))> = Vec::new();
        let mut states = 0;
        for _ in 0..500 {
            // Until the proxy's answer changes the status line (a later, real change of the content).
            if m.attr(&sel(PROXY_STATUS), "data-state")
                .is_some_and(|s| s != "checking")
            {
                break;
            }
            let before = seen.len();
            for sel in watched {
                let Some(e) = m.q(sel) else { continue };
                let now = page_pos(&e);
                match seen.iter().find(|(s, _)| *s == sel) {
                    Some((_, was)) => assert!(
                        (was.0 - now.0).abs() < 0.5 && (was.1 - now.1).abs() < 0.5,
                        "after_return={after_return}: {sel} moved from {was:?} to {now:?} when the next part came"
                    ),
                    None => seen.push((sel, now)),
                }
            }
            if seen.len() > before {
                states += 1;
            }
            if m.attr(&sel(APP), "data-ready").as_deref() == Some("1") {
                break;
            }
            sleep(1).await;
        }
        assert!(
            states >= 3,
            "after_return={after_return}: parts arrive one by one ({states} seen)"
        );
        ready(&m).await;
        let whole: [&str; 6] = [
            "h1",
            ".stepper",
            &sel(SETUP_SECTION),
            &sel(SHARE_LINK),
            &sel(HAVE_TOKEN),
            "footer",
        ];
        for sel in whole {
            assert!(
                m.has(sel),
                "after_return={after_return}: {sel} is there once ready"
            );
        }
        let top = |sel: &str| page_top(&m.q(sel).unwrap());
        if after_return {
            assert!(m.has(&sel(RETURN_PANEL)) && !m.has(&sel(CONSENT_SECTION)));
            assert!(
                top(&sel(RETURN_PANEL)) < top(&sel(SETUP_SECTION)),
                "the current step comes first"
            );
        } else {
            assert!(m.has(&sel(CONSENT_SECTION)) && !m.has(&sel(RETURN_PANEL)));
            assert!(top(&sel(SETUP_SECTION)) < top(&sel(CONSENT_SECTION)));
        }
        drop(m);
    }
    style.remove();
}
