//! The part of `multipart/form-data` (RFC 7578) uploads need: the parts of
//! one body, each with its form field name, file name, and bytes. The SDK
//! sends one part, `file`, with the file's base name.

use bytes::Bytes;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The form field (`name=` of its Content-Disposition).
    pub name: String,
    /// `filename=`, when the part is a file.
    pub filename: Option<String>,
    pub body: Bytes,
}

/// The boundary of a `multipart/form-data` content type; `Err` says why there is none.
pub fn boundary(content_type: &str) -> Result<String, String> {
    let mut params = content_type.split(';');
    let essence = params.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!("must be multipart/form-data, got {essence:?}"));
    }
    for param in params {
        if let Some((name, value)) = param.split_once('=') {
            if name.trim().eq_ignore_ascii_case("boundary") {
                let value = value.trim().trim_matches('"');
                // RFC 2046: 1 to 70 characters.
                if (1..=70).contains(&value.len()) {
                    return Ok(value.to_owned());
                }
                return Err("has a boundary of more than 70 characters".into());
            }
        }
    }
    Err("has no boundary".into())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|at| at + from)
}

/// The parts of `body`, delimited by `boundary`. Text before the first
/// delimiter and after the last is ignored, as RFC 2046 says.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = match body.starts_with(delimiter.as_bytes()) {
        true => delimiter.len(),
        false => find(body, next_delimiter.as_bytes(), 0).ok_or("has no part")? + next_delimiter.len(),
    };
    let mut parts = Vec::new();
    loop {
        // After a delimiter: `--` closes the body, CRLF starts a part.
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        let line_end = find(body, b"\r\n", at).ok_or("ends inside a delimiter line")?;
        if !body[at..line_end].iter().all(|b| *b == b' ' || *b == b'\t') {
            return Err("has text after a boundary".into());
        }
        let headers_start = line_end + 2;
        if body[headers_start..].starts_with(b"\r\n") {
            return Err("has a part without Content-Disposition".into());
        }
        let headers_end =
            find(body, b"\r\n\r\n", headers_start).ok_or("has a part without a blank line after its headers")?;
        let headers = std::str::from_utf8(&body[headers_start..headers_end])
            .map_err(|_| "has part headers that are not UTF-8")?;
        let content_start = headers_end + 4;
        let content_end = find(body, next_delimiter.as_bytes(), content_start).ok_or("has no closing boundary")?;
        let (name, filename) = disposition(headers)?;
        parts.push(Part { name, filename, body: body.slice(content_start..content_end) });
        at = content_end + next_delimiter.len();
    }
}

/// The field name and file name of a part's `Content-Disposition: form-data`.
fn disposition(headers: &str) -> Result<(String, Option<String>), String> {
    let value = headers
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, value)| value.trim())
        .ok_or("has a part without Content-Disposition")?;
    let mut params = split_params(value).into_iter();
    if !params.next().is_some_and(|(kind, _)| kind.eq_ignore_ascii_case("form-data")) {
        return Err("has a part that is not form-data".into());
    }
    let (mut name, mut filename, mut extended) = (None, None, None);
    for (key, raw) in params {
        match key.to_ascii_lowercase().as_str() {
            "name" => name = Some(unquote(&raw)),
            "filename" => filename = Some(unquote(&raw)),
            // RFC 5987 (`utf-8''caf%C3%A9.txt`), which wins over the plain one.
            "filename*" => extended = raw.split_once("''").map(|(_, encoded)| percent_decoded(encoded)),
            _ => {}
        }
    }
    let name = name.ok_or("has a part without a field name")?;
    Ok((name, extended.or(filename)))
}

/// `form-data; name="a;b"; filename="x"` → its `;`-separated pieces, quotes kept.
fn split_params(value: &str) -> Vec<(String, String)> {
    let (mut pieces, mut current, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    pieces.push(current);
    pieces
        .into_iter()
        .map(|piece| match piece.split_once('=') {
            Some((key, value)) => (key.trim().to_owned(), value.trim().to_owned()),
            None => (piece.trim().to_owned(), String::new()),
        })
        .collect()
}

/// A quoted string's text: `\x` is `x`, and `%22` a quote (HTML's form
/// encoding, which urllib3 and browsers use for quotes in file names).
fn unquote(raw: &str) -> String {
    let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            c => text.push(c),
        }
    }
    text.replace("%22", "\"")
}

fn percent_decoded(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=abc123").unwrap(), "abc123");
        assert_eq!(boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").unwrap(), "a b");
        assert!(boundary("application/json").unwrap_err().contains("multipart/form-data"));
        assert!(boundary("multipart/form-data").unwrap_err().contains("boundary"));
    }

    /// What requests_toolbelt's MultipartEncoder (the SDK's) sends for one file.
    fn sdk_body(name: &str, content: &[u8]) -> Bytes {
        let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".to_vec();
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n--b0undary--\r\n");
        Bytes::from(body)
    }

    #[test]
    fn a_file_part_is_read_byte_for_byte() {
        let content = b"line 1\r\n--b0undar not quite\r\n\x00\xff";
        let parts = parse(&sdk_body("notes.txt", content), "b0undary").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("notes.txt"));
        assert_eq!(&parts[0].body[..], content);
    }

    #[test]
    fn file_names_are_decoded() {
        let parts = parse(&sdk_body("caf\u{e9} %22q%22; x.txt", b"x"), "b0undary").unwrap();
        assert_eq!(parts[0].filename.as_deref(), Some("caf\u{e9} \"q\"; x.txt"));
        let body = Bytes::from_static(
            b"--b\r\nContent-Disposition: form-data; name=file; filename=\"a.txt\"; filename*=utf-8''caf%C3%A9.txt\r\n\
              Content-Type: text/plain\r\n\r\nhi\r\n--b--",
        );
        assert_eq!(parse(&body, "b").unwrap()[0].filename.as_deref(), Some("caf\u{e9}.txt"));
    }

    #[test]
    fn several_parts_and_empty_ones() {
        let body = Bytes::from_static(
            b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b\r\n\
              Content-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\r\n\r\n%PDF-1.4\r\n--b--\r\nepilogue",
        );
        let parts = parse(&body, "b").unwrap();
        assert_eq!(parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "file"]);
        assert!(parts[0].body.is_empty() && parts[0].filename.is_none());
        assert_eq!(&parts[1].body[..], b"%PDF-1.4");
    }

    #[test]
    fn broken_bodies_are_refused() {
        for (body, says) in [
            (&b"no delimiter at all"[..], "no part"),
            (b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated", "closing boundary"),
            (b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "Content-Disposition"),
            (b"--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--", "not form-data"),
            (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "field name"),
        ] {
            let err = parse(&Bytes::copy_from_slice(body), "b").unwrap_err();
            assert!(err.contains(says), "{err} does not say {says}");
        }
    }
}
