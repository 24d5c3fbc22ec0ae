//! A run's log as the agent reports it: what the script printed (stdout and
//! stderr in the order written), capped so the whole report, truncation marker
//! and notes included, stays within the server's limit; valid UTF-8 however
//! binary the output was; sensitive values masked wherever the reads split them.

use coc_shared::domain::script::MASK;

/// Scripts may log at most this much (spec 4.2.1); the server refuses more.
pub const MAX_LOG_BYTES: usize = 1024 * 1024;
/// Ends the kept part of an output that passed the limit.
pub const TRUNCATED: &str = "\n[log truncated: the output passed 1 MB]";

/// What a run printed: the first [`MAX_LOG_BYTES`] bytes, and how much more was dropped.
#[derive(Debug, Default)]
pub struct Capture {
    bytes: Vec<u8>,
    dropped: u64,
}

impl Capture {
    pub fn push(&mut self, chunk: &[u8]) {
        let room = MAX_LOG_BYTES.saturating_sub(self.bytes.len());
        let kept = chunk.len().min(room);
        self.bytes.extend_from_slice(&chunk[..kept]);
        self.dropped += (chunk.len() - kept) as u64;
    }

    pub fn truncated(&self) -> bool {
        self.dropped > 0
    }
}

/// The log to report: the capture made valid UTF-8 (invalid bytes become U+FFFD),
/// every secret masked, then `notes` (one `[note]` line each). When it does not
/// fit in [`MAX_LOG_BYTES`] the output is cut and [`TRUNCATED`] marks the cut,
/// all of it inside the limit.
pub fn render(capture: &Capture, secrets: &[&str], notes: &[String]) -> String {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut bytes = capture.bytes.as_slice();
    if capture.truncated() {
        // Our cut may have split a character; that half is not the script's output.
        bytes = &bytes[..bytes.len() - incomplete_tail(bytes)];
    }
    let mut text = mask(&String::from_utf8_lossy(bytes), &secrets);
    if capture.truncated() {
        // A secret that straddles our cut was not masked: drop what of it we kept.
        let start = text.len() - secret_prefix_tail(&text, &secrets);
        text.truncate(start);
    }
    let notes: String = notes.iter().map(|n| format!("\n[{}]", mask(n, &secrets))).collect();
    let fits = text.len() + notes.len() <= MAX_LOG_BYTES;
    if capture.truncated() || !fits {
        let room = MAX_LOG_BYTES.saturating_sub(notes.len() + TRUNCATED.len());
        if text.len() > room {
            text.truncate(floor_char_boundary(&text, room));
        }
        text.push_str(TRUNCATED);
    }
    text.push_str(&notes);
    text
}

fn mask(text: &str, secrets: &[&str]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret, MASK))
}

/// How many bytes at the end of `bytes` start a UTF-8 character that is not complete.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        let width = match byte {
            0x80..=0xBF => continue,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return 0,
        };
        return if width > back { back } else { 0 };
    }
    0
}

/// The length of the longest end of `text` that is the beginning (not the whole) of a secret.
fn secret_prefix_tail(text: &str, secrets: &[&str]) -> usize {
    secrets
        .iter()
        .flat_map(|secret| (1..secret.len()).filter(|&n| secret.is_char_boundary(n)).map(move |n| &secret[..n]))
        .filter(|prefix| text.ends_with(prefix))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(chunks: &[&[u8]]) -> Capture {
        let mut capture = Capture::default();
        for chunk in chunks {
            capture.push(chunk);
        }
        capture
    }

    #[test]
    fn short_output_is_kept_whole_with_its_notes() {
        let log = render(&capture(&[b"hello ", b"world\n"]), &[], &["killed after the 5s timeout".into()]);
        assert_eq!(log, "hello world\n\n[killed after the 5s timeout]");
    }

    #[test]
    fn output_over_the_limit_keeps_the_first_part_and_the_marker_inside_the_limit() {
        let out = vec![b'x'; MAX_LOG_BYTES + 10];
        let note = "killed: the run was canceled".to_owned();
        let log = render(&capture(&[&out]), &[], std::slice::from_ref(&note));
        assert!(log.len() <= MAX_LOG_BYTES, "{} bytes", log.len());
        assert!(log.starts_with("xxxx"));
        assert!(log.ends_with(&format!("{TRUNCATED}\n[{note}]")));
        assert!(log.len() > MAX_LOG_BYTES - 100, "keeps as much as fits");
    }

    #[test]
    fn binary_output_becomes_valid_utf8_within_the_limit() {
        // Every invalid byte becomes a 3-byte U+FFFD: 900 KB of them would triple.
        let out: Vec<u8> = (0..900 * 1024).map(|i| 0x80 | (i % 64) as u8).collect();
        let log = render(&capture(&[&out]), &[], &[]);
        assert!(log.len() <= MAX_LOG_BYTES);
        assert!(log.starts_with('\u{FFFD}') && log.ends_with(TRUNCATED));
    }

    #[test]
    fn a_character_split_by_the_cap_is_dropped_not_mangled() {
        let mut out = vec![b'a'; MAX_LOG_BYTES - 1];
        out.extend_from_slice("é and more".as_bytes());
        let log = render(&capture(&[&out]), &[], &[]);
        assert!(log.ends_with(&format!("a{TRUNCATED}")), "{:?}", &log[log.len() - 60..]);
    }

    #[test]
    fn secrets_are_masked_across_reads_and_at_the_cut() {
        let log = render(&capture(&[b"key=hun", b"ter2 again hunter", b"2\n"]), &["hunter2"], &[]);
        assert_eq!(log, format!("key={MASK} again {MASK}\n"));
        // The cap falls inside a secret: no part of it is kept.
        let mut out = vec![b'a'; MAX_LOG_BYTES - 4];
        out.extend_from_slice(b"hunter2 tail");
        let log = render(&capture(&[&out]), &["hunter2"], &[]);
        assert!(log.ends_with(&format!("a{TRUNCATED}")), "{:?}", &log[log.len() - 60..]);
        assert!(!log.contains("hun"));
    }

    #[test]
    fn masking_that_lengthens_the_log_still_fits() {
        // A 2-byte secret becomes six asterisks.
        let out = b"pw".repeat(MAX_LOG_BYTES / 2);
        let log = render(&capture(&[&out]), &["pw"], &["exit".into()]);
        assert!(log.len() <= MAX_LOG_BYTES);
        assert!(!log.contains("pw") && log.ends_with(&format!("{TRUNCATED}\n[exit]")));
    }
}
