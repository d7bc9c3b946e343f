//! Reading `application/x-www-form-urlencoded` bodies and query strings leniently: a field
//! that is missing or malformed is `None`, never a framework error with a developer's message.

/// The first value of `name` in a urlencoded body or query string.
pub fn field(encoded: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(encoded).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `field`, trimmed, with empty meaning absent.
pub fn non_empty(encoded: &[u8], name: &str) -> Option<String> {
    field(encoded, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The first value of `name` in the request's query string.
pub fn query(req: &actix_web::HttpRequest, name: &str) -> Option<String> {
    field(req.query_string().as_bytes(), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded_and_missing_ones_are_none() {
        assert_eq!(field(b"a=1&b=two+words&b=again", "b"), Some("two words".into()));
        assert_eq!(field(b"a=%ZZ", "a"), Some("%ZZ".into()));
        assert_eq!(non_empty(b"a=+++", "a"), None);
        assert_eq!(field(b"", "a"), None);
    }
}
