//! The filters patdesk's SCIM endpoint takes (RFC 7644 §3.4.2.2): one comparison,
//! `userName eq "…"`, `externalId eq "…"` or `emails.value eq "…"` (also `emails eq "…"`):
//! what directories send to find an account before they create it. Attribute names and the
//! operator are case-insensitive; the value is a JSON string. Anything else is a 400
//! `invalidFilter` that says what is supported.

use domain::identity::scim::UserFilter;

use super::error::ScimError;

const USER_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";

fn unsupported(detail: impl Into<String>) -> ScimError {
    ScimError::bad(
        "invalidFilter",
        format!(
            "{} patdesk filters users by one comparison: userName, externalId or emails.value, eq, and a quoted string.",
            detail.into()
        ),
    )
}

pub fn parse(raw: &str) -> Result<UserFilter, ScimError> {
    let text = raw.trim();
    let (attribute, rest) = text
        .split_once(char::is_whitespace)
        .ok_or_else(|| unsupported(format!("The filter {text:?} is not a comparison.")))?;
    let (operator, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(|| unsupported(format!("The filter {text:?} has no value.")))?;
    if !operator.eq_ignore_ascii_case("eq") {
        return Err(unsupported(format!(
            "The operator {operator:?} is not supported."
        )));
    }
    let value: String = serde_json::from_str(value.trim())
        .map_err(|_| unsupported(format!("The value {value:?} is not one quoted string.")))?;
    let attribute = attribute.to_ascii_lowercase();
    let attribute = attribute
        .strip_prefix(USER_SCHEMA_PREFIX)
        .unwrap_or(&attribute);
    match attribute {
        "username" => Ok(UserFilter::UserName(value)),
        "externalid" => Ok(UserFilter::ExternalId(value)),
        "emails" | "emails.value" => Ok(UserFilter::Email(value)),
        other => Err(unsupported(format!(
            "The attribute {other:?} cannot be filtered on."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_directories_send() {
        assert_eq!(
            parse(r#"userName eq "Alice""#).unwrap(),
            UserFilter::UserName("Alice".into())
        );
        assert_eq!(
            parse(r#"externalId EQ "00u1""#).unwrap(),
            UserFilter::ExternalId("00u1".into())
        );
        assert_eq!(
            parse(r#"emails.value eq "a@example.com""#).unwrap(),
            UserFilter::Email("a@example.com".into())
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a b""#).unwrap(),
            UserFilter::UserName("a b".into())
        );
    }

    #[test]
    fn anything_else_is_an_invalid_filter() {
        for bad in [
            "",
            "userName",
            r#"userName sw "a""#,
            "userName eq alice",
            r#"title eq "boss""#,
            r#"userName eq "a" and active eq true"#,
            r#"userName eq "unterminated"#,
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.scim_type, Some("invalidFilter"), "{bad}");
        }
    }
}
