//! The API's OpenAPI 3.0 document, `GET /openapi.json`: every route with its parameters, body
//! and answer, their schemas generated from the very types the handlers take and answer
//! (schemars, with their doc comments as descriptions), and which routes need the token.
//! A test checks that the document lists exactly the routes the server has.

use ai4ict_hub::usecase::{UseCase, UseCaseRecord};
use ai4ict_hub::{
    DomainCoverage, LevelRecord, ModelRecord, ModelSelection, Overlap, ReviewItem, SearchHit,
    Standard,
};
use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::api::{
    AliasBody, AtQuery, CoopQuery, GapsQuery, KeyQuery, ModelsQuery, Page, PushBody, StandardsQuery,
};
use crate::pipelines::{PipelineStatus, TapQuery};

/// What an operation answers on success.
enum Answer {
    /// JSON of this schema.
    Json(Schema),
    /// A page of a listing: a JSON array of this item schema, with the paging headers.
    Page(Schema),
    /// Bytes of a media type.
    Bytes(&'static str),
}

/// One operation of the API.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    /// The query string's parameters: the properties of this schema.
    query: Option<Schema>,
    /// The request body: its media type and schema.
    body: Option<(&'static str, Schema)>,
    /// The success status and answer.
    ok: (u16, Answer),
    /// Needs the bearer token.
    write: bool,
    /// A required request header: its name and description.
    header: Option<(&'static str, &'static str)>,
}

/// The schema of a query struct, inline (its properties become parameters).
fn query<T: JsonSchema>() -> Option<Schema> {
    Some(
        SchemaSettings::openapi3()
            .into_generator()
            .root_schema_for::<T>(),
    )
}

fn operations(g: &mut SchemaGenerator, pipelines: bool) -> Vec<Operation> {
    let op = |method, path, summary, query, body, ok, write| Operation {
        method,
        path,
        summary,
        query,
        body,
        ok,
        write,
        header: None,
    };
    let health = json_schema!({
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "store": {"type": "string", "description": "`sqlite` or `postgres`"},
            "writable": {"type": "boolean", "description": "whether writes are taken (a token is configured)"},
            "max_body_bytes": {"type": "integer", "description": "largest request body taken"},
            "max_artifact_bytes": {"type": "integer", "description": "largest artifact a streamed push (`PUT /models/{name}/{version}/artifact`) takes"}
        }
    });
    let standards = json_schema!({"oneOf": [
        {"type": "array", "items": g.subschema_for::<Standard>()},
        {"type": "array", "items": g.subschema_for::<SearchHit>()}
    ], "description": "the catalogue; with `q`, search hits, best first"});
    let mut ops = vec![
        op(
            "get",
            "/health",
            "How the hub is served",
            None,
            None,
            (200, Answer::Json(health)),
            false,
        ),
        op(
            "get",
            "/metrics",
            "Request figures, hub contents and pipelines, in Prometheus' text format",
            None,
            None,
            (200, Answer::Bytes("text/plain")),
            false,
        ),
        op(
            "get",
            "/openapi.json",
            "This document",
            None,
            None,
            (200, Answer::Json(json_schema!({"type": "object"}))),
            false,
        ),
        op(
            "get",
            "/standards",
            "The AI standards catalogue, or a search of it",
            query::<StandardsQuery>(),
            None,
            (200, Answer::Json(standards)),
            false,
        ),
        op(
            "get",
            "/standard",
            "One standard by its key",
            query::<KeyQuery>(),
            None,
            (200, Answer::Json(g.subschema_for::<Standard>())),
            false,
        ),
        op(
            "get",
            "/review-due",
            "Standards whose periodic review is due",
            query::<AtQuery>(),
            None,
            (200, Answer::Page(g.subschema_for::<ReviewItem>())),
            false,
        ),
        op(
            "get",
            "/coop",
            "The cooperation map: standards of different bodies covering the same ground",
            query::<CoopQuery>(),
            None,
            (200, Answer::Page(g.subschema_for::<Overlap>())),
            false,
        ),
        op(
            "get",
            "/gaps",
            "Coverage of each Resolution 101 domain, and its gaps",
            query::<GapsQuery>(),
            None,
            (200, Answer::Page(g.subschema_for::<DomainCoverage>())),
            false,
        ),
        op(
            "get",
            "/usecases",
            "SDG-tagged use cases with their evidence",
            query::<Page>(),
            None,
            (200, Answer::Page(g.subschema_for::<UseCaseRecord>())),
            false,
        ),
        op(
            "post",
            "/usecases",
            "Registers or updates a use case",
            None,
            Some(("application/json", g.subschema_for::<UseCase>())),
            (201, Answer::Json(g.subschema_for::<UseCaseRecord>())),
            true,
        ),
        op(
            "get",
            "/usecases/{name}",
            "One use case",
            None,
            None,
            (200, Answer::Json(g.subschema_for::<UseCaseRecord>())),
            false,
        ),
        op(
            "get",
            "/levels",
            "Y.3173 intelligence levels recorded per intent",
            query::<Page>(),
            None,
            (200, Answer::Page(g.subschema_for::<LevelRecord>())),
            false,
        ),
        op(
            "get",
            "/models",
            "Y.3176 Model_Query and Model_Discovery_Poll: matching versions, newest first",
            query::<ModelsQuery>(),
            None,
            (200, Answer::Page(g.subschema_for::<ModelRecord>())),
            false,
        ),
        op(
            "post",
            "/models",
            "Y.3176 Model_Push of a small model: metadata and artifact in JSON, under the body limit (the hub checks the sha256)",
            None,
            Some(("application/json", g.subschema_for::<PushBody>())),
            (201, Answer::Json(g.subschema_for::<ModelRecord>())),
            true,
        ),
        op(
            "post",
            "/models/select",
            "Y.3176 Model_Selection: the best version by a metric",
            None,
            Some(("application/json", g.subschema_for::<ModelSelection>())),
            (200, Answer::Json(g.subschema_for::<ModelRecord>())),
            false,
        ),
        op(
            "get",
            "/models/{name}/{version}",
            "Y.3176 Model_Selection: a version, an alias or `latest`",
            None,
            None,
            (200, Answer::Json(g.subschema_for::<ModelRecord>())),
            false,
        ),
        op(
            "get",
            "/models/{name}/{version}/artifact",
            "Y.3176 Model_Pull: the artifact's bytes, sha256 in header `x-ai4ict-sha256`",
            None,
            None,
            (200, Answer::Bytes("application/octet-stream")),
            false,
        ),
        Operation {
            header: Some((
                crate::METADATA_HEADER,
                "the model's metadata (ModelMetadata) as JSON; `name` and `version` may be left out",
            )),
            ..op(
                "put",
                "/models/{name}/{version}/artifact",
                "Y.3176 Model_Push, streamed: the body is the artifact's bytes, up to `max_artifact_bytes` (the hub checks the sha256 when the metadata gives one)",
                None,
                Some((
                    "application/octet-stream",
                    json_schema!({"type": "string", "format": "binary"}),
                )),
                (201, Answer::Json(g.subschema_for::<ModelRecord>())),
                true,
            )
        },
        op(
            "put",
            "/models/{name}/aliases/{alias}",
            "Points an alias (e.g. `production`) at a version",
            None,
            Some(("application/json", g.subschema_for::<AliasBody>())),
            (200, Answer::Json(g.subschema_for::<ModelRecord>())),
            true,
        ),
    ];
    if pipelines {
        let mut status = || g.subschema_for::<PipelineStatus>();
        ops.extend([
            op(
                "get",
                "/pipelines",
                "Every pipeline the server runs, running or ended",
                None,
                None,
                (
                    200,
                    Answer::Json(json_schema!({"type": "array", "items": status()})),
                ),
                false,
            ),
            op(
                "post",
                "/pipelines",
                "Starts an ML intent (YAML), validated as a remote intent",
                None,
                Some(("application/yaml", json_schema!({"type": "string"}))),
                (201, Answer::Json(status())),
                true,
            ),
            op(
                "get",
                "/pipelines/{name}",
                "One pipeline's status",
                None,
                None,
                (200, Answer::Json(status())),
                false,
            ),
            op(
                "delete",
                "/pipelines/{name}",
                "Stops a pipeline: its sources stop, it drains and writes its report",
                None,
                None,
                (202, Answer::Json(status())),
                true,
            ),
            op(
                "get",
                "/pipelines/{name}/tap/{node}",
                "Records passing a node (SRC, PP, M, P, SINK), sampled while the request waits, as JSON lines; 204 when none passed within `timeout`, 404 for an unknown pipeline or node, 409 once it ended, 503 beyond 16 open taps",
                query::<TapQuery>(),
                None,
                (200, Answer::Bytes("application/x-ndjson")),
                false,
            ),
            op(
                "get",
                "/events/pipelines",
                "Server-sent events: `pipelines`, every pipeline's status (a JSON array of PipelineStatus) each time it changes; 503 beyond 64 open streams",
                None,
                None,
                (200, Answer::Bytes("text/event-stream")),
                false,
            ),
        ]);
    }
    ops
}

/// `{name}` segments of a path as path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

/// The properties of a query struct's schema as query parameters.
fn query_parameters(schema: &Schema) -> Vec<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, s)| {
            let mut s = s.clone();
            let description = s
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .unwrap_or(Value::Null);
            let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s});
            if !description.is_null() {
                p["description"] = description;
            }
            p
        })
        .collect()
}

fn error_response(what: &str) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// The document; with `pipelines`, the routes of `ai4ict serve`'s pipelines too.
pub(crate) fn document(pipelines: bool) -> Value {
    let mut g = SchemaSettings::openapi3().into_generator();
    let ops = operations(&mut g, pipelines);
    let mut paths = Map::new();
    for o in ops {
        let mut parameters = path_parameters(o.path);
        if let Some(q) = &o.query {
            parameters.extend(query_parameters(q));
        }
        if let Some((name, description)) = o.header {
            parameters.push(json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}}));
        }
        let (status, answer) = o.ok;
        let ok = match answer {
            Answer::Json(s) => {
                json!({"description": "success", "content": {"application/json": {"schema": s}}})
            }
            Answer::Page(item) => json!({
                "description": "one page of the listing",
                "headers": {
                    crate::api::TOTAL_HEADER: {"description": "items before paging", "schema": {"type": "integer"}},
                    crate::api::UNREADABLE_HEADER: {"description": "stored rows that could not be read, left out", "schema": {"type": "integer"}}
                },
                "content": {"application/json": {"schema": {"type": "array", "items": item}}}
            }),
            Answer::Bytes(media) => {
                json!({"description": "success", "content": {media: {"schema": {"type": "string", "format": "binary"}}}})
            }
        };
        let mut responses = Map::new();
        responses.insert(status.to_string(), ok);
        responses.insert(
            "400".into(),
            error_response("bad input: the message names the field"),
        );
        if o.write {
            responses.insert("401".into(), error_response("no token, or a wrong one"));
            responses.insert(
                "403".into(),
                error_response("a read-only server, or a foreign Host or Origin"),
            );
            responses.insert(
                "413".into(),
                error_response("a body over the server's limit"),
            );
        }
        if o.path.contains('{') || o.path == "/standard" {
            responses.insert("404".into(), error_response("no such item"));
        }
        responses.insert("default".into(), error_response("any other error"));
        let mut operation = json!({
            "summary": o.summary,
            "operationId": format!("{} {}", o.method, o.path),
            "responses": responses,
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some((media, schema)) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {media: {"schema": schema}}});
        }
        if o.write {
            operation["security"] = json!([{"bearer": []}]);
        }
        let item = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        item[o.method] = operation;
    }
    let mut schemas = g.take_definitions(true);
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "ai4ict hub and pipelines",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The AI standards catalogue, use cases, intelligence levels, the ITU-T Y.3176 model marketplace and the running pipelines. Writes need `Authorization: Bearer <token>`."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}
