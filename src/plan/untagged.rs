//! `Deserialize` for the model's untagged enums, written by hand.
//!
//! serde's derive for an untagged enum first copies the value into a buffer of its own, then
//! tries each variant against that buffer: for the segment lists of 10,000 plans, that was most
//! of the time spent reading the typed plan (issue 13). The value's type alone tells the variants
//! apart here (a string or a mapping, a string or a number, a string or a list), so each visitor
//! takes the one variant that type can be, straight from the JSON tree.
//!
//! Plans reach serde only after the schema accepted them, and the schema has the same variants,
//! so these visitors never see a value that fits no variant; if one did, its error would name
//! the type found instead of serde's "data did not match any variant".

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::model::{RawDuration, RawExportId, RawExports, RawSegment, WholeNumberVisitor};

impl<'de> Deserialize<'de> for RawSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SegmentVisitor;
        impl<'de> Visitor<'de> for SegmentVisitor {
            type Value = RawSegment;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a segment ID, or a mapping with `id` and `name`")
            }

            fn visit_str<E: de::Error>(self, id: &str) -> Result<RawSegment, E> {
                Ok(RawSegment::Bare(id.to_owned()))
            }

            fn visit_string<E: de::Error>(self, id: String) -> Result<RawSegment, E> {
                Ok(RawSegment::Bare(id))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSegment, A::Error> {
                Deserialize::deserialize(MapAccessDeserializer::new(map)).map(RawSegment::Detailed)
            }
        }
        deserializer.deserialize_any(SegmentVisitor)
    }
}

impl<'de> Deserialize<'de> for RawExports {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExportsVisitor;
        impl<'de> Visitor<'de> for ExportsVisitor {
            type Value = RawExports;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`latest` or a list of export job IDs")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawExports, E> {
                match text {
                    "latest" => Ok(RawExports::Latest(super::model::LatestKeyword::Latest)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawExports, A::Error> {
                Deserialize::deserialize(SeqAccessDeserializer::new(seq)).map(RawExports::Ids)
            }
        }
        deserializer.deserialize_any(ExportsVisitor)
    }
}

/// Implements the number-or-string visitor of an enum with a [`WholeNumber`] variant and a
/// `String` variant.
///
/// [`WholeNumber`]: super::model::WholeNumber
macro_rules! number_or_text {
    ($ty:ident, $visitor:ident, $number:ident, $text:ident, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct $visitor;
                impl Visitor<'_> for $visitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_u64<E: de::Error>(self, n: u64) -> Result<$ty, E> {
                        WholeNumberVisitor.visit_u64(n).map($ty::$number)
                    }

                    fn visit_i64<E: de::Error>(self, n: i64) -> Result<$ty, E> {
                        WholeNumberVisitor.visit_i64(n).map($ty::$number)
                    }

                    fn visit_f64<E: de::Error>(self, n: f64) -> Result<$ty, E> {
                        WholeNumberVisitor.visit_f64(n).map($ty::$number)
                    }

                    fn visit_str<E: de::Error>(self, text: &str) -> Result<$ty, E> {
                        Ok($ty::$text(text.to_owned()))
                    }

                    fn visit_string<E: de::Error>(self, text: String) -> Result<$ty, E> {
                        Ok($ty::$text(text))
                    }
                }
                deserializer.deserialize_any($visitor)
            }
        }
    };
}

number_or_text!(
    RawExportId,
    ExportIdVisitor,
    Number,
    Digits,
    "an export job ID: a whole number or a string of digits"
);
number_or_text!(
    RawDuration,
    DurationVisitor,
    Zero,
    Text,
    "a duration such as `1h30m`, or `0`"
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::model::{RawDuration, RawExportId, RawExports, RawSegment};

    #[test]
    fn each_json_type_picks_its_variant() {
        let read = |v| serde_json::from_value::<RawSegment>(v).unwrap();
        assert!(matches!(read(json!("a")), RawSegment::Bare(id) if id == "a"));
        let detailed = read(json!({"id": "a", "name": "b"}));
        assert_eq!((detailed.id(), detailed.name()), ("a", Some("b")));
        assert!(serde_json::from_value::<RawSegment>(json!({"id": "a", "x": 1})).is_err());
        assert!(serde_json::from_value::<RawSegment>(json!(1)).is_err());

        let exports = |v| serde_json::from_value::<RawExports>(v);
        assert!(matches!(
            exports(json!("latest")),
            Ok(RawExports::Latest(_))
        ));
        assert!(exports(json!("newest")).is_err());
        let Ok(RawExports::Ids(ids)) = exports(json!([11037, "11038", 1.1039e4])) else {
            panic!("a list of IDs");
        };
        let ids: Vec<String> = ids.iter().map(RawExportId::normalized).collect();
        assert_eq!(ids, ["11037", "11038", "11039"]);
        assert!(serde_json::from_value::<RawExportId>(json!(-1)).is_err());
        assert!(serde_json::from_value::<RawExportId>(json!(1.5)).is_err());

        let duration = |v| serde_json::from_value::<RawDuration>(v).unwrap();
        assert!(matches!(duration(json!("1h")), RawDuration::Text(t) if t == "1h"));
        assert!(matches!(duration(json!(0)), RawDuration::Zero(n) if n.0 == 0));
    }
}
