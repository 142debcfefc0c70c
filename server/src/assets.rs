//! The browser's files under `/pkg`: the main wasm and its JavaScript, the lazily loaded page
//! chunks, the split loader and manifest, and the stylesheet (docs/frontend.md).
//!
//! cargo-leptos builds them with content hashes in their names (`hash-files`) and writes a
//! brotli and a gzip copy beside each (`--precompress`), so they are compressed once, at build
//! time, at brotli's highest quality, and a browser may keep them for a year: a new build
//! has new names. The names in use are in `hash.txt` beside the server binary, where Leptos
//! reads them to write the page's `<script>` and `<link>` tags.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::Response,
};
use tower_http::services::ServeDir;

/// For files whose name changes whenever their content does.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The directory under the site root that holds the built files.
pub const PKG_DIR: &str = "pkg";

/// The file in which cargo-leptos lists the hashed names, beside the server binary.
pub const HASH_FILE: &str = "hash.txt";

/// Whether this binary was built with hashed file names: cargo-leptos then wrote [`HASH_FILE`]
/// beside it. (Leptos panics rendering a page with hashing on and no such file, so it is
/// turned on only when the file is there.)
pub fn names_are_hashed() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(HASH_FILE)))
        .is_some_and(|path| path.is_file())
}

/// Serves `<site_root>/pkg`, preferring the precompressed copies the client accepts. Found
/// files with hashed names are cached for a year; anything else (a missing file, files built
/// without hashing, wasm-bindgen's `snippets/`, which cargo-leptos leaves unhashed) is
/// revalidated.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path, hashed: bool) -> Router<S> {
    let files = ServeDir::new(site_root.join(PKG_DIR))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(move |request, next| {
            cache_control(hashed, request, next)
        }))
}

async fn cache_control(hashed: bool, request: Request, next: Next) -> Response {
    let named_by_content = hashed && !request.uri().path().starts_with("/snippets/");
    let mut response = next.run(request).await;
    let status = response.status();
    let found = status.is_success() || status == StatusCode::NOT_MODIFIED;
    let value = if named_by_content && found {
        IMMUTABLE
    } else {
        HeaderValue::from_static("no-cache")
    };
    response.headers_mut().insert(header::CACHE_CONTROL, value);
    response
}
