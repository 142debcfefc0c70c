//! What SCIM bodies and PATCH requests share, for every resource type (RFC 7644 §3.5.2):
//! [`AttributePath`], [`patch_operations`] and [`Patchable`], the one reading of a PATCH
//! request's operations; [`names_schema`], the check of a body's `schemas`. Apart from the
//! endpoints (`resource`), which use the resource types (`user`, `group`) that use this.

use serde_json::{Map, Value};

use super::error::ScimError;

/// The values a PATCH writes (RFC 7644 §3.5.2), as a resource type's draft takes them.
pub(super) trait Patchable {
    /// `add` (`adding`) or `replace` at `path`.
    fn set(&mut self, path: &AttributePath, value: &Value, adding: bool) -> Result<(), ScimError>;

    /// `remove` at `path` (some take a value: the members to remove).
    fn remove(&mut self, path: &AttributePath, value: Option<&Value>) -> Result<(), ScimError>;

    /// Sets each attribute of a JSON object (a body, or an operation's value without a path).
    fn set_all(&mut self, object: &Map<String, Value>, adding: bool) -> Result<(), ScimError> {
        for (key, value) in object {
            match key.to_ascii_lowercase().as_str() {
                "schemas" | "id" | "meta" => {}
                _ => self.set(&AttributePath::parse(key)?, value, adding)?,
            }
        }
        Ok(())
    }

    /// Applies a PATCH request's operations in order.
    fn patch(&mut self, body: &Value) -> Result<(), ScimError> {
        for (op, path, value) in patch_operations(body)? {
            let adding = op == "add";
            match (op.as_str(), path, value) {
                ("add" | "replace", Some(path), Some(value)) => self.set(&path, value, adding)?,
                ("add" | "replace", None, Some(Value::Object(values))) => {
                    self.set_all(values, adding)?
                }
                ("add" | "replace", _, _) => {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!(
                            "A {op} operation needs a value (an object of attributes when it has no path)."
                        ),
                    ));
                }
                ("remove", Some(path), value) => self.remove(&path, value)?,
                ("remove", None, _) => {
                    return Err(ScimError::bad(
                        "noTarget",
                        "A remove operation needs a path.",
                    ));
                }
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        format!("Unknown PATCH operation {op:?}: use add, replace or remove."),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The body as a JSON object whose `schemas` include `schema`.
pub(super) fn names_schema<'a>(
    body: &'a Value,
    schema: &str,
) -> Result<&'a Map<String, Value>, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "The body is not a JSON object."))?;
    let named = object
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema)))
        });
    if !named {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("The body's schemas must include {schema}."),
        ));
    }
    Ok(object)
}

/// One PATCH operation: its op in lower case, its path, its value.
pub(super) type Operation<'a> = (String, Option<AttributePath>, Option<&'a Value>);

/// A PATCH body's operations (RFC 7644 §3.5.2).
pub(super) fn patch_operations(body: &Value) -> Result<Vec<Operation<'_>>, ScimError> {
    const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    names_schema(body, PATCH_SCHEMA)?;
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| {
            ScimError::bad(
                "invalidSyntax",
                "A PATCH body has a non-empty Operations array.",
            )
        })?;
    operations
        .iter()
        .map(|operation| {
            let op = operation
                .get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            let path = match operation.get("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(path)) => Some(AttributePath::parse(path)?),
                Some(_) => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        "An operation's path is a string.",
                    ));
                }
            };
            Ok((op, path, operation.get("value")))
        })
        .collect()
}

/// An attribute path: `userName`, `emails.value`, `emails[type eq "work"].value`,
/// `members[value eq "12"]`, with or without its schema's URN in front.
pub(super) struct AttributePath {
    /// In lower case.
    pub attribute: String,
    /// After a `.`, in lower case.
    pub sub: Option<String>,
    /// Between `[` and `]`, as written (a User's address filter is read past: one is kept).
    pub filter: Option<String>,
}

impl AttributePath {
    pub fn parse(raw: &str) -> Result<AttributePath, ScimError> {
        let trimmed = raw.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with(EXTENSION_PREFIX) {
            // An extension's attributes (the enterprise User's, …) are not kept.
            return Ok(AttributePath {
                attribute: "name".into(),
                sub: None,
                filter: None,
            });
        }
        let skip = [USER_URN_PREFIX, GROUP_URN_PREFIX]
            .iter()
            .find(|prefix| lower.starts_with(*prefix))
            .map_or(0, |prefix| prefix.len());
        let path = &trimmed[skip..];
        let (attribute, filter, rest) = match path.split_once('[') {
            Some((attribute, rest)) => {
                let (filter, after) = rest.split_once(']').ok_or_else(|| {
                    ScimError::bad(
                        "invalidPath",
                        format!("The path {raw:?} has an unclosed filter."),
                    )
                })?;
                let after = after.strip_prefix('.').unwrap_or(after);
                (attribute, Some(filter.to_string()), after)
            }
            None => match path.split_once('.') {
                Some((attribute, sub)) => (attribute, None, sub),
                None => (path, None, ""),
            },
        };
        if attribute.is_empty() {
            return Err(ScimError::bad(
                "invalidPath",
                format!("The path {raw:?} names no attribute."),
            ));
        }
        Ok(AttributePath {
            attribute: attribute.to_ascii_lowercase(),
            sub: (!rest.is_empty()).then(|| rest.to_ascii_lowercase()),
            filter,
        })
    }
}

/// Attribute names may carry their schema's URN in front (lower case here).
pub(super) const USER_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const GROUP_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";
const EXTENSION_PREFIX: &str = "urn:ietf:params:scim:schemas:extension:";

/// A PATCH request's body with these operations (for the drafts' unit tests).
#[cfg(test)]
pub(super) fn patch_request(operations: Value) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations,
    })
}
