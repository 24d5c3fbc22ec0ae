//! Mail over TLS on both adapters: the SMTP sender delivers to the aiosmtpd
//! receiver through STARTTLS and through implicit TLS (as on port 465), with
//! a certificate authority this test makes (openssl) and the sender trusts
//! through `COC_SMTP_CA_FILE`'s setting. A certificate it does not trust, or a
//! server that offers no STARTTLS, is a failed delivery after its retries:
//! never a mail in plain text.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use coc_runtime::adapters::smtp::{SmtpConfig, SmtpSender, SmtpTls};
use coc_shared::domain::notification::{Channel, DeliveryStatus, Destination};
use coc_shared::notify::senders::Senders;
use coc_shared::notify::Recipient;
use coc_tests::backends;
use coc_tests::notify_fixtures::*;
use coc_tests::receivers::Receiver;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl (the CLI) is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A certificate authority and a server certificate it signed for 127.0.0.1.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca_subject = format!("/CN={name} test CA");
        let ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"];
        openssl(d, &[&ca[..], &["-subj", ca_subject.as_str()]].concat());
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.pem",
            ],
        );
        Pki { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// The receiver in `mode` (`starttls`, `implicit`) with this server certificate.
    fn receiver(&self, mode: &str) -> Receiver {
        let (cert, key) = (self.path("server.pem"), self.path("server.key"));
        Receiver::start(
            "smtp_receiver.py",
            &["--tls", mode, "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()],
        )
    }
}

fn sender(port: u16, tls: SmtpTls, ca_file: Option<PathBuf>) -> Senders {
    mail_senders(&smtp_config(port, tls, ca_file))
}

fn to_alice() -> Recipient<'static> {
    Recipient::Address(Destination { channel: Channel::Email, address: "alice@example.com".into(), sealed_key: None })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_through_starttls_and_implicit_tls_to_a_server_the_configured_ca_signed() {
    let pki = Pki::new("trusted");
    for backend in backends().await {
        for (mode, tls) in [("starttls", SmtpTls::StartTls), ("implicit", SmtpTls::Tls)] {
            let smtp = pki.receiver(mode);
            let run = Delivering::with_senders(&backend, sender(smtp.port, tls, Some(pki.path("ca.pem"))));
            let delivery = run.send(to_alice(), "[COC] IM1 over TLS").await.deliveries[0].clone();
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Sent, 1),
                "{} {mode}: {delivery:?}",
                run.backend
            );
            let mails = smtp.wait_for(WAIT, |m| !m.is_empty()).await;
            assert_eq!(mails.len(), 1, "{} {mode}", run.backend);
            assert_eq!(mails[0]["subject"], "[COC] IM1 over TLS");
            // The receiver saw the mail over an encrypted session.
            let version = mails[0]["tls"].as_str().unwrap_or_default();
            assert!(version.starts_with("TLSv1.") && version != "TLSv1.1", "{} {mode}: {}", run.backend, mails[0]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_sender_does_not_trust_fails_the_delivery_and_sends_nothing() {
    let (trusted, stranger) = (Pki::new("trusted"), Pki::new("stranger"));
    for backend in backends().await {
        for (mode, tls) in [("starttls", SmtpTls::StartTls), ("implicit", SmtpTls::Tls)] {
            // Signed by a CA the sender was not told about.
            let smtp = stranger.receiver(mode);
            let run = Delivering::with_senders(&backend, sender(smtp.port, tls, Some(trusted.path("ca.pem"))));
            let delivery = run.send(to_alice(), "IM1").await.deliveries[0].clone();
            // Retried (a certificate can be fixed on the server), then given up.
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Failed, quick().max_attempts),
                "{} {mode}: {delivery:?}",
                run.backend
            );
            let error = delivery.last_error.unwrap_or_default().to_lowercase();
            assert!(error.contains("certificate") || error.contains("issuer"), "{} {mode}: {error}", run.backend);
            assert!(smtp.received().is_empty(), "{} {mode}: no mail reached the server", run.backend);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_against_a_server_without_it_is_refused_not_sent_in_plain_text() {
    for backend in backends().await {
        // A plain server that would take the mail unencrypted.
        let smtp = Receiver::smtp();
        let run = Delivering::with_senders(&backend, sender(smtp.port, SmtpTls::StartTls, None));
        let delivery = run.send(to_alice(), "IM1").await.deliveries[0].clone();
        assert_eq!(delivery.status, DeliveryStatus::Failed, "{}: {delivery:?}", run.backend);
        assert!(delivery.last_error.is_some(), "{}: {delivery:?}", run.backend);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(smtp.received().is_empty(), "{}: nothing sent in plain text", run.backend);
    }
}

#[test]
fn a_ca_file_that_is_missing_holds_no_certificate_or_goes_unused_stops_the_sender_at_start() {
    let pki = Pki::new("trusted");
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for (tls, file, expected) in [
        (SmtpTls::Tls, dir.path().join("absent.pem"), "cannot read"),
        (SmtpTls::StartTls, not_pem, "holds no PEM certificate"),
        (SmtpTls::None, pki.path("ca.pem"), "COC_SMTP_CA_FILE is set but COC_SMTP_TLS is none"),
    ] {
        let config = SmtpConfig { timeout: Duration::from_secs(1), ..smtp_config(465, tls, Some(file)) };
        let err = SmtpSender::new(&config).err().expect("refused");
        assert!(err.starts_with("COC_SMTP_CA_FILE") && err.contains(expected), "{tls:?}: {err}");
    }
    // The same file with TLS is taken.
    let config =
        SmtpConfig { timeout: Duration::from_secs(1), ..smtp_config(465, SmtpTls::Tls, Some(pki.path("ca.pem"))) };
    assert!(SmtpSender::new(&config).is_ok());
}
