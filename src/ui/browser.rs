//! Thin wrappers over the browser APIs the page needs: the URL, downloads, randomness.
//!
//! Every call degrades to a no-op (or a default) when an API is missing, so the page never
//! panics because of its environment.

use wasm_bindgen::JsCast;

/// The current `location.search`, without the leading `?`.
pub fn query_string() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .map(|s| s.trim_start_matches('?').to_string())
        .unwrap_or_default()
}

/// Puts the run's settings into the address bar without reloading, so the link reproduces it.
pub fn replace_query(query: &str) {
    if let Some(w) = web_sys::window() {
        if let Ok(history) = w.history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("?{query}")),
            );
        }
    }
}

/// Offers `blob` as a file download named `file_name`.
pub fn download_blob(file_name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let err = |what: &str| format!("download failed: {what}");
    let window = web_sys::window().ok_or_else(|| err("no window"))?;
    let document = window.document().ok_or_else(|| err("no document"))?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(|_| err("no object URL"))?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| err("no anchor"))?
        .dyn_into()
        .map_err(|_| err("no anchor"))?;
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.click();
    // Revoking right away can cancel the download in some browsers; the page is long-lived,
    // so release the URL a little later.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    Ok(())
}

/// A fresh seed from the browser's crypto RNG (falls back to the clock).
pub fn random_seed() -> u64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from(u32::from_le_bytes(bytes)),
        Err(_) => js_sys::Date::now() as u64 % 1_000_000,
    }
}

pub fn device_pixel_ratio() -> f64 {
    web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(1.0)
}

/// Registers the offline service worker (`src/web/sw.js`) where the browser allows one (http
/// on localhost or https; not `file://`). Failure only means no offline copy, so it is logged,
/// not shown.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let has_container = js_sys::Reflect::get(&navigator, &"serviceWorker".into())
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false);
    if !has_container || !window.is_secure_context() {
        return;
    }
    let promise = navigator.service_worker().register("./sw.js");
    let on_error = wasm_bindgen::closure::Closure::new(|e: wasm_bindgen::JsValue| {
        web_sys::console::warn_2(&"offline copy unavailable:".into(), &e);
    });
    let _ = promise.catch(&on_error);
    // Called once per page load; the handler must outlive the promise.
    on_error.forget();
}

/// Focuses the element with this id, if it exists and can take focus.
pub fn focus_id(id: &str) {
    use wasm_bindgen::JsCast;
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}

/// True when nothing in particular has the focus (the body, or an element that left the page,
/// such as a Cancel button that disappeared with the run).
pub fn focus_is_lost() -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    match doc.active_element() {
        None => true,
        Some(el) => doc.body().is_some_and(|b| b.is_same_node(Some(&el))) || !el.is_connected(),
    }
}

/// The page's address with its current query: the link a user shares.
pub fn current_link() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Writes `text` to the clipboard; `Err` where the Clipboard API is missing or refuses (an
/// insecure origin, a denied permission).
pub async fn copy_text(text: &str) -> Result<(), ()> {
    let Some(window) = web_sys::window() else {
        return Err(());
    };
    let clipboard = window.navigator().clipboard();
    // Missing on insecure origins: the property is undefined there.
    if clipboard.is_undefined() {
        return Err(());
    }
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(|_| ())
}

/// True when the user's system asks for a dark theme (the CSS's `prefers-color-scheme`).
pub fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Calls `changed` whenever the system switches between light and dark (charts redraw).
pub fn on_theme_change(changed: impl Fn() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Some(query) = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
    else {
        return;
    };
    let callback = Closure::<dyn Fn()>::new(changed);
    let _ = query.add_event_listener_with_callback("change", callback.as_ref().unchecked_ref());
    // The page lives as long as the listener: never dropped.
    callback.forget();
}
