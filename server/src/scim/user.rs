//! A SCIM User as JSON, both ways: `render` (with `meta`, and `attributes` /
//! `excludedAttributes` applied by `Projection`), and the attribute values a create, a replace
//! or a PATCH operation writes (`Draft`), which become a `domain::identity::scim::UserChange`.
//!
//! What patdesk keeps is `discovery`'s User: `userName`, `displayName`, `active`, one address
//! in `emails`, and `externalId`. Other attributes of RFC 7643's User (`name`, `title`,
//! `phoneNumbers`, …), of its enterprise extension, and `password` (a provisioned account signs
//! in with single sign-on only) are accepted and not kept, as RFC 7644 §3.3 allows; an attribute
//! that no SCIM schema has is a 400 naming it.

use domain::identity::{
    names::Email,
    scim::{ScimUser, UserChange, text_attribute, user_name},
};
use serde_json::{Value, json};

use super::{
    attributes::{AttributePath, Patchable, USER_URN_PREFIX, names_schema},
    discovery::USER_SCHEMA,
    error::ScimError,
};

/// RFC 7643 §4.1's User attributes that patdesk does not keep.
const NOT_KEPT: &[&str] = &[
    "name",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "password",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
];

pub fn render(user: &ScimUser, base: &str) -> Value {
    let mut v = json!({
        "schemas": [USER_SCHEMA],
        "id": user.id.to_string(),
        "userName": user.user_name,
        "active": user.active,
        "meta": {
            "resourceType": "User",
            "created": user.created.to_rfc3339(),
            "lastModified": user.modified.to_rfc3339(),
            "location": format!("{base}/scim/v2/Users/{}", user.id),
        },
    });
    if let Some(external_id) = &user.external_id {
        v["externalId"] = external_id.as_str().into();
    }
    if let Some(name) = &user.display_name {
        v["displayName"] = name.as_str().into();
    }
    if let Some(email) = &user.email {
        v["emails"] = json!([{"value": email}]);
    }
    v
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which top-level attributes an
/// answer carries. `schemas` and `id` always are.
#[derive(Default)]
pub struct Projection {
    only: Option<Vec<String>>,
    except: Vec<String>,
}

fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(|name| top_level(&name.trim().to_ascii_lowercase()))
        .filter(|name| !name.is_empty())
        .collect()
}

/// `emails.value` → `emails`, `urn:…:User:userName` → `username` (lower case).
fn top_level(name: &str) -> String {
    let name = name.strip_prefix(USER_URN_PREFIX).unwrap_or(name);
    name.split(['.', '[']).next().unwrap_or(name).to_string()
}

impl Projection {
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Projection {
            only: attributes.map(names),
            except: excluded.map(names).unwrap_or_default(),
        }
    }

    pub fn apply(&self, mut user: Value) -> Value {
        if let Some(object) = user.as_object_mut() {
            object.retain(|key, _| {
                let key = key.to_ascii_lowercase();
                if key == "schemas" || key == "id" {
                    return true;
                }
                match &self.only {
                    Some(only) => only.contains(&key),
                    None => !self.except.contains(&key),
                }
            });
        }
        user
    }
}

/// The values an account is to have, as the request gave them (checked by `into_change`).
#[derive(Clone, Debug, Default)]
pub struct Draft {
    user_name: Option<String>,
    external_id: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    active: Option<bool>,
}

impl Draft {
    /// The account as it is: what a PATCH starts from.
    pub fn of(user: &ScimUser) -> Self {
        Draft {
            user_name: Some(user.user_name.clone()),
            external_id: user.external_id.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            active: Some(user.active),
        }
    }

    /// A create's or a replace's body: a User (its `schemas` must name the User schema), every
    /// attribute it leaves out left without a value (`active`: as it is).
    pub fn from_body(body: &Value) -> Result<Self, ScimError> {
        let object = names_schema(body, USER_SCHEMA)?;
        let mut draft = Draft::default();
        draft.set_all(object, false)?;
        Ok(draft)
    }

    /// The checked change; `userName` is required.
    pub fn into_change(self) -> Result<UserChange, ScimError> {
        let raw_name = self
            .user_name
            .ok_or_else(|| ScimError::bad("invalidValue", "userName is required."))?;
        Ok(UserChange {
            user_name: user_name(&raw_name)?,
            external_id: text_attribute("externalId", self.external_id.as_deref())?,
            display_name: text_attribute("displayName", self.display_name.as_deref())?,
            email: self.email.as_deref().map(Email::parse).transpose()?,
            active: self.active,
        })
    }
}

/// PATCH (`attributes::Patchable::patch`): `add` and `replace` set, `remove` clears.
impl Patchable for Draft {
    /// One address is kept, so adding one replaces it.
    fn set(&mut self, path: &AttributePath, value: &Value, _adding: bool) -> Result<(), ScimError> {
        match (path.attribute.as_str(), path.sub.as_deref()) {
            ("username", None) => self.user_name = Some(string("userName", value)?),
            ("externalid", None) => self.external_id = optional_string("externalId", value)?,
            ("displayname", None) => self.display_name = optional_string("displayName", value)?,
            ("active", None) => self.active = Some(boolean(value)?),
            ("emails", None) => self.email = email_of(value)?,
            ("emails", Some("value")) => self.email = optional_string("emails.value", value)?,
            ("emails", Some(_)) => {} // `primary`, `type`, `display`: one address is kept, primary.
            (ignored, _) if is_not_kept(ignored) => {}
            (attribute, _) => return Err(unknown(attribute)),
        }
        Ok(())
    }

    fn remove(&mut self, path: &AttributePath, _value: Option<&Value>) -> Result<(), ScimError> {
        match (path.attribute.as_str(), path.sub.as_deref()) {
            ("username", _) | ("active", _) => {
                return Err(ScimError::bad(
                    "mutability",
                    format!(
                        "{} is required and cannot be removed (set active to false to deactivate the account).",
                        path.attribute
                    ),
                ));
            }
            ("externalid", None) => self.external_id = None,
            ("displayname", None) => self.display_name = None,
            ("emails", None | Some("value")) => self.email = None,
            ("emails", Some(_)) => {}
            (ignored, _) if is_not_kept(ignored) => {}
            (attribute, _) => return Err(unknown(attribute)),
        }
        Ok(())
    }
}

fn is_not_kept(attribute: &str) -> bool {
    NOT_KEPT.contains(&attribute)
}

fn unknown(attribute: &str) -> ScimError {
    ScimError::bad(
        "invalidPath",
        format!("patdesk's User has no attribute {attribute:?} (see /scim/v2/Schemas)."),
    )
}

fn string(name: &str, value: &Value) -> Result<String, ScimError> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ScimError::bad("invalidValue", format!("{name} is a string.")))
}

fn optional_string(name: &str, value: &Value) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        other => string(name, other).map(Some),
    }
}

/// `true`/`false`, or the same as a string (as some directories send them).
fn boolean(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::bad("invalidValue", "active is true or false.")),
    }
}

/// The address kept from `emails`: the primary one, or the first.
fn email_of(value: &Value) -> Result<Option<String>, ScimError> {
    let entries: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(entries) => entries.iter().collect(),
        Value::Object(_) => vec![value],
        _ => {
            return Err(ScimError::bad(
                "invalidValue",
                "emails is a list of {\"value\": …} objects.",
            ));
        }
    };
    let chosen = entries
        .iter()
        .find(|e| {
            e.get("primary")
                .is_some_and(|p| boolean(p).unwrap_or(false))
        })
        .or_else(|| entries.first());
    match chosen {
        None => Ok(None),
        Some(entry) => entry
            .get("value")
            .map(|v| optional_string("emails.value", v))
            .unwrap_or(Ok(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> ScimUser {
        ScimUser {
            id: 7,
            user_name: "alice".into(),
            external_id: Some("00u1".into()),
            display_name: Some("Alice".into()),
            email: Some("alice@example.com".into()),
            active: true,
            created: chrono::Utc::now(),
            modified: chrono::Utc::now(),
        }
    }

    fn patched(operations: Value) -> Result<UserChange, ScimError> {
        let mut draft = Draft::of(&user());
        draft.patch(&super::super::attributes::patch_request(operations))?;
        draft.into_change()
    }

    #[test]
    fn the_deactivations_directories_send() {
        // Okta, Entra ID (a string, capitalised op), and a value without a path.
        for ops in [
            json!([{"op": "replace", "path": "active", "value": false}]),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            json!([{"op": "replace", "value": {"active": false}}]),
        ] {
            assert_eq!(patched(ops).unwrap().active, Some(false));
        }
    }

    #[test]
    fn paths_with_filters_and_urns() {
        let change = patched(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "Al"},
            {"op": "add", "path": "name.givenName", "value": "Alice"},
            {"op": "remove", "path": "externalId"},
        ]))
        .unwrap();
        assert_eq!(change.email.unwrap().as_str(), "new@example.com");
        assert_eq!(change.display_name.as_deref(), Some("Al"));
        assert_eq!(change.external_id, None);
        assert_eq!(change.user_name, "alice");
    }

    #[test]
    fn bad_operations_say_what_is_wrong() {
        let cases = [
            (json!([{"op": "remove", "path": "active"}]), "mutability"),
            (json!([{"op": "remove"}]), "noTarget"),
            (json!([{"op": "move", "path": "active"}]), "invalidSyntax"),
            (
                json!([{"op": "replace", "path": "shoeSize", "value": 9}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
                "invalidValue",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]),
                "invalidPath",
            ),
            (json!([]), "invalidSyntax"),
        ];
        for (ops, scim_type) in cases {
            let error = patched(ops.clone()).unwrap_err();
            assert_eq!(error.scim_type, Some(scim_type), "{ops}");
        }
    }

    #[test]
    fn a_body_must_be_a_user_and_only_known_attributes() {
        let ok = json!({"schemas": [USER_SCHEMA], "userName": "bob", "title": "CTO",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}});
        assert_eq!(
            Draft::from_body(&ok)
                .unwrap()
                .into_change()
                .unwrap()
                .user_name
                .as_str(),
            "bob"
        );
        let not_a_user = json!({"schemas": ["urn:x"], "userName": "bob"});
        assert_eq!(
            Draft::from_body(&not_a_user).unwrap_err().scim_type,
            Some("invalidSyntax")
        );
        let unknown = json!({"schemas": [USER_SCHEMA], "userName": "bob", "shoeSize": 9});
        assert_eq!(
            Draft::from_body(&unknown).unwrap_err().scim_type,
            Some("invalidPath")
        );
        let nameless = json!({"schemas": [USER_SCHEMA]});
        assert_eq!(
            Draft::from_body(&nameless)
                .unwrap()
                .into_change()
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
    }

    #[test]
    fn projections_keep_id_and_schemas() {
        let rendered = render(&user(), "http://x");
        let only = Projection::new(Some("userName,emails.value"), None).apply(rendered.clone());
        let keys: Vec<&String> = only.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        let except = Projection::new(None, Some("displayName")).apply(rendered);
        assert!(except.get("displayName").is_none() && except.get("userName").is_some());
    }
}
