//! The registry as clients read it: one description per indicator (the server's
//! `/indicators/list` and `/indicators/definition`, the bindings' `ta_registry`), serializable
//! with the `serde` feature.

use crate::registry::{IndicatorDef, Memory, ParamKind};

/// A parameter bound or default: whole for integer parameters, else a float (a non-finite
/// float serializes as null).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged))]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(kind: ParamKind, v: f64) -> Self {
        match kind {
            ParamKind::Int if v.is_finite() && v.abs() < 9.0e15 => Number::Int(v as i64),
            _ => Number::Float(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ParamDescription {
    pub name: &'static str,
    /// `integer` or `float`.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub kind: &'static str,
    pub default: Number,
    pub min: Number,
    pub max: Number,
    /// Every parameter has a default.
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Description {
    pub name: &'static str,
    pub display_name: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub parameters: Vec<ParamDescription>,
    /// The inputs it reads (`open`, `high`, `low`, `close`, `volume`).
    pub inputs: Vec<&'static str>,
    /// Output names, in the order values come.
    pub outputs: &'static [&'static str],
    /// Whether it reads bar times (session-anchored indicators).
    pub uses_time: bool,
    /// How far back values depend: `window`, `recursive`, `cumulative` or `session`.
    pub memory: &'static str,
}

/// The description of one registry entry.
pub fn describe(def: &IndicatorDef) -> Description {
    Description {
        name: def.name,
        display_name: def.display_name,
        category: def.category.as_str(),
        description: def.description,
        parameters: def
            .params
            .iter()
            .map(|p| ParamDescription {
                name: p.name,
                kind: p.kind.as_str(),
                default: Number::of(p.kind, p.default),
                min: Number::of(p.kind, p.min),
                max: Number::of(p.kind, p.max),
                required: false,
            })
            .collect(),
        inputs: def.inputs.iter().map(|i| i.as_str()).collect(),
        outputs: def.outputs,
        uses_time: def.uses_time,
        memory: memory_name(def.memory),
    }
}

fn memory_name(m: Memory) -> &'static str {
    match m {
        Memory::Window => "window",
        Memory::Recursive => "recursive",
        Memory::Cumulative => "cumulative",
        Memory::Session => "session",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find;

    #[test]
    fn integer_parameters_are_whole_and_floats_stay_floats() {
        let rsi = describe(find("RSI").unwrap_or_else(|| unreachable!()));
        assert_eq!(rsi.name, "RSI");
        assert_eq!(rsi.outputs, &["value"][..]);
        let length = &rsi.parameters[0];
        assert_eq!((length.name, length.kind), ("length", "integer"));
        assert_eq!(length.default, Number::Int(14));
        assert_eq!(rsi.inputs, vec!["close"]);

        let bb = describe(find("BBANDS").unwrap_or_else(|| unreachable!()));
        let std = bb.parameters.iter().find(|p| p.kind == "float");
        assert!(matches!(std.map(|p| p.default), Some(Number::Float(v)) if v == 2.0));
        assert_eq!(
            bb.outputs.len(),
            bb.outputs
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        );
    }

    #[test]
    fn every_entry_is_described_once_in_registry_order() {
        let names: Vec<_> = crate::REGISTRY.iter().map(|d| describe(d).name).collect();
        let want: Vec<_> = crate::REGISTRY.iter().map(|d| d.name).collect();
        assert_eq!(names, want);
        for d in crate::REGISTRY {
            let x = describe(d);
            assert_eq!(x.parameters.len(), d.params.len(), "{}", d.name);
            for (p, q) in x.parameters.iter().zip(d.params) {
                if let Number::Int(v) = p.default {
                    assert_eq!(v as f64, q.default, "{}.{}", d.name, q.name);
                }
            }
        }
    }
}
