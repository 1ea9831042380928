//! A lexicon sentiment score for news headlines: the VADER rules (Hutto & Gilbert, 2014) over
//! the VADER lexicon (vaderSentiment 3.3.2, MIT) with a finance word list layered on top
//! (Henry 2008, as packaged by finvader 1.0.4, Apache-2.0) — see `data/README.md`.
//!
//! The score is a *lexicon score*: words carry valences (−4…4), shifted by intensifiers
//! ("very"), flipped and damped by negations ("not", "n't") within three words, weighted
//! around "but", emphasised by ALL CAPS among lower-case words and by "!" — summed and
//! normalised into `compound` ∈ [−1, 1]. It reads words, not meaning: sarcasm, numbers and
//! context ("beat estimates" vs "beat down") are beyond it.

use std::collections::HashMap;
use std::sync::OnceLock;

const VADER: &str = include_str!("../data/vader_lexicon.tsv");
const HENRY: &str = include_str!("../data/henry_2008.tsv");

/// Compound at or above this is positive, at or below its negative negative (VADER's own).
pub const THRESHOLD: f64 = 0.05;
/// Longest text scored (characters beyond it are ignored).
pub const MAX_TEXT_CHARS: usize = 10_000;

const BOOST: f64 = 0.293;
const CAPS: f64 = 0.733;
const NEGATION: f64 = -0.74;
/// What the normalisation divides by: `s / sqrt(s² + ALPHA)`.
const ALPHA: f64 = 15.0;

const INTENSIFIERS: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerably",
    "decidedly",
    "deeply",
    "enormously",
    "entirely",
    "especially",
    "exceptionally",
    "extremely",
    "fabulously",
    "fully",
    "greatly",
    "highly",
    "hugely",
    "incredibly",
    "intensely",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "totally",
    "tremendously",
    "unbelievably",
    "unusually",
    "utterly",
    "very",
];
const DAMPENERS: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "less",
    "little",
    "marginally",
    "occasionally",
    "partly",
    "scarcely",
    "slightly",
    "somewhat",
    "sorta",
];
const NEGATIONS: &[&str] = &[
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "dont", "hadnt",
    "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither", "neednt", "never", "none", "nope",
    "nor", "not", "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "wasnt", "werent",
    "without", "wont", "wouldnt", "rarely", "seldom", "despite",
];

/// Which word lists score a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lexicon {
    /// The VADER lexicon alone.
    Vader,
    /// VADER with the finance word list over it (what news is scored with).
    Finance,
}

fn parse(text: &str, into: &mut HashMap<String, f64>) {
    for line in text.lines() {
        if let Some((w, v)) = line.split_once('\t')
            && let Ok(v) = v.trim().parse::<f64>()
        {
            into.insert(w.to_string(), v);
        }
    }
}

fn lexicon(which: Lexicon) -> &'static HashMap<String, f64> {
    static VADER_ONLY: OnceLock<HashMap<String, f64>> = OnceLock::new();
    static FINANCE: OnceLock<HashMap<String, f64>> = OnceLock::new();
    match which {
        Lexicon::Vader => VADER_ONLY.get_or_init(|| {
            let mut m = HashMap::with_capacity(7600);
            parse(VADER, &mut m);
            m
        }),
        Lexicon::Finance => FINANCE.get_or_init(|| {
            let mut m = HashMap::with_capacity(7800);
            parse(VADER, &mut m);
            parse(HENRY, &mut m);
            m
        }),
    }
}

/// A text's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// −1 (most negative) … 1 (most positive).
    pub compound: f64,
    pub label: Label,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Positive,
    Negative,
    Neutral,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Negative => "negative",
            Label::Neutral => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        match s.trim().to_ascii_lowercase().as_str() {
            "positive" => Some(Label::Positive),
            "negative" => Some(Label::Negative),
            "neutral" => Some(Label::Neutral),
            _ => None,
        }
    }

    pub fn of(compound: f64) -> Label {
        if compound >= THRESHOLD {
            Label::Positive
        } else if compound <= -THRESHOLD {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

/// Words of a text as the rules see them: split on white space, punctuation stripped from
/// the ends of a word (an emoticon, two characters or fewer once stripped, is kept whole),
/// single characters dropped.
fn tokens(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|t| {
            let stripped = t.trim_matches(|c: char| c.is_ascii_punctuation());
            if stripped.chars().count() <= 2 {
                t
            } else {
                stripped
            }
        })
        .filter(|t| t.chars().count() > 1)
        .collect()
}

fn is_negation(lower: &str) -> bool {
    NEGATIONS.contains(&lower) || lower == "no" || lower.contains("n't")
}

fn is_caps(t: &str) -> bool {
    t.chars().any(char::is_alphabetic) && !t.chars().any(char::is_lowercase)
}

fn boost_of(lower: &str, valence: f64, caps_word: bool, caps_diff: bool) -> f64 {
    let base = if INTENSIFIERS.contains(&lower) {
        BOOST
    } else if DAMPENERS.contains(&lower) {
        -BOOST
    } else {
        return 0.0;
    };
    let mut b = if valence < 0.0 { -base } else { base };
    if caps_word && caps_diff {
        b += if valence > 0.0 { CAPS } else { -CAPS };
    }
    b
}

/// Score `text` with `which` word lists.
pub fn score_with(text: &str, which: Lexicon) -> Score {
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let lex = lexicon(which);
    let toks = tokens(&text);
    let lowers: Vec<String> = toks.iter().map(|t| t.to_lowercase()).collect();
    let caps_count = toks.iter().filter(|t| is_caps(t)).count();
    let caps_diff = caps_count > 0 && caps_count < toks.len();
    let mut valences = vec![0.0f64; toks.len()];
    for (i, lower) in lowers.iter().enumerate() {
        if INTENSIFIERS.contains(&lower.as_str()) || DAMPENERS.contains(&lower.as_str()) {
            continue;
        }
        let Some(&base) = lex.get(lower.as_str()) else {
            continue;
        };
        // "no" before a scored word negates it rather than scoring itself ("no panic").
        if lower == "no"
            && lowers
                .get(i + 1)
                .is_some_and(|n| lex.contains_key(n.as_str()))
        {
            continue;
        }
        let mut v = base;
        if caps_diff && is_caps(toks[i]) {
            v += if v > 0.0 { CAPS } else { -CAPS };
        }
        for (back, damp) in [(1usize, 1.0), (2, 0.95), (3, 0.9)] {
            let Some(j) = i.checked_sub(back) else {
                break;
            };
            v += boost_of(&lowers[j], v, is_caps(toks[j]), caps_diff) * damp;
        }
        valences[i] = v;
    }
    // Negations flip and damp (applied after the boosts so that "not very good" is damped
    // "very good").
    for (i, v) in valences.iter_mut().enumerate() {
        if *v == 0.0 {
            continue;
        }
        for back in 1..=3 {
            if let Some(j) = i.checked_sub(back)
                && is_negation(&lowers[j])
            {
                *v *= NEGATION;
            }
        }
    }
    if let Some(k) = lowers.iter().position(|w| w == "but") {
        for (i, v) in valences.iter_mut().enumerate() {
            if i < k {
                *v *= 0.5;
            } else if i > k {
                *v *= 1.5;
            }
        }
    }
    let mut sum: f64 = valences.iter().sum();
    if sum != 0.0 {
        let bangs = text.matches('!').count().min(4) as f64 * 0.292;
        let questions = match text.matches('?').count() {
            0 | 1 => 0.0,
            n @ 2..=3 => n as f64 * 0.18,
            _ => 0.96,
        };
        let emphasis = bangs + questions;
        sum += if sum > 0.0 { emphasis } else { -emphasis };
    }
    let compound = (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0);
    Score {
        compound,
        label: Label::of(compound),
    }
}

/// Score a news text with the finance-aware lexicon.
pub fn score(text: &str) -> Score {
    score_with(text, Lexicon::Finance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: &str) -> f64 {
        score_with(t, Lexicon::Vader).compound
    }

    #[test]
    fn the_lexicon_loads_whole() {
        assert!(lexicon(Lexicon::Vader).len() > 7000);
        assert!(lexicon(Lexicon::Finance).len() > lexicon(Lexicon::Vader).len());
        assert_eq!(lexicon(Lexicon::Vader).get("good"), Some(&1.9));
    }

    #[test]
    fn one_word_is_its_valence_normalised() {
        // "good" = 1.9: 1.9 / sqrt(1.9² + 15).
        let want = 1.9 / (1.9f64 * 1.9 + 15.0).sqrt();
        assert!((c("The results were good") - want).abs() < 1e-12);
        assert_eq!(c("The board met on Tuesday"), 0.0);
        assert_eq!(score("The board met on Tuesday").label, Label::Neutral);
    }

    #[test]
    fn intensifiers_negations_caps_and_but_move_it_the_right_way() {
        assert!(c("very good") > c("good"));
        assert!(c("slightly good") < c("good"));
        assert!(c("not good") < 0.0);
        assert!(c("isn't good") < 0.0);
        assert!(c("GOOD results today") > c("good results today"));
        assert!(c("good!!") > c("good"));
        // After "but" counts more than before.
        assert!(c("the outlook is good but the quarter was bad") < 0.0);
        assert!(c("the quarter was bad but the outlook is good") > 0.0);
    }

    #[test]
    fn the_finance_list_knows_finance_words() {
        // "decreased" is neutral to VADER, negative to Henry's list.
        assert_eq!(c("Revenue decreased"), 0.0);
        assert!(score("Revenue decreased").compound < 0.0);
        assert!(score("Revenue decreased for the third quarter").compound < 0.0);
        assert!(score("Earnings beat estimates").label == Label::Positive);
    }

    #[test]
    fn any_text_scores_within_bounds() {
        for t in [
            "",
            "!!!!",
            "???",
            "n't n't n't",
            "😀 :) :(",
            &"bad ".repeat(5000),
        ] {
            let s = score(t);
            assert!((-1.0..=1.0).contains(&s.compound), "{t:?}");
        }
    }
}
