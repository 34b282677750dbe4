//! Whole numbers in request bodies, as JSON has them: `45` and `45.0` are
//! the same number (RFC 8259 has one number type, and JSON Schema's
//! `integer` accepts both), so an integer field takes either. A fraction,
//! or a number out of the field's range, is refused like any other wrong
//! type (422 `invalid_body`). Use with `#[serde(deserialize_with = ...)]`;
//! an `Option` field also needs `#[serde(default)]`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A JSON number with no fraction.
struct Whole(i64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                Ok(Whole(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                i64::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                // i64::MIN is -2^63, exactly representable; 2^63 is not an i64.
                if v.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v)
                {
                    Ok(Whole(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn narrow<'de, D: Deserializer<'de>>(v: i64) -> Result<i32, D::Error> {
    i32::try_from(v).map_err(|_| {
        de::Error::invalid_value(de::Unexpected::Signed(v), &"a whole number within ±2^31")
    })
}

pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    narrow::<D>(Whole::deserialize(d)?.0)
}

pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    Option::<Whole>::deserialize(d)?
        .map(|w| narrow::<D>(w.0))
        .transpose()
}

pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "i32")]
        n: i32,
        #[serde(default, deserialize_with = "opt_i64")]
        m: Option<i64>,
    }

    #[test]
    fn whole_numbers_with_or_without_a_fraction_part() {
        let parse = |s: &str| serde_json::from_str::<Body>(s).ok();
        let body = |n, m| Some(Body { n, m });
        let table: [(&str, Option<Body>); 9] = [
            (r#"{"n": 45}"#, body(45, None)),
            (r#"{"n": 45.0}"#, body(45, None)),
            (r#"{"n": -5e0, "m": null}"#, body(-5, None)),
            (r#"{"n": 1, "m": 4.0}"#, body(1, Some(4))),
            (r#"{"n": 1.5}"#, None),
            (r#"{"n": 1, "m": 2.25}"#, None),
            (r#"{"n": 3000000000}"#, None),
            (r#"{"n": 1e300}"#, None),
            (r#"{"n": "45"}"#, None),
        ];
        for (json, want) in table {
            assert_eq!(parse(json), want, "{json}");
        }
    }
}
