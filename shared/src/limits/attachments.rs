//! Incident attachments (`create_external_coc_attachment`): the SDK's model
//! says "supported types .jpg, .png, .docx, .txt, .pdf, at most 10M".

/// The largest file, in bytes (10 MiB).
pub const ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// What a multipart body may add around the file: boundaries and part headers
/// (the SDK's are a few hundred bytes), so the route's body limit lets the
/// largest file through and nothing much bigger.
pub const ATTACHMENT_FORM_OVERHEAD: usize = 16 * 1024;
/// The body limit of the upload route.
pub const ATTACHMENT_BODY_BYTES: usize = ATTACHMENT_BYTES + ATTACHMENT_FORM_OVERHEAD;
/// The file's name as the form gives it (a file name, not a path).
pub const ATTACHMENT_NAME: super::Chars = super::chars(1, 255);
/// Path ids of attachments: we issue 32 hex characters.
pub const DOC_ID: super::Chars = super::chars(1, 64);
/// The one ticket type attachments are downloaded under (the SDK: "a fixed value, incident").
pub const ATTACHMENT_TICKET_TYPE: &str = "incident";
