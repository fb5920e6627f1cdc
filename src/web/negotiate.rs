//! Chooses JSON or HTML for endpoints that have both (DRF's content negotiation with
//! `[JSONRenderer, TokenListRenderer]`): the most specific media ranges of `Accept` decide, JSON
//! wins ties, and no `Accept` or `*/*` means JSON.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// Whether the client prefers HTML.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let ranges: Vec<&str> = accept
        .split(',')
        .filter(|range| {
            !range
                .split(';')
                .skip(1)
                .any(|param| param.trim().replace(' ', "") == "q=0")
        })
        .map(|range| range.split(';').next().unwrap_or_default().trim())
        .collect();
    // DRF orders by specificity, not by q: exact types first, then `type/*`, then `*/*`.
    for exact in [true, false] {
        let html = ranges.iter().any(|range| {
            if exact {
                *range == "text/html"
            } else {
                *range == "text/*"
            }
        });
        let json = ranges.iter().any(|range| {
            if exact {
                *range == "application/json"
            } else {
                *range == "application/*"
            }
        });
        if json || html {
            return !json;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn browsers_get_html_and_clients_json() {
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(wants_html(&accept("text/html")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&accept("application/json, text/html")));
        assert!(!wants_html(&accept("text/html;q=0, application/json")));
        assert!(!wants_html(&HeaderMap::new()));
    }
}
