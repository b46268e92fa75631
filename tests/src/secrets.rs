//! The secret corpus (issue #13): one row per secret shape the redactor
//! claims, with the substrings that must never reach an output, and
//! realistic non-secret text that must pass byte for byte.
//!
//! Data only, shared by the core's corpus test (every place a value can
//! travel, `crates/eventlog/tests/layer/secret_corpus.rs`) and the OTLP
//! output's (`crates/eventlog-otlp/tests/secrets.rs`), so the file and the
//! collector are held to the same list. The tokens are fake but shaped like
//! real ones: a secret scanner run on this repository flags this file.

/// One secret shape: text holding it, and the substrings that must vanish.
#[derive(Debug)]
pub struct Positive {
    /// A short name for the shape (`jwt`, `aws_access_key_id`, …).
    pub shape: &'static str,
    /// The detector (or key rule) expected to catch it, for the counts.
    pub detector: &'static str,
    /// Text holding the secret, as it would be logged.
    pub text: &'static str,
    /// The substrings that must not appear in any output.
    pub secrets: &'static [&'static str],
}

/// A PEM private-key block (truncated body), for the `private_key` shape.
pub const PEM_RSA: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----";

/// One row per secret shape.
pub const POSITIVES: &[Positive] = &[
    // Key rules inside text (`Debug` output, query strings, JSON, headers).
    Positive {
        shape: "logfmt_password",
        detector: "key_value",
        text: "login password=hunter2-kv user=ana",
        secrets: &["hunter2-kv"],
    },
    Positive {
        shape: "debug_struct_password",
        detector: "key_value",
        text: r#"Login { user: "ana", password: "hunter2-dbg" }"#,
        secrets: &["hunter2-dbg"],
    },
    Positive {
        shape: "debug_option_password",
        detector: "key_value",
        text: r#"Account { user: "ana", password: Some("hunter2-some") }"#,
        secrets: &["hunter2-some"],
    },
    Positive {
        shape: "debug_pretty_option_password",
        detector: "key_value",
        text: "Account {\n    user: \"ana\",\n    password: Some(\n        \"hunter2-pretty\",\n    ),\n}",
        secrets: &["hunter2-pretty"],
    },
    Positive {
        shape: "debug_newtype_field",
        detector: "key_value",
        text: r#"Wrapped { id: 7, password: Secret("hunter2-newtype") }"#,
        secrets: &["hunter2-newtype"],
    },
    Positive {
        shape: "debug_bare_newtype",
        detector: "key_value",
        text: r#"Secret("hunter2-bare-newtype")"#,
        secrets: &["hunter2-bare-newtype"],
    },
    Positive {
        shape: "debug_password_bytes",
        detector: "key_value",
        text: r#"RawLogin { user: "ana", password: [104, 117, 110, 116, 101, 114, 50] }"#,
        secrets: &["104, 117, 110, 116"],
    },
    Positive {
        shape: "json_api_key",
        detector: "key_value",
        text: r#"{"user":"ana","api_key":"k-json-4242x"}"#,
        secrets: &["k-json-4242x"],
    },
    Positive {
        shape: "escaped_json_password",
        detector: "key_value",
        text: r#"{\"user\":\"ana\",\"password\":\"hunter2-escaped\"}"#,
        secrets: &["hunter2-escaped"],
    },
    Positive {
        shape: "header_authorization_bearer",
        detector: "key_value",
        text: "Authorization: Bearer abc.def-ghi_1234567",
        secrets: &["abc.def-ghi_1234567"],
    },
    Positive {
        shape: "kv_authorization_basic",
        detector: "key_value",
        text: "authorization=Basic YWxhZGRpbjpvcGVuc2VzYW1l next=1",
        secrets: &["YWxhZGRpbjpvcGVuc2VzYW1l"],
    },
    Positive {
        shape: "header_api_key",
        detector: "key_value",
        text: "x-api-key: k-hdr-55aa66bb",
        secrets: &["k-hdr-55aa66bb"],
    },
    Positive {
        shape: "query_client_secret",
        detector: "key_value",
        text: "GET /cb?code=1&client_secret=cs-abc123xyz&x=1",
        secrets: &["cs-abc123xyz"],
    },
    Positive {
        shape: "header_cookie",
        detector: "key_value",
        text: "cookie: session=abcdef0123456789; Path=/",
        secrets: &["abcdef0123456789"],
    },
    Positive {
        shape: "kv_pwd",
        detector: "key_value",
        text: "db_pwd=s3cr3t-pwd-1 host=db",
        secrets: &["s3cr3t-pwd-1"],
    },
    Positive {
        shape: "kv_pass",
        detector: "key_value",
        text: "pass=s3cr3t-pass-1",
        secrets: &["s3cr3t-pass-1"],
    },
    Positive {
        shape: "kv_passphrase",
        detector: "key_value",
        text: r#"passphrase: "correct horse battery staple""#,
        secrets: &["correct horse battery"],
    },
    Positive {
        shape: "kv_credentials",
        detector: "key_value",
        text: "credentials=c-r-e-d-9f8e7d",
        secrets: &["c-r-e-d-9f8e7d"],
    },
    Positive {
        shape: "kv_pin",
        detector: "key_value",
        text: "card pin=739104 entered",
        secrets: &["739104"],
    },
    Positive {
        shape: "kv_cvv2",
        detector: "key_value",
        text: "cvv2=938 ok",
        secrets: &["cvv2=938"],
    },
    // Cards.
    Positive {
        shape: "card_spaced",
        detector: "card",
        text: "paid with 4111 1111 1111 1111 today",
        secrets: &["4111 1111 1111"],
    },
    Positive {
        shape: "card_dashed",
        detector: "card",
        text: "card 5555-5555-5555-4444 ok",
        secrets: &["5555-5555-5555"],
    },
    Positive {
        shape: "card_amex",
        detector: "card",
        text: "amex 378282246310005",
        secrets: &["3782822463"],
    },
    Positive {
        shape: "card_with_expiry_and_cvv",
        detector: "card",
        text: "4012888888881881 12/27 123",
        secrets: &["401288888888"],
    },
    Positive {
        shape: "card_grouped_with_cvv",
        detector: "card",
        text: "pan 4111 1111 1111 1111 123",
        secrets: &["4111 1111 1111"],
    },
    Positive {
        shape: "card_glued_to_letters",
        detector: "card",
        text: "card6011111111111117exp",
        secrets: &["601111111111"],
    },
    // Credentials after a scheme.
    Positive {
        shape: "bearer_token",
        detector: "bearer_token",
        text: "GET /api with Bearer 8f3kQ9zL2mXv7bN1",
        secrets: &["8f3kQ9zL2mXv7bN1"],
    },
    Positive {
        shape: "bare_basic",
        detector: "basic_auth",
        text: "sent Basic dXNlcjpodW50ZXIyLWJhc2lj upstream",
        secrets: &["dXNlcjpodW50ZXIyLWJhc2lj"],
    },
    Positive {
        shape: "bare_basic_padded",
        detector: "basic_auth",
        text: "basic c3ZjOnBhNTUtYmFyZS1iYXNpYw==",
        secrets: &["c3ZjOnBhNTUtYmFyZS1iYXNpYw"],
    },
    Positive {
        shape: "jwt",
        detector: "jwt",
        text: "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
        secrets: &[
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ],
    },
    Positive {
        shape: "email",
        detector: "email",
        text: "contact ana.b+x@mail.example.org today",
        secrets: &["ana.b+x"],
    },
    // URL userinfo and DSNs.
    Positive {
        shape: "https_userinfo",
        detector: "url_credentials",
        text: "clone https://deploy:pa55w0rd-url@git.example.com/repo.git",
        secrets: &["pa55w0rd-url"],
    },
    Positive {
        shape: "postgres_dsn",
        detector: "url_credentials",
        text: "connect postgres://app:pg-pa55-word@db.internal:5432/orders: timeout",
        secrets: &["pg-pa55-word"],
    },
    Positive {
        shape: "redis_dsn_no_user",
        detector: "url_credentials",
        text: "redis://:r3d1s-pa55@cache:6379/0",
        secrets: &["r3d1s-pa55"],
    },
    Positive {
        shape: "mongodb_srv_dsn",
        detector: "url_credentials",
        text: "mongodb+srv://svc:m0ng0-pa55@cluster0.example.net/db?retryWrites=true",
        secrets: &["m0ng0-pa55"],
    },
    Positive {
        shape: "amqp_dsn_at_in_password",
        detector: "url_credentials",
        text: "amqp://guest:rabb1t@pa55@mq:5672",
        secrets: &["rabb1t@pa55"],
    },
    // PEM private keys.
    Positive {
        shape: "pem_rsa_private_key",
        detector: "private_key",
        text: PEM_RSA,
        secrets: &["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"],
    },
    Positive {
        shape: "pem_openssh_private_key",
        detector: "private_key",
        text: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
        secrets: &["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"],
    },
    Positive {
        shape: "pem_ec_private_key",
        detector: "private_key",
        text: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFQA8Z7vV2h9oAoGCCqGSM49\n-----END EC PRIVATE KEY-----",
        secrets: &["MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFQA8Z7vV2h9oAoGCCqGSM49"],
    },
    Positive {
        shape: "pem_pkcs8_private_key",
        detector: "private_key",
        text: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----",
        secrets: &["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"],
    },
    // Vendor tokens, one per family (fake, generated with the right shape).
    Positive {
        shape: "aws_access_key_id",
        detector: "vendor_token",
        text: "deploy with AKIAQSLOJOLIENSB3IAR now",
        secrets: &["QSLOJOLIENSB3IAR"],
    },
    Positive {
        shape: "aws_temporary_key_id",
        detector: "vendor_token",
        text: "deploy with ASIAJFQ43IQWO73X3UHW now",
        secrets: &["JFQ43IQWO73X3UHW"],
    },
    Positive {
        shape: "github_classic_pat",
        detector: "vendor_token",
        text: "deploy with ghp_0mzoQscjnvIcruciLSMLhWQXdQmRZ4IkfjPk now",
        secrets: &["0mzoQscjnvIcruciLSMLhWQXdQmRZ4IkfjPk"],
    },
    Positive {
        shape: "github_oauth",
        detector: "vendor_token",
        text: "deploy with gho_P4MsXIEbpo9dYAub73COJfzs1coQKuav3Q4w now",
        secrets: &["P4MsXIEbpo9dYAub73COJfzs1coQKuav3Q4w"],
    },
    Positive {
        shape: "github_user_to_server",
        detector: "vendor_token",
        text: "deploy with ghu_zWMt2oXhtqI5tmPufN3nClslCWlukVLSMKyr now",
        secrets: &["zWMt2oXhtqI5tmPufN3nClslCWlukVLSMKyr"],
    },
    Positive {
        shape: "github_server_to_server",
        detector: "vendor_token",
        text: "deploy with ghs_jH5OKEbpmjzisCc0VpFhAITHaT6RkmsE8ehX now",
        secrets: &["jH5OKEbpmjzisCc0VpFhAITHaT6RkmsE8ehX"],
    },
    Positive {
        shape: "github_refresh",
        detector: "vendor_token",
        text: "deploy with ghr_21CAUVJfjih0eOqNSzCYgt6KvJQbr02NQblP now",
        secrets: &["21CAUVJfjih0eOqNSzCYgt6KvJQbr02NQblP"],
    },
    Positive {
        shape: "github_fine_grained_pat",
        detector: "vendor_token",
        text: "deploy with 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 now",
        secrets: &[
            "WxPlSbNpWbCUZdFEwCm6Ap_xTMcejYVDShb8IJ3DHX0KNTTmYSCWIGXfcl4lbCWiSI9zDUK54ivI5A5P63",
        ],
    },
    Positive {
        shape: "gitlab_pat",
        detector: "vendor_token",
        text: "deploy with glpat-rJFe7XEWQz0NDtPq07Ph now",
        secrets: &["rJFe7XEWQz0NDtPq07Ph"],
    },
    Positive {
        shape: "slack_bot",
        detector: "vendor_token",
        text: "deploy with xoxb-1234567890123-1234567890123-y6wcMkZnD1j5DHnI8iwzXiZT now",
        secrets: &["1234567890123-1234567890123-y6wcMkZnD1j5DHnI8iwzXiZT"],
    },
    Positive {
        shape: "slack_user",
        detector: "vendor_token",
        text: "deploy with xoxp-1234567890123-1234567890123-1234567890123-4982b1050382ad591339ccfc844e9008 now",
        secrets: &["1234567890123-1234567890123-1234567890123-4982b1050382ad591339ccfc844e9008"],
    },
    Positive {
        shape: "slack_app",
        detector: "vendor_token",
        text: "deploy with xapp-1-A0123456789-1234567890123-8a77bd5fd84ee6cf601f5430492f16d0 now",
        secrets: &["1-A0123456789-1234567890123-8a77bd5fd84ee6cf601f5430492f16d0"],
    },
    Positive {
        shape: "slack_webhook",
        detector: "vendor_token",
        text: "deploy with https://hooks.slack.com/services/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 now",
        secrets: &["T0123ABCD/B0123ABCD/9iBx3rJT1nJpDugb7wQOfBmG"],
    },
    Positive {
        shape: "stripe_secret",
        detector: "vendor_token",
        text: "deploy with sk_live_PUhgAkc5w6VpOmDhsbP6gvAG now",
        secrets: &["PUhgAkc5w6VpOmDhsbP6gvAG"],
    },
    Positive {
        shape: "stripe_restricted",
        detector: "vendor_token",
        text: "deploy with rk_live_X6J7d0W1IrWuOqSlFQtIIuLm now",
        secrets: &["X6J7d0W1IrWuOqSlFQtIIuLm"],
    },
    Positive {
        shape: "openai_project",
        detector: "vendor_token",
        text: "deploy with sk-proj-GDipJnvgBxd4WYk0kfzkgaE72ch8RVYrH6NrUYlET3BlbkFJxe7aT07yBtcYaek5vDFQNAJiUT19hNb7jSANo4Fv now",
        secrets: &[
            "GDipJnvgBxd4WYk0kfzkgaE72ch8RVYrH6NrUYlET3BlbkFJxe7aT07yBtcYaek5vDFQNAJiUT19hNb7jSANo4Fv",
        ],
    },
    Positive {
        shape: "openai_legacy",
        detector: "vendor_token",
        text: "deploy with 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 now",
        secrets: &["HpI9EjYoNUKBKsLDDObkT3BlbkFJ4LqxtasFzf2gJHDWnDh0"],
    },
    Positive {
        shape: "anthropic",
        detector: "vendor_token",
        text: "deploy with sk-ant-api03-hxyvLFtxbTaTPQSzltja6SRvtNG1pFKD2H9wQJzOnTGGfcmGCt5kiaIteOeV1XHAt4fFsGxz20RcAa6IAA now",
        secrets: &[
            "api03-hxyvLFtxbTaTPQSzltja6SRvtNG1pFKD2H9wQJzOnTGGfcmGCt5kiaIteOeV1XHAt4fFsGxz20RcAa6IAA",
        ],
    },
    Positive {
        shape: "google_api_key",
        detector: "vendor_token",
        text: "deploy with AIzatAohIPWJb5bBWXVwWvMGJvKkKob8Dz9mbxH now",
        secrets: &["tAohIPWJb5bBWXVwWvMGJvKkKob8Dz9mbxH"],
    },
    Positive {
        shape: "google_oauth_secret",
        detector: "vendor_token",
        text: "deploy with 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 now",
        secrets: &["fajN0Jn8YzBZyZV6bZSFjPZK19mw"],
    },
    Positive {
        shape: "npm",
        detector: "vendor_token",
        text: "deploy with npm_jDydcGi2wgucvJ5xjCjuMBPbCfR5bCxWMv6d now",
        secrets: &["jDydcGi2wgucvJ5xjCjuMBPbCfR5bCxWMv6d"],
    },
    Positive {
        shape: "pypi",
        detector: "vendor_token",
        text: "deploy with pypi-AgEIcHlwaS5vcmcZ2nKcxNbwkZDZZOzqvMk4bNCCsBchurnZZ63gI39dFfflocF7igsgADtzfoL now",
        secrets: &["Z2nKcxNbwkZDZZOzqvMk4bNCCsBchurnZZ63gI39dFfflocF7igsgADtzfoL"],
    },
    Positive {
        shape: "hugging_face",
        detector: "vendor_token",
        text: "deploy with hf_PuHBas7j3NdeCa1CMRuzfh9JJJy0uBLkES now",
        secrets: &["PuHBas7j3NdeCa1CMRuzfh9JJJy0uBLkES"],
    },
    Positive {
        shape: "docker_hub",
        detector: "vendor_token",
        text: "deploy with dckr_pat_Kse9MqfAmtPEdxHEumEYhsLMk6D now",
        secrets: &["Kse9MqfAmtPEdxHEumEYhsLMk6D"],
    },
    Positive {
        shape: "shopify",
        detector: "vendor_token",
        text: "deploy with 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 now",
        secrets: &["0c6ea4e5472d5cd799e03ee7580e6804"],
    },
    Positive {
        shape: "sendgrid",
        detector: "vendor_token",
        text: "deploy with 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 now",
        secrets: &["bVPcBsZRGIC4VcBE25EH7X.Fnwqx5Lvkf4kdktAdgtB9nVjv9WF4awa253FmN8VJHk"],
    },
    Positive {
        shape: "digitalocean",
        detector: "vendor_token",
        text: "deploy with dop_v1_42c9f9d6f63c9129e6f01d2f963a09f05a19d0d4d1b45bc79f603a51779bc900 now",
        secrets: &["42c9f9d6f63c9129e6f01d2f963a09f05a19d0d4d1b45bc79f603a51779bc900"],
    },
    Positive {
        shape: "postman",
        detector: "vendor_token",
        text: "deploy with PMAK-682743dce9a82d97d3f73263-a652bc76a32adedcc2bd589cf242b0abdd now",
        secrets: &["682743dce9a82d97d3f73263-a652bc76a32adedcc2bd589cf242b0abdd"],
    },
    Positive {
        shape: "linear",
        detector: "vendor_token",
        text: "deploy with lin_api_vhY8KGpN95u7Z0o3gGmtNHq2oZafrh3NZkE3Rcsc now",
        secrets: &["vhY8KGpN95u7Z0o3gGmtNHq2oZafrh3NZkE3Rcsc"],
    },
    Positive {
        shape: "age_secret_key",
        detector: "vendor_token",
        text: "deploy with AGE-SECRET-KEY-1QHVJL3THJ4STZ59FWSJHP79TCAMK6XPST0YQPX60TDAT4XM98MERUJYNSD now",
        secrets: &["QHVJL3THJ4STZ59FWSJHP79TCAMK6XPST0YQPX60TDAT4XM98MERUJYNSD"],
    },
];

/// Realistic non-secret text: ids, hashes, timestamps, prices, addresses,
/// versions, URLs and `Debug` output. Each must pass through unchanged.
pub const NEGATIVES: &[&str] = &[
    "123e4567-e89b-12d3-a456-426614174000",
    "request 5f2b8c9e4d1a7f30 done",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (short 9fceb02)",
    "2025-11-25T08:47:36.123Z",
    "2024-01-15 10:30:00 UTC",
    "at 1732524456123 ms, 1732524456123456789 ns",
    "order ord_000016 for user_12345 in sess_9c2e41, req_7f3a9b",
    "invoice inv_2024_000123 total $72.49 (EUR 1,299.00)",
    "amount=72.49 currency=USD items=2",
    "status=200 duration_ms=12 path=/health",
    "tokens_used: 512, model: small",
    "client 192.168.1.10 via 10.0.0.1:8080",
    "peer [2001:db8::ff00:42:8329]:443 and 2001:db8::1",
    "version 1.2.3, v2.0.0-rc.1+build.5",
    "aGVsbG8gd29ybGQ=",
    "Basic plan selected; basic auth disabled",
    "Bearer of bad news",
    "https://api.example.com/v1/orders?page=2&limit=50",
    "ssh://git@github.com/org/repo.git",
    "GET /v1/users/12345 HTTP/1.1 200",
    r#"{"order_id":"ord_000016","amount":72.49,"paid":true}"#,
    "Order { id: 16, items: [1, 2, 3], total: Some(72.49), note: None }",
    "Caused by: connection refused (os error 111)",
    "src/main.rs:42:7",
    "arn:aws:iam::123456789012:role/checkout",
    "pod checkout-7d9f8b6c4-x2x9z restarted",
    "order 4111111111111112 shipped",
    "phone +1 415 555 0100",
    "risk_level=high task-1234 sk-learn",
    "AKIA is a prefix, ghp_ too, and so is xoxb-",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUeZ\n-----END CERTIFICATE-----",
    "café número 密码 ✓",
];

/// Realistic non-secret text the detectors do change, and what it becomes
/// (the same in every place). Listed so the count is honest; a fix that
/// makes one pass moves it to `NEGATIVES`.
pub const KNOWN_FALSE_POSITIVES: &[(&str, &str)] = &[
    // An scp-style git remote has an email's shape.
    (
        "git@github.com:org/repo.git",
        "g***@github.com:org/repo.git",
    ),
];
