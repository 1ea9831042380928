//! A volatility smile per expiry: Gatheral's raw SVI parametrisation of total implied variance
//! in log-moneyness k = ln(K/F),
//!
//! w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)),   implied vol σ_BS(k) = √(w(k)/T),
//!
//! fitted to the quoted implied vols by least squares in volatility (Nelder–Mead on
//! transformed parameters, several starts). Arbitrage-aware: the parameters are kept where w is
//! non-negative (a + bσ√(1−ρ²) ≥ 0) and the wings respect Roger Lee's moment bound
//! (b(1 + |ρ|) ≤ 2), and the fit is penalised wherever Gatheral's butterfly density g(k) goes
//! negative on the quoted range, so the fitted smile has no butterfly arbitrage there
//! ([`SmileFit::butterfly_ok`]). Calendar arbitrage across expiries (total variance falling
//! with maturity at some k) is checked by [`calendar_ok`]. Pure; no I/O.

/// Raw SVI parameters (total variance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SviParams {
    pub a: f64,
    pub b: f64,
    pub rho: f64,
    pub m: f64,
    pub sigma: f64,
}

impl SviParams {
    /// Total implied variance at log-moneyness `k`.
    pub fn w(&self, k: f64) -> f64 {
        let x = k - self.m;
        self.a + self.b * (self.rho * x + (x * x + self.sigma * self.sigma).sqrt())
    }

    fn dw(&self, k: f64) -> (f64, f64) {
        let x = k - self.m;
        let r = (x * x + self.sigma * self.sigma).sqrt();
        let d1 = self.b * (self.rho + x / r);
        let d2 = self.b * self.sigma * self.sigma / (r * r * r);
        (d1, d2)
    }

    /// Gatheral's butterfly density condition g(k); no butterfly arbitrage where g ≥ 0.
    pub fn g(&self, k: f64) -> f64 {
        let w = self.w(k);
        if w <= 0.0 {
            return -1.0;
        }
        let (d1, d2) = self.dw(k);
        let t = 1.0 - k * d1 / (2.0 * w);
        t * t - d1 * d1 / 4.0 * (1.0 / w + 0.25) + d2 / 2.0
    }

    /// Whether the parameters satisfy the static constraints (w ≥ 0 everywhere, Lee's bound).
    pub fn admissible(&self) -> bool {
        self.b >= 0.0
            && self.rho.abs() < 1.0
            && self.sigma > 0.0
            && self.a + self.b * self.sigma * (1.0 - self.rho * self.rho).sqrt() >= -1e-12
            && self.b * (1.0 + self.rho.abs()) <= 2.0 + 1e-12
    }
}

/// A fitted smile of one expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct SmileFit {
    pub forward: f64,
    /// Years to expiry.
    pub years: f64,
    pub params: SviParams,
    /// Root-mean-square error of the fit, in volatility (0.01 = one vol point).
    pub rmse: f64,
    /// Points fitted.
    pub points: usize,
    /// Log-moneyness range of the points.
    pub k_range: (f64, f64),
}

impl SmileFit {
    /// The smile's implied volatility at `strike`.
    pub fn iv(&self, strike: f64) -> f64 {
        let w = self.params.w((strike / self.forward).ln()).max(0.0);
        (w / self.years).sqrt()
    }

    /// No butterfly arbitrage (g ≥ 0) at each strike.
    pub fn butterfly_ok(&self, strikes: &[f64]) -> bool {
        strikes
            .iter()
            .all(|k| self.params.g((k / self.forward).ln()) >= -1e-9)
    }
}

/// Why a smile could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SmileError {
    #[error("a smile needs at least {min} strikes with an implied volatility, got {got}")]
    TooFewPoints { got: usize, min: usize },
    #[error("bad smile input: {0}")]
    BadInput(&'static str),
}

/// Fewest points fitted (five parameters).
pub const MIN_POINTS: usize = 5;

/// Fit raw SVI to `(strike, implied vol)` points of one expiry.
pub fn fit_svi(forward: f64, years: f64, points: &[(f64, f64)]) -> Result<SmileFit, SmileError> {
    if !(forward.is_finite() && forward > 0.0) {
        return Err(SmileError::BadInput("forward must be positive"));
    }
    if !(years.is_finite() && years > 0.0) {
        return Err(SmileError::BadInput("years to expiry must be positive"));
    }
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(k, v)| k.is_finite() && *k > 0.0 && v.is_finite() && *v > 0.0 && *v < 5.0)
        .map(|(k, v)| ((k / forward).ln(), *v))
        .collect();
    if pts.len() < MIN_POINTS {
        return Err(SmileError::TooFewPoints {
            got: pts.len(),
            min: MIN_POINTS,
        });
    }
    let kmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let kmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    // Butterfly checks over the quoted range, a little beyond it.
    let span = (kmax - kmin).max(1e-4);
    let grid: Vec<f64> = (0..=40)
        .map(|i| kmin - 0.1 * span + 1.2 * span * f64::from(i) / 40.0)
        .collect();
    let atm_var = {
        let near = pts
            .iter()
            .min_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
            .map_or(0.2, |p| p.1);
        near * near * years
    };
    let decode = |x: &[f64; 5]| SviParams {
        a: x[0],
        b: x[1].exp(),
        rho: 0.999 * x[2].tanh(),
        m: x[3],
        sigma: x[4].exp().max(1e-6),
    };
    let objective = |x: &[f64; 5]| -> f64 {
        let p = decode(x);
        let mut sse = 0.0;
        for (k, v) in &pts {
            let w = p.w(*k);
            let model = if w > 0.0 {
                (w / years).sqrt()
            } else {
                -w.abs().sqrt()
            };
            sse += (model - v) * (model - v);
        }
        let mut penalty = 0.0;
        let floor = p.a + p.b * p.sigma * (1.0 - p.rho * p.rho).sqrt();
        if floor < 0.0 {
            penalty += 1e3 * floor * floor / (years * years);
        }
        let lee = p.b * (1.0 + p.rho.abs()) - 2.0;
        if lee > 0.0 {
            penalty += 1e3 * lee * lee;
        }
        for k in &grid {
            let g = p.g(*k);
            if g < 0.0 {
                penalty += g * g;
            }
        }
        sse / pts.len() as f64 + penalty
    };
    let mut best: Option<([f64; 5], f64)> = None;
    for &(sigma0, rho0, m0) in &[
        (0.05, 0.0, 0.0),
        (0.01, -0.3, 0.0),
        (0.2, 0.0, 0.0),
        (0.02, 0.3, 0.01),
    ] {
        let b0: f64 = (atm_var / sigma0).clamp(1e-8, 1.0);
        let x0 = [
            atm_var - b0 * sigma0,
            b0.ln(),
            (rho0 / 0.999f64).atanh(),
            m0,
            sigma0.ln(),
        ];
        let (x, f) = nelder_mead(&objective, x0, 3000);
        if best.as_ref().is_none_or(|b| f < b.1) {
            best = Some((x, f));
        }
    }
    let Some((x, _)) = best else {
        return Err(SmileError::BadInput("no fit"));
    };
    let params = decode(&x);
    let sse: f64 = pts
        .iter()
        .map(|(k, v)| {
            let m = (params.w(*k).max(0.0) / years).sqrt();
            (m - v) * (m - v)
        })
        .sum();
    Ok(SmileFit {
        forward,
        years,
        params,
        rmse: (sse / pts.len() as f64).sqrt(),
        points: pts.len(),
        k_range: (kmin, kmax),
    })
}

/// No calendar arbitrage between fits of one underlying: total variance non-decreasing in
/// maturity at every log-moneyness in `ks`.
pub fn calendar_ok(fits: &[SmileFit], ks: &[f64]) -> bool {
    let mut sorted: Vec<&SmileFit> = fits.iter().collect();
    sorted.sort_by(|a, b| a.years.total_cmp(&b.years));
    sorted.windows(2).all(|w| {
        ks.iter()
            .all(|k| w[1].params.w(*k) >= w[0].params.w(*k) - 1e-12)
    })
}

/// Nelder–Mead minimisation in five dimensions (standard coefficients).
fn nelder_mead(f: &impl Fn(&[f64; 5]) -> f64, x0: [f64; 5], max_iter: usize) -> ([f64; 5], f64) {
    const N: usize = 5;
    let mut simplex: Vec<([f64; N], f64)> = Vec::with_capacity(N + 1);
    simplex.push((x0, f(&x0)));
    for i in 0..N {
        let mut x = x0;
        x[i] += if x[i].abs() > 1e-3 {
            0.1 * x[i].abs()
        } else {
            0.05
        };
        simplex.push((x, f(&x)));
    }
    for _ in 0..max_iter {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let spread = simplex[N].1 - simplex[0].1;
        if spread.abs() <= 1e-16 * (1.0 + simplex[0].1.abs()) {
            break;
        }
        let mut c = [0.0; N];
        for (x, _) in &simplex[..N] {
            for j in 0..N {
                c[j] += x[j] / N as f64;
            }
        }
        let worst = simplex[N].0;
        let point = |t: f64| {
            let mut p = [0.0; N];
            for j in 0..N {
                p[j] = c[j] + t * (worst[j] - c[j]);
            }
            p
        };
        let xr = point(-1.0);
        let fr = f(&xr);
        if fr < simplex[0].1 {
            let xe = point(-2.0);
            let fe = f(&xe);
            simplex[N] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[N - 1].1 {
            simplex[N] = (xr, fr);
        } else {
            let (xc, fc) = if fr < simplex[N].1 {
                let x = point(-0.5);
                (x, f(&x))
            } else {
                let x = point(0.5);
                (x, f(&x))
            };
            if fc < simplex[N].1.min(fr) {
                simplex[N] = (xc, fc);
            } else {
                let best = simplex[0].0;
                for s in simplex.iter_mut().skip(1) {
                    for (x, b) in s.0.iter_mut().zip(best) {
                        *x = b + 0.5 * (*x - b);
                    }
                    s.1 = f(&s.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strikes(f: f64, n: i64, step: f64) -> Vec<f64> {
        (-n..=n).map(|i| f + i as f64 * step).collect()
    }

    #[test]
    fn recovers_a_known_svi_smile() {
        let truth = SviParams {
            a: 0.0008,
            b: 0.02,
            rho: -0.4,
            m: 0.01,
            sigma: 0.05,
        };
        let (f, t) = (26_000.0, 28.0 / 365.0);
        let ks = strikes(f, 15, 200.0);
        let pts: Vec<(f64, f64)> = ks
            .iter()
            .map(|k| (*k, (truth.w((k / f).ln()) / t).sqrt()))
            .collect();
        let fit = fit_svi(f, t, &pts).unwrap();
        assert!(fit.rmse < 5e-4, "{fit:?}");
        for (k, v) in &pts {
            assert!((fit.iv(*k) - v).abs() < 2e-3, "{k}: {} vs {v}", fit.iv(*k));
        }
        assert!(fit.params.admissible());
        assert!(fit.butterfly_ok(&ks));
    }

    #[test]
    fn fits_the_simulator_s_smile_within_half_a_vol_point_without_arbitrage() {
        // The simulator's smile: base + 1.5 m² − 0.1 m in m = ln(K/F), for two expiries.
        let sim = |base: f64, f: f64, k: f64| {
            let m = (k / f).ln();
            base + 1.5 * m * m - 0.1 * m
        };
        let f = 26_000.0;
        let ks = strikes(f, 10, 50.0);
        let mut fits = Vec::new();
        for days in [1.0, 7.0, 28.0] {
            let t: f64 = days / 365.0;
            let pts: Vec<(f64, f64)> = ks.iter().map(|k| (*k, sim(0.13, f, *k))).collect();
            let fit = fit_svi(f, t, &pts).unwrap();
            for (k, v) in &pts {
                assert!((fit.iv(*k) - v).abs() < 0.005, "{days}d {k}");
            }
            assert!(fit.butterfly_ok(&ks), "{days}d: {fit:?}");
            fits.push(fit);
        }
        let log_ks: Vec<f64> = ks.iter().map(|k| (k / f).ln()).collect();
        assert!(calendar_ok(&fits, &log_ks));
    }

    #[test]
    fn an_arbitrage_is_detected() {
        // Vogt's example: positive total variance everywhere, yet g < 0 for k in about
        // (0.65, 1.25) — a butterfly arbitrage.
        let vogt = SviParams {
            a: -0.0410,
            b: 0.1331,
            rho: 0.3060,
            m: 0.3586,
            sigma: 0.4153,
        };
        assert!(vogt.admissible());
        assert!((-1.5..1.5).all_positive(|k| vogt.w(k)));
        assert!((0.6..1.3).any_negative(|k| vogt.g(k)));
        assert!(!(-0.5..0.5).any_negative(|k| vogt.g(k)));
        // Total variance falling with maturity is a calendar arbitrage.
        let mk = |a: f64, years: f64| SmileFit {
            forward: 1.0,
            years,
            params: SviParams {
                a,
                b: 0.01,
                rho: 0.0,
                m: 0.0,
                sigma: 0.1,
            },
            rmse: 0.0,
            points: 5,
            k_range: (-0.1, 0.1),
        };
        assert!(!calendar_ok(&[mk(0.002, 0.1), mk(0.001, 0.2)], &[0.0]));
        assert!(calendar_ok(&[mk(0.001, 0.1), mk(0.002, 0.2)], &[0.0]));
    }

    #[test]
    fn too_few_points_or_bad_input_is_an_error() {
        assert!(matches!(
            fit_svi(100.0, 0.1, &[(100.0, 0.2), (110.0, 0.2)]),
            Err(SmileError::TooFewPoints { got: 2, .. })
        ));
        assert!(fit_svi(0.0, 0.1, &[]).is_err());
        assert!(fit_svi(100.0, f64::NAN, &[]).is_err());
    }

    trait Scan {
        fn any_negative(&self, f: impl Fn(f64) -> f64) -> bool;
        fn all_positive(&self, f: impl Fn(f64) -> f64) -> bool {
            !self.any_negative(|k| f(k) - 1e-300)
        }
    }
    impl Scan for std::ops::Range<f64> {
        fn any_negative(&self, f: impl Fn(f64) -> f64) -> bool {
            (0..=400).any(|i| f(self.start + (self.end - self.start) * f64::from(i) / 400.0) < 0.0)
        }
    }
}
