//! Builders and shapers of the Account node's operations, through the driver.

use serde_json::{json, Value};

use crate::account::{AccountAddress, Zone};
use crate::engine::testing::Run;
use crate::engine::{Driver, Emit, Step};
use crate::http::Response;

fn run(resource: &str, op: &str, items: Vec<Value>) -> (Run, Step) {
    run_on(
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap(),
        resource,
        op,
        items,
    )
}

fn run_on(account: AccountAddress, resource: &str, op: &str, items: Vec<Value>) -> (Run, Step) {
    let planned = super::operation(resource, op, account, "longLivedToken").expect("an operation");
    let mut r = Run::new(Driver::new(planned.op).continue_on_fail(true).writes(planned.writes));
    let s = r.start(items);
    (r, s)
}

fn error_of(s: &Step) -> String {
    s.emit
        .iter()
        .find_map(|e| match e {
            Emit::Error { error, .. } => Some(error.message.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn body(s: &Step, i: usize) -> Value {
    serde_json::from_str(s.requests[i].request.body.as_deref().unwrap()).unwrap()
}

const PIPELINES: &str = r#"{"_embedded":{"pipelines":[{"id":7,"is_main":true,"_embedded":{"statuses":[{"id":10,"type":1,"is_editable":false},{"id":11,"type":0,"is_editable":true},{"id":142,"is_editable":false},{"id":143,"is_editable":false}]}},{"id":8,"is_main":false,"_embedded":{"statuses":[]}}]}}"#;

#[test]
fn status_writes_are_checked_against_the_pipelines_before_anything_is_sent() {
    let (mut r, s) = run(
        "pipelineStatus",
        "update",
        vec![
            json!({"pipelineId": 7, "statusId": 142, "updateFields": {"name": "x"}}),
            json!({"pipelineId": 7, "statusId": 10, "updateFields": {"name": "x"}}),
            json!({"pipelineId": 7, "statusId": 11, "updateFields": {"name": "Qualified", "color": "98CBFF"}}),
        ],
    );
    assert_eq!(s.requests.len(), 1);
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/leads/pipelines"
    );
    let s = r.reply(s.requests[0].id, Response::new(200, PIPELINES));
    let errors: Vec<_> = s
        .emit
        .iter()
        .filter_map(|e| {
            if let Emit::Error { index, error } = e {
                Some((*index, error.message.clone()))
            } else {
                None
            }
        })
        .collect();
    assert!(
        errors[0]
            .1
            .contains("Item 0, field \"Status\": 142 is amoCRM's own \"won\" status"),
        "{errors:?}"
    );
    assert!(errors[1].1.contains("status 10 is one of amoCRM's own"), "{errors:?}");
    assert_eq!(s.requests.len(), 1);
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/leads/pipelines/7/statuses/11"
    );
    assert_eq!(body(&s, 0), json!({"name": "Qualified", "color": "#98cbff"}));
}

#[test]
fn the_main_pipeline_is_not_deleted_and_limits_count_the_run() {
    let (mut r, s) = run(
        "pipeline",
        "delete",
        vec![json!({"pipelineId": 7}), json!({"pipelineId": 8})],
    );
    let s = r.reply(s.requests[0].id, Response::new(200, PIPELINES));
    assert!(error_of(&s).contains("main pipeline, which amoCRM cannot delete"));
    assert_eq!(s.requests[0].request.method, crate::http::Method::Delete);
    let many: Vec<Value> = (0..49).map(|i| json!({"name": format!("P{i}"), "sort": i})).collect();
    let (mut r, s) = run("pipeline", "create", many);
    let s = r.reply(s.requests[0].id, Response::new(200, PIPELINES));
    assert!(
        error_of(&s).contains("more than the 50 pipelines amoCRM allows (it has 50)"),
        "{}",
        error_of(&s)
    );
    assert_eq!(body(&s, 0).as_array().unwrap().len(), 48);
    assert_eq!(
        body(&s, 0)[0],
        json!({"name": "P0", "sort": 0, "is_main": false, "is_unsorted_on": false, "request_id": "0"})
    );
}

#[test]
fn colours_types_and_passwords_are_checked_in_the_body() {
    let (_, s) = run(
        "pipelineStatus",
        "create",
        vec![json!({"pipelineId": 7, "name": "x", "additionalFields": {"color": "#123456"}})],
    );
    assert!(s.requests.len() == 1, "the pipelines are read first");
    let (_, s) = run(
        "tag",
        "create",
        vec![json!({"entityType": "contacts", "name": "x", "additionalFields": {"color": "DDEBB5"}})],
    );
    assert!(error_of(&s).contains("only lead tags have a colour"));
    let (_, s) = run(
        "tag",
        "create",
        vec![json!({"entityType": "leads", "name": "x", "additionalFields": {"color": "ddebb5"}})],
    );
    assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/leads/tags");
    assert_eq!(body(&s, 0)[0]["color"], "DDEBB5");
    let (_, s) = run(
        "customField",
        "create",
        vec![json!({"entityType": "leads", "name": "C", "type": "select"})],
    );
    assert!(error_of(&s).contains("a select field needs its options"));
    let (_, s) = run(
        "customField",
        "create",
        vec![
            json!({"entityType": "catalogs", "catalogId": 1001, "name": "C", "type": "select", "additionalFields": {"enums": "A, B", "requiredStatuses": ["7:142"]}}),
        ],
    );
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/catalogs/1001/custom_fields"
    );
    assert_eq!(
        body(&s, 0)[0]["enums"],
        json!([{"value": "A", "sort": 10}, {"value": "B", "sort": 20}])
    );
    assert_eq!(
        body(&s, 0)[0]["required_statuses"],
        json!([{"pipeline_id": 7, "status_id": 142}])
    );
    let (_, s) = run(
        "user",
        "create",
        vec![json!({"name": "A", "email": "a@b.c", "additionalFields": {"password": "secret1"}})],
    );
    assert!(error_of(&s).contains("upper-case letter"));
}

#[test]
fn unmatched_calls_fail_their_items_naming_the_phone() {
    let items = vec![
        json!({"direction": "inbound", "phone": "+7 912", "duration": 5, "source": "pbx"}),
        json!({"direction": "inbound", "phone": "+1 555", "duration": 5, "source": "pbx"}),
    ];
    let (mut r, s) = run("call", "create", items.clone());
    let answer = json!({"_embedded": {"calls": [{"id": 5, "entity_id": 9, "request_id": "0"}]}, "errors": [{"request_id": "1", "title": "Entity not found"}]});
    let s = r.reply(s.requests[0].id, Response::new(200, answer.to_string()));
    assert!(s.emit.contains(&Emit::Item {
        index: 0,
        json: json!({"id": 5, "entity_id": 9})
    }));
    assert!(error_of(&s).contains("No contact or company has the phone +1 555"));
    let (mut r, s) = run("call", "create", items);
    let s = r.reply(
        s.requests[0].id,
        Response::new(400, r#"{"_total_items":0,"errors":[{"title":"Entity not found"}]}"#),
    );
    assert_eq!(s.emit.len(), 2);
    assert!(s.emit.iter().all(|e| matches!(e, Emit::Error { .. })));
}

fn upload_item(size: u64) -> Value {
    json!({"binaryPropertyName": "data", "binary": {"fileName": "a.bin", "mimeType": "application/pdf", "fileSize": size}, "attachTo": "leads", "recordId": 5})
}

#[test]
fn uploads_go_in_the_sessions_parts_to_the_drive_and_are_attached() {
    let (mut r, s) = run("file", "upload", vec![upload_item(1_200_000)]);
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/account?with=drive_url"
    );
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"drive_url":"https://drive-b.amocrm.ru"}"#),
    );
    assert_eq!(s.requests[0].request.url, "https://drive-b.amocrm.ru/v1.0/sessions");
    assert_eq!(
        body(&s, 0),
        json!({"file_name": "a.bin", "file_size": 1_200_000, "content_type": "application/pdf"})
    );
    let session = json!({"upload_url": "https://drive-b.amocrm.ru/upload/1", "max_part_size": 524288, "max_file_size": 10_000_000});
    let mut s = r.reply(s.requests[0].id, Response::new(200, session.to_string()));
    let mut slices = Vec::new();
    for next in [
        "https://drive-b.amocrm.ru/upload/2",
        "https://drive-b.amocrm.ru/upload/3",
    ] {
        let slice = s.requests[0].request.binary_body.clone().unwrap();
        slices.push((slice.start, slice.end));
        s = r.reply(
            s.requests[0].id,
            Response::new(200, json!({"next_url": next}).to_string()),
        );
        assert_eq!(s.requests[0].request.url, next);
    }
    let last = s.requests[0].request.binary_body.clone().unwrap();
    slices.push((last.start, last.end));
    assert_eq!(slices, vec![(0, 524288), (524288, 1048576), (1048576, 1_200_000)]);
    assert_eq!(s.requests[0].request.headers["content-type"], "application/pdf");
    let s = r.reply(s.requests[0].id, Response::new(200, r#"{"uuid":"abc","size":1200000}"#));
    assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/leads/5/files");
    assert_eq!(body(&s, 0), json!([{"file_uuid": "abc"}]));
    let s = r.reply(s.requests[0].id, Response::new(202, ""));
    assert_eq!(
        s.emit[0].json().unwrap()["attached_to"],
        json!({"entity_type": "leads", "entity_id": 5})
    );
    assert!(s.done);
}

#[test]
fn hostile_drive_addresses_never_get_a_request() {
    for drive in [
        "https://evil.com",
        "https://drive-b.amocrm.ru.evil.com",
        "https://drive-b.amocrm.ru@evil.com",
        "http://drive-b.amocrm.ru",
        "https://93.184.216.34",
        "https://drive-b.amocrm.ru:8443",
    ] {
        let (mut r, s) = run(
            "file",
            "download",
            vec![json!({"fileUuid": "9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e"})],
        );
        let s = r.reply(
            s.requests[0].id,
            Response::new(200, json!({"drive_url": drive}).to_string()),
        );
        assert!(s.requests.is_empty(), "{drive}");
        assert!(
            error_of(&s).contains("Refused to send the amoCRM credential"),
            "{drive}"
        );
    }
    // A session or file that points off the drive is refused too.
    let (mut r, s) = run("file", "upload", vec![upload_item(10)]);
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"drive_url":"https://drive-b.amocrm.ru"}"#),
    );
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"upload_url":"https://drive-c.kommo.com/u","max_part_size":5}"#),
    );
    assert!(s.requests.is_empty());
    assert!(error_of(&s).contains("not on the account's drive"));
    let (mut r, s) = run("file", "download", vec![json!({"fileUuid": "9cb6ac4a"})]);
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"drive_url":"https://drive-b.amocrm.ru"}"#),
    );
    let s = r.reply(
        s.requests[0].id,
        Response::new(
            200,
            r#"{"name":"a","_links":{"download":{"href":"https://drive-b.amocrm.ru.evil.com/d"}}}"#,
        ),
    );
    assert!(s.requests.is_empty());
    // A redirect is an error, never followed.
    let (mut r, s) = run("file", "download", vec![json!({"fileUuid": "9cb6ac4a"})]);
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"drive_url":"https://drive-b.amocrm.ru"}"#),
    );
    let s = r.reply(s.requests[0].id, Response::new(200, r#"{"name":"a.txt","metadata":{"mime_type":"text/plain"},"_links":{"download":{"href":"https://drive-b.amocrm.ru/d/1"}}}"#));
    assert_eq!(s.requests[0].request.keep_body.as_deref(), Some("file-0"));
    let s = r.reply(
        s.requests[0].id,
        Response::new(302, "").with_header("location", "https://evil.com/"),
    );
    assert!(
        error_of(&s).contains("redirect (302), which is not followed"),
        "{}",
        error_of(&s)
    );
}

#[test]
fn downloads_name_their_bytes_for_the_shell() {
    let (mut r, s) = run(
        "file",
        "download",
        vec![json!({"fileUuid": "9CB6AC4A", "binaryPropertyName": "pdf"})],
    );
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"drive_url":"https://drive-b.amocrm.ru"}"#),
    );
    assert_eq!(
        s.requests[0].request.url,
        "https://drive-b.amocrm.ru/v1.0/files/9cb6ac4a"
    );
    let s = r.reply(s.requests[0].id, Response::new(200, r#"{"uuid":"9cb6ac4a","name":"a.pdf","metadata":{"mime_type":"application/pdf"},"_links":{"download":{"href":"https://drive-b.amocrm.ru/d/1"}}}"#));
    let s = r.reply(s.requests[0].id, Response::new(200, ""));
    let out = s.emit[0].json().unwrap();
    assert_eq!(
        out["$binary"],
        json!({"key": "file-0", "property": "pdf", "fileName": "a.pdf", "mimeType": "application/pdf"})
    );
}

#[test]
fn check_connection_says_whose_account_and_whether_it_works() {
    let (mut r, s) = run("account", "checkConnection", vec![json!({})]);
    let s = r.reply(
        s.requests[0].id,
        Response::new(200, r#"{"id":1,"subdomain":"shop","name":"Shop","current_user_id":3}"#),
    );
    let out = s.emit[0].json().unwrap();
    assert_eq!(
        (
            out["connected"].clone(),
            out["accountId"].clone(),
            out["credentialKind"].clone()
        ),
        (json!(true), json!(1), json!("Long-lived token"))
    );
    let (mut r, s) = run("account", "checkConnection", vec![json!({})]);
    let s = r.reply(
        s.requests[0].id,
        Response::new(403, "<html>blocked</html>").with_header("content-type", "text/html"),
    );
    let out = s.emit[0].json().unwrap();
    assert_eq!(out["connected"], false);
    assert!(out["error"].as_str().unwrap().len() > 5);
    let (_, s) = run("account", "get", vec![json!({"with": ["drive_url", "task_types"]})]);
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/account?with=drive_url,task_types"
    );
    let (_, s) = run("account", "get", vec![json!({"with": ["passwords"]})]);
    assert!(error_of(&s).contains("\"passwords\" is not one of"));
}

#[test]
fn webhooks_talks_bots_and_untagging_are_spelled_as_amocrm_documents() {
    let (_, s) = run(
        "webhookSubscription",
        "subscribe",
        vec![json!({"destination": "https://x.io/h", "events": ["add_lead", "add_talk"], "sort": 2})],
    );
    assert_eq!(
        body(&s, 0),
        json!({"destination": "https://x.io/h", "settings": ["add_lead", "add_talk"], "sort": 2})
    );
    let (_, s) = run(
        "webhookSubscription",
        "subscribe",
        vec![json!({"destination": "https://x.io/h", "events": ["explode"]})],
    );
    assert!(error_of(&s).contains("not an amoCRM webhook event"));
    let (_, s) = run(
        "webhookSubscription",
        "getMany",
        vec![json!({"destination": "https://x.io/h"})],
    );
    assert_eq!(
        s.requests[0].request.url,
        "https://shop.amocrm.ru/api/v4/webhooks?filter[destination]=https%3A%2F%2Fx.io%2Fh"
    );
    let (_, s) = run("talk", "close", vec![json!({"talkId": 5, "forceClose": true})]);
    assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/talks/5/close");
    assert_eq!(body(&s, 0), json!({"force_close": true}));
    let (_, s) = run(
        "salesbot",
        "run",
        vec![json!({"botId": 77, "entityType": "contacts", "entityId": 9})],
    );
    assert_eq!(body(&s, 0), json!([{"bot_id": 77, "entity_id": 9, "entity_type": 1}]));
    let (_, s) = run(
        "tag",
        "delete",
        vec![json!({"entityType": "contacts", "recordId": 9, "tags": "vip, 12"})],
    );
    assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/contacts");
    assert_eq!(
        body(&s, 0),
        json!([{"id": 9, "tags_to_delete": [{"name": "vip"}, {"id": 12}], "request_id": "0"}])
    );
    let (_, s) = run(
        "fieldGroup",
        "update",
        vec![json!({"entityType": "leads", "groupId": "leads_1", "updateFields": {"fieldIds": "5,6"}})],
    );
    assert_eq!(body(&s, 0), json!({"fields": [5, 6]}));
}
