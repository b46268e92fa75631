//! Property tests: any string or number gives one line that parses back to it.

use eventlog::testing::Capture;
use proptest::prelude::*;
use tracing_subscriber::prelude::*;

use crate::support::assert_no_duplicate_keys;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_values_round_trip_in_one_line(
        s in any::<String>(),
        span_s in any::<String>(),
        msg in any::<String>(),
        i in any::<i64>(),
        u in any::<u64>(),
        f in any::<f64>(),
        b in any::<bool>(),
    ) {
        let capture = Capture::new();
        // Redaction off: this property is about encoding (random text can
        // look like an email or a card number).
        let layer = eventlog::layer().redactor(eventlog::Redactor::none()).writer(capture.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("prop", field = span_s.as_str(), user_id = span_s.as_str()).entered();
            tracing::info!(event_name = "prop", s = s.as_str(), i, u, f, b, "{}", msg);
        });
        let text = capture.text();
        prop_assert_eq!(text.matches('\n').count(), 1);
        assert_no_duplicate_keys(text.trim_end());
        let r = &capture.records()[0];
        prop_assert_eq!(r.metadata("s").unwrap().as_str().unwrap(), s.as_str());
        prop_assert_eq!(r.metadata("i").unwrap().as_i64().unwrap(), i);
        prop_assert_eq!(r.metadata("u").unwrap().as_u64().unwrap(), u);
        prop_assert_eq!(r.metadata("b").unwrap().as_bool().unwrap(), b);
        let fv = r.metadata("f").unwrap();
        if f.is_finite() {
            prop_assert_eq!(fv.as_f64().unwrap(), f);
        } else {
            prop_assert!(fv.is_string());
        }
        prop_assert_eq!(r.message().unwrap(), msg.as_str());
        prop_assert_eq!(r.span_field("field").unwrap().as_str().unwrap(), span_s.as_str());
        prop_assert_eq!(r.str("user_id").unwrap(), span_s.as_str());
    }

    #[test]
    fn fields_named_like_envelope_keys_give_unique_keys(names in proptest::collection::vec("[a-z_]{1,8}", 1..6)) {
        // Field names are static in tracing, so the names cannot be random:
        // the fields are named after envelope keys (and one is repeated),
        // and the random part is their values.
        let capture = Capture::new();
        let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let _s = tracing::info_span!("s", name = names[0].as_str(), fields = names[0].as_str()).entered();
            tracing::info!(
                event_name = names[0].as_str(),
                timestamp = names[0].as_str(),
                level = names[0].as_str(),
                message = names[0].as_str(),
                metadata = names[0].as_str(),
                a = 1, a = 2, a_2 = 3,
            );
        });
        for line in capture.lines() {
            assert_no_duplicate_keys(&line);
        }
    }
}
