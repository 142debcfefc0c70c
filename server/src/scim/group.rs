//! A SCIM Group as JSON, both ways (docs/scim.md): `render`, and `GroupDraft`, what a create,
//! a replace or PATCH operations write — `displayName`, `externalId`, `members` (each
//! `{"value": "<user id>"}`) — checked into a `domain::identity::scim::groups::GroupChange`.

use std::collections::BTreeSet;

use domain::identity::scim::{
    groups::{GroupChange, ScimGroup, display_name},
    text_attribute,
};
use serde_json::{Value, json};

use super::{
    attributes::{AttributePath, Patchable, names_schema},
    discovery::GROUP_SCHEMA,
    error::ScimError,
};

pub fn render(group: &ScimGroup, base: &str) -> Value {
    let members: Vec<Value> = group
        .members
        .iter()
        .map(|id| json!({"value": id.to_string(), "$ref": format!("{base}/scim/v2/Users/{id}")}))
        .collect();
    let mut v = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id.to_string(),
        "displayName": group.display_name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": group.created.to_rfc3339(),
            "lastModified": group.modified.to_rfc3339(),
            "location": format!("{base}/scim/v2/Groups/{}", group.id),
        },
    });
    if let Some(external_id) = &group.external_id {
        v["externalId"] = external_id.as_str().into();
    }
    v
}

#[derive(Clone, Debug, Default)]
pub struct GroupDraft {
    display_name: Option<String>,
    external_id: Option<String>,
    members: BTreeSet<i64>,
}

/// The user ids of a `members` value: a list of `{"value": "<id>"}` (or one such object).
fn member_ids(value: &Value) -> Result<BTreeSet<i64>, ScimError> {
    let entries: Vec<&Value> = match value {
        Value::Null => return Ok(BTreeSet::new()),
        Value::Array(entries) => entries.iter().collect(),
        Value::Object(_) => vec![value],
        _ => {
            return Err(ScimError::bad(
                "invalidValue",
                "members is a list of {\"value\": \"<user id>\"} objects.",
            ));
        }
    };
    entries
        .into_iter()
        .map(|entry| {
            let id = entry.get("value").and_then(|v| match v {
                Value::String(s) => s.trim().parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            });
            id.ok_or_else(|| {
                ScimError::bad(
                    "invalidValue",
                    "Each member's value is the id of a User (a number).",
                )
            })
        })
        .collect()
}

/// The member a path's filter names: `members[value eq "12"]`.
fn filtered_member(path: &AttributePath) -> Result<Option<i64>, ScimError> {
    let Some(filter) = &path.filter else {
        return Ok(None);
    };
    match super::filter::comparison(filter)? {
        (attribute, value) if attribute == "value" => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ScimError::bad("invalidFilter", "A member's value is a User id.")),
        _ => Err(ScimError::bad(
            "invalidFilter",
            "Members are picked by value: members[value eq \"<user id>\"].",
        )),
    }
}

impl GroupDraft {
    pub fn of(group: &ScimGroup) -> Self {
        GroupDraft {
            display_name: Some(group.display_name.clone()),
            external_id: group.external_id.clone(),
            members: group.members.iter().copied().collect(),
        }
    }

    pub fn from_body(body: &Value) -> Result<Self, ScimError> {
        let object = names_schema(body, GROUP_SCHEMA)?;
        let mut draft = GroupDraft::default();
        draft.set_all(object, false)?;
        Ok(draft)
    }

    pub fn into_change(self) -> Result<GroupChange, ScimError> {
        let name = self
            .display_name
            .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required."))?;
        Ok(GroupChange {
            display_name: display_name(&name)?,
            external_id: text_attribute("externalId", self.external_id.as_deref())?,
            members: self.members,
        })
    }
}

/// PATCH (`attributes::Patchable::patch`): `add` adds members, `replace` sets them, `remove`
/// takes them away (one by a filter, those listed in the value, or all).
impl Patchable for GroupDraft {
    fn set(&mut self, path: &AttributePath, value: &Value, adding: bool) -> Result<(), ScimError> {
        match path.attribute.as_str() {
            "displayname" => {
                self.display_name = Some(
                    value
                        .as_str()
                        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is a string."))?
                        .to_string(),
                );
            }
            "externalid" => {
                self.external_id = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(ScimError::bad("invalidValue", "externalId is a string.")),
                };
            }
            "members" if adding => self.members.extend(member_ids(value)?),
            "members" => self.members = member_ids(value)?,
            other => {
                return Err(ScimError::bad(
                    "invalidPath",
                    format!("patdesk's Group has no attribute {other:?} (see /scim/v2/Schemas)."),
                ));
            }
        }
        Ok(())
    }

    fn remove(&mut self, path: &AttributePath, value: Option<&Value>) -> Result<(), ScimError> {
        match path.attribute.as_str() {
            "displayname" => Err(ScimError::bad(
                "mutability",
                "displayName is required and cannot be removed.",
            )),
            "externalid" => {
                self.external_id = None;
                Ok(())
            }
            "members" => {
                match (filtered_member(path)?, value) {
                    (Some(id), _) => {
                        self.members.remove(&id);
                    }
                    // Entra ID names the members to remove in the value.
                    (None, Some(value)) if !value.is_null() => {
                        for id in member_ids(value)? {
                            self.members.remove(&id);
                        }
                    }
                    (None, _) => self.members.clear(),
                }
                Ok(())
            }
            other => Err(ScimError::bad(
                "invalidPath",
                format!("patdesk's Group has no attribute {other:?} (see /scim/v2/Schemas)."),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> ScimGroup {
        ScimGroup {
            id: 3,
            display_name: "Platform".into(),
            external_id: None,
            members: vec![1, 2],
            created: chrono::Utc::now(),
            modified: chrono::Utc::now(),
        }
    }

    fn patched(operations: Value) -> Result<GroupChange, ScimError> {
        let mut draft = GroupDraft::of(&group());
        draft.patch(&super::super::attributes::patch_request(operations))?;
        draft.into_change()
    }

    #[test]
    fn the_member_changes_directories_send() {
        let ids = |ops| {
            patched(ops)
                .unwrap()
                .members
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(json!([{"op": "add", "path": "members", "value": [{"value": "7"}]}])),
            [1, 2, 7]
        );
        assert_eq!(
            ids(json!([{"op": "remove", "path": "members[value eq \"1\"]"}])),
            [2]
        );
        assert_eq!(
            ids(json!([{"op": "Remove", "path": "members", "value": [{"value": "2"}]}])),
            [1]
        );
        assert_eq!(
            ids(json!([{"op": "replace", "path": "members", "value": [{"value": "9"}]}])),
            [9]
        );
        assert_eq!(
            ids(json!([{"op": "remove", "path": "members"}])),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(json!([{"op": "add", "value": {"members": [{"value": "4"}]}}])),
            [1, 2, 4]
        );
    }

    #[test]
    fn bad_member_values_are_refused() {
        let error =
            patched(json!([{"op": "add", "path": "members", "value": [{"value": "alice"}]}]))
                .unwrap_err();
        assert_eq!(error.scim_type, Some("invalidValue"));
        let error =
            patched(json!([{"op": "remove", "path": "members[display eq \"x\"]"}])).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidFilter"));
    }
}
