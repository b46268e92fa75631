//! Reading files written with renamed envelope keys (`Envelope::rename`,
//! `promote_as`): `--key timestamp=@timestamp` maps a file's key back to
//! the envelope name every command works with.

use serde_json::{Map, Value};

use crate::outcome::CliError;

/// Envelope names, with the key each has in the files.
#[derive(Debug, Default)]
pub(crate) struct Renames(Vec<(String, String)>);

/// Names a `--key` may rename: the envelope's keys and the promoted
/// correlation fields.
fn known(name: &str) -> bool {
    eventlog::Key::ALL.iter().any(|k| k.default_name() == name)
        || eventlog::DEFAULT_PROMOTED.contains(&name)
}

impl Renames {
    /// `NAME=KEY` pairs: the envelope's `NAME` is written as `KEY`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, CliError> {
        let mut out = Vec::new();
        for arg in args {
            let bad = || CliError::BadArgument {
                arg: "--key",
                value: arg.clone(),
                expected: "NAME=KEY with NAME an envelope key (timestamp, level, event_name, event_type, message, service, …, request_id, user_id), for example timestamp=@timestamp",
            };
            let (name, key) = arg.split_once('=').ok_or_else(bad)?;
            let (name, key) = (name.trim(), key.trim());
            if !known(name) || key.is_empty() {
                return Err(bad());
            }
            out.push((name.to_owned(), key.to_owned()));
        }
        Ok(Renames(out))
    }

    /// Moves each renamed key of `record` back under its envelope name.
    pub(crate) fn apply(&self, record: &mut Map<String, Value>) {
        for (name, key) in &self.0 {
            if name != key
                && let Some(v) = record.remove(key)
            {
                record.insert(name.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renamed_keys_move_back() {
        let r = Renames::parse(&[
            "timestamp=@timestamp".into(),
            "level=severity".into(),
            "request_id=req".into(),
        ])
        .unwrap();
        let Value::Object(mut m) =
            json!({"@timestamp": "t", "severity": "INFO", "req": "r1", "x": 1})
        else {
            unreachable!()
        };
        r.apply(&mut m);
        assert_eq!(
            Value::Object(m),
            json!({"timestamp": "t", "level": "INFO", "request_id": "r1", "x": 1})
        );
        for bad in ["timestamp", "nope=x", "level=", "=x", "level= "] {
            assert!(Renames::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// `--key` with any text: renames of known names to non-empty keys,
        /// or a `BadArgument` carrying the text; applying them never panics.
        #[test]
        fn any_key_text_parses_or_is_refused(
            texts in proptest::collection::vec("\\PC*|(level|timestamp|request_id)=\\PC{0,6}", 0..4),
        ) {
            match Renames::parse(&texts) {
                Ok(r) => {
                    for (name, key) in &r.0 {
                        proptest::prop_assert!(known(name) && !key.is_empty());
                    }
                    let Value::Object(mut m) = json!({"level": "INFO", "x": 1}) else {
                        unreachable!()
                    };
                    r.apply(&mut m);
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
