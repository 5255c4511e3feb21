//! Files on amoCRM's drive (DF:files-api, DF:files-capabilities): Upload a
//! binary input and attach it to a lead, contact, company or customer; Get
//! an entity's files; Download a file as binary output.
//!
//! The drive lives on its own host, which amoCRM names per account
//! (`GET /api/v4/account?with=drive_url`). Every drive address the token is
//! sent to (the drive URL, the upload session's `upload_url` and each
//! `next_url`, a file's download link) must be on that drive's origin, and
//! that origin must pass [`AccountAddress::drive_origin`]: amoCRM's and
//! Kommo's own drive hosts only (loopback only for a local account). A
//! redirect from the drive is never followed.
//!
//! An upload opens a session (`POST {drive}/v1.0/sessions` with the file's
//! name, size and type), then sends the bytes in parts of the session's
//! `max_part_size`, each part to the URL the previous answer named; the last
//! answer is the file. This module decides every part's bytes
//! ([`crate::http::BinarySlice`]); the shell reads just those from n8n's
//! binary data, so memory holds a part at a time. Files go one at a time.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError};
use crate::engine::{live_items, Io, Operation, Replay, Reply, Tag};
use crate::entity::get_many::{ListRecords, Listing};
use crate::entity::{Entity, Features, NoRules};
use crate::error::{ErrorKind, NodeError};
use crate::http::{BinarySlice, Method, Request, BINARY_KEY};
use crate::input::{shorten, InputError, Params};

use super::info::ACCOUNT_PATH;
use super::resources::FIELD_ENTITIES;
use super::scoped::Scoped;

/// The default binary property of n8n items.
pub const DEFAULT_PROPERTY: &str = "data";

/// The drive of the account, once read: its origin, or why it cannot be used.
type Drive = Option<Result<String, NodeError>>;

fn drive_error(account: &AccountAddress, url: &str, why: impl std::fmt::Display) -> NodeError {
    NodeError::new(
        ErrorKind::Address,
        format!("Refused to send the amoCRM credential to the drive address \"{}\": {why}", shorten(url)),
    )
    .with_description(format!(
        "Files live on amoCRM's drive, whose address amoCRM gives per account (drive_url). The token is only sent to amoCRM's and Kommo's own drive hosts{}.",
        if account.is_loopback() { " (for a local account: a loopback address)" } else { "" }
    ))
}

/// Checks that `url` is on the drive's origin; the URL as it is.
fn on_drive(account: &AccountAddress, drive: &str, url: &str) -> Result<String, NodeError> {
    match account.drive_origin(url) {
        Ok(origin) if origin == drive => Ok(url.to_string()),
        Ok(origin) => Err(drive_error(
            account,
            url,
            format!("it is on {origin}, not on the account's drive {drive}"),
        )),
        Err(e) => Err(drive_error(account, url, e)),
    }
}

fn file_meta(params: Params) -> Result<(String, String, String, u64), InputError> {
    let property = params.string("binaryPropertyName", "Input Binary Field")?.trim();
    let property = if property.is_empty() {
        DEFAULT_PROPERTY
    } else {
        property
    };
    let meta = params.object("binary");
    if meta.is_empty() {
        return Err(InputError::new(
            "Input Binary Field",
            format!("the item has no binary data under \"{}\"", shorten(property)),
        ));
    }
    let size = meta.whole("fileSize", "Input Binary Field", 0)?.unwrap_or(0) as u64;
    if size == 0 {
        // amoCRM's drive refuses empty files.
        return Err(InputError::new(
            "Input Binary Field",
            "the file is empty; amoCRM's drive takes no empty files",
        ));
    }
    let given = params.string("fileName", "File Name")?.trim();
    let name = if given.is_empty() {
        meta.string("fileName", "File Name")?.trim()
    } else {
        given
    };
    let name = if name.is_empty() { "file" } else { name };
    let mime = meta.string("mimeType", "Input Binary Field")?.trim();
    let mime = if mime.is_empty() {
        "application/octet-stream"
    } else {
        mime
    };
    Ok((property.to_string(), name.to_string(), mime.to_string(), size))
}

/// The record a file is attached to: `(entity, id)`, or none.
fn attach_to(params: Params) -> Result<Option<(String, u64)>, InputError> {
    let entity = params.string("attachTo", "Attach To")?.trim();
    if entity.is_empty() || entity == "none" {
        return Ok(None);
    }
    if !FIELD_ENTITIES.contains(&entity) {
        return Err(InputError::new(
            "Attach To",
            format!("\"{}\" is not none, {}", shorten(entity), FIELD_ENTITIES.join(", ")),
        ));
    }
    let id = params.id("recordId", "Record ID", "a record")?.ok_or_else(|| {
        InputError::new(
            "Record ID",
            "is empty; enter the ID of the record to attach the file to",
        )
    })?;
    Ok(Some((entity.to_string(), id.get())))
}

fn file_uuid(params: Params) -> Result<String, InputError> {
    let uuid = params.string("fileUuid", "File UUID")?.trim();
    if uuid.len() < 8 || uuid.len() > 64 || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(InputError::new(
            "File UUID",
            format!(
                "\"{}\" is not a file UUID such as 9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e",
                shorten(uuid)
            ),
        ));
    }
    Ok(uuid.to_ascii_lowercase())
}

enum Step {
    /// Waiting for the session (upload) or the file model (download).
    Open,
    /// Upload: `sent` bytes are on their way or there.
    Parts { sent: u64, part: u64, page: u32 },
    /// Upload: the file is there, being attached.
    Attach { file: Value },
    /// Download: the bytes are being fetched.
    Fetch { file: Value },
}

struct Job {
    index: usize,
    params: Value,
    step: Step,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Upload,
    Download,
}

/// Upload and Download: one file at a time, after one read of the drive's
/// address.
pub struct FileJobs {
    mode: Mode,
    account: AccountAddress,
    drive: Drive,
    asked: bool,
    queue: VecDeque<(usize, Value)>,
    job: Option<Job>,
}

impl FileJobs {
    fn new_mode(mode: Mode, account: AccountAddress) -> FileJobs {
        FileJobs {
            mode,
            account,
            drive: None,
            asked: false,
            queue: VecDeque::new(),
            job: None,
        }
    }

    pub fn upload(account: AccountAddress) -> FileJobs {
        FileJobs::new_mode(Mode::Upload, account)
    }

    pub fn download(account: AccountAddress) -> FileJobs {
        FileJobs::new_mode(Mode::Download, account)
    }

    fn check(&self, params: Params) -> Result<(), InputError> {
        match self.mode {
            Mode::Upload => file_meta(params).and(attach_to(params)).map(|_| ()),
            Mode::Download => file_uuid(params).map(|_| ()),
        }
    }

    /// Starts the next file when none is under way and the drive is known.
    fn next(&mut self, io: &mut Io) {
        while self.job.is_none() {
            let drive = match &self.drive {
                None => return,
                Some(Err(e)) => {
                    let e = e.clone();
                    for (index, _) in self.queue.drain(..) {
                        io.fail(index, e.clone());
                    }
                    return;
                }
                Some(Ok(d)) => d.clone(),
            };
            let Some((index, params)) = self.queue.pop_front() else {
                return;
            };
            let p = Params::new(&params);
            let request = match self.mode {
                Mode::Upload => {
                    let (_, name, mime, size) = match file_meta(p) {
                        Ok(m) => m,
                        Err(e) => {
                            io.fail(index, NodeError::input(index, &e));
                            continue;
                        }
                    };
                    Request::new(Method::Post, format!("{drive}/v1.0/sessions"))
                        .json(&json!({"file_name": name, "file_size": size, "content_type": mime}))
                }
                Mode::Download => match file_uuid(p) {
                    Ok(uuid) => Request::get(format!("{drive}/v1.0/files/{uuid}")),
                    Err(e) => {
                        io.fail(index, NodeError::input(index, &e));
                        continue;
                    }
                },
            };
            // A session that is never used expires by itself: safe to resend.
            io.send(Tag::Item(index), request, Replay::Safe);
            self.job = Some(Job {
                index,
                params,
                step: Step::Open,
            });
        }
    }

    fn on_drive_url(&mut self, reply: Reply) {
        let read = reply.and_then(|r| parse_json(&r));
        self.drive = Some(match read {
            Err(e) => Err(NodeError::api("Reading the account's drive address", &e)),
            Ok(account) => match account["drive_url"].as_str() {
                None => Err(NodeError::new(
                    ErrorKind::Api,
                    "amoCRM did not say where the account's file drive is (no drive_url)",
                )
                .with_description("The account may not have file storage; check Settings › Files in amoCRM.")),
                Some(url) => self
                    .account
                    .drive_origin(url)
                    .map_err(|e| drive_error(&self.account, url, e)),
            },
        });
    }

    fn fail_job(&mut self, error: NodeError, io: &mut Io) {
        if let Some(job) = self.job.take() {
            io.fail(job.index, error.about_item(job.index, ": "));
        }
    }

    fn send_part(&mut self, url: String, sent: u64, part: u64, page: u32, io: &mut Io) {
        let Some(job) = &mut self.job else { return };
        let (property, _, mime, size) = file_meta(Params::new(&job.params)).expect("checked");
        let end = (sent + part).min(size);
        let mut request = Request::new(Method::Post, url);
        request.headers.insert("content-type".into(), mime);
        request.binary_body = Some(BinarySlice {
            index: job.index,
            property,
            start: sent,
            end,
        });
        job.step = Step::Parts { sent: end, part, page };
        io.send(
            Tag::Page { item: job.index, page },
            request,
            Replay::Unsafe(format!("uploads part {page} of a file")),
        );
    }

    fn on_open(&mut self, answer: Value, drive: &str, io: &mut Io) {
        let Some(job) = &mut self.job else { return };
        let params = job.params.clone();
        let p = Params::new(&params);
        match self.mode {
            Mode::Upload => {
                let (_, _, _, size) = file_meta(p).expect("checked");
                if let Some(max) = answer["max_file_size"].as_u64() {
                    if size > max {
                        return self.fail_job(
                            NodeError::new(
                                ErrorKind::Api,
                                format!("The file is larger ({size} bytes) than amoCRM's drive takes ({max} bytes)"),
                            ),
                            io,
                        );
                    }
                }
                let part = answer["max_part_size"].as_u64().filter(|p| *p > 0);
                let url = answer["upload_url"].as_str();
                let (Some(part), Some(url)) = (part, url) else {
                    return self.fail_job(
                        NodeError::api(
                            "Opening the upload",
                            &ApiError::unreadable(200, "no upload_url or max_part_size in the session"),
                        ),
                        io,
                    );
                };
                match on_drive(&self.account, drive, url) {
                    Ok(url) => self.send_part(url, 0, part, 1, io),
                    Err(e) => self.fail_job(e, io),
                }
            }
            Mode::Download => {
                let Some(href) = answer["_links"]["download"]["href"].as_str() else {
                    return self.fail_job(
                        NodeError::api(
                            "Reading the file",
                            &ApiError::unreadable(200, "the file has no download link"),
                        ),
                        io,
                    );
                };
                match on_drive(&self.account, drive, href) {
                    Ok(url) => {
                        let index = job.index;
                        let mut request = Request::get(url);
                        request.keep_body = Some(format!("file-{index}"));
                        job.step = Step::Fetch { file: answer };
                        io.send(Tag::Page { item: index, page: 1 }, request, Replay::Safe);
                    }
                    Err(e) => self.fail_job(e, io),
                }
            }
        }
    }

    fn finish(&mut self, output: Value, io: &mut Io) {
        if let Some(job) = self.job.take() {
            io.emit(job.index, output);
        }
    }
}

/// Redirects are never followed (the token would go with them); a 3xx
/// from the drive is an error of its own.
fn drive_failure(context: &str, e: &ApiError) -> NodeError {
    match e.status {
        Some(s @ 300..=399) => NodeError::new(
            ErrorKind::Address,
            format!("{context}: amoCRM's drive answered with a redirect ({s}), which is not followed"),
        )
        .with_description(
            "The credential's token is only sent to the account's own drive address; a redirect elsewhere is refused.",
        ),
        _ => NodeError::api(context, e),
    }
}

impl Operation for FileJobs {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        for (index, item) in live_items(first, &items) {
            match self.check(Params::new(item)) {
                Ok(()) => self.queue.push_back((index, item.clone())),
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        if !self.asked && !self.queue.is_empty() {
            self.asked = true;
            io.send(
                Tag::Account,
                Request::get(self.account.url(&format!("{ACCOUNT_PATH}?with=drive_url"))),
                Replay::Safe,
            );
        }
        self.next(io);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if tag == Tag::Account {
            self.on_drive_url(reply);
            return self.next(io);
        }
        let Some(Ok(drive)) = self.drive.clone() else { return };
        let Some(job) = &self.job else { return };
        let doing = match (self.mode, &job.step) {
            (Mode::Upload, Step::Open) => "Opening the upload",
            (Mode::Upload, Step::Parts { .. }) => "Uploading the file",
            (Mode::Upload, _) => "Attaching the file",
            (Mode::Download, Step::Open) => "Reading the file",
            (Mode::Download, _) => "Downloading the file",
        };
        let answer = match reply {
            Err(e) => {
                let error = match &job.step {
                    Step::Attach { file } => drive_failure(doing, &e).with_description(format!(
                        "The file was uploaded to amoCRM's drive (uuid {}), but attaching it failed.",
                        file["uuid"].as_str().unwrap_or("?")
                    )),
                    _ => drive_failure(doing, &e),
                };
                self.fail_job(error, io);
                return self.next(io);
            }
            Ok(r) => r,
        };
        let step = std::mem::replace(&mut self.job.as_mut().expect("checked").step, Step::Open);
        match step {
            Step::Open => match parse_json(&answer) {
                Ok(v) => self.on_open(v, &drive, io),
                Err(e) => self.fail_job(NodeError::api(doing, &e), io),
            },
            Step::Parts { sent, part, page } => {
                let size = file_meta(Params::new(&self.job.as_ref().expect("checked").params)).map_or(0, |m| m.3);
                let v = match parse_json(&answer) {
                    Ok(v) => v,
                    Err(e) => {
                        self.fail_job(NodeError::api(doing, &e), io);
                        return self.next(io);
                    }
                };
                if sent < size {
                    match v["next_url"].as_str().map(|u| on_drive(&self.account, &drive, u)) {
                        Some(Ok(url)) => self.send_part(url, sent, part, page + 1, io),
                        Some(Err(e)) => self.fail_job(e, io),
                        None => self.fail_job(
                            NodeError::api(
                                doing,
                                &ApiError::unreadable(
                                    answer.status,
                                    format!("no next_url after {sent} of {size} bytes"),
                                ),
                            ),
                            io,
                        ),
                    }
                } else {
                    let job = self.job.as_mut().expect("checked");
                    match attach_to(Params::new(&job.params)) {
                        Ok(Some((entity, id))) => {
                            let uuid = v["uuid"].clone();
                            let request =
                                Request::new(Method::Put, self.account.url(&format!("/api/v4/{entity}/{id}/files")))
                                    .json(&json!([{ "file_uuid": uuid }]));
                            let index = job.index;
                            job.step = Step::Attach { file: v };
                            io.send(
                                Tag::Current {
                                    writer: 0,
                                    n: index as u32,
                                },
                                request,
                                Replay::Safe,
                            );
                        }
                        _ => self.finish(v, io),
                    }
                }
            }
            Step::Attach { mut file } => {
                let (entity, id) = attach_to(Params::new(&self.job.as_ref().expect("checked").params))
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                file["attached_to"] = json!({"entity_type": entity, "entity_id": id});
                self.finish(file, io);
            }
            Step::Fetch { mut file } => {
                let job = self.job.as_ref().expect("checked");
                let p = Params::new(&job.params);
                let property = p.string("binaryPropertyName", "").unwrap_or_default().trim();
                let property = if property.is_empty() {
                    DEFAULT_PROPERTY
                } else {
                    property
                };
                file[BINARY_KEY] = json!({
                    "key": format!("file-{}", job.index),
                    "property": property,
                    "fileName": file["name"],
                    "mimeType": file["metadata"]["mime_type"],
                });
                self.finish(file, io);
            }
        }
        self.next(io);
    }
}

/// Get Many of files: the files linked to a record,
/// `GET /api/v4/{entity}/{id}/files` (`_embedded.files[{file_uuid, id}]`,
/// PHP EntityFiles.php), every page with Return All.
pub fn entity_files(account: AccountAddress) -> Scoped {
    Scoped::new(
        |p| {
            let key = super::resources::Scope::GroupEntity.key_of(p)?;
            p.id("recordId", "Record ID", "a record")?.ok_or_else(|| {
                InputError::new("Record ID", "is empty; enter the ID of the record whose files to list")
            })?;
            Ok(key)
        },
        move |key, _| {
            let entity = Entity {
                noun: "record",
                nouns: "records",
                label: "Record",
                path: format!("/api/v4/{key}").into(),
                embedded: "files",
                entity_type: "files",
                card: None,
                id_param: "recordId",
                with: &[],
                with_list_only: &[],
                order: &[],
                filters: &[],
                fields: &[],
                read_only: &[],
                fields_path: "".into(),
                max_batch: 1,
                multitext: false,
                features: Features::NONE,
                rules: &NoRules,
            };
            Box::new(ListRecords::new(
                entity.into(),
                Listing::Nested("files"),
                account.clone(),
            ))
        },
    )
}
