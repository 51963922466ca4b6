//! Reading JSON with the browser's own `JSON.parse`, so serde_json's parser stays out of the page's WebAssembly
//! (scripts/size.sh measures it). What `JSON.parse` returns is carried over into a [`serde_json::Value`]; from there
//! the core's readers (their `_with` forms, see [`kommo::json`]) and the derived `Deserialize` impls work as with
//! serde_json. Writing JSON stays with serde_json (`to_string`).
//!
//! Where the two parsers could differ, on text no Kommo answer or stored record holds: a number written with a
//! fraction or exponent but integral (`1.0`, `1e3`) reads as an integer; an integer past 2^53 loses precision (it is
//! a JavaScript number); a lone surrogate escape reads as U+FFFD instead of failing. Nesting is capped like
//! serde_json's (127 levels), so a hostile body cannot exhaust the stack.
//!
//! serde-wasm-bindgen was measured for the carrying over and dropped: its error path formats floats, which costs more
//! than serde_json's parser saves.

use js_sys::{Array, Number, Object};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};

/// serde_json's nesting limit: the 128th level of arrays or objects is refused.
const MAX_DEPTH: u32 = 128;

/// JSON text → value; `None` when it is not JSON. A [`kommo::json::Parse`].
pub fn parse(text: &str) -> Option<Value> {
    let value = js_sys::JSON::parse(text).ok()?;
    carry(&value, MAX_DEPTH)
}

/// JSON text → `T`; `None` when it is not JSON or not a `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(parse(text)?).ok()
}

/// One value from `JSON.parse`: null, a boolean, a number, a string, an array or a plain object. `None` past the
/// nesting limit.
fn carry(v: &JsValue, depth: u32) -> Option<Value> {
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    if let Some(f) = v.as_f64() {
        return Some(if Number::is_safe_integer(v) {
            Value::from(f as i64)
        } else {
            // Finite: JSON.parse never gives NaN or an infinity.
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        });
    }
    if let Some(s) = v.as_string() {
        return Some(Value::String(s));
    }
    if !v.is_object() {
        return Some(Value::Null);
    }
    let depth = depth.checked_sub(1).filter(|d| *d > 0)?;
    if Array::is_array(v) {
        let items = v.unchecked_ref::<Array>().iter();
        return items
            .map(|item| carry(&item, depth))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array);
    }
    let mut map = Map::new();
    for entry in Object::entries(v.unchecked_ref()).iter() {
        let entry = entry.unchecked_into::<Array>();
        map.insert(entry.get(0).as_string()?, carry(&entry.get(1), depth)?);
    }
    Some(Value::Object(map))
}
