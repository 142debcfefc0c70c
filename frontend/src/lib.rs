//! The browser's entry point: hydrates the server-rendered page with the app's components.
//!
//! Pages are lazily loaded routes (docs/frontend.md): hydration waits for the current page's
//! wasm chunk, so it runs as a task rather than at once (what `leptos::mount::hydrate_lazy`
//! does, plus the marker below once it has finished).

use any_spawner::Executor;
use leptos::{
    mount::hydrate_from_async,
    tachys::dom::{body, document},
    task::spawn_local,
};

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // An error only means that the executor is already set up.
    let _ = Executor::init_wasm_bindgen();
    spawn_local(async {
        // Parts of a page that load their code when opened, drawn open by the server.
        app::tokens::load_parts_opened_by_url().await;
        let app = hydrate_from_async(body(), app::App).await;
        // The app lives as long as the page.
        app.forget();
        // Tests (and curious people) can tell that the page is interactive from this marker.
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Room for wasm-split to lay out each chunk's data: it moves every data symbol into the
/// module that uses it, padding each module's share to alignment, and when the result is
/// longer than the original segment it keeps all data in the main module instead (the
/// "Overlong segment" case of wasm_split_cli_support 0.2.3). This symbol is kept by the
/// linker but used by no code, so it is left out of every module: its bytes are the room
/// (8 KB: 1 KB was too little for 21 split points, 4 KB for the permissions forms). docs/frontend.md.
#[used]
static SPLIT_DATA_ROOM: [u8; 8192] = [0xA5; 8192];
