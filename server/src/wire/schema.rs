//! Schemas of the parameters the server parses itself, built from the tables it parses with
//! (the timeframe spellings, the symbol alphabet, the exchanges), so `/openapi.json` says what a
//! handler accepts and a request the schema allows is not refused for its shape. Used through
//! `#[param(schema_with = …)]` and `#[schema(schema_with = …)]`.

use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, OneOfBuilder,
    SchemaFormat, Type,
};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A timeframe: one of the spellings [`stocksblitz_market::Timeframe::parse`] accepts
/// (it also takes them in any case).
pub(crate) fn timeframe() -> Object {
    string()
        .enum_values(Some(stocksblitz_market::Timeframe::spellings()))
        .examples(["5m"])
        .build()
}

/// An instrument symbol: the alphabet and length [`stocksblitz_symbols::parse`] accepts.
pub(crate) fn symbol() -> Object {
    string()
        .pattern(Some(stocksblitz_symbols::symbol_pattern()))
        .min_length(Some(1))
        .max_length(Some(34))
        .examples(["NIFTY 50"])
        .description(Some(
            "a tradingsymbol (`NIFTY25NOVFUT`, `RELIANCE`) or an index name (`NIFTY 50`)",
        ))
        .build()
}

/// A comma-separated list of up to [`crate::routes::quote::MAX_SYMBOLS`] symbols.
pub(crate) fn symbol_list() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(symbol())
        .min_items(Some(1))
        .max_items(Some(crate::routes::quote::MAX_SYMBOLS))
        .build()
}

/// A comma-separated list of up to 20 news symbols.
pub(crate) fn news_symbols() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(symbol())
        .min_items(Some(1))
        .max_items(Some(crate::routes::news::MAX_SYMBOLS))
        .build()
}

/// An underlying: an index name or alias (`NIFTY`, `NIFTY 50`) or a stock.
pub(crate) fn underlying() -> Object {
    string()
        .pattern(Some(stocksblitz_symbols::symbol_pattern()))
        .min_length(Some(1))
        .max_length(Some(34))
        .examples(["NIFTY"])
        .build()
}

/// An optional calendar date, `YYYY-MM-DD` (blank means absent).
pub(crate) fn date() -> Object {
    string()
        .pattern(Some(
            r"^(?:\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8]))?$",
        ))
        .examples(["2026-11-27"])
        .description(Some(
            "YYYY-MM-DD (days 29 to 31 also accepted where the month has them)",
        ))
        .build()
}

/// The same schema, also allowing a blank value (which an optional parameter reads as absent).
fn or_blank(mut o: Object) -> Object {
    if let Some(values) = o.enum_values.as_mut() {
        values.push(serde_json::Value::from(""));
    }
    if let Some(p) = o.pattern.take() {
        let inner = p.trim_start_matches('^').trim_end_matches('$');
        o.pattern = Some(format!("^(?:{inner})?$"));
    }
    o.min_length = None;
    o
}

/// An `@` instrument spec (`NSE@NIFTY@Nw@Call@ATM`): the forms that resolve whenever the
/// underlying is quoted.
pub(crate) fn instrument_spec() -> Object {
    string()
        .pattern(Some(stocksblitz_symbols::InstrumentSpec::pattern()))
        .examples(["NSE@NIFTY@Nw@Call@ATM"])
        .build()
}

/// One of the broker's vocabularies (`BUY`/`SELL`, order types, products, validities,
/// varieties), from its own table (it also takes them in any case).
macro_rules! vocabulary_schema {
    ($($f:ident => $ty:ident),* $(,)?) => {$(
        pub(crate) fn $f() -> Object {
            one_of(stocksblitz_broker::$ty::ALL.iter().map(|v| v.as_str()))
        }
    )*};
}

vocabulary_schema! {
    transaction_type => Side,
    order_type => OrderType,
    product => Product,
    validity => Validity,
    variety => Variety,
}

/// A name (topic, recipient): at most 128 characters, no control characters (blank: absent).
pub(crate) fn name() -> Object {
    string()
        .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]{0,128}$"))
        .build()
}

/// A required name: like [`name`], with at least one visible character.
pub(crate) fn required_name() -> Object {
    printable(128)
}

/// A paper account's name: 1 to 40 characters, not all blank, no control characters.
pub(crate) fn account_name() -> Object {
    let mut o = printable(40);
    o.description =
        Some("unique per user: 1 to 40 characters, not all blank, no control characters".into());
    o
}

/// Text of at most `max` characters with something printable in it and no control characters.
fn printable(max: usize) -> Object {
    string()
        .pattern(Some(
            r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
        ))
        .min_length(Some(1))
        .max_length(Some(max))
        .build()
}

/// `o` with a description (a field's doc comment cannot carry it beside an inline schema).
fn described(mut o: Object, text: &str) -> Object {
    o.description = Some(text.to_string());
    o
}

/// One of a fixed set of words.
pub(crate) fn one_of<'a>(words: impl IntoIterator<Item = &'a str>) -> Object {
    string().enum_values(Some(words)).build()
}

/// An indicator id (`RSI_14`, `BBANDS_20_2`, or a bare name for its defaults). The enum lists
/// every registry entry at its default parameters; other values within each parameter's range
/// (`RSI_21`, see `/indicators/definition/{name}`) are accepted too.
pub(crate) fn indicator() -> Object {
    string()
        .enum_values(Some(default_ids()))
        .examples(["RSI_14"])
        .description(Some(
            "an indicator id; the enum lists the defaults, any parameters within range are accepted",
        ))
        .build()
}

/// A comma-separated list of indicator ids (`RSI_14,SMA_20`), 1 to
/// [`crate::wire::indicators::MAX_INDICATORS`].
pub(crate) fn indicator_list() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(indicator())
        .min_items(Some(1))
        .max_items(Some(crate::wire::indicators::MAX_INDICATORS))
        .examples([serde_json::json!(["RSI_14", "SMA_20"])])
        .build()
}

/// A list of 1 to [`crate::wire::indicators::MAX_INDICATORS`] indicator ids in a body.
pub(crate) fn indicator_ids() -> Array {
    ArrayBuilder::new()
        .items(indicator())
        .min_items(Some(1))
        .max_items(Some(crate::wire::indicators::MAX_INDICATORS))
        .build()
}

/// An indicator in a request body: an id (`"RSI_14"`), or a registry entry by name with named
/// parameters, each of the entry's own within its range (`{"name": "RSI", "params":
/// {"length": 21}}`, omitted ones take their defaults) — one alternative per registry entry,
/// built from the registry the server parses with.
pub(crate) fn indicator_spec() -> OneOfBuilder {
    let mut one_of = OneOfBuilder::new().item(indicator());
    for def in stocksblitz_indicators::REGISTRY {
        let mut params = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(
                AdditionalProperties::<utoipa::openapi::Schema>::FreeForm(false),
            ));
        for p in def.params {
            let kind = if p.kind == stocksblitz_indicators::ParamKind::Int {
                Type::Integer
            } else {
                Type::Number
            };
            params = params.property(
                p.name,
                ObjectBuilder::new()
                    .schema_type(kind)
                    .minimum(Some(p.min))
                    .maximum(Some(p.max)),
            );
        }
        one_of = one_of.item(
            ObjectBuilder::new()
                .title(Some(def.name))
                .schema_type(Type::Object)
                .property("name", self::one_of([def.name]))
                .property("params", params)
                .required("name"),
        );
    }
    one_of
}

/// 1 to [`crate::wire::indicators::MAX_INDICATORS`] indicators in a body (see
/// [`indicator_spec`]).
pub(crate) fn indicator_specs() -> Array {
    ArrayBuilder::new()
        .items(indicator_spec())
        .min_items(Some(1))
        .max_items(Some(crate::wire::indicators::MAX_INDICATORS))
        .build()
}

fn default_ids() -> Vec<String> {
    stocksblitz_indicators::REGISTRY
        .iter()
        .filter_map(|def| stocksblitz_indicators::IndicatorId::with_values(def.name, &[]).ok())
        .map(|id| id.canonical())
        .collect()
}

/// An indicator category (any case).
pub(crate) fn indicator_category() -> Object {
    one_of(
        stocksblitz_indicators::Category::ALL
            .iter()
            .map(|c| c.as_str()),
    )
}

/// A trading calendar: `NSE` (also for `NFO`) or `BSE` (also for `BFO`).
pub(crate) fn calendar() -> Object {
    one_of(["NSE", "NFO", "BSE", "BFO"])
}

/// An instrument kind.
pub(crate) fn instrument_kind() -> Object {
    one_of(["index", "future", "fut", "option", "opt", "equity", "eq"])
}

/// An option right in any of its spellings (any case).
pub(crate) fn right() -> Object {
    one_of(["CE", "PE", "C", "P", "CALL", "PUT", "call", "put"])
}

/// A row id in a path: a positive 64-bit integer (`1..=i64::MAX`, what the store's keys take).
pub(crate) fn row_id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(i64::MAX))
        .build()
}

/// An id to read after (a cursor): a whole number `0..=i64::MAX` (0: from the start).
pub(crate) fn cursor() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(i64::MAX))
        .build()
}

/// Schema-only types for `#[param(value_type = …, inline)]`: each stands for a parameter the
/// handler reads as text and parses itself, and documents it with the schema built beside it.
macro_rules! param_types {
    ($($ty:ident => $e:expr),* $(,)?) => {$(
        pub(crate) struct $ty;
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                ($e).into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

param_types! {
    RowId => row_id(),
    Cursor => cursor(),
    Symbol => symbol(),
    Underlying => underlying(),
    TimeframeName => timeframe(),
    DateText => date(),
    Indicator => indicator(),
    IndicatorList => indicator_list(),
    IndicatorIds => indicator_ids(),
    IndicatorSpecs => indicator_specs(),
    InstrumentSpecText => instrument_spec(),
    SymbolList => symbol_list(),
    NewsSymbols => news_symbols(),
    TransactionType => transaction_type(),
    OrderTypeName => order_type(),
    ProductName => product(),
    ValidityName => validity(),
    VarietyName => variety(),
    NameText => name(),
    RequiredName => required_name(),
    AccountName => account_name(),
    MessageTypeOrBlank => or_blank(one_of(crate::routes::messages::MESSAGE_TYPES)),
    EventTypeOrBlank => or_blank(one_of(crate::routes::alerts::EVENT_TYPES)),
    PriorityOrBlank => or_blank(one_of(stocksblitz_alerts::PRIORITIES)),
    AlertType => described(
        one_of(["price", "indicator"]),
        "`price` (evaluated on every quote) or `indicator` (on every bar close of `timeframe`)",
    ),
    TimeframeOrBlank => or_blank(timeframe()),
    FrequencyOrBlank => or_blank(one_of(stocksblitz_alerts::schedule::Frequency::ALL.map(stocksblitz_alerts::schedule::Frequency::as_str))),
    NewsCategoryOrBlank => or_blank(one_of(crate::routes::news::CATEGORIES)),
    SentimentOrBlank => or_blank(one_of(["positive", "negative", "neutral"])),
    ProductOrBlank => or_blank(product()),
    SymbolOrBlank => or_blank(symbol()),
    UnderlyingOrBlank => or_blank(underlying()),
    CalendarOrBlank => or_blank(calendar()),
    IndicatorCategoryOrBlank => or_blank(indicator_category()),
    InstrumentKindOrBlank => or_blank(instrument_kind()),
    RightOrBlank => or_blank(right()),
}
