//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`. They describe what patdesk keeps, not the whole RFC 7643 User and Group: a
//! directory (and a compliance checker) writes only the attributes published here — a User's
//! `userName`, `displayName`, `active`, `emails` (one address, its `value`); a Group's
//! `displayName` and `members` — with the common `id`, `externalId` and `meta`. `active` is published as required: an account is always either active or not,
//! so a directory replaces it (with `false` to deactivate) rather than removes it.

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The most resources one page of a list holds.
pub const MAX_RESULTS: u64 = 200;

/// One attribute's description (RFC 7643 §7), read-write and returned by default unless
/// changed with the methods below.
struct Attribute(Value);

fn attribute(name: &str, kind: &str, description: &str) -> Attribute {
    Attribute(json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }))
}

impl Attribute {
    fn required(mut self) -> Self {
        self.0["required"] = true.into();
        self
    }
    fn multi(mut self) -> Self {
        self.0["multiValued"] = true.into();
        self
    }
    fn read_only(mut self) -> Self {
        self.0["mutability"] = "readOnly".into();
        self
    }
    fn immutable(mut self) -> Self {
        self.0["mutability"] = "immutable".into();
        self
    }
    fn refers_to(mut self, resource_type: &str) -> Self {
        self.0["referenceTypes"] = json!([resource_type]);
        self
    }
    fn unique(mut self) -> Self {
        self.0["uniqueness"] = "server".into();
        self
    }
    fn sub(mut self, attributes: Vec<Attribute>) -> Self {
        self.0["subAttributes"] = attributes.into_iter().map(|a| a.0).collect();
        self
    }
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Attribute>) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes.into_iter().map(|a| a.0).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{id}")},
    })
}

fn user_schema() -> Value {
    schema(
        USER_SCHEMA,
        "User",
        "A patdesk account.",
        vec![
            attribute("userName", "string", "The username: 3 to 32 of a-z, 0-9, '_' and '-', kept in lower case.")
                .required()
                .unique(),
            attribute("displayName", "string", "The name shown for the person."),
            attribute("active", "boolean", "false suspends the account at once: its sessions end and every token of its is refused.")
                .required(),
            attribute("emails", "complex", "The address patdesk mails notices to: one, the primary one of those sent.")
                .multi()
                .sub(vec![attribute("value", "string", "The address.")]),
        ],
    )
}

fn group_schema() -> Value {
    schema(
        GROUP_SCHEMA,
        "Group",
        "A team's membership list: members join the team (as the group's role), and leave it when removed.",
        vec![
            attribute(
                "displayName",
                "string",
                "The group's name (1 to 100 characters); a new group's team is named after it.",
            )
            .required()
            .unique(),
            attribute("members", "complex", "The Users in the group.")
                .multi()
                .sub(vec![
                    attribute("value", "string", "The User's id.").immutable(),
                    attribute("$ref", "reference", "The User's URI.")
                        .immutable()
                        .refers_to("User"),
                ]),
        ],
    )
}

fn schema_schema() -> Value {
    schema(
        SCHEMA_SCHEMA,
        "Schema",
        "Describes a resource's attributes.",
        vec![
            attribute("id", "string", "The schema's URI.")
                .read_only()
                .required(),
            attribute("name", "string", "The schema's name.").read_only(),
            attribute("description", "string", "What the schema describes.").read_only(),
            attribute("attributes", "complex", "The schema's attributes.")
                .read_only()
                .multi()
                .sub(vec![
                    attribute("name", "string", "The attribute's name.").read_only(),
                    attribute("type", "string", "The attribute's type.").read_only(),
                    attribute("multiValued", "boolean", "Whether it holds several values.")
                        .read_only(),
                    attribute("description", "string", "What it is.").read_only(),
                    attribute("required", "boolean", "Whether it must have a value.").read_only(),
                    attribute("caseExact", "boolean", "Whether case matters.").read_only(),
                    attribute("mutability", "string", "Who may change it.").read_only(),
                    attribute("returned", "string", "When it is returned.").read_only(),
                    attribute("uniqueness", "string", "How it is unique.").read_only(),
                ]),
        ],
    )
}

fn resource_type_schema() -> Value {
    schema(
        RESOURCE_TYPE_SCHEMA,
        "ResourceType",
        "Describes a type of resource.",
        vec![
            attribute("id", "string", "The resource type's id.").read_only(),
            attribute("name", "string", "The resource type's name.")
                .read_only()
                .required(),
            attribute("description", "string", "What it is.").read_only(),
            attribute(
                "endpoint",
                "reference",
                "Its endpoint, relative to the base URL.",
            )
            .read_only()
            .required(),
            attribute("schema", "reference", "Its schema's URI.")
                .read_only()
                .required(),
        ],
    )
}

fn config_schema() -> Value {
    let supported = |name: &str| {
        attribute(name, "complex", "Whether the operation is supported.")
            .read_only()
            .required()
            .sub(vec![
                attribute("supported", "boolean", "Supported or not.")
                    .read_only()
                    .required(),
            ])
    };
    schema(
        CONFIG_SCHEMA,
        "ServiceProviderConfig",
        "What this service provider supports.",
        vec![
            attribute(
                "documentationUri",
                "reference",
                "Help for this service provider.",
            )
            .read_only(),
            supported("patch"),
            supported("bulk"),
            supported("filter"),
            supported("changePassword"),
            supported("sort"),
            supported("etag"),
            attribute(
                "authenticationSchemes",
                "complex",
                "How clients authenticate.",
            )
            .read_only()
            .required()
            .multi()
            .sub(vec![
                attribute("type", "string", "The scheme's type.")
                    .read_only()
                    .required(),
                attribute("name", "string", "The scheme's name.")
                    .read_only()
                    .required(),
                attribute("description", "string", "What it is.")
                    .read_only()
                    .required(),
            ]),
        ],
    )
}

/// Every schema, by id.
pub fn schemas() -> Vec<Value> {
    vec![
        user_schema(),
        group_schema(),
        schema_schema(),
        resource_type_schema(),
        config_schema(),
    ]
}

pub fn resource_types() -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "patdesk accounts",
            "schema": USER_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/User"},
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "teams' membership lists",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/Group"},
        }),
    ]
}

pub fn service_provider_config() -> Value {
    json!({
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "patdesk SCIM credential",
            "description": "Authorization: Bearer pdkscim_…, a credential an instance admin creates on /admin or with `patdesk scim credential create`.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"},
    })
}

/// A ListResponse of `resources` (all of them on one page).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
