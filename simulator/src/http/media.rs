//! Which of ONTAP's two response flavours a client asked for.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

/// ONTAP answers HAL unless the client asks for plain JSON, which drops every HAL link except
/// `_links.next` (a client cannot page without it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/hal+json`: `_links` on the collection and on nested objects.
    Hal,
    /// `application/json`: only `_links.next`.
    Json,
}

impl Media {
    /// Reads the `Accept` header; anything that does not prefer plain JSON gets HAL. Hand-written
    /// because ONTAP's rule ignores q-values (HAL wins wherever it is named), unlike negotiation
    /// crates.
    pub fn from_headers(headers: &HeaderMap) -> Media {
        let mut json = false;
        for value in headers.get_all(header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let essence = range.split(';').next().unwrap_or("").trim();
                if essence.eq_ignore_ascii_case("application/hal+json") {
                    return Media::Hal;
                }
                if essence.eq_ignore_ascii_case("application/json") {
                    json = true;
                }
            }
        }
        if json { Media::Json } else { Media::Hal }
    }

    /// The `Content-Type` of responses in this flavour.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::Hal => "application/hal+json",
            Media::Json => "application/json",
        }
    }

    /// A JSON response with this flavour's `Content-Type`.
    pub fn respond(self, status: StatusCode, body: &Value) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, self.content_type())],
            body.to_string(),
        )
            .into_response()
    }

    /// Whether HAL `self` links are wanted.
    pub fn hal(self) -> bool {
        self == Media::Hal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn accept(value: &str) -> Media {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        Media::from_headers(&headers)
    }

    #[test]
    fn missing_accept_means_hal() {
        assert_eq!(Media::from_headers(&HeaderMap::new()), Media::Hal);
    }

    #[test]
    fn wildcard_accept_means_hal() {
        assert_eq!(accept("*/*"), Media::Hal);
    }

    #[test]
    fn plain_json_accept_means_json() {
        assert_eq!(accept("application/json"), Media::Json);
    }

    #[test]
    fn hal_wins_when_both_are_listed() {
        assert_eq!(
            accept("application/json, application/hal+json;q=0.9"),
            Media::Hal
        );
    }
}
