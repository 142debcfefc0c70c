//! The filters patdesk's SCIM endpoint takes (RFC 7644 §3.4.2.2): one comparison — for Users
//! `userName eq "…"`, `externalId eq "…"` or `emails.value eq "…"` (also `emails eq "…"`), for
//! Groups `displayName eq "…"` or `externalId eq "…"`: what directories send to find a resource
//! before they create it. Attribute names and the operator are case-insensitive; the value is a
//! JSON string. Anything else is a 400 `invalidFilter` that says what is supported, and so is a
//! value holding a control character (an escaped `\u0000` decodes to NUL, which PostgreSQL
//! refuses in `text`: checked here, before it reaches a query).

use domain::identity::scim::{UserFilter, groups::GroupFilter};

use super::error::ScimError;

const SCHEMA_PREFIXES: [&str; 2] = [
    "urn:ietf:params:scim:schemas:core:2.0:user:",
    "urn:ietf:params:scim:schemas:core:2.0:group:",
];

fn unsupported(detail: impl Into<String>) -> ScimError {
    ScimError::bad(
        "invalidFilter",
        format!(
            "{} patdesk filters by one comparison with eq and a quoted string: Users by userName, externalId or emails.value, Groups by displayName or externalId.",
            detail.into()
        ),
    )
}

/// A Users filter.
pub fn parse(raw: &str) -> Result<UserFilter, ScimError> {
    let (attribute, value) = comparison(raw)?;
    match attribute.as_str() {
        "username" => Ok(UserFilter::UserName(value)),
        "externalid" => Ok(UserFilter::ExternalId(value)),
        "emails" | "emails.value" => Ok(UserFilter::Email(value)),
        other => Err(unsupported(format!(
            "The attribute {other:?} cannot be filtered on."
        ))),
    }
}

/// A Groups filter.
pub fn parse_group(raw: &str) -> Result<GroupFilter, ScimError> {
    let (attribute, value) = comparison(raw)?;
    match attribute.as_str() {
        "displayname" => Ok(GroupFilter::DisplayName(value)),
        "externalid" => Ok(GroupFilter::ExternalId(value)),
        other => Err(unsupported(format!(
            "The attribute {other:?} cannot be filtered on."
        ))),
    }
}

/// `attribute eq "value"`: the attribute in lower case without its schema's URN, and the value.
pub fn comparison(raw: &str) -> Result<(String, String), ScimError> {
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
    if let Some(message) =
        domain::text::refused_control("The filter's value", &value, domain::text::Lines::One)
    {
        return Err(ScimError::bad("invalidFilter", message));
    }
    let attribute = attribute.to_ascii_lowercase();
    let attribute = SCHEMA_PREFIXES
        .iter()
        .find_map(|prefix| attribute.strip_prefix(prefix))
        .unwrap_or(&attribute);
    Ok((attribute.to_string(), value))
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
        assert_eq!(
            parse_group(r#"displayName eq "Platform""#).unwrap(),
            GroupFilter::DisplayName("Platform".into())
        );
        assert!(parse_group(r#"userName eq "alice""#).is_err());
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
            r#"userName eq "a\u0000b""#,
            r#"externalId eq "line\nbreak""#,
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.scim_type, Some("invalidFilter"), "{bad}");
        }
    }
}
