//! The registry: every indicator's name, category, display name, description, typed parameters
//! (default, min, max), inputs, outputs, warm-up and constructors. The one source of truth for
//! id parsing, validation, `/indicators/list` and the Python `ta` signatures.

use crate::Indicator;
use crate::frame::Frame;
use crate::ind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Momentum,
    Trend,
    Volatility,
    Volume,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Momentum => "momentum",
            Category::Trend => "trend",
            Category::Volatility => "volatility",
            Category::Volume => "volume",
            Category::Other => "other",
        }
    }
    pub const ALL: [Category; 5] = [
        Category::Momentum,
        Category::Trend,
        Category::Volatility,
        Category::Volume,
        Category::Other,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Float,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Int => "integer",
            ParamKind::Float => "float",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: f64,
    pub min: f64,
    pub max: f64,
}

/// Input columns an indicator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Input {
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Open => "open",
            Input::High => "high",
            Input::Low => "low",
            Input::Close => "close",
            Input::Volume => "volume",
        }
    }
}

/// How far back an indicator's value depends on the input — what a caller must fetch for an
/// exact value at the latest bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// Depends only on the last `lookback + 1` bars: exact with that many.
    Window,
    /// A recursive filter (EMA, Wilder, …): converges; fetch several times the lookback.
    Recursive,
    /// Accumulates over the whole input (OBV, AD): values depend on where the input starts.
    Cumulative,
    /// Accumulates within an IST session (VWAP, CPR): exact from the session start.
    Session,
}

pub type BuildFn = fn(&[f64]) -> Box<dyn Indicator>;
pub type BatchFn = fn(&Frame<'_>, &[f64]) -> Vec<Vec<f64>>;
pub type LookbackFn = fn(&[f64]) -> usize;

/// One registry entry.
#[derive(Debug, Clone, Copy)]
pub struct IndicatorDef {
    pub name: &'static str,
    pub display_name: &'static str,
    pub category: Category,
    pub description: &'static str,
    pub params: &'static [ParamDef],
    pub inputs: &'static [Input],
    /// Bar times change the result (session resets) when given.
    pub uses_time: bool,
    /// Output names ("value" for single-output indicators).
    pub outputs: &'static [&'static str],
    pub memory: Memory,
    pub build: BuildFn,
    pub batch: BatchFn,
    /// Index of the first defined value (bars of warm-up).
    pub lookback: LookbackFn,
}

impl IndicatorDef {
    pub fn is_multi_output(&self) -> bool {
        self.outputs.len() > 1
    }
    pub fn param(&self, name: &str) -> Option<(usize, &'static ParamDef)> {
        self.params
            .iter()
            .enumerate()
            .find(|(_, p)| p.name.eq_ignore_ascii_case(name))
    }
    pub fn defaults(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.default).collect()
    }
}

const MAXLEN: f64 = 100_000.0;

const fn int(name: &'static str, default: f64, min: f64) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Int,
        default,
        min,
        max: MAXLEN,
    }
}
const fn float(name: &'static str, default: f64, min: f64, max: f64) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Float,
        default,
        min,
        max,
    }
}

const C: &[Input] = &[Input::Close];
const HL: &[Input] = &[Input::High, Input::Low];
const HLC: &[Input] = &[Input::High, Input::Low, Input::Close];
const CV: &[Input] = &[Input::Close, Input::Volume];
const HLCV: &[Input] = &[Input::High, Input::Low, Input::Close, Input::Volume];
const VALUE: &[&str] = &["value"];

#[inline]
fn u(p: &[f64], i: usize) -> usize {
    p.get(i).copied().unwrap_or(1.0).max(0.0) as usize
}
#[inline]
fn f(p: &[f64], i: usize) -> f64 {
    p.get(i).copied().unwrap_or(f64::NAN)
}

fn v<const N: usize>(a: [Vec<f64>; N]) -> Vec<Vec<f64>> {
    a.into_iter().collect()
}

/// Alternative spellings (upper case) → registry name.
pub const ALIASES: &[(&str, &str)] = &[
    ("BB", "BBANDS"),
    ("BOLLINGER", "BBANDS"),
    ("STOCHASTIC", "STOCH"),
    ("SAR", "PSAR"),
    ("PARABOLICSAR", "PSAR"),
    ("ZLMA", "ZLEMA"),
    ("WILLIAMSR", "WILLR"),
    ("WILLIAMS", "WILLR"),
    ("KELTNER", "KC"),
    ("DONCHIAN", "DC"),
    ("HULL", "HMA"),
    ("ST", "SUPERTREND"),
];

/// The registry, in the order of the spec's table.
pub static REGISTRY: &[IndicatorDef] = &[
    IndicatorDef {
        name: "RSI",
        display_name: "Relative Strength Index",
        category: Category::Momentum,
        description: "Wilder's RSI (TA-Lib), scaled by scalar/100.",
        params: &[int("length", 14.0, 1.0), float("scalar", 100.0, 0.0, 1e6)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::rsi::Rsi::new(u(p, 0), f(p, 1))),
        batch: |fr, p| vec![ind::rsi::rsi(fr.close(), u(p, 0), f(p, 1))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "STOCH",
        display_name: "Stochastic Oscillator",
        category: Category::Momentum,
        description: "TA-Lib STOCH: fast %K over k bars, slow %K = SMA(smooth_k), %D = SMA(d).",
        params: &[
            int("k", 14.0, 1.0),
            int("d", 3.0, 1.0),
            int("smooth_k", 3.0, 1.0),
        ],
        inputs: HLC,
        uses_time: false,
        outputs: &["k", "d"],
        memory: Memory::Window,
        build: |p| Box::new(ind::stoch::Stoch::new(u(p, 0), u(p, 1), u(p, 2))),
        batch: |fr, p| {
            v(ind::stoch::stoch(
                fr.high(),
                fr.low(),
                fr.close(),
                u(p, 0),
                u(p, 1),
                u(p, 2),
            ))
        },
        lookback: |p| u(p, 0) + u(p, 1) + u(p, 2) - 3,
    },
    IndicatorDef {
        name: "STOCHRSI",
        display_name: "Stochastic RSI",
        category: Category::Momentum,
        description: "STOCH applied to RSI(rsi_length) with fastk = length, slowk = k, slowd = d.",
        params: &[
            int("length", 14.0, 1.0),
            int("rsi_length", 14.0, 1.0),
            int("k", 3.0, 1.0),
            int("d", 3.0, 1.0),
        ],
        inputs: C,
        uses_time: false,
        outputs: &["k", "d"],
        memory: Memory::Recursive,
        build: |p| {
            Box::new(ind::stochrsi::StochRsi::new(
                u(p, 0),
                u(p, 1),
                u(p, 2),
                u(p, 3),
            ))
        },
        batch: |fr, p| {
            v(ind::stochrsi::stochrsi(
                fr.close(),
                u(p, 0),
                u(p, 1),
                u(p, 2),
                u(p, 3),
            ))
        },
        lookback: |p| u(p, 1) + u(p, 0) + u(p, 2) + u(p, 3) - 3,
    },
    IndicatorDef {
        name: "MACD",
        display_name: "Moving Average Convergence Divergence",
        category: Category::Momentum,
        description: "TA-Lib MACD: EMA(fast) − EMA(slow), signal EMA, histogram.",
        params: &[
            int("fast", 12.0, 1.0),
            int("slow", 26.0, 1.0),
            int("signal", 9.0, 1.0),
        ],
        inputs: C,
        uses_time: false,
        outputs: &["macd", "signal", "histogram"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::macd::Macd::new(u(p, 0), u(p, 1), u(p, 2))),
        batch: |fr, p| v(ind::macd::macd(fr.close(), u(p, 0), u(p, 1), u(p, 2))),
        lookback: |p| u(p, 0).max(u(p, 1)) + u(p, 2) - 2,
    },
    IndicatorDef {
        name: "CCI",
        display_name: "Commodity Channel Index",
        category: Category::Momentum,
        description: "TA-Lib CCI over typical prices.",
        params: &[int("length", 20.0, 1.0)],
        inputs: HLC,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::cci::Cci::new(u(p, 0))),
        batch: |fr, p| vec![ind::cci::cci(fr.high(), fr.low(), fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "MOM",
        display_name: "Momentum",
        category: Category::Momentum,
        description: "TA-Lib MOM: close − close length bars ago.",
        params: &[int("length", 10.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::mom::Mom::new(u(p, 0))),
        batch: |fr, p| vec![ind::mom::mom(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "ROC",
        display_name: "Rate of Change",
        category: Category::Momentum,
        description: "TA-Lib ROC: percent change over length bars.",
        params: &[int("length", 12.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::roc::Roc::new(u(p, 0))),
        batch: |fr, p| vec![ind::roc::roc(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "TSI",
        display_name: "True Strength Index",
        category: Category::Momentum,
        description: "100·EMA(EMA(Δclose, slow), fast) / EMA(EMA(|Δclose|, slow), fast); signal = EMA(tsi, signal).",
        params: &[
            int("fast", 13.0, 1.0),
            int("slow", 25.0, 1.0),
            int("signal", 13.0, 1.0),
        ],
        inputs: C,
        uses_time: false,
        outputs: &["tsi", "signal"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::tsi::Tsi::new(u(p, 0), u(p, 1), u(p, 2))),
        batch: |fr, p| v(ind::tsi::tsi(fr.close(), u(p, 0), u(p, 1), u(p, 2))),
        lookback: |p| u(p, 0) + u(p, 1) - 1,
    },
    IndicatorDef {
        name: "WILLR",
        display_name: "Williams %R",
        category: Category::Momentum,
        description: "TA-Lib WILLR over length bars.",
        params: &[int("length", 14.0, 1.0)],
        inputs: HLC,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::willr::Willr::new(u(p, 0))),
        batch: |fr, p| vec![ind::willr::willr(fr.high(), fr.low(), fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "AO",
        display_name: "Awesome Oscillator",
        category: Category::Momentum,
        description: "SMA(hl2, fast) − SMA(hl2, slow), hl2 = (high + low)/2.",
        params: &[int("fast", 5.0, 1.0), int("slow", 34.0, 1.0)],
        inputs: HL,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::ao::Ao::new(u(p, 0), u(p, 1))),
        batch: |fr, p| vec![ind::ao::ao(fr.high(), fr.low(), u(p, 0), u(p, 1))],
        lookback: |p| u(p, 0).max(u(p, 1)) - 1,
    },
    IndicatorDef {
        name: "PPO",
        display_name: "Percentage Price Oscillator",
        category: Category::Momentum,
        description: "TA-Lib PPO with SMAs; signal = EMA(ppo, signal); histogram = ppo − signal.",
        params: &[
            int("fast", 12.0, 1.0),
            int("slow", 26.0, 1.0),
            int("signal", 9.0, 1.0),
        ],
        inputs: C,
        uses_time: false,
        outputs: &["ppo", "signal", "histogram"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::ppo::Ppo::new(u(p, 0), u(p, 1), u(p, 2))),
        batch: |fr, p| v(ind::ppo::ppo(fr.close(), u(p, 0), u(p, 1), u(p, 2))),
        lookback: |p| u(p, 0).max(u(p, 1)) - 1,
    },
    IndicatorDef {
        name: "SMA",
        display_name: "Simple Moving Average",
        category: Category::Trend,
        description: "TA-Lib SMA.",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::sma::Sma::new(u(p, 0))),
        batch: |fr, p| vec![ind::sma::sma(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "EMA",
        display_name: "Exponential Moving Average",
        category: Category::Trend,
        description: "TA-Lib EMA (seeded with the SMA of the first length values, alpha = 2/(length+1)).",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::ema::Ema::new(u(p, 0))),
        batch: |fr, p| vec![ind::ema::ema(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "WMA",
        display_name: "Weighted Moving Average",
        category: Category::Trend,
        description: "TA-Lib WMA (linear weights).",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::wma::Wma::new(u(p, 0))),
        batch: |fr, p| vec![ind::wma::wma(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "HMA",
        display_name: "Hull Moving Average",
        category: Category::Trend,
        description: "WMA(2·WMA(close, ⌊n/2⌋) − WMA(close, n), ⌊√n⌋).",
        params: &[int("length", 20.0, 2.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::hma::Hma::new(u(p, 0))),
        batch: |fr, p| vec![ind::hma::hma(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0) - 1 + ((u(p, 0) as f64).sqrt().floor() as usize).max(1) - 1,
    },
    IndicatorDef {
        name: "DEMA",
        display_name: "Double Exponential Moving Average",
        category: Category::Trend,
        description: "TA-Lib DEMA: 2·EMA − EMA(EMA).",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::dema::Dema::new(u(p, 0))),
        batch: |fr, p| vec![ind::dema::dema(fr.close(), u(p, 0))],
        lookback: |p| 2 * (u(p, 0) - 1),
    },
    IndicatorDef {
        name: "TEMA",
        display_name: "Triple Exponential Moving Average",
        category: Category::Trend,
        description: "TA-Lib TEMA: 3·EMA − 3·EMA(EMA) + EMA(EMA(EMA)).",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::tema::Tema::new(u(p, 0))),
        batch: |fr, p| vec![ind::tema::tema(fr.close(), u(p, 0))],
        lookback: |p| 3 * (u(p, 0) - 1),
    },
    IndicatorDef {
        name: "VWMA",
        display_name: "Volume Weighted Moving Average",
        category: Category::Trend,
        description: "SMA(close·volume, n) / SMA(volume, n).",
        params: &[int("length", 20.0, 1.0)],
        inputs: CV,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::vwma::Vwma::new(u(p, 0))),
        batch: |fr, p| vec![ind::vwma::vwma(fr.close(), fr.volume(), u(p, 0))],
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "ZLEMA",
        display_name: "Zero Lag Exponential Moving Average",
        category: Category::Trend,
        description: "EMA(close + (close − close[lag]), n), lag = ⌊(n − 1)/2⌋.",
        params: &[int("length", 20.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::zlema::Zlema::new(u(p, 0))),
        batch: |fr, p| vec![ind::zlema::zlema(fr.close(), u(p, 0))],
        lookback: |p| (u(p, 0) - 1) / 2 + u(p, 0) - 1,
    },
    IndicatorDef {
        name: "KAMA",
        display_name: "Kaufman Adaptive Moving Average",
        category: Category::Trend,
        description: "TA-Lib KAMA.",
        params: &[int("length", 10.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::kama::Kama::new(u(p, 0))),
        batch: |fr, p| vec![ind::kama::kama(fr.close(), u(p, 0))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "MAMA",
        display_name: "MESA Adaptive Moving Average",
        category: Category::Trend,
        description: "TA-Lib MAMA and FAMA.",
        params: &[
            float("fastlimit", 0.5, 0.01, 0.99),
            float("slowlimit", 0.05, 0.01, 0.99),
        ],
        inputs: C,
        uses_time: false,
        outputs: &["mama", "fama"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::mama::Mama::new(f(p, 0), f(p, 1))),
        batch: |fr, p| v(ind::mama::mama(fr.close(), f(p, 0), f(p, 1))),
        lookback: |_| 32,
    },
    IndicatorDef {
        name: "T3",
        display_name: "Tillson T3",
        category: Category::Trend,
        description: "TA-Lib T3 with volume factor a.",
        params: &[int("length", 5.0, 1.0), float("a", 0.7, 0.0, 1.0)],
        inputs: C,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::t3::T3::new(u(p, 0), f(p, 1))),
        batch: |fr, p| vec![ind::t3::t3(fr.close(), u(p, 0), f(p, 1))],
        lookback: |p| 6 * (u(p, 0) - 1),
    },
    IndicatorDef {
        name: "ATR",
        display_name: "Average True Range",
        category: Category::Volatility,
        description: "TA-Lib ATR (Wilder).",
        params: &[int("length", 14.0, 1.0)],
        inputs: HLC,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::atr::Atr::new(u(p, 0))),
        batch: |fr, p| vec![ind::atr::atr(fr.high(), fr.low(), fr.close(), u(p, 0))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "NATR",
        display_name: "Normalized Average True Range",
        category: Category::Volatility,
        description: "TA-Lib NATR: ATR / close · 100.",
        params: &[int("length", 14.0, 1.0)],
        inputs: HLC,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Recursive,
        build: |p| Box::new(ind::natr::Natr::new(u(p, 0))),
        batch: |fr, p| vec![ind::natr::natr(fr.high(), fr.low(), fr.close(), u(p, 0))],
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "BBANDS",
        display_name: "Bollinger Bands",
        category: Category::Volatility,
        description: "TA-Lib BBANDS (SMA, std deviations up and down); bandwidth = 100·(upper − lower)/middle; percent = (close − lower)/(upper − lower).",
        params: &[int("length", 20.0, 1.0), float("std", 2.0, 0.0, 100.0)],
        inputs: C,
        uses_time: false,
        outputs: &["upper", "middle", "lower", "bandwidth", "percent"],
        memory: Memory::Window,
        build: |p| Box::new(ind::bbands::Bbands::new(u(p, 0), f(p, 1))),
        batch: |fr, p| v(ind::bbands::bbands(fr.close(), u(p, 0), f(p, 1))),
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "KC",
        display_name: "Keltner Channels",
        category: Category::Volatility,
        description: "basis = EMA(close, n); band = EMA(true range, n) (first bar: high − low); basis ± scalar·band.",
        params: &[int("length", 20.0, 1.0), float("scalar", 2.0, 0.0, 100.0)],
        inputs: HLC,
        uses_time: false,
        outputs: &["upper", "basis", "lower"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::kc::Kc::new(u(p, 0), f(p, 1))),
        batch: |fr, p| {
            v(ind::kc::kc(
                fr.high(),
                fr.low(),
                fr.close(),
                u(p, 0),
                f(p, 1),
            ))
        },
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "DC",
        display_name: "Donchian Channels",
        category: Category::Volatility,
        description: "upper = highest high, lower = lowest low over n, middle = their mean.",
        params: &[int("length", 20.0, 1.0)],
        inputs: HL,
        uses_time: false,
        outputs: &["upper", "middle", "lower"],
        memory: Memory::Window,
        build: |p| Box::new(ind::dc::Dc::new(u(p, 0))),
        batch: |fr, p| v(ind::dc::dc(fr.high(), fr.low(), u(p, 0))),
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "OBV",
        display_name: "On Balance Volume",
        category: Category::Volume,
        description: "TA-Lib OBV (cumulative from the first bar).",
        params: &[],
        inputs: CV,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Cumulative,
        build: |_| Box::new(ind::obv::Obv::new()),
        batch: |fr, _| vec![ind::obv::obv(fr.close(), fr.volume())],
        lookback: |_| 0,
    },
    IndicatorDef {
        name: "AD",
        display_name: "Accumulation/Distribution",
        category: Category::Volume,
        description: "TA-Lib AD (Chaikin A/D line, cumulative from the first bar).",
        params: &[],
        inputs: HLCV,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Cumulative,
        build: |_| Box::new(ind::ad::Ad::new()),
        batch: |fr, _| vec![ind::ad::ad(fr.high(), fr.low(), fr.close(), fr.volume())],
        lookback: |_| 0,
    },
    IndicatorDef {
        name: "VWAP",
        display_name: "Volume Weighted Average Price",
        category: Category::Volume,
        description: "Σ(typical·volume)/Σvolume, typical = (h+l+c)/3, reset at each IST session when bar times are given.",
        params: &[],
        inputs: HLCV,
        uses_time: true,
        outputs: VALUE,
        memory: Memory::Session,
        build: |_| Box::new(ind::vwap::Vwap::new()),
        batch: |fr, _| {
            vec![ind::vwap::vwap(
                fr.time,
                fr.high(),
                fr.low(),
                fr.close(),
                fr.volume(),
            )]
        },
        lookback: |_| 0,
    },
    IndicatorDef {
        name: "ADX",
        display_name: "Average Directional Index",
        category: Category::Volume,
        description: "TA-Lib ADX with PLUS_DI and MINUS_DI.",
        params: &[int("length", 14.0, 1.0)],
        inputs: HLC,
        uses_time: false,
        outputs: &["adx", "plus_di", "minus_di"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::adx::Adx::new(u(p, 0))),
        batch: |fr, p| v(ind::adx::adx(fr.high(), fr.low(), fr.close(), u(p, 0))),
        lookback: |p| 2 * u(p, 0) - 1,
    },
    IndicatorDef {
        name: "MFI",
        display_name: "Money Flow Index",
        category: Category::Volume,
        description: "TA-Lib MFI.",
        params: &[int("length", 14.0, 1.0)],
        inputs: HLCV,
        uses_time: false,
        outputs: VALUE,
        memory: Memory::Window,
        build: |p| Box::new(ind::mfi::Mfi::new(u(p, 0))),
        batch: |fr, p| {
            vec![ind::mfi::mfi(
                fr.high(),
                fr.low(),
                fr.close(),
                fr.volume(),
                u(p, 0),
            )]
        },
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "PSAR",
        display_name: "Parabolic SAR",
        category: Category::Other,
        description: "TA-Lib SAR; trend = +1 while the SAR is below price, −1 above.",
        params: &[float("af", 0.02, 0.0, 1.0), float("max_af", 0.2, 0.0, 1.0)],
        inputs: HL,
        uses_time: false,
        outputs: &["sar", "trend"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::psar::Psar::new(f(p, 0), f(p, 1))),
        batch: |fr, p| v(ind::psar::psar(fr.high(), fr.low(), f(p, 0), f(p, 1))),
        lookback: |_| 1,
    },
    IndicatorDef {
        name: "SUPERTREND",
        display_name: "Supertrend",
        category: Category::Other,
        description: "hl2 ± multiplier·ATR(length) with carried final bands; value = the active band, direction ±1.",
        params: &[
            int("length", 10.0, 1.0),
            float("multiplier", 3.0, 0.0, 100.0),
        ],
        inputs: HLC,
        uses_time: false,
        outputs: &["value", "direction"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::supertrend::Supertrend::new(u(p, 0), f(p, 1))),
        batch: |fr, p| {
            v(ind::supertrend::supertrend(
                fr.high(),
                fr.low(),
                fr.close(),
                u(p, 0),
                f(p, 1),
            ))
        },
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "AROON",
        display_name: "Aroon",
        category: Category::Other,
        description: "TA-Lib AROON (up, down) and AROONOSC.",
        params: &[int("length", 25.0, 1.0)],
        inputs: HL,
        uses_time: false,
        outputs: &["up", "down", "oscillator"],
        memory: Memory::Window,
        build: |p| Box::new(ind::aroon::Aroon::new(u(p, 0))),
        batch: |fr, p| v(ind::aroon::aroon(fr.high(), fr.low(), u(p, 0))),
        lookback: |p| u(p, 0),
    },
    IndicatorDef {
        name: "FISHER",
        display_name: "Fisher Transform",
        category: Category::Other,
        description: "Ehlers' Fisher transform of hl2 over length bars; signal = fisher shifted by signal bars.",
        params: &[
            int("length", 9.0, 1.0),
            ParamDef {
                name: "signal",
                kind: ParamKind::Int,
                default: 1.0,
                min: 0.0,
                max: 1000.0,
            },
        ],
        inputs: HL,
        uses_time: false,
        outputs: &["fisher", "signal"],
        memory: Memory::Recursive,
        build: |p| Box::new(ind::fisher::Fisher::new(u(p, 0), u(p, 1))),
        batch: |fr, p| v(ind::fisher::fisher(fr.high(), fr.low(), u(p, 0), u(p, 1))),
        lookback: |p| u(p, 0) - 1,
    },
    IndicatorDef {
        name: "CPR",
        display_name: "Central Pivot Range",
        category: Category::Other,
        description: "Pivot, BC, TC, R1–R3, S1–S3 from the previous IST session's high, low and close (each bar is a session without times).",
        params: &[],
        inputs: HLC,
        uses_time: true,
        outputs: &["pivot", "bc", "tc", "r1", "r2", "r3", "s1", "s2", "s3"],
        memory: Memory::Session,
        build: |_| Box::new(ind::cpr::Cpr::new()),
        batch: |fr, _| v(ind::cpr::cpr(fr.time, fr.high(), fr.low(), fr.close())),
        lookback: |_| 1,
    },
];

/// Look a registry entry up by name or alias (any case).
pub fn find(name: &str) -> Option<&'static IndicatorDef> {
    let up = name.trim().to_ascii_uppercase();
    let canonical = ALIASES
        .iter()
        .find(|(a, _)| *a == up)
        .map_or(up.as_str(), |(_, n)| n);
    REGISTRY.iter().find(|d| d.name == canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_37_with_unique_names() {
        assert_eq!(REGISTRY.len(), 37);
        let mut names: Vec<&str> = REGISTRY.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 37);
        for d in REGISTRY {
            assert!(
                !d.outputs.is_empty() && d.outputs.len() <= crate::MAX_OUTPUTS,
                "{}",
                d.name
            );
            for p in d.params {
                assert!(
                    p.min <= p.default && p.default <= p.max,
                    "{}.{}",
                    d.name,
                    p.name
                );
            }
        }
        for (a, n) in ALIASES {
            assert!(find(a).is_some_and(|d| d.name == *n), "{a}");
        }
    }
}
