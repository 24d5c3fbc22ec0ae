//! The web console at `/console/`: the single-page app built by `make console`
//! (console/dist), embedded in the binary at build time, served from the API's
//! own port so that it calls the API on its own origin. `/` redirects to it.
//!
//! Hashed assets (`assets/index-3f2a….js`) never change under their name and are
//! cached for a year; `index.html` names them and is revalidated every time.
//! Every answer carries a strict Content-Security-Policy: scripts and styles
//! only from this origin (no inline script, no `eval`), no framing. When the
//! console was not built (`cargo build` without npm), `/console/` answers 503
//! with a page that says how to build it; the API is not affected.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::Full;
use hyper::Response;

/// Where the console is served.
pub const PREFIX: &str = "/console/";
const INDEX: &str = "index.html";
/// Vite puts every content-hashed file here.
const HASHED_DIR: &str = "assets/";

/// `connect-src 'self'`: the console calls only the API it was served by.
/// `img-src data:`: the component library's icons are data URIs in its stylesheet.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

const NOT_BUILT_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>COC console not built</title></head><body><h1>The console was not built</h1>\
<p>This coc-local was compiled without the web console. Run <code>make console</code> \
(or <code>make run</code>, which builds it first), then start coc-local again.</p>\
<p>The API itself works: see README.md.</p></body></html>";

#[derive(rust_embed::Embed)]
#[folder = "../console/dist/"]
#[allow_missing = true]
struct Built;

/// One file of the console.
pub struct Asset {
    pub bytes: Bytes,
    pub content_type: String,
    /// A strong validator: the hex SHA-256 of the bytes.
    pub etag: String,
}

/// Where the console's files come from: the embedded build, or a test's own set.
pub trait Assets {
    fn get(&self, path: &str) -> Option<Asset>;
}

/// The console as `make console` built it when this binary was compiled.
pub struct Embedded;

impl Assets for Embedded {
    fn get(&self, path: &str) -> Option<Asset> {
        let file = Built::get(path)?;
        // In a release build the files are statics in the binary: served without a copy.
        let bytes = match file.data {
            std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
            std::borrow::Cow::Owned(data) => Bytes::from(data),
        };
        Some(Asset {
            content_type: content_type(path, file.metadata.mimetype()),
            etag: format!("\"{}\"", hex::encode(file.metadata.sha256_hash())),
            bytes,
        })
    }
}

/// Text types say their charset; the rest is as guessed from the extension.
fn content_type(path: &str, guessed: &str) -> String {
    let text = guessed.starts_with("text/") || guessed == "application/javascript" || path.ends_with(".json");
    if text && !guessed.contains("charset") {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_owned()
    }
}

/// Whether `path` is the console's (or `/`, which leads to it) rather than the API's.
pub fn serves(path: &str) -> bool {
    path == "/" || path == "/console" || path.starts_with(PREFIX)
}

/// The answer to a request for one of the console's paths (see [`serves`]).
pub fn answer(assets: &dyn Assets, method: &Method, path: &str, headers: &HeaderMap) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "the console is read with GET");
        response.headers_mut().insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let mut response = match path {
        "/" | "/console" => redirect(PREFIX),
        _ => file(assets, &path[PREFIX.len()..], headers),
    };
    if method == Method::HEAD {
        *response.body_mut() = Full::new(Bytes::new());
    }
    response
}

fn file(assets: &dyn Assets, relative: &str, headers: &HeaderMap) -> Response<Full<Bytes>> {
    let relative = if relative.is_empty() { INDEX } else { relative };
    let Some(asset) = assets.get(relative) else {
        // No index at all: the console was not built into this binary.
        if assets.get(INDEX).is_none() {
            return with_headers(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html; charset=utf-8",
                REVALIDATE,
                NOT_BUILT_PAGE.into(),
            );
        }
        return plain(StatusCode::NOT_FOUND, "no such file in the console");
    };
    let cache = if relative.starts_with(HASHED_DIR) { IMMUTABLE } else { REVALIDATE };
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag || tag.trim() == "*"));
    let mut response = if unchanged {
        with_headers(StatusCode::NOT_MODIFIED, &asset.content_type, cache, Bytes::new())
    } else {
        with_headers(StatusCode::OK, &asset.content_type, cache, asset.bytes)
    };
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        response.headers_mut().insert(ETAG, etag);
    }
    response
}

fn redirect(to: &'static str) -> Response<Full<Bytes>> {
    let mut response = with_headers(StatusCode::FOUND, "text/plain; charset=utf-8", REVALIDATE, Bytes::new());
    response.headers_mut().insert(LOCATION, HeaderValue::from_static(to));
    response
}

fn plain(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    with_headers(status, "text/plain; charset=utf-8", REVALIDATE, Bytes::from_static(message.as_bytes()))
}

fn with_headers(status: StatusCode, content_type: &str, cache: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use http_body_util::BodyExt;

    use super::*;

    /// A console of a few files, as a build would have it.
    struct Files(HashMap<&'static str, &'static str>);

    impl Assets for Files {
        fn get(&self, path: &str) -> Option<Asset> {
            let text = self.0.get(path)?;
            let guessed = if path.ends_with(".js") {
                "application/javascript"
            } else if path.ends_with(".css") {
                "text/css"
            } else {
                "text/html"
            };
            Some(Asset {
                bytes: Bytes::from_static(text.as_bytes()),
                content_type: content_type(path, guessed),
                etag: format!("\"{}\"", text.len()),
            })
        }
    }

    fn built() -> Files {
        Files(HashMap::from([
            ("index.html", "<script type=\"module\" src=\"/console/assets/index-abc.js\"></script>"),
            ("assets/index-abc.js", "console.log(1)"),
            ("assets/index-abc.css", "body{}"),
        ]))
    }

    fn get(assets: &dyn Assets, path: &str) -> Response<Full<Bytes>> {
        answer(assets, &Method::GET, path, &HeaderMap::new())
    }

    fn header(response: &Response<Full<Bytes>>, name: http::header::HeaderName) -> &str {
        response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    async fn body(response: Response<Full<Bytes>>) -> String {
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[test]
    fn the_root_and_the_bare_prefix_redirect_to_the_console() {
        for path in ["/", "/console"] {
            let response = get(&built(), path);
            assert_eq!(response.status(), StatusCode::FOUND, "{path}");
            assert_eq!(header(&response, LOCATION), "/console/");
        }
        assert!(serves("/console/assets/x.js") && serves("/") && !serves("/v1/job/scripts") && !serves("/consoles"));
    }

    #[tokio::test]
    async fn index_is_revalidated_and_hashed_assets_are_immutable() {
        let index = get(&built(), "/console/");
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(header(&index, CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
        assert!(body(index).await.contains("index-abc.js"));
        let script = get(&built(), "/console/assets/index-abc.js");
        assert_eq!(header(&script, CONTENT_TYPE), "application/javascript; charset=utf-8");
        assert_eq!(header(&script, CACHE_CONTROL), "public, max-age=31536000, immutable");
        assert_eq!(header(&get(&built(), "/console/assets/index-abc.css"), CONTENT_TYPE), "text/css; charset=utf-8");
    }

    #[test]
    fn every_answer_carries_the_security_headers() {
        let not_built = Files(HashMap::new());
        let answers = [
            get(&built(), "/console/"),
            get(&built(), "/console/assets/index-abc.js"),
            get(&built(), "/console/missing.js"),
            get(&built(), "/"),
            get(&not_built, "/console/"),
        ];
        for response in &answers {
            let csp = header(response, CONTENT_SECURITY_POLICY);
            assert!(csp.contains("script-src 'self';"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"));
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
            assert_eq!(header(response, X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(header(response, REFERRER_POLICY), "no-referrer");
            assert_eq!(header(response, X_FRAME_OPTIONS), "DENY");
        }
    }

    #[test]
    fn an_unknown_file_is_a_404_not_the_index() {
        let response = get(&built(), "/console/assets/gone-123.js");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&response, CONTENT_TYPE), "text/plain; charset=utf-8");
    }

    #[tokio::test]
    async fn a_console_not_built_says_how_to_build_it() {
        let response = get(&Files(HashMap::new()), "/console/");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(body(response).await.contains("make console"));
    }

    #[tokio::test]
    async fn a_matching_etag_is_a_304_and_head_has_no_body() {
        let first = get(&built(), "/console/assets/index-abc.js");
        let etag = header(&first, ETAG).to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let again = answer(&built(), &Method::GET, "/console/assets/index-abc.js", &headers);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(body(again).await, "");
        let head = answer(&built(), &Method::HEAD, "/console/", &HeaderMap::new());
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(body(head).await, "");
        let post = answer(&built(), &Method::POST, "/console/", &HeaderMap::new());
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
