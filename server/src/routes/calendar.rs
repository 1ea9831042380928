//! `GET /calendar/status?calendar=NSE` (no auth): the exchange day as old scripts read it, from
//! the symbols crate's trading calendar (NSE and BSE share its holiday list), on the clock paper
//! trading runs on (the demo clock under `--demo-clock`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use stocksblitz_market::session::{ist_date, ist_seconds_of_day};
use stocksblitz_market::{SESSION_CLOSE_SECS, SESSION_OPEN_SECS};
use stocksblitz_symbols::Calendar;

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The pre-open call auction starts at 09:00 IST.
const PRE_OPEN_SECS: i64 = 9 * 3600;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CalendarQuery {
    /// `NSE` (default) or `BSE`.
    #[param(value_type = Option<crate::wire::schema::CalendarOrBlank>, inline)]
    pub calendar: Option<String>,
    /// `YYYY-MM-DD` (default: today on the trading clock).
    #[param(value_type = Option<crate::wire::schema::DateText>, inline)]
    pub date: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CalendarStatus {
    pub calendar: &'static str,
    pub date: NaiveDate,
    pub is_trading_day: bool,
    pub is_holiday: bool,
    pub holiday_name: Option<String>,
    /// `pre_open`, `open` or `closed` now (for another date: `closed`).
    pub current_session: &'static str,
    /// `HH:MM` IST on a trading day, else null.
    pub session_open: Option<&'static str>,
    pub session_close: Option<&'static str>,
    pub next_trading_day: NaiveDate,
}

/// `GET /calendar/status`.
#[utoipa::path(get, path = "/calendar/status", tag = "market", params(CalendarQuery), responses((status = 200, body = CalendarStatus)))]
pub(crate) async fn status(
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<Json<CalendarStatus>, ApiError> {
    let calendar = match q
        .calendar
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_uppercase)
    {
        None => "NSE",
        Some(c) if c.is_empty() || c == "NSE" || c == "NFO" => "NSE",
        Some(c) if c == "BSE" || c == "BFO" => "BSE",
        Some(c) => {
            return Err(ApiError::bad_param(
                "calendar",
                format!(
                    "NSE or BSE, got {:?}",
                    c.chars().take(16).collect::<String>()
                ),
            ));
        }
    };
    let now = state.clock.now();
    let today = ist_date(now.div_euclid(1000)).unwrap_or_default();
    let date = super::date_param("date", q.date.as_deref())?.unwrap_or(today);
    let cal = Calendar::embedded();
    let trading = cal.is_trading_day(date);
    let holiday = cal.holiday(date).map(str::to_string);
    let sod = ist_seconds_of_day(now.div_euclid(1000));
    let current_session = if date != today || !trading {
        "closed"
    } else if (PRE_OPEN_SECS..SESSION_OPEN_SECS).contains(&sod) {
        "pre_open"
    } else if (SESSION_OPEN_SECS..SESSION_CLOSE_SECS).contains(&sod) {
        "open"
    } else {
        "closed"
    };
    Ok(Json(CalendarStatus {
        calendar,
        date,
        is_trading_day: trading,
        is_holiday: holiday.is_some(),
        holiday_name: holiday,
        current_session,
        session_open: trading.then_some("09:15"),
        session_close: trading.then_some("15:30"),
        next_trading_day: cal.next_trading_day(date),
    }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new().routes(routes!(status))
}
