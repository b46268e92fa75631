//! Redaction: no secret reaches an output, other values pass untouched.

use eventlog::testing::Capture;
use eventlog::{Action, Detector, Redactor};
use proptest::prelude::*;
use tracing_subscriber::prelude::*;

use crate::support::{only, run, run_with};

/// Runs `f` and returns the raw bytes written plus the parsed records.
fn raw_run(layer: eventlog::EventLayer, f: impl FnOnce()) -> (String, Vec<eventlog::ParsedRecord>) {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(layer.writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, f);
    (capture.text(), capture.records())
}

/// A Luhn-valid card number with the given 15-digit body.
fn card(body: &str) -> String {
    let digits: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[test]
fn every_default_key_is_redacted_in_events_and_spans() {
    let records = run(|| {
        let _s = tracing::info_span!(
            "login",
            password = "span-pw-1",
            db_password = "span-pw-2",
            apiKey = "span-key",
            step = "auth"
        )
        .entered();
        tracing::info!(
            event_name = "keys",
            password = "p1",
            passwd = "p2",
            secret = "p3",
            token = "p4",
            api_key = "p5",
            apikey = "p6",
            authorization = "p7",
            cookie = "p8",
            set_cookie = "p9",
            private_key = "p10",
            card_number = 4_111_111_111_111_111u64,
            cvv = 123,
            ssn = "123-45-6789",
            "x-api-key" = "p11",
            order_id = "o-1",
        );
    });
    let r = only(&records, "keys");
    let metadata = r.get("metadata").unwrap().as_object().unwrap();
    for (name, value) in metadata {
        if name == "order_id" {
            assert_eq!(value, "o-1", "ordinary values pass untouched");
        } else {
            assert_eq!(value, "[REDACTED]", "{name}");
        }
    }
    assert_eq!(metadata.len(), 15);
    assert_eq!(r.span_field("password").unwrap(), "[REDACTED]");
    assert_eq!(r.span_field("db_password").unwrap(), "[REDACTED]");
    assert_eq!(r.span_field("apiKey").unwrap(), "[REDACTED]");
    assert_eq!(r.span_field("step").unwrap(), "auth");
}

#[test]
fn each_action_applies_to_events_spans_and_promoted_fields() {
    let redactor = Redactor::builder()
        .key_with("pin", Action::Mask { keep_last: 2 })
        .key_with("user_id", Action::Hash)
        .key_with("internal_note", Action::Drop)
        .detect(Detector::Email, Action::Hash)
        .hash_key("test-key")
        .build()
        .unwrap();
    let layer = eventlog::layer().redactor(redactor.clone());
    let stats = layer.stats();
    let records = run_with(layer, || {
        let _s = tracing::info_span!(
            "req",
            user_id = "ana@example.com",
            internal_note = "drop me"
        )
        .entered();
        tracing::info!(
            event_name = "acted",
            pin = "123456",
            internal_note = "also dropped",
            contact = "ana@example.com"
        );
    });
    let r = only(&records, "acted");
    assert_eq!(r.metadata("pin").unwrap(), "****56");
    assert!(r.metadata("internal_note").is_none());
    assert!(r.span_field("internal_note").is_none());
    let user = r.str("user_id").unwrap();
    let contact = r.metadata("contact").unwrap().as_str().unwrap();
    assert!(user.starts_with("hmac-sha256:"), "{user}");
    assert!(contact.starts_with("hmac-sha256:"), "{contact}");
    assert_eq!(
        user, contact,
        "one value under one key gives one pseudonym, so records join"
    );
    let counts = redactor.counts();
    let get = |n: &str| counts.iter().find(|(k, _)| k == n).unwrap().1;
    assert_eq!(get("key:pin"), 1);
    assert_eq!(get("key:internal_note"), 2);
    assert_eq!(get("key:user_id"), 1);
    assert_eq!(get("email"), 1);
    assert_eq!(stats.snapshot().redactions, 5);
}

#[test]
fn secrets_in_messages_and_debug_output_are_removed() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login<'a> {
        user: &'a str,
        password: &'a str,
    }
    let number = card("411111111111111");
    let (raw, records) = raw_run(eventlog::layer(), || {
        tracing::info!(
            event_name = "leaky",
            request = ?Login { user: "ana", password: "hunter2-secret" },
            "charged {number} for ana@example.com with Bearer abcd1234efgh5678"
        );
    });
    for secret in [
        number.as_str(),
        "hunter2-secret",
        "ana@example.com",
        "abcd1234efgh5678",
    ] {
        assert!(!raw.contains(secret), "{secret} leaked: {raw}");
    }
    let r = &records[0];
    assert_eq!(
        r.message(),
        Some("charged ****-****-****-1111 for a***@example.com with Bearer [REDACTED]")
    );
    assert_eq!(
        r.metadata("request").unwrap(),
        r#"Login { user: "ana", password: "[REDACTED]" }"#
    );
}

#[test]
fn redaction_can_be_turned_off() {
    let records = run_with(eventlog::layer().redactor(Redactor::none()), || {
        tracing::info!(event_name = "raw", password = "visible");
    });
    assert_eq!(records[0].metadata("password").unwrap(), "visible");
}

fn secret() -> impl Strategy<Value = String> {
    // Long enough never to occur by chance in ids or timestamps.
    "[A-Za-z0-9]{12,40}"
}

fn sensitive_name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "password",
        "db_password",
        "apiKey",
        "session_token",
        "client_secret",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn secrets_never_reach_the_output(
        event_secret in secret(),
        span_secret in secret(),
        message_secret in secret(),
        card_body in "4[0-9]{14}",
        field in sensitive_name(),
        ordinary in "[a-z ]{0,20}",
    ) {
        let number = card(&card_body);
        let (raw, records) = raw_run(eventlog::layer(), || {
            let _s = tracing::info_span!("req", password = span_secret.as_str(), step = ordinary.as_str()).entered();
            // The sensitive name varies; tracing field names are static, so
            // record it as a key=value pair inside text as well.
            tracing::info!(
                event_name = "prop_secret",
                token = event_secret.as_str(),
                note = format!("{field}={event_secret}"),
                ordinary = ordinary.as_str(),
                "auth Bearer {message_secret} card {number}"
            );
        });
        for s in [&event_secret, &span_secret, &message_secret, &number] {
            prop_assert!(!raw.contains(s.as_str()), "{} leaked in {}", s, raw);
        }
        let r = &records[0];
        prop_assert_eq!(r.metadata("ordinary").unwrap().as_str().unwrap(), ordinary.as_str());
        prop_assert_eq!(r.span_field("step").unwrap().as_str().unwrap(), ordinary.as_str());
    }
}

// Issue 13, item 1: a non-ASCII field name panicked the caller in the
// redactor's key segmenting (a byte slice inside a multi-byte character).

#[test]
fn a_non_ascii_identifier_field_name_does_not_panic() {
    let records = run(|| {
        tracing::info!(event_name = "unicode_ident", café = 1, "x");
    });
    let r = only(&records, "unicode_ident");
    assert_eq!(r.metadata("café").unwrap(), 1);
}

#[test]
fn a_non_ascii_quoted_field_name_does_not_panic() {
    let records = run(|| {
        tracing::info!(
            event_name = "unicode_quoted",
            "é" = 1,
            "ñandú_contraseña" = "visible"
        );
    });
    let r = only(&records, "unicode_quoted");
    assert_eq!(r.metadata("é").unwrap(), 1);
    assert_eq!(r.metadata("ñandú_contraseña").unwrap(), "visible");
}

#[tracing::instrument]
fn instrumented_with_a_non_ascii_argument(número: u32) {
    tracing::info!(event_name = "inside_instrumented", "in");
}

#[test]
fn an_instrumented_function_with_a_non_ascii_argument_does_not_panic() {
    let records = run_with(eventlog::layer().close_events(true), || {
        instrumented_with_a_non_ascii_argument(7);
    });
    let r = only(&records, "inside_instrumented");
    assert_eq!(r.span_field("número").unwrap(), 7);
    assert!(
        records
            .iter()
            .any(|r| r.event_name() == Some("instrumented_with_a_non_ascii_argument_completed"))
    );
}

#[test]
fn a_non_ascii_field_recorded_on_a_span_does_not_poison_it() {
    // `Span::record` runs the redactor under the span's extension lock: a
    // panic there poisoned it, and with close events the process aborted.
    let records = run_with(eventlog::layer().close_events(true), || {
        let span = tracing::info_span!("req", número = tracing::field::Empty, step = 1);
        span.record("número", 42);
        let _e = span.enter();
        tracing::info!(event_name = "after_record");
    });
    assert_eq!(
        only(&records, "after_record").span_field("número").unwrap(),
        42
    );
    assert!(
        records
            .iter()
            .any(|r| r.event_name() == Some("req_completed"))
    );
}

#[derive(Debug)]
#[allow(dead_code)]
struct Login {
    contraseña: &'static str,
}

#[test]
fn a_non_ascii_key_rule_builds_and_matches_whole_segments() {
    let redactor = Redactor::builder().key("contraseña").build().unwrap();
    let records = run_with(eventlog::layer().redactor(redactor), || {
        let _s = tracing::info_span!("login", "contraseña" = "span-secreto").entered();
        tracing::info!(
            event_name = "unicode_key",
            "contraseña" = "secreto-1",
            "user_contraseña" = "secreto-2",
            "CONTRASEÑA" = "secreto-3",
            "contraseñas_count" = 3,
            detail = ?Login { contraseña: "secreto-4" },
        );
    });
    let r = only(&records, "unicode_key");
    assert_eq!(r.metadata("contraseña").unwrap(), "[REDACTED]");
    assert_eq!(r.metadata("user_contraseña").unwrap(), "[REDACTED]");
    assert_eq!(r.metadata("CONTRASEÑA").unwrap(), "[REDACTED]");
    assert_eq!(r.metadata("contraseñas_count").unwrap(), 3, "another word");
    assert_eq!(
        r.metadata("detail").unwrap(),
        r#"Login { contraseña: "[REDACTED]" }"#
    );
    assert_eq!(r.span_field("contraseña").unwrap(), "[REDACTED]");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any name from all of Unicode, as a key rule or a field name, and any
    /// text: no panic, and a rule always matches a field of its own name.
    #[test]
    fn any_unicode_name_or_text_never_panics(
        name in any::<String>(),
        field in any::<String>(),
        value in any::<String>(),
    ) {
        let r = Redactor::default();
        let _ = r.redact_field(&name, &value);
        let _ = r.redact_field(&field, &value);
        let _ = r.redact_text(&value);
        let _ = r.redact_text(&format!("{name}: {value}, {field}=\"{value}\""));
        match Redactor::builder().key(name.as_str()).build() {
            Ok(custom) => {
                let own = custom.redact_field(&name, "v").map(std::borrow::Cow::into_owned);
                prop_assert_eq!(own.as_deref(), Some("[REDACTED]"));
                let longer = custom.redact_field(&format!("x_{name}"), "v").map(std::borrow::Cow::into_owned);
                prop_assert_eq!(longer.as_deref(), Some("[REDACTED]"));
                let _ = custom.redact_field(&field, &value);
                let _ = custom.redact_text(&format!("{name}: {value}"));
            }
            Err(eventlog::RedactError::EmptyKey { key }) => prop_assert_eq!(key, name),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

// Issue 13, item 7: shapes the docs claimed that leaked when tried from outside.

/// Runs `f` under the default layer and returns every line, parsed, plus the raw text.
fn leak_check(
    layer: eventlog::EventLayer,
    f: impl FnOnce(),
    secrets: &[&str],
) -> Vec<eventlog::ParsedRecord> {
    let (raw, records) = raw_run(layer, f);
    assert!(!records.is_empty());
    for line in raw.lines() {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = parsed.to_string();
        for secret in secrets {
            assert!(!text.contains(secret), "`{secret}` leaked: {line}");
            assert!(!line.contains(secret), "`{secret}` leaked: {line}");
        }
    }
    records
}

#[derive(Debug)]
#[allow(dead_code)]
struct Account {
    user: &'static str,
    password: Option<String>,
}

#[test]
fn debug_output_of_an_optional_password_is_redacted() {
    let records = leak_check(
        eventlog::layer(),
        || {
            let account = Account {
                user: "ana",
                password: Some("hunter2-opt".into()),
            };
            tracing::info!(event_name = "opt_pw", account = ?account, pretty = format!("{account:#?}"));
        },
        &["hunter2-opt"],
    );
    let r = only(&records, "opt_pw");
    assert_eq!(
        r.metadata("account").unwrap(),
        r#"Account { user: "ana", password: [REDACTED] }"#
    );
}

#[derive(Debug)]
#[allow(dead_code)]
struct Secret(&'static str);

#[derive(Debug)]
#[allow(dead_code)]
struct Wrapped {
    id: u32,
    password: Secret,
}

#[test]
fn debug_output_of_a_secret_newtype_is_redacted() {
    let records = leak_check(
        eventlog::layer(),
        || {
            tracing::info!(
                event_name = "newtype",
                held = ?Secret("hunter2-newtype-a"),
                nested = ?Wrapped { id: 7, password: Secret("hunter2-newtype-b") },
            );
        },
        &["hunter2-newtype-a", "hunter2-newtype-b"],
    );
    let r = only(&records, "newtype");
    assert_eq!(r.metadata("held").unwrap(), "Secret([REDACTED])");
    assert_eq!(
        r.metadata("nested").unwrap(),
        "Wrapped { id: 7, password: [REDACTED] }"
    );
}

#[derive(Debug)]
#[allow(dead_code)]
struct RawLogin {
    user: &'static str,
    password: Vec<u8>,
}

#[test]
fn debug_output_of_password_bytes_is_redacted() {
    let records = leak_check(
        eventlog::layer(),
        || {
            let login = RawLogin {
                user: "ana",
                password: b"hunter2".to_vec(),
            };
            tracing::info!(event_name = "bytes_pw", login = ?login);
        },
        // The bytes of "hunter2" as Debug prints them.
        &["104, 117, 110", "116, 101, 114, 50"],
    );
    assert_eq!(
        only(&records, "bytes_pw").metadata("login").unwrap(),
        r#"RawLogin { user: "ana", password: [REDACTED] }"#
    );
}

#[test]
fn a_json_body_logged_with_debug_is_redacted() {
    let records = leak_check(
        eventlog::layer(),
        || {
            let body =
                r#"{"user":"ana","password":"hunter2-json","nested":{"api_key":"k-json-123"}}"#;
            tracing::info!(event_name = "json_body", body = ?body, twice = ?format!("{body:?}"));
        },
        &["hunter2-json", "k-json-123"],
    );
    assert_eq!(
        only(&records, "json_body").metadata("body").unwrap(),
        r#""{\"user\":\"ana\",\"password\":\"[REDACTED]\",\"nested\":{\"api_key\":\"[REDACTED]\"}}""#
    );
}

#[test]
fn authorization_basic_in_key_value_text_is_redacted() {
    let records = leak_check(
        eventlog::layer(),
        || {
            tracing::info!(
                event_name = "basic_kv",
                header = "authorization=Basic YWxhZGRpbjpvcGVuc2VzYW1l next=1",
                "sent authorization=Basic YWxhZGRpbjpvcGVuc2VzYW1l"
            );
        },
        &["YWxhZGRpbjpvcGVuc2VzYW1l"],
    );
    assert_eq!(
        only(&records, "basic_kv").metadata("header").unwrap(),
        "authorization=[REDACTED] next=1"
    );
}

#[test]
fn a_card_followed_by_its_expiry_or_cvv_is_masked() {
    let number = card("411111111111111");
    let spaced = "4111 1111 1111 1111";
    let records = leak_check(
        eventlog::layer(),
        || {
            tracing::info!(
                event_name = "card_exp",
                a = format!("{number} 12/27"),
                b = format!("{number} 123"),
                c = format!("{spaced} 123"),
                d = format!("{spaced} 12 27 123"),
                e = format!("ref 42 {number}"),
            );
        },
        &[&number, spaced, "4111 1111 1111"],
    );
    let r = only(&records, "card_exp");
    assert_eq!(r.metadata("a").unwrap(), "****-****-****-1111 12/27");
    assert_eq!(r.metadata("b").unwrap(), "****-****-****-1111 123");
}

#[test]
fn a_card_glued_to_letters_is_masked() {
    let number = card("411111111111111");
    let records = leak_check(
        eventlog::layer(),
        || {
            tracing::info!(
                event_name = "card_glued",
                a = format!("card{number}"),
                b = format!("{number}exp1227"),
                c = format!("pan:{number}cvv123"),
            );
        },
        &[&number],
    );
    assert_eq!(
        only(&records, "card_glued").metadata("a").unwrap(),
        "card****-****-****-1111"
    );
}

#[test]
fn a_card_or_jwt_cut_by_the_value_cap_is_still_redacted() {
    let number = card("555555555555444");
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let pad = "x".repeat(20);
    // The cap falls inside the secret.
    let layer = eventlog::layer().max_value_bytes(pad.len() + 1 + 10);
    leak_check(
        layer,
        || {
            tracing::info!(
                event_name = "cut",
                card = format!("{pad} {number}"),
                token_text = format!("{pad} {jwt}"),
                dbg = ?format!("{pad}{number}"),
                "{pad} {number} {jwt}"
            );
        },
        &[&number[..10], &jwt[..10], &number[4..], "dozjgNryP4J3"],
    );
}

#[test]
fn a_secret_in_event_name_or_event_type_is_redacted() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let number = card("411111111111111");
    let records = leak_check(
        eventlog::layer(),
        || {
            tracing::info!(event_name = %format!("paid_{number}"), event_type = %format!("Bearer {jwt}"));
            tracing::info!(event = %format!("ana@example.com"), "aliased");
        },
        &[&number, jwt, "ana@example.com"],
    );
    assert_eq!(records.len(), 2);
}

#[test]
fn schema_errors_never_quote_a_secret_event_name() {
    let number = card("411111111111111");
    let secret_name = format!("user_paid_{number}");
    leak_check(
        eventlog::layer().schema(eventlog::Schema::recommended()),
        || {
            tracing::info!(event_name = %secret_name);
            tracing::info!(event_name = %"Token: s3cr3t-name-token");
        },
        &[&number, "s3cr3t-name-token"],
    );
}

// Issue 13, item 8: well-known secret shapes nobody claimed, which leaked.

#[test]
fn new_default_key_names_are_redacted() {
    let records = run(|| {
        tracing::info!(
            event_name = "more_keys",
            pwd = "v1",
            db_pass = "v2",
            passphrase = "v3",
            credentials = "v4",
            pin = 1234,
            cvv2 = 987,
            "aws.creds" = "v5",
            passenger = "stays",
        );
    });
    let r = only(&records, "more_keys");
    for name in [
        "pwd",
        "db_pass",
        "passphrase",
        "credentials",
        "pin",
        "cvv2",
        "aws.creds",
    ] {
        assert_eq!(r.metadata(name).unwrap(), "[REDACTED]", "{name}");
    }
    assert_eq!(r.metadata("passenger").unwrap(), "stays");
}

#[test]
fn url_userinfo_keeps_scheme_user_and_host_and_hides_the_password() {
    let records = run(|| {
        tracing::info!(
            event_name = "url_creds",
            remote = "https://deploy:pa55-url-1@git.example.com/repo.git",
            plain = "https://git.example.com/repo.git",
        );
    });
    let r = only(&records, "url_creds");
    assert_eq!(
        r.metadata("remote").unwrap(),
        "https://deploy:[REDACTED]@git.example.com/repo.git"
    );
    assert_eq!(
        r.metadata("plain").unwrap(),
        "https://git.example.com/repo.git"
    );
}

#[derive(Debug)]
struct ConnectError {
    dsn: &'static str,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot reach {}", self.dsn)
    }
}

impl std::error::Error for ConnectError {}

#[derive(Debug)]
struct StartupError(ConnectError);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("startup failed")
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn a_database_dsn_in_an_error_chain_is_redacted() {
    let records = run(|| {
        let err = StartupError(ConnectError {
            dsn: "postgres://app:pg-pa55@db:5432/orders",
        });
        tracing::error!(
            event_name = "startup_failed",
            error = &err as &(dyn std::error::Error + 'static)
        );
    });
    assert_eq!(
        only(&records, "startup_failed").metadata("error").unwrap(),
        "startup failed: cannot reach postgres://app:[REDACTED]@db:5432/orders"
    );
}

#[test]
fn bare_basic_credentials_are_redacted() {
    let records = run(|| {
        tracing::info!(
            event_name = "basic",
            "upstream sent Basic dXNlcjpodW50ZXIy, basic plan"
        );
    });
    assert_eq!(
        only(&records, "basic").message(),
        Some("upstream sent Basic [REDACTED], basic plan")
    );
}

#[test]
fn cloud_and_saas_tokens_are_redacted() {
    let records = run(|| {
        tracing::info!(
            event_name = "tokens",
            aws = "key AKIAQSLOJOLIENSB3IAR in use",
            github = "ghp_0mzoQscjnvIcruciLSMLhWQXdQmRZ4IkfjPk",
            slack = "xoxb-1234567890123-1234567890123-y6wcMkZnD1j5DHnI8iwzXiZT",
            stripe = "sk_live_PUhgAkc5w6VpOmDhsbP6gvAG",
            gitlab = "glpat-rJFe7XEWQz0NDtPq07Ph",
            google = "AIzatAohIPWJb5bBWXVwWvMGJvKkKob8Dz9mbxH",
            npm = "npm_jDydcGi2wgucvJ5xjCjuMBPbCfR5bCxWMv6d",
        );
    });
    let r = only(&records, "tokens");
    let want = [
        ("aws", "key AKIA[REDACTED] in use"),
        ("github", "ghp_[REDACTED]"),
        ("slack", "xoxb-[REDACTED]"),
        ("stripe", "sk_live_[REDACTED]"),
        ("gitlab", "glpat-[REDACTED]"),
        ("google", "AIza[REDACTED]"),
        ("npm", "npm_[REDACTED]"),
    ];
    for (field, value) in want {
        assert_eq!(r.metadata(field).unwrap(), value, "{field}");
    }
}

#[test]
fn pem_private_key_blocks_are_redacted() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHC\n-----END RSA PRIVATE KEY-----";
    let records = run(|| {
        tracing::info!(event_name = "pem", key_material = pem);
    });
    assert_eq!(
        only(&records, "pem").metadata("key_material").unwrap(),
        "-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----"
    );
}

#[test]
fn a_card_typed_as_an_integer_in_a_card_field_is_masked() {
    let records = run(|| {
        tracing::info!(
            event_name = "typed_card",
            card = 4_111_111_111_111_111u64,
            card_no = 5_555_555_555_554_444i64,
            pan = 378_282_246_310_005u128,
            items = 4_111_111_111_111_111u64,
            card_count = 3u64,
        );
    });
    let r = only(&records, "typed_card");
    assert_eq!(r.metadata("card").unwrap(), "****-****-****-1111");
    assert_eq!(r.metadata("card_no").unwrap(), "****-****-****-4444");
    assert_eq!(r.metadata("pan").unwrap(), "****-****-****-0005");
    assert_eq!(
        r.metadata("items").unwrap(),
        4_111_111_111_111_111u64,
        "not named like a card"
    );
    assert_eq!(r.metadata("card_count").unwrap(), 3, "not a card number");
}
