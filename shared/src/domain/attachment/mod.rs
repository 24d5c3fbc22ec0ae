//! Incident attachments: a file a user uploads (to reference it from an
//! incident) and downloads again, within its tenant. Only the SDK's types are
//! taken (.jpg, .png, .docx, .txt, .pdf), each recognized by its name's
//! extension AND its content, and served with our content type for it, never
//! the client's: nothing uploaded comes back as HTML or script.

pub mod multipart;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::domain::tenant::ProjectId;
use crate::limits;

/// The file types an attachment may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Jpg,
    Png,
    Docx,
    Txt,
    Pdf,
}

impl FileKind {
    /// The kind a file name's extension names (`.jpeg` is a `.jpg`).
    pub fn of_name(name: &str) -> Option<FileKind> {
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(FileKind::Jpg),
            "png" => Some(FileKind::Png),
            "docx" => Some(FileKind::Docx),
            "txt" => Some(FileKind::Txt),
            "pdf" => Some(FileKind::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Txt => "text/plain; charset=utf-8",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// Whether `bytes` look like this kind: the format's signature (a .docx
    /// is a ZIP archive), or for text, UTF-8 without NUL characters.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            FileKind::Jpg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            FileKind::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            FileKind::Docx => bytes.starts_with(b"PK\x03\x04"),
            FileKind::Pdf => bytes.starts_with(b"%PDF-"),
            FileKind::Txt => std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0')),
        }
    }
}

/// An uploaded file that passed every check: its name, kind and bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub kind: FileKind,
    pub bytes: Bytes,
}

/// Why an upload is refused: the form field it is about, and what is wrong.
pub type Refusal = (&'static str, String);

impl Upload {
    /// The one file of a `multipart/form-data` body, checked: its field is
    /// `file`, its name a plain file name of an allowed type, its size within
    /// the limit and its content of the type its name says.
    pub fn from_form(content_type: &str, body: &Bytes) -> Result<Upload, Refusal> {
        let boundary = multipart::boundary(content_type).map_err(|problem| ("Content-Type", problem))?;
        let parts = multipart::parse(body, &boundary).map_err(|problem| ("body", format!("the form {problem}")))?;
        if let Some(other) = parts.iter().find(|p| p.name != "file") {
            return Err(("body", format!("the form has an unknown field {:?}: only file is taken", other.name)));
        }
        let mut files = parts.into_iter();
        let (Some(part), None) = (files.next(), files.next()) else {
            return Err(("file", "must be given once".into()));
        };
        let name = part.filename.ok_or(("file", "must be a file (its part has no filename)".to_owned()))?;
        Self::check(name, part.body)
    }

    fn check(name: String, bytes: Bytes) -> Result<Upload, Refusal> {
        limits::ATTACHMENT_NAME.check(&name).map_err(|problem| ("file", format!("its name {problem}")))?;
        if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name.starts_with('.') {
            return Err(("file", format!("its name {name:?} must be a plain file name")));
        }
        let kind = FileKind::of_name(&name)
            .ok_or_else(|| ("file", format!("{name:?} is not of a supported type: .jpg, .png, .docx, .txt or .pdf")))?;
        if bytes.is_empty() {
            return Err(("file", "is empty".into()));
        }
        if bytes.len() > limits::ATTACHMENT_BYTES {
            return Err(("file", format!("must be at most {} bytes, got {}", limits::ATTACHMENT_BYTES, bytes.len())));
        }
        if !kind.matches(&bytes) {
            return Err(("file", format!("{name:?} does not hold what its extension says")));
        }
        Ok(Upload { name, kind, bytes })
    }
}

/// An attachment as the table holds it; its bytes are in the blob store
/// under `blob_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub doc_id: String,
    pub doc_name: String,
    pub project_id: ProjectId,
    pub kind: FileKind,
    pub size: usize,
    /// Hex SHA-256 of the bytes, checked when they are read back.
    pub sha256: String,
    pub blob_key: String,
    /// Who uploaded it (the caller's user id).
    pub uploader: String,
    pub create_time: i64,
}

impl Attachment {
    pub fn new(upload: &Upload, doc_id: String, project_id: ProjectId, uploader: String, now: i64) -> Self {
        // The tenant first: a blob store holds nothing but attachments, by tenant.
        let blob_key = format!("{}/{doc_id}", project_id.as_str());
        Attachment {
            doc_name: upload.name.clone(),
            kind: upload.kind,
            size: upload.bytes.len(),
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&upload.bytes)),
            blob_key,
            doc_id,
            project_id,
            uploader,
            create_time: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, content: &[u8]) -> (String, Bytes) {
        let mut body =
            format!("--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n").into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n--xx--\r\n");
        ("multipart/form-data; boundary=xx".into(), Bytes::from(body))
    }

    fn upload(name: &str, content: &[u8]) -> Result<Upload, Refusal> {
        let (content_type, body) = form(name, content);
        Upload::from_form(&content_type, &body)
    }

    #[test]
    fn each_supported_type_is_taken_by_name_and_content() {
        for (name, content, kind) in [
            ("a.jpg", &b"\xFF\xD8\xFF\xE0jfif"[..], FileKind::Jpg),
            ("A.JPEG", b"\xFF\xD8\xFF\xE1", FileKind::Jpg),
            ("b.png", b"\x89PNG\r\n\x1a\n....", FileKind::Png),
            ("c.docx", b"PK\x03\x04zip", FileKind::Docx),
            ("d.txt", "disk full on web-1 \u{2014} see log".as_bytes(), FileKind::Txt),
            ("e.pdf", b"%PDF-1.7\n", FileKind::Pdf),
        ] {
            let taken = upload(name, content).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!((taken.kind, &taken.bytes[..], taken.name.as_str()), (kind, content, name));
        }
    }

    #[test]
    fn other_types_and_disguised_files_are_refused_naming_the_file() {
        for (name, content, says) in [
            ("page.html", &b"<script>alert(1)</script>"[..], "not of a supported type"),
            ("noextension", b"x", "not of a supported type"),
            ("fake.pdf", b"<html>", "does not hold what its extension says"),
            ("fake.png", b"GIF89a", "does not hold what its extension says"),
            ("binary.txt", b"a\0b", "does not hold what its extension says"),
            ("empty.txt", b"", "is empty"),
            (".hidden.txt", b"x", "plain file name"),
        ] {
            let (field, problem) = upload(name, content).unwrap_err();
            assert_eq!(field, "file", "{name}");
            assert!(problem.contains(says), "{name}: {problem}");
        }
    }

    #[test]
    fn the_size_limit_is_exact() {
        let at_limit = vec![b'a'; limits::ATTACHMENT_BYTES];
        assert!(upload("big.txt", &at_limit).is_ok());
        let past = vec![b'a'; limits::ATTACHMENT_BYTES + 1];
        let (field, problem) = upload("big.txt", &past).unwrap_err();
        assert_eq!(field, "file");
        assert!(problem.contains(&limits::ATTACHMENT_BYTES.to_string()), "{problem}");
    }

    #[test]
    fn the_form_must_hold_exactly_one_file_and_nothing_else() {
        let body = Bytes::from_static(b"--xx\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--xx--");
        assert!(Upload::from_form("multipart/form-data; boundary=xx", &body).unwrap_err().1.contains("other"));
        let body = Bytes::from_static(b"--xx\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nv\r\n--xx--");
        assert!(Upload::from_form("multipart/form-data; boundary=xx", &body).unwrap_err().1.contains("filename"));
        let (_, body) = form("a.txt", b"x");
        assert_eq!(Upload::from_form("application/json", &body).unwrap_err().0, "Content-Type");
    }
}
