//! Reading files written with renamed envelope keys (`Envelope::rename`,
//! `promote_as`): `--key timestamp=@timestamp` maps a file's key back to
//! the envelope name every command works with. The moving back is
//! `eventlog::KeyRenames`; this module only reads the arguments.

use eventlog::{DEFAULT_PROMOTED, Key, KeyRenames};

use crate::outcome::CliError;

/// `NAME=KEY` pairs: the envelope's `NAME` (one of its keys or promoted
/// correlation fields) is written as `KEY`.
pub(crate) fn parse(args: &[String]) -> Result<KeyRenames, CliError> {
    let mut renames = KeyRenames::new();
    for arg in args {
        let bad = || CliError::BadArgument {
            arg: "--key",
            value: arg.clone(),
            expected: "NAME=KEY with NAME an envelope key (timestamp, level, event_name, event_type, message, service, …, request_id, user_id), for example timestamp=@timestamp",
        };
        let (name, key) = arg.split_once('=').ok_or_else(bad)?;
        let (name, key) = (name.trim(), key.trim());
        if key.is_empty() {
            return Err(bad());
        }
        renames = if let Some(k) = Key::ALL.into_iter().find(|k| k.default_name() == name) {
            renames.rename(k, key)
        } else if DEFAULT_PROMOTED.contains(&name) {
            renames.rename_promoted(name, key)
        } else {
            return Err(bad());
        };
    }
    Ok(renames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventlog::ParsedRecord;
    use serde_json::{Value, json};

    #[test]
    fn renamed_keys_move_back() {
        let r = parse(&[
            "timestamp=@timestamp".into(),
            "level=severity".into(),
            "request_id=req".into(),
        ])
        .unwrap();
        let record = ParsedRecord::parse_renamed(
            r#"{"@timestamp": "t", "severity": "INFO", "req": "r1", "x": 1}"#,
            &r,
        )
        .unwrap();
        assert_eq!(
            Value::from(record),
            json!({"timestamp": "t", "level": "INFO", "request_id": "r1", "x": 1})
        );
        for bad in ["timestamp", "nope=x", "level=", "=x", "level= "] {
            assert!(parse(&[bad.into()]).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// `--key` with any text: renames of known names to non-empty keys,
        /// or a `BadArgument` carrying the text; applying them never panics.
        #[test]
        fn any_key_text_parses_or_is_refused(
            texts in proptest::collection::vec("\\PC*|(level|timestamp|request_id)=\\PC{0,6}", 0..4),
        ) {
            match parse(&texts) {
                Ok(r) => {
                    for text in &texts {
                        let (name, key) = text.split_once('=').unwrap();
                        // The last rename of a name wins.
                        let last = texts.iter().rev().find_map(|t| {
                            t.split_once('=').filter(|(n, _)| n.trim() == name.trim()).map(|(_, k)| k.trim())
                        });
                        if last == Some(key.trim()) && name.trim() != key.trim() {
                            proptest::prop_assert_eq!(r.written_as(name.trim()), Some(key.trim()));
                        }
                    }
                    let _ = ParsedRecord::parse_renamed(r#"{"level": "INFO", "x": 1}"#, &r);
                }
                Err(CliError::BadArgument { arg, value, .. }) => {
                    proptest::prop_assert_eq!(arg, "--key");
                    proptest::prop_assert!(texts.contains(&value));
                }
                Err(other) => proptest::prop_assert!(false, "{other}"),
            }
        }
    }
}
